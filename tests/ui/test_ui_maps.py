"""Map builders in ui/maps/: bounded payload, the Amap shift, legend, layers, basemaps.

Fixtures are drawn around Ningbo (121.54°E, 29.87°N)::

    streets      two 2 km × 2 km squares side by side, 西门街道 | 北岸街道
    barriers     a road across both, a river below it, a railway on the diagonal
    facilities   two points
    communities  one square inside 西门街道
    buildings    n random points in the 4 km × 2 km box, 1–300 households each
"""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pyproj
import pytest
from map_support import geojson_layers, rendered, shows
from shapely.geometry import LineString, Point, box

from geo.errors import CRSError, PlanningInputError
from ui.maps import (
    AGGREGATE_ABOVE,
    TARGET_CELLS,
    hexagon_cells,
    households_map,
    to_display,
)

LON0, LAT0 = 121.54, 29.87
DLON, DLAT = 0.0207, 0.018  # about 2 km each way at this latitude
GEOD = pyproj.Geod(ellps="WGS84")


def make_buildings(n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon = LON0 + rng.uniform(0, 2 * DLON, n)
    lat = LAT0 + rng.uniform(0, DLAT, n)
    households = rng.integers(1, 301, n)
    return gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:05d}" for i in range(n)],
            "households": households,
            "population": households * 2.6,
            "compound": [f"小区{i % 40}" if i % 7 else None for i in range(n)],
            "rows": np.ones(n, dtype=int),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    west = box(LON0, LAT0, LON0 + DLON, LAT0 + DLAT)
    east = box(LON0 + DLON, LAT0, LON0 + 2 * DLON, LAT0 + DLAT)
    mid = LAT0 + DLAT / 2
    return {
        "subdistricts": gpd.GeoDataFrame(
            {"name": ["西门街道", "北岸街道"]}, geometry=[west, east], crs="EPSG:4326"
        ),
        "barriers": gpd.GeoDataFrame(
            {
                "kind": ["road", "road", "river", "railway"],
                "road_class": ["primary", "residential", None, None],
                "name": ["中山路", "小巷", "姚江", "甬台温铁路"],
            },
            geometry=[
                LineString([(LON0, mid), (LON0 + 2 * DLON, mid)]),
                LineString([(LON0 + DLON / 2, LAT0), (LON0 + DLON / 2, mid)]),
                LineString([(LON0, mid - 0.004), (LON0 + 2 * DLON, mid - 0.003)]),
                LineString([(LON0, LAT0), (LON0 + 2 * DLON, LAT0 + DLAT)]),
            ],
            crs="EPSG:4326",
        ),
        "facilities": gpd.GeoDataFrame(
            {
                "facility_id": ["F1", "F2"],
                "name": ["党群服务中心", "养老服务站"],
                "type": ["service", "elderly"],
                "floor_area_m2": [650.0, None],
            },
            geometry=[Point(LON0 + 0.005, LAT0 + 0.005), Point(LON0 + 0.03, LAT0 + 0.01)],
            crs="EPSG:4326",
        ),
        "communities": gpd.GeoDataFrame(
            {"community_id": ["330203001001"], "name": ["月湖社区"]},
            geometry=[box(LON0 + 0.002, LAT0 + 0.002, LON0 + 0.012, LAT0 + 0.012)],
            crs="EPSG:4326",
        ),
    }


def point_features(fmap: folium.Map) -> int:
    return sum(
        f["geometry"]["type"] == "Point"
        for layer in geojson_layers(fmap)
        for f in layer.data["features"]
    )


def count_markers(fmap: folium.Map) -> int:
    """Individual Leaflet markers (labels are DivIcon markers; circles are CircleMarkers)."""
    count = 0

    def walk(element):
        nonlocal count
        for child in element._children.values():
            if isinstance(child, (folium.Marker, folium.CircleMarker, folium.Circle)):
                count += 1
            walk(child)

    walk(fmap)
    return count


