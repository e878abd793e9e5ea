"""``python -m planning validate FILE --crs CRS``: a summary, or every problem and exit 2.

The valid file is two buildings in GCJ-02 (Amap) coordinates, Chinese column names::

    经度        纬度       户数  楼栋编号  小区名称
    116.3062   39.9014    15    B1       甲小区
    116.3162   39.9114     7    B2       乙小区
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from planning.cli import EXIT_INPUT_ERROR, main, parse_columns

VALID = "经度,纬度,户数,楼栋编号,小区名称\n116.3062,39.9014,15,B1,甲小区\n116.3162,39.9114,7,B2,乙小区\n"
BROKEN = """\
经度,纬度,户数,楼栋编号
,39.9014,3,M1
,39.9014,3,M2
abc,39.9014,3,N
39.9014,116.3062,3,S
116.3062,39.9014,-2,F
116.3062,39.9014,2.5,G
116.3062,39.9014,0,Z
"""
"""Rows 2–3 lack longitude, 4 is text, 5 swapped, 6 negative, 7 fractional, 8 zero (warning)."""


def _summary(out: str) -> dict[str, str]:
    """'  households    22' lines of the summary table → {'households': '22'}."""
    return dict(re.findall(r"^  (\S.*?)\s{2,}(.+)$", out, flags=re.MULTILINE))


@pytest.fixture
def valid_csv(tmp_path: Path) -> Path:
    path = tmp_path / "households.csv"
    path.write_bytes(VALID.encode("gbk"))
    return path


@pytest.fixture
def broken_csv(tmp_path: Path) -> Path:
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def test_validate_prints_the_summary(valid_csv: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", str(valid_csv), "--crs", "gcj02"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("households.csv: valid\n")
    lines = _summary(out)
    assert lines["rows"] == "2"
    assert lines["buildings"] == "2"
    assert lines["households"] == "22"
    assert lines["compounds"] == "2"
    assert lines["population"] == "—"
    assert lines["source CRS"] == "GCJ-02 (Amap/Tencent)"
    assert lines["metric CRS"].startswith("EPSG:4548")
    assert lines["encoding"] == "gb18030"
    assert "lon=经度, lat=纬度, households=户数, building=楼栋编号, compound=小区名称" in out
    # GCJ-02 shifted back: the WGS84 box lies west and south of the raw numbers
    bbox = lines["bbox (WGS84)"]
    west = float(bbox.split(",")[0])
    assert 116.29 < west < 116.3062


def test_validate_prints_warnings_but_succeeds(tmp_path: Path, capsys) -> None:
    path = tmp_path / "h.csv"
    path.write_text("lng,lat\n116.3,39.9\n116.3,39.9\n", encoding="utf-8")
    assert main(["validate", str(path), "--crs", "wgs84"]) == 0
    out, _ = capsys.readouterr()
    assert "1 warning(s):" in out
    assert "no households column; every row counts as one household" in out


def test_validate_json(valid_csv: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", str(valid_csv), "--crs", "gcj02", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["households"] == 22
    assert report["summary"]["source_crs"] == "GCJ-02 (Amap/Tencent)"
    assert report["problems"] == []


def test_validate_with_a_column_mapping(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "h.csv"
    path.write_text("东经X,北纬X,户数合计\n116.3,39.9,4\n", encoding="utf-8")
    argv = [
        "validate",
        str(path),
        "--crs",
        "wgs84",
        "--columns",
        "lon=东经X, lat=北纬X,households=户数合计",
    ]
    assert main(argv) == 0
    assert _summary(capsys.readouterr().out)["households"] == "4"


def test_a_broken_file_prints_every_problem_and_exits_2(
    broken_csv: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["validate", str(broken_csv), "--crs", "gcj02"]) == EXIT_INPUT_ERROR == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("5 error(s), 1 warning(s); the file was refused:\n")
    for expected in (
        "[error] broken.csv: column '经度': rows 2, 3 (2 in all): longitude is missing",
        "[error] broken.csv: column '经度': rows 4 (1 in all): longitude is not a number",
        "[error] broken.csv: column '经度/纬度': rows 5 (1 in all): latitude and longitude look "
        "swapped",
        "[error] broken.csv: column '户数': rows 6 (1 in all): households is negative",
        "[error] broken.csv: column '户数': rows 7 (1 in all): households is fractional",
        "[warning] broken.csv: column '户数': rows 8 (1 in all): households is zero",
    ):
        assert expected in err
    assert err.count("    fix: ") == 6
    assert "Traceback" not in err


def test_a_broken_file_with_json_still_exits_2(broken_csv: Path, capsys) -> None:
    assert main(["validate", str(broken_csv), "--crs", "gcj02", "--json"]) == 2
    assert "longitude is missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--crs", "gcj02"], r"error: nowhere\.csv: no such file"),
        (["--crs", "amap"], r"error: CRS 'amap' is not recognised"),
        (["--crs", "wgs84", "--columns", "lon"], r"error: --columns: 'lon' is not role=column"),
    ],
)
def test_input_errors_exit_2_with_one_line(
    tmp_path: Path, valid_csv: Path, capsys, argv: list[str], match: str
) -> None:
    target = tmp_path / "nowhere.csv" if argv[1] == "gcj02" else valid_csv
    assert main(["validate", str(target), *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ")
    assert re.search(match, err)


def test_an_unreadable_file_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert main(["validate", str(path), "--crs", "gcj02"]) == 2
    assert "the file is empty (0 bytes)" in capsys.readouterr().err


def test_the_crs_is_required(valid_csv: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", str(valid_csv)])
    assert info.value.code == 2
    assert "--crs" in capsys.readouterr().err


def test_parse_columns() -> None:
    assert parse_columns("lon=东经, lat = 北纬") == {"lon": "东经", "lat": "北纬"}
    assert parse_columns(None) is None
    assert parse_columns("") is None


def test_the_haidian_sample_validates(haidian: Path, capsys) -> None:
    assert main(["validate", str(haidian / "households.geojson"), "--crs", "wgs84"]) == 0
    out = capsys.readouterr().out
    assert "households.geojson: valid" in out
    assert "5,805" in out
    assert "109" in out
