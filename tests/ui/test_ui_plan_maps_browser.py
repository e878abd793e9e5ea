"""The plan map's buildings in Chromium: the points sent as columns
(:class:`ui.maps.features.PointColumns`) are the same features in the browser as in Python
(properties, ids, coordinates, the circle's radius), one circle each or aggregated, and what
is sent is a fraction of the GeoJSON it replaces.

The map's HTML is written to a file and opened in Debian's ``/usr/bin/chromium`` by
Playwright (nothing served, nothing fetched).
"""

from __future__ import annotations

import json

import pytest
from streamlit_folium import _get_map_string
from test_ui_plan_maps import communities, make_buildings  # noqa: F401  (a fixture)

from tests.ui.browser import CHROMIUM
from ui.maps import plan_map
from ui.maps.features import PointColumns, point_columns

pytestmark = pytest.mark.browser

#: Every point feature of the map's GeoJSON layers as Leaflet holds them, with its circle's
#: radius.
_FEATURES = """() => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  const found = [];
  map.eachLayer((layer) => {
    if (layer.feature && layer.feature.geometry.type === 'Point' && layer.getRadius) {
      found.push({feature: layer.feature, radius: layer.getRadius()});
    }
  });
  return found;
}"""


def _in_browser(fmap, path) -> list[dict]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    path.write_text(fmap.get_root().render(), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.as_uri())
        page.wait_for_function("() => window.L !== undefined")
        found = page.evaluate(_FEATURES)
        browser.close()
    assert not errors, errors
    return found


def _point_layer(fmap) -> PointColumns:
    layers = [c for c in fmap._children.values() if isinstance(c, PointColumns)]
    assert len(layers) == 1
    return layers[0]


@pytest.mark.parametrize(("n", "above"), [(300, 5_000), (6_000, 5_000)])
def test_points_sent_as_columns_are_the_same_features(communities, n, above, tmp_path):  # noqa: F811
    buildings = make_buildings(communities, n, seed=3)
    fmap = plan_map(
        {"communities": communities, "buildings": buildings},
        basemap="none",
        buildings_above=above,
    )
    expected = _point_layer(fmap).data["features"]
    found = _in_browser(fmap, tmp_path / "map.html")
    assert len(found) == len(expected)
    by_id = {f["feature"]["id"]: f for f in found}
    for feature in expected:
        shown = by_id[feature["id"]]
        assert shown["feature"]["properties"] == feature["properties"]
        assert shown["feature"]["geometry"]["coordinates"] == feature["geometry"]["coordinates"]
        assert shown["radius"] == feature["properties"]["style"]["radius"]
    sent = json.dumps(point_columns(expected[1:]), ensure_ascii=False)
    assert sent in fmap.get_root().render()
    assert sent in _get_map_string(fmap)  # what st_folium sends (it renders each element)
    assert len(sent.encode()) < 0.5 * len(json.dumps(expected[1:]).encode())
