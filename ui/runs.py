"""Cached results derived from what the session chose: proposals, edited plans, checks.

Every function here is keyed on the small frozen values of :mod:`ui.state` (a
:class:`~ui.state.PlanRef`, a :class:`~ui.state.ScenarioSpec`, a
:class:`~ui.state.StandardRef`) and returns the library's objects, shared between reruns and
sessions (``st.cache_resource``; nothing here or in the pages mutates them). Input errors are
results too (an ``*Outcome`` with the problems or the message), so a page shows the same clear
messages as the command line and never a traceback.

Scenarios are evaluated on one :class:`planning.plans.scenario.Scenario` per proposal: every spec
derived from it shares its memo of evaluated prefixes, so an edit evaluates one step, and undo
and redo evaluate nothing. A plan opened from a project file (a :class:`~ui.state.PlanRef` with
``stored``) is a base like a proposal: :func:`outcome` and :func:`base_scenario` load it with
:func:`ui.projects.stored_plan` instead of running the engine. So is the data's existing
communities rebalanced (a :class:`~ui.state.PlanRef` with ``rebalance``): :func:`propose`
rebalances them (:func:`planning.plans.rebalance.rebalance`) instead of drawing new ones.

A comparison's side is a scenario (its spec; None: the base as drawn) or :data:`EXISTING`, the
data's existing communities on the plan's buildings (:func:`existing_plan`).
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import geopandas as gpd
import streamlit as st

from geo.errors import PlanningInputError, Problem, ValidationError
from geo.intake import Households
from geo.records import Message
from planning import (
    Comparison,
    ComplianceResult,
    Edit,
    EditResult,
    Plan,
    PlanCheck,
    PlanLayers,
    ProposeParams,
    ProposeRun,
    Rebalance,
    RebalanceError,
    Scenario,
    Standard,
    building_frame,
    check_compliance,
    check_plan,
    community_frame,
    compare_plans,
    grid_frame,
    list_presets,
    load_standard,
    plan_from_proposal,
    rebalance,
    run_propose,
    summarise,
)
from ui import existing, loading, projects
from ui.maps import community_colours
from ui.maps.features import once_per_frame
from ui.state import DataSource, PlanRef, ScenarioSpec, StandardRef

_T = TypeVar("_T")

__all__ = [
    "EXISTING",
    "CompareOutcome",
    "ComplianceOutcome",
    "ExistingPlan",
    "PlanView",
    "ProposeOutcome",
    "StandardOutcome",
    "base_scenario",
    "compare",
    "compliance",
    "existing_plan",
    "layer_frames",
    "outcome",
    "per_view",
    "plan_view",
    "preset_titles",
    "propose",
    "push",
    "scenario",
    "stage_label",
    "standard",
    "view_of",
]


@dataclass(frozen=True)
class ProposeOutcome:
    """A proposal, or why it could not be made (the problems, or one message).

    For a plan opened from a project file, ``stored`` holds it (``run`` is None; when not ok,
    ``stored.moved`` says the scenario was saved again since it was chosen) and
    ``stored_households`` its data. :attr:`households` and :attr:`infeasible` read either kind.
    The existing communities rebalanced have ``run`` (its proposal and summary) and
    ``rebalance`` (the plan and the :class:`~planning.plans.rebalance.RebalanceReport`).
    """

    run: ProposeRun | None = None
    problems: tuple[Problem, ...] = ()
    message: str | None = None
    record: Message | None = None  # the message as a record, to show in the page's language
    stored: projects.StoredOutcome | None = None
    stored_households: Households | None = None
    rebalance: Rebalance | None = None

    @property
    def ok(self) -> bool:
        return self.run is not None or (self.stored is not None and self.stored.ok)

    @property
    def households(self) -> Households:
        """The data the plan was drawn on (every input row)."""
        return self.run.households if self.run is not None else self.stored_households

    @property
    def infeasible(self) -> list:
        """The engine's explanations of units that cannot meet the band (a stored plan has
        none: they belong to the proposal it came from)."""
        return self.run.summary.get("infeasible", []) if self.run is not None else []


@dataclass(frozen=True, eq=False)
class PlanView:
    """A plan with what its pages show: WGS84 frames, the rule check, the fills."""

    plan: Plan
    communities: gpd.GeoDataFrame  # WGS84, with ``locked``
    grids: gpd.GeoDataFrame  # WGS84
    buildings: gpd.GeoDataFrame  # WGS84, with ``community_id`` and ``grid_id``
    check: PlanCheck
    colours: dict[str, str]
    #: The view whose frames this one shares (None: it made them). A plan an edit left as it
    #: was (a re-grid that draws the same grids) differs from its parent only in its audit
    #: log: its view shares the parent's frames, map and lists (:func:`per_view`).
    shares: PlanView | None = None

    @property
    def drawn_from(self) -> PlanView:
        """The view that made the frames this one shows."""
        return self.shares if self.shares is not None else self

    @classmethod
    def of(cls, plan: Plan, params: ProposeParams) -> PlanView:
        """The view of ``plan``, its rules checked with ``params``."""
        communities = community_frame(plan).to_crs("EPSG:4326")
        return cls(
            plan=plan,
            communities=communities,
            grids=grid_frame(plan).to_crs("EPSG:4326"),
            buildings=building_frame(plan),
            check=check_plan(plan, params),
            colours=community_colours(communities),
        )


@dataclass(frozen=True)
class StandardOutcome:
    """A validated standard, or the message that says what is wrong with the file (with its
    record, to be shown in the page's language, or the schema's problems one by one)."""

    standard: Standard | None = None
    message: str | None = None
    record: Message | None = None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, eq=False)
class ComplianceOutcome:
    result: ComplianceResult | None = None
    problems: tuple[Problem, ...] = ()
    message: str | None = None


@dataclass(frozen=True, eq=False)
class CompareOutcome:
    comparison: Comparison | None = None
    message: str | None = None


@dataclass(frozen=True)
class ExistingPlan:
    """The data's existing communities (its ``communities`` layer) as a side of a comparison."""


