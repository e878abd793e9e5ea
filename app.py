"""Streamlit entry: page config, the shared sidebar and the page router (nothing else)."""

import streamlit as st

from ui import sidebar
from ui.i18n import t
from ui.pages import data

st.set_page_config(page_title=t("app.title"), page_icon="🏘️", layout="wide")
sidebar.language_switch()
page = st.navigation(
    [
        st.Page(
            data.render,
            title=t("nav.data"),
            icon=":material/database:",
            url_path="data",
            default=True,
        )
    ]
)
sidebar.map_settings()
page.run()
