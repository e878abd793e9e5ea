"""The unit graph's own questions: connected pieces, numbered as scipy numbers them.

Fixture: random graphs on a few nodes up to a few thousand, drawn as edge lists::

    0 - 1   3      pieces {0, 1, 2} and {3}, numbered 0 and 1 in order of their lowest
     \\ /           node (scipy's ``connected_components`` numbering), whichever way the
      2             pieces are found.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from planning.engine.graph import SMALL_GRAPH, Graph, component_labels


def scipy_pieces(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[int, np.ndarray]:
    matrix = scipy.sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    return connected_components(matrix, directed=False)


def test_pieces_of_the_drawn_graph():
    count, labels = component_labels(4, np.array([0, 1, 2]), np.array([1, 2, 0]))
    assert count == 2
    np.testing.assert_array_equal(labels, [0, 0, 0, 1])
    assert labels.dtype == np.int32


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    density=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_small_graphs_numbered_as_scipy_numbers_them(n, density, seed):
    rng = np.random.default_rng(seed)
    edges = int(density * n)
    src, dst = rng.integers(0, n, edges), rng.integers(0, n, edges)
    count, labels = component_labels(n, src, dst)
    expected_count, expected = scipy_pieces(n, src, dst)
    assert count == expected_count
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == expected.dtype


def test_large_and_long_graphs_too():
    """Either side of :data:`SMALL_GRAPH`, and a path (the longest way for a label to go),
    numbered from its far end."""
    for n in (SMALL_GRAPH - 1, SMALL_GRAPH, SMALL_GRAPH + 1, 3 * SMALL_GRAPH):
        path = np.arange(n - 1)[::-1]
        for keep in (np.ones(n - 1, bool), np.arange(n - 1) % 97 != 5):
            count, labels = component_labels(n, path[keep] + 1, path[keep])
            expected_count, expected = scipy_pieces(n, path[keep] + 1, path[keep])
            assert count == expected_count
            np.testing.assert_array_equal(labels, expected)


def test_graph_components_and_pieces_use_them():
    # 0-1-2 and 3-4, the edge 1-2 marked as a barrier
    graph = Graph.from_pairs(
        5, np.array([0, 1, 3]), np.array([1, 2, 4]), np.ones(3), barrier=np.array([0, 1, 0])
    )
    count, labels = graph.components()
    assert count == 2
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(graph.pieces(~graph.barrier), [0, 0, 1, 2, 2])
