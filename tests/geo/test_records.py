"""Messages as records: a code and values, rendered in Chinese or English."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from geo.records import Message, catalogue, placeholders


@pytest.fixture
def note(tmp_path: Path):
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "en.toml").write_text(
        '[unit]\ntoo_big = "{name}: {households:,.0f} households"\n'
        'sizes = "sizes {sizes}"\nwrapped = "in {where}: {inner}"\n',
        encoding="utf-8",
    )
    (tmp_path / "locales" / "zh.toml").write_text(
        '[unit]\ntoo_big = "{name}：{households:,.0f} 户"\n'
        'sizes = "规模 {sizes}"\nwrapped = "{where}：{inner}"\n',
        encoding="utf-8",
    )

    @dataclass(frozen=True)
    class Note(Message):
        folder: ClassVar[Path] = tmp_path

    yield Note
    catalogue.cache_clear()


def test_a_message_renders_in_either_language(note) -> None:
    m = note.of("unit.too_big", name="甲", households=2760.4)
    assert m.text("en") == "甲: 2,760 households"
    assert m.text("zh") == "甲：2,760 户"
    assert str(m) == m.text("en") and m.value("households") == 2760.4
    assert m == note.of("unit.too_big", name="甲", households=2760.4)  # values compare
    hash(m)


def test_lists_are_joined_per_language_and_messages_nest(note) -> None:
    sizes = note.of("unit.sizes", sizes=(1200, 3400.0))
    assert sizes.text("en") == "sizes 1,200, 3,400"
    assert sizes.text("zh") == "规模 1,200、3,400"
    outer = note.of("unit.wrapped", where="C001", inner=sizes)
    assert outer.text("zh") == "C001：规模 1,200、3,400"


def test_an_unknown_code_or_language_is_refused(note) -> None:
    with pytest.raises(KeyError, match=r"unit\.nothing"):
        note.of("unit.nothing").text("en")
    with pytest.raises(ValueError, match=r"expected one of zh, en"):
        note.of("unit.too_big", name="x", households=1).text("fr")


def test_placeholders() -> None:
    assert placeholders("{a}: {b:,.0f} of {c}") == {"a", "b", "c"}
