"""The Edit map draws an edit in the frame it has (headless Chromium, the sample at 10,000
households, no basemap): after a split and an undo the map's frame is the one mounted before
(no reload), the labels show the plan as it is now, there is one legend and one layer control,
a layer the planner switched off stays off, the legend stays unfolded as the planner left it,
and a pan made before a run that changes no layer is kept (ui/map_frame)."""

from __future__ import annotations

import re

import pytest

from tests.ui.browser import MAP_FRAME, browser_page, go, map_drawn, served_app, settle

HOUSEHOLDS = 10_000
STEP_S = 120

pytestmark = pytest.mark.browser

#: What the map's frame shows: its mark (set by the test), the labels, legends and layer
#: controls, whether the grids overlay is on, the legend unfolded, the plan's token, the view.
_STATE = """() => {
  const overlays = [...document.querySelectorAll('.leaflet-control-layers-overlays label')];
  const grids = overlays.find((label) => label.textContent.trim() === '网格');
  const details = document.querySelector('.planner-legend details');
  const centre = window.map.getCenter();
  return {
    mark: document.body.dataset.testMark || null,
    labels: [...document.querySelectorAll('.planner-label.plan b')].map((b) => b.textContent),
    legends: document.querySelectorAll('.planner-legend').length,
    controls: document.querySelectorAll('.leaflet-control-layers').length,
    grids_on: grids ? grids.querySelector('input').checked : null,
    legend_open: details ? details.open : null,
    token: window.plannerLayers ? window.plannerLayers.token : null,
    view: [centre.lat, centre.lng, window.map.getZoom()],
  };
}"""

#: Mark the frame's document, switch the grids overlay off and unfold the legend.
_SET_UP = """() => {
  document.body.dataset.testMark = 'mounted-before';
  const overlays = [...document.querySelectorAll('.leaflet-control-layers-overlays label')];
  overlays.find((label) => label.textContent.trim() === '网格').querySelector('input').click();
  document.querySelector('.planner-legend details').open = true;
}"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    log = tmp_path_factory.mktemp("edit_in_place") / "streamlit.log"
    with (
        served_app(log, households=HOUSEHOLDS) as url,
        browser_page(url, step_s=STEP_S, height=1100) as tab,
    ):
        yield tab


def _frame(page):
    return page.locator(MAP_FRAME).first.element_handle().content_frame()


def _after(page, token: str) -> dict:
    """The frame's state once its layers are other than those of ``token``."""
    frame = _frame(page)
    frame.wait_for_function(
        "(token) => window.plannerLayers && window.plannerLayers.token !== token", arg=token
    )
    page.wait_for_timeout(300)
    return frame.evaluate(_STATE)


def test_an_edit_and_its_undo_are_drawn_in_the_frame_there(page):
    settle(page)
    page.get_by_text("打开数据：内置示例或上传文件").click()
    page.get_by_role("button", name="打开示例").click()
    settle(page)
    go(page, "方案")
    page.get_by_role("button", name="生成方案", exact=True).click()
    settle(page)
    go(page, "编辑")
    map_drawn(page)
    frame = _frame(page)
    frame.evaluate(_SET_UP)
    before = frame.evaluate(_STATE)
    assert before["grids_on"] is False and before["legend_open"] is True
    assert before["legends"] == 1 and before["controls"] == 1 and before["labels"]
    chosen = page.get_by_role("combobox", name="社区", exact=True).input_value().split(" · ")[0]

    page.get_by_role("tab", name="拆分").click()
    settle(page)
    page.get_by_role("button", name="拆分", exact=True).click()
    settle(page)
    split = _after(page, before["token"])
    assert split["mark"] == "mounted-before", "the edit mounted a new map frame"
    assert f"{chosen}-2" in split["labels"] and f"{chosen}-2" not in before["labels"]
    assert split["legends"] == 1 and split["controls"] == 1
    assert split["grids_on"] is False, "the grids switched off came back after the edit"
    assert split["legend_open"] is True

    # a pan, then a run that changes no layer (another tab): the view stays where it was put
    frame.evaluate("() => { window.map.panBy([120, 60], {animate: false}); }")
    page.wait_for_timeout(700)
    panned = frame.evaluate(_STATE)["view"]
    page.get_by_role("tab", name="移动").click()
    settle(page)
    page.wait_for_timeout(500)
    kept = frame.evaluate(_STATE)
    assert kept["token"] == split["token"] and kept["mark"] == "mounted-before"
    assert kept["view"] == pytest.approx(panned)

    page.get_by_role("button", name=re.compile("^撤销")).first.click()
    settle(page)
    undone = _after(page, split["token"])
    assert undone["mark"] == "mounted-before"
    assert f"{chosen}-2" not in undone["labels"] and sorted(undone["labels"]) == sorted(
        before["labels"]
    )
    assert undone["legends"] == 1 and undone["controls"] == 1 and undone["grids_on"] is False
    print(f"edit map in place: split {chosen} and undone in one frame, labels {undone['labels']}")
