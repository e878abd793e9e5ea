"""Plan maps: communities coloured apart and labelled, grids, buildings, the data's layers, the
areas that changed hands, a drawing tool.

A plan map is drawn from a table of layers, :data:`PLAN_LAYERS`: each row names a frame of
:func:`plan_map`'s ``layers`` and the function that draws it (and returns its legend rows), in
the order they are drawn (later ones on top).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.errors import PlanningInputError
from planning import band_status
from ui.i18n import text
from ui.maps.base import base_map
from ui.maps.colours import COMMUNITY_PALETTE, community_colours
from ui.maps.display import displayed, label_zooms
from ui.maps.draw import add_draw
from ui.maps.features import (
    COORD_DECIMALS,
    PointColumns,
    feature_collection,
    json_value,
    missing,
    once_per_frame,
    text_column,
)
from ui.maps.hexagons import aggregate_buildings
from ui.maps.layers import add_barriers, add_facilities, add_streets
from ui.maps.style import SELECTED_GRID_COLOUR, Labels, Legend, ZoomClasses, swatch

__all__ = [
    "EXTENT_DECIMALS",
    "PLAN_BUILDINGS_ABOVE",
    "PLAN_LAYERS",
    "PlanLayer",
    "PlanStyle",
    "add_plan_layers",
    "plan_base",
    "plan_extent",
    "plan_map",
    "view_frames",
    "view_map",
]

#: Up to this many buildings a plan map draws one circle each; above, one circle per hexagon
#: and community, at the households' centre, sized by their sum.
PLAN_BUILDINGS_ABOVE = 5_000
_OUT_OF_BAND_COLOUR = "#d7191c"
_COMMUNITY_EDGE = "#333333"
_GRID_COLOUR = "#7f7f7f"
_PLAN_BUILDING_COLOUR = "#3b3b3b"
_DIFF_COLOUR = "#e41a1c"
#: Decimal places of a plan map's extent (about 10 m): the view it is fitted to.
EXTENT_DECIMALS = 4
#: Decimal places of the coordinates and the tolerance of the coverage simplification for plans.
_PLAN_SIMPLIFY_DEG = 4e-5


@dataclass(frozen=True)
class PlanStyle:
    """What every layer of one plan map is drawn with.

    Attributes
    ----------
    lang
        Language of the legend, tooltips and layer names.
    band
        The community size band (households), or ``None``: communities outside it are
        outlined in red.
    colours
        Fill per community id.
    buildings_above
        Above this many buildings, one circle per hexagon and community.
    """

    lang: str
    band: tuple[float, float] | None
    colours: dict[str, str]
    buildings_above: int


@dataclass(frozen=True)
class PlanLayer:
    """One row of :data:`PLAN_LAYERS`: the key of a frame in :func:`plan_map`'s ``layers``,
    and ``draw(fmap, frame, style)``, which adds the frame (already where it is drawn) to the
    map and returns its legend rows."""

    key: str
    draw: Callable[[folium.Map, gpd.GeoDataFrame, PlanStyle], list[str]]


# ---------------------------------------------------------------------------------------------
# The layers


def _draw_communities(
    fmap: folium.Map, communities: gpd.GeoDataFrame, style: PlanStyle
) -> list[str]:
    """The communities, filled and labelled; legend: the fills, out of band, locked."""
    lang, band = style.lang, style.band
    _add_community_layer(
        fmap,
        communities,
        colours=style.colours,
        band=band,
        lang=lang,
        name=text("map.layer.plan_communities", lang),
    )
    sample = "".join(swatch(c) for c in COMMUNITY_PALETTE[:4])
    rows = [f"{sample}{text('map.legend.plan_communities', lang)}"]
    if band is not None:
        rows.append(
            swatch("", line=_OUT_OF_BAND_COLOUR, thick=True)
            + text("map.legend.out_of_band_marked", lang).format(
                lower=f"{band[0]:,.0f}", upper=f"{band[1]:,.0f}"
            )
        )
    if "locked" in communities.columns and communities["locked"].astype(bool).any():
        rows.append(swatch("", line=_COMMUNITY_EDGE, dash=True) + text("map.legend.locked", lang))
    return rows


def _draw_grids(fmap: folium.Map, grids: gpd.GeoDataFrame, style: PlanStyle) -> list[str]:
    _add_grid_layer(fmap, grids, style.lang)
    return [swatch("", line=_GRID_COLOUR, dash=True) + text("map.legend.grids", style.lang)]


def _draw_streets(fmap: folium.Map, streets: gpd.GeoDataFrame, style: PlanStyle) -> list[str]:
    return [add_streets(fmap, streets, style.lang, labelled=False)]


def _draw_barriers(fmap: folium.Map, barriers: gpd.GeoDataFrame, style: PlanStyle) -> list[str]:
    return add_barriers(fmap, barriers, style.lang)


def _draw_diff(fmap: folium.Map, diff: gpd.GeoDataFrame, style: PlanStyle) -> list[str]:
    _add_diff(fmap, diff, style.lang)
    return [swatch(_DIFF_COLOUR) + text("map.legend.diff", style.lang)]


def _draw_buildings(fmap: folium.Map, buildings: gpd.GeoDataFrame, style: PlanStyle) -> list[str]:
    return [_add_plan_buildings(fmap, buildings, above=style.buildings_above, lang=style.lang)]


def _draw_facilities(fmap: folium.Map, facilities: gpd.GeoDataFrame, style: PlanStyle) -> list[str]:
    return [add_facilities(fmap, facilities, style.lang)]


def _band_key(households: object, band: tuple[float, float] | None) -> str:
    """``"below"``, ``"in_band"`` or ``"above"`` (``"in_band"`` without a band or a count)."""
    if band is None or missing(households):
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
                "properties": {name: json_value(values[i]) for name, values in properties.items()},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _column(gdf: gpd.GeoDataFrame, name: str, default: object = None) -> list:
    if name in gdf.columns:
        return [None if missing(v) else v for v in gdf[name].tolist()]
    return [default] * len(gdf)


def _yes_no(value: object, lang: str) -> str:
    return text("map.tip.yes", lang) if bool(value) else text("map.tip.no", lang)


def _community_label(
    cid: str, households: object, lang: str, *, locked: bool, status: str = "in_band"
) -> str:
    """A community's label: its id (and a lock when locked), then its households, marked
    above / below when outside the band."""
    count = "—" if missing(households) else f"{int(households):,}"
    unit = text("map.label.households", lang).format(n=count)
    lock = (
        f'<span class="lock">{html.escape(text("map.label.locked", lang))}</span>' if locked else ""
    )
    band = (
        f' <span class="band">{html.escape(text(f"map.label.{status}", lang))}</span>'
        if status in ("above", "below")
        else ""
    )
    return f'<b>{html.escape(cid)}</b>{lock}<span class="hh"><br>{html.escape(unit)}{band}</span>'


def _add_community_layer(
    fmap: folium.Map,
    communities: gpd.GeoDataFrame,
    *,
    colours: dict[str, str],
    band: tuple[float, float] | None,
    lang: str,
    name: str,
) -> None:
    """The communities filled apart, outlined by band status (dashed when locked), with
    tooltips and a label each (id, lock, households)."""
    collection, labels = once_per_frame(
        communities,
        ("communities", band, lang, tuple(sorted(colours.items()))),
        lambda: _community_features(communities, colours=colours, band=band, lang=lang),
    )
    layer = folium.FeatureGroup(name=name, show=True)
    fields = ["community_id", "name", "street", "households", "grid_count", "status", "locked"]
    if "street" not in communities.columns:
        fields.remove("street")
    folium.GeoJson(
        collection,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.45,
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
    Labels(labels).add_to(layer)
    layer.add_to(fmap)


def _community_features(
    communities: gpd.GeoDataFrame,
    *,
    colours: dict[str, str],
    band: tuple[float, float] | None,
    lang: str,
) -> tuple[dict, list]:
    """The communities' FeatureCollection (fill, edge, dash and tooltip values per feature)
    and their labels (a point inside each, the label's HTML)."""
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
        "weight": [5.0 if s != "in_band" else 2.0 for s in status],
        "dash": ["6 4" if lock else "" for lock in locked],
    }
    points = shapely.point_on_surface(np.asarray(communities.geometry.array, dtype=object))
    labels = [
        (point, _community_label(cid, count, lang, locked=lock, status=band_status))
        for point, cid, count, lock, band_status in zip(
            points, ids, households, locked, status, strict=True
        )
    ]
    return _plan_collection(communities, props), labels


