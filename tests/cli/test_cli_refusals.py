"""Nothing wrong in silence: the command line refuses bad parameters, a bad ``--out`` and bad
files before any work, with every problem at once (exit 2); prints every warning and writes
it to summary.json; turns a bug into one line and a log (exit 3); and reads its own outputs
back right (``propose → check → rebalance → compare``).

The small households file is two buildings in WGS84::

    lon        lat       households  building
    116.3062   39.9014   15          B1
    116.3162   39.9114    7          B2

The chain runs on the synthetic sample district (5,000 households, GCJ-02 lon/lat) and on the
Haidian sample (households as GeoJSON, WGS84).
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from geo.errors import ValidationError
from planning.cli import EXIT_INPUT_ERROR, EXIT_UNEXPECTED, main
from planning.params import ProposeParams
from planning.runs import read_layers, run_check, run_rebalance

SMALL = "lon,lat,households,building\n116.3062,39.9014,15,B1\n116.3162,39.9114,7,B2\n"

#: Sizes the 5,000-household sample district can be planned with (communities of ~800).
CHAIN_SIZES = ["--community-size", "800", "--grid-households", "100"]


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "households.csv"
    path.write_text(SMALL, encoding="utf-8")
    return path


def _propose(households: Path, out: Path, *extra: str) -> list[str]:
    return ["propose", str(households), "--crs", "wgs84", "--out", str(out), *extra]


# ---------------------------------------------------------------------- parameters


def test_params_problems_name_each_parameter_value_and_range() -> None:
    problems = ProposeParams(community_size=0, tolerance=5.0, max_grids=0).problems()
    assert [p.column for p in problems] == ["community_size", "tolerance", "max_grids"]
    assert problems[0].found == "0" and problems[0].expected == "100 to 50000"
    assert "give community_size a value from 100 to 50000" in problems[0].fix
    assert ProposeParams().problems() == []
    with pytest.raises(ValidationError, match=r"tolerance is not a finite number"):
        ProposeParams(tolerance=math.nan).validate()
    with pytest.raises(ValidationError, match=r"the grid band reaches above the community band"):
        ProposeParams(community_size=300, grid_households=400).validate()


def test_every_size_problem_at_once_before_any_work(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "plan"
    argv = _propose(
        small_csv,
        out,
        "--community-size",
        "0",
        "--tolerance",
        "5",
        "--max-grids",
        "0",
        "--seed",
        "-1",
    )
    assert main(argv) == EXIT_INPUT_ERROR
    _, err = capsys.readouterr()
    assert err.startswith("4 error(s), 0 warning(s); the parameters were refused")
    for option, value, allowed in (
        ("--community-size", "0", "100 to 50000"),
        ("--tolerance", "5.0", "0.01 to 0.5"),
        ("--max-grids", "0", "1 to 100"),
        ("--seed", "-1", "0 to 1e+06"),
    ):
        assert f"{option} is out of range" in err
        assert f"found: {value}" in err
        assert f"fix: give {option} a value from {allowed}" in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_non_finite_tolerance_is_refused(
    small_csv: Path, tmp_path: Path, capsys, value: str
) -> None:
    assert main(_propose(small_csv, tmp_path / "p", "--grid-tolerance", value)) == 2
    assert "--grid-tolerance is not a finite number" in capsys.readouterr().err


def test_a_grid_bigger_than_a_community_is_refused(small_csv: Path, tmp_path: Path, capsys) -> None:
    argv = _propose(
        small_csv, tmp_path / "p", "--community-size", "300", "--grid-households", "400"
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the grid band reaches above the community band" in err
    assert "fix: lower --grid-households (or its tolerance) or raise --community-size" in err


def test_rebalance_refuses_its_small_margin_with_the_sizes(
    small_csv: Path, tmp_path: Path, capsys
) -> None:
    argv = [
        "rebalance",
        "--communities",
        str(small_csv),
        "--households",
        str(small_csv),
        "--crs",
        "wgs84",
        "--out",
        str(tmp_path / "r"),
        "--small-margin",
        "2",
        "--grid-size",
        "0",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("2 error(s)")
    assert "--small-margin is out of range" in err and "--grid-households is out of range" in err


# ---------------------------------------------------------------------- --out


def test_an_existing_file_as_out_is_refused_before_reading(tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan.txt"
    out.write_text("not a folder", encoding="utf-8")
    # the households file does not even exist: --out is refused before anything is read
    assert main(_propose(tmp_path / "missing.csv", out)) == 2
    err = capsys.readouterr().err
    assert "--out is an existing file, not a folder" in err
    assert "missing.csv" not in err


def test_an_out_that_cannot_be_made_is_refused(small_csv: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(_propose(small_csv, blocker / "plan")) == 2
    assert "--out cannot be written" in capsys.readouterr().err


def test_render_refuses_a_folder_as_out_and_a_zero_dpi(tmp_path: Path, capsys) -> None:
    assert main(["render", str(tmp_path), "--out", str(tmp_path), "--dpi", "0"]) == 2
    err = capsys.readouterr().err
    assert "--out is a folder, not a file" in err and "--dpi is out of range" in err


# ---------------------------------------------------------------------- every input first


@pytest.fixture
def bad_layers(tmp_path: Path) -> tuple[Path, Path]:
    """A 街道 "layer" that is a table without geometries, and facilities without a floor
    area."""
    streets = tmp_path / "streets.csv"
    streets.write_text("a,b\n1,2\n", encoding="utf-8")
    facilities = tmp_path / "facilities.geojson"
    facilities.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "站"},
                        "geometry": {"type": "Point", "coordinates": [116.31, 39.90]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return streets, facilities


def test_propose_reads_every_layer_before_computing(
    small_csv: Path, tmp_path: Path, bad_layers, capsys
) -> None:
    streets, facilities = bad_layers
    out = tmp_path / "plan"
    argv = _propose(small_csv, out, "--streets", str(streets), "--facilities", str(facilities))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("2 error(s), 0 warning(s); the inputs were refused")
    assert "[error] streets.csv" in err and "must be a spatial file" in err
    assert "[error] facilities.geojson: no floor area column" in err
    assert not (out / "communities.geojson").exists()


def test_check_reads_every_layer_before_checking(
    small_csv: Path, tmp_path: Path, bad_layers
) -> None:
    streets, facilities = bad_layers
    with pytest.raises(ValidationError) as info:
        run_check(
            streets,
            small_csv,
            crs="wgs84",
            facilities_path=facilities,
            standard="national-2021",
            out_dir=tmp_path / "c",
        )
    files = {p.file for p in info.value.problems}
    assert {"streets.csv", "facilities.geojson"} <= files
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------------- bugs


def test_an_unexpected_error_is_one_line_and_a_log(
    small_csv: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("planning.runs.run_propose", broken)
    out = tmp_path / "plan"
    out.mkdir()
    assert main(_propose(small_csv, out)) == EXIT_UNEXPECTED
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "propose failed unexpectedly (ZeroDivisionError: division by zero)" in err
    (log,) = out.glob("planning-propose-error-*.log")
    assert str(log) in err
    assert "Traceback" in log.read_text(encoding="utf-8") and "Traceback" not in err
    # without an --out folder the log goes to the temp folder
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(_propose(small_csv, tmp_path / "new")) == EXIT_UNEXPECTED
    assert list(tmp_path.glob("planning-propose-error-*.log"))


# ---------------------------------------------------------------------- the chain


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the sample district's folder, propose's plan of it in GCJ-02 with a household set to
    0, which the households' reader warns about)."""
    from samples.district import write_sample

    root = tmp_path_factory.mktemp("chain")
    sample = root / "s"
    write_sample(sample, households=5_000, seed=0)
    rows = pd.read_csv(sample / "households.csv", encoding="utf-8-sig")
    rows.loc[len(rows) - 1, "户数"] = 0
    rows.to_csv(sample / "households.csv", index=False, encoding="utf-8-sig")
    plan = root / "p"
    argv = [
        "propose",
        str(sample / "households.csv"),
        "--crs",
        "gcj02",
        "--out",
        str(plan),
        "--streets",
        str(sample / "streets.geojson"),
        *CHAIN_SIZES,
    ]
    assert main(argv) == 0
    return sample, plan


