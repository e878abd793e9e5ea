"""数据 / Data: open the built-in sample or upload files, see the validation report and the map;
open or create a project file (:mod:`ui.project_panel`).

The page reads widgets, calls the cached loaders and renders: what is loaded is decided by the
:class:`~ui.state.DataSource` in session state (paths, digests, CRS, column mapping), so the same
code path shows the sample, an upload, or a file a test puts there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import streamlit as st
from streamlit_folium import st_folium

from geo.errors import PlanningInputError, Problem
from geo.records import Message
from ui import loading, project_panel, state, widgets
from ui.i18n import t
from ui.maps import AGGREGATE_ABOVE, households_map
from ui.problems import problem_block, show_problems
from ui.state import DataSource

__all__ = ["limit_text", "render", "show_source", "store_uploads"]

_CRS_OPTIONS = ("gcj02", "wgs84", "bd09", "cgcs2000")
_ROLES = ("lon", "lat", "households", "building", "compound", "population")
_UPLOAD_TYPES = [
    "csv",
    "txt",
    "xlsx",
    "xlsm",
    "geojson",
    "json",
    "gpkg",
    "zip",
    "parquet",
    "geoparquet",
]
_LAYER_TYPES = ["geojson", "json", "gpkg", "zip", "parquet", "geoparquet"]
#: Facilities are also kept as tables with 经度/纬度 columns (CSV or Excel).
_LAYER_TYPES_OF = {"facilities": [*_LAYER_TYPES, "csv", "txt", "xlsx", "xlsm"]}


def _crs_labels(*, blank: str = "") -> Callable[[str], str]:
    """Labels of the CRS options in the current language (typed EPSG codes shown as typed).

    A dict made now, not a function calling t() later: a widget's labels must not change
    between the run that drew it and the next.
    """
    labels = {key: t(f"crs.{key}") for key in _CRS_OPTIONS} | {"": blank}
    return lambda key: labels.get(key, str(key))


# ---------------------------------------------------------------------------------------------
# Choosing a source


def _sample_source() -> DataSource:
    households = state.sample_households()
    with st.spinner(t("data.generating")):
        return loading.sample_source(
            households, title=t("data.sample_label", households=households)
        )


def _upload_form() -> None:
    """The upload form; on submit, the files become the session's data source."""
    with st.form("data_upload", border=True):
        upload = st.file_uploader(
            t("data.upload.households"),
            type=_UPLOAD_TYPES,
            key="upload_households",
            help=t("data.upload.households_help", mb=loading.MAX_UPLOAD_MB, rows=loading.MAX_ROWS),
        )
        crs = st.selectbox(
            t("data.upload.crs"),
            options=_CRS_OPTIONS,
            index=None,
            format_func=_crs_labels(),
            accept_new_options=True,
            placeholder=t("data.upload.crs_placeholder"),
            help=t("data.upload.crs_help"),
            key=state.widget_key("upload_crs"),
        )
        _column_inputs()
        _layer_uploaders()
        submitted = st.form_submit_button(
            t("data.upload.submit"), type="primary", key="upload_submit"
        )
    if not submitted:
        return
    if upload is None:
        st.error(t("data.upload.need_file"))
        return
    if not crs:
        st.error(t("data.upload.need_crs"))
        return
    _accept_upload(upload, crs=crs)


def _column_inputs() -> None:
    """The optional column names, one text box per role (read back from the session)."""
    with st.expander(t("data.upload.columns")):
        st.caption(t("data.upload.columns_help"))
        cols = st.columns(3)
        for i, role in enumerate(_ROLES):
            cols[i % 3].text_input(t(f"role.{role}"), key=f"upload_col_{role}")


def _layer_label(kind: str) -> str:
    """The label of a layer's upload box (the mixed barrier file says how it is sorted)."""
    return t("data.upload.layer.barriers") if kind == "barriers" else t(f"layer.{kind}")


