"""Every string the app shows, in Chinese (the default) and English.

The strings are data: ``ui/locales/zh.toml`` and ``ui/locales/en.toml`` hold one template per
key (read with :func:`geo.records.catalogue`, the loader of the library's message catalogues).
``text(key, lang)`` is pure (the map builders use it); ``t(key)`` reads the language from the
session. A key that is not in the catalogue raises :class:`KeyError`.

Messages from the library that are records (:class:`geo.records.Message`) render themselves
in the language chosen; the others (validation problems, input errors) are shown exactly as
the command line prints them.
"""

from __future__ import annotations

from pathlib import Path

from geo.records import catalogue

__all__ = ["DEFAULT_LANG", "LANGUAGES", "t", "text"]

DEFAULT_LANG = "zh"
#: The languages the app speaks, by code, each named in itself (the sidebar's choices).
LANGUAGES = {"zh": "中文", "en": "English"}

#: The package whose ``locales/`` hold the app's strings.
_FOLDER = Path(__file__).resolve().parent


def text(key: str, lang: str = DEFAULT_LANG) -> str:
    """The template for ``key`` in ``lang``.

    Raises
    ------
    KeyError
        When ``ui/locales/<lang>.toml`` has no ``key``.
    """
    templates = catalogue(_FOLDER, lang)
    if key not in templates:
        raise KeyError(
            f"text {key!r} is not in ui/locales/{lang}.toml; fix: add it to both "
            "ui/locales/zh.toml and ui/locales/en.toml"
        )
    return templates[key]


def t(key: str, **values: object) -> str:
    """The string for ``key`` in the session's language, formatted with ``values``."""
    import streamlit as st  # here, so that text() and the map builders need no streamlit

    lang = st.session_state.get("lang", DEFAULT_LANG)
    template = text(key, lang)
    return template.format(**values) if values else template
