"""The base map every map starts from: the basemap tiles, Leaflet inlined, the shared CSS.

Basemaps: OpenStreetMap, Amap (GCJ-02: layers are shifted before drawing, see
:mod:`ui.maps.display`), Tianditu (with the user's key) and none (white; needs no network,
since Leaflet itself is inlined from ``ui/assets/leaflet`` rather than fetched from a CDN).
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from urllib.parse import quote

import folium
from branca.element import Element

from geo.errors import PlanningInputError
from ui.i18n import text

__all__ = ["AMAP_TILES", "BASEMAPS", "TIANDITU_LABELS", "TIANDITU_TILES", "base_map"]

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

_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "leaflet"

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
.planner-legend { background: rgba(255, 255, 255, 0.88); padding: 4px 7px; border-radius: 4px;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.3); font-size: 11px; line-height: 15px; color: #222; }
.planner-legend b { display: block; margin-bottom: 2px; }
.planner-legend details { font-size: 10px; line-height: 13px; max-width: 300px; }
.planner-legend details .rows { column-count: 1; max-height: 180px; overflow-y: auto; }
.planner-legend summary { cursor: pointer; font-weight: 700; font-size: 11px; }
.planner-label.plan .band { color: #d7191c; font-weight: 700; }
.planner-far .planner-label.plan .hh, .planner-far .planner-label.plan .lock,
.planner-very-far .planner-label.plan { display: none; }
.planner-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 5px;
  vertical-align: middle; }
</style>
"""


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


def base_map(basemap: str, tianditu_key: str | None, lang: str) -> folium.Map:
    """An empty map on ``basemap`` (Leaflet inlined, the shared CSS), its tiles named in
    ``lang``.

    Raises
    ------
    PlanningInputError
        Unknown basemap, or Tianditu without a key.
    """
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
