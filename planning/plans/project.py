"""A project file: one GeoPackage holding the input layers and every saved scenario.

The file opens in QGIS as it is. It holds:

- ``households`` (one point per building with its households, population and 小区),
  ``streets``, ``barriers``, ``facilities`` — the layers as loaded, in WGS84;
- per scenario ``<name>``: ``<name>__communities`` and ``<name>__grids`` (polygons, WGS84),
  ``<name>__assignment`` (building_id, community_id, grid_id) and ``<name>__log`` (the audit
  log: time, author, what, from, to, households_affected, and ``records``: what, from and to
  as records in JSON, to word them in either language) — the last two non-spatial tables;
- ``scenarios`` (name, base, created, modified, author, revision, params) and ``project``
  (key, value: the metric CRS, the format version), non-spatial as well.

Every polygon is stored valid: repaired and checked as the exports' are
(:func:`geo.export.rounded_valid`).

Saves are atomic: a save copies the file to a temporary file beside it, writes into the copy,
flushes it to disk (fsync) and replaces the original with :func:`os.replace`; a process killed
in the middle of a save leaves the previous file untouched (a stray ``.saving`` file is
removed by the next save). A lock file beside the project (``<file>.lock``, ``flock``)
serialises saves of several processes.

Two sessions editing one project do not overwrite each other silently: every scenario carries
a revision number, a session passes the revision it opened as ``expected_revision``, and a save
over a scenario that moved on since raises :class:`ScenarioConflictError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj

from geo.errors import InputFormatError, ScenarioEditError
from geo.export import rounded_valid
from planning.engine.district import District, prepare_district
from planning.params import ProposeParams
from planning.plans.plan import (
    AUDIT_COLUMNS,
    AuditEntry,
    Plan,
    SubdistrictShapes,
    audit_table,
    building_frame,
    community_frame,
    grid_frame,
    plan_from_labels,
)
from planning.records import Note, note_from_data, note_to_data

__all__ = [
    "FORMAT_VERSION",
    "ScenarioConflictError",
    "ScenarioInfo",
    "StoredScenario",
    "create_project",
    "delete_scenario",
    "list_scenarios",
    "load_district",
    "load_plan",
    "open_scenario",
    "rename_scenario",
    "save_scenario",
    "save_scenario_layers",
]

FORMAT_VERSION = "1"
_BASE_LAYERS = ("households", "streets", "barriers", "facilities")
_KINDS = ("communities", "grids", "assignment", "log")
_NAME = re.compile(r"^[^\W_](?:[\w\-]*[^\W_])?$")

#: Who saved a scenario whose author is not recorded.
_SOMEONE = Note.of("project.word.someone")
_SCENARIO_COLUMNS = ("name", "base", "created", "modified", "author", "revision", "params")


class ScenarioConflictError(ScenarioEditError):
    """A scenario was changed by another session since this one opened it."""


@dataclass(frozen=True)
class ScenarioInfo:
    """One row of the ``scenarios`` table."""

    name: str
    base: str
    created: str
    modified: str
    author: str
    revision: int
    params: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class StoredScenario:
    """A scenario as stored: its row and its four tables (layers in WGS84)."""

    info: ScenarioInfo
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    assignment: pd.DataFrame
    log: pd.DataFrame


# ---------------------------------------------------------------------- file plumbing


def _now() -> str:
    from planning.plans.scenario import now_utc

    return now_utc()


def _check_name(name: str) -> str:
    name = str(name)
    if not _NAME.match(name) or "__" in name or len(name) > 60:
        raise ScenarioEditError(Note.of("project.bad_name", name=repr(name)))
    return name


def _layer(name: str, kind: str) -> str:
    return f"{name}__{kind}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock`` for the duration of a change."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: msvcrt locks the first byte
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _transaction(path: Path, progress: Callable[[str], None]) -> Iterator[Path]:
    """Yield a copy of ``path`` to change; on success it atomically replaces ``path``."""
    for stale in path.parent.glob(f".{path.name}.*.saving.gpkg"):
        stale.unlink(missing_ok=True)  # left by a process killed mid-save (we hold the lock)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.saving.gpkg")
    try:
        shutil.copyfile(path, tmp)
        progress("copied")
        yield tmp
        _fsync_file(tmp)
        progress("synced")
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        progress("replaced")
    finally:
        tmp.unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA foreign_keys = OFF")
    return con


def _register_attributes(con: sqlite3.Connection, table: str) -> None:
    con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
        "VALUES (?, 'attributes', ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (table, table),
    )


def _drop_table(con: sqlite3.Connection, table: str) -> None:
    """Drop a GeoPackage table with its registrations (and its spatial index)."""
    rows = con.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
    ).fetchall()
    for (column,) in rows:
        con.execute(f'DROP TABLE IF EXISTS "rtree_{table}_{column}"')
    for meta in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
        con.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
        con.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = ?", (table,))
    con.execute(f'DROP TABLE IF EXISTS "{table}"')


#: The audit log's column holding each edit's what, from and to as records (JSON), so that a
#: reopened project words its log in either language; absent from older projects.
LOG_RECORDS = "records"


def _log_columns(log: pd.DataFrame) -> list[str]:
    """The audit log's columns a project stores (the records when the log has them)."""
    return [*AUDIT_COLUMNS, *([LOG_RECORDS] if LOG_RECORDS in log.columns else [])]


