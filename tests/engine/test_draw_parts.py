"""Re-optimise draws communities as propose does (planning.engine.propose.draw_parts): a part
of more than ``PIECE_COMMUNITIES`` communities in pieces, their seams repaired.

Fixture: the town of tests/engine/town.py, 60 × 40 buildings (~60,000 households, 24
communities: more than the bound of 20, so two pieces), residential roads every 400 m::

    · · · · | · · · · | · · · ·      · a building (10–40 households)
    ——————————————————————————      | and — residential roads (no major road: one part)
    · · · · | · · · · | · · · ·
"""

from __future__ import annotations

import numpy as np

from planning.engine.pieces import PIECE_COMMUNITIES
from planning.engine.propose import propose
from planning.params import ProposeParams
from planning.plans.plan import plan_from_proposal
from planning.plans.scenario import Reoptimise
from tests.engine.town import METRIC, town


def test_reoptimising_a_proposal_draws_the_communities_propose_drew():
    buildings, roads = town(60, 40)
    params = ProposeParams()
    proposal = propose(buildings, metric_crs=METRIC, barriers=roads, params=params)
    assert len(proposal.communities) > PIECE_COMMUNITIES  # drawn in pieces
    plan = plan_from_proposal(proposal, smooth_m=params.smooth_m)
    again = Reoptimise().apply(plan, params)
    ids = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
    ids_again = np.asarray(again.community_ids, dtype=object)[again.site_community]
    # the same communities (each keeps its id: matched by the households they share)
    np.testing.assert_array_equal(ids_again, ids)
    lower, upper = params.community_band
    households = again.community_households[np.unique(again.site_community)]
    assert ((households >= lower) & (households <= upper)).mean() >= 0.9