def _add_grid_layer(fmap: folium.Map, grids: gpd.GeoDataFrame, lang: str) -> None:
    """The grids as thin dashed outlines, clickable, with tooltips."""
    fields = ["grid_id", "community_id", "households", "buildings"]

    def features() -> dict:
        props = {
            "grid_id": [str(v) for v in grids["grid_id"].tolist()],
            "community_id": _column(grids, "community_id"),
            "households": _column(grids, "households"),
            "buildings": _column(grids, "buildings"),
        }
        return _plan_collection(grids, props)

    collection = once_per_frame(grids, "grids", features)
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
        highlight_function=lambda _f: {"weight": 2.5, "color": SELECTED_GRID_COLOUR},
        tooltip=folium.GeoJsonTooltip(
            fields=fields,
            aliases=[text(f"map.tip.{f}", lang) for f in fields],
            localize=True,
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)


def _radius(households: np.ndarray, *, scale: float, largest: float) -> np.ndarray:
    """Circle radius (px) with area ∝ households, half-pixel steps."""
    return np.clip(np.round(2 * (1.0 + scale * np.sqrt(households))) / 2, 1.5, largest)


def _building_features(
    buildings: gpd.GeoDataFrame, above: int, lang: str
) -> tuple[dict, list[str], list[str], str, str]:
    """The buildings' FeatureCollection (one circle each, or one per hexagon and community
    above ``above``), its tooltip fields and aliases, the layer's name and legend row."""
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
            compound=text_column(buildings, "compound"),
            grid_id=text_column(buildings, "grid_id"),
            community_id=text_column(buildings, "community_id"),
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
    collection = feature_collection(frame, [*fields, "radius"], simplify=False)
    for feature in collection["features"]:
        # Per-feature style read by Leaflet (folium's setStyle(feature.properties.style)):
        # thousands of circles need no Python style function, mapped again at every render.
        feature["properties"]["style"] = {"radius": feature["properties"].pop("radius")}
    return collection, fields, aliases, name, legend


