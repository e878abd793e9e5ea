"""Plan map builders in ui/maps/: colours apart, labels, grids, buildings, selection, gap map.

Fixtures are drawn around Ningbo (121.54°E, 29.87°N), squares of 0.01° (~1 km)::

    communities  3 × 3 squares, ids C1..C9 row by row from the north-west
                 +----+----+----+
                 | C1 | C2 | C3 |      each split into two grids (west | east half):
                 +----+----+----+      Cn-001, Cn-002
                 | C4 | C5 | C6 |
                 +----+----+----+      households 2,000 + 100 n (C5: 2,500; C1: 2,100)
                 | C7 | C8 | C9 |
                 +----+----+----+
    buildings    n random points inside the squares, with community_id and grid_id
"""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from map_support import geojson_layers, rendered, shows
from shapely.geometry import Point, box

from geo.errors import PlanningInputError
from ui.maps import (
    COMMUNITY_PALETTE,
    aggregate_buildings,
    community_colours,
    display_bounds,
    from_display,
    gap_map,
    plan_map,
    selection_layer,
    to_display,
    view_for,
)

LON0, LAT0, STEP = 121.54, 29.87, 0.01
GEOD = pyproj.Geod(ellps="WGS84")


def square(row: int, col: int) -> shapely.Polygon:
    west = LON0 + col * STEP
    north = LAT0 - row * STEP
    return box(west, north - STEP, west + STEP, north)


@pytest.fixture
def communities() -> gpd.GeoDataFrame:
    cells = [(r, c) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame(
        {
            "community_id": [f"C{i + 1}" for i in range(9)],
            "name": [f"第{i + 1}社区" for i in range(9)],
            "street": ["西门街道"] * 9,
            "households": [2000 + 100 * (i + 1) for i in range(9)],
            "grid_count": [2] * 9,
            "locked": [i == 4 for i in range(9)],
        },
        geometry=[square(r, c) for r, c in cells],
        crs="EPSG:4326",
    )


@pytest.fixture
def grids(communities) -> gpd.GeoDataFrame:
    rows = []
    geoms = []
    for cid, poly in zip(communities["community_id"], communities.geometry, strict=True):
        west, south, east, north = poly.bounds
        middle = (west + east) / 2
        for seq, part in enumerate(
            (box(west, south, middle, north), box(middle, south, east, north))
        ):
            rows.append(
                {
                    "grid_id": f"{cid}-{seq + 1:03d}",
                    "community_id": cid,
                    "households": 250,
                    "buildings": 5,
                }
            )
            geoms.append(part)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def make_buildings(communities: gpd.GeoDataFrame, n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(communities), n)
    points, grid_ids = [], []
    for c in pick:
        west, south, east, north = communities.geometry.iloc[c].bounds
        x = rng.uniform(west + 1e-4, east - 1e-4)
        y = rng.uniform(south + 1e-4, north - 1e-4)
        points.append(Point(x, y))
        half = 1 if x < (west + east) / 2 else 2
        grid_ids.append(f"{communities['community_id'].iloc[c]}-{half:03d}")
    households = rng.integers(1, 200, n)
    return gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:05d}" for i in range(n)],
            "households": households,
            "compound": [f"小区{i % 30}" for i in range(n)],
            "community_id": communities["community_id"].to_numpy()[pick],
            "grid_id": grid_ids,
        },
        geometry=points,
        crs="EPSG:4326",
    )


def layer_with(fmap, prop: str) -> list[dict]:
    return [
        f
        for layer in geojson_layers(fmap)
        for f in layer.data["features"]
        if prop in f["properties"]
    ]


# ---------------------------------------------------------------------------------------------
# Colours


def test_neighbours_never_share_a_colour(communities):
    colours = community_colours(communities)
    assert set(colours) == set(communities["community_id"])
    assert set(colours.values()) <= set(COMMUNITY_PALETTE)
    geoms = dict(zip(communities["community_id"], communities.geometry, strict=True))
    for a in geoms:
        for b in geoms:
            if a < b and geoms[a].intersects(geoms[b]):  # borders and corners
                assert colours[a] != colours[b], (a, b)
    assert len(set(colours.values())) <= 4  # a grid of squares needs four


