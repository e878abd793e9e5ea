"""A district prepared for planning: buildings as sites in metres, the study area cut into
blocks along 街道 lines and barriers, one cell per site, and the barrier-aware site graph."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import KDTree

from geo.errors import Problem, ValidationError
from geo.footprints import FootprintMatch
from geo.tessellation import Tessellation, adjacency, build_blocks, study_outline, tessellate
from planning.engine.graph import Graph
from planning.engine.partition import effective_band, partition_units
from planning.engine.regions import penalty
from planning.engine.shape import NECK_WIDTH_M
from planning.engine.units import Units, atoms, compound_groups, contract
from planning.parallel import StageClock
from planning.records import Note

__all__ = [
    "LANE_ROAD_CLASSES",
    "MAJOR_ROAD_CLASSES",
    "MINOR_ROAD_CLASSES",
    "District",
    "SitePartition",
    "Sites",
    "prepare_district",
]


#: Roads that bound communities like rivers and railways do (OSM ``highway`` values and the
#: Chinese 道路等级 words planners use).
MAJOR_ROAD_CLASSES = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "expressway",
        "高速公路",
        "快速路",
        "主干路",
        "主干道",
        "次干路",
        "次干道",
    }
)


#: Roads that blocks are cut along (boundaries follow them) but that may run inside a
#: community.
MINOR_ROAD_CLASSES = frozenset(
    {
        "tertiary",
        "tertiary_link",
        "residential",
        "unclassified",
        "living_street",
        "支路",
        "支路以上",
        "街坊路",
    }
)
#: Lanes: they cut a block into parcels, and a border that must run inside a block follows
#: them where they run from edge to edge; blocks are not cut along them. Classes listed
#: nowhere here (construction, proposed, platform …) are ignored.
LANE_ROAD_CLASSES = frozenset(
    {
        "service",
        "pedestrian",
        "footway",
        "path",
        "track",
        "cycleway",
        "bridleway",
        "steps",
        "内部道路",
        "小区道路",
        "巷",
        "巷道",
        "胡同",
        "弄",
    }
)


@dataclass(frozen=True)
class Sites:
    """Distinct building locations in metres, the units of tessellation."""

    xy: np.ndarray  # (n, 2)
    households: np.ndarray  # (n,)
    compound: np.ndarray  # (n,) object, None when none
    subdistrict: np.ndarray  # (n,) zone index
    of_building: np.ndarray  # site index of each building


def _barrier_lines(
    barriers: gpd.GeoDataFrame | None, metric_crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame | None, np.ndarray]:
    """(cut lines, major-barrier mask, major barriers frame, lanes) in metres."""
    if barriers is None or len(barriers) == 0:
        empty = np.array([], dtype=object)
        return empty, np.array([], dtype=bool), None, empty
    frame = barriers.to_crs(metric_crs)
    kind = frame["kind"].astype("string").fillna("road").to_numpy(dtype=object)
    road_class = frame["road_class"].astype("string").str.lower().fillna("").to_numpy(dtype=object)
    is_road = kind == "road"
    unclassified = is_road & (road_class == "")
    major = (~is_road) | unclassified | np.isin(road_class, list(MAJOR_ROAD_CLASSES))
    minor = is_road & np.isin(road_class, list(MINOR_ROAD_CLASSES))
    lane = is_road & np.isin(road_class, list(LANE_ROAD_CLASSES))
    cut = major | minor
    geoms = np.array(frame.geometry.array, dtype=object)
    major_frame = frame[major].reset_index(drop=True)
    return geoms[cut], major[cut], major_frame, geoms[lane]


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
    frame = pd.DataFrame(
        {"site": site, "compound": pd.Series(compounds, dtype="object"), "hh": households}
    )
    named = frame.dropna(subset=["compound"])
    if len(named):
        best = named.groupby(["site", "compound"])["hh"].sum().reset_index()
        best = best.sort_values(["site", "hh", "compound"], ascending=[True, False, True])
        best = best.drop_duplicates("site")
        compound[best["site"].to_numpy()] = best["compound"].to_numpy(dtype=object)
    return Sites(xy, hh, compound, np.zeros(n, dtype=np.int64), site)


def _major_between(
    start: np.ndarray, end: np.ndarray, crosses: np.ndarray, major_lines: np.ndarray
) -> np.ndarray:
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
    *,
    crosses: np.ndarray,
    lane: np.ndarray,
    major_lines: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(cost, major) per edge: distance inflated across a lane, more across a road, most
    across a major barrier. ``crosses``: the two lie in different blocks; ``lane``: in one
    block, on two sides of a lane."""
    distance = np.hypot(*(xy[i] - xy[j]).T)
    major = _major_between(xy[i], xy[j], crosses, major_lines)
    minor = crosses & ~major
    cost = (
        distance * (1 + 1.0 * minor + 4.0 * major + 0.3 * lane)
        + 100.0 * minor
        + 800.0 * major
        + 20.0 * lane
    )
    return cost, major