def _with_records(log: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``log`` with each entry's records as JSON (empty where an entry has none)."""
    out = log.copy()
    out[LOG_RECORDS] = [
        json.dumps([note_to_data(n) for n in e.records], ensure_ascii=False) if e.records else None
        for e in plan.log
    ]
    return out


def _records(text: object) -> tuple[Note, Note, Note] | None:
    """The records :func:`_with_records` stored, or None (none stored, or unreadable)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        what, before, after = (note_from_data(d) for d in json.loads(text))
    except (ValueError, TypeError, KeyError):
        return None  # a log edited by hand: its English text still stands
    return what, before, after


def _write_table(con: sqlite3.Connection, table: str, frame: pd.DataFrame) -> None:
    """A non-spatial GeoPackage table (text and integer columns) from a frame."""
    _drop_table(con, table)
    columns = list(frame.columns)
    types = ["INTEGER" if pd.api.types.is_integer_dtype(frame[c]) else "TEXT" for c in columns]
    spec = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types, strict=True))
    con.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, {spec})')
    marks = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    values = [
        frame[c].astype("int64").tolist()
        if t == "INTEGER"
        else [None if pd.isna(v) else str(v) for v in frame[c].tolist()]
        for c, t in zip(columns, types, strict=True)
    ]
    con.executemany(
        f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
        list(zip(*values, strict=True)) if columns else [],
    )
    _register_attributes(con, table)


def _read_table(path: Path, table: str) -> pd.DataFrame:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        frame = pd.read_sql_query(f'SELECT * FROM "{table}"', con)
    finally:
        con.close()
    return frame.drop(columns=["fid"], errors="ignore")


def _require_project(path: Path) -> None:
    if not path.exists():
        raise InputFormatError(Note.of("project.no_file", path=str(path)))
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'scenarios'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputFormatError(
            Note.of("project.not_geopackage", path=str(path), error=str(exc))
        ) from exc
    finally:
        con.close()
    if not ok:
        raise InputFormatError(Note.of("project.no_scenarios", path=str(path)))


def _infos(path: Path) -> dict[str, ScenarioInfo]:
    frame = _read_table(path, "scenarios")
    return {
        row["name"]: ScenarioInfo(
            row["name"],
            row["base"] or "",
            row["created"],
            row["modified"],
            row["author"] or "",
            int(row["revision"]),
            json.loads(row["params"] or "{}"),
        )
        for _, row in frame.iterrows()
    }


def _put_info(con: sqlite3.Connection, info: ScenarioInfo) -> None:
    con.execute("DELETE FROM scenarios WHERE name = ?", (info.name,))
    con.execute(
        "INSERT INTO scenarios (name, base, created, modified, author, revision, params) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            info.name,
            info.base,
            info.created,
            info.modified,
            info.author,
            info.revision,
            json.dumps(info.params, ensure_ascii=False),
        ),
    )


def _check_revision(
    path: Path, name: str, infos: dict[str, ScenarioInfo], expected_revision: int | None
) -> ScenarioInfo | None:
    """The stored row of ``name`` when the caller may change it (None: a new scenario)."""
    current = infos.get(name)
    if current is None:
        if expected_revision is not None:
            raise ScenarioConflictError(
                Note.of("project.gone", name=name, opened=expected_revision)
            )
        return None
    if expected_revision is None:
        raise ScenarioConflictError(
            Note.of(
                "project.exists",
                name=name,
                project=path.name,
                revision=current.revision,
                author=current.author or _SOMEONE,
                modified=current.modified,
            )
        )
    if int(expected_revision) != current.revision:
        raise ScenarioConflictError(
            Note.of(
                "project.changed",
                name=name,
                author=current.author or _SOMEONE,
                modified=current.modified,
                opened=expected_revision,
                revision=current.revision,
            )
        )
    return current


def _to_wgs84(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None:
        return None
    if frame.crs is None:
        raise InputFormatError(Note.of("project.no_crs"))
    return frame.to_crs("EPSG:4326")


def _write_layer(path: Path, frame: gpd.GeoDataFrame, layer: str) -> None:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path``, its polygons repaired and
    checked as every export's are (:func:`geo.export.rounded_valid`, full precision kept):
    no invalid polygon is stored."""
    out = frame.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        rounded_valid(np.asarray(out.geometry.values), None, caller=f"project layer {layer}"),
        index=out.index,
        crs=out.crs,
    )
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    pyogrio.write_dataframe(out, path, layer=layer, driver="GPKG")


