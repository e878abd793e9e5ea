"""Layers as planners have them, through the Data page's upload form in streamlit's AppTest:
roads, water and railways as separate files (each feature the kind of its box), every layer in
its own CRS (or the projected CRS its file states), the sheet of a workbook or the layer of a
GeoPackage chosen when it holds several; the files reach a proposal and a project file.

The files are the real Haidian data (WGS84), read from ``../shared`` and uploaded as bytes;
the GCJ-02 copy of the 小月河 and the GeoPackage in EPSG:4547 are written to ``tmp_path``::

    households.geojson   109 buildings, WGS84
    roads.geojson        302 lines           → box 道路 (road)
    water_gcj02.geojson  the river, in GCJ-02 → box 河流、湖泊 (river), declared gcj02
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from app_support import SAMPLE_HOUSEHOLDS, new_app, open_page, texts
from streamlit.testing.v1 import AppTest

from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.layers import LayerFile, read_barriers, read_communities
from planning import ProposeParams
from planning.plans.project import list_scenarios
from ui import loading, project_panel, projects, runs, state

HAIDIAN = Path(__file__).resolve().parents[3] / "shared" / "data" / "beijing_haidian"


def gcj02_copy(source: Path, folder: Path) -> Path:
    """``source`` (WGS84) shifted into GCJ-02, as an Amap export of it would be."""
    frame = gpd.read_file(source)

    def shift(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return out

    frame["geometry"] = shapely.transform(np.asarray(frame.geometry.values), shift)
    path = folder / f"{source.stem}_gcj02.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def upload(
    files: dict[str, Path], *, crs: str = "wgs84", layer_crs: dict[str, str] | None = None
) -> AppTest:
    """The app after submitting the upload form: the households and ``files`` by layer kind
    (``upload_layer_{kind}``), each layer's CRS chosen from ``layer_crs``."""
    at = new_app().run()
    at.radio(key=state.widget_key_for("data_kind", "zh")).set_value("upload").run()
    at.file_uploader(key="upload_households").upload(
        "households.geojson", (HAIDIAN / "households.geojson").read_bytes()
    )
    at.selectbox(key=state.widget_key_for("upload_crs", "zh")).set_value(crs)
    for kind, path in files.items():
        at.file_uploader(key=f"upload_layer_{kind}").upload(path.name, path.read_bytes())
    for kind, value in (layer_crs or {}).items():
        at.selectbox(key=state.widget_key_for(f"upload_layer_crs_{kind}", "zh")).set_value(value)
    at.button(key="upload_submit").click().run()
    assert not at.exception
    return at


def source_of(at: AppTest) -> state.DataSource:
    return at.session_state[state.SOURCE_KEY]


def apart_m(frame: gpd.GeoDataFrame, original: gpd.GeoDataFrame) -> np.ndarray:
    """Hausdorff distance (m) of each feature from the original's, in CGCS2000 zone 39."""
    return frame.to_crs(4548).hausdorff_distance(original.to_crs(4548)).to_numpy()


@pytest.fixture(scope="module")
def water() -> gpd.GeoDataFrame:
    return read_barriers(HAIDIAN / "water.geojson", crs="wgs84").frame


# --- several barrier files ------------------------------------------------------------------


def test_roads_and_water_are_uploaded_as_two_files_each_of_its_kind(tmp_path):
    at = upload({"roads": HAIDIAN / "roads.geojson", "water": HAIDIAN / "water.geojson"})
    assert not at.error, texts(at.error)
    source = source_of(at)
    assert [kind for kind, _ in source.layers] == ["roads", "water"]
    body = "\n".join(texts(at.markdown))
    assert "道路：302 个要素（roads.geojson）" in body
    assert "河流、湖泊：2 个要素（water.geojson）" in body
    barriers = loading.read_layer(source, "barriers").frame
    assert len(barriers) == 304
    assert barriers["kind"].value_counts().to_dict() == {"road": 302, "river": 2}
    files = loading.propose_layers(source)["barriers_path"]
    assert [(Path(f.path).name, f.kind, f.crs) for f in files] == [
        ("roads.geojson", "road", "wgs84"),
        ("water.geojson", "river", "wgs84"),
    ]


def test_a_file_in_the_railways_box_is_all_railway(tmp_path):
    at = upload({"railways": HAIDIAN / "water.geojson"})
    barriers = loading.read_layer(source_of(at), "barriers").frame
    assert set(barriers["kind"]) == {"railway"}
    assert any("铁路：2 个要素（water.geojson）" in line for line in texts(at.markdown))


