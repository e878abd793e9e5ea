"""Layers more than one map draws: outlines with labels, 街道 (sub-district) outlines, barriers
and facilities. Each adds itself to a map and returns its legend row(s)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from ui.i18n import text
from ui.maps.features import COORD_DECIMALS, feature_collection, text_column
from ui.maps.style import FACILITY_COLOUR, STREET_COLOUR, swatch

__all__ = ["add_barriers", "add_facilities", "add_polygons_with_labels", "add_streets"]

_MAJOR_ROADS = frozenset(
    {"motorway", "trunk", "primary", "secondary", "主干路", "快速路", "次干路"}
)
_MINOR_ROAD_STYLE = {"color": "#b3b3b3", "weight": 1.5, "dashArray": None}
_BARRIER_STYLE = {
    "road": {"color": "#7a7a7a", "weight": 3, "dashArray": None},
    "river": {"color": "#2b83ba", "weight": 4, "dashArray": None},
    "railway": {"color": "#222222", "weight": 2.5, "dashArray": "8 5"},
}


def _label(fmap_layer: folium.FeatureGroup, point: shapely.Point, name: str, css: str) -> None:
    """A text label at ``point`` (not clickable), styled by ``css``."""
    folium.Marker(
        location=(round(point.y, COORD_DECIMALS), round(point.x, COORD_DECIMALS)),
        icon=folium.DivIcon(
            html=f'<div class="planner-label {css}">{html.escape(name)}</div>',
            icon_size=(0, 0),
            class_name="planner-label-icon",
        ),
        interactive=False,
    ).add_to(fmap_layer)


def add_polygons_with_labels(
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
    frame = gdf.assign(**{f: text_column(gdf, f) for f, _ in tooltip_fields})
    collection = feature_collection(frame, [f for f, _ in tooltip_fields], simplify=True)
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
        names = text_column(gdf, label_column)
        points = shapely.point_on_surface(np.asarray(gdf.geometry.array))
        for point, label in zip(points, names, strict=True):
            if label and not shapely.is_empty(point):
                _label(layer, point, str(label), css)
    layer.add_to(fmap)


def add_streets(fmap: folium.Map, streets: gpd.GeoDataFrame, lang: str, *, labelled: bool) -> str:
    """街道 (sub-district) outlines, dashed, not clickable (they lie over the other layers),
    labelled with their names when ``labelled``; the legend row."""
    add_polygons_with_labels(
        fmap,
        streets,
        name=text("map.layer.streets", lang),
        colour=STREET_COLOUR,
        weight=2.5,
        dash="8 6",
        label_column="name" if labelled else None,
        tooltip_fields=[("name", text("map.tip.street", lang))],
        css="street",
        interactive=False,
    )
    return swatch("", line=STREET_COLOUR, dash=True) + text("map.legend.streets", lang)


def add_barriers(fmap: folium.Map, barriers: gpd.GeoDataFrame, lang: str) -> list[str]:
    """Barrier lines styled by ``kind`` (road, river, railway; minor roads thinner); the
    legend rows."""
    layer = folium.FeatureGroup(name=text("map.layer.barriers", lang), show=True)
    rows = []
    kinds = text_column(barriers, "kind").fillna("road")
    for kind, style in _BARRIER_STYLE.items():
        part = barriers[(kinds == kind).to_numpy()]
        if part.empty:
            continue
        frame = part.assign(
            name=text_column(part, "name"), road_class=text_column(part, "road_class")
        )
        collection = feature_collection(frame, ["name", "road_class"], simplify=True)
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
            swatch("", line=style["color"], dash=style["dashArray"] is not None)
            + text(f"map.legend.{kind}", lang)
        )
        if kind == "road":
            rows.append(
                swatch("", line=_MINOR_ROAD_STYLE["color"]) + text("map.legend.minor_road", lang)
            )
    layer.add_to(fmap)
    return rows


def add_facilities(fmap: folium.Map, facilities: gpd.GeoDataFrame, lang: str) -> str:
    """Facilities as purple dots with their name, type and floor area; the legend row."""
    fields = ["name", "type", "floor_area_m2"]
    frame = facilities.assign(**{f: text_column(facilities, f) for f in fields})
    collection = feature_collection(frame, fields, simplify=True)
    folium.GeoJson(
        collection,
        name=text("map.layer.facilities", lang),
        marker=folium.CircleMarker(radius=6, fill=True),
        style_function=lambda _f: {
            "radius": 6,
            "color": "#ffffff",
            "weight": 1.5,
            "fill": True,
            "fillColor": FACILITY_COLOUR,
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
    return swatch(FACILITY_COLOUR, round_=True) + text("map.legend.facilities", lang)
