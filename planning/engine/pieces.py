"""Pieces: a study area holding more communities than one partition should draw at once is
cut into pieces first, each partitioned on its own (in parallel), and the seams repaired.

The cut is a balanced recursive bisection of the street blocks (with the compounds that join
them): one side grows from one end of the area's long axis, block by block, and stops where
the border it leaves is shortest (a border along a major road, river or railway counts a
tenth) among the sizes that hold their share of communities. Each side is connected and
holds a whole number of communities; sides still above :data:`PIECE_COMMUNITIES` are cut
again. After the pieces are partitioned, the communities along a seam are redrawn together by
border moves (:func:`planning.engine.refine.refine`), so no community shows where it was.

An area of at most :data:`PIECE_COMMUNITIES` communities is one piece, partitioned as it
always was (same seed, same draws).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from planning.engine.graph import Graph
from planning.engine.refine import refine
from planning.engine.units import Units, atoms, contract

__all__ = ["PIECE_COMMUNITIES", "Piece", "cut_pieces", "piece_seed", "repair_seams", "seam_zones"]

#: Most communities one partition draws at once; a larger area is cut into pieces.
PIECE_COMMUNITIES = 20
#: A border along a major barrier counts this share of its length in choosing a cut.
BARRIER_CUT_SHARE = 0.1
#: How far (in communities' worth of households) a cut may stray from its share to follow a
#: shorter border.
CUT_SLACK_COMMUNITIES = 0.45
#: A cut unit (block with its compounds) holding more than this many communities is cut by
#: its buildings instead.
UNIT_COMMUNITIES = 3


@dataclass(frozen=True)
class Piece:
    """Sites (district indices, ascending) and how many communities to draw in them."""

    nodes: np.ndarray
    k: int


def piece_seed(seed: int, index: int) -> int:
    """The seed of piece ``index`` of a plan seeded ``seed``: a function of the two alone, so
    a piece draws the same whichever worker runs it and in whatever order."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def cut_pieces(
    district, nodes: np.ndarray, *, k: int, upper: float, bound: int = PIECE_COMMUNITIES
) -> list[Piece]:
    """The (connected) sites ``nodes`` cut into connected pieces of at most ``bound``
    communities, ``k`` in all; one piece (``nodes`` themselves) when ``k <= bound``."""
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    if k <= bound:
        return [Piece(nodes, k)]
    out: list[Piece] = []
    stack = [Piece(nodes, k)]
    while stack:
        piece = stack.pop()
        if piece.k <= bound:
            out.append(piece)
            continue
        first, second = _bisect(district, piece, upper=upper)
        stack.extend([second, first])  # the first side is cut (and listed) first
    return out


