"""GeoJSON for the browser: geometries simplified and rounded, text escaped.

What a map sends is bounded whatever the input: polygons and lines are simplified, every
coordinate is rounded to :data:`COORD_DECIMALS` places, and every text property is escaped
(names come from the user's files).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "COORD_DECIMALS",
    "SIMPLIFY_DEG",
    "compact",
    "feature_collection",
    "json_value",
    "missing",
    "text_column",
]

#: Decimal places kept in drawn coordinates (1e-5 degrees is about 1 m).
COORD_DECIMALS = 5
#: Simplification tolerance for drawn polygons and lines, in degrees (about 5 m).
SIMPLIFY_DEG = 5e-5


def compact(geoms: np.ndarray, *, simplify: bool) -> np.ndarray:
    """Simplified (polygons, lines) and rounded geometries, ready to serialise."""
    if simplify:
        geoms = shapely.simplify(geoms, SIMPLIFY_DEG, preserve_topology=True)
    return shapely.transform(geoms, lambda c: np.round(c, COORD_DECIMALS))


def json_value(value: object) -> object:
    """A value as a GeoJSON property: missing → ``"—"``, text escaped, floats to one decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, float):
        return round(value, 1)
    return value if isinstance(value, (int, bool)) else html.escape(str(value))


def json_column(values: pd.Series) -> list:
    """:func:`json_value` of a whole column (numbers converted at once)."""
    kind = values.dtype.kind
    if kind in "iub":
        return values.tolist()
    if kind == "f":
        return ["—" if math.isnan(v) else round(v, 1) for v in values.tolist()]
    return [json_value(v) for v in values.tolist()]


def geometry_json(geoms: np.ndarray) -> list[dict | None]:
    """GeoJSON geometries (points built from their coordinates at once)."""
    types = shapely.get_type_id(geoms)
    if len(geoms) and (types == 0).all():
        xy = shapely.get_coordinates(geoms).tolist()
        return [{"type": "Point", "coordinates": c} for c in xy]
    return [None if g is None else shapely.geometry.mapping(g) for g in geoms]


def feature_collection(gdf: gpd.GeoDataFrame, properties: Sequence[str], *, simplify: bool) -> dict:
    """A GeoJSON FeatureCollection with an ``id`` per feature and escaped text properties."""
    geoms = compact(np.asarray(gdf.geometry.array), simplify=simplify)
    columns = {name: json_column(gdf[name]) for name in properties}
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    geometry = geometry_json(np.where(empty, None, geoms))
    features = []
    for i in np.flatnonzero(~empty).tolist():
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "properties": {name: columns[name][i] for name in properties},
                "geometry": geometry[i],
            }
        )
    return {"type": "FeatureCollection", "features": features}


def text_column(gdf: gpd.GeoDataFrame, name: str) -> pd.Series:
    """Column ``name`` with missing values as ``None`` (all ``None`` when there is no such
    column)."""
    if name in gdf.columns:
        return gdf[name].astype(object).where(gdf[name].notna(), None)
    return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)


def missing(value: object) -> bool:
    """Whether ``value`` is missing (``None``, ``pd.NA`` or NaN)."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)
