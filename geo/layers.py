"""The other input layers: sub-districts, barrier lines, facilities, existing communities.

Each reader takes any format :func:`geo.tables.read_table` reads (spatial formats only: these
layers are geometries), a declared CRS, and returns a GeoDataFrame in WGS84 with the columns
the rest of the tool expects. Invalid geometries are repaired with a warning; geometries of the
wrong type are refused with every offending feature named.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geo.columns import cell_text, resolve_columns
from geo.crs import SourceCRS, geometry_to_wgs84, parse_crs
from geo.errors import CRSError, InputFormatError, Problem, ValidationError, ValidationReport
from geo.intake import HOUSEHOLD_ALIASES
from geo.records import GeoMessage
from geo.tables import TableSource, read_table

__all__ = [
    "BARRIER_ALIASES",
    "BARRIER_KINDS",
    "COMMUNITY_ALIASES",
    "COMPOUND_ALIASES",
    "COORDINATE_ALIASES",
    "FACILITY_ALIASES",
    "SUBDISTRICT_ALIASES",
    "Layer",
    "LayerFile",
    "collection_parts",
    "feature_rows",
    "read_barriers",
    "read_communities",
    "read_compounds",
    "read_facilities",
    "read_point_frame",
    "read_spatial_frame",
    "read_subdistricts",
    "stated_crs",
    "wgs84_layer",
    "without_heights",
]

SUBDISTRICT_ALIASES = {"name": ("name", "名称", "街道", "街道名称", "street", "乡镇街道", "jd")}
BARRIER_ALIASES = {
    "kind": ("kind", "barrier", "类型", "type"),
    "road_class": ("road_class", "class", "fclass", "highway", "道路等级", "等级"),
    "name": ("name", "名称", "道路名称"),
    "waterway": ("waterway",),
    "railway": ("railway",),
    "natural": ("natural", "water"),
}
FACILITY_ALIASES = {
    "facility_id": ("facility_id", "id", "编号", "设施编号"),
    "name": ("name", "名称", "设施名称"),
    "type": ("type", "类型", "设施类型", "amenity", "category"),
    "floor_area_m2": (
        "floor_area_m2",
        "floor_area",
        "area_m2",
        "建筑面积",
        "用房面积",
        "面积",
        "面积m2",
    ),
    "serves": ("serves", "服务社区", "共享社区"),
}
COMMUNITY_ALIASES = {
    "community_id": ("community_id", "社区代码", "代码", "code", "id", "社区编码", "编码"),
    "name": ("name", "社区名称", "名称", "社区"),
    "street": ("street", "街道", "所属街道"),
}
#: Where a compound (小区) polygon's name is read from, in order.
COMPOUND_ALIASES = {"name": ("name", "名称", "小区名称", "小区")}

_RIVER_WORDS = (
    "river",
    "stream",
    "canal",
    "water",
    "waterway",
    "河流",
    "河道",
    "江河",
    "水系",
    "渠",
)
_RAIL_WORDS = ("rail", "railway", "铁路", "轨道", "地铁")
#: What a barrier file may hold as a whole (``kind=`` of :func:`read_barriers`).
BARRIER_KINDS = ("road", "river", "railway")


@dataclass(frozen=True)
class Layer:
    """A layer read into WGS84, with the warnings met on the way."""

    frame: gpd.GeoDataFrame
    report: ValidationReport
    source_crs: SourceCRS


@dataclass(frozen=True)
class LayerFile:
    """One layer file as the planner gave it, with how to read it.

    ``crs`` is the file's own CRS (None: the CRS the caller reads its layers in), ``kind`` —
    for a barrier file — what the whole file holds (one of :data:`BARRIER_KINDS`; None: read
    from its columns), ``part`` the sheet of a workbook or the layer of a GeoPackage (or
    Shapefile of a zip) to read when the file holds several.
    """

    path: str | Path
    crs: str | int | None = None
    kind: str | None = None
    part: str | None = None

    def part_options(self, *, tables: bool = False) -> dict[str, str]:
        """``sheet=`` (a workbook, for a reader of tables) or ``layer=`` for the reader; none
        without a part, or for a workbook given to a reader of shapes only (it refuses the
        table, saying why)."""
        if self.part is None:
            return {}
        if Path(self.path).suffix.lower() in (".xlsx", ".xlsm"):
            return {"sheet": self.part} if tables else {}
        return {"layer": self.part}


def stated_crs(path: str | Path, *, layer: str | None = None) -> str | None:
    """The CRS a spatial file states (a Shapefile's .prj, a GeoPackage's or GeoParquet's CRS, a
    GeoJSON ``crs`` member) as ``"EPSG:code"``, when it is a projected CRS; None for a table,
    a file stating none, or lon/lat (EPSG:4326 or 4490: a statement that cannot tell WGS84
    from GCJ-02 or BD-09, which only the planner knows) and for a file that cannot be read
    (its reader then says why).
    """
    try:
        crs = _file_crs(Path(path), layer)
    except (OSError, ValueError, zipfile.BadZipFile, pyproj.exceptions.CRSError):
        return None
    except (pyarrow.ArrowException, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return None
    if crs is None or crs.is_geographic:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else None


def _file_crs(path: Path, layer: str | None) -> pyproj.CRS | None:
    """The CRS ``path`` states (None: none, a table, or a file of several layers none of which
    is named); raises what its reader raises."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        return _parquet_crs(path)
    if suffix not in (".geojson", ".json", ".gpkg", ".shp", ".zip"):
        return None
    target = str(path)
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.lower().endswith(".shp")]
        chosen = [n for n in members if layer in (None, Path(n).stem, n)]
        if len(chosen) != 1:
            return None
        target, layer = f"zip://{path.resolve()}!{chosen[0]}", None
    elif suffix == ".gpkg" and layer is None:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
        if len(names) != 1:
            return None  # which layer is meant is not known yet
        layer = names[0]
    text = pyogrio.read_info(target, layer=layer)["crs"]
    return pyproj.CRS.from_user_input(text) if text else None


