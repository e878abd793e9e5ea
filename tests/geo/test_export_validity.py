"""Every polygon written is valid: GeoJSON after rounding to 7 decimals, GeoPackage and Shapefile.

The fixture that rounding breaks is a U whose notch is 6e-8 degrees wide (about 7 mm)::

    2 ┌──────┐ ┌──────┐      the notch runs from y = 1 up to y = 2 between
      │      │ │      │      x = 1 - 3e-8 and x = 1 + 3e-8: both round to x = 1,
    1 │      └─┘      │      and the ring then runs back over itself (invalid)
      │               │
    0 └───────────────┘
      0       1       2      (offset to 121°E 29°N)
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon, shape

from geo.export import write_geojson, write_geopackage, write_shapefile_zip
from planning.runs import run_propose
from samples.district import write_sample

X0, Y0 = 121.0, 29.0
U = Polygon(
    [
        (X0, Y0),
        (X0 + 2, Y0),
        (X0 + 2, Y0 + 2),
        (X0 + 1 + 3e-8, Y0 + 2),
        (X0 + 1 + 3e-8, Y0 + 1),
        (X0 + 1 - 3e-8, Y0 + 1),
        (X0 + 1 - 3e-8, Y0 + 2),
        (X0, Y0 + 2),
    ]
)
#: A ring crossing itself at its middle, as an engine might hand over by mistake.
BOWTIE = Polygon([(X0, Y0), (X0 + 1, Y0 + 1), (X0 + 1, Y0), (X0, Y0 + 1)])


def _geojson_polygons(path: Path) -> list:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [
        shape(f["geometry"])
        for f in features
        if f["geometry"] is not None and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    ]


def _invalid(geometries) -> list[str]:
    geometries = np.asarray(list(geometries), dtype=object)
    bad = ~shapely.is_valid(geometries)
    return list(shapely.is_valid_reason(geometries[bad]))


def test_the_fixture_is_valid_until_rounded() -> None:
    assert U.is_valid
    rounded = shapely.transform(U, lambda xy: np.round(xy, 7))
    assert not rounded.is_valid


def test_geojson_repairs_a_polygon_rounding_breaks(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"name": ["u"]}, geometry=[U], crs=4326)
    path = write_geojson(frame, tmp_path / "u.geojson")
    polygons = _geojson_polygons(path)
    assert _invalid(polygons) == []
    assert polygons[0].area == pytest.approx(U.area, abs=1e-6)  # the 7 mm notch closes
    assert frame.geometry.iloc[0].equals(U), "the writer changed its input"


def test_geojson_repairs_an_invalid_polygon_and_keeps_valid_ones_as_rounded(tmp_path: Path) -> None:
    square = shapely.box(X0 + 3.123456789, Y0, X0 + 4, Y0 + 1)
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[BOWTIE, square], crs=4326)
    polygons = _geojson_polygons(write_geojson(frame, tmp_path / "b.geojson"))
    assert _invalid(polygons) == []
    assert polygons[0].area == pytest.approx(BOWTIE.buffer(0).area + 0.25, rel=1e-6)
    assert polygons[1].bounds[0] == round(X0 + 3.123456789, 7)


def test_geojson_repairs_a_collection_and_keeps_its_line(tmp_path: Path) -> None:
    line = shapely.LineString([(X0, Y0), (X0 + 2, Y0 + 2)])
    frame = gpd.GeoDataFrame(
        {"id": [1]}, geometry=[shapely.GeometryCollection([BOWTIE, line])], crs=4326
    )
    path = write_geojson(frame, tmp_path / "c.geojson")
    (feature,) = json.loads(path.read_text(encoding="utf-8"))["features"]
    written = shape(feature["geometry"])
    assert written.is_valid
    assert sorted(g.geom_type for g in written.geoms) == ["LineString", "MultiPolygon"]


@pytest.mark.parametrize("crs", ["cgcs2000", "zone"])
def test_geopackage_holds_no_invalid_polygon(tmp_path: Path, crs: str) -> None:
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[BOWTIE, U], crs=4326)
    path = write_geopackage(frame, tmp_path / "p.gpkg", layer="communities", crs=crs)
    written = gpd.read_file(path, layer="communities")
    assert _invalid(written.geometry) == []
    assert written.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_shapefile_holds_no_invalid_polygon(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[BOWTIE, U], crs=4326)
    written = write_shapefile_zip(frame, tmp_path / "p.zip")
    with zipfile.ZipFile(written.path) as archive:
        assert "p.shp" in archive.namelist()
    geometry = pyogrio.read_dataframe(f"/vsizip/{written.path}/p.shp").geometry
    assert _invalid(geometry) == []


@pytest.mark.slow
def test_every_geojson_propose_writes_on_the_sample_is_valid(tmp_path: Path) -> None:
    """The built-in sample (80,000 households, GCJ-02): before the repair, 2 of 32 communities
    and 3 of 309 grids in the files were invalid after rounding."""
    files = write_sample(tmp_path / "sample")
    out = tmp_path / "plan"
    run_propose(
        files["households"],
        crs="gcj02",
        out_dir=out,
        subdistricts_path=files["streets"],
        barriers_path=files["barriers"],
    )
    written = sorted(out.glob("*.geojson"))
    assert {p.name for p in written} >= {"communities.geojson", "grids.geojson"}
    for path in written:
        polygons = _geojson_polygons(path)
        assert _invalid(polygons) == [], path.name
