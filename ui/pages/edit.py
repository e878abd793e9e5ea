"""The Edit page: select a community on the map, split, merge, move, lock, re-optimise; undo and
redo; a live panel of sizes, bands, contiguity and locks; a validity list, measured on the plan
as it is after every edit, that zooms to each problem; re-gridding the communities an edit
touched (on a click, or after every edit); the edit history.

Several buildings are moved in one edit by brushing them together (a click on a building or
a grid, a drawn shape, a compound), with each community's households before → after shown
before the move is made (:func:`planning.preview_move`). A search box finds a compound, a
building or a community and zooms the map to it.

Results and refusals are the library's records, shown in the language chosen.

Every edit is a frozen dataclass of :mod:`planning.plans.scenario` pushed onto the active scenario's
spec (:class:`ui.state.ScenarioSpec`); the plan is evaluated by :mod:`ui.runs` on the
proposal's memo, so an edit costs one step of the engine and undo / redo cost nothing. Actions
run as widget callbacks, before the page is drawn again, so the map shows the edit at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
import shapely.geometry
import streamlit as st

from geo.errors import PlanningInputError, ScenarioEditError
from planning import (
    EditRefused,
    EditResult,
    Lock,
    MergeCommunities,
    MoveBuildings,
    MoveCompound,
    MoveInPolygon,
    MovePreview,
    Regrid,
    Rename,
    Reoptimise,
    SplitCommunity,
    Unlock,
    preview_move,
)
from ui import runs, state, widgets
from ui.i18n import t
from ui.map_frame import MapLayers, map_frame
from ui.maps import (
    add_plan_layers,
    display_bounds,
    plan_base,
    plan_extent,
    selection_layer,
    view_for,
    view_frames,
)
from ui.plan_views import (
    building_targets,
    community_table,
    edit_label,
    edit_outcome,
    history_table,
    map_event,
    move_targets,
    neighbours,
    plan_findings,
    polygon_targets,
    refusal_text,
    validity_items,
)
from ui.search import SearchHit, hit_bounds
from ui.search_box import search_box
from ui.selection_preview import (
    brushed_ids,
    click_mark,
    preview_messages,
    preview_table,
    selection_of,
    selection_targets,
    toggle,
)
from ui.state import ScenarioSpec

__all__ = [
    "AUTO_REGRID_KEY",
    "BRUSH_KEY",
    "BUILDING_KEY",
    "COMMUNITY_KEY",
    "FOCUS_KEY",
    "MAP_KEY",
    "MESSAGE_KEY",
    "POLYGON_KEY",
    "SEARCH_HIT_KEY",
    "SEARCH_KEY",
    "SELECTION_KEY",
    "SELECTION_TO_KEY",
    "TAB_KEY",
    "TOUCHED_KEY",
    "render",
]

MAP_KEY = "edit_map"
COMMUNITY_KEY = "edit_community"
GRID_KEY = "edit_grid"
POLYGON_KEY = "edit_polygon"
FOCUS_KEY = "edit_focus"
MESSAGE_KEY = "edit_message"
SCENARIO_KEY = "edit_scenario"
AUTHOR_KEY = "edit_author"
VALIDITY_KEY = "edit_validity"
_TARGETS_KEY = "edit_validity_targets"
BUILDING_KEY = "edit_building"
TAB_KEY = "edit_tab"
TOUCHED_KEY = "edit_touched"
AUTO_REGRID_KEY = "edit_auto_regrid"
SELECTION_KEY = "edit_selection"  # the building ids brushed together, in the order chosen
SELECTION_TO_KEY = "edit_selection_to"
BRUSH_KEY = "edit_brush"
SEARCH_KEY = "edit_search"
SEARCH_HIT_KEY = f"{SEARCH_KEY}_hit"  # the place chosen (ui.search_box)
#: The last map value acted on: st_folium may hand the same click back on a later rerun.
_HANDLED_KEY = "edit_map_handled"
#: Edits after which the communities concerned keep their grids (so may want them re-drawn).
_KEEP_GRIDS = (MoveBuildings, MoveCompound, MoveInPolygon)
_MAP_HEIGHT = 640


# ---------------------------------------------------------------------------------------------
# Callbacks (run before the page is drawn again)


def _changes_nothing(edit, result: EditResult) -> bool:
    """A re-optimisation that redrew nothing (it does not count as an edit)."""
    return (
        isinstance(edit, Reoptimise)
        and not result.grids_redrawn
        and result.households_affected == 0
    )


def _to_regrid(result: EditResult) -> tuple[str, ...]:
    """The communities an edit touched whose grids it did not draw again (locked ones left)."""
    redrawn = set(result.grids_redrawn)
    return tuple(
        s.community_id for s in result.communities if s.community_id not in redrawn and not s.locked
    )


def _regrid_each(ref, spec: ScenarioSpec, ids) -> tuple[ScenarioSpec, list[EditResult]]:
    """Push a :class:`Regrid` of each community ``ids``; a refused one is left out."""
    results = []
    for cid in ids:
        try:
            spec, result = runs.push(ref, spec, Regrid(cid), author=state.author())
        except ScenarioEditError:
            continue
        results.append(result)
    return spec, results


def _push(build) -> None:
    """Build an edit from the widgets and push it (and, when asked, re-grid what it touched);
    keep the outcome for the page to show."""
    ref = state.get_plan()
    name, spec = state.active_scenario()
    try:
        edit = build()
        new_spec, result = runs.push(ref, spec, edit, author=state.author())
    except ScenarioEditError as exc:
        st.session_state[MESSAGE_KEY] = ("error", exc)
        return
    if _changes_nothing(edit, result):
        st.session_state[MESSAGE_KEY] = ("info", t("edit.reoptimise.noop"))
        return
    results = [result]
    touched = _to_regrid(result) if isinstance(edit, _KEEP_GRIDS) else ()
    if touched and st.session_state.get(AUTO_REGRID_KEY):
        new_spec, more = _regrid_each(ref, new_spec, touched)
        results += more
        touched = ()
    state.set_scenario(name, new_spec)
    st.session_state[MESSAGE_KEY] = ("success", tuple(results))
    st.session_state[TOUCHED_KEY] = touched
    shown = [s.community_id for s in result.communities]
    st.session_state[FOCUS_KEY] = {"ids": tuple(shown), "bounds": None}
    if isinstance(edit, MoveInPolygon):
        st.session_state.pop(POLYGON_KEY, None)


def _regrid_touched() -> None:
    """Re-grid the communities the last edit touched, one :class:`Regrid` each."""
    ref = state.get_plan()
    name, spec = state.active_scenario()
    ids = tuple(st.session_state.get(TOUCHED_KEY) or ())
    new_spec, results = _regrid_each(ref, spec, ids)
    st.session_state[TOUCHED_KEY] = ()
    if not results:
        st.session_state[MESSAGE_KEY] = ("info", t("edit.regrid_touched.none"))
        return
    state.set_scenario(name, new_spec)
    st.session_state[MESSAGE_KEY] = ("success", tuple(results))
    st.session_state[FOCUS_KEY] = {"ids": ids, "bounds": None}


def _selected() -> str:
    return str(st.session_state.get(COMMUNITY_KEY) or "")


def _split() -> None:
    _push(lambda: SplitCommunity(_selected(), int(st.session_state.get("edit_split_k", 2))))


def _merge() -> None:
    _push(lambda: MergeCommunities(_selected(), str(st.session_state.get("edit_merge_with"))))


def _move_compound() -> None:
    _push(
        lambda: MoveCompound(
            str(st.session_state.get("edit_compound")),
            str(st.session_state.get("edit_compound_to")),
        )
    )
    st.session_state.pop("edit_compound_to", None)  # the compound's neighbours have changed


def _move_building() -> None:
    _push(
        lambda: MoveBuildings(
            (str(st.session_state.get(BUILDING_KEY) or ""),),
            str(st.session_state.get("edit_building_to")),
        )
    )
    if st.session_state.get(MESSAGE_KEY, ("",))[0] == "success":
        st.session_state.pop("edit_building_to", None)


def _move_selection() -> None:
    _push(
        lambda: MoveBuildings(
            tuple(st.session_state.get(SELECTION_KEY) or ()),
            str(st.session_state.get(SELECTION_TO_KEY) or ""),
        )
    )
    if st.session_state.get(MESSAGE_KEY, ("",))[0] == "success":
        st.session_state[SELECTION_KEY] = ()
        st.session_state.pop(SELECTION_TO_KEY, None)


def _clear_selection() -> None:
    st.session_state[SELECTION_KEY] = ()
    st.session_state.pop(SELECTION_TO_KEY, None)


def _add_compound(name: str) -> None:
    """Every building of compound ``name`` joins the selection."""
    view = _current_view()
    rows = view.buildings[view.buildings["compound"].astype("string").eq(name).fillna(False)]
    selection = tuple(st.session_state.get(SELECTION_KEY) or ())
    st.session_state[SELECTION_KEY] = tuple(
        dict.fromkeys([*selection, *rows["building_id"].astype(str)])
    )


def _move_polygon() -> None:
    _push(
        lambda: MoveInPolygon(
            str(st.session_state.get(POLYGON_KEY) or ""),
            str(st.session_state.get("edit_polygon_to") or _selected()),
        )
    )


def _toggle_lock(locked: bool) -> None:
    _push(lambda: Unlock((_selected(),)) if locked else Lock((_selected(),)))


def _regrid() -> None:
    _push(lambda: Regrid(_selected()))


def _rename() -> None:
    name = (st.session_state.get("edit_rename_name") or "").strip() or None
    new_id = (st.session_state.get("edit_rename_id") or "").strip() or None
    _push(lambda: Rename(_selected(), name=name, new_id=new_id))
    if st.session_state.get(MESSAGE_KEY, ("",))[0] == "success" and new_id:
        st.session_state[COMMUNITY_KEY] = new_id


def _reoptimise() -> None:
    _push(Reoptimise)


def _move_cursor(step: int) -> None:
    name, spec = state.active_scenario()
    cursor = min(max(spec.cursor + step, 0), len(spec.edits))
    state.set_scenario(name, ScenarioSpec(spec.edits, spec.stamps, cursor))
    st.session_state[MESSAGE_KEY] = ("info", t("edit.undone" if step < 0 else "edit.redone"))
    st.session_state[TOUCHED_KEY] = ()


def _new_scenario() -> None:
    _name, spec = state.active_scenario()
    copy = ScenarioSpec(spec.edits[: spec.cursor], spec.stamps[: spec.cursor], spec.cursor)
    name = state.new_scenario_name()
    state.set_scenario(name, copy)
    state.set_active_scenario(name)
    st.session_state[SCENARIO_KEY] = name
    st.session_state[MESSAGE_KEY] = ("info", t("edit.new_scenario_made", name=name))


def _switch_scenario() -> None:
    state.set_active_scenario(st.session_state.get(SCENARIO_KEY))
    st.session_state.pop(MESSAGE_KEY, None)
    st.session_state[TOUCHED_KEY] = ()


def _focus_selected() -> None:
    """A community chosen in the list: the map pans and zooms to it."""
    cid = _selected()
    st.session_state[FOCUS_KEY] = {"ids": (cid,) if cid else (), "bounds": None}
    st.session_state.pop(GRID_KEY, None)


def _current_view():
    _name, spec = state.active_scenario()
    return runs.plan_view(state.get_plan(), spec)


def _is_new_map_value(value) -> bool:
    """Whether st_folium's value holds a click or drawing not acted on yet (see
    :func:`ui.selection_preview.click_mark`); the one acted on is remembered."""
    mark = click_mark(value)
    if mark is None or mark == st.session_state.get(_HANDLED_KEY):
        return False
    st.session_state[_HANDLED_KEY] = mark
    return True


def _on_map() -> None:
    """A click on a community, grid or building selects it; a drawn polygon is kept. With the
    brush on, the building clicked, the grid's buildings or those drawn round join the
    selection instead (a building clicked again leaves it)."""
    value = st.session_state.get(MAP_KEY)
    if not _is_new_map_value(value):
        return
    event = map_event(value, state.basemap())
    if st.session_state.get(BRUSH_KEY):
        ids = brushed_ids(_current_view().buildings, event)
        if ids:
            selection = tuple(st.session_state.get(SELECTION_KEY) or ())
            st.session_state[SELECTION_KEY] = toggle(selection, ids)
            st.session_state[TAB_KEY] = t("edit.tab.move")
            return
    if event.community_id:
        st.session_state[COMMUNITY_KEY] = event.community_id
        st.session_state[GRID_KEY] = event.grid_id
        st.session_state[BUILDING_KEY] = event.building_id
        if event.building_id:
            st.session_state[TAB_KEY] = t("edit.tab.move")  # a building clicked: move it
    elif event.polygon_wkt:
        st.session_state[POLYGON_KEY] = event.polygon_wkt


def _on_validity() -> None:
    event = st.session_state.get(VALIDITY_KEY)
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    if not rows and isinstance(event, dict):
        rows = list(event.get("selection", {}).get("rows", []))
    targets = st.session_state.get(_TARGETS_KEY) or []
    if not rows or rows[0] >= len(targets):
        return
    community_id, bounds, grid_id = targets[rows[0]]
    if community_id:
        st.session_state[COMMUNITY_KEY] = community_id
    st.session_state[GRID_KEY] = grid_id  # a grid's entry outlines the grid too
    st.session_state[FOCUS_KEY] = {"ids": (community_id,) if community_id else (), "bounds": bounds}


# ---------------------------------------------------------------------------------------------
# Drawing


def _scenario_bar(spec: ScenarioSpec) -> None:
    names = list(state.scenarios())
    active, _ = state.active_scenario()
    if st.session_state.get(SCENARIO_KEY) not in names:
        st.session_state[SCENARIO_KEY] = active
    lang = state.language()
    cols = st.columns([2, 1.3, 1, 1, 1.6, 2], vertical_alignment="bottom")
    cols[0].selectbox(
        t("edit.scenario") + " · " + t("scenario.edits", n=spec.cursor),
        names,
        format_func=widgets.scenario_label,
        key=SCENARIO_KEY,
        on_change=_switch_scenario,
    )
    cols[1].button(
        t("edit.new_scenario"),
        key="edit_new_scenario",
        on_click=_new_scenario,
        help=t("edit.new_scenario.help"),
        icon=":material/content_copy:",
    )
    undo_help = edit_label(spec.edits[spec.cursor - 1], lang) if spec.cursor else None
    redo_help = edit_label(spec.edits[spec.cursor], lang) if spec.cursor < len(spec.edits) else None
    cols[2].button(
        t("edit.undo"),
        key="edit_undo",
        on_click=_move_cursor,
        args=(-1,),
        disabled=spec.cursor == 0,
        help=undo_help,
        icon=":material/undo:",
    )
    cols[3].button(
        t("edit.redo"),
        key="edit_redo",
        on_click=_move_cursor,
        args=(1,),
        disabled=spec.cursor >= len(spec.edits),
        help=redo_help,
        icon=":material/redo:",
    )
    cols[4].button(
        t("edit.reoptimise"),
        key="edit_reoptimise",
        on_click=_reoptimise,
        help=t("edit.reoptimise.help"),
        icon=":material/autorenew:",
    )
    with cols[5]:
        state.author_input(t("edit.author"), key=AUTHOR_KEY, placeholder=t("edit.author.hint"))


def _message() -> None:
    """The outcome of the last action, in the language chosen now: a refusal with its reason,
    each edit's result (notes such as sizes out of band as a warning), or a remark."""
    kind, body = st.session_state.get(MESSAGE_KEY) or (None, None)
    lang = state.language()
    if kind == "error":
        reason = refusal_text(body, lang) if isinstance(body, Exception) else str(body)
        if isinstance(body, EditRefused):  # the record says "… refused, …" itself
            st.error(widgets.escape(reason), icon=":material/block:")
        else:
            st.error(t("edit.refused") + "\n\n" + widgets.escape(reason))
    elif kind == "success":
        notes = []
        blocks = []
        for result in body:
            headline, statuses, more = edit_outcome(result, lang)
            details = "  \n".join(widgets.escape(line) for line in statuses)
            blocks.append(f"**{t('edit.done')}{widgets.escape(headline)}**\n\n{details}")
            notes += more
        st.success("\n\n".join(blocks))
        if notes:
            lines = "\n".join(f"- {widgets.escape(note)}" for note in notes)
            st.warning(f"{t('edit.result.notes')}\n\n{lines}")
    elif kind == "info":
        st.info(body)