#: The existing communities, as a side of :func:`compare`.
EXISTING = ExistingPlan()


# ---------------------------------------------------------------------------------------------
# Proposals


def stage_label(stages: Mapping[str, str], stage: str) -> str:
    """The progress bar's text for ``stage``: its label in ``stages`` and, when it counts its
    tasks (a :class:`planning.parallel.Stage`: pieces, batches of communities), how many of
    them are done (the label ``tasks.communities``, ``tasks.grids`` or ``tasks.other``)."""
    name = stages.get(stage, stage)
    total = getattr(stage, "total", None)
    if total is None:
        return name
    kind = stage if stage in ("communities", "grids") else "other"
    template = stages.get(f"tasks.{kind}", "{stage} ({done}/{total})")
    return template.format(stage=name, done=getattr(stage, "done", None), total=total)


@st.cache_resource(show_spinner=False, max_entries=4)
def propose(ref: PlanRef, _stages: Mapping[str, str] | None = None) -> ProposeOutcome:
    """Run the engine on ``ref``'s data and parameters, with a progress bar the first time;
    with ``ref.rebalance``, rebalance the data's existing communities instead
    (:func:`rebalanced`).

    ``_stages`` maps the engine's stage names (``start``, ``tessellation``, ``communities``,
    ``grids``, ``boundaries``, ``done``) to the labels shown; it is not part of the key.
    """
    if ref.rebalance is not None:
        return rebalanced(ref)
    stages = dict(_stages or {})
    source = ref.source
    bar = st.progress(0.0, text=stages.get("start", ""))

    def progress(stage: str, fraction: float) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=stage_label(stages, stage))

    try:
        run = run_propose(
            source.households.path,
            crs=source.crs,
            **loading.propose_layers(source),
            columns=dict(source.columns) or None,
            params=ref.params,
            progress=progress,
        )
    except ValidationError as exc:
        return ProposeOutcome(problems=exc.problems)
    except PlanningInputError as exc:
        return ProposeOutcome(message=str(exc))
    finally:
        bar.empty()
    return ProposeOutcome(run=run)


