"""Balanced, contiguous, compact partition of weighted units on an adjacency graph.

The algorithm, on arrays:

1. **Seeds** from household-weighted k-means (k-means++ start, a few Lloyd steps).
2. **Growth**: an additively weighted graph Voronoi diagram. Each region j has an offset
   ``b_j``; a unit joins the region minimising ``graph_distance(seed_j, unit) - b_j``. One
   multi-source Dijkstra per iteration computes it (each seed is reached through a virtual node
   at cost ``B - b_j``). Offsets rise for light regions and fall for heavy ones, and seeds move to
   their region's weighted centre (a Lloyd step on the graph). Because every unit is assigned
   along its shortest-path tree, every region is connected by construction. Edge costs are
   distances, inflated where a barrier (road, river, railway) lies between two units, so regions
   stop at barriers.
3. **Refinement**: single-unit moves across region borders that reduce the out-of-band
   penalty, most natural (closest to the receiving region, not across a barrier) first, never
   disconnecting the donor; then moves that keep every region in band and make shapes more
   compact.

Units are atoms: a compound that fits the band is one unit, so it is never split. Results are
deterministic for a given ``seed``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import connected_components, dijkstra

__all__ = [
    "Graph",
    "choose_region_count",
    "partition_units",
    "region_is_connected",
    "weighted_kmeans",
]


@dataclass(frozen=True)
class Graph:
    """Undirected graph in CSR form: ``indices[indptr[u]:indptr[u+1]]`` are u's neighbours.

    ``cost`` is the traversal cost of each directed entry (metres, inflated across barriers);
    ``barrier`` marks entries that cross a barrier line.
    """

    indptr: np.ndarray
    indices: np.ndarray
    cost: np.ndarray
    barrier: np.ndarray

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_pairs(
        cls,
        n: int,
        i: np.ndarray,
        j: np.ndarray,
        cost: np.ndarray,
        barrier: np.ndarray | None = None,
    ) -> Graph:
        """Symmetric graph from undirected pairs; duplicate pairs keep the cheapest cost."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        cost = np.asarray(cost, dtype=float)
        barrier = np.zeros(len(i), bool) if barrier is None else np.asarray(barrier, bool)
        keep = i != j
        i, j, cost, barrier = i[keep], j[keep], cost[keep], barrier[keep]
        rows = np.concatenate([i, j])
        cols = np.concatenate([j, i])
        costs = np.concatenate([cost, cost])
        flags = np.concatenate([barrier, barrier])
        order = np.lexsort((costs, cols, rows))
        rows, cols, costs, flags = rows[order], cols[order], costs[order], flags[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, costs, flags = rows[first], cols[first], costs[first], flags[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, rows + 1, 1)
        indptr = np.cumsum(indptr)
        return cls(indptr, cols, np.maximum(costs, 1e-6), flags)

    def subgraph(self, nodes: np.ndarray) -> Graph:
        """The graph induced by ``nodes``, renumbered 0..len(nodes)-1 in the given order."""
        nodes = np.asarray(nodes, dtype=np.int64)
        local = np.full(self.n, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        starts, ends = self.indptr[nodes], self.indptr[nodes + 1]
        counts = ends - starts
        src = np.repeat(np.arange(len(nodes)), counts)
        idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)]) \
            if len(nodes) else np.zeros(0, dtype=np.int64)
        dst = local[self.indices[idx]]
        keep = dst >= 0
        src, dst, idx = src[keep], dst[keep], idx[keep]
        indptr = np.zeros(len(nodes) + 1, dtype=np.int64)
        np.add.at(indptr, src + 1, 1)
        return Graph(np.cumsum(indptr), dst, self.cost[idx], self.barrier[idx])

    def to_csr(self, *, extra_nodes: int = 0) -> scipy.sparse.csr_matrix:
        size = self.n + extra_nodes
        indptr = np.concatenate([self.indptr, np.full(extra_nodes, self.indptr[-1])])
        return scipy.sparse.csr_matrix((self.cost, self.indices, indptr), shape=(size, size))

    def components(self) -> tuple[int, np.ndarray]:
        return connected_components(self.to_csr(), directed=False)


def choose_region_count(total: float, *, target: float) -> int:
    """How many regions: the nearest whole number of targets, at least one."""
    return max(1, round(total / target))


