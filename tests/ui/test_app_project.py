"""The Data page's project file section in streamlit's AppTest: create, save, open, load, edit.

The app runs on the built-in sample at 10,000 households, as in ``test_app_plan_pages``. A
project is created and a scenario saved through the page (the path typed into its text input:
AppTest cannot drive a file uploader, and the upload ends in the same loader), opened again by
path, its scenarios listed, one loaded and edited on the Edit page. A file that is not a project,
a missing path and a save over a scenario someone else saved since must each show a message,
never an exception.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from app_support import SAMPLE_HOUSEHOLDS, metrics, new_app, open_page, texts
from streamlit.testing.v1 import AppTest

from planning.plans.plan import plan_from_proposal
from planning.plans.project import (
    create_project,
    list_scenarios,
    load_plan,
    save_scenario,
)
from planning.runs import run_propose
from ui import loading, project_panel, projects, state
from ui.pages import edit as edit_page


def scenario_table(at: AppTest):
    tables = [d.value for d in at.dataframe if "版本" in d.value.columns]
    assert tables, "the scenarios of the project are not listed"
    return tables[0]


@pytest.fixture(autouse=True)
def projects_folder(tmp_path, monkeypatch) -> Path:
    """Each test's own projects folder: its ``tmp_path``."""
    monkeypatch.setenv(projects.PROJECTS_ENV, str(tmp_path))
    return tmp_path


def open_by_path(at: AppTest, path: Path) -> AppTest:
    """Open ``path`` as the project panel does: chosen in the projects folder (copied there
    first when it is elsewhere)."""
    folder = projects.projects_folder()
    if path.parent.resolve() != folder:
        shutil.copyfile(path, folder / path.name)
    at.run()  # the listing of the folder is drawn anew
    at.selectbox(key=project_panel.CHOICE_KEY).set_value(path.name)
    at.button(key=project_panel.OPEN_KEY).click().run()
    return at