def test_the_barrier_files_reach_the_proposal():
    at = upload({"roads": HAIDIAN / "roads.geojson", "water": HAIDIAN / "water.geojson"})
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    outcome = runs.propose(at.session_state[state.PLAN_KEY])
    assert outcome.ok
    assert outcome.run.barriers["kind"].value_counts().to_dict() == {"road": 302, "river": 2}
    assert [Path(p).name for p in outcome.run.summary["inputs"]["barriers"]] == [
        "roads.geojson",
        "water.geojson",
    ]


# --- a CRS per layer --------------------------------------------------------------------------


def test_a_gcj02_layer_declared_so_lands_on_the_original(tmp_path, water):
    water_gcj = gcj02_copy(HAIDIAN / "water.geojson", tmp_path)
    at = upload(
        {"roads": HAIDIAN / "roads.geojson", "water": water_gcj}, layer_crs={"water": "gcj02"}
    )
    assert not at.error, texts(at.error)
    source = source_of(at)
    assert source.layer_crs_of == (("water", "gcj02"),)
    assert loading.crs_of(source, "roads") == "wgs84"
    read = loading.read_layer_file(source, "water").frame
    assert apart_m(read, water).max() < 2.0
    body = "\n".join(texts(at.markdown))
    assert "water_gcj02.geojson） · 按 GCJ-02（高德、腾讯） 读取" in body
    assert "roads.geojson） · 按 WGS84（GPS、OpenStreetMap） 读取" in body
    (roads, river) = loading.propose_layers(source)["barriers_path"]
    assert (roads.crs, river.crs) == ("wgs84", "gcj02")


def test_the_same_layer_left_as_the_households_is_off_by_the_gcj02_shift(tmp_path, water):
    water_gcj = gcj02_copy(HAIDIAN / "water.geojson", tmp_path)
    at = upload({"water": water_gcj})
    read = loading.read_layer_file(source_of(at), "water").frame
    assert (apart_m(read, water) > 300).all() and (apart_m(read, water) < 900).all()


def test_a_projected_crs_the_file_states_is_used_by_default(tmp_path):
    package = tmp_path / "道路.gpkg"
    gpd.read_file(HAIDIAN / "roads.geojson").to_crs(4547).to_file(package, layer="roads")
    at = upload({"roads": package})
    assert not at.error, texts(at.error)
    source = source_of(at)
    assert source.layer_crs_of == ()
    assert loading.crs_of(source, "roads") == "EPSG:4547"
    assert any("按 EPSG:4547 读取" in line for line in texts(at.markdown))
    read = loading.read_layer_file(source, "roads").frame
    original = read_barriers(HAIDIAN / "roads.geojson", crs="wgs84").frame
    assert apart_m(read, original).max() < 0.01


def test_a_typed_epsg_code_that_is_not_a_crs_refuses_only_that_layer():
    """A code typed into a layer's CRS box (AppTest cannot type a new option: the source the
    form makes is put in the session)."""
    source = loading.source_for_path(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        layers={"roads": HAIDIAN / "roads.geojson", "water": HAIDIAN / "water.geojson"},
        layer_crs_of={"water": "EPSG:99999"},
    )
    at = new_app(**{state.SOURCE_KEY: source}).run()
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1
    assert "河流、湖泊（water.geojson）未能读取" in errors[0] and "99999" in errors[0]
    assert any("道路：302 个要素" in line for line in texts(at.markdown))


# --- the sheet or layer to read ---------------------------------------------------------------


def facility_workbook(path: Path) -> Path:
    """Two sheets with data: 服务中心 (2 facilities) and 卫生站 (1)."""
    centres = pd.DataFrame(
        {"名称": ["一号中心", "二号中心"], "经度": [116.35, 116.351], "纬度": [40.0, 40.001]}
        | {"建筑面积": [800, 650], "类型": ["社区综合服务设施", "社区综合服务设施"]}
    )
    clinics = pd.DataFrame(
        {"名称": ["卫生站"], "经度": [116.352], "纬度": [40.002], "建筑面积": [300]}
        | {"类型": ["卫生服务站"]}
    )
    with pd.ExcelWriter(path) as writer:
        centres.to_excel(writer, sheet_name="服务中心", index=False)
        clinics.to_excel(writer, sheet_name="卫生站", index=False)
    return path


