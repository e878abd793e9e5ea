"""Out-of-band communities are easy to spot on the plan map: a thick red outline, the label
marked 偏大 / 偏小, a legend entry saying so; the legend is small (ui/maps)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from ui.maps import plan_map


def communities() -> gpd.GeoDataFrame:
    boxes = [shapely.box(121.50 + 0.01 * i, 29.87, 121.509 + 0.01 * i, 29.879) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "community_id": ["C1", "C2", "C3"],
            "name": ["一社区", "二社区", "三社区"],
            "households": [2100, 2500, 2900],
            "grid_count": [5, 5, 6],
            "locked": [False, False, False],
        },
        geometry=boxes,
        crs="EPSG:4326",
    )


def rendered(fmap) -> str:
    return fmap.get_root().render()


def test_out_of_band_communities_are_thick_marked_and_in_the_legend():
    fmap = plan_map({"communities": communities()}, band=(2250, 2750), basemap="none")
    layers = [
        child
        for child in fmap._children.values()
        for child in getattr(child, "_children", {}).values()
        if hasattr(child, "data") and isinstance(getattr(child, "data", None), dict)
    ]
    features = [f for layer in layers for f in layer.data.get("features", [])]
    weight = {f["properties"]["community_id"]: f["properties"]["weight"] for f in features}
    assert weight["C1"] >= 5 and weight["C3"] >= 5 and weight["C2"] < 3
    html = rendered(fmap)
    assert 'class=\\"band\\">偏小' in html or 'class="band">偏小' in html
    assert "偏大" in html
    assert "粗红框" in html and "户数不在 2,250–2,750 之间" in html
    assert "border-top: 5px solid #d7191c" in html
    assert "max-width: 300px" in html  # the legend is small