@dataclass(frozen=True)
class SitePartition:
    """Regions of some sites: ``labels`` (one per site, 0…k-1), and ``released``, the
    street blocks that fit one region but were not kept whole, to meet the band."""

    labels: np.ndarray
    released: frozenset[int]


def _neighbouring_labels(graph: Graph, labels: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """The labels bordering any of ``regions``."""
    src, dst = graph.sources(), graph.indices
    touching = np.isin(labels[src], regions) & (labels[src] != labels[dst])
    return np.unique(labels[dst[touching]])


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
    subdistrict_geoms: np.ndarray
    subdistrict_names: list[str]
    has_subdistricts: bool
    study_area: shapely.Geometry
    major_barriers: gpd.GeoDataFrame | None
    site_block: np.ndarray | None = None  # street block (face of roads, rivers, 街道 lines)
    block_geoms: np.ndarray | None = None  # the street blocks with their land, metres
    site_parcel: np.ndarray | None = None  # parcel: a street block cut by lanes; cells in it
    parcel_geoms: np.ndarray | None = None  # the parcels with their land, metres
    given_lines: np.ndarray | None = None  # every given line and 街道 border, metres
    footprints: np.ndarray | None = None  # building footprints (metres): no border crosses one
    footprint_site: np.ndarray | None = None  # the site standing in each footprint, or -1
    site_shape: np.ndarray | None = None  # the footprint of each site (its largest), or None
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage

    @property
    def subdistrict_label(self) -> list[str]:
        return [name or "研究区" for name in self.subdistrict_names]

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
        graph: Graph | None = None,
        releases: int = 3,
    ) -> np.ndarray:
        """Partition the (connected) sites ``nodes`` into ``k`` regions: label per node
        (see :meth:`partition_blocks`)."""
        return self.partition_blocks(
            nodes,
            k=k,
            lower=lower,
            upper=upper,
            seed=seed,
            barrier_weight=barrier_weight,
            restarts=restarts,
            recombine_shapes=recombine_shapes,
            graph=graph,
            releases=releases,
        ).labels

    def partition_blocks(
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
        graph: Graph | None = None,
        releases: int = 3,
    ) -> SitePartition:
        """Partition the (connected) sites ``nodes`` into ``k`` regions, keeping whole every
        compound and every street block that fits ``upper`` (:func:`atoms`).

        When that leaves regions out of the band, the fitting blocks of those regions are
        released (may be split) and the partition drawn again; then, if regions are still
        out, those of their neighbours too; then every block. The result with the fewest regions out of band
        wins (then the least penalty); on a tie, the one with more blocks whole.

        ``graph`` is the adjacency of ``nodes`` to use (in their order; default: the
        district's, see :meth:`sturdy_subgraph`); ``releases`` caps how many of those
        further attempts are made (0: blocks that fit always stay whole)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        partition = functools.partial(
            partition_units,
            k=k,
            lower=lower,
            upper=upper,
            seed=seed,
            barrier_weight=barrier_weight,
            restarts=restarts,
            recombine_shapes=recombine_shapes,
        )
        total = float(self.sites.households[nodes].sum())
        attempts = _BlockReleases(
            self,
            nodes,
            self.graph.subgraph(nodes) if graph is None else graph,
            partition,
            upper=upper,
            band=effective_band(total, k, lower, upper),
        )
        return attempts.best(releases)

    def sturdy_subgraph(self, nodes: np.ndarray) -> Graph:
        """The adjacency of ``nodes`` without corner contacts: two cells meeting along less
        than a neck's width and less than a third of the smaller cell's size (sparse towers
        with big cells) are no neighbours, unless without them ``nodes`` fall apart. A
        region built on it is never two cells joined at a corner."""
        nodes = np.asarray(nodes, dtype=np.int64)
        sub = self.graph.subgraph(nodes)
        src, dst = sub.sources(), sub.indices
        area = self.cell_area[nodes]
        size_m = np.sqrt(np.minimum(area[src], area[dst]))
        corner = (sub.shared < NECK_WIDTH_M) & (sub.shared < size_m / 3.0)
        if not corner.any():
            return sub
        once = src < dst
        drop = _keep_connected(src[once], dst[once], sub.shared[once], corner[once], sub.n)
        keep = np.ones(len(src), dtype=bool)
        dropped = set(zip(src[once][drop].tolist(), dst[once][drop].tolist(), strict=True))
        keep &= np.array(
            [
                (min(a, b), max(a, b)) not in dropped
                for a, b in zip(src.tolist(), dst.tolist(), strict=True)
            ],
            dtype=bool,
        )
        indptr = np.zeros(sub.n + 1, dtype=np.int64)
        np.add.at(indptr, src[keep] + 1, 1)
        return Graph(
            np.cumsum(indptr), dst[keep], sub.cost[keep], sub.barrier[keep], sub.shared[keep]
        )

    def restricted(self, nodes: np.ndarray) -> District:
        """The district of the sites ``nodes`` alone (renumbered 0… in the given order), with
        what drawing regions on them needs: sites, cells, their graph, blocks and parcels
        (numbered as here). Sent to a worker process in place of the whole district; a
        partition of ``arange(len(nodes))`` on it is the partition of ``nodes`` on this one.
        The buildings, the 街道 and block shapes and the lines stay behind."""
        nodes = np.asarray(nodes, dtype=np.int64)
        sites = self.sites
        empty = np.array([], dtype=object)

        def part(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[nodes]

        return District(
            buildings=None,
            metric_crs=self.metric_crs,
            sites=Sites(
                sites.xy[nodes],
                sites.households[nodes],
                sites.compound[nodes],
                sites.subdistrict[nodes],
                np.array([], dtype=np.int64),
            ),
            cells=self.cells[nodes],
            cell_area=self.cell_area[nodes],
            cell_perimeter=self.cell_perimeter[nodes],
            graph=self.graph.subgraph(nodes),
            subdistrict_geoms=empty,
            subdistrict_names=self.subdistrict_names,
            has_subdistricts=self.has_subdistricts,
            study_area=None,
            major_barriers=None,
            site_block=part(self.site_block),
            site_parcel=part(self.site_parcel),
            site_shape=part(self.site_shape),
        )

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        """The connected parts of ``nodes`` in the site graph, largest first."""
        nodes = np.asarray(nodes, dtype=np.int64)
        count, comp = self.graph.subgraph(nodes).components()
        parts = [nodes[comp == c] for c in range(count)]
        return sorted(parts, key=lambda p: (-len(p), int(p.min())))


class _BlockReleases:
    """A partition of some sites drawn with every fitting street block whole, then again
    with more of them released until the regions are in band (:meth:`District.partition_blocks`)."""

    def __init__(
        self,
        district: District,
        nodes: np.ndarray,
        graph: Graph,
        partition: Callable[[Units], np.ndarray],
        *,
        upper: float,
        band: tuple[float, float],
    ) -> None:
        self.district = district
        self.nodes = nodes
        self.graph = graph
        self.partition = partition
        self.upper = upper
        self.lower_band, self.upper_band = band
        self.weights = district.sites.households[nodes]
        self.block = None if district.site_block is None else district.site_block[nodes]
        self.parcel = None if district.site_parcel is None else district.site_parcel[nodes]
        # a building bigger than a region: its region is out anyway
        self.giant = self.weights > self.upper_band
        # the fitting compounds do not depend on the blocks released: found on the first run
        self.group: np.ndarray | None = None

    def run(self, released: frozenset[int] | None) -> np.ndarray:
        """Partition with the blocks not ``released`` whole (None: compounds only)."""
        district, nodes = self.district, self.nodes
        if self.group is None:
            self.group = compound_groups(
                nodes,
                self.graph,
                district.sites.compound,
                self.weights,
                upper=self.upper,
                xy=district.sites.xy[nodes],
            )
        atom = atoms(
            nodes,
            self.graph,
            district.sites.compound,
            self.weights,
            self.upper,
            xy=district.sites.xy[nodes],
            block=None if released is None else self.block,
            parcel=self.parcel,
            released=released or frozenset(),
            group=self.group,
        )
        sites = Units(
            self.graph,
            district.sites.xy[nodes],
            self.weights,
            district.cell_area[nodes],
            district.cell_perimeter[nodes],
        )
        return self.partition(contract(sites, atom))[atom]

    def _sizes(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(households, out of band, holds a giant building) per region."""
        sizes = np.bincount(labels, weights=self.weights)
        giant = np.bincount(labels, weights=self.giant) > 0
        out = ((sizes < self.lower_band) | (sizes > self.upper_band)) & ~giant
        return sizes, out, giant

    def score(self, labels: np.ndarray) -> tuple[int, float]:
        """(regions out of band, their penalty), leaving out regions holding a giant."""
        sizes, out, giant = self._sizes(labels)
        return int(out.sum()), float(penalty(sizes[~giant], self.lower_band, self.upper_band).sum())

    def best(self, releases: int) -> SitePartition:
        """The best of the partition with every fitting block whole and up to ``releases``
        drawn again: with the fitting blocks of the regions out of band released, then those
        of their neighbours too, then every block."""
        released: frozenset[int] = frozenset()
        best = self.run(released)
        best_score, best_released = self.score(best), released
        block = self.block
        if block is None or best_score[0] == 0:
            return SitePartition(best, released)
        out = np.flatnonzero(self._sizes(best)[1])
        near = np.union1d(out, _neighbouring_labels(self.graph, best, out))
        # only blocks that fit can be released: the rest are split anyway
        block_total = np.bincount(block, weights=self.weights)
        fitting = block_total[block] <= self.upper
        tried: set[frozenset[int]] = {released}
        for scope in (np.isin(best, out), np.isin(best, near), None)[:releases]:
            if scope is None:  # at last nothing but compounds kept whole, blocks nor parcels
                released = frozenset(np.unique(block[fitting]).tolist())
                labels = self.run(None)
            else:
                released = frozenset(np.unique(block[scope & fitting]).tolist())
                if released in tried:
                    continue
                tried.add(released)
                labels = self.run(released)
            if self.score(labels) < best_score:
                best, best_score, best_released = labels, self.score(labels), released
            if best_score[0] == 0:
                break
        return SitePartition(best, best_released)


