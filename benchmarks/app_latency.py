"""Edit latency in the browser: from a click on the Edit page to the map drawn again.

Usage::

    .venv/bin/python benchmarks/app_latency.py               # the sample, 80,000 households
    .venv/bin/python benchmarks/app_latency.py 20000         # another size
    .venv/bin/python benchmarks/app_latency.py --rounds 2    # the series of edits twice

The app is served by ``streamlit run app.py`` on a free port (the browser tests' harness,
:mod:`tests.ui.browser`, basemap "none") and driven in headless Chromium by Playwright: open the
built-in sample, propose, open 编辑 and make a series of edits with clicks as a planner would
(choose a community in the list, move a compound, click a building on the map and move it,
split, merge, re-grid, undo). For each edit it prints the time from the click to the map drawn
again: the script has run (``data-test-script-state`` back to ``notRunning``) and the map shows
the result, either a new map frame whose Leaflet layers are drawn (st_folium mounts a new frame
when the map's script changes) or the last change inside the frame that was there (the Edit
map keeps its frame and draws an edit's layers in it, :mod:`ui.map_frame`). Beside it: the
script's share, the server's CPU time over the edit (its process's user + system time from
``/proc``: on a busy machine the wall time waits for other work, this does not), whether the
map was mounted anew, the size of the map frame's HTML, and the first words of the result the
page shows. Files changed while it runs do not reload the app (no file watcher).
The target is 1 s per edit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ui.browser import (  # noqa: E402
    MAP_FRAME,
    browser_page,
    click_on_map,
    go,
    served_app,
    settle,
)

TARGET_S = 1.0
STEP_S = 600
#: The longest wait for one edit.
EDIT_WAIT_S = 60

#: Installed in the page before each click: counts the runs of the script that end, marks the
#: map frames there now as old, and watches the map frame's document for changes.
_ARM = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!window.__bench) {
    window.__bench = {ended: 0, endedAt: 0};
    new MutationObserver(() => {
      if (app.dataset.testScriptState === 'notRunning') {
        window.__bench.ended += 1; window.__bench.endedAt = Date.now();
      }
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  window.__bench.lastChange = 0;
  for (const frame of document.querySelectorAll('FRAME')) {
    frame.dataset.benchOld = '1';
    const doc = frame.contentDocument;
    if (doc && !doc.__benchWatched) {
      doc.__benchWatched = true;
      new MutationObserver(() => { window.__bench.lastChange = Date.now(); })
        .observe(doc.body, {subtree: true, childList: true, attributes: true});
    }
  }
  return {ended: window.__bench.ended, t0: Date.now()};
}""".replace("FRAME", MAP_FRAME)

_DONE = """(before) => {
  const app = document.querySelector('[data-testid=stApp]');
  return window.__bench.ended > before && app.dataset.testScriptState === 'notRunning';
}"""

_DRAWN = """() => !!document.querySelector(
  '.leaflet-container path.leaflet-interactive, .leaflet-container canvas')"""


