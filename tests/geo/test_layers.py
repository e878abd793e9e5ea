"""geo.layers: sub-districts, barriers, facilities and communities read into WGS84.

Fixtures are unit squares in degrees (WGS84 unless a test says otherwise)::

    1 ┌─────┬─────┐
      │  A  │  B  │    A = box(0, 0, 1, 1), B = box(1, 0, 2, 1): they touch, never overlap
    0 └─────┴─────┘
      0     1     2
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geoseries_equal
from shapely.geometry import LineString, Point, Polygon, box, mapping

from geo.crs import wgs84_to_gcj02
from geo.errors import CRSError, InputFormatError, ValidationError
from geo.layers import read_barriers, read_communities, read_facilities, read_subdistricts

A = box(0, 0, 1, 1)
B = box(1, 0, 2, 1)
#: A bowtie: the ring crosses itself at (0.5, 0.5)::
#:
#:     (0,1) ╲ ╱ (1,1)
#:            ╳
#:     (0,0) ╱ ╲ (1,0)
BOWTIE = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])


def _write(path: Path, data: dict, geometry: list, crs: int = 4326) -> Path:
    gpd.GeoDataFrame(data, geometry=geometry, crs=crs).to_file(path)
    return path


def _geojson(path: Path, features: list[tuple[dict, object]]) -> Path:
    """A GeoJSON written by hand, for property types a GeoDataFrame would normalise."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": p, "geometry": mapping(g)}
                    for p, g in features
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def _json_ready(layer) -> None:
    json.dumps([p.as_dict() for p in layer.report.problems], ensure_ascii=False)


# --- streets (街道) ----------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["name", "名称", "街道", "街道名称"])
def test_streets_names_by_alias(tmp_path: Path, column: str) -> None:
    path = _write(tmp_path / "s.geojson", {column: ["学院路街道", "清华园街道"]}, [A, B])
    layer = read_subdistricts(path, crs="wgs84")
    assert layer.frame["name"].tolist() == ["学院路街道", "清华园街道"]
    assert layer.frame.crs.to_epsg() == 4326
    assert_geoseries_equal(layer.frame.geometry, gpd.GeoSeries([A, B], crs=4326), normalize=True)
    assert layer.report.problems == ()


def test_streets_without_names_are_numbered_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.geojson", {"街道": ["学院路街道", None]}, [A, B])
    layer = read_subdistricts(path, crs="wgs84")
    assert layer.frame["name"].tolist() == ["学院路街道", "街道2"]
    (warning,) = layer.report.problems
    assert warning.severity == "warning"
    assert warning.message == "sub-districts without a name were numbered"
    assert warning.rows == (2,)


