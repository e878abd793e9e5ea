"""Tests for geo.export: GeoJSON (RFC 7946), GeoPackage and zipped Shapefile."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geo.errors import CRSError, GeometryError, PlanningInputError
from geo.export import (
    ShapefileZip,
    shapefile_field_names,
    write_geojson,
    write_geopackage,
    write_shapefile_zip,
)

NINGBO_ZONE = 4550  # 121.55E / 3 = 40.5 → zone 41, CM 123E
NINGBO_ZONE_PREFIXED = 4529


@pytest.fixture
def communities() -> geopandas.GeoDataFrame:
    """Two communities in Ningbo (WGS84), the second a two-part MultiPolygon:

        29.880 +--------+  +----+ +----+
               | 东柳   |  | 明楼 | |    |
               | (cw!)  |  |    | |    |
        29.870 +--------+  +----+ +----+
           121.550  121.560 121.565 121.575 121.585

    The first exterior is drawn clockwise on purpose (GeoJSON must turn it).
    Columns cover every kind of value an export meets, and long names that collide when cut.
    """
    clockwise = Polygon(
        [(121.55, 29.87), (121.55, 29.88), (121.56, 29.88), (121.56, 29.87)]
    )  # west, north, east, south: clockwise
    two_parts = MultiPolygon(
        [
            Polygon([(121.565, 29.87), (121.575, 29.87), (121.575, 29.88), (121.565, 29.88)]),
            Polygon([(121.578, 29.87), (121.585, 29.87), (121.585, 29.88), (121.578, 29.88)]),
        ]
    )
    return geopandas.GeoDataFrame(
        {
            "community_code": ["330212001001", "330212001002"],
            "name": ["东柳街道第一社区", "明楼街道社区"],
            "households": np.array([2500, 2480], dtype="int64"),
            "grids": np.array([10, 9], dtype="int32"),
            "polsby_popper": [0.785398, np.nan],
            "polsby_popper_hull": [0.9, 0.8],
            "楼栋编号": ["A-1", "B-2"],
            "meets_rule": [True, False],
            "planned_at": pd.to_datetime(["2024-05-06 07:08:09", "2024-05-07 00:00:00"]),
            "staff": pd.array([10, None], dtype="Int64"),
        },
        geometry=[clockwise, two_parts],
        crs=4326,
    )


# --- GeoJSON ----------------------------------------------------------------------------------


def test_geojson_reads_back_with_the_same_features(communities, tmp_path):
    path = write_geojson(communities, tmp_path / "out" / "communities.geojson")
    assert path == tmp_path / "out" / "communities.geojson"

    back = geopandas.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert len(back) == 2
    assert back["community_code"].tolist() == ["330212001001", "330212001002"]
    assert back["name"].tolist() == ["东柳街道第一社区", "明楼街道社区"]
    assert back["households"].tolist() == [2500, 2480]
    assert back["polsby_popper"].iloc[0] == pytest.approx(0.785398)
    assert np.isnan(back["polsby_popper"].iloc[1])
    assert back["楼栋编号"].tolist() == ["A-1", "B-2"]
    assert back["meets_rule"].tolist() == [True, False]
    assert_geoseries_equal(
        back.geometry, communities.geometry, check_less_precise=True, normalize=True
    )


def test_geojson_text_is_rfc7946(communities, tmp_path):
    path = write_geojson(communities, tmp_path / "communities.geojson")
    text = path.read_text(encoding="utf-8")
    assert "街道" in text
    assert "\\u" not in text
    assert '"crs"' not in text

    data = json.loads(text)
    assert data["type"] == "FeatureCollection"
    assert set(data) == {"type", "features"}
    first, second = data["features"]
    assert first["properties"] == {
        "community_code": "330212001001",
        "name": "东柳街道第一社区",
        "households": 2500,
        "grids": 10,
        "polsby_popper": 0.785398,
        "polsby_popper_hull": 0.9,
        "楼栋编号": "A-1",
        "meets_rule": True,
        "planned_at": "2024-05-06T07:08:09",
        "staff": 10,
    }
    assert second["properties"]["polsby_popper"] is None
    assert second["properties"]["staff"] is None
    assert second["properties"]["meets_rule"] is False
    assert "true" in text
    assert "NaN" not in text
    # Right-hand rule: exteriors counter-clockwise (the fixture's first one was clockwise).
    for feature in data["features"]:
        for polygon in shapely.get_parts(shapely.geometry.shape(feature["geometry"])):
            assert polygon.exterior.is_ccw
    assert first["geometry"]["coordinates"][0][0] == [121.55, 29.87]


def test_geojson_rounds_coordinates_to_seven_decimals(tmp_path):
    points = geopandas.GeoDataFrame(
        {"name": ["甲"]}, geometry=[Point(121.123456789123, 29.987654321987)], crs=4326
    )
    text = write_geojson(points, tmp_path / "p.geojson").read_text(encoding="utf-8")
    assert "[121.1234568, 29.9876543]" in text
    assert not re.search(r"\d\.\d{8,}", text)


def test_geojson_reprojects_to_wgs84(communities, tmp_path):
    projected = communities.to_crs(NINGBO_ZONE)
    back = geopandas.read_file(write_geojson(projected, tmp_path / "c.geojson"))
    assert back.crs.to_epsg() == 4326
    assert_geoseries_equal(
        back.geometry, communities.geometry, check_less_precise=True, normalize=True
    )


def test_geojson_writes_odd_values_and_empty_geometry(tmp_path):
    frame = geopandas.GeoDataFrame(
        {
            "n": [np.int16(3), np.int64(4)],
            "x": [np.float32(1.5), np.inf],
            "flag": [np.bool_(True), None],
            "when": [pd.Timestamp("2024-01-02", tz="Asia/Shanghai"), pd.NaT],
            "kind": pd.Categorical(["住宅", "商业"]),
            7: ["int column name", "int column name"],
        },
        geometry=[LineString([(121.5, 29.8), (121.6, 29.9)]), None],
        crs=4326,
    )
    data = json.loads(write_geojson(frame, tmp_path / "odd.geojson").read_text(encoding="utf-8"))
    first, second = data["features"]
    assert first["properties"] == {
        "n": 3,
        "x": 1.5,
        "flag": True,
        "when": "2024-01-02T00:00:00+08:00",
        "kind": "住宅",
        "7": "int column name",
    }
    assert second["properties"]["x"] is None
    assert second["properties"]["flag"] is None
    assert second["properties"]["when"] is None
    assert first["geometry"]["type"] == "LineString"
    assert second["geometry"] is None


def test_geojson_refuses_a_layer_without_crs(communities, tmp_path):
    with pytest.raises(CRSError, match="write_geojson: the layer has no CRS"):
        write_geojson(communities.set_crs(None, allow_override=True), tmp_path / "x.geojson")


def test_writers_do_not_mutate_their_input(communities, tmp_path):
    before = communities.copy()
    projected = communities.to_crs(NINGBO_ZONE)
    projected_before = projected.copy()
    write_geojson(communities, tmp_path / "a.geojson")
    write_geojson(projected, tmp_path / "b.geojson")
    write_geopackage(communities, tmp_path / "c.gpkg", layer="c", crs="zone")
    write_shapefile_zip(communities, tmp_path / "d.zip", crs="zone-prefixed")
    assert_geodataframe_equal(communities, before)
    assert_geodataframe_equal(projected, projected_before)


# --- GeoPackage -------------------------------------------------------------------------------


def assert_same_shapes(back: geopandas.GeoSeries, original: geopandas.GeoSeries) -> None:
    """Same shapes within 1e-7° whatever the vertex order (a GeoPackage or Shapefile may start
    rings elsewhere, turn them, and promote Polygon to MultiPolygon)."""
    back = back.to_crs(original.crs)
    assert len(back) == len(original)
    for left, right in zip(back, original, strict=True):
        assert shapely.get_num_geometries(left) == shapely.get_num_geometries(right)
        assert shapely.hausdorff_distance(left, right) < 1e-7


def assert_same_layer(back: geopandas.GeoDataFrame, original: geopandas.GeoDataFrame) -> None:
    """Same columns, values and shapes (datetime unit and int width may differ)."""
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")),
        pd.DataFrame(original.drop(columns="geometry")),
        check_dtype=False,
    )
    assert_same_shapes(back.geometry, original.geometry)


def test_geopackage_in_cgcs2000(communities, tmp_path):
    path = write_geopackage(communities, tmp_path / "plan.gpkg", layer="communities")
    assert path == tmp_path / "plan.gpkg"
    back = geopandas.read_file(path, layer="communities")
    assert back.crs.to_epsg() == 4490
    assert_same_layer(back, communities)


@pytest.mark.parametrize(
    ("crs", "epsg"),
    [
        ("zone", NINGBO_ZONE),
        ("Zone", NINGBO_ZONE),
        ("zone-prefixed", NINGBO_ZONE_PREFIXED),
        (4549, 4549),
        ("EPSG:4549", 4549),
        ("wgs84", 4326),
    ],
)
def test_geopackage_in_other_crs(communities, tmp_path, crs, epsg):
    path = write_geopackage(communities, tmp_path / "plan.gpkg", layer="communities", crs=crs)
    back = geopandas.read_file(path, layer="communities")
    assert back.crs.to_epsg() == epsg
    assert_same_layer(back, communities)


def test_geopackage_zone_coordinates_are_metres(communities, tmp_path):
    path = write_geopackage(communities, tmp_path / "plan.gpkg", layer="c", crs="zone-prefixed")
    minx, _, maxx, _ = geopandas.read_file(path, layer="c").total_bounds
    assert 41_000_000 < minx < maxx < 42_000_000  # zone 41 prefixed to the easting


def test_geopackage_keeps_other_layers_and_replaces_its_own(communities, tmp_path):
    path = tmp_path / "plan.gpkg"
    write_geopackage(communities, path, layer="communities")
    write_geopackage(communities.iloc[:1], path, layer="grids")
    write_geopackage(communities.iloc[1:], path, layer="communities")
    layers = dict(pyogrio.list_layers(path).tolist())
    assert set(layers) == {"communities", "grids"}
    assert geopandas.read_file(path, layer="communities")["name"].tolist() == ["明楼街道社区"]
    assert len(geopandas.read_file(path, layer="grids")) == 1


@pytest.mark.parametrize(
    ("crs", "match"),
    [
        ("utm", r"export crs 'utm' is not recognised; expected one of \"cgcs2000\".*\"zone\""),
        ("EPSG:99999", r"export crs 'EPSG:99999' is not recognised"),
        ("gcj02", r"export crs 'gcj02': GCJ-02 \(Amap/Tencent\) is an obfuscated offset system"),
        ("bd09", r"export crs 'bd09': BD-09 \(Baidu\) is an obfuscated offset system"),
    ],
)
def test_exports_refuse_unknown_crs(communities, tmp_path, crs, match):
    with pytest.raises(CRSError, match=match):
        write_geopackage(communities, tmp_path / "x.gpkg", layer="c", crs=crs)
    with pytest.raises(CRSError, match=match):
        write_shapefile_zip(communities, tmp_path / "x.zip", crs=crs)
    assert not (tmp_path / "x.gpkg").exists()
    assert not (tmp_path / "x.zip").exists()


def test_exports_refuse_a_layer_without_crs(communities, tmp_path):
    bare = communities.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="write_geopackage: the layer has no CRS"):
        write_geopackage(bare, tmp_path / "x.gpkg", layer="c")
    with pytest.raises(CRSError, match="write_shapefile_zip: the layer has no CRS"):
        write_shapefile_zip(bare, tmp_path / "x.zip")


def test_zone_export_refuses_data_outside_china(tmp_path):
    berlin = geopandas.GeoDataFrame({"name": ["Mitte"]}, geometry=[Point(13.4, 52.5)], crs=4326)
    with pytest.raises(CRSError, match=r"longitude 13\.4 has no CGCS2000 3-degree"):
        write_geopackage(berlin, tmp_path / "x.gpkg", layer="c", crs="zone")


def test_zone_export_refuses_a_layer_with_no_geometry(tmp_path):
    empty = geopandas.GeoDataFrame({"name": ["无"]}, geometry=[None], crs=4326)
    with pytest.raises(GeometryError, match='export crs "zone": the layer has no non-empty'):
        write_geopackage(empty, tmp_path / "x.gpkg", layer="c", crs="zone")


def test_geopackage_refuses_a_bad_layer_name(communities, tmp_path):
    with pytest.raises(PlanningInputError, match="layer '' is not a layer name"):
        write_geopackage(communities, tmp_path / "x.gpkg", layer="")


# --- Shapefile --------------------------------------------------------------------------------


def test_shapefile_zip_reads_back_in_cgcs2000(communities, tmp_path):
    result = write_shapefile_zip(communities, tmp_path / "communities.zip")
    assert isinstance(result, ShapefileZip)
    assert result.path == tmp_path / "communities.zip"

    back = geopandas.read_file(result.path)
    assert back.crs.to_epsg() == 4490
    assert len(back) == 2
    renamed = communities.rename(columns=result.field_names)
    assert back["name"].tolist() == ["东柳街道第一社区", "明楼街道社区"]
    assert back["楼栋编"].tolist() == ["A-1", "B-2"]
    assert back["households"].tolist() == [2500, 2480]
    assert back["meets_rule"].tolist() == [True, False]
    assert back["polsby_pop"].iloc[0] == pytest.approx(0.785398)
    assert np.isnan(back["polsby_pop"].iloc[1])
    assert back["planned_at"].tolist() == ["2024-05-06T07:08:09", "2024-05-07T00:00:00"]
    assert back["staff"].iloc[0] == 10
    assert list(back.columns) == [*renamed.columns]
    assert_same_shapes(back.geometry, communities.geometry)


def test_shapefile_zip_members_are_flat_with_utf8_cpg_and_fields_csv(communities, tmp_path):
    result = write_shapefile_zip(communities, tmp_path / "社区.zip")
    with zipfile.ZipFile(result.path) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(
            ["社区.shp", "社区.shx", "社区.dbf", "社区.prj", "社区.cpg", "fields.csv"]
        )
        assert archive.read("社区.cpg").decode("ascii").strip() == "UTF-8"
        rows = list(csv.reader(io.StringIO(archive.read("fields.csv").decode("utf-8-sig"))))
    assert rows[0] == ["original", "written"]
    assert dict(rows[1:]) == result.field_names
    assert geopandas.read_file(result.path).crs.to_epsg() == 4490


def test_shapefile_zip_long_name_mapping(communities, tmp_path):
    result = write_shapefile_zip(communities, tmp_path / "c.zip")
    assert result.field_names == {
        "community_code": "community_",
        "name": "name",
        "households": "households",
        "grids": "grids",
        "polsby_popper": "polsby_pop",
        "polsby_popper_hull": "polsby_po1",
        "楼栋编号": "楼栋编",
        "meets_rule": "meets_rule",
        "planned_at": "planned_at",
        "staff": "staff",
    }
    assert all(len(name.encode("utf-8")) <= 10 for name in result.field_names.values())


@pytest.mark.parametrize(
    ("crs", "epsg"), [("zone", NINGBO_ZONE), ("zone-prefixed", 4529), (4549, 4549)]
)
def test_shapefile_zip_in_a_zone_crs(communities, tmp_path, crs, epsg):
    result = write_shapefile_zip(communities, tmp_path / "c.zip", crs=crs)
    back = geopandas.read_file(result.path)
    assert back.crs.to_epsg() == epsg
    assert len(back) == 2
    assert back["households"].tolist() == [2500, 2480]
    assert_same_shapes(back.geometry, communities.geometry)


def test_shapefile_zip_replaces_an_existing_file(communities, tmp_path):
    path = tmp_path / "c.zip"
    write_shapefile_zip(communities, path)
    write_shapefile_zip(communities.iloc[:1], path)
    assert len(geopandas.read_file(path)) == 1


def test_shapefile_zip_writes_points(tmp_path):
    """Three buildings, one with no location."""
    buildings = geopandas.GeoDataFrame(
        {"building_id": ["1", "2", "3"], "households": [120, 80, 40]},
        geometry=[Point(121.55, 29.87), Point(121.56, 29.88), None],
        crs=4326,
    )
    result = write_shapefile_zip(buildings, tmp_path / "b.zip")
    assert result.field_names["building_id"] == "building_i"
    back = geopandas.read_file(result.path)
    assert back["building_i"].tolist() == ["1", "2", "3"]
    assert back.geometry.iloc[2] is None
    assert back.geom_type.iloc[0] == "Point"


def test_shapefile_zip_refuses_mixed_geometry_families(tmp_path):
    mixed = geopandas.GeoDataFrame(
        {"name": ["点", "线"]},
        geometry=[Point(121.55, 29.87), LineString([(121.55, 29.87), (121.56, 29.88)])],
        crs=4326,
    )
    with pytest.raises(GeometryError, match="found LineString, Point"):
        write_shapefile_zip(mixed, tmp_path / "x.zip")


def test_exports_refuse_repeated_column_names(communities, tmp_path):
    repeated = communities[["name", "name", "geometry"]]
    with pytest.raises(PlanningInputError, match=r"columns \['name'\] appear more than once"):
        write_shapefile_zip(repeated, tmp_path / "x.zip")
    with pytest.raises(PlanningInputError, match=r"columns \['name'\] appear more than once"):
        write_geopackage(repeated, tmp_path / "x.gpkg", layer="c")
    with pytest.raises(PlanningInputError, match=r"write_geojson: columns \['name'\] appear"):
        write_geojson(repeated, tmp_path / "x.geojson")


def test_shapefile_field_names_rules():
    names = shapefile_field_names(
        [
            "polsby_popper",  # cut
            "polsby_pop",  # fits, so keeps its name although it comes later
            "polsby_popper_2",  # cut, collides twice
            "Name",
            "NAME",  # dBASE names are case-insensitive
            "小区名称",  # 12 UTF-8 bytes: cut at a character boundary
            "户数",
            0,
        ]
    )
    assert names == {
        "polsby_popper": "polsby_po1",
        "polsby_pop": "polsby_pop",
        "polsby_popper_2": "polsby_po2",
        "Name": "Name",
        "NAME": "NAME1",
        "小区名称": "小区名",
        "户数": "户数",
        "0": "0",
    }
    many = shapefile_field_names([f"indicator_{i:02d}" for i in range(12)])
    assert len(set(many.values())) == 12
    assert all(len(v) <= 10 for v in many.values())


def test_shapefile_field_names_is_about_bytes_not_characters():
    names = shapefile_field_names(["社区居委会名称", "社区居委会编号"])
    assert names == {"社区居委会名称": "社区居", "社区居委会编号": "社区居1"}
    for written in names.values():
        assert len(written.encode("utf-8")) <= 10


def test_categorical_and_extra_geometry_columns_are_written_as_values(tmp_path):
    """One community whose extra geometry column (its service-centre point) becomes WKT text."""
    frame = geopandas.GeoDataFrame(
        {
            "kind": pd.Categorical(["老旧小区"]),
            "centre": geopandas.GeoSeries([Point(121.555, 29.875)], crs=4326),
        },
        geometry=[Polygon([(121.55, 29.87), (121.56, 29.87), (121.56, 29.88)])],
        crs=4326,
    )
    gpkg = geopandas.read_file(write_geopackage(frame, tmp_path / "c.gpkg", layer="c"))
    shp = geopandas.read_file(write_shapefile_zip(frame, tmp_path / "c.zip").path)
    for back in (gpkg, shp):
        assert back["kind"].tolist() == ["老旧小区"]
        assert back["centre"].tolist() == ["POINT (121.555 29.875)"]
    assert isinstance(frame["centre"].dtype, geopandas.array.GeometryDtype)
