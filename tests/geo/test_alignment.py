"""A layer off the households by the GCJ-02 / BD-09 shift is named, with the declaration to
change; layers that sit on each other never are.

The built-in sample is GCJ-02 throughout (declared ``gcj02``); the real Haidian and Shenzhen
data are WGS84. A misdeclared layer is made by declaring it in another system, or by shifting
the real roads into GCJ-02 (written to ``tmp_path``; the shared data are only read)::

    households (WGS84)   .  .  .        roads as declared: buildings between the lines
                         ---------      roads in GCJ-02 read as WGS84: ~550 m off,
                          .  .  .       buildings on the lines as often as chance has it
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.alignment import (
    AlignedLayer,
    measure_alignment,
    offset_problem,
    offset_warnings,
)
from geo.crs import wgs84_to_gcj02
from geo.intake import read_households
from geo.layers import read_barriers, read_communities, read_subdistricts
from planning.runs import read_layers, run_check, run_propose
from samples.district import write_sample

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
HAIDIAN = SHARED / "beijing_haidian"
SHENZHEN = SHARED / "shenzhen_nanshan_north"


def _offsets(warnings) -> list:
    return [p for p in warnings if "looks like" in p.message]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Path]:
    """The built-in district, 10,000 households (about 400 buildings), GCJ-02 lon/lat."""
    return write_sample(tmp_path_factory.mktemp("aligned"), households=10_000, seed=0)


@pytest.fixture(scope="module")
def sample_households(sample):
    return read_households(sample["households"], crs="gcj02")


def _sample_warnings(sample, households, layer: str, declared: str):
    reader = {
        "barriers": read_barriers,
        "streets": read_subdistricts,
        "communities": read_communities,
    }[layer]
    frame = reader(sample[layer], crs=declared).frame
    return offset_warnings(
        households.buildings.geometry,
        [AlignedLayer(f"{layer}.geojson", frame.geometry, declared, f"--{layer}-crs")],
        points_crs="gcj02",
        points_label="households.csv",
        metric_crs=households.metric_crs,
    )


@pytest.mark.parametrize("layer", ["barriers", "streets", "communities"])
def test_sample_layers_declared_as_they_are_fit(sample, sample_households, layer) -> None:
    assert _sample_warnings(sample, sample_households, layer, "gcj02") == ()


@pytest.mark.parametrize(
    ("layer", "declared"),
    [
        ("barriers", "wgs84"),
        ("barriers", "bd09"),
        ("streets", "wgs84"),
        ("streets", "bd09"),
        ("communities", "wgs84"),
        ("communities", "bd09"),
    ],
)
def test_a_sample_layer_misdeclared_is_named_with_its_fix(
    sample, sample_households, layer, declared
) -> None:
    (problem,) = _sample_warnings(sample, sample_households, layer, declared)
    assert problem.severity == "warning"
    assert problem.file == f"{layer}.geojson"
    assert problem.message.startswith(f"{layer}.geojson looks like GCJ-02 although declared")
    assert "off households.csv" in problem.message
    assert problem.fix.startswith(f"declare --{layer}-crs gcj02")


def test_propose_reads_barriers_declared_wgs84_with_the_warning(sample) -> None:
    layers = read_layers(
        sample["households"],
        crs="gcj02",
        barriers_path=sample["barriers"],
        subdistricts_path=sample["streets"],
        layer_crs={"barriers": "wgs84"},
    )
    (problem,) = _offsets(layers.warnings)
    assert problem.file == "barriers.geojson"
    assert problem.fix.startswith("declare --barriers-crs gcj02")
    assert "households.csv" in problem.message


def test_propose_reads_the_sample_as_declared_without_one(sample) -> None:
    layers = read_layers(
        sample["households"],
        crs="gcj02",
        barriers_path=sample["barriers"],
        subdistricts_path=sample["streets"],
    )
    assert _offsets(layers.warnings) == []


def _haidian_layers(roads: Path):
    return read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=roads,
        compounds_path=HAIDIAN / "compounds.geojson",
        buildings_path=HAIDIAN / "buildings.geojson",
    )


def _roads_in_gcj02(folder: Path) -> Path:
    """Haidian's roads shifted into GCJ-02 (as an Amap export of them would be)."""
    roads = gpd.read_file(HAIDIAN / "roads.geojson")

    def shift(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return out

    roads["geometry"] = shapely.transform(np.asarray(roads.geometry.values), shift)
    path = folder / "roads_gcj02.geojson"
    roads.to_file(path, driver="GeoJSON")
    return path


def test_haidian_as_declared_has_no_offset_warning() -> None:
    assert _offsets(_haidian_layers(HAIDIAN / "roads.geojson").warnings) == []


def test_haidian_roads_in_gcj02_declared_wgs84_are_named(tmp_path: Path) -> None:
    (problem,) = _offsets(_haidian_layers(_roads_in_gcj02(tmp_path)).warnings)
    assert problem.file == "roads_gcj02.geojson"
    assert problem.message.startswith(
        "roads_gcj02.geojson looks like GCJ-02 although declared WGS84"
    )
    assert "off households.geojson" in problem.message
    assert problem.fix.startswith("declare --barriers-crs gcj02")


def test_haidian_roads_declared_right_after_all_warn_no_more(tmp_path: Path) -> None:
    layers = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=_roads_in_gcj02(tmp_path),
        layer_crs={"barriers": "gcj02"},
    )
    assert _offsets(layers.warnings) == []


