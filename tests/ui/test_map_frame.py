"""ui.map_frame sends the component what st_folium sends (the map rendered once, the selection
made on every run), and renders a map once per object it is drawn from.

The map is a plan map of nine squares around Ningbo (as in test_ui_plan_maps), with grids,
buildings, a drawing tool and a selection laid over it; the component is replaced by a recorder
of its arguments, so no Streamlit runtime is needed.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import streamlit_folium
from shapely.geometry import Point, box

from ui import map_frame as frame_module
from ui.maps import plan_map, selection_layer
from ui.maps.selection import BRUSHED_COLOUR

LON0, LAT0, STEP = 121.54, 29.87, 0.01


class _View:
    """Something a map is drawn from (weakly referable, like a plan view)."""


@pytest.fixture
def frames() -> dict[str, gpd.GeoDataFrame]:
    cells = [(r, c) for r in range(3) for c in range(3)]
    squares = [
        box(LON0 + c * STEP, LAT0 - (r + 1) * STEP, LON0 + (c + 1) * STEP, LAT0 - r * STEP)
        for r, c in cells
    ]
    ids = [f"C{i + 1}" for i in range(9)]
    communities = gpd.GeoDataFrame(
        {
            "community_id": ids,
            "name": [f"第{i + 1}社区" for i in range(9)],
            "households": [2000 + 100 * i for i in range(9)],
            "grid_count": [1] * 9,
        },
        geometry=squares,
        crs="EPSG:4326",
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": [f"{c}-001" for c in ids], "community_id": ids, "households": 300},
        geometry=squares,
        crs="EPSG:4326",
    )
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i}" for i in range(9)],
            "households": [50 + i for i in range(9)],
            "compound": ["东苑"] * 9,
            "community_id": ids,
            "grid_id": [f"{c}-001" for c in ids],
        },
        geometry=[Point(s.centroid.x, s.centroid.y) for s in squares],
        crs="EPSG:4326",
    )
    return {"communities": communities, "grids": grids, "buildings": buildings}


def _build(frames):
    return lambda: plan_map(frames, band=(2250, 2750), basemap="none", draw=True)


def _overlay(frames):
    return selection_layer(
        frames["communities"],
        ["C5"],
        grids=frames["grids"],
        grid_id="C5-001",
        buildings=frames["buildings"],
        brushed=("B4",),
        basemap="none",
    )


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """The component's arguments, one dict per call (the on_change callable left out)."""
    recorded: list[dict] = []

    def component(**kwargs):
        kwargs.pop("on_change")
        recorded.append(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(streamlit_folium, "_component_func", component)
    return recorded


def test_the_component_gets_what_st_folium_sends(frames, calls):
    options = {
        "key": "edit_map",
        "height": 640,
        "returned_objects": ["last_object_clicked", "last_active_drawing"],
        "center": (29.86, 121.55),
        "zoom": 15,
    }
    streamlit_folium.st_folium(
        _build(frames)(),
        use_container_width=True,
        render=False,
        feature_group_to_add=_overlay(frames),
        **options,
    )
    frame_module.map_frame(
        _build(frames), drawn_from=_View(), what="plan", overlay=_overlay(frames), **options
    )
    ours, theirs = calls[1], calls[0]
    assert set(ours) == set(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name
    assert "feature_group_feature_group_0" in ours["feature_group"]
    # the brushed ring is in the selection's script, not in the map's
    assert BRUSHED_COLOUR in ours["feature_group"] and BRUSHED_COLOUR not in ours["script"]


def test_without_a_selection_too(frames, calls):
    streamlit_folium.st_folium(
        _build(frames)(), key="m", height=500, use_container_width=True, render=False
    )
    frame_module.map_frame(_build(frames), drawn_from=_View(), what="plan", key="m", height=500)
    assert calls[1] == calls[0]
    assert calls[1]["feature_group"] is None


def test_the_map_is_rendered_once_per_object_and_options(frames, calls):
    built: list[int] = []

    def build():
        built.append(1)
        return _build(frames)()

    view, other = _View(), _View()
    for _ in range(3):
        frame_module.map_frame(build, drawn_from=view, what="plan", key="m", height=500)
    assert len(built) == 1
    frame_module.map_frame(build, drawn_from=view, what="plan in English", key="m", height=500)
    frame_module.map_frame(build, drawn_from=other, what="plan", key="m", height=500)
    assert len(built) == 3
    # the selection changes on every run without rendering the map again
    frame_module.map_frame(
        build, drawn_from=view, what="plan", key="m", height=500, overlay=_overlay(frames)
    )
    assert len(built) == 3
    assert calls[-1]["key"] == calls[0]["key"]  # the same map: the browser keeps its frame
    assert calls[-1]["script"] is calls[0]["script"]
