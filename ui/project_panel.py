"""The Data page's project file section: open a project (upload, or one in the server's projects
folder — never a path typed by the user), see its scenarios, load one as the plan to work on;
create a project (by name, in the projects folder) from the current data and save the current
scenario into the project open.

Actions run as widget callbacks (before the page is drawn again) and leave their outcome in the
session — ``(kind, text)`` under :data:`OPEN_MESSAGE_KEY` or :data:`SAVE_MESSAGE_KEY` — for the
section to show; every failure (not a project, a damaged file, a scenario saved by someone else
since it was opened) is a message, never an exception. Loading a scenario sets the session's
data source to the project's layers and its plan to a :class:`~ui.state.PlanRef` with
``stored``, so Propose, Edit, Standards, Compare and Export work on it as on a proposal.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import streamlit as st

from ui import loading, parameter_inputs, projects, runs, state, widgets
from ui.i18n import t
from ui.state import PlanRef, StoredPlanRef

__all__ = [
    "CHOICE_KEY",
    "LOAD_KEY",
    "NEW_NAME_KEY",
    "OPEN_KEY",
    "OPEN_MESSAGE_KEY",
    "SAVE_MESSAGE_KEY",
    "SAVE_NAME_KEY",
    "SCENARIO_KEY",
    "UPLOAD_KEY",
    "render",
]

UPLOAD_KEY = "project_upload"
CHOICE_KEY = "project_choice"
OPEN_KEY = "project_open"
SCENARIO_KEY = "project_scenario"
LOAD_KEY = "project_load"
NEW_NAME_KEY = "project_new_name"
SAVE_NAME_KEY = "project_save_name"
AUTHOR_KEY = "project_author"
CREATE_KEY = "project_create"
SAVE_KEY = "project_save"
OPEN_MESSAGE_KEY = "project_open_message"
SAVE_MESSAGE_KEY = "project_save_message"
_MB = 1024 * 1024


def _say(key: str, kind: str, text: str) -> None:
    st.session_state[key] = (kind, text)


def _show(key: str) -> None:
    kind, text = st.session_state.get(key) or (None, None)
    if kind == "error":
        st.error(text)
    elif kind == "success":
        st.success(text)
    elif kind == "info":
        st.info(text)


def _failure(headline: str, message: projects.Refusal | None) -> str:
    """A headline and the refusal under it, in the page's language."""
    said = message.text(state.language()) if message is not None else ""
    return headline + ("\n\n" + widgets.escape(said) if said else "")


# ---------------------------------------------------------------------------------------------
# Opening


def _too_big(label: str, size: int) -> str | None:
    if size <= projects.MAX_PROJECT_MB * _MB:
        return None
    return t(
        "project.too_big",
        file=widgets.escape(label),
        mb=f"{size / _MB:,.0f}",
        limit=projects.MAX_PROJECT_MB,
    )


def _open_file(path: Path, label: str) -> None:
    """Open the project at ``path``: list its scenarios, or say why it cannot be opened."""
    headline = t("project.open_failed", file=widgets.escape(label))
    try:
        too_big = _too_big(label, path.stat().st_size)
        ref = None if too_big else loading.file_ref(path, label=label)
    except OSError as exc:  # unreadable: permissions, a folder, gone meanwhile
        _say(OPEN_MESSAGE_KEY, "error", _failure(headline, str(exc)))
        return
    if too_big:
        _say(OPEN_MESSAGE_KEY, "error", too_big)
        return
    listing = projects.list_project(ref.path, ref.digest, ref.label)
    if not listing.ok:
        _say(OPEN_MESSAGE_KEY, "error", _failure(headline, listing.message))
        return
    state.set_project(ref)
    names = listing.scenarios["name"].astype(str).tolist()
    if names:
        st.session_state[SCENARIO_KEY] = names[0]
    _say(
        OPEN_MESSAGE_KEY,
        "success",
        t("project.opened", file=widgets.escape(label), n=len(names)),
    )


def _on_upload() -> None:
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        return
    too_big = _too_big(upload.name, upload.size)
    if too_big:
        _say(OPEN_MESSAGE_KEY, "error", too_big)
        return
    try:
        saved = loading.save_upload(upload.name, upload.getvalue(), owner=state.upload_owner())
    except OSError as exc:
        name = widgets.escape(loading.safe_upload_name(upload.name))
        reason = widgets.escape(exc.strerror or type(exc).__name__)
        _say(OPEN_MESSAGE_KEY, "error", t("upload.cannot_store", file=name, reason=reason))
        return
    _open_file(Path(saved.path), saved.label)


