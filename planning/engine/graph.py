"""The adjacency graph of units (cells, sites, atoms) in CSR form, and what is asked of it:
neighbours, induced subgraphs, connected pieces, and the sides of the major barriers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["SMALL_GRAPH", "Graph", "component_labels", "region_is_connected", "sides"]

#: Graphs of at most this many nodes have their connected pieces found by label propagation
#: on arrays (about 40 µs for 100 nodes); larger ones by scipy (about 160 µs at any small size,
#: for building the sparse matrix and its transpose, but faster from about 700 nodes on).
SMALL_GRAPH = 512


def component_labels(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected pieces of the undirected graph on ``n`` nodes whose edges join ``src[e]``
    and ``dst[e]`` (each edge in one direction or both): (count, piece of each node).

    Pieces are numbered in order of their lowest node, as
    :func:`scipy.sparse.csgraph.connected_components` numbers them (int32 labels too), so
    either may stand for the other. Small graphs skip scipy's sparse matrices: every node
    takes the lowest label among its neighbours and then its label's label, until no label
    changes; each then holds the lowest node of its piece."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if n > SMALL_GRAPH:
        matrix = scipy.sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
        count, labels = connected_components(matrix, directed=False)
        return int(count), labels
    ends = np.concatenate([src, dst])
    others = np.concatenate([dst, src])
    lowest = np.arange(n)
    while True:
        lower = lowest.copy()
        np.minimum.at(lower, ends, lowest[others])
        lower = lower[lower]
        if np.array_equal(lower, lowest):
            break
        lowest = lower
    root = lowest == np.arange(n)  # the lowest node of each piece
    rank = np.cumsum(root, dtype=np.int32) - 1
    return int(root.sum()), rank[lowest]


@dataclass(frozen=True)
class Graph:
    """Undirected graph in CSR form: ``indices[indptr[u]:indptr[u+1]]`` are u's neighbours.

    ``cost`` is the traversal cost of each directed entry (metres, inflated across barriers);
    ``barrier`` marks entries that cross a major barrier line; ``shared`` is the length of the
    border the two units share (metres), used to track perimeters.
    """

    indptr: np.ndarray
    indices: np.ndarray
    cost: np.ndarray
    barrier: np.ndarray
    shared: np.ndarray

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
        *,
        barrier: np.ndarray | None = None,
        shared: np.ndarray | None = None,
    ) -> Graph:
        """Symmetric graph from undirected pairs. Duplicate pairs keep the cheapest cost,
        cross a barrier if any of them does, and add up their shared lengths."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        cost = np.asarray(cost, dtype=float)
        barrier = np.zeros(len(i), bool) if barrier is None else np.asarray(barrier, bool)
        shared = np.zeros(len(i)) if shared is None else np.asarray(shared, dtype=float)
        keep = i != j
        i, j, cost, barrier, shared = i[keep], j[keep], cost[keep], barrier[keep], shared[keep]
        rows = np.concatenate([i, j])
        cols = np.concatenate([j, i])
        costs = np.concatenate([cost, cost])
        flags = np.concatenate([barrier, barrier])
        lengths = np.concatenate([shared, shared])
        order = np.lexsort((costs, cols, rows))
        rows, cols, costs = rows[order], cols[order], costs[order]
        flags, lengths = flags[order], lengths[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        group = np.cumsum(first) - 1
        total_shared = np.bincount(group, weights=lengths)
        any_barrier = np.bincount(group, weights=flags.astype(float)) > 0
        rows, cols, costs = rows[first], cols[first], costs[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, rows + 1, 1)
        indptr = np.cumsum(indptr)
        return cls(indptr, cols, np.maximum(costs, 1e-6), any_barrier, total_shared)

    def subgraph(self, nodes: np.ndarray) -> Graph:
        """The graph induced by ``nodes``, renumbered 0..len(nodes)-1 in the given order."""
        nodes = np.asarray(nodes, dtype=np.int64)
        local = np.full(self.n, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        starts, ends = self.indptr[nodes], self.indptr[nodes + 1]
        counts = ends - starts
        src = np.repeat(np.arange(len(nodes)), counts)
        # the entries of every node's CSR row, without a Python loop over the nodes
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        dst = local[self.indices[idx]]
        keep = dst >= 0
        src, dst, idx = src[keep], dst[keep], idx[keep]
        indptr = np.zeros(len(nodes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=len(nodes)), out=indptr[1:])
        return Graph(indptr, dst, self.cost[idx], self.barrier[idx], self.shared[idx])

    def to_csr(self, *, extra_nodes: int = 0) -> scipy.sparse.csr_matrix:
        size = self.n + extra_nodes
        indptr = np.concatenate([self.indptr, np.full(extra_nodes, self.indptr[-1])])
        return scipy.sparse.csr_matrix((self.cost, self.indices, indptr), shape=(size, size))

    def components(self) -> tuple[int, np.ndarray]:
        """(count, piece of each node), pieces numbered in order of their lowest node."""
        return component_labels(self.n, self.sources(), self.indices)

    def sources(self) -> np.ndarray:
        """The node each CSR entry starts from (``indices`` holds where it goes).

        Computed once per graph (the partition asks on every pass) and read-only."""
        cached = self.__dict__.get("_sources")
        if cached is None:
            cached = np.repeat(np.arange(self.n), np.diff(self.indptr))
            cached.flags.writeable = False
            self.__dict__["_sources"] = cached  # frozen fields; the cache is no field
        return cached

    def pieces(self, keep: np.ndarray) -> np.ndarray:
        """Connected piece of each node when only the entries where ``keep`` is True count
        (e.g. entries joining two nodes of one region): a label per node, 0…"""
        return component_labels(self.n, self.sources()[keep], self.indices[keep])[1]


def region_is_connected(graph: Graph, labels: np.ndarray, region: int, without: int = -1) -> bool:
    """Whether the units of ``region`` (minus ``without``) form one connected piece.

    With ``without``, a unit whose neighbours in the region are linked among themselves
    (in a planar tessellation: they surround it without a gap) can go without a search."""
    if without >= 0 and _neighbours_linked(graph, labels, region, without):
        return True
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


def sides(graph: Graph) -> np.ndarray:
    """Which side of the major barriers each unit is on: components without barrier edges."""
    return graph.pieces(~graph.barrier)


def _neighbours_linked(graph: Graph, labels: np.ndarray, region: int, unit: int) -> bool:
    """Whether the neighbours of ``unit`` in ``region`` are connected to each other without
    it (through edges among themselves): then removing it keeps the region connected."""
    indptr, indices = graph.indptr, graph.indices
    around = indices[indptr[unit] : indptr[unit + 1]]
    around = around[labels[around] == region]
    if len(around) <= 1:
        return True
    ring = set(around.tolist())
    start = int(around[0])
    seen, stack = {start}, [start]
    while stack:
        u = stack.pop()
        for v in indices[indptr[u] : indptr[u + 1]].tolist():
            if v in ring and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(ring)
