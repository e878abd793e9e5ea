"""Rebalancing an existing plan, on the lattice district of test_plan::

        col: 0    1    2 |  3  | 4    5 || 6    7    8    9   10   11
             P1 (600)      P2    P3     || Q1 (1,150 inside its polygon)
                           (200) (400)  ||                        B113 lies in a gap
             <--------- 西区 ----------> <------------- 东区 --------------->

Bands: 600 ± 10% (540–660); clearly small below 540 − 0.2 × 600 = 420. Expected: P1 kept as
it is (same buildings, id, name); P2 merged with P3 (200 + 400 = 600 fits, P1 + P2 = 800 does
not), keeping P3's id (the larger share); Q1 (1,200 with the gap building) split in two;
B113 counted as outside every community.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_plan import (
    PARAMS,
    ROWS,
    SPACING_M,
    _origin,
    lattice_buildings,
    lattice_subdistricts,
    members,
    to_wgs84,
)

from geo.errors import InputFormatError
from geo.export import write_geojson
from geo.intake import read_households
from planning.cli import build_parser
from planning.params import ProposeParams
from planning.plans.plan import check_plan
from planning.plans.rebalance import rebalance

IDS = {"P1": "330203001001", "P2": "330203001002", "P3": "330203001003", "Q1": "330203002001"}


def box(col0: float, col1: float, row0: float = 0, row1: float = ROWS) -> shapely.Polygon:
    """Metric box over columns [col0, col1) and rows [row0, row1) (row 0 north)."""
    x0, y0 = _origin()
    return shapely.box(
        x0 + col0 * SPACING_M,
        y0 + (ROWS - row1) * SPACING_M,
        x0 + col1 * SPACING_M,
        y0 + (ROWS - row0) * SPACING_M,
    )


def existing_communities() -> gpd.GeoDataFrame:
    q1 = shapely.union_all([box(6, 11), box(11, 12, 0, 3)])  # B113 (col 11, row 3) left out
    geoms = [box(0, 3), box(3, 4), box(4, 6), q1]
    return gpd.GeoDataFrame(
        {
            "community_id": list(IDS.values()),
            "name": ["柏园社区", "凤湖社区", "湖浦社区", "华坊社区"],
        },
        geometry=to_wgs84(geoms).array,
        crs="EPSG:4326",
    )


class _Households:
    """What rebalance needs of a Households: buildings and the metric CRS."""

    def __init__(self):
        from test_plan import lattice_crs

        self.buildings = lattice_buildings()
        self.metric_crs = lattice_crs()


def cells(*cols: int, rows=range(ROWS)) -> set[str]:
    return {f"B{c:02d}{r}" for c in cols for r in rows}


@pytest.fixture(scope="module")
def result():
    return rebalance(
        existing_communities(), _Households(), params=PARAMS, subdistricts=lattice_subdistricts()
    )


def test_in_band_communities_stay_identical(result):
    plan = result.plan
    assert members(plan, IDS["P1"]) == cells(0, 1, 2)
    label = plan.label_of(IDS["P1"])
    assert plan.community_names[label] == "柏园社区"
    comm = result.proposal.communities.set_index("community_id")
    assert comm.loc[IDS["P1"], "status"] == "kept"
    assert comm.loc[IDS["P1"], "source_ids"] == IDS["P1"]
    assert result.report.as_dict()["kept"] == [IDS["P1"]]
    # its polygon follows the existing boundary (the tessellation is cut along it)
    polygon = comm.loc[IDS["P1"], "geometry"]
    given = existing_communities().to_crs(plan.district.metric_crs).geometry.iloc[0]
    assert shapely.area(shapely.symmetric_difference(polygon, given)) < 0.01 * given.area


def test_clearly_small_merges_with_the_neighbour_that_fits(result):
    plan = result.plan
    assert IDS["P2"] not in plan.community_ids
    assert members(plan, IDS["P3"]) == cells(3, 4, 5)
    assert result.report.as_dict()["merged"] == [
        {"from": [IDS["P2"], IDS["P3"]], "to": [IDS["P3"]]}
    ]
    comm = result.proposal.communities.set_index("community_id")
    assert comm.loc[IDS["P3"], "status"] == "merged"
    assert comm.loc[IDS["P3"], "households"] == 600


def test_oversized_is_split_and_the_gap_is_assigned_and_counted(result):
    plan = result.plan
    parts = [IDS["Q1"], IDS["Q1"] + "-2"]
    assert result.report.as_dict()["split"] == [{"from": [IDS["Q1"]], "to": parts}]
    assert members(plan, parts[0]) | members(plan, parts[1]) == cells(*range(6, 12))
    sizes = [plan.community_households[plan.label_of(p)] for p in parts]
    assert sorted(sizes) == [600, 600]
    assert result.report.as_dict()["households_outside_existing"] == 50
    assert result.report.as_dict()["buildings_outside_existing"] == 1
    assert check_plan(plan, PARAMS).ok
    assert result.proposal.infeasible == []


def test_stability_is_the_share_of_households_keeping_their_community(result):
    plan = result.plan
    ids = np.asarray(plan.community_ids, dtype=object)[
        plan.site_community[plan.district.sites.of_building]
    ]
    buildings = lattice_buildings()
    q1_part = members(plan, IDS["Q1"]) - {"B113"}
    kept = 600 + 400 + 50 * len(q1_part)
    assert result.report.as_dict()["stability"] == pytest.approx(kept / 2400, abs=1e-4)
    assert result.report.as_dict()["stability_of_assigned"] == pytest.approx(kept / 2350, abs=1e-4)
    assert len(ids) == len(buildings)


def test_oversized_without_a_possible_split_is_kept_and_explained():
    subdistricts = lattice_subdistricts()
    whole = gpd.GeoDataFrame(
        {"community_id": ["W", "E"], "name": ["西", "东"]},
        geometry=subdistricts.geometry.array,
        crs="EPSG:4326",
    )
    params = ProposeParams(community_size=1000, grid_households=100, max_grids=12)
    out = rebalance(whole, _Households(), params=params, subdistricts=subdistricts)
    assert out.report.as_dict()["kept"] == ["E", "W"]
    reasons = [k["reason"] for k in out.report.as_dict()["kept_out_of_band"]]
    assert any(
        "1,200 households, above the band 900–1,100" in r and "一社多站" in r for r in reasons
    )
    assert out.report.as_dict()["stability"] == 1.0
    assert {i.unit for i in out.proposal.infeasible} == {"W", "E"}


def test_an_oversized_community_is_redrawn_with_an_out_of_band_neighbour():
    # W: A = columns 0–2 plus B030, B031 (700: above, but two parts of 350 are far below);
    #    B = the rest (500: slightly small). Together 1,200 = two in-band communities.
    a = shapely.union_all([box(0, 3), box(3, 4, 0, 2)])
    b = shapely.union_all([box(3, 4, 2, 4), box(4, 6)])
    frame = gpd.GeoDataFrame(
        {"community_id": ["A", "B", "E"], "name": ["甲", "乙", "东"]},
        geometry=to_wgs84([a, b, box(6, 12)]).array,
        crs="EPSG:4326",
    )
    out = rebalance(frame, _Households(), params=PARAMS, subdistricts=lattice_subdistricts())
    assert out.report.as_dict()["redrawn_together"] == [{"from": ["A", "B"], "to": ["A", "B"]}]
    sizes = out.proposal.communities.set_index("community_id")["households"]
    assert sizes["A"] == 600 and sizes["B"] == 600


def test_given_grids_are_kept_where_membership_holds():
    grid_boxes = [box(c, c + 1, r, r + 2) for c in range(3) for r in (0, 2)]
    grids = gpd.GeoDataFrame(
        {"grid_id": [f"G{i}" for i in range(6)], "community_id": [IDS["P1"]] * 6},
        geometry=to_wgs84(grid_boxes).array,
        crs="EPSG:4326",
    )
    out = rebalance(
        existing_communities(),
        _Households(),
        params=PARAMS,
        subdistricts=lattice_subdistricts(),
        grids=grids,
    )
    frame = out.proposal.grids
    assert sorted(frame.loc[frame["community_id"] == IDS["P1"], "grid_id"]) == [
        f"G{i}" for i in range(6)
    ]
    assert check_plan(out.plan, PARAMS).ok


def test_rebalance_refuses_a_layer_without_ids():
    frame = existing_communities().drop(columns=["community_id"])
    with pytest.raises(InputFormatError, match="expected polygons with a community_id column"):
        rebalance(frame, _Households(), params=PARAMS)


def test_command_writes_the_files_of_propose(tmp_path):
    buildings = lattice_buildings()
    table = pd.DataFrame(
        {
            "经度": buildings.geometry.x.round(8),
            "纬度": buildings.geometry.y.round(8),
            "户数": buildings["households"],
            "楼栋编号": buildings["building_id"],
            "小区名称": buildings["compound"].fillna(""),
        }
    )
    table.to_csv(tmp_path / "households.csv", index=False, encoding="utf-8")
    write_geojson(existing_communities(), tmp_path / "communities.geojson")
    write_geojson(lattice_subdistricts(), tmp_path / "streets.geojson")
    parser = build_parser()
    args = parser.parse_args(
        [
            "rebalance",
            "--communities",
            str(tmp_path / "communities.geojson"),
            "--households",
            str(tmp_path / "households.csv"),
            "--crs",
            "wgs84",
            "--out",
            str(tmp_path / "out"),
            "--streets",
            str(tmp_path / "streets.geojson"),
            "--community-size",
            "600",
            "--grid-size",
            "100",
        ]
    )
    assert args.run(args) == 0
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # P1 (600) and P3 (400) keep their ids, and one half of Q1 (600, maybe with B113's 50)
    assert 1600 / 2400 - 1e-4 <= summary["stability"] <= 1650 / 2400 + 1e-4
    assert summary["households_outside_existing"] == 50
    assert summary["communities"]["count"] == 4
    assert summary["communities"]["gap_area_m2"] == pytest.approx(0, abs=1)
    rows = pd.read_csv(out / "households.csv", encoding="utf-8-sig", dtype=str)
    assert len(rows) == len(buildings) and rows["community_id"].notna().all()
    assert rows["grid_id"].notna().all()
    comm = gpd.read_file(out / "communities.geojson")
    assert IDS["P1"] in comm["community_id"].astype(str).tolist()
    assert {"status", "source_ids", "in_band", "polsby_popper"} <= set(comm.columns)
    grids = gpd.read_file(out / "grids.geojson")
    assert len(grids) == comm["grid_count"].sum()
    households = read_households(tmp_path / "households.csv", crs="wgs84")
    assert int(households.buildings["households"].sum()) == 2400


def test_a_community_across_a_street_keeps_its_main_part():
    # B spans columns 3–6: its column 6 (200 households) lies in 东区 and joins E there
    frame = gpd.GeoDataFrame(
        {"community_id": ["A", "B", "E"], "name": ["甲", "乙", "东"]},
        geometry=to_wgs84([box(0, 3), box(3, 7), box(7, 12)]).array,
        crs="EPSG:4326",
    )
    out = rebalance(frame, _Households(), params=PARAMS, subdistricts=lattice_subdistricts())
    assert out.report.as_dict()["households_across_street"] == 200
    status = out.proposal.communities.set_index("community_id")["status"]
    assert status["A"] == "kept" and status["B"] == "adjusted"
    assert members(out.plan, "B") == cells(3, 4, 5)
    assert out.report.as_dict()["split"] == [{"from": ["E"], "to": ["E", "E-2"]}]
    assert check_plan(out.plan, PARAMS).ok


def test_rebalance_without_streets():
    out = rebalance(existing_communities(), _Households(), params=PARAMS)
    assert members(out.plan, IDS["P1"]) == cells(0, 1, 2)
    assert check_plan(out.plan, PARAMS).ok


def _valid_after_rounding(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each polygon stays valid with its WGS84 coordinates rounded as GeoJSON is
    written (7 decimals), before any repair."""
    wgs84 = np.asarray(frame.to_crs("EPSG:4326").geometry.array)
    return shapely.is_valid(shapely.transform(wgs84, lambda xy: np.round(xy, 7)))


