"""geo.layers reads every layer whole in its declared CRS, or refuses it with every problem named.

Fixtures are drawn near 121.5°E 29.9°N (the sample's Ningbo), in degrees::

    29.91 ┌──────────┐        SQUARE = box(121.50, 29.90, 121.51, 29.91)
          │  SQUARE  │        ROAD   = the line (121.50, 29.90) → (121.51, 29.91)
    29.90 └──────────┘        POINT  = (121.505, 29.905), the square's centre
        121.50     121.51
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, Point, box, mapping

from geo.crs import wgs84_to_gcj02
from geo.errors import CRSError, InputFormatError, ValidationError
from geo.footprints import read_footprints
from geo.layers import read_barriers, read_communities, read_compounds, read_facilities

SQUARE = box(121.50, 29.90, 121.51, 29.91)
ROAD = LineString([(121.50, 29.90), (121.51, 29.91)])
POINT = Point(121.505, 29.905)


def _geojson(path: Path, features: list[tuple[dict, object]]) -> Path:
    """A GeoJSON written by hand (a GeoDataFrame would not keep a collection or a Z as given)."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": p,
                        "geometry": None if g is None else mapping(g),
                    }
                    for p, g in features
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def _gcj02(geometry):
    """The geometry as an Amap export holds it (GCJ-02)."""
    return shapely.transform(
        geometry, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )


# --- compounds (小区) in the declared CRS --------------------------------------------------------


def test_compounds_are_read_in_the_declared_crs(tmp_path: Path) -> None:
    """GCJ-02 polygons declared as GCJ-02 land where the WGS84 polygon is (not ~500 m off)."""
    path = _geojson(tmp_path / "c.geojson", [({"小区名称": "幸福小区"}, _gcj02(SQUARE))])
    layer = read_compounds(path, crs="gcj02")
    assert layer.frame.crs.to_epsg() == 4326
    assert layer.frame["name"].tolist() == ["幸福小区"]
    assert layer.frame.geometry.iloc[0].symmetric_difference(SQUARE).area < 1e-10
    assert layer.frame.geometry.iloc[0].contains(POINT)


def test_compounds_as_read_before_were_shifted() -> None:
    """The offset the declared CRS removes: the GCJ-02 square read as WGS84 misses by ~500 m."""
    shifted = _gcj02(SQUARE)
    dx, dy = np.subtract(shifted.centroid.coords[0], SQUARE.centroid.coords[0])
    assert np.hypot(dx * 96_000, dy * 111_000) > 300


def test_compounds_without_names_keep_none(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "c.geojson", [({"名称": None}, SQUARE), ({"名称": "乙"}, SQUARE)])
    names = read_compounds(path, crs="wgs84").frame["name"].tolist()
    assert pd.isna(names[0])
    assert names[1] == "乙"


def test_a_compounds_table_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("小区名称,经度,纬度\n幸福小区,121.505,29.905\n", encoding="utf-8")
    with pytest.raises(
        InputFormatError,
        match=r"c\.csv: compounds .* must be a spatial file.*"
        r"this layer needs shapes",
    ):
        read_compounds(path, crs="wgs84")


def test_compounds_stating_another_crs_name_their_option(tmp_path: Path) -> None:
    path = tmp_path / "c.gpkg"
    gpd.GeoDataFrame({"name": ["甲"]}, geometry=[SQUARE], crs=4326).to_crs(4549).to_file(path)
    with pytest.raises(CRSError, match=r"EPSG:4549 .* fix: .*\(--compounds-crs 4549\)"):
        read_compounds(path, crs="wgs84")


# --- facilities as planners keep them: tables with 经度/纬度 ------------------------------------