def _layer_uploaders() -> None:
    """One upload box per optional layer, each with its own CRS (read back from the session:
    ``upload_layer_{kind}`` and the :func:`state.widget_key` of ``upload_layer_crs_{kind}``)."""
    with st.expander(t("data.upload.layers")):
        st.caption(t("data.upload.layers_help") + " " + t("data.upload.layers_kinds_help"))
        auto = _crs_labels(blank=t("data.upload.layer_crs_auto"))
        for kind in loading.LAYER_KINDS:
            file_column, crs_column = st.columns([3, 2], vertical_alignment="bottom")
            file_column.file_uploader(
                _layer_label(kind),
                type=_LAYER_TYPES_OF.get(kind, _LAYER_TYPES),
                key=f"upload_layer_{kind}",
            )
            crs_column.selectbox(
                t("data.upload.layer_crs"),
                options=("", *_CRS_OPTIONS),
                index=0,
                format_func=auto,
                accept_new_options=True,
                help=t("data.upload.layer_crs_help"),
                key=state.widget_key(f"upload_layer_crs_{kind}"),
            )


def limit_text(breach: loading.LimitBreach) -> str:
    """The refusal of a file over one of the app's limits, in the current language."""
    return t(
        f"limits.{breach.what}",
        file=widgets.escape(breach.label),
        found=f"{breach.found:,}",
        limit=f"{breach.limit:,}",
    )


def _refusal_text(loaded: loading.LoadedHouseholds | loading.LoadedLayer) -> str:
    """Why a file was refused when it was not for its problems: over a limit, or an input
    error, in the current language (a record rendered, else the error's own text)."""
    if loaded.breach:
        return limit_text(loaded.breach)
    if loaded.record is not None:
        return widgets.escape(loaded.record.text(state.language()))
    return widgets.escape(loaded.message)


def store_uploads(files: dict) -> dict | None:
    """Save the submitted files (kind → upload) and check each against the app's limits
    before anything reads it; the saved refs by kind, or None (errors shown, files removed)
    when one cannot be stored or is over a limit."""
    owner = state.upload_owner()
    problems = [
        limit_text(breach)
        for f in files.values()
        if (breach := loading.size_breach(loading.safe_upload_name(f.name), f.size))
    ]
    saved: dict = {}
    for kind, f in [] if problems else files.items():
        try:
            saved[kind] = loading.save_upload(f.name, f.getvalue(), owner=owner)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            name = loading.safe_upload_name(f.name)
            problems.append(
                t("upload.cannot_store", file=widgets.escape(name), reason=widgets.escape(reason))
            )
            continue
        breach = loading.limit_breach(saved[kind].path, label=saved[kind].label)
        if breach:
            problems.append(limit_text(breach))
    if not problems:
        return saved
    for problem in problems:
        st.error(problem)
    loading.discard_uploads(saved.values(), owner=owner)
    return None


def _accept_upload(upload, *, crs) -> None:
    """Save the submitted files and make them the data source, unless one cannot be stored or
    is over a limit; the session's previous upload is removed."""
    files = {"households": upload}
    files.update(
        {
            kind: f
            for kind in loading.LAYER_KINDS
            if (f := st.session_state.get(f"upload_layer_{kind}")) is not None
        }
    )
    saved = store_uploads(files)
    if saved is None:
        return
    columns = {
        role: value.strip()
        for role in _ROLES
        if (value := st.session_state.get(f"upload_col_{role}") or "").strip()
    }
    households = saved.pop("households")
    previous = state.get_source()
    layer_crs = {
        kind: value
        for kind in saved
        if (
            value := str(
                st.session_state.get(state.widget_key(f"upload_layer_crs_{kind}")) or ""
            ).strip()
        )
    }
    source = DataSource(
        kind="upload",
        households=households,
        crs=str(crs).strip(),
        columns=tuple(sorted(columns.items())),
        layers=tuple(saved.items()),
        title=households.label,
        layer_crs_of=tuple(layer_crs.items()),
    )
    state.set_source(source)
    if previous is not None and previous.kind == "upload":
        loading.discard_uploads(
            [previous.households, *(ref for _kind, ref in previous.layers)],
            owner=state.upload_owner(),
            keep=[households, *saved.values()],
        )


