"""Borders between buildings drawn straight: a coverage whose shared edges are simplified
one by one, as far as the points they separate allow.

Polygons dissolved from Voronoi cells follow the cells of single buildings: a staircase or a
sawtooth where two regions meet inside a block. A planner draws that border as a straight or
gently curved line through the gap between the two groups of buildings. Here every shared
edge of the coverage (a *chain*: the border of two polygons between two junctions) that does
not lie on a fixed line (a road, a river, a block border) is replaced by its Douglas-Peucker
simplification at the largest tolerance of a schedule that

- moves no point across it (the region swept between the old and the new chain, by the
  even-odd rule, holds none of the points of the two polygons it separates),
- crosses no obstacle (a building footprint) that the old chain did not cross, and
- touches no other chain but at its own ends (the coverage stays a coverage).

Junctions, the outer boundary and fixed lines never move, so neighbouring polygons keep
sharing their borders exactly and the union is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from geo.morphology import necks

__all__ = ["TOLERANCES_M", "line_segments", "straighten_coverage"]

#: Douglas-Peucker tolerances tried for each chain, largest first (metres).
TOLERANCES_M = (120.0, 60.0, 30.0, 15.0, 8.0, 4.0)
#: A segment lies on a fixed line when both its ends and its middle are this close (metres).
ON_FIXED_M = 1e-3


def _distinct_segments(polygons: np.ndarray):
    """Every boundary segment once: (coordinates (m, 4), one owner, the other owner or -1)."""
    rings, ring_owner = shapely.get_parts(shapely.boundary(polygons), return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    seg_owner = ring_owner[ring[:-1][same]]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    seg = np.column_stack([lo, hi])
    keep = (seg[:, 0] != seg[:, 2]) | (seg[:, 1] != seg[:, 3])
    seg, seg_owner = seg[keep], seg_owner[keep]
    order = np.lexsort((seg_owner, seg[:, 3], seg[:, 2], seg[:, 1], seg[:, 0]))
    seg, seg_owner = seg[order], seg_owner[order]
    first = np.ones(len(seg), dtype=bool)
    first[1:] = (seg[1:] != seg[:-1]).any(axis=1)
    group = np.cumsum(first) - 1
    left = seg_owner[first]
    right = np.full(int(first.sum()), -1, dtype=np.int64)
    second = np.flatnonzero(~first)
    right[group[second]] = seg_owner[second]
    return seg[first], left, right


def _chains(seg: np.ndarray, key: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Segments grouped into chains: runs of segments with the same key joined at vertices
    where exactly two segments meet. Returns each chain as its ordered vertex array, and its
    key."""
    ends = np.concatenate([seg[:, :2], seg[:, 2:]])
    _, vertex = np.unique(ends, axis=0, return_inverse=True)
    vertex = vertex.ravel()
    m = len(seg)
    va, vb = vertex[:m], vertex[m:]
    degree = np.bincount(vertex)
    # join two segments at a shared vertex of degree 2 when their keys agree
    incident = np.concatenate(
        [np.column_stack([va, np.arange(m)]), np.column_stack([vb, np.arange(m)])]
    )
    incident = incident[np.argsort(incident[:, 0], kind="stable")]
    two = degree[incident[:, 0]] == 2
    pairs = incident[two].reshape(-1, 2, 2)  # each degree-2 vertex: its two segments
    s1, s2 = pairs[:, 0, 1], pairs[:, 1, 1]
    join = key[s1] == key[s2]
    matrix = sparse.coo_array((np.ones(int(join.sum())), (s1[join], s2[join])), shape=(m, m))
    _, chain = connected_components(matrix, directed=False)
    order = np.argsort(chain, kind="stable")
    starts = np.searchsorted(chain[order], np.arange(chain.max() + 2))
    xy = np.concatenate([seg[:, :2], seg[:, 2:]])
    walked = _walk_all(chain, va, vb, xy)
    out = []
    for c in range(chain.max() + 1):
        members = order[starts[c] : starts[c + 1]]
        out.append(walked[c] if c in walked else _walk(members, va, vb, xy, m))
    return out, key[order[starts[:-1]]].astype(np.int64)


