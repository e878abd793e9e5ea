"""Problems with an input file shown to the planner: each in its own box, then all as a table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.errors import PARAMETERS, PARTS, ROWS_SHOWN, Problem
from ui import state, widgets
from ui.i18n import t
from ui.parameter_inputs import parameter_label

__all__ = ["problem_block", "show_problems"]


def _rows_text(problem: Problem) -> str:
    """The rows of a problem, the first few and a count, as a person counts them."""
    if state.language() != "zh" or not problem.rows:
        return problem.rows_text()
    shown = "、".join(str(row) for row in problem.rows[:ROWS_SHOWN])
    more = " 等" if len(problem.rows) > ROWS_SHOWN else ""
    return f"第 {shown} 行{more}（共 {len(problem.rows)} 行）"


def _file_text(problem: Problem) -> str:
    """The file a problem names; the parameters by their name in the page's language."""
    return t("problem.parameters") if problem.file == PARAMETERS else problem.file


def _column_text(problem: Problem) -> str:
    """The column a problem names; a parameter by the label of its input."""
    if problem.file == PARAMETERS:
        return parameter_label(problem.column) or problem.column or ""
    return problem.column or ""


def problem_block(problem: Problem) -> str:
    """One problem as markdown: what is wrong, where, what was expected and found, the fix,
    in the page's language."""
    lang = state.language()
    sep = t("punct.colon")
    if problem.file == PARAMETERS:  # named by its input, not as a file's column
        where = [f"{t('problem.parameters')}{sep}{widgets.escape(_column_text(problem))}"]
    else:
        where = [f"{t('problem.file')}{sep}{widgets.escape(problem.file)}"]
        if problem.column:
            where.append(f"{t('problem.column')}{sep}{widgets.escape(_column_text(problem))}")
    if problem.rows:
        where.append(f"{t('problem.rows')}{sep}{widgets.escape(_rows_text(problem))}")
    return "  \n".join(
        [
            f"**{widgets.escape(problem.rendered('message', lang))}**",
            " · ".join(where),
            *(
                f"{t(f'problem.{part}')}{sep}{widgets.escape(problem.rendered(part, lang))}"
                for part in ("expected", "found", "fix")
            ),
        ]
    )


def _problem_table(problems: tuple[Problem, ...]) -> pd.DataFrame:
    lang = state.language()
    return pd.DataFrame(
        {
            t("problem.severity"): [t(f"severity.{p.severity}") for p in problems],
            t("problem.file"): [_file_text(p) for p in problems],
            t("problem.column"): [_column_text(p) for p in problems],
            t("problem.rows"): [_rows_text(p) for p in problems],
        }
        | {t(f"problem.{part}"): [p.rendered(part, lang) for p in problems] for part in PARTS}
    )


def show_problems(problems: tuple[Problem, ...], *, file: str) -> None:
    """A refused file: a headline, every problem in its own box, then all of them as a table."""
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    if all(p.file == PARAMETERS for p in problems):
        st.error(t("data.refused_parameters", errors=len(errors)))
    else:
        st.error(t("data.refused", file=file, errors=len(errors), warnings=len(warnings)))
    for problem in errors:
        st.error(problem_block(problem))
    for problem in warnings:
        st.warning(problem_block(problem))
    st.caption(t("data.table"))
    st.dataframe(_problem_table(problems), hide_index=True, width="stretch")
