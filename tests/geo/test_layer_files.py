"""A layer file as planners have it: a workbook of several sheets or a GeoPackage of several
layers read by the part named (:func:`geo.tables.list_parts` lists them), a barrier file of
one kind (roads, rivers, railways), and every file in its own CRS
(:class:`geo.layers.LayerFile`, :func:`geo.layers.stated_crs`).

The real Haidian roads and 小月河 (WGS84) are read as they are and as a GCJ-02 copy written to
``tmp_path`` (the shared data are only read)::

    water.geojson (WGS84)        ~~~~~~~~~      the river as OpenStreetMap has it
    water_gcj02.geojson          ~~~~~~~~~  →   the same river ~500 m east-north-east;
                                                declared gcj02 it lands on the original
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from geo.crs import wgs84_to_gcj02
from geo.errors import InputFormatError, ValidationError
from geo.footprints import read_footprints
from geo.layers import (
    BARRIER_KINDS,
    LayerFile,
    read_barriers,
    read_facilities,
    read_subdistricts,
    stated_crs,
)
from geo.tables import FilePart, list_parts
from planning.runs import read_layers

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
HAIDIAN = SHARED / "beijing_haidian"


def _gcj02_copy(source: Path, folder: Path) -> Path:
    """``source`` (WGS84) shifted into GCJ-02, as an Amap export of it would be."""
    frame = gpd.read_file(source)

    def shift(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return out

    frame["geometry"] = shapely.transform(np.asarray(frame.geometry.values), shift)
    path = folder / f"{source.stem}_gcj02.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def _facility_workbook(path: Path) -> Path:
    """Two sheets of facilities: 服务中心 (2 rows) and 卫生站 (1 row), plus an empty 说明."""
    centres = pd.DataFrame(
        {"名称": ["一号中心", "二号中心"], "经度": [116.35, 116.351], "纬度": [40.0, 40.001]}
        | {"建筑面积": [800, 650], "类型": ["社区综合服务设施", "社区综合服务设施"]}
    )
    clinics = pd.DataFrame(
        {"名称": ["卫生站"], "经度": [116.352], "纬度": [40.002], "建筑面积": [300]}
        | {"类型": ["卫生服务站"]}
    )
    with pd.ExcelWriter(path) as writer:
        centres.to_excel(writer, sheet_name="服务中心", index=False)
        clinics.to_excel(writer, sheet_name="卫生站", index=False)
    return path


def _two_layer_geopackage(path: Path) -> Path:
    """Haidian's roads (projected to CGCS2000 zone 39, EPSG:4547) and water (WGS84)."""
    gpd.read_file(HAIDIAN / "roads.geojson").to_crs(4547).to_file(path, layer="roads")
    gpd.read_file(HAIDIAN / "water.geojson").to_file(path, layer="water")
    return path


# --- list_parts ----------------------------------------------------------------------------


def test_a_workbook_lists_its_sheets_in_order(tmp_path: Path) -> None:
    parts = list_parts(_facility_workbook(tmp_path / "设施.xlsx"))
    assert parts == (FilePart("服务中心", "sheet", 3), FilePart("卫生站", "sheet", 2))


def test_a_geopackage_lists_its_layers_with_their_features(tmp_path: Path) -> None:
    parts = list_parts(_two_layer_geopackage(tmp_path / "layers.gpkg"))
    assert parts == (FilePart("roads", "layer", 302), FilePart("water", "layer", 2))


def test_a_zip_lists_its_shapefiles(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.read_file(HAIDIAN / "roads.geojson").to_file(folder / "roads.shp")
    gpd.read_file(HAIDIAN / "water.geojson").to_file(folder / "water.shp")
    archive = tmp_path / "lines.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in sorted(folder.iterdir()):
            out.write(part, part.name)
    assert [(p.name, p.kind, p.rows) for p in list_parts(archive)] == [
        ("roads", "layer", 302),
        ("water", "layer", 2),
    ]


def test_a_file_of_one_table_or_layer_has_no_parts(tmp_path: Path) -> None:
    table = tmp_path / "f.csv"
    table.write_text("经度,纬度\n116.35,40.0\n", encoding="utf-8")
    assert list_parts(table) == ()
    assert list_parts(HAIDIAN / "roads.geojson") == ()


def test_a_broken_workbook_is_refused_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"not a zip at all")
    with pytest.raises(InputFormatError, match=r"坏\.xlsx: cannot be opened as \.xlsx"):
        list_parts(broken)


# --- the part chosen ----------------------------------------------------------------------


def test_facilities_are_read_from_the_sheet_named(tmp_path: Path) -> None:
    book = _facility_workbook(tmp_path / "设施.xlsx")
    clinics = read_facilities(book, crs="wgs84", sheet="卫生站").frame
    assert clinics["name"].tolist() == ["卫生站"]
    assert clinics["floor_area_m2"].tolist() == [300.0]
    centres = read_facilities(book, crs="wgs84", sheet="服务中心").frame
    assert centres["name"].tolist() == ["一号中心", "二号中心"]


