"""Coordinate reference systems: declared source CRSs, the Chinese offset systems, metric CRSs.

Household points from Amap or Tencent are in GCJ-02, from Baidu in BD-09; both are lon/lat
shifted by an obfuscating formula (a few hundred metres in Chinese cities). Bureaus deliver in
CGCS2000 (EPSG:4490) or one of its 3-degree Gauss-Krüger zones. This module turns any declared
source into WGS84 lon/lat (EPSG:4326) and picks the one metric CRS a dataset is worked in.

The GCJ-02 forward transform is the standard public algorithm (Krasovsky ellipsoid); its
inverse has no closed form, so :func:`gcj02_to_wgs84` and :func:`bd09_to_wgs84` solve the
forward transform by fixed-point iteration to well under a centimetre.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import geopandas
import numpy as np
import pyproj
import shapely
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from geo.errors import CRSError, GeometryError
from geo.records import GeoMessage

__all__ = [
    "CGCS2000_EPSG",
    "WGS84_EPSG",
    "SourceCRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cgcs2000_zone_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometry_to_wgs84",
    "in_china",
    "metric_crs_for",
    "parse_crs",
    "to_wgs84_xy",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

WGS84_EPSG = 4326
CGCS2000_EPSG = 4490

# GCJ-02: Krasovsky 1940 ellipsoid as used by the public algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# BD-09 rotation constant.
_X_PI = math.pi * 3000.0 / 180.0
# The rough box the GCJ algorithm treats as China (outside it the offset is zero).
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# CGCS2000 3-degree Gauss-Krüger zones: 25 (CM 75E) .. 45 (CM 135E).
_GK_ZONES = (25, 45)
_GK_FIRST_EPSG = 4534  # CM 75E, zone number not in the easting
_GK_FIRST_EPSG_PREFIXED = 4513  # zone 25, zone number prefixed to the easting

# Inverse iteration: stop when no coordinate moves more than this (degrees), or after this many.
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30

_ACCEPTED_FORMS = GeoMessage.of("crs.word.accepted_forms")
_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs_84": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj_02": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd_09": "bd09",
    "cgcs2000": f"epsg:{CGCS2000_EPSG}",
}

ArrayPair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SourceCRS:
    """The CRS a user declared for their coordinates.

    Attributes
    ----------
    key : str
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"epsg:NNNN"``.
    crs : pyproj.CRS
        The CRS of the coordinates as stored: EPSG:4326 for wgs84, gcj02 and bd09 (the offset
        systems are lon/lat numbers that need shifting, not a CRS pyproj knows).
    is_offset : bool
        True for gcj02 and bd09: every vertex must be shifted to reach WGS84.
    is_geographic : bool
        True when the coordinates are lon/lat degrees.
    label : str
        A human name for messages, e.g. ``"GCJ-02 (Amap/Tencent)"``.
    """

    key: str
    crs: pyproj.CRS
    is_offset: bool
    is_geographic: bool
    label: str


def parse_crs(declared: str | int | SourceCRS) -> SourceCRS:
    """Turn a declared CRS into a :class:`SourceCRS`.

    Parameters
    ----------
    declared : str | int | SourceCRS
        Case-insensitive: ``"wgs84"``, ``"epsg:4326"``, ``"4326"``, ``"gcj02"``/``"gcj-02"``,
        ``"bd09"``/``"bd-09"``, ``"cgcs2000"`` (EPSG:4490), or any horizontal EPSG CRS as
        ``"EPSG:4547"``, ``"4547"`` or ``4547`` (geographic or projected). A ``SourceCRS`` is
        returned unchanged.

    Returns
    -------
    SourceCRS

    Raises
    ------
    CRSError
        For anything else, naming what was received and the accepted forms.
    """
    if isinstance(declared, SourceCRS):
        return declared
    if isinstance(declared, bool) or not isinstance(declared, (str, int, np.integer)):
        raise CRSError(
            GeoMessage.of(
                "crs.errors.not_a_declaration",
                declared=repr(declared),
                kind=type(declared).__name__,
                forms=_ACCEPTED_FORMS,
            )
        )
    if isinstance(declared, str):
        text = "".join(declared.split()).lower()
        text = _ALIASES.get(text, text)
        if text in ("wgs84", "gcj02", "bd09"):
            return _lonlat_source(text)
        digits = text.removeprefix("epsg:")
        if not digits.isdigit():
            raise CRSError(
                GeoMessage.of(
                    "crs.errors.not_recognised", declared=repr(declared), forms=_ACCEPTED_FORMS
                )
            )
        code = int(digits)
    else:
        code = int(declared)
    return _epsg_source(code, declared)


def _lonlat_source(key: str) -> SourceCRS:
    labels = {
        "wgs84": "WGS84 (EPSG:4326)",
        "gcj02": "GCJ-02 (Amap/Tencent)",
        "bd09": "BD-09 (Baidu)",
    }
    return SourceCRS(
        key=key,
        crs=pyproj.CRS.from_epsg(WGS84_EPSG),
        is_offset=key != "wgs84",
        is_geographic=True,
        label=labels[key],
    )


def _epsg_source(code: int, declared: object) -> SourceCRS:
    if code == WGS84_EPSG:
        return _lonlat_source("wgs84")
    try:
        crs = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError as err:
        raise CRSError(
            GeoMessage.of(
                "crs.errors.unknown_epsg", declared=repr(declared), epsg=code, forms=_ACCEPTED_FORMS
            )
        ) from err
    if not (crs.is_geographic or crs.is_projected):
        raise CRSError(
            GeoMessage.of(
                "crs.errors.not_horizontal",
                declared=repr(declared),
                epsg=code,
                name=crs.name,
                type_name=crs.type_name,
            )
        )
    return SourceCRS(
        key=f"epsg:{code}",
        crs=crs,
        is_offset=False,
        is_geographic=crs.is_geographic,
        label=f"EPSG:{code} ({crs.name})",
    )


# ---------------------------------------------------------------------------------------------
# GCJ-02 / BD-09 transforms (numpy-vectorised)


def _as_arrays(lon, lat) -> ArrayPair:
    lon_arr, lat_arr = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_arr.copy(), lat_arr.copy()


def _out(values: np.ndarray):
    # 0-d arrays come back as numpy scalars; everything else as arrays.
    return values[()] if values.ndim == 0 else values


def in_china(lon, lat) -> np.ndarray:
    """Whether points fall in the rough box the GCJ-02 algorithm treats as China.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    numpy.ndarray of bool
        True inside lon 72.004–137.8347, lat 0.8293–55.8271; NaN is outside. A numpy bool
        for scalar input.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    inside = (
        (lon_arr >= _CHINA_LON[0])
        & (lon_arr <= _CHINA_LON[1])
        & (lat_arr >= _CHINA_LAT[0])
        & (lat_arr <= _CHINA_LAT[1])
    )
    return _out(inside)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """The (dlon, dlat) GCJ-02 adds at WGS84 (lon, lat); zero outside China."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat):
    """Shift WGS84 lon/lat to GCJ-02 (the Amap/Tencent system).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 lon, lat. Points outside China (:func:`in_china`) are returned unchanged.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_arr, lat_arr)
    return _out(lon_arr + dlon), _out(lat_arr + dlat)