def test_streets_without_a_name_column_are_all_numbered(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.gpkg", {"area": [1.0, 1.0]}, [A, B])
    layer = read_subdistricts(path, crs="wgs84")
    assert layer.frame["name"].tolist() == ["街道1", "街道2"]
    assert layer.report.warnings[0].rows == (1, 2)


def test_overlapping_streets_are_refused(tmp_path: Path) -> None:
    """A and box(0.5, 0, 2, 1) share half of A."""
    path = _write(tmp_path / "s.geojson", {"name": ["甲", "乙"]}, [A, box(0.5, 0, 2, 1)])
    with pytest.raises(ValidationError, match=r"sub-districts overlap") as info:
        read_subdistricts(path, crs="wgs84")
    assert "甲 × 乙 (50.00% of the smaller)" in str(info.value)


def test_streets_sharing_a_name_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.geojson", {"name": ["甲", "甲"]}, [A, B])
    with pytest.raises(ValidationError, match=r"two sub-districts share a name"):
        read_subdistricts(path, crs="wgs84")


def test_a_bowtie_street_is_repaired_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.geojson", {"name": ["蝴蝶", "乙"]}, [BOWTIE, box(2, 0, 3, 1)])
    layer = read_subdistricts(path, crs="wgs84")
    repaired = layer.frame.geometry.iloc[0]
    assert repaired.is_valid
    assert repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(0.5)  # two triangles of 0.25
    (warning,) = layer.report.problems
    assert warning.message.startswith("invalid sub-district polygons")
    assert "Self-intersection" in warning.found
    assert warning.rows == (1,)
    _json_ready(layer)


def test_streets_of_the_wrong_geometry_type_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.geojson", {"name": ["甲", "乙"]}, [A, Point(5, 5)])
    with pytest.raises(ValidationError, match=r"rows 2 \(1 in all\).*of the wrong geometry type"):
        read_subdistricts(path, crs="wgs84")


def test_streets_in_gcj02_are_shifted_to_wgs84(tmp_path: Path) -> None:
    square = box(116.30, 39.90, 116.31, 39.91)
    shifted = shapely.transform(
        square, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )
    path = _write(tmp_path / "s.geojson", {"name": ["甲"]}, [shifted])
    layer = read_subdistricts(path, crs="gcj02")
    assert layer.frame.geometry.iloc[0].symmetric_difference(square).area < 1e-12
    assert layer.source_crs.key == "gcj02"


def test_streets_in_a_projected_crs_are_converted(tmp_path: Path) -> None:
    square = gpd.GeoSeries([box(121.55, 29.87, 121.56, 29.88)], crs=4326)
    path = tmp_path / "s.gpkg"
    gpd.GeoDataFrame({"name": ["甲"]}, geometry=square.to_crs(4549)).to_file(path)
    layer = read_subdistricts(path, crs="EPSG:4549")
    assert layer.frame.crs.to_epsg() == 4326
    assert layer.frame.geometry.iloc[0].symmetric_difference(square.iloc[0]).area < 1e-10


def test_a_layer_whose_crs_disagrees_with_the_declared_one(tmp_path: Path) -> None:
    path = tmp_path / "s.gpkg"
    gpd.GeoDataFrame({"name": ["甲"]}, geometry=[A], crs=4326).to_crs(3857).to_file(path)
    with pytest.raises(CRSError, match=r"s\.gpkg: the file says .* EPSG:3857 but .* WGS84"):
        read_subdistricts(path, crs="wgs84")


def test_a_table_is_not_a_layer(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("name,x,y\n甲,1,1\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"s\.csv: sub-districts \(街道\) must be a spatial"):
        read_subdistricts(path, crs="wgs84")


# --- barriers ----------------------------------------------------------------------------------


def test_osm_tags_give_road_river_and_railway(tmp_path: Path) -> None:
    """
    1  学院路   highway=primary      → road (primary)
    2  小月河   waterway=river       → river
    3  京包铁路 railway=rail         → railway
    4  湖       natural=water, a square polygon → river, its outline
    """
    path = _write(
        tmp_path / "b.geojson",
        {
            "name": ["学院路", "小月河", "京包铁路", "湖"],
            "highway": ["primary", None, None, None],
            "waterway": [None, "river", None, None],
            "railway": [None, None, "rail", None],
            "natural": [None, None, None, "water"],
        },
        [
            LineString([(0, 0), (1, 1)]),
            LineString([(0, 1), (1, 0)]),
            LineString([(0, 2), (1, 2)]),
            box(3, 3, 4, 4),
        ],
    )
    layer = read_barriers(path, crs="wgs84")
    frame = layer.frame
    assert frame["kind"].tolist() == ["road", "river", "railway", "river"]
    assert frame["road_class"].tolist()[0] == "primary"
    assert frame["road_class"].iloc[1:].isna().all()
    assert frame["name"].tolist() == ["学院路", "小月河", "京包铁路", "湖"]
    assert set(frame.geom_type) == {"LineString"}
    assert frame.geometry.iloc[3].equals(box(3, 3, 4, 4).exterior)
    assert layer.report.problems == ()


def test_barrier_kinds_in_chinese(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "b.gpkg",
        {"类型": ["道路", "河流", "铁路"], "道路等级": ["主干路", None, None]},
        [LineString([(0, 0), (1, 0)]), LineString([(0, 1), (1, 1)]), LineString([(0, 2), (1, 2)])],
    )
    frame = read_barriers(path, crs="wgs84").frame
    assert frame["kind"].tolist() == ["road", "river", "railway"]
    assert frame["road_class"].tolist()[0] == "主干路"


def test_barriers_must_be_lines_or_areas(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.geojson", {"highway": ["primary"]}, [Point(0, 0)])
    with pytest.raises(ValidationError, match=r"barrier of the wrong geometry type") as info:
        read_barriers(path, crs="wgs84")
    assert info.value.problems[0].rows == (1,)


# --- facilities --------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["floor_area_m2", "建筑面积", "用房面积", "面积", "area_m2"])
def test_floor_area_by_alias(tmp_path: Path, column: str) -> None:
    """A kindergarten point and a service-centre polygon, with their floor areas."""
    path = _write(
        tmp_path / "f.geojson",
        {
            "名称": ["幼儿园", "服务中心"],
            "类型": ["kindergarten", "community_centre"],
            column: [1200.0, 650.5],
        },
        [Point(0.5, 0.5), box(1.2, 0.2, 1.4, 0.4)],
    )
    layer = read_facilities(path, crs="wgs84")
    frame = layer.frame
    assert frame["floor_area_m2"].tolist() == [1200.0, 650.5]
    assert frame["facility_id"].tolist() == ["F0001", "F0002"]
    assert frame["name"].tolist() == ["幼儿园", "服务中心"]
    assert frame["type"].tolist() == ["kindergarten", "community_centre"]
    assert frame.geom_type.tolist() == ["Point", "Polygon"]
    assert layer.report.problems == ()


def test_floor_area_as_text_from_a_table_like_source(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "f.geojson",
        [
            ({"设施编号": "007", "建筑面积": "800"}, Point(0, 0)),
            ({"设施编号": "008", "建筑面积": "350.5"}, Point(1, 1)),
        ],
    )
    frame = read_facilities(path, crs="wgs84").frame
    assert frame["facility_id"].tolist() == ["007", "008"]
    assert frame["floor_area_m2"].tolist() == [800.0, 350.5]


def test_no_floor_area_column_is_an_error_when_required(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"name": ["幼儿园"]}, [Point(0, 0)])
    with pytest.raises(ValidationError, match=r"no floor area column"):
        read_facilities(path, crs="wgs84")


def test_no_floor_area_column_warns_when_not_required(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"name": ["幼儿园"]}, [Point(0, 0)])
    layer = read_facilities(path, crs="wgs84", require_area=False)
    assert layer.frame["floor_area_m2"].isna().all()
    (warning,) = layer.report.problems
    assert (warning.severity, warning.message) == ("warning", "no floor area column")


def test_missing_floor_areas_error_or_warn(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"建筑面积": [500.0, None]}, [Point(0, 0), Point(1, 1)])
    with pytest.raises(ValidationError, match=r"rows 2 \(1 in all\): floor area missing"):
        read_facilities(path, crs="wgs84")
    layer = read_facilities(path, crs="wgs84", require_area=False)
    assert layer.frame["floor_area_m2"].iloc[0] == 500.0
    assert np.isnan(layer.frame["floor_area_m2"].iloc[1])
    assert layer.report.warnings[0].rows == (2,)
    _json_ready(layer)


@pytest.mark.parametrize("require_area", [True, False])
def test_negative_floor_area_is_always_an_error(tmp_path: Path, require_area: bool) -> None:
    path = _write(tmp_path / "f.geojson", {"建筑面积": [500.0, -30.0]}, [Point(0, 0), Point(1, 1)])
    with pytest.raises(ValidationError, match=r"rows 2 \(1 in all\): floor area is negative") as e:
        read_facilities(path, crs="wgs84", require_area=require_area)
    assert "found: -30" in str(e.value)


# --- communities -------------------------------------------------------------------------------

CODES = ["330203001001", "330203001002"]


def test_twelve_digit_codes_stay_text_from_json_numbers(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "c.geojson",
        [
            ({"社区代码": 330203001001, "社区名称": "甲社区"}, A),
            ({"社区代码": 330203001002, "社区名称": "乙社区"}, B),
        ],
    )
    layer = read_communities(path, crs="wgs84")
    assert layer.frame["community_id"].tolist() == CODES
    assert layer.frame["name"].tolist() == ["甲社区", "乙社区"]
    assert layer.report.problems == ()


def test_twelve_digit_codes_stay_text_from_json_floats(tmp_path: Path) -> None:
    """A spreadsheet export writes 330203001001.0: the column reads as float."""
    path = _geojson(
        tmp_path / "c.geojson",
        [({"code": 330203001001.0}, A), ({"code": 330203001002.0}, B)],
    )
    assert read_communities(path, crs="wgs84").frame["community_id"].tolist() == CODES


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".parquet"])
@pytest.mark.parametrize("dtype", ["int64", "float64", "str"])
def test_twelve_digit_codes_stay_text_in_every_format(
    tmp_path: Path, suffix: str, dtype: str
) -> None:
    frame = gpd.GeoDataFrame(
        {"社区代码": pd.Series(CODES).astype(dtype), "名称": ["甲", "乙"]},
        geometry=[A, B],
        crs=4326,
    )
    path = tmp_path / f"c{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".shp":  # GBK, as Chinese GIS desktops write it: 社区代码 fits in 10 bytes
        frame.to_file(path, encoding="gbk")
    else:
        frame.to_file(path)
    assert read_communities(path, crs="wgs84").frame["community_id"].tolist() == CODES