def _walk_all(
    chain: np.ndarray, va: np.ndarray, vb: np.ndarray, xy: np.ndarray
) -> dict[int, np.ndarray]:
    """:func:`_walk` of every chain that is a simple path or ring (no vertex met by more
    than two of its segments), all at once: from the same start, in the same direction.

    A path starts at whichever of its two ends :func:`_walk` meets first (its segments in
    index order, each its first end then its second); a ring at the first end of its first
    segment, along that segment. Each step takes the other segment at the vertex reached."""
    m = len(va)
    n_chains = int(chain.max()) + 1
    size = np.bincount(chain, minlength=n_chains)
    # incidences (segment, end: 0 first / 1 second), grouped by (chain, vertex), then segment
    seg = np.tile(np.arange(m), 2)
    end = np.repeat([0, 1], m)
    vertex = np.concatenate([va, vb])
    group_order = np.lexsort((end, seg, vertex, chain[seg]))
    g_chain, g_vertex = chain[seg][group_order], vertex[group_order]
    new_group = np.r_[True, (g_chain[1:] != g_chain[:-1]) | (g_vertex[1:] != g_vertex[:-1])]
    group = np.cumsum(new_group) - 1
    degree = np.bincount(group)
    bad = np.zeros(n_chains, dtype=bool)
    bad[g_chain[degree[group] > 2]] = True
    bad[chain[va == vb]] = True
    # per incidence: the other segment at its vertex (-1 at a path's end)
    other = np.full(2 * m, -1, dtype=np.int64)
    pair = np.flatnonzero(degree == 2)
    first_at = np.flatnonzero(new_group)
    a, b = group_order[first_at[pair]], group_order[first_at[pair] + 1]
    other[a], other[b] = seg[b], seg[a]
    # where each chain starts: a path at its end met first, a ring at its first segment
    lone = first_at[degree == 1]
    lone_inc = group_order[lone]
    rank = seg[lone_inc] * 2 + end[lone_inc]
    start_inc = np.full(n_chains, -1, dtype=np.int64)
    best = np.full(n_chains, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, chain[seg[lone_inc]], rank)
    is_start = rank == best[chain[seg[lone_inc]]]
    start_inc[chain[seg[lone_inc[is_start]]]] = lone_inc[is_start]
    ring = (start_inc < 0) & (size > 1)
    first_seg = np.full(n_chains, m, dtype=np.int64)
    np.minimum.at(first_seg, chain, np.arange(m))
    start_inc[ring] = first_seg[ring]  # incidence (segment, first end)
    todo = np.flatnonzero(~bad)
    cur_seg = seg[start_inc[todo]]
    cur_end = end[start_inc[todo]]
    steps = size[todo]
    path = np.empty((len(todo), int(steps.max()) + 1 if len(todo) else 1, 2))
    path[:, 0] = xy[cur_seg + m * cur_end]
    for t in range(int(steps.max()) if len(todo) else 0):
        going = t < steps
        far_end = 1 - cur_end
        path[going, t + 1] = xy[cur_seg + m * far_end][going]
        nxt = other[cur_seg + m * far_end]
        at = np.maximum(nxt, 0)
        cur_end = np.where(vertex[at + m] == vertex[cur_seg + m * far_end], 1, 0)
        cur_seg = np.where(going & (nxt >= 0), at, cur_seg)
    return {int(c): path[k, : steps[k] + 1].copy() for k, c in enumerate(todo.tolist())}


def _walk(
    members: np.ndarray, va: np.ndarray, vb: np.ndarray, xy: np.ndarray, m: int
) -> np.ndarray:
    """The vertices of a chain of segments in order (a closed ring repeats its start)."""
    if len(members) == 1:
        s = int(members[0])
        return np.array([xy[s], xy[m + s]])
    nxt: dict[int, list[tuple[int, int]]] = {}
    for s in members.tolist():
        nxt.setdefault(int(va[s]), []).append((s, int(vb[s])))
        nxt.setdefault(int(vb[s]), []).append((s, int(va[s])))
    start = next((v for v, e in nxt.items() if len(e) == 1), int(va[members[0]]))
    coords = {int(va[s]): xy[s] for s in members.tolist()}
    coords.update({int(vb[s]): xy[m + s] for s in members.tolist()})
    path, used, v = [start], set(), start
    while True:
        step = next(((s, w) for s, w in nxt[v] if s not in used), None)
        if step is None:
            break
        used.add(step[0])
        v = step[1]
        path.append(v)
    return np.array([coords[v] for v in path])


