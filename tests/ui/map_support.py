"""What the map tests share: finding folium layers and reading the rendered page."""

from __future__ import annotations

import json

import folium


def geojson_layers(fmap: folium.Map) -> list[folium.GeoJson]:
    """Every GeoJson layer in the map, however deeply nested (feature groups, panes)."""
    found = []

    def walk(element):
        for child in element._children.values():
            if isinstance(child, folium.GeoJson):
                found.append(child)
            walk(child)

    walk(fmap)
    return found


def rendered(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def shows(html: str, text: str) -> bool:
    """``text`` in the page, as is or as folium's JSON writes it (\\uXXXX, & as \\u0026)."""
    escaped = json.dumps(text)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c")
    return text in html or escaped.replace(">", "\\u003e") in html
