"""A folium map in the page whose strings are made once per map, not on every run.

``st_folium`` renders the whole map on every run of a page: the Leaflet script with every
feature's JSON, the header, the bounds (walked over every coordinate) and the key it hashes
from the script. On 80,000 households that is about half a second, although on most runs —
a community chosen in the list, a building clicked, an undo — the map is the one the browser
already shows and only the selection laid over it changed. :func:`map_frame` renders a map once
per object it is drawn from (a plan view) and options, keeps the strings, and on every run sends
the component the same arguments ``st_folium`` would, with the selection layer made anew.

It uses the pinned streamlit-folium's own helpers (``requirements.txt``), so what reaches the
browser is what ``st_folium`` sends; ``tests/ui/test_map_frame.py`` holds the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import branca.colormap
import folium
import folium.elements
import streamlit as st
import streamlit_folium as sf

from ui.maps.features import once_per_frame

__all__ = ["RenderedMap", "map_frame", "render_map"]

#: The scripts st_folium adds before everything else when a map holds a colour map.
_D3_V4 = "https://d3js.org/d3.v4.min.js"
_D3_V3 = "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"


@dataclass(frozen=True)
class RenderedMap:
    """What ``st_folium`` derives from a map before it calls the component.

    Attributes
    ----------
    script, header, html
        The Leaflet script, the page header and the map's HTML, as ``st_folium`` makes them.
    map_id
        The map's name in the script (``map_div``).
    bounds
        ``[[south, west], [north, east]]`` of everything on the map.
    zoom
        The map's starting zoom.
    css_links, js_links
        The stylesheets and scripts the map's elements ask for, in order, once each.
    """

    script: str
    header: str
    html: str
    map_id: str
    bounds: list
    zoom: object
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


def _links(element: object) -> tuple[list[str], list[str]]:
    """The CSS and JS links of ``element`` and everything below it, in st_folium's order
    (a depth-first walk; a colour map also asks for d3, first)."""
    css: list[str] = []
    js: list[str] = []
    stack = [element]
    while stack:
        node = stack.pop()
        if isinstance(node, branca.colormap.ColorMap):
            js[:0] = [_D3_V4, _D3_V3]
        if isinstance(node, (folium.elements.JSCSSMixin, branca.colormap.ColorMap)):
            css.extend(href for _, href in getattr(node, "default_css", []))
            js.extend(src for _, src in getattr(node, "default_js", []))
        stack.extend(reversed(list(getattr(node, "_children", {}).values())))
    return css, js


def render_map(fmap: folium.Map, *, with_bounds: bool = True) -> RenderedMap:
    """``fmap`` rendered as ``st_folium`` renders it (``fmap`` is spent: its ids are renamed).

    ``with_bounds=False`` leaves the bounds unknown (``None``): folium finds them by walking
    every coordinate of every layer in Python, and they only reach the page when the map's
    value returns ``bounds``."""
    fmap.render()
    html = sf._get_html(fmap)
    header = sf._get_header(fmap)
    script = sf._get_map_string(fmap)
    bounds = fmap.get_bounds() if with_bounds else [[None, None], [None, None]]
    css, js = _links(fmap)
    return RenderedMap(
        script=script,
        header=header,
        html=html,
        map_id=sf.get_full_id(fmap),
        bounds=bounds,
        zoom=fmap.options.get("zoom") if hasattr(fmap, "options") else {},
        css_links=tuple(css),
        js_links=tuple(js),
    )


def _overlay_script(overlay: folium.FeatureGroup, map_id: str) -> tuple[str, list[str], list[str]]:
    """The script that adds ``overlay`` to the map named ``map_id``, and its links."""
    host = folium.Map(tiles=None)
    host._id = map_id.removeprefix(f"{host._name.lower()}_")
    script = sf._get_feature_group_string(overlay, map=host, idx=0)
    css, js = _links(overlay)
    return script, css, js


def _defaults(rendered: RenderedMap, returned_objects: Iterable[str] | None) -> dict:
    """The component's value before the user does anything (as st_folium sets it)."""
    south_west, north_east = rendered.bounds
    everything = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_count": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": {
            "_southWest": {"lat": south_west[0], "lng": south_west[1]},
            "_northEast": {"lat": north_east[0], "lng": north_east[1]},
        },
        "zoom": rendered.zoom,
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }
    wanted = None if returned_objects is None else set(returned_objects)
    return {k: v for k, v in everything.items() if wanted is None or k in wanted}


@dataclass(frozen=True, eq=False)
class _Held:
    """A rendered map, the component key per widget key, and what the map was drawn from."""

    rendered: RenderedMap
    keys: dict
    held: tuple


def map_frame(
    build: Callable[[], folium.Map],
    *,
    drawn_from: object,
    what: Hashable,
    holds: tuple = (),
    key: str,
    height: int,
    overlay: folium.FeatureGroup | None = None,
    returned_objects: list[str] | None = None,
    on_change: Callable[[], None] | None = None,
    **focus: object,
) -> dict | None:
    """``st_folium(build(), key=key, height=height, use_container_width=True,
    feature_group_to_add=overlay, ...)``, with ``build()`` called and rendered once for
    ``drawn_from`` and ``what``.

    Parameters
    ----------
    build
        Makes the map; called only when this ``drawn_from`` and ``what`` have not been rendered.
    drawn_from
        The object the map is drawn from (a plan view); the rendered map lives as long as it.
        The app never changes such an object in place.
    what
        Everything else the map depends on (language, basemap, options; the ids of the frames
        in ``holds``).
    holds
        Objects ``what`` names by id (the data's layers): kept alive with the rendered map, so
        an id in ``what`` cannot be taken by another object while it is held.
    overlay
        A layer laid over the map (the selection), made on every run: a new overlay does not
        mount the map anew.
    focus
        ``center`` and ``zoom``, as st_folium takes them (the view changes without a reload).

    Returns
    -------
    dict or None
        The component's value, as ``st_folium`` returns it.
    """
    unknown = sorted(set(focus) - {"center", "zoom"})
    if unknown:
        raise TypeError(f"map_frame: unknown option(s) {', '.join(unknown)}; expected center, zoom")
    with_bounds = returned_objects is None or "bounds" in returned_objects
    held = once_per_frame(
        drawn_from,
        ("map_frame", what, with_bounds),
        lambda: _Held(render_map(build(), with_bounds=with_bounds), {}, tuple(holds)),
    )
    rendered = held.rendered
    if key not in held.keys:
        held.keys[key] = sf.generate_js_hash(rendered.script, key, False)
    hash_key = held.keys[key]
    css, js = list(rendered.css_links), list(rendered.js_links)
    overlay_script = None
    if overlay is not None:
        overlay_script, more_css, more_js = _overlay_script(overlay, rendered.map_id)
        css += more_css
        js += more_js

    def changed() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    return sf._component_func(
        script=rendered.script,
        header=rendered.header,
        html=rendered.html,
        id=rendered.map_id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned_objects,
        default=_defaults(rendered, returned_objects),
        zoom=focus.get("zoom"),
        center=focus.get("center"),
        feature_group=overlay_script,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(dict.fromkeys(css)),
        js_links=list(dict.fromkeys(js)),
        on_change=changed,
        wrap_longitude=False,
    )
