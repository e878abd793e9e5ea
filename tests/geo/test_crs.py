"""Tests for geo.crs: offset systems, declared CRSs, metric CRS choice."""

from __future__ import annotations

import geopandas
import numpy as np
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geoseries_equal
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geo.crs import (
    SourceCRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    cgcs2000_zone_crs,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometry_to_wgs84,
    in_china,
    metric_crs_for,
    parse_crs,
    to_wgs84_xy,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import CRSError, GeometryError

GEOD = pyproj.Geod(ellps="WGS84")

#: WGS84 lon/lat of city centres spread over China (west, east, north, south, high, coastal).
CITIES = {
    "Beijing": (116.4074, 39.9042),
    "Shanghai": (121.4737, 31.2304),
    "Guangzhou": (113.2644, 23.1291),
    "Shenzhen": (114.0579, 22.5431),
    "Chengdu": (104.0665, 30.5723),
    "Urumqi": (87.6168, 43.8256),
    "Harbin": (126.5349, 45.8038),
    "Lhasa": (91.1409, 29.6456),
    "Kunming": (102.8329, 24.8801),
    "Haikou": (110.1999, 20.0440),
    "Lanzhou": (103.8343, 36.0611),
    "Ningbo": (121.5503, 29.8746),
    "Kashgar": (75.9897, 39.4704),
    "Mohe": (122.5384, 52.9721),
}
CITY_LON = np.array([lon for lon, _ in CITIES.values()])
CITY_LAT = np.array([lat for _, lat in CITIES.values()])

TIANANMEN = (116.3975, 39.9087)


def distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def china_grid() -> tuple[np.ndarray, np.ndarray]:
    """A 0.37-degree lattice over mainland China's extent (about 30,000 points)."""
    lon, lat = np.meshgrid(np.arange(73.5, 135.0, 0.37), np.arange(18.2, 53.5, 0.37))
    return lon.ravel(), lat.ravel()


# --- forward transforms -----------------------------------------------------------------------


def test_forward_transforms_match_the_public_reference_values():
    # Reference outputs of the public algorithm (wandergis/coordtransform test/app.js).
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )


def test_tiananmen_gcj02_offset_is_about_half_a_kilometre_north_east():
    lon, lat = TIANANMEN
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    azimuth, _, offset_m = GEOD.inv(lon, lat, gcj_lon, gcj_lat)
    assert 450 < offset_m < 650
    assert gcj_lon > lon
    assert gcj_lat > lat
    assert 0 < azimuth < 90


def test_bd09_is_further_off_than_gcj02_in_a_city():
    lon, lat = TIANANMEN
    bd_lon, bd_lat = wgs84_to_bd09(lon, lat)
    assert 900 < distance_m(lon, lat, bd_lon, bd_lat) < 1500


def test_offsets_are_zero_outside_china():
    # Paris, New York, Sydney, Tokyo's east (beyond 137.8347E), and a NaN.
    lon = np.array([2.35, -74.0, 151.2, 139.7, np.nan])
    lat = np.array([48.85, 40.7, -33.9, 35.7, np.nan])
    for forward in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = forward(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)
    assert in_china(lon, lat).tolist() == [False] * 5


def test_in_china_box():
    lon = np.array([116.4, 72.0, 72.004, 137.8347, 137.9, 100.0, 100.0])
    lat = np.array([39.9, 40.0, 40.0, 40.0, 40.0, 0.5, 55.9])
    assert in_china(lon, lat).tolist() == [True, False, True, True, False, False, False]


def test_scalars_in_give_scalars_out_and_shapes_are_kept():
    lon, lat = gcj02_to_wgs84(116.4, 39.9)
    assert np.ndim(lon) == 0
    assert np.ndim(lat) == 0
    grid_lon, grid_lat = wgs84_to_gcj02(np.full((2, 3), 116.4), np.full((2, 3), 39.9))
    assert grid_lon.shape == grid_lat.shape == (2, 3)


def test_forward_transforms_do_not_mutate_their_input():
    lon, lat = CITY_LON.copy(), CITY_LAT.copy()
    wgs84_to_gcj02(lon, lat)
    gcj02_to_wgs84(lon, lat)
    bd09_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, CITY_LON)
    np.testing.assert_array_equal(lat, CITY_LAT)


# --- iterative inverses -----------------------------------------------------------------------


@pytest.mark.parametrize("city", list(CITIES))
def test_gcj02_round_trip_per_city_within_a_centimetre(city):
    lon, lat = CITIES[city]
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert distance_m(lon, lat, back_lon, back_lat) < 0.01


