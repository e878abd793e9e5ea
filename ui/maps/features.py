"""GeoJSON for the browser: geometries simplified and rounded, text escaped.

What a map sends is bounded whatever the input: polygons and lines are simplified, every
coordinate is rounded to :data:`COORD_DECIMALS` places, and every text property is escaped
(names come from the user's files).
"""

from __future__ import annotations

import html
import json
import math
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

__all__ = [
    "COORD_DECIMALS",
    "SIMPLIFY_DEG",
    "PointColumns",
    "compact",
    "feature_collection",
    "json_value",
    "missing",
    "once_per_frame",
    "point_columns",
    "text_column",
]

_T = TypeVar("_T")

#: Decimal places kept in drawn coordinates (1e-5 degrees is about 1 m).
COORD_DECIMALS = 5
#: Simplification tolerance for drawn polygons and lines, in degrees (about 5 m).
SIMPLIFY_DEG = 5e-5
#: What :func:`once_per_frame` keeps: (id of the frame, what) → (a weak reference to the frame,
#: the value). An entry goes when its frame is collected.
_PER_FRAME: dict[tuple[int, Hashable], tuple[weakref.ref, object]] = {}


def once_per_frame(frame: gpd.GeoDataFrame, what: Hashable, make: Callable[[], _T]) -> _T:
    """``make()``, computed once for this very ``frame`` object and ``what`` (the options the
    value depends on), then reused while the frame lives.

    The app holds each plan's frames (and the data's layers) for as long as it shows them, and
    the map is drawn again on every rerun of a page (a click, a choice in a list), so the
    GeoJSON of an unchanged plan is made once. Frames are treated as immutable: a frame changed
    in place keeps its old value (the app never changes a frame it has drawn). The value is
    shared: callers must not change it.
    """
    key = (id(frame), what)
    held = _PER_FRAME.get(key)
    if held is not None and held[0]() is frame:
        return held[1]  # type: ignore[return-value]
    value = make()

    def forget(ref: weakref.ref) -> None:
        if _PER_FRAME.get(key, (None,))[0] is ref:  # not a later frame given the same id
            del _PER_FRAME[key]

    _PER_FRAME[key] = (weakref.ref(frame, forget), value)
    return value


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
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        # text (ids, names, missing): each distinct value escaped once
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        shown = [json_value(v) for v in distinct.tolist()]
        return [
            shown[c] if c >= 0 else json_value(v)
            for c, v in zip(codes.tolist(), values.tolist(), strict=True)
        ]
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


#: Adds the points of a :class:`PointColumns` layer after its first (sent as GeoJSON): each
#: feature rebuilt from the columns, text columns given as codes into their distinct values.
_POINT_COLUMNS_JS = """(function () {
  var c = %s;
  var text = function (name) {
    var column = c.text[name];
    return column.codes.map(function (i) { return column.values[i]; });
  };
  var columns = {};
  Object.keys(c.plain).forEach(function (name) { columns[name] = c.plain[name]; });
  Object.keys(c.text).forEach(function (name) { columns[name] = text(name); });
  var features = c.x.map(function (x, i) {
    var properties = {};
    c.order.forEach(function (name) { properties[name] = columns[name][i]; });
    if (c.radius) { properties.style = {radius: c.radius[i]}; }
    return {type: "Feature", id: c.ids[i], properties: properties,
            geometry: {type: "Point", coordinates: [x, c.y[i]]}};
  });
  %s.addData({type: "FeatureCollection", features: features});
  if (c.radius) { %s.setStyle(function (feature) { return feature.properties.style; }); }
})();"""


class PointColumns(folium.GeoJson):
    """A :class:`folium.GeoJson` of many points whose features reach the browser as columns.

    The layer is the same in Python (``data`` is the whole FeatureCollection: its bounds,
    tooltips and tests read it) and in the browser (the same features, properties, ids and
    per-feature ``style``); only what is sent is smaller: the first feature goes as folium
    sends it (so that its tooltip and style are set up as usual), the others as one array per
    property (text as codes into its distinct values) and rebuilt by a few lines of
    JavaScript. A building layer of 80,000 households is about a quarter of its GeoJSON.
    Every feature must be a Point with the same property names.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this.columns_script(kwargs) }}{% endmacro %}"
    )

    def columns_script(self, kwargs: dict) -> str:
        """folium's script of a GeoJson of the first feature, then the others from columns
        (one script: streamlit-folium renders each element's script macro itself)."""
        full = self.data
        features = full["features"]
        self.data = {"type": "FeatureCollection", "features": features[:1]}
        try:
            script = folium.GeoJson._template.module.script(self, kwargs)
        finally:
            self.data = full
        if len(features) < 2:
            return script
        name = self.get_name()
        held = getattr(self, "_payload", None)
        if held is None or held[0] is not features:
            # rendered twice for the app (the page, then st_folium's script): columns made once
            held = (features, json.dumps(point_columns(features[1:]), ensure_ascii=False))
            self._payload = held
        return script + "\n" + _POINT_COLUMNS_JS % (held[1], name, name)


def point_columns(features: Sequence[dict]) -> dict:
    """Point features as columns: ``x``, ``y``, ``ids``, ``radius`` (from ``style``, or
    None), ``order`` (the property names), ``plain`` (numbers, and text with mostly distinct
    values) and ``text`` (text as ``codes`` into ``values``)."""
    order = [k for k in features[0]["properties"] if k != "style"]
    xy = [f["geometry"]["coordinates"] for f in features]
    plain: dict[str, list] = {}
    coded: dict[str, dict] = {}
    for name in order:
        values = [f["properties"][name] for f in features]
        distinct = list(dict.fromkeys(values))
        if all(isinstance(v, str) for v in values) and len(distinct) <= len(values) // 2:
            codes = {v: i for i, v in enumerate(distinct)}
            coded[name] = {"values": distinct, "codes": [codes[v] for v in values]}
        else:
            plain[name] = values
    styled = "style" in features[0]["properties"]
    return {
        "x": [c[0] for c in xy],
        "y": [c[1] for c in xy],
        "ids": [f.get("id") for f in features],
        "radius": [f["properties"]["style"]["radius"] for f in features] if styled else None,
        "order": order,
        "plain": plain,
        "text": coded,
    }
