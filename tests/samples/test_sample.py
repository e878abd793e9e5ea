"""Tests for samples.district: the synthetic Ningbo district and the files written from it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import samples.district as sample_module
from geo.crs import gcj02_to_wgs84
from geo.errors import PlanningInputError
from geo.intake import read_households
from geo.layers import read_barriers, read_communities, read_facilities, read_subdistricts
from samples.district import (
    BOUNDARY_LAYERS,
    HOUSEHOLD_COLUMNS,
    SAMPLE_CRS,
    build_sample,
    write_sample,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "data" / "boundaries"
LAYERS = ("households", *BOUNDARY_LAYERS)


@pytest.fixture(scope="module")
def sample():
    """The default district (80,000 households, seed 0), layers in WGS84."""
    return build_sample()


@pytest.fixture(scope="module")
def metric(sample):
    """Every layer of the default district in its metric CRS (EPSG:4550)."""
    return {name: sample.layer(name).to_crs(sample.metric_crs) for name in (*LAYERS, "open_spaces")}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The files write_sample writes for the defaults."""
    return write_sample(tmp_path_factory.mktemp("sample"))


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_writes_identical_bytes(written, tmp_path):
    again = write_sample(tmp_path)
    assert set(again) == set(LAYERS)
    for name in LAYERS:
        assert again[name].read_bytes() == written[name].read_bytes(), name


def test_another_seed_gives_another_district(written, tmp_path):
    other = write_sample(tmp_path, seed=1)
    for name in ("households", "streets", "communities"):
        assert other[name].read_bytes() != written[name].read_bytes(), name


def test_shipped_boundaries_are_what_write_sample_writes(written):
    for name in BOUNDARY_LAYERS:
        assert _read_json(SHIPPED / f"{name}.geojson") == _read_json(written[name]), name
    assert (SHIPPED / "README.md").exists()
    assert not (SHIPPED / "households.csv").exists()
    assert sum((SHIPPED / f"{n}.geojson").stat().st_size for n in BOUNDARY_LAYERS) < 1_500_000


# --- households ----------------------------------------------------------------------------


def test_total_households_is_the_requested_one(sample):
    assert sample.households["households"].sum() == 80_000
    assert sample.households.crs.to_epsg() == 4326