def _add_plan_buildings(
    fmap: folium.Map, buildings: gpd.GeoDataFrame, *, above: int, lang: str
) -> str:
    """Buildings as circles sized by households (aggregated when many); the legend row."""
    collection, fields, aliases, name, legend = once_per_frame(
        buildings, ("buildings", above, lang), lambda: _building_features(buildings, above, lang)
    )
    PointColumns(
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
    return f"{swatch(_PLAN_BUILDING_COLOUR, round_=True)}{legend}"


def _add_diff(fmap: folium.Map, diff: gpd.GeoDataFrame, lang: str) -> None:
    """The areas that changed hands, in red, with from / to and counts."""
    fields = ["from_community", "to_community", "households", "buildings"]
    frame = diff.assign(**{f: text_column(diff, f) for f in fields})
    collection = feature_collection(frame, fields, simplify=True)
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


#: The layers of a plan map, in the order they are drawn (later ones on top; the legend lists
#: them in the same order). The frame (WGS84) each key takes:
#:
#: - ``communities``: polygons with ``community_id``, ``households`` and optionally ``name``,
#:   ``street``, ``grid_count``, ``locked``. Filled so that neighbours differ
#:   (:func:`community_colours`), labelled with id and households; outlined in red when
#:   outside the band, dashed when locked.
#: - ``grids``: polygons with ``grid_id``, ``community_id``, ``households``, ``buildings``: thin
#:   outlines (a click on a grid selects it and its community).
#: - ``streets``, ``barriers``: as for :func:`households_map`.
#: - ``diff``: areas that changed hands between two plans (``from_community``,
#:   ``to_community``, ``households``, ``buildings``), drawn in red.
#: - ``buildings``: points with ``building_id``, ``households``, ``compound``,
#:   ``community_id``, ``grid_id``: circles with area ∝ households; above ``buildings_above``
#:   one circle per hexagon and community.
#: - ``facilities``: as for :func:`households_map`.
PLAN_LAYERS: tuple[PlanLayer, ...] = (
    PlanLayer("communities", _draw_communities),
    PlanLayer("grids", _draw_grids),
    PlanLayer("streets", _draw_streets),
    PlanLayer("barriers", _draw_barriers),
    PlanLayer("diff", _draw_diff),
    PlanLayer("buildings", _draw_buildings),
    PlanLayer("facilities", _draw_facilities),
)


def plan_map(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
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

    :func:`plan_base` (the basemap, the drawing tool, the view) with :func:`add_plan_layers`
    on it.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or None
        The frames to draw (WGS84), by the keys of :data:`PLAN_LAYERS` (which says what each
        holds); ``communities`` is required, the others are drawn when given and not empty.
    band : (float, float), optional
        The community size band (households); communities outside it are outlined in red.
    colours : dict, optional
        Fill per community id (default: :func:`community_colours` of the communities).
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
        Unknown basemap, Tianditu without a key, or a layer key that is not in
        :data:`PLAN_LAYERS`.
    CRSError
        A layer not in WGS84.
    """
    _check_layer_keys(layers)
    fmap = plan_base(
        plan_extent(layers, basemap),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        draw=draw,
    )
    add_plan_layers(
        fmap,
        layers,
        band=band,
        colours=colours,
        basemap=basemap,
        lang=lang,
        buildings_above=buildings_above,
        legend_open=legend_open,
        layers_collapsed=layers_collapsed,
    )
    return fmap


def plan_extent(
    layers: Mapping[str, gpd.GeoDataFrame | None], basemap: str
) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` of the communities and buildings of ``layers`` as drawn
    on ``basemap``, rounded to :data:`EXTENT_DECIMALS` places (an edit, which moves no
    building and no outer edge, leaves it as it was); None when both are empty."""
    shown = displayed({key: layers.get(key) for key in ("communities", "buildings")}, basemap)
    frames = [f for f in shown.values() if f is not None and not f.empty]
    if not frames:
        return None
    bounds = np.array([f.total_bounds for f in frames])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    return tuple(round(float(v), EXTENT_DECIMALS) for v in (west, south, east, north))


def plan_base(
    extent: tuple[float, float, float, float] | None,
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    lang: str = "zh",
    draw: bool = False,
) -> folium.Map:
    """The map a plan is drawn on: the basemap, the drawing tool (``draw``), the view fitted
    to ``extent`` (:func:`plan_extent`; None keeps folium's view). Nothing in it depends on the
    plan beyond its extent, so the Edit map keeps it while edits change the layers
    (:func:`ui.map_frame.map_frame`).

    Raises
    ------
    PlanningInputError
        Unknown basemap, or Tianditu without a key.
    """
    fmap = base_map(basemap, tianditu_key, lang)
    if draw:
        add_draw(fmap, lang)
    if extent is not None:
        west, south, east, north = extent
        fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def add_plan_layers(
    fmap: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    band: tuple[float, float] | None = None,
    colours: dict[str, str] | None = None,
    basemap: str = "osm",
    lang: str = "zh",
    buildings_above: int = PLAN_BUILDINGS_ABOVE,
    legend_open: bool = True,
    layers_collapsed: bool = False,
) -> None:
    """Add the plan's layers to ``fmap`` (:func:`plan_map` says what each argument does): the
    frames of :data:`PLAN_LAYERS` in order, the legend, the layer control and the classes that
    thin the labels out as the map zooms out.

    Raises
    ------
    PlanningInputError
        A layer key that is not in :data:`PLAN_LAYERS`.
    CRSError
        A layer not in WGS84.
    """
    _check_layer_keys(layers)
    communities = layers["communities"]
    style = PlanStyle(
        lang=lang,
        band=band,
        colours=colours or community_colours(communities),
        buildings_above=buildings_above,
    )
    shown = displayed({layer.key: layers.get(layer.key) for layer in PLAN_LAYERS}, basemap)
    legend = []
    for layer in PLAN_LAYERS:
        if layer.key in shown:
            legend.extend(layer.draw(fmap, shown[layer.key], style))
    Legend("<br>".join(legend), title=text("map.legend.title", lang), open_=legend_open).add_to(
        fmap
    )
    folium.LayerControl(collapsed=layers_collapsed, position="topright").add_to(fmap)
    ZoomClasses(
        **once_per_frame(communities, "label_zooms", lambda: label_zooms(communities))
    ).add_to(fmap)


def view_frames(view, layers: Mapping, **options) -> tuple[dict, dict]:
    """The frames a map of a plan view draws and the other options, from
    :func:`view_map`'s arguments: ``(frames by PLAN_LAYERS key, options left)``."""
    frames = {
        "communities": view.communities,
        "grids": view.grids,
        "buildings": view.buildings,
        "streets": layers.get("streets"),
        "barriers": layers.get("barriers"),
        "facilities": layers.get("facilities"),
    }
    keys = {layer.key for layer in PLAN_LAYERS}
    frames.update({key: value for key, value in options.items() if key in keys})
    return frames, {key: value for key, value in options.items() if key not in keys}


def view_map(view, layers: Mapping, *, band: tuple[float, float], **options) -> folium.Map:
    """:func:`plan_map` of a plan view (``communities``, ``grids``, ``buildings``,
    ``colours``) over the data's layers (``streets``, ``barriers``, ``facilities``).

    ``options`` go to :func:`plan_map` and override these; an option named by a key of
    :data:`PLAN_LAYERS` sets that layer (``buildings=None`` leaves the buildings out,
    ``diff=frame`` adds the areas that changed hands).
    """
    frames, rest = view_frames(view, layers, **options)
    arguments = {"colours": view.colours, "band": band}
    arguments.update(rest)
    return plan_map(frames, **arguments)


def _check_layer_keys(layers: Mapping[str, object]) -> None:
    """Raise :class:`PlanningInputError` for a key that is not in :data:`PLAN_LAYERS`."""
    unknown = sorted(set(layers) - {layer.key for layer in PLAN_LAYERS})
    if unknown:
        raise PlanningInputError(
            f"plan_map layers: {', '.join(unknown)} not known. expected: some of "
            f"{', '.join(layer.key for layer in PLAN_LAYERS)}; fix: pass the frames by those keys."
        )
