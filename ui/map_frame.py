"""The Edit map: a base map mounted once, the plan's layers drawn anew in it after each edit.

``st_folium`` renders the whole map on every run of a page, and a map whose script changed is a
new component: the browser mounts a new frame, loads Leaflet again and draws every layer, and
the planner's zoom and pan are lost. :func:`map_frame` splits the map in two:

- the base (basemap, drawing tool, the view fitted to the district), rendered once per set of
  options and sent as the component's script, so the frame stays mounted across edits;
- the plan's layers (communities, grids, buildings, the data's layers, legend, layer control),
  rendered once per plan view and sent through streamlit-folium's dynamic layer
  (``feature_group``), as :func:`layers_script`: a script that draws them on the mounted map
  in place of the layers an earlier plan drew, and does nothing when they are the ones drawn;
- the selection, made on every run, laid over them as ``st_folium(feature_group_to_add=...)``
  lays a layer.

It uses the pinned streamlit-folium's own helpers (``requirements.txt``), so the base reaches
the browser as ``st_folium`` would send it; ``tests/ui/test_map_frame.py`` holds the two equal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

import branca.colormap
import folium
import folium.elements
import streamlit as st
import streamlit_folium as sf
from jinja2 import Template

from ui.maps.features import once_per_frame

__all__ = ["MapLayers", "RenderedMap", "layers_script", "map_frame", "render_map"]

#: The scripts st_folium adds before everything else when a map holds a colour map.
_D3_V4 = "https://d3js.org/d3.v4.min.js"
_D3_V3 = "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"
#: A template with no macro: an element rendered with it writes nothing into its figure.
_EMPTY_TEMPLATE = Template("")
_NO_TEMPLATE = object()
#: Base maps kept (by their options), the most recently used last.
_BASES_KEPT = 8

#: Draws a plan's layers on the mounted map (``map_div``) unless the layers of this token are
#: there: removes the layers and controls the last plan drew, runs SCRIPT (folium's scripts of
#: the layers), and hides again the overlays the planner had switched off in the layer control.
_LAYERS_JS = """(function () {
  var map = map_div, token = TOKEN, held = window.plannerLayers;
  if (held && held.token === token) { return; }
  var hidden = held ? held.hidden() : {};
  if (held) { held.remove(); }
SCRIPT
  var layers = [LAYERS], controls = [CONTROLS];
  var overlays = function (each) {
    controls.forEach(function (control) {
      (control._layers || []).forEach(function (entry) { if (entry.overlay) { each(entry); } });
    });
  };
  overlays(function (entry) { if (hidden[entry.name]) { map.removeLayer(entry.layer); } });
  window.plannerLayers = {
    token: token,
    hidden: function () {
      var names = {};
      overlays(function (entry) { if (!map.hasLayer(entry.layer)) { names[entry.name] = true; } });
      return names;
    },
    remove: function () {
      controls.forEach(function (control) { control.remove(); });
      layers.forEach(function (layer) { map.removeLayer(layer); });
    }
  };
})();
"""


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


def _render_settings(element: folium.Element) -> None:
    """``element.render()`` for what it sets on itself and its children (a GeoJson's style
    map, a layer control's layers), without the copy of every script that rendering writes
    into the figure: streamlit-folium renders each script again (``generate_leaflet_string``),
    and the figure's copy of a GeoJson layer is its whole data, compiled as a Jinja template
    on the way. Each element renders with a template that holds no macro."""
    nodes = []
    stack = [element]
    while stack:
        node = stack.pop()
        nodes.append((node, node.__dict__.get("_template", _NO_TEMPLATE)))
        node._template = _EMPTY_TEMPLATE
        stack.extend(getattr(node, "_children", {}).values())
    try:
        element.render()
    finally:
        for node, template in nodes:
            if template is _NO_TEMPLATE:
                del node._template  # the class's template again
            else:
                node._template = template


def layers_script(add_layers: Callable[[folium.Map], None]) -> str:
    """The script that draws what ``add_layers(fmap)`` adds to a map on the map a frame has
    mounted (``map_div``), for streamlit-folium's dynamic layer.

    Each layer is rendered as ``st_folium`` renders a ``feature_group_to_add`` (its own script
    and its children's, the map named ``map_div``). The script keeps what it drew in
    ``window.plannerLayers`` under a token (a digest of the layers' scripts): run again with
    the same layers (a run that changed only the selection) it does nothing; with other layers
    (an edit) it removes the ones drawn before and draws these, with the overlays the planner
    switched off in the layer control still off. Legends and zoom classes take the place of
    the ones there themselves (:mod:`ui.maps.style`).
    """
    host = folium.Map(tiles=None)
    before = set(host._children)
    add_layers(host)
    host_id = sf.get_full_id(host)
    scripts: list[str] = []
    layers: list[str] = []
    controls: list[str] = []
    added = [child for name, child in host._children.items() if name not in before]
    for idx, child in enumerate(added):
        child._id = f"plan_{idx}"
        _render_settings(child)
        scripts.append(sf.generate_leaflet_string(child, base_id=f"plan_{idx}"))
        if isinstance(child, folium.LayerControl):
            controls.append(child.get_name())
        elif isinstance(child, folium.map.Layer):
            layers.append(child.get_name())
    script = "\n".join(scripts).replace(host_id, "map_div")
    token = hashlib.blake2b(script.encode("utf-8"), digest_size=12).hexdigest()
    return (
        _LAYERS_JS.replace("TOKEN", json.dumps(token))
        .replace("LAYERS", ", ".join(layers))
        .replace("CONTROLS", ", ".join(controls))
        .replace("SCRIPT", script)
    )


@dataclass(frozen=True, eq=False)
class _Base:
    """A base map as it is sent, the component key per widget key."""

    rendered: RenderedMap
    keys: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class _Held:
    """A plan's layers as a script, and what they were drawn from."""

    script: str
    held: tuple


_BASES: OrderedDict[Hashable, _Base] = OrderedDict()
_BASES_LOCK = threading.Lock()


def _base(
    build: Callable[[], folium.Map],
    add_layers: Callable[[folium.Map], None],
    what: Hashable,
    with_bounds: bool,
) -> _Base:
    """The base map of ``what``, rendered once (the last :data:`_BASES_KEPT` are kept).

    Its script is ``build()``'s alone; its header, HTML, links and bounds are those of the
    whole map (``build()`` with ``add_layers`` on it): the styles the layers' tooltips need and
    the scripts their elements ask for are in the frame from the start."""
    key = (what, with_bounds)
    with _BASES_LOCK:
        held = _BASES.get(key)
        if held is not None:
            _BASES.move_to_end(key)
            return held
    whole = build()
    add_layers(whole)
    full = render_map(whole, with_bounds=with_bounds)
    base = render_map(build(), with_bounds=False)
    held = _Base(dataclasses.replace(full, script=base.script, map_id=base.map_id))
    with _BASES_LOCK:
        _BASES[key] = held
        while len(_BASES) > _BASES_KEPT:
            _BASES.popitem(last=False)
    return held


@dataclass(frozen=True, eq=False)
class MapLayers:
    """The layers :func:`map_frame` draws in the base map, and what they are drawn from.

    Attributes
    ----------
    add
        Adds the layers to a map; called only when ``drawn_from`` and ``what`` have not been
        rendered.
    drawn_from
        The object the layers are drawn from (a plan view); their script lives as long as it.
        The app never changes such an object in place.
    what
        Everything else the layers depend on (language, basemap, options; the ids of the
        frames in ``holds``).
    holds
        Objects ``what`` names by id (the data's layers): kept alive with the layers' script,
        so an id in ``what`` cannot be taken by another object while it is held.
    """

    add: Callable[[folium.Map], None]
    drawn_from: object
    what: Hashable
    holds: tuple = ()


def map_frame(
    build: Callable[[], folium.Map],
    *,
    base_what: Hashable,
    layers: MapLayers,
    key: str,
    height: int,
    overlay: folium.FeatureGroup | None = None,
    returned_objects: list[str] | None = None,
    on_change: Callable[[], None] | None = None,
    **focus: object,
) -> dict | None:
    """``st_folium(fmap, key=key, height=height, use_container_width=True,
    feature_group_to_add=overlay, ...)`` of the map ``build()`` with ``layers`` on it, sent as a
    base mounted once and layers drawn in it (see the module's description).

    Parameters
    ----------
    build
        Makes the base map (no plan in it); called only when ``base_what`` has not been
        rendered. Every run with the same ``base_what`` (and ``key``) keeps the browser's
        frame, its zoom and pan.
    base_what
        Everything the base depends on (basemap, language, the extent it is fitted to), as
        values (the base outlives the objects a plan is drawn from).
    layers
        The plan's layers, rendered once per object they are drawn from and options.
    overlay
        A layer laid over the map (the selection), made on every run.
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
    base = _base(build, layers.add, base_what, with_bounds)
    rendered = base.rendered
    if key not in base.keys:
        base.keys[key] = sf.generate_js_hash(rendered.script, key, False)
    hash_key = base.keys[key]
    drawn = once_per_frame(
        layers.drawn_from,
        ("map_frame_layers", layers.what),
        lambda: _Held(layers_script(layers.add), tuple(layers.holds)),
    )
    css, js = list(rendered.css_links), list(rendered.js_links)
    dynamic = drawn.script
    if overlay is not None:
        overlay_script, more_css, more_js = _overlay_script(overlay, rendered.map_id)
        dynamic += overlay_script
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
        feature_group=dynamic,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(dict.fromkeys(css)),
        js_links=list(dict.fromkeys(js)),
        on_change=changed,
        wrap_longitude=False,
    )
