"""Border moves: single units, and chains of them, that bring regions into the band and
then make them more compact."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import numpy as np

from planning.engine.graph import Graph, region_is_connected
from planning.engine.regions import penalty, region_shapes
from planning.engine.shape import pp

__all__ = ["refine"]


@dataclass
class _State:
    """Region sizes, areas and perimeters, updated move by move."""

    labels: np.ndarray
    sizes: np.ndarray
    counts: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray


def _links(graph: Graph, labels: np.ndarray, unit: int, region: int) -> tuple[float, bool]:
    """(shared border, any major barrier) between ``unit`` and ``region``."""
    lo, hi = graph.indptr[unit], graph.indptr[unit + 1]
    mask = labels[graph.indices[lo:hi]] == region
    return float(graph.shared[lo:hi][mask].sum()), bool(graph.barrier[lo:hi][mask].any())


def _barrier_length(graph: Graph, labels: np.ndarray, unit: int, region: int) -> float:
    lo, hi = graph.indptr[unit], graph.indptr[unit + 1]
    mask = (labels[graph.indices[lo:hi]] == region) & graph.barrier[lo:hi]
    return float(graph.shared[lo:hi][mask].sum())


def _score_moves(
    graph: Graph, src, dst, labels, state, weights, unit_area, unit_perimeter, k, *,
    lower, upper, balancing, use_shape, scale, barrier_weight, out_of_band,
):
    """Every border move (unit, to-region), best first, scored in one vectorised pass."""
    _lab_u, lab_v = labels[src], labels[dst]
    key = src * k + lab_v
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
    if balancing:
        keep = out_of_band[frm] | out_of_band[to]
        u, to, frm = u[keep], to[keep], frm[keep]
        s_to, b_to = shared[move][keep], barrier[move][keep]
    else:
        s_to, b_to = shared[move], barrier[move]
    if len(u) == 0:
        return None
    w = weights[u]
    sz = state.sizes
    gain = (penalty(sz[frm], lower, upper) + penalty(sz[to], lower, upper)
            - penalty(sz[frm] - w, lower, upper) - penalty(sz[to] + w, lower, upper))
    s_from = own_shared[u]
    if use_shape:
        a, p = state.area, state.perimeter
        pa = p[frm] - unit_perimeter[u] + 2 * s_from
        pb = p[to] + unit_perimeter[u] - 2 * s_to
        shape = (pp(a[frm] - unit_area[u], pa) + pp(a[to] + unit_area[u], pb)
                 - pp(a[frm], p[frm]) - pp(a[to], p[to]))
    else:
        shape = (s_to - s_from) / max(scale, 1.0)
    score = shape - barrier_weight * (b_to - own_barrier[u]) / max(scale, 1.0)
    if balancing:
        ok = gain > 0
        value = gain / (upper - lower) ** 2 * 1e3 + score
    else:
        ok = (gain >= 0) & (score > 1e-4)
        value = score
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(-value[idx], kind="stable")]
    return list(zip(u[idx].tolist(), to[idx].tolist(), strict=True))


def refine(
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
    balance_passes: int = 80,
    compact_passes: int = 40,
) -> np.ndarray:
    """Border moves: first to bring regions into the band, then to raise Polsby-Popper.

    A move takes one unit from region A to a neighbouring region B. It must leave A
    connected and non-empty. Balance moves must lower the out-of-band penalty; compactness
    moves must not raise it, and must raise PP(A) + PP(B) by more than the weighted length of
    major barrier they bring inside a region.
    """
    labels = labels.copy()
    src = graph.sources()
    dst = graph.indices
    area, perimeter, _ = region_shapes(graph, labels, unit_area, unit_perimeter, k)
    state = _State(
        labels,
        np.bincount(labels, weights=weights, minlength=k).astype(float),
        np.bincount(labels, minlength=k),
        area,
        perimeter,
    )
    use_shape = bool(unit_perimeter.any())
    scale = float(np.sqrt(max(state.area.sum(), 1.0) / k))  # typical region diameter

    def evaluate(unit: int, frm: int, to: int, balancing: bool) -> float | None:
        w = weights[unit]
        s = state.sizes
        gain = (penalty(s[frm], lower, upper) + penalty(s[to], lower, upper)
                - penalty(s[frm] - w, lower, upper) - penalty(s[to] + w, lower, upper))
        if balancing and gain <= 0:
            return None
        if not balancing and gain < 0:
            return None
        s_from, _ = _links(graph, labels, unit, frm)
        s_to, _ = _links(graph, labels, unit, to)
        if use_shape:
            a, p = state.area, state.perimeter
            pa, pb = p[frm] - unit_perimeter[unit] + 2 * s_from, p[to] + unit_perimeter[unit] - \
                2 * s_to
            aa, ab = a[frm] - unit_area[unit], a[to] + unit_area[unit]
            shape = float(pp(aa, pa) + pp(ab, pb) - pp(a[frm], p[frm]) - pp(a[to], p[to]))
        else:
            shape = (s_to - s_from) / max(scale, 1.0)
        barrier = (_barrier_length(graph, labels, unit, to)
                   - _barrier_length(graph, labels, unit, frm)) / max(scale, 1.0)
        score = shape - barrier_weight * barrier
        if balancing:
            return gain / (upper - lower) ** 2 * 1e3 + score
        return score if score > 1e-4 else None

    def apply(unit: int, frm: int, to: int) -> None:
        s_from, _ = _links(graph, labels, unit, frm)
        s_to, _ = _links(graph, labels, unit, to)
        state.perimeter[frm] += -unit_perimeter[unit] + 2 * s_from
        state.perimeter[to] += unit_perimeter[unit] - 2 * s_to
        state.area[frm] -= unit_area[unit]
        state.area[to] += unit_area[unit]
        state.sizes[frm] -= weights[unit]
        state.sizes[to] += weights[unit]
        state.counts[frm] -= 1
        state.counts[to] += 1
        labels[unit] = to

    def greedy_pass(balancing: bool) -> int:
        out_of_band = (state.sizes > upper) | (state.sizes < lower)
        if balancing and not out_of_band.any():
            return 0
        candidates = _score_moves(
            graph, src, dst, labels, state, weights, unit_area, unit_perimeter, k,
            lower=lower, upper=upper, balancing=balancing, use_shape=use_shape, scale=scale,
            barrier_weight=barrier_weight, out_of_band=out_of_band,
        )
        moved = 0
        for unit, to in candidates or ():
            frm = int(labels[unit])
            if frm == to or state.counts[frm] <= 1:
                continue
            if not (labels[graph.indices[graph.indptr[unit]:graph.indptr[unit + 1]]] == to).any():
                continue
            if evaluate(unit, frm, to, balancing) is None:
                continue
            if not region_is_connected(graph, labels, frm, without=unit):
                continue
            apply(unit, frm, to)
            moved += 1
        return moved

    def movable(giver: int, taker: int, want: float) -> int | None:
        """The unit of ``giver`` bordering ``taker`` whose weight is nearest ``want`` and
        whose removal keeps ``giver`` connected."""
        members = np.flatnonzero(labels == giver)
        if len(members) <= 1:
            return None
        border = [int(u) for u in members
                  if (labels[graph.indices[graph.indptr[u]:graph.indptr[u + 1]]] == taker).any()]
        border.sort(key=lambda u: (abs(weights[u] - want), u))
        for u in border[:12]:
            if region_is_connected(graph, labels, giver, without=u):
                return u
        return None

    def path_move(start: int) -> bool:
        """Shift households along a chain of neighbouring regions between an out-of-band
        region and the nearest one with room; kept only if the total penalty falls."""
        over = state.sizes[start] > upper
        a, b = labels[src], labels[dst]
        cut = a != b
        region_adj: dict[int, set[int]] = {}
        for x, y in zip(a[cut].tolist(), b[cut].tolist(), strict=True):
            region_adj.setdefault(x, set()).add(y)
        target = float(weights.sum()) / k
        parent = {start: -1}
        queue = deque([start])
        end = -1
        while queue:
            r = queue.popleft()
            room = (state.sizes[r] < target) if over else (state.sizes[r] > target)
            if r != start and room:
                end = r
                break
            for q in sorted(region_adj.get(r, ())):
                if q not in parent:
                    parent[q] = r
                    queue.append(q)
        if end < 0:
            return False
        path = [end]
        while parent[path[-1]] != -1:
            path.append(parent[path[-1]])
        path.reverse()  # start … end
        if not over:
            path.reverse()  # households flow from the end (surplus) to the start
        saved = (labels.copy(), state.sizes.copy(), state.counts.copy(), state.area.copy(),
                 state.perimeter.copy())
        before = float(penalty(state.sizes, lower, upper).sum())
        want = abs(state.sizes[start] - target)
        for giver, taker in itertools.pairwise(path):
            unit = movable(giver, taker, want)
            if unit is None:
                break
            want = float(weights[unit])
            apply(unit, giver, taker)
        if float(penalty(state.sizes, lower, upper).sum()) < before - 1e-9:
            return True
        labels[:] = saved[0]
        state.sizes[:], state.counts[:], state.area[:], state.perimeter[:] = saved[1:]
        return False

    for _ in range(balance_passes):
        if greedy_pass(True):
            continue
        out = np.flatnonzero((state.sizes > upper) | (state.sizes < lower))
        if not len(out):
            break
        if not any(path_move(int(r)) for r in out[np.argsort(-penalty(state.sizes[out],
                                                                         lower, upper))]):
            break
    for _ in range(compact_passes):
        if not greedy_pass(False):
            break
    return labels
