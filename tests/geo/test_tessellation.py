"""Tests for geo.tessellation: blocks, one cell per point, adjacency, dissolve, smoothing.

The small fixtures, in metres (y up)::

    square with a road            park absorbed                 dead-end road
    (0,100)       (100,100)       (0,100)      (100,100)        (0,100)      (100,100)
      +------+------+               +-----+-------+               +------+------+
      |  p1  |  p3  |               |  a  | park  |               | p0   :   p1 |
      |      |      |               |     |-------|  y=50         |      |      |
      |  p0  |  p2  |               |  b  |   c   |               |      | dead |
      +------+------+               +-----+-------+               +------+------+
           x=50 road                     x=60 road                    x=50, y<=60

    two zones (x<50 | x>50)        C-shaped block: the cell of A reaches across the slot
      +------+------+                +---------------------+
      |      :      |                |  A                  |
      |  p0  p1     |                +---------------+     |   slot 0<x<80, 40<y<60
      |      :      |                |   (orphan)    |  B  |
      +------+------+                |          C    |     |
         zone 0 | zone 1             +---------------+-----+
"""

from __future__ import annotations

import itertools
import math

import geopandas
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geoseries_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo import tessellation
from geo.crs import metric_crs_for
from geo.errors import GeometryError
from geo.tessellation import (
    Adjacency,
    adjacency,
    build_blocks,
    dissolve,
    smooth_coverage,
    study_outline,
    tessellate,
    to_csr,
)

SQUARE = box(0, 0, 100, 100)
ROAD = np.array([LineString([(50, -5), (50, 105)])])
FOUR = np.array([[20.0, 20.0], [20.0, 80.0], [80.0, 20.0], [80.0, 80.0]])


def series(geoms) -> geopandas.GeoSeries:
    return geopandas.GeoSeries(list(geoms)).normalize()


def assert_tiles(tess, area: shapely.Geometry) -> None:
    """Cells plus unassigned blocks: an exact coverage of ``area`` (areas within 1e-6)."""
    parts = np.concatenate([tess.cells, tess.blocks.geometry[tess.unassigned_blocks]])
    assert shapely.coverage_is_valid(parts)
    assert shapely.is_valid(parts).all()
    total = math.fsum(shapely.area(parts))
    assert total == pytest.approx(area.area, rel=1e-6)
    union = shapely.coverage_union_all(parts)
    assert shapely.area(shapely.symmetric_difference(union, area)) <= 1e-6 * area.area
    assert (shapely.get_type_id(tess.cells) == shapely.GeometryType.POLYGON).all()


# --------------------------------------------------------------------------------------------
# blocks


def test_blocks_of_a_square_cut_by_a_road():
    blocks = build_blocks(SQUARE, barriers=ROAD)
    assert len(blocks) == 2
    order = np.argsort(shapely.bounds(blocks.geometry)[:, 0])
    assert_geoseries_equal(
        series(blocks.geometry[order]), series([box(0, 0, 50, 100), box(50, 0, 100, 100)])
    )
    assert blocks.zone.tolist() == [-1, -1]


def test_a_dangling_road_does_not_cut():
    dead_end = np.array([LineString([(50, 0), (50, 60)])])
    blocks = build_blocks(SQUARE, barriers=dead_end)
    assert len(blocks) == 1
    assert blocks.geometry[0].equals(SQUARE)


def test_blocks_carry_their_zone_and_tile_the_area():
    zones = np.array([box(0, 0, 50, 100), box(50, 0, 100, 100)])
    diagonal = np.array([LineString([(-10, -10), (110, 110)])])
    blocks = build_blocks(SQUARE, zones, diagonal)
    assert len(blocks) == 4
    assert sorted(blocks.zone.tolist()) == [0, 0, 1, 1]
    assert shapely.coverage_is_valid(blocks.geometry)
    assert math.fsum(shapely.area(blocks.geometry)) == pytest.approx(1e4, rel=1e-9)
    for geom, zone in zip(blocks.geometry, blocks.zone, strict=True):
        assert shapely.covers(zones[zone], geom)


