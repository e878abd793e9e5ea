"""Starting from today's 社区 in streamlit's AppTest: the 现状社区 page, rebalancing, comparing.

The built-in sample at 10,000 households carries five existing communities
(``communities.geojson``): two oversized (2,796 and 3,084 households against 2,250–2,750),
three undersized (1,048, 1,261 and 1,811). The page shows them against the band, rebalances
them (the two clearly small ones in 北岸街道 merge; 1,811 is not clearly small and is kept)
and the result becomes the plan of every page; the Compare page offers the existing
communities as a side.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from app_support import metrics, new_app, open_page, texts

from planning.plans.project import load_plan
from ui import loading, project_panel, projects, runs, state
from ui.pages import compare as compare_page

BAND_COLUMNS = ["社区代码", "名称", "街道", "户数", "楼栋数", "规模", "超出区间（户）"]


def _table(at, index: int = 0) -> pd.DataFrame:
    value = at.dataframe[index].value
    return value.data if hasattr(value, "data") else value


def _rebalanced():
    at = new_app().run()
    open_page(at, "existing")
    at.button(key="existing_rebalance").click().run()
    assert not at.exception, at.exception
    return at


def test_the_data_page_links_to_the_existing_communities():
    at = new_app().run()
    assert not at.exception, at.exception
    links = [str(link.proto.page) for link in at.get("page_link")]
    assert "existing" in links


def test_existing_page_shows_each_community_against_the_band():
    at = new_app().run()
    open_page(at, "existing")
    assert not at.exception, at.exception
    assert at.title[0].value == "现状社区"
    shown = metrics(at)
    assert shown["现状社区数"] == "5"
    assert shown["在区间内"] == "0"
    assert shown["偏大"] == "2"
    assert shown["偏小"] == "3"
    assert shown["不在任何社区内的户数"] == "0"
    table = _table(at)
    assert list(table.columns) == BAND_COLUMNS
    rows = dict(zip(table["名称"], zip(table["户数"], table["规模"], strict=True), strict=True))
    assert rows["康桥社区"] == (2796, "偏大")
    assert rows["海漕社区"] == (1048, "偏小")
    assert table["户数"].sum() == 10_000
    off = dict(zip(table["名称"], table["超出区间（户）"], strict=True))
    assert off["康桥社区"] == 46 and off["海漕社区"] == 1048 - 2250


def test_the_band_follows_the_parameters():
    at = new_app().run()
    open_page(at, "existing")
    at.number_input(key="propose_community_size").set_value(2000)
    at.number_input(key="propose_tolerance_pct").set_value(50)
    at.run()
    assert not at.exception, at.exception
    assert metrics(at)["在区间内"] == "4"  # 1,000–3,000: all but 3,084
    assert "1,000–3,000" in " ".join(texts(at.caption))


def test_rebalance_reports_in_chinese_and_becomes_the_plan():
    at = _rebalanced()
    ref = at.session_state[state.PLAN_KEY]
    assert ref.rebalance == state.RebalanceRef(small_margin=0.2)
    assert at.session_state[state.SCENARIOS_KEY] == {"A": state.ScenarioSpec()}
    shown = metrics(at)
    assert shown["稳定性"] == "89.5%"
    assert shown["社区数（调整前 → 后）"] == "5 → 4"
    assert shown["合并"] == "1" and shown["拆分"] == "0" and shown["新建"] == "0"
    body = "\n".join(texts(at.markdown))
    assert (
        "合并：海漕社区（330203002001）、庆塘社区（330203002002） → 庆塘社区（330203002002）"
        in body
    )
    assert "原样保留 3 个" in body
    assert "仍不在区间内" in body and "一社多站" in body  # the library's reasons, in Chinese
    assert "调整后的方案已成为当前方案" in " ".join(texts(at.success))


def test_rebalance_reports_in_english_on_the_switch():
    at = new_app(**{state.LANG_KEY: "en"}).run()
    open_page(at, "existing")
    at.button(key="existing_rebalance").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["Stability"] == "89.5%"
    body = "\n".join(texts(at.markdown))
    assert "Merged: " in body and "Still outside the band" in body


def test_the_rebalanced_plan_is_the_plan_of_edit_and_export():
    at = _rebalanced()
    open_page(at, "propose")
    assert not at.exception, at.exception
    assert metrics(at)["社区数"] == "4"
    open_page(at, "standards")
    assert not at.exception, at.exception
    open_page(at, "edit")
    assert not at.exception, at.exception
    assert metrics(at)["社区数"] == "4"
    open_page(at, "export")
    assert not at.exception, at.exception
    ref = at.session_state[state.PLAN_KEY]
    view = runs.plan_view(ref, None)
    assert "330203001001" in set(view.communities["community_id"])  # kept ids survive
    assert "330203002001" not in set(view.communities["community_id"])  # merged away


def test_the_rebalanced_plan_saves_into_a_project(tmp_path, monkeypatch):
    path = tmp_path / "现状调整.gpkg"
    at = _rebalanced()
    open_page(at, "data")
    monkeypatch.setenv(projects.PROJECTS_ENV, str(tmp_path))
    at.text_input(key=project_panel.NEW_NAME_KEY).input(path.stem)
    at.text_input(key=project_panel.SAVE_NAME_KEY).input("现状调整")
    at.button(key=project_panel.CREATE_KEY).click().run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    stored = load_plan(path, "现状调整")
    assert sorted(stored.community_ids) == sorted(
        ["330203001001", "330203002002", "330203003001", "330203004001"]
    )


def test_compare_offers_the_existing_communities():
    at = _rebalanced()
    open_page(at, "compare")
    assert not at.exception, at.exception
    assert at.selectbox(key="compare_a").value == compare_page.EXISTING
    assert at.selectbox(key="compare_b").value == "A"
    shown = metrics(at)
    assert shown["社区代码改变的户数"] == f"{10_000 - 8_952:,}"
    assert int(shown["更换社区的户数"].replace(",", "")) > 0
    table = _table(at, 0)
    assert list(table.columns)[1:3] == ["现状社区", "方案 A"]
    assert table.iloc[0, 1:3].tolist() == ["5", "4"]  # communities before and after
    grids = table[table["指标"] == "网格 · 数量"].iloc[0]
    assert grids["现状社区"] == "—" and grids["差值（B − A）"] == "—"  # no grids today
    assert not at.error


def test_a_proposal_compares_with_the_existing_communities():
    at = new_app().run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    open_page(at, "compare")
    assert at.selectbox(key="compare_a").value != compare_page.EXISTING
    at.selectbox(key="compare_a").set_value(compare_page.EXISTING).run()
    assert not at.exception, at.exception
    assert not at.error
    assert "社区代码改变的户数" in metrics(at)
    assert len(at.dataframe) >= 1


@pytest.fixture
def sample_files():
    return loading.sample_files(10_000, 0)


def test_uploading_existing_communities_to_data_without_them(tmp_path, sample_files):
    """Households alone, then their communities opened on the page (GeoJSON, GCJ-02)."""
    source = loading.source_for_path(sample_files["households"], crs="gcj02")
    at = new_app(**{state.SOURCE_KEY: source}).run()
    open_page(at, "existing")
    assert not at.exception, at.exception
    assert any("没有现状社区边界" in s for s in texts(at.info))
    path = tmp_path / "现状社区.geojson"
    data = json.loads(Path(sample_files["communities"]).read_text(encoding="utf-8"))
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    ref = loading.file_ref(path)
    at.session_state[state.SOURCE_KEY] = dataclasses.replace(source, layers=(("communities", ref),))
    at.run()
    assert not at.exception, at.exception
    assert metrics(at)["现状社区数"] == "5"