def _source_picker(*, expanded: bool) -> None:
    with st.expander(t("data.open"), expanded=expanded, icon=":material/upload_file:"):
        _source_choice()


def _source_choice() -> None:
    kind = state.choice(
        st.radio,
        t("data.choose"),
        ("sample", "upload"),
        {k: t(f"data.kind.{k}") for k in ("sample", "upload")},
        key="data_kind",
        default="sample",
        horizontal=True,
    )
    if kind == "sample":
        label = t("data.sample_label", households=state.sample_households())
        if st.button(t("data.open_sample"), help=t("data.sample_help"), key="open_sample"):
            state.set_source(_sample_source())
        st.caption(label)
    else:
        _upload_form()


# ---------------------------------------------------------------------------------------------
# Showing what was loaded


def _show_metrics(summary: dict) -> None:
    cols = st.columns(5)
    cols[0].metric(t("metric.rows"), f"{summary['rows']:,}")
    cols[1].metric(t("metric.buildings"), f"{summary['buildings']:,}")
    cols[2].metric(t("metric.households"), f"{summary['households']:,}")
    cols[3].metric(t("metric.compounds"), f"{summary['compounds']:,}")
    population = summary["population"]
    cols[4].metric(t("metric.population"), "—" if population is None else f"{population:,}")


def _show_facts(summary: dict, warnings: tuple[Problem, ...]) -> None:
    st.subheader(t("data.summary"))
    west, south, east, north = summary["bbox_wgs84"]
    facts = [
        (t("data.file"), summary["file"]),
        (t("data.bbox"), f"{west:.5f}, {south:.5f} – {east:.5f}, {north:.5f}"),
        (t("data.source_crs"), summary["source_crs"]),
        (t("data.metric_crs"), summary["metric_crs"]),
        (t("data.encoding"), summary["encoding"] or "—"),
        (
            t("data.columns_used"),
            ", ".join(f"{role}={column}" for role, column in summary["columns"].items()),
        ),
    ]
    sep = t("punct.colon")
    st.markdown("  \n".join(f"**{label}**{sep}{widgets.escape(value)}" for label, value in facts))
    if warnings:
        st.warning(t("data.valid_with_warnings", n=len(warnings)))
        with st.expander(t("data.warnings", n=len(warnings))):
            for problem in warnings:
                st.warning(problem_block(problem))
    else:
        st.success(t("data.no_warnings"))


def _show_layers(source: DataSource) -> dict:
    """Read the source's layers; report each file (the CRS it was read in, the sheet or
    layer chosen when it holds several); return the good frames by kind (every barrier file
    together as ``barriers``)."""
    if not source.layers:
        return {}
    st.subheader(t("data.layers"))
    for kind, ref in source.layers:
        _part_choice(source, kind, ref)
        _layer_report(source, kind, ref)
    frames = {}
    for kind in source.layer_kinds:
        loaded = loading.read_layer(source, kind)
        if loaded is not None and loaded.ok:
            frames[kind] = loaded.frame
    return frames


def _layer_report(source: DataSource, kind: str, ref) -> None:
    """What was read from the file of layer ``kind``, or why it was refused."""
    loaded = loading.read_layer_file(source, kind)
    name = t(f"layer.{kind}")
    if loaded.ok:
        crs = _crs_labels()(loading.crs_of(source, kind))
        st.markdown(
            "- "
            + widgets.escape(t("data.layer_ok", layer=name, n=len(loaded.frame), file=ref.label))
            + " · "
            + widgets.escape(t("data.layer_crs_used", crs=crs))
        )
        for problem in loaded.warnings:
            st.warning(problem_block(problem))
    elif loaded.problems:
        st.error(t("data.layer_refused", layer=name, file=ref.label))
        show_problems(loaded.problems, file=ref.label)
    else:
        st.error(
            t("data.layer_refused", layer=name, file=ref.label) + "\n\n" + _refusal_text(loaded)
        )


