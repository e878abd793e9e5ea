"""Street blocks made whole again after the partition: a block that fits one region but
ended split goes wholly to one of the regions holding it, where both stay in band.

The partition keeps fitting blocks whole as atoms unless the band cannot be met; then it
releases the blocks of the regions out of band (:meth:`planning.engine.district.District.
partition_blocks`) and is free to split any of them. Often only some had to be split: this
pass gives each split block's smaller parts to the region holding most of it (or, failing
that, the whole block to another region holding part of it) whenever no region leaves the
band, none ends further out, and every region stays connected.
"""

from __future__ import annotations

import numpy as np

from planning.engine.graph import Graph, region_is_connected
from planning.engine.regions import beyond

__all__ = ["mend_blocks"]


def mend_blocks(
    graph: Graph,
    weights: np.ndarray,
    labels: np.ndarray,
    block: np.ndarray,
    *,
    lower: float,
    upper: float,
    rounds: int = 3,
) -> np.ndarray:
    """Labels with as many fitting blocks whole as the band allows.

    Parameters
    ----------
    graph
        Adjacency of the units.
    weights
        Households of each unit.
    labels
        Region of each unit.
    block
        Street block of each unit.
    lower, upper
        The band; a block fits when its households are at most ``upper``.
    """
    labels = labels.copy()
    totals = np.bincount(block, weights=weights)
    for _ in range(rounds):
        sizes = np.bincount(labels, weights=weights)
        moved = False
        for b in np.flatnonzero(totals <= upper).tolist():
            members = np.flatnonzero(block == b)
            held = np.unique(labels[members])
            if len(held) < 2:
                continue
            share = np.array([weights[members[labels[members] == r]].sum() for r in held])
            for target in held[np.argsort(-share, kind="stable")].tolist():
                trial = labels.copy()
                trial[members] = target
                new_sizes = np.bincount(trial, weights=weights, minlength=len(sizes))
                touched = held
                if any(
                    beyond(new_sizes[r], lower, upper) > beyond(sizes[r], lower, upper) + 1e-9
                    for r in touched.tolist()
                ):
                    continue
                if any(new_sizes[r] <= 0 for r in touched.tolist()):
                    continue  # a region may not vanish into its neighbour
                if not all(region_is_connected(graph, trial, r) for r in touched.tolist()):
                    continue
                labels, sizes, moved = trial, new_sizes, True
                break
        if not moved:
            break
    return labels