def test_propose_prints_every_warning_and_writes_it_whole(sample_plan, capsys) -> None:
    _, plan = sample_plan
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    assert summary["data"]["warnings"] == len(summary["warnings"]) >= 1
    zero = [
        w
        for w in summary["warnings"]
        if "0 households" in w["message"] or "zero" in w["message"].lower()
    ]
    assert zero and zero[0]["severity"] == "warning" and zero[0]["fix"]


def test_check_reads_proposes_communities_as_wgs84(sample_plan, tmp_path: Path) -> None:
    sample, plan = sample_plan
    warnings: list = []
    result = run_check(
        plan / "communities.geojson",
        sample / "households.csv",
        crs="gcj02",
        facilities_path=sample / "facilities.geojson",
        standard="national-2021",
        out_dir=tmp_path / "c",
        on_warnings=warnings.extend,
    )
    assert result.totals["unassigned_households"] == 0
    assert any("read as WGS84" in p.message for p in warnings)


def test_check_reads_the_facilities_in_their_own_crs(sample_plan, tmp_path: Path) -> None:
    """The sample's facilities (GCJ-02) written in WGS84 and declared so with --facilities-crs
    give the same check as the originals; declared as the households' gcj02 they land ~500 m
    off and the facility areas counted per community change."""
    import geopandas as gpd
    import shapely

    from geo.crs import gcj02_to_wgs84

    sample, plan = sample_plan
    facilities = gpd.read_file(sample / "facilities.geojson")
    lon, lat = gcj02_to_wgs84(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy())
    facilities = facilities.set_geometry(shapely.points(lon, lat))
    facilities.to_file(tmp_path / "facilities_wgs84.geojson", driver="GeoJSON")
    common = ["check", "--communities", str(plan / "communities.geojson"),
              "--households", str(sample / "households.csv"), "--crs", "gcj02"]  # fmt: skip
    assert main([*common, "--facilities", str(sample / "facilities.geojson"),
                 "--out", str(tmp_path / "a")]) == 0  # fmt: skip
    assert main([*common, "--facilities", str(tmp_path / "facilities_wgs84.geojson"),
                 "--facilities-crs", "wgs84", "--out", str(tmp_path / "b")]) == 0  # fmt: skip
    assert main([*common, "--facilities", str(tmp_path / "facilities_wgs84.geojson"),
                 "--out", str(tmp_path / "c")]) == 0  # fmt: skip
    area = {
        name: pd.read_csv(tmp_path / name / "compliance.csv", encoding="utf-8-sig")
        .set_index("community_id")["facility_area_m2"]
        .fillna(0)
        for name in "abc"
    }
    assert (area["a"] - area["b"]).abs().max() < 1e-6
    assert (area["a"] - area["c"]).abs().max() > 0


