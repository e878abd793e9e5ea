"""The selection on the Edit map: the outline of the chosen communities (and grid) and the
buildings brushed together, as a layer laid over the plan map without reloading it."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd

from ui.i18n import text
from ui.maps.display import to_display
from ui.maps.features import feature_collection, text_column
from ui.maps.style import SELECTED_GRID_COLOUR

__all__ = ["BRUSHED_COLOUR", "selection_layer"]

_SELECTED_COLOUR = "#111111"
#: The buildings brushed together: a colour no community fill or status uses.
BRUSHED_COLOUR = "#00bcd4"


def selection_layer(
    communities: gpd.GeoDataFrame,
    selected: Sequence[str],
    *,
    grids: gpd.GeoDataFrame | None = None,
    grid_id: str | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    brushed: Sequence[str] = (),
    basemap: str = "osm",
    lang: str = "zh",
) -> folium.FeatureGroup:
    """The outline of the selected communities (and grid), and a dot on each building of
    ``buildings`` whose ``building_id`` is in ``brushed``, as a layer to lay over a plan map.

    Meant for ``st_folium(feature_group_to_add=...)``: the plan map stays as it is (same
    view, no reload) while the selection changes.
    """
    group = folium.FeatureGroup(name=text("map.layer.selection", lang), control=False)
    wanted = {str(s) for s in selected}
    part = communities[communities["community_id"].astype(str).isin(wanted)]
    if not part.empty:
        shown = to_display(part, basemap)
        folium.GeoJson(
            feature_collection(
                shown.assign(community_id=text_column(shown, "community_id")),
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
                feature_collection(
                    shown.assign(grid_id=text_column(shown, "grid_id")), ["grid_id"], simplify=True
                ),
                style_function=lambda _f: {
                    "color": SELECTED_GRID_COLOUR,
                    "weight": 3,
                    "fill": True,
                    "fillOpacity": 0.15,
                    "fillColor": SELECTED_GRID_COLOUR,
                },
                interactive=False,
            ).add_to(group)
    if buildings is not None and len(brushed):
        _add_brushed(group, buildings, brushed, basemap)
    return group


def _add_brushed(
    group: folium.FeatureGroup, buildings: gpd.GeoDataFrame, brushed: Sequence[str], basemap: str
) -> None:
    """A ring on each brushed building (not clickable: a click goes to the building below)."""
    part = buildings[buildings["building_id"].astype(str).isin({str(b) for b in brushed})]
    if part.empty:
        return
    shown = to_display(part[["building_id", "geometry"]], basemap)
    folium.GeoJson(
        feature_collection(
            shown.assign(building_id=text_column(shown, "building_id")),
            ["building_id"],
            simplify=False,
        ),
        marker=folium.CircleMarker(
            radius=7, color=BRUSHED_COLOUR, weight=3, fill=True, fill_opacity=0.35
        ),
        interactive=False,
    ).add_to(group)