def test_facilities_of_several_sheets_unnamed_are_refused_naming_them(tmp_path: Path) -> None:
    book = _facility_workbook(tmp_path / "设施.xlsx")
    with pytest.raises(InputFormatError, match=r"2 sheets with data .*'服务中心'.*'卫生站'"):
        read_facilities(book, crs="wgs84")


def test_a_sheet_that_is_not_there_is_refused_with_the_sheets_there(tmp_path: Path) -> None:
    book = _facility_workbook(tmp_path / "设施.xlsx")
    with pytest.raises(InputFormatError, match=r"no sheet '学校'. expected one of: '服务中心'"):
        read_facilities(book, crs="wgs84", sheet="学校")


def test_barriers_are_read_from_the_layer_named(tmp_path: Path) -> None:
    package = _two_layer_geopackage(tmp_path / "layers.gpkg")
    roads = read_barriers(package, crs="EPSG:4547", layer="roads").frame
    water = read_barriers(package, crs="wgs84", layer="water").frame
    assert (len(roads), len(water)) == (302, 2)
    assert set(water["kind"]) == {"river"}
    original = read_barriers(HAIDIAN / "roads.geojson", crs="wgs84").frame
    assert roads.geometry.geom_equals_exact(original.geometry, tolerance=1e-7).all()


def test_a_geopackage_of_two_layers_unnamed_is_refused_naming_both(tmp_path: Path) -> None:
    package = _two_layer_geopackage(tmp_path / "layers.gpkg")
    with pytest.raises(InputFormatError, match=r"'roads' \(302 features\), 'water' \(2 features\)"):
        read_barriers(package, crs="wgs84")


def test_a_polygon_layer_of_a_geopackage_is_named_by_its_layer(tmp_path: Path) -> None:
    package = tmp_path / "streets.gpkg"
    square = shapely.box(116.34, 39.99, 116.36, 40.01)
    gpd.GeoDataFrame({"name": ["学院路街道"]}, geometry=[square], crs=4326).to_file(
        package, layer="街道"
    )
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(116.35, 40.0)], crs=4326).to_file(
        package, layer="points"
    )
    streets = read_subdistricts(package, crs="wgs84", layer="街道").frame
    assert streets["name"].tolist() == ["学院路街道"]


# --- barrier kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", BARRIER_KINDS)
def test_a_barrier_file_of_one_kind_holds_only_that_kind(kind: str) -> None:
    frame = read_barriers(HAIDIAN / "roads.geojson", crs="wgs84", kind=kind).frame
    assert set(frame["kind"]) == {kind}
    assert frame["road_class"].notna().any() == (kind == "road")


def test_without_a_kind_each_feature_says_its_own() -> None:
    water = read_barriers(HAIDIAN / "water.geojson", crs="wgs84").frame
    roads = read_barriers(HAIDIAN / "roads.geojson", crs="wgs84").frame
    assert set(water["kind"]) == {"river"} and set(roads["kind"]) == {"road"}


def test_an_unknown_barrier_kind_is_refused_with_the_kinds() -> None:
    with pytest.raises(
        InputFormatError, match=r"water\.geojson: barrier kind 'water' is unknown. expected one "
    ) as caught:
        read_barriers(HAIDIAN / "water.geojson", crs="wgs84", kind="water")
    assert "road, river, railway" in str(caught.value)


# --- the CRS a file states --------------------------------------------------------------------


def test_a_projected_crs_stated_by_the_file_is_found(tmp_path: Path) -> None:
    package = _two_layer_geopackage(tmp_path / "layers.gpkg")
    assert stated_crs(package, layer="roads") == "EPSG:4547"
    parquet = tmp_path / "roads.parquet"
    gpd.read_file(HAIDIAN / "roads.geojson").to_crs(4547).to_parquet(parquet)
    assert stated_crs(parquet) == "EPSG:4547"
    shp = tmp_path / "roads.shp"
    gpd.read_file(HAIDIAN / "roads.geojson").to_crs(32650).to_file(shp)
    assert stated_crs(shp) == "EPSG:32650"


def test_lon_lat_tables_and_unreadable_files_state_nothing(tmp_path: Path) -> None:
    """EPSG:4326 cannot tell WGS84 from GCJ-02: only the planner knows which it is."""
    package = _two_layer_geopackage(tmp_path / "layers.gpkg")
    assert stated_crs(package, layer="water") is None
    assert stated_crs(HAIDIAN / "roads.geojson") is None
    table = tmp_path / "f.csv"
    table.write_text("经度,纬度\n116.35,40.0\n", encoding="utf-8")
    assert stated_crs(table) is None
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"SQLite format 3\x00 but nothing else")
    assert stated_crs(broken) is None


# --- every file in its own CRS, through read_layers -------------------------------------------


