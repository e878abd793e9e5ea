"""A CSV is parsed a few rows at a time (``CSV_CHUNK_ROWS``, set to 3 here so that these small
files span several chunks): the table, its row numbers, its encoding, a title above the header
and every problem are what one parse of the whole text gives, rows named as the spreadsheet
numbers them across chunk boundaries.

The households file (GB18030, a title on row 1, a blank line on row 6, header on row 2)::

    row 1   2024年 户籍数据
    row 2   经度,纬度,户数,楼栋,小区
    row 3   116.3062,39.9014,15,B1,甲小区
    row 4   116.3063,39.9015,8,B2,甲小区
    row 5   116.3064,39.9016,x,B3,甲小区        ← not a number
    row 6   (blank)
    row 7   116.3065,39.9017,-2,B4,乙小区       ← negative
    row 8   116.3066,39.9018,7,B5,乙小区
    row 9   116.3067,39.9019,,B6,乙小区         ← missing
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import geo.tables
from geo.errors import InputFormatError, ValidationError
from geo.intake import read_households
from geo.tables import read_table

ROWS = [
    "2024年 户籍数据",
    "经度,纬度,户数,楼栋,小区",
    "116.3062,39.9014,15,B1,甲小区",
    "116.3063,39.9015,8,B2,甲小区",
    "116.3064,39.9016,x,B3,甲小区",
    "",
    "116.3065,39.9017,-2,B4,乙小区",
    "116.3066,39.9018,7,B5,乙小区",
    "116.3067,39.9019,,B6,乙小区",
]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(geo.tables, "CSV_CHUNK_ROWS", 3)


@pytest.fixture
def households_csv(tmp_path: Path) -> Path:
    path = tmp_path / "households.csv"
    path.write_bytes("\n".join(ROWS).encode("gb18030") + b"\n")
    return path


def test_a_table_in_chunks_is_the_whole_table(households_csv):
    frame, source = read_table(households_csv, header_names=("经度", "纬度", "户数"))
    assert source.encoding == "gb18030" and source.header_row == 2
    assert len(frame) == 6
    assert frame["楼栋"].tolist() == ["B1", "B2", "B3", "B4", "B5", "B6"]
    assert frame["小区"].tolist() == ["甲小区"] * 3 + ["乙小区"] * 3
    assert source.row_numbers(len(frame)) == [3, 4, 5, 7, 8, 9]
    assert [w.message for w in source.warnings] == [
        "the header is on row 2; the 1 row(s) above it (a title) were skipped"
    ]


def test_every_problem_names_its_rows_across_chunks(households_csv):
    with pytest.raises(ValidationError, match="households is not a number") as caught:
        read_households(households_csv, crs="gcj02")
    rows = {p.message: p.rows for p in caught.value.problems}
    assert rows["households is not a number"] == (5,)
    assert rows["households is negative"] == (7,)
    assert rows["households missing"] == (9,)


def test_consecutive_rows_are_numbered_from_two(tmp_path):
    path = tmp_path / "plain.csv"
    lines = ["lon,lat,households"] + [f"116.30{i:02d},39.90,{i + 1}" for i in range(10)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    frame, source = read_table(path)
    assert source.encoding == "utf-8-sig" and list(frame.columns) == ["lon", "lat", "households"]
    assert source.row_numbers(len(frame)) == list(range(2, 12))
    read = read_households(path, crs="wgs84")
    assert read.rows["_row"].tolist() == list(range(2, 12))
    assert read.buildings["households"].sum() == sum(range(1, 11))


def test_a_row_with_too_many_fields_is_named_by_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    lines = ["lon,lat,households"] + ["116.3,39.9,1"] * 8
    lines[7] = "116.3,39.9,1,9"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="Expected 3 fields in line 8, saw 4"):
        read_table(path)


def test_a_file_that_is_no_text_is_refused_whole(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"lon,lat\n116.3,39.9\n" * 4 + b"\xff\xfe\xfa,1\n")
    with pytest.raises(InputFormatError, match="cannot be decoded; first bad byte at line 9"):
        read_table(path)


def _geoparquet(tmp_path: Path, index=None) -> Path:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {
            "楼栋": ["B1", "B2", None, "B4", "B5", "B6", "B7"],
            "户数": [15, 8, 3, 2, 7, 1, 9],
            "人口": [30.5, None, 6.0, 4.0, 14.0, 2.0, 18.0],
        },
        geometry=[shapely.Point(116.3 + i / 1000, 39.9) for i in range(6)]
        + [shapely.box(116.31, 39.91, 116.311, 39.911)],
        crs="EPSG:4490",
        index=index,
    )
    path = tmp_path / "households.parquet"
    frame.to_parquet(path)
    return path


def test_geoparquet_in_batches_is_what_geopandas_reads(tmp_path, monkeypatch):
    import geopandas as gpd
    from geopandas.testing import assert_geodataframe_equal

    monkeypatch.setattr(geo.tables, "PARQUET_BATCH_ROWS", 3)
    read_in_batches = geo.tables.pq.ParquetFile.iter_batches
    batches = []

    def counted(self, **kwargs):
        for batch in read_in_batches(self, **kwargs):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(geo.tables.pq.ParquetFile, "iter_batches", counted)
    for index in (None, range(5, 12)):  # the index a frame was written with comes back
        path = _geoparquet(tmp_path, index)
        frame, source = read_table(path)
        assert_geodataframe_equal(frame, gpd.read_parquet(path), check_index_type=True)
        assert frame.crs.to_epsg() == 4490 and source.kind == "spatial"
    assert batches == [3, 3, 1, 3, 3, 1]


def test_geoparquet_with_an_index_of_its_own_is_read_whole(tmp_path, monkeypatch):
    import geopandas as gpd
    from geopandas.testing import assert_geodataframe_equal

    monkeypatch.setattr(geo.tables, "PARQUET_BATCH_ROWS", 3)
    path = _geoparquet(tmp_path, pd.Index([f"h{i}" for i in range(7)], name="户"))
    frame, _ = read_table(path)
    assert_geodataframe_equal(frame, gpd.read_parquet(path))
    assert frame.index.tolist()[:2] == ["h0", "h1"]
