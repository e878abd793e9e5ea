"""现状社区 / Existing: start from today's 社区 — open their boundaries, see each one's
households against the band (a table, out-of-band rows highlighted, and a map), rebalance them
(keep those in the band, split the oversized, merge the clearly small) and make the result the
plan every page works on, its report shown in the language chosen."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from planning import Rebalance, RebalanceReport
from ui import existing, loading, runs, state, widgets
from ui.i18n import t
from ui.maps import plan_map
from ui.parameter_inputs import parameter_inputs, parameters
from ui.problems import problem_block, show_problems
from ui.state import DataSource, PlanRef, RebalanceRef

__all__ = ["render"]

_LAYER_TYPES = ["geojson", "json", "gpkg", "zip", "parquet", "geoparquet"]
_CRS_OPTIONS = ("gcj02", "wgs84", "bd09", "cgcs2000")
_MARGIN_KEY = "existing_small_margin_pct"
#: Fills of the band map and the table's highlights, by band status.
_BAND_FILLS = {"above": "#e34a33", "below": "#3182bd", "in band": "#a1d99b"}
_ROW_HIGHLIGHT = {"above": "background-color: #fde0dd", "below": "background-color: #deebf7"}
_STATUS_KEYS = {"above": "above", "below": "below", "in band": "in_band"}
#: The columns of the boundaries file the user may name (read by geo.layers.read_communities).
_ROLES = ("community_id", "name")


# ---------------------------------------------------------------------------------------------
# Opening the boundaries


def _upload_form(source: DataSource, *, expanded: bool) -> None:
    """The existing communities' file; on submit it becomes the data's communities layer."""
    with (
        st.expander(t("existing.upload"), expanded=expanded, icon=":material/upload_file:"),
        st.form("existing_upload", border=False),
    ):
        upload = st.file_uploader(
            t("existing.upload.file"),
            type=_LAYER_TYPES,
            key="existing_file",
            help=t("existing.upload.file_help"),
        )
        labels = {key: t(f"crs.{key}") for key in _CRS_OPTIONS}
        declared = source.own_crs("communities") or source.layer_crs
        default = declared if declared in _CRS_OPTIONS else None
        crs = st.selectbox(
            t("existing.upload.crs"),
            options=_CRS_OPTIONS,
            index=_CRS_OPTIONS.index(default) if default else None,
            format_func=lambda key: labels.get(key, str(key)),
            accept_new_options=True,
            placeholder=t("data.upload.crs_placeholder"),
            key=state.widget_key("existing_crs"),
        )
        for column, role in zip(st.columns(len(_ROLES)), _ROLES, strict=True):
            column.text_input(
                t(f"existing.upload.column.{role}"),
                key=f"existing_column_{role}",
                placeholder=t("existing.upload.column_placeholder"),
            )
        submitted = st.form_submit_button(
            t("existing.upload.submit"), type="primary", key="existing_submit"
        )
    if submitted:
        _accept(source, upload, str(crs or "").strip())


def _accept(source: DataSource, upload, crs: str) -> None:
    """Make ``upload`` the communities layer of the data (read in ``crs``, its own: the other
    layers keep theirs)."""
    if upload is None:
        st.error(t("existing.upload.need_file"))
        return
    if not crs:
        st.error(t("data.upload.need_crs"))
        return
    too_big = loading.size_over_limit(upload.name, upload.size)
    if too_big:
        st.error(too_big)
        return
    others = tuple((kind, ref) for kind, ref in source.layers if kind != "communities")
    saved = loading.save_upload(upload.name, upload.getvalue())
    own_crs = tuple((kind, c) for kind, c in source.layer_crs_of if kind != "communities")
    columns = tuple(
        (role, value.strip())
        for role in _ROLES
        if (value := st.session_state.get(f"existing_column_{role}") or "").strip()
    )
    kept = tuple((kind, c) for kind, c in source.layer_columns if kind != "communities")
    state.set_source(
        dataclasses.replace(
            source,
            layers=(*others, ("communities", saved)),
            layer_crs_of=(*own_crs, ("communities", crs)),
            layer_columns=(*kept, ("communities", columns)) if columns else kept,
        )
    )


# ---------------------------------------------------------------------------------------------
# Today's communities against the band


def _band_table(measured: existing.ExistingCommunities):
    """One row per existing community: id, name, households, status; out-of-band rows
    highlighted (above: red, below: blue)."""
    comm = measured.communities
    lower, upper = measured.band
    households = comm["households"].to_numpy()
    off = [
        int(h - upper) if s == "above" else int(h - lower) if s == "below" else 0
        for h, s in zip(households, comm["status"], strict=True)
    ]
    table = pd.DataFrame(
        {
            t("col.community_id"): comm["community_id"].to_numpy(),
            t("col.name"): comm["name"].to_numpy(),
            t("col.households"): households,
            t("existing.col.buildings"): comm["buildings"].to_numpy(),
            t("col.status"): [t(f"map.status.{_STATUS_KEYS[s]}") for s in comm["status"]],
            t("existing.col.off_band"): off,
        }
    )
    if "street" in comm.columns:
        table.insert(2, t("col.street"), comm["street"].to_numpy())
    status = comm["status"].tolist()
    return table.style.apply(
        lambda row: [_ROW_HIGHLIGHT.get(status[row.name], "")] * len(row), axis=1
    )


def _band_metrics(measured: existing.ExistingCommunities) -> None:
    status = measured.communities["status"]
    cols = st.columns(5)
    cols[0].metric(t("existing.m.communities"), f"{len(status):,}")
    cols[1].metric(t("existing.m.in_band"), f"{int((status == 'in band').sum()):,}")
    cols[2].metric(t("existing.m.above"), f"{int((status == 'above').sum()):,}")
    cols[3].metric(t("existing.m.below"), f"{int((status == 'below').sum()):,}")
    cols[4].metric(
        t("existing.m.outside"),
        f"{measured.households_outside:,}",
        help=t("existing.m.outside.help"),
    )


def _band_map(source: DataSource, measured: existing.ExistingCommunities) -> None:
    layers = runs.layer_frames(source)
    comm = measured.communities
    colours = dict(zip(comm["community_id"], (_BAND_FILLS[s] for s in comm["status"]), strict=True))
    buildings = measured.buildings.assign(
        community_id=measured.buildings["community_id"].fillna("—")
    )
    lang = state.language()
    widgets.show_map(
        lambda basemap: plan_map(
            {
                "communities": comm,
                "streets": layers.get("streets"),
                "barriers": layers.get("barriers"),
                "buildings": buildings,
            },
            band=measured.band,
            colours=colours,
            basemap=basemap,
            tianditu_key=state.tianditu_key(),
            lang=lang,
            legend_open=False,
            layers_collapsed=True,
        ),
        key="existing_map",
        height=560,
    )
    st.caption(t("existing.map_caption"))


def _show_existing(source: DataSource, band: tuple[float, float]) -> bool:
    """Today's communities against ``band``: metrics, map, table. False when they cannot be
    read (after saying why)."""
    got = existing.load_existing(source, band)
    layer = source.layer("communities")
    if not got.ok:
        st.error(t("existing.refused", file=layer.label))
        if got.problems:
            show_problems(got.problems, file=layer.label)
        else:
            st.error(widgets.escape(got.message))
        return False
    measured = got.existing
    for problem in got.warnings:
        st.warning(problem_block(problem))
    st.subheader(t("existing.band", file=widgets.escape(layer.label)))
    st.caption(t("existing.band_caption", lower=f"{band[0]:,.0f}", upper=f"{band[1]:,.0f}"))
    _band_metrics(measured)
    if measured.households_in_overlaps:
        st.warning(t("existing.overlaps", households=f"{measured.households_in_overlaps:,}"))
    rows = len(measured.communities)
    st.dataframe(
        _band_table(measured), hide_index=True, width="stretch", height=min(420, 35 * rows + 38)
    )
    _band_map(source, measured)
    return True


# ---------------------------------------------------------------------------------------------
# Rebalancing


def _rebalance_form(current: DataSource) -> None:
    """The button that rebalances today's communities with the parameters chosen."""
    with st.container(border=True):
        st.markdown(t("existing.rebalance.what"))
        if _MARGIN_KEY not in st.session_state:
            st.session_state[_MARGIN_KEY] = 20
        st.number_input(
            t("existing.small_margin"),
            min_value=0,
            max_value=50,
            step=5,
            key=_MARGIN_KEY,
            help=t("existing.small_margin.help"),
        )
        if st.button(t("existing.rebalance"), type="primary", key="existing_rebalance"):
            margin = RebalanceRef(small_margin=round(st.session_state[_MARGIN_KEY] / 100, 4))
            state.set_plan(
                PlanRef(
                    source=dataclasses.replace(current, title=""),
                    params=parameters(),
                    rebalance=margin,
                )
            )


