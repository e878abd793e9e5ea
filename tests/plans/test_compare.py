"""Comparing plans, on the lattice district of test_plan (plan A)::

        col: 0    1  | 2    3  | 4    5  || 6    7    8 |  9   10   11
             W1 (400)  W2 (400)  W3 (400) || E1 (600)      E2 (600)

Plan B variants: B020 moved from W2 to W1 (50 households change hands, one 100 m cell);
E1's column 8 made a community of its own (200 change); W2 merged into W1 (400 change).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from test_plan import (
    BASE_COLUMNS,
    PARAMS,
    base_plan,
    labels_from_columns,
    lattice_buildings,
    lattice_district,
    lattice_subdistricts,
)

from geo.errors import InputFormatError
from geo.export import write_geojson
from planning.cli import build_parser
from planning.plans.compare import PlanLayers, compare_plans, plan_layers
from planning.plans.plan import plan_from_labels
from planning.plans.scenario import MergeCommunities, MoveBuildings
from planning.runs import read_plan_folder, run_propose, write_comparison


def plan_with(columns: dict[str, tuple[int, ...]]):
    community, grid, ids = labels_from_columns(columns)
    return plan_from_labels(lattice_district(), community, grid, community_ids=ids)


def test_identical_plans_differ_in_nothing():
    result = compare_plans(base_plan(), base_plan(), params=PARAMS)
    assert result.households == 2400
    assert result.households_changed == 0 and result.share_changed == 0
    assert result.households_changed_id == 0
    assert result.diff.empty
    assert result.delta["communities"]["count"] == 0
    assert result.matches["a"].tolist() == result.matches["b"].tolist()


def test_one_moved_building_changes_hands():
    b = MoveBuildings(("B020",), "W1").apply(base_plan(), PARAMS)
    result = compare_plans(base_plan(), b, params=PARAMS)
    assert result.households_changed == 50
    assert result.share_changed == pytest.approx(50 / 2400, abs=1e-6)
    assert result.households_changed_id == 50
    assert len(result.diff) == 1
    row = result.diff.iloc[0]
    assert (row["from_community"], row["to_community"]) == ("W2", "W1")
    assert (row["households"], row["buildings"]) == (50, 1)
    # the building's cell (0.01 km²), and what straightening the border round it takes along
    assert 0.009 <= row["area_km2"] <= 0.02
    point = lattice_buildings().set_index("building_id").geometry["B020"]
    assert shapely.covers(row["geometry"], point)
    assert result.diff.crs.to_epsg() == 4326
    assert result.a["communities"]["share_in_band"] == pytest.approx(0.4)


def test_a_split_changes_the_smaller_part():
    b = plan_with(
        {**{k: v for k, v in BASE_COLUMNS.items() if k != "E1"}, "E1": (6, 7), "E3": (8,)}
    )
    result = compare_plans(base_plan(), b, params=PARAMS)
    assert result.households_changed == 200
    assert result.households_changed_id == 200
    assert result.delta["communities"]["count"] == 1
    [row] = result.diff.itertuples()
    assert (row.from_community, row.to_community, row.households, row.buildings) == (
        "E1",
        "E3",
        200,
        4,
    )
    assert row.area_km2 == pytest.approx(0.04, rel=0.1)
    matches = result.matches.set_index("a")["b"]
    assert matches["E1"] == "E1"


def test_a_merge_changes_the_absorbed_community():
    b = MergeCommunities("W1", "W2").apply(base_plan(), PARAMS)
    result = compare_plans(base_plan(), b, params=PARAMS)
    assert result.households_changed == 400
    assert result.matches.set_index("a")["b"].isna()["W2"]
    assert [(r.from_community, r.to_community) for r in result.diff.itertuples()] == [("W2", "W1")]
    assert result.delta["communities"]["count"] == -1
    assert result.b["communities"]["households_max"] == 800


def test_compliance_totals_and_deltas_with_a_standard():
    b = MergeCommunities("W1", "W2").apply(base_plan(), PARAMS)
    result = compare_plans(base_plan(), b, params=PARAMS, standard="national-2021")
    assert result.a["compliance"]["failing"] == 5  # no facilities at all
    assert result.b["compliance"]["failing"] == 4
    assert result.delta["compliance"]["failing"] == -1
    assert set(result.a["compliance"]) == {
        "standard",
        "failing",
        "staff",
        "funds_yuan",
        "shortfall_m2",
    }


def test_plans_of_different_buildings_are_refused():
    a = plan_layers(base_plan(), params=PARAMS, name="A")
    fewer = PlanLayers("B", a.buildings.iloc[:-1], a.communities, a.grids, a.metric_crs)
    with pytest.raises(
        InputFormatError,
        match=r"expected plans of the same households.*48 and "
        r"47 buildings",
    ):
        compare_plans(a, fewer)


def test_write_comparison_writes_json_and_geojson(tmp_path):
    b = MoveBuildings(("B020",), "W1").apply(base_plan(), PARAMS)
    paths = write_comparison(compare_plans(base_plan(), b, params=PARAMS), tmp_path)
    data = json.loads(paths["compare"].read_text(encoding="utf-8"))
    assert data["households_changed"] == 50 and data["diff_areas"] == 1
    diff = json.loads(paths["diff"].read_text(encoding="utf-8"))
    assert diff["type"] == "FeatureCollection"
    assert diff["features"][0]["properties"]["from_community"] == "W2"


def test_compare_command_on_propose_and_rebalance_folders(tmp_path):
    buildings = lattice_buildings()
    pd.DataFrame(
        {
            "经度": buildings.geometry.x.round(8),
            "纬度": buildings.geometry.y.round(8),
            "户数": buildings["households"],
            "楼栋编号": buildings["building_id"],
        }
    ).to_csv(tmp_path / "households.csv", index=False)
    write_geojson(lattice_subdistricts(), tmp_path / "streets.geojson")
    run_propose(
        tmp_path / "households.csv",
        crs="wgs84",
        out_dir=tmp_path / "A",
        subdistricts_path=tmp_path / "streets.geojson",
        params=PARAMS,
    )
    parser = build_parser()
    args = parser.parse_args(
        [
            "rebalance",
            "--communities",
            str(tmp_path / "A" / "communities.geojson"),
            "--households",
            str(tmp_path / "households.csv"),
            "--crs",
            "wgs84",
            "--out",
            str(tmp_path / "B"),
            "--streets",
            str(tmp_path / "streets.geojson"),
            "--community-size",
            "600",
            "--grid-size",
            "100",
        ]
    )
    assert args.run(args) == 0
    args = parser.parse_args(
        ["compare", str(tmp_path / "A"), str(tmp_path / "B"), "--out", str(tmp_path / "C")]
    )
    assert args.run(args) == 0
    data = json.loads((tmp_path / "C" / "compare.json").read_text(encoding="utf-8"))
    stability = json.loads((tmp_path / "B" / "summary.json").read_text(encoding="utf-8"))[
        "stability"
    ]
    # rebalance keeps ids, so households whose id changed are the unstable ones
    assert data["households_changed_id"] == round((1 - stability) * 2400)
    assert data["a"]["communities"]["count"] == 4
    assert (tmp_path / "C" / "diff.geojson").exists()
    a = read_plan_folder(tmp_path / "A")
    assert a.params.community_size == 600
    assert a.buildings["community_id"].str.len().gt(0).all()


def test_read_plan_folder_refuses_other_folders(tmp_path):
    with pytest.raises(
        InputFormatError,
        match=r"expected a plan folder.*missing "
        r"communities.geojson, households.csv",
    ):
        read_plan_folder(tmp_path)
