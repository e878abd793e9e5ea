"""Nothing wrong in silence: one corpus of bad and awkward inputs, each generated here and run
through a public entry point (``planning.cli.main`` or a reader of ``geo``), each asserting its
outcome.

An input is either

- **refused**: exit code 2 or a :class:`geo.errors.PlanningInputError` whose problems name the
  file, the column and the rows (where there are rows) — never another exception, and never
  exit 3 (the one-line report of a bug); or
- **read**: the households in equal the households out, exactly, and the expected warning is
  reported (printed, for a command).

The households of most cases are the two good buildings of ``tests/geo/test_intake_corpus.py``
plus one faulty row (row 4 on); the other layers are drawn near them::

    39.91 ┌──────────┐ B (20 户)       SQUARE = box(116.30, 39.90, 116.31, 39.91)
          │  SQUARE  │                 ROAD   = the line A → B
    39.90 A──────────┘ (10 户)         POINT  = (116.305, 39.905), the square's centre
        116.30     116.31
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, Point, box, mapping

from geo.crs import wgs84_to_gcj02
from geo.errors import PlanningInputError, ValidationError
from geo.intake import read_households
from geo.layers import (
    read_barriers,
    read_communities,
    read_compounds,
    read_facilities,
    read_subdistricts,
)
from planning.cli import EXIT_INPUT_ERROR, main
from tests.geo.test_intake_corpus import GOOD, HEADER, READ, REFUSED

SQUARE = box(116.30, 39.90, 116.31, 39.91)
ROAD = LineString([(116.30, 39.90), (116.31, 39.91)])
POINT = Point(116.305, 39.905)
#: The households of GOOD, rows 2 and 3.
GOOD_HOUSEHOLDS = 30


# --- what a case expects -----------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A refusal: a problem of ``file`` whose message holds ``message``, in ``column`` (None: the
    problem is of the whole file) at ``rows`` (empty: no rows). ``file`` is ``""`` where the
    problem names a path the corpus does not know in advance (``--out``, a plan folder) or no
    file at all (argparse refusing a value its type cannot parse, also exit 2)."""

    file: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Read:
    """Read whole: ``total`` households (or features, for a layer) out, and a warning holding
    ``warning`` (None: no warning at all) at ``rows``."""

    total: int
    warning: str | None = None
    rows: tuple[int, ...] | None = None


Expected = Refused | Read


@dataclass(frozen=True)
class ReaderCase:
    """An input built by ``make`` in a folder, read by ``read`` (a public reader of geo)."""

    id: str
    make: Callable[[Path], Path]
    read: Callable[[Path], object]
    expected: Expected
    marks: tuple = ()

    def check(self, folder: Path, capsys: pytest.CaptureFixture) -> None:
        path = self.make(folder)
        if isinstance(self.expected, Refused):
            with pytest.raises(PlanningInputError) as info:
                self.read(path)
            _assert_refusal(info.value, self.expected)
            return
        result = self.read(path)
        _assert_totals(result, self.expected.total)
        _assert_warning(list(result.report.problems), self.expected)


@dataclass(frozen=True)
class CliCase:
    """A command line built by ``argv`` in a folder, run by ``planning.cli.main``."""

    id: str
    argv: Callable[[Path], list[str]]
    expected: Expected
    marks: tuple = ()
    #: files that must not exist after a refusal (nothing written before every input is read)
    absent: tuple[str, ...] = field(default=())

    def check(self, folder: Path, capsys: pytest.CaptureFixture) -> None:
        argv = self.argv(folder)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refuses a value its type cannot parse
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        if isinstance(self.expected, Refused):
            assert code == EXIT_INPUT_ERROR, err
            _assert_printed_refusal(err, self.expected)
            for name in self.absent:
                assert not (folder / name).exists(), name
            return
        assert code == 0, err
        _assert_printed_read(argv, out, folder, self.expected)


Case = ReaderCase | CliCase


def _assert_refusal(exc: PlanningInputError, expected: Refused) -> None:
    if not isinstance(exc, ValidationError):  # a refusal of the whole file, in one sentence
        assert expected.column is None and not expected.rows
        assert str(exc).startswith(f"{expected.file}: ") or expected.file in str(exc)
        assert expected.message in str(exc)
        return
    matching = [p for p in exc.report.errors if expected.message in p.message]
    assert matching, [str(p) for p in exc.report.errors]
    problem = matching[0]
    assert (problem.file, problem.column, problem.rows) == (
        expected.file,
        expected.column,
        expected.rows,
    ), str(problem)
    assert problem.fix and problem.expected


def _assert_printed_refusal(err: str, expected: Refused) -> None:
    assert expected.message in err, err
    where = [expected.file]
    if expected.column:
        where.append(f"column '{expected.column}'")
    if expected.rows:
        where.append(f"rows {', '.join(map(str, expected.rows))} ")
    assert ": ".join(where) in err, err


def _assert_totals(result: object, total: int) -> None:
    if hasattr(result, "summary"):  # households
        assert result.summary()["households"] == total
        assert int(result.rows["_households"].sum()) == total
    else:  # a layer: every feature kept
        assert len(result.frame) == total


def _assert_warning(problems: list, expected: Read) -> None:
    assert not [p for p in problems if p.is_error]
    if expected.warning is None:
        assert problems == [], [str(p) for p in problems]
        return
    matching = [p for p in problems if expected.warning in p.message]
    assert matching, [str(p) for p in problems]
    if expected.rows is not None:
        assert matching[0].rows == expected.rows


