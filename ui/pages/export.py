"""The Export page: the print map (PNG or PDF with title, legend, scale bar, north arrow, CRS
note, date and editor), the plan as GeoJSON (RFC 7946), GeoPackage and zipped Shapefile in
CGCS2000, the households with their community and grid, the compliance CSV and printable
report, the project file and the audit log.

Every file is made when its button is clicked (``st.download_button`` with a function), by the
same writers the command line uses (:mod:`ui.exports`).
"""

from __future__ import annotations

import streamlit as st

from planning import PAPERS
from ui import exports, runs, state, widgets
from ui.i18n import t

__all__ = ["render"]

_SCENARIO_KEY = "export_scenario"
_CRS_KEY = "export_crs"
_TITLE_KEY = "export_print_title"
_TITLE_DEFAULT_KEY = "_export_print_title_default"
_ORGANISATION_KEY = "export_print_organisation"
_ORGANISATION_KEPT = "_export_print_organisation_kept"
_PAPER_KEY = "export_print_paper"


def _button(label: str, data, *, file_name: str, mime: str, key: str, help_text: str = "") -> None:
    """One download button; ``data`` is bytes or a function making them on click."""
    st.download_button(
        label,
        data=data,
        file_name=file_name,
        mime=mime,
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help=help_text or None,
        width="stretch",
    )


#: The files of one writer offered side by side: (label key, the writer's file name, MIME
#: type, help key or None). The download is named ``<stem>-<file>`` and keyed ``export_<file>``.
_PLAN_FILES = (
    (
        "export.communities_geojson",
        "communities.geojson",
        "application/geo+json",
        "export.geojson.help",
    ),
    ("export.grids_geojson", "grids.geojson", "application/geo+json", "export.geojson.help"),
    ("export.households_csv", "households.csv", "text/csv", "export.households_csv.help"),
)
_COMPLIANCE_FILES = (
    ("export.compliance_csv", "compliance.csv", "text/csv", None),
    ("export.report_html", "report.html", "text/html", "export.report_html.help"),
    ("export.compliance_geojson", "compliance.geojson", "application/geo+json", None),
)


def _file_row(write, files, stem: str) -> None:
    """One button per file of ``write()`` (a dict of file name to bytes), made on click."""
    for col, (label, file, mime, help_key) in zip(st.columns(len(files)), files, strict=True):
        with col:
            _button(
                t(label),
                lambda file=file: write()[file],
                file_name=f"{stem}-{file}",
                mime=mime,
                key="export_" + file.replace(".", "_"),
                help_text=t(help_key) if help_key else "",
            )


def _stem(name: str) -> str:
    return "plan" if name == widgets.PROPOSAL else f"plan-{name}"


def _choose_scenario_and_crs() -> tuple[str, str]:
    """The scenario to export and the CRS of the bureau's files, as chosen."""
    options = widgets.scenario_options()
    active, _spec = state.active_scenario()
    if st.session_state.get(_SCENARIO_KEY) not in options:
        st.session_state[_SCENARIO_KEY] = active
    cols = st.columns([2, 3])
    name = cols[0].selectbox(
        t("export.scenario"), options, format_func=widgets.scenario_label, key=_SCENARIO_KEY
    )
    with cols[1]:
        crs = state.choice(
            st.radio,
            t("export.crs"),
            exports.EXPORT_CRS,
            {k: t(f"export.crs.{k}") for k in exports.EXPORT_CRS},
            key=_CRS_KEY,
            default="cgcs2000",
            horizontal=True,
            help=t("export.crs.help"),
        )
    return name, crs


def _bureau_files(view, *, stem: str, crs: str) -> None:
    """The GeoPackage and the two zipped Shapefiles in ``crs``."""
    st.subheader(t("export.bureau", crs=t(f"export.crs.{crs}")))
    cols = st.columns(3)
    with cols[0]:
        _button(
            t("export.gpkg"),
            lambda: exports.geopackage_bytes(
                {"communities": view.communities, "grids": view.grids}, crs=crs
            ),
            file_name=f"{stem}-{crs}.gpkg",
            mime="application/geopackage+sqlite3",
            key="export_gpkg",
        )
    with cols[1]:
        _button(
            t("export.communities_shp"),
            lambda: exports.shapefile_zip_bytes(
                view.communities, name=f"{stem}-communities", crs=crs
            ),
            file_name=f"{stem}-communities-{crs}.zip",
            mime="application/zip",
            key="export_communities_shp",
            help_text=t("export.shp.help"),
        )
    with cols[2]:
        _button(
            t("export.grids_shp"),
            lambda: exports.shapefile_zip_bytes(view.grids, name=f"{stem}-grids", crs=crs),
            file_name=f"{stem}-grids-{crs}.zip",
            mime="application/zip",
            key="export_grids_shp",
            help_text=t("export.shp.help"),
        )


def _compliance_files(ref, spec, *, stem: str) -> None:
    """The compliance CSV, report and GeoJSON under the chosen standard, when it can be checked."""
    st.subheader(t("export.compliance", standard=state.standard_ref().label))
    checked = runs.compliance(ref, spec, state.standard_ref())
    if checked.result is None:
        st.warning(t("export.compliance.unavailable"))
        widgets.page_link("standards")
    else:
        result = checked.result
        _file_row(lambda: exports.compliance_files(result), _COMPLIANCE_FILES, stem)


