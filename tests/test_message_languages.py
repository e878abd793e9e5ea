"""Every kind of record a planner reads renders in both languages: its English text is the
text the library has always written, its Chinese text has no English words left but ids,
formats, software and column names.

Kinds: the household reader's problems (geo.intake), the column mapping's (geo.columns), a
refused file (geo.tables), a CRS (geo.crs), a layer's problems (geo.layers), a footprint
file's (geo.footprints), the layer-offset warning (geo.alignment), parameter refusals
(planning.params), the split-block reasons (planning.engine.metrics, shown by the CLI), a
standards file's problems and refusals (planning.standards.rules), the layers a standards check
refuses (planning.standards.compliance) and the warnings of reading a run's inputs
(planning.runs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.errors import (
    PARTS,
    CRSError,
    InputFormatError,
    PlanningInputError,
    Problem,
    ValidationError,
)
from geo.records import GeoMessage, catalogue
from geo.tables import read_table
from planning.cli.propose import _reason
from planning.params import ProposeParams
from planning.records import Note, note_to_data

ROOT = Path(__file__).resolve().parents[1]

#: ASCII words a Chinese text may keep: file formats and encodings, software, CRS names and
#: ids, geometry types, option, argument and column names, and a unit's letter.
ALLOWED = frozenset(
    [
        "BOM",
        "Excel",
        "floor_area_m2",
        "C001",
        "CGCS2000",
        "CSV",
        "E",
        "EPSG",
        "GB18030",
        "GBK",
        "GIS",
        "GPS",
        "GeoJSON",
        "GeoPackage",
        "GeoParquet",
        "LineString",
        "MultiLineString",
        "MultiPolygon",
        "N",
        "OpenStreetMap",
        "Point",
        "Polygon",
        "QGIS",
        "Shapefile",
        "True",
        "UTF-8",
        "WGS84",
        "XLSX",
        "Z",
        "allow-large-counts",
        "allow_large_counts",
        "bd09",
        "cgcs2000",
        "columns",
        "community_id",
        "cpg",
        "dbf",
        "epsg",
        "geometry_to_wgs84",
        "header-row",
        "header_row",
        "households",
        "lat",
        "layer",
        "lng",
        "lon",
        "metric_crs_for",
        "name",
        "prj",
        "railway",
        "river",
        "road",
        "sheet",
        "shp",
        "shx",
        "smooth_m",
        "wgs84",
        "x",
        "xlsx",
        "y",
        "z",
        "zip",
        "gcj02",
        "csv",
    ]
)


#: The words of a standards file a Chinese text names as they are written in it: its keys,
#: its values ``community`` and ``grid``, its format (TOML) and schema (data/standards/
#: README.md); the commands, options and functions the fixes name.
SCHEMA_WORDS = frozenset(
    [
        "README",
        "RFC",
        "TOML",
        "citation",
        "community",
        "crs",
        "data",
        "facilities-crs",
        "funds",
        "geo",
        "grid",
        "grids",
        "households_per_grid",
        "households_per_worker",
        "id_column",
        "intake",
        "max_households",
        "md",
        "per",
        "per_100_households",
        "per_resident",
        "persons_per_household",
        "propose",
        "rate_m2_per_100_households",
        "rate_m2_per_household",
        "read_households",
        "rebalance",
        "serves",
        "source",
        "staff",
        "standards",
        "tiers",
        "toml",
        "value",
        "workers_per_10000_residents",
    ]
)


def english_words(text: str, *data: str) -> list[str]:
    """The ASCII words of ``text`` that are not allowed, once ``data`` (file names, column
    names, the values a problem quotes) and quoted cells are taken out."""
    for item in sorted(filter(None, data), key=len, reverse=True):
        text = text.replace(item, " ")
    text = re.sub(r"'[^']*'", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_-]*", text)
    return [w for w in words if w not in ALLOWED and not re.fullmatch(r"EPSG|[A-Z]\d+", w)]


def check_problem(problem: Problem, *data: str) -> None:
    """A problem record: its English parts are its English fields, its Chinese ones differ
    and hold no English words."""
    assert problem.record is not None, problem
    for part in PARTS:
        assert problem.rendered(part, "en") == getattr(problem, part)
    zh = " ".join(problem.rendered(part, "zh") for part in PARTS)
    assert english_words(zh, problem.file, problem.column or "", *data) == [], zh
    assert zh != " ".join(getattr(problem, part) for part in PARTS)


def test_the_chinese_templates_hold_no_english_words() -> None:
    """Every template of geo/locales and the parameter and split-block notes."""
    found = {}
    for folder, prefixes in ((ROOT / "geo", ("",)), (ROOT / "planning", ("params.", "blocks."))):
        for code, template in catalogue(folder, "zh").items():
            words = english_words(re.sub(r"\{[^{}]*\}", " ", template))
            if code.startswith(prefixes) and words:
                found[code] = words
    assert found == {}


#: The words of the project store and the runs a Chinese refusal names as a programmer writes
#: them: functions and arguments, file names and types, columns, an example name.
PROJECT_WORDS = frozenset(
    [
        "CRS",
        "DIR",
        "GCJ-02",
        "GPKG",
        "HOUSEHOLDS",
        "JSON",
        "communities",
        "create_project",
        "draft-2",
        "expected_revision",
        "facilities_path",
        "geojson",
        "gpkg",
        "grid_id",
        "inputs",
        "json",
        "out",
        "overwrite",
        "planning",
        "python",
        "run_propose",
        "summary",
    ]
)


def test_the_chinese_standards_templates_name_only_the_files_words() -> None:
    """The standards, run-input, district, plan, comparison and project templates: no
    English but the schema's and the project store's own words."""
    prefixes = ("standards.", "runs.", "district.", "plan.", "compare.", "project.", "render.")
    found = {}
    for code, template in catalogue(ROOT / "planning", "zh").items():
        # a command line quoted in backticks is the command as typed
        words = set(english_words(re.sub(r"\{[^{}]*\}|`[^`]*`", " ", template)))
        words -= SCHEMA_WORDS | PROJECT_WORDS
        if code.startswith(prefixes) and words:
            found[code] = words
    assert found == {}


@pytest.fixture
def bad_households(tmp_path: Path) -> Path:
    """Five buildings: a household count left empty, a longitude that is no number, a point
    in Paris declared GCJ-02, a negative count; one good row."""
    path = tmp_path / "坏住户.csv"
    path.write_text(
        "经度,纬度,户数,楼栋编号,小区名称\n"
        "116.30,39.98,12,A1,甲\n116.31,39.99,,A2,甲\n116.3a,39.97,5,A3,乙\n"
        "2.35,48.85,8,A4,巴黎\n116.32,39.96,-3,A5,乙\n",
        encoding="utf-8",
    )
    return path


def test_household_problems(bad_households: Path) -> None:
    from geo.intake import read_households

    with pytest.raises(ValidationError) as refused:
        read_households(bad_households, crs="gcj02")
    codes = {p.record.code for p in refused.value.problems if p.record is not None}
    assert {
        "intake.count_missing",
        "intake.coordinate_not_number",
        "intake.offset_outside_china",
        "intake.count_negative",
    } <= codes
    for problem in refused.value.problems:
        check_problem(problem, "经度/纬度")
    outside = next(p for p in refused.value.problems if "China" in p.message)
    assert outside.rendered("message", "zh") == "点位于中国境外，但声明的坐标系是 gcj02"


def test_column_mapping_problem(bad_households: Path) -> None:
    from geo.intake import read_households

    with pytest.raises(ValidationError) as refused:
        read_households(bad_households, crs="gcj02", columns={"households": "住户数"})
    missing = next(p for p in refused.value.problems if p.column == "住户数")
    check_problem(missing, "经度、纬度、户数、楼栋编号、小区名称")
    assert (
        missing.rendered("message", "zh")
        == "列映射指定 households 在“住户数”列，但文件中没有这一列"
    )


def test_a_refused_file(tmp_path: Path) -> None:
    path = tmp_path / "空.csv"
    path.write_bytes(b"")
    with pytest.raises(InputFormatError) as refused:
        read_table(path)
    error = refused.value
    assert error.record is not None and str(error) == error.text("en")
    assert str(error) == (
        "空.csv: the file is empty (0 bytes). expected: data; fix: export the data again."
    )
    assert error.text("zh") == "空.csv：文件是空的（0 字节）。应为：数据；修正方法：重新导出数据。"


def test_a_crs_not_recognised() -> None:
    from geo.crs import parse_crs

    with pytest.raises(CRSError, match="'mercator' is not recognised") as refused:
        parse_crs("mercator")
    zh = refused.value.text("zh")
    assert zh.startswith("无法识别坐标系 'mercator'；应为以下之一：")
    assert english_words(zh) == []


def test_layer_problems(tmp_path: Path) -> None:
    """A facility table with a latitude out of range, then one without a floor area column."""
    from geo.layers import read_facilities

    path = tmp_path / "设施.csv"
    path.write_text("经度,纬度,名称\n116.3,39.9,服务站\n116.4,95.0,卫生站\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read_facilities(path, crs="wgs84")
    (problem,) = refused.value.problems
    assert problem.record.code == "layers.coordinate_out_of_range"
    check_problem(problem, "WGS84 (EPSG:4326)")
    path.write_text("经度,纬度,名称\n116.3,39.9,服务站\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read_facilities(path, crs="wgs84")
    (problem,) = refused.value.problems
    assert problem.message == "no floor area column"
    check_problem(problem, "名称、geometry")


def test_footprint_problems(tmp_path: Path) -> None:
    from geo.footprints import read_footprints

    path = tmp_path / "楼.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Point", "coordinates": [116.3, 39.9]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as refused:
        read_footprints(path, crs="wgs84")
    problem = refused.value.problems[0]
    assert problem.message == "building footprints must be polygons"
    check_problem(problem)
    assert problem.rendered("message", "zh") == "建筑轮廓必须是面"


def test_the_layer_offset_warning() -> None:
    record = GeoMessage.of(
        "alignment.offset",
        name="roads.geojson",
        system="GCJ-02",
        declared="WGS84 (EPSG:4326)",
        shift_m=512.0,
        other="households.csv",
        other_declared="WGS84 (EPSG:4326)",
        measure=GeoMessage.of("alignment.word.measure_lines"),
        as_declared=0.12,
        fit=0.81,
        ring=0.1,
        points=400,
        option="--barriers-crs",
        key="gcj02",
        twin="",
    )
    problem = Problem.of("warning", "roads.geojson", record)
    assert problem.message.startswith("roads.geojson looks like GCJ-02 although declared")
    names = ("roads.geojson", "households.csv", "--barriers-crs", "GCJ-02", "WGS84 (EPSG:4326)")
    check_problem(problem, *names)


def test_parameter_refusals() -> None:
    problems = ProposeParams(community_size=1000, grid_households=900).problems()
    assert [p.message for p in problems] == ["the grid band reaches above the community band"]
    check_problem(problems[0], "grid_households")
    assert "网格目标户数 900" in problems[0].rendered("found", "zh")
    cli = ProposeParams(tolerance=0.9).problems(labels={"tolerance": "--tolerance"})
    assert cli[0].found == "0.9" and cli[0].expected == "0.01 to 0.5"
    check_problem(cli[0], "--tolerance")
    assert cli[0].rendered("expected", "zh") == "0.01 至 0.5"


def test_split_block_reasons() -> None:
    """What summary.json holds for a block, and the CLI line in either language."""
    reason = Note.of("blocks.compound_beyond.communities", compound="阳光花园")
    block = {"reason": reason.text("en"), "reason_record": note_to_data(reason)}
    assert _reason(block, "en") == (
        "小区 阳光花园 stands in it and beyond and is kept whole; together they do not fit one "
        "community"
    )
    assert _reason(block, "zh") == "小区 阳光花园 跨出该街块且保持完整；两者合起来超出一个社区"
    assert _reason({"reason": "as written before"}, "zh") == "as written before"
    too_big = Note.of("blocks.too_big.grids", households=7328.0, upper=300.0)
    assert too_big.text("zh") == "大于一个网格（7,328 户，超过 300 户）：必须分开"


def test_the_cli_summary_in_either_language(capsys) -> None:
    """The plan summary the CLI prints from summary.json: the split blocks' reasons and the
    runtime line in Chinese; in English as the CLI has always printed them."""
    from planning.cli.propose import _print_plan

    reason = Note.of("blocks.released.communities")
    block = {"block": "B0001", "households": 1609, "fits": True, "reason": reason.text("en")}
    summary = _summary_with(dict(block, reason_record=note_to_data(reason)))
    _print_plan(summary, [], "en")
    english = capsys.readouterr().out
    assert f"  - B0001 (1,609 households): {reason.text('en')}" in english
    assert "runtime: read 1.50s, write 0.25s, total 1.75s" in english
    _print_plan(summary, [], "zh")
    chinese = capsys.readouterr().out
    assert f"  - B0001（1,609 户）：{reason.text('zh')}" in chinese
    assert "用时：读取 1.50 秒，写出 0.25 秒，合计 1.75 秒" in chinese
    assert "reason_record" not in chinese and reason.text("en") not in chinese


def _summary_with(block: dict) -> dict:
    """The parts of a summary.json the CLI prints, with one split block."""
    level = {
        "count": 1,
        "households_min": 1609,
        "households_median": 1609,
        "households_max": 1609,
        "share_in_band": 1.0,
        "band": [1000, 2000],
        "share_within_20pct": 1.0,
        "multipart": 0,
        "overlap_area_m2": 0.0,
        "gap_area_m2": 0.0,
        "compounds_fit_but_split_count": 0,
        "polsby_popper_mean": 0.5,
        "polsby_popper_min": 0.5,
        "blocks_fitting": 1,
        "blocks_fitting_split": 1,
        "barrier_crossings_count": 0,
        "barrier_crossings": [],
        "crossing_streets": [],
        "grids_per_community_max": 1,
    }
    return {
        "communities": dict(level, blocks_split=[block]),
        "grids": level,
        "runtime_s": {"read": 1.5, "write": 0.25, "total": 1.75},
    }


# ---------------------------------------------------------------------------------------------
# Standards: a standards file's problems and refusals, a standards check's layers


def _values_of(problem: Problem) -> list[str]:
    """The texts a problem's record quotes from its input (keys, names, values found): data,
    not words of the template."""
    assert problem.record is not None
    out: list[str] = []
    for value in dict(problem.record.values).values():
        items = value if isinstance(value, tuple) else (value,)
        out += [item for item in items if isinstance(item, str)]
    return out


#: A standards file with a problem of every kind the schema names (the numbers say which).
BROKEN_STANDARD = """
name = "broken"
description = 7
colour = "red"
notes = "none"

