"""Tables, map events and downloads of the plan pages (ui/plan_views.py, ui/exports.py).

One proposal of the built-in sample at 10,000 households (GCJ-02) is made per module and edited
with the scenario engine; the tables and files are checked against it.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo.errors import ScenarioEditError
from geo.layers import read_facilities
from planning.params import ProposeParams
from planning.plans.compare import compare_plans
from planning.plans.plan import (
    community_frame,
    plan_from_proposal,
)
from planning.plans.project import list_scenarios, load_plan
from planning.plans.scenario import (
    Lock,
    MergeCommunities,
    MoveInPolygon,
    Scenario,
    SplitCommunity,
    apply_edit,
)
from planning.runs import run_propose
from planning.standards.compliance import check_compliance
from samples.district import write_sample
from ui import exports
from ui.maps import to_display
from ui.plan_views import (
    Findings,
    community_table,
    compare_table,
    compliance_table,
    edit_label,
    edit_outcome,
    history_table,
    infeasible_line,
    infeasible_table,
    map_event,
    metrics_table,
    move_targets,
    neighbours,
    plan_findings,
    polygon_targets,
    refusal_text,
    site_table,
    validity_items,
)
from ui.runs import PlanView

PARAMS = ProposeParams()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample10k")
    files = write_sample(folder, households=10_000)
    run = run_propose(
        files["households"],
        crs="gcj02",
        subdistricts_path=files["streets"],
        barriers_path=files["barriers"],
        params=PARAMS,
    )
    return files, run


@pytest.fixture(scope="module")
def scenario(sample):
    _files, run = sample
    return Scenario(plan_from_proposal(run.proposal), params=PARAMS)


def view_of(plan) -> PlanView:
    return PlanView.of(plan, PARAMS)


@pytest.fixture(scope="module")
def compliance(sample, scenario):
    """The proposal checked against national-2021 with the sample's facilities."""
    files, _run = sample
    view = view_of(scenario.evaluate())
    return check_compliance(
        view.communities[["community_id", "name", "geometry"]],
        view.buildings,
        read_facilities(files["facilities"], crs="gcj02").frame,
        standard="national-2021",
        metric_crs=view.plan.district.metric_crs,
    )


@pytest.fixture(scope="module")
def split(scenario):
    return scenario.push(SplitCommunity("C001", 2), author="测试员")


# ---------------------------------------------------------------------------------------------
# Tables


def test_metrics_table_lists_communities_and_grids(sample):
    _files, run = sample
    table = metrics_table(run.summary, "zh")
    assert list(table.columns) == ["指标", "社区", "网格"]
    rows = dict(zip(table["指标"], table["社区"], strict=True))
    assert rows["数量"] == f"{run.summary['communities']['count']:,}"
    assert rows["户数在区间内的比例"].endswith("%")
    english = metrics_table(run.summary, "en")
    assert "Share in band" in set(english["Metric"])


def test_infeasible_units_are_explained(sample):
    _files, run = sample
    infeasible = run.summary["infeasible"]
    assert infeasible
    table = infeasible_table(infeasible, "zh")
    assert list(table.columns) == ["层级", "单元", "户数", "含义", "原因（系统说明）"]
    assert table["原因（系统说明）"].tolist() == [i["reason"] for i in infeasible]
    line = infeasible_line(infeasible[0], "zh")
    assert line.startswith("- **") and "系统说明" in line


def test_infeasible_reasons_come_in_the_chosen_language_from_the_records(sample):
    """The proposal's records render their reasons in Chinese or English; in English they
    are the summary's stored text."""
    _files, run = sample
    records, stored = run.proposal.infeasible, run.summary["infeasible"]
    english = infeasible_table(records, "en")
    assert english["Reason (as the engine reports it)"].tolist() == [i["reason"] for i in stored]
    chinese = infeasible_table(records, "zh")["原因（系统说明）"].tolist()
    assert chinese == [record.reason.text("zh") for record in records]
    assert chinese != [i["reason"] for i in stored]
    assert records[0].reason.text("zh") in infeasible_line(records[0], "zh").replace("\\", "")


