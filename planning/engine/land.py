"""Open land placed between communities once the households are assigned.

A cell is the Voronoi piece around a building plus any face without a building that it
absorbed when the study area was tessellated (a park, an empty block, the far part of a
concave block): see :class:`geo.tessellation.Land`. Which building such land went to was
decided before anyone knew the communities, by distance alone, so a community can carry a
stray empty block on its far side while its neighbour has a notch there.

:func:`place_land` hands such faces across community borders where that makes both
communities more compact (Polsby-Popper), without bringing a major barrier inside a
community; households never move, so sizes, buildings and compounds are untouched.
:func:`land_polygons` draws the grids with the land where it now lies, and undoes any move
that would leave a grid or community in pieces.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.tessellation import Land, dissolve
from planning.engine.shape import pp

__all__ = ["land_polygons", "place_land"]

#: Polsby-Popper gain a move must bring (sum over both communities).
MIN_GAIN = 1e-4
#: Sweeps over the land; each sweep re-scores every face on a community border.
MAX_SWEEPS = 8



def _move_gain(area, perimeter, frm, to, a, p, s_frm, s_to):
    """PP(from) + PP(to) after a face (area ``a``, perimeter ``p``, sharing ``s_frm`` and
    ``s_to`` metres of border with them) moves from ``frm`` to ``to``, minus before."""
    return (
        pp(area[frm] - a, perimeter[frm] - p + 2 * s_frm)
        + pp(area[to] + a, perimeter[to] + p - 2 * s_to)
        - pp(area[frm], perimeter[frm]) - pp(area[to], perimeter[to])
    )


def place_land(
    land: Land,
    major: np.ndarray,
    site_community: np.ndarray,
    *,
    community_area: np.ndarray,
    community_perimeter: np.ndarray,
    barrier_weight: float = 0.1,
) -> np.ndarray:
    """New owner (a site) for each land face: moved to a neighbouring community where that
    raises PP(from) + PP(to) by more than the weighted major barrier it brings inside.

    Parameters
    ----------
    land
        The land of one 街道 (or of all sites), with ``len(land.cores)`` sites.
    major
        Per contact of ``land``: a major barrier runs along it.
    site_community
        Community label per site (0…k-1).
    community_area, community_perimeter
        Area and perimeter of each community as drawn with the land where it lies now.
    barrier_weight
        Weight of major-barrier length brought inside, per typical community diameter.

    Returns
    -------
    numpy.ndarray of int64
        The owner of each face: a site of the community the face now belongs to, the one it
        shares most border with (unchanged faces keep their owner).
    """
    owner = land.owner.copy()
    if not len(land.faces):
        return owner
    n = len(land.cores)
    area = community_area.astype(float).copy()
    perimeter = community_perimeter.astype(float).copy()
    k = len(area)
    scale = float(np.sqrt(max(area.sum(), 1.0) / max(k, 1)))
    face_area = shapely.area(land.faces)
    face_perimeter = shapely.length(land.faces)
    pf, pn = land.pair_face, land.pair_node
    shared = land.pair_shared
    bar = np.where(major, shared, 0.0) * barrier_weight / scale
    # contacts grouped by face, for the sequential pass
    order = np.argsort(pf, kind="stable")
    starts = np.searchsorted(pf[order], np.arange(len(land.faces) + 1))

    def node_site(nodes: np.ndarray) -> np.ndarray:
        return np.where(nodes < n, nodes, owner[np.maximum(nodes - n, 0)])

    for _ in range(MAX_SWEEPS):
        face_comm = site_community[owner]
        other_comm = site_community[node_site(pn)]
        if not (other_comm != face_comm[pf]).any():
            break  # no land on a community border
        # score every (face, neighbouring community) at once
        key = pf * k + other_comm
        uniq, inv = np.unique(key, return_inverse=True)
        s_sum = np.bincount(inv, weights=shared)
        b_sum = np.bincount(inv, weights=bar)
        u_face, u_comm = uniq // k, uniq % k
        own_key = u_face * k + face_comm[u_face]
        own_at = np.searchsorted(uniq, own_key)
        has_own = uniq[np.minimum(own_at, len(uniq) - 1)] == own_key
        s_own = np.where(has_own, s_sum[np.minimum(own_at, len(uniq) - 1)], 0.0)
        b_own = np.where(has_own, b_sum[np.minimum(own_at, len(uniq) - 1)], 0.0)
        frm = face_comm[u_face]
        value = _move_gain(area, perimeter, frm, u_comm, face_area[u_face],
                           face_perimeter[u_face], s_own, s_sum) - (b_sum - b_own)
        good = (u_comm != frm) & (value > MIN_GAIN)
        if not good.any():
            break
        moved = 0
        for idx in np.flatnonzero(good)[np.argsort(-value[good], kind="stable")].tolist():
            f, to = int(u_face[idx]), int(u_comm[idx])
            frm_now = int(site_community[owner[f]])
            if frm_now == to:
                continue
            rows = order[starts[f]:starts[f + 1]]
            sites = node_site(pn[rows])
            comm = site_community[sites]
            s_to = float(shared[rows][comm == to].sum())
            s_frm = float(shared[rows][comm == frm_now].sum())
            b_delta = float(bar[rows][comm == to].sum() - bar[rows][comm == frm_now].sum())
            a, p = face_area[f], face_perimeter[f]
            if s_to <= 0 or _move_gain(area, perimeter, frm_now, to, a, p, s_frm, s_to) \
                    - b_delta <= MIN_GAIN:
                continue
            area[frm_now] -= a
            perimeter[frm_now] += -p + 2 * s_frm
            area[to] += a
            perimeter[to] += p - 2 * s_to
            # the new owner: the site of the receiving community it borders most
            into = comm == to
            owners, inverse = np.unique(sites[into], return_inverse=True)
            border = np.bincount(inverse.ravel(), weights=shared[rows][into])
            owner[f] = int(owners[int(np.argmax(border))])
            moved += 1
        if not moved:
            break
    return owner


def land_polygons(
    land: Land,
    owner: np.ndarray,
    cells: np.ndarray,
    site_grid: np.ndarray,
    site_community: np.ndarray,
    grid_polys: np.ndarray,
) -> tuple[np.ndarray, int]:
    """The grid polygons with the land faces at ``owner`` instead of ``land.owner``.

    ``grid_polys`` are the grids drawn from ``cells`` (index = grid label). Only grids that
    gain or lose land are redrawn; a move that would leave a grid or a community in more than
    one piece is undone (with every move into or out of that grid or community, until all
    are whole). Returns the polygons and the number of faces that moved.
    """
    owner = owner.copy()
    base = land.owner
    grid_polys = grid_polys.copy()
    community_of_grid = np.full(len(grid_polys), -1, dtype=np.int64)
    community_of_grid[site_grid] = site_community
    original = grid_polys.copy()
    by_grid = np.argsort(site_grid, kind="stable")
    grid_starts = np.searchsorted(site_grid[by_grid], np.arange(len(grid_polys) + 1))
    while True:
        moved = np.flatnonzero(site_grid[owner] != site_grid[base])
        if not len(moved):
            return original, 0
        changed_sites = np.unique(np.concatenate([owner[moved], base[moved]]))
        touched = np.unique(site_grid[changed_sites])
        polys = original.copy()
        for g in touched.tolist():
            sites = by_grid[grid_starts[g]:grid_starts[g + 1]]
            polys[g] = _grid_polygon(sites, land, owner, cells, changed_sites)
        bad_grids = [g for g in touched.tolist()
                     if shapely.get_type_id(polys[g]) != shapely.GeometryType.POLYGON]
        bad_comms: list[int] = []
        if not bad_grids:
            for c in np.unique(community_of_grid[touched]).tolist():
                members = np.flatnonzero(community_of_grid == c)
                union = dissolve(polys[members], np.zeros(len(members), dtype=np.int64))[1][0]
                if shapely.get_type_id(union) != shapely.GeometryType.POLYGON:
                    bad_comms.append(c)
            if not bad_comms:
                return polys, len(moved)
        undo = np.isin(site_grid[owner[moved]], bad_grids) | \
            np.isin(site_grid[base[moved]], bad_grids) | \
            np.isin(site_community[owner[moved]], bad_comms) | \
            np.isin(site_community[base[moved]], bad_comms)
        owner[moved[undo]] = base[moved[undo]]


def _grid_polygon(
    sites: np.ndarray,
    land: Land,
    owner: np.ndarray,
    cells: np.ndarray,
    changed_sites: np.ndarray,
) -> shapely.Geometry:
    changed = np.isin(sites, changed_sites)
    pieces = [cells[sites[~changed]], land.cores[sites[changed]]]
    faces = np.flatnonzero(np.isin(owner, sites[changed]))
    pieces.append(land.faces[faces])
    pieces = np.concatenate(pieces)
    return dissolve(pieces, np.zeros(len(pieces), dtype=np.int64))[1][0]