def _community_label(view):
    """``id · name``: a select widget keeps its choice by label, so the label must not change
    with an edit (the households are shown beside it, not in it)."""
    names = dict(zip(view.communities["community_id"], view.communities["name"], strict=True))
    return lambda cid: f"{cid} · {names.get(cid, '')}"


def _focus_view(view, basemap: str):
    focus = st.session_state.get(FOCUS_KEY)
    if not focus:
        return {}
    bounds = focus.get("bounds")
    if bounds is None and focus.get("ids"):
        part = view.communities[view.communities["community_id"].isin(focus["ids"])]
        if part.empty:
            return {}
        bounds = tuple(float(v) for v in part.total_bounds)
    if bounds is None:
        return {}
    center, zoom = view_for(display_bounds(bounds, basemap), width_px=600, height_px=_MAP_HEIGHT)
    return {"center": center, "zoom": zoom}


def _map(ref, view, layers) -> None:
    """The plan map, rendered once per plan view and settings (:func:`ui.map_frame.map_frame`),
    with the selection laid over it made on every run."""
    basemap = state.basemap()
    try:
        _draw_map(ref, view, layers, basemap)
    except PlanningInputError as exc:
        st.warning(f"{exc}\n\n{t('data.map_fallback')}")
        _draw_map(ref, view, layers, "none")
    st.caption(t("edit.map_caption"))