def _on_open_choice() -> None:
    """Open the project chosen in the projects folder."""
    name = str(st.session_state.get(CHOICE_KEY) or "")
    if not name:
        _say(OPEN_MESSAGE_KEY, "error", t("project.need_choice"))
        return
    path = projects.project_path(name)
    if path is None:
        _say(OPEN_MESSAGE_KEY, "error", t("project.not_in_folder", file=widgets.escape(name)))
        return
    _open_file(path, path.name)


def _on_load() -> None:
    """Make the chosen stored scenario the plan every page works on."""
    project = state.get_project()
    ref = projects.current_ref(project) if project is not None else None
    if ref is None:
        _say(OPEN_MESSAGE_KEY, "error", t("project.gone", file=widgets.escape(project.label)))
        return
    listing = projects.list_project(ref.path, ref.digest, ref.label)
    if not listing.ok:
        headline = t("project.open_failed", file=widgets.escape(ref.label))
        _say(OPEN_MESSAGE_KEY, "error", _failure(headline, listing.message))
        return
    name = str(st.session_state.get(SCENARIO_KEY) or "")
    row = listing.scenarios[listing.scenarios["name"].astype(str) == name]
    if row.empty:
        _say(OPEN_MESSAGE_KEY, "error", t("project.no_scenario", scenario=widgets.escape(name)))
        return
    stored = StoredPlanRef(ref, name, int(row["revision"].iloc[0]))
    headline = t(
        "project.load_failed", scenario=widgets.escape(name), file=widgets.escape(ref.label)
    )
    source, message = projects.project_source(ref)
    if source is None:
        _say(OPEN_MESSAGE_KEY, "error", _failure(headline, message))
        return
    with st.spinner(t("project.loading", scenario=name)):
        got = projects.stored_plan(stored)
    if not got.ok:
        _say(OPEN_MESSAGE_KEY, "error", _failure(headline, got.message))
        return
    state.set_source(source)
    plan_ref = PlanRef(
        source=dataclasses.replace(source, title=""),
        params=projects.params_of(got.info),
        stored=stored,
    )
    state.set_plan(plan_ref, first=name)
    state.remember_revision(ref.path, name, stored.revision)
    st.session_state[SAVE_NAME_KEY] = name
    parameter_inputs.reset_inputs()
    _say(
        OPEN_MESSAGE_KEY,
        "success",
        t(
            "project.loaded",
            scenario=widgets.escape(name),
            revision=stored.revision,
            author=widgets.escape(got.info.author or "—"),
            modified=widgets.when(got.info.modified),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Creating and saving


def _new_target() -> Path | None:
    """Where the project named in the form is made (in the projects folder), or None with
    the message saying why not."""
    path = projects.new_project_path(st.session_state.get(NEW_NAME_KEY) or "")
    if path is None:
        _say(SAVE_MESSAGE_KEY, "error", t("project.need_new_name"))
    return path


def _open_target() -> Path | None:
    """The project open (what a save writes into), or None with the message."""
    project = state.get_project()
    if project is None:
        _say(SAVE_MESSAGE_KEY, "error", t("project.need_project"))
        return None
    return Path(project.path)


def _current_plan():
    """(plan ref, the active scenario's plan) — None when there is no plan or it failed."""
    ref = state.get_plan()
    if ref is None or not runs.outcome(ref, _stages=widgets.stage_labels()).ok:
        return None
    _name, spec = state.active_scenario()
    return ref, runs.plan_view(ref, spec).plan


def _save_into(path: Path, ref: PlanRef, plan) -> bool:
    """Save ``plan`` as the scenario named in the form; say how it went."""
    name = (st.session_state.get(SAVE_NAME_KEY) or "").strip()
    if not name:
        _say(SAVE_MESSAGE_KEY, "error", t("project.need_name"))
        return False
    expected = state.known_revision(str(path), name)
    base = ref.stored.scenario if ref.stored is not None and ref.stored.scenario != name else ""
    saved = projects.save(
        path,
        name,
        plan,
        params=ref.params,
        author=state.author(),
        expected_revision=expected,
        base=base,
    )
    label = widgets.escape(path.name)
    if saved.conflict:
        headline = t("project.conflict", scenario=widgets.escape(name), file=label)
        _say(SAVE_MESSAGE_KEY, "error", _failure(headline, saved.message))
        return False
    if saved.other_households is not None:
        theirs, mine = saved.other_households
        _say(
            SAVE_MESSAGE_KEY,
            "error",
            t("project.other_households", file=label, theirs=f"{theirs:,}", mine=f"{mine:,}"),
        )
        return False
    if not saved.ok:
        headline = t("project.save_failed", scenario=widgets.escape(name), file=label)
        _say(SAVE_MESSAGE_KEY, "error", _failure(headline, saved.message))
        return False
    state.remember_revision(str(path), name, saved.info.revision)
    state.set_project(loading.file_ref(path))
    _say(
        SAVE_MESSAGE_KEY,
        "success",
        t(
            "project.saved",
            scenario=widgets.escape(name),
            revision=saved.info.revision,
            file=label,
            author=widgets.escape(saved.info.author or "—"),
        ),
    )
    return True


def _on_create() -> None:
    """A new project file from the current data, with the current scenario saved into it."""
    path = _new_target()
    if path is None or _new_path_refused(path):
        return
    current = _current_plan()
    if current is None and state.get_plan() is not None:
        _say(SAVE_MESSAGE_KEY, "error", t("project.no_plan_to_save"))
        return
    contents = _new_project_contents(current)
    if contents is None:
        return
    buildings, metric_crs, layers = contents
    message = projects.create(path, buildings=buildings, metric_crs=metric_crs, layers=layers)
    if message:
        headline = t("project.create_failed", file=widgets.escape(path.name))
        _say(SAVE_MESSAGE_KEY, "error", _failure(headline, message))
        return
    state.set_project(loading.file_ref(path))
    created = t("project.created", file=widgets.escape(path.name))
    if current is None:
        _say(SAVE_MESSAGE_KEY, "success", created + " " + t("project.created_empty"))
        return
    ref, plan = current
    if _save_into(path, ref, plan):
        kind, text = st.session_state[SAVE_MESSAGE_KEY]
        _say(SAVE_MESSAGE_KEY, kind, created + " " + text)


def _new_path_refused(path: Path) -> bool:
    """Whether a new project file cannot be made at ``path`` (and the message saying why)."""
    if path.exists():
        _say(SAVE_MESSAGE_KEY, "error", t("project.name_exists", file=widgets.escape(path.name)))
        return True
    return False


def _new_project_contents(current):
    """The buildings, metric CRS and layers a new project file starts from: the plan's own
    data when there is a plan (its scenarios must match the households), else the data
    source's; ``None`` (with the message) when the households are refused."""
    if current is not None:
        ref, plan = current
        buildings, metric_crs = plan.district.buildings, plan.district.metric_crs
        return buildings, metric_crs, runs.layer_frames(ref.source)
    source = widgets.source()
    file = source.households
    loaded = loading.source_households(source)
    if not loaded.ok:
        _say(SAVE_MESSAGE_KEY, "error", t("project.data_refused", file=file.label))
        return None
    buildings, metric_crs = loaded.households.buildings, loaded.households.metric_crs
    return buildings, metric_crs, runs.layer_frames(source)


def _on_save() -> None:
    path = _open_target()
    if path is None:
        return
    if not path.is_file():
        _say(SAVE_MESSAGE_KEY, "error", t("project.not_there", path=widgets.escape(path.name)))
        return
    current = _current_plan()
    if current is None:
        _say(SAVE_MESSAGE_KEY, "error", t("project.no_plan_to_save"))
        return
    ref, plan = current
    _save_into(path, ref, plan)


# ---------------------------------------------------------------------------------------------
# Drawing


def _scenario_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("project.col.name"): frame["name"].astype(str).to_numpy(),
            t("project.col.revision"): frame["revision"].astype(int).to_numpy(),
            t("project.col.author"): frame["author"].fillna("").astype(str).to_numpy(),
            t("project.col.modified"): [widgets.when(v) for v in frame["modified"]],
            t("project.col.base"): frame["base"].fillna("").astype(str).to_numpy(),
            t("project.col.created"): [widgets.when(v) for v in frame["created"]],
        }
    )