def _parquet_crs(path: Path) -> pyproj.CRS | None:
    """The CRS of a GeoParquet file's primary geometry column, from its ``geo`` metadata."""
    metadata = pq.read_schema(path).metadata or {}
    geo = json.loads(metadata.get(b"geo", b"{}"))
    column = geo.get("columns", {}).get(geo.get("primary_column"), {})
    if "crs" not in column:
        return pyproj.CRS.from_epsg(4326) if column else None  # GeoParquet: absent is OGC:CRS84
    return pyproj.CRS.from_user_input(column["crs"]) if column["crs"] else None


def read_spatial_frame(
    path: str | Path,
    crs: str | int,
    what: GeoMessage,
    label: str | None,
    *,
    crs_option: str = "--crs",
    layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, SourceCRS, str]:
    """Read a layer as it is, after checking it states no CRS other than the declared.

    Parameters
    ----------
    path : str | Path
        Any file :func:`geo.tables.read_table` reads.
    crs : str | int
        The declared CRS (anything :func:`geo.crs.parse_crs` accepts).
    what : str
        What the layer holds, for messages ("barriers").
    label : str | None
        How messages name the file (default: its name).
    crs_option : str, keyword-only
        The command-line option that declares this layer's CRS, for advice.
    layer : str | None, keyword-only
        The layer of a GeoPackage (or Shapefile of a zip) to read, when it holds several.

    Returns
    -------
    (frame, source_crs, label)
        The features in the file's coordinates, the declared CRS, the file's label. A CRS the
        file states with a height (EPSG:4979, a compound CRS) counts as its 2-D part: the
        heights are dropped with the Z coordinates (see the readers).

    Raises
    ------
    InputFormatError
        When the file is a table without geometries.
    CRSError
        When the file states a CRS other than the declared one.
    """
    frame, source_crs, label, _ = read_point_frame(
        path, crs, what, label, crs_option=crs_option, tables=False, layer=layer
    )
    return frame, source_crs, label


