"""Building footprints kept whole: where a border between two polygons of a coverage runs
through a footprint, the footprint goes wholly to the polygon of the building standing in it
(or, for a footprint without households, to the polygon holding most of it).

Borders are drawn between building points (cells, then straightened): a big footprint whose
point stands near one side can reach across. A planner never draws a border through a
building, so after the borders are drawn each footprint they cross is carved out of the
polygons it reaches into and added to its own; a sliver it cuts off a neighbour (a part with
none of that neighbour's buildings) goes along with it. Results are snapped to a millimetre
grid so the polygons stay a coverage.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["CarveResult", "footprints_crossed", "keep_footprints_whole"]

#: Overlaps smaller than this (m²) are rounding, not a border through a building.
OVERLAP_EPS_M2 = 0.05
#: Precision grid of carved polygons (metres).
CARVE_GRID_M = 1e-3


class CarveResult:
    """The polygons after carving, and the footprints still crossed (a carve that would
    have left a polygon without one of its buildings, or in pieces, is not made)."""

    def __init__(self, polygons: np.ndarray, carved: int, still_crossed: np.ndarray):
        self.polygons = polygons
        self.carved = carved
        self.still_crossed = still_crossed


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
    return np.flatnonzero((beyond >= CROSSED_MIN_M2)
                          & (beyond >= CROSSED_MIN_SHARE * shapely.area(footprints)))


def keep_footprints_whole(
    polygons: np.ndarray,
    footprints: np.ndarray,
    footprint_owner: np.ndarray,
    *,
    points: np.ndarray,
    point_owner: np.ndarray,
) -> CarveResult:
    """Carve every crossed footprint out of its neighbours into its owner's polygon.

    Parameters
    ----------
    polygons
        A coverage (metres).
    footprints
        Building footprints (metres).
    footprint_owner
        Index into ``polygons`` of each footprint's building, -1 for none (then the polygon
        holding most of it).
    points, point_owner
        Buildings and the index of their polygon: a carve that would leave one outside its
        polygon is not made.
    """
    polys = np.asarray(polygons, dtype=object).copy()
    footprints = np.asarray(footprints, dtype=object)
    if not len(footprints) or len(polys) < 2:
        return CarveResult(polys, 0, np.zeros(0, dtype=np.int64))
    f_idx, p_idx, area = _overlaps(polys, footprints)
    counts = np.bincount(f_idx, minlength=len(footprints))
    crossed = np.flatnonzero(counts > 1)
    if not len(crossed):
        return CarveResult(polys, 0, crossed)
    owner = np.asarray(footprint_owner, dtype=np.int64).copy()
    # a footprint without a building of the coverage goes where most of it lies
    order = np.lexsort((-area, f_idx))
    first = np.ones(len(order), dtype=bool)
    first[1:] = f_idx[order][1:] != f_idx[order][:-1]
    most = np.full(len(footprints), -1, dtype=np.int64)
    most[f_idx[order][first]] = p_idx[order][first]
    owner = np.where((owner >= 0) & (owner < len(polys)), owner, most)
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = shapely.points(xy)
    point_owner = np.asarray(point_owner, dtype=np.int64)
    carved, failed = 0, []
    for f in crossed.tolist():
        mine = int(owner[f])
        others = p_idx[f_idx == f]
        others = others[others != mine]
        # only what lies in these polygons: a footprint may reach out of the area
        try:
            new = _carve(polys, footprints[f], mine, others)
            new = _hand_over_slivers(new, mine, xy, point_owner)
        except shapely.errors.GEOSException:
            new = None  # a degenerate overlay: leave this footprint as it is
        if new is None or not _holds_its_points(new, pts, point_owner):
            failed.append(f)
            continue
        for k, geom in new.items():
            polys[k] = geom
        carved += 1
    if carved:
        polys = _as_coverage(polys, np.asarray(polygons, dtype=object))
    return CarveResult(polys, carved, np.asarray(failed, dtype=np.int64))


def _as_coverage(polys: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The carved polygons made an exact coverage again: their borders noded together and
    polygonized, each face given to the polygon it lies in (most of it), so neighbours
    share every edge (the carves were computed one by one on a millimetre grid)."""
    lines = shapely.union_all(shapely.boundary(polys), grid_size=CARVE_GRID_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[shapely.area(faces) > 0]
    tree = shapely.STRtree(polys)
    f_idx, p_idx = tree.query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[f_idx], polys[p_idx]))
    order = np.lexsort((-overlap, f_idx))
    first = np.ones(len(order), dtype=bool)
    first[1:] = f_idx[order][1:] != f_idx[order][:-1]
    owner = np.full(len(faces), -1, dtype=np.int64)
    owner[f_idx[order][first]] = p_idx[order][first]
    out = polys.copy()
    for k in range(len(polys)):
        mine = faces[owner == k]
        if not len(mine):
            return before.copy()
        merged = shapely.coverage_union_all(mine) if len(mine) > 1 else mine[0]
        if shapely.get_num_geometries(merged) != 1:
            return before.copy()
        out[k] = merged
    return out


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(parts, grid_size=CARVE_GRID_M) if len(parts) else \
        shapely.Polygon()


def _carve(polys: np.ndarray, footprint: shapely.Geometry, mine: int,
           others: np.ndarray) -> dict:
    """The polygons ``mine`` and ``others`` with the footprint (as far as it lies in the
    others) moved into ``mine``."""
    shape = _polygonal(shapely.intersection(footprint, shapely.union_all(polys[others]),
                                            grid_size=CARVE_GRID_M))
    new = {mine: _polygonal(shapely.union(polys[mine], shape, grid_size=CARVE_GRID_M))}
    for o in others.tolist():
        new[o] = _polygonal(shapely.difference(polys[o], shape, grid_size=CARVE_GRID_M))
    return new


def _hand_over_slivers(new: dict, mine: int, xy: np.ndarray,
                       point_owner: np.ndarray) -> dict | None:
    """Parts a carve cut off a neighbour without any of its buildings go to ``mine``;
    None if a polygon is left empty or in pieces that hold buildings."""
    for k in list(new):
        if k == mine:
            continue
        parts = shapely.get_parts(new[k])
        parts = parts[shapely.area(parts) > 0]
        if not len(parts):
            return None
        if len(parts) == 1:
            new[k] = parts[0]
            continue
        held = np.array([shapely.contains_xy(p, xy[point_owner == k, 0],
                                             xy[point_owner == k, 1]).any() for p in parts])
        if held.sum() != 1:
            return None
        new[k] = parts[held][0]
        new[mine] = shapely.union_all([new[mine], *parts[~held]], grid_size=CARVE_GRID_M)
    if shapely.get_num_geometries(new[mine]) != 1:
        return None
    return new


def _holds_its_points(new: dict, pts: np.ndarray, point_owner: np.ndarray) -> bool:
    for k, geom in new.items():
        mine = point_owner == k
        if mine.any() and not shapely.covers(geom, pts[mine]).all():
            return False
    return bool(shapely.is_valid(np.array(list(new.values()), dtype=object)).all())
