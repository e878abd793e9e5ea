"""Project files in the app: open one and list its scenarios, load a stored scenario as the plan
to work on, create one from the current data, save a scenario into it.

The library (:mod:`planning.plans.project`) does the work; this module keys its caches on hashable
values (a :class:`~ui.state.FileRef`: path and SHA-256; a :class:`~ui.state.StoredPlanRef`:
file, scenario and revision) and turns every failure into a result with the library's message
(never an exception), as :mod:`ui.loading` does for data files. A file that is not a project
(not SQLite, a GeoPackage without a ``scenarios`` table, a damaged layer) is such a failure.

A project's layers become a :class:`~ui.state.DataSource` (kind ``"project"``): they are
written once per project digest as GeoJSON files beside the uploads and read back by the same
validating readers as any upload, so the Data, Propose and Standards pages treat them like any
other data.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import streamlit as st

from geo.errors import PlanningInputError
from geo.records import Message
from planning import (
    Plan,
    ProposeParams,
    ScenarioConflictError,
    ScenarioInfo,
    create_project,
    list_scenarios,
    load_district,
    load_plan,
    open_scenario,
    save_scenario,
)
from ui import i18n, loading
from ui.state import DataSource, FileRef, StoredPlanRef

__all__ = [
    "MAX_PROJECT_MB",
    "PROJECTS_ENV",
    "PROJECT_ROOT",
    "STALE_SAVE_AGE_S",
    "Listing",
    "Refusal",
    "Saved",
    "StoredOutcome",
    "clean_stale_saves",
    "create",
    "current_ref",
    "default_path",
    "list_project",
    "list_projects",
    "new_project_path",
    "params_of",
    "project_file_name",
    "project_path",
    "project_source",
    "projects_folder",
    "save",
    "stored_plan",
]

#: A project is read into memory like an upload: the same bound.
MAX_PROJECT_MB = loading.MAX_UPLOAD_MB
#: The projects folder unless :data:`PROJECTS_ENV` names another: the app opens and writes
#: projects there only (and uploaded copies), never a server path a user types.
PROJECT_ROOT = Path(tempfile.gettempdir()) / "community-planner-projects"
#: Environment variable naming the projects folder.
PROJECTS_ENV = "PLANNER_PROJECTS_DIR"
#: A save's temporary files (``.NAME.HEX.saving.gpkg`` and its ``-journal``/``-wal``/``-shm``)
#: older than this (seconds), with the project's lock free, were left by a crash.
STALE_SAVE_AGE_S = 300
_STALE_SAVE = re.compile(r"^\.(?P<project>.+)\.[0-9a-f]{32}\.saving\.gpkg(?:-journal|-wal|-shm)?$")
_LAYERS_ROOT = Path(tempfile.gettempdir()) / "community-planner-project-layers"
#: The project's layers that become the data source (``households`` is the household file).
_SOURCE_LAYERS = ("households", "streets", "barriers", "facilities")
#: What reading a file that is not a sound project can raise (the library's own errors are
#: ``PlanningInputError``, a ``ValueError``; SQLite and GDAL raise theirs).
_READ_ERRORS = (
    PlanningInputError,
    ValueError,
    KeyError,
    OSError,
    sqlite3.Error,
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyproj.exceptions.CRSError,
)


@dataclass(frozen=True)
class Refusal:
    """Why a project file cannot be read or written, said in either language: the library's
    record, else the app's words (``key`` of ``ui/locales`` with its ``values``), else the
    error's own text; the file named as the planner knows it (``label``), not by the server's
    temp ``path``."""

    fallback: str = ""
    record: Message | None = None
    key: str = ""
    values: tuple[tuple[str, str], ...] = ()
    path: str = ""
    label: str = ""

    def text(self, lang: str) -> str:
        """The refusal in ``lang``."""
        if self.record is not None:
            said = self.record.text(lang)
        elif self.key:
            said = i18n.text(self.key, lang).format(**dict(self.values))
        else:
            said = self.fallback
        return said.replace(self.path, self.label) if self.path else said

    def __str__(self) -> str:
        return self.text(lang="en")


@dataclass(frozen=True, eq=False)
class Listing:
    """The scenarios of a project (name, base, created, modified, author, revision), or why
    the file cannot be opened."""

    scenarios: pd.DataFrame | None = None
    message: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.scenarios is not None


@dataclass(frozen=True, eq=False)
class StoredOutcome:
    """A stored scenario as a plan with its row; or the revision it has moved on to since it
    was chosen (``moved``: its row now); or the message of why it cannot be loaded."""

    plan: Plan | None = None
    info: ScenarioInfo | None = None
    moved: ScenarioInfo | None = None
    message: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: the scenario's new row; or a refusal — ``conflict`` when the
    scenario moved on or exists (:class:`~planning.plans.project.ScenarioConflictError`),
    ``other_households`` (the project's and the plan's building counts) when the project was
    made from other data — with the library's ``message``."""

    info: ScenarioInfo | None = None
    conflict: bool = False
    other_households: tuple[int, int] | None = None
    message: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.info is not None


