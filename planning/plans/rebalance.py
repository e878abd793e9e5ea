"""Rebalance an existing plan: keep what is in the band, split the oversized, merge the
clearly small.

Seed 002 (宁波市社区建设): oversized communities are "adjusted after consultation"
(适度调整, 不搞一刀切) and clearly small ones (规模明显偏小) "merged as circumstances allow".
So :func:`rebalance`:

1. tessellates the district around the buildings, with the existing community boundaries as
   extra cut lines (so a community kept as it was keeps its outline as closely as the study
   area allows), and assigns every building to the existing polygon it lies in;
2. cleans what an inherited plan gets wrong: buildings outside every polygon (gaps), the part
   of a community in another 街道 than most of its households, and parts cut off from the rest
   join the neighbouring community they share the longest border with (counted in the
   report); households no community borders form new communities;
3. keeps every community within the band untouched: same buildings, same id, same name;
4. splits each oversized community into k = round(households / target) ≥ 2 parts;
5. merges each clearly small community (below the band's lower edge by more than
   ``small_margin`` × target) with the neighbour that best fits: the one that makes the merged
   community (re-split into round(total / target) parts when it is large) closest to the
   target, in the band first;
   then whatever still misses the band (an oversized community with k = 1, e.g. 2,900 of
   2,500 ± 10%; a split or a merge whose parts miss it) is redrawn together with an
   out-of-band neighbour when the whole then fits; what cannot be helped is kept and reported
   with the reason (e.g. "consider 一社多站");
6. draws grids where membership changed (and everywhere when no grids are given); a kept
   community keeps its given grids when they are valid;
7. draws the polygons with their borders snap-rounded together on a 5 cm grid: the existing
   boundaries run millimetres beside the roads and 街道 borders they follow (as two layers
   digitised or rounded apart do), and the cells between such lines are slivers that would
   leave spikes and pinches in the polygons; on the grid they vanish, and every polygon stays
   valid when an export rounds it to 1 cm. Memberships are not touched.

Stability is the share of households whose community keeps its id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.cluster.hierarchy import DisjointSet

from geo.errors import InfeasibleError, InputFormatError
from geo.intake import Households
from geo.tessellation import dissolve
from planning.engine.district import District, prepare_district
from planning.engine.partition import choose_region_count
from planning.engine.propose import Proposal, plan_grids
from planning.params import ProposeParams
from planning.plans.matching import match_by_households
from planning.plans.numbering import fresh_new_ids, fresh_part_ids
from planning.plans.plan import (
    Plan,
    SubdistrictShapes,
    building_frame,
    community_frame,
    discontiguous_labels,
    grid_frame,
    mend_pieces,
    number_grids,
    plan_from_labels,
)
from planning.records import Infeasible, Note

__all__ = [
    "OutOfBand",
    "Rebalance",
    "RebalanceError",
    "RebalanceReport",
    "Regrouping",
    "locate_in_polygons",
    "rebalance",
]

#: How the existing boundaries enter the tessellation: as minor-road cut lines (cells follow
#: them; partitions may still cross them).
_EXISTING_LINE = {
    "kind": "road",
    "road_class": "residential",
    "name": "existing community boundary",
}
#: The grid the rebalanced polygons' borders are snap-rounded on (m): no vertex then lies
#: closer than half of it to an edge it is not on, more than an export's rounding to 1e-7°
#: (about 1 cm) moves two of them together.
_POLYGON_GRID_M = 0.05
#: The grid the snapped borders are noded with the outline on (m): the district's own (1 µm).
_NODE_GRID_M = 1e-6


def _existing_lines(existing: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    lines = shapely.union_all(shapely.boundary(np.asarray(existing.geometry.array)))
    parts = shapely.get_parts(shapely.line_merge(lines)) if not lines.is_empty else []
    parts = [p for p in parts if p.geom_type == "LineString"]
    frame = pd.DataFrame({k: [v] * len(parts) for k, v in _EXISTING_LINE.items()})
    return gpd.GeoDataFrame(frame, geometry=parts, crs=existing.crs)


def _with_existing_lines(
    barriers: gpd.GeoDataFrame | None, existing: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    lines = _existing_lines(existing.to_crs("EPSG:4326"))
    if barriers is None or not len(barriers):
        return lines
    cols = ["kind", "road_class", "name"]
    base = barriers.to_crs("EPSG:4326")
    base = gpd.GeoDataFrame(
        base[[c for c in cols if c in base.columns]], geometry=base.geometry.array, crs="EPSG:4326"
    )
    return gpd.GeoDataFrame(pd.concat([base, lines], ignore_index=True), crs="EPSG:4326")


def locate_in_polygons(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the polygon holding each point, -1 in none; how many polygons hold it). A
    point in several polygons (overlapping boundaries) counts in the first, in input order.
    Both arrays of shapely geometries in one CRS."""
    point_idx, poly_idx = shapely.STRtree(polygons).query(points, predicate="intersects")
    located = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((poly_idx, point_idx))
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    located[point_idx[first]] = poly_idx[first]
    return located, np.bincount(point_idx, minlength=len(points))


