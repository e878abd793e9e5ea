"""Boundaries drawn per 街道 (planning.engine.boundaries): each 街道 is a task of its own,
so the drawing is the same in worker processes as in this one.

The fixture town (tests/engine/town.py) cut into two 街道 down the middle::

    +---------+---------+
    |  西街道  |  东街道  |   buildings 40 m apart, roads every 400 m
    +---------+---------+
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planning.engine.propose import propose
from tests.engine.town import METRIC, town

X0, Y0 = 500_000.0, 2_490_000.0


def _two_subdistricts(columns: int, rows: int) -> gpd.GeoDataFrame:
    width, height = columns * 40.0, rows * 40.0
    middle = X0 + 20.0 * (columns // 2) * 2 - 20.0
    west = shapely.box(X0 - 60, Y0 - 60, middle, Y0 + height + 20)
    east = shapely.box(middle, Y0 - 60, X0 + width + 20, Y0 + height + 20)
    return gpd.GeoDataFrame(
        {"name": ["西街道", "东街道"]}, geometry=[west, east], crs=METRIC
    ).to_crs("EPSG:4326")


def test_the_subdistricts_drawn_by_workers_are_drawn_as_in_one_process():
    buildings, roads = town(30, 20, seed=2)
    subdistricts = _two_subdistricts(30, 20)
    one = propose(
        buildings, metric_crs=METRIC, barriers=roads, subdistricts=subdistricts, workers=1
    )
    two = propose(
        buildings, metric_crs=METRIC, barriers=roads, subdistricts=subdistricts, workers=2
    )
    assert set(one.communities["street"]) == {"西街道", "东街道"}
    assert one.communities.to_json() == two.communities.to_json()
    assert one.grids.to_json() == two.grids.to_json()
    np.testing.assert_array_equal(one.site_grid, two.site_grid)
    # each community lies in its own 街道: no border moved across the 街道 line
    street_of = dict(zip(subdistricts["name"], subdistricts.to_crs(METRIC).geometry, strict=True))
    for community in two.communities.itertuples():
        inside = community.geometry.intersection(street_of[community.street]).area
        assert inside == pytest.approx(community.geometry.area, rel=1e-6)


def test_the_sites_and_footprints_of_each_subdistrict_are_those_a_mask_picks():
    from types import SimpleNamespace

    from planning.engine.boundaries import _footprint_groups, _groups

    rng = np.random.default_rng(0)
    site_zone = rng.integers(0, 5, 200)
    footprint_site = rng.integers(-1, 200, 120)  # -1: a footprint of no site
    district = SimpleNamespace(footprints=np.arange(120), footprint_site=footprint_site)
    sites_of, footprints_of = _groups(site_zone), _footprint_groups(district, site_zone)
    assert sorted(sites_of) == [0, 1, 2, 3, 4]
    for z in range(5):
        np.testing.assert_array_equal(sites_of[z], np.flatnonzero(site_zone == z))
        in_zone = site_zone == z
        mask = (footprint_site < 0) | in_zone[np.maximum(footprint_site, 0)]
        np.testing.assert_array_equal(footprints_of(z), np.flatnonzero(mask))
    no_footprints = SimpleNamespace(footprints=None, footprint_site=None)
    assert _footprint_groups(no_footprints, site_zone) is None
