"""Drawing a labelled plan: cells dissolved by grid, the borders inside blocks straightened
between the buildings (:mod:`geo.straighten`) per 街道, grids dissolved into communities.

Borders on roads, rivers, railways, lanes and the middles of land between them (the block
borders) stay exactly where they are; a border inside a block becomes a straight or gently
curved line through the gap between the two groups of buildings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from geo.errors import GeometryError
from geo.straighten import straighten_coverage
from geo.tessellation import dissolve, tessellate
from planning.engine.district import District
from planning.engine.shape import NECK_WIDTH_M
from planning.parallel import Runner

__all__ = ["boundaries"]

#: The precision grid of the cells redrawn inside straightened communities: the noding grid
#: of the district's own cells (1 µm), so the communities' vertices stay where they are.
REDRAW_GRID_M = 1e-6
#: Attempts at straightening the communities of a 街道 when the redraw cuts a grid in two
#: (each attempt leaves the borders of the communities of such grids as they were).
REDRAW_ATTEMPTS = 3


def boundaries(
    district: District,
    community: np.ndarray,
    grid: np.ndarray,
    *,
    smooth_m: float,
    runner: Runner | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid polygons (per grid label), community polygons (per community label) and the
    community of each grid, straightened per 街道 (``smooth_m`` 0: cells as they are). The
    街道 are drawn by ``runner`` (default: one after the other in this process): no border
    moves across a 街道 line, so each is drawn on its own."""
    n_grid = int(grid.max()) + 1
    n_comm = int(community.max()) + 1
    grid_community = np.full(n_grid, -1, dtype=np.int64)
    grid_community[grid] = community
    grid_subdistrict = np.full(n_grid, -1, dtype=np.int64)
    grid_subdistrict[grid] = district.sites.subdistrict
    grid_polys = np.empty(n_grid, dtype=object)
    members_of, tasks = [], []
    # the sites (and footprints) of each 街道 found by one sort, not by a scan of every site
    # per 街道 (a city has hundreds)
    site_zone = grid_subdistrict[grid]
    sites_of = _groups(site_zone)
    footprints_of = _footprint_groups(district, site_zone)
    for z, members in _groups(grid_subdistrict).items():
        sites = sites_of.get(z, np.zeros(0, dtype=np.int64))
        members_of.append(members)
        tasks.append(
            _drawing(
                district,
                sites,
                community[sites],
                np.searchsorted(members, grid[sites]),
                footprints=None if footprints_of is None else footprints_of(z),
                straighten=smooth_m > 0,
            )
        )
    drawn = (runner or Runner()).map(_draw_subdistrict, tasks, sizes=[len(t.xy) for t in tasks])
    for members, (labels, polys) in zip(members_of, drawn, strict=True):
        grid_polys[members[labels]] = polys
    comm_labels, comm_polys = dissolve(grid_polys, grid_community)
    community_polys = np.empty(n_comm, dtype=object)
    community_polys[comm_labels] = comm_polys
    return grid_polys, community_polys, grid_community


@dataclass(frozen=True)
class _Drawing:
    """What drawing one 街道's grids takes (sent to a worker in place of the district).

    Attributes
    ----------
    xy, cells, shapes
        Its sites' positions, cells and footprints (``shapes`` None without footprints).
    site_community, site_grid
        The community and the grid (0… in the 街道) of each site.
    fixed
        The lines no border leaves: the parcels' borders.
    footprints
        The footprints of its buildings and of no building: no new border crosses one (None
        without footprints).
    straighten
        False: the cells dissolved as they are.
    """

    xy: np.ndarray
    cells: np.ndarray
    shapes: np.ndarray | None
    site_community: np.ndarray
    site_grid: np.ndarray
    fixed: np.ndarray
    footprints: np.ndarray | None
    straighten: bool


