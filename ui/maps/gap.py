"""The facility-gap map of the Standards page: each community coloured by how far its
facilities' floor area falls short of (red) or exceeds (green) what the standard requires,
with the facilities and a suggested site per community short of area."""

from __future__ import annotations

import html
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ui.i18n import text
from ui.maps.base import base_map
from ui.maps.display import fit_to, label_zooms, to_display
from ui.maps.features import feature_collection, missing, text_column
from ui.maps.layers import add_facilities, add_streets
from ui.maps.style import Labels, Legend, ZoomClasses, nice_number, swatch

__all__ = ["gap_map"]

_GAP_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
_SITE_COLOUR = "#d7191c"


def _gap_edges(gaps: np.ndarray) -> tuple[float, ...]:
    """Five class edges: thirds of the largest surplus (negative gaps), 0, thirds of the
    largest shortfall, each side on its own scale (rounded to 1, 2 or 5 × 10ⁿ m²)."""
    finite = gaps[np.isfinite(gaps)]
    surplus = float(nice_number(float(-finite.min()))) if len(finite) and finite.min() < 0 else 3
    short = float(nice_number(float(finite.max()))) if len(finite) and finite.max() > 0 else 3
    return (-2 * surplus / 3, -surplus / 3, 0.0, short / 3, 2 * short / 3)


def _gap_class(gap: float, edges: Sequence[float]) -> str:
    """Green for a surplus, red for a shortfall (six classes around zero)."""
    if missing(gap):
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
    fmap = base_map(basemap, tianditu_key, lang)
    shown = to_display(report, basemap)
    gaps = pd.to_numeric(report["gap_m2"], errors="coerce").to_numpy(dtype=float)
    edges = _gap_edges(gaps)
    _add_gaps(fmap, shown, gaps, edges, lang)
    _add_gap_labels(fmap, shown, gaps, lang)
    if subdistricts is not None and not subdistricts.empty:
        add_streets(fmap, to_display(subdistricts, basemap), lang, labelled=False)
    facilities_row = None
    if facilities is not None and not facilities.empty:
        facilities_row = add_facilities(fmap, to_display(facilities, basemap), lang)
    sites = _suggested_sites(report)
    if sites is not None:
        _add_sites(fmap, to_display(sites, basemap), lang)
    rows = _legend_rows(edges, lang, sites=sites is not None, facilities_row=facilities_row)
    Legend("<br>".join(rows), title=text("map.legend.gap", lang)).add_to(fmap)
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    ZoomClasses(**label_zooms(report)).add_to(fmap)
    fit_to(fmap, [shown])
    return fmap


#: The report's columns a community's tooltip shows.
_GAP_FIELDS = [
    "community_id",
    "name",
    "households",
    "required_area_m2",
    "facility_area_m2",
    "gap_m2",
]
#: The columns a suggested site's tooltip shows.
_SITE_FIELDS = ["community_id", "name", "suggested_building_id", "gap_m2"]


def _add_gaps(
    fmap: folium.Map, shown: gpd.GeoDataFrame, gaps: np.ndarray, edges: Sequence[float], lang: str
) -> None:
    """The communities filled by their gap's class."""
    frame = shown.assign(
        **{f: text_column(shown, f) for f in _GAP_FIELDS},
        colour=[_gap_class(g, edges) for g in gaps],
    )
    collection = feature_collection(frame, [*_GAP_FIELDS, "colour"], simplify=True)
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
            fields=_GAP_FIELDS,
            aliases=[text(f"map.tip.{f}", lang) for f in _GAP_FIELDS],
            localize=True,
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)


def _add_gap_labels(fmap: folium.Map, shown: gpd.GeoDataFrame, gaps: np.ndarray, lang: str) -> None:
    """Each community's id and gap (m²) as a label inside it, in a layer of their own."""
    labels = folium.FeatureGroup(name=text("map.layer.gap_labels", lang), show=True)
    points = shapely.point_on_surface(np.asarray(shown.geometry.array, dtype=object))
    values = ["—" if not np.isfinite(g) else f"{g:+,.0f} m²" for g in gaps]
    Labels(
        [
            (point, f'<b>{html.escape(cid)}</b><span class="hh"><br>{html.escape(value)}</span>')
            for point, cid, value in zip(
                points, shown["community_id"].astype(str), values, strict=True
            )
        ]
    ).add_to(labels)
    labels.add_to(fmap)


def _suggested_sites(report: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The suggested sites as WGS84 points (``None`` when no community has one)."""
    lon = pd.to_numeric(report["suggested_site_lon"], errors="coerce")
    lat = pd.to_numeric(report["suggested_site_lat"], errors="coerce")
    has_site = (lon.notna() & lat.notna()).to_numpy()
    if not has_site.any():
        return None
    return gpd.GeoDataFrame(
        {
            "community_id": report["community_id"].astype(str).to_numpy()[has_site],
            "name": text_column(report, "name").to_numpy()[has_site],
            "suggested_building_id": text_column(report, "suggested_building_id").to_numpy()[
                has_site
            ],
            "gap_m2": report["gap_m2"].to_numpy()[has_site],
        },
        geometry=gpd.points_from_xy(lon[has_site], lat[has_site]),
        crs="EPSG:4326",
    )


def _add_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, lang: str) -> None:
    """The suggested sites as red rings (``sites`` already where they are drawn)."""
    folium.GeoJson(
        feature_collection(sites, _SITE_FIELDS, simplify=False),
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
            fields=_SITE_FIELDS,
            aliases=[text(f"map.tip.site_{f}", lang) for f in _SITE_FIELDS],
            localize=True,
        ),
        zoom_on_click=False,
    ).add_to(fmap)


def _legend_rows(
    edges: Sequence[float], lang: str, *, sites: bool, facilities_row: str | None
) -> list[str]:
    """The gap classes (m²), the hint, then the sites' and facilities' rows when drawn."""
    spans = [
        f"≤ {edges[0]:+,.0f}",
        f"{edges[0]:+,.0f} – {edges[1]:+,.0f}",
        f"{edges[1]:+,.0f} – 0",
        f"0 – {edges[3]:+,.0f}",
        f"{edges[3]:+,.0f} – {edges[4]:+,.0f}",
        f"> {edges[4]:+,.0f}",
    ]
    rows = [f"{swatch(c)}{s} m²" for c, s in zip(_GAP_COLOURS, spans, strict=True)]
    rows.append(text("map.legend.gap_hint", lang))
    if sites:
        rows.append(
            f'<i style="border: 3px solid {_SITE_COLOUR}; border-radius: 50%; width: 8px; '
            f'height: 8px; background: #fff;"></i>{text("map.legend.sites", lang)}'
        )
    if facilities_row is not None:
        rows.append(facilities_row)
    return rows