def _message(exc: BaseException, ref: FileRef | None = None) -> Refusal:
    """The error as a refusal, naming the file as the user knows it (not the server's temp
    path): the library's record, or — for an error that is not the library's (not SQLite, a
    damaged layer) — the app's words for a file that is no project."""
    where = {"path": ref.path, "label": ref.label} if ref is not None else {}
    text = str(exc) or type(exc).__name__
    if isinstance(exc, PlanningInputError):
        return Refusal(text, record=exc.record, **where)
    label = ref.label if ref is not None else ""
    values = (("file", label), ("kind", type(exc).__name__), ("error", text))
    return Refusal(text, key="project.unreadable", values=values, **where)


def default_path() -> str:
    """Where a new project goes when it is given no name."""
    return str(projects_folder() / "project.gpkg")


def projects_folder() -> Path:
    """The projects folder (``$PLANNER_PROJECTS_DIR``, else :data:`PROJECT_ROOT`), made if
    missing, as an absolute path."""
    folder = Path(os.environ.get(PROJECTS_ENV, "").strip() or PROJECT_ROOT).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def _lock_free(project: Path) -> bool:
    """Whether no process holds the lock of ``project`` (a save in progress holds it)."""
    lock = project.with_name(project.name + ".lock")
    if not lock.exists():
        return True
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: age alone decides
        return True
    with open(lock, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return True


def clean_stale_saves(
    folder: str | Path, *, min_age_s: float = STALE_SAVE_AGE_S, now: float | None = None
) -> list[Path]:
    """Remove what saves killed mid-way left in ``folder`` (``.NAME.HEX.saving.gpkg`` and its
    ``-journal``, ``-wal``, ``-shm``): only files older than ``min_age_s`` whose project's lock
    is free. Return the files removed."""
    cutoff = (time.time() if now is None else now) - min_age_s
    removed = []
    for path in Path(folder).iterdir():
        match = _STALE_SAVE.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            if path.stat().st_mtime >= cutoff or not _lock_free(path.with_name(match["project"])):
                continue
            path.unlink()
        except OSError:  # gone meanwhile, or not ours to remove
            continue
        removed.append(path)
    return removed


def list_projects(folder: str | Path | None = None) -> list[str]:
    """The project files (``*.gpkg``) in the projects folder, by name, after removing what
    crashed saves left there."""
    folder = projects_folder() if folder is None else Path(folder)
    clean_stale_saves(folder)
    return sorted(
        p.name for p in folder.glob("*.gpkg") if p.is_file() and not p.name.startswith(".")
    )


def project_file_name(name: str) -> str | None:
    """The file name a new project called ``name`` gets (``NAME.gpkg``, made safe: no path, no
    leading dots, no control characters); None when nothing usable is left."""
    stem = str(name).strip()
    if stem.lower().endswith(".gpkg"):
        stem = stem[:-5]
    if not re.sub(r"[\x00-\x1f\x7f/\\.:*?\"<>|\s]", "", stem):
        return None
    return loading.safe_upload_name(stem + ".gpkg")


def project_path(name: str) -> Path | None:
    """The project ``name`` in the projects folder (one listed by :func:`list_projects`), or
    None when there is no such project there."""
    folder = projects_folder()
    path = folder / str(name)
    if str(name) not in list_projects(folder) or path.parent != folder:
        return None
    return path


def new_project_path(name: str) -> Path | None:
    """Where a new project called ``name`` is made in the projects folder; None when the name
    holds nothing usable."""
    file_name = project_file_name(name)
    return None if file_name is None else projects_folder() / file_name


def current_ref(ref: FileRef) -> FileRef | None:
    """``ref`` as the file is now (its digest changes with every save); None when it is gone."""
    path = Path(ref.path)
    if not path.is_file():
        return None
    return loading.file_ref(path, label=ref.label)


@st.cache_resource(show_spinner=False, max_entries=16)
def list_project(path: str, digest: str, label: str) -> Listing:
    """The scenarios table of the project at ``path`` (``digest`` keys the cache)."""
    ref = FileRef(path, digest, label)
    try:
        frame = list_scenarios(path)
    except _READ_ERRORS as exc:
        return Listing(message=_message(exc, ref))
    frame = frame.sort_values("modified", ascending=False, kind="stable").reset_index(drop=True)
    return Listing(scenarios=frame)


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a temporary file (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pyogrio.write_dataframe(frame, tmp, driver="GeoJSON")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@st.cache_resource(show_spinner=False, max_entries=16)
def project_source(project: FileRef) -> tuple[DataSource | None, Refusal | None]:
    """The project's layers as a data source (WGS84 GeoJSON files, unpacked once per digest),
    or the message of why they cannot be read."""
    folder = _LAYERS_ROOT / project.digest[:24]
    files: dict[str, Path] = {}
    try:
        present = {str(row[0]) for row in pyogrio.list_layers(project.path)}
        if "households" not in present:
            return None, Refusal(key="project.no_households", values=(("file", project.label),))
        for kind in _SOURCE_LAYERS:
            if kind not in present:
                continue
            out = folder / f"{kind}.geojson"
            if not out.exists():
                frame = pyogrio.read_dataframe(project.path, layer=kind)
                _write_geojson(frame.to_crs("EPSG:4326"), out)
            files[kind] = out
    except _READ_ERRORS as exc:
        return None, _message(exc, project)
    households = loading.file_ref(files.pop("households"), label=f"{project.label} · households")
    return (
        DataSource(
            kind="project",
            households=households,
            crs="wgs84",
            layers=tuple(
                (kind, loading.file_ref(path, label=f"{project.label} · {kind}"))
                for kind, path in files.items()
            ),
            title=project.label,
        ),
        None,
    )


def params_of(info: ScenarioInfo) -> ProposeParams:
    """The engine's parameters a scenario was saved with (defaults for any not stored)."""
    return ProposeParams.from_dict(info.params or {})


def _info(frame: pd.DataFrame, name: str) -> ScenarioInfo | None:
    row = frame[frame["name"] == name]
    if row.empty:
        return None
    r = row.iloc[0]
    return ScenarioInfo(
        str(r["name"]),
        str(r["base"] or ""),
        str(r["created"]),
        str(r["modified"]),
        str(r["author"] or ""),
        int(r["revision"]),
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def stored_plan(stored: StoredPlanRef) -> StoredOutcome:
    """Scenario ``stored.scenario`` of the project as a :class:`~planning.plans.plan.Plan` on the
    project's district (its polygons as stored, its audit log and locks).

    Refused (``moved``) when the scenario was saved again since ``stored.revision``: what is
    shown is always the revision chosen.
    """
    project = stored.project
    try:
        now = _info(list_scenarios(project.path), stored.scenario)
        if now is not None and now.revision != stored.revision:
            return StoredOutcome(moved=now)
        info = open_scenario(project.path, stored.scenario).info  # the row, with parameters
        plan = load_plan(project.path, stored.scenario, district=load_district(project.path))
    except _READ_ERRORS as exc:
        return StoredOutcome(message=_message(exc, project))
    return StoredOutcome(plan=plan, info=info)


def create(
    path: str | Path,
    *,
    buildings: gpd.GeoDataFrame,
    metric_crs: pyproj.CRS,
    layers: dict[str, gpd.GeoDataFrame | None],
) -> Refusal | None:
    """Create a project file with the data's layers and no scenario; the message when it
    cannot be written, else None."""
    try:
        create_project(
            path,
            buildings=buildings,
            metric_crs=metric_crs,
            subdistricts=layers.get("streets"),
            barriers=layers.get("barriers"),
            facilities=layers.get("facilities"),
        )
    except (PlanningInputError, OSError, sqlite3.Error, pyogrio.errors.DataSourceError) as exc:
        record = exc.record if isinstance(exc, PlanningInputError) else None
        return Refusal(str(exc), record=record)  # an OS error as the system words it
    return None


def _project_buildings(path: str | Path) -> pd.Series:
    frame = pyogrio.read_dataframe(
        path, layer="households", columns=["building_id"], read_geometry=False
    )
    return frame["building_id"].astype(str)


def save(
    path: str | Path,
    name: str,
    plan: Plan,
    *,
    params: ProposeParams,
    author: str,
    expected_revision: int | None,
    base: str = "",
) -> Saved:
    """Save ``plan`` as scenario ``name`` into the project at ``path``.

    ``expected_revision`` is the revision this session opened or last saved (None: a new
    scenario). Refused, with a result that says why, when the project was made from other
    households than the plan's or when the scenario moved on or exists."""
    ref = FileRef(str(path), "", Path(path).name)
    try:
        theirs = _project_buildings(path)
        mine = plan.district.buildings["building_id"].astype(str)
        if len(theirs) != len(mine) or set(theirs) != set(mine):
            return Saved(other_households=(len(theirs), len(mine)))
        info = save_scenario(
            path,
            name,
            plan,
            author=author,
            expected_revision=expected_revision,
            base=base,
            params=params,
        )
    except ScenarioConflictError as exc:
        return Saved(conflict=True, message=_message(exc, ref))
    except _READ_ERRORS as exc:
        return Saved(message=_message(exc, ref))
    return Saved(info=info)
