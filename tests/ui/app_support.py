"""What the app tests share: a fresh AppTest of app.py on a small built-in sample, page
switching, and reading texts and metrics off the rendered page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import state
from ui.widgets import PAGES

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT_S = 120
SAMPLE_HOUSEHOLDS = 10_000


def new_app(**session: object) -> AppTest:
    """The app on a 10,000-household sample, without a basemap, with ``session`` preset."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.session_state[state.SAMPLE_SIZE_KEY] = SAMPLE_HOUSEHOLDS
    at.session_state[state.BASEMAP_KEY] = "none"
    for key, value in session.items():
        at.session_state[key] = value
    return at


def open_page(at: AppTest, name: str) -> AppTest:
    return at.switch_page(PAGES[name]).run()


def texts(elements) -> list[str]:
    """Element bodies with markdown escapes removed."""
    return [str(e.value).replace("\\", "") for e in elements]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}
