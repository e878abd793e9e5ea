"""Pieces: a study area of more than ``PIECE_COMMUNITIES`` communities is cut into connected
pieces of whole communities, drawn on their own and joined; the plan does not depend on the
workers drawing it.

Fixture: a town of 2,400 buildings on a jittered 60 × 40 lattice 40 m apart (~60,000
households, 24 communities: one study area, more than the bound of 20), residential roads
every 400 m cutting it into blocks::

    · · · · | · · · · | · · · ·      · a building (10–40 households)
    · · · · | · · · · | · · · ·      | and — residential roads
    ——————————————————————————
    · · · · | · · · · | · · · ·
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from planning.engine.district import prepare_district
from planning.engine.pieces import PIECE_COMMUNITIES, cut_pieces, piece_seed, repair_seams
from planning.engine.propose import plan_communities, propose
from planning.params import ProposeParams

METRIC = pyproj.CRS("EPSG:4547")  # CGCS2000 3-degree GK zone, central meridian 114°E


def town(columns: int = 60, rows: int = 40, *, seed: int = 0):
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


@pytest.fixture(scope="module")
def district():
    buildings, roads = town()
    return prepare_district(buildings, metric_crs=METRIC, barriers=roads)


def test_an_area_within_the_bound_is_one_piece(district):
    nodes = np.arange(len(district.sites.xy))
    pieces = cut_pieces(district, nodes, k=PIECE_COMMUNITIES, upper=2750)
    assert len(pieces) == 1
    np.testing.assert_array_equal(pieces[0].nodes, nodes)


def test_pieces_are_connected_whole_communities_covering_the_area(district):
    nodes = np.arange(len(district.sites.xy))
    households = district.sites.households
    k = round(households.sum() / 2500)
    pieces = cut_pieces(district, nodes, k=k, upper=2750, bound=6)
    assert sum(p.k for p in pieces) == k
    assert all(p.k <= 6 for p in pieces)
    np.testing.assert_array_equal(np.sort(np.concatenate([p.nodes for p in pieces])), nodes)
    for piece in pieces:
        assert district.graph.subgraph(piece.nodes).components()[0] == 1
        assert 2250 <= households[piece.nodes].sum() / piece.k <= 2750


def test_piece_seeds_depend_on_the_seed_and_the_index_alone():
    assert piece_seed(0, 3) == piece_seed(0, 3)
    assert len({piece_seed(s, i) for s in (0, 1) for i in range(5)}) == 10


def test_seams_repaired_keep_every_community_whole(district):
    nodes = np.arange(len(district.sites.xy))
    half = district.sites.xy[:, 0] < np.median(district.sites.xy[:, 0])
    # two pieces, each of vertical strips: the seam communities are long and thin
    labels = np.where(half, 0, 6) + np.digitize(
        district.sites.xy[:, 1],
        np.quantile(district.sites.xy[:, 1], [1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6]),
    )
    repaired = repair_seams(district, nodes, labels, half.astype(np.int64), lower=2250, upper=2750)
    assert set(np.unique(repaired)) <= set(np.unique(labels))
    graph = district.graph
    for label in np.unique(repaired):
        assert graph.subgraph(np.flatnonzero(repaired == label)).components()[0] == 1


def test_a_large_area_is_drawn_in_pieces_in_band(district):
    params = ProposeParams()
    community, _ = plan_communities(district, params)
    sizes = np.bincount(community, weights=district.sites.households)
    assert len(sizes) == round(district.sites.households.sum() / 2500)
    assert ((sizes >= 2250) & (sizes <= 2750)).mean() >= 0.9


@pytest.mark.slow
def test_the_plan_is_the_same_whatever_the_workers():
    buildings, roads = town(seed=1)  # 24 communities: two pieces
    one = propose(buildings, metric_crs=METRIC, barriers=roads, workers=1)
    two = propose(buildings, metric_crs=METRIC, barriers=roads, workers=2)
    assert one.communities.to_json() == two.communities.to_json()
    assert one.grids.to_json() == two.grids.to_json()
    np.testing.assert_array_equal(one.site_grid, two.site_grid)
