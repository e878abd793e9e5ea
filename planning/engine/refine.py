"""Border moves: single units, and chains of them, that bring regions into the band and
then make them more compact."""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np

from planning.engine.graph import Graph, region_is_connected
from planning.engine.regions import penalty, region_shapes
from planning.engine.shape import pp
from planning.engine.units import Units

__all__ = ["BALANCE_PASSES", "COMPACT_PASSES", "MIN_SHAPE_GAIN", "refine"]

#: Passes of balance moves (each a greedy sweep, or a chain of moves when no sweep helps).
BALANCE_PASSES = 80
#: Passes of compactness moves, after the balance passes.
COMPACT_PASSES = 40
#: A compactness move must raise the shape score by more than this (Polsby-Popper points).
MIN_SHAPE_GAIN = 1e-4
#: How many border units of a giver region a chain move tries, nearest the wanted weight first.
CHAIN_CANDIDATES = 12


def refine(
    units: Units,
    labels: np.ndarray,
    k: int,
    *,
    lower: float,
    upper: float,
    barrier_weight: float,
) -> np.ndarray:
    """Border moves: first to bring regions into the band, then to raise Polsby-Popper.

    A move takes one unit from region A to a neighbouring region B. It must leave A
    connected and non-empty. Balance moves must lower the out-of-band penalty; compactness
    moves must not raise it, and must raise PP(A) + PP(B) by more than the weighted length of
    major barrier they bring inside a region.

    Returns
    -------
    numpy.ndarray
        New region labels (``labels`` is not changed).
    """
    moves = _BorderMoves(units, labels, k, lower=lower, upper=upper, barrier_weight=barrier_weight)
    for _ in range(BALANCE_PASSES):
        if moves.greedy_pass(balancing=True):
            continue
        if not moves.chain_pass():
            break
    for _ in range(COMPACT_PASSES):
        if not moves.greedy_pass(balancing=False):
            break
    return moves.labels


