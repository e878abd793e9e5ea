"""How much of a border runs along a given line (planning.engine.shape.on_lines), tested
against the lines' segments (geo.straighten.line_segments) rather than each line whole.

A border 1 km long beside a given line of many vertices (a 街道 border), 10 m away for its
first half and 60 m away for the second::

    given  ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~   (1,000 vertices, a gentle wave)
    border ———————————————                      10 m below
                          ———————————————       60 m below
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.straighten import line_segments
from planning.engine.shape import ON_LINE_M, on_lines


def test_a_border_runs_along_a_long_line_only_where_it_is_near():
    x = np.linspace(0.0, 1000.0, 1000)
    given = shapely.LineString(np.column_stack([x, 2.0 * np.sin(x / 50.0)]))
    near = shapely.LineString([(0.0, -10.0), (500.0, -10.0)])
    far = shapely.LineString([(500.0, -60.0), (1000.0, -60.0)])
    length = on_lines(np.array([near, far, shapely.MultiLineString([near, far])]), [given])
    assert length == pytest.approx([500.0, 0.0, 500.0])
    assert ON_LINE_M < 60.0 - 2.0


def test_the_segments_of_lines_and_rings_rebuild_them():
    ring = shapely.box(0, 0, 10, 5)
    line = shapely.LineString([(0, 0), (3, 4), (6, 0)])
    segments = line_segments(np.array([line, ring], dtype=object))
    assert len(segments) == 2 + 4
    assert (shapely.get_num_coordinates(segments) == 2).all()
    joined = shapely.line_merge(shapely.union_all(segments))
    assert joined.length == pytest.approx(line.length + ring.length)
