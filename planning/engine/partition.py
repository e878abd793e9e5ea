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
4. **Recombination**: each pair of neighbouring regions is redrawn by the best straight cut
   through its union (every bipartition when the pair holds few units), which moves whole
   groups of units at once where single moves are stuck.

When the mean size itself lies outside the band (a 街道 of 5,800 households makes two
communities of 2,900), the band is re-centred on the mean, a tenth of the band either side,
so the regions come out even and shapes can still improve.

Units are atoms: a compound that fits the band is one unit, so it is never split. Results are
deterministic for a given ``seed``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from planning.engine.graph import Graph, component_labels, region_is_connected, sides
from planning.engine.recombine import recombine
from planning.engine.refine import refine
from planning.engine.regions import penalty, region_pp
from planning.engine.units import Units, relabel

__all__ = ["choose_region_count", "effective_band", "partition_units", "weighted_kmeans"]


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
        sums = _weighted_sums(xy, w, labels, k)
        mass = np.bincount(labels, weights=w, minlength=k)
        moved = mass > 0
        centers[moved] = sums[moved] / mass[moved, None]
    return centers


def _weighted_sums(xy: np.ndarray, w: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(k, 2) sums of ``xy * w`` per label: a bincount per coordinate, which adds in the same
    order as ``np.add.at`` on the rows (the same sums to the last bit) at a fraction of the
    time."""
    return np.column_stack(
        [
            np.bincount(labels, weights=xy[:, 0] * w, minlength=k),
            np.bincount(labels, weights=xy[:, 1] * w, minlength=k),
        ]
    )


def _nearest_center(xy: np.ndarray, centers: np.ndarray, block: int = 8192) -> np.ndarray:
    out = np.empty(len(xy), dtype=np.int64)
    for start in range(0, len(xy), block):
        out[start : start + block] = cdist(
            xy[start : start + block], centers, "sqeuclidean"
        ).argmin(1)
    return out


def _power_labels(
    xy: np.ndarray,
    centers: np.ndarray,
    offsets: np.ndarray,
    *,
    side: np.ndarray | None,
    center_side: np.ndarray,
    barrier_m2: float,
    block: int = 8192,
) -> np.ndarray:
    """argmin over regions of |x − c|² − offset + (barrier penalty if on another side; no
    side given: all on one)."""
    out = np.empty(len(xy), dtype=np.int64)
    for start in range(0, len(xy), block):
        cost = cdist(xy[start : start + block], centers, "sqeuclidean") - offsets
        if side is not None:
            cost += barrier_m2 * (side[start : start + block, None] != center_side[None, :])
        out[start : start + block] = cost.argmin(1)
    return out


def _grow_balanced(
    xy: np.ndarray,
    weights: np.ndarray,
    k: int,
    *,
    lower: float,
    upper: float,
    seed: int,
    iterations: int,
    barrier_m: float,
    side: np.ndarray,
) -> np.ndarray:
    """Balanced power diagram: offsets shift households between neighbouring regions and
    Lloyd steps recentre them; a unit on the far side of a major barrier from a region's
    centre pays ``barrier_m``² extra. Returns the labels with the smallest worst deviation."""
    target = float(weights.sum()) / k
    centers = weighted_kmeans(xy, weights, k, seed=seed)
    extent = np.ptp(xy, axis=0)
    scale2 = max(float(extent[0] * extent[1]), 1.0) / k  # a region's area, m²
    offsets = np.zeros(k)
    best: np.ndarray | None = None
    best_score, best_it = np.inf, 0
    one_side = bool(side.max() == 0)
    w = np.maximum(weights, 1e-9)
    center_side = np.zeros(k, dtype=side.dtype)
    for it in range(iterations):
        if not one_side:
            center_side = side[_nearest_center(centers, xy)]
        labels = _power_labels(
            xy,
            centers,
            offsets,
            side=None if one_side else side,
            center_side=center_side,
            barrier_m2=barrier_m**2,
        )
        sizes = np.bincount(labels, weights=weights, minlength=k)
        deviation = (sizes - target) / target
        score = float(np.abs(deviation).max())
        if score < best_score - 1e-9:
            best, best_score, best_it = labels, score, it  # a new array each iteration
        if it >= 12 and ((sizes >= lower) & (sizes <= upper)).all():
            break
        if it - best_it >= 25:  # no better balance for a while: the units allow no more
            break
        step = 0.5 * scale2 * (1.0 - it / iterations) + 0.05 * scale2
        # clip and mean spelt out: the same arithmetic without their Python wrappers
        offsets = offsets - step * np.minimum(np.maximum(deviation, -1.0), 1.0)
        offsets -= offsets.sum() / k
        if it % 3 == 2 and it < iterations - 6:
            sums = _weighted_sums(xy, w, labels, k)
            mass = np.bincount(labels, weights=w, minlength=k)
            moved = mass > 0
            centers = centers.copy()
            centers[moved] = sums[moved] / mass[moved, None]
    assert best is not None, "no deviation is finite: the units hold no households"
    return best


def _repair_contiguity(graph: Graph, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Keep each region's heaviest connected piece; hand every other piece to the neighbouring
    region it shares the longest border with. Empty regions are left empty."""
    labels = labels.copy()
    src = graph.sources()
    dst = graph.indices
    for _ in range(50):
        same = labels[src] == labels[dst]
        count, piece = component_labels(graph.n, src[same], dst[same])
        mass = np.bincount(piece, weights=np.maximum(weights, 1e-9), minlength=count)
        size = np.bincount(piece, minlength=count)
        region_of_piece = np.zeros(count, dtype=np.int64)
        region_of_piece[piece] = labels
        # main piece per region: heaviest, then largest, then lowest index
        order = np.lexsort((np.arange(count), -size, -mass, region_of_piece))
        first = np.r_[True, region_of_piece[order][1:] != region_of_piece[order][:-1]]
        main = np.zeros(count, dtype=bool)
        main[order[first]] = True
        stray = ~main[piece]
        if not stray.any():
            return labels
        cross = stray[src] & (piece[src] != piece[dst])
        if not cross.any():
            return labels
        key = piece[src[cross]] * (labels.max() + 1) + labels[dst[cross]]
        uniq, inverse = np.unique(key, return_inverse=True)
        border = np.bincount(inverse, weights=graph.shared[cross] + 1e-6)
        p_of, r_of = uniq // (labels.max() + 1), uniq % (labels.max() + 1)
        best = np.lexsort((r_of, -border, p_of))
        pick = best[np.r_[True, p_of[best][1:] != p_of[best][:-1]]]
        target = dict(zip(p_of[pick].tolist(), r_of[pick].tolist(), strict=True))
        # move the lightest stray pieces first, one batch per round
        for p, r in target.items():
            labels[piece == p] = r
    return labels


def _fill_empty(graph: Graph, labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Give every empty region one unit: a unit of the heaviest region whose removal keeps
    that region connected (the balance refinement then grows it)."""
    labels = labels.copy()
    for empty in np.flatnonzero(np.bincount(labels, minlength=k) == 0):
        sizes = np.bincount(labels, weights=np.maximum(weights, 1e-9), minlength=k)
        for donor in np.argsort(-sizes, kind="stable"):
            members = np.flatnonzero(labels == donor)
            if len(members) <= 1:
                continue
            ranked = members[np.argsort(weights[members], kind="stable")]
            unit = next(
                (
                    int(u)
                    for u in ranked
                    if region_is_connected(graph, labels, int(donor), without=int(u))
                ),
                None,
            )
            if unit is not None:
                labels[unit] = empty
                break
    return labels


#: A mean closer than this share of the band to one of its edges is a tight packing: the
#: partition gets twice the attempts (Haidian's communities of ~2,900 households in 10 grids
#: of at most 300: with 6 attempts one seed in five left 3 grids out of band, with 12 none).
TIGHT_SLACK = 0.15


#: Restarts stop once this many attempts in a row left no fewer regions out of band than the
#: best so far (a giant tower no start can fit keeps its region out every time).
STALE_ATTEMPTS = 3


#: With ``recombine_shapes`` False, a partition that still holds a region less compact than
#: this (Polsby-Popper, on the units' cells) has its pairs redrawn for shape after all.
POOR_SHAPE = 0.3


#: Recombination weighs major barrier inside a region at this share of ``barrier_weight``:
#: it already refuses to join two sides of a barrier that could each stand alone, so the rest
#: of the weight would only trade compactness for crossings that are forced anyway.
RECOMBINE_BARRIER_SHARE = 0.3


#: Growth: how many offset updates and Lloyd steps at most.
GROWTH_ITERATIONS = 120
#: Growth: how far (metres) a unit behind a major barrier seems from a region's centre.
GROWTH_BARRIER_M = 300.0


#: Where no region can be in band, they aim for the mean within this share of the band.
EVEN_SPREAD = 0.05


def effective_band(total: float, k: int, lower: float, upper: float) -> tuple[float, float]:
    """The band ``k`` regions of ``total`` households aim for: ``lower``–``upper``, unless
    their mean lies outside it; then no partition can be in band, and the regions aim for
    even sizes instead, within a tenth of the band of the mean (Haidian: two communities of
    ~2,900, not 2,820 and 2,980, whose 10 grids could hardly stay under 300 each)."""
    mean = total / k
    if lower <= mean <= upper:
        return lower, upper
    spread = EVEN_SPREAD * (upper - lower)
    return mean - spread, mean + spread


def partition_units(
    units: Units,
    *,
    k: int,
    lower: float,
    upper: float,
    seed: int = 0,
    barrier_weight: float = 1.0,
    restarts: int = 8,
    recombine_shapes: bool = True,
) -> np.ndarray:
    """Partition connected units into ``k`` connected regions of about ``target`` weight.

    Parameters
    ----------
    units
        The units: their graph (must be connected; partition each component separately),
        household-weighted centres (m), households, and cell areas (m²) and perimeters (m).
        With cells (and ``graph.shared``) the refinement raises the regions' Polsby-Popper
        score; without them (zeros) it prefers moves onto longer shared borders.
    k
        Number of regions.
    lower, upper
        The size band (households) every region should fall in; growth aims at the mean
        ``weights.sum() / k``.
    seed
        Seed of the k-means start.
    barrier_weight
        How much bringing a major barrier inside a region costs in the refinement, in
        Polsby-Popper points per region diameter of barrier.
    restarts
        With few large units (compounds kept whole) the band is a packing problem: when a run
        leaves regions out of band, another starts from other k-means seeds, and the best run
        (fewest out of band, then least penalty, then most compact) is kept.
    recombine_shapes
        Redraw every pair of neighbouring regions for compactness (True), or only pairs
        holding a region out of band, for balance (False: cheaper, for the many small
        partitions of grids; a result that still holds a region less compact than
        :data:`POOR_SHAPE` is then redrawn for shape as well).

    Returns
    -------
    numpy.ndarray
        Region label 0..k-1 per unit; every region connected and non-empty.
    """
    graph = units.graph
    n = graph.n
    units = Units(
        graph,
        units.xy,
        np.asarray(units.weights, dtype=float),
        np.asarray(units.area, dtype=float),
        np.asarray(units.perimeter, dtype=float),
    )
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    k = min(k, n)
    lower, upper = effective_band(float(units.weights.sum()), k, lower, upper)
    side = sides(graph)
    best = _best_start(
        units,
        k,
        lower=lower,
        upper=upper,
        seed=seed,
        restarts=restarts,
        barrier_weight=barrier_weight,
        side=side,
    )

    def redraw(labels: np.ndarray, shapes: bool) -> np.ndarray:
        return recombine(
            units,
            labels,
            k,
            lower=lower,
            upper=upper,
            barrier_weight=barrier_weight * RECOMBINE_BARRIER_SHARE,
            shapes=shapes,
            side=side,
        )

    labels = redraw(best, recombine_shapes)
    if (
        not recombine_shapes
        and units.perimeter.any()
        and region_pp(graph, labels, units.area, units.perimeter, k).min() < POOR_SHAPE
    ):
        labels = redraw(labels, True)  # a sliver: redraw the pairs for shape too
    return relabel(labels)  # numbered in order of first unit


def _best_start(
    units: Units,
    k: int,
    *,
    lower: float,
    upper: float,
    seed: int,
    restarts: int,
    barrier_weight: float,
    side: np.ndarray,
) -> np.ndarray:
    """Grow, repair and refine from other k-means seeds until a run leaves no region out of
    band or :data:`STALE_ATTEMPTS` runs in a row bring no fewer out; the best run (fewest
    out, then least penalty, then most compact)."""
    graph, weights = units.graph, units.weights
    n = graph.n
    mean = float(weights.sum()) / k
    # small problems (few large units) are cheap to retry and need it most, and a mean near
    # an edge of the band leaves little slack for packing them: try those twice as often
    attempts = max(1, restarts * (3 if n < 300 else 1))
    if min(upper - mean, mean - lower) < TIGHT_SLACK * (upper - lower):
        attempts *= 2
    best, best_key = None, None
    last_fewer = 0
    for attempt in range(attempts):
        labels = _grow_balanced(
            units.xy,
            weights,
            k,
            lower=lower,
            upper=upper,
            seed=seed * 7919 + attempt,
            iterations=GROWTH_ITERATIONS,
            barrier_m=GROWTH_BARRIER_M,
            side=side,
        )
        labels = _repair_contiguity(graph, labels, weights)
        labels = _fill_empty(graph, labels, weights, k)
        labels = refine(units, labels, k, lower=lower, upper=upper, barrier_weight=barrier_weight)
        sizes = np.bincount(labels, weights=weights, minlength=k)
        out = int(((sizes < lower) | (sizes > upper)).sum())
        key = (
            out,
            float(penalty(sizes, lower, upper).sum()),
            -float(region_pp(graph, labels, units.area, units.perimeter, k).mean()),
        )
        if best_key is None or key < best_key:
            if best_key is None or out < best_key[0]:
                last_fewer = attempt
            best, best_key = labels, key
        if out == 0:
            break
        if attempt - last_fewer >= STALE_ATTEMPTS:
            break  # the same regions stay out however it starts: the units allow no better
    assert best is not None  # at least one attempt
    return best
