"""How a planner judges the shape of a plan: compactness, necks, jagged borders, borders on
roads, service radius. One function per measure, each on plain arrays of shapely geometry in
the plan's metric CRS (metres), each returning values aligned with its input.

- :func:`polsby_popper` — 4πA/P², 1 for a circle (Polsby & Popper 1991); :func:`pp` is the
  same formula on areas and perimeters, the one the engine optimises.
- :func:`necks` — a region whose households are joined only through a strip narrower than
  ``width_m`` (a morphological opening of the polygon: erode by half the width, dilate back;
  its pieces are the parts a 30 m disc can sweep; households in two pieces are joined only by
  something thinner).
- :func:`shared_borders` — the borders between neighbouring regions, as lines.
- :func:`jagged` — which stretches of a border are staircases or sawtooth: a 150 m piece that
  is more than 1.15 times as long as its 25 m Douglas-Peucker simplification.
- :func:`on_lines` — which stretches of a border follow a given line (road, river, railway,
  街道 line): within ``tolerance_m`` of one (half a road reserve, 道路红线).
- :func:`service_radius` — the 95th-percentile distance from a household to its region's
  household-weighted centre.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import substring

from geo import morphology
from geo.straighten import line_segments

__all__ = [
    "Borders",
    "jagged",
    "necks",
    "on_lines",
    "polsby_popper",
    "pp",
    "service_radius",
    "shared_borders",
]

#: A strip narrower than this (metres) is a neck: a planner walking the community would not
#: call what lies beyond it part of the same place.
NECK_WIDTH_M = 30.0
#: Jaggedness: pieces of this length are compared with their simplification at this
#: tolerance; longer than this ratio of it is a staircase.
JAGGED_PIECE_M = 150.0
JAGGED_TOLERANCE_M = 25.0
JAGGED_RATIO = 1.15
#: A border within this distance of a given line runs along it (half of a typical road
#: reserve; a border down the middle of a dual carriageway's median is along the road).
ON_LINE_M = 20.0
#: Border length is sampled every this many metres for :func:`on_lines`.
SAMPLE_STEP_M = 5.0


def pp(area, perimeter):
    """Polsby-Popper from area (m²) and perimeter (m): 4πA/P², 0 where the perimeter is 0.

    Scalars in, a float out (the partition's hot path); arrays in, an array out."""
    if isinstance(perimeter, float | int) and isinstance(area, float | int):
        return 4.0 * np.pi * area / perimeter**2 if perimeter > 0 else 0.0
    area = np.asarray(area, dtype=float)
    perimeter = np.asarray(perimeter, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4.0 * np.pi * area / np.maximum(perimeter, 1e-12) ** 2, 0.0)


def polsby_popper(geometries: np.ndarray) -> np.ndarray:
    """Polsby-Popper of each polygon (1 for a circle, near 0 for a thin strip)."""
    geoms = np.asarray(geometries, dtype=object)
    return pp(shapely.area(geoms), shapely.length(geoms))


def necks(
    polygons: np.ndarray,
    points: np.ndarray,
    owner: np.ndarray,
    *,
    width_m: float = NECK_WIDTH_M,
) -> np.ndarray:
    """Per polygon: its points (households' buildings) lie in two or more pieces that are
    joined only through strips narrower than ``width_m`` (:func:`geo.morphology.necks`: the
    pieces of the polygon's opening; a point in a thin part belongs to the nearest piece).

    Parameters
    ----------
    polygons
        Region polygons (metres).
    points
        (n, 2) building positions.
    owner
        Index into ``polygons`` of each point's region (negative: none).
    """
    return morphology.necks(polygons, points, owner, width_m=width_m)


@dataclass(frozen=True)
class Borders:
    """The borders between neighbouring regions: one (Multi)LineString per pair ``i < j``."""

    i: np.ndarray
    j: np.ndarray
    lines: np.ndarray

    @property
    def length_m(self) -> np.ndarray:
        return shapely.length(self.lines)

    def per_region(self, values: np.ndarray, n: int) -> np.ndarray:
        """Sum a per-border value over both regions of each border."""
        return np.bincount(self.i, weights=values, minlength=n) + np.bincount(
            self.j, weights=values, minlength=n
        )


def shared_borders(polygons: np.ndarray, *, min_length_m: float = 0.5) -> Borders:
    """The line each pair of touching polygons shares (corner contacts left out)."""
    polys = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(polys)
    i, j = tree.query(polys, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    boundaries = shapely.boundary(polys)
    lines = shapely.line_merge(shapely.intersection(boundaries[i], boundaries[j]))
    # keep only the linear part (two polygons may also touch at points)
    lines = np.array([_linear(g) for g in lines], dtype=object)
    keep = shapely.length(lines) >= min_length_m
    return Borders(i[keep].astype(np.int64), j[keep].astype(np.int64), lines[keep])


def _linear(geom):
    if shapely.get_type_id(geom) in (1, 5):  # LineString, MultiLineString
        return geom
    parts = shapely.get_parts(geom)
    lines = parts[np.isin(shapely.get_type_id(parts), (1, 5))]
    if not len(lines):
        return shapely.LineString()
    return shapely.line_merge(shapely.multilinestrings(shapely.get_parts(lines)))


def _pieces(lines: np.ndarray, piece_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Each line cut into consecutive pieces of ``piece_m`` (the last one shorter), and the
    index of the line each piece came from."""
    parts, owner = shapely.get_parts(lines, return_index=True)
    out, out_owner = [], []
    for part, k in zip(parts, owner, strict=True):
        length = part.length
        if length <= 0:
            continue
        count = max(1, int(np.ceil(length / piece_m - 1e-9)))
        if count == 1:
            out.append(part)
            out_owner.append(k)
            continue
        cuts = np.linspace(0.0, length, count + 1)
        for a, b in itertools.pairwise(cuts):
            out.append(substring(part, a, b))
            out_owner.append(k)
    return np.array(out, dtype=object), np.asarray(out_owner, dtype=np.int64)


def jagged(
    lines: np.ndarray,
    *,
    piece_m: float = JAGGED_PIECE_M,
    tolerance_m: float = JAGGED_TOLERANCE_M,
    ratio: float = JAGGED_RATIO,
) -> np.ndarray:
    """Jagged length (metres) of each line: the total length of its pieces of ``piece_m``
    that are more than ``ratio`` times as long as their Douglas-Peucker simplification at
    ``tolerance_m``. Divide by the line's length for a share."""
    lines = np.asarray(lines, dtype=object)
    out = np.zeros(len(lines))
    if not len(lines):
        return out
    pieces, owner = _pieces(lines, piece_m)
    if not len(pieces):
        return out
    length = shapely.length(pieces)
    simple = shapely.length(shapely.simplify(pieces, tolerance_m, preserve_topology=False))
    bad = length > ratio * np.maximum(simple, 1e-9)
    np.add.at(out, owner[bad], length[bad])
    return out


def on_lines(
    lines: np.ndarray,
    given: np.ndarray,
    *,
    tolerance_m: float = ON_LINE_M,
    step_m: float = SAMPLE_STEP_M,
) -> np.ndarray:
    """Length (metres) of each line that runs within ``tolerance_m`` of a ``given`` line,
    measured on samples every ``step_m``."""
    lines = np.asarray(lines, dtype=object)
    out = np.zeros(len(lines))
    given = np.asarray(given, dtype=object)
    if not len(lines) or not len(given):
        return out
    parts, owner = shapely.get_parts(lines, return_index=True)
    length = shapely.length(parts)
    counts = np.maximum(np.ceil(length / step_m).astype(np.int64), 1)
    which = np.repeat(np.arange(len(parts)), counts)
    # sample at the middle of each step so both ends weigh the same
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(counts.sum()) - np.repeat(start, counts)
    fraction = (rank + 0.5) / counts[which]
    samples = shapely.line_interpolate_point(parts[which], fraction, normalized=True)
    # a point is within reach of a line when it is within reach of one of its segments: a
    # tree of segments tests the few near a sample, not every vertex of a long line
    tree = shapely.STRtree(line_segments(given))
    hit, _ = tree.query(samples, predicate="dwithin", distance=tolerance_m)
    near = np.zeros(len(samples), dtype=bool)
    near[hit] = True
    step = length[which] / counts[which]
    np.add.at(out, owner[which[near]], step[near])
    return out


def service_radius(
    xy: np.ndarray, weights: np.ndarray, owner: np.ndarray, n: int, *, quantile: float = 0.95
) -> np.ndarray:
    """Per region: the ``quantile`` (household-weighted) of the distance from its households
    to its household-weighted centre, in metres (NaN for a region without households)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    w = np.asarray(weights, dtype=float)
    owner = np.asarray(owner, dtype=np.int64)
    out = np.full(n, np.nan)
    has = owner >= 0
    xy, w, owner = xy[has], w[has], owner[has]
    mass = np.bincount(owner, weights=w, minlength=n)
    cx = np.bincount(owner, weights=w * xy[:, 0], minlength=n) / np.maximum(mass, 1e-12)
    cy = np.bincount(owner, weights=w * xy[:, 1], minlength=n) / np.maximum(mass, 1e-12)
    distance = np.hypot(xy[:, 0] - cx[owner], xy[:, 1] - cy[owner])
    order = np.lexsort((distance, owner))
    owner_s, dist_s, w_s = owner[order], distance[order], w[order]
    starts = np.searchsorted(owner_s, np.arange(n + 1))
    for r in np.flatnonzero(mass > 0):
        lo, hi = starts[r], starts[r + 1]
        cumulative = np.cumsum(w_s[lo:hi])
        at = int(np.searchsorted(cumulative, quantile * cumulative[-1]))
        out[r] = dist_s[lo + min(at, hi - lo - 1)]
    return out
