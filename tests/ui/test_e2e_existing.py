"""End to end in headless Chromium: start from today's 社区.

Upload the sample's households on the Data page, open its existing communities
(``communities.geojson``, written by :func:`samples.district.write_sample`) on the 现状社区 page,
see the band table and map, rebalance, and compare the result with the existing communities
on the Compare page. Every step is a click or a file chosen in the page, as a user would; a
screenshot of each step goes to ``$E2E_SCREENSHOTS`` (default: the test's temporary folder).

Playwright drives Debian's ``/usr/bin/chromium`` against ``streamlit run app.py`` on a free
port; the basemap is "none", so nothing is fetched from the internet.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ui.browser import (
    browser_page,
    choose_file,
    go,
    map_drawn,
    metric,
    served_app,
    settle,
    shoot,
)

HOUSEHOLDS = 10_000
STEP_S = 180

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with served_app(
        tmp_path_factory.mktemp("e2e-existing") / "streamlit.log", households=HOUSEHOLDS
    ) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    with browser_page(app_url, step_s=STEP_S, height=1100) as tab:
        yield tab


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Path]:
    from samples.district import write_sample

    return write_sample(tmp_path_factory.mktemp("sample"), households=HOUSEHOLDS)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("E2E_SCREENSHOTS")
    out = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_existing_band_rebalance_compare(page, sample, shots):
    settle(page)
    page.get_by_text("打开数据：内置示例或上传文件").click()
    page.get_by_text("上传文件", exact=True).click()
    settle(page)
    choose_file(page, "住户数据文件", sample["households"])
    page.get_by_text("其他图层（可选）").click()
    choose_file(page, "街道（乡镇）边界", sample["streets"])
    choose_file(page, "道路、河流、铁路", sample["barriers"])
    page.get_by_role("combobox", name="坐标系", exact=True).first.click()
    page.get_by_role("option", name="GCJ-02（高德、腾讯）").click()
    page.get_by_role("button", name="读取并校验").click()
    settle(page)
    page.get_by_text("households.csv").first.wait_for()
    map_drawn(page)
    shoot(page, shots, "1-data-households.png")

    go(page, "现状社区")
    page.get_by_text("当前数据没有现状社区边界").wait_for()
    choose_file(page, "现状社区边界", sample["communities"])
    page.get_by_role("button", name="使用这些边界").click()
    settle(page)
    assert metric(page, "现状社区数") == "5"
    assert metric(page, "偏大") == "2" and metric(page, "偏小") == "3"
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    map_drawn(page)
    shoot(page, shots, "2-existing-band.png")

    page.get_by_role("button", name="调整现状社区", exact=True).click()
    settle(page)
    page.get_by_text("调整后的方案已成为当前方案").wait_for()
    stability = metric(page, "稳定性")
    assert stability.endswith("%")
    assert metric(page, "社区数（调整前 → 后）") == "5 → 4"
    assert metric(page, "合并") == "1"
    page.get_by_text("原样保留 3 个").first.wait_for()
    shoot(page, shots, "3-rebalanced-report.png")

    go(page, "编辑")
    map_drawn(page)
    assert metric(page, "社区数") == "4"
    shoot(page, shots, "4-edit-rebalanced.png")

    go(page, "比较")
    map_drawn(page, 0)
    map_drawn(page, 1)
    changed_id = metric(page, "社区代码改变的户数")
    assert int(changed_id.replace(",", "")) > 0
    layers = page.frame_locator("iframe").nth(1).locator(".leaflet-control-layers")
    assert "变动区域" in layers.text_content()  # the areas that changed hands (folded control)
    shoot(page, shots, "5-compare-existing.png")
    print(
        f"e2e existing: {HOUSEHOLDS:,} households, 5 existing communities (2 oversized, "
        f"3 undersized) → 4 after rebalancing, stability {stability}; against the existing "
        f"communities {changed_id} households change community id; screenshots in {shots}"
    )
