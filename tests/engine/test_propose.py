"""The engine end to end: hard rules as properties on many random small districts, the size
targets on generated districts, and the real Haidian sample.

A random district (metres, then placed near Ningbo)::

    +-----------+-----------+      1–3 街道 as vertical strips,
    | .  :.  .  |  . .:  .  |      buildings as points with 1–300 households,
    |  ---------+------     |      some in named compounds, random road lines
    | .: .   .  |   . :.    |      cutting across (barriers).
    +-----------+-----------+
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.intake import read_households
from geo.layers import read_barriers
from planning.engine.graph import Graph
from planning.engine.metrics import plan_metrics
from planning.engine.propose import propose
from planning.engine.units import atoms
from planning.params import ProposeParams
from planning.runs import run_propose
from samples.district import write_sample

METRIC = pyproj.CRS.from_epsg(4550)
TO_WGS = pyproj.Transformer.from_crs(METRIC, 4326, always_xy=True)
ORIGIN = (356_000.0, 3_305_000.0)  # near Ningbo in EPSG:4550


def _frame(geoms, crs=METRIC, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_crs(4326)


def random_district(seed: int, *, n: int, subdistricts: int, roads: int, size_m: float = 1500.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(30, size_m - 30, (n, 2)) + ORIGIN
    xy = np.unique(np.round(xy, 1), axis=0)
    households = rng.integers(1, 300, len(xy))
    # compounds are places: the buildings of a 300 m cell, in some cells
    cell = ((xy - ORIGIN) // 300).astype(int)
    named = rng.random(len(xy)) < 0.6
    compound = np.array(
        [
            f"小区{cx}-{cy}" if keep else None
            for (cx, cy), keep in zip(cell.tolist(), named, strict=True)
        ],
        dtype=object,
    )
    buildings = _frame(
        shapely.points(xy),
        building_id=[f"B{i:04d}" for i in range(len(xy))],
        households=households,
        compound=compound,
    )
    cuts = np.linspace(0, size_m, subdistricts + 1)
    strips = [
        shapely.box(ORIGIN[0] + a, ORIGIN[1], ORIGIN[0] + b, ORIGIN[1] + size_m)
        for a, b in itertools.pairwise(cuts)
    ]
    subdistrict_frame = (
        _frame(strips, name=[f"街道{i + 1}" for i in range(subdistricts)])
        if subdistricts > 1
        else None
    )
    lines = []
    for _ in range(roads):
        a, b = rng.uniform(0, size_m, 2), rng.uniform(0, size_m, 2)
        lines.append(shapely.LineString([ORIGIN + a, ORIGIN + b]))
    barrier_frame = (
        _frame(
            lines,
            kind=["road"] * roads,
            road_class=["primary"] * roads,
            name=[f"路{i}" for i in range(roads)],
        )
        if roads
        else None
    )
    return buildings, subdistrict_frame, barrier_frame


def assert_hard_rules(proposal, params, subdistricts) -> dict:
    b = proposal.buildings
    assert b["community_id"].notna().all() and b["grid_id"].notna().all()
    # every grid lies in exactly one community, and buildings agree
    grid_comm = proposal.grids.set_index("grid_id")["community_id"]
    assert (grid_comm.loc[b["grid_id"]].to_numpy() == b["community_id"].to_numpy()).all()
    assert proposal.grids.groupby("community_id").size().max() <= params.max_grids
    metrics = plan_metrics(
        communities=proposal.communities,
        grids=proposal.grids,
        buildings=b,
        study_area=proposal.study_area,
        params=params,
        subdistricts=subdistricts,
    )
    c, g = metrics["communities"], metrics["grids"]
    assert c["multipart"] == 0 and g["multipart"] == 0
    assert c["buildings_split"] == 0
    assert c["buildings_outside_own_polygon"] == 0 and g["buildings_outside_own_polygon"] == 0
    assert c["overlap_area_m2"] < 1.0 and g["overlap_area_m2"] < 1.0
    assert c["gap_area_m2"] < 1.0 and g["gap_area_m2"] < 1.0
    assert g["outside_community_m2"] < 1.0
    assert c["crossing_streets"] == []
    households = proposal.communities["households"].sum()
    assert households == b["households"].sum()
    return metrics


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(25, 220),
    subdistricts=st.integers(1, 3),
    roads=st.integers(0, 4),
)
def test_hard_rules_hold_on_random_districts(seed, n, subdistricts, roads):
    buildings, subdistrict_frame, barrier_frame = random_district(
        seed, n=n, subdistricts=subdistricts, roads=roads
    )
    params = ProposeParams(community_size=2000, grid_households=250, max_grids=10, seed=seed % 7)
    proposal = propose(
        buildings,
        metric_crs=METRIC,
        subdistricts=subdistrict_frame,
        barriers=barrier_frame,
        params=params,
    )
    assert_hard_rules(proposal, params, subdistrict_frame)


def test_deterministic_for_a_seed():
    buildings, subdistricts, barriers = random_district(11, n=150, subdistricts=2, roads=2)
    params = ProposeParams(community_size=2000, seed=3)
    a = propose(
        buildings, metric_crs=METRIC, subdistricts=subdistricts, barriers=barriers, params=params
    )
    b = propose(
        buildings, metric_crs=METRIC, subdistricts=subdistricts, barriers=barriers, params=params
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.buildings.drop(columns="geometry")),
        pd.DataFrame(b.buildings.drop(columns="geometry")),
    )
    assert a.communities.geometry.equals(b.communities.geometry)


def test_a_street_too_small_for_the_band_is_explained():
    """One 街道 of ~3,700 households: no split into communities of 2,250–2,750 exists."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(50, 950, (37, 2)) + ORIGIN
    buildings = _frame(
        shapely.points(xy),
        building_id=[f"B{i}" for i in range(37)],
        households=np.full(37, 100),
        compound=[None] * 37,
    )
    street = _frame([shapely.box(*ORIGIN, ORIGIN[0] + 1000, ORIGIN[1] + 1000)], name=["甲街道"])
    proposal = propose(buildings, metric_crs=METRIC, subdistricts=street)
    reasons = [str(item.reason) for item in proposal.infeasible]
    assert any(
        r.startswith(
            "街道 甲街道: 3,700 households cannot form communities within "
            "2,250–2,750; made 1 of 3,700"
        )
        for r in reasons
    )