def create_named(at: AppTest, path: Path) -> None:
    """Type the name of a new project at ``path`` (in the projects folder)."""
    assert path.parent.resolve() == projects.projects_folder()
    at.text_input(key=project_panel.NEW_NAME_KEY).input(path.stem)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project of the 10,000-household sample with scenario 方案一 (the proposal, saved by
    李四), made with the library."""
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    run = run_propose(
        files["households"],
        crs=loading.SAMPLE_CRS,
        subdistricts_path=files["streets"],
        barriers_path=files["barriers"],
    )
    plan = plan_from_proposal(run.proposal)
    path = tmp_path_factory.mktemp("project") / "海曙区.gpkg"
    create_project(
        path,
        buildings=plan.district.buildings,
        metric_crs=plan.district.metric_crs,
        subdistricts=run.subdistricts,
        barriers=run.barriers,
    )
    save_scenario(path, "方案一", plan, author="李四")
    return path


def loaded(project: Path, scenario: str = "方案一") -> AppTest:
    """The app with ``scenario`` of ``project`` opened by path and loaded."""
    at = new_app().run()
    open_by_path(at, project)
    assert not at.exception
    at.selectbox(key=project_panel.SCENARIO_KEY).set_value(scenario)
    at.button(key=project_panel.LOAD_KEY).click().run()
    assert not at.exception
    return at


# ---------------------------------------------------------------------------------------------
# Create, save, open, load, edit — all through the pages


def test_create_a_project_save_open_it_by_path_and_edit_the_stored_plan(tmp_path):
    path = tmp_path / "新项目.gpkg"
    at = new_app().run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    open_page(at, "data")
    assert not at.exception
    create_named(at, path)
    at.text_input(key=project_panel.SAVE_NAME_KEY).input("方案一")
    at.text_input(key="project_author").input("张三")
    at.button(key="project_create").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert any("已新建项目文件 新项目.gpkg" in s and "第 1 版" in s for s in texts(at.success))
    saved = list_scenarios(path)
    assert saved["name"].tolist() == ["方案一"]
    assert saved["author"].tolist() == ["张三"] and saved["revision"].tolist() == [1]
    assert at.session_state[state.AUTHOR_KEY] == "张三"

    fresh = new_app().run()
    open_by_path(fresh, path)
    assert not fresh.exception
    assert not fresh.error, texts(fresh.error)
    assert any("已打开项目文件 新项目.gpkg，其中有 1 个方案" in s for s in texts(fresh.success))
    table = scenario_table(fresh)
    assert table["方案"].tolist() == ["方案一"]
    assert table["编辑人"].tolist() == ["张三"]
    assert table["版本"].tolist() == [1]
    assert table["修改时间"].iloc[0].endswith("UTC")

    fresh.button(key=project_panel.LOAD_KEY).click().run()
    assert not fresh.exception
    assert any("已载入方案 方案一（第 1 版" in s for s in texts(fresh.success))
    ref = fresh.session_state[state.PLAN_KEY]
    assert ref.stored is not None
    assert (ref.stored.scenario, ref.stored.revision) == ("方案一", 1)
    assert ref.stored.project.path == str(path.resolve())
    assert fresh.session_state[state.SOURCE_KEY].kind == "project"
    assert any("项目文件 新项目.gpkg 中的数据" in i for i in texts(fresh.info))

    open_page(fresh, "edit")
    assert not fresh.exception
    assert not fresh.error, texts(fresh.error)
    stored = load_plan(path, "方案一")
    assert int(metrics(fresh)["社区数"]) == len(stored.community_ids)
    assert any("新项目.gpkg 中的方案 方案一（第 1 版）" in c for c in texts(fresh.caption))
    assert fresh.selectbox(key=edit_page.SCENARIO_KEY).value == "方案一"


def test_a_loaded_plan_is_edited_and_saved_back_as_the_next_revision(project, tmp_path):
    path = tmp_path / project.name
    path.write_bytes(project.read_bytes())
    at = loaded(path)
    open_page(at, "edit")
    assert not at.exception
    before = int(metrics(at)["社区数"])
    community = at.selectbox(key=edit_page.COMMUNITY_KEY).options[0].split(" · ")[0]
    at.selectbox(key=edit_page.COMMUNITY_KEY).set_value(community).run()
    at.number_input(key="edit_split_k").set_value(2)
    at.button(key="edit_split").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert int(metrics(at)["社区数"]) == before + 1

    open_page(at, "data")
    assert at.session_state[state.PROJECT_KEY].path == str(path.resolve())  # the save target
    assert at.text_input(key=project_panel.SAVE_NAME_KEY).value == "方案一"
    at.text_input(key="project_author").input("王五")
    at.button(key="project_save").click().run()
    assert not at.exception
    assert any("已把方案 方案一 保存到" in s and "第 2 版" in s for s in texts(at.success))
    rows = list_scenarios(path).set_index("name")
    assert int(rows.loc["方案一", "revision"]) == 2
    assert rows.loc["方案一", "author"] == "王五"
    assert len(load_plan(path, "方案一").community_ids) == before + 1
    assert scenario_table(at)["版本"].tolist() == [2]  # the listing follows the file

    at.button(key="project_save").click().run()  # this session saved revision 2: no conflict
    assert not at.exception
    assert any("第 3 版" in s for s in texts(at.success))


def test_a_save_over_a_scenario_saved_elsewhere_since_is_refused_with_a_message(project, tmp_path):
    path = tmp_path / project.name
    path.write_bytes(project.read_bytes())
    at = loaded(path)
    other = load_plan(path, "方案一")
    save_scenario(path, "方案一", other, author="赵六", expected_revision=1)  # someone else
    at.button(key="project_save").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert any("未保存" in e and "方案一" in e and "已由 赵六 于" in e for e in errors), errors
    assert int(list_scenarios(path).set_index("name").loc["方案一", "revision"]) == 2

    at.text_input(key=project_panel.SAVE_NAME_KEY).input("方案二")  # a new name is fine
    at.button(key="project_save").click().run()
    assert not at.exception
    rows = list_scenarios(path).set_index("name")
    assert int(rows.loc["方案二", "revision"]) == 1
    assert rows.loc["方案二", "base"] == "方案一"


def test_a_save_under_a_name_that_exists_in_the_file_is_refused(project, tmp_path):
    path = tmp_path / project.name
    path.write_bytes(project.read_bytes())
    at = new_app().run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    open_page(at, "data")
    open_by_path(at, path)
    at.text_input(key=project_panel.SAVE_NAME_KEY).input("方案一")
    at.button(key="project_save").click().run()
    assert not at.exception
    assert any("未保存" in e and "已存在于" in e for e in texts(at.error))
    assert int(list_scenarios(path).set_index("name").loc["方案一", "revision"]) == 1


def test_create_refuses_an_existing_file(project):
    at = new_app().run()
    shutil.copyfile(project, projects.projects_folder() / project.name)
    at.text_input(key=project_panel.NEW_NAME_KEY).input(project.stem)
    at.button(key="project_create").click().run()
    assert not at.exception
    assert any("已存在" in e for e in texts(at.error))


def test_create_without_a_plan_makes_a_project_with_the_data_only(tmp_path):
    path = tmp_path / "只有数据.gpkg"
    at = new_app().run()
    create_named(at, path)
    at.button(key="project_create").click().run()
    assert not at.exception
    assert any("其中只有数据图层" in s for s in texts(at.success))
    assert list_scenarios(path).empty
    assert any("项目中还没有保存方案" in i for i in texts(at.info))


# ---------------------------------------------------------------------------------------------
# A stored plan on the other plan pages


@pytest.mark.parametrize("page", ["propose", "standards", "compare", "export"])
def test_the_plan_pages_work_on_a_loaded_plan(project, page):
    at = loaded(project)
    open_page(at, page)
    assert not at.exception
    assert not at.error, texts(at.error)
    if page == "propose":
        assert any("从项目 海曙区.gpkg 载入的方案 方案一" in i for i in texts(at.info))
        assert at.number_input(key="propose_community_size").value == 2500
    if page == "compare":
        labels = at.selectbox(key="compare_a").options
        assert "项目方案 方案一（第 1 版）" in labels


# ---------------------------------------------------------------------------------------------
# Files that are not projects


def test_a_file_that_is_not_a_geopackage_shows_an_error(tmp_path):
    bad = tmp_path / "坏.gpkg"
    bad.write_text("这不是 GeoPackage\n" * 20, encoding="utf-8")
    at = new_app().run()
    open_by_path(at, bad)
    assert not at.exception
    errors = texts(at.error)
    assert any("无法打开项目文件 坏.gpkg" in e and "不是 GeoPackage 项目文件" in e for e in errors)
    assert at.session_state[state.SOURCE_KEY].kind == "sample"
    assert state.PROJECT_KEY not in at.session_state


def test_a_geopackage_without_scenarios_shows_an_error(tmp_path):
    plain = tmp_path / "图层.gpkg"
    gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[shapely.Point(121.5, 29.8)], crs="EPSG:4326"
    ).to_file(plain, layer="points")
    at = new_app().run()
    open_by_path(at, plain)
    assert not at.exception
    assert any("没有方案表" in e for e in texts(at.error))


def test_a_damaged_scenario_shows_an_error_on_load(project, tmp_path):
    path = tmp_path / project.name
    path.write_bytes(project.read_bytes())
    con = sqlite3.connect(path)
    con.execute('DELETE FROM "方案一__assignment" WHERE fid % 2 = 0')  # half the buildings
    con.commit()
    con.close()
    at = new_app().run()
    open_by_path(at, path)
    at.button(key=project_panel.LOAD_KEY).click().run()
    assert not at.exception
    errors = texts(at.error)
    assert any("无法载入项目 海曙区.gpkg 中的方案 方案一" in e for e in errors), errors
    assert any("栋楼没有归属" in e for e in errors)
    assert at.session_state[state.SOURCE_KEY].kind == "sample"


def test_a_project_gone_from_the_folder_shows_an_error(project, tmp_path):
    path = tmp_path / "没有.gpkg"
    shutil.copyfile(project, path)
    at = new_app().run()
    at.selectbox(key=project_panel.CHOICE_KEY).set_value(path.name)
    path.unlink()  # deleted by someone else after the listing was drawn
    at.button(key=project_panel.OPEN_KEY).click().run()
    assert not at.exception
    assert any("项目文件夹中已没有 没有.gpkg" in e for e in texts(at.error))


def test_the_project_section_in_english(project):
    at = new_app().run()
    at.radio(key=state.LANG_KEY).set_value("en").run()
    open_by_path(at, project)
    assert not at.exception
    assert any(
        "Opened the project file 海曙区.gpkg: 1 scenario(s)." in s for s in texts(at.success)
    )
    assert {"Scenario", "Revision", "Author", "Modified"} <= set(at.dataframe[0].value.columns)
    at.button(key=project_panel.LOAD_KEY).click().run()
    assert any("Loaded scenario 方案一 (revision 1" in s for s in texts(at.success))


def test_propose_on_a_loaded_project_draws_a_new_plan_of_its_data(project):
    at = loaded(project)
    open_page(at, "propose")
    at.number_input(key="propose_community_size").set_value(2000)
    at.button(key="propose_run").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    ref = at.session_state[state.PLAN_KEY]
    assert ref.stored is None and ref.params.community_size == 2000
    assert ref.source.kind == "project"
    assert int(metrics(at)["社区数"]) >= 4


def test_no_server_path_is_asked_for_and_a_new_name_stays_in_the_folder(tmp_path):
    at = new_app().run()
    keys = {w.key for w in at.text_input}
    assert project_panel.NEW_NAME_KEY in keys
    assert not {"project_path", "project_save_path"} & keys  # no free server path
    at.text_input(key=project_panel.NEW_NAME_KEY).input("../../etc/数据")
    at.button(key="project_create").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert (tmp_path / "数据.gpkg").is_file()
    assert not (tmp_path.parent.parent / "etc").exists()
    assert at.selectbox(key=project_panel.CHOICE_KEY).options == ["数据.gpkg"]
