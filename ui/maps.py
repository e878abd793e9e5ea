"""Folium maps of a loaded district: buildings, sub-districts, barriers, facilities, communities.

Pure functions from WGS84 GeoDataFrames to :class:`folium.Map` objects (no streamlit here), so
they are unit-tested like the rest of the library. What is drawn is bounded whatever the input:
above :data:`AGGREGATE_ABOVE` buildings they are binned into hexagons coloured by households;
polygons and lines are simplified and every coordinate is rounded before it is serialised.

Basemaps: OpenStreetMap, Amap (GCJ-02: every geometry is shifted from WGS84 before drawing, or it
lands some 500 m off), Tianditu (with the user's key) and none (white; needs no network, since
Leaflet itself is inlined from ``ui/assets/leaflet`` rather than fetched from a CDN).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.crs import gcj02_to_wgs84, metric_crs_for, wgs84_to_gcj02
from geo.errors import CRSError, PlanningInputError
from planning.plans.plan import band_status
from ui.i18n import text

__all__ = [
    "AGGREGATE_ABOVE",
    "AMAP_TILES",
    "BASEMAPS",
    "COMMUNITY_PALETTE",
    "PLAN_BUILDINGS_ABOVE",
    "TIANDITU_LABELS",
    "TIANDITU_TILES",
    "aggregate_buildings",
    "community_colours",
    "display_bounds",
    "from_display",
    "gap_map",
    "hexagon_cells",
    "households_map",
    "plan_map",
    "selection_layer",
    "to_display",
    "view_for",
    "view_map",
]

BASEMAPS = ("osm", "amap", "tianditu", "none")

AMAP_TILES = (
    "https://webrd02.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
)
TIANDITU_TILES = (
    "https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY"
)
TIANDITU_LABELS = (
    "https://t0.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY"
)

#: Above this many buildings they are drawn as hexagon cells, never as one marker each.
AGGREGATE_ABOVE = 3_000
#: About how many hexagons cover the buildings' bounding box.
TARGET_CELLS = 1_500
#: Hexagon sizes (centre to corner, metres) the cell size is rounded up to, for a legible legend.
_NICE_SIZES_M = (50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000)
#: Decimal places kept in drawn coordinates (1e-5 degrees is about 1 m).
COORD_DECIMALS = 5
#: Simplification tolerance for drawn polygons and lines, in degrees (about 5 m).
SIMPLIFY_DEG = 5e-5

_CELL_COLOURS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
_BUILDING_COLOUR = "#2166ac"
_STREET_COLOUR = "#333333"
_COMMUNITY_COLOUR = "#e66101"
_FACILITY_COLOUR = "#7b3294"
_MAJOR_ROADS = frozenset(
    {"motorway", "trunk", "primary", "secondary", "主干路", "快速路", "次干路"}
)
_MINOR_ROAD_STYLE = {"color": "#b3b3b3", "weight": 1.5, "dashArray": None}
_BARRIER_STYLE = {
    "road": {"color": "#7a7a7a", "weight": 3, "dashArray": None},
    "river": {"color": "#2b83ba", "weight": 4, "dashArray": None},
    "railway": {"color": "#222222", "weight": 2.5, "dashArray": "8 5"},
}
_ASSETS = Path(__file__).resolve().parent / "assets" / "leaflet"

_MAP_CSS = """
<style>
div.leaflet-container { background: #ffffff; font-family: "Noto Sans CJK SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; }
.planner-label { transform: translate(-50%, -50%); white-space: nowrap; pointer-events: none;
  font-size: 13px; font-weight: 600; color: #222;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.planner-label.community { font-size: 11px; font-weight: 500; color: #a6410a; }
.planner-label.plan { font-size: 11px; font-weight: 500; line-height: 13px; text-align: center;
  color: #1a1a1a; }
.planner-label.plan b { font-size: 12px; font-weight: 700; }
.planner-label.plan .lock { margin-left: 3px; color: #7a0177; }
.planner-legend { background: rgba(255, 255, 255, 0.92); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); font-size: 12px; line-height: 18px; color: #222; }
.planner-legend b { display: block; margin-bottom: 4px; }
.planner-legend details { font-size: 11px; line-height: 15px; max-width: 440px; }
.planner-legend details .rows { column-count: 2; column-gap: 16px; }
.planner-legend summary { cursor: pointer; font-weight: 700; font-size: 12px; }
.planner-far .planner-label.plan .hh, .planner-far .planner-label.plan .lock,
.planner-very-far .planner-label.plan { display: none; }
.planner-legend i { display: inline-block; width: 16px; height: 12px; margin-right: 6px;
  vertical-align: middle; }
</style>
"""


# ---------------------------------------------------------------------------------------------
# Coordinates for display


def _gcj02_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])


def _require_wgs84(gdf: gpd.GeoDataFrame, what: str) -> None:
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
    _require_wgs84(gdf, "to_display")
    if basemap != "amap":
        return gdf
    shifted = shapely.transform(np.asarray(gdf.geometry.array), _gcj02_coords)
    return gdf.set_geometry(gpd.GeoSeries(shifted, index=gdf.index, crs=gdf.crs))


def _compact(geoms: np.ndarray, *, simplify: bool) -> np.ndarray:
    """Simplified (polygons, lines) and rounded geometries, ready to serialise."""
    if simplify:
        geoms = shapely.simplify(geoms, SIMPLIFY_DEG, preserve_topology=True)
    return shapely.transform(geoms, lambda c: np.round(c, COORD_DECIMALS))


def _json_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, float):
        return round(value, 1)
    return value if isinstance(value, (int, bool)) else html.escape(str(value))


def _json_column(values: pd.Series) -> list:
    """:func:`_json_value` of a whole column (numbers converted at once)."""
    kind = values.dtype.kind
    if kind in "iub":
        return values.tolist()
    if kind == "f":
        return ["—" if math.isnan(v) else round(v, 1) for v in values.tolist()]
    return [_json_value(v) for v in values.tolist()]


def _geometry_json(geoms: np.ndarray) -> list[dict | None]:
    """GeoJSON geometries (points built from their coordinates at once)."""
    types = shapely.get_type_id(geoms)
    if len(geoms) and (types == 0).all():
        xy = shapely.get_coordinates(geoms).tolist()
        return [{"type": "Point", "coordinates": c} for c in xy]
    return [None if g is None else shapely.geometry.mapping(g) for g in geoms]


def _feature_collection(
    gdf: gpd.GeoDataFrame, properties: Sequence[str], *, simplify: bool
) -> dict:
    """A GeoJSON FeatureCollection with an ``id`` per feature and escaped text properties."""
    geoms = _compact(np.asarray(gdf.geometry.array), simplify=simplify)
    columns = {name: _json_column(gdf[name]) for name in properties}
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    geometry = _geometry_json(np.where(empty, None, geoms))
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


# ---------------------------------------------------------------------------------------------
# Aggregation


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
    _require_wgs84(buildings, "hexagon_cells")
    lon = buildings.geometry.x.to_numpy()
    lat = buildings.geometry.y.to_numpy()
    metric = metric_crs_for(lon, lat)
    to_metric = pyproj.Transformer.from_crs(4326, metric, always_xy=True)
    x, y = (np.asarray(v) for v in to_metric.transform(lon, lat))
    if size_m is None:
        area_m2 = max((x.max() - x.min()) * (y.max() - y.min()), 1.0)
        size_m = _nice_size(math.sqrt(area_m2 / target_cells / (1.5 * math.sqrt(3))))
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


def _nice_number(value: float) -> int:
    """Round up to 1, 2 or 5 times a power of ten."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)


def _class_breaks(values: np.ndarray, classes: int = len(_CELL_COLOURS)) -> list[int]:
    """Ascending upper bounds of up to ``classes`` colour classes; the last is the maximum."""
    top = int(values.max()) if len(values) else 1
    quantiles = np.quantile(values, np.arange(1, classes) / classes) if len(values) else []
    breaks = sorted({_nice_number(float(v)) for v in quantiles if _nice_number(float(v)) < top})
    return [*breaks, top]


def _class_of(value: float, breaks: Sequence[int]) -> int:
    for i, upper in enumerate(breaks):
        if value <= upper:
            return i
    return len(breaks) - 1


# ---------------------------------------------------------------------------------------------
# Assets, basemaps, legend


@functools.lru_cache(maxsize=1)
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS (with its control images) as ``data:`` URIs."""
    js = (_ASSETS / "leaflet.js").read_bytes()
    css = (_ASSETS / "leaflet.css").read_text(encoding="utf-8")
    for image in ("layers-2x.png", "layers.png"):
        encoded = base64.b64encode((_ASSETS / image).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{encoded})")
    return (
        "data:text/javascript;base64," + base64.b64encode(js).decode("ascii"),
        "data:text/css;base64," + base64.b64encode(css.encode("utf-8")).decode("ascii"),
    )


def _base_map(basemap: str, tianditu_key: str | None, lang: str) -> folium.Map:
    if basemap not in BASEMAPS:
        raise PlanningInputError(
            f"basemap {basemap!r} is not known. expected one of {', '.join(BASEMAPS)}; "
            "fix: choose one of them."
        )
    if basemap == "tianditu" and not (tianditu_key or "").strip():
        raise PlanningInputError(
            "basemap tianditu: no Tianditu key. expected: the browser key (tk) from the "
            "Tianditu console; found: none. fix: enter the key, or choose another basemap."
        )
    fmap = folium.Map(
        location=(30.0, 120.0),
        zoom_start=12,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        max_zoom=19,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    js, css = _leaflet_assets()
    # Only Leaflet: no jQuery, Bootstrap or Font Awesome from a CDN (nothing here uses them).
    fmap.default_js = [("leaflet", js)]
    fmap.default_css = [("leaflet_css", css)]
    fmap.get_root().header.add_child(Element(_MAP_CSS), name="planner_css")
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=text("map.basemap.osm", lang), max_zoom=19).add_to(
            fmap
        )
    elif basemap == "amap":
        folium.TileLayer(
            AMAP_TILES,
            attr="&copy; 高德地图 AutoNavi",
            name=text("map.basemap.amap", lang),
            max_zoom=18,
        ).add_to(fmap)
    elif basemap == "tianditu":
        key = quote((tianditu_key or "").strip(), safe="")
        folium.TileLayer(
            TIANDITU_TILES.replace("KEY", key),
            attr="&copy; 天地图 Tianditu",
            name=text("map.basemap.tianditu", lang),
            max_zoom=18,
        ).add_to(fmap)
        folium.TileLayer(
            TIANDITU_LABELS.replace("KEY", key),
            attr="&copy; 天地图 Tianditu",
            name=text("map.layer.tianditu_labels", lang),
            overlay=True,
            control=False,
            max_zoom=18,
        ).add_to(fmap)
    return fmap


class _Legend(MacroElement):
    """A Leaflet control in the bottom-left corner holding ready-made HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "planner-legend");
                div.innerHTML = {{ this.body_json }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, title: str | None = None, open_: bool = True):
        super().__init__()
        self._name = "PlannerLegend"
        if title is not None:
            body = (
                f"<details{' open' if open_ else ''}><summary>{title}</summary>"
                f'<div class="rows">{body}</div></details>'
            )
        self.body_json = json.dumps(body, ensure_ascii=False)


class _ZoomClasses(MacroElement):
    """Classes on the map container by zoom, so labels thin out as the map zooms out:
    ``planner-far`` below ``full`` (labels show the id only) and ``planner-very-far`` below
    ``ids`` (no labels)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            function update() {
                var zoom = map.getZoom(), box = map.getContainer();
                box.classList.toggle("planner-far", zoom < {{ this.full }});
                box.classList.toggle("planner-very-far", zoom < {{ this.ids }});
            }
            map.on("zoomend", update);
            update();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, full: int, ids: int):
        super().__init__()
        self._name = "PlannerZoomClasses"
        self.full = int(full)
        self.ids = int(ids)


def _swatch(fill: str, *, line: str | None = None, dash: bool = False, round_: bool = False) -> str:
    if line is not None:
        style = f"border-top: 3px {'dashed' if dash else 'solid'} {line}; height: 0;"
    elif round_:
        style = f"background: {fill}; border-radius: 50%; width: 12px; border: 1px solid #fff;"
    else:
        style = f"background: {fill}; border: 1px solid #999;"
    return f'<i style="{style}"></i>'


# ---------------------------------------------------------------------------------------------
# Layers


def _label(fmap_layer: folium.FeatureGroup, point: shapely.Point, name: str, css: str) -> None:
    folium.Marker(
        location=(round(point.y, COORD_DECIMALS), round(point.x, COORD_DECIMALS)),
        icon=folium.DivIcon(
            html=f'<div class="planner-label {css}">{html.escape(name)}</div>',
            icon_size=(0, 0),
            class_name="planner-label-icon",
        ),
        interactive=False,
    ).add_to(fmap_layer)


def _text_column(gdf: gpd.GeoDataFrame, name: str) -> pd.Series:
    if name in gdf.columns:
        return gdf[name].astype(object).where(gdf[name].notna(), None)
    return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)


def _add_polygons_with_labels(
    fmap: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    colour: str,
    weight: float,
    dash: str | None,
    label_column: str | None,
    tooltip_fields: Sequence[tuple[str, str]],
    css: str,
    interactive: bool = True,
) -> None:
    """Outlines with labels. ``interactive=False`` for outlines that lie over other layers: on
    the canvas renderer a polygon catches the pointer inside it even when it is not filled, so
    a clickable 街道 outline would hide everything under it."""
    layer = folium.FeatureGroup(name=name, show=True)
    frame = gdf.assign(**{f: _text_column(gdf, f) for f, _ in tooltip_fields})
    collection = _feature_collection(frame, [f for f, _ in tooltip_fields], simplify=True)
    folium.GeoJson(
        collection,
        style_function=lambda _f: {
            "color": colour,
            "weight": weight,
            "dashArray": dash,
            "fill": False,
            "opacity": 0.9,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[f for f, _ in tooltip_fields],
            aliases=[a for _, a in tooltip_fields],
            sticky=True,
        )
        if interactive
        else None,
        interactive=interactive,
        zoom_on_click=False,
    ).add_to(layer)
    if label_column is not None:
        names = _text_column(gdf, label_column)
        points = shapely.point_on_surface(np.asarray(gdf.geometry.array))
        for point, label in zip(points, names, strict=True):
            if label and not shapely.is_empty(point):
                _label(layer, point, str(label), css)
    layer.add_to(fmap)


def _add_buildings(
    fmap: folium.Map, buildings: gpd.GeoDataFrame, *, aggregate_above: int, lang: str
) -> str:
    """Draw the buildings; return the legend rows for them."""
    if len(buildings) > aggregate_above:
        wgs84 = buildings if buildings.crs is not None else buildings.set_crs(4326)
        cells, size_m = hexagon_cells(wgs84)
        breaks = _class_breaks(cells["households"].to_numpy())
        cells["colour"] = [_CELL_COLOURS[_class_of(v, breaks)] for v in cells["households"]]
        collection = _feature_collection(
            cells, ["households", "buildings", "colour"], simplify=False
        )
        folium.GeoJson(
            collection,
            name=text("map.layer.cells", lang).format(size=int(size_m)),
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.75,
                "fill": True,
                "color": "#ffffff",
                "weight": 0.5,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["households", "buildings"],
                aliases=[text("map.tip.households", lang), text("map.tip.buildings", lang)],
                localize=True,
            ),
            zoom_on_click=False,
        ).add_to(fmap)
        rows = [text("map.legend.cells", lang).format(size=int(size_m))]
        lower = 1
        for colour, upper in zip(_CELL_COLOURS, breaks, strict=False):
            span = f"{lower:,}" if lower >= upper else f"{lower:,}–{upper:,}"
            rows.append(f"{_swatch(colour)}{span}")
            lower = upper + 1
        return "<br>".join(rows)

    frame = buildings.assign(
        compound=_text_column(buildings, "compound"),
        radius=np.clip(
            np.round(2 * (1.5 + 0.8 * np.sqrt(buildings["households"].to_numpy()))) / 2, 2, 16
        ),
    )
    collection = _feature_collection(
        frame, ["building_id", "households", "compound", "radius"], simplify=False
    )
    folium.GeoJson(
        collection,
        name=text("map.layer.buildings", lang),
        marker=folium.CircleMarker(radius=4, fill=True),
        style_function=lambda f: {
            "radius": f["properties"]["radius"],
            "color": "#ffffff",
            "weight": 0.6,
            "fill": True,
            "fillColor": _BUILDING_COLOUR,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["building_id", "households", "compound"],
            aliases=[
                text("map.tip.building", lang),
                text("map.tip.households", lang),
                text("map.tip.compound", lang),
            ],
            localize=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)
    return f"{_swatch(_BUILDING_COLOUR, round_=True)}{text('map.legend.buildings', lang)}"


def _add_barriers(fmap: folium.Map, barriers: gpd.GeoDataFrame, lang: str) -> list[str]:
    layer = folium.FeatureGroup(name=text("map.layer.barriers", lang), show=True)
    rows = []
    kinds = _text_column(barriers, "kind").fillna("road")
    for kind, style in _BARRIER_STYLE.items():
        part = barriers[(kinds == kind).to_numpy()]
        if part.empty:
            continue
        frame = part.assign(
            name=_text_column(part, "name"), road_class=_text_column(part, "road_class")
        )
        collection = _feature_collection(frame, ["name", "road_class"], simplify=True)
        folium.GeoJson(
            collection,
            style_function=lambda f, style=style, kind=kind: {
                **(
                    _MINOR_ROAD_STYLE
                    if kind == "road"
                    and html.unescape(str(f["properties"]["road_class"])) not in _MAJOR_ROADS
                    else style
                ),
                "opacity": 0.9,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "road_class"],
                aliases=[text("map.tip.name", lang), text("map.tip.road_class", lang)],
            ),
            zoom_on_click=False,
        ).add_to(layer)
        rows.append(
            _swatch("", line=style["color"], dash=style["dashArray"] is not None)
            + text(f"map.legend.{kind}", lang)
        )
        if kind == "road":
            rows.append(
                _swatch("", line=_MINOR_ROAD_STYLE["color"]) + text("map.legend.minor_road", lang)
            )
    layer.add_to(fmap)
    return rows


def _add_facilities(fmap: folium.Map, facilities: gpd.GeoDataFrame, lang: str) -> None:
    fields = ["name", "type", "floor_area_m2"]
    frame = facilities.assign(**{f: _text_column(facilities, f) for f in fields})
    collection = _feature_collection(frame, fields, simplify=True)
    folium.GeoJson(
        collection,
        name=text("map.layer.facilities", lang),
        marker=folium.CircleMarker(radius=6, fill=True),
        style_function=lambda _f: {
            "radius": 6,
            "color": "#ffffff",
            "weight": 1.5,
            "fill": True,
            "fillColor": _FACILITY_COLOUR,
            "fillOpacity": 0.9,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=fields,
            aliases=[
                text("map.tip.name", lang),
                text("map.tip.type", lang),
                text("map.tip.floor_area", lang),
            ],
            localize=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)


def _displayed(
    layers: dict[str, gpd.GeoDataFrame | None], basemap: str
) -> dict[str, gpd.GeoDataFrame]:
    """The layers that have features, in the basemap's coordinates."""
    return {
        name: to_display(gdf, basemap)
        for name, gdf in layers.items()
        if gdf is not None and not gdf.empty
    }


def households_map(
    buildings: gpd.GeoDataFrame,
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    aggregate_above: int = AGGREGATE_ABOVE,
    lang: str = "zh",
) -> folium.Map:
    """The district on a map: buildings, and whichever other layers are given.

    Parameters
    ----------
    buildings : GeoDataFrame
        ``Households.buildings`` (WGS84 points, ``building_id``, ``households``, ``compound``).
        Up to ``aggregate_above`` of them are drawn as circles with radius ∝ √households;
        more are binned into hexagons coloured by households.
    basemap : {"osm", "amap", "tianditu", "none"}
        On ``"amap"`` every layer is shifted to GCJ-02 first (:func:`to_display`).
    tianditu_key : str, optional
        The user's Tianditu key; required for ``"tianditu"``.
    streets, barriers, facilities, communities : GeoDataFrame, optional
        The frames of :mod:`geo.layers` (WGS84): sub-district outlines with names, barrier
        lines coloured by ``kind``, facilities, existing community outlines.
    lang : {"zh", "en"}
        Language of the legend, tooltips and layer names.

    Returns
    -------
    folium.Map
        With a legend and a layer control, fitted to the layers' bounds.

    Raises
    ------
    PlanningInputError
        Unknown basemap, or Tianditu without a key.
    CRSError
        A layer not in WGS84.
    """
    fmap = _base_map(basemap, tianditu_key, lang)
    layers = {
        "buildings": buildings,
        "streets": subdistricts,
        "barriers": barriers,
        "facilities": facilities,
        "communities": communities,
    }
    shown = _displayed(layers, basemap)
    legend = [f"<b>{text('map.legend.title', lang)}</b>"]
    if "barriers" in shown:
        legend.extend(_add_barriers(fmap, shown["barriers"], lang))
    if "communities" in shown:
        _add_polygons_with_labels(
            fmap,
            shown["communities"],
            name=text("map.layer.communities", lang),
            colour=_COMMUNITY_COLOUR,
            weight=2,
            dash=None,
            label_column="name",
            tooltip_fields=[
                ("community_id", text("map.tip.community_id", lang)),
                ("name", text("map.tip.name", lang)),
            ],
            css="community",
        )
    if "buildings" in shown:
        legend.insert(
            1, _add_buildings(fmap, shown["buildings"], aggregate_above=aggregate_above, lang=lang)
        )
    if "streets" in shown:
        _add_polygons_with_labels(
            fmap,
            shown["streets"],
            name=text("map.layer.streets", lang),
            colour=_STREET_COLOUR,
            weight=2.5,
            dash="8 6",
            label_column="name",
            tooltip_fields=[("name", text("map.tip.street", lang))],
            css="street",
            interactive=False,
        )
        legend.append(
            _swatch("", line=_STREET_COLOUR, dash=True) + text("map.legend.streets", lang)
        )
    if "communities" in shown:
        legend.append(_swatch("", line=_COMMUNITY_COLOUR) + text("map.legend.communities", lang))
    if "facilities" in shown:
        _add_facilities(fmap, shown["facilities"], lang)
        legend.append(_swatch(_FACILITY_COLOUR, round_=True) + text("map.legend.facilities", lang))
    _Legend(legend[0] + "<br>".join(legend[1:])).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)

    if shown:
        bounds = np.array([gdf.total_bounds for gdf in shown.values()])
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        east, north = bounds[:, 2].max(), bounds[:, 3].max()
        fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    return fmap


# ---------------------------------------------------------------------------------------------
# Plans: communities coloured apart, grids, buildings, the selection, a drawing tool

#: Up to this many buildings a plan map draws one circle each; above, one circle per hexagon
#: and community, at the households' centre, sized by their sum.
PLAN_BUILDINGS_ABOVE = 5_000
#: About how many hexagons cover the district when a plan's buildings are aggregated.
PLAN_TARGET_CELLS = 2_500
#: Community fills (ColorBrewer Set3 without its grey): neighbours never share one.
COMMUNITY_PALETTE = (
    "#8dd3c7",
    "#fdb462",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#b3de69",
    "#fccde5",
    "#ffed6f",
    "#bc80bd",
    "#ccebc5",
)
_OUT_OF_BAND_COLOUR = "#d7191c"
_COMMUNITY_EDGE = "#333333"
_GRID_COLOUR = "#7f7f7f"
_PLAN_BUILDING_COLOUR = "#3b3b3b"
_SELECTED_COLOUR = "#111111"
_SELECTED_GRID_COLOUR = "#1f78b4"
_DIFF_COLOUR = "#e41a1c"
_SITE_COLOUR = "#d7191c"
#: Decimal places of the coordinates and the tolerance of the coverage simplification for plans.
_PLAN_SIMPLIFY_DEG = 4e-5
#: Neighbours for colouring: polygons closer than this (degrees, ~2 m; metres when projected).
_TOUCH_DEG = 2e-5
_TOUCH_M = 2.0
_DRAW_ASSETS = Path(__file__).resolve().parent / "assets" / "leaflet-draw"
_GAP_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")


def community_colours(
    communities: gpd.GeoDataFrame,
    *,
    id_column: str = "community_id",
    palette: Sequence[str] = COMMUNITY_PALETTE,
) -> dict[str, str]:
    """A fill per community such that communities that touch get different colours.

    Greedy colouring of the adjacency graph (polygons that share a border or a corner), in id
    order: each community takes the first colour of ``palette`` that none of its coloured
    neighbours has; a map needs a handful (four suffice for planar maps, greedy rarely needs
    more than six). Deterministic for the same polygons and ids.

    Parameters
    ----------
    communities : GeoDataFrame
        Polygons with ``id_column``, in any CRS (geographic or metric).

    Returns
    -------
    dict
        Colour (``#rrggbb``) per community id (as text).
    """
    ids = communities[id_column].astype(str).to_numpy(dtype=object)
    if len(ids) == 0:
        return {}
    geoms = np.asarray(communities.geometry.array, dtype=object)
    geographic = communities.crs is None or communities.crs.is_geographic
    tree = shapely.STRtree(geoms)
    left, right = tree.query(
        geoms, predicate="dwithin", distance=_TOUCH_DEG if geographic else _TOUCH_M
    )
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(ids))}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    order = sorted(range(len(ids)), key=lambda i: _natural_key(str(ids[i])))
    chosen: dict[int, int] = {}
    for i in order:
        used = [chosen[n] for n in neighbours[i] if n in chosen]
        free = [k for k in range(len(palette)) if k not in used]
        chosen[i] = free[0] if free else min(range(len(palette)), key=used.count)
    return {str(ids[i]): palette[k] for i, k in chosen.items()}