def test_a_tower_too_big_for_a_grid_is_its_own_grid_and_explained():
    xy = np.array([[100.0, 100.0], [300.0, 100.0], [500.0, 100.0]]) + ORIGIN
    buildings = _frame(
        shapely.points(xy),
        building_id=["T1", "B2", "B3"],
        households=[420, 200, 220],
        compound=[None] * 3,
    )
    proposal = propose(buildings, metric_crs=METRIC)
    tower = proposal.buildings.set_index("building_id").loc["T1", "grid_id"]
    assert (proposal.buildings["grid_id"] == tower).sum() == 1
    assert any("楼栋 T1: 420 households" in str(item.reason) for item in proposal.infeasible)
    tower_item = next(i for i in proposal.infeasible if i.level == "building")
    assert tower_item.reason.text("zh").startswith("楼栋 T1：一栋楼 420 户")


def test_grids_that_cannot_all_be_packed_into_the_band_are_explained():
    """Buildings of 290, 290 and 120 households make three grids; whole buildings leave the
    120 out of band whatever the split, and the summary says so for that community."""
    xy = np.array([[100.0, 100.0], [300.0, 100.0], [500.0, 100.0]]) + ORIGIN
    buildings = _frame(
        shapely.points(xy),
        building_id=["A", "B", "C"],
        households=[290, 290, 120],
        compound=[None] * 3,
    )
    proposal = propose(buildings, metric_crs=METRIC)
    assert sorted(proposal.grids["households"]) == [120, 290, 290]
    items = [item for item in proposal.infeasible if item.level == "grid-band"]
    assert len(items) == 1 and items[0].unit == "C001"
    assert str(items[0].reason).startswith("社区 C001: 700 households in 3 grids")
    assert "1 of 3 out of band (120)" in str(items[0].reason)
    assert "3 个中有 1 个超出范围（120）" in items[0].reason.text("zh")


def test_a_compound_in_two_parts_is_joined_through_the_lightest_unnamed_path():
    """Compound 甲 has two buildings that do not touch (0 and 1). Two unnamed buildings link
    them, one of 10 households off to the side (outside the compound's outline) and one of
    100; the light one joins them into one atom, so no partition can part the compound.
    Building 4 (another compound's) stays its own atom."""
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [50.0, 80.0], [50.0, -80.0], [50.0, -160.0]])
    weights = np.array([60.0, 60.0, 10.0, 100.0, 40.0])
    compound = np.array(["甲", "甲", None, None, "乙"], dtype=object)
    graph = Graph.from_pairs(5, [0, 2, 0, 3, 3], [2, 1, 3, 1, 4], np.full(5, 50.0))
    atom = atoms(np.arange(5), graph, compound, weights, 300, xy=xy)
    assert atom[0] == atom[1] == atom[2]
    assert len({atom[0], atom[3], atom[4]}) == 3


def test_grid_ids_follow_reading_order_inside_a_community():
    """Four towers in a 2 × 2 square: grids numbered NW, NE, SW, SE."""
    xy = np.array([[0, 400], [400, 400], [0, 0], [400, 0]], dtype=float) + ORIGIN
    buildings = _frame(
        shapely.points(xy),
        building_id=["NW", "NE", "SW", "SE"],
        households=[250] * 4,
        compound=[None] * 4,
    )
    proposal = propose(buildings, metric_crs=METRIC)
    grid = proposal.buildings.set_index("building_id")["grid_id"]
    assert grid.loc[["NW", "NE", "SW", "SE"]].str[-3:].tolist() == ["001", "002", "003", "004"]


