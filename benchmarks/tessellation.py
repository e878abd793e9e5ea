"""Speed of geo.tessellation (and of straightening the borders drawn from it,
geo.straighten) on random clustered points with a grid of 20 barrier lines.

Run: ``.venv/bin/python benchmarks/tessellation.py [n ...]`` (default 10k, 50k, 100k points).
Prints, per size, the seconds of each step (tessellate and straighten also in CPU seconds:
on a machine others share, the CPU time says whether the work grew), the number of blocks
and parts, and checks that the cells tile the area.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.straighten import straighten_coverage
from geo.tessellation import adjacency, dissolve, smooth_coverage, study_outline, tessellate

SIDE_M = 10_000.0


def clustered_points(n: int, *, seed: int = 0) -> np.ndarray:
    """n distinct points (0.1 m grid) in 150 Gaussian clusters over a 10 km square."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.1 * SIDE_M, 0.9 * SIDE_M, (150, 2))
    spread = rng.uniform(80.0, 400.0, 150)
    which = rng.integers(0, 150, int(n * 1.1))
    xy = centres[which] + rng.normal(0.0, 1.0, (len(which), 2)) * spread[which, None]
    xy = np.round(xy[((xy > 1) & (xy < SIDE_M - 1)).all(axis=1)], 1)
    xy = np.unique(xy, axis=0)
    return xy[rng.permutation(len(xy))[:n]]


def barrier_grid() -> np.ndarray:
    """10 near-vertical and 10 near-horizontal lines, slightly slanted, crossing the square."""
    ticks = np.linspace(0.0, SIDE_M, 12)[1:-1]
    lines = [shapely.LineString([(x - 40.0, -50.0), (x + 40.0, SIDE_M + 50.0)]) for x in ticks]
    lines += [shapely.LineString([(-50.0, y + 30.0), (SIDE_M + 50.0, y - 30.0)]) for y in ticks]
    return np.array(lines, dtype=object)


def run(n: int) -> None:
    xy = clustered_points(n)
    area = shapely.box(0.0, 0.0, SIDE_M, SIDE_M)
    subdistricts = np.array(
        [shapely.box(0, 0, SIDE_M / 2, SIDE_M), shapely.box(SIDE_M / 2, 0, SIDE_M, SIDE_M)]
    )
    point_zone = (xy[:, 0] >= SIDE_M / 2).astype(np.int64)
    barriers = barrier_grid()

    t0, cpu0 = time.perf_counter(), time.process_time()
    tess = tessellate(xy, area, zones=subdistricts, barriers=barriers, point_zone=point_zone)
    t1, cpu1 = time.perf_counter(), time.process_time()
    adj = adjacency(tess.cells, block=tess.block, zone=tess.zone)
    t2 = time.perf_counter()
    labels = np.floor(xy[:, 0] / 1000).astype(int) * 10 + np.floor(xy[:, 1] / 1000).astype(int)
    labels = labels * 1000 + tess.block  # label groups stay inside one block: edge-connected
    uniq, parts = dissolve(tess.cells, labels)
    t3 = time.perf_counter()
    position = np.searchsorted(uniq, labels)
    smooth_coverage(parts, tolerance_m=5.0, keep_inside=xy, owner=position)
    t4 = time.perf_counter()
    study_outline(xy)
    t5, cpu5 = time.perf_counter(), time.process_time()
    straighten_coverage(parts, points=xy, point_owner=position, fixed=barriers)
    t6, cpu6 = time.perf_counter(), time.process_time()

    covered = math.fsum(shapely.area(tess.cells)) + math.fsum(
        shapely.area(tess.blocks.geometry[tess.unassigned_blocks])
    )
    tiles = abs(covered - area.area) <= 1e-6 * area.area
    print(
        f"{len(xy):>7,} points, {len(tess.blocks)} blocks: tessellate {t1 - t0:5.2f} s "
        f"(CPU {cpu1 - cpu0:5.2f} s), adjacency {t2 - t1:5.2f} s ({len(adj):,} pairs), "
        f"dissolve {t3 - t2:5.2f} s ({len(uniq)} parts), smooth {t4 - t3:5.2f} s, "
        f"outline {t5 - t4:5.2f} s, straighten {t6 - t5:5.2f} s (CPU {cpu6 - cpu5:5.2f} s); "
        f"tiles: {tiles}"
    )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 50_000, 100_000]
    for n in sizes:
        run(n)


if __name__ == "__main__":
    main(sys.argv[1:])