def test_community_table_and_validity(split):
    view = view_of(split.evaluate())
    table = community_table(view.communities, view.check, "zh")
    assert {"社区代码", "户数", "网格数", "规模", "连片", "已锁定"} <= set(table.columns)
    assert "C001-2" in set(table["社区代码"])
    items = validity_items(view.communities, view.buildings, view.check, [], "zh")
    below = [i for i in items if i.kind == "band"]
    assert {i.community_id for i in below} >= {"C001", "C001-2"}  # split below the band
    assert all(i.bounds is not None for i in below)
    west, south, east, north = below[0].bounds
    assert west < east and south < north


def test_locked_and_infeasible_entries_point_at_a_community(sample, scenario):
    _files, run = sample
    locked = scenario.push(Lock(("C002",)))
    view = view_of(locked.evaluate())
    items = validity_items(
        view.communities, view.buildings, view.check, run.summary["infeasible"], "en"
    )
    assert items[-1].kind == "locked"  # most serious first, locks last
    assert any(i.kind == "locked" and i.community_id == "C002" for i in items)
    infeasible = [i for i in items if i.kind == "infeasible"]
    assert infeasible and all(i.bounds is not None for i in infeasible)


def test_neighbours_share_a_border(scenario, split):
    assert neighbours(scenario.evaluate(), "C001") == []  # alone in its 街道 at 10,000
    plan = split.evaluate()
    near = neighbours(plan, "C001")
    assert near == ["C001-2"]
    frame = community_frame(plan).set_index("community_id")
    for other in near:
        assert frame.geometry["C001"].distance(frame.geometry[other]) < 1.0


def test_edit_labels_are_translated():
    assert edit_label(SplitCommunity("C005", 3), "zh") == "拆分 C005 为 3 个"
    assert edit_label(SplitCommunity("C005", 3), "en") == "Split C005 into 3"
    assert edit_label(Lock(("C001", "C002")), "zh") == "锁定 C001、C002"  # not a tuple repr
    assert edit_label(Lock(("C001",)), "en").endswith("C001")


def test_validity_lists_grids_compounds_barriers_and_necks(split):
    view = view_of(split.evaluate())
    lower, upper = view.check.grid_band
    households = view.grids["households"].to_numpy(dtype=float)
    findings = Findings(
        barrier_crossings=("C001",),
        community_necks=("C001-2",),
        grid_necks=(str(view.grids["grid_id"].iloc[0]),),
    )
    items = validity_items(
        view.communities, view.buildings, view.check, [], "zh", grids=view.grids, findings=findings
    )
    grids = [i for i in items if i.kind == "grid"]
    assert len(grids) == int(((households < lower) | (households > upper)).sum())
    assert all(i.message.startswith("网格 ") and i.bounds is not None for i in grids)
    assert all(i.grid_id and i.message.startswith(f"网格 {i.grid_id}：") for i in grids)
    kinds = [i.kind for i in items]
    assert kinds.count("barrier") == 1 and kinds.count("neck") == 2
    assert next(i for i in items if i.kind == "barrier").message.startswith("C001：")
    # a compound that fits in one community but is cut by the split is listed
    buildings = view.buildings[view.buildings["compound"].notna()]
    spread = buildings.groupby("compound")["community_id"].nunique()
    sizes = buildings.groupby("compound")["households"].sum()
    split_compounds = set(spread[(spread > 1) & (sizes <= view.check.band[1])].index)
    listed = [i for i in items if i.kind == "compound"]
    assert len(listed) == len(split_compounds)
    assert all(any(name in i.message for name in split_compounds) for i in listed)


def test_findings_are_measured_on_the_plan(split):
    findings = plan_findings(split.evaluate(), PARAMS)
    ids = set(split.evaluate().community_ids)
    assert set(findings.barrier_crossings) <= ids and set(findings.community_necks) <= ids


def test_findings_share_the_district_s_barrier_sides_and_equal_a_fresh_count(scenario, split):
    from planning.engine.metrics import unforced_barrier_crossings

    lower, upper = PARAMS.community_band
    for plan in (scenario.evaluate(), split.evaluate(), scenario.evaluate()):
        fresh = unforced_barrier_crossings(
            plan.district, plan.site_community, plan.community_ids, lower=lower, upper=upper
        )
        found = plan_findings(plan, PARAMS).barrier_crossings
        assert found == tuple(c["community_id"] for c in fresh)


