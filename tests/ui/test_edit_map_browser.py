"""The Edit map in headless Chromium (the sample at 10,000 households, no basemap): dragging
the map pans it and selects nothing, a click selects, a pan after choosing another community
in the list does not bring the clicked one back; with the brush on, a click on a grid adds its
buildings to the selection (the community chosen stays) and the before → after preview appears
beside the map."""

from __future__ import annotations

import re

import pytest

from tests.ui.browser import browser_page, go, served_app, settle

HOUSEHOLDS = 10_000
STEP_S = 120

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    log = tmp_path_factory.mktemp("edit_map") / "streamlit.log"
    with (
        served_app(log, households=HOUSEHOLDS) as url,
        browser_page(url, step_s=STEP_S, height=1100) as tab,
    ):
        yield tab


def _selected(page) -> str:
    text = page.get_by_role("combobox", name="社区", exact=True).input_value()
    match = re.match(r"(C\d{3}(?:-\d+)?) · ", text)
    assert match, text
    return match.group(1)


def _map_box(page) -> dict:
    return page.locator("iframe").first.bounding_box()


def _drag(page, x: float, y: float, dx: float = 160, dy: float = 90) -> None:
    """Press on the map at (x, y) (fractions of the map), move in ten steps, release."""
    box = _map_box(page)
    sx, sy = box["x"] + box["width"] * x, box["y"] + box["height"] * y
    page.mouse.move(sx, sy)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(sx + dx * k / 10, sy + dy * k / 10)
        page.wait_for_timeout(20)
    page.mouse.up()
    page.wait_for_timeout(700)  # st_folium waits 250 ms before it reports
    settle(page)


def _click(page, x: float, y: float) -> None:
    box = _map_box(page)
    page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    page.wait_for_timeout(700)
    settle(page)


def test_a_drag_pans_a_click_selects_and_the_brush_adds_a_grid(page):
    settle(page)
    page.get_by_text("打开数据：内置示例或上传文件").click()
    page.get_by_role("button", name="打开示例").click()
    settle(page)
    go(page, "方案")
    page.get_by_role("button", name="生成方案", exact=True).click()
    settle(page)
    go(page, "编辑")
    frame = page.frame_locator("iframe").first
    frame.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)

    first = _selected(page)
    # every press lands on the plan, and the map ends where it started
    for x, y, dx, dy in ((0.5, 0.5, 160, 90), (0.6, 0.6, -160, -90), (0.45, 0.55, 80, -40)):
        _drag(page, x, y, dx, dy)
        assert _selected(page) == first, "a drag of the map selected a community"
    assert not page.get_by_text("选中的楼栋").count()

    clicked = first
    _drag(page, 0.55, 0.5, -80, 40)
    for x, y in ((0.3, 0.3), (0.7, 0.7), (0.3, 0.7), (0.7, 0.3), (0.2, 0.5), (0.8, 0.5)):
        _click(page, x, y)
        clicked = _selected(page)
        if clicked != first:
            break
    assert clicked != first, "a click on the map selected nothing"

    combo = page.get_by_role("combobox", name="社区", exact=True)
    combo.click()
    page.get_by_role("option", name=re.compile(rf"^{first} · ")).click()
    settle(page)
    assert _selected(page) == first
    _drag(page, 0.5, 0.5, dx=-120, dy=-60)
    assert _selected(page) == first, "a pan brought back the community clicked before"

    # at this size every community is alone in its 街道: split it to have a neighbour
    page.get_by_role("tab", name="拆分").click()
    page.get_by_role("button", name="拆分", exact=True).click()
    settle(page)
    page.wait_for_timeout(1500)  # the map zooms to the two parts
    page.get_by_role("tab", name="移动").click()
    page.get_by_text("刷选：点击楼栋或网格、圈出范围，累加到选择中").click()
    settle(page)
    preview = page.get_by_text("移动前后对比（预览，尚未执行）")
    spots = ((0.5, 0.5), (0.35, 0.4), (0.65, 0.6), (0.4, 0.65), (0.6, 0.35), (0.3, 0.6))
    for x, y in spots:  # grids join the selection until it borders another community
        _click(page, x, y)
        if preview.count():
            break
    chosen = page.get_by_text(re.compile(r"已选 \d+ 栋楼")).first
    chosen.wait_for()
    assert _selected(page) == first  # brushing does not change the community chosen
    preview.wait_for()
    brushed = chosen.inner_text()

    # a rectangle drawn with the brush on adds (or takes out) the buildings inside it
    frame.locator(".leaflet-draw-draw-rectangle").click()
    box = _map_box(page)
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(
            box["x"] + box["width"] * (0.3 + 0.04 * k), box["y"] + box["height"] * (0.3 + 0.04 * k)
        )
        page.wait_for_timeout(20)
    page.mouse.up()
    page.wait_for_timeout(700)
    settle(page)
    after = page.get_by_text(re.compile(r"已选 \d+ 栋楼")).first.inner_text()
    assert after != brushed, "a rectangle drawn with the brush on changed nothing"
    assert _selected(page) == first
    print(
        f"edit map: drags kept {first}; a click chose {clicked}; brush: {brushed}; "
        f"a rectangle: {after}"
    )
