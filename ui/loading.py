"""Cached loaders: files on disk → validated households and layers, or the problems found.

Every cached function is keyed on hashable values only (a path, the file's SHA-256, the
declared CRS, the column mapping as a tuple): a changed file has a new digest and is read
again. A refused file is a result too (:class:`LoadedHouseholds` with ``problems``), so it is
cached like a good one and the page shows the same messages as the command line, never a
traceback.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import pyogrio
import pyogrio.errors
import streamlit as st

from geo.errors import PlanningInputError, Problem, ValidationError
from geo.footprints import read_footprints
from geo.intake import Households, read_households
from geo.layers import (
    Layer,
    LayerFile,
    read_barriers,
    read_communities,
    read_compounds,
    read_facilities,
    read_subdistricts,
    stated_crs,
)
from geo.records import Message
from geo.tables import FilePart, list_parts
from ui.state import BARRIER_LAYERS, DataSource, FileRef

__all__ = [
    "LAYER_KINDS",
    "MAX_EXPANDED_MB",
    "MAX_NAME_BYTES",
    "MAX_ROWS",
    "MAX_UPLOAD_MB",
    "SAMPLE_CRS",
    "UPLOAD_MAX_AGE_S",
    "UPLOAD_ROOT",
    "LimitBreach",
    "LoadedHouseholds",
    "LoadedLayer",
    "count_rows",
    "crs_of",
    "discard_uploads",
    "expanded_over_limit",
    "expanded_size",
    "file_digest",
    "file_parts",
    "file_ref",
    "file_stated_crs",
    "limit_breach",
    "load_households",
    "load_layer",
    "propose_layers",
    "read_layer",
    "read_layer_file",
    "remove_old_uploads",
    "rows_over_limit",
    "safe_upload_name",
    "sample_files",
    "sample_source",
    "save_upload",
    "size_breach",
    "size_over_limit",
    "source_for_path",
    "source_households",
    "workbook_rows",
]

#: Upload bounds. ``server.maxUploadSize`` in .streamlit/config.toml matches MAX_UPLOAD_MB.
MAX_UPLOAD_MB = 200
MAX_ROWS = 2_000_000
#: What a compressed file (.xlsx, .xlsm, .zip) may hold once expanded, as its zip directory
#: declares it: a 2 MB workbook can expand to gigabytes in the one process serving everyone.
MAX_EXPANDED_MB = 1024
#: The longest file name kept (bytes in UTF-8, the limit of most file systems).
MAX_NAME_BYTES = 255
#: Uploads older than this (seconds) are removed when another is saved.
UPLOAD_MAX_AGE_S = 24 * 3600
_ZIPPED_SUFFIXES = (".xlsx", ".xlsm", ".zip")
#: Every layer of the built-in sample is in GCJ-02.
SAMPLE_CRS = "gcj02"
#: The layers a planner uploads, in the order the form shows them: the 街道, the barrier
#: files (roads, water, railways — and ``barriers``, one file of mixed kinds read from its
#: columns), compounds (小区 polygons), building footprints, facilities, existing communities.
LAYER_KINDS = (
    "streets",
    "roads",
    "water",
    "railways",
    "barriers",
    "compounds",
    "buildings",
    "facilities",
    "communities",
)
#: The layers of the built-in sample (its barriers are of mixed kinds).
_SAMPLE_KINDS = ("streets", "barriers", "facilities", "communities")


def _read_footprints(
    path: str | Path,
    *,
    crs: str | int,
    label: str | None = None,
    columns: dict[str, str] | None = None,
    layer: str | None = None,
) -> Layer:
    """:func:`geo.footprints.read_footprints` as the other readers are called (its id column
    given as the ``footprint_id`` role)."""
    id_column = dict(columns or {}).get("footprint_id")
    return read_footprints(path, crs=crs, label=label, id_column=id_column, layer=layer)


_LAYER_READERS = {
    "streets": read_subdistricts,
    "compounds": read_compounds,
    "buildings": _read_footprints,
    "facilities": read_facilities,
    "communities": read_communities,
} | dict.fromkeys(BARRIER_LAYERS, read_barriers)
_UPLOAD_ROOT = Path(tempfile.gettempdir()) / "community-planner-uploads"
#: Where uploads are kept on the server (public: a project opened from an upload is a copy here).
UPLOAD_ROOT = _UPLOAD_ROOT


@dataclass(frozen=True)
class LoadedHouseholds:
    """The households read from a file, or why the file was refused.

    Exactly one of ``households`` / ``problems`` / ``message`` is set: the data, the problems
    of a :class:`~geo.errors.ValidationError` (errors and warnings), or the message of any other
    input error (unreadable file, unknown CRS, too many rows).
    """

    households: Households | None = None
    problems: tuple[Problem, ...] = ()
    message: str | None = None
    #: The input error as a record, when it is one (the page says it in the user's language).
    record: Message | None = None
    #: The app's limit the file is over, when that is why it was refused (``message`` says
    #: it in English; the page says it in the user's language).
    breach: LimitBreach | None = None

    @property
    def ok(self) -> bool:
        return self.households is not None


@dataclass(frozen=True)
class LoadedLayer:
    """One optional layer read into WGS84, or why it was refused (as for households)."""

    kind: str
    label: str
    frame: gpd.GeoDataFrame | None = None
    warnings: tuple[Problem, ...] = ()
    problems: tuple[Problem, ...] = ()
    message: str | None = None
    #: The input error as a record, when it is one (the page says it in the user's language).
    record: Message | None = None
    #: The app's limit the file is over, when that is why it was refused (``message`` says
    #: it in English; the page says it in the user's language).
    breach: LimitBreach | None = None

    @property
    def ok(self) -> bool:
        return self.frame is not None


# ---------------------------------------------------------------------------------------------
# Files


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file, cached on (path, modification time, size)."""
    path = Path(path)
    stat = path.stat()
    return _cached_digest(str(path), stat.st_mtime_ns, stat.st_size)


