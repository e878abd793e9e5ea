"""Folium maps of a district and its plans (no streamlit here, so they are unit-tested like the
rest of the library).

Pure functions from WGS84 GeoDataFrames to :class:`folium.Map` objects. What is drawn is
bounded whatever the input: many buildings are binned into hexagons, polygons and lines are
simplified and every coordinate is rounded before it is serialised.

One module per map, over shared parts:

- :mod:`ui.maps.households`: the data map (buildings and the data's layers);
- :mod:`ui.maps.plan`: plan maps (communities, grids, buildings, layers), drawn from a table
  of layers; :mod:`ui.maps.selection` the selection laid over one, :mod:`ui.maps.draw` its
  drawing tool, :mod:`ui.maps.colours` the community fills;
- :mod:`ui.maps.gap`: the facility-gap map of the Standards page;
- shared: :mod:`ui.maps.base` (basemaps, Leaflet inlined), :mod:`ui.maps.style` (colours,
  legend, labels), :mod:`ui.maps.layers` (layers several maps draw), :mod:`ui.maps.display`
  (the Amap shift, views), :mod:`ui.maps.features` (GeoJSON), :mod:`ui.maps.hexagons`
  (binning).
"""

from ui.maps.base import AMAP_TILES, BASEMAPS, TIANDITU_LABELS, TIANDITU_TILES
from ui.maps.colours import COMMUNITY_PALETTE, community_colours
from ui.maps.display import display_bounds, from_display, to_display, view_for
from ui.maps.gap import gap_map
from ui.maps.hexagons import TARGET_CELLS, aggregate_buildings, hexagon_cells
from ui.maps.households import AGGREGATE_ABOVE, households_map
from ui.maps.plan import (
    PLAN_BUILDINGS_ABOVE,
    PLAN_LAYERS,
    add_plan_layers,
    plan_base,
    plan_extent,
    plan_map,
    view_frames,
    view_map,
)
from ui.maps.selection import selection_layer

__all__ = [
    "AGGREGATE_ABOVE",
    "AMAP_TILES",
    "BASEMAPS",
    "COMMUNITY_PALETTE",
    "PLAN_BUILDINGS_ABOVE",
    "PLAN_LAYERS",
    "TARGET_CELLS",
    "TIANDITU_LABELS",
    "TIANDITU_TILES",
    "add_plan_layers",
    "aggregate_buildings",
    "community_colours",
    "display_bounds",
    "from_display",
    "gap_map",
    "hexagon_cells",
    "households_map",
    "plan_base",
    "plan_extent",
    "plan_map",
    "selection_layer",
    "to_display",
    "view_for",
    "view_frames",
    "view_map",
]