def _locate(district: District, existing: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(existing community index per site or -1, number of polygons covering each site)."""
    geoms = np.asarray(existing.to_crs(district.metric_crs).geometry.array, dtype=object)
    return locate_in_polygons(shapely.points(district.sites.xy), geoms)


def _clean(district: District, label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop (set -1) the sites of a community outside its main 街道 and the parts cut off
    from its main piece. Returns (labels, across-街道 mask, cut-off mask)."""
    label = label.copy()
    weights = district.sites.households
    subdistrict = district.sites.subdistrict
    across = np.zeros(len(label), dtype=bool)
    cut = np.zeros(len(label), dtype=bool)
    for c in np.unique(label[label >= 0]).tolist():
        members = np.flatnonzero(label == c)
        per_subdistrict = pd.Series(weights[members]).groupby(subdistrict[members]).sum()
        main = int(per_subdistrict.sort_values(ascending=False, kind="stable").index[0])
        away = members[subdistrict[members] != main]
        across[away] = True
        label[away] = -1
        members = members[subdistrict[members] == main]
        parts = district.components(members)
        if len(parts) > 1:
            parts.sort(key=lambda p: (-float(weights[p].sum()), int(p.min())))
            for part in parts[1:]:
                cut[part] = True
                label[part] = -1
    return label, across, cut


def _fill(district: District, label: np.ndarray) -> np.ndarray:
    """Unlabelled sites join the labelled neighbour they share the longest border with,
    spreading outwards round by round."""
    graph = district.graph
    label = label.copy()
    src = graph.sources()
    dst = graph.indices
    while True:
        open_edges = (label[src] < 0) & (label[dst] >= 0)
        if not open_edges.any():
            return label
        frame = pd.DataFrame(
            {
                "s": src[open_edges],
                "c": label[dst[open_edges]],
                "w": graph.shared[open_edges] + 1e-9,
            }
        )
        sums = frame.groupby(["s", "c"], as_index=False)["w"].sum()
        sums = sums.sort_values(["s", "w", "c"], ascending=[True, False, True])
        best = sums.drop_duplicates("s")
        label[best["s"].to_numpy()] = best["c"].to_numpy()


class _Grouping:
    """Which communities are drawn together: a disjoint set over community labels, the
    households of each group (held at its smallest label, the group's root) and the band
    tests that decide whether a group still changes or misses the band."""

    def __init__(self, member_h: np.ndarray, *, params: ProposeParams, small_below: float):
        self.member_h = member_h
        self.params = params
        self.small_below = small_below
        self.lower, self.upper = params.community_band
        self.sets = DisjointSet(range(len(member_h)))
        self.total = member_h.astype(float).copy()
        self.present = [c for c in range(len(member_h)) if member_h[c] > 0]
        target = params.community_size
        self.split_alone = {
            c
            for c in self.present
            if member_h[c] > self.upper and choose_region_count(member_h[c], target=target) >= 2
        }

    def root(self, c: int) -> int:
        """The smallest label of the group of ``c``."""
        return int(min(self.sets.subset(c)))

    def merge(self, a: int, b: int) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.sets.merge(ra, rb)
            self.total[min(ra, rb)] += self.total[max(ra, rb)]

    def members(self, root: int) -> list[int]:
        """The labels with households in the group of ``root``, ascending."""
        return sorted(c for c in self.sets.subset(root) if self.member_h[c] > 0)

    def in_band(self, households: float) -> bool:
        return self.lower <= households <= self.upper

    def changing(self, root: int) -> bool:
        """Whether the group is drawn again (so a neighbour may join it)."""
        group = self.members(root)
        return (
            len(group) > 1
            or group[0] in self.split_alone
            or not self.in_band(self.member_h[group[0]])
        )

    def misses(self, root: int) -> bool:
        """Whether the group, as it would be drawn, still misses the band."""
        return not _fits(self.total[root], self.params)[0] or (
            len(self.members(root)) == 1
            and root not in self.split_alone
            and not self.in_band(self.total[root])
        )

    def groups(self) -> dict[int, list[int]]:
        """The labels with households per group root, by root."""
        out: dict[int, list[int]] = {}
        for c in self.present:
            out.setdefault(self.root(c), []).append(c)
        return dict(sorted(out.items()))


def _neighbours(district: District, label: np.ndarray) -> pd.DataFrame:
    """Pairs of adjacent community labels with their shared border length (m)."""
    graph = district.graph
    src = graph.sources()
    a, b = label[src], label[graph.indices]
    cross = a != b
    frame = pd.DataFrame({"a": a[cross], "b": b[cross], "m": graph.shared[cross]})
    return frame.groupby(["a", "b"], as_index=False)["m"].sum()


def _fits(total: float, params: ProposeParams) -> tuple[bool, float]:
    """(mean in band, distance of the mean from the target) when ``total`` households are
    drawn as round(total / target) communities."""
    k = choose_region_count(total, target=params.community_size)
    mean = total / k
    lower, upper = params.community_band
    return lower <= mean <= upper, abs(mean - params.community_size)


def _keep_grids(
    district: District,
    community: np.ndarray,
    candidates: list[tuple[int, str]],
    grids: gpd.GeoDataFrame | None,
    params: ProposeParams,
) -> tuple[np.ndarray, dict[int, str], set[int]]:
    """The given grids of the communities ``candidates`` (label, id) where they are valid:
    every building in one of the community's grids, each grid one piece and in no other
    community, at most ``max_grids``. Returns (index into ``grids`` per site or -1, grid id
    per index, the community labels whose grids are kept)."""
    grid = np.full(len(community), -1, dtype=np.int64)
    if grids is None or not len(grids):
        return grid, {}, set()
    located, _ = _locate(district, grids)
    gid = grids["grid_id"].astype(str).tolist()
    owner = grids["community_id"].astype(str).tolist() if "community_id" in grids.columns else None
    kept: set[int] = set()
    used: set[int] = set()
    for c, cid in candidates:
        members = np.flatnonzero(community == c)
        g = located[members]
        mine = set(np.unique(g).tolist())
        if (g < 0).any() or len(mine) > params.max_grids or mine & used:
            continue
        if owner is not None and any(owner[x] != cid for x in mine):
            continue
        if len(discontiguous_labels(district.graph.subgraph(members), g)):
            continue
        grid[members] = g
        used |= mine
        kept.add(c)
    return grid, dict(enumerate(gid)), kept


@dataclass(frozen=True)
class Regrouping:
    """Existing communities drawn again together (``sources``) and the communities they
    became (``results``)."""

    sources: tuple[str, ...]
    results: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        """As ``summary.json`` holds it: ``from`` and ``to``."""
        return {"from": list(self.sources), "to": list(self.results)}


@dataclass(frozen=True)
class OutOfBand:
    """A community (or communities drawn together, ids joined by ``+``) left outside the
    band, and why."""

    community_id: str
    households: int
    reason: Note

    def as_dict(self, lang: str = "en") -> dict:
        """As ``summary.json`` holds it (the reason in ``lang``)."""
        return {
            "community_id": self.community_id,
            "households": self.households,
            "reason": self.reason.text(lang),
        }


@dataclass(frozen=True)
class RebalanceReport:
    """What :func:`rebalance` found and did.

    Attributes
    ----------
    stability
        Share of all households whose community keeps its id.
    stability_of_assigned
        The same among the households that had a community.
    households, households_keep_community
        All households; those whose community keeps its id.
    households_outside_existing, buildings_outside_existing
        In no existing community (assigned to a neighbour).
    households_in_overlaps
        In more than one existing community (the first in input order wins).
    households_across_street, households_cut_off
        In the part of a community outside its main 街道; in a part cut off from the rest.
    existing_communities, existing_empty
        Existing communities read; the ids of those without a household.
    communities
        Communities of the rebalanced plan.
    kept, adjusted
        Ids kept as they were; kept with their gaps filled or parts given away.
    split, merged, redrawn_together
        The communities split, merged, and drawn again together with a neighbour.
    new
        Ids of communities drawn where no existing one borders.
    kept_out_of_band
        What is left outside the band, with the reason.
    small_below
        Households below which a community is clearly small (merged).
    """

    stability: float
    stability_of_assigned: float
    households: int
    households_keep_community: int
    households_outside_existing: int
    buildings_outside_existing: int
    households_in_overlaps: int
    households_across_street: int
    households_cut_off: int
    existing_communities: int
    existing_empty: tuple[str, ...]
    communities: int
    kept: tuple[str, ...]
    adjusted: tuple[str, ...]
    split: tuple[Regrouping, ...]
    merged: tuple[Regrouping, ...]
    redrawn_together: tuple[Regrouping, ...]
    new: tuple[str, ...]
    kept_out_of_band: tuple[OutOfBand, ...]
    small_below: float

    def as_dict(self) -> dict:
        """The report as ``summary.json`` holds it under ``rebalance``."""
        return {
            "stability": self.stability,
            "stability_of_assigned": self.stability_of_assigned,
            "households": self.households,
            "households_keep_community": self.households_keep_community,
            "households_outside_existing": self.households_outside_existing,
            "buildings_outside_existing": self.buildings_outside_existing,
            "households_in_overlaps": self.households_in_overlaps,
            "households_across_street": self.households_across_street,
            "households_cut_off": self.households_cut_off,
            "existing_communities": self.existing_communities,
            "existing_empty": list(self.existing_empty),
            "communities": self.communities,
            "kept": list(self.kept),
            "adjusted": list(self.adjusted),
            "split": [r.as_dict() for r in self.split],
            "merged": [r.as_dict() for r in self.merged],
            "redrawn_together": [r.as_dict() for r in self.redrawn_together],
            "new": list(self.new),
            "kept_out_of_band": [k.as_dict() for k in self.kept_out_of_band],
            "small_below": self.small_below,
        }


@dataclass(frozen=True, eq=False)
class Rebalance:
    """The outcome of :func:`rebalance`.

    Attributes
    ----------
    plan
        The rebalanced plan (editable as a scenario base).
    proposal
        The same as :func:`planning.engine.propose.propose` returns it (frames in the metric CRS),
        so the writers and metrics of ``propose`` apply; ``communities`` has extra columns
        ``status`` (kept, adjusted, split, merged, new) and ``source_ids``.
    report
        What was found and done (:class:`RebalanceReport`).
    """

    plan: Plan
    proposal: Proposal
    report: RebalanceReport


class RebalanceError(InfeasibleError):
    """Today's communities cannot be rebalanced; ``record`` says why in either language.

    ``str(error)`` is the English text."""

    def __init__(self, record: Note) -> None:
        super().__init__(record.text("en"))
        self.record = record


@dataclass(frozen=True, eq=False)
class _Assignment:
    """Every site's existing community, cleaned and filled (phase 1–2 of the module
    docstring). ``label`` indexes ``ids`` / ``names``: the input communities, then the new
    ones (``new_ids``)."""

    origin: np.ndarray  # existing community per site or -1
    cover: np.ndarray  # existing polygons covering each site
    across: np.ndarray  # dropped: outside the community's main 街道
    cut: np.ndarray  # dropped: cut off from the community's main piece
    label: np.ndarray
    ids: tuple[str, ...]
    names: tuple[str, ...]
    new_ids: tuple[str, ...]


def _require_communities(communities: gpd.GeoDataFrame) -> None:
    if "community_id" not in communities.columns or not len(communities):
        raise InputFormatError(
            "communities: expected polygons with a community_id column (as read_communities "
            f"returns them); found {len(communities)} rows and columns "
            f"{', '.join(map(str, communities.columns))}; fix: read the layer with "
            "geo.layers.read_communities."
        )


def _assign(district: District, existing: gpd.GeoDataFrame, params: ProposeParams) -> _Assignment:
    """Locate every site in the existing communities, clean, fill; households no community
    borders form new communities."""
    input_ids = existing["community_id"].astype(str).tolist()
    names = existing["name"].astype(str).tolist() if "name" in existing.columns else list(input_ids)
    origin, cover = _locate(district, existing)
    label, across, cut = _clean(district, origin)
    label = _fill(district, label)
    orphans = np.flatnonzero(label < 0)
    if len(orphans) == len(label):
        raise RebalanceError(Note.of("rebalance.no_building_near"))
    lower, upper = params.community_band
    weights = district.sites.households
    ids, new_ids = list(input_ids), []
    for part in district.components(orphans):
        k = choose_region_count(float(weights[part].sum()), target=params.community_size)
        parts = district.partition_sites(part, k=k, lower=lower, upper=upper, seed=params.seed)
        fresh = fresh_new_ids(int(parts.max()) + 1, taken=ids)
        for p, (new_id, new_name) in enumerate(fresh):
            label[part[parts == p]] = len(ids)
            ids.append(new_id)
            names.append(new_name)
            new_ids.append(new_id)
    return _Assignment(origin, cover, across, cut, label, tuple(ids), tuple(names), tuple(new_ids))


def _merge_small(grouping: _Grouping, pairs: pd.DataFrame, ids: tuple[str, ...]) -> list[OutOfBand]:
    """Merge each clearly small community with the neighbour that best fits (an in-band one
    if need be); those without a neighbour are kept out of band."""
    member_h = grouping.member_h
    small_below = grouping.small_below
    kept_out: list[OutOfBand] = []
    for c in sorted(
        (c for c in grouping.present if member_h[c] < small_below),
        key=lambda c: (member_h[c], ids[c]),
    ):
        mine = grouping.root(c)
        if grouping.total[mine] >= small_below:
            continue  # a smaller neighbour already merged into it
        near = pairs[pairs["a"] == c]
        options = []
        for b, m in zip(near["b"].tolist(), near["m"].tolist(), strict=True):
            other = grouping.root(int(b))
            if other != mine:
                ok, gap = _fits(grouping.total[mine] + grouping.total[other], grouping.params)
                options.append((not ok, gap, -m, ids[b], other))
        if not options:
            reason = Note.of(
                "rebalance.small_alone", community=ids[c], households=float(member_h[c])
            )
            kept_out.append(OutOfBand(ids[c], round(member_h[c]), reason))
            continue
        grouping.merge(mine, min(options)[-1])
    return kept_out


def _join_out_of_band(grouping: _Grouping, pairs: pd.DataFrame, ids: tuple[str, ...]) -> None:
    """What still misses the band (an oversized community that cannot be split, a merge or a
    split that still misses it) joins an out-of-band neighbour when the whole then fits;
    in-band neighbours stay untouched."""
    params = grouping.params
    for _ in range(len(grouping.present)):
        joined = False
        roots = sorted(
            {grouping.root(c) for c in grouping.present if grouping.misses(grouping.root(c))},
            key=lambda r: (-_fits(grouping.total[r], params)[1], ids[r]),
        )
        for r in roots:
            if grouping.root(r) != r or not grouping.misses(r):
                continue
            near = pairs[pairs["a"].isin(grouping.members(r))]
            options = []
            for b, m in zip(near["b"].tolist(), near["m"].tolist(), strict=True):
                other = grouping.root(int(b))
                if other != r and grouping.changing(other):
                    ok, gap = _fits(grouping.total[r] + grouping.total[other], params)
                    if ok:
                        options.append((gap, -m, ids[b], other))
            if options:
                grouping.merge(r, min(options)[-1])
                joined = True
        if not joined:
            break


def _kept_out_alone(grouping: _Grouping, ids: tuple[str, ...]) -> list[OutOfBand]:
    """The communities left as they are outside the band, with the reason (clearly small
    ones without a neighbour are reported by :func:`_merge_small`)."""
    lower, upper = grouping.lower, grouping.upper
    small_below = grouping.small_below
    kept_out: list[OutOfBand] = []
    for c in grouping.present:
        h = grouping.member_h[c]
        alone = len(grouping.members(grouping.root(c))) == 1
        if not alone or c in grouping.split_alone or grouping.in_band(h):
            continue
        if h > upper:
            reason = Note.of(
                "rebalance.big_kept",
                community=ids[c],
                households=h,
                lower=lower,
                upper=upper,
                half=h / 2,
            )
        elif h >= small_below:
            reason = Note.of(
                "rebalance.not_clearly_small",
                community=ids[c],
                households=h,
                lower=lower,
                upper=upper,
                small_below=small_below,
            )
        else:
            continue
        kept_out.append(OutOfBand(ids[c], round(h), reason))
    return kept_out


class _Redraw:
    """The redrawing of the changed groups: the labels, ids and names it makes, the status
    and source ids of every community it draws, and what it did."""

    def __init__(self, district: District, assignment: _Assignment, params: ProposeParams):
        self.district = district
        self.params = params
        self.label = assignment.label
        self.final = assignment.label.copy()
        self.ids = list(assignment.ids)
        self.names = list(assignment.names)
        self.taken = set(assignment.ids)
        self.status: dict[str, str] = {}
        self.sources: dict[str, list[str]] = {}
        self.done: dict[str, list[Regrouping]] = {"split": [], "merged": [], "redrawn": []}
        self.kept_out: list[OutOfBand] = []
        self.sites = np.zeros(len(self.label), dtype=bool)

    def _parts(self, nodes: np.ndarray, k: int) -> np.ndarray:
        if k == 1:
            return np.zeros(len(nodes), dtype=np.int64)
        lower, upper = self.params.community_band
        return self.district.partition_sites(
            nodes, k=k, lower=lower, upper=upper, seed=self.params.seed
        )

    def _part_label(self, p: int, given: dict, best: dict) -> int:
        """The label part ``p`` takes: the community it was given, else a fresh part of the
        community it shares most households with."""
        if p in given:
            return given[p]
        parent = int(best[p])
        ((new_id, new_name),) = fresh_part_ids(
            self.ids[parent], self.names[parent], 1, taken=self.taken
        )
        self.ids.append(new_id)
        self.names.append(new_name)
        self.taken.add(new_id)
        return len(self.ids) - 1

    def group(self, group: list[int]) -> None:
        """Draw the communities ``group`` again as round(households / target) parts."""
        ids, weights = self.ids, self.district.sites.households
        nodes = np.flatnonzero(np.isin(self.label, group))
        self.sites[nodes] = True
        total = float(weights[nodes].sum())
        k = choose_region_count(total, target=self.params.community_size)
        parts = self._parts(nodes, k)
        matching = match_by_households(parts, self.label[nodes], weights[nodes])
        given, best = matching.old_of, matching.largest_old
        word = "split" if len(group) == 1 else "merged" if k == 1 else "redrawn"
        lower, upper = self.params.community_band
        if not lower <= total / k <= upper:
            joined = "+".join(ids[c] for c in group)
            reason = Note.of(
                "rebalance.group_band",
                group=joined,
                households=total,
                lower=lower,
                upper=upper,
                count=k,
                mean=total / k,
            )
            self.kept_out.append(OutOfBand(joined, round(total), reason))
        for p in range(int(parts.max()) + 1):
            target = self._part_label(p, given, best)
            self.final[nodes[parts == p]] = target
            self.sources[ids[target]] = sorted({ids[c] for c in matching.olds_of(p)})
            self.status[ids[target]] = word
        results = sorted({ids[int(t)] for t in np.unique(self.final[nodes])})
        self.done[word].append(Regrouping(tuple(ids[c] for c in group), tuple(results)))


def _redraw(
    district: District, assignment: _Assignment, grouping: _Grouping, params: ProposeParams
) -> _Redraw:
    """Draw every changed group again; each redrawn community one piece within its group."""
    redraw = _Redraw(district, assignment, params)
    for group in grouping.groups().values():
        if len(group) == 1 and group[0] not in grouping.split_alone:
            continue
        redraw.group(group)
    root = np.array([grouping.root(c) for c in range(len(grouping.member_h))])
    redraw.final, _ = mend_pieces(
        district, redraw.final, group=root[assignment.label], scope=redraw.sites
    )
    return redraw


def _name_the_rest(
    redraw: _Redraw, assignment: _Assignment, input_ids: list[str]
) -> list[tuple[int, str]]:
    """Status and sources of the communities not redrawn (kept, adjusted or new); returns
    them as (label, id)."""
    origin_id = np.asarray([*input_ids, None], dtype=object)[assignment.origin]  # -1 → None
    ids, final = redraw.ids, redraw.final
    unchanged = []
    for c in np.unique(final).tolist():
        if ids[c] in redraw.status:
            continue
        inside = final == c
        same = (
            bool((origin_id[inside] == ids[c]).all())
            and not ((origin_id == ids[c]) & ~inside).any()
        )
        if ids[c] in assignment.new_ids:
            redraw.status[ids[c]] = "new"
        else:
            redraw.status[ids[c]] = "kept" if same else "adjusted"
        redraw.sources[ids[c]] = [] if ids[c] in assignment.new_ids else [ids[c]]
        unchanged.append((c, ids[c]))
    return unchanged


def _draw_grids(
    district: District,
    redraw: _Redraw,
    unchanged: list[tuple[int, str]],
    grids: gpd.GeoDataFrame | None,
    params: ProposeParams,
) -> tuple[np.ndarray, dict[int, str], list[Infeasible]]:
    """Grids: the given ones of unchanged communities where valid, the rest drawn. Returns
    (grid label per site, grid id per label, infeasible units)."""
    final = redraw.final
    grid, grid_ids, kept_grids = _keep_grids(district, final, unchanged, grids, params)
    to_draw = [c for c in np.unique(final).tolist() if c not in kept_grids]
    if not to_draw:
        return grid, grid_ids, []
    previous = np.where(grid >= 0, grid, len(grid_ids))  # placeholder for undrawn sites
    drawn, infeasible = plan_grids(
        district, final, params, only=np.asarray(to_draw), previous=previous
    )
    numbered = number_grids(district, final, drawn, redraw.ids, to_draw)
    # plan_grids relabels every grid: map the kept ones back to their given ids
    kept_sites = np.flatnonzero(np.isin(final, list(kept_grids)))
    first = pd.Series(kept_sites).groupby(drawn[kept_sites]).first()
    for g, site in first.items():
        numbered[int(g)] = grid_ids[int(grid[site])]
    return drawn, numbered, infeasible


def _report(
    plan: Plan,
    district: District,
    assignment: _Assignment,
    redraw: _Redraw,
    *,
    input_ids: list[str],
    kept_out: list[OutOfBand],
    small_below: float,
) -> RebalanceReport:
    weights = district.sites.households
    origin = assignment.origin
    origin_id = np.asarray([*input_ids, None], dtype=object)[origin]  # -1 → None
    total_h = float(weights.sum())
    site_final_id = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
    keeps = origin_id == site_final_id
    outside = origin < 0
    had = ~outside
    per_input = np.bincount(
        origin[origin >= 0], weights=weights[origin >= 0], minlength=len(input_ids)
    )
    status = redraw.status
    return RebalanceReport(
        stability=round(float(weights[keeps].sum() / total_h), 4) if total_h else 1.0,
        stability_of_assigned=round(
            float(weights[keeps & had].sum() / max(weights[had].sum(), 1e-9)), 4
        ),
        households=round(total_h),
        households_keep_community=round(weights[keeps].sum()),
        households_outside_existing=round(weights[outside].sum()),
        buildings_outside_existing=int(
            np.isin(district.sites.of_building, np.flatnonzero(outside)).sum()
        ),
        households_in_overlaps=round(weights[assignment.cover > 1].sum()),
        households_across_street=round(weights[assignment.across].sum()),
        households_cut_off=round(weights[assignment.cut].sum()),
        existing_communities=len(input_ids),
        existing_empty=tuple(i for i, h in zip(input_ids, per_input, strict=True) if h == 0),
        communities=int(plan.n_communities),
        kept=tuple(sorted(c for c, s in status.items() if s == "kept")),
        adjusted=tuple(sorted(c for c, s in status.items() if s == "adjusted")),
        split=tuple(redraw.done["split"]),
        merged=tuple(redraw.done["merged"]),
        redrawn_together=tuple(redraw.done["redrawn"]),
        new=assignment.new_ids,
        kept_out_of_band=tuple(kept_out),
        small_below=small_below,
    )


def rebalance(
    communities: gpd.GeoDataFrame,
    households: Households,
    *,
    params: ProposeParams | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    small_margin: float = 0.2,
    follow_existing: bool = True,
) -> Rebalance:
    """Rebalance existing communities (see the module docstring).

    Parameters
    ----------
    communities
        Existing community polygons with ``community_id`` (text) and ``name``, in WGS84 as
        :func:`geo.layers.read_communities` returns them.
    households
        The households (:func:`geo.intake.read_households`).
    params
        Bands, ``max_grids`` and seed (defaults: 2,500 ± 10%, grids 250 ± 20%, 10).
    subdistricts, barriers
        As for :func:`planning.engine.propose.propose` (WGS84).
    grids
        Existing grids (``grid_id``, optionally ``community_id``), kept for communities whose
        membership does not change; None draws every community's grids.
    small_margin
        A community is clearly small below ``lower − small_margin × community_size``
        households (1,750 by default) and is merged; between that and the band it is kept.
    follow_existing
        Cut the tessellation along the existing boundaries too.

    Raises
    ------
    InputFormatError
        When ``communities`` has no ``community_id`` column or no polygon.
    RebalanceError
        When no building lies in or next to any community (an ``InfeasibleError`` whose
        ``record`` says so in either language).
    """
    params = params or ProposeParams()
    _require_communities(communities)
    existing = communities.reset_index(drop=True)
    input_ids = existing["community_id"].astype(str).tolist()
    cut_lines = _with_existing_lines(barriers, existing) if follow_existing else barriers
    district = prepare_district(
        households.buildings,
        metric_crs=households.metric_crs,
        subdistricts=subdistricts,
        barriers=cut_lines,
    )
    timings: dict[str, float] = dict(district.timings)
    clock = time.perf_counter()
    assignment = _assign(district, existing, params)
    weights = district.sites.households
    member_h = np.bincount(assignment.label, weights=weights, minlength=len(assignment.ids))

    # ---- decide: keep, split, merge
    small_below = params.community_band[0] - small_margin * params.community_size
    grouping = _Grouping(member_h, params=params, small_below=small_below)
    pairs = _neighbours(district, assignment.label)
    kept_out = _merge_small(grouping, pairs, assignment.ids)
    _join_out_of_band(grouping, pairs, assignment.ids)
    kept_out += _kept_out_alone(grouping, assignment.ids)

    # ---- redraw the changed groups, then the grids
    redraw = _redraw(district, assignment, grouping, params)
    kept_out += redraw.kept_out
    unchanged = _name_the_rest(redraw, assignment, input_ids)
    grid, grid_ids, grid_infeasible = _draw_grids(district, redraw, unchanged, grids, params)
    timings["rebalance"] = time.perf_counter() - clock

    infeasible = [
        Infeasible("community", k.households, k.reason, unit=k.community_id) for k in kept_out
    ]
    infeasible += [item.named(redraw.ids) for item in grid_infeasible if item.level != "community"]

    clock = time.perf_counter()
    plan = plan_from_labels(
        district,
        redraw.final,
        grid,
        community_ids=redraw.ids,
        community_names=redraw.names,
        grid_ids=[grid_ids.get(g, f"G{g}") for g in range(int(grid.max()) + 1)],
        smooth_m=params.smooth_m,
    )
    plan = _on_polygon_grid(plan)
    buildings, comm, grids_out = _frames(plan, redraw)
    timings["boundaries"] = time.perf_counter() - clock
    proposal = Proposal(
        buildings=buildings,
        communities=comm,
        grids=grids_out,
        infeasible=infeasible,
        metric_crs=district.metric_crs,
        study_area=district.study_area,
        barriers=district.major_barriers,
        district=district,
        site_community=np.asarray(plan.site_community),
        site_grid=np.asarray(plan.site_grid),
        timings=timings,
    )
    report = _report(
        plan,
        district,
        assignment,
        redraw,
        input_ids=input_ids,
        kept_out=kept_out,
        small_below=small_below,
    )
    return Rebalance(plan, proposal, report)


def _on_polygon_grid(plan: Plan) -> Plan:
    """The plan with its grids and communities drawn on :data:`_POLYGON_GRID_M` (the same
    labels, ids and names)."""
    drawn = plan.grid_polygons()
    grids = _snapped_coverage(drawn, _POLYGON_GRID_M)
    grids = _reattach_cut_off(grids, drawn, plan.district.sites.xy, plan.site_grid)
    labels, merged = dissolve(grids, plan.grid_community)
    communities = np.empty(plan.n_communities, dtype=object)
    communities[labels] = merged
    grid_label = {gid: g for g, gid in enumerate(plan.grid_ids)}
    shapes = {
        z: SubdistrictShapes(
            community={c: communities[plan.label_of(c)] for c in known.community},
            grid={g: grids[grid_label[g]] for g in known.grid},
        )
        for z, known in plan.shapes.items()
    }
    return plan_from_labels(
        plan.district,
        plan.site_community,
        plan.site_grid,
        community_ids=plan.community_ids,
        community_names=plan.community_names,
        locked=plan.locked,
        grid_ids=plan.grid_ids,
        smooth_m=plan.smooth_m,
        shapes=shapes,
    )


def _reattach_cut_off(
    grids: np.ndarray, drawn: np.ndarray, xy: np.ndarray, site_grid: np.ndarray
) -> np.ndarray:
    """The grids, each part the snapping cut off a grid drawn in one piece (it hung on by a
    neck narrower than the grid) given to the neighbour it shares the longest border with,
    unless a building of the grid stands in it."""
    grids = np.array(grids, dtype=object)
    split = (shapely.get_num_geometries(grids) > 1) & (shapely.get_num_geometries(drawn) == 1)
    for g in np.flatnonzero(split).tolist():
        main, *rest = sorted(shapely.get_parts(grids[g]), key=lambda part: -shapely.area(part))
        buildings = shapely.points(xy[site_grid == g])
        kept = [main]
        for part in rest:
            others = np.setdiff1d(np.flatnonzero(shapely.intersects(grids, part)), [g])
            shared = shapely.length(
                shapely.intersection(shapely.boundary(grids[others]), shapely.boundary(part))
            )
            if shapely.intersects(part, buildings).any() or not len(others) or shared.max() <= 0:
                kept.append(part)
                continue
            h = others[int(np.argmax(shared))]
            grids[h] = shapely.coverage_union_all(np.array([grids[h], part], dtype=object))
        grids[g] = kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)
    return grids