def _crossings(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd rule: whether each point lies inside the (possibly self-intersecting) closed
    ring."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = ring[:-1, 0][None, :], ring[:-1, 1][None, :]
    x1, y1 = ring[1:, 0][None, :], ring[1:, 1][None, :]
    straddle = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return ((straddle & (x < at)).sum(axis=1) % 2) == 1


def straighten_coverage(
    polygons: np.ndarray,
    *,
    points: np.ndarray,
    point_owner: np.ndarray,
    fixed: np.ndarray | None = None,
    obstacles: np.ndarray | None = None,
    tolerances: tuple[float, ...] = TOLERANCES_M,
    neck_width_m: float = 0.0,
    frozen: np.ndarray | None = None,
) -> np.ndarray:
    """Straighten the shared edges of a coverage between the points they separate.

    Parameters
    ----------
    polygons
        A coverage (polygons sharing their borders vertex for vertex), metres.
    points
        (n, 2) points that must stay in their polygon (buildings).
    point_owner
        Index into ``polygons`` of each point (negative: none).
    fixed
        Lines whose segments never move (roads, rivers, block borders), or None.
    obstacles
        Polygons no new border may cross (building footprints), or None.
    tolerances
        Douglas-Peucker tolerances to try, largest first.
    neck_width_m
        When positive, the chains of a polygon that straightening would leave with a neck
        (:func:`geo.morphology.necks`) it did not have stay as they were.
    frozen
        Indices of polygons whose borders stay as they are.

    Returns
    -------
    numpy.ndarray of shapely.Polygon
        The polygons, aligned with the input; the input itself when the straightened
        coverage would not hold every point in its polygon (never expected; a safety net).
    """
    polys = np.asarray(polygons, dtype=object)
    if len(polys) < 2:
        return polys.copy()
    chains, chain_key, span = _coverage_chains(polys, fixed)
    movable = _movable(chains, chain_key, span, frozen)
    lines = np.array([shapely.LineString(c) for c in chains], dtype=object)
    if not movable.any():
        return polys.copy()
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    owner = np.asarray(point_owner, dtype=np.int64)
    straightener = _Straightener.of(
        lines, xy=xy, owner=owner, obstacles=obstacles, reach=max(tolerances)
    )
    longest_first = np.flatnonzero(movable)[
        np.argsort(-shapely.length(lines[movable]), kind="stable")
    ]
    # every movable chain pulled taut at once (a chain's taut line depends on nothing but
    # its own vertices and the points of its two polygons near it)
    pairs = _pairs_of(chain_key[longest_first], span)
    moving = [chains[c] for c in longest_first.tolist()]
    near_chain, near_point = straightener.near_points(moving, pairs, TIGHTEN_CLEARANCE_M)
    tauts = _tighten_all(moving, xy[near_point], near_chain)
    # so are the points' tests of the straight and the taut line (they depend on nothing
    # the chains straightened before change)
    straights = [old[[0, -1]] for old in moving]
    straight_clear = straightener.clear_of_points_all(moving, straights, pairs)
    taut_clear = straightener.clear_of_points_all(moving, tauts, pairs)
    for k, c in enumerate(longest_first.tolist()):
        pair = (int(pairs[k, 0]), int(pairs[k, 1]))
        straightener.straighten(
            c,
            chains[c],
            pair,
            tolerances,
            taut=tauts[k],
            clear=(bool(straight_clear[k]), bool(taut_clear[k])),
        )
    current = straightener.current
    rebuilt = _rebuild(current, polys, xy, owner)
    if rebuilt is None:
        return polys.copy()
    if neck_width_m > 0:
        rebuilt = _without_new_necks(
            rebuilt,
            polys,
            current=current,
            lines=lines,
            chain_key=chain_key,
            span=span,
            xy=xy,
            owner=owner,
            width_m=neck_width_m,
        )
    return polys.copy() if rebuilt is None else rebuilt


def _coverage_chains(
    polys: np.ndarray, fixed: np.ndarray | None
) -> tuple[list[np.ndarray], np.ndarray, int]:
    """The chains of a coverage (their vertex arrays), the key of each and the span that
    encodes the key: ``((min polygon + 1) * span + (max polygon + 1)) * 2 + on a fixed line``,
    polygon -1 on the outer boundary (which counts as fixed)."""
    seg, left, right = _distinct_segments(polys)
    is_fixed = right < 0
    if fixed is not None and len(fixed):
        mid = (seg[:, :2] + seg[:, 2:]) / 2
        # within reach of a line is within reach of one of its segments: a tree of segments
        # tests the few near a midpoint, not every vertex of a long line
        tree = shapely.STRtree(line_segments(np.asarray(fixed, dtype=object)))
        hit, _ = tree.query(shapely.points(mid), predicate="dwithin", distance=ON_FIXED_M)
        on = np.zeros(len(seg), dtype=bool)
        on[hit] = True
        is_fixed |= on
    span = len(polys) + 1
    key = (np.minimum(left, right) + 1) * span * 2 + (np.maximum(left, right) + 1) * 2 + is_fixed
    chains, chain_key = _chains(seg, key)
    return chains, chain_key, span


def line_segments(lines: np.ndarray) -> np.ndarray:
    """Every segment (two-point LineString) of ``lines`` (polygons: of their rings)."""
    parts = shapely.get_parts(lines)
    polygonal = np.isin(shapely.get_type_id(parts), (3, 6))
    parts = np.concatenate(
        [parts[~polygonal], shapely.get_parts(shapely.get_rings(parts[polygonal]))]
    )
    coords, line = shapely.get_coordinates(parts, return_index=True)
    same = line[1:] == line[:-1]
    return shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))


