"""Independent tasks run in this process, in worker processes, or on a Dask cluster.

A :class:`Runner` maps a function over tasks and returns the results in the order of the
tasks, whoever computed them: the engine seeds every task from the plan's seed and the task's
own index, so a plan is the same whatever the number of workers. ``workers=1`` runs in this
process; more run in a pool of worker processes (forked, so they start with what this one has
imported); ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) sends the tasks to a
running Dask distributed cluster (``dask scheduler`` / ``dask worker``), and needs
``dask[distributed]``.

Whoever computes them, every finished task is counted here, in this process: a runner's
``on_task`` (a :class:`StageProgress`'s :meth:`~StageProgress.task_done`) hears of each as it
finishes, and a progress bar says which stage runs and how many of its tasks are done.

A :class:`StageClock` measures each stage of a run in wall seconds and in CPU seconds of this
process and the worker processes it started (:func:`cpu_seconds`): on a machine others share,
the CPU time says whether the work grew, the wall time says little.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil

__all__ = [
    "Runner",
    "Stage",
    "StageClock",
    "StageProgress",
    "cpu_seconds",
    "default_workers",
    "running",
]


def default_workers() -> int:
    """The cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cpu_seconds() -> float:
    """CPU seconds (user and system) spent so far by this process and by the processes it
    started on this machine: those still running (the worker processes of a pool) and those
    it has waited for. Tasks sent to a Dask cluster are not counted."""
    me = psutil.Process()
    own = me.cpu_times()
    total = own.user + own.system + own.children_user + own.children_system
    for child in me.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:  # ended (and reaped) since the list was taken
            continue
        total += times.user + times.system
    return total