def test_colours_are_deterministic_and_work_in_metres(communities):
    assert community_colours(communities) == community_colours(communities.iloc[::-1])
    metric = community_colours(communities.to_crs(4549))
    assert metric == community_colours(communities)


# ---------------------------------------------------------------------------------------------
# The plan map


def test_plan_map_labels_each_community_with_id_and_households(communities, grids):
    layers = {"communities": communities, "grids": grids}
    fmap = plan_map(layers, band=(2250, 2750), basemap="none")
    html = rendered(fmap)
    for cid, households in zip(communities["community_id"], communities["households"], strict=True):
        assert f"<b>{cid}<\\/b>" in html
        assert shows(html, f"{households:,} 户")
    features = layer_with(fmap, "fill")
    assert len(features) == 9
    fills = {f["properties"]["community_id"]: f["properties"]["fill"] for f in features}
    assert fills == community_colours(communities)


def test_communities_out_of_band_are_outlined_and_locked_ones_dashed(communities):
    fmap = plan_map({"communities": communities}, band=(2250, 2750), basemap="none")
    props = {f["properties"]["community_id"]: f["properties"] for f in layer_with(fmap, "edge")}
    assert props["C1"]["edge"] == "#d7191c"  # 2,100 households, below
    assert props["C5"]["edge"] != "#d7191c"  # 2,500 in band
    assert props["C5"]["dash"] and not props["C1"]["dash"]  # C5 is locked
    assert props["C1"]["status"] == "偏小"
    html = rendered(fmap)
    assert "户数不在 2,250–2,750 之间" in html and "已锁定（边界已商定）" in html


def test_grids_are_thin_clickable_outlines_with_tooltips(communities, grids):
    fmap = plan_map({"communities": communities, "grids": grids}, basemap="none")
    (layer,) = [
        g
        for g in geojson_layers(fmap)
        if g.data["features"] and "grid_id" in g.data["features"][0]["properties"]
    ]
    assert len(layer.data["features"]) == 18
    style = layer.style_function(layer.data["features"][0])
    assert style["weight"] < 1 and style["fillOpacity"] == 0 and style["fill"]
    assert any(isinstance(c, folium.GeoJsonTooltip) for c in layer._children.values())
    assert {"grid_id", "community_id", "households"} <= set(layer.data["features"][0]["properties"])


def test_buildings_are_sized_by_households(communities):
    buildings = make_buildings(communities, 300)
    fmap = plan_map({"communities": communities, "buildings": buildings}, basemap="none")
    points = layer_with(fmap, "building_id")
    assert len(points) == 300
    pairs = sorted(
        (f["properties"]["households"], f["properties"]["style"]["radius"]) for f in points
    )
    radii = [r for _, r in pairs]
    assert radii == sorted(radii) and radii[0] < radii[-1]
    assert {"community_id", "grid_id", "compound"} <= set(points[0]["properties"])


def test_many_buildings_are_aggregated_per_hexagon_and_community(communities):
    buildings = make_buildings(communities, 20_000, seed=1)
    fmap = plan_map(
        {"communities": communities, "buildings": buildings}, basemap="none", buildings_above=5_000
    )
    points = [f for f in layer_with(fmap, "buildings") if f["geometry"]["type"] == "Point"]
    assert 0 < len(points) < 5_000
    assert sum(f["properties"]["households"] for f in points) == buildings["households"].sum()
    assert sum(f["properties"]["buildings"] for f in points) == 20_000
    assert all(f["properties"]["community_id"].startswith("C") for f in points)


def test_aggregation_keeps_households_per_community(communities):
    buildings = make_buildings(communities, 2_000, seed=2)
    points, size_m = aggregate_buildings(buildings)
    assert size_m > 0
    expected = buildings.groupby("community_id")["households"].sum()
    got = points.groupby("community_id")["households"].sum()
    assert got.to_dict() == expected.to_dict()
    # every aggregated point lies inside its community
    joined = points.merge(
        communities[["community_id", "geometry"]].rename(columns={"geometry": "poly"}),
        on="community_id",
    )
    assert shapely.covers(np.array(joined["poly"]), np.array(joined.geometry)).all()


