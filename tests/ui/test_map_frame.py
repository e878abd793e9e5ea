"""ui.map_frame sends the component a base map as st_folium sends it (rendered once per set of
options, so the browser keeps its frame across edits), the plan's layers as a script drawn in
that frame (rendered once per object they are drawn from) and the selection as st_folium lays a
feature group over a map.

The map is a plan map of nine squares around Ningbo (as in test_ui_plan_maps), with grids,
buildings, a drawing tool and a selection laid over it; the component is replaced by a recorder
of its arguments, so no Streamlit runtime is needed.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
import streamlit_folium
from shapely.geometry import Point, box

from ui import map_frame as frame_module
from ui.maps import add_plan_layers, plan_base, plan_extent, plan_map, selection_layer
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


BAND = (2250, 2750)


def _base(frames):
    extent = plan_extent(frames, "none")
    return lambda: plan_base(extent, basemap="none", draw=True)


def _layers(frames, drawn_from=None, what="plan"):
    def add(fmap):
        add_plan_layers(fmap, frames, band=BAND, basemap="none")

    return frame_module.MapLayers(add, drawn_from=drawn_from or _View(), what=what)


def _whole(frames):
    return plan_map(frames, band=BAND, basemap="none", draw=True)


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


@pytest.fixture(autouse=True)
def no_bases_kept(monkeypatch):
    """Each test renders its base maps itself."""
    monkeypatch.setattr(frame_module, "_BASES", type(frame_module._BASES)())


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


OPTIONS = {
    "key": "edit_map",
    "height": 640,
    "returned_objects": ["last_object_clicked", "last_active_drawing"],
    "center": (29.86, 121.55),
    "zoom": 15,
}


def test_the_base_is_what_st_folium_sends_of_it_with_the_whole_maps_header(frames, calls):
    streamlit_folium.st_folium(_base(frames)(), use_container_width=True, **OPTIONS)
    streamlit_folium.st_folium(_whole(frames), use_container_width=True, **OPTIONS)
    frame_module.map_frame(
        _base(frames), base_what="base", layers=_layers(frames), overlay=_overlay(frames), **OPTIONS
    )
    ours, base, whole = calls[2], calls[0], calls[1]
    assert set(ours) == set(base)
    for name in ("script", "id", "key", "height", "width", "returned_objects", "default"):
        assert ours[name] == base[name], name
    for name in ("zoom", "center", "return_on_hover", "layer_control", "pixelated"):
        assert ours[name] == base[name], name
    # the tooltips' styles and every script the layers ask for are there from the start
    for name in ("header", "html", "css_links", "js_links"):
        assert ours[name] == whole[name], name
    assert ".foliumtooltip" in ours["header"]
    # nothing of the plan is in the base: its communities, labels and legend are in the layers
    assert "第5社区" not in ours["script"] and "C5" not in ours["script"]
    assert "L.control.layers" not in ours["script"]
    assert "Draw" in ours["script"] or "draw" in ours["script"]


def test_the_layers_and_the_selection_go_through_the_dynamic_layer(frames, calls):
    overlay = _overlay(frames)
    streamlit_folium.st_folium(
        _whole(frames), use_container_width=True, feature_group_to_add=_overlay(frames), **OPTIONS
    )
    frame_module.map_frame(
        _base(frames), base_what="base", layers=_layers(frames), overlay=overlay, **OPTIONS
    )
    theirs, ours = calls[0], calls[1]
    selection = theirs["feature_group"]
    assert ours["feature_group"].endswith(selection)
    drawn = ours["feature_group"][: -len(selection)]
    # the brushed ring is in the selection, not in the layers
    assert BRUSHED_COLOUR in selection and BRUSHED_COLOUR not in drawn
    assert drawn.startswith("(function () {") and "window.plannerLayers" in drawn
    # every community's label and the legend are in the layers, drawn on the mounted map
    for i in range(9):
        assert f"<b>C{i + 1}<\\/b>" in drawn  # labels are JSON with "</" escaped
    assert "planner-legend" in drawn and "L.control.layers" in drawn
    assert "map_div" in drawn and not re.search(r"map_[0-9a-f]{32}", drawn)


def _lines(script: str) -> str:
    """The script's lines without their indentation, empty lines left out."""
    return "\n".join(line.strip() for line in script.splitlines() if line.strip())


