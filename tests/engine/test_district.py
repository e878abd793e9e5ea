"""The district's tessellation, drawn 街道 by 街道: as tasks of a runner (the same district
with 1 or 2 worker processes), each 街道 on its own (its cells do not depend on the
buildings of another), and put together into one tiling of the study area.

Fixture: the town of :mod:`tests.engine.town` (30 × 20 buildings 40 m apart, residential
roads every 400 m) in three 街道 whose borders run between the roads::

    +---------+---------+---------+
    | · · · · | · · · · | · · · · |     | 街道 borders at x = 410 m and x = 810 m
    | · 西 · · | · 中 · · | · 东 · · |     · a building
    +---------+---------+---------+
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planning.engine.district import District, prepare_district
from planning.parallel import running
from tests.engine.town import METRIC, town

X0, Y0 = 500_000.0, 2_490_000.0
BORDERS_M = (410.0, 810.0)


def _streets() -> gpd.GeoDataFrame:
    edges = [-60.0, *BORDERS_M, 1260.0]
    polygons = [
        shapely.box(X0 + left, Y0 - 60.0, X0 + right, Y0 + 860.0)
        for left, right in itertools.pairwise(edges)
    ]
    return gpd.GeoDataFrame(
        {"name": ["西街道", "中街道", "东街道"]}, geometry=polygons, crs=METRIC
    ).to_crs("EPSG:4326")


def _district(buildings, roads, *, workers: int = 1) -> District:
    with running(workers=workers) as runner:
        return prepare_district(
            buildings, metric_crs=METRIC, subdistricts=_streets(), barriers=roads, runner=runner
        )


@pytest.fixture(scope="module")
def made():
    buildings, roads = town(30, 20)
    return buildings, roads, _district(buildings, roads)


def _same_geometries(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and bool(shapely.equals_exact(a, b, tolerance=0.0).all())


def test_two_workers_draw_the_district_one_draws(made):
    buildings, roads, alone = made
    pooled = _district(buildings, roads, workers=2)
    assert _same_geometries(pooled.cells, alone.cells)
    assert _same_geometries(pooled.block_geoms, alone.block_geoms)
    assert _same_geometries(pooled.parcel_geoms, alone.parcel_geoms)
    np.testing.assert_array_equal(pooled.site_block, alone.site_block)
    np.testing.assert_array_equal(pooled.site_parcel, alone.site_parcel)
    for name in ("indptr", "indices", "cost", "barrier", "shared"):
        np.testing.assert_array_equal(getattr(pooled.graph, name), getattr(alone.graph, name))


def test_a_streets_cells_do_not_depend_on_the_buildings_of_another(made):
    buildings, roads, whole = made
    x = buildings.to_crs(METRIC).geometry.x.to_numpy() - X0
    east = x > BORDERS_M[1]
    # the eastern 街道 loses every other building
    chosen = ~east | (np.arange(len(buildings)) % 2 == 0)
    other = _district(buildings[chosen].reset_index(drop=True), roads)
    mine = whole.sites.of_building[~east]
    theirs = other.sites.of_building[~east[chosen]]
    # the same cells, but for vertices along the line to the eastern 街道 (where cells
    # across it meet, each has the other's vertices)
    moved = shapely.area(shapely.symmetric_difference(other.cells[theirs], whole.cells[mine]))
    assert moved.max() < 1e-6
    west = whole.sites.subdistrict[mine] == 0  # not on that line
    assert _same_geometries(other.cells[theirs][west], whole.cells[mine][west])
    np.testing.assert_array_equal(
        other.graph.subgraph(theirs).indices, whole.graph.subgraph(mine).indices
    )
    assert not _same_geometries(
        other.cells[other.sites.subdistrict == 2], whole.cells[whole.sites.subdistrict == 2]
    )


def test_the_streets_tiles_make_one_tiling(made):
    _, _, district = made
    cells, zone = district.cells, district.sites.subdistrict
    assert set(zone.tolist()) == {0, 1, 2}
    # the cells tile the study area, each inside its 街道
    assert np.isclose(shapely.area(cells).sum(), shapely.area(district.study_area), rtol=1e-9)
    # one coverage: cells meeting across a 街道 line share their vertices there
    assert shapely.coverage_is_valid(cells)
    inside = shapely.buffer(district.subdistrict_geoms[zone], 0.01)
    assert shapely.covers(inside, cells).all()
    # so do the street blocks and the parcels
    for tiles in (district.block_geoms, district.parcel_geoms):
        assert np.isclose(shapely.area(tiles).sum(), shapely.area(district.study_area))
    # blocks and parcels are numbered 街道 after 街道, and no block spans two 街道
    for numbers in (district.site_block, district.site_parcel):
        per_block = np.unique(np.column_stack([numbers, zone]), axis=0)
        assert len(per_block) == len(np.unique(numbers))
        assert zone[np.argsort(numbers, kind="stable")].tolist() == sorted(zone.tolist())
    # the graph joins no two 街道
    assert (zone[district.graph.sources()] == zone[district.graph.indices]).all()
    assert district.graph.n == len(cells) and len(district.graph.indices) > 2 * len(cells)