class ServerClock:
    """The CPU time (user + system) the app's server process has used, read from ``/proc``:
    the server is the ``streamlit run`` process this script started on ``port``."""

    def __init__(self, port: int):
        self.pid = None
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = stat.with_name("cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and str(port).encode() in command:
                self.pid = stat.parent.name
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        """The server's CPU seconds so far (0 when it was not found)."""
        if self.pid is None:
            return 0.0
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick


def _timed(page, name: str, action, clock: ServerClock) -> dict:
    """Run ``action`` (a click) and wait for the map drawn again; the edit's figures."""
    cpu = clock.seconds()
    armed = page.evaluate(_ARM)
    action()
    page.wait_for_function(_DONE, arg=armed["ended"], polling=20)
    ended = page.evaluate("() => window.__bench.endedAt")
    page.wait_for_timeout(150)  # let a new frame be mounted
    frame_el = page.locator(MAP_FRAME).first
    new_frame = frame_el.get_attribute("data-bench-old") is None
    frame = _frame(page)
    if new_frame:
        frame.wait_for_function(_DRAWN, polling="raf")
        drawn = frame.evaluate("() => Date.now()")
    else:
        page.wait_for_timeout(400)  # changes inside the frame (the view, the selection)
        drawn = page.evaluate("() => window.__bench.lastChange")
    seconds = (max(ended, drawn) - armed["t0"]) / 1000
    cpu = clock.seconds() - cpu
    html_kb = frame.evaluate("() => document.documentElement.outerHTML.length") / 1024
    row = {"edit": name, "s": seconds, "cpu_s": cpu, "new_frame": new_frame, "html_kb": html_kb}
    print(
        f"{name:<24} {seconds:6.2f} s   script {max(ended - armed['t0'], 0) / 1000:5.2f} s   "
        f"server CPU {cpu:5.2f} s   "
        f"{'new map' if new_frame else 'same map'}, {html_kb:,.0f} kB   {_outcome(page)}",
        flush=True,
    )
    return row


def _frame(page):
    """The map's frame (looked up again while st_folium is replacing it)."""
    for _ in range(50):
        handle = page.locator(MAP_FRAME).first.element_handle()
        frame = handle.content_frame() if handle else None
        if frame is not None:
            return frame
        page.wait_for_timeout(100)
    raise RuntimeError("the map's frame did not come back")


def _outcome(page) -> str:
    """The first words of the edit's result (done, refused) as the page shows it."""
    for kind in ("Success", "Error", "Info"):
        alert = page.locator(f'[data-testid="stAlertContent{kind}"]')
        if alert.count():
            return f"{kind.lower()}: {alert.first.inner_text().splitlines()[0][:40]}"
    return ""


def _button(page, name: str):
    return lambda: _visible(page.get_by_role("button", name=name, exact=True)).click()


def _visible(locator):
    """The first of ``locator``'s elements that is shown (a tab panel being redrawn can hold
    the same button twice for a moment)."""
    return locator.locator("visible=true").first


def _tab(page, name: str) -> None:
    _visible(page.get_by_role("tab", name=name, exact=True)).click()
    settle(page)  # a tab chosen reruns the page: not part of the next edit


def _choose(page, label: str, index: int) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option").nth(index).click()


def _click_building(page, among: tuple[str, str], tries: int = 8) -> str | None:
    """Click a building on the border of the communities ``among`` that can move (the panel
    offers 移动楼栋); its id, or None (buildings drawn aggregated, or none can move)."""
    for rank in range(tries):
        building = click_on_map(page, rank, among=among)
        if building is None:
            return None
        settle(page)
        if _visible(page.get_by_role("button", name="移动楼栋", exact=True)).count():
            return building
    return None


def _options(page, label: str) -> int:
    page.get_by_role("combobox", name=label, exact=True).click()
    count = page.get_by_role("option").count()
    page.keyboard.press("Escape")
    return count


def _ready_compound(page) -> bool:
    """Choose a community and a compound that 移动小区 can move (not timed)."""
    for community in range(_options(page, "社区")):
        _choose(page, "社区", community)
        settle(page)
        if not page.get_by_role("combobox", name="小区", exact=True).count():
            continue
        for compound in range(min(_options(page, "小区"), 8)):
            _choose(page, "小区", compound)
            settle(page)
            if not _visible(page.get_by_role("button", name="移动小区", exact=True)).is_disabled():
                return True
    return False


def _edits(page, clock: ServerClock) -> list[dict]:
    rows = []
    rows.append(_timed(page, "select community (list)", lambda: _choose(page, "社区", 3), clock))
    _tab(page, "移动")
    if not _ready_compound(page):
        raise RuntimeError("no compound can move to a community it borders")
    source = page.get_by_role("combobox", name="社区", exact=True).input_value()
    target = page.get_by_role("combobox", name="移到社区", exact=True).first.input_value()
    among = (source.split(" · ")[0], target.split(" · ")[0])
    rows.append(_timed(page, "move compound", _button(page, "移动小区"), clock))
    clicked: list[str | None] = []
    rows.append(
        _timed(
            page, "click a building", lambda: clicked.append(click_on_map(page, among=among)), clock
        )
    )
    if _click_building(page, among) is None:
        print("  (no building on that border can move: 'move building' left out)", flush=True)
    else:
        rows.append(_timed(page, "move building", _button(page, "移动楼栋"), clock))
    _tab(page, "拆分")
    rows.append(_timed(page, "split", _button(page, "拆分"), clock))
    _tab(page, "合并")
    rows.append(_timed(page, "merge", _button(page, "合并"), clock))
    _tab(page, "锁定·重划·改名")
    rows.append(_timed(page, "re-grid", _button(page, "重新划分网格"), clock))
    rows.append(_timed(page, "undo", _button(page, "撤销"), clock))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("households", nargs="?", type=int, default=80_000)
    parser.add_argument("--rounds", type=int, default=1, help="the series of edits this often")
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp(prefix="app-latency-")) / "streamlit.log"
    # files changed while it runs (other work in the checkout) must not reload the app's modules
    os.environ.setdefault("STREAMLIT_SERVER_FILE_WATCHER_TYPE", "none")
    with (
        served_app(log, households=args.households) as url,
        browser_page(url, step_s=STEP_S, height=1100) as page,
    ):
        clock = ServerClock(int(url.rstrip("/").rsplit(":", 1)[1]))
        settle(page)
        page.get_by_text("打开数据：内置示例或上传文件").click()
        start = time.perf_counter()
        page.get_by_role("button", name="打开示例").click()
        settle(page)
        print(f"open the sample ({args.households:,} households): "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        go(page, "方案")
        start = time.perf_counter()
        page.get_by_role("button", name="生成方案", exact=True).click()
        settle(page)
        print(f"propose: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        go(page, "编辑")
        page.frame_locator(MAP_FRAME).first.locator(".leaflet-container").wait_for()
        print(f"open 编辑: {time.perf_counter() - start:.1f} s")
        page.set_default_timeout(EDIT_WAIT_S * 1000)
        rows = []
        try:
            for _ in range(args.rounds):
                rows += _edits(page, clock)
        except Exception:
            shot = log.with_name("failed.png")
            page.screenshot(path=str(shot), full_page=True)
            print(f"failed; the page: {shot}; the server's log: {log}", flush=True)
            raise
    seconds = [r["s"] for r in rows]
    cpu = [r["cpu_s"] for r in rows]
    slow = [r["edit"] for r in rows if r["s"] > TARGET_S]
    print(
        f"{len(rows)} edits: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s; "
        f"server CPU median {statistics.median(cpu):.2f} s, max {max(cpu):.2f} s; "
        f"over {TARGET_S:.0f} s: {', '.join(slow) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
