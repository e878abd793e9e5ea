"""Shared fixtures: paths to the real sample in ../shared and a session-wide sample district."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# The same examples on every run and every machine: a property that fails, fails in CI and
# here alike (a random draw once failed CI on a case no local run had tried).
settings.register_profile("repo", derandomize=True)
settings.load_profile("repo")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HAIDIAN = SHARED / "data" / "beijing_haidian"


@pytest.fixture(scope="session")
def haidian() -> Path:
    """The real OpenStreetMap sample (Haidian, Beijing), in WGS84."""
    if not HAIDIAN.exists():
        pytest.fail(f"the shared sample is missing: {HAIDIAN} (../shared must sit beside the repo)")
    return HAIDIAN


@pytest.fixture(autouse=True)
def _english_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line prints in the locale's language unless --lang says otherwise: the
    tests run in an English locale on every machine (a test wanting Chinese passes --lang zh)."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