def read_point_frame(
    path: str | Path,
    crs: str | int,
    what: GeoMessage,
    label: str | None,
    *,
    crs_option: str = "--crs",
    tables: bool = True,
    sheet: str | None = None,
    layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, SourceCRS, str, list[Problem]]:
    """:func:`read_spatial_frame` for a layer that may also be points given as a table (CSV,
    Excel) with longitude and latitude columns (经度/纬度, lon/lat, x/y), read in the declared
    CRS; the other columns are kept. ``sheet`` names the sheet of a workbook, ``layer`` the
    layer of a GeoPackage (or Shapefile of a zip), when the file holds several.

    Returns
    -------
    (frame, source_crs, label, problems)
        As :func:`read_spatial_frame`, with the warnings met reading a table's coordinates.

    Raises
    ------
    ValidationError
        When a table has no coordinate columns, or coordinates that are missing, not numbers
        or (declared as lon/lat) out of range: every row named.
    InputFormatError, CRSError
        As :func:`read_spatial_frame` (a table only when ``tables`` is False).
    """
    source_crs = parse_crs(crs)
    frame, source = read_table(path, label=label, sheet=sheet, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame):
        if not tables:
            raise InputFormatError(
                GeoMessage.of("layers.errors.not_spatial", file=source.label, what=what)
            )
        points, problems = _points_from_table(frame, source, source_crs)
        points.attrs["row_numbers"] = source.row_numbers(len(points))  # as the file counts them
        return points, source_crs, source.label, problems
    if frame.crs is not None:
        stated = (
            frame.crs.to_2d() if frame.crs.is_geographic or frame.crs.is_compound else frame.crs
        )
        epsg = stated.to_epsg()
        declared = source_crs.crs.to_epsg()
        geographic_ok = source_crs.is_geographic and epsg in (4326, 4490)
        if not geographic_ok and epsg != declared:
            raise CRSError(
                GeoMessage.of(
                    "layers.errors.file_crs_differs",
                    file=source.label,
                    epsg=epsg,
                    crs=source_crs.label,
                    option=crs_option,
                )
            )
    return frame, source_crs, source.label, []


#: Column names a table's point coordinates are read from (as the households' are).
COORDINATE_ALIASES = {"lon": HOUSEHOLD_ALIASES["lon"], "lat": HOUSEHOLD_ALIASES["lat"]}


def _points_from_table(
    frame: pd.DataFrame, source: TableSource, source_crs: SourceCRS
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """A table's rows as points from its longitude and latitude columns (no CRS set: the
    caller declares it), the other columns kept; and the warnings met."""
    roles, problems = resolve_columns(frame.columns, COORDINATE_ALIASES, label=source.label)
    if "lon" not in roles or "lat" not in roles:
        problems.append(
            Problem.of(
                "error",
                source.label,
                GeoMessage.of(
                    "layers.no_coordinate_columns", columns=tuple(map(str, frame.columns))
                ),
            )
        )
        raise ValidationError(problems)
    numbers = np.array(source.row_numbers(len(frame)))
    xy = []
    for role in ("lon", "lat"):
        column = roles[role]
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        bad = ~np.isfinite(values)
        if bad.any():
            problems.append(
                Problem.of(
                    "error",
                    source.label,
                    GeoMessage.of(
                        "layers.coordinate_bad",
                        role=role,
                        values=", ".join(repr(v) for v in frame[column][bad].head(3).tolist()),
                    ),
                    column=column,
                    rows=feature_rows(numbers[bad]),
                )
            )
        limit = 180 if role == "lon" else 90
        outside = ~bad & (np.abs(values) > limit) & source_crs.is_geographic
        if outside.any():
            problems.append(
                Problem.of(
                    "error",
                    source.label,
                    GeoMessage.of(
                        "layers.coordinate_out_of_range",
                        role=role,
                        crs=source_crs.label,
                        limit=limit,
                        values=", ".join(f"{v:g}" for v in values[outside][:3]),
                    ),
                    column=column,
                    rows=feature_rows(numbers[outside]),
                )
            )
        xy.append(values)
    ValidationReport(tuple(problems)).raise_if_errors()
    points = gpd.GeoDataFrame(
        frame.drop(columns=[roles["lon"], roles["lat"]]), geometry=gpd.points_from_xy(*xy)
    )
    return points, problems


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _geometry_problems(
    frame: gpd.GeoDataFrame, allowed: tuple[str, ...], what: GeoMessage, label: str
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """The features' 2-D geometries, which to keep, and every problem met.

    Z coordinates are dropped (warning); empty features are refused; zero-length lines are
    dropped (warning); a GeometryCollection keeps its parts of the allowed family (warning
    when others go); invalid geometries are repaired (warning); other types are refused.
    """
    rows = np.arange(len(frame)) + 1
    geometry = np.array(frame.geometry.array, dtype=object)
    problems: list[Problem] = []
    geometry = without_heights(geometry, rows, what=what, label=label, problems=problems)
    empty = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    if empty.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("layers.geometry_missing", what=what),
                rows=feature_rows(rows[empty]),
            )
        )
    keep = np.ones(len(geometry), dtype=bool)
    if "LineString" in allowed:
        geometry, keep = _without_degenerate_lines(geometry, rows, what, label, problems)
    present = ~empty & keep
    geometry = collection_parts(
        geometry, present, allowed, rows=rows, what=what, label=label, problems=problems
    )
    _repair_invalid(geometry, present, what=what, rows=rows, label=label, problems=problems)
    kinds = np.where(present, shapely.get_type_id(geometry), -1)
    kind_names = np.array([_TYPE_NAMES.get(int(k), "") for k in kinds], dtype=object)
    # make_valid may return collections; keep their parts of the allowed family
    collection = present & (kind_names == "GeometryCollection")
    if collection.any() and "Polygon" in allowed:
        geometry[collection] = [
            shapely.union_all(
                [g for g in shapely.get_parts(c) if g.geom_type in ("Polygon", "MultiPolygon")]
            )
            for c in geometry[collection]
        ]
        kind_names[collection] = [g.geom_type for g in geometry[collection]]
    wrong = present & ~np.isin(kind_names, allowed)
    if wrong.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "layers.geometry_kind",
                    what=what,
                    types=_types_word(allowed),
                    kinds=tuple(sorted(set(kind_names[wrong]))),
                ),
                rows=feature_rows(rows[wrong]),
            )
        )
    return geometry, keep, problems