def test_gcj02_round_trip_over_all_of_china_within_half_a_metre():
    lon, lat = china_grid()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    error_m = distance_m(lon, lat, back_lon, back_lat)
    assert error_m.max() < 0.5
    assert error_m.max() < 0.01  # what the iteration actually reaches


def test_bd09_round_trip_over_cities_and_all_of_china():
    for lon, lat in (
        (CITY_LON, CITY_LAT),
        china_grid(),
    ):
        back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
        error_m = distance_m(lon, lat, back_lon, back_lat)
        assert error_m.max() < 0.5
        assert error_m.max() < 0.01


def test_bd09_to_gcj02_round_trip():
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(CITY_LON, CITY_LAT))
    assert distance_m(CITY_LON, CITY_LAT, back_lon, back_lat).max() < 0.01


def test_inverse_is_better_than_the_usual_one_step_approximation():
    # The one-step inverse (wgs = gcj - offset(gcj)) is off by metres; ours by far less.
    gcj_lon, gcj_lat = wgs84_to_gcj02(*TIANANMEN)
    d_lon, d_lat = np.subtract(wgs84_to_gcj02(gcj_lon, gcj_lat), (gcj_lon, gcj_lat))
    one_step_m = distance_m(*TIANANMEN, gcj_lon - d_lon, gcj_lat - d_lat)
    iterated_m = distance_m(*TIANANMEN, *gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert one_step_m > 0.05
    assert iterated_m < 0.001


def test_inverses_keep_nan_and_do_not_warn():
    lon, lat = gcj02_to_wgs84([np.nan, 116.4], [np.nan, 39.9])
    assert np.isnan(lon[0])
    assert np.isnan(lat[0])
    assert np.isfinite(lon[1])
    all_nan = bd09_to_wgs84([np.nan], [np.nan])
    assert np.isnan(all_nan).all()


# --- parse_crs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "declared", ["wgs84", "WGS84", "wgs-84", "epsg:4326", "EPSG:4326", "4326", 4326]
)
def test_parse_crs_wgs84_forms(declared):
    source = parse_crs(declared)
    assert source.key == "wgs84"
    assert source.crs.to_epsg() == 4326
    assert not source.is_offset
    assert source.is_geographic


