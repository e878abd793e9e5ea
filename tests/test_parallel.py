"""Runners: tasks mapped in this process, in worker processes and on a Dask cluster give the
same results in the same order; a plan drawn on a Dask ``LocalCluster`` (worker processes)
is byte for byte the plan drawn in one process.

Fixture: a town of 1,200 buildings on a jittered 40 × 30 lattice 40 m apart (~30,000
households, 12 communities), residential roads every 400 m::

    · · · · | · · · · | · ·      · a building (10–40 households)
    ———————————————————————      | and — residential roads
    · · · · | · · · · | · ·
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from planning.engine.propose import propose
from planning.parallel import default_workers, running

METRIC = pyproj.CRS("EPSG:4547")  # CGCS2000 3-degree GK zone, central meridian 114°E


def town(columns: int = 40, rows: int = 30, *, seed: int = 0):
    """(buildings in WGS84, residential roads in WGS84) of the fixture town."""
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 2_490_000.0
    gx, gy = np.meshgrid(np.arange(columns) * 40.0, np.arange(rows) * 40.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-8, 8, (columns * rows, 2))
    to_wgs84 = pyproj.Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(xy[:, 0] + x0, xy[:, 1] + y0)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:05d}" for i in range(len(xy))],
            "households": rng.integers(10, 41, len(xy)),
            "compound": [None] * len(xy),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    width, height = columns * 40.0, rows * 40.0
    lines = [
        shapely.LineString([(x0 + x, y0 - 50), (x0 + x, y0 + height)])
        for x in np.arange(380.0, width, 400.0)
    ]
    lines += [
        shapely.LineString([(x0 - 50, y0 + y), (x0 + width, y0 + y)])
        for y in np.arange(380.0, height, 400.0)
    ]
    roads = gpd.GeoDataFrame(
        {"kind": ["road"] * len(lines), "road_class": ["residential"] * len(lines)},
        geometry=lines,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    return buildings, roads


def _negate(x: int) -> int:
    return -x


def test_default_workers_are_the_cores_present():
    assert default_workers() >= 1


@pytest.mark.parametrize("workers", [1, 2])
def test_tasks_come_back_in_their_order(workers):
    with running(workers=workers) as runner:
        assert runner.map(_negate, range(7)) == [0, -1, -2, -3, -4, -5, -6]
        assert runner.map(_negate, []) == []
        # the largest sent first, the results still in the tasks' order
        assert runner.map(_negate, range(4), sizes=[1, 9, 3, 9]) == [0, -1, -2, -3]


@pytest.mark.slow
def test_a_plan_on_a_dask_cluster_is_the_plan_in_one_process():
    from dask.distributed import LocalCluster

    buildings, roads = town()
    alone = propose(buildings, metric_crs=METRIC, barriers=roads, workers=1)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        clustered = propose(
            buildings, metric_crs=METRIC, barriers=roads, scheduler=cluster.scheduler_address
        )
    assert clustered.communities.to_json() == alone.communities.to_json()
    assert clustered.grids.to_json() == alone.grids.to_json()
    assert clustered.buildings.to_json() == alone.buildings.to_json()