def test_a_pond_polygon_barrier_makes_its_own_block_and_a_hole_stays_out():
    pond = Polygon([(60, 60), (80, 60), (80, 80), (60, 80)])
    area = Polygon(SQUARE.exterior.coords, [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    blocks = build_blocks(area, barriers=np.array([pond]))
    assert len(blocks) == 2
    assert math.fsum(shapely.area(blocks.geometry)) == pytest.approx(area.area)


def test_blocks_refuse_a_non_polygon_area_and_point_barriers():
    with pytest.raises(GeometryError, match="expected a shapely Polygon or MultiPolygon"):
        build_blocks(LineString([(0, 0), (1, 1)]))
    with pytest.raises(GeometryError, match="found points at indices 0"):
        build_blocks(SQUARE, barriers=np.array([Point(1, 1)]))
    with pytest.raises(GeometryError, match="zones: expected Polygons"):
        build_blocks(SQUARE, zones=np.array([LineString([(0, 0), (1, 1)])]))
    with pytest.raises(GeometryError, match="grid_size: expected a positive number"):
        build_blocks(SQUARE, grid_size=0)


# --------------------------------------------------------------------------------------------
# tessellate: the drawn fixtures


def test_four_points_and_a_road_give_four_quadrants():
    tess = tessellate(FOUR, SQUARE, barriers=ROAD)
    expected = [box(0, 0, 50, 50), box(0, 50, 50, 100), box(50, 0, 100, 50), box(50, 50, 100, 100)]
    assert_geoseries_equal(series(tess.cells), series(expected))
    assert tess.block[0] == tess.block[1] != tess.block[2] == tess.block[3]
    assert tess.zone.tolist() == [-1, -1, -1, -1]
    assert tess.unassigned_blocks.size == 0
    np.testing.assert_array_equal(tess.sites, FOUR)
    assert_tiles(tess, SQUARE)


def test_an_empty_park_is_divided_down_the_middle_between_the_blocks_around_it():
    """A park (no point) in the corner of two roads; it borders the west block along x = 60
    and the south-east block along y = 50, so the bisector from (60, 50) to (100, 90) divides
    it (each part of it goes to the nearer block; the sampled middle is within a metre)::

        +------+----+
        | a    |  _/|      the park's upper-left part joins a's block (and a's cell),
        |      |_/ P|      its lower-right part c's block
        +------+----+
        | b    | c  |
        +------+----+
    """
    roads = np.array([LineString([(60, -5), (60, 105)]), LineString([(60, 50), (105, 50)])])
    a, b, c = (20.0, 75.0), (20.0, 25.0), (80.0, 10.0)
    tess = tessellate(np.array([a, b, c]), SQUARE, barriers=roads)
    upper = Polygon([(60, 50), (100, 90), (100, 100), (60, 100)])
    lower = Polygon([(60, 50), (100, 50), (100, 90)])
    assert tess.cells[0].symmetric_difference(box(0, 50, 60, 100).union(upper)).area < 60.0
    assert tess.cells[1].equals(box(0, 0, 60, 50))
    assert tess.cells[2].symmetric_difference(box(60, 0, 100, 50).union(lower)).area < 60.0
    assert len(tess.blocks) == 2  # the park is no block of its own: it joined the two
    assert tess.street_block.tolist() == [0, 0, 1]
    assert_tiles(tess, SQUARE)


def test_a_dead_end_road_leaves_one_block_and_a_plain_voronoi_split():
    dead_end = np.array([LineString([(50, 0), (50, 60)])])
    tess = tessellate(np.array([[25.0, 80.0], [75.0, 80.0]]), SQUARE, barriers=dead_end)
    assert tess.block.tolist() == [0, 0]
    assert tess.cells[0].equals(box(0, 0, 50, 100))
    adj = adjacency(tess.cells, block=tess.block)
    assert adj.i.tolist() == [0] and adj.j.tolist() == [1]
    assert adj.shared_m.tolist() == [100.0]
    assert adj.crosses_barrier.tolist() == [False]


def test_two_zones_keep_cells_apart_and_an_empty_zone_stays_unassigned():
    zones = np.array([box(0, 0, 50, 100), box(50, 0, 100, 100)])
    tess = tessellate(np.array([[25.0, 50.0], [30.0, 10.0]]), SQUARE, zones=zones)
    assert tess.zone.tolist() == [0, 0]
    assert [tess.blocks.zone[b] for b in tess.unassigned_blocks] == [1]
    union = shapely.union_all(tess.cells)
    assert union.equals(box(0, 0, 50, 100))
    assert_tiles(tess, SQUARE)


def test_a_point_on_the_zone_line_goes_to_its_own_zone():
    zones = np.array([box(0, 0, 50, 100), box(50, 0, 100, 100)])
    pts = np.array([[25.0, 50.0], [50.0, 50.0]])
    tess = tessellate(pts, SQUARE, zones=zones, point_zone=np.array([0, 1]))
    assert tess.zone.tolist() == [0, 1]
    assert tess.cells[1].equals(box(50, 0, 100, 100))
    assert shapely.covers(tess.cells[1], Point(50, 50))
    adj = adjacency(tess.cells, block=tess.block, zone=tess.zone)
    assert adj.same_zone.tolist() == [False]
    assert adj.crosses_barrier.tolist() == [True]


def test_a_point_outside_its_zone_is_seeded_on_the_nearest_block_of_the_zone():
    zones = np.array([box(0, 0, 50, 100), box(50, 0, 100, 100)])
    pts = np.array([[20.0, 50.0], [45.0, 30.0], [80.0, 50.0]])
    tess = tessellate(pts, SQUARE, zones=zones, point_zone=np.array([0, 1, 1]))
    np.testing.assert_allclose(tess.sites[1], [50.0, 30.0])
    assert tess.zone.tolist() == [0, 1, 1]
    assert shapely.covers(zones[1].buffer(1e-6), tess.cells[1])
    assert_tiles(tess, SQUARE)


def test_the_cut_off_part_of_a_voronoi_cell_is_absorbed_into_one_polygon():
    c_shape = SQUARE.difference(box(-1, 40, 80, 60))
    pts = np.array([[10.0, 70.0], [90.0, 50.0], [50.0, 10.0]])  # A, B, C
    # (10, 30) is nearer A (40 m) than C (44.7 m) but lies across the slot from A's cell
    assert math.dist((10, 30), pts[0]) < math.dist((10, 30), pts[2])
    tess = tessellate(pts, c_shape)
    assert (shapely.get_type_id(tess.cells) == shapely.GeometryType.POLYGON).all()
    assert not shapely.covers(tess.cells[0], Point(10, 30))
    assert shapely.covers(tess.cells[2], Point(10, 30))
    assert_tiles(tess, c_shape)


def test_no_points_leaves_every_block_unassigned():
    tess = tessellate(np.zeros((0, 2)), SQUARE, barriers=ROAD)
    assert len(tess.cells) == 0
    assert tess.unassigned_blocks.tolist() == [0, 1]


def test_points_outside_the_area_are_refused_by_index():
    pts = np.array([[10.0, 10.0], [150.0, 10.0], [50.0, 50.0], [-3.0, 0.0]])
    with pytest.raises(GeometryError, match=r"2 of 4 lie outside the study area \(indices 1, 3\)"):
        tessellate(pts, SQUARE)


def test_points_too_close_in_one_block_are_refused():
    pts = np.array([[10.0, 10.0], [10.0, 10.01], [60.0, 60.0]])
    with pytest.raises(GeometryError, match=r"closer than 0.04 m \(0 and 1\)"):
        tessellate(pts, SQUARE)


def test_bad_point_input_is_refused():
    with pytest.raises(GeometryError, match=r"expected an \(n, 2\) array"):
        tessellate(np.zeros(4), SQUARE)
    with pytest.raises(GeometryError, match="expected finite coordinates"):
        tessellate(np.array([[np.nan, 1.0]]), SQUARE)
    with pytest.raises(GeometryError, match="point_zone: expected one integer zone index"):
        tessellate(FOUR, SQUARE, point_zone=np.zeros(3, dtype=int))
    with pytest.raises(GeometryError, match="zone 7, which has no part inside the area"):
        tessellate(FOUR, SQUARE, zones=np.array([SQUARE]), point_zone=np.array([0, 0, 0, 7]))


def test_the_robust_path_gives_the_same_tiling(monkeypatch):
    """Forcing the fall-back (noding every edge at once) yields the same cells."""
    rng = np.random.default_rng(4)
    pts = np.unique(np.round(rng.uniform(1, 399, (300, 2)), 1), axis=0)
    area = box(0, 0, 400, 400)
    roads = np.array([LineString([(0, 130), (400, 170)]), LineString([(220, 0), (180, 400)])])
    fast = tessellate(pts, area, barriers=roads)
    original = tessellation.voronoi_faces

    def robust_only(*args, robust, **kwargs):
        return original(*args, robust=True, **kwargs)

    monkeypatch.setattr(tessellation, "voronoi_faces", robust_only)
    slow = tessellate(pts, area, barriers=roads)
    assert_tiles(slow, area)
    diff = shapely.area(shapely.symmetric_difference(fast.cells, slow.cells))
    assert diff.max() < 1e-3


def test_large_blocks_use_qhull_and_small_ones_geos_with_one_result():
    """A block above QHULL_MIN_POINTS takes the qhull path; the cells match GEOS's diagram."""
    rng = np.random.default_rng(9)
    pts = np.unique(np.round(rng.uniform(1, 199, (120, 2)), 1), axis=0)
    area = box(0, 0, 200, 200)
    tess = tessellate(pts, area)
    reference = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=area, ordered=True)
    ref_cells = shapely.intersection(shapely.get_parts(reference), area)
    diff = shapely.area(shapely.symmetric_difference(tess.cells, ref_cells))
    assert diff.max() < 0.5  # grid rounding only (a cell edge moves < 1 cm)
    assert_tiles(tess, area)


# --------------------------------------------------------------------------------------------
# adjacency, to_csr


def test_corner_touches_are_not_adjacency_and_short_borders_can_be_dropped():
    cells = np.array([box(0, 0, 1, 1), box(1, 1, 2, 2), box(1, 0, 2, 0.5), box(1, 0.5, 2, 1)])
    adj = adjacency(cells, min_shared_m=0.0)
    pairs = set(zip(adj.i.tolist(), adj.j.tolist(), strict=True))
    assert pairs == {(0, 2), (0, 3), (1, 3), (2, 3)}
    assert adjacency(cells, min_shared_m=0.75).i.size == 2


def test_adjacency_measures_borders_that_do_not_share_vertices():
    """Not a vertex-matched coverage (a T-junction): measured with boundary intersections."""
    left = box(0, 0, 1, 1)
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1, 0.5)])
    top = box(0, 1, 2, 2)
    adj = adjacency(np.array([left, right, top]), min_shared_m=0.1)
    got = {(int(i), int(j)): float(s) for i, j, s in zip(adj.i, adj.j, adj.shared_m, strict=True)}
    assert got == pytest.approx({(0, 1): 1.0, (0, 2): 1.0, (1, 2): 1.0})


