"""A side of a major barrier whose households cannot be cut into communities all in band is
drawn together with its neighbour across the weakest barrier, and the crossing is reported.

Two columns of five buildings, a primary road between them at x = 500 (metres, near Ningbo)::

    W1   350 |  E1 460     west: 5,350 households, two communities by count, but no set of
    W2 1,800 |  E2 460     its buildings holds 2,600–2,750 (each building is a 小区 of its
    W3   650 |  E3 460     own, kept whole), so drawn alone one of its two is out of band;
    W4 1,500 |  E4 460     east: 2,300, one community. Together 7,650 make three in band,
    W5 1,050 |  E5 460     one or two of them across the road. A minor road cuts E1 off the
                           rest of the east, so the crossing splits no street block.

For the borders' kinds, four blocks: the road at x = 500 and a river at y = 500 between them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from planning.engine.district import prepare_district
from planning.engine.propose import plan_communities
from planning.engine.sides import BORDER_KINDS, part_borders
from planning.params import ProposeParams

METRIC = pyproj.CRS.from_epsg(4550)
ORIGIN = np.array([356_000.0, 3_305_000.0])
NAMES = [f"W{i}" for i in range(1, 6)] + [f"E{i}" for i in range(1, 6)]


def _district(west: list[int], east: list[int], *, lane: bool = True):
    xy = [(250.0, 900.0 - 200 * i) for i in range(5)] + [(750.0, 900.0 - 200 * i) for i in range(5)]
    buildings = gpd.GeoDataFrame(
        {"building_id": NAMES, "households": west + east, "compound": [f"{b}小区" for b in NAMES]},
        geometry=list(shapely.points(np.array(xy) + ORIGIN)),
        crs=METRIC,
    ).to_crs(4326)
    road = shapely.LineString(ORIGIN + np.array([[500.0, -200.0], [500.0, 1200.0]]))
    minor = shapely.LineString(ORIGIN + np.array([[500.0, 800.0], [1200.0, 800.0]]))
    barriers = gpd.GeoDataFrame(
        {"kind": ["road"] * 2, "road_class": ["primary", "tertiary"], "name": ["主干路", "支路"]},
        geometry=[road, minor],
        crs=METRIC,
    ).to_crs(4326)
    if not lane:
        barriers = barriers.iloc[:1]
    return prepare_district(buildings, metric_crs=METRIC, barriers=barriers)


def _plan(district):
    params = ProposeParams()
    community, infeasible = plan_communities(district, params)
    lower, upper = params.community_band
    sizes = np.bincount(community, weights=district.sites.households)
    return community, sizes, infeasible, (lower, upper)


def test_a_side_that_cannot_be_filled_in_band_is_drawn_with_its_neighbour():
    district = _district([350, 1800, 650, 1500, 1050], [460] * 5)
    community, sizes, infeasible, (lower, upper) = _plan(district)
    assert len(sizes) == 3
    assert ((sizes >= lower) & (sizes <= upper)).all(), sizes
    crossings = [item for item in infeasible if item.level == "barrier-crossing"]
    assert crossings, "the crossing is reported"
    assert not [item for item in infeasible if item.level == "community-band"]
    west = district.sites.xy[:, 0] < ORIGIN[0] + 500
    across = [c for c in range(len(sizes)) if len(set(west[community == c])) == 2]
    assert sorted(item.community_label for item in crossings) == across
    reason = crossings[0].reason
    assert reason.code == "infeasible.barrier_joined"
    assert "主干道路" in reason.text("zh") and "5,350" in reason.text("zh")
    assert "major road" in reason.text("en")


def test_no_join_that_splits_a_street_block_fitting_one_community():
    # without the minor road the east is one block of 2,300 households: every crossing in
    # band would split it, so the west keeps its community out of band
    district = _district([350, 1800, 650, 1500, 1050], [460] * 5, lane=False)
    community, sizes, infeasible, _ = _plan(district)
    assert not [item for item in infeasible if item.level == "barrier-crossing"]
    assert [item.level for item in infeasible].count("community-band") == 1
    west = district.sites.xy[:, 0] < ORIGIN[0] + 500
    assert all(len(set(west[community == c])) == 1 for c in range(len(sizes)))


def test_sides_that_can_each_be_filled_in_band_stay_apart():
    district = _district([500] * 5, [520] * 5)
    community, sizes, infeasible, (lower, upper) = _plan(district)
    assert ((sizes >= lower) & (sizes <= upper)).all()
    assert not [item for item in infeasible if item.level == "barrier-crossing"]
    west = district.sites.xy[:, 0] < ORIGIN[0] + 500
    assert all(len(set(west[community == c])) == 1 for c in range(len(sizes)))


def _quadrants():
    """Four buildings a block: the road at x = 500 and the river at y = 500 between them."""
    xy = [(x, y) for x in (150.0, 350.0, 650.0, 850.0) for y in (150.0, 350.0, 650.0, 850.0)]
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i}" for i in range(16)], "households": [100] * 16, "compound": None},
        geometry=list(shapely.points(np.array(xy) + ORIGIN)),
        crs=METRIC,
    ).to_crs(4326)
    lines = [
        shapely.LineString(ORIGIN + np.array([[500.0, -200.0], [500.0, 1200.0]])),
        shapely.LineString(ORIGIN + np.array([[-200.0, 500.0], [1200.0, 500.0]])),
    ]
    barriers = gpd.GeoDataFrame(
        {"kind": ["road", "river"], "road_class": ["primary", None], "name": ["主干路", "河"]},
        geometry=lines,
        crs=METRIC,
    ).to_crs(4326)
    district = prepare_district(buildings, metric_crs=METRIC, barriers=barriers)
    x, y = (district.sites.xy - ORIGIN).T
    quadrant = (x > 500).astype(int) + 2 * (y > 500)  # 0 SW, 1 SE, 2 NW, 3 NE
    return district, [np.flatnonzero(quadrant == q) for q in range(4)]


def test_part_borders_name_the_barrier_and_put_a_road_before_a_river():
    district, parts = _quadrants()
    borders = part_borders(district, parts)
    pairs = {
        (int(a), int(b)): BORDER_KINDS[k]
        for a, b, k in zip(borders.first, borders.second, borders.kind, strict=True)
    }
    assert pairs == {(0, 1): "road", (2, 3): "road", (0, 2): "river", (1, 3): "river"}
    assert (borders.length_m > 0).all()
    # from the south-west: east across the road first, then north across the river
    assert borders.neighbours(0) == [(1, 0), (2, 1)]
    assert borders.neighbours(3) == [(2, 0), (1, 1)]