def gcj02_to_bd09(lon, lat):
    """Shift GCJ-02 lon/lat to BD-09 (the Baidu system).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        BD-09 lon, lat.
    """
    out_lon, out_lat = _forward_bd(*_as_arrays(lon, lat))
    return _out(out_lon), _out(out_lat)


def _bd09_to_gcj02_closed(x: np.ndarray, y: np.ndarray) -> ArrayPair:
    """The usual closed-form approximate inverse of :func:`gcj02_to_bd09` (~1e-6 deg)."""
    x = x - 0.0065
    y = y - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], ArrayPair],
    target_lon: np.ndarray,
    target_lat: np.ndarray,
    start_lon: np.ndarray,
    start_lat: np.ndarray,
) -> ArrayPair:
    """Solve ``forward(lon, lat) == target`` by fixed-point iteration from a start guess.

    Each step moves the guess by the residual: ``guess -= forward(guess) - target``. The
    forward transforms are near-translations (Jacobian close to the identity), so this
    converges geometrically; it stops when no finite coordinate moves more than
    ``_INVERSE_TOLERANCE_DEG`` or after ``_INVERSE_MAX_ITERATIONS`` steps.
    """
    lon, lat = start_lon.copy(), start_lat.copy()
    finite = np.isfinite(target_lon) & np.isfinite(target_lat)
    if not finite.any():
        return lon, lat
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(lon, lat)
        step_lon = fwd_lon - target_lon
        step_lat = fwd_lat - target_lat
        lon = lon - step_lon
        lat = lat - step_lat
        moved = max(np.abs(step_lon[finite]).max(), np.abs(step_lat[finite]).max())
        if moved < _INVERSE_TOLERANCE_DEG:
            break
    return lon, lat