def _cut_units(
    district, nodes: np.ndarray, graph: Graph, *, upper: float, mean: float
) -> np.ndarray:
    """Unit of the cut per node: its street block, joined with the other blocks a fitting
    compound of it stands in; a unit of more than :data:`UNIT_COMMUNITIES` communities is
    cut into its compounds and single sites."""
    sites = district.sites
    weights = sites.households[nodes]
    n = len(nodes)
    block = (
        np.arange(n)
        if district.site_block is None
        else np.unique(district.site_block[nodes], return_inverse=True)[1].ravel()
    )
    codes, _ = pd.factorize(pd.Series(sites.compound[nodes], dtype="object"))
    named = codes >= 0
    compound_total = (
        np.bincount(codes[named], weights=weights[named]) if named.any() else np.zeros(0)
    )
    fits = named.copy()
    fits[named] = compound_total[codes[named]] <= upper
    n_blocks, n_compounds = int(block.max()) + 1, len(compound_total)
    rows = np.concatenate([np.arange(n), np.flatnonzero(fits)])
    cols = np.concatenate([n + block, n + n_blocks + codes[fits]])
    size = n + n_blocks + n_compounds
    matrix = scipy.sparse.coo_array((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    unit = connected_components(matrix, directed=False)[1][:n]
    unit = np.unique(unit, return_inverse=True)[1].ravel()
    big = np.bincount(unit, weights=weights)[unit] > UNIT_COMMUNITIES * mean
    if big.any():
        small_atoms = atoms(
            np.arange(n), graph, sites.compound[nodes], weights, upper, xy=sites.xy[nodes]
        )
        unit = np.where(big, unit.max() + 1 + small_atoms, unit)
        unit = np.unique(unit, return_inverse=True)[1].ravel()
    return unit


def _bisect(district, piece: Piece, *, upper: float) -> tuple[Piece, Piece]:
    """``piece`` cut in two connected pieces of k//2 and the rest communities (about)."""
    nodes = piece.nodes
    graph = district.graph.subgraph(nodes)
    weights = district.sites.households[nodes]
    total = float(weights.sum())
    mean = total / piece.k
    unit = _cut_units(district, nodes, graph, upper=upper, mean=mean)
    first = _grow_side(
        graph,
        unit,
        weights,
        district.sites.xy[nodes],
        target=total * (piece.k // 2) / piece.k,
        mean=mean,
    )
    first = _connected_sides(graph, first, weights)
    k_first = int(np.clip(round(float(weights[first].sum()) / mean), 1, piece.k - 1))
    return Piece(nodes[first], k_first), Piece(nodes[~first], piece.k - k_first)


def _grow_side(
    graph: Graph,
    unit: np.ndarray,
    weights: np.ndarray,
    xy: np.ndarray,
    *,
    target: float,
    mean: float,
) -> np.ndarray:
    """Per node: on the side grown from the west (or south) end of the long axis, unit by
    neighbouring unit in the order of the axis, stopped at the shortest border among the
    sizes within :data:`CUT_SLACK_COMMUNITIES` of ``target``."""
    m = int(unit.max()) + 1
    src, dst = graph.sources(), graph.indices
    cross = unit[src] != unit[dst]
    length = graph.shared[cross] * np.where(graph.barrier[cross], BARRIER_CUT_SHARE, 1.0) + 1.0
    links = scipy.sparse.csr_array((length, (unit[src][cross], unit[dst][cross])), shape=(m, m))
    links.sum_duplicates()
    unit_weight = np.bincount(unit, weights=weights, minlength=m)
    along = _long_axis(xy, weights, unit, m)
    order = _growth_order(links, along)
    inside = np.zeros(m, dtype=bool)
    grown = np.cumsum(unit_weight[order])
    border = np.empty(m)
    degree = np.asarray(links.sum(axis=1)).ravel()
    cut = 0.0
    for step, u in enumerate(order.tolist()):
        row = slice(links.indptr[u], links.indptr[u + 1])
        cut += degree[u] - 2.0 * float(links.data[row][inside[links.indices[row]]].sum())
        inside[u] = True
        border[step] = cut
    stray = np.abs(grown - target) / mean
    candidates = np.flatnonzero(stray <= CUT_SLACK_COMMUNITIES)
    if len(candidates) == 0:
        stop = int(np.argmin(stray))
    else:
        scale = max(float(np.median(border[candidates])), 1.0)
        stop = int(candidates[np.argmin(border[candidates] / scale + stray[candidates])])
    side = np.zeros(m, dtype=bool)
    side[order[: stop + 1]] = True
    return side[unit]


def _long_axis(xy: np.ndarray, weights: np.ndarray, unit: np.ndarray, m: int) -> np.ndarray:
    """Position of each unit's centre along the long axis of the households."""
    w = np.maximum(weights, 1e-3)
    mass = np.bincount(unit, weights=w, minlength=m)
    centre = (
        np.column_stack(
            [
                np.bincount(unit, weights=xy[:, 0] * w, minlength=m),
                np.bincount(unit, weights=xy[:, 1] * w, minlength=m),
            ]
        )
        / mass[:, None]
    )
    mean = np.average(centre, axis=0, weights=mass)
    spread = np.cov((centre - mean).T, aweights=mass)
    axis = np.linalg.eigh(spread)[1][:, -1]
    if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
        axis = -axis  # one direction whatever the solver returns
    return (centre - mean) @ axis


def _growth_order(links: scipy.sparse.csr_array, along: np.ndarray) -> np.ndarray:
    """Units in the order a side grows: from the lowest ``along``, always the lowest of the
    units touching what has grown (then of the rest, where nothing touches)."""
    m = len(along)
    queued = np.zeros(m, dtype=bool)
    by_axis = np.argsort(along, kind="stable").tolist()
    heap: list[tuple[float, int]] = []
    order: list[int] = []
    while len(order) < m:
        if not heap:
            start = next(u for u in by_axis if not queued[u])
            queued[start] = True
            heap.append((float(along[start]), start))
        _, u = heapq.heappop(heap)
        order.append(u)
        for v in links.indices[links.indptr[u] : links.indptr[u + 1]].tolist():
            if not queued[v]:
                queued[v] = True
                heapq.heappush(heap, (float(along[v]), v))
    return np.asarray(order, dtype=np.int64)


def _connected_sides(graph: Graph, first: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``first`` with the stray parts of each side given to the other: the second side keeps
    its heaviest connected part, then the first side does."""
    first = first.copy()
    for keep_first in (False, True):
        mine = np.flatnonzero(first == keep_first)
        count, part = graph.subgraph(mine).components()
        if count <= 1:
            continue
        heaviest = int(np.argmax(np.bincount(part, weights=weights[mine] + 1e-9)))
        first[mine[part != heaviest]] = not keep_first
    return first


def repair_seams(
    district,
    nodes: np.ndarray,
    labels: np.ndarray,
    piece: np.ndarray,
    *,
    lower: float,
    upper: float,
) -> np.ndarray:
    """Labels of ``nodes`` with the communities along the seams between pieces redrawn
    together by border moves (compounds kept whole): into the band, then more compact.

    ``labels`` and ``piece`` are per node of ``nodes``; the result is a new array."""
    nodes = np.asarray(nodes, dtype=np.int64)
    graph = district.graph.subgraph(nodes)
    src, dst = graph.sources(), graph.indices
    seam = piece[src] != piece[dst]
    along = np.union1d(labels[src[seam]], labels[dst[seam]])
    if len(along) < 2:
        return labels.copy()
    zone = np.flatnonzero(np.isin(labels, along))
    sites = district.sites
    sub = graph.subgraph(zone)
    zone_nodes = nodes[zone]
    weights = sites.households[zone_nodes]
    atom = atoms(zone_nodes, sub, sites.compound, weights, upper, xy=sites.xy[zone_nodes])
    # an atom never spans two communities: the moves start from the labels as they are
    atom = np.unique(atom * (int(labels.max()) + 1) + labels[zone], return_inverse=True)[1]
    atom = atom.ravel()
    units = contract(
        Units(
            sub,
            sites.xy[zone_nodes],
            weights,
            district.cell_area[zone_nodes],
            district.cell_perimeter[zone_nodes],
        ),
        atom,
    )
    first = np.unique(atom, return_index=True)[1]
    local = np.searchsorted(along, labels[zone][first])
    moved = refine(units, local, len(along), lower=lower, upper=upper, barrier_weight=1.0)
    out = labels.copy()
    out[zone] = along[moved[atom]]
    return out


def seam_zones(
    district, nodes: np.ndarray, labels: np.ndarray, piece: np.ndarray
) -> list[np.ndarray]:
    """Per pair of neighbouring pieces (in order), the labels of the communities along the
    seam between them, on both sides."""
    graph = district.graph.subgraph(np.asarray(nodes, dtype=np.int64))
    src, dst = graph.sources(), graph.indices
    seam = piece[src] < piece[dst]
    pairs = np.unique(np.column_stack([piece[src[seam]], piece[dst[seam]]]), axis=0)
    zones = []
    for a, b in pairs.tolist():
        here = seam & (piece[src] == a) & (piece[dst] == b)
        zones.append(np.union1d(labels[src[here]], labels[dst[here]]))
    return zones
