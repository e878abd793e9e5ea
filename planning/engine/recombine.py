"""Recombination: each pair of neighbouring regions redrawn by the best straight cut through
the two (every bipartition when they hold few units)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planning.engine.graph import component_labels, sides
from planning.engine.regions import beyond, penalty_beyond, region_shapes
from planning.engine.shape import pp
from planning.engine.sides import can_stand_alone
from planning.engine.units import Units

__all__ = ["DIRECTIONS", "EXHAUSTIVE_UNITS", "ROUNDS", "recombine"]


#: Pairs of regions with at most this many units are re-split by trying every bipartition.
EXHAUSTIVE_UNITS = 11
#: Rounds over the pairs; a round tries again only pairs holding a region redrawn in the last.
ROUNDS = 4
#: Straight cuts are tried along this many directions, evenly spread over half a turn.
DIRECTIONS = 16
#: How many of the best candidates of a pair are checked (both halves connected, no barrier
#: sides joined) before the pair is left as it is: of its straight cuts, of its bipartitions.
CUT_TRIES = 24
SPLIT_TRIES = 256

#: A region further than this (households) out of band is out.
OUTSIDE = 1e-9

#: Value of a region from its area (m²), perimeter (m) and major barrier inside (m).
Value = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class _Pair:
    """The units of two neighbouring regions (households, cell area and perimeter of each)
    and the links between them, once each: ends (positions in the pair), shared border and
    major barrier along it (m)."""

    weights: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray
    shared: np.ndarray
    barrier: np.ndarray


def _split_value(value: Value, first: tuple, second: tuple):
    """Value of the two halves of a split, each given as (border inside, barrier inside,
    area, perimeter of its units)."""
    (first_inside, first_barrier, area_first, per_first) = first
    (second_inside, second_barrier, area_second, per_second) = second
    return value(area_first, per_first - 2 * first_inside, first_barrier) + value(
        area_second, per_second - 2 * second_inside, second_barrier
    )


def _straight_cuts(xy: np.ndarray, axes: np.ndarray, pair: _Pair, *, value: Value):
    """Every straight cut of the units along each axis: (group of a candidate, households of
    its first group, and value, per candidate). Candidate ``t * D + d`` puts the first t+1
    units along axis d first."""
    w, ua, up = pair.weights, pair.area, pair.perimeter
    lu, lv, sh, br = pair.link_from, pair.link_to, pair.shared, pair.barrier
    m, d = len(w), len(axes)
    order = np.argsort(xy @ axes.T, axis=0, kind="stable")  # (m, D)
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.arange(m)[:, None], axis=0)
    first = np.cumsum(w[order], axis=0)[:-1]  # households of the first t+1 units
    shift = np.arange(d) * m
    hi = (np.maximum(pos[lu], pos[lv]) + shift).ravel()
    lo = (np.minimum(pos[lu], pos[lv]) + shift).ravel()
    sh2, br2 = np.tile(sh[:, None], d).ravel(), np.tile(br[:, None], d).ravel()

    def by_position(index, values):
        return np.bincount(index, weights=values, minlength=m * d).reshape(d, m).T

    # border inside the first t units: edges whose later end is before t; the rest: after
    in_first = np.cumsum(by_position(hi, sh2), axis=0)[:-1]
    bar_first = np.cumsum(by_position(hi, br2), axis=0)[:-1]
    in_second = np.cumsum(by_position(lo, sh2)[::-1], axis=0)[::-1][1:]
    bar_second = np.cumsum(by_position(lo, br2)[::-1], axis=0)[::-1][1:]
    area = np.cumsum(ua[order], axis=0)
    per = np.cumsum(up[order], axis=0)
    after = _split_value(
        value,
        (in_first, bar_first, area[:-1], per[:-1]),
        (in_second, bar_second, area[-1] - area[:-1], per[-1] - per[:-1]),
    )
    first = first.ravel()

    def group(c: int) -> np.ndarray:
        t, j = divmod(c, d)
        out = np.ones(m, dtype=np.int64)
        out[order[: t + 1, j]] = 0
        return out

    return group, first, after.ravel()


@functools.lru_cache(maxsize=EXHAUSTIVE_UNITS + 1)
def _bipartitions(m: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, second): whether each of ``m`` units is in the first or the second group, one
    row per bipartition with both groups non-empty, unit 0 always first. The same for every
    pair of ``m`` units, so made once per ``m`` (read-only)."""
    codes = np.arange(2 ** (m - 1), dtype=np.int64) * 2  # bit i: unit i in the second group
    second = ((codes[:, None] >> np.arange(m)) & 1).astype(bool)
    second = second[second.any(1)]
    first = ~second
    first.flags.writeable = second.flags.writeable = False
    return first, second