def test_leading_zeros_in_codes_survive(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "c.geojson", [({"id": "007"}, A), ({"id": "008"}, B)])
    assert read_communities(path, crs="wgs84").frame["community_id"].tolist() == ["007", "008"]


def test_duplicate_community_ids_are_refused(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "c.geojson", [({"社区代码": CODES[0]}, A), ({"社区代码": CODES[0]}, B)]
    )
    with pytest.raises(ValidationError, match=r"community ids repeat") as info:
        read_communities(path, crs="wgs84")
    assert f"found: {CODES[0]}" in str(info.value)


def test_a_missing_community_id_is_refused(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "c.geojson", [({"社区代码": CODES[0]}, A), ({"社区代码": None}, B)])
    with pytest.raises(ValidationError, match=r"rows 2 \(1 in all\): community id missing"):
        read_communities(path, crs="wgs84")


def test_communities_without_an_id_column_are_numbered_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.geojson", {"社区名称": ["甲社区", None]}, [A, B])
    layer = read_communities(path, crs="wgs84")
    assert layer.frame["community_id"].tolist() == ["C001", "C002"]
    assert layer.frame["name"].tolist() == ["甲社区", "C002"]
    (warning,) = layer.report.problems
    assert warning.message == "no community id column; communities were numbered C001…"