def test_shenzhen_as_declared_has_no_offset_warning() -> None:
    layers = read_layers(
        SHENZHEN / "households.geojson",
        crs="wgs84",
        barriers_path=SHENZHEN / "roads.geojson",
        buildings_path=SHENZHEN / "buildings.geojson",
    )
    assert _offsets(layers.warnings) == []


def test_the_warning_is_printed_and_in_summary_json(tmp_path: Path, capsys) -> None:
    run = run_propose(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=_roads_in_gcj02(tmp_path),
        out_dir=tmp_path / "out",
    )
    (problem,) = _offsets(run.warnings)
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert problem.as_dict() in written["warnings"]


def test_measured_figures_as_declared_and_read_in_gcj02(tmp_path: Path) -> None:
    households = read_households(HAIDIAN / "households.geojson", crs="wgs84")
    roads = read_barriers(_roads_in_gcj02(tmp_path), crs="wgs84").frame
    alignment = measure_alignment(
        households.buildings.geometry,
        roads.geometry,
        points_crs="wgs84",
        layer_crs="wgs84",
        metric_crs=households.metric_crs,
    )
    assert alignment is not None and alignment.kind == "lines"
    assert alignment.points == len(households.buildings)
    best = alignment.better()[0]
    assert (best.side, best.system) == ("layer", "gcj02")
    assert best.fit < alignment.declared / 3
    assert 400 < best.shift_m < 700


def test_nothing_to_measure_against_points_or_between_projected_layers() -> None:
    points = gpd.GeoSeries(shapely.points([116.35, 116.351], [40.0, 40.001]), crs=4326)
    households = read_households(HAIDIAN / "households.geojson", crs="wgs84")
    assert (
        measure_alignment(
            households.buildings.geometry,
            points,
            points_crs="wgs84",
            layer_crs="wgs84",
            metric_crs=households.metric_crs,
        )
        is None
    )
    lines = gpd.GeoSeries([shapely.LineString([(116.35, 40.0), (116.36, 40.0)])], crs=4326)
    assert (
        measure_alignment(
            households.buildings.geometry,
            lines,
            points_crs="EPSG:4547",
            layer_crs="EPSG:4547",
            metric_crs=households.metric_crs,
        )
        is None
    )
    assert offset_problem(None, layer_label="a", points_label="b", layer_option="--a") is None


@pytest.mark.parametrize(("communities_crs", "warned"), [(None, False), ("wgs84", True)])
def test_check_warns_of_communities_off_the_households(
    sample, tmp_path: Path, communities_crs, warned
) -> None:
    met: list = []
    run_check(
        sample["communities"],
        sample["households"],
        crs="gcj02",
        facilities_path=None,
        standard="national-2021",
        out_dir=tmp_path,
        communities_crs=communities_crs,
        on_warnings=met.extend,
    )
    offsets = _offsets(met)
    assert bool(offsets) == warned
    if warned:
        assert offsets[0].file == "communities.geojson"
        assert offsets[0].fix.startswith("declare --communities-crs gcj02")
