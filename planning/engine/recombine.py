"""Recombination: each pair of neighbouring regions redrawn by the best straight cut through
the two (every bipartition when they hold few units)."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from planning.engine.graph import Graph, sides
from planning.engine.regions import beyond, penalty, region_shapes
from planning.engine.shape import pp
from planning.engine.sides import can_stand_alone

__all__ = ["EXHAUSTIVE_UNITS", "recombine"]


#: Pairs of regions with at most this many units are re-split by trying every bipartition.
EXHAUSTIVE_UNITS = 11


def _split_value(first_inside, first_barrier, area_first, per_first, second_inside,
                 second_barrier, area_second, per_second, value):
    return (value(area_first, per_first - 2 * first_inside, first_barrier)
            + value(area_second, per_second - 2 * second_inside, second_barrier))


def _straight_cuts(xy, axes, w, ua, up, lu, lv, sh, br, *, value):
    """Every straight cut of the units along each axis: (group of a candidate, households of
    its first group, and value, per candidate). Candidate ``t * D + d`` puts the first t+1 units along axis d first."""
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
    after = _split_value(in_first, bar_first, area[:-1], per[:-1], in_second, bar_second,
                         area[-1] - area[:-1], per[-1] - per[:-1], value)
    first = first.ravel()

    def group(c: int) -> np.ndarray:
        t, j = divmod(c, d)
        out = np.ones(m, dtype=np.int64)
        out[order[: t + 1, j]] = 0
        return out

    return group, first, after.ravel()


def _every_split(m, w, ua, up, lu, lv, sh, br, *, value):
    """Every bipartition of a few units (unit 0 always in the first group)."""
    codes = np.arange(2 ** (m - 1), dtype=np.int64) * 2  # bit i: unit i in the second group
    second = ((codes[:, None] >> np.arange(m)) & 1).astype(bool)
    second = second[second.any(1)]
    first = ~second
    size = first @ w
    both_first = first[:, lu] & first[:, lv]
    both_second = second[:, lu] & second[:, lv]
    after = _split_value(both_first @ sh, both_first @ br, first @ ua, first @ up,
                         both_second @ sh, both_second @ br, second @ ua, second @ up, value)

    def group(c: int) -> np.ndarray:
        return second[c].astype(np.int64)

    return group, size, after


def recombine(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    k: int,
    *,
    lower: float,
    upper: float,
    unit_area: np.ndarray,
    unit_perimeter: np.ndarray,
    barrier_weight: float,
    rounds: int = 4,
    directions: int = 16,
    shapes: bool = True,
    side: np.ndarray | None = None,
) -> np.ndarray:
    """Redraw neighbouring pairs of regions by the best straight cut through their union.

    For each pair (A, B) of neighbouring regions, the units of A ∪ B are ordered along
    ``directions`` directions and every cut of each order is scored at once (prefix sums of
    households, area, perimeter and barrier length). A cut is a two-region power diagram, so
    both halves are as compact as the units allow. A pair of at most ``EXHAUSTIVE_UNITS``
    units tries every bipartition instead (grids of a few large buildings are a packing
    problem that straight cuts may miss). With ``shapes`` False only pairs holding a region
    out of band are tried (balance only, much cheaper). The best cut replaces A and B when both
    halves are connected, it brings no region out of band, it does not put two sides of a
    major barrier that could each stand alone into one region, and it lowers the pair's
    out-of-band penalty, or keeps it and raises
    PP(A) + PP(B) − barrier_weight · (major barrier inside) / diameter. Single-unit moves
    cannot make such changes when the units are large (compounds kept whole): a swap of two
    compounds, or a new line between two regions, is one step here.
    """
    labels = labels.copy()
    if k < 2 or not unit_perimeter.any():
        return labels
    sizes = np.bincount(labels, weights=weights, minlength=k)
    if not shapes and ((sizes >= lower) & (sizes <= upper)).all():
        return labels  # balance only, and nothing to balance
    src = graph.sources()
    half = src < graph.indices
    es, ed = src[half], graph.indices[half]
    side = sides(graph) if side is None else side
    scale = max(float(np.sqrt(max(unit_area.sum(), 1.0) / k)), 1.0)
    angles = np.linspace(0.0, np.pi, directions, endpoint=False)
    axes = np.column_stack([np.cos(angles), np.sin(angles)])

    def value(area, perimeter, barrier):
        return pp(area, perimeter) - barrier_weight * barrier / scale

    def totals(lab):
        return (value(*region_shapes(graph, lab, unit_area, unit_perimeter, k)),
                np.bincount(lab, weights=weights, minlength=k))

    alone = can_stand_alone(np.bincount(side, weights=weights), lower, upper)

    def straddles(members):
        """Whether the units hold two sides of a major barrier that could each stand alone
        (:func:`planning.engine.sides.can_stand_alone`)."""
        return int(alone[np.unique(side[members])].sum()) >= 2

    def outside(sizes):
        return beyond(sizes, lower, upper) > 1e-9

    dirty = np.ones(k, dtype=bool)  # regions redrawn since their pairs were last tried
    for _ in range(rounds):
        changed = np.zeros(k, dtype=bool)
        score, sizes = totals(labels)
        cut = labels[es] != labels[ed]
        pairs = np.unique(np.sort(np.column_stack([labels[es[cut]], labels[ed[cut]]]), axis=1),
                          axis=0)
        pairs = pairs[dirty[pairs].any(1)]
        if not shapes:
            pairs = pairs[outside(sizes[pairs]).any(1)]
        pairs = pairs[np.argsort(score[pairs].sum(1), kind="stable")]  # worst shapes first
        for a, b in pairs.tolist():
            if changed[a] or changed[b]:
                continue  # redrawn this round already: try again next round
            members = np.flatnonzero((labels == a) | (labels == b))
            m = len(members)
            pair = graph.subgraph(members)
            lu = pair.sources()
            once = lu < pair.indices
            lu, lv, sh = lu[once], pair.indices[once], pair.shared[once]
            br = sh * pair.barrier[once]
            w, ua, up = weights[members], unit_area[members], unit_perimeter[members]
            before = score[a] + score[b]
            pair_sizes = np.array([sizes[a], sizes[b]])
            penalty_before = float(penalty(pair_sizes, lower, upper).sum())
            out_before = int(outside(pair_sizes).sum())
            worst_before = float(beyond(pair_sizes, lower, upper).max())
            was_straddling = straddles(members[labels[members] == a]) or \
                straddles(members[labels[members] == b])
            if m <= EXHAUSTIVE_UNITS:
                groups, first, after = _every_split(m, w, ua, up, lu, lv, sh, br, value=value)
            else:
                groups, first, after = _straight_cuts(xy[members], axes, w, ua, up, lu, lv, sh,
                                                      br, value=value)
            second = w.sum() - first
            cut_penalty = penalty(first, lower, upper) + penalty(second, lower, upper)
            out = outside(first).astype(int) + outside(second)
            worst = np.maximum(beyond(first, lower, upper), beyond(second, lower, upper))
            # fewer regions out of band without a worse outlier, or the same count with no
            # more penalty; then a better shape
            fewer_out = (out < out_before) & (worst <= worst_before + 1e-9)
            no_worse = (out <= out_before) & (cut_penalty <= penalty_before + 1e-9)
            better = fewer_out | (no_worse & ((cut_penalty < penalty_before - 1e-9) |
                                              (shapes & (after > before + 1e-4))))
            chosen = np.flatnonzero(better)
            tries = 24 if m > EXHAUSTIVE_UNITS else 256
            chosen = chosen[np.lexsort((-after[chosen], cut_penalty[chosen], out[chosen]))][:tries]
            for c in chosen.tolist():
                group = groups(c)
                same = group[lu] == group[lv]
                matrix = scipy.sparse.csr_matrix(
                    (np.ones(int(same.sum())), (lu[same], lv[same])), shape=(m, m))
                if connected_components(matrix, directed=False)[0] != 2:
                    continue
                one, two = members[group == 0], members[group == 1]
                if not was_straddling and (straddles(one) or straddles(two)):
                    continue
                if (labels[one] == a).sum() < (labels[two] == a).sum():
                    one, two = two, one  # keep each label on the half holding most of it
                labels[one], labels[two] = a, b
                score, sizes = totals(labels)
                changed[[a, b]] = True
                break
        if not changed.any():
            break
        dirty = changed
    return labels
