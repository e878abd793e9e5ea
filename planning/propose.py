"""Propose communities (~2,500 households) and grids (~250) from buildings.

The pipeline, each stage timed:

1. **units** — buildings projected to the dataset's metric CRS; buildings at one spot form one
   site; each site is put in its sub-district (街道).
2. **tessellation** — the study area (the 街道 polygons, else an outline of the households) is
   cut along 街道 lines and barrier lines (roads, rivers, railways) into blocks, and each block
   is shared among its sites (Voronoi, clipped); empty blocks (parks, water) join a neighbour.
3. **graph** — sites sharing a cell border are adjacent; the cost of an edge is its length,
   inflated where a road (more for a major road, river or railway) lies between.
4. **communities** — per 街道 (and per connected part), compounds that fit the band become
   atoms, and :func:`planning.partition.partition_units` draws k = round(households / 2,500)
   balanced, connected, compact communities.
5. **grids** — the same inside each community with the grid band and at most ``max_grids``.
6. **boundaries** — cells dissolved by grid, smoothed as a coverage (shared edges stay shared,
   every building stays inside its grid), grids dissolved into communities.

Where a band cannot be met the best possible is made and the reason is recorded per unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import Problem, ValidationError
from geo.tessellation import adjacency, dissolve, smooth_coverage, study_outline, tessellate
from planning.partition import Graph, choose_region_count, partition_units

__all__ = [
    "MAJOR_ROAD_CLASSES",
    "MINOR_ROAD_CLASSES",
    "Proposal",
    "ProposeParams",
    "Sites",
    "propose",
]

#: Roads that bound communities like rivers and railways do (OSM ``highway`` values and the
#: Chinese 道路等级 words planners use).
MAJOR_ROAD_CLASSES = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
     "secondary", "secondary_link", "expressway", "高速公路", "快速路", "主干路", "主干道",
     "次干路", "次干道"}
)
#: Roads that blocks are cut along (boundaries follow them) but that may run inside a
#: community. Classes not listed here or above (service, footway, path …) are ignored.
MINOR_ROAD_CLASSES = frozenset(
    {"tertiary", "tertiary_link", "residential", "unclassified", "living_street", "支路",
     "支路以上", "街坊路"}
)


@dataclass(frozen=True)
class ProposeParams:
    """Sizes, tolerances and seed of a proposal."""

    community_size: int = 2500
    tolerance: float = 0.10
    grid_size: int = 250
    grid_tolerance: float = 0.20
    max_grids: int = 10
    seed: int = 0
    smooth_m: float = 10.0

    @property
    def community_band(self) -> tuple[float, float]:
        return (self.community_size * (1 - self.tolerance),
                self.community_size * (1 + self.tolerance))

    @property
    def grid_band(self) -> tuple[float, float]:
        return (self.grid_size * (1 - self.grid_tolerance),
                self.grid_size * (1 + self.grid_tolerance))


@dataclass(frozen=True)
class Sites:
    """Distinct building locations in metres, the units of tessellation."""

    xy: np.ndarray  # (n, 2)
    households: np.ndarray  # (n,)
    compound: np.ndarray  # (n,) object, None when none
    zone: np.ndarray  # (n,) zone index
    of_building: np.ndarray  # site index of each building


@dataclass(frozen=True)
class Proposal:
    """A proposed plan: buildings with their community and grid, and the boundaries.

    Geometries are in ``metric_crs``; convert once at export.
    """

    buildings: gpd.GeoDataFrame  # building_id, households, compound, street, community_id, grid_id
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    infeasible: list[dict]
    metric_crs: pyproj.CRS
    study_area: shapely.Geometry
    barriers: gpd.GeoDataFrame | None
    timings: dict[str, float] = field(default_factory=dict)


def _barrier_lines(
    barriers: gpd.GeoDataFrame | None, metric_crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame | None]:
    """(cut lines, major-barrier mask, major barriers frame) in metres."""
    if barriers is None or len(barriers) == 0:
        return np.array([], dtype=object), np.array([], dtype=bool), None
    frame = barriers.to_crs(metric_crs)
    kind = frame["kind"].astype("string").fillna("road").to_numpy(dtype=object)
    road_class = frame["road_class"].astype("string").str.lower().fillna("").to_numpy(dtype=object)
    is_road = kind == "road"
    unclassified = is_road & (road_class == "")
    major = (~is_road) | unclassified | np.isin(road_class, list(MAJOR_ROAD_CLASSES))
    minor = is_road & np.isin(road_class, list(MINOR_ROAD_CLASSES))
    cut = major | minor
    lines = np.array(frame.geometry.array, dtype=object)[cut]
    major_frame = frame[major].reset_index(drop=True)
    return lines, major[cut], major_frame


def _sites(buildings_xy: np.ndarray, households: np.ndarray, compounds: np.ndarray) -> Sites:
    rounded = np.round(buildings_xy, 2)
    _, first, inverse = np.unique(rounded, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # keep sites in order of first appearance for determinism independent of coordinates
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    site = rank[inverse]
    n = len(order)
    xy = np.zeros((n, 2))
    xy[site] = buildings_xy  # all buildings of a site share the rounded spot
    hh = np.bincount(site, weights=households, minlength=n)
    compound = np.full(n, None, dtype=object)
    frame = pd.DataFrame({"site": site, "compound": pd.Series(compounds, dtype="object"),
                          "hh": households})
    named = frame.dropna(subset=["compound"])
    if len(named):
        best = named.groupby(["site", "compound"])["hh"].sum().reset_index()
        best = best.sort_values(["site", "hh", "compound"], ascending=[True, False, True])
        best = best.drop_duplicates("site")
        compound[best["site"].to_numpy()] = best["compound"].to_numpy(dtype=object)
    return Sites(xy, hh, compound, np.zeros(n, dtype=np.int64), site)


def _edge_costs(
    xy: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    crosses: np.ndarray,
    major_lines: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(cost, major) per edge: distance inflated across a road, more across a major barrier."""
    distance = np.hypot(*(xy[i] - xy[j]).T)
    major = np.zeros(len(i), dtype=bool)
    if len(major_lines) and crosses.any():
        candidates = np.flatnonzero(crosses)
        segments = shapely.linestrings(
            np.stack([xy[i[candidates]], xy[j[candidates]]], axis=1)
        )
        tree = shapely.STRtree(major_lines)
        hit, _ = tree.query(segments, predicate="intersects")
        major[candidates[np.unique(hit)]] = True
    minor = crosses & ~major
    cost = distance * (1 + 1.0 * minor + 4.0 * major) + 100.0 * minor + 800.0 * major
    return cost, major