def _names(result: Rebalance, measured_names: dict[str, str]) -> dict[str, str]:
    names = dict(measured_names)
    plan = result.proposal.communities
    names.update(zip(plan["community_id"].astype(str), plan["name"].astype(str), strict=True))
    return names


def _label(ids, names: dict[str, str]) -> str:
    return t("existing.sep").join(
        widgets.escape(f"{names[i]}（{i}）" if names.get(i, i) != i else i) for i in ids
    )


def _report_metrics(report: RebalanceReport) -> None:
    cols = st.columns(6)
    cols[0].metric(
        t("existing.r.stability"), f"{report.stability:.1%}", help=t("existing.r.stability.help")
    )
    cols[1].metric(
        t("existing.r.communities"), f"{report.existing_communities} → {report.communities}"
    )
    cols[2].metric(t("existing.r.kept"), f"{len(report.kept) + len(report.adjusted):,}")
    cols[3].metric(t("existing.r.split"), f"{len(report.split):,}")
    cols[4].metric(t("existing.r.merged"), f"{len(report.merged):,}")
    cols[5].metric(t("existing.r.new"), f"{len(report.new):,}")


def _report_lines(report: RebalanceReport, names: dict[str, str], lang: str) -> list[str]:
    """What was done to each existing community, a line per kind, in ``lang``."""
    lines = []
    for key, ids in (("kept", report.kept), ("adjusted", report.adjusted), ("new", report.new)):
        if ids:
            lines.append(t(f"existing.r.line.{key}", ids=_label(ids, names), n=len(ids)))
    for key, groups in (
        ("split", report.split),
        ("merged", report.merged),
        ("redrawn", report.redrawn_together),
    ):
        for group in groups:
            lines.append(
                t(
                    f"existing.r.line.{key}",
                    sources=_label(group.sources, names),
                    results=_label(group.results, names),
                )
            )
    moved = (
        ("outside", report.households_outside_existing),
        ("across", report.households_across_street),
        ("cut_off", report.households_cut_off),
    )
    for key, households in moved:
        if households:
            lines.append(t(f"existing.r.line.{key}", households=f"{households:,}"))
    for item in report.kept_out_of_band:
        lines.append(
            t("existing.r.line.out_of_band", reason=widgets.escape(item.reason.text(lang)))
        )
    return lines


