"""Measures of regions (groups of units) that the partition optimises: the out-of-band
penalty of their sizes and their area, perimeter and major barrier inside."""

from __future__ import annotations

import numpy as np

from planning.engine.graph import Graph
from planning.engine.shape import pp

__all__ = [
    "OUT_OF_BAND_COST",
    "beyond",
    "merge_small",
    "penalty",
    "penalty_beyond",
    "region_pp",
    "region_shapes",
]


#: The out-of-band penalty charges a region for being out of band at all as much as for being
#: this many band widths out. One region ``d`` out costs ``(c·W)² + d²`` and two regions
#: ``d / 2`` out each cost ``2 (c·W)² + d² / 2``, so an unavoidable excess is put in one region
#: while ``d < √2 · c · W`` (about 210 households for grids of 200–300) and spread beyond that.
#: At 0.25 the squared distance won from about 35 households on, and a community of 2,900
#: households in 10 grids ended with three grids of ~330 instead of nine in band and one of
#: ~360-450 (Haidian: 75% of grids in band, now 90%; the built-in sample 93%, now 94%).
OUT_OF_BAND_COST = 1.5


def beyond(sizes, lower: float, upper: float):
    """How far each size lies outside the band ``lower``–``upper`` (0 inside)."""
    if isinstance(sizes, float | int):
        return max(sizes - upper, lower - sizes, 0.0)
    sizes = np.asarray(sizes, dtype=float)
    return np.maximum(sizes - upper, 0.0) + np.maximum(lower - sizes, 0.0)


def penalty(sizes, lower: float, upper: float):
    """Out-of-band penalty: a constant for being out at all, plus the squared distance.

    The constant (:data:`OUT_OF_BAND_COST`) makes the refinement concentrate an unavoidable
    deviation in as few regions as possible, so the rest stay in the band."""
    constant = (OUT_OF_BAND_COST * (upper - lower)) ** 2
    if isinstance(sizes, float):  # the refinement's hot path: plain arithmetic, no arrays
        distance = sizes - upper if sizes > upper else lower - sizes if sizes < lower else 0.0
        return constant + distance * distance if distance > 0 else 0.0
    distance = np.maximum(sizes - upper, 0) + np.maximum(lower - sizes, 0)
    return np.where(distance > 0, constant + distance**2, 0.0)


def penalty_beyond(distance: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """:func:`penalty` of sizes ``distance`` out of band (:func:`beyond` of them), for a
    caller that needs both: the same numbers without measuring the distance again."""
    constant = (OUT_OF_BAND_COST * (upper - lower)) ** 2
    return np.where(distance > 0, constant + distance**2, 0.0)


def region_shapes(
    graph: Graph, labels: np.ndarray, unit_area: np.ndarray, unit_perimeter: np.ndarray, k: int
):
    """(area, perimeter, length of major barrier inside) of each region."""
    src = graph.sources()
    inside = labels[src] == labels[graph.indices]
    owner = labels[src[inside]]
    area = np.bincount(labels, weights=unit_area, minlength=k).astype(float)
    # each shared border appears once per direction: subtracted twice in all, as it should be
    perimeter = np.bincount(labels, weights=unit_perimeter, minlength=k) - np.bincount(
        owner, weights=graph.shared[inside], minlength=k
    )
    barrier = 0.5 * np.bincount(owner, weights=(graph.shared * graph.barrier)[inside], minlength=k)
    return area, perimeter.astype(float), barrier


def region_pp(graph: Graph, labels, unit_area, unit_perimeter, k: int) -> np.ndarray:
    """Polsby-Popper of each region on its units' cells (zeros without cell shapes)."""
    if not unit_perimeter.any():
        return np.zeros(k)
    area, perimeter, _ = region_shapes(graph, labels, unit_area, unit_perimeter, k)
    return pp(area, perimeter)


def merge_small(
    graph: Graph, labels: np.ndarray, weights: np.ndarray, *, lower: float, upper: float
) -> np.ndarray:
    """Regions under ``lower`` merged into a neighbour where the two together still fit
    ``upper``: the smallest first, into the neighbour that makes the merged region closest to
    the middle of the band (then the longest shared border). Returns labels 0… in order of
    first unit; regions that cannot merge stay as they are."""
    labels = labels.copy()
    src, dst = graph.sources(), graph.indices
    middle = (lower + upper) / 2.0
    while True:
        sizes = np.bincount(labels, weights=weights)
        cut = labels[src] != labels[dst]
        a, b = labels[src[cut]], labels[dst[cut]]
        small = [r for r in np.argsort(sizes, kind="stable").tolist() if 0 < sizes[r] < lower]
        merged = False
        for r in small:
            mine = a == r
            if not mine.any():
                continue
            others, at = np.unique(b[mine], return_inverse=True)
            border = np.bincount(at.ravel(), weights=graph.shared[cut][mine])
            fits = sizes[others] + sizes[r] <= upper
            if not fits.any():
                continue
            gap = np.abs(sizes[others] + sizes[r] - middle)
            pick = np.lexsort((-border, gap))
            pick = pick[fits[pick]][0]
            labels[labels == r] = others[pick]
            merged = True
            break
        if not merged:
            _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
            rank = np.empty(len(first), dtype=np.int64)
            rank[np.argsort(first, kind="stable")] = np.arange(len(first))
            return rank[inverse.ravel()]