def test_to_csr_is_symmetric_with_the_chosen_weights():
    tess = tessellate(FOUR, SQUARE, barriers=ROAD)
    adj = adjacency(tess.cells, block=tess.block)
    matrix = to_csr(adj, 4)
    assert (matrix != matrix.T).nnz == 0
    assert matrix[0, 1] == 50.0 and matrix[0, 3] == 0.0
    assert to_csr(adj, 4, weight="ones").sum() == 2 * len(adj)
    assert to_csr(adj, 4, weight=np.arange(len(adj), dtype=float))[adj.i[1], adj.j[1]] == 1.0
    kept = adj.select(~adj.crosses_barrier)
    assert isinstance(kept, Adjacency) and len(kept) == 2
    with pytest.raises(GeometryError, match='expected "shared_m", "ones" or an array'):
        to_csr(adj, 4, weight="length")
    with pytest.raises(GeometryError, match="expected more than the largest index"):
        to_csr(adj, 2)
    with pytest.raises(GeometryError, match="expected one weight per pair"):
        to_csr(adj, 4, weight=np.ones(1))
    with pytest.raises(GeometryError, match="expected one boolean per pair"):
        adj.select(np.ones(1, dtype=bool))
    with pytest.raises(GeometryError, match="block: expected one value per cell"):
        adjacency(tess.cells, block=np.zeros(3))


