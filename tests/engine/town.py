"""A fixture town for the pieces and the parallel runs: a grid of buildings of 10–40
households, 40 m apart, with residential roads every 400 m (nothing cuts it into 街道)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

METRIC = pyproj.CRS("EPSG:4547")  # CGCS2000 3-degree GK zone, central meridian 114°E


def town(columns: int, rows: int, *, seed: int = 0):
    """(buildings in WGS84, residential roads in WGS84) of the fixture town."""
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 2_490_000.0
    gx, gy = np.meshgrid(np.arange(columns) * 40.0, np.arange(rows) * 40.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-8, 8, (columns * rows, 2))
    to_wgs84 = pyproj.Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(xy[:, 0] + x0, xy[:, 1] + y0)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:05d}" for i in range(len(xy))],
            "households": rng.integers(10, 41, len(xy)),
            "compound": [None] * len(xy),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    width, height = columns * 40.0, rows * 40.0
    lines = [
        shapely.LineString([(x0 + x, y0 - 50), (x0 + x, y0 + height)])
        for x in np.arange(380.0, width, 400.0)
    ]
    lines += [
        shapely.LineString([(x0 - 50, y0 + y), (x0 + width, y0 + y)])
        for y in np.arange(380.0, height, 400.0)
    ]
    roads = gpd.GeoDataFrame(
        {"kind": ["road"] * len(lines), "road_class": ["residential"] * len(lines)},
        geometry=lines,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    return buildings, roads
