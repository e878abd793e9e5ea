"""geo.intake.read_households reads a source whole or refuses it, and says so.

Every bad input is generated here. Most tests read the district below (WGS84), with one cell
or one part of the file made wrong::

    39.910 ·                    B  row 3: 20 户
    39.900 · A  row 2: 10 户
           116.300              116.310

Table rows are numbered as Excel shows them (header = row 1, first data row = 2).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pyproj
import pytest
from shapely.geometry import Point

from geo.errors import InputFormatError, ValidationError
from geo.intake import LARGE_BUILDING_HOUSEHOLDS, read_households

HEADER = "经度,纬度,户数,楼栋编号"
ROW_A = "116.3000,39.9000,10,A"
ROW_B = "116.3100,39.9100,20,B"


def _csv(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _messages(exc: ValidationError) -> dict[str, tuple[int, ...]]:
    return {p.message: p.rows for p in exc.problems}


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _points(households: list[int], *, crs: int = 4326) -> gpd.GeoDataFrame:
    """One point per count, 0.001° apart eastwards from (116.3, 39.9)."""
    return gpd.GeoDataFrame(
        {"households": households, "小区": ["甲小区"] * len(households)},
        geometry=[Point(116.3 + 0.001 * i, 39.9) for i in range(len(households))],
        crs=4326,
    ).to_crs(crs)


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        ("inf", r"households is not a finite number"),
        ("-inf", r"households is not a finite number"),
        ("Infinity", r"households is not a finite number"),
        ("nan", r"households is not a number"),
        ("1e20", r"households is too large to be a count"),
        ("100000000000000000000", r"households is too large to be a count"),
        ("70,0", r"households is written with a decimal comma"),
        ("2,5", r"households is written with a decimal comma"),
    ],
)
def test_counts_that_are_no_counts_are_refused_with_column_and_row(
    tmp_path: Path, cell: str, match: str
) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, f'116.3100,39.9100,"{cell}",B')
    with pytest.raises(ValidationError, match=match) as info:
        read_households(path, crs="wgs84")
    (error,) = info.value.report.errors
    assert (error.file, error.column, error.rows) == ("h.csv", "户数", (3,))


def test_a_decimal_comma_is_never_read_as_ten_times_the_households(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, '116.3100,39.9100,"70,0",B')
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    text = str(info.value)
    assert "found: '70,0'" in text
    assert "fix: write a decimal point instead of the comma" in text


def test_a_decimal_comma_in_a_coordinate_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "经度;纬度;户数", "116,3;39,9;3")
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {
        "longitude is written with a decimal comma": (2,),
        "latitude is written with a decimal comma": (2,),
    }


def test_a_comma_in_degrees_is_a_decimal_comma_even_before_three_digits(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "经度;纬度;户数", "116,300;39,900;3")
    with pytest.raises(ValidationError, match=r"longitude is written with a decimal comma"):
        read_households(path, crs="gcj02")


def test_thousands_separators_in_projected_metres_are_read(tmp_path: Path) -> None:
    x, y = pyproj.Transformer.from_crs(4326, 4547, always_xy=True).transform(116.3, 39.9)
    path = _csv(tmp_path / "h.csv", "x,y,户数", f'"{x:,.2f}","{y:,.2f}",3')
    data = read_households(path, crs=4547)
    assert data.buildings.geometry.x.tolist() == pytest.approx([116.3], abs=1e-6)


@pytest.mark.parametrize(
    ("cells", "households"),
    [
        (["1,234", "2,345"], [1234, 2345]),
        (["1 234", "2\u00a0345"], [1234, 2345]),
        (["4,000", "999"], [4000, 999]),
    ],
)
def test_thousands_separators_are_read_and_totals_in_are_totals_out(
    tmp_path: Path, cells: list[str], households: list[int]
) -> None:
    path = _csv(
        tmp_path / "h.csv",
        HEADER,
        f'116.3000,39.9000,"{cells[0]}",A',
        f'116.3100,39.9100,"{cells[1]}",B',
    )
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == households
    assert data.summary()["households"] == sum(households)
    assert int(data.rows["_households"].sum()) == sum(households)


def test_an_infinite_count_in_a_spatial_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.gpkg"
    frame = _points([3, 4])
    frame["households"] = [3.0, np.inf]
    frame.to_file(path)
    with pytest.raises(ValidationError, match=r"households is not a finite number") as info:
        read_households(path, crs="wgs84")
    assert info.value.report.errors[0].rows == (2,)


def test_a_building_of_more_households_than_any_tower_is_refused(tmp_path: Path) -> None:
    """Row 3 holds 10^12 households; rows 4 and 5 are one building C of 3,000 + 3,500."""
    path = _csv(
        tmp_path / "h.csv",
        HEADER,
        ROW_A,
        "116.3100,39.9100,1000000000000,B",
        "116.3200,39.9200,3000,C",
        "116.3200,39.9200,3500,C",
    )
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {
        "households is too large to be a count": (3,),
        f"1 building(s) with more than {LARGE_BUILDING_HOUSEHOLDS:,} households": (4, 5),
    }
    text = str(info.value)
    assert "found: C: 6,500" in text
    assert "--allow-large-counts" in text


def test_real_giants_pass_when_allowed_with_a_warning(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, "116.3100,39.9100,8000,B")
    with pytest.raises(ValidationError, match=r"more than 5,000 households"):
        read_households(path, crs="wgs84")
    data = read_households(path, crs="wgs84", allow_large_counts=True)
    assert data.buildings["households"].tolist() == [10, 8000]
    (warning,) = data.report.warnings
    assert warning.message.endswith("accepted as asked (allow_large_counts)")
    assert warning.rows == (3,)


def test_population_overflow_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "经度,纬度,户数,人口", "116.3,39.9,3,1e20")
    with pytest.raises(ValidationError, match=r"population is too large to be a count") as info:
        read_households(path, crs="wgs84")
    assert info.value.report.errors[0].column == "人口"


# --- partial reads: sheets ---------------------------------------------------------------------

TABLE_ROWS = [["经度", "纬度", "户数"], [116.30, 39.90, 10], [116.31, 39.91, 20]]
MORE_ROWS = [["经度", "纬度", "户数"], [116.32, 39.92, 5], [116.33, 39.93, 6], [116.34, 39.9, 7]]


def test_a_workbook_with_two_sheets_of_data_is_refused_listing_them(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "h.xlsx", {"东区": TABLE_ROWS, "西区": MORE_ROWS})
    with pytest.raises(
        InputFormatError, match=r"^h\.xlsx: the workbook has 2 sheets with data"
    ) as info:
        read_households(path, crs="wgs84")
    assert "sheets '东区' (2 rows), '西区' (3 rows)" in str(info.value)
    assert "--sheet NAME" in str(info.value)


def test_the_sheet_named_is_read_whole(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "h.xlsx", {"东区": TABLE_ROWS, "西区": MORE_ROWS})
    data = read_households(path, crs="wgs84", sheet="西区")
    assert data.buildings["households"].tolist() == [5, 6, 7]
    assert data.source.part == "西区"
    assert data.report.problems == ()


def test_a_sheet_that_is_not_there_is_refused_listing_those_that_are(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "h.xlsx", {"东区": TABLE_ROWS, "西区": MORE_ROWS})
    with pytest.raises(InputFormatError, match=r"no sheet '北区'. expected one of: '东区', '西区'"):
        read_households(path, crs="wgs84", sheet="北区")


def test_a_cover_sheet_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "h.xlsx", {"封面": [["某某街道住户统计表"], ["2024年"]], "数据": TABLE_ROWS}
    )
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [10, 20]
    (warning,) = data.report.warnings
    assert warning.message == (
        "read sheet '数据', the only one with the expected columns; skipped '封面'"
    )


def test_empty_sheets_do_not_count(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "h.xlsx", {"空": [], "数据": TABLE_ROWS, "也空": []})
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [10, 20]
    assert data.report.problems == ()


# --- partial reads: title rows -----------------------------------------------------------------


def test_a_title_above_the_header_of_a_workbook_is_skipped_with_a_warning(tmp_path: Path) -> None:
    """row 1 title, row 2 blank, row 3 header, rows 4–5 data (row 5: -1 households)."""
    rows = [
        ["某某街道住户表"],
        [],
        ["经度", "纬度", "户数"],
        [116.30, 39.90, 10],
        [116.31, 39.91, -1],
    ]
    path = _workbook(tmp_path / "h.xlsx", {"Sheet1": rows})
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {
        "the header is on row 3; the 2 row(s) above it (a title) were skipped": (),
        "households is negative": (5,),
    }


def test_a_title_above_the_header_of_a_csv_is_skipped_and_rows_keep_their_numbers(
    tmp_path: Path,
) -> None:
    path = _csv(tmp_path / "h.csv", "某某街道住户表（2024年）", HEADER, ROW_A, ROW_B)
    data = read_households(path, crs="wgs84")
    assert data.buildings["households"].tolist() == [10, 20]
    assert data.rows["_row"].tolist() == [3, 4]
    (warning,) = data.report.warnings
    assert "--header-row N" in warning.fix
    assert warning.found == "row 2: 经度, 纬度, 户数, 楼栋编号"


def test_blank_lines_above_the_header_skip_nothing_and_say_nothing(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "", ",,,", HEADER, ROW_A)
    data = read_households(path, crs="wgs84")
    assert data.rows["_row"].tolist() == [4]
    assert data.report.problems == ()


def test_the_header_row_may_be_named(tmp_path: Path) -> None:
    """Row 1 holds words a header could hold; the user says the header is row 2."""
    path = _csv(tmp_path / "h.csv", "经度,纬度,说明", HEADER, ROW_A)
    data = read_households(path, crs="wgs84", header_row=2)
    assert data.buildings["households"].tolist() == [10]
    assert data.rows["_row"].tolist() == [3]
    assert data.report.problems == ()


def test_without_any_header_the_refusal_points_at_the_header_row(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", "a,b,c", "116.3,39.9,3")
    with pytest.raises(ValidationError, match=r"no column for lon and lat") as info:
        read_households(path, crs="wgs84")
    assert "--header-row N" in str(info.value)


@pytest.mark.parametrize("header_row", [0, -1, 1.5])
def test_a_header_row_that_is_no_row_is_refused(tmp_path: Path, header_row) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A)
    with pytest.raises(InputFormatError, match=r"is not a row number"):
        read_households(path, crs="wgs84", header_row=header_row)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_row_past_the_end_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"h{suffix}"
    if suffix == ".csv":
        _csv(path, HEADER, ROW_A)
    else:
        _workbook(path, {"Sheet1": TABLE_ROWS})
    rows = 2 if suffix == ".csv" else 3
    with pytest.raises(InputFormatError, match=rf"header_row=9, but the table has only {rows} row"):
        read_households(path, crs="wgs84", header_row=9)


# --- partial reads: layers and Shapefiles ------------------------------------------------------


def test_a_geopackage_with_two_layers_is_refused_listing_them(tmp_path: Path) -> None:
    path = tmp_path / "h.gpkg"
    _points([10, 20, 30]).to_file(path, layer="住户")
    _points([1]).to_file(path, layer="test", mode="w")
    with pytest.raises(InputFormatError, match=r"holds 2 layers with data") as info:
        read_households(path, crs="wgs84")
    assert "'住户' (3 features), 'test' (1 features)" in str(info.value)
    data = read_households(path, crs="wgs84", layer="住户")
    assert data.summary()["households"] == 60


def test_a_layer_that_is_not_there_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.gpkg"
    _points([10]).to_file(path, layer="住户")
    with pytest.raises(InputFormatError, match=r"no layer 'x'. expected one of: '住户'"):
        read_households(path, crs="wgs84", layer="x")


def _zip_of_shapefiles(tmp_path: Path, parts: dict[str, list[int]]) -> Path:
    target = tmp_path / "h.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for stem, households in parts.items():
            folder = tmp_path / stem
            folder.mkdir()
            _points(households).to_file(folder / f"{stem}.shp")
            for part in sorted(folder.iterdir()):
                archive.write(part, part.name)
    return target


def test_a_zip_with_two_shapefiles_is_refused_listing_them(tmp_path: Path) -> None:
    path = _zip_of_shapefiles(tmp_path, {"north": [5, 5], "south": [1]})
    with pytest.raises(InputFormatError, match=r"holds 2 Shapefiles with data") as info:
        read_households(path, crs="wgs84")
    assert "'north' (2 features), 'south' (1 features)" in str(info.value)
    assert read_households(path, crs="wgs84", layer="south").summary()["households"] == 1


@pytest.mark.parametrize(("option", "value"), [("sheet", "a"), ("layer", "a"), ("header_row", 2)])
def test_options_that_do_not_fit_the_format_are_refused(tmp_path: Path, option, value) -> None:
    path = tmp_path / "h.geojson" if option != "layer" else tmp_path / "h.csv"
    if option == "layer":
        _csv(path, HEADER, ROW_A)
    else:
        _points([3]).to_file(path)
    with pytest.raises(InputFormatError, match=rf"{option}=.* was given"):
        read_households(path, crs="wgs84", **{option: value})


def _gbk_shapefile(folder: Path) -> Path:
    """A Shapefile whose .dbf is GBK, without the .cpg that would say so."""
    path = folder / "h.shp"
    _points([3, 4]).to_file(path, encoding="gbk")
    (folder / "h.cpg").unlink()
    return path


def test_a_gbk_dbf_without_cpg_is_read_as_gb18030_with_a_warning(tmp_path: Path) -> None:
    data = read_households(_gbk_shapefile(tmp_path), crs="wgs84")
    assert data.buildings["compound"].tolist() == ["甲小区", "甲小区"]
    (warning,) = data.report.warnings
    assert "was read as GB18030" in warning.message
    assert "甲小区" in warning.found


def test_a_zipped_gbk_dbf_without_cpg_is_read_as_gb18030(tmp_path: Path) -> None:
    _gbk_shapefile(tmp_path)
    target = tmp_path / "h.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for part in sorted(tmp_path.glob("h.*")):
            if part != target:
                archive.write(part, part.name)
    data = read_households(target, crs="wgs84")
    assert data.buildings["compound"].tolist() == ["甲小区", "甲小区"]
    assert len(data.report.warnings) == 1


def test_a_utf8_dbf_without_cpg_is_read_as_utf8_without_a_word(tmp_path: Path) -> None:
    path = tmp_path / "h.shp"
    _points([3]).to_file(path, encoding="utf-8")
    (tmp_path / "h.cpg").unlink()
    data = read_households(path, crs="wgs84")
    assert data.buildings["compound"].tolist() == ["甲小区"]
    assert data.report.problems == ()


# --- plausibility ------------------------------------------------------------------------------


def test_points_at_zero_zero_are_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, "0,0,5,C", "0.0,0.0,5,D")
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {
        "points at (0, 0), where software puts an address it could not locate": (3, 4),
    }


def test_a_feature_at_zero_zero_names_the_geometry(tmp_path: Path) -> None:
    path = tmp_path / "h.geojson"
    frame = _points([3, 4])
    frame.loc[1, "geometry"] = Point(0, 0)
    frame.to_file(path)
    with pytest.raises(ValidationError, match=r"points at \(0, 0\)") as info:
        read_households(path, crs="wgs84")
    (error,) = info.value.report.errors
    assert (error.column, error.rows) == ("geometry", (2,))


def test_a_point_outside_china_among_chinese_points_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, ROW_B, "2.3500,48.8500,3,P")
    with pytest.raises(ValidationError) as info:
        read_households(path, crs="wgs84")
    assert _messages(info.value) == {"points outside China, far from the rest of the file": (4,)}


def test_a_point_far_from_the_rest_is_named_in_a_warning(tmp_path: Path) -> None:
    """Row 4 is in Shanghai, about 1,070 km from the two Beijing buildings."""
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, ROW_B, "121.4700,31.2300,3,S")
    data = read_households(path, crs="wgs84")
    (warning,) = data.report.warnings
    assert warning.message.startswith("points more than 50 km from the middle of the rest")
    assert warning.rows == (4,)
    assert data.summary()["households"] == 33


def test_a_district_of_points_close_together_has_no_plausibility_warning(tmp_path: Path) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, ROW_B, "116.5000,40.1000,3,E")
    assert read_households(path, crs="wgs84").report.problems == ()


@pytest.mark.parametrize("declared", ["EPSG:4549", "4547", "EPSG:32650"])
def test_lonlat_declared_as_a_projected_crs_is_refused(tmp_path: Path, declared: str) -> None:
    path = _csv(tmp_path / "h.csv", HEADER, ROW_A, ROW_B)
    with pytest.raises(ValidationError, match=r"look like longitude/latitude degrees") as info:
        read_households(path, crs=declared)
    (error,) = info.value.report.errors
    assert error.rows == (2, 3)
    assert "every point would lie within 0.01 m" in error.found
    assert "declare the lon/lat system the points are in: wgs84" in error.fix


def test_lonlat_in_a_crsless_shapefile_declared_as_projected_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        _points([3, 4]).set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(ValidationError, match=r"look like longitude/latitude degrees"):
        read_households(path, crs=4549)


def test_projected_metres_declared_as_lonlat_are_refused_with_the_zones(tmp_path: Path) -> None:
    x, y = pyproj.Transformer.from_crs(4326, 4547, always_xy=True).transform(
        [116.30, 116.31], [39.90, 39.91]
    )
    path = _csv(tmp_path / "h.csv", "x,y,户数", f"{x[0]},{y[0]},3", f"{x[1]},{y[1]},4")
    with pytest.raises(ValidationError, match=r"coordinates out of range") as info:
        read_households(path, crs="wgs84")
    assert "EPSG:4534–4554" in str(info.value)
    assert info.value.report.errors[0].rows == (2, 3)