def rebalanced(ref: PlanRef) -> ProposeOutcome:
    """The existing communities of ``ref``'s data rebalanced with its parameters (the 街道 and
    barriers layers when given), with the summary a proposal has; not ok — with the problems
    or the message — when a file is refused or the communities cannot be rebalanced."""
    source = ref.source
    file = source.households
    loaded = loading.source_households(source)
    if not loaded.ok:
        return ProposeOutcome(problems=loaded.problems, message=loaded.message)
    kinds = ("communities", "streets", "barriers")
    layers = {kind: loading.read_layer(source, kind) for kind in kinds}
    for read in layers.values():
        if read is not None and not read.ok:
            return ProposeOutcome(problems=read.problems, message=read.message)
    if layers["communities"] is None:
        return ProposeOutcome(message=f"{file.label}: no existing communities layer to rebalance")
    frames = {kind: read.frame if read is not None else None for kind, read in layers.items()}
    try:
        result = rebalance(
            frames["communities"],
            loaded.households,
            params=ref.params,
            subdistricts=frames["streets"],
            barriers=frames["barriers"],
            small_margin=ref.rebalance.small_margin,
        )
    except RebalanceError as exc:
        return ProposeOutcome(message=str(exc), record=exc.record)
    except PlanningInputError as exc:
        return ProposeOutcome(message=str(exc))
    proposal = result.proposal
    inputs = {kind: f.label for kind, f in (("households", file), *source.layers)}
    summary = summarise(
        proposal,
        params=ref.params,
        households=loaded.households,
        subdistricts=frames["streets"],
        inputs={**inputs, "crs": source.crs},
        runtime=dict(proposal.timings),
    )
    summary["rebalance"] = result.report.as_dict()
    run = ProposeRun(
        households=loaded.households,
        proposal=proposal,
        summary=summary,
        subdistricts=frames["streets"],
        barriers=frames["barriers"],
    )
    return ProposeOutcome(run=run, rebalance=result)


def outcome(ref: PlanRef, _stages: Mapping[str, str] | None = None) -> ProposeOutcome:
    """The base of ``ref``'s scenarios: the proposal (:func:`propose`), or the plan stored in a
    project file with its data (not ok, with the message, when either cannot be read)."""
    if ref.stored is None:
        return propose(ref, _stages)
    got = projects.stored_plan(ref.stored)
    if not got.ok:
        return ProposeOutcome(message=got.message, stored=got)
    loaded = loading.source_households(ref.source)
    if not loaded.ok:
        return ProposeOutcome(problems=loaded.problems, message=loaded.message, stored=got)
    return ProposeOutcome(stored=got, stored_households=loaded.households)


@st.cache_resource(show_spinner=False, max_entries=4)
def base_scenario(ref: PlanRef) -> Scenario | None:
    """The unedited scenario of a proposal or of a stored plan (None when it failed)."""
    if ref.stored is not None:
        got = projects.stored_plan(ref.stored)
        plan = got.plan if got.ok else None
    else:
        outcome = propose(ref)
        if not outcome.ok:
            return None
        if outcome.rebalance is not None:
            plan = outcome.rebalance.plan
        else:
            plan = plan_from_proposal(outcome.run.proposal, smooth_m=ref.params.smooth_m)
    if plan is None:
        return None
    base = _BASES[ref] = Scenario(plan, params=ref.params)
    return base


#: The scenarios :func:`base_scenario` holds, by plan, while it holds them. A call of a cached
#: function draws again what it drew when it ran (the proposal's progress bar, emptied); made
#: in a widget's callback, that puts an element at the top of the page, which moves everything
#: below one place down for that run only, and the map is mounted anew on the next run. So
#: :func:`scenario` takes the base from here when it can.
_BASES: weakref.WeakValueDictionary[PlanRef, Scenario] = weakref.WeakValueDictionary()


def scenario(ref: PlanRef, spec: ScenarioSpec) -> Scenario | None:
    """The scenario ``spec`` on its proposal (sharing the proposal's memo of edits)."""
    base = _BASES.get(ref)
    if base is None:
        base = base_scenario(ref)
    if base is None:
        return None
    if not spec.edits:
        return base
    return dataclasses.replace(base, edits=spec.edits, stamps=spec.stamps, cursor=spec.cursor)


