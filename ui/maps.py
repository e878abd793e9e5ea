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

from geo.crs import metric_crs_for, wgs84_to_gcj02
from geo.errors import CRSError, PlanningInputError
from ui.i18n import text

__all__ = [
    "AGGREGATE_ABOVE",
    "AMAP_TILES",
    "BASEMAPS",
    "TIANDITU_LABELS",
    "TIANDITU_TILES",
    "hexagon_cells",
    "households_map",
    "to_display",
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
.planner-legend { background: rgba(255, 255, 255, 0.92); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); font-size: 12px; line-height: 18px; color: #222; }
.planner-legend b { display: block; margin-bottom: 4px; }
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


def _feature_collection(
    gdf: gpd.GeoDataFrame, properties: Sequence[str], *, simplify: bool
) -> dict:
    """A GeoJSON FeatureCollection with an ``id`` per feature and escaped text properties."""
    geoms = _compact(np.asarray(gdf.geometry.array), simplify=simplify)
    columns = {name: gdf[name].tolist() for name in properties}
    features = []
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        props = {name: _json_value(columns[name][i]) for name in properties}
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "properties": props,
                "geometry": shapely.geometry.mapping(geom),
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
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, body: str):
        super().__init__()
        self._name = "PlannerLegend"
        self.body_json = json.dumps(body, ensure_ascii=False)


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
    label_column: str,
    tooltip_fields: Sequence[tuple[str, str]],
    css: str,
) -> None:
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
        ),
        zoom_on_click=False,
    ).add_to(layer)
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


def households_map(
    buildings: gpd.GeoDataFrame,
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    streets: gpd.GeoDataFrame | None = None,
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
        "streets": streets,
        "barriers": barriers,
        "facilities": facilities,
        "communities": communities,
    }
    shown = {
        name: to_display(gdf, basemap)
        for name, gdf in layers.items()
        if gdf is not None and not gdf.empty
    }
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
