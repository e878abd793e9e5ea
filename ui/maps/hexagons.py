"""Buildings binned into hexagons laid out in metres: cells coloured by households (the data
map), or one point per hexagon and community (a plan map with many buildings)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.crs import metric_crs_for
from ui.maps.display import require_wgs84

__all__ = ["PLAN_TARGET_CELLS", "TARGET_CELLS", "aggregate_buildings", "hexagon_cells"]

#: About how many hexagons cover the buildings' bounding box.
TARGET_CELLS = 1_500
#: About how many hexagons cover the district when a plan's buildings are aggregated.
PLAN_TARGET_CELLS = 2_500
#: Hexagon sizes (centre to corner, metres) the cell size is rounded up to, for a legible legend.
_NICE_SIZES_M = (50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000)


def _axial(x: np.ndarray, y: np.ndarray, size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial (q, r) of the pointy-top hexagon of ``size_m`` holding each point (metres),
    rounded through cube coordinates (redblobgames' hexagon grids)."""
    q = (math.sqrt(3) / 3 * x - y / 3) / size_m
    r = (2 / 3 * y) / size_m
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def _metric_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    metric = metric_crs_for(lon, lat)
    to_metric = pyproj.Transformer.from_crs(4326, metric, always_xy=True)
    x, y = (np.asarray(v) for v in to_metric.transform(lon, lat))
    return x, y


def _auto_size(x: np.ndarray, y: np.ndarray, target_cells: int) -> int:
    area_m2 = max((x.max() - x.min()) * (y.max() - y.min()), 1.0)
    return _nice_size(math.sqrt(area_m2 / target_cells / (1.5 * math.sqrt(3))))


def _nice_size(raw_m: float) -> int:
    for size in _NICE_SIZES_M:
        if size >= raw_m:
            return size
    return _NICE_SIZES_M[-1]


def hexagon_cells(
    buildings: gpd.GeoDataFrame, *, size_m: float | None = None, target_cells: int = TARGET_CELLS
) -> tuple[gpd.GeoDataFrame, float]:
    """Bin buildings into pointy-top hexagons laid out in the data's metric CRS.

    Parameters
    ----------
    buildings : GeoDataFrame
        WGS84 points with a ``households`` column (as ``Households.buildings``).
    size_m : float, optional
        Hexagon size (centre to corner) in metres; by default the smallest of a few round sizes
        that covers the bounding box with at most about ``target_cells`` hexagons.

    Returns
    -------
    (cells, size_m)
        ``cells``: one row per occupied hexagon, WGS84 polygons, with ``households`` and
        ``buildings`` (counts); ``size_m``: the hexagon size used.
    """
    require_wgs84(buildings, "hexagon_cells")
    lon = buildings.geometry.x.to_numpy()
    lat = buildings.geometry.y.to_numpy()
    metric = metric_crs_for(lon, lat)
    to_metric = pyproj.Transformer.from_crs(4326, metric, always_xy=True)
    x, y = (np.asarray(v) for v in to_metric.transform(lon, lat))
    if size_m is None:
        size_m = _auto_size(x, y, target_cells)
    rq, rr = _axial(x, y, size_m)
    frame = pd.DataFrame(
        {
            "q": rq,
            "r": rr,
            "households": buildings["households"].to_numpy(dtype=np.int64),
        }
    )
    cells = (
        frame.groupby(["q", "r"], sort=True)
        .agg(households=("households", "sum"), buildings=("households", "size"))
        .reset_index()
    )
    cx = size_m * math.sqrt(3) * (cells["q"].to_numpy() + cells["r"].to_numpy() / 2)
    cy = size_m * 1.5 * cells["r"].to_numpy()
    angles = np.deg2rad(30 + 60 * np.arange(7))  # closed ring
    ring_x = cx[:, None] + size_m * np.cos(angles)[None, :]
    ring_y = cy[:, None] + size_m * np.sin(angles)[None, :]
    to_wgs = pyproj.Transformer.from_crs(metric, 4326, always_xy=True)
    ring_lon, ring_lat = to_wgs.transform(ring_x, ring_y)
    coords = np.stack([np.asarray(ring_lon), np.asarray(ring_lat)], axis=-1)
    polygons = shapely.polygons(coords)
    out = gpd.GeoDataFrame(
        cells[["households", "buildings"]].reset_index(drop=True),
        geometry=polygons,
        crs="EPSG:4326",
    )
    return out, float(size_m)


def aggregate_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    by: str = "community_id",
    size_m: float | None = None,
    target_cells: int = PLAN_TARGET_CELLS,
) -> tuple[gpd.GeoDataFrame, float]:
    """Buildings gathered per hexagon and ``by`` value: one point per group at the
    households-weighted centre.

    Returns
    -------
    (points, size_m)
        WGS84 points with ``households``, ``buildings`` (counts) and ``by``; the hexagon size.
    """
    require_wgs84(buildings, "aggregate_buildings")
    lon = buildings.geometry.x.to_numpy()
    lat = buildings.geometry.y.to_numpy()
    x, y = _metric_xy(lon, lat)
    size_m = size_m or _auto_size(x, y, target_cells)
    q, r = _axial(x, y, size_m)
    households = buildings["households"].to_numpy(dtype=float)
    weight = np.maximum(households, 1e-6)
    frame = pd.DataFrame(
        {
            "q": q,
            "r": r,
            "key": buildings[by].astype(str).to_numpy() if by in buildings else "",
            "households": households,
            "w": weight,
            "wx": lon * weight,
            "wy": lat * weight,
        }
    )
    groups = (
        frame.groupby(["key", "q", "r"], sort=True)
        .agg(
            households=("households", "sum"),
            buildings=("households", "size"),
            w=("w", "sum"),
            wx=("wx", "sum"),
            wy=("wy", "sum"),
        )
        .reset_index()
    )
    points = gpd.GeoDataFrame(
        {
            by: groups["key"].to_numpy(dtype=object),
            "households": groups["households"].round().astype(np.int64).to_numpy(),
            "buildings": groups["buildings"].astype(np.int64).to_numpy(),
        },
        geometry=gpd.points_from_xy(groups["wx"] / groups["w"], groups["wy"] / groups["w"]),
        crs="EPSG:4326",
    )
    return points, float(size_m)