@pytest.fixture(scope="module")
def sample_10k(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("sample10k"), households=10_000, seed=0)


def test_size_targets_on_a_generated_district(sample_10k, tmp_path):
    run = run_propose(
        sample_10k["households"],
        crs="gcj02",
        out_dir=tmp_path,
        subdistricts_path=sample_10k["streets"],
        barriers_path=sample_10k["barriers"],
    )
    c, _g = run.summary["communities"], run.summary["grids"]
    explained = {item["unit"] for item in run.summary["infeasible"] if item["level"] == "street"}
    out = run.proposal.communities[~run.proposal.communities["households"].between(2250, 2750)]
    assert set(out["street"]) <= explained
    # grids: ≥ 90% in band where the community can hold ≤ 10 grids of ≤ 300 and no single
    # building is over the band (those are explained)
    hard = {item["unit"] for item in run.summary["infeasible"] if item["level"] == "community"}
    grids = run.proposal.grids[~run.proposal.grids["community_id"].isin(hard)]
    grids = grids[~((grids["buildings"] == 1) & (grids["households"] > 300))]
    assert grids["households"].between(200, 300).mean() >= 0.9
    assert c["multipart"] == 0 and c["gap_area_m2"] < 1 and c["overlap_area_m2"] < 1
    assert c["compounds_fit_but_split"] == []
    # a major road runs through a community only where a side of it cannot stand alone
    assert c["barrier_crossings_unforced"] == []
    for name in ("communities.geojson", "grids.geojson", "households.csv", "summary.json"):
        assert (tmp_path / name).exists()
    rows = pd.read_csv(tmp_path / "households.csv", encoding="utf-8-sig")
    assert len(rows) == len(run.households.rows)
    assert rows["community_id"].notna().all() and rows["grid_id"].notna().all()
    assert list(rows.columns[:6]) == ["经度", "纬度", "户数", "楼栋编号", "小区名称", "人口"]


def test_real_haidian_sample_meets_the_hard_rules(haidian, tmp_path):
    run = run_propose(
        haidian / "households.geojson",
        crs="wgs84",
        out_dir=tmp_path,
        barriers_path=[haidian / "roads.geojson", haidian / "water.geojson"],
        compounds_path=haidian / "compounds.geojson",
    )
    params = ProposeParams()
    assert_hard_rules(run.proposal, params, None)
    assert run.summary["communities"]["count"] == 2
    assert run.summary["communities"]["barrier_crossings_unforced"] == []
    # 5,805 households cannot make communities of 2,250–2,750: said, not hidden
    assert any("5,805 households" in item["reason"] for item in run.summary["infeasible"])
    # communities of ~2,900 leave 10 grids little room under 300: at least 90% still fit, and
    # the community of every grid out of band says why
    grids = run.proposal.grids
    fits = grids["households"].between(200, 300)
    assert fits.mean() >= 0.9
    explained = {item["unit"] for item in run.summary["infeasible"] if item["level"] == "grid-band"}
    assert set(grids.loc[~fits, "community_id"]) <= explained
    # no sliver grid: the balance-only grid partition redraws its pairs for shape when one of
    # its grids is thinner than PP 0.3 (a strip of 267 households had 0.14). Grids are drawn
    # with their blocks' land now (open space whole, strips divided): an L of 300 households
    # round an empty campus block measures 0.24, a shape and not a sliver
    metric = grids.to_crs(run.proposal.district.metric_crs).geometry
    assert (4 * np.pi * metric.area / metric.length**2).min() > 0.2
    water = read_barriers(haidian / "water.geojson", crs="wgs84").frame
    assert (water["kind"] == "river").all()


@pytest.mark.parametrize("seed", range(5))
def test_haidian_grids_fit_the_band_whatever_the_seed(haidian, seed):
    """Communities of ~2,900 in 10 grids of at most 300 are a tight packing: the 90% holds
    for every seed, not only the default one."""
    run = run_propose(
        haidian / "households.geojson",
        crs="wgs84",
        params=ProposeParams(seed=seed),
        barriers_path=[haidian / "roads.geojson", haidian / "water.geojson"],
        compounds_path=haidian / "compounds.geojson",
    )
    assert run.proposal.grids["households"].between(200, 300).mean() >= 0.9


def test_households_file_keeps_every_input_row(haidian, tmp_path):
    households = read_households(haidian / "households.geojson", crs="wgs84")
    run = run_propose(haidian / "households.geojson", crs="wgs84", out_dir=tmp_path)
    rows = pd.read_csv(tmp_path / "households.csv")
    assert len(rows) == len(households.rows)
    assert rows["households"].sum() == 5805
    assert run.summary["parameters"]["community_size"] == 2500