def test_households_csv_columns_encoding_and_decimals(written):
    raw = written["households"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, first = raw[3:].decode("utf-8").splitlines()[:2]
    assert tuple(header.split(",")) == HOUSEHOLD_COLUMNS
    lon, lat = first.split(",")[:2]
    assert len(lon.split(".")[1]) == 7 and len(lat.split(".")[1]) == 7
    table = pd.read_csv(written["households"], encoding="utf-8-sig", dtype={"楼栋编号": str})
    assert tuple(table.columns) == HOUSEHOLD_COLUMNS
    assert table["户数"].sum() == 80_000
    assert (table["人口"] >= table["户数"]).all()
    per_household = table["人口"].sum() / table["户数"].sum()
    assert 2.4 < per_household < 2.9
    assert table["小区名称"].isna().any()  # old-town walk-ups without a compound
    assert table["经度"].between(121.4, 121.7).all() and table["纬度"].between(29.8, 29.95).all()


def test_csv_is_the_sample_shifted_to_gcj02(sample, written):
    table = pd.read_csv(written["households"], encoding="utf-8-sig", dtype={"楼栋编号": str})
    assert len(table) == len(sample.households)
    lon, lat = gcj02_to_wgs84(table["经度"].to_numpy(), table["纬度"].to_numpy())
    xy = shapely.get_coordinates(sample.households.geometry.values)
    # GCJ-02 moves Ningbo by some 500 m; shifted back it lands within a few centimetres
    assert np.abs(lon - xy[:, 0]).max() < 1e-6 and np.abs(lat - xy[:, 1]).max() < 1e-6
    assert np.abs(table["经度"] - xy[:, 0]).min() > 1e-3


def test_urban_villages_have_one_row_per_household(sample):
    rows = sample.households
    village = rows[rows["kind"] == "village"]
    assert (village["households"] == 1).all()
    assert 2 <= village["compound"].nunique() <= 4
    assert village["compound"].str.endswith("村").all()
    houses = village.groupby("building_id")
    assert houses.size().between(1, 6).all() and (houses.size() > 1).any()
    xy = pd.DataFrame(shapely.get_coordinates(village.geometry.values), index=village.index)
    assert (xy.groupby(village["building_id"]).nunique() == 1).all().all()
    others = rows[rows["kind"] != "village"]
    assert others["building_id"].is_unique


def test_building_kinds_and_sizes(sample):
    rows = sample.households
    per_kind = rows.groupby("kind")["households"]
    assert per_kind.min()["tower"] >= 96 and per_kind.min()["midrise"] >= 24
    assert per_kind.max()["midrise"] <= 90 and per_kind.max()["walkup"] <= 36
    assert per_kind.min()["walkup"] >= 12
    floors = rows.groupby("kind")["floors"]
    assert floors.min()["tower"] >= 18 and floors.max()["tower"] <= 33
    assert floors.min()["midrise"] >= 6 and floors.max()["midrise"] <= 11


def test_hard_cases_are_present(sample):
    rows = sample.households
    # exactly one tower too big for one grid
    assert (rows["households"] > 400).sum() == 1
    assert rows["households"].max() == 420
    # one compound too big for one community
    compounds = rows.groupby("compound")["households"].sum()
    assert compounds.max() >= 6_000 and compounds.max() <= 9_000
    assert compounds.index.is_unique
    # street totals that are not clean multiples of 2,500
    assert (sample.subdistricts["households"] % 2500 != 0).any()


def test_no_building_in_a_park_the_river_or_near_a_barrier(metric):
    points = np.asarray(metric["households"].drop_duplicates("building_id").geometry.values)
    open_spaces = metric["open_spaces"]
    assert set(open_spaces["kind"]) == {"park", "water"}
    spaces = np.asarray(open_spaces.geometry.values)
    assert not shapely.intersects(points[:, None], spaces[None, :]).any()
    barriers = np.asarray(metric["barriers"].geometry.values)
    tree = shapely.STRtree(barriers)
    assert len(tree.query(points, predicate="dwithin", distance=15.0)[0]) == 0
    river = metric["barriers"].loc[metric["barriers"]["kind"] == "river"].geometry
    assert shapely.distance(points, river.iloc[0]).min() > 60.0


# --- boundary layers -----------------------------------------------------------------------


def test_streets_tile_the_district(metric):
    subdistricts = metric["streets"]
    assert 4 <= len(subdistricts) <= 6
    assert subdistricts["name"].str.endswith("街道").all() and subdistricts["name"].is_unique
    assert subdistricts["street_code"].str.fullmatch(r"330203\d{3}").all()
    geoms = np.asarray(subdistricts.geometry.values)
    assert (shapely.get_type_id(geoms) == 3).all() and shapely.is_valid(geoms).all()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).sum()
    assert overlap < 1.0
    union = shapely.union_all(geoms)
    district = math.prod(sample_module._BASE_SIZE_M)  # the default district, a rectangle
    assert union.area == pytest.approx(district, rel=1e-3)
    assert union.envelope.area == pytest.approx(district, rel=1e-3)
    assert subdistricts["households"].sum() == 80_000


def test_barriers_are_roads_a_river_and_a_railway(sample):
    barriers = sample.barriers
    assert set(barriers.geom_type) == {"LineString"}
    assert set(barriers["kind"]) == {"road", "river", "railway"}
    roads = barriers[barriers["kind"] == "road"]
    assert set(roads["road_class"]) == {"primary", "secondary", "tertiary", "residential"}
    assert barriers.loc[barriers["kind"] != "road", "road_class"].isna().all()
    assert barriers["name"].notna().all()
    assert {"中山路", "解放路", "姚江", "萧甬铁路"} <= set(barriers["name"])


