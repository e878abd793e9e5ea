"""A corpus of bad household tables: each is refused naming file, column and rows, or read
with a warning and the households in equal to the households out.

Every case is the two good rows below plus one or two faulty rows (row 4 on), as a CSV::

    row 2  116.3000, 39.9000, 10 户, A
    row 3  116.3100, 39.9100, 20 户, B
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import ValidationError
from geo.intake import read_households

HEADER = "经度,纬度,户数,楼栋编号"
GOOD = ["116.3000,39.9000,10,A", "116.3100,39.9100,20,B"]

#: (id, faulty rows, message the refusal starts with, column, rows)
REFUSED = [
    ("hh-inf", ["116.32,39.92,inf,C"], "households is not a finite number", "户数", (4,)),
    ("hh-neg-inf", ["116.32,39.92,-inf,C"], "households is not a finite number", "户数", (4,)),
    ("hh-Infinity", ["116.32,39.92,Infinity,C"], "households is not a finite number", "户数", (4,)),
    ("hh-nan", ["116.32,39.92,nan,C"], "households is not a number", "户数", (4,)),
    ("hh-NaN", ["116.32,39.92,NaN,C"], "households is not a number", "户数", (4,)),
    ("hh-1e20", ["116.32,39.92,1e20,C"], "households is too large to be a count", "户数", (4,)),
    ("hh-1E+20", ["116.32,39.92,1E+20,C"], "households is too large to be a count", "户数", (4,)),
    ("hh-int64", ["116.32,39.92,9223372036854775808,C"], "households is too large", "户数", (4,)),
    ("hh-1e12", ["116.32,39.92,1000000000000,C"], "households is too large", "户数", (4,)),
    ("hh-giant", ["116.32,39.92,5001,C"], "1 building(s) with more than 5,000", "户数", (4,)),
    (
        "hh-giant-sum",
        ["116.32,39.92,3000,C", "116.32,39.92,2001,C"],
        "1 building(s) with more than 5,000",
        "户数",
        (4, 5),
    ),
    ("hh-giant-grouped", ['116.32,39.92,"12,000",C'], "1 building(s) with more than", "户数", (4,)),
    (
        "hh-70,0",
        ['116.32,39.92,"70,0",C'],
        "households is written with a decimal comma",
        "户数",
        (4,),
    ),
    (
        "hh-2,5",
        ['116.32,39.92,"2,5",C'],
        "households is written with a decimal comma",
        "户数",
        (4,),
    ),
    (
        "hh-0,5",
        ['116.32,39.92,"0,5",C'],
        "households is written with a decimal comma",
        "户数",
        (4,),
    ),
    (
        "hh-12,34",
        ['116.32,39.92,"12,34",C'],
        "households is written with a decimal comma",
        "户数",
        (4,),
    ),
    (
        "hh-1,2345",
        ['116.32,39.92,"1,2345",C'],
        "households is written with a decimal",
        "户数",
        (4,),
    ),
    ("hh-1,2,3", ['116.32,39.92,"1,2,3",C'], "households is not a number", "户数", (4,)),
    ("hh-1.234", ["116.32,39.92,1.234,C"], "households is fractional", "户数", (4,)),
    ("hh-units", ["116.32,39.92,10户,C"], "households is not a number", "户数", (4,)),
    ("hh-empty", ["116.32,39.92,,C"], "households missing", "户数", (4,)),
    ("hh-negative", ["116.32,39.92,-3,C"], "households is negative", "户数", (4,)),
    (
        "lon-comma",
        ['"116,32",39.92,3,C'],
        "longitude is written with a decimal comma",
        "经度",
        (4,),
    ),
    ("lat-comma", ['116.32,"39,92",3,C'], "latitude is written with a decimal comma", "纬度", (4,)),
    ("lon-inf", ["inf,39.92,3,C"], "coordinates out of range", "经度/纬度", (4,)),
    ("lat-nan", ["116.32,nan,3,C"], "latitude is not a number", "纬度", (4,)),
    ("zero-zero", ["0,0,3,C"], "points at (0, 0)", "经度/纬度", (4,)),
    ("zero-zero-float", ["0.000,0.000,3,C"], "points at (0, 0)", "经度/纬度", (4,)),
    ("paris", ["2.35,48.85,3,C"], "points outside China, far from the rest", "经度/纬度", (4,)),
    ("gulf", ["0.0001,0.0001,3,C"], "points outside China, far from the rest", "经度/纬度", (4,)),
    ("new-york", ["-74.0,40.7,3,C"], "points outside China, far from the rest", "经度/纬度", (4,)),
    ("swapped", ["39.92,116.32,3,C"], "latitude and longitude look swapped", "经度/纬度", (4,)),
    ("metres", ["448000.5,4418000.5,3,C"], "coordinates out of range", "经度/纬度", (4,)),
]


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "h.csv"
    path.write_text("\n".join([HEADER, *GOOD, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "message", "column", "numbers"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_each_bad_table_is_refused_naming_file_column_and_rows(
    tmp_path: Path, rows: list[str], message: str, column: str, numbers: tuple[int, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        read_households(_csv(tmp_path, rows), crs="wgs84")
    errors = info.value.report.errors
    assert [(e.file, e.column, e.rows) for e in errors] == [("h.csv", column, numbers)]
    assert errors[0].message.startswith(message)
    assert all(part in str(errors[0]) for part in ("expected: ", "found: ", "fix: "))


#: (id, extra rows, warning message start (None: no warning), households of the extra rows)
READ = [
    ("grouped-1,234", ['116.32,39.92,"1,234",C'], None, 1234),
    ("grouped-space", ["116.32,39.92,1 234,C"], None, 1234),
    ("grouped-nbsp", ["116.32,39.92,1\u00a0234,C"], None, 1234),
    ("grouped-thin", ["116.32,39.92,1\u2009234,C"], None, 1234),
    ("grouped-1,000", ['116.32,39.92,"1,000",C'], None, 1000),
    ("plus-sign", ["116.32,39.92,+7,C"], None, 7),
    ("float-whole", ["116.32,39.92,7.0,C"], None, 7),
    ("padded", ["116.32,39.92, 7 ,C"], None, 7),
    ("exactly-limit", ["116.32,39.92,5000,C"], None, 5000),
    ("zero", ["116.32,39.92,0,C"], "households is zero", 0),
    ("shanghai", ["121.47,31.23,3,S"], "points more than 50 km from the middle", 3),
    ("harbin", ["126.63,45.75,3,H"], "points more than 50 km from the middle", 3),
    ("tianjin-60km", ["117.00,39.90,3,T"], "points more than 50 km from the middle", 3),
    ("changping-30km", ["116.23,40.22,3,P"], None, 3),
]


@pytest.mark.parametrize(
    ("rows", "warning", "extra"),
    [case[1:] for case in READ],
    ids=[case[0] for case in READ],
)
def test_each_awkward_table_is_read_with_totals_in_equal_to_totals_out(
    tmp_path: Path, rows: list[str], warning: str | None, extra: int
) -> None:
    data = read_households(_csv(tmp_path, rows), crs="wgs84")
    assert data.summary()["households"] == 30 + extra
    assert int(data.rows["_households"].sum()) == 30 + extra
    messages = [p.message for p in data.report.problems]
    if warning is None:
        assert messages == []
    else:
        assert len(messages) == 1
        assert messages[0].startswith(warning)
        assert data.report.problems[0].rows == (4,)