def test_legend_layer_control_draw_tool_and_no_network(communities, grids):
    fmap = plan_map(
        {"communities": communities, "grids": grids}, basemap="none", draw=True, lang="zh"
    )
    html = rendered(fmap)
    assert "planner-legend" in html and "<details open>" in html
    assert "L.control.layers" in html
    assert "L.Control.Draw" in html and "L.drawLocal" in html
    assert "cdnjs" not in html and "unpkg" not in html and "d3js" not in html
    assert not re.search(r"<script[^>]+src=\"https?:", html)
    assert "planner-far" in html  # labels thin out as the map zooms out
    for word in ("社区（相邻社区颜色不同", "网格边界", "画多边形，圈选要移动的楼栋"):
        assert word in html


def test_english_plan_map(communities):
    fmap = plan_map({"communities": communities}, band=(2250, 2750), basemap="none", lang="en")
    html = rendered(fmap)
    assert "Legend" in html and "Grid boundary" not in html  # no grids given
    assert shows(html, "2,100 hh")


def test_amap_draws_the_plan_shifted_to_gcj02(communities, grids):
    fmap = plan_map({"communities": communities, "grids": grids}, basemap="amap")
    corner = layer_with(fmap, "fill")[0]["geometry"]["coordinates"][0][0]
    lon, lat = communities.geometry.iloc[0].exterior.coords[0]
    _, _, moved = GEOD.inv(lon, lat, *corner)
    assert 300 < moved < 800


def test_plan_geometry_is_simplified_as_a_coverage_and_rounded(communities):
    ring = np.column_stack(
        [
            LON0 + 0.01 + 0.01 * np.cos(np.linspace(0, 2 * np.pi, 4001)),
            LAT0 + 0.01 * np.sin(np.linspace(0, 2 * np.pi, 4001)),
        ]
    )
    circle = shapely.Polygon(ring)
    frame = gpd.GeoDataFrame(
        {"community_id": ["R"], "households": [2500]}, geometry=[circle], crs="EPSG:4326"
    )
    fmap = plan_map({"communities": frame}, basemap="none")
    drawn = layer_with(fmap, "fill")[0]["geometry"]["coordinates"][0]
    assert len(drawn) < 1_000
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in drawn)


def test_text_from_files_is_escaped(communities):
    frame = communities.copy()
    frame.loc[0, "name"] = "<script>alert(1)</script>"
    html = rendered(plan_map({"communities": frame}, basemap="none"))
    assert "<script>alert(1)" not in html


def test_a_layer_key_not_in_the_table_is_refused(communities):
    with pytest.raises(PlanningInputError, match="subdistricts not known"):
        plan_map({"communities": communities, "subdistricts": communities}, basemap="none")


def test_diff_layer(communities):
    diff = gpd.GeoDataFrame(
        {"from_community": ["C1"], "to_community": ["C2"], "households": [120], "buildings": [3]},
        geometry=[box(LON0 + 0.008, LAT0 - 0.005, LON0 + 0.01, LAT0)],
        crs="EPSG:4326",
    )
    fmap = plan_map({"communities": communities, "diff": diff}, basemap="none")
    (feature,) = layer_with(fmap, "from_community")
    assert feature["properties"]["to_community"] == "C2"
    assert "变动区域（住户换了社区）" in rendered(fmap)


def test_selection_layer_outlines_only_the_selection(communities, grids):
    group = selection_layer(communities, ["C5"], grids=grids, grid_id="C5-002", basemap="none")
    layers = geojson_layers(group)
    assert [f["properties"]["community_id"] for f in layers[0].data["features"]] == ["C5"]
    assert [f["properties"]["grid_id"] for f in layers[1].data["features"]] == ["C5-002"]
    assert not selection_layer(communities, [], basemap="none")._children


# ---------------------------------------------------------------------------------------------
# Coordinates of the view


def test_from_display_undoes_the_amap_shift(communities):
    shifted = to_display(communities, "amap").geometry.iloc[0]
    back = from_display(shifted, "amap")
    for (x0, y0), (x1, y1) in zip(
        communities.geometry.iloc[0].exterior.coords, back.exterior.coords, strict=True
    ):
        _, _, error_m = GEOD.inv(x0, y0, x1, y1)
        assert error_m < 0.5
    assert from_display(shifted, "osm") is shifted