def _part_choice(source: DataSource, kind: str, ref) -> None:
    """For a workbook of several sheets or a GeoPackage of several layers: the one to read
    (the source is changed when the planner chooses); ``kind`` is a layer's, or
    ``households``."""
    parts = loading.file_parts(ref.path, ref.digest, ref.label)
    if isinstance(parts, Message | str):
        why = parts.text(state.language()) if isinstance(parts, Message) else parts
        st.error(t("data.layer_part.unreadable", file=ref.label) + "\n\n" + widgets.escape(why))
        return
    if len(parts) < 2:
        return
    rows = {part.name: part.rows for part in parts}
    option = (
        "data.layer_part.option_sheet" if parts[0].kind == "sheet" else "data.layer_part.option"
    )
    labels = {
        name: t(option, name=name, rows=f"{count:,}")
        if count is not None
        else t("data.layer_part.option_unknown", name=name)
        for name, count in rows.items()
    }
    current = source.households_part if kind == "households" else source.part_of(kind)
    key = f"layer_part_{kind}_{ref.digest[:16]}"
    st.selectbox(
        t("data.layer_part", file=ref.label, what=t(f"data.layer_part.{parts[0].kind}")),
        options=list(rows),
        index=list(rows).index(current) if current in rows else None,
        format_func=labels.__getitem__,
        placeholder=t("data.layer_part.placeholder"),
        key=key,
        on_change=_use_part,
        args=(kind, key),
    )


def _use_part(kind: str, key: str) -> None:
    """Read layer ``kind`` (or the households) from the sheet or layer chosen in widget
    ``key``."""
    source = state.get_source()
    chosen = st.session_state.get(key)
    if kind == "households":
        state.set_source(dataclasses.replace(source, households_part=chosen or None))
        return
    parts = dict(source.layer_parts)
    if chosen:
        parts[kind] = chosen
    else:
        parts.pop(kind, None)
    state.set_source(dataclasses.replace(source, layer_parts=tuple(parts.items())))


def _show_map(buildings, layers: dict) -> None:
    st.subheader(t("data.map"))
    lang = state.language()
    drawn = ("streets", "barriers", "facilities", "communities")  # what the map draws
    layers = {("subdistricts" if k == "streets" else k): layers[k] for k in drawn if k in layers}
    try:
        fmap = households_map(
            buildings,
            basemap=state.basemap(),
            tianditu_key=state.tianditu_key(),
            lang=lang,
            **layers,
        )
    except PlanningInputError as exc:
        st.warning(f"{widgets.escape(exc.text(lang))}\n\n{t('data.map_fallback')}")
        fmap = households_map(buildings, basemap="none", lang=lang, **layers)
    st_folium(
        fmap,
        key="data_map",
        returned_objects=[],
        height=640,
        use_container_width=True,
    )
    st.caption(t("data.map_caption", n=AGGREGATE_ABOVE))


def show_source(source: DataSource) -> None:
    """Load ``source`` through the caches and show the summary and map, or every problem."""
    if source.kind == "sample":
        title = t("data.sample_label", households=state.sample_households())
    elif source.kind == "project":
        title = t("data.project_label", file=source.title)
    else:
        title = source.title or source.households.label
    st.info(t("data.current", title=title))
    ref = source.households
    _part_choice(source, "households", ref)
    with st.spinner(t("data.loading", file=ref.label)):
        loaded = loading.source_households(source)
    if loaded.problems:
        show_problems(loaded.problems, file=ref.label)
        return
    if not loaded.ok:
        st.error(f"{t('data.unreadable')}\n\n{_refusal_text(loaded)}")
        return
    households = loaded.households
    summary = households.summary()
    _show_metrics(summary)
    map_column, info_column = st.columns([5, 2], gap="medium")
    with info_column:
        _show_facts(summary, households.report.warnings)
        layers = _show_layers(source)
        if "communities" in layers:
            widgets.page_link("existing")
    with map_column:
        _show_map(households.buildings, layers)


def render() -> None:
    """The page."""
    st.title(t("data.title"))
    st.caption(t("data.intro"))
    if state.get_source() is None:
        state.set_source(_sample_source())
    _source_picker(expanded=state.get_source().kind == "upload")
    project_panel.render()
    show_source(state.get_source())


if __name__ == "__main__":
    render()
