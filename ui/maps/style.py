"""Styling shared by the maps: colours, legend swatches, the legend and label elements, and
round numbers for legend classes."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import shapely
from branca.element import MacroElement
from jinja2 import Template

from ui.maps.features import COORD_DECIMALS

__all__ = [
    "FACILITY_COLOUR",
    "SELECTED_GRID_COLOUR",
    "STREET_COLOUR",
    "Labels",
    "Legend",
    "ZoomClasses",
    "nice_number",
    "swatch",
]

STREET_COLOUR = "#333333"
FACILITY_COLOUR = "#7b3294"
#: The outline of a selected grid, and of a shape being drawn.
SELECTED_GRID_COLOUR = "#1f78b4"


def swatch(
    fill: str,
    *,
    line: str | None = None,
    dash: bool = False,
    round_: bool = False,
    thick: bool = False,
) -> str:
    """A legend swatch: a filled box, a round dot (``round_``), or a line (``line``, dashed
    when ``dash``, 5 px when ``thick``)."""
    if line is not None:
        width = 5 if thick else 3
        style = f"border-top: {width}px {'dashed' if dash else 'solid'} {line}; height: 0;"
    elif round_:
        style = f"background: {fill}; border-radius: 50%; width: 12px; border: 1px solid #fff;"
    else:
        style = f"background: {fill}; border: 1px solid #999;"
    return f'<i style="{style}"></i>'


def nice_number(value: float) -> int:
    """Round up to 1, 2 or 5 times a power of ten."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)


class Legend(MacroElement):
    """A Leaflet control in the bottom-left corner holding ready-made HTML.

    A map holds one: a legend added again (the Edit map's layers drawn anew after an edit)
    takes the place of the one there, folded or unfolded as the planner left it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var before = map.plannerLegend;
            var folded = before && before.getContainer().querySelector("details");
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "planner-legend");
                div.innerHTML = {{ this.body_json }};
                var details = div.querySelector("details");
                if (details && folded) { details.open = folded.open; }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            if (before) { before.remove(); }
            map.plannerLegend = legend.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, title: str | None = None, open_: bool = True):
        super().__init__()
        self._name = "PlannerLegend"
        if title is not None:
            body = (
                f"<details{' open' if open_ else ''}><summary>{title}</summary>"
                f'<div class="rows">{body}</div></details>'
            )
        self.body_json = json.dumps(body, ensure_ascii=False)


class ZoomClasses(MacroElement):
    """Classes on the map container by zoom, so labels thin out as the map zooms out:
    ``planner-far`` below ``full`` (labels show the id only) and ``planner-very-far`` below
    ``ids`` (no labels). Added again to a map, it takes the place of the classes there."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            function update() {
                var zoom = map.getZoom(), box = map.getContainer();
                box.classList.toggle("planner-far", zoom < {{ this.full }});
                box.classList.toggle("planner-very-far", zoom < {{ this.ids }});
            }
            if (map.plannerZoomClasses) { map.off("zoomend", map.plannerZoomClasses); }
            map.plannerZoomClasses = update;
            map.on("zoomend", update);
            update();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, full: int, ids: int):
        super().__init__()
        self._name = "PlannerZoomClasses"
        self.full = int(full)
        self.ids = int(ids)


class Labels(MacroElement):
    """Many text labels as one element: ``L.divIcon`` markers made in a loop in the browser.

    One folium Marker per label would make three elements each, and every element compiles a
    template each time the map is rendered (streamlit-folium renders it three times a run).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this._parent.get_name() }};
            {{ this.labels_json }}.forEach(function (label) {
                L.marker([label[0], label[1]], {
                    interactive: false,
                    keyboard: false,
                    icon: L.divIcon({
                        html: '<div class="planner-label plan">' + label[2] + "</div>",
                        className: "planner-label-icon",
                        iconSize: [0, 0]
                    })
                }).addTo(layer);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, labels: Sequence[tuple[shapely.Point, str]]):
        super().__init__()
        self._name = "PlannerLabels"
        rows = [
            [round(point.y, COORD_DECIMALS), round(point.x, COORD_DECIMALS), body]
            for point, body in labels
            if point is not None and not shapely.is_empty(point)
        ]
        self.labels_json = json.dumps(rows, ensure_ascii=False).replace("</", "<\\/")
