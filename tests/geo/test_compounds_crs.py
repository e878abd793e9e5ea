"""``--compounds`` is read in the declared CRS: on the built-in sample (GCJ-02), compound polygons
drawn round each 小区's buildings give every building its own 小区 back.

Read as if WGS84 (the old reading), the polygons lie ~500 m off and most buildings would take
another compound or none.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning.runs import read_layers
from samples.district import write_sample


@pytest.mark.slow
def test_compound_polygons_in_gcj02_name_the_buildings_they_hold(tmp_path: Path) -> None:
    files = write_sample(tmp_path / "s", households=5_000)
    table = pd.read_csv(files["households"], dtype=str, encoding="utf-8-sig")
    names = table["小区名称"]
    points = shapely.points(table["经度"].astype(float), table["纬度"].astype(float))
    named = names.notna().to_numpy()
    hulls = (
        gpd.GeoDataFrame({"name": names[named]}, geometry=points[named])
        .dissolve(by="name")
        .convex_hull.buffer(2e-5)
    )
    # keep compounds whose hull overlaps no other: each building then has one answer
    tree = shapely.STRtree(np.array(hulls.array))
    left = tree.query(np.array(hulls.array), predicate="intersects")[0]
    alone = np.bincount(left, minlength=len(hulls)) == 1
    compounds = gpd.GeoDataFrame(
        {"name": hulls.index[alone]}, geometry=hulls.array[alone], crs=4326
    )
    assert len(compounds) >= 10
    compounds.to_file(tmp_path / "compounds.geojson")
    table.drop(columns=["小区名称"]).to_csv(tmp_path / "h.csv", index=False, encoding="utf-8-sig")

    layers = read_layers(
        tmp_path / "h.csv", crs="gcj02", compounds_path=tmp_path / "compounds.geojson"
    )

    expected = dict(zip(table["楼栋编号"], names, strict=True))
    buildings = layers.buildings
    inside = buildings["building_id"].map(expected).isin(set(compounds["name"]))
    assert inside.sum() >= 50
    got = buildings.loc[inside, "compound"].tolist()
    want = buildings.loc[inside, "building_id"].map(expected).tolist()
    assert got == want
