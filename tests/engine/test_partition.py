"""The partition core on plain graphs: balance, contiguity, determinism, barriers.

Fixture: a lattice of units 50 m apart, each holding some households::

    o-o-o-o-o-o      each o is a unit; edges join 4-neighbours;
    | | | | | |      a vertical barrier (a river) may run between two columns,
    o-o-o-o-o-o      making the edges across it expensive.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.engine.graph import Graph, region_is_connected
from planning.engine.partition import (
    _weighted_sums,
    choose_region_count,
    partition_units,
    weighted_kmeans,
)
from planning.engine.recombine import _bipartitions, recombine
from planning.engine.regions import beyond, penalty, penalty_beyond
from planning.engine.units import Units


def lattice(width: int, height: int, *, river_at: float | None = None, spacing: float = 50.0):
    xy = np.array([(x * spacing, y * spacing) for y in range(height) for x in range(width)])
    idx = np.arange(width * height).reshape(height, width)
    i = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    j = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    barrier = np.zeros(len(i), dtype=bool)
    if river_at is not None:
        barrier = (xy[i, 0] < river_at) != (xy[j, 0] < river_at)
    cost = np.hypot(*(xy[i] - xy[j]).T) * (1 + 4 * barrier) + 800 * barrier
    return Graph.from_pairs(width * height, i, j, cost, barrier=barrier), xy


def without_cells(graph: Graph, xy: np.ndarray, weights: np.ndarray) -> Units:
    """Units with no cells (zero areas and perimeters)."""
    return Units(graph, xy, weights, np.zeros(graph.n), np.zeros(graph.n))


def test_balanced_connected_regions_on_a_lattice():
    graph, xy = lattice(40, 40)
    weights = np.random.default_rng(3).integers(20, 200, graph.n).astype(float)
    k = choose_region_count(weights.sum(), target=2500)
    labels = partition_units(without_cells(graph, xy, weights), k=k, lower=2250, upper=2750, seed=0)
    sizes = np.bincount(labels, weights=weights)
    assert len(sizes) == k
    assert ((sizes >= 2250) & (sizes <= 2750)).mean() >= 0.95
    assert all(region_is_connected(graph, labels, r) for r in range(k))


def test_deterministic_for_a_seed():
    graph, xy = lattice(25, 25)
    weights = np.random.default_rng(5).integers(20, 200, graph.n).astype(float)
    k = choose_region_count(weights.sum(), target=2500)
    units = without_cells(graph, xy, weights)
    a = partition_units(units, k=k, lower=2250, upper=2750, seed=7)
    b = partition_units(units, k=k, lower=2250, upper=2750, seed=7)
    np.testing.assert_array_equal(a, b)


def test_regions_stop_at_a_river_when_the_sides_can_stand_alone():
    """Two halves of 10 columns × 20 rows with 100 households each: 20,000 per side = 8
    communities each side; no community should straddle the river."""
    graph, xy = lattice(20, 20, river_at=475.0)
    weights = np.full(graph.n, 100.0)
    labels = partition_units(
        without_cells(graph, xy, weights), k=16, lower=2250, upper=2750, seed=0
    )
    straddling = [r for r in range(16) if len(set(xy[labels == r, 0] < 475.0)) > 1]
    assert straddling == []


def test_single_region_and_single_unit():
    graph, xy = lattice(3, 1)
    units = without_cells(graph, xy, np.ones(3))
    assert partition_units(units, k=1, lower=0, upper=10).tolist() == [0, 0, 0]
    graph, xy = lattice(1, 1)
    units = without_cells(graph, xy, np.ones(1))
    assert partition_units(units, k=3, lower=0, upper=10).tolist() == [0]


def test_region_count_rounds_and_is_at_least_one():
    assert choose_region_count(3700, target=2500) == 1
    assert choose_region_count(3800, target=2500) == 2
    assert choose_region_count(10, target=2500) == 1


def test_weighted_kmeans_follows_the_weights():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [100.0, 0.0], [101.0, 0.0]])
    centers = weighted_kmeans(xy, np.array([1.0, 3.0, 1.0, 3.0]), 2, seed=0)
    xs = sorted(centers[:, 0])
    assert xs[0] == pytest.approx(0.75)
    assert xs[1] == pytest.approx(100.75)


def test_subgraph_keeps_only_internal_edges():
    graph, _ = lattice(3, 3)
    sub = graph.subgraph(np.array([0, 1, 2]))
    assert sub.n == 3
    assert sorted(sub.indices.tolist()) == [0, 1, 1, 2]


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(4, 18),
    height=st.integers(4, 18),
    seed=st.integers(0, 10_000),
    target=st.sampled_from([300, 800, 2500]),
)
def test_every_region_connected_and_nonempty(width, height, seed, target):
    graph, xy = lattice(width, height)
    weights = np.random.default_rng(seed).integers(1, 150, graph.n).astype(float)
    k = choose_region_count(weights.sum(), target=target)
    labels = partition_units(
        without_cells(graph, xy, weights), k=k, lower=0.9 * target, upper=1.1 * target, seed=seed
    )
    assert labels.min() == 0
    regions = labels.max() + 1
    assert regions == min(k, graph.n)
    assert np.bincount(labels).min() >= 1
    assert all(region_is_connected(graph, labels, r) for r in range(regions))


def squares(width: int, height: int, side: float = 50.0):
    """A lattice of square cells: (graph with shared borders, centres, areas, perimeters)."""
    graph, xy = lattice(width, height, spacing=side)
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    keep = src < graph.indices
    with_borders = Graph.from_pairs(
        graph.n,
        src[keep],
        graph.indices[keep],
        graph.cost[keep],
        barrier=graph.barrier[keep],
        shared=np.full(int(keep.sum()), side),
    )
    return with_borders, xy, np.full(graph.n, side * side), np.full(graph.n, 4 * side)


def polsby_popper(graph, labels, area, perimeter):
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    inside = labels[src] == labels[graph.indices]
    k = labels.max() + 1
    p = np.bincount(labels, weights=perimeter, minlength=k) - np.bincount(
        labels[src[inside]], weights=graph.shared[inside], minlength=k
    )
    a = np.bincount(labels, weights=area, minlength=k)
    return 4 * np.pi * a / p**2


def test_recombination_redraws_an_l_shaped_pair_as_two_halves():
    """10 × 5 cells of 50 households: an L (the top two rows and the two left columns) and
    the block it wraps are both in band but far from compact; the straight cut between
    columns 4 and 5 makes two 5 × 5 squares."""
    graph, xy, area, perimeter = squares(10, 5)
    weights = np.full(graph.n, 50.0)
    col, row = xy[:, 0] // 50, xy[:, 1] // 50
    labels = np.where((row <= 1) | (col <= 1), 0, 1)
    before = polsby_popper(graph, labels, area, perimeter)
    after_labels = recombine(
        Units(graph, xy, weights, area, perimeter),
        labels,
        2,
        lower=1100,
        upper=1400,
        barrier_weight=0.0,
    )
    after = polsby_popper(graph, after_labels, area, perimeter)
    sizes = np.bincount(after_labels, weights=weights)
    assert ((sizes >= 1100) & (sizes <= 1400)).all()
    assert all(region_is_connected(graph, after_labels, r) for r in range(2))
    assert before.min() < 0.4  # the L
    assert after.min() > 0.75  # two squares: π/4


def test_recombination_never_joins_two_sides_of_a_river_that_stand_alone():
    """A river between columns 4 and 5; each side holds a whole region's households. A
    comb-shaped start straddles it; recombination may not make a straddling region."""
    graph, xy = lattice(10, 4, river_at=225.0)
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    keep = src < graph.indices
    graph = Graph.from_pairs(
        graph.n,
        src[keep],
        graph.indices[keep],
        graph.cost[keep],
        barrier=graph.barrier[keep],
        shared=np.full(int(keep.sum()), 50.0),
    )
    weights = np.full(graph.n, 50.0)
    area, perimeter = np.full(graph.n, 2500.0), np.full(graph.n, 200.0)
    labels = partition_units(
        Units(graph, xy, weights, area, perimeter), k=2, lower=900, upper=1100, seed=0
    )
    west = xy[:, 0] < 225
    assert len(np.unique(labels[west])) == 1 and len(np.unique(labels[~west])) == 1


def test_an_excess_that_cannot_be_avoided_is_put_in_one_region():
    """Six buildings along a street, 900 households in 3 grids of 200–300: no contiguous split
    puts all three in band. One grid of 410 leaves the other two in band (220, 270); the
    spread-out alternative, two grids of 340, would put two out."""
    weights = np.array([70.0, 150, 270, 70, 290, 50])
    n = len(weights)
    graph = Graph.from_pairs(n, np.arange(n - 1), np.arange(1, n), np.full(n - 1, 50.0))
    xy = np.column_stack([np.arange(n) * 50.0, np.zeros(n)])
    labels = partition_units(without_cells(graph, xy, weights), k=3, lower=200, upper=300, seed=0)
    assert sorted(np.bincount(labels, weights=weights).tolist()) == [220, 270, 410]
    assert all(region_is_connected(graph, labels, r) for r in range(3))


def test_an_infeasible_mean_gives_even_regions_and_compact_shapes():
    """5,800 households make two communities of 2,900, both over 2,750: they come out within
    a quarter band of each other's mean, and compact."""
    graph, xy, area, perimeter = squares(10, 10)
    weights = np.full(graph.n, 58.0)
    labels = partition_units(
        Units(graph, xy, weights, area, perimeter), k=2, lower=2250, upper=2750, seed=0
    )
    sizes = np.bincount(labels, weights=weights)
    assert (np.abs(sizes - 2900) <= 125).all()
    assert all(region_is_connected(graph, labels, r) for r in range(2))
    assert polsby_popper(graph, labels, area, perimeter).min() > 0.65