def file_ref(path: str | Path, *, label: str | None = None) -> FileRef:
    path = Path(path)
    return FileRef(str(path), file_digest(path), label or path.name)


def size_over_limit(label: str, size_bytes: int, *, limit_mb: int = MAX_UPLOAD_MB) -> str | None:
    """The message for a file larger than the app accepts, else None."""
    if size_bytes <= limit_mb * 1024 * 1024:
        return None
    return (
        f"{label}: the file is {size_bytes / 1024 / 1024:,.0f} MB. expected: at most "
        f"{limit_mb} MB in the app; fix: split the file (e.g. by sub-district), or check it with "
        f"the command line: python -m planning validate {label} --crs CRS"
    )


def rows_over_limit(label: str, rows: int | None, *, limit: int = MAX_ROWS) -> str | None:
    """The message for a file with more rows than the app accepts, else None."""
    if rows is None or rows <= limit:
        return None
    return (
        f"{label}: the file has {rows:,} rows. expected: at most {limit:,} rows in the app; "
        "fix: give one row per building with a 户数 (households) column instead of one row per "
        "household, or split the file (e.g. by sub-district)."
    )


def expanded_over_limit(
    label: str, expanded_bytes: int | None, *, limit_mb: int = MAX_EXPANDED_MB
) -> str | None:
    """The message for a compressed file that expands beyond what the app accepts, else None."""
    if expanded_bytes is None or expanded_bytes <= limit_mb * 1024 * 1024:
        return None
    return (
        f"{label}: the file expands to {expanded_bytes / 1024 / 1024:,.0f} MB once unzipped. "
        f"expected: at most {limit_mb:,} MB in the app; fix: split the file (e.g. by "
        f"sub-district), or check it with the command line: python -m planning validate "
        f"{label} --crs CRS"
    )


def expanded_size(path: str | Path) -> int | None:
    """Bytes a zip-based file (.xlsx, .xlsm, .zip) holds once expanded, as its central
    directory declares them (nothing is decompressed); None for other files or a broken zip."""
    path = Path(path)
    if path.suffix.lower() not in _ZIPPED_SUFFIXES:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return None


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