def _atoms(
    nodes: np.ndarray, graph: Graph, compound: np.ndarray, weights: np.ndarray, upper: float
) -> np.ndarray:
    """Atom label per node of ``graph``: a compound that fits ``upper`` (connected part of it)
    is one atom; every other node is its own atom."""
    n = graph.n
    atom = np.arange(n)
    names = compound[nodes]
    frame = pd.DataFrame({"c": pd.Series(names, dtype="object"), "w": weights})
    totals = frame.dropna().groupby("c")["w"].sum()
    fitting = set(totals[totals <= upper].index)
    if not fitting:
        return _relabel(atom)
    in_fit = np.array([c in fitting for c in names], dtype=bool)
    src = np.repeat(np.arange(n), np.diff(graph.indptr))
    dst = graph.indices
    same = in_fit[src] & in_fit[dst] & (names[src] == names[dst])
    same_idx = np.flatnonzero(same)
    if len(same_idx):
        import scipy.sparse
        from scipy.sparse.csgraph import connected_components

        m = scipy.sparse.csr_matrix(
            (np.ones(len(same_idx)), (src[same_idx], dst[same_idx])), shape=(n, n)
        )
        _, comp = connected_components(m, directed=False)
        atom = comp
    return _relabel(atom)


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()]


def _contract(graph: Graph, atom: np.ndarray, xy: np.ndarray, weights: np.ndarray):
    """Atom graph: positions (weighted centres), weights and cheapest barrier-aware links."""
    m = int(atom.max()) + 1
    w = np.bincount(atom, weights=weights, minlength=m)
    count = np.bincount(atom, minlength=m)
    sums = np.zeros((m, 2))
    np.add.at(sums, atom, xy * np.maximum(weights, 1e-6)[:, None])
    mass = np.bincount(atom, weights=np.maximum(weights, 1e-6), minlength=m)
    axy = sums / mass[:, None]
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    a, b = atom[src], atom[graph.indices]
    keep = a < b
    a, b, barrier = a[keep], b[keep], graph.barrier[keep]
    edge_m = np.hypot(*(xy[src[keep]] - xy[graph.indices[keep]]).T)
    surcharge = np.clip(graph.cost[keep] - edge_m, 0.0, None)  # what the barrier adds
    cost = np.hypot(*(axy[a] - axy[b]).T) + surcharge
    atom_graph = Graph.from_pairs(m, a, b, cost, barrier)
    return atom_graph, axy, w, count


