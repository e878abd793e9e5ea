"""Write layers for people outside the tool: GeoJSON (RFC 7946), GeoPackage, zipped Shapefile.

GeoJSON is always WGS84 lon/lat; the bureau formats default to CGCS2000 (EPSG:4490) and can be
written in the dataset's 3-degree Gauss-Krüger zone instead. No writer changes its input.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import geopandas
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.crs import CGCS2000_EPSG, WGS84_EPSG, cgcs2000_zone_crs, parse_crs
from geo.errors import CRSError, GeometryError, PlanningInputError
from geo.records import GeoMessage

__all__ = [
    "FORMULA_STARTS",
    "GEOJSON_DECIMALS",
    "SHAPEFILE_FIELD_BYTES",
    "ShapefileZip",
    "rounded_valid",
    "shapefile_field_names",
    "spreadsheet_safe",
    "write_geojson",
    "write_geopackage",
    "write_shapefile_zip",
]

#: What a spreadsheet takes for the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Decimals kept in GeoJSON coordinates (1e-7 degrees is about 1 cm).
GEOJSON_DECIMALS = 7
#: The longest field name a dBASE table holds, in bytes of its encoding (UTF-8 here).
SHAPEFILE_FIELD_BYTES = 10

_EXPORT_CRS_FORMS = (
    '"cgcs2000" (EPSG:4490), "zone" (the data\'s CGCS2000 3-degree Gauss-Kruger zone, '
    'EPSG:4534–4554), "zone-prefixed" (EPSG:4513–4533), or an EPSG code as 4549 or "EPSG:4549"'
)
_SHAPE_FAMILIES = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "LinearRing": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}


class ShapefileZip(NamedTuple):
    """What :func:`write_shapefile_zip` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The zip file.
    field_names : dict[str, str]
        Every attribute column, original name → the name written in the .dbf (at most
        :data:`SHAPEFILE_FIELD_BYTES` UTF-8 bytes). Also inside the zip as ``fields.csv``.
    """

    path: Path
    field_names: dict[str, str]


# ---------------------------------------------------------------------------------------------
# GeoJSON


def write_geojson(gdf: geopandas.GeoDataFrame, path: str | Path) -> Path:
    """Write a layer as RFC 7946 GeoJSON.

    WGS84 lon/lat (reprojected if ``gdf`` is in another CRS), no ``crs`` member, UTF-8 with
    Chinese characters as-is, polygon exteriors counter-clockwise (right-hand rule), coordinates
    rounded to :data:`GEOJSON_DECIMALS` decimals. Properties are every non-geometry column
    (the index is not written): numpy and pandas scalars become JSON numbers, booleans
    ``true``/``false``, NaN/NA/NaT/infinity ``null``, timestamps ISO 8601 strings. One feature
    per line.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer; must carry a CRS.
    path : str | pathlib.Path
        The file to write (parent folders are created).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS.
    PlanningInputError
        When two columns share a name.
    """
    _require_crs(gdf, "write_geojson")
    _require_unique_columns(gdf, "write_geojson")
    path = Path(path)
    geoms = _to_crs(gdf.geometry, pyproj.CRS.from_epsg(WGS84_EPSG))
    geoms = rounded_valid(np.asarray(geoms.values), GEOJSON_DECIMALS, caller="write_geojson")
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    attributes = gdf.drop(columns=gdf.geometry.name)
    names = [str(name) for name in attributes.columns]
    columns = [
        [_json_value(value) for value in attributes.iloc[:, i].tolist()]
        for i in range(attributes.shape[1])
    ]
    lines = []
    for row, geom in enumerate(geoms):
        feature = {
            "type": "Feature",
            "properties": {name: column[row] for name, column in zip(names, columns, strict=True)},
            "geometry": _geojson_geometry(geom),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, allow_nan=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        out.write(",\n".join(lines))
        out.write("\n]}\n")
    return path


def rounded_valid(geoms: np.ndarray, decimals: int | None, *, caller: str) -> np.ndarray:
    """Geometries rounded to ``decimals`` (None: as they are) with every polygon valid.

    Rounding can make a valid polygon invalid (a ring that touches itself, two parts that
    overlap). Each polygon invalid after rounding is snapped to the grid of ``decimals``
    (:func:`shapely.set_precision`, which keeps the result valid; a polygon invalid before
    rounding is repaired with :func:`shapely.make_valid` first, keeping its polygonal parts)
    and rounded again; what is still invalid is repaired with :func:`shapely.make_valid`. A
    geometry collection is checked and repaired the same way, keeping its lines and points.
    Valid polygons, lines and points are only rounded.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries (or None); not changed.
    decimals : int | None
        Decimals of the coordinates written; None when the writer keeps full precision.
    caller : str
        The writer, for the message.

    Returns
    -------
    numpy.ndarray
        The geometries as they are written.

    Raises
    ------
    GeometryError
        When a polygon is still invalid after the repair (it is never written invalid).
    """
    source = np.asarray(geoms, dtype=object)
    out = _rounded(source, decimals)
    bad = _invalid_polygons(out)
    if bad.any() and decimals is not None:
        snapped = shapely.set_precision(_made_valid(source[bad]), 10.0**-decimals)
        out[bad] = _rounded(snapped, decimals)
        bad = _invalid_polygons(out)
    if bad.any():
        out[bad] = _rounded(_made_valid(out[bad]), decimals)
        bad = _invalid_polygons(out)
    if bad.any():
        reasons = sorted(set(shapely.is_valid_reason(out[bad])))
        raise GeometryError(
            GeoMessage.of(
                "export.errors.invalid_after_repair",
                caller=caller,
                count=int(bad.sum()),
                features=", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:5]),
                reasons="; ".join(reasons[:3]),
            )
        )
    return out


def _rounded(geoms: np.ndarray, decimals: int | None) -> np.ndarray:
    if decimals is None:
        return np.array(geoms, dtype=object)
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals), include_z=None)


def _invalid_polygons(geoms: np.ndarray) -> np.ndarray:
    """Polygons, multipolygons and collections (of polygons, perhaps) that are invalid."""
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6, 7))
    return polygonal & ~shapely.is_valid(geoms)


def _made_valid(geoms: np.ndarray) -> np.ndarray:
    """The geometries, the invalid ones repaired: a polygon to its polygonal part, a
    collection to its valid parts."""
    out = np.array(geoms, dtype=object)
    invalid = ~shapely.is_valid(out) & ~shapely.is_missing(out)
    collection = shapely.get_type_id(out) == 7
    repaired = shapely.make_valid(out[invalid], method="structure", keep_collapsed=False)
    out[invalid] = np.where(collection[invalid], repaired, _polygonal_part(repaired))
    return out


def _polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Each geometry's polygons only (make_valid may add the lines or points it collapsed)."""
    out = np.array(geoms, dtype=object)
    for i, geom in enumerate(out):
        if geom is not None and geom.geom_type == "GeometryCollection":
            parts = [
                p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")
            ]
            out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def _geojson_geometry(geom: BaseGeometry | None) -> dict | None:
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "LinearRing":
        geom = shapely.LineString(geom)
    return mapping(geom)


