"""The shape measures a planner judges a plan by (planning.engine.shape)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from planning.engine import shape


def test_polsby_popper_of_a_square_and_a_strip():
    square = shapely.box(0, 0, 100, 100)
    strip = shapely.box(0, 0, 1000, 10)
    pp = shape.polsby_popper(np.array([square, strip], dtype=object))
    assert pp[0] == pytest.approx(np.pi / 4)
    assert pp[1] == pytest.approx(4 * np.pi * 10_000 / 2020**2)
    assert shape.pp(10_000.0, 400.0) == pytest.approx(np.pi / 4)


def test_a_neck_is_households_joined_only_through_a_thin_strip():
    """Two 200 m squares joined by a 20 m wide, 300 m long strip (a neck), and the same
    squares joined along a 200 m side (no neck)::

        +----+            +----+            +----++----+
        | a  |============| b  |            | a  || b  |
        +----+            +----+            +----++----+
    """
    dumbbell = shapely.union_all(
        [shapely.box(0, 0, 200, 200), shapely.box(200, 90, 500, 110), shapely.box(500, 0, 700, 200)]
    )
    block = shapely.box(0, 1000, 400, 1200)
    polys = np.array([dumbbell, block], dtype=object)
    xy = np.array([[100, 100], [600, 100], [100, 1100], [300, 1100]], dtype=float)
    owner = np.array([0, 0, 1, 1])
    assert shape.necks(polys, xy, owner).tolist() == [True, False]
    # households only on one side of the strip: an arm, not a neck
    assert shape.necks(polys, xy[[0, 2, 3]], owner[[0, 2, 3]]).tolist() == [False, False]
    # a strip 40 m wide is not a neck
    wide = shapely.union_all(
        [shapely.box(0, 0, 200, 200), shapely.box(200, 80, 500, 120), shapely.box(500, 0, 700, 200)]
    )
    assert shape.necks(np.array([wide], dtype=object), xy[:2], owner[:2]).tolist() == [False]


def test_a_staircase_is_jagged_and_a_gentle_curve_is_not():
    steps = [(0.0, 0.0)]
    for _ in range(15):  # 20 m steps: a staircase of single building cells
        x, y = steps[-1]
        steps += [(x + 20.0, y), (x + 20.0, y + 20.0)]
    staircase = shapely.LineString(steps)
    angle = np.linspace(0, 0.5, 50)
    curve = shapely.LineString(np.column_stack([2000 * np.sin(angle), 2000 * (1 - np.cos(angle))]))
    lines = np.array([staircase, curve], dtype=object)
    jag = shape.jagged(lines)
    assert jag[0] == pytest.approx(staircase.length)
    assert jag[1] == 0.0


def test_border_on_lines_counts_what_runs_within_the_tolerance():
    border = np.array(
        [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 100), (100, 100)])],
        dtype=object,
    )
    road = np.array([shapely.LineString([(-10, 15), (50, 15)])], dtype=object)
    on = shape.on_lines(border, road)
    # x 0-50 lies 15 m from the road, and up to x = 50 + √(20² - 15²) within 20 m of its end
    assert on[0] == pytest.approx(50.0 + np.sqrt(20**2 - 15**2), abs=5.0)
    assert on[1] == 0.0


def test_shared_borders_between_neighbours():
    """Three squares in a row: a|b|c share two borders of 100 m; a and c do not touch."""
    polys = np.array(
        [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(200, 0, 300, 100)],
        dtype=object,
    )
    borders = shape.shared_borders(polys)
    assert list(zip(borders.i.tolist(), borders.j.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert borders.length_m == pytest.approx([100.0, 100.0])
    assert borders.per_region(borders.length_m, 3) == pytest.approx([100.0, 200.0, 100.0])


def test_service_radius_is_the_weighted_95th_percentile():
    xy = np.array([[0, 0], [10, 0], [1000, 0], [0, 0]], dtype=float)
    weights = np.array([50.0, 49.0, 1.0, 10.0])
    owner = np.array([0, 0, 0, 1])
    radius = shape.service_radius(xy, weights, owner, 3)
    centre = (10 * 49 + 1000) / 100
    # sorted by distance: 4.9 m (49 households), 14.9 m (50), 985.1 m (1): the 95th
    # household stands 14.9 m away; the far building is only the last 1%
    assert radius[0] == pytest.approx(centre)
    assert radius[1] == 0.0
    assert np.isnan(radius[2])
