"""The Compare page: two scenarios side by side, their metric deltas, the households that change
community and the areas that changed hands. When the data has existing communities, they are
one of the choices (:data:`EXISTING`): any scenario compares with today's 社区."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import runs, state, widgets
from ui.i18n import t
from ui.maps import community_colours, plan_map, view_map
from ui.plan_views import compare_table

__all__ = ["render"]

_A_KEY = "compare_a"
_B_KEY = "compare_b"
#: The option of a scenario choice that stands for the data's existing communities.
EXISTING = "__existing__"


def _label(name: str) -> str:
    return t("scenario.existing") if name == EXISTING else widgets.scenario_label(name)


def _choose(ref) -> tuple[str, str]:
    """The two sides; the existing communities are a choice when the data has them (and A
    starts on them when the plan is their rebalancing)."""
    options = widgets.scenario_options()
    if ref.source.layer("communities") is not None:
        options.insert(0, EXISTING)
    active, _spec = state.active_scenario()
    if st.session_state.get(_A_KEY) not in options:
        rebalanced = ref.rebalance is not None and EXISTING in options
        st.session_state[_A_KEY] = EXISTING if rebalanced else widgets.PROPOSAL
    if st.session_state.get(_B_KEY) not in options:
        st.session_state[_B_KEY] = active
    cols = st.columns(2)
    a = cols[0].selectbox(t("compare.a"), options, format_func=_label, key=_A_KEY)
    b = cols[1].selectbox(t("compare.b"), options, format_func=_label, key=_B_KEY)
    return a, b


def _side(name: str):
    """The side of :func:`ui.runs.compare` for a choice."""
    return runs.EXISTING if name == EXISTING else widgets.spec_of(name)


def _side_map(ref, side, layers, diff, lang: str):
    """The map builder of one side: the scenario's plan, or today's communities (filled apart,
    outlined in red outside the band)."""
    if side is runs.EXISTING:
        communities = runs.existing_plan(ref).existing.communities
        return lambda basemap: plan_map(
            {
                "communities": communities,
                "streets": layers.get("streets"),
                "barriers": layers.get("barriers"),
                "diff": diff,
            },
            band=ref.params.community_band,
            colours=community_colours(communities),
            basemap=basemap,
            tianditu_key=state.tianditu_key(),
            lang=lang,
            legend_open=False,
            layers_collapsed=True,
        )
    view = runs.plan_view(ref, side)
    return lambda basemap: view_map(
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
    )


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


def _headline(comparison, *, with_ids: bool) -> None:
    """Households that change community (and, against the existing communities, whose
    community id changes), their share, the areas that changed hands."""
    cols = st.columns(4 if with_ids else 3)
    cols[0].metric(
        t("compare.m.changed"),
        f"{comparison.households_changed:,}",
        help=t("compare.m.changed.help"),
    )
    cols[1].metric(t("compare.m.share"), f"{comparison.share_changed:.1%}")
    cols[2].metric(t("compare.m.areas"), f"{len(comparison.diff):,}")
    if with_ids:
        cols[3].metric(
            t("compare.m.changed_id"),
            f"{comparison.households_changed_id:,}",
            help=t("compare.m.changed_id.help"),
        )


def render() -> None:
    """The page."""
    st.title(t("compare.title"))
    st.caption(t("compare.intro"))
    got = widgets.require_plan()
    if got is None:
        return
    ref, _outcome = got
    a, b = _choose(ref)
    unedited = len(state.scenarios()) == 1 and not state.active_scenario()[1].cursor
    if unedited and EXISTING not in (a, b):
        st.info(t("compare.hint"))
        widgets.page_link("edit")
    side_a, side_b = _side(a), _side(b)
    outcome = runs.compare(ref, side_a, side_b)
    if outcome.comparison is None:
        st.error(widgets.escape(outcome.message))
        return
    comparison = outcome.comparison
    names = (_label(a), _label(b))
    _headline(comparison, with_ids=EXISTING in (a, b))
    if a == b or comparison.households_changed == 0:
        st.success(t("compare.same"))
    lang = state.language()
    layers = runs.layer_frames(ref.source)
    diff = comparison.diff if len(comparison.diff) else None
    map_cols = st.columns(2, gap="small")
    for column, name, side, key in (
        (map_cols[0], names[0], side_a, "compare_map_a"),
        (map_cols[1], names[1], side_b, "compare_map_b"),
    ):
        with column:
            st.markdown(f"**{widgets.escape(name)}**")
            widgets.show_map(_side_map(ref, side, layers, diff, lang), key=key, height=560)
    st.subheader(t("compare.metrics"))
    st.dataframe(compare_table(comparison, names, lang), hide_index=True, width="stretch")
    if diff is not None:
        st.subheader(t("compare.diff"))
        st.dataframe(_diff_table(comparison.diff), hide_index=True, width="stretch")


if __name__ == "__main__":
    render()