def _json_value(value: Any) -> Any:
    """One property value as something ``json`` writes faithfully (NaN-like → None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating, Decimal)):
        return _json_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (np.ndarray, list, tuple, dict)):
        return _json_container(value)
    return _json_text(value)


def _json_number(value: bool | np.bool_ | int | np.integer | float | np.floating | Decimal) -> Any:
    """A boolean as ``true``/``false``, an integer as itself, a non-finite number as None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _json_container(value: np.ndarray | list | tuple | dict) -> list | dict:
    """An array, list or tuple as a list, a mapping as an object with text keys."""
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    items = value.tolist() if isinstance(value, np.ndarray) else value
    return [_json_value(item) for item in items]


def _json_text(value: Any) -> str | None:
    """Times as ISO 8601 (NaT → None), geometries as WKT, anything else as ``str``."""
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, (datetime, date, time, pd.Timedelta)):
        return value.isoformat()
    if isinstance(value, BaseGeometry):
        return value.wkt
    return str(value)


# ---------------------------------------------------------------------------------------------
# GeoPackage and Shapefile


def write_geopackage(
    gdf: geopandas.GeoDataFrame,
    path: str | Path,
    *,
    layer: str,
    crs: str | int = "cgcs2000",
) -> Path:
    """Write a layer into a GeoPackage, in CGCS2000 or another CRS.

    An existing layer of the same name is replaced; other layers in the file are kept.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer; must carry a CRS.
    path : str | pathlib.Path
        The .gpkg file (parent folders are created).
    layer : str, keyword-only
        The layer name, e.g. ``"communities"``.
    crs : str | int, keyword-only
        ``"cgcs2000"`` (EPSG:4490, default), ``"zone"`` (the CGCS2000 3-degree Gauss-Krüger
        zone of the data, EPSG:4534–4554), ``"zone-prefixed"`` (EPSG:4513–4533), or an EPSG
        code (``4549`` or ``"EPSG:4549"``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, or ``crs`` is not one of the accepted forms.
    PlanningInputError
        When two columns share a name, or ``layer`` is empty.
    """
    _require_crs(gdf, "write_geopackage")
    if not isinstance(layer, str) or not layer.strip():
        raise PlanningInputError(
            f"write_geopackage: layer {layer!r} is not a layer name; expected a non-empty "
            'string. Fix: pass layer="communities" (or another name).'
        )
    _require_unique_columns(gdf, "write_geopackage")
    path = Path(path)
    target = _export_crs(gdf, crs)
    out = _plain_attributes(gdf.to_crs(target))
    out[out.geometry.name] = geopandas.GeoSeries(
        rounded_valid(np.asarray(out.geometry.values), None, caller="write_geopackage"),
        index=out.index,
        crs=target,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def write_shapefile_zip(
    gdf: geopandas.GeoDataFrame,
    path: str | Path,
    *,
    crs: str | int = "cgcs2000",
) -> ShapefileZip:
    """Write a layer as a zipped Shapefile (UTF-8), in CGCS2000 or another CRS.

    The zip holds ``<stem>.shp/.shx/.dbf/.prj/.cpg`` (the .cpg says ``UTF-8``) and
    ``fields.csv`` (columns ``original,written``, UTF-8 with BOM so spreadsheets show Chinese),
    all at the top level; ``<stem>`` is the zip's file name without ``.zip``. Field names are
    cut to :data:`SHAPEFILE_FIELD_BYTES` UTF-8 bytes without splitting a character and stay
    unique (see :func:`shapefile_field_names`). Datetime columns are written as ISO 8601 text
    (the format has no date-time field).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer; must carry a CRS, and hold one geometry family (points, lines or polygons;
        single and multi parts may mix).
    path : str | pathlib.Path
        The .zip file (parent folders are created; an existing file is replaced).
    crs : str | int, keyword-only
        As for :func:`write_geopackage`.

    Returns
    -------
    ShapefileZip
        ``(path, field_names)`` with ``field_names`` mapping every original column name to the
        name written.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, or ``crs`` is not one of the accepted forms.
    GeometryError
        When the layer mixes geometry families or holds geometry collections.
    PlanningInputError
        When two columns share a name.
    """
    _require_crs(gdf, "write_shapefile_zip")
    _require_unique_columns(gdf, "write_shapefile_zip")
    path = Path(path)
    _check_one_shape_family(gdf.geometry)
    target = _export_crs(gdf, crs)
    attributes = _plain_attributes(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    field_names = shapefile_field_names(attributes.columns)
    attributes.columns = [field_names[str(c)] for c in attributes.columns]
    for name in attributes.columns:
        column = attributes[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            column.dtype
        ):
            attributes[name] = pd.Series(
                [_json_value(v) for v in column.tolist()], index=column.index, dtype=object
            )
    geoms = rounded_valid(
        np.asarray(_to_crs(gdf.geometry, target).values), None, caller="write_shapefile_zip"
    )
    out = geopandas.GeoDataFrame(attributes, geometry=geoms, crs=target)
    stem = path.name[: -len(".zip")] if path.suffix.lower() == ".zip" else path.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shapefile-") as tmp:
        folder = Path(tmp)
        out.to_file(
            folder / f"{stem}.shp",
            driver="ESRI Shapefile",
            engine="pyogrio",
            layer_options={"ENCODING": "UTF-8"},
        )
        cpg = folder / f"{stem}.cpg"
        if not cpg.exists():
            cpg.write_text("UTF-8", encoding="ascii")
        members = sorted(folder.iterdir())
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member in members:
                archive.write(member, arcname=member.name)
            archive.writestr("fields.csv", _fields_csv(field_names))
    return ShapefileZip(path=path, field_names=field_names)


def shapefile_field_names(columns: Iterable[object]) -> dict[str, str]:
    """Shapefile field names for columns: each at most 10 UTF-8 bytes, all distinct.

    Names that already fit are kept (first come, first kept, compared case-insensitively as
    dBASE does). Longer names are cut at a character boundary (``polsby_popper`` →
    ``polsby_pop``; ``楼栋编号`` is 12 bytes → ``楼栋编``); a cut name that collides with one
    already taken ends in a number instead (``polsby_po1``, ``polsby_po2``, ...).

    Parameters
    ----------
    columns : iterable
        Column names (converted with ``str``).

    Returns
    -------
    dict[str, str]
        original → written, in column order.
    """
    names = [str(column) for column in columns]
    written: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if len(name.encode("utf-8")) <= SHAPEFILE_FIELD_BYTES and name.casefold() not in taken:
            written[name] = name
            taken.add(name.casefold())
    for name in names:
        if name in written:
            continue
        candidate = _cut_utf8(name, SHAPEFILE_FIELD_BYTES)
        number = 0
        while candidate.casefold() in taken:
            number += 1
            suffix = str(number)
            candidate = _cut_utf8(name, SHAPEFILE_FIELD_BYTES - len(suffix)) + suffix
        written[name] = candidate
        taken.add(candidate.casefold())
    return {name: written[name] for name in names}


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells a spreadsheet shows as text, never runs.

    A text cell starting with one of :data:`FORMULA_STARTS` (``=HYPERLINK(…)``, ``@SUM(…)``,
    ``+cmd|…``) gets an apostrophe in front, as OWASP advises against CSV injection; a cell
    that is a plain number (``-12.5``) or only dashes (``-``, a placeholder) is left as it is,
    so are numeric columns. Column names are guarded the same way.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table about to be written as CSV; not changed.

    Returns
    -------
    pandas.DataFrame
        The guarded copy.
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            out.isetitem(i, column.map(_safe_cell, na_action="ignore"))
    out.columns = [_safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def _safe_cell(value: Any) -> Any:
    """The cell, with an apostrophe in front where a spreadsheet would take it for a formula
    (not a plain number such as ``-12.5``, nor a placeholder dash ``-`` or ``--``)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if not value.strip("-"):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _cut_utf8(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding has at most ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _fields_csv(field_names: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["original", "written"])
    writer.writerows([_safe_cell(k), _safe_cell(v)] for k, v in field_names.items())
    return "\ufeff" + buffer.getvalue()


def _check_one_shape_family(geoms: geopandas.GeoSeries) -> None:
    types = set(geoms.geom_type.dropna())
    unsupported = sorted(t for t in types if t not in _SHAPE_FAMILIES)
    families = sorted({_SHAPE_FAMILIES[t] for t in types if t in _SHAPE_FAMILIES})
    if unsupported or len(families) > 1:
        raise GeometryError(
            "write_shapefile_zip: a Shapefile holds one geometry family (points, lines or "
            f"polygons); found {', '.join(sorted(types))}. Fix: write each family to its own "
            "file, or use write_geopackage."
        )


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _require_crs(gdf: geopandas.GeoDataFrame, caller: str) -> None:
    if not isinstance(gdf, geopandas.GeoDataFrame):
        raise TypeError(f"{caller} takes a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise CRSError(
            f"{caller}: the layer has no CRS; expected a GeoDataFrame with its CRS set (layers "
            "are held in EPSG:4326 after intake). Fix: gdf.set_crs(4326) if the coordinates "
            "are WGS84 lon/lat, or read the layer through geo.intake/geo.layers."
        )


def _require_unique_columns(gdf: geopandas.GeoDataFrame, caller: str) -> None:
    repeated = sorted({str(c) for c in gdf.columns[gdf.columns.duplicated()]})
    if repeated:
        raise PlanningInputError(
            f"{caller}: columns {repeated} appear more than once; expected unique column "
            "names. Fix: rename or drop the repeated columns."
        )


def _to_crs(geoms: geopandas.GeoSeries, target: pyproj.CRS) -> geopandas.GeoSeries:
    return geoms.copy() if geoms.crs == target else geoms.to_crs(target)


def _export_crs(gdf: geopandas.GeoDataFrame, crs: str | int) -> pyproj.CRS:
    """The CRS an export is written in, from the ``crs`` option."""
    if isinstance(crs, str):
        text = "".join(crs.split()).lower()
        if text == "cgcs2000":
            return pyproj.CRS.from_epsg(CGCS2000_EPSG)
        if text in ("zone", "zone-prefixed"):
            return cgcs2000_zone_crs(_median_lon(gdf), prefixed=text == "zone-prefixed")
    try:
        source = parse_crs(crs)
    except CRSError as err:
        raise CRSError(
            f"export crs {crs!r} is not recognised; expected one of {_EXPORT_CRS_FORMS}. "
            'Fix: use crs="cgcs2000" for a bureau, or crs="zone" for metric coordinates.'
        ) from err
    if source.is_offset:
        raise CRSError(
            f"export crs {crs!r}: {source.label} is an obfuscated offset system, not a CRS a "
            f"file can declare; expected one of {_EXPORT_CRS_FORMS}. Fix: export in cgcs2000 "
            "or WGS84 (EPSG:4326); shift to GCJ-02 only for drawing on an Amap/Tencent basemap."
        )
    return source.crs


def _median_lon(gdf: geopandas.GeoDataFrame) -> float:
    """Median WGS84 longitude of the feature centroids (as metric_crs_for takes the median)."""
    wgs = _to_crs(gdf.geometry, pyproj.CRS.from_epsg(WGS84_EPSG))
    lon = shapely.get_x(shapely.centroid(np.asarray(wgs.values)))
    lon = lon[np.isfinite(lon)]
    if lon.size == 0:
        raise GeometryError(
            'export crs "zone": the layer has no non-empty geometry to choose a zone from; '
            'expected at least one feature. Fix: export with crs="cgcs2000" or an EPSG code.'
        )
    return float(np.median(lon))


def _plain_attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose extra geometry columns are WKT text and categoricals plain values."""
    out = frame.copy()
    active = out.geometry.name if isinstance(out, geopandas.GeoDataFrame) else None
    for i, name in enumerate(out.columns):
        if name == active:
            continue
        column = out.iloc[:, i]
        if isinstance(column.dtype, geopandas.array.GeometryDtype):
            out[name] = pd.Series(
                [None if g is None else g.wkt for g in column], index=out.index, dtype=object
            )
        elif isinstance(column.dtype, pd.CategoricalDtype):
            out[name] = column.astype(column.cat.categories.dtype)
    return out