def test_results_refusals_and_history_in_both_languages(split):
    plan = split.evaluate()
    with pytest.raises(ScenarioEditError) as caught:
        apply_edit(plan, MoveInPolygon("POLYGON ((0 0, 1 0, 1 1, 0 0))", "C001"), params=PARAMS)
    assert refusal_text(caught.value, "zh").endswith("请把要移动的楼栋圈在里面。")
    assert "no building lies inside" in refusal_text(caught.value, "en")
    merged = split.push(MergeCommunities("C001", "C001-2"))
    headline, statuses, _notes = edit_outcome(merged.last, "zh")
    assert headline.startswith("把 C001-2 并入 C001：")
    assert statuses and "户" in statuses[0]
    table = history_table(merged.evaluate(), merged.results(), "zh")
    assert table["操作"].tolist() == ["拆分 C001 为 2 个", "把 C001-2 并入 C001"]
    assert table["编辑人"].tolist()[0] == "测试员"
    english = history_table(merged.evaluate(), merged.results(), "en")
    assert english["What"].tolist() == ["split C001 into 2", "merge C001-2 into C001"]


def test_move_targets_are_the_compound_s_neighbours(split):
    plan = split.evaluate()
    view = view_of(plan)
    mine = view.buildings[view.buildings["community_id"] == "C001"]
    compounds = mine["compound"].dropna().astype(str).unique().tolist()
    assert compounds
    for name in compounds:
        assert set(move_targets(plan, "C001", name)) <= set(neighbours(plan, "C001"))
    assert any(move_targets(plan, "C001", name) for name in compounds)


def test_compliance_and_site_tables(compliance):
    result = compliance
    table = compliance_table(result, "zh")
    assert {"社区代码", "应配面积（㎡）", "缺口（㎡）", "达标"} <= set(table.columns)
    assert "工作经费（元/年）" not in table.columns  # the national standard has no funds rule
    assert set(table["达标"]) <= {"是", "否"}
    sites = site_table(result, "en")
    short = result.table()
    assert len(sites) == int((short["suggested_site_lon"].notna()).sum())
    assert sites["Longitude (WGS84)"].between(121, 122).all()


def test_compare_table(scenario, split):
    comparison = compare_plans(scenario.evaluate(), split.evaluate(), params=PARAMS)
    table = compare_table(comparison, ("A", "B"), "zh")
    rows = dict(zip(table["指标"], table["差值（B − A）"], strict=True))
    assert rows["社区 · 数量"] == "+1"
    assert list(table.columns) == ["指标", "A", "B", "差值（B − A）"]


# ---------------------------------------------------------------------------------------------
# Map events


def test_a_click_on_a_feature_selects_its_community_and_grid():
    value = {
        "last_active_drawing": {
            "type": "Feature",
            "properties": {"grid_id": "C003-002", "community_id": "C003", "households": 250},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        }
    }
    event = map_event(value, "osm")
    assert (event.community_id, event.grid_id, event.polygon_wkt) == ("C003", "C003-002", None)
    assert (
        map_event(
            {"last_active_drawing": {"properties": {"community_id": "A&amp;B"}}}, "osm"
        ).community_id
        == "A&B"
    )
    assert map_event(None, "osm").community_id is None


def test_a_drawn_polygon_is_kept_in_wgs84(scenario):
    view = view_of(scenario.evaluate())
    area = view.communities.geometry.iloc[0].buffer(-0.001)
    drawn_on_amap = to_display(
        gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326"), "amap"
    ).geometry.iloc[0]
    value = {
        "last_active_drawing": {
            "type": "Feature",
            "properties": {},
            "geometry": shapely.geometry.mapping(drawn_on_amap),
        }
    }
    event = map_event(value, "amap")
    back = shapely.from_wkt(event.polygon_wkt)
    assert event.community_id is None
    assert back.symmetric_difference(area).area < area.area * 1e-3


# ---------------------------------------------------------------------------------------------
# Downloads


