"""The Edit page does a planner's job in Chinese (streamlit's AppTest, the built-in sample at
10,000 households): moving a compound offers the communities it borders, results and refusals
come in the language chosen, the validity panel is measured on the plan after every edit (grids
out of band included), the communities an edit touched are re-gridded on a click or after
every edit, the panel stays on the tab used, and the history names edits without tuple reprs."""

from __future__ import annotations

import pytest
from app_support import new_app, open_page, texts
from streamlit.testing.v1 import AppTest

from geo.errors import ScenarioEditError
from planning.plans.scenario import MoveBuildings, MoveCompound, apply_edit
from ui import runs, state
from ui.pages import edit as edit_page
from ui.plan_views import building_targets, move_targets


def edit_page_with_plan() -> AppTest:
    at = new_app().run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    open_page(at, "edit")
    assert not at.exception
    return at


def current_view(at: AppTest):
    ref = at.session_state[state.PLAN_KEY]
    spec = at.session_state[state.SCENARIOS_KEY]["A"]
    return runs.plan_view(ref, spec)


def a_movable_compound(view, params) -> tuple[str, str, list[str]]:
    """(community, compound, where it can go): the largest compound that borders another
    community and can move to the first of them."""
    buildings = view.buildings[view.buildings["compound"].notna()]
    sizes = buildings.groupby(["community_id", "compound"])["households"].sum()
    for (cid, compound), _ in sizes.sort_values(ascending=False).items():
        targets = move_targets(view.plan, str(cid), str(compound))
        if not targets:
            continue
        try:
            apply_edit(view.plan, MoveCompound(str(compound), targets[0]), params=params)
        except ScenarioEditError:
            continue
        return str(cid), str(compound), targets
    pytest.skip("no compound can move to a community it borders")


def split_first(at: AppTest) -> None:
    """Split C001 in two (at 10,000 households every community is alone in its 街道)."""
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C001").run()
    at.number_input(key="edit_split_k").set_value(2)
    at.button(key="edit_split").click().run()
    assert not at.error


def choose_compound(at: AppTest) -> tuple[str, str, list[str]]:
    split_first(at)
    ref = at.session_state[state.PLAN_KEY]
    cid, compound, targets = a_movable_compound(current_view(at), ref.params)
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value(cid).run()
    at.selectbox(key="edit_compound").set_value(compound).run()
    return cid, compound, targets


def test_the_move_list_offers_the_communities_the_compound_borders():
    at = edit_page_with_plan()
    _cid, compound, targets = choose_compound(at)
    shown = at.selectbox(key="edit_compound_to").options
    assert [label.split(" · ")[0] for label in shown] == targets
    at.session_state[edit_page.TAB_KEY] = "移动"
    at.button(key="edit_move_compound").click().run()
    assert not at.exception and not at.error
    spec = at.session_state[state.SCENARIOS_KEY]["A"]
    assert spec.edits[1:] == (MoveCompound(compound, targets[0]),)
    assert any(f"把小区 {compound} 移到 {targets[0]}" in s for s in texts(at.success))
    assert not any("households" in s or "refused" in s for s in texts(at.success))
    assert at.session_state[edit_page.TAB_KEY] == "移动"  # the panel stays on its tab


def test_a_refusal_in_chinese_and_in_english():
    far = "POLYGON ((100 30, 100.01 30, 100.01 30.01, 100 30))"
    at = edit_page_with_plan()
    at.session_state[edit_page.POLYGON_KEY] = far
    at.run()
    at.button(key="edit_move_polygon").click().run()
    assert any("圈选范围内没有楼栋" in e for e in texts(at.error))
    assert not any("refused" in e for e in texts(at.error))
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert any("no building lies inside the polygon" in e for e in texts(at.error))


def test_the_validity_panel_lists_grids_out_of_band_after_an_edit():
    at = edit_page_with_plan()
    choose_compound(at)
    at.button(key="edit_move_compound").click().run()
    view = current_view(at)
    lower, upper = view.check.grid_band
    households = view.grids["households"].to_numpy(dtype=float)
    out = int(((households < lower) | (households > upper)).sum())
    validity = at.dataframe[1].value
    kinds = validity.iloc[:, 0].tolist()
    assert kinds.count("网格户数超出区间") == out
    assert "无法满足" not in kinds  # the engine's units describe the proposal, not the edit


