"""Drawing a labelled plan: cells dissolved by grid, open land placed between communities,
the coverage smoothed per 街道, grids dissolved into communities."""

from __future__ import annotations

import numpy as np
import shapely

from geo.tessellation import dissolve, smooth_coverage
from planning.engine.district import District
from planning.engine.land import land_polygons, place_land

__all__ = ["boundaries"]


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
    (:mod:`planning.engine.land`)."""
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
