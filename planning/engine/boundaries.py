"""Drawing a labelled plan: cells dissolved by grid, the borders inside blocks straightened
between the buildings (:mod:`geo.straighten`) per 街道, grids dissolved into communities.

Borders on roads, rivers, railways, lanes and the middles of land between them (the block
borders) stay exactly where they are; a border inside a block becomes a straight or gently
curved line through the gap between the two groups of buildings."""

from __future__ import annotations

import numpy as np
import shapely

from geo.errors import GeometryError
from geo.straighten import straighten_coverage
from geo.tessellation import dissolve, tessellate
from planning.engine.district import District
from planning.engine.shape import NECK_WIDTH_M

__all__ = ["boundaries"]

#: The precision grid of the cells redrawn inside straightened communities: the noding grid
#: of the district's own cells (1 µm), so the communities' vertices stay where they are.
REDRAW_GRID_M = 1e-6
#: Attempts at straightening the communities of a 街道 when the redraw cuts a grid in two
#: (each attempt leaves the borders of the communities of such grids as they were).
REDRAW_ATTEMPTS = 3


def boundaries(
    district: District, community: np.ndarray, grid: np.ndarray, *, smooth_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid polygons (per grid label), community polygons (per community label) and the
    community of each grid, straightened per 街道 (``smooth_m`` 0: cells as they are)."""
    n_grid = int(grid.max()) + 1
    n_comm = int(community.max()) + 1
    grid_community = np.full(n_grid, -1, dtype=np.int64)
    grid_community[grid] = community
    grid_subdistrict = np.full(n_grid, -1, dtype=np.int64)
    grid_subdistrict[grid] = district.sites.subdistrict
    grid_polys = np.empty(n_grid, dtype=object)
    for z in np.unique(grid_subdistrict):
        members = np.flatnonzero(grid_subdistrict == z)
        in_subdistrict = np.isin(grid, members)
        local = np.searchsorted(members, grid[in_subdistrict])
        if smooth_m > 0:
            labels, polys = _straight_grids(
                district, in_subdistrict, community[in_subdistrict], local
            )
        else:
            labels, polys = dissolve(district.cells[in_subdistrict], local)
        grid_polys[members[labels]] = polys
    comm_labels, comm_polys = dissolve(grid_polys, grid_community)
    community_polys = np.empty(n_comm, dtype=object)
    community_polys[comm_labels] = comm_polys
    return grid_polys, community_polys, grid_community


def _straight_grids(
    district: District,
    in_subdistrict: np.ndarray,
    site_community: np.ndarray,
    site_grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(grid labels, grid polygons) of one 街道 with straight borders inside blocks.

    The communities are straightened first, as one coverage, so a border between two
    communities is one line from where three meet to where three meet (grid corners on it do
    not pin it). The cells are then drawn again inside the straightened communities (each
    community a zone of :func:`geo.tessellation.tessellate`, the block borders as barriers),
    dissolved by grid, and the grid borders straightened with the community borders fixed.
    """
    xy = district.sites.xy[in_subdistrict]
    cells = district.cells[in_subdistrict]
    fixed = _block_lines(district, in_subdistrict)
    comm_labels, comm_local = np.unique(site_community, return_inverse=True)
    comm_local = comm_local.ravel()
    labels, polys = dissolve(cells, site_grid)
    if len(comm_labels) > 1:
        _, comm_polys = dissolve(cells, comm_local)
        comm_polys = np.asarray(comm_polys, dtype=object)
        obstacles = _subdistrict_footprints(district, in_subdistrict, comm_local)[0]
        shapes = None if district.site_shape is None else district.site_shape[in_subdistrict]
        frozen = np.zeros(0, dtype=np.int64)
        for _ in range(REDRAW_ATTEMPTS):
            straight = straighten_coverage(
                comm_polys,
                points=xy,
                point_owner=comm_local,
                fixed=fixed,
                neck_width_m=NECK_WIDTH_M,
                obstacles=obstacles,
                frozen=frozen,
            )
            if all(shapely.equals(straight, comm_polys)):
                break
            try:
                # on the grid the cells' vertices already lie on, so nothing moves
                redrawn = tessellate(
                    xy,
                    shapely.coverage_union_all(straight),
                    zones=straight,
                    barriers=fixed,
                    point_zone=comm_local,
                    shapes=shapes,
                    grid_size=REDRAW_GRID_M,
                ).cells
            except GeometryError:
                break  # the cells as they were: borders follow them, still valid
            _, again = dissolve(redrawn, site_grid)
            # a grid a moved community border cut in two: its community stays as it was
            split = shapely.get_num_geometries(again) > shapely.get_num_geometries(polys)
            if not split.any():
                comm_polys, polys = straight, np.asarray(again, dtype=object)
                break
            cut = np.unique(comm_local[np.isin(site_grid, labels[split])])
            frozen = np.union1d(frozen, cut)
        fixed = np.concatenate([fixed, shapely.boundary(comm_polys)])
    position = np.full(int(site_grid.max()) + 1, -1, dtype=np.int64)
    position[labels] = np.arange(len(labels))
    footprints, _ = _subdistrict_footprints(district, in_subdistrict, position[site_grid])
    polys = straighten_coverage(
        np.asarray(polys, dtype=object),
        points=xy,
        point_owner=position[site_grid],
        fixed=fixed,
        obstacles=footprints,
        neck_width_m=NECK_WIDTH_M,
    )
    return labels, polys


def _subdistrict_footprints(
    district: District, in_subdistrict: np.ndarray, site_polygon: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """The footprints of one 街道's buildings (and those of no building) and the index of
    the polygon each belongs to (-1: none, the one holding most of it)."""
    if district.footprints is None or district.footprint_site is None:
        return None, np.zeros(0, dtype=np.int64)
    local = np.full(len(in_subdistrict), -1, dtype=np.int64)
    local[in_subdistrict] = np.arange(int(in_subdistrict.sum()))
    site = district.footprint_site
    keep = (site < 0) | in_subdistrict[np.maximum(site, 0)]
    owner = np.where(site[keep] >= 0, site_polygon[local[np.maximum(site[keep], 0)]], -1)
    return district.footprints[keep], owner


def _block_lines(district: District, sites: np.ndarray) -> np.ndarray:
    """The borders of the parcels holding ``sites`` (a mask): roads, rivers, railways, lanes,
    街道 lines and the middles of land between them."""
    if district.parcel_geoms is None or district.site_parcel is None:
        return np.zeros(0, dtype=object)
    parcels = np.unique(district.site_parcel[sites])
    return shapely.get_parts(shapely.boundary(district.parcel_geoms[parcels]))