def _assert_printed_read(argv: list[str], out: str, folder: Path, expected: Read) -> None:
    if expected.warning is None:
        assert "warning(s):" not in out, out
    else:
        assert "warning(s):" in out and expected.warning in out, out
    if argv[0] == "validate":
        households = re.search(r"^  households\s+([\d,]+)$", out, re.MULTILINE)
        assert households and int(households[1].replace(",", "")) == expected.total, out
        return
    plan = Path(argv[argv.index("--out") + 1])
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    assert summary["data"]["households"] == expected.total
    if expected.warning is not None:  # written whole into summary.json, too
        assert any(expected.warning in w["message"] for w in summary["warnings"])
    features = json.loads((plan / "communities.geojson").read_text(encoding="utf-8"))["features"]
    assert sum(f["properties"]["households"] for f in features) == expected.total
    rows = pd.read_csv(plan / "households.csv", encoding="utf-8-sig", thousands=",")
    assert int(rows.filter(regex="户数|households").iloc[:, 0].sum()) == expected.total
    assert all(shapely.geometry.shape(f["geometry"]).is_valid for f in features)


# --- builders ----------------------------------------------------------------------------------


def _text(name: str, *lines: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        return path

    return make


def _households_csv(*rows: str, name: str = "h.csv") -> Callable[[Path], Path]:
    """The two good buildings (rows 2, 3) and ``rows`` (row 4 on)."""
    return _text(name, HEADER, *GOOD, *rows)


def _workbook(name: str, sheets: dict[str, list[list[object]]]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        path = folder / name
        book.save(path)
        return path

    return make


def _points(households: list[object], *, crs: int | None = 4326) -> gpd.GeoDataFrame:
    """One point per count, 0.001° apart eastwards from A, all in 甲小区."""
    frame = gpd.GeoDataFrame(
        {"households": households, "小区": ["甲小区"] * len(households)},
        geometry=[Point(116.3 + 0.001 * i, 39.9) for i in range(len(households))],
        crs=4326,
    )
    return frame.set_crs(None, allow_override=True) if crs is None else frame.to_crs(crs)


def _spatial(name: str, frame: Callable[[], gpd.GeoDataFrame], **kw) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        frame().to_file(path, **kw)
        return path

    return make


def _geopackage(layers: dict[str, list[int]]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "h.gpkg"
        for layer, households in layers.items():
            _points(households).to_file(path, layer=layer)
        return path

    return make


def _zipped_shapefiles(
    parts: dict[str, list[object]], *, encoding: str = "utf-8", cpg: bool = True
) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        target = folder / "h.zip"
        with zipfile.ZipFile(target, "w") as archive:
            for stem, households in parts.items():
                (folder / stem).mkdir()
                _points(households).to_file(folder / stem / f"{stem}.shp", encoding=encoding)
                for part in sorted((folder / stem).iterdir()):
                    if cpg or part.suffix != ".cpg":
                        archive.write(part, part.name)
        return target

    return make


def _geojson(name: str, features: list[tuple[dict, object]]) -> Callable[[Path], Path]:
    """A GeoJSON written by hand (a GeoDataFrame would not keep a collection or a Z as given)."""

    def make(folder: Path) -> Path:
        path = folder / name
        collection = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": p, "geometry": g and mapping(g)}
                for p, g in features
            ],
        }
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
        return path

    return make


def _gcj02(geometry):
    return shapely.transform(
        geometry, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )


def _facilities(suffix: str, **changes: list) -> Callable[[Path], Path]:
    """Two facilities as planners keep them: 名称, 类型, 经度/纬度 (GCJ-02), 建筑面积."""

    def make(folder: Path) -> Path:
        gx, gy = wgs84_to_gcj02(np.array([116.305, 116.307]), np.array([39.905, 39.906]))
        table = pd.DataFrame(
            {
                "名称": ["社区服务中心", "养老驿站"],
                "类型": ["综合服务", "养老"],
                "经度": gx.round(7),
                "纬度": gy.round(7),
                "建筑面积": [650, 320],
            }
        )
        for column, values in changes.items():
            if values is None:
                table = table.drop(columns=column)
            else:
                table[column] = values
        path = folder / f"f{suffix}"
        if suffix == ".csv":
            table.to_csv(path, index=False, encoding="utf-8-sig")
        else:
            table.to_excel(path, index=False)
        return path

    return make


def _projected(name: str, geometry, epsg: int) -> Callable[[Path], Path]:
    return _spatial(
        name, lambda: gpd.GeoDataFrame({"name": ["甲"]}, geometry=[geometry], crs=4326).to_crs(epsg)
    )


# --- the corpus: household tables through the command line (validate) -------------------------


def _validate(make: Callable[[Path], Path], *extra: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["validate", str(make(folder)), "--crs", "wgs84", *extra]


HOUSEHOLD_TABLES: list[Case] = [
    CliCase(
        f"validate-{name}",
        _validate(_households_csv(*rows)),
        Refused("h.csv", message, column, numbers),
    )
    for name, rows, message, column, numbers in REFUSED
] + [
    CliCase(
        f"validate-{name}",
        _validate(_households_csv(*rows)),
        Read(GOOD_HOUSEHOLDS + extra, warning),
    )
    for name, rows, warning, extra in READ
]

# --- households in every format, through geo.intake.read_households ---------------------------

WGS84 = partial(read_households, crs="wgs84")
TABLE = [["经度", "纬度", "户数"], [116.30, 39.90, 10], [116.31, 39.91, 20]]
MORE = [["经度", "纬度", "户数"], [116.32, 39.92, 5], [116.33, 39.93, 6], [116.34, 39.9, 7]]
TITLE = [["某某街道住户表"], []]
X, Y = pyproj.Transformer.from_crs(4326, 4547, always_xy=True).transform(
    [116.30, 116.31], [39.90, 39.91]
)


HOUSEHOLD_FORMATS: list[Case] = [
    # workbooks
    ReaderCase(
        "xlsx-two-sheets",
        _workbook("h.xlsx", {"东区": TABLE, "西区": MORE}),
        WGS84,
        Refused("h.xlsx", "the workbook has 2 sheets with data"),
    ),
    ReaderCase(
        "xlsx-two-sheets-sheet-named",
        _workbook("h.xlsx", {"东区": TABLE, "西区": MORE}),
        partial(WGS84, sheet="西区"),
        Read(18),
    ),
    ReaderCase(
        "xlsx-sheet-not-there",
        _workbook("h.xlsx", {"东区": TABLE, "西区": MORE}),
        partial(WGS84, sheet="北区"),
        Refused("h.xlsx", "no sheet '北区'"),
    ),
    ReaderCase(
        "xlsx-cover-sheet",
        _workbook("h.xlsx", {"封面": [["某某街道住户统计表"], ["2024年"]], "数据": TABLE}),
        WGS84,
        Read(30, "skipped '封面'"),
    ),
    ReaderCase(
        "xlsx-empty-sheets",
        _workbook("h.xlsx", {"空": [], "数据": TABLE, "也空": []}),
        WGS84,
        Read(30),
    ),
    ReaderCase(
        "xlsx-title-rows",
        _workbook("h.xlsx", {"Sheet1": TITLE + TABLE}),
        WGS84,
        Read(30, "the header is on row 3", ()),
    ),
    ReaderCase(
        "xlsx-title-rows-negative",
        _workbook("h.xlsx", {"Sheet1": [*TITLE, *TABLE, [116.32, 39.92, -1]]}),
        WGS84,
        Refused("h.xlsx", "households is negative", "户数", (6,)),
    ),
    ReaderCase(
        "xlsx-inf-text",
        _workbook("h.xlsx", {"Sheet1": [*TABLE, [116.32, 39.92, "inf"]]}),
        WGS84,
        Refused("h.xlsx", "households is not a finite number", "户数", (4,)),
    ),
    ReaderCase(
        "xlsx-decimal-comma",
        _workbook("h.xlsx", {"Sheet1": [*TABLE, [116.32, 39.92, "70,0"]]}),
        WGS84,
        Refused("h.xlsx", "households is written with a decimal comma", "户数", (4,)),
    ),
    ReaderCase(
        "xlsx-empty-count",
        _workbook("h.xlsx", {"Sheet1": [*TABLE, [116.32, 39.92, None]]}),
        WGS84,
        Refused("h.xlsx", "households missing", "户数", (4,)),
    ),
    ReaderCase(
        "xlsx-1e20",
        _workbook("h.xlsx", {"Sheet1": [*TABLE, [116.32, 39.92, 1e20]]}),
        WGS84,
        Refused("h.xlsx", "households is too large to be a count", "户数", (4,)),
    ),
    ReaderCase(
        "xlsx-header-row-past-end",
        _workbook("h.xlsx", {"Sheet1": TABLE}),
        partial(WGS84, header_row=9),
        Refused("h.xlsx", "header_row=9, but the table has only 3 row"),
    ),
    # CSV as awkward as it comes
    ReaderCase(
        "csv-title-row",
        _text("h.csv", "某某街道住户表（2024年）", HEADER, *GOOD),
        WGS84,
        Read(30, "skipped", ()),
    ),
    ReaderCase(
        "csv-blank-lines-above",
        _text("h.csv", "", ",,,", HEADER, *GOOD),
        WGS84,
        Read(30),
    ),
    ReaderCase(
        "csv-no-header",
        _text("h.csv", "a,b,c", "116.3,39.9,3"),
        WGS84,
        Refused("h.csv", "no column for lon and lat"),
    ),
    ReaderCase(
        "csv-gbk",
        _text("h.csv", HEADER, *GOOD, "116.3200,39.9200,5,丙楼", encoding="gbk"),
        WGS84,
        Read(35),
    ),
    ReaderCase(
        "csv-semicolons-decimal-commas",
        _text("h.csv", "经度;纬度;户数", "116,3;39,9;3"),
        WGS84,
        Refused("h.csv", "longitude is written with a decimal comma", "经度", (2,)),
    ),
    ReaderCase(
        "csv-header-row-0",
        _households_csv(),
        partial(WGS84, header_row=0),
        Refused("h.csv", "is not a row number"),
    ),
    ReaderCase(
        "csv-layer-given",
        _households_csv(),
        partial(WGS84, layer="a"),
        Refused("h.csv", "layer="),
    ),
    ReaderCase(
        "csv-metres-declared-wgs84",
        _text("h.csv", "x,y,户数", f"{X[0]},{Y[0]},3", f"{X[1]},{Y[1]},4"),
        WGS84,
        Refused("h.csv", "coordinates out of range", "x/y", (2, 3)),
    ),
    ReaderCase(
        "csv-degrees-declared-4547",
        _households_csv(),
        partial(read_households, crs="4547"),
        Refused("h.csv", "look like longitude/latitude degrees", "经度/纬度", (2, 3)),
    ),
    ReaderCase(
        "csv-giant-allowed",
        _households_csv("116.3200,39.9200,8000,C"),
        partial(WGS84, allow_large_counts=True),
        Read(8030, "accepted as asked", (4,)),
    ),
    ReaderCase(
        "csv-population-1e20",
        _text("h.csv", "经度,纬度,户数,人口", "116.3,39.9,3,1e20"),
        WGS84,
        Refused("h.csv", "population is too large to be a count", "人口", (2,)),
    ),
    # GeoJSON
    ReaderCase(
        "geojson-zero-zero",
        _geojson(
            "h.geojson",
            [({"households": 3}, Point(116.3, 39.9)), ({"households": 4}, Point(0, 0))],
        ),
        WGS84,
        Refused("h.geojson", "points at (0, 0)", "geometry", (2,)),
    ),
    ReaderCase(
        "geojson-negative",
        _spatial("h.geojson", lambda: _points([3, -4])),
        WGS84,
        Refused("h.geojson", "households is negative", "households", (2,)),
    ),
    ReaderCase(
        "geojson-text-count",
        _spatial("h.geojson", lambda: _points(["3", "4户"])),
        WGS84,
        Refused("h.geojson", "households is not a number", "households", (2,)),
    ),
    ReaderCase(
        "geojson-sheet-given",
        _spatial("h.geojson", lambda: _points([3])),
        partial(WGS84, sheet="a"),
        Refused("h.geojson", "sheet="),
    ),
    ReaderCase(
        "geojson-good",
        _spatial("h.geojson", lambda: _points([3, 4, 5])),
        WGS84,
        Read(12),
    ),
    ReaderCase(
        "geojson-1e20",
        _spatial("h.geojson", lambda: _points([3.0, 1e20])),
        WGS84,
        Refused("h.geojson", "households is too large to be a count", "households", (2,)),
    ),
    ReaderCase(
        "geojson-count-null",
        _spatial("h.geojson", lambda: _points([3.0, None])),
        WGS84,
        Refused("h.geojson", "households missing", "households", (2,)),
    ),
    ReaderCase(
        "geojson-no-households-column",
        _geojson("h.geojson", [({"name": "甲"}, POINT)]),
        WGS84,
        Read(1, "no households column; every row counts as one household"),
    ),
    ReaderCase(
        "geojson-footprints",
        _geojson("h.geojson", [({"households": 3}, SQUARE)]),
        WGS84,
        Read(3, "building footprints were turned into points", (1,)),
    ),
    ReaderCase(
        "geojson-multipoint",
        _geojson("h.geojson", [({"households": 3}, shapely.MultiPoint([(116.3, 39.9), POINT]))]),
        WGS84,
        Refused(
            "h.geojson", "features that are neither points nor building footprints", None, (1,)
        ),
    ),
    ReaderCase(
        "geojson-null-geometry",
        _geojson("h.geojson", [({"households": 3}, None), ({"households": 4}, POINT)]),
        WGS84,
        Refused("h.geojson", "features without a geometry", None, (1,)),
    ),
    ReaderCase(
        "geojson-heights",
        _geojson(
            "h.geojson",
            [
                ({"households": 3}, Point(116.3, 39.9, 5)),
                ({"households": 4}, Point(*POINT.coords[0], 5)),
            ],
        ),
        WGS84,
        Read(7, "Z coordinates"),
    ),
    # more tables
    ReaderCase(
        "csv-row-repeated",
        _households_csv("116.3000,39.9000,10,A"),
        WGS84,
        Read(40, "households count twice", (4,)),
    ),
    ReaderCase(
        "csv-no-building-column",
        _text("h.csv", "经度,纬度,户数", "116.3,39.9,3", "116.31,39.91,4"),
        WGS84,
        Read(7),
    ),
    ReaderCase(
        "csv-tabs",
        _text("h.csv", "经度\t纬度\t户数", "116.3\t39.9\t3"),
        WGS84,
        Read(3),
    ),
    ReaderCase(
        "csv-lng-Lat-english",
        _text("h.csv", "lng,Lat,households", "116.3,39.9,3"),
        WGS84,
        Read(3),
    ),
    ReaderCase(
        "csv-lon-missing",
        _households_csv(",39.92,3,C"),
        WGS84,
        Refused("h.csv", "longitude is missing", "经度", (4,)),
    ),
    ReaderCase(
        "csv-building-in-two-compounds",
        _text("h.csv", "经度,纬度,户数,楼栋编号,小区", "116.3,39.9,3,A,甲", "116.3,39.9,4,A,乙"),
        WGS84,
        Read(7, "rows naming different compounds"),
    ),
    ReaderCase("csv-empty", _text("h.csv", ""), WGS84, Refused("h.csv", "the file is empty")),
    ReaderCase("csv-header-only", _text("h.csv", HEADER), WGS84, Refused("h.csv", "no data rows")),
    ReaderCase(
        "csv-not-there",
        lambda folder: folder / "missing.csv",
        WGS84,
        Refused("missing.csv", "no such file"),
    ),
    ReaderCase(
        "xlsx-grouped-text",
        _workbook("h.xlsx", {"Sheet1": [*TABLE, [116.32, 39.92, "1,234"]]}),
        WGS84,
        Read(1264),
    ),
    ReaderCase(
        "xlsx-boolean-count",
        _workbook("h.xlsx", {"Sheet1": [*TABLE, [116.32, 39.92, True]]}),
        WGS84,
        Refused("h.xlsx", "households is not a number", "户数", (4,)),
    ),
    ReaderCase(
        "xlsx-cover-and-two-sheets",
        _workbook("h.xlsx", {"封面": [["统计表"]], "东区": TABLE, "西区": MORE}),
        WGS84,
        Refused("h.xlsx", "sheets with data"),
    ),
    ReaderCase(
        "xlsx-not-a-workbook",
        _text("h.xlsx", "not a workbook"),
        WGS84,
        Refused("h.xlsx", "not a readable .xlsx workbook"),
    ),
    ReaderCase(
        "gpkg-not-a-geopackage",
        _text("h.gpkg", "not a gpkg"),
        WGS84,
        Refused("h.gpkg", "cannot be read as .gpkg"),
    ),
    ReaderCase(
        "zip-not-a-zip", _text("h.zip", "not a zip"), WGS84, Refused("h.zip", "not a readable zip")
    ),
    ReaderCase(
        "zip-empty",
        lambda folder: zipfile.ZipFile(folder / "h.zip", "w").close() or folder / "h.zip",
        WGS84,
        Refused("h.zip", "the zip holds no .shp file"),
    ),
    # GeoPackage
    ReaderCase(
        "gpkg-two-layers",
        _geopackage({"住户": [10, 20, 30], "test": [1]}),
        WGS84,
        Refused("h.gpkg", "holds 2 layers with data"),
    ),
    ReaderCase(
        "gpkg-layer-named",
        _geopackage({"住户": [10, 20, 30], "test": [1]}),
        partial(WGS84, layer="住户"),
        Read(60),
    ),
    ReaderCase(
        "gpkg-layer-not-there",
        _geopackage({"住户": [10]}),
        partial(WGS84, layer="x"),
        Refused("h.gpkg", "no layer 'x'"),
    ),
    ReaderCase(
        "gpkg-inf",
        _spatial("h.gpkg", lambda: _points([3.0, math.inf])),
        WGS84,
        Refused("h.gpkg", "households is not a finite number", "households", (2,)),
    ),
    ReaderCase(
        "gpkg-states-4549-declared-wgs84",
        _spatial("h.gpkg", lambda: _points([3, 4], crs=4549)),
        WGS84,
        Refused("h.gpkg", "EPSG:4549"),
    ),
    # zipped Shapefiles
    ReaderCase(
        "zip-two-shapefiles",
        _zipped_shapefiles({"north": [5, 5], "south": [1]}),
        WGS84,
        Refused("h.zip", "holds 2 Shapefiles with data"),
    ),
    ReaderCase(
        "zip-two-shapefiles-layer-named",
        _zipped_shapefiles({"north": [5, 5], "south": [1]}),
        partial(WGS84, layer="north"),
        Read(10),
    ),
    ReaderCase(
        "zip-gbk-without-cpg",
        _zipped_shapefiles({"h": [3, 4]}, encoding="gbk", cpg=False),
        WGS84,
        Read(7, "was read as GB18030"),
    ),
    ReaderCase(
        "zip-gbk-with-cpg",
        _zipped_shapefiles({"h": [3, 4]}, encoding="gbk"),
        WGS84,
        Read(7),
    ),
    ReaderCase(
        "zip-utf8-without-cpg",
        _zipped_shapefiles({"h": [3, 4]}, cpg=False),
        WGS84,
        Read(7),
    ),
    ReaderCase(
        "zip-negative",
        _zipped_shapefiles({"h": [3, -1]}),
        WGS84,
        Refused("h.zip", "households is negative", "households", (2,)),
    ),
]

# --- the other layers, through geo.layers ------------------------------------------------------

ROAD_Z = LineString([(x, y, 12.5) for x, y in ROAD.coords])
STUB = LineString([(116.3, 39.9), (116.3, 39.9)])
SQUARE_Z = shapely.Polygon([(x, y, 8.0) for x, y in SQUARE.exterior.coords])
BARRIERS = partial(read_barriers, crs="wgs84")
STREETS = partial(read_subdistricts, crs="wgs84")
COMPOUNDS = partial(read_compounds, crs="wgs84")


LAYERS: list[Case] = [
    ReaderCase(
        "barriers-z",
        _geojson("b.geojson", [({}, ROAD_Z), ({}, ROAD)]),
        BARRIERS,
        Read(2, "Z coordinates", (1,)),
    ),
    ReaderCase(
        "barriers-zero-length-line",
        _geojson("b.geojson", [({"name": "甲"}, ROAD), ({"name": "乙"}, STUB), ({}, ROAD)]),
        BARRIERS,
        Read(2, "zero-length", (2,)),
    ),
    ReaderCase(
        "barriers-zero-length-part",
        _geojson("b.geojson", [({}, shapely.MultiLineString([ROAD, STUB]))]),
        BARRIERS,
        Read(1, "zero-length"),
    ),
    ReaderCase(
        "barriers-collection-line-point",
        _geojson("b.geojson", [({}, GeometryCollection([ROAD, POINT])), ({}, ROAD)]),
        BARRIERS,
        Read(2, "kept only their lines", (1,)),
    ),
    ReaderCase(
        "barriers-collection-points-only",
        _geojson("b.geojson", [({}, ROAD), ({}, GeometryCollection([POINT]))]),
        BARRIERS,
        Refused("b.geojson", "", None, (2,)),
    ),
    ReaderCase(
        "barriers-a-point",
        _geojson("b.geojson", [({}, ROAD), ({}, POINT)]),
        BARRIERS,
        Refused("b.geojson", "", None, (2,)),
    ),
    ReaderCase(
        "barriers-empty-geometry",
        _geojson("b.geojson", [({}, ROAD), ({}, None)]),
        BARRIERS,
        Refused("b.geojson", "", None, (2,)),
    ),
    ReaderCase(
        "barriers-csv",
        _text("b.csv", "name,经度,纬度", "甲,116.3,39.9"),
        BARRIERS,
        Refused("b.csv", "must be a spatial file"),
    ),
    ReaderCase(
        "barriers-states-4549",
        _projected("b.gpkg", ROAD, 4549),
        BARRIERS,
        Refused("b.gpkg", "EPSG:4549"),
    ),
    ReaderCase(
        "streets-polygon",
        _geojson("s.geojson", [({"name": "甲街道"}, SQUARE)]),
        STREETS,
        Read(1),
    ),
    ReaderCase(
        "streets-polygon-z",
        _geojson("s.geojson", [({"name": "甲街道"}, SQUARE_Z)]),
        STREETS,
        Read(1, "Z coordinates", (1,)),
    ),
    ReaderCase(
        "streets-collection-polygon-line",
        _geojson("s.geojson", [({"name": "甲街道"}, GeometryCollection([SQUARE, ROAD]))]),
        STREETS,
        Read(1, "", (1,)),
    ),
    ReaderCase(
        "streets-as-lines",
        _geojson("s.geojson", [({"name": "甲街道"}, ROAD)]),
        STREETS,
        Refused("s.geojson", "", None, (1,)),
    ),
    ReaderCase(
        "streets-csv",
        _text("s.csv", "a,b", "1,2"),
        STREETS,
        Refused("s.csv", "must be a spatial file"),
    ),
    ReaderCase(
        "streets-states-4549",
        _projected("s.gpkg", SQUARE, 4549),
        STREETS,
        Refused("s.gpkg", "EPSG:4549"),
    ),
    ReaderCase(
        "compounds-csv",
        _text("c.csv", "小区名称,经度,纬度", "幸福小区,116.305,39.905"),
        COMPOUNDS,
        Refused("c.csv", "must be a spatial file"),
    ),
    ReaderCase(
        "compounds-states-4549",
        _projected("c.gpkg", SQUARE, 4549),
        COMPOUNDS,
        Refused("c.gpkg", "--compounds-crs 4549"),
    ),
    ReaderCase(
        "compounds-gcj02",
        _geojson("c.geojson", [({"小区名称": "幸福小区"}, _gcj02(SQUARE))]),
        partial(read_compounds, crs="gcj02"),
        Read(1),
    ),
    ReaderCase(
        "communities-collection",
        _geojson("c.geojson", [({"community_id": "C1"}, GeometryCollection([SQUARE, ROAD]))]),
        partial(read_communities, crs="wgs84"),
        Read(1, "", (1,)),
    ),
    ReaderCase(
        "facilities-csv-jingdu-weidu",
        _facilities(".csv"),
        partial(read_facilities, crs="gcj02"),
        Read(2),
    ),
    ReaderCase(
        "facilities-xlsx-jingdu-weidu",
        _facilities(".xlsx"),
        partial(read_facilities, crs="gcj02"),
        Read(2),
    ),
    ReaderCase(
        "facilities-swapped",
        _facilities(".csv", 经度=[39.905, 116.307], 纬度=[116.305, 39.906]),
        partial(read_facilities, crs="wgs84"),
        Refused("f.csv", "lat out of range for WGS84", "纬度", (2,)),
    ),
    ReaderCase(
        "facilities-empty-lon",
        _facilities(".csv", 经度=[116.305, None]),
        partial(read_facilities, crs="wgs84"),
        Refused("f.csv", "", "经度", (3,)),
    ),
    ReaderCase(
        "facilities-text-lat",
        _facilities(".xlsx", 纬度=[39.905, "北纬39.9"]),
        partial(read_facilities, crs="wgs84"),
        Refused("f.xlsx", "", "纬度", (3,)),
    ),
    ReaderCase(
        "facilities-no-coordinates",
        _facilities(".csv", 经度=None, 纬度=None),
        partial(read_facilities, crs="wgs84"),
        Refused("f.csv", "no longitude and latitude columns"),
    ),
    ReaderCase(
        "facilities-no-area",
        _facilities(".csv", 建筑面积=None),
        partial(read_facilities, crs="gcj02"),
        Refused("f.csv", "no floor area column"),
    ),
    ReaderCase(
        "facilities-area-infinity",
        _facilities(".csv", 建筑面积=["Infinity", 320]),
        partial(read_facilities, crs="gcj02"),
        Refused("f.csv", "", "建筑面积", (2,)),
    ),
    ReaderCase(
        "facilities-area-negative",
        _facilities(".csv", 建筑面积=[-650, 320]),
        partial(read_facilities, crs="gcj02"),
        Refused("f.csv", "floor area is negative", "建筑面积", (2,)),
    ),
    ReaderCase(
        "facilities-area-empty",
        _facilities(".xlsx", 建筑面积=[None, 320]),
        partial(read_facilities, crs="gcj02"),
        Refused("f.xlsx", "floor area missing", "建筑面积", (2,)),
    ),
    ReaderCase(
        "facilities-area-in-the-second-row-negative",
        _facilities(".csv", 建筑面积=[650, -320]),
        partial(read_facilities, crs="gcj02"),
        Refused("f.csv", "floor area is negative", "建筑面积", (3,)),
    ),
    ReaderCase(
        "facilities-point-z-gcj02",
        _geojson("f.geojson", [({"面积": 100}, Point(*_gcj02(POINT).coords[0], 30.0))]),
        partial(read_facilities, crs="gcj02"),
        Read(1, "Z coordinates"),
    ),
]

# --- command-line parameters and --out, through planning.cli.main ------------------------------

SMALL = _households_csv(name="households.csv")
#: Nine buildings of 30 households (one of 0): 240 households, planned with the smallest sizes.
NINE = _text(
    "nine.csv",
    HEADER,
    *[f"116.{3000 + 10 * i},39.{9000 + 10 * (i % 4)},30,B{i}" for i in range(8)],
    "116.3050,39.9050,0,Z",
)
TINY = ["--community-size", "100", "--grid-size", "20", "--workers", "1"]


def _propose(*extra: str, households=SMALL) -> Callable[[Path], list[str]]:
    def argv(folder: Path) -> list[str]:
        path = households(folder)
        return ["propose", str(path), "--crs", "wgs84", "--out", str(folder / "p"), *extra]

    return argv


def _rebalance(*extra: str) -> Callable[[Path], list[str]]:
    def argv(folder: Path) -> list[str]:
        path = str(SMALL(folder))
        return [
            "rebalance",
            "--communities",
            path,
            "--households",
            path,
            "--crs",
            "wgs84",
            "--out",
            str(folder / "r"),
            *extra,
        ]

    return argv


def _existing_file(argv: Callable[[Path], list[str]], out: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        (folder / out).write_text("not a folder", encoding="utf-8")
        return argv(folder)

    return make


def _range(option: str, message: str = "is out of range") -> Refused:
    """A parameter refused before anything is read: printed as ``parameters: column 'OPTION'``."""
    return Refused("parameters", f"{option} {message}", option)


#: ``--out`` refused before anything is read: printed as ``PATH: column '--out'``.
def _out(message: str) -> Refused:
    return Refused("", message, "--out")


PARAMETERS: list[Case] = [
    *[
        CliCase(f"propose{option}={value}", _propose(f"{option}={value}"), expected, absent=("p",))
        for option, value, expected in [
            ("--community-size", "0", _range("--community-size")),
            ("--community-size", "-5", _range("--community-size")),
            ("--community-size", "99", _range("--community-size")),
            ("--community-size", "1000000000", _range("--community-size")),
            ("--tolerance", "5", _range("--tolerance")),
            ("--tolerance", "-0.1", _range("--tolerance")),
            ("--tolerance", "inf", _range("--tolerance", "is not a finite number")),
            ("--tolerance", "nan", _range("--tolerance", "is not a finite number")),
            ("--grid-tolerance", "inf", _range("--grid-tolerance", "is not a finite")),
            ("--grid-tolerance", "-inf", _range("--grid-tolerance", "is not a finite")),
            ("--grid-size", "0", _range("--grid-households")),
            ("--grid-size", "-1", _range("--grid-households")),
            ("--max-grids", "0", _range("--max-grids")),
            ("--max-grids", "-3", _range("--max-grids")),
            ("--seed", "-1", _range("--seed")),
            ("--workers", "0", _range("--workers")),
            ("--community-size", "abc", Refused("", "invalid int value")),
            ("--community-size", "inf", Refused("", "invalid int value")),
        ]
    ],
    CliCase(
        "propose-inverted-bands",
        _propose("--community-size", "300", "--grid-households", "400"),
        Refused(
            "parameters", "the grid band reaches above the community band", "--grid-households"
        ),
        absent=("p",),
    ),
    CliCase(
        "propose-every-problem-at-once",
        _propose("--community-size", "0", "--tolerance", "5", "--max-grids", "0"),
        Refused("parameters", "3 error(s)"),
        absent=("p",),
    ),
    CliCase(
        "propose-out-an-existing-file",
        _existing_file(_propose(), "p"),
        _out("--out is an existing file, not a folder"),
    ),
    CliCase(
        "propose-out-under-a-file",
        _existing_file(
            lambda folder: (
                [
                    "propose",
                    str(SMALL(folder)),
                    "--crs",
                    "wgs84",
                    "--out",
                    str(folder / "blocker" / "p"),
                ]
            ),
            "blocker",
        ),
        _out("--out cannot be written"),
    ),
    CliCase(
        "rebalance-grid-size-0",
        _rebalance("--grid-size", "0"),
        _range("--grid-households"),
        absent=("r",),
    ),
    CliCase(
        "rebalance-small-margin-2",
        _rebalance("--small-margin", "2"),
        _range("--small-margin"),
        absent=("r",),
    ),
    CliCase(
        "rebalance-tolerance-nan",
        _rebalance("--tolerance", "nan"),
        _range("--tolerance", "is not a finite number"),
        absent=("r",),
    ),
    CliCase(
        "rebalance-inverted-bands",
        _rebalance("--community-size", "300", "--grid-size", "400"),
        Refused(
            "parameters", "the grid band reaches above the community band", "--grid-households"
        ),
        absent=("r",),
    ),
    CliCase(
        "rebalance-out-an-existing-file",
        _existing_file(_rebalance(), "r"),
        _out("--out is an existing file, not a folder"),
    ),
    CliCase(
        "check-communities-csv",
        lambda folder: (
            [
                "check",
                "--communities",
                str(SMALL(folder)),
                "--households",
                str(SMALL(folder)),
                "--crs",
                "wgs84",
                "--out",
                str(folder / "c"),
            ]
        ),
        Refused("households.csv", "communities must be a spatial file"),
        absent=("c",),
    ),
    CliCase(
        "check-out-an-existing-file",
        _existing_file(
            lambda folder: [
                "check",
                "--communities",
                str(_geojson("c.geojson", [({"community_id": "C1"}, SQUARE)])(folder)),
                "--households",
                str(SMALL(folder)),
                "--crs",
                "wgs84",
                "--out",
                str(folder / "c"),
            ],
            "c",
        ),
        _out("--out is an existing file, not a folder"),
    ),
    CliCase(
        "compare-a-folder-that-is-no-plan",
        lambda folder: ["compare", str(folder), str(folder), "--out", str(folder / "cmp")],
        Refused("", "expected a plan folder written by propose or rebalance"),
    ),
    CliCase(
        "validate-heights",
        _validate(
            _geojson(
                "h.geojson",
                [
                    ({"households": 3}, Point(116.3, 39.9, 5)),
                    ({"households": 4}, Point(*POINT.coords[0], 5)),
                ],
            )
        ),
        Read(7, "Z coordinates"),
    ),
    CliCase(
        "render-dpi-0-out-a-folder",
        lambda folder: ["render", str(folder), "--out", str(folder), "--dpi", "0"],
        _range("--dpi"),
    ),
    CliCase(
        "validate-header-row-0",
        _validate(SMALL, "--header-row", "0"),
        Refused("households.csv", "is not a row number"),
    ),
]

# --- whole runs: every input read before any work, warnings printed, totals in = out ----------


def _with(option: str, make: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    def argv(folder: Path) -> list[str]:
        return [*_propose(*TINY, households=NINE)(folder), option, str(make(folder))]

    return argv


RUNS: list[Case] = [
    CliCase(
        "propose-a-zero-count-warned",
        _propose(*TINY, households=NINE),
        Read(240, "households is zero"),
    ),
    CliCase(
        "propose-cover-sheet-warned",
        _propose(*TINY, households=_workbook("h.xlsx", {"封面": [["统计表"]], "数据": TABLE})),
        Read(30, "skipped '封面'"),
    ),
    CliCase(
        "propose-thousands-separators",
        _propose(*TINY, households=_households_csv('116.3200,39.9200,"1,234",C')),
        Read(1264),
    ),
    CliCase(
        "propose-two-sheets-refused",
        _propose(*TINY, households=_workbook("h.xlsx", {"东区": TABLE, "西区": MORE})),
        Refused("h.xlsx", "2 sheets with data"),
        absent=("p",),
    ),
    CliCase(
        "propose-streets-csv-refused",
        _with("--streets", _text("s.csv", "a,b", "1,2")),
        Refused("s.csv", "must be a spatial file"),
        absent=("p/communities.geojson",),
    ),
    CliCase(
        "propose-compounds-csv-refused",
        _with("--compounds", _text("c.csv", "小区名称,经度,纬度", "幸福小区,116.305,39.905")),
        Refused("c.csv", "must be a spatial file"),
        absent=("p/communities.geojson",),
    ),
    CliCase(
        "propose-compounds-4549-refused",
        _with("--compounds", _projected("c.gpkg", SQUARE, 4549)),
        Refused("c.gpkg", "--compounds-crs 4549"),
        absent=("p/communities.geojson",),
    ),
    CliCase(
        "propose-facilities-without-area-refused",
        _with("--facilities", _facilities(".csv", 建筑面积=None)),
        Refused("f.csv", "no floor area column"),
        absent=("p/communities.geojson",),
    ),
    CliCase(
        "propose-facilities-csv-gcj02",
        _with("--facilities", _facilities(".csv")),
        Read(240, "households is zero"),
    ),
    CliCase(
        "propose-facilities-area-infinity",
        _with("--facilities", _facilities(".csv", 建筑面积=["Infinity", 320])),
        Refused("f.csv", "floor area", "建筑面积", (2,)),
        absent=("p/communities.geojson",),
    ),
    CliCase(
        "propose-barrier-zero-length-warned",
        _with("--barriers", _geojson("b.geojson", [({}, ROAD), ({}, STUB)])),
        Read(240, "zero-length"),
    ),
]

CASES: list[Case] = HOUSEHOLD_TABLES + HOUSEHOLD_FORMATS + LAYERS + PARAMETERS + RUNS


def test_the_corpus_holds_at_least_a_hundred_inputs_with_distinct_ids() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.id, marks=case.marks) for case in CASES]
)
def test_each_bad_input_is_refused_clearly_or_read_whole(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    case.check(tmp_path, capsys)