def prepare_district(
    buildings: gpd.GeoDataFrame,
    *,
    metric_crs: pyproj.CRS,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    footprints: FootprintMatch | None = None,
) -> District:
    """Project buildings, tessellate the study area and build the barrier-aware site graph.

    ``footprints`` (matched to ``buildings``) are kept for drawing: no border crosses one."""
    clock = StageClock()
    with clock.stage("units"):
        metric = buildings.to_crs(metric_crs)
        bxy = np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])
        households = metric["households"].to_numpy(dtype=float)
        compounds = metric["compound"].to_numpy(dtype=object)
        sites = _sites(bxy, households, compounds)
        has_subdistricts = subdistricts is not None and len(subdistricts) > 0
        if subdistricts is not None and has_subdistricts:
            frame = subdistricts.to_crs(metric_crs).reset_index(drop=True)
            zones = _given_zones(sites, frame, metric)
        else:
            zones = _outline_zones(sites)
        sites = Sites(sites.xy, sites.households, sites.compound, zones.of_site, sites.of_building)
        cut_lines, cut_major, major_frame, lanes = _barrier_lines(barriers, metric_crs)

    with clock.stage("tessellation"):
        site_shape = (
            None if footprints is None else _site_shapes(footprints, sites, zones, cut_lines)
        )
        tess = tessellate(
            sites.xy,
            zones.area,
            zones=zones.geoms,
            barriers=cut_lines if len(cut_lines) else None,
            lanes=lanes if len(lanes) else None,
            point_zone=zones.of_site,
            shapes=site_shape,
        )

    with clock.stage("graph"):
        site_block = np.asarray(tess.street_block, dtype=np.int64)
        major_lines = cut_lines[cut_major] if len(cut_lines) else np.array([], dtype=object)
        graph = _site_graph(tess, site_block, sites.xy, major_lines)
        cells = np.asarray(tess.cells, dtype=object)
    return District(
        buildings=buildings,
        metric_crs=metric_crs,
        sites=sites,
        cells=cells,
        cell_area=shapely.area(cells),
        cell_perimeter=shapely.length(cells),
        graph=graph,
        subdistrict_geoms=zones.geoms,
        subdistrict_names=zones.names,
        has_subdistricts=has_subdistricts,
        study_area=zones.area,
        major_barriers=major_frame,
        site_block=site_block,
        block_geoms=np.asarray(tess.street_blocks, dtype=object),
        site_parcel=np.asarray(tess.block, dtype=np.int64),
        parcel_geoms=np.asarray(tess.blocks.geometry, dtype=object),
        given_lines=_given_lines(barriers, metric_crs, zones.geoms if has_subdistricts else None),
        footprints=None if footprints is None else np.asarray(footprints.geometry, dtype=object),
        footprint_site=None if footprints is None else _footprint_sites(footprints, sites),
        site_shape=site_shape,
        timings=clock.wall_s,
        cpu_s=clock.cpu_s,
    )


