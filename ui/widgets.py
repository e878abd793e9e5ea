"""Page fragments the plan pages share: the data source, the proposal, scenario choice, maps.

Each fragment reads the session (:mod:`ui.state`), calls the caches (:mod:`ui.runs`) and
renders; when something is missing (no proposal yet, data refused) it says so with a link to
the page that fixes it and returns None, so a page never fails on an empty session.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import folium
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import PlanningInputError
from ui import loading, runs, state
from ui.i18n import t
from ui.state import DataSource, PlanRef

__all__ = [
    "ICONS",
    "PAGES",
    "PROPOSAL",
    "escape",
    "page_link",
    "plan_ref_for",
    "require_plan",
    "scenario_label",
    "scenario_options",
    "show_map",
    "source",
    "spec_of",
    "stage_labels",
    "standard_choice",
    "stored_failure",
    "when",
]

#: Page files by name (the router in app.py and the links between pages use them).
PAGES = {
    "data": "ui/pages/data.py",
    "existing": "ui/pages/existing.py",
    "propose": "ui/pages/propose.py",
    "edit": "ui/pages/edit.py",
    "standards": "ui/pages/standards.py",
    "compare": "ui/pages/compare.py",
    "export": "ui/pages/export.py",
}
ICONS = {
    "data": ":material/database:",
    "existing": ":material/holiday_village:",
    "propose": ":material/auto_awesome:",
    "edit": ":material/edit:",
    "standards": ":material/rule:",
    "compare": ":material/compare:",
    "export": ":material/download:",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")
#: The option of a scenario choice that stands for the proposal as the engine drew it.
PROPOSAL = "__proposal__"


def escape(value: object) -> str:
    """Text shown through markdown exactly as it is (names and values come from user files)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def page_link(name: str) -> None:
    st.page_link(PAGES[name], label=t(f"link.{name}"), icon=ICONS[name])


def source() -> DataSource:
    """The data source of the session (the built-in sample until the user opens another)."""
    current = state.get_source()
    if current is None:
        households = state.sample_households()
        with st.spinner(t("data.generating")):
            current = loading.sample_source(
                households, title=t("data.sample_label", households=households)
            )
        state.set_source(current)
    return current


def plan_ref_for(current: DataSource, params) -> PlanRef:
    """The proposal of ``current`` with ``params`` (the title does not change the plan)."""
    return PlanRef(source=dataclasses.replace(current, title=""), params=params)


def stage_labels() -> dict[str, str]:
    labels = {
        stage: t(f"propose.stage.{stage}")
        for stage in ("start", "tessellation", "communities", "grids", "boundaries", "done")
    }
    for kind in ("communities", "grids", "other"):  # a stage with its tasks done (ui.runs)
        labels[f"tasks.{kind}"] = t(f"propose.stage.tasks.{kind}")
    return labels


def require_plan() -> tuple[PlanRef, runs.ProposeOutcome] | None:
    """The session's plan — the proposal, computed (with a progress bar the first time), or
    the scenario opened from a project file; None — after saying why and linking to the page
    that fixes it — when there is none or it failed."""
    ref = state.get_plan()
    if ref is None:
        st.info(t("plan.none"))
        page_link("propose")
        return None
    if ref.stored is not None:
        with st.spinner(t("project.loading", scenario=ref.stored.scenario)):
            outcome = runs.outcome(ref)
        if not outcome.ok:
            stored_failure(ref, outcome)
            page_link("data")
            return None
        return ref, outcome
    outcome = runs.outcome(ref, _stages=stage_labels())
    if not outcome.ok:
        st.error(t("plan.failed"))
        page_link("propose")
        return None
    return ref, outcome


def stored_failure(ref: PlanRef, outcome: runs.ProposeOutcome) -> None:
    """Why the stored plan of ``ref`` cannot be shown: saved again since, unreadable, or its
    households refused."""
    stored = ref.stored
    moved = outcome.stored.moved if outcome.stored is not None else None
    if moved is not None:
        st.error(
            t(
                "project.moved",
                scenario=escape(stored.scenario),
                file=escape(stored.project.label),
                opened=stored.revision,
                now=moved.revision,
                author=escape(moved.author or "—"),
                modified=escape(when(moved.modified)),
            )
        )
        return
    body = outcome.message or "; ".join(p.message for p in outcome.problems)
    st.error(
        t(
            "project.load_failed",
            scenario=escape(stored.scenario),
            file=escape(stored.project.label),
        )
        + "\n\n"
        + escape(body)
    )


def when(stamp: str) -> str:
    """An ISO 8601 UTC time as a person reads it: ``2025-05-01 08:30 UTC``."""
    text = str(stamp or "")
    if len(text) >= 16 and text[10] == "T":
        zone = " UTC" if text.endswith(("+00:00", "Z")) else ""
        return f"{text[:10]} {text[11:16]}{zone}"
    return text


def standard_choice(label: str, help_text: str) -> str:
    """The standard select box (the presets, and the user's TOML file once there is one); the
    same key on every page, so the choice is the session's."""
    titles = runs.preset_titles()
    options = list(titles)
    labels = {name: f"{name} · {title}" for name, title in titles.items()}
    custom = st.session_state.get(state.STANDARD_FILE_KEY)
    if custom is not None:
        options.append(state.CUSTOM_STANDARD)
        labels[state.CUSTOM_STANDARD] = t("standards.custom", file=custom.label)
    default = state.DEFAULT_STANDARD if state.DEFAULT_STANDARD in options else options[0]
    return state.choice(
        st.selectbox,
        label,
        options,
        labels,
        key=state.STANDARD_KEY,
        default=default,
        help=help_text,
    )


def scenario_label(name: str) -> str:
    """The label of a scenario choice (fixed for a name: a select widget keeps its choice by
    label, so the number of edits is shown elsewhere)."""
    if name == PROPOSAL:
        ref = state.get_plan()
        if ref is not None and ref.stored is not None:
            return t("scenario.stored", name=ref.stored.scenario, revision=ref.stored.revision)
        if ref is not None and ref.rebalance is not None:
            return t("scenario.rebalanced")
        return t("scenario.proposal")
    return t("scenario.label", name=name)


def scenario_options() -> list[str]:
    return [PROPOSAL, *state.scenarios()]


def spec_of(name: str):
    """The spec of a scenario choice (None: the proposal as drawn)."""
    return None if name == PROPOSAL else state.scenarios().get(name)


def show_map(
    build: Callable[[str], folium.Map],
    *,
    key: str,
    height: int = 640,
    returned_objects: list[str] | None = None,
    **kwargs: object,
) -> dict | None:
    """Draw ``build(basemap)`` with st_folium; a basemap that cannot be used (Tianditu without
    a key) is explained and the map drawn without one."""
    try:
        fmap = build(state.basemap())
    except PlanningInputError as exc:
        st.warning(f"{exc}\n\n{t('data.map_fallback')}")
        fmap = build("none")
    return st_folium(
        fmap,
        key=key,
        returned_objects=returned_objects or [],
        height=height,
        use_container_width=True,
        render=False,  # a new map: st_folium's own render pass makes the same strings
        **kwargs,
    )