def _facility_table() -> pd.DataFrame:
    gx, gy = wgs84_to_gcj02(np.array([121.505, 121.507]), np.array([29.905, 29.906]))
    return pd.DataFrame(
        {
            "名称": ["社区服务中心", "养老驿站"],
            "类型": ["综合服务", "养老"],
            "经度": gx.round(7),
            "纬度": gy.round(7),
            "建筑面积": [650, 320],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_facility_table_is_read_as_points_in_the_declared_crs(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"f{suffix}"
    table = _facility_table()
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        table.to_excel(path, index=False)
    layer = read_facilities(path, crs="gcj02")
    frame = layer.frame
    assert frame.crs.to_epsg() == 4326
    assert frame["name"].tolist() == ["社区服务中心", "养老驿站"]
    assert frame["type"].tolist() == ["综合服务", "养老"]
    assert frame["floor_area_m2"].tolist() == [650.0, 320.0]
    assert (frame.geometry.geom_type == "Point").all()
    np.testing.assert_allclose(frame.geometry.x, [121.505, 121.507], atol=2e-6)
    np.testing.assert_allclose(frame.geometry.y, [29.905, 29.906], atol=2e-6)
    assert layer.report.problems == ()


def test_a_facility_table_with_bad_coordinates_names_every_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "名称,经度,纬度,面积\n甲,121.5,29.9,100\n乙,,29.9,100\n丙,121.5,北纬29.9,100\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"2 error\(s\)") as info:
        read_facilities(path, crs="wgs84")
    problems = info.value.report.errors
    assert [(p.column, p.rows) for p in problems] == [("经度", (3,)), ("纬度", (4,))]


def test_a_facility_table_with_swapped_coordinates_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("名称,经度,纬度,面积\n甲,29.9,121.5,100\n乙,121.5,29.9,100\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"lat out of range for WGS84") as info:
        read_facilities(path, crs="wgs84")
    (error,) = info.value.report.errors
    assert (error.column, error.rows) == ("纬度", (2,))


def test_a_facility_table_keeps_its_reading_warnings(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("名称,经度,lon,纬度,面积\n甲,121.5,121.6,29.9,100\n", encoding="utf-8")
    layer = read_facilities(path, crs="wgs84")
    assert layer.frame.geometry.iloc[0].x == pytest.approx(121.5)
    assert [w.message for w in layer.report.warnings] == [
        "several columns could hold lon; used '经度'"
    ]


def test_a_facility_table_without_coordinates_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("名称,地址,面积\n甲,学院路1号,100\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"(?s)no longitude and latitude columns.*名称, 地址, 面积"
    ):
        read_facilities(path, crs="wgs84")


# --- geometry: collections, heights, degenerate lines ------------------------------------------


def test_a_collection_keeps_its_lines_among_barriers(tmp_path: Path) -> None:
    collection = GeometryCollection([ROAD, POINT])
    path = _geojson(tmp_path / "b.geojson", [({"kind": "road"}, collection), ({}, ROAD)])
    layer = read_barriers(path, crs="wgs84")
    assert layer.frame.geometry.tolist() == [ROAD, ROAD]
    (warning,) = layer.report.problems
    assert warning.rows == (1,)
    assert "kept only their lines" in warning.message


def test_a_collection_of_points_only_is_refused_without_a_warning(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "b.geojson", [({}, ROAD), ({}, GeometryCollection([POINT]))])
    with pytest.raises(ValidationError, match=r"1 error\(s\) and 0 warning\(s\)") as info:
        read_barriers(path, crs="wgs84")
    (error,) = info.value.report.errors
    assert (error.rows, error.found) == ((2,), "GeometryCollection")


def test_a_collection_of_a_polygon_and_a_line_is_a_barrier_outline_and_line(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "b.geojson", [({}, GeometryCollection([SQUARE, ROAD]))])
    (line,) = read_barriers(path, crs="wgs84").frame.geometry
    assert line.geom_type == "MultiLineString"
    assert line.length == pytest.approx(SQUARE.length + ROAD.length)


def test_a_collection_keeps_its_polygon_among_communities(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "c.geojson", [({"community_id": "C1"}, GeometryCollection([SQUARE, ROAD]))]
    )
    layer = read_communities(path, crs="wgs84")
    assert layer.frame.geometry.iloc[0].equals(SQUARE)
    assert layer.report.warnings[0].rows == (1,)


def test_heights_are_dropped_with_a_warning(tmp_path: Path) -> None:
    """pyogrio reads a 3-D GeoJSON as EPSG:4979 (WGS84 with heights): its 2-D part is WGS84."""
    road_z = LineString([(x, y, 12.5) for x, y in ROAD.coords])
    path = _geojson(tmp_path / "b.geojson", [({}, road_z), ({}, ROAD)])
    layer = read_barriers(path, crs="wgs84")
    assert not shapely.has_z(np.array(layer.frame.geometry.array)).any()
    assert layer.frame.geometry.iloc[0].equals(ROAD)
    (warning,) = layer.report.problems
    assert "Z coordinates" in warning.message
    assert warning.rows == (1,)


def test_heights_in_a_gcj02_layer_are_dropped_too(tmp_path: Path) -> None:
    point_z = Point(*_gcj02(POINT).coords[0], 30.0)
    path = _geojson(tmp_path / "f.geojson", [({"面积": 100}, point_z)])
    (point,) = read_facilities(path, crs="gcj02").frame.geometry
    assert point.distance(POINT) < 2e-6


def test_a_zero_length_line_is_dropped_with_its_row_named(tmp_path: Path) -> None:
    stub = LineString([(121.5, 29.9), (121.5, 29.9)])
    path = _geojson(
        tmp_path / "b.geojson",
        [({"name": "甲"}, ROAD), ({"name": "乙"}, stub), ({"name": "丙"}, ROAD)],
    )
    layer = read_barriers(path, crs="wgs84")
    assert layer.frame["name"].tolist() == ["甲", "丙"]
    (warning,) = layer.report.problems
    assert warning.severity == "warning"
    assert warning.rows == (2,)
    assert "zero-length" in warning.message


def test_a_zero_length_part_goes_and_the_rest_of_the_feature_stays(tmp_path: Path) -> None:
    stub = LineString([(121.5, 29.9), (121.5, 29.9)])
    path = _geojson(tmp_path / "b.geojson", [({}, shapely.MultiLineString([ROAD, stub]))])
    (line,) = read_barriers(path, crs="wgs84").frame.geometry
    assert line.equals(ROAD)


def test_every_problem_of_a_file_is_named_at_once(tmp_path: Path) -> None:
    """Heights, a degenerate line, a collection and an empty feature are warnings; the empty
    feature and the point are errors: one refusal names both, with the warnings."""
    path = _geojson(
        tmp_path / "b.geojson",
        [
            ({}, LineString([(121.5, 29.9, 1), (121.51, 29.91, 1)])),
            ({}, LineString([(121.5, 29.9), (121.5, 29.9)])),
            ({}, GeometryCollection([ROAD, POINT])),
            ({}, None),
            ({}, POINT),
        ],
    )
    with pytest.raises(ValidationError, match=r"2 error\(s\) and 3 warning\(s\)") as info:
        read_barriers(path, crs="wgs84")
    report = info.value.report
    assert sorted(p.rows for p in report.errors) == [(4,), (5,)]
    assert sorted(p.rows for p in report.warnings) == [(1,), (2,), (3,)]


def test_footprints_drop_heights_and_open_collections_with_warnings(tmp_path: Path) -> None:
    """A footprint with heights (pyogrio: EPSG:4979) and one as a collection of its polygon and
    an outline: both are kept as 2-D polygons, each warning naming its feature."""
    square_z = shapely.Polygon([(x, y, 8.0) for x, y in SQUARE.exterior.coords])
    other = box(121.52, 29.90, 121.53, 29.91)
    path = _geojson(
        tmp_path / "fp.geojson",
        [
            ({"building_id": "B1"}, square_z),
            ({"building_id": "B2"}, GeometryCollection([other, LineString(other.exterior.coords)])),
        ],
    )
    layer = read_footprints(path, crs="wgs84")
    assert layer.frame["footprint_id"].tolist() == ["B1", "B2"]
    assert layer.frame.geometry.iloc[0].equals(SQUARE)
    assert layer.frame.geometry.iloc[1].equals(other)
    assert [p.rows for p in layer.report.warnings] == [(1,), (2,)]
