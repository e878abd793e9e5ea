"""geo.tables: one reader for every format planners hand over, and its refusals.

The table used throughout is two households rows and a code column whose digits must survive::

    经度     纬度    户数  楼栋编号        小区名称
    116.30  39.90   10   007            甲小区
    116.31  39.91    7   330203001001   乙小区
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.errors import InputFormatError, PlanningInputError
from geo.tables import TableSource, decode_text, read_table

HEADER = "经度,纬度,户数,楼栋编号,小区名称"
LINES = ["116.30,39.90,10,007,甲小区", "116.31,39.91,7,330203001001,乙小区"]
CSV_TEXT = "\n".join([HEADER, *LINES]) + "\n"


def _expected_cells() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "经度": ["116.30", "116.31"],
            "纬度": ["39.90", "39.91"],
            "户数": ["10", "7"],
            "楼栋编号": ["007", "330203001001"],
            "小区名称": ["甲小区", "乙小区"],
        }
    )


def _assert_cells(frame: pd.DataFrame) -> None:
    expected = _expected_cells()
    assert list(frame.columns) == list(expected.columns)
    assert frame.astype(str).to_dict("records") == expected.to_dict("records")


# --- tables: every encoding and separator -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "payload", "encoding"),
    [
        ("utf8.csv", CSV_TEXT.encode("utf-8"), "utf-8-sig"),
        ("bom.csv", CSV_TEXT.encode("utf-8-sig"), "utf-8-sig"),
        ("gbk.csv", CSV_TEXT.encode("gbk"), "gb18030"),
        ("semicolon.csv", CSV_TEXT.replace(",", ";").encode("utf-8"), "utf-8-sig"),
        ("tabs.txt", CSV_TEXT.replace(",", "\t").encode("gbk"), "gb18030"),
        ("crlf.csv", CSV_TEXT.replace("\n", "\r\n").encode("gbk"), "gb18030"),
    ],
)
def test_csv_in_every_encoding_and_separator_reads_the_same_text_cells(
    tmp_path: Path, name: str, payload: bytes, encoding: str
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    frame, source = read_table(path)
    assert not isinstance(frame, gpd.GeoDataFrame)
    _assert_cells(frame)
    assert source == TableSource(name, "table", encoding)
    assert source.first_row_number == 2


def test_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(CSV_TEXT.encode("utf-8-sig"))
    frame, _ = read_table(path)
    assert frame.columns[0] == "经度"


def test_xlsx_cells_come_back_as_text_with_codes_intact(tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    sheet = _expected_cells()
    sheet["经度"] = [116.30, 116.31]
    sheet["户数"] = [10, 7]
    sheet.to_excel(path, index=False, engine="openpyxl")
    frame, source = read_table(path)
    assert source.kind == "table"
    assert source.encoding is None
    assert frame["楼栋编号"].tolist() == ["007", "330203001001"]
    assert pd.to_numeric(frame["经度"]).tolist() == [116.30, 116.31]
    assert frame["户数"].tolist() == ["10", "7"]


def test_label_names_the_file_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    _, source = read_table(path, label="住户表")
    assert source.label == "住户表"


# --- row numbers -------------------------------------------------------------------------------


def test_table_rows_are_numbered_as_excel_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    frame, source = read_table(path)
    assert source.row_numbers(len(frame)) == [2, 3]


def test_blank_lines_still_count_in_row_numbers(tmp_path: Path) -> None:
    """
    row 1  经度,纬度,…   (header)
    row 2  116.30,…
    row 3  (blank: pandas skips it, Excel shows it)
    row 4  116.31,…
    """
    path = tmp_path / "gap.csv"
    path.write_text("\n".join([HEADER, LINES[0], "", LINES[1]]) + "\n", encoding="utf-8")
    frame, source = read_table(path)
    assert len(frame) == 2
    assert source.row_numbers(len(frame)) == [2, 4]


def test_a_quoted_cell_over_two_lines_is_one_row(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(f'{HEADER}\n116.30,39.90,10,007,"甲\n小区"\n{LINES[1]}\n', encoding="utf-8")
    frame, source = read_table(path)
    assert frame["小区名称"].tolist() == ["甲\n小区", "乙小区"]
    assert source.row_numbers(len(frame)) == [2, 3]


def test_spatial_features_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "h.geojson"
    gpd.GeoDataFrame(
        {"households": [1, 2]}, geometry=[Point(116.3, 39.9), Point(116.31, 39.91)], crs=4326
    ).to_file(path)
    frame, source = read_table(path)
    assert source.kind == "spatial"
    assert source.first_row_number == 1
    assert source.row_numbers(len(frame)) == [1, 2]


# --- spatial formats ---------------------------------------------------------------------------


@pytest.fixture
def points() -> gpd.GeoDataFrame:
    """Two points in CGCS2000 with short (Shapefile-safe) Chinese field names."""
    return gpd.GeoDataFrame(
        {"户数": [10, 7], "楼栋": ["007", "330203001001"]},
        geometry=[Point(116.30, 39.90), Point(116.31, 39.91)],
        crs=4490,
    )


def _zip_shapefile(folder: Path, stem: str, target: Path, *, inner: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for part in folder.glob(f"{stem}.*"):
            archive.write(part, inner + part.name)
    return target


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".parquet"])
def test_spatial_formats_keep_attributes_geometry_and_crs(
    tmp_path: Path, points: gpd.GeoDataFrame, suffix: str
) -> None:
    if suffix == ".parquet":
        path = tmp_path / "h.parquet"
        points.to_parquet(path)
    elif suffix == ".zip":
        (tmp_path / "parts").mkdir()
        points.to_file(tmp_path / "parts" / "h.shp", encoding="utf-8")
        path = _zip_shapefile(tmp_path / "parts", "h", tmp_path / "h.zip", inner="h/")
    else:
        path = tmp_path / f"h{suffix}"
        points.to_file(path)
    frame, source = read_table(path)
    assert isinstance(frame, gpd.GeoDataFrame)
    assert source.kind == "spatial"
    assert frame["楼栋"].tolist() == ["007", "330203001001"]
    assert frame["户数"].astype(int).tolist() == [10, 7]
    assert frame.crs.to_epsg() == 4490
    assert [(round(g.x, 6), round(g.y, 6)) for g in frame.geometry] == [
        (116.30, 39.90),
        (116.31, 39.91),
    ]


def test_gbk_shapefile_with_cpg_is_decoded(tmp_path: Path, points: gpd.GeoDataFrame) -> None:
    path = tmp_path / "gbk.shp"
    points.assign(小区=["甲小区", "乙小区"]).to_file(path, encoding="gbk")
    frame, _ = read_table(path)
    assert frame["小区"].tolist() == ["甲小区", "乙小区"]


# --- refusals ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match=r"nowhere\.csv: no such file"):
        read_table(tmp_path / "nowhere.csv")


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.geojson", "empty.zip"])
def test_zero_byte_file_is_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(InputFormatError, match=r"the file is empty \(0 bytes\)"):
        read_table(path)


def test_whitespace_only_csv_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n  \r\n\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"blank\.csv: the file is empty"):
        read_table(path)


def test_header_only_csv_has_no_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(HEADER + "\n", encoding="gbk")
    with pytest.raises(InputFormatError, match="has a header but no data rows"):
        read_table(path)


def test_header_only_xlsx_has_no_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.xlsx"
    pd.DataFrame(columns=["经度", "纬度"]).to_excel(path, index=False, engine="openpyxl")
    with pytest.raises(InputFormatError, match="has a header but no data rows"):
        read_table(path)


def test_feature_collection_without_features_has_no_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputFormatError, match="no data rows"):
        read_table(path)


def test_garbage_bytes_in_a_csv_are_located(tmp_path: Path) -> None:
    """Line 3 holds b'\\xff\\xfe\\x00', which neither UTF-8 nor GB18030 can decode."""
    path = tmp_path / "garbled.csv"
    path.write_bytes(f"{HEADER}\n{LINES[0]}\n".encode() + b"\xff\xfe\x00,39.9\n")
    with pytest.raises(
        InputFormatError,
        match=r"garbled\.csv: the text cannot be decoded; first bad byte at line 3",
    ):
        read_table(path)


def test_utf16_text_is_neither_utf8_nor_gb18030(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' export: UTF-16 with a BOM."""
    path = tmp_path / "unicode.txt"
    path.write_bytes(CSV_TEXT.encode("utf-16"))
    with pytest.raises(InputFormatError, match=r"cannot be decoded.*save it as 'CSV UTF-8'"):
        read_table(path)


