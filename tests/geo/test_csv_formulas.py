"""CSV files the tool writes never hand a spreadsheet a formula to run (CSV injection)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.export import spreadsheet_safe, write_shapefile_zip
from planning.runs import run_propose
from samples.district import write_sample

FORMULAS = [
    '=HYPERLINK("http://x.example","点我")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\tq",
    "\r=1",
]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_formula_cell_gets_an_apostrophe(cell: str) -> None:
    frame = pd.DataFrame({"note": [cell]})
    assert spreadsheet_safe(frame)["note"].tolist() == ["'" + cell]
    assert frame["note"].tolist() == [cell], "the input changed"


def test_numbers_and_plain_text_stay_as_they_are() -> None:
    frame = pd.DataFrame(
        {
            "text": ["-12.5", "+3", "幸福小区", None, "a=b", "-", "--"],
            "number": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "string": pd.array(["=1", "x", None, "-0", "@", "--1", "-A1"], dtype="string"),
        }
    )
    out = spreadsheet_safe(frame)
    assert out["text"].tolist()[:3] == ["-12.5", "+3", "幸福小区"]
    assert out["text"].tolist()[4:] == ["a=b", "-", "--"]
    assert out["number"].tolist() == [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert out["string"].tolist()[:2] == ["'=1", "x"]
    assert out["string"].tolist()[3:] == ["-0", "'@", "'--1", "'-A1"]


def test_the_shapefile_field_list_is_guarded(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"=cmd": [1]}, geometry=[Point(121, 29)], crs=4326)
    written = write_shapefile_zip(frame, tmp_path / "f.zip")
    with zipfile.ZipFile(written.path) as archive:
        text = archive.read("fields.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=cmd", "'=cmd"]


@pytest.mark.slow
def test_households_csv_keeps_no_formula(tmp_path: Path) -> None:
    files = write_sample(tmp_path / "sample", households=5_000)
    table = pd.read_csv(files["households"], dtype=str, encoding="utf-8-sig")
    table["备注"] = ['=HYPERLINK("http://x.example","点我")'] + ["-5"] * (len(table) - 1)
    table.to_csv(files["households"], index=False, encoding="utf-8-sig")
    run_propose(files["households"], crs="gcj02", out_dir=tmp_path / "plan")
    written = pd.read_csv(tmp_path / "plan" / "households.csv", dtype=str, encoding="utf-8-sig")
    assert written["备注"].iloc[0] == '\'=HYPERLINK("http://x.example","点我")'
    assert (written["备注"].iloc[1:] == "-5").all()
    assert len(written) == len(table)