@pytest.mark.parametrize(
    ("declared", "key"),
    [("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("BD-09", "bd09")],
)
def test_parse_crs_offset_forms(declared, key):
    source = parse_crs(declared)
    assert source.key == key
    assert source.crs.to_epsg() == 4326
    assert source.is_offset
    assert source.is_geographic
    assert source.label


@pytest.mark.parametrize(
    ("declared", "epsg", "geographic"),
    [
        ("cgcs2000", 4490, True),
        ("CGCS2000", 4490, True),
        ("EPSG:4490", 4490, True),
        ("EPSG:4547", 4547, False),
        ("epsg:4547", 4547, False),
        (" 4547 ", 4547, False),
        (4547, 4547, False),
        (np.int64(4549), 4549, False),
        (32650, 32650, False),
    ],
)
def test_parse_crs_epsg_forms(declared, epsg, geographic):
    source = parse_crs(declared)
    assert source.key == f"epsg:{epsg}"
    assert source.crs.to_epsg() == epsg
    assert source.is_geographic is geographic
    assert not source.is_offset
    assert f"EPSG:{epsg}" in source.label


def test_parse_crs_returns_a_source_crs_unchanged():
    source = parse_crs("gcj02")
    assert isinstance(source, SourceCRS)
    assert parse_crs(source) is source


@pytest.mark.parametrize(
    ("declared", "match"),
    [
        ("mars", r"CRS 'mars' is not recognised; expected one of .*gcj02.*EPSG:4547"),
        ("", r"CRS '' is not recognised"),
        ("epsg:abc", r"CRS 'epsg:abc' is not recognised"),
        ("EPSG:99999", r"EPSG:99999 is not a known EPSG code"),
        (99999, r"EPSG:99999 is not a known EPSG code"),
        (5703, r"EPSG:5703 .* is a Vertical CRS, not a horizontal"),
        (4978, r"EPSG:4978 .* is a Geocentric CRS"),
        (None, r"CRS None \(NoneType\) is not a CRS declaration; expected one of"),
        (True, r"CRS True \(bool\) is not a CRS declaration"),
        (4547.0, r"CRS 4547.0 \(float\) is not a CRS declaration"),
    ],
)
def test_parse_crs_refuses_with_the_accepted_forms(declared, match):
    with pytest.raises(CRSError, match=match):
        parse_crs(declared)


# --- to_wgs84_xy / geometry_to_wgs84 ----------------------------------------------------------


def test_to_wgs84_xy_for_each_kind_of_source():
    lon, lat = TIANANMEN
    gcj = wgs84_to_gcj02(lon, lat)
    bd = wgs84_to_bd09(lon, lat)
    east, north = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(lon, lat)
    for xy, source in [
        ((lon, lat), "wgs84"),
        (gcj, "gcj02"),
        (bd, "bd09"),
        ((lon, lat), "cgcs2000"),
        ((east, north), 4548),
    ]:
        out = to_wgs84_xy(*xy, source)
        assert distance_m(lon, lat, *out) < 0.01, source


def test_geometry_to_wgs84_shifts_every_vertex_of_a_polygon():
    """A 0.01° square in GCJ-02 near Tiananmen, with a hole, and a line and a point:

    (116.40, 39.92) +-----------+ (116.41, 39.92)
                    |   +--+    |
                    |   +--+    |   hole 116.403-116.405, 39.913-39.915
    (116.40, 39.91) +-----------+ (116.41, 39.91)
    """
    square = Polygon(
        [(116.40, 39.91), (116.41, 39.91), (116.41, 39.92), (116.40, 39.92)],
        holes=[[(116.403, 39.913), (116.405, 39.913), (116.405, 39.915), (116.403, 39.915)]],
    )
    geoms = geopandas.GeoSeries(
        [square, LineString([(116.40, 39.91), (116.41, 39.92)]), Point(116.40, 39.91), None],
        index=[10, 20, 30, 40],
        name="where",
    )
    out = geometry_to_wgs84(geoms, "gcj02")

    assert out.crs.to_epsg() == 4326
    assert out.index.tolist() == [10, 20, 30, 40]
    assert out.name == "where"
    assert out.iloc[3] is None
    assert list(out.geom_type.iloc[:3]) == ["Polygon", "LineString", "Point"]
    assert len(out.iloc[0].interiors) == 1
    # Every vertex, exterior and hole alike, is the exact inverse of the GCJ-02 shift.
    for before, after in zip(geoms.iloc[:3], out.iloc[:3], strict=True):
        xy = np.array(
            [c for ring in _rings(before) for c in ring.coords]
            if before.geom_type == "Polygon"
            else before.coords
        )
        xy_out = np.array(
            [c for ring in _rings(after) for c in ring.coords]
            if after.geom_type == "Polygon"
            else after.coords
        )
        expected = np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
        np.testing.assert_allclose(xy_out, expected, rtol=0, atol=1e-12)
    shift_m = distance_m(116.40, 39.91, out.iloc[2].x, out.iloc[2].y)
    assert 450 < shift_m < 650
    # The input is untouched.
    assert geoms.iloc[2].equals(Point(116.40, 39.91))


def _rings(polygon: Polygon) -> list:
    return [polygon.exterior, *polygon.interiors]


def test_geometry_to_wgs84_bd09_multipolygon_round_trips():
    """Two 0.01° squares in Ningbo (WGS84), shifted to BD-09 vertex by vertex, and back:

    +--+  +--+
    |  |  |  |     121.55-121.56 and 121.57-121.58 E, 29.87-29.88 N
    +--+  +--+
    """

    def square(west: float) -> Polygon:
        return Polygon([(west, 29.87), (west + 0.01, 29.87), (west + 0.01, 29.88), (west, 29.88)])

    wgs = geopandas.GeoSeries([MultiPolygon([square(121.55), square(121.57)])], crs=4326)
    bd = geopandas.GeoSeries(
        shapely.transform(wgs.values, lambda xy: np.column_stack(wgs84_to_bd09(xy[:, 0], xy[:, 1])))
    )
    assert distance_m(121.55, 29.87, *bd.iloc[0].geoms[0].exterior.coords[0]) > 900

    back = geometry_to_wgs84(bd, "bd09")
    assert back.geom_type.iloc[0] == "MultiPolygon"
    assert_geoseries_equal(back, wgs, check_less_precise=True)
    np.testing.assert_allclose(
        shapely.get_coordinates(back.values), shapely.get_coordinates(wgs.values), atol=1e-9
    )


def test_geometry_to_wgs84_from_a_projected_and_a_wgs84_source():
    east, north = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(*TIANANMEN)
    projected = geopandas.GeoSeries([Point(east, north)])
    out = geometry_to_wgs84(projected, "EPSG:4548")
    assert out.crs.to_epsg() == 4326
    assert distance_m(*TIANANMEN, out.iloc[0].x, out.iloc[0].y) < 0.01

    wgs = geopandas.GeoSeries([Point(*TIANANMEN)])
    same = geometry_to_wgs84(wgs, "wgs84")
    assert same.crs.to_epsg() == 4326
    assert wgs.crs is None  # not mutated
    assert same.iloc[0].equals(Point(*TIANANMEN))


def test_geometry_to_wgs84_declared_source_wins_over_the_series_crs():
    # GeoJSON files always read as EPSG:4326, even when their numbers are GCJ-02.
    geoms = geopandas.GeoSeries([Point(116.40, 39.91)], crs=4326)
    out = geometry_to_wgs84(geoms, "gcj02")
    assert distance_m(116.40, 39.91, out.iloc[0].x, out.iloc[0].y) > 400


def test_geometry_to_wgs84_refuses_an_unknown_source():
    with pytest.raises(CRSError, match="CRS 'baidu' is not recognised"):
        geometry_to_wgs84(geopandas.GeoSeries([Point(0, 0)]), "baidu")


# --- metric CRS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (121.55, 29.87, 4550),  # Ningbo: 121.55 / 3 = 40.5 → zone 41, CM 123E
        (116.40, 39.90, 4548),  # Beijing: 116.4 / 3 = 38.8 → zone 39, CM 117E
        (120.15, 30.27, 4549),  # Hangzhou: zone 40, CM 120E
        (87.62, 43.83, 4538),  # Urumqi: zone 29, CM 87E
        (15.0, 52.0, 32633),  # Germany: UTM 33N
        (151.2, -33.9, 32756),  # Sydney: UTM 56S
        (-74.0, 40.7, 32618),  # New York: UTM 18N
    ],
)
def test_metric_crs_for(lon, lat, epsg):
    assert metric_crs_for([lon], [lat]).to_epsg() == epsg