def push(
    ref: PlanRef, spec: ScenarioSpec, edit: Edit, *, author: str = ""
) -> tuple[ScenarioSpec, EditResult]:
    """Apply ``edit`` after the cursor; the new spec and the edit's result.

    Raises
    ------
    ScenarioEditError
        When the edit is refused (the spec is then unchanged).
    """
    pushed = scenario(ref, spec).push(edit, author=author)
    return ScenarioSpec(pushed.edits, pushed.stamps, pushed.cursor), pushed.last


@st.cache_resource(show_spinner=False, max_entries=24)
def plan_view(ref: PlanRef, spec: ScenarioSpec | None) -> PlanView | None:
    """The plan of scenario ``spec`` (None: the proposal as the engine drew it), ready to show.

    Specs that lead to the same plan (an undo, a redo, a copy of a scenario) share one view,
    and so everything made once per view (the map, the validity list)."""
    current = scenario(ref, spec or ScenarioSpec())
    if current is None:
        return None
    return view_of(current.evaluate(), ref.params)


def view_of(plan: Plan, params: ProposeParams) -> PlanView:
    """The view of ``plan`` with ``params`` (made once per plan; a plan that shows what another
    plan's view shows shares that view's frames)."""
    return _view_of(id(plan), params, plan)


def per_view(view: PlanView, what: Hashable, make: Callable[[], _T]) -> _T:
    """``make()``, made once for what ``view`` shows and ``what`` (everything else it depends
    on: the language, the parameters) and kept while the view lives: a page drawn again for a
    click or a choice in a list, or after an edit that changed nothing drawn, reuses it."""
    return once_per_frame(view.drawn_from, what, make)


def _shown(plan: Plan) -> tuple:
    """What a view of ``plan`` is made of: the district, the labels, ids, names and locks, and
    the polygon objects of each 街道 (an edit reuses those of every 街道 it did not touch)."""
    return (
        id(plan.district),
        plan.site_community.tobytes(),
        plan.site_grid.tobytes(),
        plan.community_ids,
        plan.community_names,
        plan.locked,
        plan.grid_ids,
        tuple((z, id(shapes)) for z, shapes in plan.shapes.items()),
    )


#: The views made, by what they show (:func:`_shown`) and the parameters, while they live. A
#: view holds its plan, so the ids in a key stay those of live objects.
_VIEWS: weakref.WeakValueDictionary[tuple, PlanView] = weakref.WeakValueDictionary()


@st.cache_resource(show_spinner=False, max_entries=24)
def _view_of(plan_id: int, params: ProposeParams, _plan: Plan) -> PlanView:
    """The view of ``_plan`` (whose ``id`` keys the cache: the view holds the plan, so the id
    is not taken by another plan while the entry lives); sharing the frames of a view of a
    plan that shows the same."""
    key = (_shown(_plan), params)
    same = _VIEWS.get(key)
    if same is not None:
        return dataclasses.replace(same, plan=_plan, shares=same.drawn_from)
    view = _VIEWS[key] = PlanView.of(_plan, params)
    return view


# ---------------------------------------------------------------------------------------------
# Layers and standards


def layer_frames(source: DataSource) -> dict[str, gpd.GeoDataFrame]:
    """The optional layers of ``source`` that could be read (WGS84), by kind."""
    frames = {}
    for kind in source.layer_kinds:
        loaded = loading.read_layer(source, kind)
        if loaded.ok:
            frames[kind] = loaded.frame
    return frames


@st.cache_resource(show_spinner=False)
def preset_titles() -> dict[str, str]:
    """Title of every shipped preset, by name."""
    titles = {}
    for name in list_presets():
        try:
            titles[name] = load_standard(name).title
        except PlanningInputError:
            titles[name] = name
    return titles


