"""Edits, refusals, undo / redo and the audit log, on the lattice district of test_plan::

        col: 0    1  | 2    3  | 4    5  || 6    7    8 |  9   10   11
             W1 (400)  W2 (400)  W3 (400) || E1 (600)      E2 (600)
             <---------- 街道 西区 ------->  <---------- 街道 东区 ------->

Four rows of one 50-household building per cell; B020 and B021 (column 2, rows 0–1) are the
compound 桂园. Bands: communities 540–660, grids 80–120.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from test_plan import (
    BASE_COLUMNS,
    PARAMS,
    base_plan,
    community_of,
    labels_from_columns,
    lattice_district,
    lattice_xy,
    members,
    site_of,
    to_wgs84,
)

from geo.errors import ScenarioEditError
from planning.plans.plan import building_frame, check_plan, community_frame, plan_from_labels
from planning.plans.scenario import (
    Lock,
    MergeCommunities,
    MoveBuildings,
    MoveCompound,
    MoveInPolygon,
    Regrid,
    Rename,
    Reoptimise,
    Scenario,
    SplitCommunity,
    Stamp,
    Unlock,
    apply_edit,
    write_audit_csv,
)


def run(edit, plan=None):
    return apply_edit(plan or base_plan(), edit, params=PARAMS, stamp=Stamp("tester", "T0"))


def column_cells(*cols: int, rows=range(4)) -> set[str]:
    return {f"B{c:02d}{r}" for c in cols for r in rows}


def polygon_around(*building_ids: str) -> str:
    """WKT (WGS84) of a small box around the given buildings."""
    boxes = [shapely.Point(*lattice_xy(int(b[1:3]), int(b[3]))).buffer(20) for b in building_ids]
    return to_wgs84([shapely.union_all(boxes)]).iloc[0].wkt


# ---------------------------------------------------------------------- split


def test_split_makes_balanced_contiguous_parts_and_redraws_their_grids():
    result = run(SplitCommunity("E1", 2))
    plan = result.plan
    assert set(plan.community_ids) == {"E1", "E1-2", "E2", "W1", "W2", "W3"}
    sizes = sorted(plan.community_households[[plan.label_of("E1"), plan.label_of("E1-2")]])
    assert sizes == [300, 300]
    assert members(plan, "E1") | members(plan, "E1-2") == column_cells(6, 7, 8)
    assert check_plan(plan, PARAMS).ok
    assert result.grids_redrawn == ("E1", "E1-2")
    assert [c.community_id for c in result.communities] == ["E1", "E1-2"]
    assert all(c.status == "below" for c in result.communities)
    assert result.before == "E1 (600)" and "E1-2 (300)" in result.after
    assert plan.log[-1].what == "split E1 into 2" and plan.log[-1].author == "tester"
    assert plan.community_names[plan.label_of("E1-2")] == "E1社区-2"
    assert plan.grid_ids[plan.site_grid[site_of(plan, "B060")]].startswith(
        community_of(plan, "B060") + "-"
    )
    # the other communities are as they were
    for cid in ("E2", "W1", "W2", "W3"):
        assert members(plan, cid) == members(base_plan(), cid)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (SplitCommunity("E1", 1), "k must be a whole number of at least 2"),
        (SplitCommunity("E1", 13), r"can only be split into 12"),
        (SplitCommunity("X1", 2), "unknown community 'X1'"),
    ],
)
def test_split_refusals(edit, match):
    with pytest.raises(ScenarioEditError, match=match):
        run(edit)


def test_split_of_a_locked_community_is_refused():
    locked = run(Lock(("E1",))).plan
    with pytest.raises(ScenarioEditError, match=r"split E1 into 2: refused, E1 is locked"):
        run(SplitCommunity("E1", 2), locked)


# ---------------------------------------------------------------------- merge


def test_merge_joins_b_into_a_and_redraws_the_grids():
    result = run(MergeCommunities("W1", "W2"))
    plan = result.plan
    assert "W2" not in plan.community_ids
    assert members(plan, "W1") == column_cells(0, 1, 2, 3)
    assert plan.community_households[plan.label_of("W1")] == 800
    assert result.communities[0].status == "above"
    assert any("above the band" in note for note in result.notes)
    assert plan.grid_count[plan.label_of("W1")] == 8
    assert result.before == "W1 (400) + W2 (400)" and result.after == "W1 (800)"
    assert check_plan(plan, PARAMS).ok


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (MergeCommunities("W1", "W3"), r"not adjacent: W1 and W3 share no border"),
        (MergeCommunities("W3", "E1"), r"across a 街道: W3 lies in 西区 and E1 in 东区"),
        (MergeCommunities("W1", "W1"), "cannot merge with itself"),
        (MergeCommunities("W1", "Q"), "unknown community 'Q'"),
    ],
)
def test_merge_refusals(edit, match):
    with pytest.raises(ScenarioEditError, match=match):
        run(edit)


def test_merge_with_a_locked_community_is_refused():
    locked = run(Lock(("W2",))).plan
    with pytest.raises(ScenarioEditError, match="W2 is locked"):
        run(MergeCommunities("W1", "W2"), locked)


# ---------------------------------------------------------------------- moves


def test_move_buildings_joins_the_bordering_grid():
    base = base_plan()
    result = run(MoveBuildings(("B020",), "W1"))
    plan = result.plan
    assert community_of(plan, "B020") == "W1"
    assert members(plan, "W2") == column_cells(2, 3) - {"B020"}
    assert result.households_affected == 50
    # B020 borders W1's grid of column 1, rows 0–1 (B010 and B011) over 100 m
    assert (
        plan.grid_ids[plan.site_grid[site_of(plan, "B020")]]
        == base.grid_ids[base.site_grid[site_of(base, "B010")]]
    )
    assert {c.community_id: c.households for c in result.communities} == {"W1": 450, "W2": 350}
    assert result.before == "W1 (400), W2 (400)" and result.after == "W1 (450), W2 (350)"
    assert check_plan(plan, PARAMS).ok


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (MoveBuildings(("B030",), "W1"), r"not adjacent: some of the buildings do not touch W1"),
        (MoveBuildings(("B021", "B031"), "W1"), r"would break the contiguity of W2"),
        (MoveBuildings(tuple(sorted(column_cells(0, 1))), "W2"), r"would leave W1 empty"),
        (MoveBuildings(("B060",), "W3"), r"across a 街道: 1 building location\(s\) lie in 东区"),
        (MoveBuildings(("B999", "B998"), "W1"), r"unknown building id\(s\) B999, B998"),
        (MoveBuildings(("B010",), "W1"), r"nothing to move: every building named is already"),
        (MoveBuildings((), "W1"), r"no building ids given"),
        (MoveBuildings(("B020",), "Z"), r"unknown community 'Z'"),
    ],
)
def test_move_buildings_refusals(edit, match):
    with pytest.raises(ScenarioEditError, match=match):
        run(edit)


def test_move_into_or_out_of_a_locked_community_is_refused():
    locked = run(Lock(("W1", "W3"))).plan
    with pytest.raises(ScenarioEditError, match="W1 is locked"):
        run(MoveBuildings(("B020",), "W1"), locked)
    with pytest.raises(ScenarioEditError, match="W3 is locked"):
        run(MoveBuildings(("B040",), "W2"), locked)


def test_move_compound_moves_all_its_buildings():
    result = run(MoveCompound("桂园", "W1"))
    assert members(result.plan, "W1") == column_cells(0, 1) | {"B020", "B021"}
    assert result.households_affected == 100
    assert result.what == "move compound 桂园 to W1"


def test_move_compound_unknown_name():
    with pytest.raises(ScenarioEditError, match=r"unknown compound '兰园'"):
        run(MoveCompound("兰园", "W1"))


def test_move_in_polygon_moves_the_buildings_inside():
    result = run(MoveInPolygon(polygon_around("B022", "B023"), "W1"))
    assert members(result.plan, "W1") == column_cells(0, 1) | {"B022", "B023"}
    assert result.what == "move 2 building(s) inside a drawn polygon to W1"


@pytest.mark.parametrize(
    ("wkt", "match"),
    [
        ("POLYGON ((1 2, 3", r"not valid WKT"),
        (
            "LINESTRING (121.5 29.9, 121.6 29.95)",
            r"expected a Polygon or MultiPolygon; found "
            "LineString",
        ),
        ("POLYGON ((0 0, 1 0, 1 1, 0 0))", r"no building lies inside the polygon"),
    ],
)
def test_move_in_polygon_refusals(wkt, match):
    with pytest.raises(ScenarioEditError, match=match):
        run(MoveInPolygon(wkt, "W1"))


def test_move_across_a_street_in_a_polygon_is_refused():
    wkt = polygon_around("B050", "B060")
    with pytest.raises(ScenarioEditError, match="across a 街道"):
        run(MoveInPolygon(wkt, "W3"))


def test_moving_buildings_that_cut_a_donor_grid_redraws_the_donors_grids():
    # W2's column 2 is one grid (B020–B023); taking B021 and B022 cuts it in two
    community, grid, ids = labels_from_columns(BASE_COLUMNS)
    district = lattice_district()
    for b, site in zip(district.buildings["building_id"], district.sites.of_building, strict=True):
        if b.startswith("B02"):
            grid[site] = 4
    plan = plan_from_labels(district, community, grid, community_ids=ids)
    result = run(MoveBuildings(("B021", "B022"), "W1"), plan)
    assert result.grids_redrawn == ("W2",)
    assert check_plan(result.plan, PARAMS).ok
    untouched = run(MoveBuildings(("B020", "B021"), "W1"))
    assert untouched.grids_redrawn == ()  # the whole grid (B020, B021) left: nothing cut


# ---------------------------------------------------------------------- locks, rename, regrid


def test_lock_and_unlock_are_logged_and_refused_twice():
    result = run(Lock(("W1", "E2")))
    plan = result.plan
    assert plan.locked[plan.label_of("W1")] and plan.locked[plan.label_of("E2")]
    assert result.before == "unlocked" and result.after == "locked"
    assert result.households_affected == 1000
    assert community_frame(plan)["locked"].tolist() == [False, True, True, False, False]
    with pytest.raises(ScenarioEditError, match=r"W1 is already locked"):
        run(Lock(("W1",)), plan)
    unlocked = run(Unlock(("W1",)), plan).plan
    assert not unlocked.locked[unlocked.label_of("W1")]
    with pytest.raises(ScenarioEditError, match=r"W2 is already unlocked"):
        run(Unlock(("W2",)), plan)
    with pytest.raises(ScenarioEditError, match="no community named"):
        run(Lock(()))
    with pytest.raises(ScenarioEditError, match="unknown community 'Q'"):
        run(Lock(("Q",)))


def test_rename_name_and_official_code():
    result = run(Rename("W1", name="西湖社区", new_id="330203001001"))
    plan = result.plan
    label = plan.label_of("330203001001")
    assert plan.community_names[label] == "西湖社区"
    assert "W1" not in plan.community_ids
    assert all(
        g.startswith("330203001001-")
        for g in np.asarray(plan.grid_ids)[np.unique(plan.site_grid[plan.site_community == label])]
    )
    assert result.before == "W1社区 / W1" and result.after == "西湖社区 / 330203001001"
    assert members(plan, "330203001001") == members(base_plan(), "W1")
    # a locked community can still be renamed
    locked = run(Lock(("W2",))).plan
    assert (
        run(Rename("W2", name="新名"), locked).plan.community_names[locked.label_of("W2")] == "新名"
    )


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (Rename("W1"), "nothing to rename"),
        (Rename("W1", name="  "), "the new name is empty"),
        (Rename("W1", name="W2社区"), r"the name 'W2社区' is already used by W2"),
        (Rename("W1", new_id="W2"), r"the id 'W2' is already used"),
        (Rename("W1", new_id="33 02"), r"empty or has spaces"),
    ],
)
def test_rename_refusals(edit, match):
    with pytest.raises(ScenarioEditError, match=match):
        run(edit)


def test_regrid_redraws_one_community_in_the_grid_band():
    result = run(Regrid("E1", seed=3))
    plan = result.plan
    label = plan.label_of("E1")
    assert plan.grid_count[label] == 6
    grids = np.unique(plan.site_grid[plan.site_community == label])
    assert ((plan.grid_households[grids] >= 80) & (plan.grid_households[grids] <= 120)).all()
    assert result.grids_redrawn == ("E1",)
    others = plan.site_community != label
    base = base_plan()
    assert (
        np.asarray(plan.grid_ids)[plan.site_grid[others]]
        == np.asarray(base.grid_ids)[base.site_grid[others]]
    ).all()
    with pytest.raises(ScenarioEditError, match="E1 is locked"):
        run(Regrid("E1"), run(Lock(("E1",))).plan)


# ---------------------------------------------------------------------- reoptimise


def test_reoptimise_redraws_what_is_not_locked():
    locked = run(Lock(("W1",))).plan
    result = run(Reoptimise(), locked)
    plan = result.plan
    assert members(plan, "W1") == members(base_plan(), "W1")
    # W2 + W3 hold 800 households: one community (round(800 / 600) = 1), keeping the id of
    # the old community it overlaps most (W2 and W3 tie: the first id)
    assert members(plan, "W2") == column_cells(2, 3, 4, 5)
    assert "W3" not in plan.community_ids
    assert plan.community_households[plan.label_of("W2")] == 800
    east = [c for c in plan.community_ids if c.startswith("E")]
    assert sum(plan.community_households[plan.label_of(c)] for c in east) == 1200
    assert check_plan(plan, PARAMS).ok


def test_reoptimise_one_street_leaves_the_other_as_it_is():
    result = run(Reoptimise(subdistricts=("西区",)))
    plan = result.plan
    for cid in ("E1", "E2"):
        assert members(plan, cid) == members(base_plan(), cid)
    west = [c for c in plan.community_ids if c.startswith("W")]
    assert sum(plan.community_households[plan.label_of(c)] for c in west) == 1200
    assert result.what == "re-optimise the communities not locked in 西区"
    assert result.before == "5 communities (3 to redraw)"
    with pytest.raises(ScenarioEditError, match=r"unknown 街道 北区; expected one of 西区, 东区"):
        run(Reoptimise(subdistricts=("北区",)))


def test_reoptimise_with_everything_locked_is_refused():
    everything = run(Lock(base_plan().community_ids)).plan
    with pytest.raises(ScenarioEditError, match="every community is locked"):
        run(Reoptimise(), everything)


# ---------------------------------------------------------------------- scenarios


def test_undo_and_redo_round_trip_to_the_identical_plan():
    base = base_plan()
    s = Scenario(base, params=PARAMS)
    s = s.push(SplitCommunity("E1", 2), author="amy")
    after_split = s.evaluate()
    s = s.push(MoveBuildings(("B020",), "W1"), author="amy")
    s = s.push(MergeCommunities("E2", "E1-2"), author="ben")
    final = s.evaluate()
    back = s.undo(3)
    assert back.evaluate() is base
    assert not back.can_undo and back.can_redo
    again = back.redo(3)
    assert again.evaluate() is final  # memoised: the very same plan
    assert np.array_equal(again.evaluate().site_community, final.site_community)
    middle = again.undo(2)
    assert np.array_equal(middle.evaluate().site_community, after_split.site_community)
    assert middle.evaluate().community_ids == after_split.community_ids
    # a fresh scenario with the same edits and stamps evaluates to equal arrays
    replay = Scenario(base, s.edits, params=PARAMS, stamps=s.stamps)
    assert replay.evaluate() is not final
    for name in ("site_community", "site_grid"):
        assert np.array_equal(getattr(replay.evaluate(), name), getattr(final, name))
    assert replay.evaluate().grid_ids == final.grid_ids
    assert replay.evaluate().log == final.log


def test_push_after_undo_drops_the_redo_tail():
    s = Scenario(base_plan(), params=PARAMS).push(Lock(("W1",))).push(Lock(("W2",)))
    s = s.undo().push(Lock(("W3",)))
    assert [e.ids for e in s.edits] == [("W1",), ("W3",)]
    assert not s.can_redo
    plan = s.evaluate()
    assert plan.locked[plan.label_of("W3")] and not plan.locked[plan.label_of("W2")]


def test_undo_and_redo_beyond_the_ends_are_refused():
    s = Scenario(base_plan(), params=PARAMS).push(Lock(("W1",)))
    with pytest.raises(ScenarioEditError, match=r"undo 2: refused, 1 edit\(s\) can be undone"):
        s.undo(2)
    with pytest.raises(ScenarioEditError, match=r"redo 1: refused, 0 undone edit"):
        s.redo()


def test_a_refused_push_leaves_the_scenario_unchanged():
    s = Scenario(base_plan(), params=PARAMS).push(Lock(("W1",)))
    with pytest.raises(ScenarioEditError, match="W1 is locked"):
        s.push(SplitCommunity("W1", 2))
    assert len(s.edits) == 1 and s.cursor == 1
    with pytest.raises(ScenarioEditError, match="expected an edit"):
        s.push("split W1")


def test_audit_log_records_author_time_and_households(tmp_path):
    s = Scenario(base_plan(), params=PARAMS)
    s = s.push(MoveCompound("桂园", "W1"), author="王工", time="2026-01-05T08:00:00+00:00")
    s = s.push(Rename("W1", name="西湖社区"), author="李工")
    log = s.evaluate().log
    assert [e.author for e in log] == ["王工", "李工"]
    assert log[0].time == "2026-01-05T08:00:00+00:00"
    assert log[1].time.endswith("+00:00")
    assert log[0].households_affected == 100
    assert log[0].from_ == "W1 (400), W2 (400)" and log[0].to == "W1 (500), W2 (300)"
    path = write_audit_csv(s.evaluate(), tmp_path / "audit.csv")
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert table.columns.tolist() == ["time", "author", "what", "from", "to", "households_affected"]
    assert table["what"].tolist() == ["move compound 桂园 to W1", "rename W1"]
    assert table["households_affected"].tolist() == [100, 500]
    # undone edits leave the log
    assert len(s.undo().evaluate().log) == 1


def test_edit_result_summary_and_apply_shortcut():
    result = run(MoveBuildings(("B020",), "W1"))
    text = result.summary()
    assert text.startswith("move 1 building(s) (B020) to W1: W1 (400), W2 (400) → ")
    assert "W2 W2社区: 350 households, 4 grids, below" in text
    plan = MoveBuildings(("B020",), "W1").apply(base_plan(), PARAMS)
    assert np.array_equal(plan.site_community, result.plan.site_community)
    assert (
        building_frame(plan)["community_id"].tolist()
        == building_frame(result.plan)["community_id"].tolist()
    )
