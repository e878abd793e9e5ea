"""Independent tasks run in this process, in worker processes, or on a Dask cluster.

A :class:`Runner` maps a function over tasks and returns the results in the order of the
tasks, whoever computed them: the engine seeds every task from the plan's seed and the task's
own index, so a plan is the same whatever the number of workers. ``workers=1`` runs in this
process; more run in a pool of worker processes (forked, so they start with what this one has
imported); ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) sends the tasks to a
running Dask distributed cluster (``dask scheduler`` / ``dask worker``), and needs
``dask[distributed]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Runner", "default_workers", "running"]


def default_workers() -> int:
    """The cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Runner:
    """Maps functions over independent tasks (see the module docstring).

    Use :func:`running` to get one: it owns the pool or the cluster connection and closes it.
    """

    workers: int = 1
    scheduler: str | None = None
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
            return [function(task) for task in tasks]
        order = (
            list(range(len(tasks)))
            if sizes is None
            else sorted(range(len(tasks)), key=lambda i: (-sizes[i], i))
        )
        ordered = [tasks[i] for i in order]
        if self._client is not None:
            done = self._client.gather(self._client.map(function, ordered, pure=False))
        else:
            done = list(self._processes().map(function, ordered))
        results: list[Any] = [None] * len(tasks)
        for i, result in zip(order, done, strict=True):
            results[i] = result
        return results

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
    *, workers: int | None = None, scheduler: str | None = None, client: Any = None
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
    """
    runner = Runner(
        workers=default_workers() if workers is None else max(1, int(workers)), scheduler=scheduler
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
