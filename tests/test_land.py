"""Open land (faces without a building) handed between communities after the split.

Fixture: an L-shaped area cut by two roads into three blocks::

    +-----+
    |  a  |                a: the only building of community A, up in its tall block
    |     +-----+-----+
    |     |  (empty)  b |  b: the only building of community B, at the far east edge
    +-----+-----+-----+
    0    100   200   300

The empty middle block is nearer to ``a`` (141 m) than to ``b`` (145 m), so the
tessellation gives it to A, which becomes an L; handing it to B makes two rectangles.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, box

from geo.tessellation import tessellate
from planning.engine.land import land_polygons, place_land

AREA = Polygon([(0, 0), (300, 0), (300, 100), (100, 100), (100, 200), (0, 200)])
ROADS = np.array([LineString([(100, -10), (100, 210)]), LineString([(200, -10), (200, 110)])])


def pp(geom):
    return 4 * np.pi * geom.area / geom.length ** 2


def l_shaped():
    return tessellate(np.array([[50.0, 150.0], [295.0, 50.0]]), AREA, barriers=ROADS)


def shapes(cells, labels):
    polys = np.array([shapely.union_all(cells[labels == c]) for c in range(labels.max() + 1)])
    return shapely.area(polys), shapely.length(polys)


def test_absorbed_faces_are_listed_with_their_owner_and_contacts():
    tess = l_shaped()
    land = tess.land
    assert len(land) == 1
    assert land.owner.tolist() == [0]
    assert land.faces[0].equals(box(100, 0, 200, 100))
    # a cell is its core plus the faces it absorbed
    assert land.cores[0].equals(box(0, 0, 100, 200))
    assert tess.cells[1].equals(land.cores[1])
    # the middle block touches both cores, across a road each time
    contacts = sorted(zip(land.pair_node.tolist(), land.pair_shared.tolist(), strict=True))
    assert [node for node, _ in contacts] == [0, 1]
    np.testing.assert_allclose([length for _, length in contacts], [100.0, 100.0])
    assert land.pair_crosses.all()


def test_land_goes_where_both_communities_get_more_compact():
    tess = l_shaped()
    community = np.array([0, 1])
    area, perimeter = shapes(tess.cells, community)
    before = pp(tess.cells[0]) + pp(tess.cells[1])
    owner = place_land(tess.land, np.zeros(2, dtype=bool), community,
                       community_area=area, community_perimeter=perimeter)
    assert owner.tolist() == [1]
    polys, moved = land_polygons(tess.land, owner, tess.cells, community, community,
                                 np.array(tess.cells, dtype=object))
    assert moved == 1
    assert polys[0].equals(box(0, 0, 100, 200))
    assert polys[1].equals(box(100, 0, 300, 100))
    assert pp(polys[0]) + pp(polys[1]) > before + 0.02


def test_land_stays_behind_a_major_barrier_when_the_gain_is_small():
    tess = l_shaped()
    community = np.array([0, 1])
    area, perimeter = shapes(tess.cells, community)
    owner = place_land(tess.land, np.ones(2, dtype=bool) & (tess.land.pair_node == 1),
                       community, community_area=area, community_perimeter=perimeter,
                       barrier_weight=1.0)
    assert owner.tolist() == [0]


def test_a_move_that_would_cut_a_grid_in_two_is_undone():
    # A owns the west and east blocks of the bottom row and, through its west building, the
    # empty middle one; B is the whole top row
    area = box(0, 0, 300, 200)
    roads = np.array([LineString([(-10, 100), (310, 100)]), LineString([(100, -10), (100, 110)]),
                      LineString([(200, -10), (200, 110)])])
    tess = tessellate(np.array([[90.0, 50.0], [290.0, 50.0], [150.0, 150.0]]), area,
                      barriers=roads)
    land = tess.land
    assert land.owner.tolist() == [0]
    community = np.array([0, 0, 1])
    grid = np.array([0, 0, 1])
    original = np.array([shapely.union_all(tess.cells[:2]), tess.cells[2]], dtype=object)
    polys, moved = land_polygons(land, np.array([2]), tess.cells, grid, community, original)
    assert moved == 0
    assert polys[0].equals(original[0]) and polys[1].equals(original[1])


def test_restrict_renumbers_sites_and_faces():
    tess = l_shaped()
    land = tess.land.restrict(np.array([0]))
    assert len(land) == 1 and land.owner.tolist() == [0]
    assert land.pair_node.tolist() == [0]  # the contact with site 1 is dropped
    assert len(tess.land.restrict(np.array([1]))) == 0