def test_decode_text_prefers_utf8_then_gb18030() -> None:
    assert decode_text("经度".encode(), label="x") == ("经度", "utf-8-sig")
    assert decode_text("经度".encode("utf-8-sig"), label="x") == ("经度", "utf-8-sig")
    assert decode_text("经度".encode("gbk"), label="x") == ("经度", "gb18030")
    with pytest.raises(InputFormatError, match=r"^x: the text cannot be decoded.*line 2"):
        decode_text(b"a\n\x80", label="x")


@pytest.mark.parametrize("name", ["households.xls", "households.dbf", "households"])
def test_unknown_suffix_lists_the_accepted_ones(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(CSV_TEXT, encoding="utf-8")
    suffix = Path(name).suffix or "(none)"
    with pytest.raises(
        InputFormatError,
        match=rf"unknown file type '{re.escape(suffix)}'\. expected one of \.csv, ",
    ):
        read_table(path)


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputFormatError, match=r"^broken\.zip: not a readable zip archive"):
        read_table(path)


def test_zip_without_a_shapefile_is_named_once(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no shapefile here")
    with pytest.raises(InputFormatError, match=r"^other\.zip: the zip holds no \.shp file") as info:
        read_table(path)
    assert str(info.value).count("other.zip") == 1


def test_shapefile_without_its_dbf_and_shx(tmp_path: Path, points: gpd.GeoDataFrame) -> None:
    points.to_file(tmp_path / "h.shp")
    (tmp_path / "h.dbf").unlink()
    (tmp_path / "h.shx").unlink()
    with pytest.raises(InputFormatError, match=r"h\.shp: cannot be read as \.shp"):
        read_table(tmp_path / "h.shp")


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is a CSV renamed to xlsx")
    with pytest.raises(InputFormatError, match=r"broken\.xlsx: not a readable \.xlsx workbook"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [{'),
        ("broken.parquet", b"PAR1xx"),
    ],
)
def test_corrupt_spatial_files(tmp_path: Path, name: str, payload: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(InputFormatError, match=rf"^{re.escape(name)}: cannot be read as"):
        read_table(path)


def test_errors_are_value_errors_of_the_one_family(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty") as info:
        read_table(path)
    assert isinstance(info.value, PlanningInputError)