def test_view_for_shows_the_whole_box():
    bounds = (LON0, LAT0 - 0.03, LON0 + 0.03, LAT0)
    (lat, lon), zoom = view_for(bounds, width_px=600, height_px=600)
    assert lat == pytest.approx(LAT0 - 0.015) and lon == pytest.approx(LON0 + 0.015)
    span_deg = 600 * 360 / (256 * 2**zoom)
    assert span_deg >= 0.03  # the box fits across the map
    assert span_deg < 0.03 * 4  # and is not lost in it
    assert display_bounds(bounds, "osm") == bounds
    assert display_bounds(bounds, "amap")[0] > bounds[0]


# ---------------------------------------------------------------------------------------------
# The gap map


def compliance_report(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gaps = [-400.0, 0.0, 120.0, 800.0, float("nan"), -50.0, 300.0, 650.0, 10.0]
    return communities[["community_id", "name", "households", "geometry"]].assign(
        required_area_m2=750.0,
        facility_area_m2=[750.0 - g if g == g else 0.0 for g in gaps],
        gap_m2=gaps,
        suggested_site_lon=[
            np.nan if g <= 0 else c.centroid.x
            for g, c in zip(gaps, communities.geometry, strict=True)
        ],
        suggested_site_lat=[
            np.nan if g <= 0 else c.centroid.y
            for g, c in zip(gaps, communities.geometry, strict=True)
        ],
        suggested_building_id=["B1"] * 9,
    )


def test_gap_map_is_red_for_a_shortfall_and_green_for_a_surplus(communities):
    report = compliance_report(communities)
    fmap = gap_map(report, basemap="none")
    colour = {
        f["properties"]["community_id"]: f["properties"]["colour"]
        for f in layer_with(fmap, "colour")
    }
    assert colour["C4"] == "#d73027"  # the largest shortfall
    assert colour["C1"] == "#1a9850"  # the largest surplus
    assert colour["C2"] == "#d9ef8b"  # exactly met
    assert colour["C5"] == "#cccccc"  # unknown
    sites = layer_with(fmap, "suggested_building_id")
    assert {f["properties"]["community_id"] for f in sites} == {"C3", "C4", "C5", "C7", "C8", "C9"}
    html = rendered(fmap)
    assert "设施面积缺口" in html and "建议选址" in html and "d3js" not in html


def test_gap_map_with_facilities_in_english(communities):
    facilities = gpd.GeoDataFrame(
        {"name": ["中心"], "type": ["service"], "floor_area_m2": [600.0]},
        geometry=[Point(LON0 + 0.015, LAT0 - 0.015)],
        crs="EPSG:4326",
    )
    html = rendered(
        gap_map(compliance_report(communities), facilities=facilities, basemap="none", lang="en")
    )
    assert "Facility area gap" in html and "Suggested site" in html and "Facility" in html


# ---------------------------------------------------------------------------------------------
# The payload on the 80,000-household sample


@pytest.mark.slow
def test_the_plan_map_of_the_80k_sample_stays_small(tmp_path):
    from geo.layers import read_barriers, read_facilities, read_subdistricts
    from planning.plans.plan import building_frame, community_frame, grid_frame, plan_from_proposal
    from planning.runs import run_propose
    from samples.district import write_sample

    files = write_sample(tmp_path, households=80_000)
    run = run_propose(
        files["households"],
        crs="gcj02",
        subdistricts_path=files["streets"],
        barriers_path=files["barriers"],
    )
    plan = plan_from_proposal(run.proposal)
    fmap = plan_map(
        {
            "communities": community_frame(plan).to_crs(4326),
            "grids": grid_frame(plan).to_crs(4326),
            "buildings": building_frame(plan),
            "streets": read_subdistricts(files["streets"], crs="gcj02").frame,
            "barriers": read_barriers(files["barriers"], crs="gcj02").frame,
            "facilities": read_facilities(files["facilities"], crs="gcj02").frame,
        },
        band=(2250, 2750),
        basemap="amap",
        draw=True,
    )
    size = len(rendered(fmap).encode("utf-8"))
    assert size < 3_000_000, f"{size:,} bytes"
