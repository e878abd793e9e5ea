"""The sides of the major barriers, and which of them can stand alone: one rule for the
partition (communities never join two sides that can each be communities of their own) and
for the metric that checks it (:func:`planning.engine.metrics.unforced_barrier_crossings`).

A *side* is a connected part of a 街道's sites when the edges across major roads, rivers and
railways are cut; the buildings of a compound that fits one community count as one side with
everything they touch (a compound kept whole may stand on both sides of a road). A side
*stands alone* when a whole number of communities in the band fits its households: m with
m·lower ≤ households ≤ m·upper (1,000 households do not; 3,600 do not: too many for one,
too few for two).

Where a part cannot be cut into communities all in the band although its count allows it
(its compounds are too coarse: 4,555 households in compounds of 1,399, 550, 463, 1,779, 252
and 112 make no two communities of 2,250–2,750), it is drawn together with a neighbouring part
across the weakest barrier between them (:func:`part_borders`): a road before a river or a
railway, the longest border first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components

from planning.engine.graph import Graph

__all__ = [
    "BORDER_KINDS",
    "PartBorders",
    "barrier_sides",
    "borders_on",
    "can_stand_alone",
    "open_borders",
    "part_borders",
    "standing_groups",
]

#: The kinds of barrier a border between two parts runs along, the weakest first: a community
#: across a road is better than one across a river or a railway.
BORDER_KINDS = ("road", "river", "railway")


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


@dataclass(frozen=True)
class PartBorders:
    """The borders between neighbouring parts, one row per pair (``first`` < ``second``, part
    indices), with the border's length (m) and the kind of barrier most of it runs along
    (an index into :data:`BORDER_KINDS`)."""

    first: np.ndarray
    second: np.ndarray
    length_m: np.ndarray
    kind: np.ndarray

    def neighbours(self, part: int) -> list[tuple[int, int]]:
        """(neighbouring part, kind of the border) of ``part``, the weakest barrier first:
        the kind in the order of :data:`BORDER_KINDS`, then the longest border."""
        mine = (self.first == part) | (self.second == part)
        other = np.where(self.first[mine] == part, self.second[mine], self.first[mine])
        order = np.lexsort((other, -self.length_m[mine], self.kind[mine]))
        return [(int(other[i]), int(self.kind[mine][i])) for i in order]


def part_borders(district, parts: list[np.ndarray]) -> PartBorders:
    """The borders between ``parts`` (disjoint sets of sites) along the site graph: each pair
    of parts whose sites share a cell border, how long that border is, and whether it runs
    along a road, a river or a railway (by the share of its length whose site-to-site links
    cross a river or railway line of the district's major barriers)."""
    graph, xy = district.graph, district.sites.xy
    owner = np.full(len(xy), -1, dtype=np.int64)
    for index, part in enumerate(parts):
        owner[part] = index
    src, entry = _entries(graph, np.flatnonzero(owner >= 0))
    dst = graph.indices[entry]
    keep = (owner[dst] >= 0) & (owner[src] < owner[dst])
    src, dst, shared = src[keep], dst[keep], graph.shared[entry[keep]]
    kind = _crossed_kind(district, xy[src], xy[dst])
    pair = owner[src] * len(parts) + owner[dst]
    pairs, at = np.unique(pair, return_inverse=True)
    at = at.ravel()
    by_kind = np.zeros((len(pairs), len(BORDER_KINDS)))
    np.add.at(by_kind, (at, kind), shared + 1e-6)
    return PartBorders(
        first=pairs // len(parts),
        second=pairs % len(parts),
        length_m=by_kind.sum(axis=1),
        kind=np.argmax(by_kind, axis=1),
    )


def borders_on(district, nodes: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per site of ``nodes``: whether it shares a cell border with a site of ``other``."""
    graph = district.graph
    near = np.zeros(graph.n, dtype=bool)
    near[other] = True
    src, entry = _entries(graph, np.arange(len(nodes)), rows=np.asarray(nodes, dtype=np.int64))
    return np.bincount(src, weights=near[graph.indices[entry]], minlength=len(nodes)) > 0


def open_borders(district, pairs: list[tuple[np.ndarray, np.ndarray]]):
    """``district`` with the major barriers between the two sites sets of each of ``pairs``
    no longer marked as barriers in its graph (their cost stays): a partition of a part
    joined across a barrier may then draw a community on both sides of it, as compact as any
    other, while the rest of the barriers keep their weight."""
    graph = district.graph
    if not pairs:
        return district
    owner = np.full(graph.n, -1, dtype=np.int64)
    for index, (first, second) in enumerate(pairs):
        owner[first] = 2 * index
        owner[second] = 2 * index + 1
    src, dst = graph.sources(), graph.indices
    opened = (owner[src] >= 0) & (owner[dst] >= 0) & (owner[src] // 2 == owner[dst] // 2)
    opened &= owner[src] != owner[dst]
    barrier = graph.barrier & ~opened
    return replace(
        district, graph=Graph(graph.indptr, graph.indices, graph.cost, barrier, graph.shared)
    )


def _entries(graph, nodes: np.ndarray, *, rows: np.ndarray | None = None):
    """(source, entry) of every edge leaving ``rows`` (default ``nodes``) in the graph's
    CSR arrays, the source given as the matching value of ``nodes``."""
    rows = nodes if rows is None else rows
    counts = graph.indptr[rows + 1] - graph.indptr[rows]
    first_entry = np.repeat(graph.indptr[rows] - (np.cumsum(counts) - counts), counts)
    return np.repeat(nodes, counts), np.arange(int(counts.sum())) + first_entry


def _crossed_kind(district, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per link: the index in :data:`BORDER_KINDS` of the barrier the segment from ``start``
    to ``end`` crosses: a railway or a river when it crosses one (a railway first), else a
    road."""
    kind = np.zeros(len(start), dtype=np.int64)
    frame = district.major_barriers
    if frame is None or not len(start) or "kind" not in frame.columns:
        return kind
    segments = shapely.linestrings(np.stack([start, end], axis=1))
    line_kind = frame["kind"].astype("string").fillna("road").to_numpy(dtype=object)
    for index in range(1, len(BORDER_KINDS)):  # river, then railway over it
        lines = np.asarray(frame.geometry.array, dtype=object)[line_kind == BORDER_KINDS[index]]
        if len(lines):
            hit, _ = shapely.STRtree(lines).query(segments, predicate="intersects")
            kind[np.unique(hit)] = index
    return kind
