"""The message catalogues: the geo package's (``geo/locales``), the planning library's
(``planning/locales``) and the app's (``ui/locales``). Both languages hold every code, with
the same values, and every code the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.errors import PARTS
from geo.records import GeoMessage, catalogue, placeholders
from planning.records import Note

ROOT = Path(__file__).resolve().parents[1]
GEO = ROOT / "geo"
PLANNING = ROOT / "planning"
UI = ROOT / "ui"

#: ``t("key")``, ``text('key', lang)``, ``t(f"prefix.{name}")``: the quote, whether it is an
#: f-string, and the key as written.
_UI_CALL = re.compile(r"""\b(?:t|text)\(\s*(f?)(["'])(.*?)\2""")


def _matches_some(code: str, codes: set[str]) -> bool:
    """Whether a key written with ``{fields}`` (an f-string) names at least one code."""
    pattern = re.compile(".+".join(re.escape(part) for part in re.split(r"\{[^{}]*\}", code)))
    return any(pattern.fullmatch(c) for c in codes)


@pytest.mark.parametrize("folder", [GEO, PLANNING, UI], ids=["geo", "planning", "ui"])
def test_both_languages_have_the_same_codes_and_values(folder: Path) -> None:
    zh, en = catalogue(folder, "zh"), catalogue(folder, "en")
    assert set(zh) == set(en)
    for code in en:
        assert placeholders(zh[code]) == placeholders(en[code]), code


def _used_codes(folder: Path, maker: str) -> set[str]:
    """The codes ``folder``'s modules give ``<maker>.of(...)`` as written (``{field}`` where
    an f-string fills them in)."""
    used = set()
    for path in folder.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(maker + r'\.of\(\s*f?"([\w.{}]+)"', text))
    return used


@pytest.mark.parametrize(
    ("folder", "maker", "least"),
    [(GEO, "GeoMessage", 30), (PLANNING, "Note", 10)],
    ids=["geo", "planning"],
)
def test_every_code_used_exists(folder: Path, maker: str, least: int) -> None:
    """A code is a template, or a problem's table with every part (message, expected, found,
    fix)."""
    codes = set(catalogue(folder, "en"))
    used = _used_codes(folder, maker)
    assert len(used) > least
    for code in used:
        pattern = re.compile(re.sub(r"\\\{\w+\\\}", r"\\w+", re.escape(code)) + "$")
        table = {f"{code}.{part}" for part in PARTS}
        assert any(pattern.match(c) for c in codes) or table <= codes, code
    assert GeoMessage.folder == GEO and Note.folder == PLANNING


def test_every_key_the_app_uses_exists() -> None:
    """Literal keys exist as written; a key built with an f-string names at least one key."""
    keys = set(catalogue(UI, "en"))
    literal, built = set(), set()
    for path in [*UI.rglob("*.py"), ROOT / "app.py"]:
        for is_f, _, key in _UI_CALL.findall(path.read_text(encoding="utf-8")):
            (built if is_f and "{" in key else literal).add(key)
    assert len(literal) > 300 and len(built) > 20
    assert sorted(literal - keys) == []
    assert [key for key in sorted(built) if not _matches_some(key, keys)] == []


def test_a_missing_key_raises() -> None:
    from ui.i18n import text

    assert text("app.title", "en") == "Community planner"
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        text("no.such.key", "en")