# -- the shortcuts taken for speed give the very numbers of the long way -------------------


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), k=st.integers(1, 30), seed=st.integers(0, 2**31 - 1))
def test_region_sums_add_up_as_add_at_does(n, k, seed):
    """Growth and k-means sum coordinates per region with one bincount per coordinate: the
    same additions in the same order as ``np.add.at`` on the rows, so the same bits."""
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2)) * 1e4 + 4.5e5
    w = np.maximum(rng.random(n) * 300, 1e-9)
    labels = rng.integers(0, k, n)
    expected = np.zeros((k, 2))
    np.add.at(expected, labels, xy * w[:, None])
    np.testing.assert_array_equal(_weighted_sums(xy, w, labels, k), expected)


def test_penalty_from_the_distance_out_of_band_is_the_penalty():
    sizes = np.concatenate([np.linspace(2000, 3000, 1001), [2250.0, 2750.0, 0.0]])
    np.testing.assert_array_equal(
        penalty_beyond(beyond(sizes, 2250, 2750), 2250, 2750), penalty(sizes, 2250, 2750)
    )


@pytest.mark.parametrize("m", [2, 3, 7, 11])
def test_every_bipartition_once_with_unit_0_first(m):
    first, second = _bipartitions(m)
    assert first.shape == (2 ** (m - 1) - 1, m)
    np.testing.assert_array_equal(first, ~second)
    assert first[:, 0].all() and second.any(1).all()
    assert len({row.tobytes() for row in first}) == len(first)
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = False
