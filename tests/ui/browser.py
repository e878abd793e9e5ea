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
from collections.abc import Iterator
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
