"""geo.footprints: building footprints read into WGS84 and matched to household buildings.

Matching fixtures are drawn in metres of EPSG:4547 (CGCS2000, CM 114°E) from an origin near
Shenzhen (x →, y ↑), then handed over in WGS84 as the readers hand them over::

    the row of three                      nested (a point in two)     two-part building M
    10 ┌────┐    ┌────┐    ┌────┐         30 ┌──────────────┐          10 ┌───┐   ┌───┐
       │ 1  │    │    │·3  │    │  ·4        │ big  ┌────┐  │             │   │   │ 1 │
       │  2 │    │ B  │    │ C  │            │      │ 2  │  │             │ M │   │ M │
     0 └────┘    └────┘    └────┘            │  1   │small│  │           0 └───┘   └───┘
       0  A 10   20   30   40   50  60      0 └──────┴────┴──┘             0  10  20  30
                                              0    10   20  30
    1, 2 in A (one footprint, two buildings); 3 is 2 m east of B (nearest); 4 is 10 m
    from C (none); C holds nobody.

Reader fixtures are unit squares in degrees (WGS84) written to files.
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
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, mapping

from geo.crs import wgs84_to_gcj02
from geo.errors import CRSError, GeometryError, ValidationError
from geo.footprints import FootprintMatch, match_footprints, read_footprints
from geo.intake import read_households

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
SHENZHEN = SHARED / "shenzhen_nanshan_north"
HAIDIAN = SHARED / "beijing_haidian"

METRIC = 4547
ORIGIN = (500_000.0, 2_490_000.0)

A, B, C = box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)
BIG, SMALL = box(0, 0, 30, 30), box(10, 10, 20, 20)
M = MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 10)])

#: A bowtie: the ring crosses itself at (0.5, 0.5)::
#:
#:     (0,1) ╲ ╱ (1,1)
#:            ╳
#:     (0,0) ╱ ╲ (1,0)
BOWTIE = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])


def _place(geoms: list) -> gpd.GeoSeries:
    """Fixture geometries (metres from ORIGIN) as a WGS84 series."""
    moved = [shapely.affinity.translate(g, *ORIGIN) for g in geoms]
    return gpd.GeoSeries(moved, crs=METRIC).to_crs(4326)


def _buildings(ids: list[str], points: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"building_id": ids}, geometry=_place([Point(p) for p in points]).array, crs=4326
    )


def _footprints(geoms: list, ids: list[str] | None = None) -> gpd.GeoDataFrame:
    """As read_footprints returns them: ids from the file, else feature numbers."""
    from_file = ids is not None
    ids = ids if from_file else [str(i + 1) for i in range(len(geoms))]
    return gpd.GeoDataFrame(
        {"footprint_id": ids, "id_from_file": [from_file] * len(geoms)},
        geometry=_place(geoms).array,
        crs=4326,
    )


def _match(buildings: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame) -> FootprintMatch:
    return match_footprints(buildings, footprints, metric_crs=METRIC)


def _messages(match: FootprintMatch) -> str:
    return "\n".join(p.message for p in match.report.problems)


# --- matching by position ----------------------------------------------------------------------


def test_row_of_three_inside_beside_and_nowhere() -> None:
    buildings = _buildings(["b1", "b2", "b3", "b4"], [(5, 5), (7, 3), (32, 5), (60, 5)])
    match = _match(buildings, _footprints([A, B, C]))
    assert match.footprint_of_building.tolist() == [0, 0, 1, -1]
    assert match.matched_by.tolist() == ["containment", "containment", "containment", ""]
    np.testing.assert_allclose(match.distance_m[:3], [0, 0, 2], atol=1e-6)
    assert np.isnan(match.distance_m[3])
    assert match.has_households.tolist() == [True, True, False]
    assert (match.buildings_matched, match.buildings_unmatched) == (3, 1)
    assert match.footprints_without_households == 1
    assert match.method == "containment"
    messages = _messages(match)
    assert "1 of 4 household points lie in no footprint (nearest more than 5 m away)" in messages
    assert "1 household point(s) lie beside a footprint" in messages
    assert "1 of 3 footprints hold no household" in messages
    assert all(not p.is_error for p in match.report.problems)


def test_geometry_is_every_footprint_in_the_metric_crs() -> None:
    match = _match(_buildings(["b1"], [(5, 5)]), _footprints([A, B, C]))
    expected = gpd.GeoSeries([shapely.affinity.translate(g, *ORIGIN) for g in (A, B, C)])
    assert_geoseries_equal(gpd.GeoSeries(match.geometry), expected, check_less_precise=True)
    assert match.metric_crs.to_epsg() == METRIC
    assert match.footprint_id.tolist() == ["1", "2", "3"]


def test_max_distance_is_an_option() -> None:
    buildings = _buildings(["b4"], [(60, 5)])
    match = match_footprints(
        buildings, _footprints([A, B, C]), metric_crs=METRIC, max_distance_m=12.0
    )
    assert match.footprint_of_building.tolist() == [2]
    np.testing.assert_allclose(match.distance_m, [10.0], atol=1e-6)


def test_a_point_in_nested_footprints_takes_the_smallest() -> None:
    buildings = _buildings(["inner", "outer"], [(15, 15), (5, 5)])
    match = _match(buildings, _footprints([BIG, SMALL]))
    assert match.footprint_of_building.tolist() == [1, 0]
    assert "1 household point(s) lie in overlapping footprints" in _messages(match)


def test_a_multipolygon_footprint_is_kept_whole() -> None:
    buildings = _buildings(["east part"], [(25, 5)])
    match = _match(buildings, _footprints([M]))
    assert match.footprint_of_building.tolist() == [0]
    assert match.geometry[0].geom_type == "MultiPolygon"


def test_results_are_read_only_and_arguments_unchanged() -> None:
    buildings = _buildings(["b1", "b2"], [(5, 5), (25, 5)])
    footprints = _footprints([A, B])
    before = (buildings.copy(), footprints.copy())
    match = _match(buildings, footprints)
    pd.testing.assert_frame_equal(buildings, before[0])
    pd.testing.assert_frame_equal(footprints, before[1])
    with pytest.raises(ValueError, match="read-only"):
        match.footprint_of_building[0] = 5


# --- matching by id ----------------------------------------------------------------------------


def test_ids_win_over_position() -> None:
    """Building 楼1 stands (by its point) in B, but its id names A: the id wins, and the
    distance is reported."""
    buildings = _buildings(["楼1", "楼2"], [(25, 5), (25, 5)])
    match = _match(buildings, _footprints([A, B], ids=["楼1", "楼2"]))
    assert match.footprint_of_building.tolist() == [0, 1]
    assert match.matched_by.tolist() == ["id", "id"]
    np.testing.assert_allclose(match.distance_m, [15.0, 0.0], atol=1e-6)
    assert match.method == "id"
    assert "1 building(s) matched by id lie more than 5 m from their footprint" in _messages(match)


def test_ids_that_match_partly_fall_back_to_position() -> None:
    buildings = _buildings(["甲1", "乙9", "丙3"], [(5, 5), (25, 5), (45, 5)])
    match = _match(buildings, _footprints([A, B, C], ids=["甲1", "甲2", "甲3"]))
    assert match.footprint_of_building.tolist() == [0, 1, 2]
    assert match.matched_by.tolist() == ["id", "containment", "containment"]
    assert (match.buildings_by_id, match.buildings_by_containment) == (1, 2)
    assert match.method == "id+containment"
    assert "ids matched only partly: 1 of 3 buildings matched by id, 2 by the footprint" in (
        _messages(match)
    )


def test_no_shared_id_says_so() -> None:
    match = _match(_buildings(["B000001"], [(5, 5)]), _footprints([A], ids=["way/1"]))
    assert match.matched_by.tolist() == ["containment"]
    assert "no building id matches a footprint id" in _messages(match)


def test_feature_numbers_never_match_building_ids() -> None:
    """Footprints without ids are numbered "1", "2"; building "2" stands in footprint 1."""
    match = _match(_buildings(["2"], [(5, 5)]), _footprints([A, B]))
    assert match.footprint_of_building.tolist() == [0]
    assert match.matched_by.tolist() == ["containment"]


def test_an_id_on_two_footprints_takes_the_nearer() -> None:
    buildings = _buildings(["X"], [(24, 5)])
    match = _match(buildings, _footprints([A, B], ids=["X", "X"]))
    assert match.footprint_of_building.tolist() == [1]


# --- refusals ----------------------------------------------------------------------------------


def test_buildings_not_in_wgs84_are_refused() -> None:
    buildings = _buildings(["b1"], [(5, 5)]).to_crs(METRIC)
    with pytest.raises(CRSError, match=r"buildings: expected coordinates in WGS84"):
        _match(buildings, _footprints([A]))


def test_footprints_without_their_id_column_are_refused() -> None:
    footprints = _footprints([A]).drop(columns="footprint_id")
    with pytest.raises(
        GeometryError, match=r"expected a GeoDataFrame with a column 'footprint_id'"
    ):
        _match(_buildings(["b1"], [(5, 5)]), footprints)


def test_buildings_must_be_points() -> None:
    buildings = gpd.GeoDataFrame({"building_id": ["b1"]}, geometry=_place([A]).array, crs=4326)
    with pytest.raises(GeometryError, match=r"expected one Point per building; found Polygon"):
        _match(buildings, _footprints([A]))


# --- reading -----------------------------------------------------------------------------------


def _write(path: Path, data: dict, geometry: list, crs: int = 4326) -> Path:
    gpd.GeoDataFrame(data, geometry=geometry, crs=crs).to_file(path)
    return path


def _geojson(path: Path, features: list[tuple[dict, object]]) -> Path:
    """A GeoJSON written by hand (null geometries, mixed types, numeric ids)."""
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


@pytest.mark.parametrize(
    "column", ["building_id", "楼栋编号", "楼栋", "id", "fid", "osm_id", "src_id"]
)
def test_ids_by_alias(tmp_path: Path, column: str) -> None:
    path = _write(tmp_path / "f.geojson", {column: ["楼1", "楼2"]}, [box(0, 0, 1, 1), B])
    layer = read_footprints(path, crs="wgs84")
    assert layer.frame["footprint_id"].tolist() == ["楼1", "楼2"]
    assert layer.frame["id_from_file"].tolist() == [True, True]
    assert layer.frame.crs.to_epsg() == 4326
    assert layer.report.problems == ()


def test_numeric_ids_keep_their_digits(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "f.geojson", [({"id": 330203001001}, box(0, 0, 1, 1))])
    assert read_footprints(path, crs="wgs84").frame["footprint_id"].tolist() == ["330203001001"]


def test_without_an_id_column_features_are_numbered(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"height": [3, 6]}, [box(0, 0, 1, 1), B])
    frame = read_footprints(path, crs="wgs84").frame
    assert frame["footprint_id"].tolist() == ["1", "2"]
    assert frame["id_from_file"].tolist() == [False, False]


def test_explicit_id_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"id": ["a"], "编码": ["X9"]}, [box(0, 0, 1, 1)])
    assert read_footprints(path, crs="wgs84", id_column="编码").frame["footprint_id"].tolist() == [
        "X9"
    ]


def test_an_explicit_id_column_the_file_lacks_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"id": ["a"]}, [box(0, 0, 1, 1)])
    with pytest.raises(ValidationError, match=r"says footprint_id is in column '编码'"):
        read_footprints(path, crs="wgs84", id_column="编码")


def test_missing_and_repeated_ids_are_warned(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "f.geojson",
        {"building_id": ["X", None, "X"]},
        [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
    )
    layer = read_footprints(path, crs="wgs84")
    assert layer.frame["footprint_id"].tolist() == ["X", "2", "X"]
    assert layer.frame["id_from_file"].tolist() == [True, False, True]
    messages = [str(p) for p in layer.report.warnings]
    assert any("rows 2 (1 in all): 1 footprint(s) without an id" in m for m in messages)
    assert any("1 id(s) name more than one footprint (2 footprints)" in m for m in messages)


def test_points_and_lines_are_refused_each_named(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "f.geojson",
        [
            ({}, box(0, 0, 1, 1)),
            ({}, Point(0, 0)),
            ({}, LineString([(0, 0), (1, 1)])),
            ({}, box(2, 0, 3, 1)),
            ({}, Point(5, 5)),
        ],
    )
    with pytest.raises(
        ValidationError,
        match=r"rows 2, 3, 5 \(3 in all\): building footprints must be polygons\n"
        r"    expected: Polygon or MultiPolygon\n    found: LineString, Point",
    ):
        read_footprints(path, crs="wgs84")


def test_empty_geometries_are_dropped_and_counted(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "f.geojson",
        [({}, None), ({}, box(0, 0, 1, 1)), ({}, None), ({}, box(2, 0, 3, 1))],
    )
    layer = read_footprints(path, crs="wgs84")
    assert layer.frame["footprint_id"].tolist() == ["2", "4"]
    assert layer.frame.index.tolist() == [0, 1]
    (warning,) = layer.report.warnings
    assert warning.message == "2 footprint(s) without a geometry dropped"
    assert warning.rows == (1, 3)


def test_only_empty_geometries_are_refused(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "f.geojson", [({}, None)])
    with pytest.raises(ValidationError, match=r"no building footprint left"):
        read_footprints(path, crs="wgs84")


def test_invalid_polygons_are_repaired_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.geojson", {"id": ["a", "b"]}, [box(2, 0, 3, 1), BOWTIE])
    layer = read_footprints(path, crs="wgs84")
    assert layer.frame.geometry.is_valid.all()
    assert layer.frame.geometry.iloc[1].area == pytest.approx(0.5)
    (warning,) = layer.report.warnings
    assert warning.message == "1 invalid footprint(s) repaired"
    assert warning.rows == (2,)


def test_polygons_without_area_are_dropped_with_a_warning(tmp_path: Path) -> None:
    flat = Polygon([(0, 0), (1, 0), (2, 0), (0, 0)])
    path = _geojson(tmp_path / "f.geojson", [({"id": "flat"}, flat), ({"id": "ok"}, B)])
    layer = read_footprints(path, crs="wgs84")
    assert layer.frame["footprint_id"].tolist() == ["ok"]
    assert "1 footprint(s) without area dropped" in [p.message for p in layer.report.warnings]


def test_z_is_dropped(tmp_path: Path) -> None:
    with_z = Polygon([(0, 0, 9), (1, 0, 9), (1, 1, 9), (0, 1, 9)])
    path = _write(tmp_path / "f.gpkg", {"id": ["a"]}, [with_z])
    frame = read_footprints(path, crs="wgs84").frame
    assert not frame.geometry.has_z.any()


def test_gcj02_footprints_are_shifted_to_wgs84(tmp_path: Path) -> None:
    lon, lat = np.array([116.30, 116.31, 116.31, 116.30]), np.array([39.90, 39.90, 39.91, 39.91])
    glon, glat = wgs84_to_gcj02(lon, lat)
    path = _write(tmp_path / "f.geojson", {"id": ["a"]}, [Polygon(zip(glon, glat, strict=True))])
    frame = read_footprints(path, crs="gcj02").frame
    expected = gpd.GeoSeries([Polygon(zip(lon, lat, strict=True))], crs=4326)
    assert_geoseries_equal(frame.geometry, expected, check_less_precise=True)


def test_a_file_in_another_crs_than_declared_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "f.gpkg",
        {"id": ["a"]},
        [box(500_000, 2_490_000, 500_010, 2_490_010)],
        crs=METRIC,
    )
    with pytest.raises(CRSError, match=r"EPSG:4547 but they were declared as"):
        read_footprints(path, crs="wgs84")


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet"])
def test_formats_and_projected_crs(tmp_path: Path, suffix: str) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"]},
        geometry=[box(500_000, 2_490_000, 500_010, 2_490_010), M],
        crs=METRIC,
    )
    path = tmp_path / f"f{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    layer = read_footprints(path, crs=METRIC)
    assert layer.frame["footprint_id"].tolist() == ["a", "b"]
    assert layer.frame.crs.to_epsg() == 4326
    # a GeoPackage layer holds one type: its polygons come back as one-part MultiPolygons
    assert layer.frame.geom_type.iloc[1] == "MultiPolygon"
    back = layer.frame.geometry.to_crs(METRIC)
    assert back.symmetric_difference(frame.geometry).area.max() < 1e-6


# --- the real data -----------------------------------------------------------------------------


def test_shenzhen_every_building_matches_its_footprint_by_id() -> None:
    households = read_households(SHENZHEN / "households.geojson", crs="wgs84")
    layer = read_footprints(SHENZHEN / "buildings.geojson", crs="wgs84")
    assert len(layer.frame) == 3456
    assert [p.message for p in layer.report.problems] == ["3 invalid footprint(s) repaired"]
    match = match_footprints(households.buildings, layer.frame, metric_crs=households.metric_crs)
    assert (match.buildings_matched, match.buildings_unmatched) == (3456, 0)
    assert match.method == "id"
    assert match.footprints_without_households == 0
    np.testing.assert_array_equal(
        match.footprint_id[match.footprint_of_building], households.buildings["building_id"]
    )
    # each point lies inside the footprint with its id
    assert np.nanmax(match.distance_m) == 0.0
    assert match.report.problems == ()


def test_haidian_osm_footprints_match_by_position() -> None:
    """109 household points, 257 OSM footprints (src_id: way/…), no shared id: each point is
    in exactly one footprint, and it is the one of the point's own OSM way."""
    households = read_households(HAIDIAN / "households.geojson", crs="wgs84")
    layer = read_footprints(HAIDIAN / "buildings.geojson", crs="wgs84")
    assert len(layer.frame) == 257
    match = match_footprints(households.buildings, layer.frame, metric_crs=households.metric_crs)
    assert (match.buildings_matched, match.buildings_unmatched) == (109, 0)
    assert match.method == "containment"
    assert match.footprints_without_households == 148
    assert np.nanmax(match.distance_m) == 0.0
    way = households.rows.groupby("_building_index")["src_id"].first().sort_index()
    np.testing.assert_array_equal(match.footprint_id[match.footprint_of_building], way)
    assert "148 of 257 footprints hold no household" in _messages(match)


def test_footprints_crossed_counts_only_a_real_part_beyond_the_border():
    """Two polygons side by side at x = 100; footprint 0 straddles the border (half each
    side), footprint 1 pokes 0.1 m over it (rounding), footprint 2 lies inside one::

        +-------+-------+
        |  [0|0]  [1|   |     0: 20 m wide, 10 m each side   1: 10.1 m wide, 0.1 m over
        | [2]   |       |
        +-------+-------+
    """
    import numpy as np
    import shapely

    from geo.footprints import footprints_crossed

    polys = np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)])
    footprints = np.array(
        [
            shapely.box(90, 50, 110, 60),
            shapely.box(89.9, 20, 100.1, 30),
            shapely.box(10, 10, 20, 20),
        ]
    )
    assert footprints_crossed(polys, footprints).tolist() == [0]
