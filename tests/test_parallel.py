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

import functools
import os
import time

import pytest

from planning.engine.propose import propose
from planning.parallel import StageClock, cpu_seconds, default_workers, running
from tests.engine.town import METRIC, town


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


def _spin(seconds: float) -> float:
    """Keep a core busy for ``seconds`` of CPU; the CPU seconds it took."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        sum(range(1000))
    return time.process_time() - start


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stage_clock_counts_the_cpu_of_the_workers(workers):
    clock = StageClock()
    with running(workers=workers) as runner, clock.stage("spin"):
        spun = sum(runner.map(_spin, [0.3, 0.3]))
    with clock.stage("spin"):  # a stage measured twice adds up
        spun += _spin(0.1)
    tick = 0.02  # the system counts CPU time in clock ticks (10 ms), per process
    assert spun - 3 * tick <= clock.cpu_s["spin"] <= spun + 1.0
    assert clock.wall_s["spin"] > 0
    assert list(clock.cpu_s) == ["spin"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_started_job_runs_beside_the_caller(workers):
    with running(workers=workers) as runner:
        pending = runner.start(functools.partial(_spin, 0.2))
        where = runner.start(os.getpid)
        assert pending() >= 0.2
        # with workers, in a worker process; alone, in this one
        assert (where() == os.getpid()) == (workers == 1)


def test_cpu_seconds_only_grow():
    before = cpu_seconds()
    _spin(0.2)
    assert cpu_seconds() >= before + 0.2 - 0.02  # counted in 10 ms clock ticks


@pytest.mark.slow
def test_a_plan_on_a_dask_cluster_is_the_plan_in_one_process():
    from dask.distributed import LocalCluster

    buildings, roads = town(40, 30)
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
