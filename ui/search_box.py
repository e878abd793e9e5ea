"""The search box the plan maps share: part of a compound name, a building id or a community
id or name typed in, the places found listed, and the map zoomed to the one chosen (the
matching is :mod:`ui.search`)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui import widgets
from ui.i18n import t
from ui.maps import display_bounds, view_for
from ui.search import SearchHit, hit_bounds, search_plan

__all__ = ["focus_kwargs", "search_box"]


def _hit_label(hit: SearchHit) -> str:
    kind = t(f"edit.search.kind.{hit.kind}")
    if hit.kind == "community":
        return f"{kind} {hit.key} · {hit.name}"
    return f"{kind} {hit.key} · {hit.community_id}"


def _picked(hit_key: str, on_pick: Callable[[SearchHit], None] | None) -> None:
    hit = st.session_state.get(hit_key)
    if on_pick is not None and isinstance(hit, SearchHit):
        on_pick(hit)


def search_box(
    view, *, key: str, on_pick: Callable[[SearchHit], None] | None = None
) -> SearchHit | None:
    """A text box (``key``) and the places it finds in ``view`` (``<key>_hit``); the place
    chosen, passed to ``on_pick`` when it is chosen (in a callback, before the page is drawn
    again), and returned on every run until the text changes."""
    hit_key = f"{key}_hit"
    cols = st.columns([1, 1], vertical_alignment="bottom")
    query = cols[0].text_input(t("edit.search"), key=key, placeholder=t("edit.search.placeholder"))
    if not query.strip():
        st.session_state.pop(hit_key, None)
        return None
    hits = search_plan(view.communities, view.buildings, query)
    if not hits:
        cols[1].caption(t("edit.search.none", query=widgets.escape(query.strip())))
        return None
    if st.session_state.get(hit_key) not in hits:
        st.session_state[hit_key] = None
    return cols[1].selectbox(
        t("edit.search.results", n=len(hits)),
        hits,
        index=None,
        format_func=_hit_label,
        placeholder=t("edit.search.choose"),
        key=hit_key,
        on_change=_picked,
        args=(hit_key, on_pick),
    )


def focus_kwargs(
    hit: SearchHit | None, view, basemap: str, *, width_px: int = 600, height_px: int = 640
) -> dict:
    """``center`` and ``zoom`` for ``st_folium`` that show the place ``hit`` (none: {})."""
    if hit is None:
        return {}
    bounds = hit_bounds(hit, view.communities, view.buildings)
    if bounds is None:
        return {}
    center, zoom = view_for(display_bounds(bounds, basemap), width_px=width_px, height_px=height_px)
    return {"center": center, "zoom": zoom}
