"""End to end in headless Chromium: open the sample, propose, split a community, download GeoJSON.

Playwright's Python package drives Debian's ``/usr/bin/chromium`` (never a downloaded browser)
against ``streamlit run app.py`` on a free port, as a user would: every step is a click in the
page, and the maps are the real folium maps in their iframes (which AppTest cannot see). The
sample is generated at 10,000 households (``PLANNER_SAMPLE_HOUSEHOLDS``) to keep the run short;
the basemap is "none", so nothing is fetched from the internet.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
HOUSEHOLDS = 10_000
READY_S = 60
STEP_S = 120

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it")
    port = _free_port()
    log = tmp_path_factory.mktemp("e2e") / "streamlit.log"
    env = dict(
        os.environ,
        PLANNER_BASEMAP="none",
        PLANNER_SAMPLE_HOUSEHOLDS=str(HOUSEHOLDS),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"streamlit exited: {log.read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail(f"streamlit did not listen on {port} within {READY_S} s: {log.read_text()}")
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(
            viewport={"width": 1500, "height": 1000}, accept_downloads=True
        )
        tab = context.new_page()
        tab.set_default_timeout(STEP_S * 1000)
        tab.goto(app_url)
        yield tab
        browser.close()


def _settle(page) -> None:
    """Wait until the script has finished running (three checks in a row)."""
    idle = (
        "() => { const app = document.querySelector('[data-testid=stApp]');"
        " return app && app.dataset.testScriptState === 'notRunning'; }"
    )
    for _ in range(3):
        page.wait_for_timeout(400)
        page.wait_for_function(idle)


def _go(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    _settle(page)


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _selected(page) -> str:
    """The community chosen in the Edit page's panel (its id)."""
    text = page.get_by_role("combobox", name="社区", exact=True).input_value()
    match = re.match(r"(C\d{3}(?:-\d+)?) · ", text)
    assert match, text
    return match.group(1)


def test_open_propose_split_download(page, tmp_path):
    _settle(page)
    page.get_by_text("打开数据：内置示例或上传文件").click()
    page.get_by_role("button", name="打开示例").click()
    _settle(page)
    page.get_by_text(f"{HOUSEHOLDS:,}", exact=True).first.wait_for()

    _go(page, "方案")
    page.get_by_role("button", name="生成方案", exact=True).click()
    _settle(page)
    communities = int(_metric(page, "社区数"))
    assert communities >= 3
    assert page.frame_locator("iframe").first.locator(".leaflet-container").count() == 1

    _go(page, "编辑")
    frame = page.frame_locator("iframe").first
    frame.locator(".leaflet-container").wait_for()
    frame.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)  # the map fits its bounds
    before = _selected(page)
    box = page.locator("iframe").first.bounding_box()
    for x, y in ((0.75, 0.35), (0.7, 0.6), (0.35, 0.65), (0.5, 0.5)):  # a click selects
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
        _settle(page)
        if _selected(page) != before:
            break
    chosen = _selected(page)
    assert chosen != before, "a click on the map did not select another community"
    page.get_by_role("tab", name="拆分").click()
    page.get_by_role("button", name="拆分", exact=True).click()
    _settle(page)
    done = page.locator('[data-testid="stAlertContentSuccess"]').first
    done.wait_for()
    assert f"拆分 {chosen} 为 2 个" in done.inner_text()
    assert int(_metric(page, "社区数")) == communities + 1

    _go(page, "导出")
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