def test_50k_buildings_are_aggregated_into_a_bounded_number_of_hexagons(layers):
    buildings = make_buildings(50_000)
    fmap = households_map(buildings, basemap="none", **layers)
    assert point_features(fmap) == len(layers["facilities"])  # no building is a point
    assert count_markers(fmap) <= 10  # street and community labels only
    cells = [
        f
        for layer in geojson_layers(fmap)
        for f in layer.data["features"]
        if "buildings" in f["properties"]
    ]
    assert 0 < len(cells) <= 2 * TARGET_CELLS
    assert sum(f["properties"]["households"] for f in cells) == buildings["households"].sum()
    assert sum(f["properties"]["buildings"] for f in cells) == 50_000
    assert len(rendered(fmap)) < 2_000_000


def test_few_buildings_are_circles_sized_by_households():
    buildings = make_buildings(200)
    fmap = households_map(buildings, basemap="none")
    (layer,) = geojson_layers(fmap)
    features = layer.data["features"]
    assert len(features) == 200
    by_households = sorted(
        (f["properties"]["households"], f["properties"]["radius"]) for f in features
    )
    radii = [r for _, r in by_households]
    assert radii == sorted(radii) and radii[0] < radii[-1]
    assert {"building_id", "households", "compound"} <= set(features[0]["properties"])
    html = rendered(fmap)
    assert shows(html, "B00000") and shows(html, "小区1")


def test_aggregation_threshold_is_the_building_count():
    at_limit = households_map(make_buildings(AGGREGATE_ABOVE), basemap="none")
    above = households_map(make_buildings(AGGREGATE_ABOVE + 1), basemap="none")
    assert point_features(at_limit) == AGGREGATE_ABOVE
    assert point_features(above) == 0


def test_hexagon_cells_keep_every_household():
    buildings = make_buildings(5_000, seed=3)
    cells, size_m = hexagon_cells(buildings)
    assert cells.crs.to_epsg() == 4326
    assert cells["households"].sum() == buildings["households"].sum()
    assert cells["buildings"].sum() == 5_000
    assert len(cells) <= TARGET_CELLS
    # every building lies in (or on the edge of) the hexagon it was counted in
    joined = gpd.sjoin(buildings, cells, predicate="within", how="left")
    assert joined["index_right"].notna().mean() > 0.99
    assert 50 <= size_m <= 300


def test_amap_shifts_every_geometry_to_gcj02_by_hundreds_of_metres(layers):
    buildings = make_buildings(50)
    shifted = to_display(buildings, "amap")
    _, _, distance_m = GEOD.inv(
        buildings.geometry.x, buildings.geometry.y, shifted.geometry.x, shifted.geometry.y
    )
    assert np.all((distance_m > 300) & (distance_m < 800))
    assert to_display(buildings, "osm") is buildings
    subdistricts = to_display(layers["subdistricts"], "amap")
    _, _, moved = GEOD.inv(
        *layers["subdistricts"].geometry.iloc[0].exterior.coords[0],
        *subdistricts.geometry.iloc[0].exterior.coords[0],
    )
    assert 300 < moved < 800
    assert buildings.geometry.x.iloc[0] != shifted.geometry.x.iloc[0]  # input untouched


def test_amap_map_draws_the_shifted_coordinates():
    buildings = make_buildings(10)
    drawn = {
        basemap: geojson_layers(households_map(buildings, basemap=basemap))[0].data["features"][0][
            "geometry"
        ]["coordinates"]
        for basemap in ("osm", "amap")
    }
    lon, lat = buildings.geometry.x.iloc[0], buildings.geometry.y.iloc[0]
    assert drawn["osm"] == pytest.approx([lon, lat], abs=1e-5)
    _, _, distance_m = GEOD.inv(lon, lat, *drawn["amap"])
    assert 300 < distance_m < 800


def test_legend_and_layer_control_are_in_the_html(layers):
    html = rendered(households_map(make_buildings(100), basemap="none", **layers))
    assert "planner-legend" in html
    assert "L.control.layers" in html
    for word in ("图例", "街道边界", "主次干路", "河流", "铁路", "现有社区", "服务设施"):
        assert word in html
    assert shows(html, "西门街道") and shows(html, "月湖社区")  # labels


def test_english_legend(layers):
    html = rendered(households_map(make_buildings(100), basemap="none", lang="en", **layers))
    assert "Legend" in html and "Sub-district boundary" in html


def test_basemap_none_has_no_tile_layer_and_no_network_links():
    html = rendered(households_map(make_buildings(20), basemap="none"))
    assert "L.tileLayer" not in html
    assert not re.search(r"<script[^>]+src=\"https?:", html)
    assert not re.search(r"<link[^>]+href=\"https?:", html)
    assert 'src="data:text/javascript;base64,' in html