def _sheet_rows(archive: zipfile.ZipFile, member: str, stop_after: int) -> int:
    """Rows of one worksheet: its declared dimension when that is already over
    ``stop_after``, else its ``<row>`` elements counted while streaming (stopping past
    ``stop_after``): a dimension can understate, a count cannot."""
    with archive.open(member) as handle:
        head = handle.read(1 << 16)
        declared = _DIMENSION.search(head)
        if declared and int(declared.group(1)) > stop_after:
            return int(declared.group(1))
        rows = len(_ROW_TAG.findall(head))
        tail = head[-16:]
        while rows <= stop_after and (block := handle.read(1 << 22)):
            chunk = tail + block
            rows += len(_ROW_TAG.findall(chunk)) - len(_ROW_TAG.findall(tail))
            tail = chunk[-16:]
    return rows


def workbook_rows(path: str | Path, *, stop_after: int = MAX_ROWS) -> int | None:
    """Rows in all sheets of an .xlsx/.xlsm workbook, read from its XML without loading it
    (counting stops once past ``stop_after``); None when it is not a readable workbook."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = [
                n
                for n in archive.namelist()
                if n.startswith("xl/worksheets/") and n.endswith(".xml")
            ]
            total = 0
            for member in sheets:
                total += _sheet_rows(archive, member, stop_after - total)
                if total > stop_after:
                    break
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return total


def _text_lines(path: Path) -> int:
    """Lines in a text file (a last line without a newline counts), read in blocks."""
    newlines = 0
    last = b"\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            newlines += block.count(b"\n")
            last = block[-1:]
    return newlines + (last != b"\n")


def count_rows(path: str | Path, *, stop_after: int = MAX_ROWS) -> int | None:
    """Data rows in a file, counted without reading it into a frame; None when unknown.

    A workbook's rows are counted in its XML (every sheet, stopping once past
    ``stop_after``: the header rows are counted too)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return max(_text_lines(path) - 1, 0)
    if suffix in (".xlsx", ".xlsm"):
        return workbook_rows(path, stop_after=stop_after)
    if suffix in (".parquet", ".geoparquet"):
        try:
            return int(pq.read_metadata(path).num_rows)
        except (pyarrow.ArrowException, OSError):
            return None
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".zip"):
        return _feature_count(path)
    return None


def _feature_count(path: Path) -> int | None:
    """Features of a spatial file as GDAL counts them, in all its layers (a GeoPackage may
    hold several; the largest is the one that matters); None when it cannot."""
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
        counts = [
            pyogrio.read_info(path, layer=name, force_feature_count=True)["features"]
            for name in names
        ]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError):
        return None
    known = [int(count) for count in counts if count is not None and count >= 0]
    return max(known) if known else None


@dataclass(frozen=True)
class LimitBreach:
    """A file over one of the app's limits, found before reading it: ``what`` is ``"size"``
    (MB on disk), ``"expanded"`` (MB once unzipped) or ``"rows"``; ``found`` and ``limit`` in
    those units."""

    label: str
    what: str
    found: int
    limit: int

    @property
    def message(self) -> str:
        """The refusal in English (as the command line words it)."""
        if self.what == "size":
            return size_over_limit(self.label, self.found * 1024 * 1024, limit_mb=self.limit)
        if self.what == "expanded":
            return expanded_over_limit(self.label, self.found * 1024 * 1024, limit_mb=self.limit)
        return rows_over_limit(self.label, self.found, limit=self.limit)