def _drawing(
    district: District,
    sites: np.ndarray,
    site_community: np.ndarray,
    site_grid: np.ndarray,
    *,
    footprints: np.ndarray | None,
    straighten: bool,
) -> _Drawing:
    """The :class:`_Drawing` of ``sites`` (indices, ascending) with the footprints at
    indices ``footprints`` (None: without footprints)."""
    return _Drawing(
        xy=district.sites.xy[sites],
        cells=district.cells[sites],
        shapes=None if district.site_shape is None else district.site_shape[sites],
        site_community=site_community,
        site_grid=site_grid,
        fixed=_block_lines(district, sites) if straighten else np.zeros(0, dtype=object),
        footprints=None
        if footprints is None or district.footprints is None
        else district.footprints[footprints],
        straighten=straighten,
    )


def _groups(values: np.ndarray) -> dict[int, np.ndarray]:
    """The indices (ascending) of each value of ``values``."""
    order = np.argsort(values, kind="stable")
    keys, starts = np.unique(values[order], return_index=True)
    bounds = np.r_[starts, len(order)]
    return {int(k): order[bounds[i] : bounds[i + 1]] for i, k in enumerate(keys.tolist())}


def _footprint_groups(
    district: District, site_zone: np.ndarray
) -> Callable[[int], np.ndarray] | None:
    """For each 街道, the indices (ascending) of the footprints it draws with: those of its
    sites and those of no site; None without footprints."""
    if district.footprints is None or district.footprint_site is None:
        return None
    site = district.footprint_site
    owned = site >= 0
    nobody = np.flatnonzero(~owned)
    zone = np.full(len(site), np.iinfo(np.int64).min, dtype=np.int64)
    zone[owned] = site_zone[site[owned]]
    of_zone = _groups(zone[owned])
    owned_at = np.flatnonzero(owned)

    def footprints(z: int) -> np.ndarray:
        mine = owned_at[of_zone[z]] if z in of_zone else np.zeros(0, dtype=np.int64)
        return np.union1d(nobody, mine)

    return footprints


def _draw_subdistrict(drawing: _Drawing) -> tuple[np.ndarray, np.ndarray]:
    """(grid labels, grid polygons) of one 街道: straightened, or the cells dissolved."""
    if drawing.straighten:
        return _straight_grids(drawing)
    return dissolve(drawing.cells, drawing.site_grid)


def _straight_grids(drawing: _Drawing) -> tuple[np.ndarray, np.ndarray]:
    """(grid labels, grid polygons) of one 街道 with straight borders inside blocks.

    The communities are straightened first, as one coverage, so a border between two
    communities is one line from where three meet to where three meet (grid corners on it do
    not pin it). The cells are then drawn again inside the straightened communities (each
    community a zone of :func:`geo.tessellation.tessellate`, the block borders as barriers),
    dissolved by grid, and the grid borders straightened with the community borders fixed.
    """
    xy, cells, site_grid = drawing.xy, drawing.cells, drawing.site_grid
    fixed = drawing.fixed
    comm_labels, comm_local = np.unique(drawing.site_community, return_inverse=True)
    comm_local = comm_local.ravel()
    labels, polys = dissolve(cells, site_grid)
    if len(comm_labels) > 1:
        _, comm_polys = dissolve(cells, comm_local)
        comm_polys = np.asarray(comm_polys, dtype=object)
        obstacles, shapes = drawing.footprints, drawing.shapes
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
            grown = np.union1d(frozen, cut)
            if len(grown) == len(frozen):
                break  # nothing more to freeze: another attempt would draw the same again
            frozen = grown
        fixed = np.concatenate([fixed, shapely.boundary(comm_polys)])
    position = np.full(int(site_grid.max()) + 1, -1, dtype=np.int64)
    position[labels] = np.arange(len(labels))
    polys = straighten_coverage(
        np.asarray(polys, dtype=object),
        points=xy,
        point_owner=position[site_grid],
        fixed=fixed,
        obstacles=drawing.footprints,
        neck_width_m=NECK_WIDTH_M,
    )
    return labels, polys


def _block_lines(district: District, sites: np.ndarray) -> np.ndarray:
    """The borders of the parcels holding ``sites`` (a mask): roads, rivers, railways, lanes,
    街道 lines and the middles of land between them."""
    if district.parcel_geoms is None or district.site_parcel is None:
        return np.zeros(0, dtype=object)
    parcels = np.unique(district.site_parcel[sites])
    return shapely.get_parts(shapely.boundary(district.parcel_geoms[parcels]))
