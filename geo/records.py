"""Messages a person reads, as records: a code and values, rendered in Chinese or English.

A sentence cannot be translated; a record can. Code that tells a planner something — a
refusal, a warning, a unit where the band cannot be met, the result of an edit — makes a
:class:`Message` with a code and the values the sentence needs; the command line and the app
render it in the language chosen, from a catalogue of templates (``locales/zh.toml`` and
``locales/en.toml`` beside the package that makes the message: each package subclasses
:class:`Message` once and names its folder).

Templates are :meth:`str.format` strings over the values. A value that is itself a message is
rendered in the same language; a tuple or list is joined (``、`` in Chinese, ``, `` in
English), its numbers written with thousands separators.
"""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Self

__all__ = ["LANGUAGES", "GeoMessage", "Message", "catalogue", "placeholders"]

#: The languages every catalogue holds.
LANGUAGES = ("zh", "en")

_JOINER = {"zh": "、", "en": ", "}


@functools.cache
def catalogue(folder: Path, lang: str) -> Mapping[str, str]:
    """The templates of ``folder/locales/<lang>.toml``, by dotted code."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    with open(folder / "locales" / f"{lang}.toml", "rb") as f:
        return _flat(tomllib.load(f))


def _flat(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        code = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat(value, code + "."))
        else:
            out[code] = str(value)
    return out


def placeholders(template: str) -> set[str]:
    """The value names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Message:
    """A code and its values; :meth:`text` renders it.

    Subclasses set :attr:`folder` (the package whose ``locales/`` hold the templates).
    """

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    folder: ClassVar[Path]

    @classmethod
    def of(cls, code: str, /, **values: Any) -> Self:
        """A message with the values given by name."""
        return cls(code, tuple(values.items()))

    def value(self, name: str) -> Any:
        """One value by name."""
        return dict(self.values)[name]

    def part(self, name: str) -> Self:
        """The message ``<code>.<name>`` with the same values: one part of a message whose
        code names a table of templates (a problem's ``message``, ``expected``, ``found``
        and ``fix``)."""
        return replace(self, code=f"{self.code}.{name}")

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        templates = catalogue(self.folder, lang)
        if self.code not in templates:
            raise KeyError(f"message {self.code!r} has no {lang} text in {self.folder}/locales")
        return templates[self.code].format(**{k: _shown(v, lang) for k, v in self.values})

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True)
class GeoMessage(Message):
    """A message of the ``geo`` package (templates in ``geo/locales``): the problems the file
    readers find, their words (``word.*``) and the errors they raise."""

    folder: ClassVar[Path] = Path(__file__).resolve().parent


def _shown(value: Any, lang: str) -> Any:
    """A value as a template takes it."""
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, tuple | list):
        return _JOINER[lang].join(_item(v, lang) for v in value)
    return value


def _item(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(_shown(value, lang))
