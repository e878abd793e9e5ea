"""The Compare page: two scenarios side by side, their metric deltas, the households that change
community and the areas that changed hands."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import runs, state, widgets
from ui.i18n import t
from ui.maps import view_map
from ui.plan_views import compare_table

__all__ = ["render"]

_A_KEY = "compare_a"
_B_KEY = "compare_b"


def _choose() -> tuple[str, str]:
    options = widgets.scenario_options()
    active, _spec = state.active_scenario()
    if st.session_state.get(_A_KEY) not in options:
        st.session_state[_A_KEY] = widgets.PROPOSAL
    if st.session_state.get(_B_KEY) not in options:
        st.session_state[_B_KEY] = active
    cols = st.columns(2)
    a = cols[0].selectbox(t("compare.a"), options, format_func=widgets.scenario_label, key=_A_KEY)
    b = cols[1].selectbox(t("compare.b"), options, format_func=widgets.scenario_label, key=_B_KEY)
    return a, b


def _diff_table(diff) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("map.tip.from_community"): diff["from_community"].astype(str).to_numpy(),
            t("map.tip.to_community"): diff["to_community"].astype(str).to_numpy(),
            t("map.tip.households"): diff["households"].astype(int).to_numpy(),
            t("map.tip.buildings"): diff["buildings"].astype(int).to_numpy(),
            t("compare.area_km2"): diff["area_km2"].astype(float).round(3).to_numpy(),
        }
    )


def render() -> None:
    """The page."""
    st.title(t("compare.title"))
    st.caption(t("compare.intro"))
    got = widgets.require_plan()
    if got is None:
        return
    ref, _outcome = got
    a, b = _choose()
    if len(state.scenarios()) == 1 and not state.active_scenario()[1].cursor:
        st.info(t("compare.hint"))
        widgets.page_link("edit")
    spec_a, spec_b = widgets.spec_of(a), widgets.spec_of(b)
    outcome = runs.compare(ref, spec_a, spec_b)
    if outcome.comparison is None:
        st.error(widgets.escape(outcome.message))
        return
    comparison = outcome.comparison
    names = (widgets.scenario_label(a), widgets.scenario_label(b))
    cols = st.columns(3)
    cols[0].metric(
        t("compare.m.changed"),
        f"{comparison.households_changed:,}",
        help=t("compare.m.changed.help"),
    )
    cols[1].metric(t("compare.m.share"), f"{comparison.share_changed:.1%}")
    cols[2].metric(t("compare.m.areas"), f"{len(comparison.diff):,}")
    if a == b or comparison.households_changed == 0:
        st.success(t("compare.same"))
    lang = state.language()
    layers = runs.layer_frames(ref.source)
    diff = comparison.diff if len(comparison.diff) else None
    map_cols = st.columns(2, gap="small")
    for column, name, spec, key in (
        (map_cols[0], names[0], spec_a, "compare_map_a"),
        (map_cols[1], names[1], spec_b, "compare_map_b"),
    ):
        view = runs.plan_view(ref, spec)
        with column:
            st.markdown(f"**{widgets.escape(name)}**")
            widgets.show_map(
                lambda basemap, view=view: view_map(
                    view,
                    layers,
                    band=ref.params.community_band,
                    buildings=None,
                    facilities=None,
                    diff=diff,
                    basemap=basemap,
                    tianditu_key=state.tianditu_key(),
                    lang=lang,
                    legend_open=False,
                    layers_collapsed=True,
                ),
                key=key,
                height=560,
            )
    st.subheader(t("compare.metrics"))
    st.dataframe(compare_table(comparison, names, lang), hide_index=True, width="stretch")
    if diff is not None:
        st.subheader(t("compare.diff"))
        st.dataframe(_diff_table(comparison.diff), hide_index=True, width="stretch")


if __name__ == "__main__":
    render()
