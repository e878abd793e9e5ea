"""The sides of the major barriers, and which of them can stand alone: one rule for the
partition (communities never join two sides that can each be communities of their own) and
for the metric that checks it (:func:`planning.engine.metrics.unforced_barrier_crossings`).

A *side* is a connected part of a 街道's sites when the edges across major roads, rivers and
railways are cut; the buildings of a compound that fits one community count as one side with
everything they touch (a compound kept whole may stand on both sides of a road). A side
*stands alone* when a whole number of communities in the band fits its households: m with
m·lower ≤ households ≤ m·upper (1,000 households do not; 3,600 do not: too many for one,
too few for two).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["barrier_sides", "can_stand_alone", "standing_groups"]


def can_stand_alone(households: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Whether each count of households can be split into communities in the band on its
    own: some whole m ≥ 1 with m·lower ≤ households ≤ m·upper."""
    households = np.asarray(households, dtype=float)
    most = np.floor(households / lower)  # at least 1 only from ``lower`` households on
    least = np.maximum(np.ceil(households / upper), 1)
    return most >= least


def barrier_sides(district, nodes: np.ndarray, *, upper: float) -> np.ndarray:
    """Side label (0…) of each of ``nodes``: connected without crossing a major barrier or a
    街道 line, the sites of a compound that fits ``upper`` joined."""
    nodes = np.asarray(nodes, dtype=np.int64)
    graph = district.graph.subgraph(nodes)
    sites = district.sites
    src, dst = graph.sources(), graph.indices
    subdistrict = sites.subdistrict[nodes]
    keep = ~graph.barrier & (subdistrict[src] == subdistrict[dst])
    frame = pd.DataFrame(
        {
            "compound": pd.Series(sites.compound[nodes], dtype="object"),
            "node": np.arange(len(nodes)),
            "h": sites.households[nodes],
        }
    ).dropna()
    fits = frame.groupby("compound")["h"].transform("sum") <= upper
    chained = frame[fits].sort_values(["compound", "node"])
    same = chained["compound"].to_numpy()[1:] == chained["compound"].to_numpy()[:-1]
    links = chained["node"].to_numpy()
    rows = np.concatenate([src[keep], links[:-1][same]])
    cols = np.concatenate([dst[keep], links[1:][same]])
    n = len(nodes)
    matrix = scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(matrix, directed=False)[1]


def standing_groups(district, nodes: np.ndarray, *, lower: float, upper: float) -> np.ndarray:
    """Group label (0…) of each of ``nodes``: the sides of the major barriers, each side that
    cannot stand alone merged into the neighbouring side it shares most border with (the
    smallest first), until every group can stand alone or only one is left. Communities are
    drawn inside one group: a major barrier runs through one only where the households on
    one side of it could not be communities of their own."""
    nodes = np.asarray(nodes, dtype=np.int64)
    side = barrier_sides(district, nodes, upper=upper)
    weights = district.sites.households[nodes]
    graph = district.graph.subgraph(nodes)
    src, dst = graph.sources(), graph.indices
    group = side.copy()
    while True:
        totals = np.bincount(group, weights=weights)
        present = np.flatnonzero(np.bincount(group) > 0)
        if len(present) <= 1:
            break
        weak = present[~can_stand_alone(totals[present], lower, upper)]
        merged = False
        for r in weak[np.argsort(totals[weak], kind="stable")].tolist():
            cross = (group[src] == r) & (group[dst] != r)
            if not cross.any():
                continue  # nothing borders it (a part cut off): it stays as it is
            others, at = np.unique(group[dst[cross]], return_inverse=True)
            border = np.bincount(at.ravel(), weights=graph.shared[cross] + 1e-6)
            group[group == r] = int(others[int(np.argmax(border))])
            merged = True
            break
        if not merged:
            break
    _, group = np.unique(group, return_inverse=True)
    return group.ravel()
