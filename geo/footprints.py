"""Building footprints: read the polygons, match them to the buildings that hold households.

A footprint file (GeoJSON, GeoPackage, Shapefile, GeoParquet …) is read like the other layers
(:mod:`geo.layers`): in any declared CRS, into WGS84. Each building of the household table
(a point) is then matched to one footprint, by id where the two files share ids, else by the
footprint that contains the point (the smallest, where footprints overlap), else by the nearest
footprint within a few metres. Footprints that hold no household are kept and flagged: they are
buildings all the same. Everything that cannot be matched is counted in a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.columns import cell_text, resolve_columns
from geo.errors import CRSError, GeometryError, Problem, ValidationReport
from geo.layers import (
    Layer,
    collection_parts,
    feature_rows,
    read_spatial_frame,
    wgs84_layer,
    without_heights,
)
from geo.records import GeoMessage

__all__ = [
    "FOOTPRINT_ALIASES",
    "NEAREST_DISTANCE_M",
    "FootprintMatch",
    "footprints_crossed",
    "match_footprints",
    "read_footprints",
]

FOOTPRINT_ALIASES = {
    "footprint_id": ("building_id", "楼栋编号", "楼栋", "id", "fid", "osm_id", "src_id"),
}

#: A building point on no footprint takes the nearest one within this distance.
NEAREST_DISTANCE_M = 5.0

_POLYGONAL = ("Polygon", "MultiPolygon")
#: How many ids a message quotes before it only counts the rest.
_IDS_SHOWN = 5


# ---------------------------------------------------------------------------------------------
# Reading


def read_footprints(
    path: str | Path,
    *,
    crs: str | int,
    id_column: str | None = None,
    label: str | None = None,
    layer: str | None = None,
) -> Layer:
    """Read building footprint polygons into WGS84.

    Parameters
    ----------
    path : str | Path
        Any spatial file :func:`geo.tables.read_table` reads.
    crs : str | int
        The declared CRS of the file (anything :func:`geo.crs.parse_crs` accepts). A file that
        states another CRS is refused.
    id_column : str | None, keyword-only
        The column holding building ids; by default the first of
        :data:`FOOTPRINT_ALIASES` the file has.
    label : str | None, keyword-only
        How messages name the file (default: its name).
    layer : str | None, keyword-only
        The layer of a GeoPackage (or Shapefile of a zip) to read, when it holds several.

    Returns
    -------
    Layer
        ``frame`` (EPSG:4326), one row per footprint kept: ``footprint_id`` (text: the file's
        id, else the feature number from 1), ``id_from_file`` (bool: False where the id is a
        feature number, which never matches a household's building id) and a 2-D Polygon or
        MultiPolygon geometry. ``report`` holds the warnings: repaired polygons, dropped empty
        or collapsed features, missing or repeated ids.

    Raises
    ------
    ValidationError
        With every problem found: points or lines among the footprints (each feature named), an
        id column that the file lacks, no footprint left at all.
    InputFormatError, CRSError
        When the file cannot be read as a spatial layer, or states a CRS other than ``crs``.
    """
    frame, source_crs, label = read_spatial_frame(
        path,
        crs,
        GeoMessage.of("layers.what.footprints"),
        label,
        crs_option="--buildings-crs",
        layer=layer,
    )
    explicit = None if id_column is None else {"footprint_id": id_column}
    roles, problems = resolve_columns(
        frame.columns.drop(frame.geometry.name),
        FOOTPRINT_ALIASES,
        explicit=explicit,
        label=label,
    )
    numbers = np.arange(len(frame)) + 1
    geometry, keep, geometry_problems = _footprint_geometry(frame, numbers, label)
    problems += geometry_problems
    ids, from_file, id_problems = _footprint_ids(frame, roles.get("footprint_id"), keep, label)
    problems += id_problems
    if not keep.any() and not any(p.is_error for p in problems):
        problems.append(
            Problem.of("error", label, GeoMessage.of("footprints.none_left", count=len(frame)))
        )
    data = {"footprint_id": ids[keep].tolist(), "id_from_file": from_file[keep]}
    read = wgs84_layer(data, geometry[keep], source_crs, problems)
    return Layer(read.frame.reset_index(drop=True), read.report, read.source_crs)


def _footprint_geometry(
    frame: gpd.GeoDataFrame, numbers: np.ndarray, label: str
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """2-D polygons, invalid ones repaired; which to keep; the problems met.

    Heights are dropped with a warning; a geometry collection keeps its polygons (a warning
    names it where other parts go); empty features and polygons that collapse to nothing on
    repair are dropped with a warning; any other geometry type is an error naming every
    feature.
    """
    problems: list[Problem] = []
    what = GeoMessage.of("layers.what.footprints")
    geometry = without_heights(
        np.array(frame.geometry.array, dtype=object),
        numbers,
        what=what,
        label=label,
        problems=problems,
    )
    empty = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    geometry = collection_parts(
        geometry, ~empty, _POLYGONAL, rows=numbers, what=what, label=label, problems=problems
    )
    if empty.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("footprints.without_geometry", count=int(empty.sum())),
                rows=feature_rows(numbers[empty]),
            )
        )
    kinds = np.array([g.geom_type if g is not None else "" for g in geometry], dtype=object)
    wrong = ~empty & ~np.isin(kinds, _POLYGONAL)
    if wrong.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("footprints.not_polygons", kinds=tuple(sorted(set(kinds[wrong])))),
                rows=feature_rows(numbers[wrong]),
            )
        )
    polygons = ~empty & ~wrong
    invalid = polygons & ~shapely.is_valid(geometry)
    collapsed = np.zeros(len(geometry), dtype=bool)
    if invalid.any():
        reasons = shapely.is_valid_reason(geometry[invalid])
        geometry[invalid] = shapely.make_valid(
            geometry[invalid], method="structure", keep_collapsed=False
        )
        collapsed[invalid] = shapely.is_empty(geometry[invalid])
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "footprints.repaired",
                    count=int(invalid.sum()),
                    reasons="; ".join(sorted(set(reasons))[:3]),
                ),
                rows=feature_rows(numbers[invalid]),
            )
        )
    if collapsed.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("footprints.without_area", count=int(collapsed.sum())),
                rows=feature_rows(numbers[collapsed]),
            )
        )
    return geometry, polygons & ~collapsed, problems


def _footprint_ids(
    frame: gpd.GeoDataFrame, column: str | None, keep: np.ndarray, label: str
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """The id of every feature (the feature number where the file has none) and its origin."""
    numbers = np.arange(len(frame)) + 1
    fallback = np.array([str(n) for n in numbers], dtype=object)
    if column is None:
        return fallback, np.zeros(len(frame), dtype=bool), []
    problems: list[Problem] = []
    text = np.array(cell_text(frame[column]), dtype=object)
    from_file = np.array([v is not None for v in text], dtype=bool)
    missing = keep & ~from_file
    if missing.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("footprints.without_id", count=int(missing.sum())),
                column=column,
                rows=feature_rows(numbers[missing]),
            )
        )
    named = pd.Series(text[keep & from_file])
    repeated = named[named.duplicated(keep=False)]
    if len(repeated):
        ids = repeated.unique().tolist()
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "footprints.id_repeats",
                    ids=len(ids),
                    footprints=len(repeated),
                    listed=_quoted(ids),
                ),
                column=column,
            )
        )
    return np.where(from_file, text, fallback), from_file, problems


def _quoted(values: list) -> GeoMessage:
    """The first :data:`_IDS_SHOWN` of ``values`` and how many more there are."""
    shown = ", ".join(str(v) for v in values[:_IDS_SHOWN])
    rest = len(values) - _IDS_SHOWN
    more = GeoMessage.of("footprints.word.more", n=rest) if rest > 0 else ""
    return GeoMessage.of("footprints.word.listed", shown=shown, more=more)


# ---------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, eq=False)
class FootprintMatch:
    """Which footprint each building stands in.

    Attributes
    ----------
    footprint_of_building : numpy.ndarray
        int64, one per building (in the order of the buildings table): the index of its
        footprint in ``geometry``, -1 where none.
    matched_by : numpy.ndarray
        object, one per building: "id", "containment" (the footprint holds the point, or is the
        nearest within ``max_distance_m``), or "" where unmatched.
    distance_m : numpy.ndarray
        float, one per building: metres from the point to its footprint (0 inside), NaN where
        unmatched.
    footprint_id : numpy.ndarray
        object, one per footprint: its id (text).
    geometry : numpy.ndarray
        object, one per footprint: the shapely Polygon or MultiPolygon in ``metric_crs``.
        Every footprint is here, with or without households.
    has_households : numpy.ndarray
        bool, one per footprint: False for footprints no building was matched to (still
        buildings a border must not cross).
    metric_crs : pyproj.CRS
        The CRS of ``geometry`` and ``distance_m``.
    report : ValidationReport
        Warnings: buildings left without a footprint, ids that matched only partly, points in
        overlapping footprints, id matches far from their point, footprints without households.
    """

    footprint_of_building: np.ndarray
    matched_by: np.ndarray
    distance_m: np.ndarray
    footprint_id: np.ndarray
    geometry: np.ndarray
    has_households: np.ndarray
    metric_crs: pyproj.CRS
    report: ValidationReport

    @property
    def buildings_matched(self) -> int:
        """Buildings matched to a footprint."""
        return int((self.footprint_of_building >= 0).sum())

    @property
    def buildings_unmatched(self) -> int:
        """Buildings without a footprint."""
        return int((self.footprint_of_building < 0).sum())

    @property
    def buildings_by_id(self) -> int:
        """Buildings matched by id."""
        return int((self.matched_by == "id").sum())

    @property
    def buildings_by_containment(self) -> int:
        """Buildings matched by position (inside, or the nearest footprint near enough)."""
        return int((self.matched_by == "containment").sum())

    @property
    def footprints_without_households(self) -> int:
        """Footprints no building was matched to (kept)."""
        return int((~self.has_households).sum())

    @property
    def method(self) -> str:
        """How the buildings were matched: "id", "containment", "id+containment" or "none"."""
        used = [m for m in ("id", "containment") if (self.matched_by == m).any()]
        return "+".join(used) or "none"


def match_footprints(
    buildings: gpd.GeoDataFrame,
    footprints: gpd.GeoDataFrame,
    *,
    metric_crs: pyproj.CRS | str | int,
    max_distance_m: float = NEAREST_DISTANCE_M,
    label: str = "building footprints",
) -> FootprintMatch:
    """Match each building (a point) to the footprint it stands in.

    A building whose ``building_id`` is the ``footprint_id`` of a footprint read from the file
    (``id_from_file``) takes that footprint; where several footprints share the id, the one
    nearest its point (the smallest, on a tie). Every other building takes the smallest
    footprint that covers its point, else the nearest footprint within ``max_distance_m``, else
    none. A footprint may hold several buildings.

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        Points in EPSG:4326 with a text column ``building_id``, one row per building
        (:attr:`geo.intake.Households.buildings`); results follow its row order.
    footprints : geopandas.GeoDataFrame
        Polygons in EPSG:4326 with ``footprint_id`` (the ``frame`` of :func:`read_footprints`);
        without an ``id_from_file`` column every id counts as the file's.
    metric_crs : pyproj.CRS | str | int, keyword-only
        The dataset's metric CRS (:func:`geo.crs.metric_crs_for`); distances are in its metres.
    max_distance_m : float, keyword-only
        How far a point on no footprint may lie from the footprint it takes.
    label : str, keyword-only
        How messages name the footprint file.

    Returns
    -------
    FootprintMatch
        Arrays per building and per footprint (every footprint, in the order of
        ``footprints``), with a report of warnings. The arguments are not changed.

    Raises
    ------
    CRSError
        When either frame is not in EPSG:4326.
    GeometryError
        When a column the match needs is missing, or the buildings are not points.
    """
    _check_inputs(buildings, footprints, label)
    metric_crs = pyproj.CRS.from_user_input(metric_crs)
    points = np.asarray(buildings.geometry.to_crs(metric_crs).array, dtype=object)
    geometry = np.asarray(footprints.geometry.to_crs(metric_crs).array, dtype=object)
    building_ids = np.array(cell_text(buildings["building_id"]), dtype=object)
    footprint_ids = np.array(cell_text(footprints["footprint_id"]), dtype=object)
    from_file = (
        footprints["id_from_file"].to_numpy(dtype=bool)
        if "id_from_file" in footprints
        else np.ones(len(footprints), dtype=bool)
    )

    file_ids = footprint_ids.copy()
    file_ids[~from_file] = None
    chosen, matched_by, distance_m, overlapping, near = _match_points(
        points,
        geometry,
        building_ids=building_ids,
        footprint_ids=file_ids,
        max_distance_m=max_distance_m,
    )
    has_households = np.zeros(len(geometry), dtype=bool)
    has_households[chosen[chosen >= 0]] = True
    report = ValidationReport(
        tuple(
            _match_problems(
                chosen=chosen,
                matched_by=matched_by,
                distance_m=distance_m,
                building_ids=building_ids,
                has_households=has_households,
                overlapping=overlapping,
                near=near,
                has_file_ids=bool(from_file.any()),
                max_distance_m=max_distance_m,
                label=label,
            )
        )
    )
    for array in (chosen, matched_by, distance_m, footprint_ids, geometry, has_households):
        array.flags.writeable = False
    return FootprintMatch(
        footprint_of_building=chosen,
        matched_by=matched_by,
        distance_m=distance_m,
        footprint_id=footprint_ids,
        geometry=geometry,
        has_households=has_households,
        metric_crs=metric_crs,
        report=report,
    )


def _match_points(
    points: np.ndarray,
    geometry: np.ndarray,
    *,
    building_ids: np.ndarray,
    footprint_ids: np.ndarray,
    max_distance_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """(footprint of each point or -1, how it was matched, its distance, how many points
    several footprints cover, how many took the nearest): by id, else by containment, else
    the nearest within ``max_distance_m``. ``footprint_ids`` is None where a footprint has no
    id of its own."""
    area_m2 = shapely.area(geometry)
    n = len(points)
    chosen = np.full(n, -1, dtype=np.int64)
    distance_m = np.full(n, np.nan)
    matched_by = np.full(n, "", dtype=object)

    by_id, by_id_footprint = _match_by_id(building_ids, footprint_ids, points, geometry, area_m2)
    chosen[by_id] = by_id_footprint
    distance_m[by_id] = shapely.distance(points[by_id], geometry[by_id_footprint])
    matched_by[by_id] = "id"

    rest = np.flatnonzero(chosen < 0)
    tree = shapely.STRtree(geometry)
    inside, inside_footprint, overlapping = _match_by_containment(rest, points, tree, area_m2)
    chosen[inside] = inside_footprint
    distance_m[inside] = 0.0
    matched_by[inside] = "containment"

    rest = np.flatnonzero(chosen < 0)
    near, near_footprint, near_distance_m = _match_nearest(
        rest, points, tree, area_m2, max_distance_m
    )
    chosen[near] = near_footprint
    distance_m[near] = near_distance_m
    matched_by[near] = "containment"
    return chosen, matched_by, distance_m, overlapping, len(near)


def _check_inputs(buildings: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame, label: str) -> None:
    for frame, what, column in (
        (buildings, "buildings", "building_id"),
        (footprints, label, "footprint_id"),
    ):
        columns = list(getattr(frame, "columns", []))
        if not isinstance(frame, gpd.GeoDataFrame) or column not in columns:
            raise GeometryError(
                f"{what}: expected a GeoDataFrame with a column '{column}'; found "
                f"{type(frame).__name__} with columns {', '.join(map(str, columns))}. "
                "fix: pass Households.buildings and the frame of read_footprints."
            )
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            raise CRSError(
                f"{what}: expected coordinates in WGS84 (EPSG:4326); found "
                f"{frame.crs.to_string() if frame.crs is not None else 'no CRS'}. "
                "fix: read the layer with its declared CRS (it is converted to WGS84 on reading)."
            )
    kinds = set(buildings.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        raise GeometryError(
            f"buildings: expected one Point per building; found {', '.join(sorted(kinds))}. "
            "fix: pass Households.buildings."
        )


def _match_by_id(
    building_ids: np.ndarray,
    footprint_ids: np.ndarray,
    points: np.ndarray,
    geometry: np.ndarray,
    area_m2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Buildings whose id names a footprint, and that footprint (nearest, then smallest, of
    several sharing the id). ``footprint_ids`` is None where a footprint has no id of its own."""
    left = pd.DataFrame({"id": building_ids, "building": np.arange(len(building_ids))})
    right = pd.DataFrame({"id": footprint_ids, "footprint": np.arange(len(footprint_ids))})
    pairs = left.dropna().merge(right.dropna(), on="id")
    if pairs.empty:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    b = pairs["building"].to_numpy(dtype=np.int64)
    f = pairs["footprint"].to_numpy(dtype=np.int64)
    best = _closest_per_building(b, f, shapely.distance(points[b], geometry[f]), area_m2)
    return b[best], f[best]


def _match_by_containment(
    candidates: np.ndarray, points: np.ndarray, tree: shapely.STRtree, area_m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Buildings (of ``candidates``) whose point a footprint covers, the smallest such
    footprint, and how many points several footprints cover."""
    hit, f = tree.query(points[candidates], predicate="intersects")
    b = candidates[hit]
    overlapping = int((np.bincount(hit, minlength=len(candidates)) > 1).sum())
    best = _closest_per_building(b, f, np.zeros(len(b)), area_m2)
    return b[best], f[best], overlapping


def _match_nearest(
    candidates: np.ndarray,
    points: np.ndarray,
    tree: shapely.STRtree,
    area_m2: np.ndarray,
    max_distance_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buildings (of ``candidates``) with a footprint within ``max_distance_m``, the nearest
    (the smallest, on a tie), and the distance."""
    if len(candidates) == 0 or max_distance_m <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    (hit, f), distance_m = tree.query_nearest(
        points[candidates], max_distance=max_distance_m, return_distance=True, all_matches=True
    )
    b = candidates[hit]
    best = _closest_per_building(b, f, distance_m, area_m2)
    return b[best], f[best], distance_m[best]


def _closest_per_building(
    b: np.ndarray, f: np.ndarray, distance_m: np.ndarray, area_m2: np.ndarray
) -> np.ndarray:
    """Of (building ``b``, footprint ``f``) pairs, the positions of each building's nearest
    footprint: the smallest of equally near ones, then the first; buildings ascending."""
    if len(b) == 0:
        return np.empty(0, dtype=np.int64)
    order = np.lexsort((f, area_m2[f], distance_m, b))
    first = np.unique(b[order], return_index=True)[1]
    return order[first]


def _match_problems(
    *,
    chosen: np.ndarray,
    matched_by: np.ndarray,
    distance_m: np.ndarray,
    building_ids: np.ndarray,
    has_households: np.ndarray,
    overlapping: int,
    near: int,
    has_file_ids: bool,
    max_distance_m: float,
    label: str,
) -> list[Problem]:
    """The warnings of a match: everything left out or decided by a rule is counted."""
    return _building_problems(
        chosen=chosen,
        matched_by=matched_by,
        distance_m=distance_m,
        building_ids=building_ids,
        has_file_ids=has_file_ids,
        max_distance_m=max_distance_m,
        label=label,
    ) + _position_problems(
        has_households=has_households,
        overlapping=overlapping,
        near=near,
        max_distance_m=max_distance_m,
        label=label,
    )


def _building_problems(
    *,
    chosen: np.ndarray,
    matched_by: np.ndarray,
    distance_m: np.ndarray,
    building_ids: np.ndarray,
    has_file_ids: bool,
    max_distance_m: float,
    label: str,
) -> list[Problem]:
    """The warnings about buildings: left without a footprint, ids that matched partly or not
    at all, id matches far from their point."""
    n = len(chosen)
    problems: list[Problem] = []
    by_id = int((matched_by == "id").sum())
    by_position = int((matched_by == "containment").sum())
    unmatched = chosen < 0
    if unmatched.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "footprints.unmatched",
                    count=int(unmatched.sum()),
                    total=n,
                    max_m=max_distance_m,
                    listed=_quoted(building_ids[unmatched].tolist()),
                ),
            )
        )
    if has_file_ids and by_id and by_position:
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "footprints.ids_partly",
                    by_id=by_id,
                    total=n,
                    by_position=by_position,
                    lacking=n - by_id,
                ),
            )
        )
    elif has_file_ids and not by_id and n:
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "footprints.ids_none", listed=_quoted(building_ids[:_IDS_SHOWN].tolist())
                ),
            )
        )
    far = (matched_by == "id") & (distance_m > max_distance_m)
    if far.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "footprints.far_by_id",
                    count=int(far.sum()),
                    max_m=max_distance_m,
                    far_m=float(distance_m[far].max()),
                    listed=_quoted(building_ids[far].tolist()),
                ),
            )
        )
    return problems