def _project_files(ref, plan, *, stem: str) -> None:
    """The project file (every scenario) and the audit log of ``plan``, in the language of
    the page."""
    st.subheader(t("export.project"))
    layers = runs.layer_frames(ref.source)
    every = {n: runs.plan_view(ref, s).plan for n, s in state.scenarios().items()}
    cols = st.columns(3)
    with cols[0]:
        _button(
            t("export.project_file"),
            lambda: exports.project_bytes(
                every, params=ref.params, layers=layers, author=state.author()
            ),
            file_name="project.gpkg",
            mime="application/geopackage+sqlite3",
            key="export_project",
            help_text=t("export.project_file.help", n=len(every)),
        )
    with cols[1]:
        _button(
            t("export.audit"),
            lambda: exports.audit_csv(plan, lang=state.language()),
            file_name=f"{stem}-audit-log.csv",
            mime="text/csv",
            key="export_audit",
            help_text=t("export.audit.help", n=len(plan.log)),
        )


def _scenario(ref, name: str) -> str:
    """The scenario as a title names it (a short form of the scenario box's label)."""
    if name != widgets.PROPOSAL:
        return t("scenario.label", name=name)
    if ref.stored is not None:
        return ref.stored.scenario
    return t("export.print.rebalanced" if ref.rebalance is not None else "export.print.proposal")


def _title_input(default: str) -> str:
    """The title box, set to ``default`` until the planner types another title (and again
    when the scenario changes the default of a title not typed)."""
    previous = st.session_state.get(_TITLE_DEFAULT_KEY)
    if st.session_state.get(_TITLE_KEY) in (None, "", previous):
        st.session_state[_TITLE_KEY] = default
    st.session_state[_TITLE_DEFAULT_KEY] = default
    return st.text_input(t("export.print.title"), key=_TITLE_KEY).strip()


def _organisation_input() -> str:
    """The 编制单位 box; what was typed is kept as a plain session value, so it survives a
    visit to another page (streamlit drops the state of a widget that is not drawn)."""
    if _ORGANISATION_KEY not in st.session_state:
        st.session_state[_ORGANISATION_KEY] = st.session_state.get(_ORGANISATION_KEPT, "")

    def keep() -> None:
        st.session_state[_ORGANISATION_KEPT] = st.session_state[_ORGANISATION_KEY]

    st.text_input(t("export.print.organisation"), key=_ORGANISATION_KEY, on_change=keep)
    return st.session_state[_ORGANISATION_KEY].strip()


def _print_map(ref, plan, *, name: str, stem: str) -> None:
    """The print map of ``plan``: title, 编制单位, 编制人 and paper, then PNG and PDF."""
    st.subheader(t("export.print"))
    district, scenario = (
        exports.district_name(ref.source, sample=t("export.print.sample_district")),
        _scenario(ref, name),
    )
    default = (
        t("export.print.default_title", district=district, scenario=scenario)
        if district
        else t("export.print.default_title_plain", scenario=scenario)
    )
    cols = st.columns([4, 3, 2])
    with cols[0]:
        title = _title_input(default) or default
    with cols[1]:
        organisation = _organisation_input()
    with cols[2]:
        editor = state.author_input(t("export.print.editor"), key="export_print_editor")
    paper = state.choice(
        st.radio,
        t("export.print.paper"),
        tuple(PAPERS),
        {k: t(f"export.print.paper.{k}") for k in PAPERS},
        key=_PAPER_KEY,
        default="A4",
        horizontal=True,
    )
    layers = runs.layer_frames(ref.source)
    cols = st.columns(2)
    for col, fmt in zip(cols, ("png", "pdf"), strict=True):
        sheet = exports.PrintSheet(
            fmt=fmt,
            title=title,
            paper=paper,
            lang=state.language(),
            editor=editor,
            organisation=organisation,
        )
        with col:
            _button(
                t(f"export.print.{fmt}"),
                lambda sheet=sheet: exports.print_map_bytes(
                    plan, params=ref.params, layers=layers, sheet=sheet
                ),
                file_name=f"{stem}-map-{paper}.{fmt}",
                mime="image/png" if fmt == "png" else "application/pdf",
                key=f"export_print_{fmt}",
                help_text=t("export.print.help"),
            )


def render() -> None:
    """The page."""
    st.title(t("export.title"))
    st.caption(t("export.intro"))
    got = widgets.require_plan()
    if got is None:
        return
    ref, outcome = got
    name, crs = _choose_scenario_and_crs()
    spec = widgets.spec_of(name)
    view = runs.plan_view(ref, spec)
    plan, params, households = view.plan, ref.params, outcome.households
    stem = _stem(name)

    _print_map(ref, plan, name=name, stem=stem)
    st.subheader(t("export.plan"))
    _file_row(lambda: exports.plan_files(plan, households, params=params), _PLAN_FILES, stem)
    _bureau_files(view, stem=stem, crs=crs)
    _compliance_files(ref, spec, stem=stem)
    _project_files(ref, plan, stem=stem)


if __name__ == "__main__":
    render()