def _every_split(pair: _Pair, *, value: Value):
    """Every bipartition of a few units (unit 0 always in the first group)."""
    w, ua, up = pair.weights, pair.area, pair.perimeter
    lu, lv, sh, br = pair.link_from, pair.link_to, pair.shared, pair.barrier
    first, second = _bipartitions(len(w))
    size = first @ w
    both_first = first[:, lu] & first[:, lv]
    both_second = second[:, lu] & second[:, lv]
    after = _split_value(
        value,
        (both_first @ sh, both_first @ br, first @ ua, first @ up),
        (both_second @ sh, both_second @ br, second @ ua, second @ up),
    )

    def group(c: int) -> np.ndarray:
        return second[c].astype(np.int64)

    return group, size, after


def recombine(
    units: Units,
    labels: np.ndarray,
    k: int,
    *,
    lower: float,
    upper: float,
    barrier_weight: float,
    shapes: bool = True,
    side: np.ndarray | None = None,
) -> np.ndarray:
    """Redraw neighbouring pairs of regions by the best straight cut through their union.

    For each pair (A, B) of neighbouring regions, the units of A ∪ B are ordered along
    :data:`DIRECTIONS` directions and every cut of each order is scored at once (prefix sums
    of households, area, perimeter and barrier length). A cut is a two-region power diagram,
    so both halves are as compact as the units allow. A pair of at most ``EXHAUSTIVE_UNITS``
    units tries every bipartition instead (grids of a few large buildings are a packing
    problem that straight cuts may miss). With ``shapes`` False only pairs holding a region
    out of band are tried (balance only, much cheaper). The best cut replaces A and B when both
    halves are connected, it brings no region out of band, it does not put two sides of a
    major barrier that could each stand alone into one region, and it lowers the pair's
    out-of-band penalty, or keeps it and raises
    PP(A) + PP(B) − barrier_weight · (major barrier inside) / diameter. Single-unit moves
    cannot make such changes when the units are large (compounds kept whole): a swap of two
    compounds, or a new line between two regions, is one step here.

    ``side`` is the side of the major barriers of each unit (default:
    :func:`planning.engine.graph.sides` of the units' graph). Returns new labels.
    """
    labels = labels.copy()
    if k < 2 or not units.perimeter.any():
        return labels
    sizes = np.bincount(labels, weights=units.weights, minlength=k)
    if not shapes and ((sizes >= lower) & (sizes <= upper)).all():
        return labels  # balance only, and nothing to balance
    redraw = _PairRedraw(
        units,
        k,
        lower=lower,
        upper=upper,
        barrier_weight=barrier_weight,
        shapes=shapes,
        side=sides(units.graph) if side is None else side,
    )
    dirty = np.ones(k, dtype=bool)  # regions redrawn since their pairs were last tried
    for _ in range(ROUNDS):
        changed = redraw.one_round(labels, dirty)
        if not changed.any():
            break
        dirty = changed
    return labels


