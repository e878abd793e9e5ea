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
6. **boundaries** — cells dissolved by grid; the land without buildings that a cell absorbed
   (step 2) is handed across a community border where that makes both communities more
   compact (:mod:`planning.land`); then smoothed as a coverage (shared edges stay shared,
   every building stays inside its grid), grids dissolved into communities.

Where a band cannot be met the best possible is made and the reason is recorded per unit.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.errors import Problem, ValidationError
from geo.tessellation import (
    Land,
    adjacency,
    dissolve,
    smooth_coverage,
    study_outline,
    tessellate,
)
from planning.land import land_polygons, place_land
from planning.partition import Graph, choose_region_count, partition_units

__all__ = [
    "MAJOR_ROAD_CLASSES",
    "MINOR_ROAD_CLASSES",
    "District",
    "Proposal",
    "ProposeParams",
    "Sites",
    "assemble",
    "boundaries",
    "name_community",
    "number_plan",
    "plan_communities",
    "plan_grids",
    "prepare_district",
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
    district: District | None = None
    site_community: np.ndarray | None = None
    site_grid: np.ndarray | None = None
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


def _major_between(start: np.ndarray, end: np.ndarray, crosses: np.ndarray,
                   major_lines: np.ndarray) -> np.ndarray:
    """Per pair of points: a major barrier line lies between them (the segment joining them
    crosses one). Only pairs that ``crosses`` (lie in different blocks) are tested."""
    major = np.zeros(len(start), dtype=bool)
    candidates = np.flatnonzero(crosses)
    if not len(major_lines) or not len(candidates):
        return major
    segments = shapely.linestrings(np.stack([start[candidates], end[candidates]], axis=1))
    hit, _ = shapely.STRtree(major_lines).query(segments, predicate="intersects")
    major[candidates[np.unique(hit)]] = True
    return major


def _edge_costs(
    xy: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    crosses: np.ndarray,
    major_lines: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(cost, major) per edge: distance inflated across a road, more across a major barrier."""
    distance = np.hypot(*(xy[i] - xy[j]).T)
    major = _major_between(xy[i], xy[j], crosses, major_lines)
    minor = crosses & ~major
    cost = distance * (1 + 1.0 * minor + 4.0 * major) + 100.0 * minor + 800.0 * major
    return cost, major


def _atoms(
    nodes: np.ndarray,
    graph: Graph,
    compound: np.ndarray,
    weights: np.ndarray,
    upper: float,
    xy: np.ndarray,
) -> np.ndarray:
    """Atom label per node of ``graph``: a compound that fits ``upper`` is one atom; every
    other node is its own atom.

    A compound whose buildings do not touch (a shop or an unnamed block stands between them)
    takes in the unnamed units inside its outline (convex hull) when that joins it into one
    connected piece that still fits; otherwise each connected part is an atom of its own.
    """
    n = graph.n
    names = compound[nodes]
    frame = pd.DataFrame({"c": pd.Series(names, dtype="object"), "w": weights})
    totals = frame.dropna().groupby("c")["w"].sum()
    fitting = set(totals[totals <= upper].index)
    if not fitting:
        return np.arange(n)
    group = np.array([c if c in fitting else None for c in names], dtype=object)
    unnamed = np.array([c is None for c in names], dtype=bool)
    src = np.repeat(np.arange(n), np.diff(graph.indptr))
    dst = graph.indices
    for name in sorted(fitting):
        members = np.flatnonzero(group == name)
        if len(members) < 2 or _connected(graph, members):
            continue
        hull = shapely.convex_hull(shapely.multipoints(xy[members]))
        free = unnamed & (group == None)  # noqa: E711 (object array)
        inside = np.flatnonzero(free & shapely.contains_xy(hull.buffer(1.0), xy[:, 0],
                                                           xy[:, 1]))
        joined = np.concatenate([members, inside])
        if not _connected(graph, joined):
            joined = _bridge(graph, members, free, weights,
                             budget=upper - float(weights[members].sum()))
        if weights[joined].sum() <= upper and _connected(graph, joined):
            group[joined[~np.isin(joined, members)]] = name
    keyed = group != None  # noqa: E711 (object array)
    same = keyed[src] & keyed[dst] & (group[src] == group[dst])
    same_idx = np.flatnonzero(same)
    m = scipy.sparse.csr_matrix(
        (np.ones(len(same_idx)), (src[same_idx], dst[same_idx])), shape=(n, n)
    )
    return connected_components(m, directed=False)[1]


def _bridge(graph: Graph, members: np.ndarray, free: np.ndarray, weights: np.ndarray, *,
            budget: float) -> np.ndarray:
    """``members`` joined into one piece through the ``free`` units, with as few households
    between as the graph allows: each other part is linked to the largest by its lightest
    path (Dijkstra, a unit costing its households; paths heavier than ``budget`` households
    are not searched). Returns the members plus the units on the paths; still in pieces
    when no such path links them."""
    n = graph.n
    src = np.repeat(np.arange(n), np.diff(graph.indptr))
    dst = graph.indices
    inside = np.zeros(n, dtype=bool)
    inside[members] = True
    usable = (inside | free)[src] & (inside | free)[dst]
    cost = np.where(inside[dst], 0.0, weights[dst]) + 1e-6  # entering a unit costs its households
    matrix = scipy.sparse.csr_matrix((cost[usable], (src[usable], dst[usable])), shape=(n, n))
    joined = members
    for _ in range(len(members)):
        count, comp = graph.subgraph(joined).components()
        if count == 1:
            break
        in_main = np.zeros(n, dtype=bool)
        in_main[joined[comp == np.bincount(comp).argmax()]] = True
        dist, pred, _ = dijkstra(matrix, indices=np.flatnonzero(in_main), min_only=True,
                                 return_predecessors=True, limit=budget + 1e-3)
        rest = joined[~in_main[joined]]
        if not np.isfinite(dist[rest]).any():
            break
        node, path = int(rest[np.argmin(dist[rest])]), []
        while not in_main[node]:  # back along the path to the main part
            path.append(node)
            node = int(pred[node])
        joined = np.union1d(joined, path)
    return joined


def _connected(graph: Graph, members: np.ndarray) -> bool:
    return graph.subgraph(members).components()[0] == 1


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()]


def _contract(graph: Graph, atom: np.ndarray, xy: np.ndarray, weights: np.ndarray,
              area: np.ndarray, perimeter: np.ndarray):
    """Atom graph: positions (weighted centres), weights, areas, perimeters and links."""
    m = int(atom.max()) + 1
    w = np.bincount(atom, weights=weights, minlength=m)
    sums = np.zeros((m, 2))
    mass_w = np.maximum(weights, 1e-6)
    np.add.at(sums, atom, xy * mass_w[:, None])
    axy = sums / np.bincount(atom, weights=mass_w, minlength=m)[:, None]
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    a, b = atom[src], atom[graph.indices]
    inside = a == b
    a_area = np.bincount(atom, weights=area, minlength=m)
    a_perimeter = np.bincount(atom, weights=perimeter, minlength=m) - np.bincount(
        a[inside], weights=graph.shared[inside], minlength=m
    )
    keep = a < b
    a, b = a[keep], b[keep]
    edge_m = np.hypot(*(xy[src[keep]] - xy[graph.indices[keep]]).T)
    surcharge = np.clip(graph.cost[keep] - edge_m, 0.0, None)  # what the barrier adds
    cost = np.hypot(*(axy[a] - axy[b]).T) + surcharge
    atom_graph = Graph.from_pairs(m, a, b, cost, graph.barrier[keep], graph.shared[keep])
    return atom_graph, axy, w, a_area, a_perimeter


@dataclass(frozen=True)
class District:
    """Everything a plan is drawn on: sites, their cells and their adjacency, in metres.

    Build it once with :func:`prepare_district`; proposals and scenario edits label its sites.
    """

    buildings: gpd.GeoDataFrame  # input buildings (WGS84), aligned with ``sites.of_building``
    metric_crs: pyproj.CRS
    sites: Sites
    cells: np.ndarray  # one Polygon per site, tiling the study area
    cell_area: np.ndarray
    cell_perimeter: np.ndarray
    graph: Graph
    zone_geoms: np.ndarray
    zone_names: list[str]
    has_streets: bool
    study_area: shapely.Geometry
    major_barriers: gpd.GeoDataFrame | None
    land: Land | None = None  # faces without a building, free to change community
    site_block: np.ndarray | None = None  # block (face of the given lines) of each site
    block_geoms: np.ndarray | None = None  # the blocks, metres
    given_lines: np.ndarray | None = None  # every given line and 街道 border, metres
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def zone_label(self) -> list[str]:
        return [name or "研究区" for name in self.zone_names]

    def partition_sites(
        self,
        nodes: np.ndarray,
        *,
        k: int,
        lower: float,
        upper: float,
        seed: int,
        barrier_weight: float = 1.0,
        restarts: int = 8,
        recombine_shapes: bool = True,
    ) -> np.ndarray:
        """Partition the (connected) sites ``nodes`` into ``k`` regions: label per node.

        Compounds whose households fit ``upper`` stay whole (they are atoms)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        sub = self.graph.subgraph(nodes)
        weights = self.sites.households[nodes]
        atom = _atoms(nodes, sub, self.sites.compound, weights, upper, self.sites.xy[nodes])
        atom_graph, axy, aw, a_area, a_perimeter = _contract(
            sub, atom, self.sites.xy[nodes], weights, self.cell_area[nodes],
            self.cell_perimeter[nodes],
        )
        labels = partition_units(
            atom_graph, axy, aw, k=k, lower=lower, upper=upper, seed=seed, area=a_area,
            perimeter=a_perimeter, barrier_weight=barrier_weight, restarts=restarts,
            recombine_shapes=recombine_shapes,
        )
        return labels[atom]

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        """The connected parts of ``nodes`` in the site graph, largest first."""
        nodes = np.asarray(nodes, dtype=np.int64)
        count, comp = self.graph.subgraph(nodes).components()
        parts = [nodes[comp == c] for c in range(count)]
        return sorted(parts, key=lambda p: (-len(p), int(p.min())))


def prepare_district(
    buildings: gpd.GeoDataFrame,
    *,
    metric_crs: pyproj.CRS,
    streets: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
) -> District:
    """Project buildings, tessellate the study area and build the barrier-aware site graph."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    metric = buildings.to_crs(metric_crs)
    bxy = np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])
    households = metric["households"].to_numpy(dtype=float)
    compounds = metric["compound"].to_numpy(dtype=object)
    sites = _sites(bxy, households, compounds)

    has_streets = streets is not None and len(streets) > 0
    if has_streets:
        zones_frame = streets.to_crs(metric_crs).reset_index(drop=True)
        zone_geoms = shapely.make_valid(np.array(zones_frame.geometry.array, dtype=object))
        zone_names = zones_frame["name"].astype(str).tolist()
        area = shapely.union_all(zone_geoms, grid_size=0.01)
        tree = shapely.STRtree(zone_geoms)
        p_idx, z_idx = tree.query(shapely.points(sites.xy), predicate="intersects")
        site_zone = np.full(len(sites.xy), -1, dtype=np.int64)
        order = np.lexsort((z_idx, p_idx))  # the lowest zone index wins on a shared border
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
        # one outline unless clusters of households lie kilometres apart
        area = study_outline(sites.xy, cluster_gap_m=2000.0)
        zone_geoms = np.array(shapely.get_parts(area), dtype=object)
        zone_names = [""] if len(zone_geoms) == 1 else \
            [f"区域{i + 1}" for i in range(len(zone_geoms))]
        tree = shapely.STRtree(zone_geoms)
        p_idx, z_idx = tree.query(shapely.points(sites.xy), predicate="intersects")
        site_zone = np.zeros(len(sites.xy), dtype=np.int64)
        site_zone[p_idx] = z_idx
    sites = Sites(sites.xy, sites.households, sites.compound, site_zone, sites.of_building)
    cut_lines, cut_major, major_frame = _barrier_lines(barriers, metric_crs)
    timings["units"] = time.perf_counter() - clock
    clock = time.perf_counter()

    tess = tessellate(
        sites.xy, area, zones=zone_geoms, barriers=cut_lines if len(cut_lines) else None,
        point_zone=site_zone,
    )
    timings["tessellation"] = time.perf_counter() - clock
    clock = time.perf_counter()

    adj = adjacency(tess.cells, block=tess.block, zone=tess.zone)
    keep = adj.same_zone
    ei, ej, crosses, shared = adj.i[keep], adj.j[keep], adj.crosses_barrier[keep], \
        adj.shared_m[keep]
    major_lines = cut_lines[cut_major] if len(cut_lines) else np.array([], dtype=object)
    cost, major = _edge_costs(sites.xy, ei, ej, crosses, major_lines)
    graph = Graph.from_pairs(len(sites.xy), ei, ej, cost, major, shared)
    cells = np.asarray(tess.cells, dtype=object)
    land = dataclasses.replace(
        tess.land, pair_major=_land_major(tess.land, sites.xy, major_lines)
    )
    timings["graph"] = time.perf_counter() - clock
    return District(
        buildings=buildings, metric_crs=metric_crs, sites=sites, cells=cells,
        cell_area=shapely.area(cells), cell_perimeter=shapely.length(cells), graph=graph,
        zone_geoms=zone_geoms, zone_names=zone_names, has_streets=has_streets,
        study_area=area, major_barriers=major_frame, land=land,
        site_block=np.asarray(tess.block, dtype=np.int64),
        block_geoms=np.asarray(tess.blocks.geometry, dtype=object),
        given_lines=_given_lines(barriers, metric_crs, zone_geoms if has_streets else None),
        timings=timings,
    )


def _given_lines(barriers: gpd.GeoDataFrame | None, metric_crs: pyproj.CRS,
                 zone_geoms: np.ndarray | None) -> np.ndarray:
    """Every line a border may follow, in metres: the barrier layer (all classes) and the
    街道 borders."""
    parts = []
    if barriers is not None and len(barriers):
        geoms = np.array(barriers.to_crs(metric_crs).geometry.array, dtype=object)
        polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
        geoms[polygonal] = shapely.boundary(geoms[polygonal])
        parts.append(geoms)
    if zone_geoms is not None and len(zone_geoms):
        parts.append(shapely.boundary(np.asarray(zone_geoms, dtype=object)))
    if not parts:
        return np.array([], dtype=object)
    return shapely.get_parts(np.concatenate(parts))


def _land_major(land: Land, xy: np.ndarray, major_lines: np.ndarray) -> np.ndarray:
    """Per land contact: a major barrier lies between the face and its neighbour (the line
    between their points crosses one, as for the site graph)."""
    face_xy = shapely.get_coordinates(shapely.point_on_surface(land.faces)).reshape(-1, 2)
    node_xy = np.concatenate([xy, face_xy])
    return _major_between(face_xy[land.pair_face], node_xy[land.pair_node], land.pair_crosses,
                          major_lines)


def _reading_order(xy: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                   row_height: float) -> np.ndarray:
    """Rank of each label: north→south in rows of ``row_height`` metres, west→east in a row."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    w = np.maximum(weights, 1e-6)
    mass = np.bincount(inverse, weights=w)
    cx = np.bincount(inverse, weights=xy[:, 0] * w) / mass
    cy = np.bincount(inverse, weights=xy[:, 1] * w) / mass
    row = np.floor((cy.max() - cy) / max(row_height, 1.0))
    order = np.lexsort((cx, row))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[inverse.ravel()]


def plan_communities(district: District, params: ProposeParams) -> tuple[np.ndarray, list[dict]]:
    """Community label per site (0..m-1, numbered per 街道) and the infeasible units."""
    sites = district.sites
    lower, upper = params.community_band
    community = np.full(len(sites.xy), -1, dtype=np.int64)
    infeasible: list[dict] = []
    next_label = 0
    for z, zone_label in enumerate(district.zone_label):
        zone_sites = np.flatnonzero(sites.zone == z)
        if len(zone_sites) == 0:
            infeasible.append({
                "level": "street", "unit": zone_label, "households": 0,
                "reason": f"街道 {zone_label}: no households; it is left without a community",
            })
            continue
        parts = district.components(zone_sites)
        for part in parts:
            total = float(sites.households[part].sum())
            k = choose_region_count(total, target=params.community_size)
            labels = district.partition_sites(part, k=k, lower=lower, upper=upper,
                                              seed=params.seed)
            community[part] = labels + next_label
            count = int(labels.max()) + 1
            next_label += count
            mean = total / count
            if not (lower <= mean <= upper):
                where = f"街道 {zone_label}" if len(parts) == 1 else \
                    f"街道 {zone_label} (a part of {total:,.0f} households cut off from the rest)"
                infeasible.append({
                    "level": "street", "unit": zone_label, "households": int(total),
                    "reason": f"{where}: {total:,.0f} households cannot form communities within "
                    f"{lower:,.0f}–{upper:,.0f}; made {count} of {mean:,.0f}",
                })
                continue
            sizes = np.bincount(labels, weights=sites.households[part], minlength=count)
            for label in np.flatnonzero((sizes < lower) | (sizes > upper)):
                infeasible.append({
                    "level": "community-band", "community_label": int(label + next_label - count),
                    "households": int(sizes[label]),
                    "reason": f"{sizes[label]:,.0f} households; no split of 街道 {zone_label} "
                    "into contiguous communities with its compounds whole was found within "
                    f"{lower:,.0f}–{upper:,.0f} (this is the closest found)",
                })
        zone_compounds = pd.DataFrame({"c": pd.Series(sites.compound[zone_sites], dtype="object"),
                                       "w": sites.households[zone_sites]}).dropna()
        big = zone_compounds.groupby("c")["w"].sum()
        for name, total in big[big > upper].items():
            infeasible.append({
                "level": "compound", "unit": str(name), "households": int(total),
                "reason": f"小区 {name}: {total:,.0f} households exceed one community's "
                f"{upper:,.0f}; it is split between communities",
            })
        infeasible.extend(_scattered_compounds(district, zone_sites, big[big <= upper], community,
                                               level="community"))
    return community, infeasible


def _scattered_compounds(district: District, nodes: np.ndarray, totals: pd.Series,
                         labels: np.ndarray, *, level: str) -> list[dict]:
    """Compounds that fit but ended in several units because their buildings do not touch."""
    sites = district.sites
    out = []
    frame = pd.DataFrame({"c": pd.Series(sites.compound[nodes], dtype="object"),
                          "l": labels[nodes]}).dropna()
    parts = frame.groupby("c")["l"].nunique()
    for name in parts[(parts > 1) & parts.index.isin(totals.index)].index:
        members = nodes[sites.compound[nodes] == name]
        if _connected(district.graph, members):
            continue  # contiguous: the split is the engine's choice, reported by the metrics
        out.append({
            "level": "compound-scattered", "unit": str(name), "households": int(totals[name]),
            "reason": f"小区 {name}: its buildings do not form one contiguous area (other "
            f"buildings stand between them), so it is in {int(parts[name])} {level}s",
        })
    return out


def plan_grids(
    district: District, community: np.ndarray, params: ProposeParams,
    *, only: np.ndarray | None = None, previous: np.ndarray | None = None,
) -> tuple[np.ndarray, list[dict]]:
    """Grid label per site (unique across communities) and the infeasible units.

    ``only`` limits the work to these community labels; the other sites keep their label in
    ``previous``.
    """
    sites = district.sites
    g_lower, g_upper = params.grid_band
    grid = np.full(len(sites.xy), -1, dtype=np.int64) if previous is None else previous.copy()
    infeasible: list[dict] = []
    targets = np.unique(community[community >= 0]) if only is None else np.asarray(only)
    next_grid = int(grid.max()) + 1 if previous is not None else 0
    for c in targets:
        nodes = np.flatnonzero(community == c)
        total = float(sites.households[nodes].sum())
        k = min(choose_region_count(total, target=params.grid_size), params.max_grids)
        labels = district.partition_sites(nodes, k=k, lower=g_lower, upper=g_upper,
                                          seed=params.seed, barrier_weight=0.3, restarts=2,
                                          recombine_shapes=False)
        grid[nodes] = labels + next_grid
        made = int(labels.max()) + 1
        next_grid += made
        if total / params.max_grids > g_upper and made == params.max_grids:
            infeasible.append({
                "level": "community", "community_label": int(c), "households": int(total),
                "reason": f"{total:,.0f} households need more than {params.max_grids} grids "
                f"of at most {g_upper:,.0f}; made {made} of {total / made:,.0f}",
            })
        else:
            infeasible.extend(_grid_packing(sites.households[nodes], labels, int(c), params))
    for s in np.flatnonzero(sites.households > g_upper):
        if only is not None and community[s] not in set(targets.tolist()):
            continue
        ids = district.buildings["building_id"].astype(str).to_numpy()[sites.of_building == s]
        infeasible.append({
            "level": "building", "unit": ",".join(ids[:3]), "households": int(sites.households[s]),
            "reason": f"楼栋 {ids[0]}: {sites.households[s]:,.0f} households in one building "
            f"exceed a grid's {g_upper:,.0f}; it forms a grid of its own (a building is never "
            "split)",
        })
    return _relabel_grids(grid), infeasible


def _grid_packing(households: np.ndarray, labels: np.ndarray, community: int,
                  params: ProposeParams) -> list[dict]:
    """Why a community's grids are not all in band, when no oversized building explains it:
    the partition found no packing (buildings whole, grids contiguous); say so, with the
    numbers a planner needs to judge it."""
    lower, upper = params.grid_band
    made = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=households, minlength=made)
    oversized_building = np.bincount(labels, weights=households > upper, minlength=made) > 0
    out = ((sizes < lower) | (sizes > upper)) & ~oversized_building
    if not out.any():
        return []
    total = float(households.sum())
    if made == 1:
        side = "below" if total < lower else "above"
        return [{
            "level": "grid-band", "community_label": community, "households": int(total),
            "reason": f"{total:,.0f} households make one grid, {side} {lower:,.0f}–"
            f"{upper:,.0f}",
        }]
    largest = ", ".join(f"{h:,.0f}" for h in np.sort(households)[::-1][:3])
    shown = ", ".join(f"{h:,.0f}" for h in np.sort(sizes[out]))
    return [{
        "level": "grid-band", "community_label": community, "households": int(total),
        "reason": f"{total:,.0f} households in {made} grids (an average of "
        f"{total / made:,.0f}); no split into contiguous grids with buildings and compounds "
        f"whole was found with every grid within {lower:,.0f}–{upper:,.0f}: "
        f"{int(out.sum())} of {made} out of band ({shown}), the closest found; its largest "
        f"buildings hold {largest} households",
    }]


def name_community(item: dict, community_ids) -> dict:
    """Turn an infeasible item's ``community_label`` (as :func:`plan_communities` and
    :func:`plan_grids` report it) into its community id: the item's ``unit``, and the prefix
    of its reason. Items without a label are left as they are. Changes ``item``; returns it."""
    if "community_label" in item:
        cid = str(community_ids[item.pop("community_label")])
        item["unit"], item["reason"] = cid, f"社区 {cid}: " + item["reason"]
    return item


def _relabel_grids(grid: np.ndarray) -> np.ndarray:
    out = grid.copy()
    valid = grid >= 0
    out[valid] = _relabel(grid[valid])
    return out


def boundaries(
    district: District, community: np.ndarray, grid: np.ndarray, *, smooth_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid polygons (per grid label), community polygons (per community label) and the
    community of each grid, smoothed per 街道 so 街道 lines stay exactly where they are."""
    n_grid = int(grid.max()) + 1
    n_comm = int(community.max()) + 1
    grid_community = np.full(n_grid, -1, dtype=np.int64)
    grid_community[grid] = community
    grid_zone = np.full(n_grid, -1, dtype=np.int64)
    grid_zone[grid] = district.sites.zone
    grid_polys = np.empty(n_grid, dtype=object)
    for z in np.unique(grid_zone):
        members = np.flatnonzero(grid_zone == z)
        in_zone = np.isin(grid, members)
        local = np.searchsorted(members, grid[in_zone])
        labels, polys = dissolve(district.cells[in_zone], local)
        polys = np.asarray(polys, dtype=object)
        if district.land is not None:
            polys = _with_land(district, np.flatnonzero(in_zone), community[in_zone], local,
                               polys)
        if smooth_m > 0:
            position = np.full(len(members), -1, dtype=np.int64)
            position[labels] = np.arange(len(labels))
            polys = smooth_coverage(polys, tolerance_m=smooth_m,
                                    keep_inside=district.sites.xy[in_zone],
                                    owner=position[local])
        grid_polys[members[labels]] = polys
    comm_labels, comm_polys = dissolve(grid_polys, grid_community)
    community_polys = np.empty(n_comm, dtype=object)
    community_polys[comm_labels] = comm_polys
    return grid_polys, community_polys, grid_community


def _with_land(district: District, sites: np.ndarray, site_community: np.ndarray,
               site_grid: np.ndarray, grid_polys: np.ndarray) -> np.ndarray:
    """The grid polygons of one 街道 with its open land placed between communities
    (:mod:`planning.land`)."""
    land = district.land.restrict(sites)
    if not len(land):
        return grid_polys
    _, comm_local = np.unique(site_community, return_inverse=True)
    comm_local = comm_local.ravel()
    grid_comm = np.full(len(grid_polys), -1, dtype=np.int64)
    grid_comm[site_grid] = comm_local
    _, comm_polys = dissolve(grid_polys, grid_comm)
    owner = place_land(
        land, land.pair_major, comm_local,
        community_area=shapely.area(comm_polys), community_perimeter=shapely.length(comm_polys),
    )
    polys, _ = land_polygons(land, owner, district.cells[sites], site_grid, comm_local,
                             grid_polys)
    return polys


def number_plan(
    district: District, community: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(community ids, community names, grid ids) per label, in reading order per 街道.

    Communities are numbered C001… per 街道 north→south, west→east; grids are the community
    id plus a 3-digit sequence in the same order inside their community.
    """
    sites = district.sites
    n_comm = int(community.max()) + 1
    n_grid = int(grid.max()) + 1
    area = max(float(shapely.area(district.study_area)), 1.0)
    comm_zone = np.full(n_comm, -1, dtype=np.int64)
    comm_zone[community] = sites.zone
    keys = []
    for z in np.unique(comm_zone):
        mask = np.isin(community, np.flatnonzero(comm_zone == z))
        ranks = _reading_order(sites.xy[mask], community[mask], sites.households[mask],
                               np.sqrt(area / n_comm))
        rank_of = dict(zip(community[mask].tolist(), ranks.tolist(), strict=True))
        keys.extend((int(z), rank, label) for label, rank in rank_of.items())
    keys.sort()
    community_id = np.empty(n_comm, dtype=object)
    community_name = np.empty(n_comm, dtype=object)
    for seq, (z, rank, label) in enumerate(keys, start=1):
        community_id[label] = f"C{seq:03d}"
        community_name[label] = f"{district.zone_names[z]}第{rank + 1}社区"
    grid_id = np.empty(n_grid, dtype=object)
    for c in range(n_comm):
        mask = community == c
        if not mask.any():
            continue
        ranks = _reading_order(sites.xy[mask], grid[mask], sites.households[mask],
                               np.sqrt(area / max(n_grid, 1)))
        for label, rank in zip(grid[mask].tolist(), ranks.tolist(), strict=True):
            grid_id[label] = f"{community_id[c]}-{rank + 1:03d}"
    return community_id, community_name, grid_id


def assemble(
    district: District,
    community: np.ndarray,
    grid: np.ndarray,
    *,
    community_id: np.ndarray,
    community_name: np.ndarray,
    grid_id: np.ndarray,
    smooth_m: float,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(buildings, communities, grids) frames of a labelled plan."""
    sites = district.sites
    grid_polys, community_polys, grid_community = boundaries(
        district, community, grid, smooth_m=smooth_m
    )
    n_comm, n_grid = len(community_polys), len(grid_polys)
    building_site = sites.of_building
    zone_names = np.array(district.zone_names, dtype=object)
    out_buildings = district.buildings.copy()
    out_buildings["street"] = zone_names[sites.zone[building_site]] if district.has_streets \
        else None
    out_buildings["community_id"] = community_id[community[building_site]]
    out_buildings["grid_id"] = grid_id[grid[building_site]]
    comm_zone = np.full(n_comm, -1, dtype=np.int64)
    comm_zone[community] = sites.zone
    grid_count = np.bincount(grid_community, minlength=n_comm)
    communities = gpd.GeoDataFrame(
        {
            "community_id": community_id,
            "name": community_name,
            "street": zone_names[comm_zone] if district.has_streets else None,
            "households": np.bincount(community, weights=sites.households,
                                      minlength=n_comm).astype("int64"),
            "buildings": np.bincount(community[building_site], minlength=n_comm).astype("int64"),
            "grid_count": grid_count.astype("int64"),
        },
        geometry=list(community_polys),
        crs=district.metric_crs,
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_id": grid_id,
            "community_id": community_id[grid_community],
            "households": np.bincount(grid, weights=sites.households,
                                      minlength=n_grid).astype("int64"),
            "buildings": np.bincount(grid[building_site], minlength=n_grid).astype("int64"),
        },
        geometry=list(grid_polys),
        crs=district.metric_crs,
    )
    communities = communities.sort_values("community_id").reset_index(drop=True)
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    return out_buildings, communities, grids


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
    report = progress or (lambda stage, done: None)
    report("tessellation", 0.05)
    district = prepare_district(buildings, metric_crs=metric_crs, streets=streets,
                                barriers=barriers)
    timings = dict(district.timings)
    report("communities", 0.4)
    clock = time.perf_counter()
    community, infeasible = plan_communities(district, params)
    timings["communities"] = time.perf_counter() - clock
    report("grids", 0.7)
    clock = time.perf_counter()
    grid, grid_infeasible = plan_grids(district, community, params)
    timings["grids"] = time.perf_counter() - clock
    report("boundaries", 0.9)
    clock = time.perf_counter()
    community_id, community_name, grid_id = number_plan(district, community, grid)
    for item in infeasible + grid_infeasible:
        name_community(item, community_id)
    out_buildings, communities, grids = assemble(
        district, community, grid, community_id=community_id, community_name=community_name,
        grid_id=grid_id, smooth_m=params.smooth_m,
    )
    timings["boundaries"] = time.perf_counter() - clock
    report("done", 1.0)
    return Proposal(
        buildings=out_buildings,
        communities=communities,
        grids=grids,
        infeasible=infeasible + grid_infeasible,
        metric_crs=metric_crs,
        study_area=district.study_area,
        barriers=district.major_barriers,
        district=district,
        site_community=community,
        site_grid=grid,
        timings=timings,
    )
