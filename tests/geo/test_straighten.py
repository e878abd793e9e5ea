"""Pulling chains taut (geo.straighten): every chain at once gives what each alone gives, and
the points a triangle is tested against are found without testing every pair.

A staircase chain between two rows of houses, drawn small::

    o   o   o   o        houses of one polygon
    ┐_┌┐_┌┐_┌┐_         the chain (a staircase between them)
      o   o   o          houses of the other
"""

from __future__ import annotations

import numpy as np

from geo.straighten import (
    TIGHTEN_CLEARANCE_M,
    _ChainPoints,
    _in_triangles,
    _segment_distance,
    _tighten,
    _tighten_all,
)


def _staircase(rng: np.random.Generator, origin: np.ndarray, steps: int) -> np.ndarray:
    """A chain of ``steps`` stairs of 3–8 m, starting at ``origin``."""
    rise = rng.uniform(3.0, 8.0, (steps, 2))
    stairs = np.zeros((2 * steps + 1, 2))
    stairs[1::2, 0] = rise[:, 0]
    stairs[2::2, 1] = rise[:, 1]
    return origin + np.cumsum(stairs, axis=0)


def _houses(rng: np.random.Generator, chain: np.ndarray, count: int) -> np.ndarray:
    """``count`` houses scattered within 10 m of the chain's box."""
    lo, hi = chain.min(axis=0) - 10.0, chain.max(axis=0) + 10.0
    return rng.uniform(lo, hi, (count, 2))


def test_every_chain_at_once_is_pulled_as_each_alone():
    rng = np.random.default_rng(3)
    chains = [_staircase(rng, rng.uniform(0, 300, 2), int(rng.integers(1, 12))) for _ in range(40)]
    chains.append(np.array([[0.0, 0.0], [5.0, 5.0]]))  # two vertices: nothing to pull
    houses = [_houses(rng, c, int(rng.integers(0, 30))) for c in chains]
    together = _tighten_all(
        chains,
        np.concatenate(houses),
        np.repeat(np.arange(len(chains)), [len(h) for h in houses]),
    )
    for chain, mine, taut in zip(chains, houses, together, strict=True):
        np.testing.assert_array_equal(taut, _tighten(chain, mine))
    # the houses do stop some stairs: not every chain became its straight line
    assert any(len(t) > 2 for t in together)
    assert any(len(t) < len(c) for t, c in zip(together, chains, strict=True))


def test_the_points_found_block_a_triangle_exactly_when_some_point_does():
    rng = np.random.default_rng(5)
    points = rng.uniform(0.0, 60.0, (400, 2))
    point_chain = rng.integers(0, 3, 400)
    p0, p1, p2 = (rng.uniform(0.0, 60.0, (300, 2)) for _ in range(3))
    p1 = p0 + (p1 - p0) * 0.1  # small triangles, as a chain's stairs make
    p2 = p0 + (p2 - p0) * 0.1
    chain = rng.integers(0, 3, 300)
    found = _ChainPoints.of(points, point_chain, np.concatenate([p0, p1, p2])).blocked(
        p0, p1, p2, chain
    )
    px, py = points[:, 0][None, :], points[:, 1][None, :]
    every_pair = _in_triangles(p0, p1, p2, px, py) | (
        _segment_distance(p0, p2, px, py) < TIGHTEN_CLEARANCE_M
    )
    expected = (every_pair & (point_chain[None, :] == chain[:, None])).any(axis=1)
    np.testing.assert_array_equal(found, expected)
    assert 0 < expected.sum() < len(expected)


def _coverage_chains_walked_one_by_one(polygons, monkeypatch):
    """The chains of a coverage as :func:`_walk` finds them, one chain at a time."""
    import geo.straighten as straighten

    with monkeypatch.context() as patch:
        patch.setattr(straighten, "_walk_all", lambda *args: {})
        return straighten._coverage_chains(polygons, None)


def test_all_chains_are_walked_at_once_as_one_by_one(monkeypatch):
    """A Voronoi coverage of 60 points (paths between junctions, the outer boundary) and a
    square with a square hole filled by another (a ring, no junction on it)."""
    import shapely

    from geo.straighten import _coverage_chains

    rng = np.random.default_rng(1)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(rng.uniform(0, 100, (60, 2))), extend_to=shapely.box(0, 0, 100, 100)
        )
    )
    cells = shapely.intersection(cells, shapely.box(0, 0, 100, 100), grid_size=1e-6)
    holed = shapely.box(200, 0, 300, 100).difference(shapely.box(230, 30, 260, 60))
    for polygons in (cells, np.array([holed, shapely.box(230, 30, 260, 60)], dtype=object)):
        chains, keys, _ = _coverage_chains(polygons, None)
        alone, alone_keys, _ = _coverage_chains_walked_one_by_one(polygons, monkeypatch)
        np.testing.assert_array_equal(keys, alone_keys)
        assert len(chains) == len(alone)
        for walked, one in zip(chains, alone, strict=True):
            np.testing.assert_array_equal(walked, one)
    assert any(np.array_equal(c[0], c[-1]) for c in chains)  # the ring came round


def test_the_points_tests_of_many_chains_at_once_are_those_of_each_alone():
    import shapely

    from geo.straighten import _Straightener

    rng = np.random.default_rng(7)
    olds = [_staircase(rng, rng.uniform(0, 200, 2), int(rng.integers(1, 10))) for _ in range(60)]
    xy = np.concatenate([_houses(rng, c, 12) for c in olds])
    owner = rng.integers(0, 4, len(xy))
    pairs = np.sort(rng.choice(4, (len(olds), 2), replace=True), axis=1)
    news = [c[[0, -1]] if k % 2 else _tighten(c, xy) for k, c in enumerate(olds)]
    lines = np.array([shapely.LineString(c) for c in olds], dtype=object)
    straightener = _Straightener.of(lines, xy=xy, owner=owner, obstacles=None, reach=120.0)
    together = straightener.clear_of_points_all(olds, news, pairs)
    alone = [
        straightener._clear_of_points(np.concatenate([o, n[::-1][1:]]), o, n, tuple(p))
        for o, n, p in zip(olds, news, pairs.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(together, alone)
    assert 0 < together.sum() < len(together)