[area]
rate_m2_per_100_households = 40
rate_m2_per_household = 0.4
minimum_m2 = -100
source = "test"
citation = "test"

[[area.extras]]
label = "文体"
m2 = "200平方米"
per = "street"
source = "test"
citation = "test"

[[area.extras]]
label = "网格用房"
m2 = 20
per = "grid"
source = "test"
citation = "test"

[[staff]]
households_per_worker = 0
workers_per_10000_residents = 18
minimum_workers = 2.5
source = "test"

[funds]
source = "test"
citation = "test"
[[funds.tiers]]
max_households = 3000
yuan = 70000
[[funds.tiers]]
yuan = 60000
[[funds.tiers]]
max_households = 1999
yuan = 80000
"""


def test_standards_file_problems(tmp_path: Path) -> None:
    from planning.standards.rules import load_standard

    path = tmp_path / "坏标准.toml"
    path.write_text(BROKEN_STANDARD, encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        load_standard(path)
    problems = refused.value.problems
    codes = {p.record.code.removeprefix("standards.schema.") for p in problems if p.record}
    assert codes == {
        "missing_top",
        "missing",
        "unknown_key",
        "not_text",
        "not_list",
        "both_rates",
        "negative",
        "not_number",
        "unknown_unit",
        "out_of_range",
        "not_whole",
        "both_bases",
        "tier_bound",
        "tiers_order",
        "grids_missing",
        "persons_missing",
    }
    for problem in problems:
        check_problem(problem, *_values_of(problem), *SCHEMA_WORDS)
    negative = next(p for p in problems if p.record.code.endswith(".negative"))
    # the English as the schema check has always written it
    assert (negative.message, negative.expected, negative.found, negative.fix) == (
        "key 'area.minimum_m2': is negative",
        "a number 0 or more",
        "-100 (int)",
        "correct the number",
    )
    assert [negative.rendered(part, "zh") for part in PARTS] == [
        "键 area.minimum_m2：为负数",
        "不小于 0 的数",
        "-100（整数）",
        "更正该数",
    ]
    listed = next(p for p in problems if p.record.code.endswith(".not_list"))
    assert listed.fix == "write each note under its own [[notes]] header"
    assert listed.rendered("fix", "zh") == "把每条其他要求写在各自的 [[notes]] 标题下"


def test_standards_file_refusals(tmp_path: Path) -> None:
    """A preset not shipped, a file that is not there, not TOML, not UTF-8: the English as
    before, the Chinese with the file, the presets and the parser's own words only."""
    from geo.errors import StandardsError
    from planning.standards.rules import list_presets, load_standard

    presets = ", ".join(list_presets())
    missing = tmp_path / "无.toml"
    unterminated = tmp_path / "断.toml"
    unterminated.write_text('name = "x', encoding="utf-8")
    illegal = tmp_path / "错.toml"
    illegal.write_text('name = "x\n', encoding="utf-8")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('name = "北仑"\n'.encode("gbk"))
    toml_fix = (
        "fix the line named (quotes around text, '=' between key and value) and see "
        "data/standards/README.md for the schema"
    )
    cases = [
        (
            "nope",
            f"unknown standards preset 'nope'; expected one of {presets} or the path of a .toml "
            "file with the same schema",
        ),
        (
            missing,
            f"standards file '{missing}' does not exist; give the path of a .toml file or one "
            f"of the presets: {presets}",
        ),
        (
            unterminated,
            f"{unterminated}: the standards file is not valid TOML: Unterminated string (at end "
            f"of document); {toml_fix}",
        ),
        (
            illegal,
            f"{illegal}: the standards file is not valid TOML: Illegal character '\\n' (at line "
            f"1, column 10); {toml_fix}",
        ),
        (
            gbk,
            f"{gbk}: the standards file is not UTF-8 text (invalid start byte); save it as UTF-8 "
            "(without changing the Chinese text) and load it again",
        ),
    ]
    for source, english in cases:
        with pytest.raises(StandardsError) as refused:
            load_standard(source)
        error = refused.value
        assert error.record is not None and str(error) == english
        zh = error.text("zh")
        data = [str(source), *list_presets(), "Unterminated string", "Illegal character"]
        assert english_words(zh, *data, "invalid start byte", *SCHEMA_WORDS) == [], zh
    assert error.text("zh").startswith(f"{gbk}：标准文件不是 UTF-8 文本（invalid start byte）")