def without_heights(
    geometry: np.ndarray,
    rows: np.ndarray,
    *,
    what: GeoMessage,
    label: str,
    problems: list[Problem],
) -> np.ndarray:
    """The geometries in 2-D, and a warning (appended to ``problems``) naming by ``rows`` the
    features that had heights; ``geometry`` is not changed."""
    has_z = np.asarray(shapely.has_z(geometry), dtype=bool)
    if not has_z.any():
        return geometry
    problems.append(
        Problem.of(
            "warning",
            label,
            GeoMessage.of("layers.geometry_z", what=what),
            rows=feature_rows(rows[has_z]),
        )
    )
    return np.asarray(shapely.force_2d(geometry), dtype=object)


def _without_degenerate_lines(
    geometry: np.ndarray,
    rows: np.ndarray,
    what: GeoMessage,
    label: str,
    problems: list[Problem],
) -> tuple[np.ndarray, np.ndarray]:
    """The geometries without their zero-length lines, and which features keep a geometry
    (a feature that was only such lines is dropped); a warning naming the features."""
    out = geometry.copy()
    keep = np.ones(len(out), dtype=bool)
    lines = np.isin(shapely.get_type_id(out), (1, 2, 5))
    touched = []
    for i in np.flatnonzero(lines):
        parts = shapely.get_parts(out[i])
        kept = [p for p in parts if shapely.length(p) > 0 and shapely.get_num_points(p) > 1]
        if len(kept) == len(parts):
            continue
        touched.append(i)
        if not kept:
            keep[i] = False
        else:
            out[i] = kept[0] if len(kept) == 1 else shapely.MultiLineString(kept)
    if touched:
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "layers.zero_length_lines",
                    count=len(touched),
                    what=what,
                    dropped=int((~keep).sum()),
                ),
                rows=feature_rows(rows[touched]),
            )
        )
    return out, keep


def collection_parts(
    geometry: np.ndarray,
    present: np.ndarray,
    allowed: tuple[str, ...],
    *,
    rows: np.ndarray,
    what: GeoMessage,
    label: str,
    problems: list[Problem],
) -> np.ndarray:
    """Each GeometryCollection (where ``present``) as its parts of the family ``allowed``
    names (polygons for areas; lines, and the outlines of polygons, for barriers; a polygon or
    one point for facilities), and a warning (appended to ``problems``) naming by ``rows`` the
    features whose other parts were dropped; ``geometry`` is not changed. A collection with
    no part of the family is left as it is (the caller refuses its type)."""
    out = geometry.copy()
    collection = present & (shapely.get_type_id(out) == 7)
    dropped = []
    for i in np.flatnonzero(collection):
        kept, lost = _family_of(_flat_parts(out[i]), allowed)
        if kept is None:
            continue
        out[i] = kept
        if lost:
            dropped.append(i)
    if dropped:
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "layers.collection_parts",
                    what=what,
                    family=_family_word(allowed),
                    types=_types_word(allowed),
                ),
                rows=feature_rows(rows[dropped]),
            )
        )
    return out