# --------------------------------------------------------------------------------------------
# dissolve, smoothing, outline


def test_dissolve_gives_polygons_for_connected_groups_and_multipolygons_otherwise():
    tess = tessellate(FOUR, SQUARE, barriers=ROAD)
    labels, parts = dissolve(tess.cells, np.array([5, 5, 7, 7]))
    assert labels.tolist() == [5, 7]
    assert parts[0].equals(box(0, 0, 50, 100)) and parts[1].equals(box(50, 0, 100, 100))
    assert shapely.coverage_is_valid(parts)
    _, diagonal = dissolve(tess.cells, np.array([0, 1, 1, 0]))
    assert all(isinstance(p, MultiPolygon) for p in diagonal)
    with pytest.raises(GeometryError, match="labels: expected one label per cell"):
        dissolve(tess.cells, np.array([0, 1]))


def test_dissolve_skips_missing_members():
    cells = np.array([box(0, 0, 1, 1), None, box(1, 0, 2, 1)], dtype=object)
    labels, parts = dissolve(cells, np.array([0, 1, 0]))
    assert labels.tolist() == [0, 1]
    assert parts[0].equals(box(0, 0, 2, 1))
    assert parts[1].is_empty


def zigzag_pair(teeth: int = 10, depth: float = 2.0) -> np.ndarray:
    """Two squares sharing a zigzag border around x = 50 (a coverage)."""
    ys = np.linspace(0, 100, 2 * teeth + 1)
    xs = 50 + np.where(np.arange(len(ys)) % 2 == 1, depth, 0.0)
    border = list(zip(xs, ys, strict=True))
    left = Polygon([(0, 0), *border, (0, 100)])
    right = Polygon([(100, 0), (100, 100), *border[::-1]])
    return np.array([left, right])


