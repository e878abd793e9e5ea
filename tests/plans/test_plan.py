"""Plans: labels, ids, polygons cached per 街道, the hard-rule check.

The lattice district every scenario test uses (also imported by the other test modules)::

        col: 0    1    2    3    4    5  | 6    7    8    9   10   11
    row 0    .    .    .    .    .    .  | .    .    .    .    .    .
    row 1    .    .    .    .    .    .  | .    .    .    .    .    .
    row 2    .    .    .    .    .    .  | .    .    .    .    .    .
    row 3    .    .    .    .    .    .  | .    .    .    .    .    .
             <------- 街道 西区 ------->     <------- 街道 东区 ------->

One building per cell of a 100 m lattice (row 0 north), 50 households each, id ``B<col><row>``
(``B020`` is column 2, row 0); buildings B020 and B021 form the compound 桂园. The base plan:
W1 = columns 0–1, W2 = 2–3, W3 = 4–5 (400 households each), E1 = 6–8, E2 = 9–11 (600 each);
grids are half columns (rows 0–1 and 2–3: 100 households). Bands for these sizes:
communities 600 ± 10% (540–660), grids 100 ± 20%.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo.crs import metric_crs_for
from geo.errors import ScenarioEditError
from planning.engine.district import prepare_district
from planning.engine.propose import propose
from planning.params import ProposeParams
from planning.plans.plan import (
    AUDIT_COLUMNS,
    audit_table,
    building_frame,
    check_plan,
    community_frame,
    discontiguous_labels,
    grid_frame,
    mend_pieces,
    plan_from_labels,
    plan_from_proposal,
    plan_successor,
)

COLS, ROWS, SPACING_M, HOUSEHOLDS = 12, 4, 100.0, 50
PARAMS = ProposeParams(
    community_size=600, tolerance=0.1, grid_households=100, grid_tolerance=0.2, max_grids=10, seed=0
)
BASE_COLUMNS = {"W1": (0, 1), "W2": (2, 3), "W3": (4, 5), "E1": (6, 7, 8), "E2": (9, 10, 11)}


@cache
def lattice_crs() -> pyproj.CRS:
    return metric_crs_for(np.array([121.5]), np.array([29.9]))


@cache
def _origin() -> tuple[float, float]:
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", lattice_crs(), always_xy=True)
    return to_metric.transform(121.5, 29.9)


def lattice_xy(col: float, row: float) -> tuple[float, float]:
    """Metric position of a lattice cell centre (a tiny fixed jitter avoids co-circular
    Voronoi vertices)."""
    x0, y0 = _origin()
    jitter = ((col * 7 + row * 3) % 5 - 2) * 0.7
    return (x0 + (col + 0.5) * SPACING_M + jitter, y0 + (ROWS - row - 0.5) * SPACING_M - jitter)


def to_wgs84(geoms) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=lattice_crs()).to_crs("EPSG:4326")


@cache
def lattice_buildings() -> gpd.GeoDataFrame:
    cells = [(c, r) for c in range(COLS) for r in range(ROWS)]
    points = [shapely.Point(*lattice_xy(c, r)) for c, r in cells]
    compound = ["桂园" if (c, r) in ((2, 0), (2, 1)) else None for c, r in cells]
    return gpd.GeoDataFrame(
        {
            "building_id": [f"B{c:02d}{r}" for c, r in cells],
            "households": np.full(len(cells), HOUSEHOLDS, dtype=np.int64),
            "population": np.full(len(cells), np.nan),
            "compound": np.array(compound, dtype=object),
            "rows": np.ones(len(cells), dtype=np.int64),
        },
        geometry=to_wgs84(points).array,
        crs="EPSG:4326",
    )


@cache
def lattice_subdistricts() -> gpd.GeoDataFrame:
    x0, y0 = _origin()
    half = COLS / 2 * SPACING_M
    boxes = [
        shapely.box(x0, y0, x0 + half, y0 + ROWS * SPACING_M),
        shapely.box(x0 + half, y0, x0 + 2 * half, y0 + ROWS * SPACING_M),
    ]
    return gpd.GeoDataFrame(
        {"name": ["西区", "东区"]}, geometry=to_wgs84(boxes).array, crs="EPSG:4326"
    )


@cache
def lattice_district():
    return prepare_district(
        lattice_buildings(), metric_crs=lattice_crs(), subdistricts=lattice_subdistricts()
    )


def cell_of(building_id: str) -> tuple[int, int]:
    return int(building_id[1:3]), int(building_id[3])


def labels_from_columns(columns: dict[str, tuple[int, ...]]):
    """(community label per site, grid label per site, ids) with half-column grids."""
    district = lattice_district()
    ids = sorted(columns)
    col_of = {c: ids.index(name) for name, cols in columns.items() for c in cols}
    bids = district.buildings["building_id"].tolist()
    n = len(district.sites.xy)
    community = np.full(n, -1, dtype=np.int64)
    grid = np.full(n, -1, dtype=np.int64)
    for b, site in zip(bids, district.sites.of_building, strict=True):
        col, row = cell_of(b)
        community[site] = col_of[col]
        grid[site] = col * 2 + row // 2
    return community, grid, ids


@cache
def base_plan():
    community, grid, ids = labels_from_columns(BASE_COLUMNS)
    return plan_from_labels(
        lattice_district(),
        community,
        grid,
        community_ids=ids,
        community_names=[f"{i}社区" for i in ids],
        smooth_m=PARAMS.smooth_m,
    )


def site_of(plan, building_id: str) -> int:
    bids = plan.district.buildings["building_id"].tolist()
    return int(plan.district.sites.of_building[bids.index(building_id)])


def community_of(plan, building_id: str) -> str:
    return plan.community_ids[plan.site_community[site_of(plan, building_id)]]


def members(plan, community_id: str) -> set[str]:
    frame = building_frame(plan)
    return set(frame.loc[frame["community_id"] == community_id, "building_id"])


# ---------------------------------------------------------------------- tests


def test_plan_from_labels_orders_by_id_and_numbers_grids():
    plan = base_plan()
    assert plan.community_ids == ("E1", "E2", "W1", "W2", "W3")
    assert plan.community_households.tolist() == [600, 600, 400, 400, 400]
    assert plan.grid_count.tolist() == [6, 6, 4, 4, 4]
    assert plan.grid_ids[:6] == tuple(f"E1-{i:03d}" for i in range(1, 7))
    # reading order: the northern grid of column 6 first, then west→east
    first = plan.grid_ids[plan.site_grid[site_of(plan, "B060")]]
    assert first == "E1-001"
    assert plan.grid_ids[plan.site_grid[site_of(plan, "B070")]] == "E1-002"
    with pytest.raises(ValueError, match="read-only"):
        plan.site_community[0] = 3


def test_check_plan_passes_a_valid_plan_and_reports_the_band():
    check = check_plan(base_plan(), PARAMS)
    assert check.ok and check.problems() == []
    status = {c.community_id: c.status for c in check.communities}
    assert status == {"E1": "in band", "E2": "in band", "W1": "below", "W2": "below", "W3": "below"}
    assert check.share_in_band == pytest.approx(0.4)
    assert check.grid_share_in_band == 1.0  # half columns hold 100: the band is 80–120
    assert check.status("E1").households == 600


def test_check_plan_finds_every_broken_rule():
    district = lattice_district()
    # community A: columns 0 and 2 (not touching), B: column 1 + 3–11 (crosses the 街道)
    community, grid, _ = labels_from_columns({"A": (0, 2), "B": (1, *range(3, 12))})
    grid_bad = grid.copy()
    grid_bad[grid_bad == 2] = 0  # a grid in column 0 and column 1: two communities
    plan = plan_from_labels(district, community, grid_bad, community_ids=["A", "B"])
    check = check_plan(plan, ProposeParams(community_size=600, max_grids=3))
    assert check.discontiguous_communities == ("A", "B")  # B: no edge across the 街道 line
    assert "B" in check.crossing_subdistricts
    assert check.grids_across_communities
    assert set(check.over_max_grids) == {"A", "B"}
    assert any("not one connected piece" in p for p in check.problems())
    only_a = check.problems(only=["A"])
    assert "community A is not one connected piece" in only_a
    assert not any(p.startswith("community B") for p in only_a)
    assert not check.ok


def test_plan_from_labels_refuses_unlabelled_sites_and_repeated_ids():
    district = lattice_district()
    community, grid, ids = labels_from_columns(BASE_COLUMNS)
    community[0] = -1
    with pytest.raises(ScenarioEditError, match="without a community"):
        plan_from_labels(district, community, grid, community_ids=ids)
    with pytest.raises(ScenarioEditError, match="ids repeat"):
        plan_from_labels(
            district,
            *labels_from_columns(BASE_COLUMNS)[:2],
            community_ids=["A", "A", "B", "C", "D"],
        )


def test_label_of_unknown_id_names_the_fix():
    with pytest.raises(ScenarioEditError, match=r"unknown community 'X9'.*pick an id"):
        base_plan().label_of("X9")


def test_polygons_tile_the_district_and_hold_their_buildings():
    plan = base_plan()
    comm = community_frame(plan)
    grids = grid_frame(plan)
    assert comm["community_id"].tolist() == list(plan.community_ids)
    assert comm["households"].tolist() == [600, 600, 400, 400, 400]
    assert comm["street"].tolist() == ["东区", "东区", "西区", "西区", "西区"]
    total = COLS * ROWS * SPACING_M**2
    assert comm.area.sum() == pytest.approx(total, rel=1e-6)
    assert comm.area.to_numpy() == pytest.approx(
        [120_000, 120_000, 80_000, 80_000, 80_000], rel=0.02
    )
    assert (shapely.get_num_geometries(comm.geometry.array) == 1).all()
    assert grids.area.sum() == pytest.approx(total, rel=1e-6)
    buildings = building_frame(plan).to_crs(plan.district.metric_crs)
    own = comm.set_index("community_id").geometry.loc[buildings["community_id"]]
    assert shapely.covers(np.asarray(own.array), np.asarray(buildings.geometry.array)).all()


def test_successor_renumbers_only_what_changed_and_redraws_only_its_street():
    plan = base_plan()
    community = np.asarray(plan.site_community).copy()
    grid = np.asarray(plan.site_grid).copy()
    site = site_of(plan, "B020")  # W2 → W1, into W1's grid of column 1, rows 0–1
    community[site] = plan.label_of("W1")
    grid[site] = plan.site_grid[site_of(plan, "B010")]
    new = plan_successor(
        plan,
        site_community=community,
        community_ids=plan.community_ids,
        community_names=plan.community_names,
        locked=plan.locked,
        site_grid=grid,
    )
    assert community_of(new, "B020") == "W1"
    assert new.shape_source.touched == frozenset(
        {int(plan.community_subdistrict[plan.label_of("W1")])}
    )
    # E1, E2 and W3 keep every grid id; W1's grids keep theirs by overlap
    untouched = [g for g in plan.grid_ids if g[:2] in ("E1", "E2", "W3")]
    assert set(untouched) <= set(new.grid_ids)
    assert (
        new.grid_ids[new.site_grid[site_of(new, "B020")]]
        == plan.grid_ids[plan.site_grid[site_of(plan, "B010")]]
    )
    # polygons of the untouched street are the very same objects, the edited ones are redrawn
    east = int(plan.community_subdistrict[plan.label_of("E1")])
    assert new.shapes[east] is plan.shapes[east]
    fresh = plan_from_labels(
        new.district,
        new.site_community,
        new.site_grid,
        community_ids=new.community_ids,
        grid_ids=new.grid_ids,
    )
    for cached, redrawn in zip(new.community_polygons(), fresh.community_polygons(), strict=True):
        assert shapely.area(shapely.symmetric_difference(cached, redrawn)) < 1e-6


def test_plan_from_proposal_keeps_ids_names_and_polygons():
    proposal = propose(
        lattice_buildings(),
        metric_crs=lattice_crs(),
        subdistricts=lattice_subdistricts(),
        params=PARAMS,
    )
    plan = plan_from_proposal(proposal, smooth_m=PARAMS.smooth_m)
    frame = building_frame(plan)
    assert frame["community_id"].tolist() == proposal.buildings["community_id"].tolist()
    assert frame["grid_id"].tolist() == proposal.buildings["grid_id"].tolist()
    assert list(plan.community_ids) == proposal.communities["community_id"].tolist()
    assert list(plan.community_names) == proposal.communities["name"].tolist()
    given = proposal.communities.geometry.array
    assert all(a is b for a, b in zip(plan.community_polygons(), given, strict=True))
    # the per-street redraw gives the engine's polygons back
    fresh = plan_from_labels(
        plan.district,
        plan.site_community,
        plan.site_grid,
        community_ids=plan.community_ids,
        grid_ids=plan.grid_ids,
        smooth_m=PARAMS.smooth_m,
    )
    for a, b in zip(fresh.grid_polygons(), proposal.grids.geometry.array, strict=True):
        assert shapely.area(shapely.symmetric_difference(a, b)) < 1e-6


def test_plan_from_proposal_needs_the_district():
    proposal = propose(lattice_buildings(), metric_crs=lattice_crs(), params=PARAMS)
    from dataclasses import replace

    with pytest.raises(ScenarioEditError, match="with its district"):
        plan_from_proposal(replace(proposal, district=None))


def test_discontiguous_labels_on_the_site_graph():
    district = lattice_district()
    community, _, _ = labels_from_columns({"A": (0, 2), "B": (1, *range(3, 12))})
    assert discontiguous_labels(district.graph, community).tolist() == [0, 1]


def test_audit_table_is_empty_with_its_columns():
    table = audit_table(base_plan())
    assert list(table.columns) == list(AUDIT_COLUMNS)
    assert table.empty


def test_mend_pieces_joins_cut_off_parts_to_a_neighbour_of_their_group():
    district = lattice_district()
    community, _, _ = labels_from_columns({"A": (0, 2), "B": (1, *range(3, 12))})
    mended, moved = mend_pieces(
        district, community, group=np.zeros_like(community), scope=community == 0
    )
    assert moved == 1  # A's two columns tie: the one holding the later sites joins B
    assert discontiguous_labels(district.graph, mended).tolist() == [1]  # B still crosses
    assert (mended == 0).sum() == 4