def size_breach(
    label: str, size_bytes: int, *, limit_mb: int = MAX_UPLOAD_MB
) -> LimitBreach | None:
    """The breach of a file of ``size_bytes`` larger than ``limit_mb`` (MB rounded up), else
    None."""
    if size_bytes <= limit_mb * 1024 * 1024:
        return None
    return LimitBreach(label, "size", -(-size_bytes // (1024 * 1024)), limit_mb)


def limit_breach(
    path: str | Path,
    *,
    label: str | None = None,
    max_mb: int = MAX_UPLOAD_MB,
    max_expanded_mb: int = MAX_EXPANDED_MB,
    max_rows: int = MAX_ROWS,
) -> LimitBreach | None:
    """The first limit ``path`` is over — its size, its expanded size (from the zip
    directory), its rows (counted without loading it) — or None when it is within all."""
    path = Path(path)
    label = label or path.name
    mb = 1024 * 1024
    too_big = size_breach(label, path.stat().st_size, limit_mb=max_mb)
    if too_big:
        return too_big
    expanded = expanded_size(path)
    if expanded is not None and expanded > max_expanded_mb * mb:
        return LimitBreach(label, "expanded", -(-expanded // mb), max_expanded_mb)
    rows = count_rows(path, stop_after=max_rows)
    if rows is not None and rows > max_rows:
        return LimitBreach(label, "rows", rows, max_rows)
    return None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_upload_name(name: str) -> str:
    """``name`` as it can be stored: its last path part, without NUL, control characters,
    separators or leading dots, at most :data:`MAX_NAME_BYTES` bytes, its extension kept
    (``upload`` + extension when nothing else is left)."""
    last = re.split(r"[/\\]", str(name).replace("\x00", ""))[-1]
    clean = _UNSAFE.sub("_", last).strip(" .")
    if last.strip().startswith(".") and "." not in clean:
        clean = f"upload.{clean}"  # a name that was only an extension, e.g. ".csv"
    stem, dot, extension = clean.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", extension):
        stem, extension = clean, ""
    stem = stem.strip(" .") or "upload"
    suffix = f".{extension.lower()}" if extension else ""
    room = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:room].decode("utf-8", errors="ignore").rstrip(" .") or "upload"
    return stem + suffix


def save_upload(name: str, data: bytes, *, owner: str = "shared") -> FileRef:
    """Write an uploaded file to the server's upload folder under ``owner`` (a session) and
    its digest, under its name made safe (:func:`safe_upload_name`); uploads older than
    :data:`UPLOAD_MAX_AGE_S` are removed first. Raises ``OSError`` when it cannot be written."""
    remove_old_uploads()
    digest = hashlib.sha256(data).hexdigest()
    label = safe_upload_name(name)
    folder = _UPLOAD_ROOT / safe_upload_name(owner) / digest[:24]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / label
    if not path.exists() or path.stat().st_size != len(data):
        path.write_bytes(data)
    else:
        path.touch()  # in use again: not old
    return FileRef(str(path), digest, label)


def remove_old_uploads(
    *, root: Path | None = None, max_age_s: float = UPLOAD_MAX_AGE_S, now: float | None = None
) -> int:
    """Remove uploaded files last written more than ``max_age_s`` ago, and the folders left
    empty; return how many files went."""
    root = _UPLOAD_ROOT if root is None else Path(root)
    if not root.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - max_age_s
    removed = 0
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:  # another process removed or is using it
            continue
    return removed


def discard_uploads(refs, *, owner: str, keep=()) -> None:
    """Remove the uploaded files of ``refs`` that belong to ``owner`` and are not in ``keep``
    (a session replacing its upload), with their folders when left empty."""
    folder = _UPLOAD_ROOT / safe_upload_name(owner)
    kept = {str(ref.path) for ref in keep}
    for ref in refs:
        path = Path(ref.path)
        if str(path) in kept or not path.is_relative_to(folder):
            continue
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()


# ---------------------------------------------------------------------------------------------
# Sources


@st.cache_resource(show_spinner=False)
def sample_files(households: int, seed: int = 0) -> dict[str, str]:
    """Write the built-in sample once per (households, seed) and server process."""
    from samples.district import write_sample

    outdir = Path(tempfile.mkdtemp(prefix=f"community-planner-sample-{households}-{seed}-"))
    return {
        kind: str(path)
        for kind, path in write_sample(outdir, households=households, seed=seed).items()
    }


def sample_source(households: int, *, seed: int = 0, title: str = "") -> DataSource:
    """The built-in sample as a source: read exactly like an upload, declared GCJ-02."""
    files = sample_files(households, seed)
    layers = tuple((kind, file_ref(files[kind])) for kind in _SAMPLE_KINDS if kind in files)
    return DataSource(
        kind="sample",
        households=file_ref(files["households"]),
        crs=SAMPLE_CRS,
        layers=layers,
        title=title,
    )


def source_for_path(
    path: str | Path,
    *,
    crs: str,
    columns: dict[str, str] | None = None,
    layers: dict[str, str | Path] | None = None,
    layers_crs: str | None = None,
    label: str | None = None,
    layer_crs_of: dict[str, str] | None = None,
    layer_parts: dict[str, str] | None = None,
) -> DataSource:
    """A source for files already on disk (what an upload becomes once saved): ``layers`` by
    kind (:data:`LAYER_KINDS`), each in ``layer_crs_of[kind]`` when given, the sheet or layer
    ``layer_parts[kind]`` read from a file holding several."""
    return DataSource(
        kind="upload",
        households=file_ref(path, label=label),
        crs=crs,
        columns=tuple(sorted((columns or {}).items())),
        layers=tuple((kind, file_ref(p)) for kind, p in (layers or {}).items()),
        layers_crs=layers_crs,
        title=label or Path(path).name,
        layer_crs_of=tuple((layer_crs_of or {}).items()),
        layer_parts=tuple((layer_parts or {}).items()),
    )


# ---------------------------------------------------------------------------------------------
# Reading


def _breach(path: str, label: str, max_rows: int) -> LimitBreach | None:
    """The limit a file is over (None when within, or when it is gone: the reader then says
    so)."""
    try:
        return limit_breach(path, label=label, max_rows=max_rows)
    except OSError:
        return None


@st.cache_resource(show_spinner=False, max_entries=6)
def load_households(
    path: str,
    digest: str,
    crs: str,
    columns: tuple[tuple[str, str], ...] = (),
    *,
    label: str | None = None,
    max_rows: int = MAX_ROWS,
    part: str | None = None,
) -> LoadedHouseholds:
    """Read and validate a household file (``digest`` keys the cache; the file is at ``path``),
    from its sheet or layer ``part`` when it holds several.

    Cached as a resource: the result is shared, never copied, and never mutated by the app.
    """
    label = label or Path(path).name
    breach = _breach(path, label, max_rows)
    if breach:
        return LoadedHouseholds(message=breach.message, breach=breach)
    options = LayerFile(path, part=part).part_options(tables=True)
    try:
        households = read_households(
            path, crs=crs, columns=dict(columns) or None, label=label, **options
        )
    except ValidationError as exc:
        return LoadedHouseholds(problems=exc.problems)
    except PlanningInputError as exc:
        return LoadedHouseholds(message=str(exc), record=exc.record)
    return LoadedHouseholds(households=households)


def source_households(source: DataSource) -> LoadedHouseholds:
    """The household file of ``source`` read as it was chosen: its CRS, its column choices and
    the sheet or layer named (:func:`load_households`, cached the same)."""
    file = source.households
    return load_households(
        file.path,
        file.digest,
        source.crs,
        source.columns,
        label=file.label,
        part=source.households_part,
    )


@st.cache_resource(show_spinner=False, max_entries=24)
def load_layer(
    kind: str,
    path: str,
    digest: str,
    crs: str,
    *,
    label: str | None = None,
    max_rows: int = MAX_ROWS,
    columns: tuple[tuple[str, str], ...] = (),
    part: str | None = None,
) -> LoadedLayer:
    """Read one optional layer (``kind`` in :data:`LAYER_KINDS`) into WGS84, its columns
    found by their names or given by ``columns`` (``(role, column)`` pairs), from the sheet or
    layer ``part`` of a file holding several; a barrier file's features all of the kind its
    layer says (:data:`ui.state.BARRIER_LAYERS`)."""
    label = label or Path(path).name
    breach = _breach(path, label, max_rows)
    if breach:
        return LoadedLayer(kind, label, message=breach.message, breach=breach)
    options = LayerFile(path, part=part).part_options(tables=kind == "facilities")
    if BARRIER_LAYERS.get(kind) is not None:
        options["kind"] = BARRIER_LAYERS[kind]
    try:
        layer = _LAYER_READERS[kind](
            path, crs=crs, label=label, columns=dict(columns) or None, **options
        )
    except ValidationError as exc:
        return LoadedLayer(kind, label, problems=exc.problems)
    except PlanningInputError as exc:
        return LoadedLayer(kind, label, message=str(exc), record=exc.record)
    return LoadedLayer(kind, label, frame=layer.frame, warnings=layer.report.warnings)


@st.cache_data(show_spinner=False, max_entries=64)
def file_stated_crs(path: str, digest: str, part: str | None = None) -> str | None:
    """The projected CRS the file at ``path`` states (``digest`` keys the cache), as
    :func:`geo.layers.stated_crs` finds it; None when it states none or lon/lat."""
    return stated_crs(path, layer=part)


@st.cache_data(show_spinner=False, max_entries=64)
def file_parts(
    path: str, digest: str, label: str | None = None
) -> tuple[FilePart, ...] | Message | str:
    """The sheets of a workbook or the layers of a GeoPackage (or Shapefiles of a zip) at
    ``path`` (:func:`geo.tables.list_parts`), or why it cannot be opened (a record when the
    error is one)."""
    try:
        return list_parts(path, label=label)
    except PlanningInputError as exc:
        return exc.record if exc.record is not None else str(exc)


def crs_of(source: DataSource, kind: str) -> str:
    """The CRS layer ``kind`` of ``source`` is read in: the one chosen for it; else the
    projected CRS its file states (a .prj, a GeoPackage's); else the layers' CRS (the
    households' unless another was chosen for every layer)."""
    own = source.own_crs(kind)
    if own:
        return own
    file = source.layer(kind)
    stated = file and file_stated_crs(file.path, file.digest, source.part_of(kind))
    return stated or source.layer_crs


def read_layer_file(source: DataSource, kind: str) -> LoadedLayer | None:
    """The file of layer ``kind`` of ``source`` read (cached by :func:`load_layer`) in its CRS
    (:func:`crs_of`), with the layer's column mapping and part; None when there is none."""
    file = source.layer(kind)
    if file is None:
        return None
    return load_layer(
        kind,
        file.path,
        file.digest,
        crs_of(source, kind),
        label=file.label,
        columns=source.columns_of(kind),
        part=source.part_of(kind),
    )


def read_layer(source: DataSource, kind: str) -> LoadedLayer | None:
    """Layer ``kind`` of ``source`` read (:func:`read_layer_file`); ``barriers`` is every
    barrier file (roads, water, railways…) as one frame, or the first refused; None when the
    source has no such layer."""
    if kind != "barriers":
        return read_layer_file(source, kind)
    files = source.barrier_layers
    if not files:
        return None
    read = [read_layer_file(source, barrier) for barrier, _ in files]
    refused = [layer for layer in read if layer is not None and not layer.ok]
    if refused:
        return refused[0]
    if len(read) == 1:
        return read[0]
    frames = [layer.frame for layer in read if layer is not None]
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    warnings = tuple(p for layer in read if layer is not None for p in layer.warnings)
    label = ", ".join(ref.label for _, ref in files)
    return LoadedLayer("barriers", label, frame=merged, warnings=warnings)


def propose_layers(source: DataSource) -> dict[str, object]:
    """The 街道, barrier, compound and footprint files of ``source`` as
    :func:`planning.run_propose` takes them (``subdistricts_path``, ``barriers_path``,
    ``compounds_path``, ``buildings_path``: :class:`geo.layers.LayerFile` each in its CRS,
    with its part and, for a barrier file, its kind), and how to read the households
    (``reading``: the sheet or layer chosen)."""

    def layer_file(kind: str, file: FileRef) -> LayerFile:
        return LayerFile(
            file.path,
            crs=crs_of(source, kind),
            kind=BARRIER_LAYERS.get(kind),
            part=source.part_of(kind),
        )

    def single(kind: str) -> LayerFile | None:
        file = source.layer(kind)
        return file and layer_file(kind, file)

    households = LayerFile(source.households.path, part=source.households_part)
    return {
        "subdistricts_path": single("streets"),
        "barriers_path": [layer_file(kind, file) for kind, file in source.barrier_layers],
        "compounds_path": single("compounds"),
        "buildings_path": single("buildings"),
        "reading": households.part_options(tables=True),
    }