def _result_table(result: Rebalance) -> pd.DataFrame:
    comm = result.proposal.communities
    return pd.DataFrame(
        {
            t("col.community_id"): comm["community_id"].astype(str).to_numpy(),
            t("col.name"): comm["name"].astype(str).to_numpy(),
            t("col.households"): comm["households"].astype(int).to_numpy(),
            t("existing.col.done"): [t(f"existing.status.{s}") for s in comm["status"]],
            t("existing.col.from"): [
                t("existing.sep").join(s.split(";")) if s else "—"
                for s in comm["source_ids"].astype(str)
            ],
        }
    )


def _show_result(ref: PlanRef, measured_names: dict[str, str]) -> None:
    """The rebalanced plan's report, or why it could not be made."""
    with st.spinner(t("existing.rebalancing")):
        outcome = runs.outcome(ref)
    if outcome.problems:
        show_problems(outcome.problems, file=ref.source.households.label)
        return
    if not outcome.ok:
        why = outcome.record.text(state.language()) if outcome.record else outcome.message
        st.error(t("existing.failed") + "\n\n" + widgets.escape(why))
        return
    result = outcome.rebalance
    report = result.report
    st.subheader(t("existing.result"))
    st.success(t("existing.result.ready"))
    _report_metrics(report)
    names = _names(result, measured_names)
    for line in _report_lines(report, names, state.language()):
        st.markdown(f"- {line}")
    with st.expander(t("existing.result.table")):
        st.dataframe(_result_table(result), hide_index=True, width="stretch")
    cols = st.columns(3)
    with cols[0]:
        widgets.page_link("edit")
    with cols[1]:
        widgets.page_link("compare")
    with cols[2]:
        widgets.page_link("export")


def _current_rebalance(current: DataSource) -> PlanRef | None:
    """The session's plan when it is today's communities of ``current`` (the same files)
    rebalanced."""
    ref = state.get_plan()
    if ref is None or ref.rebalance is None:
        return None
    return ref if ref.source == dataclasses.replace(current, title="") else None


def render() -> None:
    """The page."""
    st.title(t("existing.title"))
    st.caption(t("existing.intro"))
    current = widgets.source()
    file = current.households
    loaded = loading.source_households(current)
    if not loaded.ok:
        st.error(t("existing.data_refused", file=file.label))
        widgets.page_link("data")
        return
    has_layer = current.layer("communities") is not None
    _upload_form(current, expanded=not has_layer)
    current = state.get_source()
    if current.layer("communities") is None:
        st.info(t("existing.none"))
        return
    asked = state.get_plan()
    with st.expander(t("existing.parameters"), icon=":material/tune:"):
        parameter_inputs(asked.params if asked is not None else None)
    band = parameters().community_band
    if not _show_existing(current, band):
        return
    st.subheader(t("existing.rebalance.title"))
    _rebalance_form(current)
    ref = _current_rebalance(current)
    if ref is None:
        return
    if ref.params != parameters():
        st.info(t("existing.changed"))
    measured = existing.load_existing(current, band).existing
    names = dict(
        zip(measured.communities["community_id"], measured.communities["name"], strict=True)
    )
    _show_result(ref, names)


if __name__ == "__main__":
    render()
