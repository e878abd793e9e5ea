"""``validate --sheet / --layer / --header-row / --allow-large-counts``: the options reach
:func:`geo.intake.read_households`; without them the same files are refused (exit 2).

The workbook has two sheets of data, 东区 and 西区::

    东区: 经度 纬度 户数        西区: 经度 纬度 户数
          116.30 39.90 10             116.32 39.92 8000
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from shapely.geometry import Point

from planning.cli import EXIT_INPUT_ERROR, main


@pytest.fixture
def two_sheets(tmp_path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "东区"
    book.active.append(["经度", "纬度", "户数"])
    book.active.append([116.30, 39.90, 10])
    west = book.create_sheet("西区")
    west.append(["经度", "纬度", "户数"])
    west.append([116.32, 39.92, 8000])
    path = tmp_path / "h.xlsx"
    book.save(path)
    return path


def test_sheet_names_the_sheet_and_giants_need_allowing(
    two_sheets: Path, capsys: pytest.CaptureFixture
) -> None:
    base = ["validate", str(two_sheets), "--crs", "wgs84"]
    assert main(base) == EXIT_INPUT_ERROR
    assert "'东区' (1 rows), '西区' (1 rows)" in capsys.readouterr().err
    assert main([*base, "--sheet", "东区"]) == 0
    assert main([*base, "--sheet", "西区"]) == EXIT_INPUT_ERROR
    assert "more than 5,000 households" in capsys.readouterr().err
    assert main([*base, "--sheet", "西区", "--allow-large-counts"]) == 0
    assert "8,000" in capsys.readouterr().out


def test_header_row_and_layer(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text("经度,纬度,备注\n经度,纬度,户数\n116.3,39.9,3\n", encoding="utf-8")
    assert main(["validate", str(csv), "--crs", "wgs84", "--header-row", "2"]) == 0
    gpkg = tmp_path / "h.gpkg"
    for name, households in (("a", [3]), ("b", [4, 5])):
        gpd.GeoDataFrame(
            {"households": households},
            geometry=[Point(116.3 + 0.001 * i, 39.9) for i in range(len(households))],
            crs=4326,
        ).to_file(gpkg, layer=name)
    assert main(["validate", str(gpkg), "--crs", "wgs84"]) == EXIT_INPUT_ERROR
    capsys.readouterr()
    assert main(["validate", str(gpkg), "--crs", "wgs84", "--layer", "b"]) == 0
    assert re.search(r"^  households\s+9$", capsys.readouterr().out, flags=re.MULTILINE)