def part_box(at: AppTest, kind: str):
    digest = source_of(at).layer(kind).digest
    return at.selectbox(key=f"layer_part_{kind}_{digest[:16]}")


def test_a_workbook_of_two_sheets_lists_them_and_reads_the_one_chosen(tmp_path):
    book = facility_workbook(tmp_path / "设施.xlsx")
    at = upload({"facilities": book})
    box = part_box(at, "facilities")
    assert box.options == ["服务中心（3 行，含表头）", "卫生站（2 行，含表头）"]
    assert box.value is None
    assert any("设施.xlsx" in e and "2 个工作表含有数据" in e for e in texts(at.error))
    box.set_value("卫生站").run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert source_of(at).layer_parts == (("facilities", "卫生站"),)
    assert any("社区服务设施：1 个要素（设施.xlsx）" in line for line in texts(at.markdown))
    assert loading.read_layer(source_of(at), "facilities").frame["name"].tolist() == ["卫生站"]


def test_a_geopackage_of_two_layers_reads_the_layer_chosen(tmp_path):
    package = tmp_path / "线.gpkg"
    gpd.read_file(HAIDIAN / "roads.geojson").to_file(package, layer="roads")
    gpd.read_file(HAIDIAN / "water.geojson").to_file(package, layer="water")
    at = upload({"roads": package})
    box = part_box(at, "roads")
    assert box.options == ["roads（302 个要素）", "water（2 个要素）"]
    box.set_value("roads").run()
    assert not at.error, texts(at.error)
    assert any("道路：302 个要素（线.gpkg）" in line for line in texts(at.markdown))
    (roads,) = loading.propose_layers(source_of(at))["barriers_path"]
    assert roads == LayerFile(str(source_of(at).layer("roads").path), "wgs84", "road", "roads")


# --- into a project file and back -------------------------------------------------------------


def test_a_project_keeps_the_barrier_files_with_their_kinds(tmp_path, monkeypatch):
    monkeypatch.setenv(projects.PROJECTS_ENV, str(tmp_path))
    water_gcj = gcj02_copy(HAIDIAN / "water.geojson", tmp_path)
    at = upload(
        {"roads": HAIDIAN / "roads.geojson", "water": water_gcj}, layer_crs={"water": "gcj02"}
    )
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    open_page(at, "data")
    at.text_input(key=project_panel.NEW_NAME_KEY).input("学院路")
    at.text_input(key=project_panel.SAVE_NAME_KEY).input("方案一")
    at.button(key="project_create").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    path = tmp_path / "学院路.gpkg"
    assert list_scenarios(path)["name"].tolist() == ["方案一"]

    fresh = new_app().run()
    fresh.selectbox(key=project_panel.CHOICE_KEY).set_value(path.name)
    fresh.button(key=project_panel.OPEN_KEY).click().run()
    fresh.button(key=project_panel.LOAD_KEY).click().run()
    assert not fresh.exception
    assert not fresh.error, texts(fresh.error)
    reopened = source_of(fresh)
    assert reopened.kind == "project"
    barriers = loading.read_layer(reopened, "barriers").frame
    assert barriers["kind"].value_counts().to_dict() == {"road": 302, "river": 2}
    river = barriers[barriers["kind"] == "river"].reset_index(drop=True)
    original = read_barriers(HAIDIAN / "water.geojson", crs="wgs84").frame
    assert apart_m(river, original).max() < 2.0  # stored where it lies, not where GCJ-02 put it


def household_workbook(path: Path) -> tuple[Path, int]:
    """Haidian's buildings as a workbook of two sheets, 西区 and 东区 (split at their median
    longitude); the households on 西区."""
    frame = gpd.read_file(HAIDIAN / "households.geojson")
    table = pd.DataFrame(
        {"经度": frame.geometry.x, "纬度": frame.geometry.y, "户数": frame["households"]}
    )
    west = table[table["经度"] <= table["经度"].median()]
    with pd.ExcelWriter(path) as writer:
        west.to_excel(writer, sheet_name="西区", index=False)
        table.drop(west.index).to_excel(writer, sheet_name="东区", index=False)
    return path, int(west["户数"].sum())