def _natural_key(text: str) -> tuple:
    """Sort key that puts C2 before C10."""
    parts = []
    number = ""
    for ch in text:
        if ch.isdigit():
            number += ch
            continue
        if number:
            parts.append((0, int(number), ""))
            number = ""
        parts.append((1, 0, ch))
    if number:
        parts.append((0, int(number), ""))
    return tuple(parts)


def _band_key(households: object, band: tuple[float, float] | None) -> str:
    """``"below"``, ``"in_band"`` or ``"above"`` (``"in_band"`` without a band or a count)."""
    if band is None or _missing(households):
        return "in_band"
    return band_status(float(households), band).replace(" ", "_")


def _coverage_compact(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify a coverage so that shared edges stay shared, then round for display."""
    try:
        simple = shapely.coverage_simplify(geoms, tolerance)
    except shapely.errors.GEOSException:
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    empty = shapely.is_empty(simple) | shapely.is_missing(simple)
    simple = np.where(empty, geoms, simple)
    return shapely.transform(simple, lambda c: np.round(c, COORD_DECIMALS))


def _plan_collection(gdf: gpd.GeoDataFrame, properties: dict[str, Sequence]) -> dict:
    """A FeatureCollection of a coverage (communities or grids), simplified as a coverage."""
    geoms = _coverage_compact(np.asarray(gdf.geometry.array, dtype=object), _PLAN_SIMPLIFY_DEG)
    features = []
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "properties": {name: _json_value(values[i]) for name, values in properties.items()},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _column(gdf: gpd.GeoDataFrame, name: str, default: object = None) -> list:
    if name in gdf.columns:
        return [None if _missing(v) else v for v in gdf[name].tolist()]
    return [default] * len(gdf)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _yes_no(value: object, lang: str) -> str:
    return text("map.tip.yes", lang) if bool(value) else text("map.tip.no", lang)


def _community_label(cid: str, households: object, lang: str, *, locked: bool) -> str:
    count = "—" if _missing(households) else f"{int(households):,}"
    unit = text("map.label.households", lang).format(n=count)
    lock = (
        f'<span class="lock">{html.escape(text("map.label.locked", lang))}</span>' if locked else ""
    )
    return f'<b>{html.escape(cid)}</b>{lock}<span class="hh"><br>{html.escape(unit)}</span>'


def _add_community_layer(
    fmap: folium.Map,
    communities: gpd.GeoDataFrame,
    *,
    colours: dict[str, str],
    band: tuple[float, float] | None,
    lang: str,
    name: str,
    labels: bool = True,
    fill_opacity: float = 0.45,
) -> None:
    ids = [str(v) for v in communities["community_id"].tolist()]
    households = _column(communities, "households")
    status = [_band_key(h, band) for h in households]
    locked = [bool(v) for v in _column(communities, "locked", False)]
    props = {
        "community_id": ids,
        "name": _column(communities, "name"),
        "street": _column(communities, "street"),
        "households": households,
        "grid_count": _column(communities, "grid_count"),
        "status": [text(f"map.status.{s}", lang) for s in status],
        "locked": [_yes_no(v, lang) for v in locked],
        "fill": [colours.get(i, COMMUNITY_PALETTE[0]) for i in ids],
        "edge": [_OUT_OF_BAND_COLOUR if s != "in_band" else _COMMUNITY_EDGE for s in status],
        "weight": [3.0 if s != "in_band" else 2.0 for s in status],
        "dash": ["6 4" if lock else "" for lock in locked],
    }
    collection = _plan_collection(communities, props)
    layer = folium.FeatureGroup(name=name, show=True)
    fields = ["community_id", "name", "street", "households", "grid_count", "status", "locked"]
    if "street" not in communities.columns:
        fields.remove("street")
    folium.GeoJson(
        collection,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": fill_opacity,
            "fill": True,
            "color": f["properties"]["edge"],
            "weight": f["properties"]["weight"],
            "dashArray": f["properties"]["dash"] or None,
            "opacity": 0.95,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=fields,
            aliases=[text(f"map.tip.{f}", lang) for f in fields],
            localize=True,
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(layer)
    if labels:
        points = shapely.point_on_surface(np.asarray(communities.geometry.array, dtype=object))
        _Labels(
            [
                (point, _community_label(cid, count, lang, locked=lock))
                for point, cid, count, lock in zip(points, ids, households, locked, strict=True)
            ]
        ).add_to(layer)
    layer.add_to(fmap)


def _add_grid_layer(fmap: folium.Map, grids: gpd.GeoDataFrame, lang: str) -> None:
    props = {
        "grid_id": [str(v) for v in grids["grid_id"].tolist()],
        "community_id": _column(grids, "community_id"),
        "households": _column(grids, "households"),
        "buildings": _column(grids, "buildings"),
    }
    collection = _plan_collection(grids, props)
    fields = list(props)
    folium.GeoJson(
        collection,
        name=text("map.layer.grids", lang),
        style_function=lambda _f: {
            "color": _GRID_COLOUR,
            "weight": 0.7,
            "opacity": 0.75,
            "dashArray": "3 3",
            "fill": True,
            "fillOpacity": 0.0,
        },
        highlight_function=lambda _f: {"weight": 2.5, "color": _SELECTED_GRID_COLOUR},
        tooltip=folium.GeoJsonTooltip(
            fields=fields,
            aliases=[text(f"map.tip.{f}", lang) for f in fields],
            localize=True,
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)


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
    _require_wgs84(buildings, "aggregate_buildings")
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


def _radius(households: np.ndarray, *, scale: float, largest: float) -> np.ndarray:
    """Circle radius (px) with area ∝ households, half-pixel steps."""
    return np.clip(np.round(2 * (1.0 + scale * np.sqrt(households))) / 2, 1.5, largest)


def _add_plan_buildings(
    fmap: folium.Map, buildings: gpd.GeoDataFrame, *, above: int, lang: str
) -> str:
    """Buildings as circles sized by households (aggregated when many); the legend row."""
    if len(buildings) > above:
        points, size_m = aggregate_buildings(buildings)
        frame = points.assign(
            radius=_radius(points["households"].to_numpy(dtype=float), scale=0.2, largest=10)
        )
        fields = ["community_id", "households", "buildings"]
        aliases = [text(f"map.tip.{f}", lang) for f in fields]
        name = text("map.layer.plan_buildings_aggregated", lang).format(size=int(size_m))
        legend = text("map.legend.plan_buildings_aggregated", lang).format(size=int(size_m))
    else:
        frame = buildings.assign(
            compound=_text_column(buildings, "compound"),
            grid_id=_text_column(buildings, "grid_id"),
            community_id=_text_column(buildings, "community_id"),
            radius=_radius(buildings["households"].to_numpy(dtype=float), scale=0.3, largest=8),
        )
        fields = ["building_id", "households", "compound", "community_id", "grid_id"]
        aliases = [
            text("map.tip.building", lang),
            text("map.tip.households", lang),
            text("map.tip.compound", lang),
            text("map.tip.community_id", lang),
            text("map.tip.grid_id", lang),
        ]
        name = text("map.layer.buildings", lang)
        legend = text("map.legend.buildings", lang)
    collection = _feature_collection(frame, [*fields, "radius"], simplify=False)
    for feature in collection["features"]:
        # Per-feature style read by Leaflet (folium's setStyle(feature.properties.style)):
        # thousands of circles need no Python style function, mapped again at every render.
        feature["properties"]["style"] = {"radius": feature["properties"].pop("radius")}
    folium.GeoJson(
        collection,
        name=name,
        marker=folium.CircleMarker(
            radius=3,
            color="#ffffff",
            weight=0.5,
            fill=True,
            fill_color=_PLAN_BUILDING_COLOUR,
            fill_opacity=0.55,
        ),
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, localize=True),
        zoom_on_click=False,
    ).add_to(fmap)
    return f"{_swatch(_PLAN_BUILDING_COLOUR, round_=True)}{legend}"


def _add_diff(fmap: folium.Map, diff: gpd.GeoDataFrame, lang: str) -> None:
    fields = ["from_community", "to_community", "households", "buildings"]
    frame = diff.assign(**{f: _text_column(diff, f) for f in fields})
    collection = _feature_collection(frame, fields, simplify=True)
    folium.GeoJson(
        collection,
        name=text("map.layer.diff", lang),
        style_function=lambda _f: {
            "color": _DIFF_COLOUR,
            "weight": 2,
            "fill": True,
            "fillColor": _DIFF_COLOUR,
            "fillOpacity": 0.45,
            "dashArray": "4 3",
        },
        tooltip=folium.GeoJsonTooltip(
            fields=fields, aliases=[text(f"map.tip.{f}", lang) for f in fields], localize=True
        ),
        zoom_on_click=False,
    ).add_to(fmap)


@functools.lru_cache(maxsize=1)
def _draw_assets() -> tuple[str, str]:
    """Leaflet.draw's JS and CSS (its sprites inlined) as ``data:`` URIs."""
    js = (_DRAW_ASSETS / "leaflet.draw.js").read_bytes()
    css = (_DRAW_ASSETS / "leaflet.draw.css").read_text(encoding="utf-8")
    mime = {".png": "image/png", ".svg": "image/svg+xml"}
    for image in ("spritesheet-2x.png", "spritesheet.png", "spritesheet.svg"):
        encoded = base64.b64encode((_DRAW_ASSETS / image).read_bytes()).decode("ascii")
        uri = f"data:{mime[Path(image).suffix]};base64,{encoded}"
        css = css.replace(f"url('images/{image}')", f"url('{uri}')")
    return (
        "data:text/javascript;base64," + base64.b64encode(js).decode("ascii"),
        "data:text/css;base64," + base64.b64encode(css.encode("utf-8")).decode("ascii"),
    )


class _DrawTexts(MacroElement):
    """Leaflet.draw's toolbar texts in the map's language (set before the control is made)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var t = {{ this.texts_json }};
            var d = L.drawLocal.draw;
            d.toolbar.buttons.polygon = t.polygon;
            d.toolbar.buttons.rectangle = t.rectangle;
            d.toolbar.actions.title = t.cancel_title;
            d.toolbar.actions.text = t.cancel;
            d.toolbar.finish.title = t.finish_title;
            d.toolbar.finish.text = t.finish;
            d.toolbar.undo.title = t.undo_title;
            d.toolbar.undo.text = t.undo;
            d.handlers.polygon.tooltip.start = t.start;
            d.handlers.polygon.tooltip.cont = t.cont;
            d.handlers.polygon.tooltip.end = t.end;
            d.handlers.rectangle.tooltip.start = t.rect;
            d.handlers.simpleshape.tooltip.end = t.release;
            var e = L.drawLocal.edit;
            e.toolbar.buttons.remove = t.remove;
            e.toolbar.buttons.removeDisabled = t.remove_disabled;
            e.toolbar.actions.save.text = t.save;
            e.toolbar.actions.cancel.text = t.cancel;
            e.toolbar.actions.clearAll.text = t.clear;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str):
        super().__init__()
        self._name = "PlannerDrawTexts"
        keys = [
            "polygon",
            "rectangle",
            "cancel_title",
            "cancel",
            "finish_title",
            "finish",
            "undo_title",
            "undo",
            "start",
            "cont",
            "end",
            "rect",
            "release",
            "remove",
            "remove_disabled",
            "save",
            "clear",
        ]
        self.texts_json = json.dumps(
            {k: text(f"map.draw.{k}", lang) for k in keys}, ensure_ascii=False
        )


def _add_draw(fmap: folium.Map, lang: str) -> None:
    from folium.plugins import Draw

    js, css = _draw_assets()
    _DrawTexts(lang).add_to(fmap)
    draw = Draw(
        export=False,
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "rectangle": {"shapeOptions": {"color": _SELECTED_GRID_COLOUR}},
            "polygon": {"shapeOptions": {"color": _SELECTED_GRID_COLOUR}},
        },
        edit_options={"edit": False},
    )
    draw.default_js = [("leaflet_draw_js", js)]
    draw.default_css = [("leaflet_draw_css", css)]
    draw.add_to(fmap)


def _label_zooms(communities: gpd.GeoDataFrame) -> dict[str, int]:
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


def _fit(fmap: folium.Map, frames: Sequence[gpd.GeoDataFrame]) -> None:
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return
    bounds = np.array([f.total_bounds for f in frames])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])


def plan_map(
    communities: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    diff: gpd.GeoDataFrame | None = None,
    band: tuple[float, float] | None = None,
    colours: dict[str, str] | None = None,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    lang: str = "zh",
    draw: bool = False,
    buildings_above: int = PLAN_BUILDINGS_ABOVE,
    legend_open: bool = True,
    layers_collapsed: bool = False,
) -> folium.Map:
    """A plan on a map: communities coloured apart and labelled, grids, buildings, layers.

    Parameters
    ----------
    communities : GeoDataFrame
        WGS84 polygons with ``community_id``, ``households`` and optionally ``name``,
        ``street``, ``grid_count``, ``locked``. Filled so that neighbours differ
        (:func:`community_colours`), labelled with id and households; outlined in red when
        outside ``band``, dashed when locked.
    grids : GeoDataFrame, optional
        WGS84 polygons with ``grid_id``, ``community_id``, ``households``, ``buildings``: thin
        outlines (a click on a grid selects it and its community).
    buildings : GeoDataFrame, optional
        WGS84 points with ``building_id``, ``households``, ``compound``, ``community_id``,
        ``grid_id``: circles with area ∝ households; above ``buildings_above`` one circle per
        hexagon and community.
    streets, barriers, facilities : GeoDataFrame, optional
        As for :func:`households_map`.
    diff : GeoDataFrame, optional
        Areas that changed hands between two plans (``from_community``, ``to_community``,
        ``households``, ``buildings``), drawn in red.
    band : (float, float), optional
        The community size band (households); communities outside it are outlined in red.
    colours : dict, optional
        Fill per community id (default: :func:`community_colours` of ``communities``).
    basemap, tianditu_key, lang
        As for :func:`households_map`; on ``"amap"`` every layer is shifted to GCJ-02.
    draw : bool
        Add a polygon / rectangle drawing tool (Leaflet.draw, inlined).
    legend_open, layers_collapsed : bool
        The legend starts unfolded (it folds on a click); the layer control starts open.

    Returns
    -------
    folium.Map
        With tooltips, a legend and a layer control, fitted to the communities.

    Raises
    ------
    PlanningInputError
        Unknown basemap, or Tianditu without a key.
    CRSError
        A layer not in WGS84.
    """
    fmap = _base_map(basemap, tianditu_key, lang)
    colours = colours or community_colours(communities)
    layers = {
        "communities": communities,
        "grids": grids,
        "buildings": buildings,
        "streets": subdistricts,
        "barriers": barriers,
        "facilities": facilities,
        "diff": diff,
    }
    shown = _displayed(layers, basemap)
    legend = [f"<b>{text('map.legend.title', lang)}</b>"]
    if "communities" in shown:
        _add_community_layer(
            fmap,
            shown["communities"],
            colours=colours,
            band=band,
            lang=lang,
            name=text("map.layer.plan_communities", lang),
        )
        sample = "".join(_swatch(c) for c in COMMUNITY_PALETTE[:4])
        legend.append(f"{sample}{text('map.legend.plan_communities', lang)}")
        if band is not None:
            legend.append(
                _swatch("", line=_OUT_OF_BAND_COLOUR)
                + text("map.legend.out_of_band", lang).format(
                    lower=f"{band[0]:,.0f}", upper=f"{band[1]:,.0f}"
                )
            )
        if "locked" in communities.columns and communities["locked"].astype(bool).any():
            legend.append(
                _swatch("", line=_COMMUNITY_EDGE, dash=True) + text("map.legend.locked", lang)
            )
    if "grids" in shown:
        _add_grid_layer(fmap, shown["grids"], lang)
        legend.append(_swatch("", line=_GRID_COLOUR, dash=True) + text("map.legend.grids", lang))
    if "streets" in shown:
        _add_polygons_with_labels(
            fmap,
            shown["streets"],
            name=text("map.layer.streets", lang),
            colour=_STREET_COLOUR,
            weight=2.5,
            dash="8 6",
            label_column=None,
            tooltip_fields=[("name", text("map.tip.street", lang))],
            css="street",
            interactive=False,
        )
        legend.append(
            _swatch("", line=_STREET_COLOUR, dash=True) + text("map.legend.streets", lang)
        )
    if "barriers" in shown:
        legend.extend(_add_barriers(fmap, shown["barriers"], lang))
    if "diff" in shown:
        _add_diff(fmap, shown["diff"], lang)
        legend.append(_swatch(_DIFF_COLOUR) + text("map.legend.diff", lang))
    if "buildings" in shown:
        legend.append(
            _add_plan_buildings(fmap, shown["buildings"], above=buildings_above, lang=lang)
        )
    if "facilities" in shown:
        _add_facilities(fmap, shown["facilities"], lang)
        legend.append(_swatch(_FACILITY_COLOUR, round_=True) + text("map.legend.facilities", lang))
    if draw:
        _add_draw(fmap, lang)
    _Legend(
        "<br>".join(legend[1:]), title=text("map.legend.title", lang), open_=legend_open
    ).add_to(fmap)
    folium.LayerControl(collapsed=layers_collapsed, position="topright").add_to(fmap)
    _ZoomClasses(**_label_zooms(communities)).add_to(fmap)
    _fit(fmap, [shown.get("communities"), shown.get("buildings")])
    return fmap


def view_map(view, layers: dict, *, band: tuple[float, float], **options) -> folium.Map:
    """:func:`plan_map` of a plan view (``communities``, ``grids``, ``buildings``,
    ``colours``) over the data's layers (``streets``, ``barriers``, ``facilities``);
    ``options`` go to :func:`plan_map` and override these (e.g. ``buildings=None``)."""
    arguments = {
        "grids": view.grids,
        "buildings": view.buildings,
        "subdistricts": layers.get("streets"),
        "barriers": layers.get("barriers"),
        "facilities": layers.get("facilities"),
        "colours": view.colours,
        "band": band,
    }
    arguments.update(options)
    return plan_map(view.communities, **arguments)


def selection_layer(
    communities: gpd.GeoDataFrame,
    selected: Sequence[str],
    *,
    grids: gpd.GeoDataFrame | None = None,
    grid_id: str | None = None,
    basemap: str = "osm",
    lang: str = "zh",
) -> folium.FeatureGroup:
    """The outline of the selected communities (and grid) as a layer to lay over a plan map.

    Meant for ``st_folium(feature_group_to_add=...)``: the plan map stays as it is (same
    view, no reload) while the selection changes.
    """
    group = folium.FeatureGroup(name=text("map.layer.selection", lang), control=False)
    wanted = {str(s) for s in selected}
    part = communities[communities["community_id"].astype(str).isin(wanted)]
    if not part.empty:
        shown = to_display(part, basemap)
        folium.GeoJson(
            _feature_collection(
                shown.assign(community_id=_text_column(shown, "community_id")),
                ["community_id"],
                simplify=True,
            ),
            style_function=lambda _f: {
                "color": _SELECTED_COLOUR,
                "weight": 4,
                "fill": False,
                "opacity": 1.0,
            },
            interactive=False,
        ).add_to(group)
    if grids is not None and grid_id is not None:
        cell = grids[grids["grid_id"].astype(str) == str(grid_id)]
        if not cell.empty:
            shown = to_display(cell, basemap)
            folium.GeoJson(
                _feature_collection(
                    shown.assign(grid_id=_text_column(shown, "grid_id")), ["grid_id"], simplify=True
                ),
                style_function=lambda _f: {
                    "color": _SELECTED_GRID_COLOUR,
                    "weight": 3,
                    "fill": True,
                    "fillOpacity": 0.15,
                    "fillColor": _SELECTED_GRID_COLOUR,
                },
                interactive=False,
            ).add_to(group)
    return group


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


def _gap_edges(gaps: np.ndarray) -> tuple[float, ...]:
    """Five class edges: thirds of the largest surplus (negative gaps), 0, thirds of the
    largest shortfall, each side on its own scale (rounded to 1, 2 or 5 × 10ⁿ m²)."""
    finite = gaps[np.isfinite(gaps)]
    surplus = float(_nice_number(float(-finite.min()))) if len(finite) and finite.min() < 0 else 3
    short = float(_nice_number(float(finite.max()))) if len(finite) and finite.max() > 0 else 3
    return (-2 * surplus / 3, -surplus / 3, 0.0, short / 3, 2 * short / 3)


def _gap_class(gap: float, edges: Sequence[float]) -> str:
    """Green for a surplus, red for a shortfall (six classes around zero)."""
    if _missing(gap):
        return "#cccccc"
    for colour, edge in zip(_GAP_COLOURS, edges, strict=False):
        if gap <= edge:
            return colour
    return _GAP_COLOURS[-1]


def gap_map(
    report: gpd.GeoDataFrame,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    lang: str = "zh",
) -> folium.Map:
    """A choropleth of each community's facility-area gap, with facilities and suggested sites.

    Parameters
    ----------
    report : GeoDataFrame
        ``ComplianceResult.communities`` (WGS84): ``community_id``, ``name``, ``households``,
        ``required_area_m2``, ``facility_area_m2``, ``gap_m2``, ``suggested_site_lon``,
        ``suggested_site_lat``, ``suggested_building_id``.
    facilities : GeoDataFrame, optional
        ``ComplianceResult.facilities`` (WGS84).

    Returns
    -------
    folium.Map
        Red where the area falls short, green where it exceeds the requirement; suggested
        sites as red rings; a legend and a layer control. No network beyond the basemap.
    """
    fmap = _base_map(basemap, tianditu_key, lang)
    shown = to_display(report, basemap)
    gaps = pd.to_numeric(report["gap_m2"], errors="coerce").to_numpy(dtype=float)
    edges = _gap_edges(gaps)
    fields = [
        "community_id",
        "name",
        "households",
        "required_area_m2",
        "facility_area_m2",
        "gap_m2",
    ]
    frame = shown.assign(
        **{f: _text_column(shown, f) for f in fields},
        colour=[_gap_class(g, edges) for g in gaps],
    )
    collection = _feature_collection(frame, [*fields, "colour"], simplify=True)
    folium.GeoJson(
        collection,
        name=text("map.layer.gap", lang),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.7,
            "fill": True,
            "color": "#444444",
            "weight": 1.2,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=fields,
            aliases=[text(f"map.tip.{f}", lang) for f in fields],
            localize=True,
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)
    labels = folium.FeatureGroup(name=text("map.layer.gap_labels", lang), show=True)
    points = shapely.point_on_surface(np.asarray(shown.geometry.array, dtype=object))
    values = ["—" if not np.isfinite(g) else f"{g:+,.0f} m²" for g in gaps]
    _Labels(
        [
            (point, f'<b>{html.escape(cid)}</b><span class="hh"><br>{html.escape(value)}</span>')
            for point, cid, value in zip(
                points, shown["community_id"].astype(str), values, strict=True
            )
        ]
    ).add_to(labels)
    labels.add_to(fmap)
    if subdistricts is not None and not subdistricts.empty:
        _add_polygons_with_labels(
            fmap,
            to_display(subdistricts, basemap),
            name=text("map.layer.streets", lang),
            colour=_STREET_COLOUR,
            weight=2.5,
            dash="8 6",
            label_column=None,
            tooltip_fields=[("name", text("map.tip.street", lang))],
            css="street",
            interactive=False,
        )
    if facilities is not None and not facilities.empty:
        _add_facilities(fmap, to_display(facilities, basemap), lang)
    lon = pd.to_numeric(report["suggested_site_lon"], errors="coerce")
    lat = pd.to_numeric(report["suggested_site_lat"], errors="coerce")
    has_site = (lon.notna() & lat.notna()).to_numpy()
    if has_site.any():
        sites = gpd.GeoDataFrame(
            {
                "community_id": report["community_id"].astype(str).to_numpy()[has_site],
                "name": _text_column(report, "name").to_numpy()[has_site],
                "suggested_building_id": _text_column(report, "suggested_building_id").to_numpy()[
                    has_site
                ],
                "gap_m2": report["gap_m2"].to_numpy()[has_site],
            },
            geometry=gpd.points_from_xy(lon[has_site], lat[has_site]),
            crs="EPSG:4326",
        )
        site_fields = ["community_id", "name", "suggested_building_id", "gap_m2"]
        folium.GeoJson(
            _feature_collection(to_display(sites, basemap), site_fields, simplify=False),
            name=text("map.layer.sites", lang),
            marker=folium.CircleMarker(radius=8, fill=True),
            style_function=lambda _f: {
                "radius": 8,
                "color": _SITE_COLOUR,
                "weight": 3,
                "fill": True,
                "fillColor": "#ffffff",
                "fillOpacity": 0.9,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=site_fields,
                aliases=[text(f"map.tip.site_{f}", lang) for f in site_fields],
                localize=True,
            ),
            zoom_on_click=False,
        ).add_to(fmap)
    rows = [f"<b>{text('map.legend.gap', lang)}</b>"]
    spans = [
        f"≤ {edges[0]:+,.0f}",
        f"{edges[0]:+,.0f} – {edges[1]:+,.0f}",
        f"{edges[1]:+,.0f} – 0",
        f"0 – {edges[3]:+,.0f}",
        f"{edges[3]:+,.0f} – {edges[4]:+,.0f}",
        f"> {edges[4]:+,.0f}",
    ]
    rows += [f"{_swatch(c)}{s} m²" for c, s in zip(_GAP_COLOURS, spans, strict=True)]
    rows.append(text("map.legend.gap_hint", lang))
    if has_site.any():
        rows.append(
            f'<i style="border: 3px solid {_SITE_COLOUR}; border-radius: 50%; width: 8px; '
            f'height: 8px; background: #fff;"></i>{text("map.legend.sites", lang)}'
        )
    if facilities is not None and not facilities.empty:
        rows.append(_swatch(_FACILITY_COLOUR, round_=True) + text("map.legend.facilities", lang))
    _Legend("<br>".join(rows[1:]), title=text("map.legend.gap", lang)).add_to(fmap)
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    _ZoomClasses(**_label_zooms(report)).add_to(fmap)
    _fit(fmap, [shown])
    return fmap


class _Labels(MacroElement):
    """Many text labels as one element: ``L.divIcon`` markers made in a loop in the browser.

    One folium Marker per label would make three elements each, and every element compiles a
    template each time the map is rendered (streamlit-folium renders it three times a run).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this._parent.get_name() }};
            {{ this.labels_json }}.forEach(function (label) {
                L.marker([label[0], label[1]], {
                    interactive: false,
                    keyboard: false,
                    icon: L.divIcon({
                        html: '<div class="planner-label plan">' + label[2] + "</div>",
                        className: "planner-label-icon",
                        iconSize: [0, 0]
                    })
                }).addTo(layer);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, labels: Sequence[tuple[shapely.Point, str]]):
        super().__init__()
        self._name = "PlannerLabels"
        rows = [
            [round(point.y, COORD_DECIMALS), round(point.x, COORD_DECIMALS), body]
            for point, body in labels
            if point is not None and not shapely.is_empty(point)
        ]
        self.labels_json = json.dumps(rows, ensure_ascii=False).replace("</", "<\\/")