def _draw_map(ref, view, layers, basemap: str) -> None:
    lang = state.language()
    selected = _selected()
    key = state.tianditu_key()
    band = ref.params.community_band
    frames, _ = view_frames(view, layers)
    extent = runs.per_view(view, ("extent", basemap), lambda: plan_extent(frames, basemap))

    def add_layers(fmap) -> None:
        add_plan_layers(
            fmap,
            frames,
            band=band,
            colours=view.colours,
            basemap=basemap,
            lang=lang,
            legend_open=False,
            layers_collapsed=True,
        )

    overlay = selection_layer(
        view.communities,
        [selected] if selected else [],
        grids=view.grids,
        grid_id=st.session_state.get(GRID_KEY),
        buildings=view.buildings,
        brushed=tuple(st.session_state.get(SELECTION_KEY) or ()),
        basemap=basemap,
        lang=lang,
    )
    data = tuple(layers.items())
    map_frame(
        lambda: plan_base(extent, basemap=basemap, tianditu_key=key, lang=lang, draw=True),
        base_what=(extent, basemap, key, lang),
        layers=MapLayers(
            add_layers,
            drawn_from=view.drawn_from,
            what=(basemap, lang, band, tuple((kind, id(frame)) for kind, frame in data)),
            holds=data,
        ),
        key=MAP_KEY,
        height=_MAP_HEIGHT,
        overlay=overlay,
        returned_objects=["last_object_clicked", "last_active_drawing"],
        on_change=_on_map,
        **_focus_view(view, basemap),
    )


