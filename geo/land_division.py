"""Land without points divided among the faces around it, down the middle.

A road corridor between two carriageways, a road reserve, the loops of an interchange, a park
or a pond: faces of the linework that hold no point. Handing a strip whole to one neighbour
makes an arm (a 2 km strip on a block 100 m long) or, where points lie beyond it, a neck.
Instead every connected stretch of such faces (a *region*) is divided among the occupied faces it borders by distance: each
part of it goes to the nearest of them (a Voronoi diagram of their shared borders, sampled
every few metres), so a corridor is split along its middle, each block taking the part in
front of it. A face of it that is wider is open space (a park, a pond, an empty block): it
joins whole the occupied face it shares most border with, so borders keep to the roads
around it.

:func:`division_lines` returns the lines to add to the linework; after noding them with the
rest, :func:`land_owner` says which occupied face each new face belongs to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import KDTree, QhullError, Voronoi

__all__ = ["Division", "LandSamples", "division_lines", "land_owner"]

#: The shared borders are sampled this often (metres) for the Voronoi diagram of the land.
SAMPLE_STEP_M = 4.0
#: The division lines are simplified by this much (metres): the diagram of samples on two
#: facing borders zigzags by about half a step around the true middle.
SIMPLIFY_M = 2.0
#: Land as wide as this (metres, the diameter of the largest circle inside it) or wider is
#: open space (a park, a pond, an empty block), not a corridor: it joins whole the block it
#: shares most border with instead of being divided.
OPEN_SPACE_WIDTH_M = 80.0


def _is_open_space(area: shapely.Geometry) -> bool:
    """Whether land is wide open space rather than a strip (a corridor, a road reserve)."""
    circle = shapely.maximum_inscribed_circle(area, 1.0)
    return 2.0 * shapely.length(circle) >= OPEN_SPACE_WIDTH_M


class LandSamples:
    """Points on the borders between land and the occupied faces around it, each labelled
    with its occupied face, for :func:`land_owner`."""

    def __init__(self, xy: np.ndarray, face: np.ndarray):
        self.xy = xy
        self.face = face
        self._tree = KDTree(xy) if len(xy) else None

    def nearest_face(self, xy: np.ndarray) -> np.ndarray:
        if self._tree is None:
            return np.full(len(xy), -1, dtype=np.int64)
        _, idx = self._tree.query(xy)
        return self.face[idx]


def _face_pairs(faces: np.ndarray, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, shared line) of faces of one zone sharing a border of positive length."""
    tree = shapely.STRtree(faces)
    i, j = tree.query(faces, predicate="intersects")
    keep = (i < j) & (zone[i] == zone[j])
    i, j = i[keep], j[keep]
    shared = shapely.intersection(shapely.boundary(faces[i]), shapely.boundary(faces[j]))
    length = shapely.length(shared)
    keep = length > 0
    return i[keep], j[keep], shared[keep]


@dataclass(frozen=True)
class Division:
    """How the land is divided: the lines to node with the linework, the labelled border
    samples (for :func:`land_owner`), and per face the occupied face it joins whole (open
    space) or -1."""

    lines: np.ndarray
    samples: LandSamples
    whole: np.ndarray


