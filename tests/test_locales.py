"""The planning library's message catalogues: both languages hold every code, with the same
values, and every code the library uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from geo.records import catalogue, placeholders
from planning.records import Note

PLANNING = Path(__file__).resolve().parents[1] / "planning"


def test_both_languages_have_the_same_codes_and_values() -> None:
    zh, en = catalogue(Note.folder, "zh"), catalogue(Note.folder, "en")
    assert set(zh) == set(en)
    for code in en:
        assert placeholders(zh[code]) == placeholders(en[code]), code


def test_every_code_used_exists() -> None:
    codes = set(catalogue(Note.folder, "en"))
    used = set()
    for path in PLANNING.rglob("*.py"):
        used |= set(re.findall(r'Note\.of\(\s*f?"([\w.{}]+)"', path.read_text(encoding="utf-8")))
    assert len(used) > 10
    for code in used:
        pattern = re.compile(re.sub(r"\\\{\w+\\\}", r"\\w+", re.escape(code)) + "$")
        assert any(pattern.match(c) for c in codes), code