def test_communities_keep_their_street(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.geojson", {"code": CODES, "所属街道": ["学院路街道"] * 2}, [A, B])
    assert read_communities(path, crs="wgs84").frame["street"].tolist() == ["学院路街道"] * 2


def test_explicit_mapping_for_a_layer(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.geojson", {"JWH_DM": CODES, "JWH_MC": ["甲", "乙"]}, [A, B])
    layer = read_communities(
        path, crs="wgs84", columns={"community_id": "JWH_DM", "name": "JWH_MC"}
    )
    assert layer.frame["community_id"].tolist() == CODES
    assert layer.frame["name"].tolist() == ["甲", "乙"]
    with pytest.raises(ValidationError, match=r"the column mapping says community_id is in column"):
        read_communities(path, crs="wgs84", columns={"community_id": "DM"})


# --- the real sample ---------------------------------------------------------------------------


def test_haidian_roads_are_road_barriers(haidian: Path) -> None:
    layer = read_barriers(haidian / "roads.geojson", crs="wgs84")
    frame = layer.frame
    assert len(frame) == 302
    assert set(frame["kind"]) == {"road"}
    assert {"primary", "tertiary", "motorway", "service"} <= set(frame["road_class"])
    assert "学院路" in set(frame["name"].dropna())
    assert set(frame.geom_type) <= {"LineString", "MultiLineString"}
    assert layer.report.problems == ()


def test_haidian_water_is_river_barriers(haidian: Path) -> None:
    frame = read_barriers(haidian / "water.geojson", crs="wgs84").frame
    assert set(frame["kind"]) == {"river"}
    assert "小月河" in set(frame["name"].dropna())
    assert set(frame.geom_type) <= {"LineString", "MultiLineString"}


def test_haidian_facilities_have_no_floor_areas(haidian: Path) -> None:
    layer = read_facilities(haidian / "facilities.geojson", crs="wgs84", require_area=False)
    assert len(layer.frame) == 43
    assert layer.frame["floor_area_m2"].isna().all()
    assert "kindergarten" in set(layer.frame["type"].dropna())
    assert [w.message for w in layer.report.warnings] == ["no floor area column"]
    with pytest.raises(ValidationError, match=r"facilities\.geojson: no floor area column"):
        read_facilities(haidian / "facilities.geojson", crs="wgs84")


def test_haidian_compounds_exist_and_read_as_polygons(haidian: Path) -> None:
    path = haidian / "compounds.geojson"
    assert path.is_file()
    layer = read_communities(path, crs="wgs84")
    assert len(layer.frame) == 10
    assert "富润家园" in set(layer.frame["name"])
    assert set(layer.frame.geom_type) <= {"Polygon", "MultiPolygon"}
