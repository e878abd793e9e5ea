"""Find the columns a layer needs by Chinese and English aliases, or by an explicit mapping.

A role is what a column holds (``lon``, ``households`` …). An explicit mapping
``{"households": "户数合计"}`` overrides the aliases; mapping to a column that does not exist is
an error, never ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from geo.errors import Problem
from geo.records import GeoMessage

__all__ = ["cell_text", "normalise_name", "resolve_columns"]


def cell_text(raw: pd.Series) -> list[str | None]:
    """Stripped text of each cell, None for empty ones.

    Whole numbers held as floats lose their ``.0``: a numeric id column with a gap (or a
    GeoJSON mixing ``1`` and ``1.0``) is read as float, and code ``330203001001`` must stay
    ``'330203001001'``, never ``'330203001001.0'``.
    """
    if raw.dtype.kind == "f":
        return [
            None if math.isnan(v) else str(int(v)) if v.is_integer() else str(v)
            for v in raw.astype(float)
        ]
    # each distinct text made once and shared by its cells: a column of 2,000,000 cells
    # naming 50,000 buildings holds 50,000 strings
    codes, distinct = pd.factorize(raw.astype("string").str.strip())
    shared = [None if pd.isna(v) or v == "" else str(v) for v in distinct] + [None]
    return [shared[c] for c in codes.tolist()]


def normalise_name(name: object) -> str:
    """Lower-case, strip, drop spaces, underscores, hyphens and full-width parentheses' content
    markers so '户数（户）', 'House Holds' and 'households' compare on their core."""
    text = str(name).strip().lower()
    for junk in (" ", "_", "-", "\u3000"):
        text = text.replace(junk, "")
    for unit in ("（户）", "(户)", "（人）", "(人)", "(m2)", "（m2）", "(㎡)", "（㎡）", "m²"):
        text = text.replace(unit, "")
    return text


def resolve_columns(
    columns: Iterable[object],
    aliases: Mapping[str, Iterable[str]],
    *,
    explicit: Mapping[str, str] | None = None,
    label: str,
) -> tuple[dict[str, str], list[Problem]]:
    """Map each role to the input column that holds it.

    Parameters
    ----------
    columns
        The input's column names, in file order.
    aliases
        Role → accepted names, compared after :func:`normalise_name`.
    explicit
        Role → column name given by the user; wins over aliases.
    label
        File name for messages.

    Returns
    -------
    (mapping, problems)
        ``mapping`` holds only roles that were found; ``problems`` lists explicit mappings that
        name a missing column or an unknown role, and columns that match a role twice.
    """
    names = [str(c) for c in columns]
    found, problems = _explicit_roles(names, aliases, explicit or {}, label)
    by_alias, alias_problems = _alias_roles(names, aliases, found, label)
    return {**found, **by_alias}, problems + alias_problems


def _explicit_roles(
    names: list[str],
    aliases: Mapping[str, Iterable[str]],
    explicit: Mapping[str, str],
    label: str,
) -> tuple[dict[str, str], list[Problem]]:
    """The roles an explicit mapping names, and the problems of its entries (unknown role,
    missing column)."""
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for role, column in explicit.items():
        if role not in aliases:
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of("columns.unknown_role", role=role, roles=tuple(aliases)),
                )
            )
        elif column not in names:
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of(
                        "columns.mapped_column_missing",
                        role=role,
                        column=column,
                        columns=tuple(names),
                    ),
                    column=column,
                )
            )
        else:
            found[role] = column
    return found, problems


def _alias_roles(
    names: list[str],
    aliases: Mapping[str, Iterable[str]],
    mapped: dict[str, str],
    label: str,
) -> tuple[dict[str, str], list[Problem]]:
    """The roles not in ``mapped`` whose aliases name a column ``mapped`` does not hold (the
    first such column), and the warnings for roles several columns could hold."""
    by_normal: dict[str, str] = {}
    for name in names:
        by_normal.setdefault(normalise_name(name), name)
    found: dict[str, str] = {}
    problems: list[Problem] = []
    taken = set(mapped.values())
    for role, names_for_role in aliases.items():
        if role in mapped:
            continue
        matches = []
        for alias in names_for_role:
            hit = by_normal.get(normalise_name(alias))
            if hit is not None and hit not in taken and hit not in matches:
                matches.append(hit)
        if matches:
            found[role] = matches[0]
            taken.add(matches[0])
            if len(matches) > 1:
                problems.append(
                    Problem.of(
                        "warning",
                        label,
                        GeoMessage.of(
                            "columns.several_for_role",
                            role=role,
                            used=matches[0],
                            columns=tuple(matches),
                        ),
                        column=matches[0],
                    )
                )
    return found, problems