class _PairRedraw:
    """What redrawing pairs of regions needs throughout: the units, the band, how a region's
    shape is valued, and which sides of the major barriers could stand alone."""

    def __init__(
        self,
        units: Units,
        k: int,
        *,
        lower: float,
        upper: float,
        barrier_weight: float,
        shapes: bool,
        side: np.ndarray,
    ) -> None:
        self.units = units
        self.k = k
        self.lower, self.upper = lower, upper
        self.barrier_weight = barrier_weight
        self.shapes = shapes
        src = units.graph.sources()
        half = src < units.graph.indices
        self.link_from, self.link_to = src[half], units.graph.indices[half]
        self.scale = max(float(np.sqrt(max(units.area.sum(), 1.0) / k)), 1.0)
        angles = np.linspace(0.0, np.pi, DIRECTIONS, endpoint=False)
        self.axes = np.column_stack([np.cos(angles), np.sin(angles)])
        alone = can_stand_alone(np.bincount(side, weights=units.weights), lower, upper)
        # per unit: its side where that side could stand alone, else -1
        self.alone_side = np.where(alone[side], side, -1)
        self.straddling = int(alone.sum()) >= 2  # with fewer such sides nothing straddles

    def _value(self, area, perimeter, barrier):
        return pp(area, perimeter) - self.barrier_weight * barrier / self.scale

    def _totals(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(value, households) of each region."""
        units = self.units
        return (
            self._value(*region_shapes(units.graph, labels, units.area, units.perimeter, self.k)),
            np.bincount(labels, weights=units.weights, minlength=self.k),
        )

    def _straddles(self, members: np.ndarray) -> bool:
        """Whether the units hold two sides of a major barrier that could each stand alone
        (:func:`planning.engine.sides.can_stand_alone`)."""
        if not self.straddling:
            return False
        alone_sides = self.alone_side[members]
        alone_sides = alone_sides[alone_sides >= 0]
        return bool(len(alone_sides)) and bool((alone_sides != alone_sides[0]).any())

    def _outside(self, sizes):
        return beyond(sizes, self.lower, self.upper) > OUTSIDE

    def one_round(self, labels: np.ndarray, dirty: np.ndarray) -> np.ndarray:
        """Try each pair holding a ``dirty`` region once, worst shapes first, redrawing
        ``labels`` in place; returns which regions were redrawn."""
        changed = np.zeros(self.k, dtype=bool)
        score, sizes = self._totals(labels)
        cut = labels[self.link_from] != labels[self.link_to]
        one, other = labels[self.link_from[cut]], labels[self.link_to[cut]]
        # each pair (lower label, higher) once, in order: as one number, a faster unique
        code = np.unique(np.minimum(one, other) * self.k + np.maximum(one, other))
        pairs = np.column_stack([code // self.k, code % self.k])
        pairs = pairs[dirty[pairs].any(1)]
        if not self.shapes:
            pairs = pairs[self._outside(sizes[pairs]).any(1)]
        pairs = pairs[np.argsort(score[pairs].sum(1), kind="stable")]  # worst shapes first
        for a, b in pairs.tolist():
            if changed[a] or changed[b]:
                continue  # redrawn this round already: try again next round
            if self._redraw_pair(labels, a, b, score, sizes):
                score, sizes = self._totals(labels)
                changed[[a, b]] = True
        return changed

    def _redraw_pair(
        self, labels: np.ndarray, a: int, b: int, score: np.ndarray, sizes: np.ndarray
    ) -> bool:
        """Redraw regions ``a`` and ``b`` by their best acceptable split, if any."""
        units = self.units
        members = np.flatnonzero((labels == a) | (labels == b))
        m = len(members)
        subgraph = units.graph.subgraph(members)
        lu = subgraph.sources()
        once = lu < subgraph.indices
        lu, lv, sh = lu[once], subgraph.indices[once], subgraph.shared[once]
        pair = _Pair(
            units.weights[members],
            units.area[members],
            units.perimeter[members],
            lu,
            lv,
            sh,
            sh * subgraph.barrier[once],
        )
        was_straddling = self._straddles(members[labels[members] == a]) or self._straddles(
            members[labels[members] == b]
        )
        groups, chosen = self._better_splits(
            members, pair, before=score[a] + score[b], pair_sizes=np.array([sizes[a], sizes[b]])
        )
        for c in chosen.tolist():
            group = groups(c)
            same = group[lu] == group[lv]
            if component_labels(m, lu[same], lv[same])[0] != 2:
                continue
            one, two = members[group == 0], members[group == 1]
            if not was_straddling and (self._straddles(one) or self._straddles(two)):
                continue
            if (labels[one] == a).sum() < (labels[two] == a).sum():
                one, two = two, one  # keep each label on the half holding most of it
            labels[one], labels[two] = a, b
            return True
        return False

    def _better_splits(
        self, members: np.ndarray, pair: _Pair, *, before: float, pair_sizes: np.ndarray
    ):
        """(group of a candidate, the candidates better than the pair as it is, best
        first): fewer regions out of band without a worse outlier, or the same count with no
        more penalty; then a better shape."""
        lower, upper = self.lower, self.upper
        beyond_before = beyond(pair_sizes, lower, upper)
        penalty_before = float(penalty_beyond(beyond_before, lower, upper).sum())
        out_before = int((beyond_before > OUTSIDE).sum())
        worst_before = float(beyond_before.max())
        m = len(members)
        if m <= EXHAUSTIVE_UNITS:
            groups, first, after = _every_split(pair, value=self._value)
        else:
            groups, first, after = _straight_cuts(
                self.units.xy[members], self.axes, pair, value=self._value
            )
        second = pair.weights.sum() - first
        # how far each half lies out of band, and what follows from it, in one call each
        beyond_first, beyond_second = beyond(np.stack([first, second]), lower, upper)
        penalty_first, penalty_second = penalty_beyond(
            np.stack([beyond_first, beyond_second]), lower, upper
        )
        cut_penalty = penalty_first + penalty_second
        out = (beyond_first > OUTSIDE).astype(int) + (beyond_second > OUTSIDE)
        worst = np.maximum(beyond_first, beyond_second)
        fewer_out = (out < out_before) & (worst <= worst_before + 1e-9)
        no_worse = (out <= out_before) & (cut_penalty <= penalty_before + 1e-9)
        better = fewer_out | (
            no_worse
            & ((cut_penalty < penalty_before - 1e-9) | (self.shapes & (after > before + 1e-4)))
        )
        chosen = np.flatnonzero(better)
        tries = CUT_TRIES if m > EXHAUSTIVE_UNITS else SPLIT_TRIES
        chosen = chosen[np.lexsort((-after[chosen], cut_penalty[chosen], out[chosen]))][:tries]
        return groups, chosen