def test_smooth_coverage_simplifies_shared_edges_without_gaps():
    pair = zigzag_pair()
    smooth = smooth_coverage(pair, tolerance_m=5.0)
    assert shapely.get_num_coordinates(smooth).sum() < shapely.get_num_coordinates(pair).sum()
    assert shapely.coverage_is_valid(smooth)
    assert math.fsum(shapely.area(smooth)) == pytest.approx(1e4)
    assert smooth_coverage(pair, tolerance_m=0)[0].equals(pair[0])


def test_smooth_coverage_backs_off_to_keep_points_with_their_owner():
    pair = zigzag_pair()
    tooth_tip = np.array([[51.8, 5.0]])  # inside the left polygon's first tooth
    assert shapely.covers(pair[0], Point(tooth_tip[0]))
    assert not shapely.covers(smooth_coverage(pair, tolerance_m=5.0)[0], Point(tooth_tip[0]))
    kept = smooth_coverage(pair, tolerance_m=5.0, keep_inside=tooth_tip, owner=np.array([0]))
    assert shapely.covers(kept[0], Point(tooth_tip[0]))
    assert shapely.coverage_is_valid(kept)
    # a point outside its owner from the start does not hold the smoothing back
    astray = smooth_coverage(pair, tolerance_m=5.0, keep_inside=tooth_tip, owner=np.array([1]))
    assert shapely.get_num_coordinates(astray).sum() < shapely.get_num_coordinates(pair).sum()
    with pytest.raises(GeometryError, match="keep_inside and owner go together"):
        smooth_coverage(pair, tolerance_m=5.0, keep_inside=tooth_tip)
    with pytest.raises(GeometryError, match="tolerance_m: expected a non-negative number"):
        smooth_coverage(pair, tolerance_m=-1.0)


