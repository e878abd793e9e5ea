"""Atoms: the fitting compounds whose buildings stand in several pieces are found at once."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.engine.graph import Graph
from planning.engine.units import _disconnected_groups, connected


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    groups=st.integers(1, 6),
    density=st.floats(0.2, 2.5),
    seed=st.integers(0, 2**31 - 1),
)
def test_disconnected_groups_are_those_a_per_group_search_finds(n, groups, density, seed):
    rng = np.random.default_rng(seed)
    m = int(n * density)
    graph = Graph.from_pairs(n, rng.integers(0, n, m), rng.integers(0, n, m), np.ones(m))
    group = rng.integers(-1, groups, n)
    expected = [
        i
        for i in range(groups)
        if len(members := np.flatnonzero(group == i)) >= 2 and not connected(graph, members)
    ]
    assert _disconnected_groups(graph, group, groups).tolist() == expected


def test_a_compound_split_by_an_unnamed_building_is_found():
    # a path 0 - 1 - 2: nodes 0 and 2 one compound, node 1 unnamed between them
    graph = Graph.from_pairs(3, np.array([0, 1]), np.array([1, 2]), np.ones(2))
    assert _disconnected_groups(graph, np.array([0, -1, 0]), 1).tolist() == [0]
    assert _disconnected_groups(graph, np.array([0, 0, -1]), 1).tolist() == []