def _sharpest_corner_deg(polygon: shapely.Geometry) -> float:
    """The smallest angle between the two edges at a vertex of the polygon's rings (a spike:
    the outline goes out and comes back along itself)."""
    sharpest = 180.0
    for part in shapely.get_parts(polygon):
        for ring in [part.exterior, *part.interiors]:
            xy = np.asarray(ring.coords)[:-1]
            before, after = np.roll(xy, 1, axis=0) - xy, np.roll(xy, -1, axis=0) - xy
            norms = np.hypot(*before.T) * np.hypot(*after.T)
            cos = (before * after).sum(axis=1)[norms > 0] / norms[norms > 0]
            sharpest = min(sharpest, float(np.degrees(np.arccos(np.clip(cos, -1, 1))).min()))
    return sharpest


def test_borders_a_hair_apart_leave_no_sliver_in_the_polygons():
    """A road drawn beside the existing boundary of P1 and P2 it follows (column 3), 0 mm
    from it at the north edge and 6 mm at the south edge, as two layers digitised apart::

        boundary │╲ road
                 │ ╲          the cells between the two lines are slivers; the polygons
                 │  ╲ 6 mm    are drawn without them (borders on a 5 cm grid)

    The memberships are those of the plan without the road's hair-wide strip."""
    x0, y0 = _origin()
    road = gpd.GeoDataFrame(
        {"kind": ["road"], "road_class": ["residential"], "name": ["柳汀街"]},
        geometry=to_wgs84(
            [
                shapely.LineString(
                    [(x0 + 3 * SPACING_M, y0 + ROWS * SPACING_M), (x0 + 3 * SPACING_M + 0.006, y0)]
                )
            ]
        ).array,
        crs="EPSG:4326",
    )
    out = rebalance(
        existing_communities(),
        _Households(),
        params=PARAMS,
        subdistricts=lattice_subdistricts(),
        barriers=road,
    )
    assert members(out.plan, IDS["P1"]) == cells(0, 1, 2)
    assert members(out.plan, IDS["P3"]) == cells(3, 4, 5)
    for frame in (out.proposal.communities, out.proposal.grids):
        geoms = np.asarray(frame.geometry.array)
        assert shapely.is_valid(geoms).all() and _valid_after_rounding(frame).all()
        assert (shapely.get_num_geometries(geoms) == 1).all()
        assert min(_sharpest_corner_deg(g) for g in geoms) > 1.0  # no spike
    study_area = shapely.union_all(np.asarray(out.proposal.grids.geometry.array))
    assert (
        shapely.area(shapely.symmetric_difference(study_area, out.plan.district.study_area)) < 0.01
    )