def test_the_layers_script_draws_each_layer_as_st_folium_would(frames):
    """Each layer's script is the one st_folium makes of the same layer as a feature group
    (``_get_feature_group_string``, the map named map_div), under the layers' own names."""
    script = frame_module.layers_script(
        lambda fmap: add_plan_layers(fmap, frames, band=BAND, basemap="none")
    )
    host = plan_base(None, basemap="none")
    add_plan_layers(host, frames, band=BAND, basemap="none")
    communities = next(iter(c for c in host._children.values() if c._name == "FeatureGroup"))
    theirs = streamlit_folium._get_feature_group_string(communities, map=host, idx=0)
    theirs = theirs.split("map_div.addLayer(feature_group_feature_group_0);")[0]
    assert _lines(theirs.replace("feature_group_0", "plan_0")) in _lines(script)
    names = re.search(r"var layers = \[(.*)\], controls = \[(.*)\];", script)
    assert names.group(1).split(", ") == [
        "feature_group_plan_0",
        "geo_json_plan_1",
        "geo_json_plan_2",
    ]
    assert names.group(2) == "layer_control_plan_4"


def test_the_same_layers_keep_their_token_other_layers_get_another(frames):
    def token(frames):
        script = frame_module.layers_script(
            lambda fmap: add_plan_layers(fmap, frames, band=BAND, basemap="none")
        )
        return re.search(r'token = "([0-9a-f]+)"', script).group(1)

    moved = frames["communities"].copy()
    moved.loc[0, "households"] = 1900
    assert token(frames) == token(frames)
    assert token({**frames, "communities": moved}) != token(frames)


def test_an_edit_keeps_the_frame_and_redraws_the_layers_once(frames, calls):
    built: list[str] = []

    def base():
        built.append("base")
        return _base(frames)()

    split = frames["communities"].copy()
    split.loc[4, "community_id"] = "C5-2"

    def layers(drawn_from, what="plan"):
        shown = {**frames, "communities": split} if drawn_from is edited else frames

        def add(fmap):
            built.append("layers")
            add_plan_layers(fmap, shown, band=BAND, basemap="none")

        return frame_module.MapLayers(add, drawn_from=drawn_from, what=what)

    view, edited = _View(), _View()
    for _ in range(3):
        frame_module.map_frame(base, base_what="base", layers=layers(view), key="m", height=500)
    # the base twice (alone, and whole for its header), the layers once for it, once as script
    assert built == ["base", "layers", "base", "layers"]
    frame_module.map_frame(base, base_what="base", layers=layers(edited), key="m", height=500)
    frame_module.map_frame(
        base, base_what="base", layers=layers(view, "in English"), key="m", height=500
    )
    assert built.count("base") == 2 and built.count("layers") == 4
    # the selection changes on every run without rendering anything again
    frame_module.map_frame(
        base, base_what="base", layers=layers(view), key="m", height=500, overlay=_overlay(frames)
    )
    assert built.count("layers") == 4
    # one frame throughout: the same component key and script; the layers differ per plan
    assert {c["key"] for c in calls} == {calls[0]["key"]}
    assert all(c["script"] is calls[0]["script"] for c in calls)
    assert calls[3]["feature_group"] != calls[0]["feature_group"]
    assert calls[5]["feature_group"].startswith(calls[0]["feature_group"])
    # another basemap or language is another frame
    frame_module.map_frame(base, base_what="other", layers=layers(view), key="m", height=500)
    assert built.count("base") == 4


def test_unknown_focus_options_are_refused(frames, calls):
    with pytest.raises(TypeError, match=r"unknown option.*bearing; expected center, zoom"):
        frame_module.map_frame(
            _base(frames),
            base_what="base",
            layers=_layers(frames),
            key="m",
            height=500,
            bearing=30,
        )
