"""The sidebar every page shares: the language switch and the map settings."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.i18n import LANGUAGES, t
from ui.maps import BASEMAPS

__all__ = ["language_switch", "map_settings"]


def language_switch() -> None:
    """The app's name, then 中文 (default) / English, kept in session state under ``lang``."""
    st.sidebar.title(t("app.title"))
    st.sidebar.caption(t("app.tagline"))
    st.sidebar.radio(
        t("sidebar.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=state.LANG_KEY,
        horizontal=True,
    )


def map_settings() -> None:
    """Basemap (OSM, Amap, Tianditu with a key, none) for every map of the app."""
    st.sidebar.subheader(t("sidebar.map"))
    state.choice(
        st.sidebar.selectbox,
        t("sidebar.basemap"),
        BASEMAPS,
        {key: t(f"map.basemap.{key}") for key in BASEMAPS},
        key=state.BASEMAP_KEY,
        default=state.default_basemap(),
        help=t("sidebar.basemap_help"),
    )
    if state.basemap() == "tianditu":
        st.sidebar.text_input(
            t("sidebar.tianditu_key"),
            key=state.TIANDITU_KEY,
            type="password",
            help=t("sidebar.tianditu_help"),
        )
