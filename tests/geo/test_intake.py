"""geo.intake.read_households: every format, alias, CRS and validation message.

The district most tests read: three rows, two buildings (lon →, lat ↑, WGS84)::

    39.910 ·                    B2  row 3: 7 户, 乙小区, 14 人
    39.900 · B1  rows 1–2: 10 + 5 户, 甲小区, 20 + 10 人
           116.300              116.310

Table rows are numbered as Excel shows them (header = row 1, first data row = 2); features of
a spatial file from 1.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from geopandas.testing import assert_geoseries_equal
from shapely.geometry import LineString, Point, box, mapping

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import CRSError, InputFormatError, ValidationError
from geo.intake import HOUSEHOLD_ALIASES, read_households

GEOD = pyproj.Geod(ellps="WGS84")

TABLE = pd.DataFrame(
    {
        "经度": ["116.3000", "116.3000", "116.3100"],
        "纬度": ["39.9000", "39.9000", "39.9100"],
        "户数": ["10", "5", "7"],
        "楼栋编号": ["B1", "B1", "B2"],
        "小区名称": ["甲小区", "甲小区", "乙小区"],
        "人口": ["20", "10", "14"],
    }
)
#: Role → column of TABLE.
TABLE_ROLES = {
    "lon": "经度",
    "lat": "纬度",
    "households": "户数",
    "building": "楼栋编号",
    "compound": "小区名称",
    "population": "人口",
}
EXPECTED_BUILDINGS = [
    {"building_id": "B1", "households": 15, "population": 30.0, "compound": "甲小区", "rows": 2},
    {"building_id": "B2", "households": 7, "population": 14.0, "compound": "乙小区", "rows": 1},
]
EXPECTED_POINTS = gpd.GeoSeries([Point(116.30, 39.90), Point(116.31, 39.91)], crs=4326)


def _spatial(crs: int = 4326) -> gpd.GeoDataFrame:
    """TABLE as points, with short field names (a Shapefile holds 10 bytes: 4 Chinese
    characters do not fit)."""
    frame = gpd.GeoDataFrame(
        {
            "户数": [10, 5, 7],
            "楼栋": ["B1", "B1", "B2"],
            "小区": ["甲小区", "甲小区", "乙小区"],
            "人口": [20, 10, 14],
        },
        geometry=gpd.points_from_xy(TABLE["经度"].astype(float), TABLE["纬度"].astype(float)),
        crs=4326,
    )
    return frame.to_crs(crs)


def _zip(folder: Path, stem: str, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for part in sorted(folder.glob(f"{stem}.*")):
            archive.write(part, part.name)
    return target


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _write_csv_utf8(d: Path) -> Path:
    TABLE.to_csv(d / "h.csv", index=False, encoding="utf-8")
    return d / "h.csv"


def _write_csv_bom(d: Path) -> Path:
    TABLE.to_csv(d / "h.csv", index=False, encoding="utf-8-sig")
    return d / "h.csv"


def _write_csv_gbk(d: Path) -> Path:
    TABLE.to_csv(d / "h.csv", index=False, encoding="gbk")
    return d / "h.csv"


def _write_csv_semicolon(d: Path) -> Path:
    TABLE.to_csv(d / "h.csv", index=False, sep=";", encoding="utf-8")
    return d / "h.csv"


def _write_xlsx(d: Path) -> Path:
    sheet = TABLE.copy()
    for column in ("经度", "纬度"):
        sheet[column] = sheet[column].astype(float)
    for column in ("户数", "人口"):
        sheet[column] = sheet[column].astype(int)
    sheet.to_excel(d / "h.xlsx", index=False, engine="openpyxl")
    return d / "h.xlsx"


def _write_geojson(d: Path) -> Path:
    _spatial().to_file(d / "h.geojson")
    return d / "h.geojson"


def _write_gpkg(d: Path) -> Path:
    _spatial().to_file(d / "h.gpkg", layer="households")
    return d / "h.gpkg"


def _write_shp(d: Path) -> Path:
    _spatial().to_file(d / "h.shp", encoding="utf-8")
    return d / "h.shp"


def _write_shp_zip(d: Path) -> Path:
    _spatial().to_file(d / "h.shp", encoding="gbk")
    return _zip(d, "h", d / "h.zip")


def _write_parquet(d: Path) -> Path:
    _spatial().to_parquet(d / "h.parquet")
    return d / "h.parquet"


WRITERS: dict[str, Callable[[Path], Path]] = {
    "csv-utf8": _write_csv_utf8,
    "csv-utf8-bom": _write_csv_bom,
    "csv-gbk": _write_csv_gbk,
    "csv-semicolon": _write_csv_semicolon,
    "xlsx": _write_xlsx,
    "geojson": _write_geojson,
    "gpkg": _write_gpkg,
    "shp": _write_shp,
    "shp-zip-gbk": _write_shp_zip,
    "geoparquet": _write_parquet,
}


def _records(buildings: gpd.GeoDataFrame) -> list[dict]:
    return buildings.drop(columns="geometry").to_dict("records")


def _messages(exc: ValidationError) -> dict[str, tuple[int, ...]]:
    return {p.message: p.rows for p in exc.problems}


def _distance_m(a: Point, b: Point) -> float:
    return float(GEOD.inv(a.x, a.y, b.x, b.y)[2])


# --- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_gives_the_same_buildings(tmp_path: Path, fmt: str) -> None:
    data = read_households(WRITERS[fmt](tmp_path), crs="wgs84")
    assert _records(data.buildings) == EXPECTED_BUILDINGS
    assert_geoseries_equal(
        data.buildings.geometry, EXPECTED_POINTS, check_less_precise=True, check_series_type=False
    )
    assert data.buildings.crs.to_epsg() == 4326
    assert list(data.buildings.index) == [0, 1]
    assert data.report.problems == ()
    assert data.metric_crs.to_epsg() == 4548  # CGCS2000 3-degree GK, CM 117E (Beijing)


@pytest.mark.parametrize(
    ("fmt", "encoding"),
    [("csv-utf8", "utf-8-sig"), ("csv-utf8-bom", "utf-8-sig"), ("csv-gbk", "gb18030")],
)
def test_the_summary_names_the_encoding(tmp_path: Path, fmt: str, encoding: str) -> None:
    assert read_households(WRITERS[fmt](tmp_path), crs="wgs84").summary()["encoding"] == encoding


def test_rows_keep_the_input_in_order_with_row_numbers(tmp_path: Path) -> None:
    data = read_households(_write_csv_gbk(tmp_path), crs="wgs84")
    rows = data.rows
    assert list(rows.columns[: len(TABLE.columns)]) == list(TABLE.columns)
    assert rows["楼栋编号"].tolist() == ["B1", "B1", "B2"]
    assert rows["_row"].tolist() == [2, 3, 4]
    assert rows["_households"].tolist() == [10, 5, 7]
    assert rows["_building"].tolist() == ["id:B1", "id:B1", "id:B2"]
    assert rows["_building_index"].tolist() == [0, 0, 1]
    assert rows.crs.to_epsg() == 4326


def test_summary(tmp_path: Path) -> None:
    summary = read_households(_write_xlsx(tmp_path), crs="gcj02").summary()
    assert summary["rows"] == 3
    assert summary["buildings"] == 2
    assert summary["households"] == 22
    assert summary["compounds"] == 2
    assert summary["population"] == 44
    assert summary["source_crs"] == "GCJ-02 (Amap/Tencent)"
    assert summary["metric_crs"].startswith("EPSG:4548 ")
    assert summary["columns"] == TABLE_ROLES
    assert summary["warnings"] == 0
    json.dumps(summary, ensure_ascii=False)  # ready for --json


# --- column aliases and explicit mappings ------------------------------------------------------

ALIAS_CASES = [
    ("lon", "经度"),
    ("lon", "lon"),
    ("lon", "lng"),
    ("lon", "x"),
    ("lon", "Longitude"),
    ("lat", "纬度"),
    ("lat", "lat"),
    ("lat", "y"),
    ("lat", "LAT"),
    ("households", "户数"),
    ("households", "households"),
    ("households", "hh"),
    ("households", "户数（户）"),
    ("building", "楼栋"),
    ("building", "楼栋编号"),
    ("building", "building_id"),
    ("building", "Building ID"),
    ("compound", "小区"),
    ("compound", "小区名称"),
    ("compound", "compound"),
    ("population", "人口"),
]


@pytest.mark.parametrize(("role", "alias"), ALIAS_CASES)
def test_every_alias_is_recognised(tmp_path: Path, role: str, alias: str) -> None:
    path = tmp_path / "h.csv"
    TABLE.rename(columns={TABLE_ROLES[role]: alias}).to_csv(path, index=False)
    data = read_households(path, crs="wgs84")
    assert data.columns == {**TABLE_ROLES, role: alias}
    assert _records(data.buildings) == EXPECTED_BUILDINGS


def test_the_documented_aliases_are_all_tested() -> None:
    documented = {
        "lon": {"经度", "lon", "lng", "x"},
        "lat": {"纬度", "lat", "y"},
        "households": {"户数", "households", "hh"},
        "building": {"楼栋", "楼栋编号", "building_id"},
        "compound": {"小区", "小区名称", "compound"},
        "population": {"人口"},
    }
    tested = {(role, alias) for role, alias in ALIAS_CASES}
    for role, aliases in documented.items():
        assert aliases <= set(HOUSEHOLD_ALIASES[role])
        assert {(role, a) for a in aliases} <= tested


def _decoy_table(path: Path) -> Path:
    """
    经度/纬度 hold Baidu (BD-09) numbers, gx/gy the WGS84 ones; 户数 is a stale count and
    户数合计 the true one; 楼栋 is a floor label, 幢号 the building.
    """
    frame = TABLE.rename(columns={"户数": "户数合计", "楼栋编号": "幢号"}).assign(
        gx=TABLE["经度"], gy=TABLE["纬度"], 户数=["1", "1", "1"], 楼栋=["1F", "2F", "3F"]
    )
    frame["经度"] = ["116.3123", "116.3123", "116.3223"]
    frame["纬度"] = ["39.9061", "39.9061", "39.9161"]
    frame.to_csv(path, index=False)
    return path


def test_an_explicit_mapping_overrides_the_aliases(tmp_path: Path) -> None:
    mapping = {"lon": "gx", "lat": "gy", "households": "户数合计", "building": "幢号"}
    data = read_households(_decoy_table(tmp_path / "h.csv"), crs="wgs84", columns=mapping)
    assert data.columns == {**TABLE_ROLES, **mapping}
    assert _records(data.buildings) == EXPECTED_BUILDINGS
    assert_geoseries_equal(
        data.buildings.geometry, EXPECTED_POINTS, check_less_precise=True, check_series_type=False
    )


def test_without_the_mapping_the_aliases_take_the_decoys(tmp_path: Path) -> None:
    data = read_households(_decoy_table(tmp_path / "h.csv"), crs="wgs84")
    assert data.columns["lon"] == "经度"
    assert data.columns["households"] == "户数"
    assert data.buildings["households"].sum() == 3


def test_a_mapping_to_a_missing_column_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError,
        match=r"the column mapping says households is in column '户数合计', which the file lacks",
    ) as info:
        read_households(_write_csv_utf8(tmp_path), crs="wgs84", columns={"households": "户数合计"})
    (problem,) = info.value.problems
    assert problem.column == "户数合计"
    assert "经度, 纬度, 户数" in problem.found


def test_a_mapping_of_an_unknown_role_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError, match=r"the column mapping names an unknown role 'flats'"
    ) as info:
        read_households(_write_csv_utf8(tmp_path), crs="wgs84", columns={"flats": "户数"})
    assert "one of lon, lat, households, building, compound, population" in str(info.value)


def test_both_mapping_errors_are_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"2 error\(s\)") as info:
        read_households(
            _write_csv_utf8(tmp_path),
            crs="wgs84",
            columns={"flats": "户数", "lon": "东经X"},
        )
    assert set(_messages(info.value)) == {
        "the column mapping names an unknown role 'flats'",
        "the column mapping says lon is in column '东经X', which the file lacks",
    }


def test_no_coordinate_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "地址,户数\n学院路1号,3\n")
    with pytest.raises(ValidationError, match=r"no column for lon and lat") as info:
        read_households(path, crs="wgs84")
    assert "--columns lon=东经,lat=北纬" in str(info.value)


def test_two_columns_for_one_role_warn_and_the_first_alias_wins(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    TABLE.assign(lng=TABLE["经度"]).to_csv(path, index=False)
    data = read_households(path, crs="wgs84")
    assert data.columns["lon"] == "经度"
    (warning,) = data.report.warnings
    assert warning.message == "several columns could hold lon; used '经度'"


# --- rows per household, rows per building -----------------------------------------------------


def test_rows_per_household_and_rows_per_building_give_the_same_buildings(tmp_path: Path) -> None:
    """
    per building:  B1 ×1 row (15 户), B2 ×1 row (7 户)
    per household: B1 ×15 rows, B2 ×7 rows, no 户数 column (each row is one household)
    """
    per_building = _csv(
        tmp_path / "buildings.csv",
        "经度,纬度,户数,楼栋编号,小区名称\n"
        "116.3000,39.9000,15,B1,甲小区\n116.3100,39.9100,7,B2,乙小区\n",
    )
    per_household = _csv(
        tmp_path / "households.csv",
        "经度,纬度,楼栋编号,小区名称\n"
        + "116.3000,39.9000,B1,甲小区\n" * 15
        + "116.3100,39.9100,B2,乙小区\n" * 7,
    )
    a = read_households(per_building, crs="wgs84")
    b = read_households(per_household, crs="wgs84")
    columns = ["building_id", "households", "compound"]
    assert a.buildings[columns].to_dict("records") == b.buildings[columns].to_dict("records")
    assert b.buildings["rows"].tolist() == [15, 7]
    assert_geoseries_equal(a.buildings.geometry, b.buildings.geometry, check_less_precise=True)
    assert a.report.problems == ()
    (warning,) = b.report.problems
    assert warning.message == "no households column; every row counts as one household"


def test_default_one_household_per_row_warns(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "lon,lat\n116.3,39.9\n116.3,39.9\n116.31,39.91\n")
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [2, 1]
    assert data.rows["_households"].tolist() == [1, 1, 1]
    (warning,) = data.report.warnings
    assert warning.severity == "warning"
    assert warning.message == "no households column; every row counts as one household"


def test_rows_aggregate_by_building_id_at_its_mean_position(tmp_path: Path) -> None:
    """
    B1 ·(116.3000, 39.9000)   ·(116.3002, 39.9000)   two entrances 17 m apart: one building
    """
    path = _csv(
        tmp_path / "h.csv",
        "经度,纬度,户数,楼栋编号\n116.3000,39.9000,4,B1\n116.3002,39.9000,6,B1\n",
    )
    data = read_households(path, crs="wgs84")
    assert data.buildings["building_id"].tolist() == ["B1"]
    assert data.buildings["households"].tolist() == [10]
    assert data.buildings["rows"].tolist() == [2]
    assert data.buildings.geometry[0].x == pytest.approx(116.3001)
    assert data.rows["_building"].tolist() == ["id:B1", "id:B1"]


def test_rows_without_an_id_aggregate_by_same_coordinates(tmp_path: Path) -> None:
    """'116.3' and '116.30000' are the same place; 116.3001 is another building."""
    path = _csv(
        tmp_path / "h.csv",
        "经度,纬度,户数\n116.3,39.9,2\n116.30000,39.900,3\n116.3001,39.9,4\n",
    )
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [5, 4]
    assert data.buildings["rows"].tolist() == [2, 1]
    assert data.buildings["building_id"].tolist() == ["B000001", "B000002"]
    assert data.buildings["population"].isna().all()
    assert data.buildings["compound"].tolist() == [None, None]


def test_a_building_with_rows_naming_two_compounds_takes_the_majority(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "h.csv",
        "经度,纬度,户数,楼栋编号,小区\n"
        "116.3,39.9,1,B1,甲小区\n116.3,39.9,1,B1,甲小区\n116.3,39.9,1,B1,乙小区\n",
    )
    data = read_households(path, crs="wgs84")
    assert data.buildings["compound"].tolist() == ["甲小区"]
    (warning,) = data.report.warnings
    assert warning.message.startswith("1 building(s) have rows naming different compounds")
    assert warning.found == "B1"


def test_numeric_building_ids_with_a_gap_stay_whole(tmp_path: Path) -> None:
    """A GeoJSON 楼栋 column of numbers with one null reads as float: 1 must stay '1'."""
    path = tmp_path / "h.geojson"
    features = [
        {"type": "Feature", "properties": {"楼栋": b, "户数": 2}, "geometry": mapping(p)}
        for b, p in [(330203001001, Point(116.3, 39.9)), (None, Point(116.31, 39.91))]
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    data = read_households(path, crs="wgs84")
    assert data.buildings["building_id"].tolist() == ["330203001001", "B000002"]


def test_building_footprints_become_points_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "h.geojson"
    gpd.GeoDataFrame(
        {"户数": [12]}, geometry=[box(116.3, 39.9, 116.3004, 39.9002)], crs=4326
    ).to_file(path)
    data = read_households(path, crs="wgs84")
    assert data.buildings.geometry[0].within(box(116.3, 39.9, 116.3004, 39.9002))
    (warning,) = data.report.warnings
    assert warning.message.startswith("building footprints were turned into points")
    assert warning.rows == (1,)


# --- coordinate reference systems --------------------------------------------------------------

WGS_LON = np.array([116.3000, 116.3100])
WGS_LAT = np.array([39.9000, 39.9100])


def _points_csv(path: Path, lon: np.ndarray, lat: np.ndarray, header: str = "经度,纬度") -> Path:
    lines = [header + ",户数"] + [f"{a:.9f},{b:.9f},3" for a, b in zip(lon, lat, strict=True)]
    return _csv(path, "\n".join(lines) + "\n")


def test_wgs84_is_taken_as_it_is(tmp_path: Path) -> None:
    data = read_households(_points_csv(tmp_path / "h.csv", WGS_LON, WGS_LAT), crs="WGS84")
    assert data.buildings.geometry.x.tolist() == pytest.approx(WGS_LON.tolist(), abs=1e-9)
    assert data.source_crs.key == "wgs84"


@pytest.mark.parametrize(
    ("crs", "forward", "shift_m"),
    [("gcj02", wgs84_to_gcj02, (100, 1000)), ("bd09", wgs84_to_bd09, (300, 2000))],
)
def test_offset_coordinates_are_shifted_back_to_wgs84(
    tmp_path: Path, crs: str, forward, shift_m: tuple[float, float]
) -> None:
    lon, lat = forward(WGS_LON, WGS_LAT)
    path = _points_csv(tmp_path / "h.csv", lon, lat)
    data = read_households(path, crs=crs)
    naive = read_households(path, crs="wgs84")
    for got, truth, raw in zip(
        data.buildings.geometry,
        gpd.points_from_xy(WGS_LON, WGS_LAT),
        naive.buildings.geometry,
        strict=True,
    ):
        assert _distance_m(got, truth) < 0.5
        assert shift_m[0] < _distance_m(raw, truth) < shift_m[1]
    assert data.source_crs.is_offset


def test_cgcs2000_lonlat_is_within_centimetres_of_wgs84(tmp_path: Path) -> None:
    data = read_households(_points_csv(tmp_path / "h.csv", WGS_LON, WGS_LAT), crs="cgcs2000")
    for got, truth in zip(
        data.buildings.geometry, gpd.points_from_xy(WGS_LON, WGS_LAT), strict=True
    ):
        assert _distance_m(got, truth) < 1.0
    assert data.source_crs.key == "epsg:4490"


@pytest.mark.parametrize("declared", ["EPSG:4549", "epsg:4549", "4549", 4549])
def test_projected_metres_are_converted(tmp_path: Path, declared: str | int) -> None:
    """Ningbo in CGCS2000 / 3-degree GK CM 120E: x is easting, y northing (metres)."""
    lon, lat = np.array([121.55, 121.56]), np.array([29.87, 29.88])
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(lon, lat)
    assert (x > 500_000).all()
    assert (y > 3_000_000).all()
    data = read_households(_points_csv(tmp_path / "h.csv", x, y, header="x,y"), crs=declared)
    assert data.buildings.geometry.x.tolist() == pytest.approx(lon.tolist(), abs=1e-7)
    assert data.buildings.geometry.y.tolist() == pytest.approx(lat.tolist(), abs=1e-7)
    assert data.columns["lon"] == "x"
    assert data.metric_crs.to_epsg() == 4550  # CM 123E: round(121.55 / 3) = 41


def test_projected_metres_declared_as_lonlat_are_refused(tmp_path: Path) -> None:
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform([121.55], [29.87])
    path = _points_csv(tmp_path / "h.csv", np.array(x), np.array(y), header="x,y")
    with pytest.raises(
        ValidationError, match=r"coordinates out of range for longitude/latitude"
    ) as info:
        read_households(path, crs="wgs84")
    assert "declare their EPSG code instead of wgs84" in str(info.value)
    assert info.value.problems[0].rows == (2,)


def test_an_unknown_crs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CRSError, match=r"CRS 'baidu' is not recognised"):
        read_households(_write_csv_utf8(tmp_path), crs="baidu")


def _projected_gpkg(path: Path) -> Path:
    _spatial(4549).to_file(path, layer="households")
    return path


def test_a_geopackage_in_its_declared_projected_crs_is_read(tmp_path: Path) -> None:
    data = read_households(_projected_gpkg(tmp_path / "h.gpkg"), crs=4549)
    assert _records(data.buildings) == EXPECTED_BUILDINGS
    assert_geoseries_equal(
        data.buildings.geometry, EXPECTED_POINTS, check_less_precise=True, check_series_type=False
    )


def test_a_zipped_shapefile_in_its_declared_projected_crs_is_read(tmp_path: Path) -> None:
    _spatial(4549).to_file(tmp_path / "h.shp", encoding="utf-8")
    data = read_households(_zip(tmp_path, "h", tmp_path / "h.zip"), crs="EPSG:4549")
    assert _records(data.buildings) == EXPECTED_BUILDINGS


@pytest.mark.parametrize(
    ("stored", "declared", "match"),
    [
        (
            4549,
            "wgs84",
            r"in EPSG:4549 \(CGCS2000 / 3-degree Gauss-Kruger CM 120E\) but they were "
            r"declared as WGS84 \(EPSG:4326\)",
        ),
        (4549, "gcj02", r"in EPSG:4549 .* declared as GCJ-02"),
        (4549, "4547", r"in EPSG:4549 .* declared as EPSG:4547"),
        (4326, "EPSG:4549", r"in EPSG:4326 \(WGS 84\) but they were declared as EPSG:4549"),
    ],
)
def test_a_geopackage_whose_crs_disagrees_with_the_declared_one(
    tmp_path: Path, stored: int, declared: str, match: str
) -> None:
    path = tmp_path / "h.gpkg"
    _spatial(stored).to_file(path)
    with pytest.raises(CRSError, match=match) as info:
        read_households(path, crs=declared)
    assert "fix: declare the CRS the file was exported in" in str(info.value)


@pytest.mark.parametrize("declared", ["wgs84", "cgcs2000", "gcj02"])
def test_a_cgcs2000_geopackage_may_be_declared_as_any_lonlat(tmp_path: Path, declared: str) -> None:
    path = tmp_path / "h.gpkg"
    _spatial(4490).to_file(path)
    data = read_households(path, crs=declared)
    assert data.buildings["households"].tolist() == [15, 7]


# --- validation: one message each --------------------------------------------------------------

HEADER = "经度,纬度,户数,楼栋编号"
GOOD = "116.3000,39.9000,3,A"

ERROR_CASES = [
    # (id, fault line(s) after GOOD, crs, match, rows)
    ("lon-missing", [",39.9000,3,B"], "wgs84", r"longitude is missing", (3,)),
    ("lat-missing", ["116.3100,,3,B"], "wgs84", r"latitude is missing", (3,)),
    ("lon-text", ["116°18′,39.9000,3,B"], "wgs84", r"longitude is not a number", (3,)),
    ("lat-text", ["116.3100,北纬39.9,3,B"], "wgs84", r"latitude is not a number", (3,)),
    ("swapped", ["39.9100,116.3100,3,B"], "wgs84", r"latitude and longitude look swapped", (3,)),
    ("range", ["216.3,39.9,3,B"], "wgs84", r"coordinates out of range", (3,)),
    (
        "abroad-gcj02",
        ["2.3500,48.8500,3,B"],
        "gcj02",
        r"points outside China, but gcj02 is declared",
        (3,),
    ),
    (
        "abroad-bd09",
        ["2.3500,48.8500,3,B"],
        "bd09",
        r"points outside China, but bd09 is declared",
        (3,),
    ),
    ("hh-missing", ["116.3100,39.9100,,B"], "wgs84", r"households missing", (3,)),
    ("hh-negative", ["116.3100,39.9100,-2,B"], "wgs84", r"households is negative", (3,)),
    ("hh-fraction", ["116.3100,39.9100,2.5,B"], "wgs84", r"households is fractional", (3,)),
    ("hh-text", ["116.3100,39.9100,三,B"], "wgs84", r"households is not a number", (3,)),
    (
        "id-spread",
        ["116.3100,39.9100,3,A"],
        "wgs84",
        r"1 building id\(s\) appear at places more than 50 m apart",
        (2, 3),
    ),
]


@pytest.mark.parametrize(
    ("lines", "crs", "match", "rows"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_error_is_reported_with_its_rows(
    tmp_path: Path, lines: list[str], crs: str, match: str, rows: tuple[int, ...]
) -> None:
    path = _csv(tmp_path / "h.csv", "\n".join([HEADER, GOOD, *lines]) + "\n")
    with pytest.raises(ValidationError, match=match) as info:
        read_households(path, crs=crs)
    (problem,) = info.value.report.errors
    assert problem.rows == rows
    assert problem.file == "h.csv"
    text = str(problem)
    assert all(part in text for part in ("expected: ", "found: ", "fix: "))
    assert str(info.value).startswith("1 error(s) and 0 warning(s) in h.csv; the file was refused")


def test_points_outside_china_are_fine_in_wgs84(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", f"{HEADER}\n2.3500,48.8500,3,P\n")
    data = read_households(path, crs="wgs84")
    assert data.metric_crs.to_epsg() == 32631  # UTM 31N (Paris)


def test_swapped_columns_name_both_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", f"{HEADER}\n39.9100,116.3100,3,B\n")
    with pytest.raises(ValidationError, match=r"column '经度/纬度'.*look swapped") as info:
        read_households(path, crs="gcj02")
    assert "'经度' around 39.9100, '纬度' around 116.3100" in str(info.value)


def test_population_is_checked_like_households_but_may_be_empty(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "h.csv",
        "经度,纬度,户数,人口\n116.3,39.9,3,\n116.31,39.91,3,-1\n116.32,39.92,3,2.5\n",
    )
    with pytest.raises(ValidationError, match=r"population is negative") as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {
        "population is negative": (3,),
        "population is fractional": (4,),
    }


def test_zero_households_warn_and_the_file_is_accepted(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", f"{HEADER}\n{GOOD}\n116.3100,39.9100,0,Z\n")
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [3, 0]
    assert data.summary()["buildings_without_households"] == 1
    (warning,) = data.report.problems
    assert warning.severity == "warning"
    assert warning.message.startswith("households is zero; these buildings are kept")
    assert warning.rows == (3,)


def test_exact_duplicate_rows_warn_and_count_twice(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", f"{HEADER}\n{GOOD}\n{GOOD}\n116.3100,39.9100,3,B\n")
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [6, 3]
    (warning,) = data.report.problems
    assert warning.message.startswith("rows that repeat an earlier row exactly")
    assert warning.rows == (3,)


def test_identical_one_household_rows_are_not_duplicates(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "经度,纬度,户数\n116.3,39.9,1\n116.3,39.9,1\n")
    assert read_households(path, crs="wgs84").report.problems == ()


def test_one_building_id_within_50_m_is_one_building(tmp_path: Path) -> None:
    """A at (116.3000, 39.9) and (116.3005, 39.9): 43 m apart, under the 50 m limit."""
    path = _csv(tmp_path / "h.csv", f"{HEADER}\n{GOOD}\n116.3005,39.9000,3,A\n")
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [6]


# --- validation: every problem at once ---------------------------------------------------------

MANY_FAULTS = """\
经度,纬度,户数,楼栋编号
,39.9000,3,M1
,39.9000,3,M2
,39.9000,3,M3
,39.9000,3,M4
,39.9000,3,M5
,39.9000,3,M6
,39.9000,3,M7
abc,39.9000,3,N
39.9000,116.3000,3,S
2.3500,48.8500,3,P
116.3000,39.9000,,E
116.3000,39.9000,-2,F
116.3000,39.9000,2.5,G
116.3000,39.9000,三,H
116.3000,39.9000,0,Z
116.3000,39.9000,4,A
116.3000,39.9000,4,A
116.4000,39.9500,4,A
"""


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    """MANY_FAULTS, GBK-encoded, rows as Excel numbers them::

    2–8  longitude missing (7 rows)     13  households negative
      9  longitude not a number         14  households fractional
     10  lat/lon swapped                15  households not a number
     11  outside China (gcj02)          16  zero households (warning)
     12  households missing          17–19  building A at two places 11 km apart;
                                            18 repeats 17 exactly (warning)
    """
    path = _csv(tmp_path / "many.csv", MANY_FAULTS, encoding="gbk")
    with pytest.raises(
        ValidationError, match=r"^9 error\(s\) and 2 warning\(s\) in many\.csv"
    ) as info:
        read_households(path, crs="gcj02")
    assert _messages(info.value) == {
        "longitude is missing": (2, 3, 4, 5, 6, 7, 8),
        "longitude is not a number": (9,),
        "latitude and longitude look swapped": (10,),
        "points outside China, but gcj02 is declared": (11,),
        "households missing": (12,),
        "households is negative": (13,),
        "households is fractional": (14,),
        "households is not a number": (15,),
        "households is zero; these buildings are kept and planned with no households": (16,),
        "rows that repeat an earlier row exactly; kept, so their households count twice": (18,),
        "1 building id(s) appear at places more than 50 m apart": (17, 18, 19),
    }
    text = str(info.value)
    assert "column '经度': rows 2, 3, 4, 5, 6 and 2 more (7 in all): longitude is missing" in text
    assert "column '楼栋编号': rows 17, 18, 19 (3 in all)" in text
    assert "found: 'abc'" in text
    assert "found: A (" in text
    assert len(info.value.report.errors) == 9
    assert len(info.value.report.warnings) == 2


def test_row_numbers_count_blank_lines_as_excel_does(tmp_path: Path) -> None:
    """
    row 1  header
    row 2  A (good)
    row 3  (blank line)
    row 4  households = -1
    """
    path = _csv(tmp_path / "h.csv", f"{HEADER}\n{GOOD}\n\n116.31,39.91,-1,B\n")
    with pytest.raises(ValidationError, match=r"rows 4 \(1 in all\): households is negative"):
        read_households(path, crs="wgs84")


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    pd.DataFrame(
        {"经度": [116.3, 116.31, None], "纬度": [39.9, 39.91, 39.92], "户数": [3, -1, 2]}
    ).to_excel(path, index=False, engine="openpyxl")
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {"longitude is missing": (4,), "households is negative": (3,)}


def test_spatial_features_are_numbered_from_one(tmp_path: Path) -> None:
    """
    feature 1  Point, 3 户          (good)
    feature 2  no geometry
    feature 3  LineString            (not a household point)
    feature 4  Point, households null
    feature 5  Point, -1 户
    """
    features = [
        (Point(116.30, 39.90), 3),
        (None, 3),
        (LineString([(116.3, 39.9), (116.31, 39.9)]), 3),
        (Point(116.31, 39.91), None),
        (Point(116.32, 39.92), -1),
    ]
    path = tmp_path / "h.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"households": hh},
                        "geometry": None if g is None else mapping(g),
                    }
                    for g, hh in features
                ],
            }
        )
    )
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="gcj02")
    assert _messages(info.value) == {
        "features without a geometry": (2,),
        "features that are neither points nor building footprints": (3,),
        "households missing": (4,),
        "households is negative": (5,),
    }


# --- files that cannot be read at all ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "payload", "match"),
    [
        ("empty.csv", b"", r"empty\.csv: the file is empty \(0 bytes\)"),
        ("header.csv", HEADER.encode("gbk") + b"\r\n", r"header but no data rows"),
        ("garbled.csv", HEADER.encode() + b"\n\xff\xfe\x00\x81\n", r"cannot be decoded"),
        ("h.xls", b"\xd0\xcf\x11\xe0", r"unknown file type '\.xls'"),
        ("h.zip", b"PK\x05\x06 broken", r"h\.zip: not a readable zip archive"),
    ],
)
def test_unreadable_files_are_refused(
    tmp_path: Path, name: str, payload: bytes, match: str
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(InputFormatError, match=match):
        read_households(path, crs="gcj02")


# --- the real sample ---------------------------------------------------------------------------


def test_the_haidian_sample_loads(haidian: Path) -> None:
    data = read_households(haidian / "households.geojson", crs="wgs84")
    summary = data.summary()
    assert summary["buildings"] == 109
    assert summary["rows"] == 109
    assert summary["households"] == 5_805
    assert summary["source_crs"] == "WGS84 (EPSG:4326)"
    assert summary["metric_crs"].startswith("EPSG:4548 ")
    assert data.columns == {"households": "households"}
    assert data.report.problems == ()
    minx, miny, maxx, maxy = data.buildings.total_bounds
    assert 116.34 < minx < maxx < 116.36
    assert 39.99 < miny < maxy < 40.01
    assert re.fullmatch(r"B\d{6}", data.buildings["building_id"].iloc[0])