def test_study_outline_keeps_a_margin_and_splits_far_clusters():
    rng = np.random.default_rng(2)
    cluster = rng.normal(0, 100, (200, 2))
    outline = study_outline(cluster, buffer_m=60.0)
    assert isinstance(outline, Polygon) and outline.is_valid
    margin = shapely.distance(outline.exterior, shapely.points(cluster))
    assert margin.min() >= 59.0  # arcs are drawn with chords
    assert shapely.equals_exact(outline, shapely.set_precision(outline, 0.01), tolerance=0)
    assert outline.area < shapely.convex_hull(shapely.multipoints(cluster)).buffer(60).area
    two = study_outline(np.concatenate([cluster, cluster + 5000.0]))
    assert isinstance(two, MultiPolygon) and len(two.geoms) == 2
    line = study_outline(np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]]))
    assert isinstance(line, Polygon) and line.covers(Point(20, 0))
    assert isinstance(study_outline(np.array([[5.0, 5.0]])), Polygon)
    with pytest.raises(GeometryError, match="expected at least one point"):
        study_outline(np.zeros((0, 2)))
    with pytest.raises(GeometryError, match="buffer_m: expected a positive number"):
        study_outline(cluster, buffer_m=0)


# --------------------------------------------------------------------------------------------
# properties


@st.composite
def scenes(draw):
    """Distinct integer points in a 200 m square, 0-4 lines (some dangling), 0-3 zones."""
    coords = draw(
        st.lists(
            st.tuples(st.integers(0, 200), st.integers(0, 200)),
            min_size=1,
            max_size=80,
            unique=True,
        )
    )
    ends = st.tuples(st.integers(-20, 220), st.integers(-20, 220))
    lines = draw(st.lists(st.tuples(ends, ends).filter(lambda e: e[0] != e[1]), max_size=4))
    cuts = sorted(draw(st.sets(st.integers(20, 180), max_size=2)))
    use_point_zone = draw(st.booleans())
    pts = np.array(coords, dtype=float)
    barriers = np.array([LineString(e) for e in lines], dtype=object) if lines else None
    zones = None
    if cuts or draw(st.booleans()):
        xs = [0, *cuts, 200]
        zones = np.array([box(a, 0, b, 200) for a, b in itertools.pairwise(xs)])
    point_zone = None
    if zones is not None and use_point_zone:
        point_zone = np.searchsorted(np.array(cuts), pts[:, 0], side="right").astype(np.int64)
    return pts, barriers, zones, point_zone


AREA = box(0, 0, 200, 200)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes(), st.integers(0, 2**32 - 1))
def test_properties_of_random_scenes(scene, seed):
    pts, barriers, zones, point_zone = scene
    tess = tessellate(pts, AREA, zones=zones, barriers=barriers, point_zone=point_zone)
    n = len(pts)

    # tiling: exact coverage, areas add up, every cell one polygon
    assert_tiles(tess, AREA)
    # each point in its own cell (a point on a line may sit a grid step off the snapped edge)
    site_pts = shapely.points(tess.sites)
    assert shapely.dwithin(tess.cells, site_pts, 0.02).all()
    moved = ~(tess.sites == pts).all(axis=1)
    assert shapely.dwithin(tess.cells, shapely.points(pts), 0.02)[~moved].all()
    # each cell inside one zone
    if zones is not None:
        assert (tess.zone >= 0).all()
        inside = shapely.area(shapely.intersection(tess.cells, zones[tess.zone]))
        np.testing.assert_allclose(inside, shapely.area(tess.cells), rtol=1e-9, atol=1e-4)
        if point_zone is not None:
            np.testing.assert_array_equal(tess.zone, point_zone)

    # adjacency: i < j, symmetric matrix, crossing exactly when blocks differ, true lengths
    adj = adjacency(tess.cells, block=tess.block, zone=tess.zone, min_shared_m=1e-9)
    assert (adj.i < adj.j).all()
    np.testing.assert_array_equal(adj.crosses_barrier, tess.block[adj.i] != tess.block[adj.j])
    np.testing.assert_array_equal(adj.same_zone, tess.zone[adj.i] == tess.zone[adj.j])
    matrix = to_csr(adj, n)
    assert (matrix != matrix.T).nnz == 0
    bounds = shapely.boundary(tess.cells)
    measured = shapely.length(shapely.intersection(bounds[adj.i], bounds[adj.j]))
    np.testing.assert_allclose(adj.shared_m, measured, rtol=1e-9)

    # dissolve a random labelling into connected groups: polygons that still tile
    rng = np.random.default_rng(seed)
    labels = grow_groups(adj, n, rng)
    uniq, parts = dissolve(tess.cells, labels)
    assert (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON).all()
    rest = tess.blocks.geometry[tess.unassigned_blocks]
    tiles = np.concatenate([parts, rest])
    assert shapely.coverage_is_valid(tiles)
    assert math.fsum(shapely.area(tiles)) == pytest.approx(AREA.area, rel=1e-6)

    # smoothing keeps the coverage and every point with its group
    owner = np.searchsorted(uniq, labels)
    smooth = smooth_coverage(parts, tolerance_m=3.0, keep_inside=tess.sites, owner=owner)
    assert shapely.coverage_is_valid(np.concatenate([smooth, rest]))
    assert shapely.covers(smooth[owner], site_pts).all()