def _family_word(allowed: tuple[str, ...]) -> GeoMessage:
    """The parts of a geometry collection a layer of ``allowed`` types keeps, as a word."""
    if "LineString" in allowed:
        return GeoMessage.of("layers.family.lines")
    if "Point" not in allowed:
        return GeoMessage.of("layers.family.polygons")
    return GeoMessage.of("layers.family.polygons_or_point")


#: The geometry types a layer allows -> their word ("Polygon or MultiPolygon").
_TYPES_WORDS = {
    ("Polygon", "MultiPolygon"): "polygons",
    ("LineString", "MultiLineString", "Polygon", "MultiPolygon"): "barriers",
    ("Point", "Polygon", "MultiPolygon"): "facilities",
}


def _types_word(allowed: tuple[str, ...]) -> GeoMessage:
    """The geometry types ``allowed`` as a problem names them."""
    return GeoMessage.of(f"layers.types.{_TYPES_WORDS[allowed]}")


def _flat_parts(geometry) -> list:
    """The single points, lines and polygons of a geometry, collections opened all the way."""
    parts = list(shapely.get_parts(geometry))
    flat = []
    while parts:
        part = parts.pop(0)
        if shapely.get_type_id(part) in (4, 5, 6, 7):
            parts.extend(shapely.get_parts(part))
        elif not part.is_empty:
            flat.append(part)
    return flat


def _family_of(parts: list, allowed: tuple[str, ...]) -> tuple[object | None, bool]:
    """(the geometry of ``parts`` the layer keeps or None, whether any part was dropped)."""
    polygons = [p for p in parts if p.geom_type == "Polygon"]
    lines = [p for p in parts if p.geom_type in ("LineString", "LinearRing")]
    points = [p for p in parts if p.geom_type == "Point"]
    if "LineString" in allowed:
        lines += [line for p in polygons for line in _flat_parts(p.boundary)]
        kept = lines[0] if len(lines) == 1 else shapely.MultiLineString(lines) if lines else None
        return kept, bool(points)
    if polygons and "Polygon" in allowed:
        return shapely.union_all(polygons), bool(lines or points)
    if len(points) == 1 and "Point" in allowed:
        return points[0], bool(lines)
    return None, False


def _repair_invalid(
    geometry: np.ndarray,
    present: np.ndarray,
    *,
    what: GeoMessage,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> None:
    """Repair the invalid geometries of ``geometry`` in place (a warning naming them)."""
    invalid = present & ~shapely.is_valid(geometry)
    if not invalid.any():
        return
    reasons = shapely.is_valid_reason(geometry[invalid])
    geometry[invalid] = shapely.make_valid(geometry[invalid], method="structure")
    problems.append(
        Problem.of(
            "warning",
            label,
            GeoMessage.of(
                "layers.repaired", what=what, reasons="; ".join(sorted(set(reasons))[:3])
            ),
            rows=feature_rows(rows[invalid]),
        )
    )


def feature_rows(numbers: np.ndarray) -> tuple[int, ...]:
    """Feature numbers as plain ints (a Problem's rows go to JSON as they are)."""
    return tuple(int(r) for r in numbers)


def wgs84_layer(
    data: dict, geometry: np.ndarray, source_crs: SourceCRS, problems: list[Problem]
) -> Layer:
    """The layer of the attribute columns ``data`` and ``geometry`` (in ``source_crs``),
    converted to WGS84, with ``problems`` as its report.

    Raises
    ------
    ValidationError
        When ``problems`` holds an error.
    """
    report = ValidationReport(tuple(problems))
    report.raise_if_errors()
    series = gpd.GeoSeries(geometry, crs=source_crs.crs)
    frame = gpd.GeoDataFrame(
        data, geometry=geometry_to_wgs84(series, source_crs).array, crs="EPSG:4326"
    )
    return Layer(frame, report, source_crs)


def _text_column(frame: pd.DataFrame, column: str | None, default: list) -> list:
    return default if column is None else cell_text(frame[column])


def read_subdistricts(
    path: str | Path,
    *,
    crs: str | int,
    columns: Mapping[str, str] | None = None,
    label: str | None = None,
    layer: str | None = None,
) -> Layer:
    """Sub-district (街道) polygons with names; overlaps between them are refused."""
    frame, source_crs, label = read_spatial_frame(
        path,
        crs,
        GeoMessage.of("layers.what.subdistricts"),
        label,
        crs_option="--streets-crs",
        layer=layer,
    )
    roles, problems = resolve_columns(
        frame.columns.drop(frame.geometry.name), SUBDISTRICT_ALIASES, explicit=columns, label=label
    )
    geometry, _, geom_problems = _geometry_problems(
        frame, ("Polygon", "MultiPolygon"), GeoMessage.of("layers.what.subdistrict_polygons"), label
    )
    problems += geom_problems
    names = _text_column(frame, roles.get("name"), [None] * len(frame))
    unnamed = [i + 1 for i, n in enumerate(names) if n is None]
    if unnamed:
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("layers.subdistrict_unnamed"),
                column=roles.get("name"),
                rows=tuple(unnamed),
            )
        )
        names = [n if n is not None else f"街道{i + 1}" for i, n in enumerate(names)]
    duplicates = pd.Series(names)[pd.Series(names).duplicated()].unique().tolist()
    if duplicates:
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("layers.subdistrict_name_twice", names=tuple(map(str, duplicates))),
                column=roles.get("name"),
            )
        )
    ok = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if ok.sum() > 1 and not any(p.is_error for p in problems):
        overlaps = _overlapping_pairs(geometry, names)
        if overlaps:
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of(
                        "layers.subdistricts_overlap",
                        pairs="; ".join(overlaps[:3]),
                        more=" …" if len(overlaps) > 3 else "",
                    ),
                    column=roles.get("name"),
                )
            )
    return wgs84_layer({"name": names}, geometry, source_crs, problems)


