"""Session state: what the user chose, never what was computed from it.

The session holds the language, the map settings and the data *source* (paths, digests, the
declared CRS, the column mapping): small, hashable values. Everything derived from them (the
read households, the layers) comes from the caches in :mod:`ui.loading`, keyed on those values.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import streamlit as st

__all__ = [
    "BASEMAP_KEY",
    "DEFAULT_SAMPLE_HOUSEHOLDS",
    "LANG_KEY",
    "SAMPLE_SIZE_KEY",
    "SOURCE_KEY",
    "TIANDITU_KEY",
    "DataSource",
    "FileRef",
    "basemap",
    "choice",
    "default_basemap",
    "get_source",
    "language",
    "sample_households",
    "set_source",
    "tianditu_key",
    "widget_key",
    "widget_key_for",
]

LANG_KEY = "lang"
SOURCE_KEY = "data_source"
SAMPLE_SIZE_KEY = "sample_households"
BASEMAP_KEY = "basemap"
TIANDITU_KEY = "tianditu_key"

DEFAULT_LANG = "zh"
DEFAULT_SAMPLE_HOUSEHOLDS = 80_000
#: Environment variable that sets the basemap the app opens with (osm, amap, tianditu, none).
BASEMAP_ENV = "PLANNER_BASEMAP"


@dataclass(frozen=True)
class FileRef:
    """A file on the server's disk: where it is, its SHA-256, and the name the user knows."""

    path: str
    digest: str
    label: str


@dataclass(frozen=True)
class DataSource:
    """What to load: the household file and optional layers, with the declared CRS.

    ``kind`` is ``"sample"`` or ``"upload"``. ``columns`` is the explicit column mapping as
    sorted ``(role, column)`` pairs; ``layers`` holds ``(layer kind, FileRef)`` pairs, the kinds
    being ``streets``, ``barriers``, ``facilities`` and ``communities``. ``layers_crs`` is the
    CRS of the layers when it differs from the households'.
    """

    kind: str
    households: FileRef
    crs: str
    columns: tuple[tuple[str, str], ...] = ()
    layers: tuple[tuple[str, FileRef], ...] = ()
    layers_crs: str | None = None
    title: str = ""

    @property
    def layer_crs(self) -> str:
        return self.layers_crs or self.crs


def language() -> str:
    """``"zh"`` (the default) or ``"en"``."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANG)


def get_source() -> DataSource | None:
    return st.session_state.get(SOURCE_KEY)


def set_source(source: DataSource) -> None:
    st.session_state[SOURCE_KEY] = source


def sample_households() -> int:
    """Size of the built-in sample: 80,000 unless the session asks for another (tests do)."""
    return int(st.session_state.get(SAMPLE_SIZE_KEY, DEFAULT_SAMPLE_HOUSEHOLDS))


def default_basemap() -> str:
    """The basemap the app opens with: ``$PLANNER_BASEMAP``, else OpenStreetMap."""
    value = os.environ.get(BASEMAP_ENV, "osm").strip().lower()
    return value if value in ("osm", "amap", "tianditu", "none") else "osm"


def basemap() -> str:
    return st.session_state.get(BASEMAP_KEY) or default_basemap()


def tianditu_key() -> str | None:
    return (st.session_state.get(TIANDITU_KEY) or "").strip() or None


def widget_key(key: str) -> str:
    """The key of the widget behind :func:`choice` ``key`` in the current language."""
    return widget_key_for(key, language())


def widget_key_for(key: str, lang: str) -> str:
    return f"_{key}_{lang}"


def choice(
    widget: Callable[..., object],
    label: str,
    options: Sequence[str],
    labels: Mapping[str, str],
    *,
    key: str,
    default: str,
    **kwargs: object,
) -> str:
    """A radio or selectbox over ``options`` whose choice survives a language switch.

    Streamlit keeps a select widget's value as its *label*, and the labels change with the
    language; so the widget is keyed per language and the chosen option is kept under ``key``
    (a plain session value, which tests and other pages read).
    """
    current = st.session_state.get(key, default)
    if current not in options:
        current = default
    st.session_state[key] = current
    inner = widget_key(key)

    def sync() -> None:
        st.session_state[key] = st.session_state[inner]

    widget(
        label,
        options=list(options),
        index=list(options).index(current),
        format_func=dict(labels).__getitem__,
        key=inner,
        on_change=sync,
        **kwargs,
    )
    return st.session_state[key]