@dataclass(frozen=True)
class _Zones:
    """The 街道 (or, without them, the outlines of the clusters of households) a district is
    planned in: polygons and names (metres), their union, and the zone of each site."""

    geoms: np.ndarray
    names: list[str]
    area: shapely.Geometry
    of_site: np.ndarray


def _given_zones(sites: Sites, frame: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> _Zones:
    """The given 街道 polygons (``frame``, metres); every site must lie in one (the lowest
    index wins on a shared border), else the ``buildings`` outside are named."""
    geoms = shapely.make_valid(np.array(frame.geometry.array, dtype=object))
    names = frame["name"].astype(str).tolist()
    area = shapely.union_all(geoms, grid_size=0.01)
    tree = shapely.STRtree(geoms)
    p_idx, z_idx = tree.query(shapely.points(sites.xy), predicate="intersects")
    site_subdistrict = np.full(len(sites.xy), -1, dtype=np.int64)
    order = np.lexsort((z_idx, p_idx))  # the lowest zone index wins on a shared border
    p_idx, z_idx = p_idx[order], z_idx[order]
    first = np.ones(len(p_idx), dtype=bool)
    first[1:] = p_idx[1:] != p_idx[:-1]
    site_subdistrict[p_idx[first]] = z_idx[first]
    outside = site_subdistrict < 0
    if outside.any():
        bad = np.isin(sites.of_building, np.flatnonzero(outside))
        ids = buildings["building_id"].astype(str).to_numpy()[bad]
        record = Note.of(
            "district.outside_streets",
            n=int(bad.sum()),
            ids=tuple(str(i) for i in ids[:5]),
            more=" …" if len(ids) > 5 else "",
        )
        raise ValidationError([Problem.of("error", "streets", record)])
    return _Zones(geoms, names, area, site_subdistrict)


def _outline_zones(sites: Sites) -> _Zones:
    """Without 街道: one outline around the sites, unless clusters of households lie
    kilometres apart (one zone each)."""
    area = study_outline(sites.xy, cluster_gap_m=2000.0)
    geoms = np.array(shapely.get_parts(area), dtype=object)
    names = [""] if len(geoms) == 1 else [f"区域{i + 1}" for i in range(len(geoms))]
    tree = shapely.STRtree(geoms)
    p_idx, z_idx = tree.query(shapely.points(sites.xy), predicate="intersects")
    site_subdistrict = np.zeros(len(sites.xy), dtype=np.int64)
    site_subdistrict[p_idx] = z_idx
    return _Zones(geoms, names, area, site_subdistrict)


def _site_shapes(
    footprints: FootprintMatch, sites: Sites, zones: _Zones, cut_lines: np.ndarray
) -> np.ndarray:
    """The footprints each site's cell must hold whole (:func:`_site_footprints`), placed
    by the blocks the 街道 lines and barriers alone cut."""
    subdistricts_only = build_blocks(zones.area, zones.geoms, cut_lines if len(cut_lines) else None)
    tree = shapely.STRtree(subdistricts_only.geometry)

    def block_of_point(xy: np.ndarray) -> np.ndarray:
        p_idx, b_idx = tree.query(shapely.points(xy), predicate="intersects")
        out = np.full(len(xy), -1, dtype=np.int64)
        out[p_idx[::-1]] = b_idx[::-1]
        return out

    return _site_footprints(footprints, sites, block_of_point(sites.xy), block_of_point)


def _site_graph(
    tess: Tessellation, site_block: np.ndarray, xy: np.ndarray, major_lines: np.ndarray
) -> Graph:
    """Adjacency of the cells within a zone, less the weak contacts between street blocks,
    with costs inflated across lanes, roads and major barriers."""
    adj = adjacency(tess.cells, block=tess.street_block, zone=tess.zone)
    keep = adj.same_zone
    ei, ej, crosses, shared = (
        adj.i[keep],
        adj.j[keep],
        adj.crosses_barrier[keep],
        adj.shared_m[keep],
    )
    weak = _weak_contacts(site_block, ei, ej, shared, len(xy))
    ei, ej, crosses, shared = ei[~weak], ej[~weak], crosses[~weak], shared[~weak]
    lane = ~crosses & (tess.block[ei] != tess.block[ej])
    cost, major = _edge_costs(xy, ei, ej, crosses=crosses, lane=lane, major_lines=major_lines)
    return Graph.from_pairs(len(xy), ei, ej, cost, barrier=major, shared=shared)


def _footprint_sites(footprints: FootprintMatch, sites: Sites) -> np.ndarray:
    """The site standing in each footprint (the one holding most households), or -1."""
    owner = np.full(len(footprints.geometry), -1, dtype=np.int64)
    matched = np.flatnonzero(footprints.footprint_of_building >= 0)
    order = matched[np.argsort(sites.households[sites.of_building[matched]], kind="stable")]
    owner[footprints.footprint_of_building[order]] = sites.of_building[order]
    return owner


def _site_footprints(
    footprints: FootprintMatch, sites: Sites, site_block: np.ndarray, block_of_point
) -> np.ndarray:
    """The footprints each site's cell must hold whole: those of its buildings, and each
    footprint without households goes to the nearest site (whose cell it mostly lies in);
    None for a site without any."""
    owner = _footprint_sites(footprints, sites)
    free = np.flatnonzero(owner < 0)
    if len(free):
        # the nearest site of the block the footprint mostly stands in
        at = shapely.get_coordinates(shapely.point_on_surface(footprints.geometry[free]))
        for b in np.unique(block_of_point(at)).tolist():
            mine = block_of_point(at) == b
            candidates = np.flatnonzero(site_block == b) if b >= 0 else np.arange(len(sites.xy))
            if not len(candidates):
                candidates = np.arange(len(sites.xy))
            owner[free[mine]] = candidates[KDTree(sites.xy[candidates]).query(at[mine])[1]]
    shape = np.full(len(sites.xy), None, dtype=object)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(sites.xy) + 1))
    for s in np.flatnonzero(np.diff(starts)).tolist():
        mine = footprints.geometry[order[starts[s] : starts[s + 1]]]
        shape[s] = mine[0] if len(mine) == 1 else shapely.union_all(mine)
    return shape