def _movable(
    chains: list[np.ndarray], chain_key: np.ndarray, span: int, frozen: np.ndarray | None
) -> np.ndarray:
    """Which chains may move: not fixed, not closed, with a vertex between their ends, not a
    border of a frozen polygon."""
    movable = np.array(
        [
            not (k % 2) and len(c) > 2 and not np.array_equal(c[0], c[-1])
            for c, k in zip(chains, chain_key, strict=True)
        ],
        dtype=bool,
    )
    if frozen is not None and len(frozen) and len(chains):
        pairs = np.array([_pair_of(int(k), span) for k in chain_key]).reshape(-1, 2)
        movable &= ~(np.isin(pairs[:, 0], frozen) | np.isin(pairs[:, 1], frozen))
    return movable


@dataclass(frozen=True, eq=False)
class _Straightener:
    """The chains of a coverage as they are now, straightened one at a time, and what a new
    chain is checked against: the points of the two polygons it separates, the other
    chains, the obstacles.

    Attributes
    ----------
    current : numpy.ndarray of shapely.LineString
        Every chain as it is now; :meth:`straighten` replaces one entry.
    xy, owner : numpy.ndarray
        The points and the index of each point's polygon.
    point_tree, line_tree, obstacle_tree : shapely.STRtree
        The points, the chains' envelopes grown by the largest tolerance, and the obstacles
        (None without obstacles).
    """

    current: np.ndarray
    xy: np.ndarray
    owner: np.ndarray
    point_tree: shapely.STRtree
    line_tree: shapely.STRtree
    obstacle_tree: shapely.STRtree | None

    @classmethod
    def of(
        cls,
        lines: np.ndarray,
        *,
        xy: np.ndarray,
        owner: np.ndarray,
        obstacles: np.ndarray | None,
        reach: float,
    ) -> _Straightener:
        """A straightener of ``lines`` (copied); obstacles shrunk by 5 cm, so a chain may
        run along one."""
        obstacle_tree = None
        if obstacles is not None and len(obstacles):
            obstacle_arr = shapely.buffer(np.asarray(obstacles, dtype=object), -0.05)
            obstacle_tree = shapely.STRtree(obstacle_arr)
        return cls(
            current=lines.copy(),
            xy=xy,
            owner=owner,
            point_tree=shapely.STRtree(shapely.points(xy)),
            line_tree=shapely.STRtree(shapely.buffer(shapely.envelope(lines), reach, quad_segs=1)),
            obstacle_tree=obstacle_tree,
        )

    def straighten(
        self,
        c: int,
        old: np.ndarray,
        pair: tuple[int, int],
        tolerances: tuple[float, ...],
        *,
        taut: np.ndarray,
        clear: tuple[bool, bool] | None = None,
    ) -> None:
        """Replace chain ``c`` (vertices ``old``, between polygons ``pair``) by the
        straightest line acceptable: the straight line between its ends, else the chain
        pulled taut against the points (``taut``, :func:`_tighten`) and then simplified at
        the largest tolerance that passes."""
        # the straight line between its ends first; only where buildings stand in its way
        # is the chain pulled taut against them (it stays inside its own convex hull, so
        # only the points there matter)
        straight = np.array([old[0], old[-1]])
        straight_line = shapely.LineString(straight)
        straight_clear, taut_clear = clear or (None, None)
        if self.acceptable(c, old, straight, straight_line, pair, clear=straight_clear):
            self.current[c] = straight_line
            return
        if len(taut) < len(old):
            taut_line = shapely.LineString(taut)
            if self.acceptable(c, old, taut, taut_line, pair, clear=taut_clear):
                self.current[c] = taut_line
        for tolerance in tolerances:
            new_line = shapely.simplify(self.current[c], tolerance, preserve_topology=False)
            new = shapely.get_coordinates(new_line)
            if len(new) >= len(shapely.get_coordinates(self.current[c])):
                break  # nothing left to simplify at this or a smaller tolerance
            if self.acceptable(c, old, new, new_line, pair):
                self.current[c] = new_line
                break

    def near_points(
        self, chains: list[np.ndarray], pairs: np.ndarray, reach: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chain, point) of each point of the two polygons of a chain (``pairs``: one row
        per chain) within ``reach`` of the chain's bounding box."""
        if not chains:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        lo = np.array([c.min(axis=0) for c in chains]) - reach
        hi = np.array([c.max(axis=0) for c in chains]) + reach
        boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
        chain, point = self.point_tree.query(boxes)
        mine = (self.owner[point] == pairs[chain, 0]) | (self.owner[point] == pairs[chain, 1])
        return chain[mine], point[mine]

    def acceptable(
        self,
        c: int,
        old: np.ndarray,
        new: np.ndarray,
        new_line: shapely.LineString,
        pair: tuple[int, int],
        *,
        clear: bool | None = None,
    ) -> bool:
        """Whether chain ``c`` may become ``new``: simple, moving no point of its two
        polygons across it nor nearer than it was (or the clearance), touching no other chain
        but at its ends, crossing no obstacle the old chain did not. ``clear``: the points'
        test as :meth:`clear_of_points_all` made it already (None: made here)."""
        if not shapely.is_simple(new_line):
            return False
        if clear is None:
            ring = np.concatenate([old, new[::-1][1:]])
            clear = self._clear_of_points(ring, old, new, pair)
        if not clear:
            return False
        # touches no other chain except at its own ends
        others = self.line_tree.query(new_line)
        others = others[others != c]
        if len(others):
            others = others[shapely.intersects(self.current[others], new_line)]
        if len(others):
            hits = shapely.intersection(self.current[others], new_line)
            # hits that are only the chain's own ends need no test against them
            if not _only_at(hits, new[0], new[-1]):
                ends = shapely.multipoints(np.array([new[0], new[-1]]))
                stray = ~shapely.is_empty(shapely.difference(hits, shapely.buffer(ends, 1e-6)))
                if stray.any():
                    return False
        if self.obstacle_tree is not None:
            crossed = self.obstacle_tree.query(new_line, predicate="intersects")
            if len(crossed):
                before = self.obstacle_tree.query(shapely.linestrings(old), predicate="intersects")
                if len(np.setdiff1d(crossed, before)):
                    return False
        return True

    def clear_of_points_all(
        self, olds: list[np.ndarray], news: list[np.ndarray], pairs: np.ndarray
    ) -> np.ndarray:
        """:meth:`_clear_of_points` of many chains at once (chain k from ``olds[k]`` to
        ``news[k]``, between the polygons ``pairs[k]``): the same tests on every pair of a
        chain and a point of its two polygons near it."""
        rings = [np.concatenate([o, n[::-1][1:]]) for o, n in zip(olds, news, strict=True)]
        chain, point = self.near_points(rings, pairs, TIGHTEN_CLEARANCE_M)
        clear = np.ones(len(rings), dtype=bool)
        if not len(chain):
            return clear
        px, py = self.xy[point, 0:1], self.xy[point, 1:2]
        # no point inside the region swept (even-odd rule over the ring's segments)
        row, a, b = _pair_segments(rings, chain)
        straddle = (a[:, 1:2] > py[row]) != (b[:, 1:2] > py[row])
        with np.errstate(divide="ignore", invalid="ignore"):
            at = a[:, 0:1] + (py[row] - a[:, 1:2]) * (b[:, 0:1] - a[:, 0:1]) / (
                b[:, 1:2] - a[:, 1:2]
            )
        crossings = np.bincount(
            row, weights=(straddle & (px[row] < at))[:, 0], minlength=len(chain)
        )
        clear[chain[crossings.astype(np.int64) % 2 == 1]] = False
        # nor nearer the new chain than the old one, or than the clearance
        gap = []
        for lines in (news, olds):
            row, a, b = _pair_segments(lines, chain)
            distance = _segment_distance(a, b, px[row], py[row])[:, 0]
            nearest = np.full(len(chain), np.inf)
            np.minimum.at(nearest, row, distance)
            gap.append(nearest)
        closer = gap[0] < np.minimum(gap[1], TIGHTEN_CLEARANCE_M) - 1e-9
        clear[chain[closer]] = False
        return clear

    def _clear_of_points(
        self, ring: np.ndarray, old: np.ndarray, new: np.ndarray, pair: tuple[int, int]
    ) -> bool:
        """No point of the two polygons lies in the region swept (``ring``), nor nearer the
        new chain than it was to the old one, or than the clearance."""
        a, b = pair
        lo, hi = ring.min(axis=0) - TIGHTEN_CLEARANCE_M, ring.max(axis=0) + TIGHTEN_CLEARANCE_M
        near = self.point_tree.query(shapely.box(*lo, *hi))
        if len(near):
            near = near[(self.owner[near] == a) | (self.owner[near] == b)]
            if len(near) and _crossings(self.xy[near], ring).any():
                return False
            # nor runs closer to a building than the border did, or than the clearance
            if len(near):
                gap_new = _polyline_distance(new, self.xy[near])
                gap_old = _polyline_distance(old, self.xy[near])
                if (gap_new < np.minimum(gap_old, TIGHTEN_CLEARANCE_M) - 1e-9).any():
                    return False
        return True