def test_metric_crs_for_takes_the_median_and_ignores_nan():
    # Mostly Ningbo, one outlier in Beijing, one missing point.
    lon = [121.55, 121.56, 121.54, 116.4, np.nan]
    lat = [29.87, 29.88, 29.86, 39.9, np.nan]
    crs = metric_crs_for(lon, lat)
    assert crs.to_epsg() == 4550
    assert crs.is_projected
    assert crs.axis_info[0].unit_name == "metre"


def test_metric_crs_for_refuses_non_degrees_and_nothing():
    with pytest.raises(CRSError, match="coordinates are not lon/lat degrees"):
        metric_crs_for([500000.0], [4_400_000.0])
    with pytest.raises(GeometryError, match="no finite coordinates"):
        metric_crs_for([np.nan], [np.nan])


def test_zone_crs_central_meridians_and_prefixes():
    def central_meridian(crs: pyproj.CRS) -> float:
        params = crs.coordinate_operation.params
        return next(p.value for p in params if "Longitude of natural origin" in p.name)

    def false_easting(crs: pyproj.CRS) -> float:
        params = crs.coordinate_operation.params
        return next(p.value for p in params if "False easting" in p.name)

    plain = cgcs2000_zone_crs(120.0)
    prefixed = cgcs2000_zone_crs(120.0, prefixed=True)
    assert plain.to_epsg() == 4549
    assert central_meridian(plain) == 120.0
    assert false_easting(plain) == 500_000
    assert prefixed.to_epsg() == 4528
    assert "zone 40" in prefixed.name
    assert central_meridian(prefixed) == 120.0
    assert false_easting(prefixed) == 40_500_000
    for zone in range(25, 46):
        assert central_meridian(cgcs2000_zone_crs(zone * 3.0)) == zone * 3.0
        assert cgcs2000_zone_crs(zone * 3.0).to_epsg() == 4534 + zone - 25
        assert cgcs2000_zone_crs(zone * 3.0, prefixed=True).to_epsg() == 4513 + zone - 25


def test_zone_crs_boundaries_and_clamping():
    assert cgcs2000_zone_crs(118.49).to_epsg() == 4548  # zone 39
    assert cgcs2000_zone_crs(118.5).to_epsg() == 4549  # half rounds up: zone 40
    assert cgcs2000_zone_crs(72.5).to_epsg() == 4534  # zone 24 clamped to 25
    assert cgcs2000_zone_crs(137.5).to_epsg() == 4554  # zone 46 clamped to 45


@pytest.mark.parametrize("lon", [15.0, -74.0, 140.0, float("nan")])
def test_zone_crs_refuses_longitudes_outside_china(lon):
    with pytest.raises(CRSError, match="has no CGCS2000 3-degree Gauss-Kruger zone"):
        cgcs2000_zone_crs(lon)
