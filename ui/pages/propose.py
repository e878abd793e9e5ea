"""The Propose page: sizes, tolerances, grids, seed and standard; a run with a progress bar;
the plan on the map with its metrics and the units where a band cannot be met."""

from __future__ import annotations

import streamlit as st

from ui import loading, runs, state, widgets
from ui.i18n import t
from ui.maps import view_map
from ui.parameter_inputs import parameter_inputs, parameters
from ui.plan_views import community_table, infeasible_line, infeasible_table, metrics_table
from ui.problems import show_problems
from ui.search_box import focus_kwargs, search_box

__all__ = ["render"]

#: Units where a band cannot be met listed one by one (all of them are in the table below).
_LISTED = 20


def _headline(summary: dict) -> None:
    communities, grids = summary["communities"], summary["grids"]
    lower, upper = communities.get("band", [0, 0])
    cols = st.columns(5)
    cols[0].metric(t("propose.m.communities"), f"{communities['count']:,}")
    cols[1].metric(
        t("propose.m.in_band"),
        f"{communities['share_in_band']:.0%}",
        help=t("propose.m.in_band.help", lower=f"{lower:,.0f}", upper=f"{upper:,.0f}"),
    )
    cols[2].metric(t("propose.m.grids"), f"{grids['count']:,}")
    cols[3].metric(t("propose.m.grids_in_band"), f"{grids['share_in_band']:.0%}")
    runtime = summary.get("runtime_s", {})
    total = sum(v for k, v in runtime.items() if k not in ("total",))
    cols[4].metric(t("propose.m.runtime"), f"{total:.1f} s")


def _compliance_note(ref) -> None:
    if ref.source.layer("facilities") is None:
        return
    outcome = runs.compliance(ref, None, state.standard_ref())
    if outcome.result is None:
        return
    totals = outcome.result.totals
    st.info(
        t(
            "propose.compliance",
            standard=state.standard_ref().label,
            failing=totals["failing"],
            communities=totals["communities"],
            shortfall=f"{totals['total_shortfall_m2']:,.0f}",
        )
    )
    widgets.page_link("standards")


def _plan_map(ref, view) -> None:
    layers = runs.layer_frames(ref.source)
    lang = state.language()
    hit = search_box(view, key="propose_search")
    widgets.show_map(
        lambda basemap: view_map(
            view,
            layers,
            band=ref.params.community_band,
            basemap=basemap,
            tianditu_key=state.tianditu_key(),
            lang=lang,
            layers_collapsed=True,
        ),
        key="propose_map",
        height=640,
        **focus_kwargs(hit, view, state.basemap()),
    )


def _show_stored(ref) -> None:
    """The plan opened from a project file: what it is, its sizes and its map."""
    stored = ref.stored
    st.info(
        t(
            "propose.stored",
            scenario=widgets.escape(stored.scenario),
            revision=stored.revision,
            file=widgets.escape(stored.project.label),
        )
    )
    widgets.page_link("edit")
    got = widgets.require_plan()
    if got is None:
        return
    view = runs.plan_view(ref, None)
    check = view.check
    lower, upper = check.band
    cols = st.columns(3)
    cols[0].metric(t("propose.m.communities"), f"{len(check.communities):,}")
    cols[1].metric(
        t("propose.m.in_band"),
        f"{check.share_in_band:.0%}",
        help=t("propose.m.in_band.help", lower=f"{lower:,.0f}", upper=f"{upper:,.0f}"),
    )
    cols[2].metric(t("propose.m.grids"), f"{len(view.grids):,}")
    _plan_map(ref, view)
    with st.expander(t("propose.communities")):
        st.dataframe(community_table(view.communities, check, state.language()), hide_index=True)


def _show_plan(ref, outcome) -> None:
    run = outcome.run
    summary = run.summary
    _headline(summary)
    view = runs.plan_view(ref, None)
    lang = state.language()
    map_column, side = st.columns([2, 1], gap="medium")
    with map_column:
        _plan_map(ref, view)
        st.caption(t("propose.map_caption"))
    with side:
        st.subheader(t("propose.metrics"))
        st.dataframe(metrics_table(summary, lang), hide_index=True, width="stretch", height=420)
        _compliance_note(ref)
    # The proposal's records render their reasons in the language chosen; without records,
    # the summary's stored (English) text is shown.
    infeasible = list(run.proposal.infeasible) or summary.get("infeasible", [])
    st.subheader(t("propose.infeasible", n=len(infeasible)))
    if infeasible:
        st.warning(t("propose.infeasible.intro"))
        for item in infeasible[:_LISTED]:
            st.markdown(infeasible_line(item, lang))
        with st.expander(t("propose.infeasible.table")):
            st.dataframe(infeasible_table(infeasible, lang), hide_index=True, width="stretch")
    else:
        st.success(t("propose.infeasible.none"))
    with st.expander(t("propose.communities")):
        st.dataframe(community_table(view.communities, view.check, lang), hide_index=True)


def render() -> None:
    """The page."""
    st.title(t("propose.title"))
    st.caption(t("propose.intro"))
    current = widgets.source()
    ref_file = current.households
    loaded = loading.source_households(current)
    if not loaded.ok:
        st.error(t("propose.data_refused", file=ref_file.label))
        widgets.page_link("data")
        return
    asked = state.get_plan()
    with st.container(border=True):
        st.markdown(t("propose.parameters", file=widgets.escape(ref_file.label)))
        parameter_inputs(asked.params if asked is not None else None)
        clicked = st.button(t("propose.run"), type="primary", key="propose_run")
    if clicked:
        state.set_plan(widgets.plan_ref_for(current, parameters()))
    ref = state.get_plan()
    if ref is None:
        st.info(t("propose.not_yet"))
        return
    if ref.stored is not None:
        _show_stored(ref)
        return
    if ref.source.households.digest != current.households.digest:
        st.warning(t("propose.other_data"))
    elif ref.params != parameters():
        st.info(t("propose.changed"))
    outcome = runs.propose(ref, _stages=widgets.stage_labels())
    if outcome.problems:
        show_problems(outcome.problems, file=ref.source.households.label)
        return
    if not outcome.ok:
        st.error(t("propose.failed") + "\n\n" + widgets.escape(outcome.message))
        return
    _show_plan(ref, outcome)


if __name__ == "__main__":
    render()
