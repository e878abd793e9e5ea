"""Borders inside a block made straight at the level of buildings: where two regions meet
inside a street block (no road between them), the buildings near their border are
reassigned by the straight line that separates them best, so the border can be drawn as a
line (:mod:`geo.straighten`) instead of a staircase around single buildings.

For each pair of neighbouring regions and each street block they share, the border is cut
into stretches of about :data:`STRETCH_M`; for each stretch, the buildings of the two regions
within :data:`FRONT_M` of it (its *front*) are ordered along 16 directions and cut by the line
that keeps each region's households in the front where they were (give or take what the band
allows) while moving the fewest households, through an empty band of at least
:data:`MIN_GAP_M` between the buildings (so the line can be drawn between them). The cut is kept when it moves some, both regions
stay connected and no region leaves the band.
"""

from __future__ import annotations

import numpy as np

from planning.engine.graph import Graph, region_is_connected

__all__ = ["straighten_labels"]

#: Buildings within this distance (metres) of a border stretch may change sides.
FRONT_M = 45.0
#: A border longer than this (metres) is straightened stretch by stretch.
STRETCH_M = 160.0
#: Directions tried for the cut.
DIRECTIONS = 16
#: Rounds over every border.
ROUNDS = 0
#: A cut runs through an empty band at least this wide (metres) between the buildings of
#: the front: where the buildings allow no such straight gap (a diagonal through rows of
#: houses), the border is left as it is rather than made a staircase of another kind.
MIN_GAP_M = 2.0


def straighten_labels(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    block: np.ndarray,
    *,
    lower: float,
    upper: float,
) -> np.ndarray:
    """Labels with every border inside a block cut straight (see the module docstring).

    Parameters
    ----------
    graph
        Adjacency of the units (``graph.shared``: border length).
    xy, weights
        Position and households of each unit.
    labels
        Region of each unit.
    block
        Street block of each unit: only borders between units of one block are moved.
    lower, upper
        The band: no region may leave it (one out of it may not go further out).
    """
    labels = labels.copy()
    src, dst = graph.sources(), graph.indices
    for _ in range(ROUNDS):
        moved = False
        sizes = np.bincount(labels, weights=weights)
        inner = (labels[src] < labels[dst]) & (block[src] == block[dst])
        if not inner.any():
            break
        key = np.column_stack([labels[src[inner]], labels[dst[inner]], block[src[inner]]])
        pairs, at = np.unique(key, axis=0, return_inverse=True)
        at = at.ravel()
        for p, (a, b, blk) in enumerate(pairs.tolist()):
            edges = np.flatnonzero(at == p)
            mid = (xy[src[inner][edges]] + xy[dst[inner][edges]]) / 2.0
            for stretch in _stretches(mid):
                changed = _cut_front(
                    graph,
                    xy,
                    weights,
                    labels,
                    sizes=sizes,
                    block=block,
                    regions=(a, b),
                    blk=blk,
                    mid=mid[stretch],
                    band=(lower, upper),
                )
                moved |= changed
        if not moved:
            break
    return labels


def _stretches(mid: np.ndarray) -> list[np.ndarray]:
    """The border's midpoints cut into stretches of about STRETCH_M along its main axis."""
    if len(mid) < 2:
        return [np.arange(len(mid))]
    centred = mid - mid.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    along = centred @ axis
    span = float(along.max() - along.min())
    count = max(1, round(span / STRETCH_M))
    edges = np.linspace(along.min(), along.max() + 1e-9, count + 1)
    which = np.clip(np.searchsorted(edges, along, side="right") - 1, 0, count - 1)
    return [np.flatnonzero(which == k) for k in range(count) if (which == k).any()]


def _cut_front(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    *,
    sizes: np.ndarray,
    block: np.ndarray,
    regions: tuple[int, int],
    blk: int,
    mid: np.ndarray,
    band: tuple[float, float],
) -> bool:
    """Cut one stretch's front (``mid``: the border's midpoints) between ``regions`` inside
    street block ``blk`` straight; True when labels changed."""
    a, b = regions
    lower, upper = band
    angles = np.linspace(0.0, np.pi, DIRECTIONS, endpoint=False)
    axes = np.column_stack([np.cos(angles), np.sin(angles)])
    lo, hi = mid.min(axis=0) - FRONT_M, mid.max(axis=0) + FRONT_M
    near = np.flatnonzero(
        ((labels == a) | (labels == b))
        & (block == blk)
        & (xy[:, 0] >= lo[0])
        & (xy[:, 0] <= hi[0])
        & (xy[:, 1] >= lo[1])
        & (xy[:, 1] <= hi[1])
    )
    if len(near) < 3:
        return False
    distance = np.min(
        np.hypot(xy[near, None, 0] - mid[None, :, 0], xy[near, None, 1] - mid[None, :, 1]), axis=1
    )
    front = near[distance <= FRONT_M]
    if len(front) < 3:
        return False
    w = weights[front]
    is_a = labels[front] == a
    want = float(w[is_a].sum())
    # how far A's households in the front may change: what keeps both in (or no further
    # out of) the band
    slack_down = max(0.0, min(sizes[a] - lower, upper - sizes[b]))
    slack_up = max(0.0, min(upper - sizes[a], sizes[b] - lower))
    best, best_moved = None, np.inf
    for axis in axes:
        t = xy[front] @ axis
        order = np.argsort(t, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(w[order])])
        # the empty band a cut after the c-th building leaves: the line is drawn through it
        ts = t[order]
        gap = np.concatenate([[np.inf], ts[1:] - ts[:-1], [np.inf]])
        # orient: A on the low side when most of A's households lie there
        a_low = np.concatenate([[0.0], np.cumsum((w * is_a)[order])])
        for a_first in (True, False):
            got = cum if a_first else cum[-1] - cum
            ok = (
                (got >= want - slack_down - 1e-9)
                & (got <= want + slack_up + 1e-9)
                & (gap >= MIN_GAP_M)
            )
            if not ok.any():
                continue
            if a_first:
                moved = (cum - a_low) + (a_low[-1] - a_low)  # B-households first, A after
            else:
                moved = a_low + ((cum[-1] - cum) - (a_low[-1] - a_low))
            moved = np.where(ok, moved, np.inf)
            c = int(np.argmin(moved))
            if moved[c] < best_moved - 1e-9:
                best_moved = float(moved[c])
                first = np.zeros(len(front), dtype=bool)
                first[order[:c]] = True
                best = np.where(first == a_first, a, b)
    if best is None or best_moved <= 0 or not (best != labels[front]).any():
        return False
    trial = labels.copy()
    trial[front] = best
    if not (region_is_connected(graph, trial, a) and region_is_connected(graph, trial, b)):
        return False
    new_a = sizes[a] - float(w[is_a].sum()) + float(w[best == a].sum())
    delta = new_a - sizes[a]
    labels[front] = best
    sizes[a] += delta
    sizes[b] -= delta
    return True
