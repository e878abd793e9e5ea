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
   community keeps its given grids when they are valid.

Stability is the share of households whose community keeps its id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InfeasibleError, InputFormatError
from geo.intake import Households
from planning.engine.district import District, prepare_district
from planning.engine.partition import choose_region_count
from planning.engine.propose import Proposal, plan_grids
from planning.params import ProposeParams
from planning.plans.plan import (
    Plan,
    building_frame,
    community_frame,
    discontiguous_labels,
    grid_frame,
    mend_pieces,
    number_grids,
    plan_from_labels,
)
from planning.records import Infeasible, Note

__all__ = ["Rebalance", "rebalance", "run_rebalance"]

#: How the existing boundaries enter the tessellation: as minor-road cut lines (cells follow
#: them; partitions may still cross them).
_EXISTING_LINE = {
    "kind": "road",
    "road_class": "residential",
    "name": "existing community boundary",
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
        ``stability`` (share of all households whose community keeps its id),
        ``stability_of_assigned`` (among households that had a community), counts of
        households and buildings outside every existing community, in overlaps, across a
        街道, cut off, and the actions taken (``kept``, ``split``, ``merged``, ``new``,
        ``kept_out_of_band`` with reasons).
    """

    plan: Plan
    proposal: Proposal
    report: dict = field(default_factory=dict)


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


def _locate(district: District, existing: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(existing community index per site or -1, number of polygons covering each site)."""
    geoms = np.asarray(existing.to_crs(district.metric_crs).geometry.array, dtype=object)
    tree = shapely.STRtree(geoms)
    site_idx, poly_idx = tree.query(shapely.points(district.sites.xy), predicate="intersects")
    n = len(district.sites.xy)
    label = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((poly_idx, site_idx))  # the first community in input order wins
    site_idx, poly_idx = site_idx[order], poly_idx[order]
    first = np.ones(len(site_idx), dtype=bool)
    first[1:] = site_idx[1:] != site_idx[:-1]
    label[site_idx[first]] = poly_idx[first]
    return label, np.bincount(site_idx, minlength=n)


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


class _Groups:
    """Union-find over community labels, tracking households per group."""

    def __init__(self, households: np.ndarray):
        self.parent = np.arange(len(households))
        self.total = households.astype(float).copy()

    def find(self, c: int) -> int:
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = int(self.parent[c])
        return c

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            keep, gone = min(ra, rb), max(ra, rb)
            self.parent[gone] = keep
            self.total[keep] += self.total[gone]


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
    streets, barriers
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
    InfeasibleError
        When no building lies in or next to any community.
    """
    params = params or ProposeParams()
    clock = time.perf_counter()
    timings: dict[str, float] = {}
    if "community_id" not in communities.columns or not len(communities):
        raise InputFormatError(
            "communities: expected polygons with a community_id column (as read_communities "
            f"returns them); found {len(communities)} rows and columns "
            f"{', '.join(map(str, communities.columns))}; fix: read the layer with "
            "geo.layers.read_communities."
        )
    existing = communities.reset_index(drop=True)
    input_ids = existing["community_id"].astype(str).tolist()
    names = existing["name"].astype(str).tolist() if "name" in existing.columns else list(input_ids)
    cut_lines = _with_existing_lines(barriers, existing) if follow_existing else barriers
    district = prepare_district(
        households.buildings, metric_crs=households.metric_crs, subdistricts=subdistricts, barriers=cut_lines
    )
    timings.update(district.timings)
    clock = time.perf_counter()
    sites = district.sites
    weights = sites.households
    origin, cover = _locate(district, existing)
    label, across, cut = _clean(district, origin)
    outside = origin < 0
    label = _fill(district, label)
    ids = list(input_ids)
    out_names = list(names)
    # households no existing community borders: new communities
    lower, upper = params.community_band
    new_made: list[str] = []
    orphans = np.flatnonzero(label < 0)
    if len(orphans) == len(label):
        raise InfeasibleError(
            "rebalance: no building lies in or next to any existing community; expected the "
            "communities and households of one area in the same declared CRS; fix: check "
            "--crs and the layers."
        )
    seq = 1
    for part in district.components(orphans):
        k = choose_region_count(float(weights[part].sum()), target=params.community_size)
        parts = district.partition_sites(part, k=k, lower=lower, upper=upper, seed=params.seed)
        for p in range(int(parts.max()) + 1):
            while f"NEW{seq:03d}" in set(ids):
                seq += 1
            label[part[parts == p]] = len(ids)
            ids.append(f"NEW{seq:03d}")
            out_names.append(f"新社区{seq}")
            new_made.append(ids[-1])
    n = len(ids)
    member_h = np.bincount(label, weights=weights, minlength=n)

    # ---- decide: keep, split, merge
    groups = _Groups(member_h)
    kept_out: list[dict] = []
    small_below = lower - small_margin * params.community_size
    present = [c for c in range(n) if member_h[c] > 0]
    target = params.community_size
    split_alone = {
        c
        for c in present
        if member_h[c] > upper and choose_region_count(member_h[c], target=target) >= 2
    }
    pairs = _neighbours(district, label)

    def members(root: int) -> list[int]:
        return [o for o in present if groups.find(o) == root]

    def changing(root: int) -> bool:
        group = members(root)
        return len(group) > 1 or group[0] in split_alone or not lower <= member_h[group[0]] <= upper

    # clearly small: merge with the neighbour that best fits (an in-band one if need be)
    for c in sorted(
        (c for c in present if member_h[c] < small_below), key=lambda c: (member_h[c], ids[c])
    ):
        mine = groups.find(c)
        if groups.total[mine] >= small_below:
            continue  # a smaller neighbour already merged into it
        near = pairs[pairs["a"] == c]
        options = []
        for b, m in zip(near["b"].tolist(), near["m"].tolist(), strict=True):
            other = groups.find(int(b))
            if other != mine:
                ok, gap = _fits(groups.total[mine] + groups.total[other], params)
                options.append((not ok, gap, -m, ids[b], other))
        if not options:
            kept_out.append(
                {
                    "community_id": ids[c],
                    "households": round(member_h[c]),
                    "reason": Note.of("rebalance.small_alone", community=ids[c],
                                      households=float(member_h[c])),
                }
            )
            continue
        groups.union(mine, min(options)[-1])

    # what is still out of band (an oversized community that cannot be split, a merge or a
    # split that still misses the band) is redrawn together with an out-of-band neighbour
    # when that brings the whole into the band; in-band neighbours stay untouched
    def misses(root: int) -> bool:
        return not _fits(groups.total[root], params)[0] or (
            len(members(root)) == 1
            and root not in split_alone
            and not lower <= groups.total[root] <= upper
        )

    for _ in range(len(present)):
        joined = False
        roots = sorted(
            {groups.find(c) for c in present if misses(groups.find(c))},
            key=lambda r: (-_fits(groups.total[r], params)[1], ids[r]),
        )
        for r in roots:
            if groups.find(r) != r or not misses(r):
                continue
            mine = members(r)
            near = pairs[pairs["a"].isin(mine)]
            options = []
            for b, m in zip(near["b"].tolist(), near["m"].tolist(), strict=True):
                other = groups.find(int(b))
                if other != r and changing(other):
                    ok, gap = _fits(groups.total[r] + groups.total[other], params)
                    if ok:
                        options.append((gap, -m, ids[b], other))
            if options:
                groups.union(r, min(options)[-1])
                joined = True
        if not joined:
            break
    for c in present:
        h = member_h[c]
        if len(members(groups.find(c))) > 1 or c in split_alone or lower <= h <= upper:
            continue
        if h > upper:
            reason = Note.of("rebalance.big_kept", community=ids[c], households=h,
                             lower=lower, upper=upper, half=h / 2)
        elif h >= small_below:
            reason = Note.of("rebalance.not_clearly_small", community=ids[c], households=h,
                             lower=lower, upper=upper, small_below=small_below)
        else:
            continue  # clearly small without a neighbour: reported above
        kept_out.append({"community_id": ids[c], "households": round(h), "reason": reason})

    # ---- redraw the changed groups
    root = np.array([groups.find(c) for c in range(n)])
    members_of: dict[int, list[int]] = {}
    for c in present:
        members_of.setdefault(int(root[c]), []).append(c)
    final = label.copy()
    status: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    taken = set(ids)
    split_done, merged_done = [], []
    redrawn_done = []
    redrawn_sites = np.zeros(len(label), dtype=bool)
    for _r, group in sorted(members_of.items()):
        if len(group) == 1 and group[0] not in split_alone:
            continue
        nodes = np.flatnonzero(np.isin(label, group))
        redrawn_sites[nodes] = True
        total = float(weights[nodes].sum())
        k = choose_region_count(total, target=params.community_size)
        parts = (
            np.zeros(len(nodes), dtype=np.int64)
            if k == 1
            else district.partition_sites(nodes, k=k, lower=lower, upper=upper, seed=params.seed)
        )
        table = pd.DataFrame({"p": parts, "c": label[nodes], "h": weights[nodes]})
        table = table.groupby(["p", "c"], as_index=False)["h"].sum()
        table = table.sort_values(["h", "c", "p"], ascending=[False, True, True])
        given: dict[int, int] = {}
        for p, c in zip(table["p"].tolist(), table["c"].tolist(), strict=True):
            if p not in given and c not in given.values():
                given[p] = c
        best = table.drop_duplicates("p").set_index("p")["c"]
        word = "split" if len(group) == 1 else "merged" if k == 1 else "redrawn"
        if not lower <= total / k <= upper:
            kept_out.append(
                {
                    "community_id": "+".join(ids[c] for c in group),
                    "households": round(total),
                    "reason": Note.of("rebalance.group_band",
                                      group="+".join(ids[c] for c in group), households=total,
                                      lower=lower, upper=upper, count=k, mean=total / k),
                }
            )
        for p in range(int(parts.max()) + 1):
            if p in given:
                target = given[p]
            else:
                parent = int(best[p])
                j = 2
                while f"{ids[parent]}-{j}" in taken:
                    j += 1
                ids.append(f"{ids[parent]}-{j}")
                out_names.append(f"{out_names[parent]}-{j}")
                taken.add(ids[-1])
                target = len(ids) - 1
            final[nodes[parts == p]] = target
            holds = table[table["p"] == p]["c"].tolist()
            sources[ids[target]] = sorted({ids[c] for c in holds})
            status[ids[target]] = word
        entry = {
            "from": [ids[c] for c in group],
            "to": sorted({ids[int(t)] for t in np.unique(final[nodes])}),
        }
        {"split": split_done, "merged": merged_done, "redrawn": redrawn_done}[word].append(entry)

    # a safety net: each redrawn community one piece, within its group
    final, _ = mend_pieces(district, final, group=root[label], scope=redrawn_sites)

    # ---- grids
    origin_id = np.asarray([*input_ids, None], dtype=object)[origin]  # -1 → None
    labels_now = np.unique(final).tolist()
    unchanged = []
    for c in labels_now:
        if ids[c] in status:
            continue
        inside = final == c
        same = (
            bool((origin_id[inside] == ids[c]).all())
            and not ((origin_id == ids[c]) & ~inside).any()
        )
        if ids[c] in new_made:
            status[ids[c]] = "new"
        else:
            status[ids[c]] = "kept" if same else "adjusted"
        sources[ids[c]] = [] if ids[c] in new_made else [ids[c]]
        unchanged.append((c, ids[c]))
    grid, grid_ids, kept_grids = _keep_grids(district, final, unchanged, grids, params)
    to_draw = [c for c in labels_now if c not in kept_grids]
    grid_infeasible: list[dict] = []
    if to_draw:
        previous = np.where(grid >= 0, grid, len(grid_ids))  # placeholder for undrawn sites
        drawn, grid_infeasible = plan_grids(
            district, final, params, only=np.asarray(to_draw), previous=previous
        )
        numbered = number_grids(district, final, drawn, ids, to_draw)
        # plan_grids relabels every grid: map the kept ones back to their given ids
        kept_sites = np.flatnonzero(np.isin(final, list(kept_grids)))
        first = pd.Series(kept_sites).groupby(drawn[kept_sites]).first()
        for g, site in first.items():
            numbered[int(g)] = grid_ids[int(grid[site])]
        grid, grid_ids = drawn, numbered
    timings["rebalance"] = time.perf_counter() - clock
    clock = time.perf_counter()
    plan = plan_from_labels(
        district,
        final,
        grid,
        community_ids=ids,
        community_names=out_names,
        grid_ids=[grid_ids.get(g, f"G{g}") for g in range(int(grid.max()) + 1)],
        smooth_m=params.smooth_m,
    )
    buildings = building_frame(plan)
    comm = community_frame(plan)
    comm["status"] = [status.get(c, "kept") for c in comm["community_id"]]
    comm["source_ids"] = [";".join(sources.get(c, [])) for c in comm["community_id"]]
    comm = comm.drop(columns=["locked"])
    grids_out = grid_frame(plan)
    timings["boundaries"] = time.perf_counter() - clock

    # ---- report
    total_h = float(weights.sum())
    site_final_id = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
    keeps = origin_id == site_final_id
    had = ~outside
    infeasible = [
        Infeasible("community", k["households"], k["reason"], unit=k["community_id"])
        for k in kept_out
    ]
    infeasible += [item.named(ids) for item in grid_infeasible if item.level != "community"]
    report = {
        "stability": round(float(weights[keeps].sum() / total_h), 4) if total_h else 1.0,
        "stability_of_assigned": round(
            float(weights[keeps & had].sum() / max(weights[had].sum(), 1e-9)), 4
        ),
        "households": round(total_h),
        "households_keep_community": round(weights[keeps].sum()),
        "households_outside_existing": round(weights[outside].sum()),
        "buildings_outside_existing": int(
            np.isin(sites.of_building, np.flatnonzero(outside)).sum()
        ),
        "households_in_overlaps": round(weights[cover > 1].sum()),
        "households_across_street": round(weights[across].sum()),
        "households_cut_off": round(weights[cut].sum()),
        "existing_communities": len(input_ids),
        "existing_empty": [
            i
            for i, h in zip(
                input_ids,
                np.bincount(
                    origin[origin >= 0], weights=weights[origin >= 0], minlength=len(input_ids)
                ),
                strict=True,
            )
            if h == 0
        ],
        "communities": int(plan.n_communities),
        "kept": sorted(c for c, s in status.items() if s == "kept"),
        "adjusted": sorted(c for c, s in status.items() if s == "adjusted"),
        "split": split_done,
        "merged": merged_done,
        "redrawn_together": redrawn_done,
        "new": new_made,
        "kept_out_of_band": [dict(k, reason=k["reason"].text("en")) for k in kept_out],
        "small_below": small_below,
    }
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
    return Rebalance(plan, proposal, report)


# ---------------------------------------------------------------------- command line


def run_rebalance(
    communities_path: str | Path,
    households_path: str | Path,
    *,
    crs: str,
    out_dir: str | Path,
    subdistricts_path: str | Path | None = None,
    barriers_paths: list[str | Path] | None = None,
    grids_path: str | Path | None = None,
    id_column: str | None = None,
    params: ProposeParams | None = None,
    small_margin: float = 0.2,
) -> tuple[Rebalance, dict, dict[str, Path]]:
    """Read the layers (all in ``crs``), rebalance, write the four files of ``propose``.

    Returns (result, summary, paths)."""
    from geo.intake import read_households
    from geo.layers import read_barriers, read_communities, read_subdistricts
    from geo.tables import read_table
    from planning.plans.folder import write_plan, write_summary
    from planning.runs import proposal_metrics

    params = params or ProposeParams()
    start = time.perf_counter()
    households = read_households(households_path, crs=crs)
    columns = {"community_id": id_column} if id_column else None
    existing = read_communities(communities_path, crs=crs, columns=columns).frame
    subdistricts = read_subdistricts(subdistricts_path, crs=crs).frame if subdistricts_path else None
    barriers = None
    if barriers_paths:
        frames = [read_barriers(p, crs=crs).frame for p in barriers_paths]
        barriers = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    grids = None
    if grids_path:
        raw, _ = read_table(grids_path)
        grids = _grids_layer(raw, crs=crs, label=str(grids_path))
    read_s = time.perf_counter() - start
    result = rebalance(
        existing,
        households,
        params=params,
        subdistricts=subdistricts,
        barriers=barriers,
        grids=grids,
        small_margin=small_margin,
    )
    p = result.proposal
    metrics = proposal_metrics(p, params=params, subdistricts=subdistricts)
    summary = {
        "inputs": {
            "communities": str(communities_path),
            "households": str(households_path),
            "crs": crs,
            "streets": subdistricts_path and str(subdistricts_path),
            "barriers": [str(b) for b in barriers_paths or []],
            "grids": grids_path and str(grids_path),
        },
        "parameters": {
            **params.to_dict(),
            "small_margin": small_margin,
        },
        "data": households.summary(),
        "rebalance": result.report,
        "stability": result.report["stability"],
        "households_outside_existing": result.report["households_outside_existing"],
        **metrics,
        "runtime_s": {"read": round(read_s, 3), **{k: round(v, 3) for k, v in p.timings.items()}},
    }
    paths = write_plan(
        out_dir,
        households=households,
        buildings=p.buildings,
        communities=p.communities,
        grids=p.grids,
        band=params.community_band,
    )
    paths["summary"] = write_summary(Path(out_dir) / "summary.json", summary)
    return result, summary, paths


def _grids_layer(raw, *, crs: str, label: str) -> gpd.GeoDataFrame:
    """An existing grids layer in WGS84 with ``grid_id`` (and ``community_id`` if given)."""
    from geo.columns import resolve_columns
    from geo.crs import geometry_to_wgs84, parse_crs

    if not isinstance(raw, gpd.GeoDataFrame):
        raise InputFormatError(
            f"{label}: expected a polygon layer of grids; found a table "
            "without geometry; fix: export the grids as GeoJSON or GPKG."
        )
    aliases = {
        "grid_id": ("grid_id", "网格编号", "网格代码", "id", "code"),
        "community_id": ("community_id", "社区代码", "社区编码"),
    }
    roles, _problems = resolve_columns(raw.columns.drop(raw.geometry.name), aliases, label=label)
    if "grid_id" not in roles:
        raise InputFormatError(
            f"{label}: expected a grid id column (grid_id / 网格编号); "
            f"found {', '.join(map(str, raw.columns))}; fix: name it grid_id."
        )
    data = {"grid_id": raw[roles["grid_id"]].astype(str).to_numpy()}
    if "community_id" in roles:
        data["community_id"] = raw[roles["community_id"]].astype(str).to_numpy()
    series = gpd.GeoSeries(raw.geometry.array, crs=parse_crs(crs).crs)
    return gpd.GeoDataFrame(
        data, geometry=geometry_to_wgs84(series, parse_crs(crs)).array, crs="EPSG:4326"
    )