def _water(layers) -> gpd.GeoDataFrame:
    barriers = layers.barriers
    return barriers[barriers["kind"] == "river"].reset_index(drop=True)


def test_a_gcj02_barrier_file_declared_so_lands_on_the_original(tmp_path: Path) -> None:
    water_gcj = _gcj02_copy(HAIDIAN / "water.geojson", tmp_path)
    layers = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=[
            LayerFile(HAIDIAN / "roads.geojson", kind="road"),
            LayerFile(water_gcj, crs="gcj02", kind="river"),
        ],
    )
    original = read_barriers(HAIDIAN / "water.geojson", crs="wgs84").frame
    metric = layers.households.metric_crs
    apart = _water(layers).to_crs(metric).hausdorff_distance(original.to_crs(metric))
    assert apart.max() < 2.0  # metres: GCJ-02 undone to within the transform's precision
    assert layers.barrier_paths == [HAIDIAN / "roads.geojson", water_gcj]
    assert set(layers.barriers["kind"]) == {"road", "river"}
    assert len(layers.barriers) == 302 + 2
    assert not [p for p in layers.warnings if "looks like" in p.message]


def test_the_same_file_read_in_the_households_crs_is_off_by_the_gcj02_shift(
    tmp_path: Path,
) -> None:
    water_gcj = _gcj02_copy(HAIDIAN / "water.geojson", tmp_path)
    layers = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=[HAIDIAN / "roads.geojson", LayerFile(water_gcj, kind="river")],
    )
    original = read_barriers(HAIDIAN / "water.geojson", crs="wgs84").frame
    metric = layers.households.metric_crs
    apart = _water(layers).to_crs(metric).hausdorff_distance(original.to_crs(metric))
    assert (apart > 300).all() and (apart < 900).all()


def test_a_layer_files_own_crs_overrides_the_layers_crs(tmp_path: Path) -> None:
    roads_gcj = _gcj02_copy(HAIDIAN / "roads.geojson", tmp_path)
    layers = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=[LayerFile(roads_gcj, crs="gcj02"), HAIDIAN / "water.geojson"],
        layer_crs={"barriers": "wgs84"},
    )
    assert not [p for p in layers.warnings if "looks like" in p.message]
    misread = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers_path=[roads_gcj, HAIDIAN / "water.geojson"],
    )
    (offset,) = [p for p in misread.warnings if "looks like" in p.message]
    assert "roads_gcj02.geojson" in offset.message


def test_a_refused_barrier_file_is_named_with_the_others_read(tmp_path: Path) -> None:
    bad = tmp_path / "rail.geojson"
    gpd.GeoDataFrame(geometry=[Point(116.35, 40.0)], crs=4326).to_file(bad)
    with pytest.raises(ValidationError) as caught:
        read_layers(
            HAIDIAN / "households.geojson",
            crs="wgs84",
            barriers_path=[
                LayerFile(HAIDIAN / "roads.geojson", kind="road"),
                LayerFile(bad, kind="railway"),
            ],
        )
    assert [p.file for p in caught.value.problems if p.is_error] == ["rail.geojson"]


def test_a_part_is_the_sheet_of_a_workbook_and_the_layer_of_anything_else() -> None:
    assert LayerFile("x.gpkg", part="roads").part_options() == {"layer": "roads"}
    assert LayerFile("x.xlsx", part="表1").part_options(tables=True) == {"sheet": "表1"}
    assert LayerFile("x.xlsx", part="表1").part_options() == {}
    assert LayerFile("x.geojson").part_options() == {}


def test_footprints_and_compounds_are_read_from_the_layer_named_each_in_its_crs(
    tmp_path: Path,
) -> None:
    """One GeoPackage holding the compounds (WGS84) and the footprints (EPSG:4547)."""
    package = tmp_path / "建筑.gpkg"
    gpd.read_file(HAIDIAN / "compounds.geojson").to_file(package, layer="小区")
    gpd.read_file(HAIDIAN / "buildings.geojson").to_crs(4547).to_file(package, layer="楼栋")
    assert read_footprints(package, crs="EPSG:4547", layer="楼栋").frame.shape[0] == 257
    with pytest.raises(InputFormatError, match=r"'小区' \(10 features\), '楼栋' \(257 features\)"):
        read_footprints(package, crs="wgs84")
    layers = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        compounds_path=LayerFile(package, part="小区"),
        buildings_path=LayerFile(package, crs="EPSG:4547", part="楼栋"),
    )
    plain = read_layers(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        compounds_path=HAIDIAN / "compounds.geojson",
        buildings_path=HAIDIAN / "buildings.geojson",
    )
    assert layers.buildings["compound"].tolist() == plain.buildings["compound"].tolist()
    assert (layers.footprints.footprint_of_building == plain.footprints.footprint_of_building).all()
    assert (layers.footprints.footprint_of_building >= 0).sum() > 50
