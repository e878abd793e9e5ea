"""The other input layers: sub-districts, barrier lines, facilities, existing communities.

Each reader takes any format :func:`geo.tables.read_table` reads (spatial formats only: these
layers are geometries), a declared CRS, and returns a GeoDataFrame in WGS84 with the columns
the rest of the tool expects. Invalid geometries are repaired with a warning; geometries of the
wrong type are refused with every offending feature named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.columns import cell_text, resolve_columns
from geo.crs import SourceCRS, geometry_to_wgs84, parse_crs
from geo.errors import CRSError, InputFormatError, Problem, ValidationReport
from geo.tables import read_table

__all__ = [
    "BARRIER_ALIASES",
    "COMMUNITY_ALIASES",
    "FACILITY_ALIASES",
    "SUBDISTRICT_ALIASES",
    "Layer",
    "feature_rows",
    "read_barriers",
    "read_communities",
    "read_facilities",
    "read_spatial_frame",
    "read_subdistricts",
    "wgs84_layer",
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
        "floor_area_m2", "floor_area", "area_m2", "建筑面积", "用房面积", "面积", "面积m2",
    ),
    "serves": ("serves", "服务社区", "共享社区"),
}
COMMUNITY_ALIASES = {
    "community_id": ("community_id", "社区代码", "代码", "code", "id", "社区编码", "编码"),
    "name": ("name", "社区名称", "名称", "社区"),
    "street": ("street", "街道", "所属街道"),
}

_RIVER_WORDS = ("river", "stream", "canal", "water", "waterway", "河流", "河道", "江河", "水系", "渠")
_RAIL_WORDS = ("rail", "railway", "铁路", "轨道", "地铁")


@dataclass(frozen=True)
class Layer:
    """A layer read into WGS84, with the warnings met on the way."""

    frame: gpd.GeoDataFrame
    report: ValidationReport
    source_crs: SourceCRS


def read_spatial_frame(
    path: str | Path, crs: str | int, what: str, label: str | None
) -> tuple[gpd.GeoDataFrame, SourceCRS, str]:
    """Read a spatial file as it is, after checking it states no CRS other than the declared.

    Parameters
    ----------
    path : str | Path
        Any spatial file :func:`geo.tables.read_table` reads.
    crs : str | int
        The declared CRS (anything :func:`geo.crs.parse_crs` accepts).
    what : str
        What the layer holds, for messages ("barriers").
    label : str | None
        How messages name the file (default: its name).

    Returns
    -------
    (frame, source_crs, label)
        The features in the file's coordinates, the declared CRS, the file's label.

    Raises
    ------
    InputFormatError
        When the file is a table without geometries.
    CRSError
        When the file states a CRS other than the declared one.
    """
    source_crs = parse_crs(crs)
    frame, source = read_table(path, label=label)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputFormatError(
            f"{source.label}: {what} must be a spatial file. expected: GeoJSON, GeoPackage, "
            "Shapefile (zipped) or GeoParquet; found: a table without geometries. fix: export "
            "the layer from your GIS in one of these formats."
        )
    if frame.crs is not None:
        epsg = frame.crs.to_epsg()
        declared = source_crs.crs.to_epsg()
        geographic_ok = source_crs.is_geographic and epsg in (4326, 4490)
        if not geographic_ok and epsg != declared:
            raise CRSError(
                f"{source.label}: the file says its coordinates are in EPSG:{epsg} but they were "
                f"declared as {source_crs.label}. expected: the declared CRS to match the "
                "file's; fix: declare the file's CRS for this layer (e.g. --streets-crs)."
            )
    return frame, source_crs, source.label


def _geometry_problems(
    frame: gpd.GeoDataFrame, allowed: tuple[str, ...], what: str, label: str
) -> tuple[np.ndarray, list[Problem]]:
    """Repair invalid geometries (warning) and refuse wrong types (error)."""
    problems: list[Problem] = []
    rows = np.arange(len(frame)) + 1
    geometry = np.array(frame.geometry.array, dtype=object)
    empty = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    if empty.any():
        problems.append(
            Problem(
                "error", label, f"{what} without a geometry",
                expected="a geometry for every feature", found="null or empty geometries",
                fix="delete these features or draw them", rows=feature_rows(rows[empty]),
            )
        )
    present = ~empty
    invalid = present & ~shapely.is_valid(geometry)
    if invalid.any():
        reasons = shapely.is_valid_reason(geometry[invalid])
        geometry[invalid] = shapely.make_valid(geometry[invalid], method="structure")
        problems.append(
            Problem(
                "warning", label, f"invalid {what} geometries were repaired",
                expected="valid geometries", found="; ".join(sorted(set(reasons))[:3]),
                fix="check the repaired shapes in QGIS if precision matters",
                rows=feature_rows(rows[invalid]),
            )
        )
    kinds = np.where(present, shapely.get_type_id(geometry), -1)
    names = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
             5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    kind_names = np.array([names.get(int(k), "") for k in kinds], dtype=object)
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
            Problem(
                "error", label, f"{what} of the wrong geometry type",
                expected=" or ".join(allowed), found=", ".join(sorted(set(kind_names[wrong]))),
                fix=f"export only the {what} layer", rows=feature_rows(rows[wrong]),
            )
        )
    return geometry, problems


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
    frame = gpd.GeoDataFrame(data, geometry=geometry_to_wgs84(series, source_crs).array,
                             crs="EPSG:4326")
    return Layer(frame, report, source_crs)


def _text_column(frame: pd.DataFrame, column: str | None, default: list) -> list:
    return default if column is None else cell_text(frame[column])


def read_subdistricts(
    path: str | Path, *, crs: str | int, columns: Mapping[str, str] | None = None,
    label: str | None = None,
) -> Layer:
    """Sub-district (街道) polygons with names; overlaps between them are refused."""
    frame, source_crs, label = read_spatial_frame(path, crs, "sub-districts (街道)", label)
    roles, problems = resolve_columns(frame.columns.drop(frame.geometry.name), SUBDISTRICT_ALIASES,
                                      explicit=columns, label=label)
    geometry, geom_problems = _geometry_problems(
        frame, ("Polygon", "MultiPolygon"), "sub-district polygons", label
    )
    problems += geom_problems
    names = _text_column(frame, roles.get("name"), [None] * len(frame))
    unnamed = [i + 1 for i, n in enumerate(names) if n is None]
    if unnamed:
        problems.append(
            Problem(
                "warning", label, "sub-districts without a name were numbered",
                expected="a 街道 name per polygon (column name / 街道 / 名称)",
                found="empty names", fix="add names so reports can say which 街道",
                column=roles.get("name"), rows=tuple(unnamed),
            )
        )
        names = [n if n is not None else f"街道{i + 1}" for i, n in enumerate(names)]
    duplicates = pd.Series(names)[pd.Series(names).duplicated()].unique().tolist()
    if duplicates:
        problems.append(
            Problem(
                "error", label, "two sub-districts share a name",
                expected="one polygon (or multipolygon) per 街道 name",
                found=", ".join(duplicates), fix="merge the parts into one feature or rename",
                column=roles.get("name"),
            )
        )
    ok = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if ok.sum() > 1 and not any(p.is_error for p in problems):
        overlaps = _overlapping_pairs(geometry, names)
        if overlaps:
            problems.append(
                Problem(
                    "error", label, "sub-districts overlap",
                    expected="街道 polygons that do not overlap (they may touch)",
                    found="; ".join(overlaps[:3]) + (" …" if len(overlaps) > 3 else ""),
                    fix="snap the shared boundaries in QGIS (Vector › Geometry tools › "
                    "Check validity / Topology checker)",
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
    text = " ".join(v for v in (kind, extra.get("waterway"), extra.get("railway"),
                                extra.get("natural")) if v).lower()
    if extra.get("railway") or any(w in text for w in _RAIL_WORDS):
        return "railway"
    river_exact = kind is not None and kind.strip() in ("河", "江", "水", "湖", "水域")
    if extra.get("waterway") or extra.get("natural") or river_exact or \
            any(w in text for w in _RIVER_WORDS):
        return "river"
    return "road"


def read_barriers(
    path: str | Path, *, crs: str | int, columns: Mapping[str, str] | None = None,
    label: str | None = None,
) -> Layer:
    """Barrier lines: roads (with a class), rivers, railways.

    Water or river polygons are accepted and turned into their outlines; OpenStreetMap
    exports work as they are (``highway``, ``waterway``, ``railway`` tags).
    """
    frame, source_crs, label = read_spatial_frame(path, crs, "barriers", label)
    roles, problems = resolve_columns(frame.columns.drop(frame.geometry.name), BARRIER_ALIASES,
                                      explicit=columns, label=label)
    geometry, geom_problems = _geometry_problems(
        frame, ("LineString", "MultiLineString", "Polygon", "MultiPolygon"), "barrier", label
    )
    problems += geom_problems
    areas = np.isin(shapely.get_type_id(geometry), [3, 6])
    if areas.any():
        geometry[areas] = shapely.boundary(geometry[areas])
    n = len(frame)
    kinds = _text_column(frame, roles.get("kind"), [None] * n)
    classes = _text_column(frame, roles.get("road_class"), [None] * n)
    extras = {k: _text_column(frame, roles.get(k), [None] * n)
              for k in ("waterway", "railway", "natural")}
    resolved = [
        _barrier_kind(kinds[i], classes[i], {k: extras[k][i] for k in extras}) for i in range(n)
    ]
    road_class = [c if r == "road" else None for c, r in zip(classes, resolved, strict=True)]
    names = _text_column(frame, roles.get("name"), [None] * n)
    return wgs84_layer(
        {"kind": resolved, "road_class": road_class, "name": names}, geometry, source_crs,
        problems,
    )


def read_facilities(
    path: str | Path, *, crs: str | int, columns: Mapping[str, str] | None = None,
    label: str | None = None, require_area: bool = True,
) -> Layer:
    """Facilities as points or polygons with floor area (m²) and a type.

    With ``require_area`` (the standards check) a missing, non-numeric or negative floor area
    is an error; without it (distances only) missing areas become NaN with a warning.
    """
    frame, source_crs, label = read_spatial_frame(path, crs, "facilities", label)
    roles, problems = resolve_columns(frame.columns.drop(frame.geometry.name), FACILITY_ALIASES,
                                      explicit=columns, label=label)
    geometry, geom_problems = _geometry_problems(
        frame, ("Point", "Polygon", "MultiPolygon"), "facility", label
    )
    problems += geom_problems
    n = len(frame)
    rows = np.arange(n) + 1
    severity = "error" if require_area else "warning"
    if "floor_area_m2" not in roles:
        problems.append(
            Problem(
                severity, label, "no floor area column",
                expected="a column floor_area_m2 / 建筑面积 / 用房面积 in m²",
                found=f"columns {', '.join(map(str, frame.columns))}",
                fix="add the floor area of each facility, or map the column explicitly",
            )
        )
        area = np.full(n, np.nan)
    else:
        column = roles["floor_area_m2"]
        raw = frame[column]
        area = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(area)
        if missing.any():
            problems.append(
                Problem(
                    severity, label, "floor area missing or not a number",
                    expected="floor area in m² (a number)",
                    found=", ".join(repr(v) for v in raw[missing].head(3).tolist()),
                    fix="fill in the floor area", column=column, rows=feature_rows(rows[missing]),
                )
            )
        negative = ~missing & (area < 0)
        if negative.any():
            problems.append(
                Problem(
                    "error", label, "floor area is negative", expected="0 or more m²",
                    found=", ".join(f"{v:g}" for v in area[negative][:3]),
                    fix="correct the floor areas", column=column, rows=feature_rows(rows[negative]),
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
    path: str | Path, *, crs: str | int, columns: Mapping[str, str] | None = None,
    label: str | None = None,
) -> Layer:
    """Existing community polygons with ids (kept as text, e.g. 12-digit codes) and names."""
    frame, source_crs, label = read_spatial_frame(path, crs, "communities", label)
    roles, problems = resolve_columns(frame.columns.drop(frame.geometry.name), COMMUNITY_ALIASES,
                                      explicit=columns, label=label)
    geometry, geom_problems = _geometry_problems(
        frame, ("Polygon", "MultiPolygon"), "community polygons", label
    )
    problems += geom_problems
    n = len(frame)
    if "community_id" not in roles:
        problems.append(
            Problem(
                "warning", label, "no community id column; communities were numbered C001…",
                expected="a column community_id / 社区代码", found="none",
                fix="add the 12-digit community codes so exports keep them",
            )
        )
    ids = _text_column(frame, roles.get("community_id"), [f"C{i + 1:03d}" for i in range(n)])
    missing = [i + 1 for i, v in enumerate(ids) if v is None]
    if missing:
        problems.append(
            Problem(
                "error", label, "community id missing", expected="an id on every community",
                found="empty cells", fix="fill in the ids", column=roles.get("community_id"),
                rows=tuple(missing),
            )
        )
    seen = pd.Series(ids).dropna()
    duplicated = seen[seen.duplicated()].unique().tolist()
    if duplicated:
        problems.append(
            Problem(
                "error", label, "community ids repeat", expected="a unique id per community",
                found=", ".join(duplicated[:5]), fix="merge the parts or renumber",
                column=roles.get("community_id"),
            )
        )
    names = _text_column(frame, roles.get("name"), [None] * n)
    names = [nm if nm is not None else cid for nm, cid in zip(names, ids, strict=True)]
    data = {"community_id": ids, "name": names}
    if "street" in roles:
        data["street"] = _text_column(frame, roles["street"], [None] * n)
    return wgs84_layer(data, geometry, source_crs, problems)