def test_the_households_sheet_is_chosen_and_reaches_the_proposal(tmp_path):
    book, west_households = household_workbook(tmp_path / "住户.xlsx")
    source = loading.source_for_path(book, crs="wgs84")
    at = new_app(**{state.SOURCE_KEY: source}).run()
    assert not at.exception
    box = at.selectbox(key=f"layer_part_households_{source.households.digest[:16]}")
    assert [option.split("（")[0] for option in box.options] == ["西区", "东区"]
    assert any("2 个工作表含有数据" in e for e in texts(at.error))
    box.set_value("西区").run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert source_of(at).households_part == "西区"
    shown = {m.label: m.value for m in at.metric}
    assert shown["户数"] == f"{west_households:,}"
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    outcome = runs.propose(at.session_state[state.PLAN_KEY])
    assert int(outcome.run.households.buildings["households"].sum()) == west_households


# --- 现状社区: rebalanced over split barrier files, uploaded in their own CRS ------------------


def sample_with_split_barriers(folder: Path) -> state.DataSource:
    """The 10,000-household sample (GCJ-02) with its mixed barriers file written as a roads,
    a water and a railways file, and its communities."""
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    barriers = gpd.read_file(files["barriers"])
    barriers[barriers["kind"] == "road"].to_file(folder / "roads.geojson", driver="GeoJSON")
    barriers[barriers["kind"] == "river"].to_file(folder / "water.geojson", driver="GeoJSON")
    rails = barriers[barriers["kind"] == "railway"].drop(columns=["kind"])  # kind from its box
    rails.to_file(folder / "railways.geojson", driver="GeoJSON")
    return loading.source_for_path(
        files["households"],
        crs=loading.SAMPLE_CRS,
        layers={
            "streets": files["streets"],
            "roads": folder / "roads.geojson",
            "water": folder / "water.geojson",
            "railways": folder / "railways.geojson",
            "communities": files["communities"],
        },
    )


def test_rebalancing_the_communities_uses_every_barrier_file(tmp_path):
    source = sample_with_split_barriers(tmp_path)
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    mixed = read_barriers(files["barriers"], crs=loading.SAMPLE_CRS).frame
    ref = state.PlanRef(source, ProposeParams(), rebalance=state.RebalanceRef())
    outcome = runs.propose(ref)
    assert outcome.ok, outcome.message or outcome.problems
    assert outcome.rebalance is not None
    counts = outcome.run.barriers["kind"].value_counts().to_dict()
    assert counts == mixed["kind"].value_counts().to_dict()
    assert set(counts) == {"road", "river", "railway"}


def test_existing_communities_uploaded_in_their_own_crs(tmp_path):
    """The sample is GCJ-02; its communities handed over in WGS84 (as a bureau's GIS keeps
    them) are read in WGS84 while the other layers stay GCJ-02."""
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    communities = gpd.read_file(files["communities"])

    def unshift(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return out

    communities["geometry"] = shapely.transform(np.asarray(communities.geometry.values), unshift)
    wgs84 = tmp_path / "社区_wgs84.geojson"
    communities.to_file(wgs84, driver="GeoJSON")
    at = new_app().run()
    open_page(at, "existing")
    at.file_uploader(key="existing_file").upload(wgs84.name, wgs84.read_bytes())
    at.selectbox(key=state.widget_key_for("existing_crs", "zh")).set_value("wgs84")
    at.button(key="existing_submit").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    source = source_of(at)
    assert source.own_crs("communities") == "wgs84"
    assert loading.crs_of(source, "streets") == loading.SAMPLE_CRS
    read = loading.read_layer(source, "communities").frame
    original = read_communities(files["communities"], crs=loading.SAMPLE_CRS).frame
    assert apart_m(read, original).max() < 2.0


# --- compounds and building footprints ------------------------------------------------------


def test_compounds_and_footprints_are_uploaded_and_reach_the_proposal():
    at = upload(
        {
            "roads": HAIDIAN / "roads.geojson",
            "compounds": HAIDIAN / "compounds.geojson",
            "buildings": HAIDIAN / "buildings.geojson",
        }
    )
    assert not at.error, texts(at.error)
    body = "\n".join(texts(at.markdown))
    assert "小区边界：10 个要素（compounds.geojson）" in body
    assert "建筑轮廓（楼栋面）：257 个要素（buildings.geojson）" in body
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    assert not at.error, texts(at.error)
    run = runs.propose(at.session_state[state.PLAN_KEY]).run
    inputs = run.summary["inputs"]
    assert Path(inputs["compounds"]).name == "compounds.geojson"
    assert Path(inputs["buildings"]).name == "buildings.geojson"
    named = run.proposal.buildings["compound"].dropna()
    assert len(named) > 0 and set(named) & {"富润家园", "石科院生活区"}