def _overlapping_pairs(geometry: np.ndarray, names: list[str]) -> list[str]:
    """Pairs overlapping by more than a sliver (0.01% of the smaller, in degrees² or m²)."""
    tree = shapely.STRtree(geometry)
    left, right = tree.query(geometry, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return []
    shared = shapely.area(shapely.intersection(geometry[left], geometry[right]))
    smaller = np.minimum(shapely.area(geometry[left]), shapely.area(geometry[right]))
    bad = shared > 1e-4 * smaller
    return [
        f"{names[i]} × {names[j]} ({100 * s / m:.2f}% of the smaller)"
        for i, j, s, m in zip(left[bad], right[bad], shared[bad], smaller[bad], strict=True)
    ]


def _barrier_kind(kind: str | None, road_class: str | None, extra: dict[str, str | None]) -> str:
    text = " ".join(
        v for v in (kind, extra.get("waterway"), extra.get("railway"), extra.get("natural")) if v
    ).lower()
    if extra.get("railway") or any(w in text for w in _RAIL_WORDS):
        return "railway"
    river_exact = kind is not None and kind.strip() in ("河", "江", "水", "湖", "水域")
    if (
        extra.get("waterway")
        or extra.get("natural")
        or river_exact
        or any(w in text for w in _RIVER_WORDS)
    ):
        return "river"
    return "road"


def read_barriers(
    path: str | Path,
    *,
    crs: str | int,
    columns: Mapping[str, str] | None = None,
    label: str | None = None,
    layer: str | None = None,
    kind: str | None = None,
) -> Layer:
    """Barrier lines: roads (with a class), rivers, railways.

    Water or river polygons are accepted and turned into their outlines; OpenStreetMap
    exports work as they are (``highway``, ``waterway``, ``railway`` tags). Each feature's
    kind is read from its columns, unless ``kind`` (one of :data:`BARRIER_KINDS`) says what
    the whole file holds (a file of roads, of rivers and lakes, of railways). ``layer`` names
    the layer of a GeoPackage (or Shapefile of a zip) holding several.

    Raises
    ------
    InputFormatError
        When ``kind`` is not one of :data:`BARRIER_KINDS`, or the file is a table.
    """
    if kind is not None and kind not in BARRIER_KINDS:
        raise InputFormatError(
            GeoMessage.of(
                "layers.errors.unknown_barrier_kind",
                file=label or Path(path).name,
                kind=kind,
                kinds=tuple(BARRIER_KINDS),
            )
        )
    frame, source_crs, label = read_spatial_frame(
        path,
        crs,
        GeoMessage.of("layers.what.barriers"),
        label,
        crs_option="--barriers-crs",
        layer=layer,
    )
    roles, problems = resolve_columns(
        frame.columns.drop(frame.geometry.name), BARRIER_ALIASES, explicit=columns, label=label
    )
    geometry, keep, geom_problems = _geometry_problems(
        frame,
        ("LineString", "MultiLineString", "Polygon", "MultiPolygon"),
        GeoMessage.of("layers.what.barrier"),
        label,
    )
    problems += geom_problems
    frame, geometry = frame[keep], geometry[keep]
    areas = np.isin(shapely.get_type_id(geometry), [3, 6])
    if areas.any():
        geometry[areas] = shapely.boundary(geometry[areas])
    n = len(frame)
    kinds = _text_column(frame, roles.get("kind"), [None] * n)
    classes = _text_column(frame, roles.get("road_class"), [None] * n)
    extras = {
        k: _text_column(frame, roles.get(k), [None] * n) for k in ("waterway", "railway", "natural")
    }
    resolved = (
        [kind] * n
        if kind is not None
        else [
            _barrier_kind(kinds[i], classes[i], {k: extras[k][i] for k in extras}) for i in range(n)
        ]
    )
    road_class = [c if r == "road" else None for c, r in zip(classes, resolved, strict=True)]
    names = _text_column(frame, roles.get("name"), [None] * n)
    return wgs84_layer(
        {"kind": resolved, "road_class": road_class, "name": names},
        geometry,
        source_crs,
        problems,
    )


def read_facilities(
    path: str | Path,
    *,
    crs: str | int,
    columns: Mapping[str, str] | None = None,
    label: str | None = None,
    require_area: bool = True,
    sheet: str | None = None,
    layer: str | None = None,
) -> Layer:
    """Facilities as points or polygons with floor area (m²) and a type.

    Besides the spatial formats, a table (CSV, Excel) with longitude and latitude columns
    (经度/纬度, lon/lat, x/y), as planners keep facility lists, is read as points in ``crs``.

    With ``require_area`` (the standards check) a missing, non-numeric or negative floor area
    is an error; without it (distances only) missing areas become NaN with a warning.
    ``sheet`` / ``layer`` name the sheet of a workbook or the layer of a GeoPackage holding
    several.
    """
    frame, source_crs, label, problems = read_point_frame(
        path,
        crs,
        GeoMessage.of("layers.what.facilities"),
        label,
        crs_option="--facilities-crs",
        sheet=sheet,
        layer=layer,
    )
    roles, role_problems = resolve_columns(
        frame.columns.drop(frame.geometry.name), FACILITY_ALIASES, explicit=columns, label=label
    )
    problems += role_problems
    geometry, _, geom_problems = _geometry_problems(
        frame, ("Point", "Polygon", "MultiPolygon"), GeoMessage.of("layers.what.facility"), label
    )
    problems += geom_problems
    n = len(frame)
    rows = np.asarray(frame.attrs.get("row_numbers", np.arange(n) + 1))
    severity = "error" if require_area else "warning"
    if "floor_area_m2" not in roles:
        problems.append(
            Problem.of(
                severity,
                label,
                GeoMessage.of(
                    "layers.no_floor_area_column", columns=tuple(map(str, frame.columns))
                ),
            )
        )
        area = np.full(n, np.nan)
    else:
        column = roles["floor_area_m2"]
        raw = frame[column]
        area = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(area)
        infinite = np.isinf(area)
        if infinite.any():
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of(
                        "layers.floor_area_infinite",
                        values=", ".join(repr(v) for v in raw[infinite].head(3).tolist()),
                    ),
                    column=column,
                    rows=feature_rows(rows[infinite]),
                )
            )
        if missing.any():
            problems.append(
                Problem.of(
                    severity,
                    label,
                    GeoMessage.of(
                        "layers.floor_area_missing",
                        values=", ".join(repr(v) for v in raw[missing].head(3).tolist()),
                    ),
                    column=column,
                    rows=feature_rows(rows[missing]),
                )
            )
        negative = ~missing & ~infinite & (area < 0)
        if negative.any():
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of(
                        "layers.floor_area_negative",
                        values=", ".join(f"{v:g}" for v in area[negative][:3]),
                    ),
                    column=column,
                    rows=feature_rows(rows[negative]),
                )
            )
    ids = _text_column(frame, roles.get("facility_id"), [f"F{i + 1:04d}" for i in range(n)])
    ids = [v if v is not None else f"F{i + 1:04d}" for i, v in enumerate(ids)]
    names = _text_column(frame, roles.get("name"), [None] * n)
    types = _text_column(frame, roles.get("type"), [None] * n)
    data = {"facility_id": ids, "name": names, "type": types, "floor_area_m2": area}
    if "serves" in roles:
        data["serves"] = _text_column(frame, roles["serves"], [None] * n)
    return wgs84_layer(data, geometry, source_crs, problems)