def _working_note(project_path: str) -> None:
    ref = state.get_plan()
    if ref is None or ref.stored is None or ref.stored.project.path != project_path:
        return
    name, spec = state.active_scenario()
    st.success(
        t(
            "project.working",
            scenario=widgets.escape(ref.stored.scenario),
            revision=ref.stored.revision,
            active=widgets.escape(name),
            edits=spec.cursor,
        )
    )
    cols = st.columns(2)
    with cols[0]:
        widgets.page_link("edit")
    with cols[1]:
        widgets.page_link("propose")


def _listing(project) -> None:
    ref = projects.current_ref(project)
    if ref is None:
        st.warning(t("project.gone", file=widgets.escape(project.label)))
        return
    listing = projects.list_project(ref.path, ref.digest, ref.label)
    if not listing.ok:
        st.error(
            _failure(t("project.open_failed", file=widgets.escape(ref.label)), listing.message)
        )
        return
    frame = listing.scenarios
    st.markdown(t("project.open_now", file=widgets.escape(ref.label), n=len(frame)))
    if Path(ref.path).is_relative_to(loading.UPLOAD_ROOT):
        st.caption(t("project.upload_copy"))
    else:
        st.caption(f"`{ref.path}`")
    if frame.empty:
        st.info(t("project.empty"))
    else:
        st.dataframe(
            _scenario_table(frame),
            hide_index=True,
            width="stretch",
            height=min(35 * (len(frame) + 1) + 3, 250),
        )
        names = frame["name"].astype(str).tolist()
        if st.session_state.get(SCENARIO_KEY) not in names:
            st.session_state[SCENARIO_KEY] = names[0]
        cols = st.columns([3, 2], vertical_alignment="bottom")
        cols[0].selectbox(t("project.scenario"), names, key=SCENARIO_KEY)
        cols[1].button(
            t("project.load"),
            key=LOAD_KEY,
            on_click=_on_load,
            type="primary",
            icon=":material/edit_note:",
            help=t("project.load.help"),
            width="stretch",
        )
    _working_note(ref.path)
    st.download_button(
        t("project.download"),
        data=lambda: Path(ref.path).read_bytes(),
        file_name=ref.label if ref.label.lower().endswith(".gpkg") else "project.gpkg",
        mime="application/geopackage+sqlite3",
        key="project_download",
        on_click="ignore",
        icon=":material/download:",
    )


