"""The plan pages in streamlit's AppTest: Propose, Edit, Standards, Compare, Export.

Each test starts the app on the built-in sample at 10,000 households (GCJ-02), opens a page
with ``switch_page`` and drives it by widget keys. The proposal is cached per process
(``st.cache_resource``), so only the first test pays for the engine run. Bad input — data the
validator refuses, a streets layer that misses the households, a broken standards file, a
refused edit — must show the library's message as an error, never an exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_support import SAMPLE_HOUSEHOLDS, metrics, new_app, open_page, texts
from streamlit.testing.v1 import AppTest

from ui import loading, state
from ui.pages import edit as edit_page

BROKEN_CSV = "经度,纬度,户数\n121.54,29.87,12\n121.55,abc,8\n"


def with_plan(**session: object) -> AppTest:
    """The app with a proposal made on the Propose page."""
    at = new_app(**session).run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    return at


# ---------------------------------------------------------------------------------------------
# Propose


def test_propose_asks_for_a_run_first():
    at = new_app().run()
    open_page(at, "propose")
    assert not at.exception
    assert at.title[0].value == "方案"
    assert "设置参数后点击“生成方案”。八万户约需十秒。" in texts(at.info)
    assert at.number_input(key="propose_community_size").value == 2500


def test_propose_draws_a_plan_with_metrics_and_infeasible_units():
    at = with_plan()
    assert not at.error
    shown = metrics(at)
    assert int(shown["社区数"]) >= 3
    assert shown["户数达标社区"].endswith("%")
    assert int(shown["网格数"]) > int(shown["社区数"])
    assert len(at.dataframe) >= 2  # the metrics table and the communities table
    assert isinstance(at.session_state[state.PLAN_KEY], state.PlanRef)
    assert at.session_state[state.SCENARIOS_KEY] == {"A": state.ScenarioSpec()}
    body = "\n".join(texts(at.markdown))
    assert "小区" in body or "街道" in body  # the infeasible units, explained in Chinese


def test_propose_uses_the_parameters():
    at = new_app().run()
    open_page(at, "propose")
    at.number_input(key="propose_community_size").set_value(1000)
    at.number_input(key="propose_max_grids").set_value(6)
    at.button(key="propose_run").click().run()
    assert not at.exception
    ref = at.session_state[state.PLAN_KEY]
    assert ref.params.community_size == 1000 and ref.params.max_grids == 6
    assert int(metrics(at)["社区数"]) >= 8


def test_propose_refuses_data_that_fails_validation(tmp_path):
    path = tmp_path / "坏.csv"
    path.write_text(BROKEN_CSV, encoding="utf-8")
    at = new_app(**{state.SOURCE_KEY: loading.source_for_path(path, crs="gcj02")}).run()
    open_page(at, "propose")
    assert not at.exception
    assert any("坏.csv" in e and "未通过校验" in e for e in texts(at.error))


def test_propose_shows_the_engine_message_for_a_streets_layer_that_misses(tmp_path):
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    far = tmp_path / "streets.geojson"
    far.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "远处街道"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[100.0, 30.0], [100.01, 30.0], [100.01, 30.01], [100.0, 30.0]]
                            ],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    source = loading.source_for_path(files["households"], crs="gcj02", layers={"streets": far})
    at = new_app(**{state.SOURCE_KEY: source}).run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert any("栋楼不在任何街道范围内" in e for e in errors)
    assert not at.metric


def test_propose_in_english():
    at = with_plan()
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Propose"
    assert {"Communities", "Grids", "Communities in band"} <= set(metrics(at))


@pytest.mark.parametrize("page", ["edit", "standards", "compare", "export"])
def test_plan_pages_without_a_plan_point_to_propose(page):
    at = new_app().run()
    open_page(at, page)
    assert not at.exception
    assert not at.error
    assert any("还没有划分方案" in i for i in texts(at.info))


# ---------------------------------------------------------------------------------------------
# Edit


def test_split_undo_and_redo_on_the_edit_page():
    at = with_plan()
    open_page(at, "edit")
    assert not at.exception
    before = int(metrics(at)["社区数"])
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C002").run()
    at.number_input(key="edit_split_k").set_value(2)
    at.button(key="edit_split").click().run()
    assert not at.exception
    assert not at.error
    assert any("拆分 C002 为 2 个" in s for s in texts(at.success))
    assert int(metrics(at)["社区数"]) == before + 1
    spec = at.session_state[state.SCENARIOS_KEY]["A"]
    assert spec.cursor == 1 and type(spec.edits[0]).__name__ == "SplitCommunity"
    table = at.dataframe[0].value
    assert "C002-2" in set(table["社区代码"])
    at.button(key="edit_undo").click().run()
    assert int(metrics(at)["社区数"]) == before
    at.button(key="edit_redo").click().run()
    assert int(metrics(at)["社区数"]) == before + 1
    assert at.session_state[state.SCENARIOS_KEY]["A"].cursor == 1


def test_a_refused_edit_shows_the_reason():
    far = "POLYGON ((100 30, 100.01 30, 100.01 30.01, 100 30))"
    at = with_plan()
    open_page(at, "edit")
    at.session_state[edit_page.POLYGON_KEY] = far
    at.run()
    at.button(key="edit_move_polygon").click().run()
    assert not at.exception
    assert any("圈选范围内没有楼栋" in e for e in texts(at.error))  # the refusal in Chinese
    assert at.session_state[state.SCENARIOS_KEY]["A"].cursor == 0


def test_lock_then_reoptimise_keeps_the_locked_community():
    at = with_plan()
    open_page(at, "edit")
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C001").run()
    at.button(key="edit_lock").click().run()
    assert not at.exception
    assert metrics(at)["已锁定"] == "1"
    assert at.button(key="edit_split").disabled
    at.button(key="edit_reoptimise").click().run()
    assert not at.exception
    assert not at.error
    spec = at.session_state[state.SCENARIOS_KEY]["A"]
    # the plan drawn again comes out as it was: not an edit
    assert [type(e).__name__ for e in spec.edits] == ["Lock"]
    assert any("未计为一次编辑" in i for i in texts(at.info))
    validity = at.dataframe[1].value
    assert "C001" in set(validity.iloc[:, 1])  # the locked community is listed


def test_a_new_scenario_copies_the_edits():
    at = with_plan()
    open_page(at, "edit")
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C003").run()
    at.button(key="edit_regrid").click().run()
    at.button(key="edit_new_scenario").click().run()
    assert not at.exception
    every = at.session_state[state.SCENARIOS_KEY]
    assert list(every) == ["A", "B"] and every["B"].cursor == 1
    assert at.session_state[state.ACTIVE_SCENARIO_KEY] == "B"


def test_the_edit_page_in_english():
    at = with_plan()
    open_page(at, "edit")
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Edit"
    assert {"Communities", "Locked", "Hard-rule violations"} <= set(metrics(at))


# ---------------------------------------------------------------------------------------------
# Standards, Compare, Export


def test_standards_page_checks_the_plan():
    at = with_plan()
    open_page(at, "standards")
    assert not at.exception
    assert not at.error
    shown = metrics(at)
    failing, total = (int(v) for v in shown["面积不足的社区"].split(" / "))
    assert 0 <= failing <= total
    assert len(at.dataframe) == 2  # suggested sites and the compliance table
    assert "社区代码" in at.dataframe[1].value.columns


def test_standards_page_shows_every_problem_of_a_bad_toml(tmp_path):
    bad = tmp_path / "我的标准.toml"
    bad.write_text('name = "x"\ntitle = "x"\n[area]\nrate_m2_per_100_households = "thirty"\n')
    at = with_plan()
    at.session_state[state.STANDARD_FILE_KEY] = loading.file_ref(bad)
    at.session_state[state.STANDARD_KEY] = state.CUSTOM_STANDARD
    open_page(at, "standards")
    assert not at.exception
    errors = texts(at.error)
    assert any("我的标准.toml" in e and "rate_m2_per_100_households" in e for e in errors)
    # each problem in its own box, in the page's language, named by the file's own name
    problem = "键 area.rate_m2_per_100_households：不是数字"
    assert any("我的标准.toml" in e and problem in e for e in errors)
    assert not at.metric


def test_standards_page_applies_an_edited_toml():
    at = with_plan()
    open_page(at, "standards")
    at.text_area(key="standards_toml").set_value("this is = = not toml")
    at.button(key="standards_apply").click().run()
    assert not at.exception
    assert any("标准文件不是有效的 TOML" in e for e in texts(at.error))
    assert at.session_state[state.STANDARD_KEY] == state.CUSTOM_STANDARD


def test_compare_page_after_a_split():
    at = with_plan()
    open_page(at, "edit")
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value("C002").run()
    at.button(key="edit_split").click().run()
    open_page(at, "compare")
    assert not at.exception
    shown = metrics(at)
    assert int(shown["更换社区的户数"].replace(",", "")) > 0
    assert shown["易手区域"] == "1"
    assert len(at.dataframe) == 2  # metrics and the areas that changed hands


def test_compare_page_with_identical_plans():
    at = with_plan()
    open_page(at, "compare")
    assert not at.exception
    assert "两个方案的社区划分相同。" in texts(at.success)


def test_export_page_offers_every_file():
    at = with_plan()
    open_page(at, "export")
    assert not at.exception
    keys = {b.key for b in at.get("download_button")}
    assert {
        "export_communities_geojson",
        "export_grids_geojson",
        "export_households_csv",
        "export_gpkg",
        "export_communities_shp",
        "export_grids_shp",
        "export_compliance_csv",
        "export_report_html",
        "export_project",
        "export_audit",
    } <= keys
    at.radio(key=state.widget_key_for("export_crs", "zh")).set_value("zone").run()
    assert not at.exception
    assert at.session_state["export_crs"] == "zone"


def test_a_standards_file_past_the_bound_is_refused_with_a_message():
    at = with_plan()
    open_page(at, "standards")
    at.text_area(key="standards_toml").set_value("# " + "x" * (1024 * 1024))
    at.button(key="standards_apply").click().run()
    assert not at.exception
    assert any("标准文件最大 1,024 KB" in e for e in texts(at.error))
    assert at.session_state[state.STANDARD_KEY] != state.CUSTOM_STANDARD


def test_the_custom_standard_is_kept_across_pages(tmp_path):
    good = tmp_path / "本区标准.toml"
    good.write_text(
        (Path(__file__).resolve().parents[2] / "data" / "standards" / "national-2021.toml")
        .read_text(encoding="utf-8")
        .replace("rate_m2_per_100_households = 30", "rate_m2_per_100_households = 40"),
        encoding="utf-8",
    )
    at = with_plan()
    at.session_state[state.STANDARD_FILE_KEY] = loading.file_ref(good)
    at.session_state[state.STANDARD_KEY] = state.CUSTOM_STANDARD
    open_page(at, "propose")
    open_page(at, "standards")
    assert not at.exception and not at.error
    assert at.session_state[state.STANDARD_KEY] == state.CUSTOM_STANDARD
    assert metrics(at)["应配面积"].startswith("4,000")  # 40 m² per 100 of 10,000 households


@pytest.mark.parametrize("basemap", ["amap", "tianditu"])
def test_the_edit_page_on_other_basemaps(basemap):
    at = with_plan(**{state.BASEMAP_KEY: basemap})
    open_page(at, "edit")
    assert not at.exception
    warnings = texts(at.warning)
    assert any("no Tianditu key" in w for w in warnings) == (basemap == "tianditu")