def _go_to_hit(hit: SearchHit) -> None:
    """A place chosen in the search results: the map zooms to it; a community (or the one a
    compound or building is in) is selected, a compound or building is ready to move."""
    view = _current_view()
    bounds = hit_bounds(hit, view.communities, view.buildings)
    st.session_state[FOCUS_KEY] = {"ids": (hit.community_id,), "bounds": bounds}
    st.session_state[COMMUNITY_KEY] = hit.community_id
    st.session_state.pop(GRID_KEY, None)
    if hit.kind == "compound":
        st.session_state["edit_compound"] = hit.key
        st.session_state[TAB_KEY] = t("edit.tab.move")
    elif hit.kind == "building":
        st.session_state[BUILDING_KEY] = hit.key
        st.session_state[TAB_KEY] = t("edit.tab.move")


def _status_line(view, cid: str) -> None:
    status = view.check.status(cid)
    broken = cid in set(view.check.discontiguous_communities)
    lower, upper = view.check.band
    parts = [
        t("edit.households", n=f"{status.households:,}"),
        t("edit.grids", n=status.grids),
        t(f"map.status.{status.status.replace(' ', '_')}") + f" ({lower:,.0f}–{upper:,.0f})",
        t("edit.contiguous.no") if broken else t("edit.contiguous.yes"),
    ]
    if status.locked:
        parts.append(t("edit.locked"))
    st.markdown(" · ".join(parts))
    grid = st.session_state.get(GRID_KEY)
    if grid:
        row = view.grids[view.grids["grid_id"] == grid]
        if not row.empty and str(row["community_id"].iloc[0]) == cid:
            st.caption(t("edit.grid_selected", grid=grid, n=f"{int(row['households'].iloc[0]):,}"))