def read_communities(
    path: str | Path,
    *,
    crs: str | int,
    columns: Mapping[str, str] | None = None,
    label: str | None = None,
    layer: str | None = None,
) -> Layer:
    """Existing community polygons with ids (kept as text, e.g. 12-digit codes) and names."""
    frame, source_crs, label = read_spatial_frame(
        path, crs, GeoMessage.of("layers.what.communities"), label, layer=layer
    )
    roles, problems = resolve_columns(
        frame.columns.drop(frame.geometry.name), COMMUNITY_ALIASES, explicit=columns, label=label
    )
    geometry, _, geom_problems = _geometry_problems(
        frame, ("Polygon", "MultiPolygon"), GeoMessage.of("layers.what.community_polygons"), label
    )
    problems += geom_problems
    n = len(frame)
    if "community_id" not in roles:
        problems.append(
            Problem.of("warning", label, GeoMessage.of("layers.no_community_id_column"))
        )
    ids = _text_column(frame, roles.get("community_id"), [f"C{i + 1:03d}" for i in range(n)])
    missing = [i + 1 for i, v in enumerate(ids) if v is None]
    if missing:
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("layers.community_id_missing"),
                column=roles.get("community_id"),
                rows=tuple(missing),
            )
        )
    seen = pd.Series(ids).dropna()
    duplicated = seen[seen.duplicated()].unique().tolist()
    if duplicated:
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("layers.community_ids_repeat", ids=tuple(map(str, duplicated[:5]))),
                column=roles.get("community_id"),
            )
        )
    names = _text_column(frame, roles.get("name"), [None] * n)
    names = [nm if nm is not None else cid for nm, cid in zip(names, ids, strict=True)]
    data = {"community_id": ids, "name": names}
    if "street" in roles:
        data["street"] = _text_column(frame, roles["street"], [None] * n)
    return wgs84_layer(data, geometry, source_crs, problems)


