"""The preview of a move (households and grids before → after, the refusal it would meet,
where else the buildings could go) agrees with the move itself, on the lattice district of
test_plan::

        col: 0    1  | 2    3  | 4    5  || 6    7    8 |  9   10   11
             W1 (400)  W2 (400)  W3 (400) || E1 (600)      E2 (600)
             <---------- 街道 西区 ------->  <---------- 街道 东区 ------->

Four rows of one 50-household building per cell (B<col><row>); bands: communities 540–660.
"""

from __future__ import annotations

import pytest
from test_plan import PARAMS, base_plan

from geo.errors import ScenarioEditError
from planning.plans.scenario import (
    EditRefused,
    MoveBuildings,
    apply_edit,
    preview_move,
)


def statuses(items) -> dict[str, tuple[int, int, str]]:
    return {s.community_id: (s.households, s.grids, s.status) for s in items}


def test_a_move_that_goes_through_is_previewed_as_it_comes_out():
    plan = base_plan()
    preview = preview_move(plan, ["B020"], "W1", params=PARAMS)
    result = apply_edit(plan, MoveBuildings(("B020",), "W1"), params=PARAMS)
    assert preview.refusal is None
    assert (preview.buildings, preview.households) == (1, 50.0)
    assert [s.community_id for s in preview.before] == ["W1", "W2"]
    assert statuses(preview.before) == {"W1": (400, 4, "below"), "W2": (400, 4, "below")}
    assert statuses(preview.after) == statuses(result.communities)
    # B020 joins the grid of B010 and B011 (100 households): 150, above the 80–120 grid band,
    # as the edit's own note says
    big = [dict(n.values) for n in result.records.notes if n.code == "edit.note.big_grid"]
    assert preview.big_grids == tuple((v["grid"], v["households"]) for v in big)
    assert [h for _g, h in preview.big_grids] == [150.0]


@pytest.mark.parametrize("to", ["W1", "W3"])
def test_every_single_building_move_out_of_w2_is_predicted(to):
    """Each building of W2 moved to W1 or W3: the preview's refusal is the one the edit
    raises, and when the edit goes through its households and grids are the preview's."""
    plan = base_plan()
    for col in (2, 3):
        for row in range(4):
            building = f"B{col:02d}{row}"
            preview = preview_move(plan, [building], to, params=PARAMS)
            try:
                result = apply_edit(plan, MoveBuildings((building,), to), params=PARAMS)
            except EditRefused as exc:
                assert preview.refusal is not None, building
                assert preview.refusal.record.code == exc.record.code
                continue
            assert preview.refusal is None, building
            if not result.grids_redrawn:
                assert statuses(preview.after) == statuses(result.communities), building
            else:
                households = {s.community_id: s.households for s in result.communities}
                assert {k: v[0] for k, v in statuses(preview.after).items()} == households


def test_a_refused_move_says_why_and_what_would_work_instead():
    plan = base_plan()
    # B080 (E1, the last column before E2) cannot go across the 街道 line to W3; E2 would take
    # it and stay in band (600 + 50), and E1 keeps 550
    preview = preview_move(plan, ["B080"], "W3", params=PARAMS)
    assert preview.refusal is not None
    assert preview.refusal.record.code == "edit.refused.move_across"
    assert "街道" in preview.refusal.record.text("zh")
    assert preview.instead == ("E2",)
    assert statuses(preview.after)["W3"] == (450, 4, "below")
    assert statuses(preview.after)["E1"][0] == 550


def test_a_receiver_pushed_out_of_band_is_not_offered_instead():
    plan = base_plan()
    # two buildings (100 households) from E1 to W3 are refused; E2 would reach 700 > 660
    preview = preview_move(plan, ["B080", "B081"], "W3", params=PARAMS)
    assert preview.refusal is not None and preview.instead == ()
    # moved to E2 itself the move goes through, E2 above the band
    into_e2 = preview_move(plan, ["B080", "B081"], "E2", params=PARAMS)
    assert into_e2.refusal is None
    assert statuses(into_e2.after)["E2"] == (700, 6, "above")


def test_nothing_to_measure_is_refused():
    plan = base_plan()
    with pytest.raises(EditRefused, match="no building ids given"):
        preview_move(plan, [], "W1", params=PARAMS)
    with pytest.raises(EditRefused, match=r"unknown building id\(s\) B999"):
        preview_move(plan, ["B999"], "W1", params=PARAMS)
    with pytest.raises(ScenarioEditError, match="unknown community 'Z'"):
        preview_move(plan, ["B020"], "Z", params=PARAMS)
    already = preview_move(plan, ["B010"], "W1", params=PARAMS)
    assert already.refusal.record.code == "edit.refused.nothing_to_move"
    assert already.buildings == 0 and already.instead == ()