def weighted_kmeans(
    xy: np.ndarray, weights: np.ndarray, k: int, *, seed: int, iterations: int = 12
) -> np.ndarray:
    """Household-weighted k-means centres (k-means++ start), deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    n = len(xy)
    w = np.maximum(np.asarray(weights, dtype=float), 1e-9)
    if k >= n:
        return xy.copy()
    centers = np.empty((k, 2))
    centers[0] = xy[rng.choice(n, p=w / w.sum())]
    nearest = ((xy - centers[0]) ** 2).sum(1)
    for c in range(1, k):
        p = w * nearest
        total = p.sum()
        pick = rng.choice(n, p=p / total) if total > 0 else int(rng.integers(n))
        centers[c] = xy[pick]
        nearest = np.minimum(nearest, ((xy - centers[c]) ** 2).sum(1))
    for _ in range(iterations):
        labels = _nearest_center(xy, centers)
        sums = np.zeros((k, 2))
        np.add.at(sums, labels, xy * w[:, None])
        mass = np.bincount(labels, weights=w, minlength=k)
        moved = mass > 0
        centers[moved] = sums[moved] / mass[moved, None]
    return centers


def _nearest_center(xy: np.ndarray, centers: np.ndarray, block: int = 4096) -> np.ndarray:
    out = np.empty(len(xy), dtype=np.int64)
    for start in range(0, len(xy), block):
        part = xy[start : start + block]
        d = ((part[:, None, :] - centers[None, :, :]) ** 2).sum(2)
        out[start : start + block] = d.argmin(1)
    return out


def _grow(
    graph: Graph, seeds: np.ndarray, offsets: np.ndarray, csr: scipy.sparse.csr_matrix
) -> np.ndarray:
    """Additively weighted graph Voronoi: label per unit (index into seeds)."""
    n, k = graph.n, len(seeds)
    start = offsets.max() - offsets + 1.0
    rows = np.arange(n, n + k)
    extra = scipy.sparse.csr_matrix((start, (rows, seeds)), shape=(n + k, n + k))
    _, _, sources = dijkstra(
        csr + extra, directed=True, indices=rows, min_only=True, return_predecessors=True
    )
    labels = sources[:n] - n
    return np.where(sources[:n] < 0, -1, labels)


def _seed_units(xy: np.ndarray, centers: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """The unit nearest each centre (within the centre's region when labels are given)."""
    k = len(centers)
    seeds = np.empty(k, dtype=np.int64)
    taken: set[int] = set()
    for c in range(k):
        members = np.flatnonzero(labels == c) if labels is not None else np.arange(len(xy))
        if len(members) == 0:
            members = np.arange(len(xy))
        d = ((xy[members] - centers[c]) ** 2).sum(1)
        for candidate in members[np.argsort(d, kind="stable")]:
            if int(candidate) not in taken:
                seeds[c] = candidate
                taken.add(int(candidate))
                break
    return seeds


def _grow_balanced(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    k: int,
    *,
    target: float,
    seed: int,
    iterations: int,
) -> np.ndarray:
    n = graph.n
    csr = graph.to_csr(extra_nodes=k)
    centers = weighted_kmeans(xy, weights, k, seed=seed)
    seeds = _seed_units(xy, centers, None)
    offsets = np.zeros(k)
    extent = np.ptp(xy, axis=0)
    scale = float(np.sqrt(max(extent[0] * extent[1], 1.0) / k))
    best, best_score = None, np.inf
    for it in range(iterations):
        labels = _grow(graph, seeds, offsets, csr)
        sizes = np.bincount(labels[labels >= 0], weights=weights[labels >= 0], minlength=k)
        deviation = (sizes - target) / target
        score = float(np.abs(deviation).max())
        if score < best_score and (labels >= 0).all():
            best, best_score = labels.copy(), score
        step = 0.6 * scale * (1.0 - it / iterations) + 0.1 * scale
        offsets = offsets - step * np.clip(deviation, -1.0, 1.0)
        offsets -= offsets.mean()
        if it % 4 == 3 and it < iterations - 4:
            sums = np.zeros((k, 2))
            np.add.at(sums, labels, xy * weights[:, None])
            mass = np.bincount(labels, weights=weights, minlength=k)
            moved = mass > 0
            centers = centers.copy()
            centers[moved] = sums[moved] / mass[moved, None]
            seeds = _seed_units(xy, centers, labels)
    if best is None:
        best = np.zeros(n, dtype=np.int64)
    return best


def region_is_connected(graph: Graph, labels: np.ndarray, region: int, without: int = -1) -> bool:
    """Whether the units of ``region`` (minus ``without``) form one connected piece."""
    members = np.flatnonzero(labels == region)
    if without >= 0:
        members = members[members != without]
    if len(members) <= 1:
        return True
    seen = {int(members[0])}
    queue = deque([int(members[0])])
    indptr, indices = graph.indptr, graph.indices
    while queue:
        u = queue.popleft()
        for v in indices[indptr[u] : indptr[u + 1]]:
            v = int(v)
            if v != without and v not in seen and labels[v] == region:
                seen.add(v)
                queue.append(v)
    return len(seen) == len(members)


def _penalty(sizes: np.ndarray, lower: float, upper: float) -> np.ndarray:
    return np.maximum(sizes - upper, 0) ** 2 + np.maximum(lower - sizes, 0) ** 2


def _refine(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    k: int,
    *,
    lower: float,
    upper: float,
    target: float,
    barrier_m: float,
    max_passes: int,
    compact_passes: int,
) -> np.ndarray:
    labels = labels.copy()
    n = graph.n
    src = np.repeat(np.arange(n), np.diff(graph.indptr))
    dst = graph.indices
    counts = np.bincount(labels, minlength=k)
    for pass_no in range(max_passes + compact_passes):
        balancing = pass_no < max_passes
        sizes = np.bincount(labels, weights=weights, minlength=k)
        if balancing and not ((sizes > upper) | (sizes < lower)).any():
            continue
        mass = np.bincount(labels, weights=weights, minlength=k)
        sums = np.zeros((k, 2))
        np.add.at(sums, labels, xy * weights[:, None])
        centroid = sums / np.maximum(mass, 1e-9)[:, None]
        a, b = labels[src], labels[dst]
        cut = a != b
        u, to, frm = src[cut], b[cut], a[cut]
        crosses = graph.barrier[cut]
        # one candidate per (unit, receiving region): across a barrier only if every link is
        key = u * k + to
        order = np.lexsort((crosses, key))
        key_sorted = key[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = key_sorted[1:] != key_sorted[:-1]
        pick = order[first]
        u, to, frm, crosses = u[pick], to[pick], frm[pick], crosses[pick]
        w = weights[u]
        before = _penalty(sizes[frm], lower, upper) + _penalty(sizes[to], lower, upper)
        after = _penalty(sizes[frm] - w, lower, upper) + _penalty(sizes[to] + w, lower, upper)
        gain = before - after
        compact = np.hypot(*(xy[u] - centroid[to]).T) - np.hypot(*(xy[u] - centroid[frm]).T)
        compact = compact + barrier_m * crosses
        if balancing:
            ok = gain > 0
        else:
            ok = (gain >= 0) & (compact < -0.05 * barrier_m) & (counts[frm] > 1)
        if not ok.any():
            if balancing:
                continue
            break
        idx = np.flatnonzero(ok)
        idx = idx[np.lexsort((compact[idx], -gain[idx]))] if balancing else \
            idx[np.argsort(compact[idx], kind="stable")]
        touched: set[int] = set()
        moved = 0
        for c in idx:
            r_from, r_to, unit = int(frm[c]), int(to[c]), int(u[c])
            if r_from in touched or r_to in touched or labels[unit] != r_from:
                continue
            if counts[r_from] <= 1:
                continue
            if not region_is_connected(graph, labels, r_from, without=unit):
                continue
            labels[unit] = r_to
            counts[r_from] -= 1
            counts[r_to] += 1
            touched.update((r_from, r_to))
            moved += 1
        if moved == 0 and not balancing:
            break
    return labels


def partition_units(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    *,
    k: int,
    lower: float,
    upper: float,
    seed: int = 0,
    barrier_m: float = 200.0,
    iterations: int = 40,
) -> np.ndarray:
    """Partition connected units into ``k`` connected regions of about ``target`` weight.

    Parameters
    ----------
    graph
        Adjacency of the units; must be connected (partition each component separately).
    xy
        Unit positions in metres (household-weighted centres).
    weights
        Households per unit.
    k
        Number of regions.
    lower, upper
        The size band (households) every region should fall in; growth aims at the mean
        ``weights.sum() / k``.
    seed
        Seed of the k-means start.
    barrier_m
        How many metres of detour a move across a barrier costs in the refinement.

    Returns
    -------
    numpy.ndarray
        Region label 0..k-1 per unit; every region connected and non-empty.
    """
    n = graph.n
    weights = np.asarray(weights, dtype=float)
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    k = min(k, n)
    target = float(weights.sum()) / k
    labels = _grow_balanced(
        graph, xy, weights, k, target=target, seed=seed, iterations=iterations
    )
    labels = _refine(
        graph, xy, weights, labels, k, lower=lower, upper=upper, target=target,
        barrier_m=barrier_m, max_passes=60, compact_passes=10,
    )
    # relabel so the numbering is compact and stable (in order of first unit)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty(labels.max() + 1, dtype=np.int64)
    remap[np.unique(labels)[order]] = np.arange(len(order))
    return remap[labels]