@dataclass
class StageClock:
    """Wall and CPU seconds of each stage of a run, by stage name (a stage measured twice
    adds up): ``with clock.stage("grids"): ...``. CPU is :func:`cpu_seconds`'s."""

    wall_s: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Measure the ``with`` block as stage ``name``."""
        wall, cpu = time.perf_counter(), cpu_seconds()
        yield
        self.wall_s[name] = self.wall_s.get(name, 0.0) + time.perf_counter() - wall
        self.cpu_s[name] = self.cpu_s.get(name, 0.0) + cpu_seconds() - cpu


class Stage(str):
    """The name of a stage of a run (``communities``, ``grids``…), with how many of its tasks
    (pieces of a study area, batches of communities) are done and how many are known so far.

    It is the name itself (``Stage("grids", 3, 10) == "grids"``), so a progress callback
    that only knows stage names keeps working; ``done`` and ``total`` are None for a stage
    reported without tasks.
    """

    done: int | None
    total: int | None

    def __new__(cls, name: str, done: int | None = None, total: int | None = None) -> Stage:
        stage = super().__new__(cls, name)
        stage.done, stage.total = done, total
        return stage

    def __reduce__(self) -> tuple[Any, ...]:
        return (Stage, (str(self), self.done, self.total))


@dataclass
class StageProgress:
    """Progress of a run: its stages, each reported at the fraction it starts at, and the
    tasks of a stage as they finish, to ``progress(stage, fraction)``.

    ``stage(name, start, end)`` starts a stage spanning ``start``–``end`` of the run; each
    :meth:`task_done` then reports a :class:`Stage` with the tasks done and the tasks known
    in all (several maps of one stage add up), at a fraction that moves from ``start``
    towards ``end`` and never goes back.
    """

    progress: Callable[[str, float], None] | None = None
    _name: str = ""
    _start: float = 0.0
    _end: float = 0.0
    _done: int = 0
    _total: int = 0
    _shown: float = 0.0

    def stage(self, name: str, start: float, end: float | None = None) -> None:
        """Start stage ``name`` at ``start`` (its tasks move the fraction up to ``end``)."""
        self._name, self._start, self._end = name, start, start if end is None else end
        self._done = self._total = 0
        self._shown = max(self._shown, start)
        self._report(Stage(name), self._shown)

    def __call__(self, name: str, fraction: float) -> None:
        """A stage without tasks of its own (``progress(stage, fraction)``)."""
        self.stage(name, fraction)

    def task_done(self, finished: int, tasks: int) -> None:
        """The ``finished``-th of ``tasks`` tasks of one map is done (1 opens a new map)."""
        if finished == 1:
            self._total += tasks
        self._done += 1
        share = self._done / max(self._total, 1)
        self._shown = max(self._shown, self._start + (self._end - self._start) * share)
        self._report(Stage(self._name, self._done, self._total), self._shown)

    def _report(self, stage: Stage, fraction: float) -> None:
        if self.progress is not None:
            self.progress(stage, fraction)


@dataclass
class Runner:
    """Maps functions over independent tasks (see the module docstring).

    Use :func:`running` to get one: it owns the pool or the cluster connection and closes it.
    ``on_task(finished, tasks)`` is called in this process as each task of a map finishes.
    """

    workers: int = 1
    scheduler: str | None = None
    on_task: Callable[[int, int], None] | None = field(default=None, repr=False)
    _pool: Any = None
    _client: Any = None

    def map(
        self,
        function: Callable[[Any], Any],
        tasks: Iterable[Any],
        *,
        sizes: Sequence[float] | None = None,
    ) -> list[Any]:
        """``[function(task) for task in tasks]``, computed where this runner runs things.

        ``sizes`` (one per task: the work it is expected to take) sends the largest first,
        so no worker is left with a large task at the end; the results keep the tasks' order.
        """
        tasks = list(tasks)
        if len(tasks) <= 1 or (self.workers <= 1 and self._client is None):
            return [
                self._counted(function(task), i + 1, len(tasks)) for i, task in enumerate(tasks)
            ]
        order = (
            list(range(len(tasks)))
            if sizes is None
            else sorted(range(len(tasks)), key=lambda i: (-sizes[i], i))
        )
        ordered = [tasks[i] for i in order]
        if self._client is not None:
            done = self._on_cluster(function, ordered)
        else:
            done = self._in_processes(function, ordered)
        results: list[Any] = [None] * len(tasks)
        for i, result in zip(order, done, strict=True):
            results[i] = result
        return results

    def start(self, job: Callable[[], Any]) -> Callable[[], Any]:
        """Start ``job()`` beside the caller, in a worker process of this machine (so a file
        it writes lands here); return a call that waits for its result. With one worker, or
        with a cluster (whose workers may stand elsewhere), the job runs in this process when
        its result is asked for."""
        if self.workers <= 1 or self._client is not None:
            return job
        return self._processes().submit(job).result

    def _counted(self, result: Any, finished: int, tasks: int) -> Any:
        if self.on_task is not None:
            self.on_task(finished, tasks)
        return result

    def _in_processes(self, function: Callable[[Any], Any], tasks: list[Any]) -> list[Any]:
        pool = self._processes()
        futures = [pool.submit(function, task) for task in tasks]
        for finished, _ in enumerate(as_completed(futures), start=1):
            self._counted(None, finished, len(tasks))
        return [future.result() for future in futures]

    def _on_cluster(self, function: Callable[[Any], Any], tasks: list[Any]) -> list[Any]:
        from dask.distributed import as_completed as cluster_completed

        futures = self._client.map(function, tasks, pure=False)
        for finished, _ in enumerate(cluster_completed(futures), start=1):
            self._counted(None, finished, len(tasks))
        return self._client.gather(futures)

    def _processes(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        return self._pool

    def close(self) -> None:
        """Shut the worker processes down and leave the cluster."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None


@contextmanager
def running(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    on_task: Callable[[int, int], None] | None = None,
) -> Iterator[Runner]:
    """A :class:`Runner` for the length of a ``with`` block.

    Parameters
    ----------
    workers
        Worker processes on this machine (default: :func:`default_workers`); 1 runs every
        task in this process.
    scheduler
        Address of a Dask distributed scheduler: tasks go to its workers instead.
    client
        A ``dask.distributed.Client`` already connected (e.g. to a ``LocalCluster``); it is
        used and left open.
    on_task
        Called with (tasks finished, tasks) of a map as each of its tasks finishes
        (:meth:`StageProgress.task_done`).
    """
    runner = Runner(
        workers=default_workers() if workers is None else max(1, int(workers)),
        scheduler=scheduler,
        on_task=on_task,
    )
    owned = client is None and scheduler is not None
    if owned:
        from dask.distributed import Client

        client = Client(scheduler)
    runner._client = client
    try:
        yield runner
    finally:
        if not owned:
            runner._client = None
        runner.close()