def test_regrid_the_communities_an_edit_touched_on_a_click_and_after_every_edit():
    at = edit_page_with_plan()
    choose_compound(at)
    at.button(key="edit_move_compound").click().run()
    touched = at.session_state[edit_page.TOUCHED_KEY]
    assert len(touched) == 2  # the compound's community and the one it joined
    at.button(key="edit_regrid_touched").click().run()
    assert not at.exception and not at.error
    spec = at.session_state[state.SCENARIOS_KEY]["A"]
    assert [type(e).__name__ for e in spec.edits] == [
        "SplitCommunity",
        "MoveCompound",
        "Regrid",
        "Regrid",
    ]
    assert {e.community_id for e in spec.edits[2:]} == set(touched)
    assert at.button(key="edit_regrid_touched").disabled

    again = edit_page_with_plan()
    again.checkbox(key=edit_page.AUTO_REGRID_KEY).check().run()
    choose_compound(again)
    again.button(key="edit_move_compound").click().run()
    spec = again.session_state[state.SCENARIOS_KEY]["A"]
    assert [type(e).__name__ for e in spec.edits] == [
        "SplitCommunity",
        "MoveCompound",
        "Regrid",
        "Regrid",
    ]
    assert sum("重划" in s for s in texts(again.success)) == 1


def test_a_merge_out_of_band_warns_and_the_history_has_no_tuples():
    at = edit_page_with_plan()
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C001").run()
    at.number_input(key="edit_split_k").set_value(3)
    at.button(key="edit_split").click().run()
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C001").run()
    other = at.selectbox(key="edit_merge_with").options[0].split(" · ")[0]
    at.session_state[edit_page.TAB_KEY] = "合并"
    at.button(key="edit_merge").click().run()
    assert not at.error
    assert at.session_state[edit_page.TAB_KEY] == "合并"
    warnings = texts(at.warning)
    assert any("C001 有" in w and "户的范围" in w for w in warnings)  # out of band, in Chinese
    at.button(key="edit_lock").click().run()
    history = at.dataframe[-1].value
    what = history["操作"].tolist()
    assert what == ["拆分 C001 为 3 个", f"把 {other} 并入 C001", "锁定 C001"]
    assert (history["涉及户数"].to_numpy() > 0).all()


def test_choosing_a_community_in_the_list_pans_the_map_to_it():
    at = edit_page_with_plan()
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C002").run()
    assert at.session_state[edit_page.FOCUS_KEY] == {"ids": ("C002",), "bounds": None}


def test_a_building_clicked_on_the_map_moves_to_a_community_it_borders():
    at = edit_page_with_plan()
    split_first(at)
    ref = at.session_state[state.PLAN_KEY]
    view = current_view(at)
    mine = view.buildings[view.buildings["community_id"] == "C001"]
    for building in mine["building_id"].astype(str):
        targets = building_targets(view.plan, building)
        if not targets:
            continue
        try:
            apply_edit(view.plan, MoveBuildings((building,), targets[0]), params=ref.params)
        except ScenarioEditError:
            continue
        break
    else:
        pytest.skip("no building of C001 can move")
    at.session_state[edit_page.MAP_KEY] = {
        "last_active_drawing": {
            "properties": {"community_id": "C001", "grid_id": None, "building_id": building}
        }
    }
    at.session_state[edit_page.BUILDING_KEY] = building  # what _on_map keeps of the click
    at.session_state[edit_page.TAB_KEY] = "移动"
    at.run()
    shown = at.selectbox(key="edit_building_to").options
    assert [label.split(" · ")[0] for label in shown] == targets
    at.button(key="edit_move_building").click().run()
    assert not at.error
    spec = at.session_state[state.SCENARIOS_KEY]["A"]
    assert spec.edits[-1] == MoveBuildings((building,), targets[0])
    assert any(f"把 1 栋楼（{building}）移到 {targets[0]}" in s for s in texts(at.success))


def map_place(at: AppTest) -> tuple[int, ...]:
    """Where the map (the page's one custom component) is in the page's element tree."""

    def find(node, path):
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for index, child in children.items():
                found = find(child, (*path, index))
                if found is not None:
                    return found
        elif getattr(node, "type", None) == "component_instance":
            return path
        return None

    place = find(at._tree, ())
    assert place is not None, "no map on the page"
    return place


def test_the_map_keeps_its_place_through_an_edit_a_refusal_and_the_next_run():
    """The browser mounts a new map when the map's place in the page changes: an edit (its
    callback), a message shown or gone must not move it (st_folium would draw it again)."""
    at = edit_page_with_plan()
    place = map_place(at)
    split_first(at)
    assert map_place(at) == place
    at.run()  # the run after the edit, e.g. a click on the map
    assert map_place(at) == place
    at.session_state[edit_page.POLYGON_KEY] = "POLYGON ((100 30, 100.01 30, 100.01 30.01, 100 30))"
    at.run()
    at.button(key="edit_move_polygon").click().run()
    assert at.error
    assert map_place(at) == place