def _snapped_coverage(polygons: np.ndarray, grid_m: float) -> np.ndarray:
    """The polygons of a coverage (metres) with their inner borders snap-rounded together on
    a grid of ``grid_m`` and their outline kept as it was.

    The borders are noded on the grid (slivers narrower than it vanish; no vertex is then
    closer than ``grid_m / 2`` to an edge it is not on); each inner border reaching the
    snapped outline is joined to the nearest point of the outline by a short straight line;
    the faces of these lines and the outline go each to the polygon it overlaps most. A
    polygon left without a face is returned as it was."""
    polygons = np.asarray(polygons, dtype=object)
    outline = shapely.boundary(shapely.union_all(polygons))
    snapped = shapely.union_all(shapely.boundary(polygons), grid_size=grid_m)
    snapped_outline = shapely.boundary(shapely.coverage_union_all(_faces_of(snapped, polygons)[0]))
    inner = shapely.get_parts(shapely.line_merge(shapely.difference(snapped, snapped_outline)))
    ends = np.concatenate([shapely.get_point(inner, 0), shapely.get_point(inner, -1)])
    ends = ends[shapely.dwithin(ends, snapped_outline, grid_m * 1e-6)]
    joins = _joins(inner, outline, ends, grid_m)
    lines = shapely.union_all(np.concatenate([inner, joins, [outline]]), grid_size=_NODE_GRID_M)
    labels, merged = dissolve(*_faces_of(lines, polygons))
    out = polygons.copy()
    out[labels] = merged
    return out