def test_rebalance_keeps_every_in_band_community_of_proposes_plan(
    sample_plan, tmp_path: Path, capsys
) -> None:
    sample, plan = sample_plan
    argv = [
        "rebalance",
        "--communities",
        str(plan / "communities.geojson"),
        "--households",
        str(sample / "households.csv"),
        "--crs",
        "gcj02",
        "--streets",
        str(sample / "streets.geojson"),
        "--out",
        str(tmp_path / "r"),
        *CHAIN_SIZES,
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "outside every community  0 households" in out
    assert "read as WGS84" in out  # the warning is printed
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["households_outside_existing"] == 0
    in_band = {
        f["properties"]["community_id"]
        for f in json.loads((plan / "communities.geojson").read_text(encoding="utf-8"))["features"]
        if f["properties"]["in_band"]
    }
    kept = set(summary["rebalance"]["kept"]) | set(summary["rebalance"]["adjusted"])
    assert in_band and in_band <= kept
    assert any(w["message"].startswith("read as WGS84") for w in summary["warnings"])


def test_the_communities_crs_overrides_the_geojson_rule(sample_plan, tmp_path: Path) -> None:
    """Declared GCJ-02, propose's WGS84 communities shift ~500 m: households fall outside."""
    sample, plan = sample_plan
    run = run_rebalance(
        plan / "communities.geojson",
        sample / "households.csv",
        crs="gcj02",
        out_dir=tmp_path / "r",
        params=ProposeParams(community_size=800, grid_households=100),
        layer_crs={"communities": "gcj02"},
    )
    assert run.result.report.households_outside_existing > 0
    assert not any("read as WGS84" in p.message for p in run.warnings)


def test_compare_reads_a_plan_made_from_geojson_households(
    haidian: Path, tmp_path: Path, capsys
) -> None:
    plan = tmp_path / "p"
    argv = [
        "propose",
        str(haidian / "households.geojson"),
        "--crs",
        "wgs84",
        "--out",
        str(plan),
        "--community-size",
        "1000",
        "--grid-households",
        "100",
    ]
    assert main(argv) == 0
    assert main(["compare", str(plan), str(plan), "--out", str(tmp_path / "c")]) == 0
    assert "households changing community: 0 (0.0%)" in capsys.readouterr().out
    compared = json.loads((tmp_path / "c" / "compare.json").read_text(encoding="utf-8"))
    households = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    assert compared["warnings"] == []
    assert compared["a"]["communities"]["count"] == households["communities"]["count"]


def test_propose_reads_the_sheet_it_is_told(tmp_path: Path, capsys) -> None:
    """A workbook with two sheets of data is refused without --sheet (not half read), by
    propose and check alike; a sheet named reaches the households' reader."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "东区"
    book.active.append(["经度", "纬度", "户数"])
    book.active.append([116.30, 39.90, 10])
    west = book.create_sheet("西区")
    west.append(["经度", "纬度", "户数"])
    west.append([116.32, 39.92, 8])
    path = tmp_path / "two.xlsx"
    book.save(path)
    out = tmp_path / "p"
    assert main(["propose", str(path), "--crs", "wgs84", "--out", str(out)]) == 2
    assert "西区" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(ValidationError, match="西区"):
        run_check(
            path,
            path,
            crs="wgs84",
            facilities_path=None,
            standard="national-2021",
            out_dir=tmp_path / "c",
        )
    west_only = read_layers(path, crs="wgs84", reading={"sheet": "西区"})
    assert west_only.households.summary()["households"] == 8
