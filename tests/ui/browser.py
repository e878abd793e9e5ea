"""The browser tests' harness: the app served by streamlit on a free port, a headless
Debian Chromium page on it (playwright, never a downloaded browser), and the waits and reads
every walk through the pages uses."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
READY_S = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"streamlit did not listen on {port} within {READY_S} s: {log.read_text()}")


@contextlib.contextmanager
def served_app(log: Path, *, households: int) -> Iterator[str]:
    """The app on a free local port (no basemap, a sample of ``households``); its URL.
    Skips when Chromium is not installed (.ci/run installs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it")
    port = _free_port()
    env = dict(
        os.environ,
        PLANNER_BASEMAP="none",
        PLANNER_SAMPLE_HOUSEHOLDS=str(households),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]  # fmt: skip
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(server, port, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def browser_page(url: str, *, step_s: int, height: int, downloads: bool = False) -> Iterator:
    """A headless Chromium page open on ``url``, every wait bounded by ``step_s``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(
            viewport={"width": 1500, "height": height}, accept_downloads=downloads
        )
        tab = context.new_page()
        tab.set_default_timeout(step_s * 1000)
        tab.goto(url)
        yield tab
        browser.close()


def settle(page) -> None:
    """Wait until the script has finished running (three checks in a row)."""
    idle = (
        "() => { const app = document.querySelector('[data-testid=stApp]');"
        " return app && app.dataset.testScriptState === 'notRunning'; }"
    )
    for _ in range(3):
        page.wait_for_timeout(400)
        page.wait_for_function(idle)


def go(page, title: str) -> None:
    """Open the page titled ``title`` from the sidebar and wait for it."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    settle(page)


def metric(page, label: str) -> str:
    """The value shown in the metric box labelled ``label``."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


#: The st_folium component's frame (one per map on the page).
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def choose_file(page, label: str, path: Path) -> None:
    """Give ``path`` to the file uploader labelled ``label`` and wait until it is listed."""
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text=label).first
    uploader.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()


def map_drawn(page, index: int = 0) -> None:
    """The folium map ``index`` of the page has drawn its layers (SVG paths or a canvas)."""
    frame = page.frame_locator(MAP_FRAME).nth(index)
    frame.locator(".leaflet-container").wait_for()
    frame.locator("path.leaflet-interactive, canvas").first.wait_for()
    page.wait_for_timeout(1500)  # the map fits its bounds


#: Scroll the page and streamlit's scrolling containers back to the top.
_TO_TOP = """() => {
  for (const id of ['stMain', 'stAppViewContainer']) {
    const box = document.querySelector(`[data-testid=${id}]`);
    if (box) box.scrollTo(0, 0);
  }
  window.scrollTo(0, 0);
}"""


def shoot(page, shots: Path, name: str, *, height: int = 2200) -> Path:
    """A screenshot of the page from its top in ``shots`` (streamlit scrolls inside the page,
    so the window is made tall enough for it, then set back)."""
    path = shots / name
    page.evaluate(_TO_TOP)
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": height})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
    return path


#: In a map's frame: the buildings drawn one each (points with a ``building_id``) inside the
#: view, of the communities ``among`` (all when null), nearest first to a building of another
#: of them; their place in the frame.
_BORDER_BUILDINGS = """(among) => {
  const size = window.map.getSize();
  const points = [];
  for (const layer of Object.values(window.map._layers)) {
    const props = layer.feature && layer.feature.properties;
    if (props && props.building_id && props.community_id && layer.getLatLng
        && (!among || among.includes(props.community_id))) {
      const p = window.map.latLngToContainerPoint(layer.getLatLng());
      if (p.x > 60 && p.y > 60 && p.x < size.x - 220 && p.y < size.y - 60) {
        points.push({x: p.x, y: p.y, id: props.building_id, community: props.community_id});
      }
    }
  }
  for (const a of points) {
    a.gap = Infinity;
    for (const b of points) {
      if (b.community !== a.community) a.gap = Math.min(a.gap, Math.hypot(a.x - b.x, a.y - b.y));
    }
  }
  return points.filter((p) => p.gap < Infinity).sort((a, b) => a.gap - b.gap);
}"""


def border_buildings(page, index: int = 0, among: Sequence[str] | None = None) -> list[dict]:
    """The buildings drawn one each on map ``index`` that lie next to another community (of
    the communities ``among``, or any), nearest first: ``{x, y, id, community}`` in page
    pixels, those in the window (the map scrolled into it first)."""
    element = page.locator(MAP_FRAME).nth(index)
    element.scroll_into_view_if_needed()  # messages above may have pushed it below the fold
    box = element.bounding_box()
    frame = element.element_handle().content_frame()
    found = frame.evaluate(_BORDER_BUILDINGS, list(among) if among else None)
    placed = [dict(b, x=box["x"] + b["x"], y=box["y"] + b["y"]) for b in found]
    return [b for b in placed if 0 < b["y"] < page.viewport_size["height"]]  # in the window


def click_on_map(
    page, rank: int = 0, index: int = 0, among: Sequence[str] | None = None
) -> str | None:
    """Click the ``rank``-th building of :func:`border_buildings` on map ``index``; its id
    (None when there is no such building, e.g. they are drawn aggregated)."""
    found = border_buildings(page, index, among)
    if rank >= len(found):
        return None
    page.mouse.click(found[rank]["x"], found[rank]["y"])
    return found[rank]["id"]
