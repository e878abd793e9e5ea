"""Morphological opening of polygons: what a disc of a given width can sweep, and the necks it
reveals (parts joined only through something thinner)."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["necks", "opening", "opening_piece"]


def opening(polygons: np.ndarray, width_m: float) -> np.ndarray:
    """Each polygon eroded by half ``width_m`` and dilated back: the parts a disc of that
    width can reach; strips narrower than it vanish, so a polygon joined only through one
    falls into pieces."""
    half = width_m / 2.0
    return shapely.buffer(
        shapely.buffer(np.asarray(polygons, dtype=object), -half, quad_segs=4), half, quad_segs=4
    )


def opening_piece(opened: shapely.Geometry, xy: np.ndarray) -> np.ndarray:
    """The piece of an opened polygon (:func:`opening`) each point belongs to: the one it
    lies in, or the nearest (a point in a thin part itself belongs to the nearest piece)."""
    parts = shapely.get_parts(opened)
    if len(parts) <= 1:
        return np.zeros(len(xy), dtype=np.int64)
    tree = shapely.STRtree(parts)
    _, nearest = tree.query_nearest(shapely.points(xy), all_matches=False)
    return nearest.astype(np.int64)


def necks(
    polygons: np.ndarray, points: np.ndarray, owner: np.ndarray, *, width_m: float
) -> np.ndarray:
    """Per polygon: its points lie in two or more pieces of its opening, joined only
    through strips narrower than ``width_m``. A polygon too thin to have any piece has no
    neck (it is all strip)."""
    polys = np.asarray(polygons, dtype=object)
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    owner = np.asarray(owner, dtype=np.int64)
    out = np.zeros(len(polys), dtype=bool)
    opened = opening(polys, width_m)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(polys) + 1))
    for r in np.flatnonzero(shapely.get_num_geometries(opened) > 1):
        members = order[starts[r] : starts[r + 1]]
        if len(members) >= 2:
            out[r] = len(np.unique(opening_piece(opened[r], xy[members]))) > 1
    return out