def grow_groups(adj: Adjacency, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random edge-connected groups: breadth-first growth from a few random seeds."""
    labels = np.full(n, -1)
    if not n:
        return labels
    k = int(rng.integers(1, max(2, n // 5) + 1))
    seeds = rng.choice(n, size=min(k, n), replace=False)
    labels[seeds] = np.arange(len(seeds))
    neighbours = [[] for _ in range(n)]
    for i, j in zip(adj.i.tolist(), adj.j.tolist(), strict=True):
        neighbours[i].append(j)
        neighbours[j].append(i)
    frontier = list(seeds)
    while frontier:
        nxt = []
        for i in frontier:
            for j in neighbours[i]:
                if labels[j] < 0:
                    labels[j] = labels[i]
                    nxt.append(j)
        frontier = nxt
    # cells out of reach of every seed (another zone, cut off): groups of their own component
    lost = labels < 0
    if lost.any():
        _, comp = connected_components(to_csr(adj, n), directed=False)
        labels[lost] = len(seeds) + comp[lost]
    return labels


# --------------------------------------------------------------------------------------------
# the real sample


MAJOR_ROADS = {
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
}


def test_real_haidian_sample_tiles(haidian):
    households = geopandas.read_file(haidian / "households.geojson")
    lon, lat = households.geometry.x.to_numpy(), households.geometry.y.to_numpy()
    crs = metric_crs_for(lon, lat)  # EPSG:4548, the CGCS2000 zone of 117°E
    households = households.to_crs(crs)
    roads = geopandas.read_file(haidian / "roads.geojson").to_crs(crs)
    water = geopandas.read_file(haidian / "water.geojson").to_crs(crs)
    barriers = np.concatenate(
        [
            np.asarray(roads[roads["highway"].isin(MAJOR_ROADS)].geometry.array, dtype=object),
            np.asarray(water.geometry.array, dtype=object),
        ]
    )
    xy = np.column_stack([households.geometry.x, households.geometry.y])
    area = study_outline(xy)
    tess = tessellate(xy, area, barriers=barriers)

    assert len(tess.cells) == 109
    assert len(tess.blocks) > 5
    assert_tiles(tess, area)
    assert shapely.covers(tess.cells, shapely.points(xy)).all()
    adj = adjacency(tess.cells, block=tess.block, zone=tess.zone)
    assert adj.crosses_barrier.any() and not adj.crosses_barrier.all()
    _, parts = dissolve(tess.cells, tess.block)
    assert shapely.coverage_is_valid(
        np.concatenate([parts, tess.blocks.geometry[tess.unassigned_blocks]])
    )
