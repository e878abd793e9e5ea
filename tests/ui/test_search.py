"""Searching a plan by name (ui/search.py): communities by id or name, compounds, buildings;
the closest first; the bounds to zoom to.

The fixture: two communities side by side, three buildings::

    C1 东风社区            C2 西湖社区
    B1 (丽晶国际, 30)      B3 (丽晶国际, 50)   ← the compound lies across both: C2 holds more
    B2 (no compound, 10)
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from app_support import new_app, open_page, texts

from ui import runs, state
from ui.pages import edit as edit_page
from ui.search import SearchHit, hit_bounds, search_plan


@pytest.fixture
def frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["东风社区", "西湖社区"]},
        geometry=[
            shapely.box(121.0, 29.0, 121.01, 29.01),
            shapely.box(121.01, 29.0, 121.02, 29.01),
        ],
        crs="EPSG:4326",
    )
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3"],
            "compound": ["丽晶国际", None, "丽晶国际"],
            "households": [30, 10, 50],
            "community_id": ["C1", "C1", "C2"],
        },
        geometry=shapely.points([(121.005, 29.005), (121.006, 29.004), (121.015, 29.005)]),
        crs="EPSG:4326",
    )
    return communities, buildings


def test_a_community_by_its_name_or_id(frames):
    communities, buildings = frames
    assert search_plan(communities, buildings, "西湖") == [
        SearchHit("community", "C2", "西湖社区", "C2")
    ]
    hits = search_plan(communities, buildings, "c1")  # case folded
    assert [(h.kind, h.key) for h in hits] == [("community", "C1")]


def test_a_compound_points_to_the_community_holding_most_of_it(frames):
    communities, buildings = frames
    assert search_plan(communities, buildings, "丽晶") == [
        SearchHit("compound", "丽晶国际", "", "C2")
    ]


def test_exact_first_then_start_then_inside_and_the_limit(frames):
    communities, buildings = frames
    hits = search_plan(communities, buildings, "B")
    assert [h.key for h in hits] == ["B1", "B2", "B3"]
    assert [h.community_id for h in hits] == ["C1", "C1", "C2"]
    assert [h.key for h in search_plan(communities, buildings, "b2")] == ["B2"]
    assert len(search_plan(communities, buildings, "B", limit=2)) == 2
    # "C1" is exact for the community, and also inside nothing else; "社区" is inside both names
    assert [h.key for h in search_plan(communities, buildings, "社区")] == ["C1", "C2"]


def test_blank_or_unknown_finds_nothing(frames):
    communities, buildings = frames
    assert search_plan(communities, buildings, "   ") == []
    assert search_plan(communities, buildings, "不存在") == []
    assert search_plan(communities, buildings, "(") == []  # not a pattern


def test_bounds_to_zoom_to(frames):
    communities, buildings = frames
    assert hit_bounds(SearchHit("community", "C2", "", "C2"), communities, buildings) == (
        pytest.approx((121.01, 29.0, 121.02, 29.01))
    )
    west, south, east, north = hit_bounds(
        SearchHit("building", "B2", "", "C1"), communities, buildings
    )
    assert west < 121.006 < east and south < 29.004 < north
    assert east - west == pytest.approx(0.002)
    west, _s, east, _n = hit_bounds(
        SearchHit("compound", "丽晶国际", "", "C2"), communities, buildings
    )
    assert west < 121.005 and east > 121.015  # both of its buildings
    assert hit_bounds(SearchHit("building", "B9", "", "C1"), communities, buildings) is None


# ---------------------------------------------------------------------------------------------
# The search box on the Edit and 方案 pages (AppTest, the built-in sample at 10,000 households)


def test_the_search_box_zooms_to_a_community_and_readies_a_building_to_move():
    at = new_app().run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    at.text_input(key="propose_search").input("C002").run()
    assert not at.exception
    found = at.selectbox(key="propose_search_hit")
    assert found.options[0].startswith("社区 C002 · ")
    open_page(at, "edit")
    at.text_input(key=edit_page.SEARCH_KEY).input("c002").run()
    hits = at.selectbox(key=edit_page.SEARCH_HIT_KEY)
    assert hits.value is None and hits.options[0].startswith("社区 C002 · ")
    hits.select_index(0).run()
    assert not at.exception
    assert at.session_state[edit_page.COMMUNITY_KEY] == "C002"
    focus = at.session_state[edit_page.FOCUS_KEY]
    assert focus["ids"] == ("C002",) and len(focus["bounds"]) == 4

    view = runs.plan_view(
        at.session_state[state.PLAN_KEY], at.session_state[state.SCENARIOS_KEY]["A"]
    )
    building = str(view.buildings["building_id"].iloc[-1])
    at.text_input(key=edit_page.SEARCH_KEY).input(building).run()
    at.selectbox(key=edit_page.SEARCH_HIT_KEY).select_index(0).run()
    assert at.session_state[edit_page.BUILDING_KEY] == building
    assert at.session_state[edit_page.COMMUNITY_KEY] == view.buildings["community_id"].iloc[-1]
    assert at.session_state[edit_page.TAB_KEY] == "移动"
    west, south, east, north = at.session_state[edit_page.FOCUS_KEY]["bounds"]
    point = view.buildings.geometry.iloc[-1]
    assert west < point.x < east and south < point.y < north

    at.text_input(key=edit_page.SEARCH_KEY).input("没有这个地方").run()
    assert any("没有找到“没有这个地方”" in c for c in texts(at.caption))
