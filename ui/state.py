"""Session state: what the user chose, never what was computed from it.

The session holds the language, the map settings, the data *source* (paths, digests, the
declared CRS, the column mapping), the proposal asked for (:class:`PlanRef`: the source and the
parameters — or a plan stored in a project file, :class:`StoredPlanRef`), the scenarios as
*specs* (:class:`ScenarioSpec`: the edits, their stamps and the undo cursor), the standard
chosen (:class:`StandardRef`) and the project file open (a :class:`FileRef`, with the revision
of every scenario this session opened or saved): small, hashable values. Everything
derived from them (the read households, the proposal, the edited plans, the compliance check)
comes from the caches in :mod:`ui.loading` and :mod:`ui.runs`, keyed on those values.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import streamlit as st

from planning import ProposeParams

__all__ = [
    "ACTIVE_SCENARIO_KEY",
    "AUTHOR_KEY",
    "BARRIER_LAYERS",
    "BASEMAP_KEY",
    "CUSTOM_STANDARD",
    "DEFAULT_SAMPLE_HOUSEHOLDS",
    "DEFAULT_SCENARIO",
    "DEFAULT_STANDARD",
    "FACILITY_TYPES_KEY",
    "LANG_KEY",
    "PLAN_KEY",
    "PROJECT_KEY",
    "PROJECT_REVISIONS_KEY",
    "SAMPLE_SIZE_KEY",
    "SCENARIOS_KEY",
    "SOURCE_KEY",
    "STANDARD_FILE_KEY",
    "STANDARD_KEY",
    "TIANDITU_KEY",
    "UPLOAD_OWNER_KEY",
    "DataSource",
    "FileRef",
    "PlanRef",
    "RebalanceRef",
    "ScenarioSpec",
    "StandardRef",
    "StoredPlanRef",
    "active_scenario",
    "author",
    "author_input",
    "basemap",
    "choice",
    "default_basemap",
    "get_plan",
    "get_project",
    "get_source",
    "known_revision",
    "language",
    "new_scenario_name",
    "remember_revision",
    "sample_households",
    "scenarios",
    "set_active_scenario",
    "set_choice",
    "set_plan",
    "set_project",
    "set_scenario",
    "set_source",
    "standard_ref",
    "tianditu_key",
    "upload_owner",
    "widget_key",
    "widget_key_for",
]

LANG_KEY = "lang"
SOURCE_KEY = "data_source"
SAMPLE_SIZE_KEY = "sample_households"
BASEMAP_KEY = "basemap"
TIANDITU_KEY = "tianditu_key"
PLAN_KEY = "plan"
SCENARIOS_KEY = "scenarios"
ACTIVE_SCENARIO_KEY = "scenario"
STANDARD_KEY = "standard"
STANDARD_FILE_KEY = "standard_file"
#: The facility types chosen to count toward the standard (absent: every facility counts).
FACILITY_TYPES_KEY = "facility_types"
AUTHOR_KEY = "author"
PROJECT_KEY = "project"
PROJECT_REVISIONS_KEY = "project_revisions"
UPLOAD_OWNER_KEY = "upload_owner"

DEFAULT_LANG = "zh"
DEFAULT_SAMPLE_HOUSEHOLDS = 80_000
#: Environment variable that sets the basemap the app opens with (osm, amap, tianditu, none).
BASEMAP_ENV = "PLANNER_BASEMAP"
#: Environment variable that sets the size of the built-in sample (default 80,000).
SAMPLE_ENV = "PLANNER_SAMPLE_HOUSEHOLDS"
#: The first scenario of a proposal; more are named B, C, … (letters read the same in any
#: language, and a project file accepts them as layer names).
DEFAULT_SCENARIO = "A"
#: The standard checked when the user has not chosen one (the CLI's default too).
DEFAULT_STANDARD = "national-2021"
#: The option of the standard choice that means "the TOML file uploaded or edited".
CUSTOM_STANDARD = "custom"


@dataclass(frozen=True)
class FileRef:
    """A file on the server's disk: where it is, its SHA-256, and the name the user knows."""

    path: str
    digest: str
    label: str


#: The barrier layers a source may hold, and what each holds as a whole (the ``kind`` of
#: :func:`geo.layers.read_barriers`; None: each feature's kind read from its columns).
BARRIER_LAYERS = {"roads": "road", "water": "river", "railways": "railway", "barriers": None}


