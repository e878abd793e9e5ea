"""The drawing tool of the Edit map (Leaflet.draw, inlined from ``ui/assets/leaflet-draw``):
a polygon or rectangle around the buildings to move, its texts in the map's language; and the
guard that keeps a drag on that map (a pan, or a shape being drawn) from counting as a click."""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path

import folium
from branca.element import MacroElement
from jinja2 import Template

from ui.i18n import text
from ui.maps.style import SELECTED_GRID_COLOUR

__all__ = ["CLICK_TOLERANCE_PX", "add_draw"]

#: A press and release further apart than this (screen pixels) is a drag, never a click.
CLICK_TOLERANCE_PX = 5

_DRAW_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "leaflet-draw"


@functools.lru_cache(maxsize=1)
def _draw_assets() -> tuple[str, str]:
    """Leaflet.draw's JS and CSS (its sprites inlined) as ``data:`` URIs."""
    js = (_DRAW_ASSETS / "leaflet.draw.js").read_bytes()
    css = (_DRAW_ASSETS / "leaflet.draw.css").read_text(encoding="utf-8")
    mime = {".png": "image/png", ".svg": "image/svg+xml"}
    for image in ("spritesheet-2x.png", "spritesheet.png", "spritesheet.svg"):
        encoded = base64.b64encode((_DRAW_ASSETS / image).read_bytes()).decode("ascii")
        uri = f"data:{mime[Path(image).suffix]};base64,{encoded}"
        css = css.replace(f"url('images/{image}')", f"url('{uri}')")
    return (
        "data:text/javascript;base64," + base64.b64encode(js).decode("ascii"),
        "data:text/css;base64," + base64.b64encode(css.encode("utf-8")).decode("ascii"),
    )


class _DrawTexts(MacroElement):
    """Leaflet.draw's toolbar texts in the map's language (set before the control is made)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var t = {{ this.texts_json }};
            var d = L.drawLocal.draw;
            d.toolbar.buttons.polygon = t.polygon;
            d.toolbar.buttons.rectangle = t.rectangle;
            d.toolbar.actions.title = t.cancel_title;
            d.toolbar.actions.text = t.cancel;
            d.toolbar.finish.title = t.finish_title;
            d.toolbar.finish.text = t.finish;
            d.toolbar.undo.title = t.undo_title;
            d.toolbar.undo.text = t.undo;
            d.handlers.polygon.tooltip.start = t.start;
            d.handlers.polygon.tooltip.cont = t.cont;
            d.handlers.polygon.tooltip.end = t.end;
            d.handlers.rectangle.tooltip.start = t.rect;
            d.handlers.simpleshape.tooltip.end = t.release;
            var e = L.drawLocal.edit;
            e.toolbar.buttons.remove = t.remove;
            e.toolbar.buttons.removeDisabled = t.remove_disabled;
            e.toolbar.actions.save.text = t.save;
            e.toolbar.actions.cancel.text = t.cancel;
            e.toolbar.actions.clearAll.text = t.clear;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str):
        super().__init__()
        self._name = "PlannerDrawTexts"
        keys = [
            "polygon",
            "rectangle",
            "cancel_title",
            "cancel",
            "finish_title",
            "finish",
            "undo_title",
            "undo",
            "start",
            "cont",
            "end",
            "rect",
            "release",
            "remove",
            "remove_disabled",
            "save",
            "clear",
        ]
        self.texts_json = json.dumps(
            {k: text(f"map.draw.{k}", lang) for k in keys}, ensure_ascii=False
        )


class _ClickGuard(MacroElement):
    """Stops the click a browser sends after a drag (the pointer released away from where it
    was pressed) before the map's features or st_folium see it: panning or drawing a shape
    selects nothing, whatever state Leaflet's own drag check is in."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var box = {{ this._parent.get_name() }}.getContainer();
            var pressed = null;
            box.addEventListener("mousedown", function (e) {
                pressed = [e.clientX, e.clientY];
            }, true);
            box.addEventListener("click", function (e) {
                var from = pressed;
                pressed = null;
                if (from && Math.hypot(e.clientX - from[0], e.clientY - from[1])
                        > {{ this.tolerance_px }}) {
                    e.stopPropagation();
                }
            }, true);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, tolerance_px: int):
        super().__init__()
        self._name = "PlannerClickGuard"
        self.tolerance_px = int(tolerance_px)


def add_draw(fmap: folium.Map, lang: str) -> None:
    """Add the polygon / rectangle drawing tool, its texts in ``lang``, and the guard that
    keeps a drag from counting as a click (:data:`CLICK_TOLERANCE_PX`)."""
    from folium.plugins import Draw

    js, css = _draw_assets()
    _DrawTexts(lang).add_to(fmap)
    draw = Draw(
        export=False,
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "rectangle": {"shapeOptions": {"color": SELECTED_GRID_COLOUR}},
            "polygon": {"shapeOptions": {"color": SELECTED_GRID_COLOUR}},
        },
        edit_options={"edit": False},
    )
    draw.default_js = [("leaflet_draw_js", js)]
    draw.default_css = [("leaflet_draw_css", css)]
    draw.add_to(fmap)
    _ClickGuard(CLICK_TOLERANCE_PX).add_to(fmap)
