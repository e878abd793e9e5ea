"""The data map: a loaded district's buildings (as circles, or hexagon cells when many), with
whichever of its layers are given (街道 outlines, barriers, facilities, existing communities)."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np

from ui.i18n import text
from ui.maps.base import base_map
from ui.maps.display import displayed, fit_to
from ui.maps.features import feature_collection, text_column
from ui.maps.hexagons import hexagon_cells
from ui.maps.layers import add_barriers, add_facilities, add_polygons_with_labels, add_streets
from ui.maps.style import Legend, nice_number, swatch

__all__ = ["AGGREGATE_ABOVE", "households_map"]

#: Above this many buildings they are drawn as hexagon cells, never as one marker each.
AGGREGATE_ABOVE = 3_000

_CELL_COLOURS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
_BUILDING_COLOUR = "#2166ac"
_COMMUNITY_COLOUR = "#e66101"


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
    fmap = base_map(basemap, tianditu_key, lang)
    layers = {
        "buildings": buildings,
        "streets": subdistricts,
        "barriers": barriers,
        "facilities": facilities,
        "communities": communities,
    }
    shown = displayed(layers, basemap)
    legend = [f"<b>{text('map.legend.title', lang)}</b>"]
    if "barriers" in shown:
        legend.extend(add_barriers(fmap, shown["barriers"], lang))
    if "communities" in shown:
        _add_existing_communities(fmap, shown["communities"], lang)
    if "buildings" in shown:
        legend.insert(
            1, _add_buildings(fmap, shown["buildings"], aggregate_above=aggregate_above, lang=lang)
        )
    if "streets" in shown:
        legend.append(add_streets(fmap, shown["streets"], lang, labelled=True))
    if "communities" in shown:
        legend.append(swatch("", line=_COMMUNITY_COLOUR) + text("map.legend.communities", lang))
    if "facilities" in shown:
        legend.append(add_facilities(fmap, shown["facilities"], lang))
    Legend(legend[0] + "<br>".join(legend[1:])).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    fit_to(fmap, list(shown.values()))
    return fmap


def _add_existing_communities(fmap: folium.Map, communities: gpd.GeoDataFrame, lang: str) -> None:
    """The communities of the data (as they are today): outlines labelled with their names."""
    add_polygons_with_labels(
        fmap,
        communities,
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


def _add_buildings(
    fmap: folium.Map, buildings: gpd.GeoDataFrame, *, aggregate_above: int, lang: str
) -> str:
    """Draw the buildings (hexagon cells above ``aggregate_above``); return their legend rows."""
    if len(buildings) > aggregate_above:
        return _add_cells(fmap, buildings, lang)
    return _add_building_circles(fmap, buildings, lang)


def _add_cells(fmap: folium.Map, buildings: gpd.GeoDataFrame, lang: str) -> str:
    """Hexagon cells coloured by households; the legend rows (size, then one per class)."""
    wgs84 = buildings if buildings.crs is not None else buildings.set_crs(4326)
    cells, size_m = hexagon_cells(wgs84)
    breaks = _class_breaks(cells["households"].to_numpy())
    cells["colour"] = [_CELL_COLOURS[_class_of(v, breaks)] for v in cells["households"]]
    collection = feature_collection(cells, ["households", "buildings", "colour"], simplify=False)
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
        rows.append(f"{swatch(colour)}{span}")
        lower = upper + 1
    return "<br>".join(rows)


def _add_building_circles(fmap: folium.Map, buildings: gpd.GeoDataFrame, lang: str) -> str:
    """One circle per building, radius ∝ √households; the legend row."""
    frame = buildings.assign(
        compound=text_column(buildings, "compound"),
        radius=np.clip(
            np.round(2 * (1.5 + 0.8 * np.sqrt(buildings["households"].to_numpy()))) / 2, 2, 16
        ),
    )
    collection = feature_collection(
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
    return f"{swatch(_BUILDING_COLOUR, round_=True)}{text('map.legend.buildings', lang)}"


def _class_breaks(values: np.ndarray, classes: int = len(_CELL_COLOURS)) -> list[int]:
    """Ascending upper bounds of up to ``classes`` colour classes; the last is the maximum."""
    top = int(values.max()) if len(values) else 1
    quantiles = np.quantile(values, np.arange(1, classes) / classes) if len(values) else []
    breaks = sorted({nice_number(float(v)) for v in quantiles if nice_number(float(v)) < top})
    return [*breaks, top]


def _class_of(value: float, breaks: Sequence[int]) -> int:
    for i, upper in enumerate(breaks):
        if value <= upper:
            return i
    return len(breaks) - 1