def _pair_segments(
    lines: list[np.ndarray], chain: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each entry of ``chain`` (an index into ``lines``) and each segment of that line:
    (the entry, the segment's start, its end)."""
    count = np.fromiter((len(v) - 1 for v in lines), dtype=np.int64, count=len(lines))
    vertices = np.concatenate(lines)
    first = np.cumsum(count + 1) - (count + 1)
    per = count[chain]
    row = np.repeat(np.arange(len(chain)), per)
    start = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per) + first[chain][row]
    return row, vertices[start], vertices[start + 1]


def _only_at(geoms: np.ndarray, first: np.ndarray, last: np.ndarray) -> bool:
    """Whether every geometry is a point (or points) exactly at ``first`` or ``last``."""
    kind = shapely.get_type_id(geoms)
    if not ((kind == 0) | (kind == 4)).all():
        return False
    coords = shapely.get_coordinates(geoms)
    return bool(((coords == first).all(axis=1) | (coords == last).all(axis=1)).all())


def _without_new_necks(
    rebuilt: np.ndarray,
    polys: np.ndarray,
    *,
    current: np.ndarray,
    lines: np.ndarray,
    chain_key: np.ndarray,
    span: int,
    xy: np.ndarray,
    owner: np.ndarray,
    width_m: float,
) -> np.ndarray | None:
    """Undo, chain by chain, what gave a polygon a neck it did not have (two groups of its
    points joined only through a strip narrower than ``width_m``): for each such polygon its
    straightened chains go back, the one moved most first, until the neck is gone."""
    before = necks(polys, xy, owner, width_m=width_m)
    new = np.flatnonzero(necks(rebuilt, xy, owner, width_m=width_m) & ~before)
    if not len(new):
        return rebuilt
    current = current.copy()
    pairs = np.array([_pair_of(int(k), span) for k in chain_key]).reshape(-1, 2)
    changed = ~shapely.equals(current, lines)
    moved = np.zeros(len(lines))
    moved[changed] = shapely.hausdorff_distance(current[changed], lines[changed])
    for poly in new.tolist():
        mine = np.flatnonzero(((pairs[:, 0] == poly) | (pairs[:, 1] == poly)) & changed)
        for c in mine[np.argsort(-moved[mine], kind="stable")].tolist():
            current[c] = lines[c]
            changed[c] = False
            face = _face_of(current[(pairs[:, 0] == poly) | (pairs[:, 1] == poly)])
            pts = owner == poly
            if (
                face is not None
                and not necks(
                    np.array([face], dtype=object),
                    xy[pts],
                    np.zeros(int(pts.sum()), np.int64),
                    width_m=width_m,
                )[0]
            ):
                break
    return _rebuild(current, polys, xy, owner)


def _face_of(chains: np.ndarray):
    """The polygon a closed set of chains bounds (its largest face), or None."""
    faces = shapely.get_parts(shapely.polygonize(chains))
    if not len(faces):
        return None
    return faces[int(np.argmax(shapely.area(faces)))]


#: Rounds of pulling a chain taut.
TIGHTEN_ROUNDS = 25
#: A chain pulled taut keeps this far (metres) from the buildings it passes.
TIGHTEN_CLEARANCE_M = 1.5


def _tighten(chain: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The chain pulled taut between its ends like an elastic band, against the points: a
    vertex moves to the middle of its neighbours whenever no point lies in the triangle it
    sweeps (odd and even vertices in turn). Collinear vertices are then dropped. A staircase
    between two rows of houses becomes the straight line through the gap between them."""
    return _tighten_all([chain], points, np.zeros(len(points), dtype=np.int64))[0]


def _tighten_all(
    chains: list[np.ndarray], points: np.ndarray, point_chain: np.ndarray
) -> list[np.ndarray]:
    """:func:`_tighten` of every chain at once, each against its own points (``points``
    whose ``point_chain`` is its index): the same moves, round by round, on one array of all
    their vertices. A chain that stops moving stays still in the rounds the others take."""
    if not chains:
        return []
    size = np.fromiter(map(len, chains), dtype=np.int64, count=len(chains))
    c = np.concatenate(chains).astype(float)
    chain_of = np.repeat(np.arange(len(chains)), size)
    first = np.cumsum(size) - size
    local = np.arange(len(c)) - first[chain_of]
    inner = (local >= 1) & (local <= size[chain_of] - 2)
    finder = _ChainPoints.of(points, point_chain, c)
    rows_of = [np.flatnonzero(inner & (local % 2 == parity % 2)) for parity in (1, 2)]
    for _ in range(TIGHTEN_ROUNDS):
        moved = False
        for i in rows_of:
            if not len(i):
                continue
            p0, p1, p2 = c[i - 1], c[i], c[i + 1]
            target = (p0 + p2) / 2.0
            step = np.hypot(*(target - p1).T)
            free = step > 1e-6
            if len(points) and free.any():
                rows = np.flatnonzero(free)
                blocked = finder.blocked(p0[rows], p1[rows], p2[rows], chain_of[i[rows]])
                free[rows[blocked]] = False
            if free.any():
                c[i[free]] = target[free]
                moved = True
        if not moved:
            break
    keep = np.ones(len(c), dtype=bool)
    v = np.flatnonzero(inner)
    cross = np.abs(
        (c[v, 0] - c[v - 1, 0]) * (c[v + 1, 1] - c[v - 1, 1])
        - (c[v, 1] - c[v - 1, 1]) * (c[v + 1, 0] - c[v - 1, 0])
    )
    keep[v] = cross > 1e-6
    return [
        part[kept]
        for part, kept in zip(np.split(c, first[1:]), np.split(keep, first[1:]), strict=True)
    ]


#: Only points this near (metres) a triangle's bounding box are tested against it: farther
#: ones lie neither inside it nor within the clearance of its base, with room to spare.
NEAR_TRIANGLE_M = TIGHTEN_CLEARANCE_M + 5.0


@dataclass(frozen=True, eq=False)
class _ChainPoints:
    """The points of every chain, sorted by chain then x under one key (``chain * span +
    x``, the chains' ranges apart), so the points of a chain near an x are found by
    bisection."""

    xy: np.ndarray
    key: np.ndarray
    x0: float
    span: float

    @classmethod
    def of(cls, points: np.ndarray, point_chain: np.ndarray, vertices: np.ndarray) -> _ChainPoints:
        everything = np.concatenate([points[:, 0], vertices[:, 0]])
        x0 = float(everything.min()) - NEAR_TRIANGLE_M - 1.0
        span = float(everything.max()) + NEAR_TRIANGLE_M + 1.0 - x0 + 1.0
        order = np.lexsort((points[:, 0], point_chain))
        key = (points[order, 0] - x0) + point_chain[order] * span
        return cls(points[order], key, x0, span)

    def blocked(
        self, p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, chain: np.ndarray
    ) -> np.ndarray:
        """Per triangle p0-p1-p2 (of chain ``chain``): whether a point of its chain lies
        inside it or within the clearance of its base p0-p2. The tests of every pair of a
        triangle and a point of its chain, made only on the pairs whose boxes meet."""
        lo = np.minimum(np.minimum(p0, p1), p2) - NEAR_TRIANGLE_M
        hi = np.maximum(np.maximum(p0, p1), p2) + NEAR_TRIANGLE_M
        base = chain * self.span
        start = np.searchsorted(self.key, (lo[:, 0] - self.x0) + base, side="left")
        stop = np.searchsorted(self.key, (hi[:, 0] - self.x0) + base, side="right")
        count = np.maximum(stop - start, 0)
        row = np.repeat(np.arange(len(p0)), count)
        point = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count - start, count)
        near_y = (self.xy[point, 1] >= lo[row, 1]) & (self.xy[point, 1] <= hi[row, 1])
        row, point = row[near_y], point[near_y]
        px, py = self.xy[point, 0:1], self.xy[point, 1:2]
        hit = _in_triangles(p0[row], p1[row], p2[row], px, py) | (
            _segment_distance(p0[row], p2[row], px, py) < TIGHTEN_CLEARANCE_M
        )
        blocked = np.zeros(len(p0), dtype=bool)
        blocked[row[hit[:, 0]]] = True
        return blocked


def _segment_distance(a, b, px, py) -> np.ndarray:
    """(segments × points): distance from each point to each segment a–b."""
    dx, dy = (b[:, 0] - a[:, 0])[:, None], (b[:, 1] - a[:, 1])[:, None]
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((px - a[:, 0:1]) * dx + (py - a[:, 1:2]) * dy) / length2, 0.0, 1.0)
    return np.hypot(px - (a[:, 0:1] + t * dx), py - (a[:, 1:2] + t * dy))


def _polyline_distance(line: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance from each point to a polyline (its vertex array)."""
    return _segment_distance(line[:-1], line[1:], points[:, 0][None, :], points[:, 1][None, :]).min(
        axis=0
    )


def _in_triangles(p0, p1, p2, px, py) -> np.ndarray:
    """(triangles × points): the point lies strictly inside the triangle."""

    def side(a, b):
        return (b[:, 0:1] - a[:, 0:1]) * (py - a[:, 1:2]) - (b[:, 1:2] - a[:, 1:2]) * (
            px - a[:, 0:1]
        )

    d0, d1, d2 = side(p0, p1), side(p1, p2), side(p2, p0)
    eps = 1e-9
    return ((d0 > eps) & (d1 > eps) & (d2 > eps)) | ((d0 < -eps) & (d1 < -eps) & (d2 < -eps))


def _pairs_of(keys: np.ndarray, span: int) -> np.ndarray:
    """:func:`_pair_of` of many keys: one row (polygon, polygon) per key."""
    pair = np.asarray(keys, dtype=np.int64) // 2
    return np.column_stack([pair // span - 1, pair % span - 1])


def _pair_of(key: int, span: int) -> tuple[int, int]:
    pair = key // 2
    return pair // span - 1, pair % span - 1


def _rebuild(
    lines: np.ndarray, polys: np.ndarray, xy: np.ndarray, owner: np.ndarray
) -> np.ndarray | None:
    """Polygons from the chains, each matched to the input polygon whose points it holds
    (by overlap for a polygon without points)."""
    faces = shapely.get_parts(shapely.polygonize(lines))
    if len(faces) != len(polys):
        return None
    tree = shapely.STRtree(faces)
    match = np.full(len(polys), -1, dtype=np.int64)
    has = owner >= 0
    if has.any():
        p_idx, f_idx = tree.query(shapely.points(xy[has]), predicate="intersects")
        pair_owner = owner[has][p_idx]
        key, count = np.unique(np.column_stack([pair_owner, f_idx]), axis=0, return_counts=True)
        best = np.lexsort((key[:, 1], -count, key[:, 0]))
        first = np.ones(len(best), dtype=bool)
        first[1:] = key[best][1:, 0] != key[best][:-1, 0]
        match[key[best][first][:, 0]] = key[best][first][:, 1]
    rest = np.flatnonzero(match < 0)
    if len(rest):
        p_idx, f_idx = tree.query(polys[rest], predicate="intersects")
        overlap = shapely.area(shapely.intersection(polys[rest][p_idx], faces[f_idx]))
        best = np.lexsort((-overlap, p_idx))
        first = np.ones(len(best), dtype=bool)
        first[1:] = p_idx[best][1:] != p_idx[best][:-1]
        match[rest[p_idx[best][first]]] = f_idx[best][first]
    if (match < 0).any() or len(np.unique(match)) != len(polys):
        return None
    out = faces[match]
    if has.any() and not shapely.covers(out[owner[has]], shapely.points(xy[has])).all():
        return None
    return out