def _open_column() -> None:
    st.markdown(f"**{t('project.open')}**")
    st.file_uploader(
        t("project.upload"),
        type=["gpkg"],
        key=UPLOAD_KEY,
        on_change=_on_upload,
        help=t("project.upload.help", mb=projects.MAX_PROJECT_MB),
    )
    names = projects.list_projects()
    if names:
        cols = st.columns([4, 1], vertical_alignment="bottom")
        cols[0].selectbox(t("project.folder"), names, key=CHOICE_KEY, help=t("project.folder.help"))
        cols[1].button(
            t("project.open_button"), key=OPEN_KEY, on_click=_on_open_choice, width="stretch"
        )
    else:
        st.caption(t("project.folder.none"))
    _show(OPEN_MESSAGE_KEY)
    project = state.get_project()
    if project is not None:
        _listing(project)


def _save_column() -> None:
    st.markdown(f"**{t('project.save')}**")
    ref = state.get_plan()
    active, spec = state.active_scenario()
    if SAVE_NAME_KEY not in st.session_state:
        st.session_state[SAVE_NAME_KEY] = active
    st.text_input(
        t("project.new_name"),
        key=NEW_NAME_KEY,
        placeholder=Path(projects.default_path()).stem,
        help=t("project.new_name.help"),
    )
    cols = st.columns(2)
    cols[0].text_input(t("project.save_name"), key=SAVE_NAME_KEY, help=t("project.save_name.help"))
    with cols[1]:
        state.author_input(t("edit.author"), key=AUTHOR_KEY, placeholder=t("edit.author.hint"))
    project = state.get_project()
    if project is not None:
        st.caption(t("project.save_target", file=widgets.escape(project.label)))
    if ref is None:
        st.caption(t("project.no_plan"))
    else:
        st.caption(t("project.will_save", active=widgets.escape(active), edits=spec.cursor))
    cols = st.columns(2)
    cols[0].button(
        t("project.create"),
        key=CREATE_KEY,
        on_click=_on_create,
        icon=":material/create_new_folder:",
        help=t("project.create.help"),
        width="stretch",
    )
    cols[1].button(
        t("project.save_button"),
        key=SAVE_KEY,
        on_click=_on_save,
        disabled=ref is None,
        icon=":material/save:",
        help=t("project.save.help"),
        width="stretch",
    )
    _show(SAVE_MESSAGE_KEY)


def render() -> None:
    """The section (an expander, open when a project is open or there is news)."""
    expanded = any(
        st.session_state.get(key) for key in (state.PROJECT_KEY, OPEN_MESSAGE_KEY, SAVE_MESSAGE_KEY)
    )
    with st.expander(t("project.section"), expanded=expanded, icon=":material/folder_open:"):
        st.caption(t("project.intro"))
        left, right = st.columns([3, 2], gap="large")
        with left:
            _open_column()
        with right:
            _save_column()