@st.cache_resource(show_spinner=False, max_entries=16)
def standard(ref: StandardRef) -> StandardOutcome:
    """Load and validate the standard (a preset or the user's TOML file)."""
    try:
        if ref.file is not None:
            return StandardOutcome(standard=load_standard(ref.file.path))
        return StandardOutcome(standard=load_standard(ref.preset))
    except PlanningInputError as exc:
        message = str(exc)
        if ref.file is not None:
            message = message.replace(ref.file.path, ref.file.label)
        problems = exc.problems if isinstance(exc, ValidationError) else ()
        return StandardOutcome(message=message, record=exc.record, problems=problems)


@st.cache_resource(show_spinner=False, max_entries=8)
def compliance(
    ref: PlanRef, spec: ScenarioSpec | None, standard_ref: StandardRef
) -> ComplianceOutcome:
    """The standards check of a scenario's communities (facilities from the data's layer)."""
    loaded = standard(standard_ref)
    if loaded.standard is None:
        return ComplianceOutcome(message=loaded.message)
    view = plan_view(ref, spec)
    facilities = layer_frames(ref.source).get("facilities")
    grids = dict(zip(view.communities["community_id"], view.communities["grid_count"], strict=True))
    try:
        result = check_compliance(
            view.communities[["community_id", "name", "geometry"]],
            view.buildings,
            facilities,
            standard=loaded.standard,
            metric_crs=view.plan.district.metric_crs,
            grids_per_community=grids,
            facility_types=standard_ref.facility_types,
        )
    except ValidationError as exc:
        return ComplianceOutcome(problems=exc.problems)
    except PlanningInputError as exc:
        return ComplianceOutcome(message=str(exc))
    return ComplianceOutcome(result=result)


@st.cache_resource(show_spinner=False, max_entries=4)
def existing_plan(ref: PlanRef) -> existing.ExistingOutcome | None:
    """The existing communities of ``ref``'s data measured on the buildings of ``ref``'s plan
    (so that they compare with its scenarios); None when the data has none."""
    read = loading.read_layer(ref.source, "communities")
    if read is None:
        return None
    if not read.ok:
        return existing.ExistingOutcome(problems=read.problems, message=read.message)
    buildings = plan_view(ref, None).buildings
    measured = existing.measure_existing(buildings, read.frame, band=ref.params.community_band)
    return existing.ExistingOutcome(measured)


def _side(ref: PlanRef, side: ScenarioSpec | ExistingPlan | None, name: str) -> Plan | PlanLayers:
    """A side of a comparison: the scenario's plan, or the existing communities' layers.

    Raises
    ------
    PlanningInputError
        When the existing communities cannot be read.
    """
    if not isinstance(side, ExistingPlan):
        return plan_view(ref, side).plan
    got = existing_plan(ref)
    if got is None:
        raise PlanningInputError("existing communities: the data has no communities layer")
    if not got.ok:
        details = got.message or "; ".join(p.message for p in got.problems)
        raise PlanningInputError(f"existing communities: {details}")
    metric_crs = plan_view(ref, None).plan.district.metric_crs
    return existing.existing_plan_layers(
        got.existing, metric_crs=metric_crs, params=ref.params, name=name
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def compare(
    ref: PlanRef, a: ScenarioSpec | ExistingPlan | None, b: ScenarioSpec | ExistingPlan | None
) -> CompareOutcome:
    """Plan A against plan B (a scenario's spec; None: the base as drawn; :data:`EXISTING`: the
    data's existing communities)."""
    try:
        result = compare_plans(_side(ref, a, "A"), _side(ref, b, "B"), params=ref.params)
    except PlanningInputError as exc:
        return CompareOutcome(message=str(exc))
    if EXISTING in (a, b):
        result = _without_grids(result, isinstance(a, ExistingPlan), isinstance(b, ExistingPlan))
    return CompareOutcome(comparison=result)


def _without_grids(comparison: Comparison, in_a: bool, in_b: bool) -> Comparison:
    """The comparison with no grid metrics on the existing communities' side (they have no
    grids to measure) and so no grid deltas."""
    return dataclasses.replace(
        comparison,
        a={**comparison.a, "grids": {}} if in_a else comparison.a,
        b={**comparison.b, "grids": {}} if in_b else comparison.b,
        delta={k: v for k, v in comparison.delta.items() if k != "grids"},
    )
