"""Necks mended: households a region holds only through a strip narrower than 30 m go to the
neighbour they border most.

A partition on a graph of cells keeps every region connected, but connected may mean joined
by the corner of one cell: on the map a planner sees two places, not one. After the partition,
each region is drawn from its cells and opened (eroded and dilated by half the neck width,
:func:`planning.engine.shape.necks`); the households outside its largest piece are handed to
the neighbouring region that shares most border with them, where that keeps both regions as
far in band as they were and leaves the receiver without a neck of its own.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.morphology import opening, opening_piece
from geo.tessellation import dissolve
from planning.engine.graph import Graph, region_is_connected
from planning.engine.regions import beyond
from planning.engine.shape import NECK_WIDTH_M

__all__ = ["mend_necks"]

#: Rounds of mending (each round moves at most one stray piece per region).
ROUNDS = 4


def mend_necks(
    graph: Graph,
    cells: np.ndarray,
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    *,
    lower: float,
    upper: float,
    block: np.ndarray | None = None,
    width_m: float = NECK_WIDTH_M,
) -> np.ndarray:
    """Labels with every stray piece of a necked region moved to a neighbour, where allowed.

    Parameters
    ----------
    graph
        Adjacency of the units (``graph.shared``: border length in metres).
    cells
        The cell of each unit (metres).
    xy, weights
        Position and households of each unit.
    labels
        Region of each unit.
    lower, upper
        The band: a move may take no region out of it, nor leave the two further out of it
        in all than they were.
    block
        Street block of each unit: a stray piece takes along the rest of every block that
        fits ``upper`` it stands in (a block kept whole stays whole).
    """
    labels = labels.copy()
    for _ in range(ROUNDS):
        if not _mend_round(
            graph,
            cells,
            xy,
            weights,
            labels,
            lower=lower,
            upper=upper,
            block=block,
            width_m=width_m,
        ):
            break
    return labels


def _mend_round(
    graph: Graph,
    cells: np.ndarray,
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    *,
    lower: float,
    upper: float,
    block: np.ndarray | None,
    width_m: float,
) -> bool:
    """One round: every necked region not drawn yet this round hands its stray pieces to
    the neighbours that may take them (``labels`` changed in place); whether any moved."""
    src, dst = graph.sources(), graph.indices
    ids, polys = dissolve(cells, labels)
    opened = opening(polys, width_m)
    suspects = ids[shapely.get_num_geometries(opened) > 1]
    sizes = np.bincount(labels, weights=weights)
    moved = False
    touched: set[int] = set()  # drawn before this round's moves: redrawn next round
    for r in suspects.tolist():
        if r in touched:
            continue
        members = np.flatnonzero(labels == r)
        for stray in _stray_pieces(opened[np.searchsorted(ids, r)], members, xy, weights):
            group = stray
            if block is not None:
                group = _whole_blocks(group, members, block, weights, upper)
                if len(group) == len(members):
                    continue
            target = _receiver(
                graph,
                labels,
                group,
                r,
                src=src,
                dst=dst,
                sizes=sizes,
                weights=weights,
                lower=lower,
                upper=upper,
            )
            if target is None or target in touched:
                continue
            trial = labels.copy()
            trial[group] = target
            if not (
                region_is_connected(graph, trial, r) and region_is_connected(graph, trial, target)
            ):
                continue  # the piece holds the region's link, or is in pieces itself
            touched.update((r, target))
            labels[group] = target
            moved_hh = float(weights[group].sum())
            sizes[r] -= moved_hh
            sizes[target] += moved_hh
            moved = True
    return moved


def _stray_pieces(
    opened: shapely.Geometry, members: np.ndarray, xy: np.ndarray, weights: np.ndarray
) -> list[np.ndarray]:
    """The ``members`` of a region in each piece of its opening (``opened``) but the one
    holding most households."""
    piece = opening_piece(opened, xy[members])
    if len(np.unique(piece)) < 2:
        return []
    mass = np.bincount(piece, weights=np.maximum(weights[members], 1e-9))
    main = int(np.argmax(mass))
    return [members[piece == p] for p in np.unique(piece).tolist() if p != main]


def _whole_blocks(
    group: np.ndarray, members: np.ndarray, block: np.ndarray, weights: np.ndarray, upper: float
) -> np.ndarray:
    """``group`` with the other members standing in the same blocks, for blocks that fit."""
    totals = np.bincount(block, weights=weights)
    fitting = np.unique(block[group])
    fitting = fitting[totals[fitting] <= upper]
    extra = members[np.isin(block[members], fitting)]
    return np.union1d(group, extra)


def _receiver(
    graph: Graph,
    labels: np.ndarray,
    group: np.ndarray,
    region: int,
    *,
    src: np.ndarray,
    dst: np.ndarray,
    sizes: np.ndarray,
    weights: np.ndarray,
    lower: float,
    upper: float,
) -> int | None:
    """The neighbouring region that shares most border with ``group`` and may take it."""
    inside = np.zeros(len(labels), dtype=bool)
    inside[group] = True
    edge = inside[src] & ~inside[dst] & (labels[dst] != region)
    if not edge.any():
        return None
    others, at = np.unique(labels[dst[edge]], return_inverse=True)
    border = np.bincount(at.ravel(), weights=graph.shared[edge])
    moving = float(weights[group].sum())
    for k in np.argsort(-border, kind="stable").tolist():
        target = int(others[k])
        # no region leaves the band, and together they end no further out than they were
        before = (beyond(sizes[region], lower, upper), beyond(sizes[target], lower, upper))
        after = (
            beyond(sizes[region] - moving, lower, upper),
            beyond(sizes[target] + moving, lower, upper),
        )
        leaves = any(b <= 1e-9 < a for b, a in zip(before, after, strict=True))
        if not leaves and sum(after) <= sum(before) + 1e-9:
            return target
    return None