@dataclass(frozen=True)
class DataSource:
    """What to load: the household file and optional layers, with the declared CRS.

    ``kind`` is ``"sample"``, ``"upload"`` or ``"project"``. ``columns`` is the explicit column
    mapping as sorted ``(role, column)`` pairs; ``layers`` holds ``(layer kind, FileRef)``
    pairs, one file per kind, the kinds being ``streets``, the barrier layers of
    :data:`BARRIER_LAYERS` (``roads``, ``water``, ``railways``, and ``barriers`` of mixed
    kinds), ``facilities`` and ``communities``. ``layers_crs`` is the CRS of the layers when it
    differs from the households'; ``layer_crs_of`` holds a layer's own CRS, as ``(layer kind,
    crs)`` pairs (before both: the CRS the file states when it is projected, see
    :func:`ui.loading.crs_of`). ``layer_parts`` holds the sheet of a workbook or the layer of a
    GeoPackage to read, as ``(layer kind, name)`` pairs, and ``households_part`` the households'.
    ``layer_columns`` holds a layer's explicit column mapping, as ``(layer kind, ((role,
    column), …))`` pairs.
    """

    kind: str
    households: FileRef
    crs: str
    columns: tuple[tuple[str, str], ...] = ()
    layers: tuple[tuple[str, FileRef], ...] = ()
    layers_crs: str | None = None
    title: str = ""
    layer_columns: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    layer_crs_of: tuple[tuple[str, str], ...] = ()
    layer_parts: tuple[tuple[str, str], ...] = ()
    households_part: str | None = None

    @property
    def layer_crs(self) -> str:
        return self.layers_crs or self.crs

    def own_crs(self, kind: str) -> str | None:
        """The CRS chosen for layer ``kind`` itself, or None (then the layers' CRS, or the
        one the file states)."""
        return dict(self.layer_crs_of).get(kind)

    def part_of(self, kind: str) -> str | None:
        """The sheet or layer chosen in the file of layer ``kind``, or None (the only one)."""
        return dict(self.layer_parts).get(kind)

    def layer(self, kind: str) -> FileRef | None:
        """The file of layer ``kind``, or None."""
        return dict(self.layers).get(kind)

    @property
    def barrier_layers(self) -> tuple[tuple[str, FileRef], ...]:
        """The ``(kind, file)`` pairs of every barrier file (roads, water, railways…)."""
        return tuple((kind, ref) for kind, ref in self.layers if kind in BARRIER_LAYERS)

    @property
    def layer_kinds(self) -> tuple[str, ...]:
        """The layers the source holds as the pages use them: every barrier file together as
        ``barriers`` (read as one frame), the others by their kind."""
        kinds = ("barriers" if kind in BARRIER_LAYERS else kind for kind, _ in self.layers)
        return tuple(dict.fromkeys(kinds))

    def columns_of(self, kind: str) -> tuple[tuple[str, str], ...]:
        """The explicit column mapping of layer ``kind`` (empty: found by the columns' names)."""
        return dict(self.layer_columns).get(kind, ())


@dataclass(frozen=True)
class StoredPlanRef:
    """A scenario stored in a project file: the file (path, and its SHA-256 when it was
    opened), the scenario's name and the revision opened. Loaded by
    :func:`ui.projects.stored_plan`, which refuses a scenario saved again since (another
    revision) rather than show something other than what was chosen."""

    project: FileRef
    scenario: str
    revision: int


@dataclass(frozen=True)
class RebalanceRef:
    """Rebalance the data's existing communities (its ``communities`` layer) instead of
    drawing new ones: keep those in the band, split the oversized, merge those below the band
    by more than ``small_margin`` × the target size (see :func:`planning.plans.rebalance.rebalance`)."""

    small_margin: float = 0.2


@dataclass(frozen=True)
class PlanRef:
    """The plan scenarios start from: a proposal (the data it was drawn from and the engine's
    parameters); with ``rebalance``, the data's existing communities rebalanced with those
    parameters; or — with ``stored`` — a scenario opened from a project file, its data
    (``source``, the project's layers) and the parameters it was saved with."""

    source: DataSource
    params: ProposeParams
    stored: StoredPlanRef | None = None
    rebalance: RebalanceRef | None = None


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario as the session keeps it: the edits (frozen dataclasses of
    :mod:`planning.plans.scenario`), who made each and when (``Stamp``), and how many are in effect
    (the undo cursor). Evaluated by :func:`ui.runs.scenario` on its proposal."""

    edits: tuple = ()
    stamps: tuple = ()
    cursor: int = 0


@dataclass(frozen=True)
class StandardRef:
    """The standard to check against: a preset by name, or a TOML file (uploaded or edited),
    and the facility types that count toward it (None: every facility, as the command line's
    ``--facility-types`` left out)."""

    preset: str = DEFAULT_STANDARD
    file: FileRef | None = None
    facility_types: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        return self.file.label if self.file is not None else self.preset


def language() -> str:
    """``"zh"`` (the default) or ``"en"``."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANG)


def get_source() -> DataSource | None:
    return st.session_state.get(SOURCE_KEY)


def set_source(source: DataSource) -> None:
    st.session_state[SOURCE_KEY] = source


def sample_households() -> int:
    """Size of the built-in sample: 80,000 unless the session (AppTest) or
    ``$PLANNER_SAMPLE_HOUSEHOLDS`` (the browser test) asks for another."""
    default = os.environ.get(SAMPLE_ENV, "").strip()
    fallback = int(default) if default.isdigit() else DEFAULT_SAMPLE_HOUSEHOLDS
    return int(st.session_state.get(SAMPLE_SIZE_KEY, fallback))


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


# ---------------------------------------------------------------------------------------------
# Proposal, scenarios, standard