def _joins(
    inner: np.ndarray, outline: shapely.Geometry, ends: np.ndarray, near_m: float
) -> np.ndarray:
    """Straight lines from the ends of ``inner`` borders to the nearest point of ``outline``,
    for the ends not on it already and whose border does not meet it within ``near_m`` (a
    border crossing the outline there is closed by the crossing)."""
    meets = shapely.intersection(shapely.union_all(inner), outline)
    ends = ends[~shapely.dwithin(ends, meets, near_m)] if not meets.is_empty else ends
    joins = shapely.shortest_line(ends, outline)
    return joins[shapely.length(joins) > 0]


def _faces_of(lines: shapely.Geometry, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the faces of the noded ``lines`` inside ``polygons``, the polygon each overlaps most)."""
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[shapely.area(faces) > 0]
    face, polygon = shapely.STRtree(polygons).query(faces, predicate="intersects")
    overlap = pd.DataFrame(
        {
            "face": face,
            "polygon": polygon,
            "m2": shapely.area(shapely.intersection(faces[face], polygons[polygon])),
        }
    )
    best = overlap[overlap["m2"] > 0].sort_values(
        ["face", "m2", "polygon"], ascending=[True, False, True]
    )
    best = best.drop_duplicates("face")
    return faces[best["face"].to_numpy()], best["polygon"].to_numpy()


def _frames(
    plan: Plan, redraw: _Redraw
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(buildings, communities, grids) of the plan as ``propose`` returns them, communities
    with ``status`` and ``source_ids``."""
    buildings = building_frame(plan)
    comm = community_frame(plan)
    comm["status"] = [redraw.status.get(c, "kept") for c in comm["community_id"]]
    comm["source_ids"] = [";".join(redraw.sources.get(c, [])) for c in comm["community_id"]]
    return buildings, comm.drop(columns=["locked"]), grid_frame(plan)
