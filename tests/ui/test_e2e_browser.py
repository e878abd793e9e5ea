"""End to end in headless Chromium: open the sample, propose, split a community, download GeoJSON.

Playwright's Python package drives Debian's ``/usr/bin/chromium`` (never a downloaded browser)
against ``streamlit run app.py`` on a free port, as a user would: every step is a click in the
page, and the maps are the real folium maps in their iframes (which AppTest cannot see). The
sample is generated at 10,000 households (``PLANNER_SAMPLE_HOUSEHOLDS``) to keep the run short;
the basemap is "none", so nothing is fetched from the internet.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.ui.browser import browser_page, go, metric, served_app, settle

HOUSEHOLDS = 10_000
STEP_S = 120

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("e2e") / "streamlit.log", households=HOUSEHOLDS) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    with browser_page(app_url, step_s=STEP_S, height=1000, downloads=True) as tab:
        yield tab


def _selected(page) -> str:
    """The community chosen in the Edit page's panel (its id)."""
    text = page.get_by_role("combobox", name="社区", exact=True).input_value()
    match = re.match(r"(C\d{3}(?:-\d+)?) · ", text)
    assert match, text
    return match.group(1)


def test_open_propose_split_download(page, tmp_path):
    settle(page)
    page.get_by_text("打开数据：内置示例或上传文件").click()
    page.get_by_role("button", name="打开示例").click()
    settle(page)
    page.get_by_text(f"{HOUSEHOLDS:,}", exact=True).first.wait_for()

    go(page, "方案")
    page.get_by_role("button", name="生成方案", exact=True).click()
    settle(page)
    communities = int(metric(page, "社区数"))
    assert communities >= 3
    assert page.frame_locator("iframe").first.locator(".leaflet-container").count() == 1

    go(page, "编辑")
    frame = page.frame_locator("iframe").first
    frame.locator(".leaflet-container").wait_for()
    frame.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)  # the map fits its bounds
    before = _selected(page)
    box = page.locator("iframe").first.bounding_box()
    for x, y in ((0.75, 0.35), (0.7, 0.6), (0.35, 0.65), (0.5, 0.5)):  # a click selects
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
        settle(page)
        if _selected(page) != before:
            break
    chosen = _selected(page)
    assert chosen != before, "a click on the map did not select another community"
    page.get_by_role("tab", name="拆分").click()
    page.get_by_role("button", name="拆分", exact=True).click()
    settle(page)
    done = page.locator('[data-testid="stAlertContentSuccess"]').first
    done.wait_for()
    assert f"拆分 {chosen} 为 2 个" in done.inner_text()
    assert int(metric(page, "社区数")) == communities + 1

    go(page, "导出")
    with page.expect_download() as download:
        page.get_by_role("button", name="社区 GeoJSON").click()
    path = tmp_path / "communities.geojson"
    download.value.save_as(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    ids = {feature["properties"]["community_id"] for feature in data["features"]}
    assert len(ids) == communities + 1
    assert f"{chosen}-2" in ids
    print(
        f"e2e: sample {HOUSEHOLDS:,} households → {communities} communities; clicked "
        f"{chosen} on the map (was {before}); split it → "
        f"{len(ids)}; downloaded {path.name} ({path.stat().st_size:,} bytes, "
        f"{len(data['features'])} features)"
    )