def test_plan_files_are_rfc7946_geojson_and_the_households(sample, split):
    _files, run = sample
    files = exports.plan_files(split.evaluate(), run.households, params=PARAMS)
    communities = json.loads(files["communities.geojson"])
    assert communities["type"] == "FeatureCollection" and communities["features"]
    assert "crs" not in communities  # RFC 7946: WGS84 implied
    ids = {f["properties"]["community_id"] for f in communities["features"]}
    assert "C001-2" in ids
    lon, lat = communities["features"][0]["geometry"]["coordinates"][0][0]
    assert 121 < lon < 122 and 29 < lat < 31
    rows = list(csv.DictReader(io.StringIO(files["households.csv"].decode("utf-8-sig"))))
    assert len(rows) == len(run.households.rows)
    assert {r["community_id"] for r in rows} == ids
    grids = json.loads(files["grids.geojson"])
    assert all(
        f["properties"]["grid_id"].startswith(f["properties"]["community_id"])
        for f in grids["features"]
    )


@pytest.mark.parametrize("crs", ["cgcs2000", "zone"])
def test_bureau_formats_in_cgcs2000(tmp_path, split, crs):
    view = view_of(split.evaluate())
    epsg = 4490 if crs == "cgcs2000" else view.plan.district.metric_crs.to_epsg()  # 4550
    gpkg = tmp_path / "plan.gpkg"
    gpkg.write_bytes(
        exports.geopackage_bytes({"communities": view.communities, "grids": view.grids}, crs=crs)
    )
    assert {name for name, _ in pyogrio.list_layers(gpkg)} == {"communities", "grids"}
    assert gpd.read_file(gpkg, layer="communities").crs.to_epsg() == epsg
    archive = zipfile.ZipFile(
        io.BytesIO(exports.shapefile_zip_bytes(view.grids, name="grids", crs=crs))
    )
    assert {"grids.shp", "grids.dbf", "grids.prj", "grids.cpg", "fields.csv"} <= set(
        archive.namelist()
    )


def test_compliance_files(compliance):
    result = compliance
    out = exports.compliance_files(result)
    assert set(out) == {"compliance.csv", "compliance.geojson", "report.html"}
    assert "社区设施面积达标核查报告" in out["report.html"].decode("utf-8")
    assert out["compliance.csv"].startswith("\ufeff".encode())


def test_audit_log_and_project_file(tmp_path, scenario, split):
    audit = exports.audit_csv(split.evaluate(), lang="en").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(audit)))
    assert len(rows) == 1 and rows[0]["Editor"] == "测试员" and "split C001" in rows[0]["What"]
    project = tmp_path / "project.gpkg"
    project.write_bytes(
        exports.project_bytes(
            {"A": scenario.evaluate(), "B": split.evaluate()}, params=PARAMS, layers={}
        )
    )
    assert list(list_scenarios(project)["name"]) == ["A", "B"]
    reloaded = load_plan(project, "B")
    assert "C001-2" in reloaded.community_ids and len(reloaded.log) == 1


def test_every_infeasible_level_the_engine_reports_is_translated():
    """A level without its own words was shown with another level's meaning (a community
    out of band was labelled as needing too many grids)."""
    import re
    from pathlib import Path

    from ui.i18n import LANGUAGES, text

    planning = Path(__file__).resolve().parents[2] / "planning"
    source = "".join(
        (planning / name).read_text() for name in ("engine/propose.py", "plans/rebalance.py")
    )
    levels = set(re.findall(r'Infeasible\(\s*"([a-z-]+)"', source))
    assert {"street", "compound", "building", "community", "community-band"} <= levels
    for level in levels:
        for kind in ("level", "meaning"):
            for lang in LANGUAGES:
                assert text(f"infeasible.{kind}.{level}", lang), (kind, level, lang)


def test_a_click_on_a_building_names_it():
    value = {
        "last_active_drawing": {
            "properties": {"community_id": "C001", "grid_id": "C001-002", "building_id": "B&amp;7"}
        }
    }
    event = map_event(value, "none")
    assert (event.community_id, event.grid_id, event.building_id) == ("C001", "C001-002", "B&7")


def test_polygon_targets_are_where_the_drawn_buildings_are_or_border(split):
    plan = split.evaluate()
    view = view_of(plan)
    mine = view.buildings[view.buildings["community_id"] == "C001"]
    box = shapely.box(*mine.geometry.iloc[:3].total_bounds).buffer(1e-5)
    targets = polygon_targets(plan, box.wkt)
    assert "C001" in targets and set(targets) <= {"C001", *neighbours(plan, "C001")}
    assert polygon_targets(plan, "POLYGON ((100 30, 100.01 30, 100.01 30.01, 100 30))") == []
    assert polygon_targets(plan, "POLYGON ((1 2, 3") == []