def read_compounds(
    path: str | Path,
    *,
    crs: str | int,
    columns: Mapping[str, str] | None = None,
    label: str | None = None,
    layer: str | None = None,
) -> Layer:
    """Compound (小区) polygons with their names, read in the declared CRS like every layer.

    Parameters
    ----------
    path : str | Path
        Any spatial file :func:`geo.tables.read_table` reads. A table (CSV, Excel) is refused:
        it holds no polygons.
    crs : str | int, keyword-only
        The declared CRS of the file (anything :func:`geo.crs.parse_crs` accepts).
    columns : Mapping[str, str] | None, keyword-only
        ``{"name": column}`` where the name column is none of :data:`COMPOUND_ALIASES`.
    label : str | None, keyword-only
        How messages name the file (default: its name).

    Returns
    -------
    Layer
        ``frame`` (EPSG:4326): ``name`` (text, None where the polygon has none) and a Polygon
        or MultiPolygon per feature, in file order.

    Raises
    ------
    InputFormatError
        When the file is a table.
    CRSError
        When the file states a CRS other than ``crs``.
    ValidationError
        With every problem found (features without a geometry, points or lines among the
        polygons).
    """
    frame, source_crs, label = read_spatial_frame(
        path,
        crs,
        GeoMessage.of("layers.what.compounds"),
        label,
        crs_option="--compounds-crs",
        layer=layer,
    )
    roles, problems = resolve_columns(
        frame.columns.drop(frame.geometry.name), COMPOUND_ALIASES, explicit=columns, label=label
    )
    geometry, _, geom_problems = _geometry_problems(
        frame, ("Polygon", "MultiPolygon"), GeoMessage.of("layers.what.compound_polygons"), label
    )
    problems += geom_problems
    names = _text_column(frame, roles.get("name"), [None] * len(frame))
    return wgs84_layer({"name": names}, geometry, source_crs, problems)