def _panel(ref, view) -> None:
    ids = view.communities["community_id"].astype(str).tolist()
    if _selected() not in ids:
        st.session_state[COMMUNITY_KEY] = ids[0]
    st.subheader(t("edit.selected"))
    cid = st.selectbox(
        t("edit.community"),
        ids,
        format_func=_community_label(view),
        key=COMMUNITY_KEY,
        help=t("edit.community.help"),
        on_change=_focus_selected,
    )
    _status_line(view, cid)
    locked = view.check.status(cid).locked
    plan = view.plan
    near = neighbours(plan, cid)
    # keyed and stateful: the panel stays on the tab used when the page is drawn again
    tabs = st.tabs(
        [t("edit.tab.split"), t("edit.tab.merge"), t("edit.tab.move"), t("edit.tab.more")],
        key=TAB_KEY,
        on_change="rerun",
    )
    with tabs[0]:
        st.number_input(t("edit.split_k"), min_value=2, max_value=10, value=2, key="edit_split_k")
        st.button(
            t("edit.split"),
            key="edit_split",
            on_click=_split,
            disabled=locked,
            type="primary",
            help=t("edit.split.help"),
        )
    with tabs[1]:
        if near:
            st.selectbox(
                t("edit.merge_with"),
                near,
                format_func=_community_label(view),
                key="edit_merge_with",
            )
        else:
            st.caption(t("edit.no_neighbours"))
        st.button(
            t("edit.merge"),
            key="edit_merge",
            on_click=_merge,
            disabled=locked or not near,
            help=t("edit.merge.help"),
        )
    with tabs[2]:
        _move_tab(view, cid, locked)
    with tabs[3]:
        st.button(
            t("edit.unlock") if locked else t("edit.lock"),
            key="edit_lock",
            on_click=_toggle_lock,
            args=(locked,),
            help=t("edit.lock.help"),
            icon=":material/lock_open:" if locked else ":material/lock:",
        )
        st.button(
            t("edit.regrid"),
            key="edit_regrid",
            on_click=_regrid,
            disabled=locked,
            help=t("edit.regrid.help"),
        )
        st.text_input(t("edit.rename_name"), key="edit_rename_name")
        st.text_input(t("edit.rename_id"), key="edit_rename_id", help=t("edit.rename_id.help"))
        st.button(t("edit.rename"), key="edit_rename", on_click=_rename)


