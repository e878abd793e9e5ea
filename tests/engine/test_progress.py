"""Progress of a proposal: every stage, and every piece and batch of grids as it is done, from
the runner's tasks (in this process and in worker processes alike), at fractions that never
go back and end at 1.0.

Fixture: the town of ``tests/engine/town.py`` on a 60 × 40 lattice (2,400 buildings, ~60,000
households, 24 communities: more than a piece holds, so it is cut into pieces)::

    · · · · | · · · · | · ·      · a building (10–40 households)
    ———————————————————————      | and — residential roads
    · · · · | · · · · | · ·
"""

from __future__ import annotations

import pickle

import pytest

from planning.engine.propose import propose
from planning.parallel import Stage, StageProgress, running
from tests.engine.town import METRIC, town


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_the_runner_counts_every_task_as_it_finishes(workers):
    heard: list[tuple[int, int]] = []
    with running(workers=workers, on_task=lambda done, total: heard.append((done, total))) as r:
        assert r.map(_square, range(5)) == [0, 1, 4, 9, 16]
    assert heard == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_a_stage_adds_up_the_tasks_of_its_maps_and_never_goes_back():
    heard: list[tuple[str, int | None, int | None, float]] = []
    progress = StageProgress(lambda s, f: heard.append((str(s), s.done, s.total, f)))
    progress.stage("communities", 0.4, 0.7)
    for finished in (1, 2):  # a map of two pieces
        progress.task_done(finished, 2)
    progress.task_done(1, 1)  # then a seam redrawn: a third task, the stage's total grows
    progress.stage("grids", 0.7, 0.9)
    assert [h[:3] for h in heard] == [
        ("communities", None, None),
        ("communities", 1, 2),
        ("communities", 2, 2),
        ("communities", 3, 3),
        ("grids", None, None),
    ]
    fractions = [h[3] for h in heard]
    assert fractions == sorted(fractions)
    assert fractions[2] == pytest.approx(0.7)  # 2 of 2 done: the stage's end
    assert fractions[3] == pytest.approx(0.7)  # 3 of 3 after it: held, not back to 0.6


def test_a_stage_is_its_name():
    stage = Stage("grids", 3, 10)
    assert stage == "grids" and {"grids": "网格"}[stage] == "网格"
    again = pickle.loads(pickle.dumps(stage))
    assert (again, again.done, again.total) == ("grids", 3, 10)
    assert Stage("done").done is None


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_proposal_reports_its_pieces_and_ends_at_one(workers):
    buildings, roads = town(60, 40)
    heard: list[tuple[Stage, float]] = []
    proposal = propose(
        buildings,
        metric_crs=METRIC,
        barriers=roads,
        workers=workers,
        progress=lambda stage, fraction: heard.append((stage, fraction)),
    )
    assert len(proposal.communities) > 20
    fractions = [f for _, f in heard]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and str(heard[-1][0]) == "done"
    pieces = [s for s, _ in heard if s == "communities" and s.total is not None]
    assert len(pieces) >= 2  # at least two pieces, each counted as it was drawn
    assert [s.done for s in pieces] == list(range(1, len(pieces) + 1))
    assert pieces[-1].done == pieces[-1].total
    batches = [s for s, _ in heard if s == "grids" and s.total is not None]
    assert batches and batches[-1].done == batches[-1].total
    stages = list(dict.fromkeys(str(s) for s, _ in heard))
    assert stages[:4] == ["tessellation", "communities", "grids", "boundaries"]