def _partition_level(
    graph: Graph,
    xy: np.ndarray,
    weights: np.ndarray,
    compound: np.ndarray,
    nodes: np.ndarray,
    *,
    k: int,
    lower: float,
    upper: float,
    seed: int,
    barrier_m: float,
) -> np.ndarray:
    """Label per node of one connected part: atoms first, then their partition."""
    atom = _atoms(nodes, graph, compound, weights, upper)
    atom_graph, axy, aw, _ = _contract(graph, atom, xy, weights)
    labels = partition_units(atom_graph, axy, aw, k=k, lower=lower, upper=upper, seed=seed,
                             barrier_m=barrier_m)
    return labels[atom]


def _reading_order(xy: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                   row_height: float) -> np.ndarray:
    """Rank of each label: north→south in rows of ``row_height`` metres, west→east in a row."""
    uniq = np.unique(labels)
    centre = np.array([np.average(xy[labels == u], axis=0,
                                  weights=np.maximum(weights[labels == u], 1e-6)) for u in uniq])
    top = centre[:, 1].max()
    row = np.floor((top - centre[:, 1]) / max(row_height, 1.0))
    order = np.lexsort((centre[:, 0], row))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    lookup = dict(zip(uniq.tolist(), rank.tolist(), strict=True))
    return np.array([lookup[v] for v in labels.tolist()], dtype=np.int64)