def _move_tab(view, cid: str, locked: bool) -> None:
    buildings = view.buildings
    mine = buildings[(buildings["community_id"] == cid) & buildings["compound"].notna()]
    compounds = (
        mine.groupby("compound")["households"].sum().sort_values(ascending=False)
        if not mine.empty
        else None
    )
    _brush_part(view)
    st.divider()
    st.markdown(t("edit.move_compound"))
    targets: list[str] = []
    if compounds is not None:
        names = compounds.index.tolist()
        if st.session_state.get("edit_compound") not in names:
            st.session_state["edit_compound"] = names[0]
        compound = st.selectbox(
            t("edit.compound"),
            names,
            format_func=lambda name: (
                f"{name} · {t('edit.households', n=f'{int(compounds[name]):,}')}"
            ),
            key="edit_compound",
        )
        # the communities this compound borders, not the neighbours of the community
        targets = move_targets(view.plan, cid, compound)
        if targets:
            if st.session_state.get("edit_compound_to") not in targets:
                st.session_state["edit_compound_to"] = targets[0]
            st.selectbox(
                t("edit.move_to"),
                targets,
                format_func=_community_label(view),
                key="edit_compound_to",
            )
        else:
            st.caption(t("edit.no_neighbours"))
    else:
        st.caption(t("edit.no_compounds"))
    cols = st.columns([1, 1])
    cols[0].button(
        t("edit.move_compound.button"),
        key="edit_move_compound",
        on_click=_move_compound,
        disabled=locked or not targets,
    )
    cols[1].button(
        t("edit.brush.add_compound"),
        key="edit_add_compound",
        on_click=_add_compound,
        args=(str(st.session_state.get("edit_compound") or ""),),
        disabled=compounds is None,
    )
    st.divider()
    _move_building_part(view, locked)
    st.divider()
    st.markdown(t("edit.move_polygon"))
    wkt = st.session_state.get(POLYGON_KEY)
    ids = view.communities["community_id"].astype(str).tolist()
    if wkt:
        polygon = shapely.from_wkt(wkt)
        inside = shapely.covers(polygon, np.asarray(buildings.geometry.array, dtype=object))
        st.caption(
            t(
                "edit.polygon_drawn",
                buildings=int(inside.sum()),
                households=f"{int(buildings['households'].to_numpy()[inside].sum()):,}",
            )
        )
        # the communities the drawn buildings are in or border (every one when none is inside)
        ids = polygon_targets(view.plan, wkt) or ids
        if st.session_state.get("edit_polygon_to") not in ids:
            st.session_state["edit_polygon_to"] = cid if cid in ids else ids[0]
        st.selectbox(
            t("edit.move_to"), ids, format_func=_community_label(view), key="edit_polygon_to"
        )
    else:
        st.caption(t("edit.draw_hint"))
    st.button(
        t("edit.move_polygon.button"),
        key="edit_move_polygon",
        on_click=_move_polygon,
        disabled=not wkt,
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _preview(ref, spec: ScenarioSpec, selection: tuple[str, ...], to: str) -> MovePreview:
    """The preview of moving ``selection`` to ``to`` on the scenario's plan (once per choice)."""
    return preview_move(runs.plan_view(ref, spec).plan, selection, to, params=ref.params)


def _brush_part(view) -> None:
    """The buildings brushed together, where they can go, and each community before → after;
    one edit moves them all."""
    st.markdown(t("edit.brush"))
    st.toggle(t("edit.brush.mode"), key=BRUSH_KEY, help=t("edit.brush.mode.help"))
    selection = tuple(st.session_state.get(SELECTION_KEY) or ())
    chosen = selection_of(view.buildings, selection)
    if not chosen.buildings:
        st.caption(t("edit.brush.empty"))
        return
    st.caption(
        t(
            "edit.brush.chosen",
            buildings=f"{chosen.buildings:,}",
            households=f"{chosen.households:,}",
            communities=widgets.escape(t("edit.list_sep").join(chosen.communities)),
        )
    )
    st.button(t("edit.brush.clear"), key="edit_clear_selection", on_click=_clear_selection)
    targets = selection_targets(view.plan, view.buildings, selection)
    if not targets:
        st.caption(t("edit.brush.no_targets"))
        return
    if st.session_state.get(SELECTION_TO_KEY) not in targets:
        st.session_state[SELECTION_TO_KEY] = targets[0]
    to = st.selectbox(
        t("edit.move_to"), targets, format_func=_community_label(view), key=SELECTION_TO_KEY
    )
    ref = state.get_plan()
    _name, spec = state.active_scenario()
    preview = _preview(ref, spec, selection, to)
    _preview_panel(preview, view.check)
    st.button(
        t("edit.brush.button"),
        key="edit_move_selection",
        on_click=_move_selection,
        type="primary",
        disabled=preview.refusal is not None,
    )


def _preview_panel(preview: MovePreview, check) -> None:
    """Each community before → after, and what would stop the move or what would suit better."""
    lang = state.language()
    st.caption(t("edit.preview"))
    st.dataframe(preview_table(preview, lang), hide_index=True, width="stretch", key="edit_preview")
    reason, warnings = preview_messages(preview, check.band, lang, grid_band=check.grid_band)
    lines = [t("edit.preview.refusal") + " " + reason] if reason else []
    lines += warnings
    if lines:
        st.warning("\n\n".join(widgets.escape(line) for line in lines), icon=":material/warning:")


def _move_building_part(view, locked: bool) -> None:
    """The building clicked on the map, moved to a community it borders."""
    st.markdown(t("edit.move_building"))
    building = st.session_state.get(BUILDING_KEY)
    rows = view.buildings[view.buildings["building_id"].astype(str) == str(building or "")]
    if rows.empty:
        st.caption(t("edit.move_building.hint"))
        return
    row = rows.iloc[0]
    st.caption(
        t(
            "edit.move_building.chosen",
            building=widgets.escape(str(building)),
            households=f"{int(row['households']):,}",
            community=widgets.escape(str(row["community_id"])),
        )
    )
    targets = building_targets(view.plan, str(building))
    if not targets:
        st.caption(t("edit.no_neighbours"))
        return
    if st.session_state.get("edit_building_to") not in targets:
        st.session_state["edit_building_to"] = targets[0]
    st.selectbox(
        t("edit.move_to"), targets, format_func=_community_label(view), key="edit_building_to"
    )
    st.button(
        t("edit.move_building.button"),
        key="edit_move_building",
        on_click=_move_building,
        disabled=locked,
    )


def _live(view) -> None:
    st.subheader(t("edit.live"))
    check = view.check
    locked = sum(c.locked for c in check.communities)
    cols = st.columns(4)
    cols[0].metric(t("propose.m.communities"), f"{len(check.communities):,}")
    cols[1].metric(t("propose.m.in_band"), f"{check.share_in_band:.0%}")
    cols[2].metric(t("edit.m.locked"), f"{locked:,}")
    cols[3].metric(t("edit.m.violations"), f"{len(check.violations):,}")
    st.dataframe(
        community_table(view.communities, check, state.language()),
        hide_index=True,
        width="stretch",
        height=min(320, 35 * (len(check.communities) + 1) + 3),
        key="edit_table",
    )


def _regrid_bar() -> None:
    """Re-grid the communities the last edit touched; or have it done after every edit."""
    touched = tuple(st.session_state.get(TOUCHED_KEY) or ())
    cols = st.columns([1.2, 1], vertical_alignment="center")
    cols[0].button(
        t("edit.regrid_touched"),
        key="edit_regrid_touched",
        on_click=_regrid_touched,
        disabled=not touched,
        help=t("edit.regrid_touched.help", ids=t("edit.list_sep").join(touched) or "—"),
        icon=":material/grid_on:",
    )
    cols[1].checkbox(t("edit.auto_regrid"), key=AUTO_REGRID_KEY, help=t("edit.auto_regrid.help"))


def _validity(ref, spec: ScenarioSpec, view, outcome) -> None:
    st.subheader(t("edit.validity"))
    _regrid_bar()
    lang = state.language()
    # the engine's units it could not fit describe the proposal; after an edit the plan is
    # measured as it is (sizes, grids, compounds, barriers, necks)
    params = ref.params
    findings = runs.per_view(view, ("findings", params), lambda: plan_findings(view.plan, params))
    base = spec.cursor == 0
    items = runs.per_view(
        view,
        ("validity", lang, params, base),
        lambda: validity_items(
            view.communities,
            view.buildings,
            view.check,
            outcome.infeasible if base else (),
            lang,
            grids=view.grids,
            findings=findings,
        ),
    )
    if not items:
        st.success(t("edit.validity.none"))
        return
    st.caption(t("edit.validity.hint") + " " + t("edit.validity.count", n=len(items)))
    st.session_state[_TARGETS_KEY] = [
        (item.community_id, item.bounds, item.grid_id) for item in items
    ]
    table = pd.DataFrame(
        {
            t("edit.validity.kind"): [t(f"edit.validity.kind.{i.kind}") for i in items],
            t("col.community_id"): [i.community_id or "—" for i in items],
            t("edit.validity.message"): [i.message for i in items],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(360, 35 * (len(items) + 1) + 3),
        on_select=_on_validity,
        selection_mode="single-row",
        key=VALIDITY_KEY,
    )


def _history(ref, spec: ScenarioSpec, view) -> None:
    """The edits in effect, as the audit log has them, in the language chosen."""
    current = runs.scenario(ref, spec)
    results = current.results() if current is not None else ()
    with st.expander(f"{t('edit.history')} ({len(results)})"):
        if not results:
            st.caption(t("edit.history.none"))
            return
        st.dataframe(
            history_table(view.plan, results, state.language()),
            hide_index=True,
            width="stretch",
            key="edit_history",
        )


def render() -> None:
    """The page."""
    st.title(t("edit.title"))
    st.caption(t("edit.intro"))
    got = widgets.require_plan()
    if got is None:
        return
    ref, outcome = got
    if ref.stored is not None:
        st.caption(
            t(
                "edit.from_project",
                scenario=widgets.escape(ref.stored.scenario),
                revision=ref.stored.revision,
                file=widgets.escape(ref.stored.project.label),
            )
        )
    _name, spec = state.active_scenario()
    _scenario_bar(spec)
    view = runs.plan_view(ref, spec)
    layers = runs.layer_frames(ref.source)
    ids = view.communities["community_id"].astype(str).tolist()
    if _selected() not in ids:
        st.session_state[COMMUNITY_KEY] = ids[0]
    with st.container():  # one place whatever it holds: the map below keeps its place
        _message()
    map_column, panel = st.columns([3, 2], gap="medium")
    with panel:
        _panel(ref, view)
    with map_column:
        search_box(view, key=SEARCH_KEY, on_pick=_go_to_hit)
        _map(ref, view, layers)
    _live(view)
    _validity(ref, spec, view, outcome)
    _history(ref, spec, view)


if __name__ == "__main__":
    render()