def get_plan() -> PlanRef | None:
    """The proposal asked for last, or None."""
    return st.session_state.get(PLAN_KEY)


def set_plan(ref: PlanRef, *, first: str = DEFAULT_SCENARIO) -> None:
    """Ask for a proposal (or open a stored plan); a different one starts the scenarios
    afresh: one, unedited, named ``first``."""
    if st.session_state.get(PLAN_KEY) == ref and st.session_state.get(SCENARIOS_KEY):
        return
    st.session_state[PLAN_KEY] = ref
    st.session_state[SCENARIOS_KEY] = {first: ScenarioSpec()}
    st.session_state[ACTIVE_SCENARIO_KEY] = first


def scenarios() -> dict[str, ScenarioSpec]:
    """Every scenario of the proposal, by name, in the order they were made."""
    return dict(st.session_state.get(SCENARIOS_KEY) or {DEFAULT_SCENARIO: ScenarioSpec()})


def active_scenario() -> tuple[str, ScenarioSpec]:
    """The name and spec of the scenario being edited."""
    every = scenarios()
    name = st.session_state.get(ACTIVE_SCENARIO_KEY)
    if name not in every:
        name = next(iter(every))
    return name, every[name]


def set_active_scenario(name: str) -> None:
    if name in scenarios():
        st.session_state[ACTIVE_SCENARIO_KEY] = name


def set_scenario(name: str, spec: ScenarioSpec) -> None:
    """Store ``spec`` under ``name`` (a new name is added at the end)."""
    every = scenarios()
    every[name] = spec
    st.session_state[SCENARIOS_KEY] = every


def new_scenario_name() -> str:
    """The next free name: B, C, …, Z, then S27, S28, …"""
    taken = set(scenarios())
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if letter not in taken:
            return letter
    number = 27
    while f"S{number}" in taken:
        number += 1
    return f"S{number}"


def standard_ref() -> StandardRef:
    """The standard chosen: a preset (default national-2021) or the custom TOML file, with the
    facility types chosen to count (:data:`FACILITY_TYPES_KEY`; absent: every facility)."""
    preset = st.session_state.get(STANDARD_KEY) or DEFAULT_STANDARD
    custom = st.session_state.get(STANDARD_FILE_KEY)
    chosen = st.session_state.get(FACILITY_TYPES_KEY)
    types = None if chosen is None else tuple(sorted(str(t) for t in chosen))
    if preset == CUSTOM_STANDARD and custom is not None:
        return StandardRef(preset=CUSTOM_STANDARD, file=custom, facility_types=types)
    if preset == CUSTOM_STANDARD:
        preset = DEFAULT_STANDARD
    return StandardRef(preset=preset, facility_types=types)


def author() -> str:
    """Who is editing (for the audit log and the project file); empty when not given."""
    return (st.session_state.get(AUTHOR_KEY) or "").strip()


def author_input(label: str, *, key: str, **kwargs: object) -> str:
    """A text input for :func:`author`, on any page.

    The name is kept as a plain session value under :data:`AUTHOR_KEY`: the widget (``key``,
    one per page) starts from it and writes to it, so the name survives a change of page
    (streamlit drops the state of a widget that is not drawn).
    """
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(AUTHOR_KEY) or ""

    def sync() -> None:
        st.session_state[AUTHOR_KEY] = st.session_state[key]

    st.text_input(label, key=key, on_change=sync, **kwargs)
    return author()


# ---------------------------------------------------------------------------------------------
# Project file


def get_project() -> FileRef | None:
    """The project file open (as it was when opened), or None."""
    return st.session_state.get(PROJECT_KEY)


def set_project(ref: FileRef | None) -> None:
    if ref is None:
        st.session_state.pop(PROJECT_KEY, None)
    else:
        st.session_state[PROJECT_KEY] = ref


def known_revision(path: str, scenario: str) -> int | None:
    """The revision of ``scenario`` in the project at ``path`` this session opened or last
    saved (what a save passes as ``expected_revision``), or None."""
    return (st.session_state.get(PROJECT_REVISIONS_KEY) or {}).get((str(path), str(scenario)))


def remember_revision(path: str, scenario: str, revision: int) -> None:
    known = dict(st.session_state.get(PROJECT_REVISIONS_KEY) or {})
    known[(str(path), str(scenario))] = int(revision)
    st.session_state[PROJECT_REVISIONS_KEY] = known


def set_choice(key: str, value: str) -> None:
    """Choose ``value`` for the :func:`choice` ``key`` from code (a callback): the widgets of
    every language are dropped so that they are drawn again on ``value``."""
    st.session_state[key] = value
    for lang in ("zh", "en"):
        st.session_state.pop(widget_key_for(key, lang), None)


def upload_owner() -> str:
    """This session's name for its uploads (a random id, made once): uploads are kept per
    session, so replacing one removes only this session's file."""
    if UPLOAD_OWNER_KEY not in st.session_state:
        st.session_state[UPLOAD_OWNER_KEY] = uuid.uuid4().hex
    return str(st.session_state[UPLOAD_OWNER_KEY])
