"""Streamlit entry: page config, the shared sidebar and the page router (nothing else)."""

import streamlit as st

from ui import sidebar
from ui.i18n import t
from ui.widgets import ICONS, PAGES

st.set_page_config(page_title=t("app.title"), page_icon="🏘️", layout="wide")
sidebar.language_switch()
page = st.navigation(
    [
        st.Page(path, title=t(f"nav.{name}"), icon=ICONS[name], url_path=name, default=i == 0)
        for i, (name, path) in enumerate(PAGES.items())
    ]
)
sidebar.map_settings()
page.run()