@pytest.mark.parametrize(
    ("basemap", "url"),
    [
        ("osm", "tile.openstreetmap.org"),
        ("amap", "webrd02.is.autonavi.com/appmaptile"),
    ],
)
def test_basemaps_with_tiles(basemap, url):
    html = rendered(households_map(make_buildings(20), basemap=basemap))
    assert "L.tileLayer" in html and url in html


def test_tianditu_needs_a_key_and_uses_it_for_both_layers():
    with pytest.raises(PlanningInputError, match="no Tianditu key"):
        households_map(make_buildings(20), basemap="tianditu")
    html = rendered(households_map(make_buildings(20), basemap="tianditu", tianditu_key="k3y"))
    assert "vec_w/wmts" in html and "cva_w/wmts" in html
    assert html.count("tk=k3y") == 2


def test_unknown_basemap_is_refused():
    with pytest.raises(PlanningInputError, match="basemap 'google' is not known"):
        households_map(make_buildings(20), basemap="google")


def test_a_layer_not_in_wgs84_is_refused():
    projected = make_buildings(20).to_crs(4550)
    with pytest.raises(CRSError, match="held in WGS84"):
        households_map(projected, basemap="none")


def test_text_from_files_is_escaped():
    buildings = make_buildings(3)
    buildings.loc[0, "compound"] = "<img src=x onerror=alert(1)>"
    html = rendered(households_map(buildings, basemap="none"))
    assert "<img src=x" not in html
    assert shows(html, "&lt;img src=x onerror=alert(1)&gt;")


def test_polygons_are_simplified_and_rounded():
    lon = LON0 + 0.01 * np.cos(np.linspace(0, 2 * np.pi, 5_001))
    lat = LAT0 + 0.01 * np.sin(np.linspace(0, 2 * np.pi, 5_001))
    from shapely.geometry import Polygon

    subdistricts = gpd.GeoDataFrame(
        {"name": ["圆"]}, geometry=[Polygon(zip(lon, lat, strict=True))], crs="EPSG:4326"
    )
    fmap = households_map(make_buildings(5), basemap="none", subdistricts=subdistricts)
    ring = next(
        f["geometry"]["coordinates"][0]
        for layer in geojson_layers(fmap)
        for f in layer.data["features"]
        if f["geometry"]["type"] == "Polygon"
    )
    assert len(ring) < 1_000
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in ring)


def test_gcj02_input_is_drawn_on_amap_where_it_was_given(tmp_path):
    """Amap/Tencent coordinates read as gcj02 and drawn on Amap land on the same numbers."""
    from geo.intake import read_households

    given = [(121.5432, 29.8741), (121.5561, 29.8812), (121.5702, 29.8655)]
    path = tmp_path / "amap.csv"
    lines = [f"{lon},{lat},{i + 1},B{i}" for i, (lon, lat) in enumerate(given)]
    path.write_text("经度,纬度,户数,楼栋编号\n" + "\n".join(lines) + "\n", encoding="utf-8")
    buildings = read_households(path, crs="gcj02").buildings
    drawn = to_display(buildings, "amap")
    by_id = dict(zip(drawn["building_id"], drawn.geometry, strict=True))
    for i, (lon, lat) in enumerate(given):
        _, _, error_m = GEOD.inv(lon, lat, by_id[f"B{i}"].x, by_id[f"B{i}"].y)
        assert error_m < 1.0


def test_a_text_column_is_escaped_once_per_value_as_each_value_would_be():
    import pandas as pd

    from ui.maps.features import json_column, json_value

    columns = [
        ["东苑", "<b>", None, "东苑", np.nan, pd.NA, "a&b"],
        [None, None],
        ["1", 1, None],
        [True, "a"],
    ]
    for values in columns:
        column = pd.Series(values, dtype=object)
        assert json_column(column) == [json_value(v) for v in values]
    for column in (
        pd.Series(["a", None], dtype="string"),
        pd.Series(["x", "y", "x"], dtype="category"),
    ):
        assert json_column(column) == [json_value(v) for v in column.tolist()]
    assert json_column(pd.Series(["<b>", None], dtype=object)) == ["&lt;b&gt;", "—"]