class _BorderMoves:
    """One refinement: the labels and region totals it updates move by move, and the one
    rule by which a move is scored (:meth:`_band_gain` and :meth:`_shape_gain`, on one move
    or on every border move at once)."""

    def __init__(
        self,
        units: Units,
        labels: np.ndarray,
        k: int,
        *,
        lower: float,
        upper: float,
        barrier_weight: float,
    ) -> None:
        graph, weights = units.graph, units.weights
        unit_area, unit_perimeter = units.area, units.perimeter
        self.graph: Graph = graph
        self.weights = weights
        self.k = k
        self.lower, self.upper = lower, upper
        self.unit_area, self.unit_perimeter = unit_area, unit_perimeter
        self.barrier_weight = barrier_weight
        self.src = graph.sources()
        self.labels = labels.copy()
        self.area, self.perimeter, _ = region_shapes(
            graph, self.labels, unit_area, unit_perimeter, k
        )
        self.sizes = np.bincount(labels, weights=weights, minlength=k).astype(float)
        self.counts = np.bincount(labels, minlength=k)
        self.use_shape = bool(unit_perimeter.any())
        self.scale = float(np.sqrt(max(self.area.sum(), 1.0) / k))  # typical region diameter

    # -- what a move gains: one definition, for one move (scalars) or many (arrays) --------

    def _band_gain(self, frm, to, weight):
        """How much moving ``weight`` households from ``frm`` to ``to`` lowers the out-of-band
        penalty."""
        s, lower, upper = self.sizes, self.lower, self.upper
        if np.ndim(weight):  # many moves: the four penalties in one call, added alike
            before_from, before_to, after_from, after_to = penalty(
                np.stack([s[frm], s[to], s[frm] - weight, s[to] + weight]), lower, upper
            )
            return before_from + before_to - after_from - after_to
        return (
            penalty(s[frm], lower, upper)
            + penalty(s[to], lower, upper)
            - penalty(s[frm] - weight, lower, upper)
            - penalty(s[to] + weight, lower, upper)
        )

    def _shape_gain(self, unit, frm, to, *, shared_from, shared_to, barrier_from, barrier_to):
        """What moving ``unit`` from ``frm`` to ``to`` gains in shape: the rise of PP(A) +
        PP(B) (without cell shapes: the border it gains, per region diameter), less the
        weighted major barrier (per region diameter) it brings inside a region.

        ``shared_*`` and ``barrier_*`` are the unit's border and major barrier shared with
        each region (metres)."""
        scale = max(self.scale, 1.0)
        if self.use_shape:
            a, p = self.area, self.perimeter
            unit_area, unit_perimeter = self.unit_area[unit], self.unit_perimeter[unit]
            perimeter_from = p[frm] - unit_perimeter + 2 * shared_from
            perimeter_to = p[to] + unit_perimeter - 2 * shared_to
            if np.ndim(unit):  # many moves: the four scores in one call, added alike
                after_from, after_to, before_from, before_to = pp(
                    np.stack([a[frm] - unit_area, a[to] + unit_area, a[frm], a[to]]),
                    np.stack([perimeter_from, perimeter_to, p[frm], p[to]]),
                )
                shape = after_from + after_to - before_from - before_to
            else:
                shape = (
                    pp(a[frm] - unit_area, perimeter_from)
                    + pp(a[to] + unit_area, perimeter_to)
                    - pp(a[frm], p[frm])
                    - pp(a[to], p[to])
                )
        else:
            shape = (shared_to - shared_from) / scale
        return shape - self.barrier_weight * (barrier_to - barrier_from) / scale

    def _shared_border(self, unit: int, region: int) -> float:
        """Length of border (m) ``unit`` shares with the units of ``region``."""
        lo, hi = self.graph.indptr[unit], self.graph.indptr[unit + 1]
        mask = self.labels[self.graph.indices[lo:hi]] == region
        return float(self.graph.shared[lo:hi][mask].sum())

    def _shared_barrier(self, unit: int, region: int) -> float:
        """Length of major barrier (m) between ``unit`` and the units of ``region``."""
        lo, hi = self.graph.indptr[unit], self.graph.indptr[unit + 1]
        mask = (self.labels[self.graph.indices[lo:hi]] == region) & self.graph.barrier[lo:hi]
        return float(self.graph.shared[lo:hi][mask].sum())

    def _still_gains(self, unit: int, frm: int, to: int, balancing: bool) -> bool:
        """Whether a move ranked earlier in the pass still gains after the moves before it."""
        gain = self._band_gain(frm, to, self.weights[unit])
        if balancing or gain < 0:
            return gain > 0
        score = self._shape_gain(
            unit,
            frm,
            to,
            shared_from=self._shared_border(unit, frm),
            shared_to=self._shared_border(unit, to),
            barrier_from=self._shared_barrier(unit, frm),
            barrier_to=self._shared_barrier(unit, to),
        )
        return score > MIN_SHAPE_GAIN

    def _ranked_moves(self, balancing: bool, out_of_band: np.ndarray) -> list[tuple[int, int]]:
        """Every border move (unit, to-region) that gains, best first, scored in one
        vectorised pass. Balance moves touch an out-of-band region and lower the penalty
        (ranked by that, then shape); compactness moves raise the shape score."""
        graph, labels, k = self.graph, self.labels, self.k
        key = self.src * k + labels[graph.indices]
        uniq, inverse = np.unique(key, return_inverse=True)
        shared = np.bincount(inverse, weights=graph.shared)
        barrier = np.bincount(inverse, weights=graph.shared * graph.barrier)
        unit = uniq // k
        region = uniq % k
        own = labels[unit] == region
        own_shared = np.zeros(graph.n)
        own_barrier = np.zeros(graph.n)
        own_shared[unit[own]] = shared[own]
        own_barrier[unit[own]] = barrier[own]
        move = ~own
        u, to = unit[move], region[move]
        frm = labels[u]
        shared_to, barrier_to = shared[move], barrier[move]
        if balancing:
            keep = out_of_band[frm] | out_of_band[to]
            u, to, frm = u[keep], to[keep], frm[keep]
            shared_to, barrier_to = shared_to[keep], barrier_to[keep]
        if len(u) == 0:
            return []
        gain = self._band_gain(frm, to, self.weights[u])
        score = self._shape_gain(
            u,
            frm,
            to,
            shared_from=own_shared[u],
            shared_to=shared_to,
            barrier_from=own_barrier[u],
            barrier_to=barrier_to,
        )
        if balancing:
            ok = gain > 0
            value = gain / (self.upper - self.lower) ** 2 * 1e3 + score
        else:
            ok = (gain >= 0) & (score > MIN_SHAPE_GAIN)
            value = score
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(-value[idx], kind="stable")]
        return list(zip(u[idx].tolist(), to[idx].tolist(), strict=True))

    # -- moving ----------------------------------------------------------------------------

    def _touches(self, unit: int, region: int) -> bool:
        """Whether ``unit`` has a neighbour in ``region``."""
        lo, hi = self.graph.indptr[unit], self.graph.indptr[unit + 1]
        return bool((self.labels[self.graph.indices[lo:hi]] == region).any())

    def _apply(self, unit: int, frm: int, to: int) -> None:
        """Move ``unit`` from ``frm`` to ``to``, updating the region totals."""
        shared_from = self._shared_border(unit, frm)
        shared_to = self._shared_border(unit, to)
        self.perimeter[frm] += -self.unit_perimeter[unit] + 2 * shared_from
        self.perimeter[to] += self.unit_perimeter[unit] - 2 * shared_to
        self.area[frm] -= self.unit_area[unit]
        self.area[to] += self.unit_area[unit]
        self.sizes[frm] -= self.weights[unit]
        self.sizes[to] += self.weights[unit]
        self.counts[frm] -= 1
        self.counts[to] += 1
        self.labels[unit] = to

    def _out_of_band(self) -> np.ndarray:
        return (self.sizes > self.upper) | (self.sizes < self.lower)

    def greedy_pass(self, *, balancing: bool) -> int:
        """Make every ranked move that still gains and keeps its donor connected; returns how
        many were made."""
        out_of_band = self._out_of_band()
        if balancing and not out_of_band.any():
            return 0
        moved = 0
        for unit, to in self._ranked_moves(balancing, out_of_band):
            frm = int(self.labels[unit])
            if frm == to or self.counts[frm] <= 1 or not self._touches(unit, to):
                continue
            if not self._still_gains(unit, frm, to, balancing):
                continue
            if not region_is_connected(self.graph, self.labels, frm, without=unit):
                continue
            self._apply(unit, frm, to)
            moved += 1
        return moved

    # -- chains of moves -------------------------------------------------------------------

    def chain_pass(self) -> bool:
        """Try a chain move from each out-of-band region, worst first, until one lowers the
        penalty; whether one did."""
        out = np.flatnonzero(self._out_of_band())
        if not len(out):
            return False
        worst_first = out[np.argsort(-penalty(self.sizes[out], self.lower, self.upper))]
        return any(self._chain_move(int(r)) for r in worst_first)

    def _path_to_room(self, start: int, over: bool, target: float) -> list[int] | None:
        """The shortest chain of neighbouring regions from ``start`` to the nearest one with
        room (below ``target`` if ``start`` is ``over``, above it otherwise)."""
        a, b = self.labels[self.src], self.labels[self.graph.indices]
        cut = a != b
        # each (region, neighbouring region) once, neighbours in ascending order
        code = np.unique(a[cut] * self.k + b[cut])
        region_adj: dict[int, list[int]] = {}
        for x, y in zip((code // self.k).tolist(), (code % self.k).tolist(), strict=True):
            region_adj.setdefault(x, []).append(y)
        parent = {start: -1}
        queue = deque([start])
        while queue:
            r = queue.popleft()
            room = (self.sizes[r] < target) if over else (self.sizes[r] > target)
            if r != start and room:
                path = [r]
                while parent[path[-1]] != -1:
                    path.append(parent[path[-1]])
                return path[::-1]  # start … end
            for q in region_adj.get(r, ()):
                if q not in parent:
                    parent[q] = r
                    queue.append(q)
        return None

    def _chain_move(self, start: int) -> bool:
        """Shift households along a chain of neighbouring regions between an out-of-band
        region and the nearest one with room; kept only if the total penalty falls."""
        over = self.sizes[start] > self.upper
        target = float(self.weights.sum()) / self.k
        path = self._path_to_room(start, over, target)
        if path is None:
            return False
        if not over:
            path.reverse()  # households flow from the end (surplus) to the start
        saved = (
            self.labels.copy(),
            self.sizes.copy(),
            self.counts.copy(),
            self.area.copy(),
            self.perimeter.copy(),
        )
        before = float(penalty(self.sizes, self.lower, self.upper).sum())
        want = abs(self.sizes[start] - target)
        for giver, taker in itertools.pairwise(path):
            unit = self._movable(giver, taker, want)
            if unit is None:
                break
            want = float(self.weights[unit])
            self._apply(unit, giver, taker)
        if float(penalty(self.sizes, self.lower, self.upper).sum()) < before - 1e-9:
            return True
        self.labels[:] = saved[0]
        self.sizes[:], self.counts[:], self.area[:], self.perimeter[:] = saved[1:]
        return False

    def _movable(self, giver: int, taker: int, want: float) -> int | None:
        """The unit of ``giver`` bordering ``taker`` whose weight is nearest ``want`` and
        whose removal keeps ``giver`` connected."""
        members = np.flatnonzero(self.labels == giver)
        if len(members) <= 1:
            return None
        border = [int(u) for u in members if self._touches(int(u), taker)]
        border.sort(key=lambda u: (abs(self.weights[u] - want), u))
        for u in border[:CHAIN_CANDIDATES]:
            if region_is_connected(self.graph, self.labels, giver, without=u):
                return u
        return None
