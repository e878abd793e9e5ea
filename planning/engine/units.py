"""The units a partition moves: a compound that fits is one atom, every other site its own;
atoms contracted into a graph of their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

from planning.engine.graph import Graph

__all__ = ["atoms", "connected", "contract", "relabel"]


def atoms(
    nodes: np.ndarray,
    graph: Graph,
    compound: np.ndarray,
    weights: np.ndarray,
    upper: float,
    xy: np.ndarray,
) -> np.ndarray:
    """Atom label per node of ``graph``: a compound that fits ``upper`` is one atom; every
    other node is its own atom.

    A compound whose buildings do not touch (a shop or an unnamed block stands between them)
    takes in the unnamed units inside its outline (convex hull) when that joins it into one
    connected piece that still fits; otherwise each connected part is an atom of its own.
    """
    n = graph.n
    names = compound[nodes]
    frame = pd.DataFrame({"c": pd.Series(names, dtype="object"), "w": weights})
    totals = frame.dropna().groupby("c")["w"].sum()
    fitting = set(totals[totals <= upper].index)
    if not fitting:
        return np.arange(n)
    group = np.array([c if c in fitting else None for c in names], dtype=object)
    unnamed = np.array([c is None for c in names], dtype=bool)
    src = np.repeat(np.arange(n), np.diff(graph.indptr))
    dst = graph.indices
    for name in sorted(fitting):
        members = np.flatnonzero(group == name)
        if len(members) < 2 or connected(graph, members):
            continue
        hull = shapely.convex_hull(shapely.multipoints(xy[members]))
        free = unnamed & (group == None)  # noqa: E711 (object array)
        inside = np.flatnonzero(free & shapely.contains_xy(hull.buffer(1.0), xy[:, 0],
                                                           xy[:, 1]))
        joined = np.concatenate([members, inside])
        if not connected(graph, joined):
            joined = _bridge(graph, members, free, weights,
                             budget=upper - float(weights[members].sum()))
        if weights[joined].sum() <= upper and connected(graph, joined):
            group[joined[~np.isin(joined, members)]] = name
    keyed = group != None  # noqa: E711 (object array)
    same = keyed[src] & keyed[dst] & (group[src] == group[dst])
    same_idx = np.flatnonzero(same)
    m = scipy.sparse.csr_matrix(
        (np.ones(len(same_idx)), (src[same_idx], dst[same_idx])), shape=(n, n)
    )
    return connected_components(m, directed=False)[1]


def _bridge(graph: Graph, members: np.ndarray, free: np.ndarray, weights: np.ndarray, *,
            budget: float) -> np.ndarray:
    """``members`` joined into one piece through the ``free`` units, with as few households
    between as the graph allows: each other part is linked to the largest by its lightest
    path (Dijkstra, a unit costing its households; paths heavier than ``budget`` households
    are not searched). Returns the members plus the units on the paths; still in pieces
    when no such path links them."""
    n = graph.n
    src = np.repeat(np.arange(n), np.diff(graph.indptr))
    dst = graph.indices
    inside = np.zeros(n, dtype=bool)
    inside[members] = True
    usable = (inside | free)[src] & (inside | free)[dst]
    cost = np.where(inside[dst], 0.0, weights[dst]) + 1e-6  # entering a unit costs its households
    matrix = scipy.sparse.csr_matrix((cost[usable], (src[usable], dst[usable])), shape=(n, n))
    joined = members
    for _ in range(len(members)):
        count, comp = graph.subgraph(joined).components()
        if count == 1:
            break
        in_main = np.zeros(n, dtype=bool)
        in_main[joined[comp == np.bincount(comp).argmax()]] = True
        dist, pred, _ = dijkstra(matrix, indices=np.flatnonzero(in_main), min_only=True,
                                 return_predecessors=True, limit=budget + 1e-3)
        rest = joined[~in_main[joined]]
        if not np.isfinite(dist[rest]).any():
            break
        node, path = int(rest[np.argmin(dist[rest])]), []
        while not in_main[node]:  # back along the path to the main part
            path.append(node)
            node = int(pred[node])
        joined = np.union1d(joined, path)
    return joined


def connected(graph: Graph, members: np.ndarray) -> bool:
    return graph.subgraph(members).components()[0] == 1


def relabel(labels: np.ndarray) -> np.ndarray:
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()]


def contract(graph: Graph, atom: np.ndarray, xy: np.ndarray, weights: np.ndarray,
              area: np.ndarray, perimeter: np.ndarray):
    """Atom graph: positions (weighted centres), weights, areas, perimeters and links."""
    m = int(atom.max()) + 1
    w = np.bincount(atom, weights=weights, minlength=m)
    sums = np.zeros((m, 2))
    mass_w = np.maximum(weights, 1e-6)
    np.add.at(sums, atom, xy * mass_w[:, None])
    axy = sums / np.bincount(atom, weights=mass_w, minlength=m)[:, None]
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    a, b = atom[src], atom[graph.indices]
    inside = a == b
    a_area = np.bincount(atom, weights=area, minlength=m)
    a_perimeter = np.bincount(atom, weights=perimeter, minlength=m) - np.bincount(
        a[inside], weights=graph.shared[inside], minlength=m
    )
    keep = a < b
    a, b = a[keep], b[keep]
    edge_m = np.hypot(*(xy[src[keep]] - xy[graph.indices[keep]]).T)
    surcharge = np.clip(graph.cost[keep] - edge_m, 0.0, None)  # what the barrier adds
    cost = np.hypot(*(axy[a] - axy[b]).T) + surcharge
    atom_graph = Graph.from_pairs(m, a, b, cost, graph.barrier[keep], graph.shared[keep])
    return atom_graph, axy, w, a_area, a_perimeter
