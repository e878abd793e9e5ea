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

import numpy as np
import pytest

from planning.engine.district import prepare_district
from planning.engine.pieces import PIECE_COMMUNITIES, cut_pieces, piece_seed, repair_seams
from planning.engine.propose import plan_communities, propose
from planning.params import ProposeParams
from tests.engine.town import METRIC, town


@pytest.fixture(scope="module")
def district():
    buildings, roads = town(60, 40)
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
    buildings, roads = town(60, 40, seed=1)  # 24 communities: two pieces
    one = propose(buildings, metric_crs=METRIC, barriers=roads, workers=1)
    two = propose(buildings, metric_crs=METRIC, barriers=roads, workers=2)
    assert one.communities.to_json() == two.communities.to_json()
    assert one.grids.to_json() == two.grids.to_json()
    np.testing.assert_array_equal(one.site_grid, two.site_grid)