def division_lines(
    faces: np.ndarray, zone: np.ndarray, occupied: np.ndarray, *, step_m: float = SAMPLE_STEP_M
) -> Division:
    """Divide every region of unoccupied faces among the occupied faces it borders.

    An unoccupied face that is open space (:data:`OPEN_SPACE_WIDTH_M` wide or more) and
    borders an occupied face joins whole the one it shares most border with; the rest of
    the region (corridors, reserves, the ramps of an interchange) is divided down the middle.

    Parameters
    ----------
    faces
        Polygons tiling an area (a coverage), metres.
    zone
        Zone of each face: land is only divided among faces of its own zone.
    occupied
        Whether each face holds a point.
    step_m
        Sampling step along the shared borders.
    """
    faces = np.asarray(faces, dtype=object)
    occupied = np.asarray(occupied, dtype=bool)
    whole = np.full(len(faces), -1, dtype=np.int64)
    empty_xy, empty_face, lines = [], [], []
    if occupied.all() or not occupied.any():
        return Division(
            np.array([], dtype=object), LandSamples(np.zeros((0, 2)), np.zeros(0, np.int64)), whole
        )
    i, j, shared = _face_pairs(faces, zone)
    both_empty = ~occupied[i] & ~occupied[j]
    n = len(faces)
    matrix = sparse.coo_array(
        (np.ones(int(both_empty.sum())), (i[both_empty], j[both_empty])), shape=(n, n)
    )
    _, region = connected_components(matrix, directed=False)
    region = np.where(occupied, -1, region)
    # borders between a region and an occupied face: (land face, occupied face, line)
    mixed = occupied[i] != occupied[j]
    land = np.where(occupied[i], j, i)[mixed]
    owner = np.where(occupied[i], i, j)[mixed]
    border = shapely.line_merge(shared[mixed])
    length = shapely.length(border)
    # open space: wide land faces join whole the occupied face they share most border with
    candidates = np.unique(land)
    wide = candidates[[_is_open_space(faces[f]) for f in candidates]]
    for f in wide.tolist():
        rows = np.flatnonzero(land == f)
        totals = np.bincount(owner[rows], weights=length[rows])
        whole[f] = int(np.argmax(totals))
    border_region = region[land]
    order = np.argsort(border_region, kind="stable")
    starts = np.searchsorted(border_region[order], np.unique(border_region))
    ends = np.r_[starts[1:], len(order)].astype(np.int64)[: len(starts)]
    for lo, hi in zip(starts, ends, strict=True):
        rows = order[lo:hi]
        r = int(border_region[rows[0]])
        xy, face = _samples(border[rows], owner[rows], step_m)
        empty_xy.append(xy)
        empty_face.append(face)
        members = np.flatnonzero(region == r)
        divided = members[whole[members] < 0]
        if len(np.unique(owner[rows])) < 2 or not len(divided):
            continue  # one neighbour, or all open space: nothing to divide
        lines.append(_ridges(shapely.union_all(faces[divided]), xy, face))
    samples = LandSamples(
        np.concatenate(empty_xy) if empty_xy else np.zeros((0, 2)),
        np.concatenate(empty_face).astype(np.int64) if empty_face else np.zeros(0, np.int64),
    )
    lines = [part for part in lines if len(part)]
    return Division(np.concatenate(lines) if lines else np.array([], dtype=object), samples, whole)