def _weak_contacts(
    block: np.ndarray, i: np.ndarray, j: np.ndarray, shared: np.ndarray, n: int
) -> np.ndarray:
    """Per cell pair: it joins two street blocks that touch for less than a neck's width in
    all (a corner, a few metres of road end), so they are no neighbours: a region holding
    both would be two places joined by a neck. Such a contact is kept only where without it
    the sites would fall apart (the strongest of them, as few as keep them together)."""
    a, b = np.minimum(block[i], block[j]), np.maximum(block[i], block[j])
    between = a != b
    pair_key = a.astype(np.int64) * (int(block.max()) + 1) + b
    _, at = np.unique(pair_key, return_inverse=True)
    contact = np.bincount(at.ravel(), weights=shared)
    weak = between & (contact[at.ravel()] < NECK_WIDTH_M)
    if not weak.any():
        return weak
    return _keep_connected(i, j, shared, weak, n)


def _keep_connected(
    i: np.ndarray, j: np.ndarray, shared: np.ndarray, weak: np.ndarray, n: int
) -> np.ndarray:
    """``weak`` less the weak pairs needed to keep the nodes as connected as with them: the
    strongest first (most shared border), each kept only to join two pieces (Kruskal)."""
    weak = weak.copy()
    strong = ~weak
    matrix = scipy.sparse.coo_array(
        (np.ones(int(strong.sum())), (i[strong], j[strong])), shape=(n, n)
    )
    _, piece = connected_components(matrix, directed=False)
    parent = np.arange(piece.max() + 1)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in np.flatnonzero(weak)[np.argsort(-shared[weak], kind="stable")].tolist():
        ra, rb = find(int(piece[i[e]])), find(int(piece[j[e]]))
        if ra != rb:
            parent[ra] = rb
            weak[e] = False
    return weak


def _given_lines(
    barriers: gpd.GeoDataFrame | None, metric_crs: pyproj.CRS, subdistrict_geoms: np.ndarray | None
) -> np.ndarray:
    """Every line a border may follow, in metres: the barrier layer (all classes) and the
    街道 borders."""
    parts = []
    if barriers is not None and len(barriers):
        geoms = np.array(barriers.to_crs(metric_crs).geometry.array, dtype=object)
        polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
        geoms[polygonal] = shapely.boundary(geoms[polygonal])
        parts.append(geoms)
    if subdistrict_geoms is not None and len(subdistrict_geoms):
        parts.append(shapely.boundary(np.asarray(subdistrict_geoms, dtype=object)))
    if not parts:
        return np.array([], dtype=object)
    return shapely.get_parts(np.concatenate(parts))