def _forward_gcj(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _forward_bd(x: np.ndarray, y: np.ndarray) -> ArrayPair:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _forward_wgs_to_bd(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    return _forward_bd(*_forward_gcj(lon, lat))


def _gcj02_to_wgs84_arrays(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_forward_gcj, lon, lat, lon - dlon, lat - dlat)


def _bd09_to_gcj02_arrays(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    start_lon, start_lat = _bd09_to_gcj02_closed(lon, lat)
    return _invert(_forward_bd, lon, lat, start_lon, start_lat)


def _bd09_to_wgs84_arrays(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    return _gcj02_to_wgs84_arrays(*_bd09_to_gcj02_arrays(lon, lat))


def gcj02_to_wgs84(lon, lat):
    """Shift GCJ-02 lon/lat back to WGS84 (iterative inverse of :func:`wgs84_to_gcj02`).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 lon, lat; the forward transform of the result reproduces the input to about
        1e-9 degrees (about 0.1 mm). Points outside China are returned unchanged.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    out_lon, out_lat = _gcj02_to_wgs84_arrays(lon_arr, lat_arr)
    return _out(out_lon), _out(out_lat)


def bd09_to_gcj02(lon, lat):
    """Shift BD-09 lon/lat back to GCJ-02 (iterative inverse of :func:`gcj02_to_bd09`).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 lon, lat.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    out_lon, out_lat = _bd09_to_gcj02_arrays(lon_arr, lat_arr)
    return _out(out_lon), _out(out_lat)


def wgs84_to_bd09(lon, lat):
    """Shift WGS84 lon/lat to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        BD-09 lon, lat.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    out_lon, out_lat = _forward_wgs_to_bd(lon_arr, lat_arr)
    return _out(out_lon), _out(out_lat)


def bd09_to_wgs84(lon, lat):
    """Shift BD-09 lon/lat back to WGS84 (iterative inverse of :func:`wgs84_to_bd09`).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 lon, lat.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    out_lon, out_lat = _bd09_to_wgs84_arrays(lon_arr, lat_arr)
    return _out(out_lon), _out(out_lat)


# ---------------------------------------------------------------------------------------------
# Any declared source to WGS84


def _offset_to_wgs84(source: SourceCRS) -> Callable[[np.ndarray, np.ndarray], ArrayPair]:
    return _gcj02_to_wgs84_arrays if source.key == "gcj02" else _bd09_to_wgs84_arrays


def to_wgs84_xy(x, y, source: SourceCRS | str | int):
    """Convert coordinates stored in a declared CRS to WGS84 lon/lat.

    Parameters
    ----------
    x, y : array_like
        Coordinates as stored: lon/lat for wgs84, gcj02, bd09 and geographic EPSG CRSs
        (always x = longitude), easting/northing for projected ones.
    source : SourceCRS | str | int
        The declared CRS (anything :func:`parse_crs` accepts).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 lon, lat.
    """
    source = parse_crs(source)
    x_arr, y_arr = _as_arrays(x, y)
    if source.key == "wgs84":
        return _out(x_arr), _out(y_arr)
    if source.is_offset:
        lon, lat = _offset_to_wgs84(source)(x_arr, y_arr)
        return _out(lon), _out(lat)
    transformer = pyproj.Transformer.from_crs(source.crs, WGS84_EPSG, always_xy=True)
    lon, lat = transformer.transform(x_arr, y_arr)
    return _out(np.asarray(lon, dtype=np.float64)), _out(np.asarray(lat, dtype=np.float64))


def geometry_to_wgs84(
    geoms: geopandas.GeoSeries, source: SourceCRS | str | int
) -> geopandas.GeoSeries:
    """Convert geometries stored in a declared CRS to WGS84 (EPSG:4326).

    The declared ``source`` wins over any CRS the series carries (a GeoJSON file read from
    disk always claims EPSG:4326, even when its numbers are GCJ-02 or projected); checking
    that the two agree is the caller's job.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Points, lines, polygons or multi-geometries (a plain sequence of shapely geometries is
        accepted as well).
    source : SourceCRS | str | int
        The declared CRS (anything :func:`parse_crs` accepts).

    Returns
    -------
    geopandas.GeoSeries
        A new series in EPSG:4326 with the same index and name. For GCJ-02 and BD-09 every
        vertex is shifted; Z values are kept unchanged.
    """
    source = parse_crs(source)
    if isinstance(geoms, geopandas.GeoDataFrame):
        raise TypeError("geometry_to_wgs84 takes a GeoSeries; pass gdf.geometry")
    if not isinstance(geoms, geopandas.GeoSeries):
        geoms = geopandas.GeoSeries(geoms)
    if source.is_offset:
        to_wgs84 = _offset_to_wgs84(source)

        def shift(coords: np.ndarray) -> np.ndarray:
            out = coords.copy()
            out[:, 0], out[:, 1] = to_wgs84(coords[:, 0], coords[:, 1])
            return out

        shifted = shapely.transform(np.asarray(geoms.values), shift, include_z=None)
        return geopandas.GeoSeries(shifted, index=geoms.index, name=geoms.name, crs=WGS84_EPSG)
    declared = geoms.set_crs(source.crs, allow_override=True)
    if source.key == "wgs84":
        return declared.copy()
    return declared.to_crs(WGS84_EPSG)


# ---------------------------------------------------------------------------------------------
# Metric CRS


def cgcs2000_zone_crs(lon: float, *, prefixed: bool = False) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Krüger zone CRS for a longitude.

    zone = round(lon / 3) (halves round up), clamped to the zones CGCS2000 defines (25 at
    75°E .. 45 at 135°E) for longitudes inside the China box of :func:`in_china`.

    Parameters
    ----------
    lon : float
        Longitude in degrees (WGS84 or CGCS2000).
    prefixed : bool, keyword-only
        False (default): EPSG:4534–4554 ("CM 75E" .. "CM 135E", easting 500 000 at the central
        meridian). True: EPSG:4513–4533 ("zone 25" .. "zone 45", zone number prefixed to the
        easting, e.g. 40 500 000).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When ``lon`` is not finite or lies outside the China box (72.004–137.8347°E).
    """
    lon = float(lon)
    if not (math.isfinite(lon) and _CHINA_LON[0] <= lon <= _CHINA_LON[1]):
        raise CRSError(
            GeoMessage.of(
                "crs.errors.no_zone", lon=repr(lon), west=_CHINA_LON[0], east=_CHINA_LON[1]
            )
        )
    zone = min(max(math.floor(lon / 3.0 + 0.5), _GK_ZONES[0]), _GK_ZONES[1])
    first = _GK_FIRST_EPSG_PREFIXED if prefixed else _GK_FIRST_EPSG
    return pyproj.CRS.from_epsg(first + zone - _GK_ZONES[0])


def _utm_crs(lon: float, lat: float) -> pyproj.CRS:
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    expected = (32600 if lat >= 0 else 32700) + zone
    infos = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    codes = sorted(int(info.code) for info in infos if info.auth_name == "EPSG")
    code = expected if expected in codes or not codes else codes[0]
    return pyproj.CRS.from_epsg(code)


def metric_crs_for(lon, lat) -> pyproj.CRS:
    """Pick the one metric CRS a dataset is worked in.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes of the dataset (NaN ignored).

    Returns
    -------
    pyproj.CRS
        For the median point inside China (:func:`in_china`): the CGCS2000 3-degree
        Gauss-Krüger zone (EPSG:4534–4554) of the median longitude; elsewhere the WGS84 UTM
        zone (EPSG:326NN north, 327NN south).

    Raises
    ------
    GeometryError
        When there is no finite coordinate pair.
    CRSError
        When the values are not lon/lat degrees (e.g. metres of a projected CRS).
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    lon_arr, lat_arr = lon_arr.ravel(), lat_arr.ravel()
    finite = np.isfinite(lon_arr) & np.isfinite(lat_arr)
    if not finite.any():
        raise GeometryError(GeoMessage.of("crs.errors.no_finite"))
    lon_arr, lat_arr = lon_arr[finite], lat_arr[finite]
    if (np.abs(lon_arr) > 180.0).any() or (np.abs(lat_arr) > 90.0).any():
        raise CRSError(
            GeoMessage.of(
                "crs.errors.not_degrees",
                lon0=float(lon_arr.min()),
                lon1=float(lon_arr.max()),
                lat0=float(lat_arr.min()),
                lat1=float(lat_arr.max()),
            )
        )
    mid_lon = float(np.median(lon_arr))
    mid_lat = float(np.median(lat_arr))
    if in_china(mid_lon, mid_lat):
        return cgcs2000_zone_crs(mid_lon)
    return _utm_crs(mid_lon, mid_lat)