def _samples(lines: np.ndarray, owner: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` along each line (both ends included), labelled by owner."""
    parts, which = shapely.get_parts(lines, return_index=True)
    length = shapely.length(parts)
    keep = length > 0
    parts, which, length = parts[keep], which[keep], length[keep]
    counts = np.maximum(np.ceil(length / step_m).astype(np.int64), 1) + 1
    idx = np.repeat(np.arange(len(parts)), counts)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    fraction = (np.arange(counts.sum()) - np.repeat(start, counts)) / (counts[idx] - 1)
    points = shapely.line_interpolate_point(parts[idx], fraction, normalized=True)
    xy = shapely.get_coordinates(points)
    label = owner[which[idx]]
    # a point shared by two owners' borders (a corner) is nobody's: drop duplicates
    _, first, counts_xy = np.unique(np.round(xy, 3), axis=0, return_index=True, return_counts=True)
    unique = first[counts_xy == 1]
    unique.sort()
    return xy[unique], label[unique]


def _ridges(area: shapely.Geometry, xy: np.ndarray, face: np.ndarray) -> np.ndarray:
    """The Voronoi edges between samples of different faces, merged, smoothed and clipped
    to ``area``."""
    if len(np.unique(face)) < 2 or len(xy) < 3:
        return np.array([], dtype=object)
    centre = xy.mean(axis=0)
    x0, y0, x1, y1 = shapely.bounds(area)
    reach = 4.0 * math.hypot(x1 - x0, y1 - y0) + 1.0
    angle = np.linspace(0.0, 2.0 * np.pi, 8, endpoint=False)
    ghosts = reach * np.column_stack([np.cos(angle), np.sin(angle)])
    try:
        vor = Voronoi(np.vstack([xy - centre, ghosts]))
    except QhullError:
        return np.array([], dtype=object)
    k = len(xy)
    rp = vor.ridge_points
    rv = np.asarray(vor.ridge_vertices, dtype=np.int64).reshape(-1, 2)
    real = (rp < k).all(axis=1) & (rv >= 0).all(axis=1)
    rp, rv = rp[real], rv[real]
    between = face[rp[:, 0]] != face[rp[:, 1]]
    if not between.any():
        return np.array([], dtype=object)
    verts = vor.vertices + centre
    segments = shapely.linestrings(verts[rv[between]])
    merged = shapely.line_merge(shapely.union_all(segments))
    merged = shapely.simplify(merged, SIMPLIFY_M, preserve_topology=True)
    clipped = shapely.intersection(merged, area)
    parts = shapely.get_parts(clipped)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2)) & (shapely.length(parts) > 0)]
    return _overshoot(parts, shapely.boundary(area))


#: Division lines ending on their region's edge are pushed this far past it (metres), so the
#: noder computes where they meet the edge (a clip point computed apart can land a few
#: micrometres short and leave the line dangling, dividing nothing); the stub is dropped.
OVERSHOOT_M = 1e-3


def _overshoot(lines: np.ndarray, edge: shapely.Geometry) -> np.ndarray:
    """Each line with its ends that touch ``edge`` extended along their last segment."""
    out = []
    for line in lines:
        xy = shapely.get_coordinates(line)
        for end, prev in ((0, 1), (-1, -2)):
            if shapely.distance(shapely.Point(xy[end]), edge) < 1e-6:
                step = xy[end] - xy[prev]
                norm = float(np.hypot(*step))
                if norm > 0:
                    xy[end] = xy[end] + step / norm * OVERSHOOT_M
        out.append(shapely.LineString(xy))
    return np.array(out, dtype=object)


def land_owner(
    faces: np.ndarray,
    zone: np.ndarray,
    core_of_face: np.ndarray,
    samples: LandSamples,
) -> np.ndarray:
    """The occupied face each face belongs to once land is divided: its own core face when
    it lies in one, else the face of the nearest border sample; -1 for land with no occupied
    face around it. A piece of land cut off from its owner (the diagram gave a face two
    disjoint parts of a U-shaped region) joins the neighbour it shares most border with.

    Parameters
    ----------
    faces
        The faces after noding the division lines.
    zone
        Zone of each face.
    core_of_face
        The occupied face (index before division) each face lies in, or -1 for land.
    samples
        From :func:`division_lines`.
    """
    faces = np.asarray(faces, dtype=object)
    owner = np.asarray(core_of_face, dtype=np.int64).copy()
    land = np.flatnonzero(owner < 0)
    if len(land):
        at = shapely.get_coordinates(shapely.point_on_surface(faces[land]))
        owner[land] = samples.nearest_face(at)
    if not len(land):
        return owner
    i, j, shared = _face_pairs(faces, zone)
    length = shapely.length(shared)
    is_core = np.asarray(core_of_face) >= 0
    for _ in range(20):
        same = (owner[i] == owner[j]) & (owner[i] >= 0)
        n = len(faces)
        matrix = sparse.coo_array((np.ones(int(same.sum())), (i[same], j[same])), shape=(n, n))
        _, piece = connected_components(matrix, directed=False)
        anchored = np.zeros(piece.max() + 1, dtype=bool)
        anchored[piece[is_core]] = True
        stray = (~anchored[piece]) & (owner >= 0)
        if not stray.any():
            return owner
        if not (stray[i] != stray[j]).any():
            break
        # each stray face goes to the neighbouring owner it shares most border with
        cross = stray[i] != stray[j]
        a = np.where(stray[i], i, j)[cross]
        b = np.where(stray[i], j, i)[cross]
        span = owner.max() + 2
        key = a * span + (owner[b] + 1)
        uniq, inv = np.unique(key, return_inverse=True)
        total = np.bincount(inv, weights=length[cross]) if len(key) else np.zeros(0)
        face_of, to = uniq // span, uniq % span - 1
        best = np.lexsort((to, -total, face_of))
        first = np.ones(len(best), dtype=bool)
        first[1:] = face_of[best][1:] != face_of[best][:-1]
        moved = False
        for f, t in zip(face_of[best][first].tolist(), to[best][first].tolist(), strict=True):
            if t >= 0 and owner[f] != t:
                owner[f] = t
                moved = True
        if not moved:
            break
    # land that reaches no occupied face of its own zone stays nobody's
    same = (owner[i] == owner[j]) & (owner[i] >= 0)
    matrix = sparse.coo_array(
        (np.ones(int(same.sum())), (i[same], j[same])), shape=(len(faces), len(faces))
    )
    _, piece = connected_components(matrix, directed=False)
    anchored = np.zeros(piece.max() + 1, dtype=bool)
    anchored[piece[is_core]] = True
    owner[~anchored[piece]] = -1
    return owner