def _position_problems(
    *, has_households: np.ndarray, overlapping: int, near: int, max_distance_m: float, label: str
) -> list[Problem]:
    """The warnings about matches by position: points in overlapping footprints or beside
    one, and footprints that hold no household."""
    problems: list[Problem] = []
    if overlapping:
        problems.append(
            Problem.of("warning", label, GeoMessage.of("footprints.overlapping", count=overlapping))
        )
    if near:
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("footprints.beside", count=near, max_m=max_distance_m),
            )
        )
    empty = ~has_households
    if empty.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("footprints.empty", count=int(empty.sum()), total=len(empty)),
            )
        )
    return problems


# --------------------------------------------------------------------------------------------
# footprints a border runs through

#: Overlaps smaller than this (m²) are rounding, not a border through a building.
OVERLAP_EPS_M2 = 0.05


def _overlaps(polygons: np.ndarray, footprints: np.ndarray) -> tuple[np.ndarray, ...]:
    """(footprint, polygon, overlap area) for every pair that overlaps more than noise."""
    tree = shapely.STRtree(polygons)
    f_idx, p_idx = tree.query(footprints, predicate="intersects")
    area = shapely.area(shapely.intersection(footprints[f_idx], polygons[p_idx]))
    keep = area > OVERLAP_EPS_M2
    return f_idx[keep], p_idx[keep], area[keep]


#: A border crosses a footprint when the footprint's part beyond it is at least this many m²
#: and this share of the footprint (less is the rounding of cells drawn round its outline).
CROSSED_MIN_M2 = 1.0
CROSSED_MIN_SHARE = 0.02


def footprints_crossed(polygons: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """Indices of the footprints a border runs through: lying in two or more polygons, with
    more than :data:`CROSSED_MIN_M2` and :data:`CROSSED_MIN_SHARE` of them outside the
    polygon holding most."""
    polygons = np.asarray(polygons, dtype=object)
    footprints = np.asarray(footprints, dtype=object)
    if not len(footprints) or not len(polygons):
        return np.zeros(0, dtype=np.int64)
    f_idx, _, area = _overlaps(polygons, footprints)
    total = np.bincount(f_idx, weights=area, minlength=len(footprints))
    largest = np.zeros(len(footprints))
    np.maximum.at(largest, f_idx, area)
    beyond = total - largest
    return np.flatnonzero(
        (beyond >= CROSSED_MIN_M2) & (beyond >= CROSSED_MIN_SHARE * shapely.area(footprints))
    )
