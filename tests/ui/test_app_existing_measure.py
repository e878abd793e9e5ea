"""Existing communities measured on buildings (:mod:`ui.existing`), and the 现状社区 page's
refusals: a boundaries file it cannot read, communities it cannot rebalance.

The drawn fixture (WGS84, about 1 km a side near 121.5° E, 29.9° N)::

      +---------+----+----+
      |    a    | ab |  b |      a: x 0–2, b: x 1–3 (overlapping in x 1–2)
      | • 100   |•40 |•60 |
      +---------+----+----+  • 7 (outside both, at x 4)

a holds 100 + 40 (the overlap counts in a, first in the layer) = 140 households, b holds 60;
7 households are in no community.
"""

from __future__ import annotations

import dataclasses
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely
from app_support import metrics, new_app, open_page, texts

from planning.params import ProposeParams
from ui import loading, state
from ui.existing import existing_plan_layers, measure_existing

X0, Y0, STEP = 121.5, 29.9, 0.01


def _square(x0: float, x1: float):
    return shapely.box(X0 + x0 * STEP, Y0, X0 + x1 * STEP, Y0 + STEP)


def _fixture():
    communities = gpd.GeoDataFrame(
        {"community_id": ["a", "b"], "name": ["甲社区", "乙社区"]},
        geometry=[_square(0, 2), _square(1, 3)],
        crs="EPSG:4326",
    )
    xs = (0.5, 1.5, 2.5, 4.0)
    buildings = gpd.GeoDataFrame(
        {"building_id": ["p", "q", "r", "s"], "households": [100, 40, 60, 7]},
        geometry=[shapely.Point(X0 + x * STEP, Y0 + STEP / 2) for x in xs],
        crs="EPSG:4326",
    )
    return buildings, communities


def test_households_are_counted_in_the_first_community_containing_them():
    buildings, communities = _fixture()
    measured = measure_existing(buildings, communities, band=(50, 120))
    table = measured.communities
    assert table["households"].tolist() == [140, 60]
    assert table["buildings"].tolist() == [2, 1]
    assert table["status"].tolist() == ["above", "in band"]
    assert measured.out_of_band == 1
    assert measured.households_outside == 7 and measured.buildings_outside == 1
    assert measured.households_in_overlaps == 40
    community = measured.buildings["community_id"]
    assert community.tolist()[:3] == ["a", "a", "b"] and community.isna().tolist()[3]


def test_the_existing_communities_as_a_plan_have_no_grids():
    buildings, communities = _fixture()
    measured = measure_existing(buildings, communities, band=(50, 120))
    layers = existing_plan_layers(measured, metric_crs="EPSG:32651", params=ProposeParams())
    assert layers.grids is None
    assert layers.buildings["grid_id"].isna().all()
    assert layers.buildings["building_id"].tolist() == ["p", "q", "r", "s"]


def _with_communities(path) -> state.DataSource:
    files = loading.sample_files(10_000, 0)
    source = loading.source_for_path(files["households"], crs="gcj02")
    return dataclasses.replace(source, layers=(("communities", loading.file_ref(path)),))


def test_a_boundaries_file_of_points_is_refused_in_chinese(tmp_path):
    path = tmp_path / "点.geojson"
    frame = gpd.GeoDataFrame(
        {"community_id": ["a"]}, geometry=[shapely.Point(X0, Y0)], crs="EPSG:4326"
    )
    frame.to_file(path, driver="GeoJSON")
    at = new_app(**{state.SOURCE_KEY: _with_communities(path)}).run()
    open_page(at, "existing")
    assert not at.exception, at.exception
    assert any("现状社区边界（点.geojson）未能读取" in e for e in texts(at.error))
    assert len(at.error) >= 2  # the headline and the library's problems
    assert "现状社区数" not in metrics(at)


def test_communities_away_from_the_households_cannot_be_rebalanced(tmp_path):
    """Boundaries of another place: every existing community is empty, and rebalancing says
    why instead of failing."""
    path = tmp_path / "别处.geojson"
    far = gpd.GeoDataFrame(
        {"community_id": ["z1"], "name": ["远处社区"]},
        geometry=[shapely.box(100.0, 20.0, 100.01, 20.01)],
        crs="EPSG:4326",
    )
    far.to_file(path, driver="GeoJSON")
    at = new_app(**{state.SOURCE_KEY: _with_communities(path)}).run()
    open_page(at, "existing")
    assert not at.exception, at.exception
    assert metrics(at)["不在任何社区内的户数"] == "10,000"
    at.button(key="existing_rebalance").click().run()
    assert not at.exception, at.exception
    assert any(e.startswith("现状社区无法调整") for e in texts(at.error))


def _shapefile(tmp_path) -> Path:
    """The sample's communities as a zipped Shapefile: its DBF cuts ``community_id`` to
    ``community_`` (ten characters), a name no reader knows."""
    files = loading.sample_files(10_000, 0)
    frame = gpd.read_file(files["communities"])
    folder = tmp_path / "shp"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the field name is truncated, as in real files
        frame.to_file(folder / "现状社区.shp", encoding="utf-8")
    path = tmp_path / "现状社区.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    return path


def test_a_shapefile_with_a_cut_id_column_warns_and_can_be_named(tmp_path):
    path = _shapefile(tmp_path)
    source = _with_communities(path)
    at = new_app(**{state.SOURCE_KEY: source}).run()
    open_page(at, "existing")
    assert not at.exception, at.exception
    assert any("C001" in w for w in texts(at.warning))  # numbered, and said so
    named = dataclasses.replace(
        source, layer_columns=(("communities", (("community_id", "community_"),)),)
    )
    at.session_state[state.SOURCE_KEY] = named
    at.run()
    assert not at.exception, at.exception
    assert not any("C001" in w for w in texts(at.warning))
    table = at.dataframe[0].value
    table = table.data if hasattr(table, "data") else table
    assert table["社区代码"].tolist()[0] == "330203001001"
    assert table["名称"].tolist()[0] == "康桥社区"