def propose(
    buildings: gpd.GeoDataFrame,
    *,
    metric_crs: pyproj.CRS,
    streets: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    params: ProposeParams | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Proposal:
    """Propose communities and grids for buildings.

    Parameters
    ----------
    buildings
        One row per building (WGS84): ``building_id``, ``households``, ``compound``.
    metric_crs
        The dataset's metric CRS (``Households.metric_crs``).
    streets
        Sub-district polygons (``name``) in WGS84; communities nest inside them.
    barriers
        Barrier lines (``kind``, ``road_class``) in WGS84.
    params
        Sizes, tolerances, seed.
    progress
        Called with (stage, fraction done) for progress bars.
    """
    params = params or ProposeParams()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def tick(stage: str, done: float) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock
        clock = now
        if progress is not None:
            progress(stage, done)

    metric = buildings.to_crs(metric_crs)
    bxy = np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])
    households = metric["households"].to_numpy(dtype=float)
    compounds = metric["compound"].to_numpy(dtype=object)
    sites = _sites(bxy, households, compounds)

    infeasible: list[dict] = []
    if streets is not None and len(streets):
        zones_frame = streets.to_crs(metric_crs).reset_index(drop=True)
        zone_geoms = shapely.make_valid(np.array(zones_frame.geometry.array, dtype=object))
        zone_names = zones_frame["name"].astype(str).tolist()
        area = shapely.union_all(zone_geoms, grid_size=0.01)
        tree = shapely.STRtree(zone_geoms)
        pts = shapely.points(sites.xy)
        p_idx, z_idx = tree.query(pts, predicate="intersects")
        site_zone = np.full(len(sites.xy), -1, dtype=np.int64)
        # lowest zone index wins on a shared border
        order = np.lexsort((z_idx, p_idx))
        p_idx, z_idx = p_idx[order], z_idx[order]
        first = np.ones(len(p_idx), dtype=bool)
        first[1:] = p_idx[1:] != p_idx[:-1]
        site_zone[p_idx[first]] = z_idx[first]
        outside = site_zone < 0
        if outside.any():
            bad = np.isin(sites.of_building, np.flatnonzero(outside))
            ids = metric["building_id"].astype(str).to_numpy()[bad]
            raise ValidationError([
                Problem(
                    "error", "streets", f"{int(bad.sum())} building(s) lie outside every 街道 "
                    "polygon",
                    expected="every household inside one of the sub-district polygons",
                    found="buildings " + ", ".join(ids[:5]) + (" …" if len(ids) > 5 else ""),
                    fix="extend the 街道 boundaries to cover them, or check that both layers "
                    "were declared in the same CRS (a GCJ-02 shift moves points ~500 m)",
                )
            ])
    else:
        area = study_outline(sites.xy)
        parts = shapely.get_parts(area)
        zone_geoms = np.array(parts, dtype=object)
        zone_names = [""] * len(zone_geoms) if len(zone_geoms) == 1 else \
            [f"区域{i + 1}" for i in range(len(zone_geoms))]
        tree = shapely.STRtree(zone_geoms)
        p_idx, z_idx = tree.query(shapely.points(sites.xy), predicate="intersects")
        site_zone = np.zeros(len(sites.xy), dtype=np.int64)
        site_zone[p_idx] = z_idx
    sites = Sites(sites.xy, sites.households, sites.compound, site_zone, sites.of_building)
    cut_lines, cut_major, major_frame = _barrier_lines(barriers, metric_crs)
    tick("units", 0.1)

    tess = tessellate(
        sites.xy, area, zones=zone_geoms, barriers=cut_lines if len(cut_lines) else None,
        point_zone=site_zone,
    )
    tick("tessellation", 0.35)

    adj = adjacency(tess.cells, block=tess.block)
    keep = adj.same_zone
    ei, ej, crosses = adj.i[keep], adj.j[keep], adj.crosses_barrier[keep]
    major_lines = cut_lines[cut_major] if len(cut_lines) else np.array([], dtype=object)
    cost, _ = _edge_costs(sites.xy, ei, ej, crosses, major_lines)
    graph = Graph.from_pairs(len(sites.xy), ei, ej, cost, crosses)
    tick("graph", 0.45)

    lower, upper = params.community_band
    g_lower, g_upper = params.grid_band
    community = np.full(len(sites.xy), -1, dtype=np.int64)
    community_zone: list[int] = []
    _, component = graph.components()
    next_label = 0
    for z in range(len(zone_geoms)):
        zone_sites = np.flatnonzero(site_zone == z)
        zone_label = zone_names[z] or "研究区"
        if len(zone_sites) == 0:
            infeasible.append({
                "level": "street", "unit": zone_label, "households": 0,
                "reason": f"街道 {zone_label}: no households; it is left without a community",
            })
            continue
        parts = np.unique(component[zone_sites])
        made = []
        for part in parts:
            nodes = zone_sites[component[zone_sites] == part]
            weights = sites.households[nodes]
            total = float(weights.sum())
            k = choose_region_count(total, target=params.community_size)
            sub = graph.subgraph(nodes)
            labels = _partition_level(
                sub, sites.xy[nodes], weights, sites.compound, nodes, k=k, lower=lower,
                upper=upper, seed=params.seed, barrier_m=250.0,
            )
            community[nodes] = labels + next_label
            count = int(labels.max()) + 1
            community_zone.extend([z] * count)
            next_label += count
            made.append((total, count))
        for total, count in made:
            mean = total / count
            if not (lower <= mean <= upper):
                where = f"街道 {zone_label}" if len(made) == 1 else \
                    f"街道 {zone_label} (a part of {total:,.0f} households cut off from the rest)"
                infeasible.append({
                    "level": "street", "unit": zone_label, "households": int(total),
                    "reason": f"{where}: {total:,.0f} households cannot form communities within "
                    f"{lower:,.0f}–{upper:,.0f}; made {count} of {mean:,.0f}",
                })
        # compounds too large for one community
        zone_compounds = pd.DataFrame({"c": pd.Series(sites.compound[zone_sites], dtype="object"),
                                       "w": sites.households[zone_sites]}).dropna()
        big = zone_compounds.groupby("c")["w"].sum()
        for name, total in big[big > upper].items():
            infeasible.append({
                "level": "compound", "unit": str(name), "households": int(total),
                "reason": f"小区 {name}: {total:,.0f} households exceed one community's "
                f"{upper:,.0f}; it is split between communities",
            })
    tick("communities", 0.7)

    grid = np.full(len(sites.xy), -1, dtype=np.int64)
    grid_count: list[int] = []
    next_grid = 0
    for c in range(next_label):
        nodes = np.flatnonzero(community == c)
        weights = sites.households[nodes]
        total = float(weights.sum())
        k = min(choose_region_count(total, target=params.grid_size), params.max_grids)
        sub = graph.subgraph(nodes)
        labels = _partition_level(
            sub, sites.xy[nodes], weights, sites.compound, nodes, k=k, lower=g_lower,
            upper=g_upper, seed=params.seed, barrier_m=80.0,
        )
        grid[nodes] = labels + next_grid
        grid_count.append(int(labels.max()) + 1)
        next_grid += int(labels.max()) + 1
    tick("grids", 0.85)

    # ---- numbering: communities per 街道 in reading order; grids inside each community
    community_row = np.sqrt(max(shapely.area(area), 1.0) / max(next_label, 1))
    street_of = np.array(community_zone, dtype=np.int64)
    comm_rank = np.empty(next_label, dtype=np.int64)
    order_keys = []
    for z in range(len(zone_geoms)):
        members = np.flatnonzero(street_of == z)
        if len(members) == 0:
            continue
        mask = np.isin(community, members)
        ranks = _reading_order(sites.xy[mask], community[mask], sites.households[mask],
                               community_row)
        for label, rank in zip(community[mask], ranks, strict=True):
            comm_rank[label] = rank
        order_keys.extend((z, int(comm_rank[m]), int(m)) for m in members)
    order_keys.sort()
    community_id = np.empty(next_label, dtype=object)
    community_name = np.empty(next_label, dtype=object)
    for seq, (z, rank, label) in enumerate(order_keys, start=1):
        community_id[label] = f"C{seq:03d}"
        prefix = zone_names[z] or ""
        community_name[label] = f"{prefix}第{rank + 1}社区"
    grid_id = np.empty(next_grid, dtype=object)
    grid_row = np.sqrt(max(shapely.area(area), 1.0) / max(next_grid, 1))
    for c in range(next_label):
        mask = community == c
        labels = grid[mask]
        ranks = _reading_order(sites.xy[mask], labels, sites.households[mask], grid_row)
        for label, rank in zip(labels, ranks, strict=True):
            grid_id[label] = f"{community_id[c]}-{rank + 1:03d}"
    for c in range(next_label):
        total = float(sites.households[community == c].sum())
        k = grid_count[c]
        if total / params.max_grids > g_upper and k == params.max_grids:
            infeasible.append({
                "level": "community", "unit": community_id[c], "households": int(total),
                "reason": f"社区 {community_id[c]}: {total:,.0f} households need more than "
                f"{params.max_grids} grids of at most {g_upper:,.0f}; made {k} of "
                f"{total / k:,.0f}",
            })
    big_sites = np.flatnonzero(sites.households > g_upper)
    for s in big_sites:
        ids = metric["building_id"].astype(str).to_numpy()[sites.of_building == s]
        infeasible.append({
            "level": "building", "unit": ",".join(ids[:3]), "households": int(sites.households[s]),
            "reason": f"楼栋 {ids[0]}: {sites.households[s]:,.0f} households in one building "
            f"exceed a grid's {g_upper:,.0f}; it forms a grid of its own (a building is never "
            "split)",
        })

    # ---- boundaries
    grid_labels, grid_polys = dissolve(tess.cells, grid)
    grid_polys = np.asarray(grid_polys, dtype=object)
    position = np.full(next_grid, -1, dtype=np.int64)
    position[grid_labels] = np.arange(len(grid_labels))
    if params.smooth_m > 0:
        grid_polys = smooth_coverage(
            grid_polys, tolerance_m=params.smooth_m, keep_inside=sites.xy,
            owner=position[grid],
        )
    # absorbed blocks left unassigned (a 街道 without households) stay out of every community
    grid_of_label = np.empty(next_grid, dtype=object)
    grid_of_label[grid_labels] = grid_polys
    grid_community = np.full(next_grid, -1, dtype=np.int64)
    grid_community[grid] = community
    comm_labels, comm_polys = dissolve(grid_of_label, grid_community)
    comm_of_label = np.empty(next_label, dtype=object)
    comm_of_label[comm_labels] = comm_polys
    tick("boundaries", 0.95)

    building_site = sites.of_building
    street_names = np.array(zone_names, dtype=object)
    out_buildings = buildings.copy()
    out_buildings["street"] = street_names[site_zone[building_site]] if streets is not None \
        else None
    out_buildings["community_id"] = community_id[community[building_site]]
    out_buildings["grid_id"] = grid_id[grid[building_site]]

    comm_households = np.bincount(community, weights=sites.households, minlength=next_label)
    comm_buildings = np.bincount(community[building_site], minlength=next_label)
    communities = gpd.GeoDataFrame(
        {
            "community_id": community_id,
            "name": community_name,
            "street": street_names[street_of] if streets is not None else None,
            "households": comm_households.astype("int64"),
            "buildings": comm_buildings.astype("int64"),
            "grid_count": np.array(grid_count, dtype="int64"),
        },
        geometry=list(comm_of_label),
        crs=metric_crs,
    )
    grid_households = np.bincount(grid, weights=sites.households, minlength=next_grid)
    grid_buildings = np.bincount(grid[building_site], minlength=next_grid)
    grids = gpd.GeoDataFrame(
        {
            "grid_id": grid_id,
            "community_id": community_id[grid_community],
            "households": grid_households.astype("int64"),
            "buildings": grid_buildings.astype("int64"),
        },
        geometry=list(grid_of_label),
        crs=metric_crs,
    )
    communities = communities.sort_values("community_id").reset_index(drop=True)
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    tick("assemble", 1.0)
    return Proposal(
        buildings=out_buildings,
        communities=communities,
        grids=grids,
        infeasible=infeasible,
        metric_crs=metric_crs,
        study_area=area,
        barriers=major_frame,
        timings=timings,
    )