def test_a_standards_check_refuses_its_layers() -> None:
    """Communities without their id column, buildings with a negative count, facilities with
    a floor area that is no number and a ``serves`` naming no community, grid counts for a
    community that is not there."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    from planning.standards.compliance import _validate

    communities = gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    buildings = gpd.GeoDataFrame({"households": [12, -3]}, geometry=[Point(0.5, 0.5)] * 2)
    facilities = gpd.GeoDataFrame(
        {"floor_area_m2": ["abc"], "serves": ["C009"]}, geometry=[box(0, 0, 0.1, 0.1)]
    )
    with pytest.raises(ValidationError) as refused:
        _validate(
            communities, buildings, facilities, id_column="community_id", grids_per_community=None
        )
    problems = refused.value.problems
    assert [p.record.code for p in problems] == [
        "standards.input.no_id",
        "standards.input.negative",
        "standards.input.not_number",
    ]
    for problem in problems:
        check_problem(problem, *_values_of(problem), *SCHEMA_WORDS)
    assert problems[0].found == "columns 名称, geometry"
    assert problems[0].rendered("found", "zh") == "现有的列：名称、geometry"
    assert problems[1].message == "household count is negative"
    assert problems[1].rendered("message", "zh") == "户数为负数"
    communities["community_id"] = ["C001"]
    with pytest.raises(ValidationError) as refused:
        _validate(
            communities,
            buildings.iloc[:1],
            facilities.assign(floor_area_m2=[50.0]),
            id_column="community_id",
            grids_per_community={"C002": 1},
        )
    serves, grids = refused.value.problems
    assert serves.message == "'serves' names communities that do not exist"
    assert serves.rendered("message", "zh") == "serves 列中有不存在的社区"
    for problem in (serves, grids):
        check_problem(problem, *_values_of(problem), *SCHEMA_WORDS)


def test_a_geojson_read_as_wgs84_warns_in_either_language(tmp_path: Path) -> None:
    from planning.runs import geojson_crs

    path = tmp_path / "社区.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    crs, (warning,) = geojson_crs(path, crs="gcj02", option="--communities-crs")
    assert crs == "wgs84"
    assert warning.message == (
        "read as WGS84: a GeoJSON file is WGS84 (RFC 7946), whatever --crs says "
        "(GCJ-02 (Amap/Tencent))"
    )
    assert warning.fix == (
        "nothing for a file this tool wrote; for a file in GCJ-02 (Amap/Tencent) all the "
        "same, pass --communities-crs gcj02"
    )
    check_problem(warning, "GCJ-02 (Amap/Tencent)", "--communities-crs", *SCHEMA_WORDS)


def test_buildings_outside_every_street_are_refused_in_either_language() -> None:
    """Seven buildings in a row 100 m apart, one 街道 around the first only."""
    import geopandas as gpd
    import pyproj
    from shapely.geometry import Point, box

    from planning.engine.district import prepare_district

    metric = pyproj.CRS(4547)
    points = [Point(500_000 + 100 * i, 4_400_000) for i in range(7)]
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i + 1}" for i in range(7)],
            "households": [10] * 7,
            "compound": [None] * 7,
        },
        geometry=points,
        crs=metric,
    ).to_crs(4326)
    street = gpd.GeoDataFrame(
        {"name": ["甲街道"]}, geometry=[box(499_950, 4_399_950, 500_050, 4_400_050)], crs=metric
    ).to_crs(4326)
    with pytest.raises(ValidationError) as refused:
        prepare_district(buildings, metric_crs=metric, subdistricts=street)
    (problem,) = refused.value.problems
    assert problem.message == "6 building(s) lie outside every 街道 polygon"
    assert problem.found == "buildings B2, B3, B4, B5, B6 …"
    assert problem.rendered("message", "zh") == "有 6 栋楼不在任何街道范围内"
    assert problem.rendered("found", "zh") == "楼栋 B2、B3、B4、B5、B6 …"
    check_problem(problem, "GCJ-02")


def test_a_sample_out_of_range_is_refused_in_either_language() -> None:
    from samples.district import write_sample

    with pytest.raises(PlanningInputError) as refused:
        write_sample(ROOT / "never-written", households=3000)
    assert str(refused.value) == (
        "sample district: households=3000 is out of range; expected an integer from 5,000 to "
        "20,000,000; fix: pass households within that range."
    )
    zh = refused.value.text("zh")
    assert (
        zh
        == "示例区：households=3000 超出范围；应为 5,000 至 20,000,000 之间的整数；请在此范围内给出 households。"
    )
    assert not (ROOT / "never-written").exists()


def test_project_and_plan_refusals_in_either_language(tmp_path: Path) -> None:
    """A project file that is not there, a scenario name refused, a community the plan does
    not have: English as before, Chinese from the same record."""
    from geo.errors import InputFormatError, ScenarioEditError
    from planning.plans.plan import _check_unique_ids
    from planning.plans.project import _check_name, open_scenario

    missing = tmp_path / "无.gpkg"
    with pytest.raises(InputFormatError) as refused:
        open_scenario(missing, "草稿")
    assert str(refused.value) == (
        f"{missing}: no such project file; expected a .gpkg made by create_project; fix: "
        "create the project first, or check the path."
    )
    assert refused.value.text("zh").startswith(f"{missing}：项目文件不存在；")
    with pytest.raises(ScenarioEditError) as refused:
        _check_name("-草稿")
    assert str(refused.value).startswith("scenario name '-草稿': expected letters (Chinese too)")
    assert refused.value.text("zh").startswith("方案名称 '-草稿' 不可用：")
    with pytest.raises(ScenarioEditError) as refused:
        _check_unique_ids(["C001", "C002", "C001"], "community ids")
    assert str(refused.value) == (
        "community ids: ids repeat (C001); expected one id per community; fix: give every "
        "community its own id."
    )
    assert (
        refused.value.text("zh")
        == "社区编号重复（C001）：应每个社区一个编号；请给每个社区各自的编号。"
    )


def test_a_folder_that_is_no_plan_is_refused_in_either_language(tmp_path: Path) -> None:
    from planning.runs import _plan_folder

    with pytest.raises(InputFormatError) as refused:
        _plan_folder(tmp_path, crs="gcj02")
    assert str(refused.value) == (
        f"{tmp_path}: expected a plan folder written by propose or rebalance "
        "(communities.geojson, households.csv, summary.json); missing communities.geojson, "
        "households.csv; fix: point at the --out folder of a run."
    )
    assert refused.value.text("zh") == (
        f"{tmp_path}：应为 propose 或 rebalance 写出的方案文件夹（含 communities.geojson、"
        "households.csv、summary.json）；缺少 communities.geojson、households.csv；请指向某次运行"
        "的 --out 文件夹。"
    )


def test_a_plan_folder_render_cannot_draw_is_refused_in_either_language(tmp_path: Path) -> None:
    from planning.render import read_plan_layers

    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputFormatError) as refused:
        read_plan_layers(tmp_path)
    assert str(refused.value) == (
        f"plan folder {tmp_path}: communities.geojson is missing. expected: a plan folder holding "
        "communities.geojson, grids.geojson, summary.json (and optionally footprints.geojson, "
        "buildings.geojson, barriers.geojson, streets.geojson); found: notes.txt; fix: run "
        "`python -m planning propose HOUSEHOLDS --crs CRS --out DIR` first and render DIR."
    )
    zh = refused.value.text("zh")
    assert zh.startswith(f"方案文件夹 {tmp_path}：缺少 communities.geojson。应为含 ")
    assert "；实际：notes.txt；先运行 `python -m planning propose" in zh
