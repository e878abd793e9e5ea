"""Cached loaders: files on disk → validated households and layers, or the problems found.

Every cached function is keyed on hashable values only (a path, the file's SHA-256, the
declared CRS, the column mapping as a tuple): a changed file has a new digest and is read
again. A refused file is a result too (:class:`LoadedHouseholds` with ``problems``), so it is
cached like a good one and the page shows the same messages as the command line, never a
traceback.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyarrow
import pyarrow.parquet as pq
import pyogrio
import pyogrio.errors
import streamlit as st

from geo.errors import PlanningInputError, Problem, ValidationError
from geo.intake import Households, read_households
from geo.layers import read_barriers, read_communities, read_facilities, read_subdistricts
from ui.state import DataSource, FileRef

__all__ = [
    "LAYER_KINDS",
    "MAX_ROWS",
    "MAX_UPLOAD_MB",
    "SAMPLE_CRS",
    "UPLOAD_ROOT",
    "LoadedHouseholds",
    "LoadedLayer",
    "count_rows",
    "file_digest",
    "file_ref",
    "load_households",
    "load_layer",
    "read_layer",
    "rows_over_limit",
    "sample_files",
    "sample_source",
    "save_upload",
    "size_over_limit",
    "source_for_path",
]

#: Upload bounds. ``server.maxUploadSize`` in .streamlit/config.toml matches MAX_UPLOAD_MB.
MAX_UPLOAD_MB = 200
MAX_ROWS = 2_000_000
#: Every layer of the built-in sample is in GCJ-02.
SAMPLE_CRS = "gcj02"
LAYER_KINDS = ("streets", "barriers", "facilities", "communities")
_LAYER_READERS = {
    "streets": read_subdistricts,
    "barriers": read_barriers,
    "facilities": read_facilities,
    "communities": read_communities,
}
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


def count_rows(path: str | Path) -> int | None:
    """Data rows in a file, counted without reading it into a frame; None when unknown."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        newlines = 0
        last = b"\n"
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                newlines += block.count(b"\n")
                last = block[-1:]
        lines = newlines + (last != b"\n")
        return max(lines - 1, 0)
    if suffix in (".parquet", ".geoparquet"):
        try:
            return int(pq.read_metadata(path).num_rows)
        except (pyarrow.ArrowException, OSError):
            return None
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".zip"):
        try:
            count = pyogrio.read_info(path, force_feature_count=True)["features"]
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError):
            return None
        return int(count) if count is not None and count >= 0 else None
    return None  # XLSX: openpyxl reports no reliable row count before reading


def save_upload(name: str, data: bytes) -> FileRef:
    """Write an uploaded file to the server's temp dir under its digest; keep its name."""
    digest = hashlib.sha256(data).hexdigest()
    label = Path(name).name or "upload"
    folder = _UPLOAD_ROOT / digest[:24]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / label
    if not path.exists() or path.stat().st_size != len(data):
        path.write_bytes(data)
    return FileRef(str(path), digest, label)


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
    layers = tuple((kind, file_ref(files[kind])) for kind in LAYER_KINDS if kind in files)
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
) -> DataSource:
    """A source for files already on disk (what an upload becomes once saved)."""
    return DataSource(
        kind="upload",
        households=file_ref(path, label=label),
        crs=crs,
        columns=tuple(sorted((columns or {}).items())),
        layers=tuple((kind, file_ref(p)) for kind, p in (layers or {}).items()),
        layers_crs=layers_crs,
        title=label or Path(path).name,
    )


# ---------------------------------------------------------------------------------------------
# Reading


@st.cache_resource(show_spinner=False, max_entries=6)
def load_households(
    path: str,
    digest: str,
    crs: str,
    columns: tuple[tuple[str, str], ...] = (),
    *,
    label: str | None = None,
    max_rows: int = MAX_ROWS,
) -> LoadedHouseholds:
    """Read and validate a household file (``digest`` keys the cache; the file is at ``path``).

    Cached as a resource: the result is shared, never copied, and never mutated by the app.
    """
    label = label or Path(path).name
    too_many = rows_over_limit(label, count_rows(path), limit=max_rows)
    if too_many:
        return LoadedHouseholds(message=too_many)
    try:
        households = read_households(path, crs=crs, columns=dict(columns) or None, label=label)
    except ValidationError as exc:
        return LoadedHouseholds(problems=exc.problems)
    except PlanningInputError as exc:
        return LoadedHouseholds(message=str(exc))
    return LoadedHouseholds(households=households)


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
) -> LoadedLayer:
    """Read one optional layer (``kind`` in :data:`LAYER_KINDS`) into WGS84, its columns
    found by their names or given by ``columns`` (``(role, column)`` pairs)."""
    label = label or Path(path).name
    too_many = rows_over_limit(label, count_rows(path), limit=max_rows)
    if too_many:
        return LoadedLayer(kind, label, message=too_many)
    try:
        layer = _LAYER_READERS[kind](path, crs=crs, label=label, columns=dict(columns) or None)
    except ValidationError as exc:
        return LoadedLayer(kind, label, problems=exc.problems)
    except PlanningInputError as exc:
        return LoadedLayer(kind, label, message=str(exc))
    return LoadedLayer(kind, label, frame=layer.frame, warnings=layer.report.warnings)


def read_layer(source: DataSource, kind: str) -> LoadedLayer | None:
    """Layer ``kind`` of ``source`` read (cached by :func:`load_layer`) with the source's CRS
    of the layers and the layer's column mapping; None when the source has no such layer."""
    file = source.layer(kind)
    if file is None:
        return None
    return load_layer(
        kind,
        file.path,
        file.digest,
        source.layer_crs,
        label=file.label,
        columns=source.columns_of(kind),
    )
