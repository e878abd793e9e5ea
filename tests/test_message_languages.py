"""Every kind of record a planner reads renders in both languages: its English text is the
text the library has always written, its Chinese text has no English words left but ids,
formats, software and column names.

Kinds: the household reader's problems (geo.intake), the column mapping's (geo.columns), a
refused file (geo.tables), a CRS (geo.crs), a layer's problems (geo.layers), a footprint
file's (geo.footprints), the layer-offset warning (geo.alignment), parameter refusals
(planning.params) and the split-block reasons (planning.engine.metrics, shown by the CLI).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.errors import PARTS, CRSError, InputFormatError, Problem, ValidationError
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