# ---------------------------------------------------------------------- public API


def create_project(
    path: str | Path,
    *,
    buildings: gpd.GeoDataFrame,
    metric_crs: pyproj.CRS,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    overwrite: bool = False,
) -> Path:
    """Create a project file with the input layers (and no scenario yet).

    Parameters
    ----------
    path
        The ``.gpkg`` to create.
    buildings
        ``Households.buildings``: one point per building with ``building_id``,
        ``households``, ``compound`` (stored as the ``households`` layer).
    metric_crs
        ``Households.metric_crs`` (kept, so plans are rebuilt in the same CRS).
    streets, barriers, facilities
        The other layers as loaded (WGS84), or None.
    overwrite
        Replace an existing file (atomically); otherwise an existing file is refused.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputFormatError(Note.of("project.file_exists", path=str(path)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.saving.gpkg")
    try:
        layers = {
            "households": buildings,
            "streets": subdistricts,
            "barriers": barriers,
            "facilities": facilities,
        }
        for name, frame in layers.items():
            if frame is not None and len(frame):
                _write_layer(tmp, _to_wgs84(frame), name)
        con = _connect(tmp)
        try:
            con.execute("BEGIN")
            cols = ", ".join(
                f'"{c}" INTEGER' if c == "revision" else f'"{c}" TEXT' for c in _SCENARIO_COLUMNS
            )
            con.execute(f"CREATE TABLE scenarios (fid INTEGER PRIMARY KEY AUTOINCREMENT, {cols})")
            _register_attributes(con, "scenarios")
            meta = pd.DataFrame(
                {
                    "key": ["format_version", "metric_crs", "created"],
                    "value": [FORMAT_VERSION, pyproj.CRS(metric_crs).to_wkt(), _now()],
                }
            )
            _write_table(con, "project", meta)
            con.execute("COMMIT")
        finally:
            con.close()
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def list_scenarios(path: str | Path) -> pd.DataFrame:
    """The ``scenarios`` table: name, base, created, modified, author, revision."""
    path = Path(path)
    _require_project(path)
    frame = _read_table(path, "scenarios")
    return frame[[c for c in _SCENARIO_COLUMNS if c != "params"]].reset_index(drop=True)


def save_scenario_layers(
    path: str | Path,
    name: str,
    *,
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    assignment: pd.DataFrame,
    log: pd.DataFrame,
    author: str = "",
    expected_revision: int | None = None,
    base: str = "",
    params: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> ScenarioInfo:
    """Save a scenario's four tables (atomically; see the module docstring).

    ``expected_revision`` None creates a new scenario (refused if the name exists); otherwise
    it must be the revision the caller opened. Returns the new row (revision + 1).
    ``progress`` is called with each stage ("locked", "copied", "communities", "grids",
    "tables", "synced", "replaced").

    Raises
    ------
    ScenarioConflictError
        The scenario exists and ``expected_revision`` is None, or it moved on since.
    """
    path = Path(path)
    name = _check_name(name)
    report = progress or (lambda stage: None)
    _require_project(path)
    missing = [c for c in ("building_id", "community_id", "grid_id") if c not in assignment]
    if missing:
        raise ScenarioEditError(
            f"assignment: missing column(s) {', '.join(missing)}; expected "
            "building_id, community_id, grid_id."
        )
    with _locked(path):
        report("locked")
        infos = _infos(path)
        current = _check_revision(path, name, infos, expected_revision)
        now = _now()
        info = ScenarioInfo(
            name=name,
            base=base or (current.base if current else ""),
            created=current.created if current else now,
            modified=now,
            author=author,
            revision=(current.revision if current else 0) + 1,
            params=params if params is not None else (current.params if current else {}),
        )
        with _transaction(path, report) as tmp:
            _write_layer(tmp, _to_wgs84(communities), _layer(name, "communities"))
            report("communities")
            _write_layer(tmp, _to_wgs84(grids), _layer(name, "grids"))
            report("grids")
            con = _connect(tmp)
            try:
                con.execute("BEGIN")
                _write_table(
                    con,
                    _layer(name, "assignment"),
                    assignment[["building_id", "community_id", "grid_id"]],
                )
                _write_table(con, _layer(name, "log"), log[_log_columns(log)])
                _put_info(con, info)
                con.execute("COMMIT")
            finally:
                con.close()
            report("tables")
    return info


def save_scenario(
    path: str | Path,
    name: str,
    plan: Plan,
    *,
    author: str = "",
    expected_revision: int | None = None,
    base: str = "",
    params: ProposeParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> ScenarioInfo:
    """Save a plan as scenario ``name`` (communities, grids, assignment, audit log).

    See :func:`save_scenario_layers` for ``expected_revision`` and the errors."""
    params = params or ProposeParams()
    buildings = building_frame(plan)
    communities = community_frame(plan)
    assignment = pd.DataFrame(
        {
            "building_id": buildings["building_id"].astype(str).to_numpy(),
            "community_id": buildings["community_id"].to_numpy(),
            "grid_id": buildings["grid_id"].to_numpy(),
        }
    )
    stored = params.to_dict()
    stored["smooth_m"] = plan.smooth_m
    return save_scenario_layers(
        path,
        name,
        communities=communities,
        grids=grid_frame(plan),
        assignment=assignment,
        log=_with_records(audit_table(plan), plan),
        author=author,
        expected_revision=expected_revision,
        base=base,
        params=stored,
        progress=progress,
    )


def open_scenario(path: str | Path, name: str) -> StoredScenario:
    """A stored scenario: its row (with the revision to pass back on save) and tables."""
    path = Path(path)
    _require_project(path)
    infos = _infos(path)
    if name not in infos:
        saved = tuple(sorted(infos)) or Note.of("project.word.none_saved")
        raise ScenarioEditError(
            Note.of("project.not_saved", name=repr(name), project=path.name, saved=saved)
        )
    communities = gpd.read_file(path, layer=_layer(name, "communities"))
    grids = gpd.read_file(path, layer=_layer(name, "grids"))
    for frame in (communities, grids):
        for column in ("community_id", "grid_id", "name"):
            if column in frame.columns:
                frame[column] = frame[column].astype(str)
    return StoredScenario(
        infos[name],
        communities,
        grids,
        _read_table(path, _layer(name, "assignment")).astype(str),
        _read_table(path, _layer(name, "log")),
    )


def rename_scenario(
    path: str | Path, old: str, new: str, *, author: str = "", expected_revision: int | None = None
) -> ScenarioInfo:
    """Rename a scenario (its layers and row); refused if ``new`` exists."""
    path = Path(path)
    new = _check_name(new)
    stored = open_scenario(path, old)
    with _locked(path):
        infos = _infos(path)
        if new in infos:
            raise ScenarioEditError(Note.of("project.rename_taken", old=old, new=new))
        opened = stored.info.revision if expected_revision is None else expected_revision
        current = _check_revision(path, old, infos, opened)
        info = ScenarioInfo(
            new,
            current.base,
            current.created,
            _now(),
            author or current.author,
            current.revision + 1,
            current.params,
        )
        with _transaction(path, lambda stage: None) as tmp:
            _write_layer(tmp, stored.communities, _layer(new, "communities"))
            _write_layer(tmp, stored.grids, _layer(new, "grids"))
            con = _connect(tmp)
            try:
                con.execute("BEGIN")
                _write_table(con, _layer(new, "assignment"), stored.assignment)
                _write_table(con, _layer(new, "log"), stored.log)
                for kind in _KINDS:
                    _drop_table(con, _layer(old, kind))
                con.execute("DELETE FROM scenarios WHERE name = ?", (old,))
                _put_info(con, info)
                con.execute("COMMIT")
            finally:
                con.close()
    return info


def delete_scenario(path: str | Path, name: str, *, expected_revision: int | None = None) -> None:
    """Delete a scenario (its layers and row). ``expected_revision`` guards against deleting
    a scenario another session changed since."""
    path = Path(path)
    _require_project(path)
    with _locked(path):
        infos = _infos(path)
        if name not in infos:
            saved = tuple(sorted(infos)) or Note.of("project.word.none")
            raise ScenarioEditError(
                Note.of("project.delete_missing", name=repr(name), project=path.name, saved=saved)
            )
        if expected_revision is not None:
            _check_revision(path, name, infos, expected_revision)
        with _transaction(path, lambda stage: None) as tmp:
            con = _connect(tmp)
            try:
                con.execute("BEGIN")
                for kind in _KINDS:
                    _drop_table(con, _layer(name, kind))
                con.execute("DELETE FROM scenarios WHERE name = ?", (name,))
                con.execute("COMMIT")
            finally:
                con.close()


def _metric_crs(path: Path) -> pyproj.CRS:
    meta = _read_table(path, "project")
    value = dict(zip(meta["key"], meta["value"], strict=True)).get("metric_crs")
    return pyproj.CRS.from_wkt(value)


def load_district(path: str | Path) -> District:
    """The district of a project, rebuilt from its layers (deterministic: the same sites,
    cells and adjacency the plans were drawn on)."""
    path = Path(path)
    _require_project(path)
    present = {str(row[0]) for row in pyogrio.list_layers(path)}
    read = {k: gpd.read_file(path, layer=k) if k in present else None for k in _BASE_LAYERS}
    buildings = read["households"]
    if buildings is None:
        raise InputFormatError(Note.of("project.no_households", path=str(path)))
    buildings["building_id"] = buildings["building_id"].astype(str)
    buildings["compound"] = (
        buildings["compound"].astype(object).where(buildings["compound"].notna(), None)
    )
    return prepare_district(
        buildings,
        metric_crs=_metric_crs(path),
        subdistricts=read["streets"],
        barriers=read["barriers"],
    )


def load_plan(path: str | Path, name: str, *, district: District | None = None) -> Plan:
    """A stored scenario as a :class:`Plan` (polygons as stored, nothing redrawn), on
    ``district`` (default: :func:`load_district`), with its audit log and locks."""
    path = Path(path)
    stored = open_scenario(path, name)
    district = district or load_district(path)
    ids = district.buildings["building_id"].astype(str).to_numpy()
    table = stored.assignment.set_index("building_id")
    missing = np.setdiff1d(ids, table.index.to_numpy())
    if len(missing):
        raise InputFormatError(
            Note.of(
                "project.unassigned",
                name=name,
                n=len(missing),
                examples=tuple(str(b) for b in missing[:3]),
            )
        )
    per_building_c = table["community_id"].reindex(ids).to_numpy(dtype=object)
    per_building_g = table["grid_id"].reindex(ids).to_numpy(dtype=object)
    n_sites = len(district.sites.xy)
    site_c = np.empty(n_sites, dtype=object)
    site_g = np.empty(n_sites, dtype=object)
    site_c[district.sites.of_building] = per_building_c
    site_g[district.sites.of_building] = per_building_g
    comm = stored.communities
    community_ids = comm["community_id"].astype(str).tolist()
    index = {c: i for i, c in enumerate(community_ids)}
    grid_ids = stored.grids["grid_id"].astype(str).tolist()
    g_index = {g: i for i, g in enumerate(grid_ids)}
    community = np.array([index[c] for c in site_c], dtype=np.int64)
    grid = np.array([g_index[g] for g in site_g], dtype=np.int64)
    locked = comm["locked"].astype(bool).tolist() if "locked" in comm.columns else None
    metric = district.metric_crs
    comm_geom = dict(zip(community_ids, comm.to_crs(metric).geometry.array, strict=True))
    grid_geom = dict(zip(grid_ids, stored.grids.to_crs(metric).geometry.array, strict=True))
    subdistrict_of = np.full(len(community_ids), -1, dtype=np.int64)
    subdistrict_of[community] = district.sites.subdistrict
    grid_subdistrict = np.full(len(grid_ids), -1, dtype=np.int64)
    grid_subdistrict[grid] = district.sites.subdistrict
    shapes = {
        int(z): SubdistrictShapes(
            community={
                community_ids[c]: comm_geom[community_ids[c]]
                for c in np.flatnonzero(subdistrict_of == z)
            },
            grid={
                grid_ids[g]: grid_geom[grid_ids[g]] for g in np.flatnonzero(grid_subdistrict == z)
            },
        )
        for z in np.unique(subdistrict_of)
    }
    smooth_m = float(stored.info.params.get("smooth_m", ProposeParams.smooth_m))
    plan = plan_from_labels(
        district,
        community,
        grid,
        community_ids=community_ids,
        community_names=comm["name"].astype(str).tolist(),
        locked=locked,
        grid_ids=grid_ids,
        smooth_m=smooth_m,
        shapes=shapes,
    )
    log = tuple(
        AuditEntry(
            str(r["time"]),
            str(r["author"] or ""),
            str(r["what"]),
            str(r["from"]),
            str(r["to"]),
            int(r["households_affected"]),
            _records(r.get(LOG_RECORDS)),
        )
        for _, r in stored.log.iterrows()
    )
    return dataclasses.replace(plan, log=log)
