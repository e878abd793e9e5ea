"""ui.runs: one view per plan, and a plan an edit left as it was (a re-grid that draws the same
grids) shares its parent's frames, so the Edit page's map and lists are not made again; the
built-in sample at 10,000 households."""

from __future__ import annotations

import pytest

from planning.params import ProposeParams
from planning.plans.plan import plan_from_proposal
from planning.plans.scenario import Regrid, Scenario, SplitCommunity
from planning.runs import run_propose
from samples.district import write_sample
from ui import runs

PARAMS = ProposeParams()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    files = write_sample(tmp_path_factory.mktemp("sample10k"), households=10_000)
    run = run_propose(
        files["households"], crs="gcj02", subdistricts_path=files["streets"], params=PARAMS
    )
    return Scenario(plan_from_proposal(run.proposal), params=PARAMS)


def test_one_view_per_plan(scenario):
    plan = scenario.evaluate()
    assert runs.view_of(plan, PARAMS) is runs.view_of(plan, PARAMS)
    split = scenario.push(SplitCommunity("C001", 2))
    assert runs.view_of(split.undo().evaluate(), PARAMS) is runs.view_of(plan, PARAMS)


def test_a_regrid_that_draws_the_same_grids_shares_the_frames(scenario):
    base = runs.view_of(scenario.evaluate(), PARAMS)
    regridded = scenario.push(Regrid("C001"))
    assert regridded.last.households_affected == 0
    plan = regridded.evaluate()
    view = runs.view_of(plan, PARAMS)
    assert view.plan is plan and len(plan.log) == len(base.plan.log) + 1  # its own audit log
    assert view.drawn_from is base
    assert view.communities is base.communities and view.grids is base.grids
    made = []
    for shown in (base, view):
        runs.per_view(shown, "what", lambda: made.append(1) or len(made))
    assert made == [1]


def test_an_edit_that_changes_the_plan_has_frames_of_its_own(scenario):
    base = runs.view_of(scenario.evaluate(), PARAMS)
    view = runs.view_of(scenario.push(SplitCommunity("C001", 2)).evaluate(), PARAMS)
    assert view.drawn_from is view
    assert len(view.communities) == len(base.communities) + 1
    assert runs.per_view(view, "n", lambda: len(view.communities)) == len(base.communities) + 1
