"""The units a partition moves: a compound that fits is one atom, every other site its own;
atoms contracted into a graph of their own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import dijkstra

from planning.engine.graph import Graph

__all__ = ["Units", "atoms", "compound_groups", "connected", "contract", "relabel"]


@dataclass(frozen=True)
class Units:
    """Units to be grouped into regions: their adjacency and, per unit, its position,
    households and cell.

    Attributes
    ----------
    graph
        Adjacency of the units (``graph.shared``: border lengths, m).
    xy
        Household-weighted centre of each unit (m), shape (n, 2).
    weights
        Households per unit.
    area
        Area of each unit's cell (m²); zeros when the units have no cells.
    perimeter
        Perimeter of each unit's cell (m); zeros when the units have no cells.
    """

    graph: Graph
    xy: np.ndarray
    weights: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray


def atoms(
    nodes: np.ndarray,
    graph: Graph,
    compound: np.ndarray,
    weights: np.ndarray,
    upper: float,
    *,
    xy: np.ndarray,
    block: np.ndarray | None = None,
    parcel: np.ndarray | None = None,
    released: frozenset[int] = frozenset(),
    group: np.ndarray | None = None,
) -> np.ndarray:
    """Atom label per node of ``graph``: what a partition with regions of at most ``upper``
    households moves as one.

    - A compound that fits ``upper`` is one atom. A compound whose buildings do not touch (a
      shop or an unnamed block stands between them) takes in the unnamed units inside its
      outline (convex hull) when that joins it into one connected piece that still fits, or
      the lightest path of unnamed units between its parts.
    - A street block (``block``, per node) that fits is one atom, with the compounds standing
      in it when together they still fit; blocks in ``released`` are not (the band could not
      be met with them whole). A block too big for one region is cut into its parcels
      (``parcel``: the block cut by lanes), each fitting parcel an atom.
    - Every other node is its own atom. An atom in several pieces (a block whose buildings
      are not joined inside it) is one atom per piece.
    """
    if group is None:
        group = compound_groups(nodes, graph, compound, weights, upper=upper, xy=xy)
    src, dst = graph.sources(), graph.indices
    same = (group[src] >= 0) & (group[src] == group[dst])
    if block is not None:
        unit = _block_units(
            group, weights, upper=upper, block=block, parcel=parcel, released=released
        )
        same |= (unit[src] >= 0) & (unit[src] == unit[dst])
    return graph.pieces(same)


def compound_groups(nodes, graph, compound, weights, *, upper, xy) -> np.ndarray:
    """Per node: the index of the fitting compound it belongs to (with the unnamed units
    joining its parts), or -1 (what :func:`atoms` takes as ``group``; it does not depend on
    the blocks released, so a caller drawing the same nodes again computes it once)."""
    n = graph.n
    names = compound[nodes]
    frame = pd.DataFrame({"c": pd.Series(names, dtype="object"), "w": weights})
    totals = frame.dropna().groupby("c")["w"].sum()
    fitting = sorted(totals[totals <= upper].index)
    group = np.full(n, -1, dtype=np.int64)
    if not fitting:
        return group
    index = {name: i for i, name in enumerate(fitting)}
    group[:] = [index.get(c, -1) if c is not None else -1 for c in names]
    unnamed = np.array([c is None for c in names], dtype=bool)
    for i in _disconnected_groups(graph, group, len(fitting)).tolist():
        members = np.flatnonzero(group == i)
        hull = shapely.convex_hull(shapely.multipoints(xy[members]))
        free = unnamed & (group < 0)
        inside = np.flatnonzero(free & shapely.contains_xy(hull.buffer(1.0), xy[:, 0], xy[:, 1]))
        joined = np.concatenate([members, inside])
        if not connected(graph, joined):
            joined = _bridge(
                graph, members, free, weights, budget=upper - float(weights[members].sum())
            )
        if weights[joined].sum() <= upper and connected(graph, joined):
            group[joined[~np.isin(joined, members)]] = i
    return group


def _disconnected_groups(graph: Graph, group: np.ndarray, n_groups: int) -> np.ndarray:
    """The groups (0…``n_groups`` − 1) whose nodes stand in more than one connected piece:
    the pieces of the graph with only the links inside a group, counted per group at once."""
    src, dst = graph.sources(), graph.indices
    piece = graph.pieces((group[src] >= 0) & (group[src] == group[dst]))
    named = group >= 0
    pairs = np.unique(np.column_stack([group[named], piece[named]]), axis=0)
    return np.flatnonzero(np.bincount(pairs[:, 0], minlength=n_groups) > 1)


def _block_units(
    group: np.ndarray,
    weights: np.ndarray,
    *,
    upper: float,
    block: np.ndarray,
    parcel: np.ndarray | None,
    released: frozenset[int],
) -> np.ndarray:
    """Per node: the id of the block or parcel it is kept whole with, or -1.

    A block is kept whole when it fits together with the compounds that stand in it (a
    compound reaching out of the block brings its other buildings along); otherwise each
    of its parcels that fits, with its compounds, is."""
    unit = np.full(len(block), -1, dtype=np.int64)
    compound_total = np.bincount(np.maximum(group, 0), weights=weights * (group >= 0))
    levels = [block] if parcel is None else [block, parcel]
    offset = 0
    for level, key in enumerate(levels):
        free = unit < 0
        if level == 0 and released:
            free &= ~np.isin(block, list(released))
        size = int(key.max()) + 1
        # households of each block's own unnamed nodes, plus the whole of every compound
        # standing in it
        own = np.bincount(key[free], weights=weights[free] * (group[free] < 0), minlength=size)
        pairs = np.unique(np.column_stack([key[free], group[free]])[group[free] >= 0], axis=0)
        brought = (
            np.bincount(pairs[:, 0], weights=compound_total[pairs[:, 1]], minlength=size)
            if len(pairs)
            else np.zeros(size)
        )
        fits = own + brought <= upper
        keep = free & fits[key]
        if level == 1:
            # a parcel holding all of its block's households is the block itself: released
            # or too big, it is not kept whole under another name
            whole = np.bincount(block, weights=weights)[block]
            mine = np.bincount(key, weights=weights)[key]
            keep &= mine < whole - 1e-9
        unit[keep] = offset + key[keep]
        offset += size
    return unit


def _bridge(
    graph: Graph, members: np.ndarray, free: np.ndarray, weights: np.ndarray, *, budget: float
) -> np.ndarray:
    """``members`` joined into one piece through the ``free`` units, with as few households
    between as the graph allows: each other part is linked to the largest by its lightest
    path (Dijkstra, a unit costing its households; paths heavier than ``budget`` households
    are not searched). Returns the members plus the units on the paths; still in pieces
    when no such path links them."""
    n = graph.n
    src = graph.sources()
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
        dist, pred, _ = dijkstra(
            matrix,
            indices=np.flatnonzero(in_main),
            min_only=True,
            return_predecessors=True,
            limit=budget + 1e-3,
        )
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


def contract(units: Units, atom: np.ndarray) -> Units:
    """The atoms as units of their own: ``atom`` is the atom of each of ``units``.

    An atom's position is its household-weighted centre, its households and area the sums
    of its units', its perimeter theirs less the borders inside it; two atoms are linked
    where their units are, at the distance between their centres plus whatever barrier
    surcharge the link between the units carried."""
    graph, xy, weights = units.graph, units.xy, units.weights
    area, perimeter = units.area, units.perimeter
    m = int(atom.max()) + 1
    w = np.bincount(atom, weights=weights, minlength=m)
    sums = np.zeros((m, 2))
    mass_w = np.maximum(weights, 1e-6)
    np.add.at(sums, atom, xy * mass_w[:, None])
    axy = sums / np.bincount(atom, weights=mass_w, minlength=m)[:, None]
    src = graph.sources()
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
    atom_graph = Graph.from_pairs(
        m, a, b, cost, barrier=graph.barrier[keep], shared=graph.shared[keep]
    )
    return Units(atom_graph, axy, w, a_area, a_perimeter)
