"""Where things are drawn: the Amap shift (WGS84 ↔ GCJ-02), the view that shows a place, and
the zooms at which labels fit.

Every layer is held in WGS84. Amap tiles are in GCJ-02, so on ``"amap"`` every geometry is
shifted before drawing (or it lands some 500 m off), and a drawing is shifted back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.crs import gcj02_to_wgs84, metric_crs_for, wgs84_to_gcj02
from geo.errors import CRSError

__all__ = [
    "display_bounds",
    "displayed",
    "fit_to",
    "from_display",
    "label_zooms",
    "require_wgs84",
    "to_display",
    "view_for",
]


def _gcj02_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])


def require_wgs84(gdf: gpd.GeoDataFrame, what: str) -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in WGS84 (``what`` names the caller)."""
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise CRSError(
            f"{what}: the map draws layers held in WGS84 (EPSG:4326); found "
            f"{gdf.crs.to_string() if gdf.crs is not None else 'no CRS'}. fix: pass the frame "
            "as read by geo.intake / geo.layers (they hold every layer in WGS84)."
        )


def to_display(gdf: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    """The geometries as they must be drawn on ``basemap``.

    Amap tiles are in GCJ-02, so on ``"amap"`` every vertex is shifted WGS84 → GCJ-02 (a new
    frame; still labelled EPSG:4326, because it is only for drawing). On any other basemap the
    frame is returned as it is.

    Raises
    ------
    CRSError
        When ``gdf`` is not in WGS84.
    """
    require_wgs84(gdf, "to_display")
    if basemap != "amap":
        return gdf
    shifted = shapely.transform(np.asarray(gdf.geometry.array), _gcj02_coords)
    return gdf.set_geometry(gpd.GeoSeries(shifted, index=gdf.index, crs=gdf.crs))


def displayed(
    layers: dict[str, gpd.GeoDataFrame | None], basemap: str
) -> dict[str, gpd.GeoDataFrame]:
    """The layers that have features, in the basemap's coordinates."""
    return {
        name: to_display(gdf, basemap)
        for name, gdf in layers.items()
        if gdf is not None and not gdf.empty
    }


def from_display(geometry: shapely.Geometry, basemap: str) -> shapely.Geometry:
    """A geometry drawn or clicked on ``basemap`` back in WGS84 (Amap draws in GCJ-02)."""
    if basemap != "amap":
        return geometry

    def to_wgs(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])

    return shapely.transform(geometry, to_wgs)


def display_bounds(bounds: Sequence[float], basemap: str) -> tuple[float, float, float, float]:
    """WGS84 ``bounds`` (west, south, east, north) where they are drawn on ``basemap``."""
    if basemap != "amap":
        return tuple(float(v) for v in bounds)
    lon, lat = wgs84_to_gcj02(np.array([bounds[0], bounds[2]]), np.array([bounds[1], bounds[3]]))
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))


def view_for(
    bounds: Sequence[float], *, width_px: int = 900, height_px: int = 640, max_zoom: int = 18
) -> tuple[tuple[float, float], int]:
    """``((lat, lon), zoom)`` that shows WGS84 ``bounds`` (west, south, east, north) whole."""
    west, south, east, north = (float(v) for v in bounds)

    def merc_y(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(east - west, 1e-6) / 360.0
    lat_span = max(merc_y(north) - merc_y(south), 1e-6) / (2 * math.pi)
    zoom_x = math.log2(width_px / 256 / lon_span)
    zoom_y = math.log2(height_px / 256 / lat_span)
    zoom = int(max(3, min(max_zoom, math.floor(min(zoom_x, zoom_y) - 0.3))))
    return ((south + north) / 2, (west + east) / 2), zoom


def fit_to(fmap: folium.Map, frames: Sequence[gpd.GeoDataFrame]) -> None:
    """Fit the map to the bounds of the ``frames`` that have features (the others are
    skipped; with none, the map keeps its view)."""
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return
    bounds = np.array([f.total_bounds for f in frames])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])


def label_zooms(communities: gpd.GeoDataFrame) -> dict[str, int]:
    """Zooms at which a typical community is wide enough for its full label (~70 px) and for
    its id (~40 px)."""
    if communities.empty:
        return {"full": 0, "ids": 0}
    west, south, east, north = communities.total_bounds
    lon = np.array([west, east])
    lat = np.array([south, north])
    metric = communities.to_crs(metric_crs_for(lon, lat))
    width_m = max(math.sqrt(float(np.median(metric.geometry.area))), 1.0)
    metres_per_px_z0 = 156_543.03 * math.cos(math.radians((south + north) / 2))
    return {
        "full": math.ceil(math.log2(70 * metres_per_px_z0 / width_m)),
        "ids": math.ceil(math.log2(40 * metres_per_px_z0 / width_m)),
    }