def test_communities_are_an_imperfect_plan(metric):
    communities = metric["communities"]
    households = communities["households"]
    assert households.sum() == 80_000
    assert (households >= 4_000).sum() >= 2 and (households <= 1_200).any()
    assert 2_000 <= households.median() <= 3_500
    assert communities["community_id"].str.fullmatch(r"330203\d{6}").all()
    assert communities["community_id"].is_unique
    assert communities["name"].str.endswith("社区").all() and communities["name"].is_unique
    geoms = np.asarray(communities.geometry.values)
    assert (shapely.get_type_id(geoms) == 3).all() and shapely.is_valid(geoms).all()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    assert shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).sum() < 1.0
    # each community lies in the street it names
    subdistricts = metric["streets"].set_index("name").geometry
    for street, geom in zip(communities["street"], geoms, strict=True):
        assert shapely.area(shapely.difference(geom, subdistricts[street])) < 1.0
    # inherited plans have gaps: less than the district is covered, but every building is
    gap = metric["streets"].geometry.union_all().area - shapely.union_all(geoms).area
    assert gap > 5_000
    points = np.asarray(metric["households"].geometry.values)
    assert shapely.STRtree(geoms).query(points, predicate="within")[0].size == len(points)


def test_facilities_have_floor_areas(sample):
    facilities = sample.facilities
    assert set(facilities.geom_type) == {"Point"}
    assert facilities["facility_id"].is_unique
    assert (facilities["floor_area_m2"] > 0).all()
    assert facilities["floor_area_m2"].between(200, 1_500).all()
    assert set(facilities["type"]) <= {
        "社区综合服务设施",
        "党群服务中心",
        "养老服务站",
        "卫生服务站",
    }
    assert 0.6 < len(facilities) / (80_000 / 2_500) < 1.1


def test_geojson_is_gcj02_utf8_with_chinese_unescaped(written):
    text = written["communities"].read_text(encoding="utf-8")
    assert "社区" in text and "\\u" not in text
    data = json.loads(text)
    assert "GCJ-02" in data["coordinate_system"] and "crs" not in data
    assert SAMPLE_CRS == "gcj02"


def test_written_files_read_back_with_the_declared_crs(sample, written):
    households = read_households(written["households"], crs=SAMPLE_CRS)
    assert households.summary()["households"] == 80_000
    assert not households.report.problems
    assert len(households.buildings) == sample.households["building_id"].nunique()
    readers = {
        "streets": read_subdistricts,
        "barriers": read_barriers,
        "facilities": read_facilities,
        "communities": read_communities,
    }
    for name, reader in readers.items():
        layer = reader(written[name], crs=SAMPLE_CRS)
        assert not layer.report.problems, name
        assert len(layer.frame) == len(sample.layer(name)), name
    communities = read_communities(written["communities"], crs=SAMPLE_CRS).frame
    assert list(communities["community_id"]) == list(sample.communities["community_id"])
    moved = communities.to_crs(sample.metric_crs).geometry.values
    original = sample.communities.to_crs(sample.metric_crs).geometry.values
    assert shapely.hausdorff_distance(moved, original).max() < 0.5


# --- other sizes and bad input -------------------------------------------------------------


def test_ten_thousand_households_work():
    small = build_sample(households=10_000, seed=3)
    assert small.households["households"].sum() == 10_000
    assert small.subdistricts["households"].sum() == 10_000
    assert small.communities["households"].sum() == 10_000
    assert len(small.facilities) >= 2
    assert (small.households["kind"] == "village").any()
    assert (small.households["households"] == 420).sum() == 1


@pytest.mark.parametrize(
    ("households", "seed", "match"),
    [
        (100, 0, "households=100 is out of range"),
        (80_000.0, 0, "households=80000.0 is out of range"),
        (80_000, -1, "seed=-1 is out of range"),
        (True, 0, "households=True is out of range"),
    ],
)
def test_bad_arguments_are_refused(households, seed, match):
    with pytest.raises(PlanningInputError, match=match):
        build_sample(households=households, seed=seed)
