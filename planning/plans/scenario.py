"""Scenarios: a base plan plus an ordered list of edits, evaluated into a new plan.

Each edit is a small frozen dataclass with ``apply(plan, params) -> Plan``. An edit either
returns a new plan that keeps every hard rule (every building assigned once, communities and
grids contiguous, communities inside one 街道, grids inside one community, at most
``max_grids`` grids) or refuses with a :class:`~geo.errors.ScenarioEditError` that says why
(unknown id, locked, not adjacent, across a 街道, would break the donor into pieces …).
:func:`apply_edit` returns an :class:`EditResult`: the new plan, what changed (from → to), the
households affected, and the size band status of the communities the edit touched.

The edits:

- :class:`SplitCommunity` — into ``k`` balanced, contiguous communities (compounds that fit stay
  whole); the largest part keeps the id and name, the others get ``<id>-2``, ``<id>-3`` …;
  their grids are redrawn.
- :class:`MergeCommunities` — ``b`` joins ``a`` (``a`` keeps its id and name); refused when they
  do not share a border or lie in different 街道; the merged grids are redrawn.
- :class:`MoveBuildings`, :class:`MoveCompound`, :class:`MoveInPolygon` — buildings (a building
  location moves whole, with any building at the same spot) join a neighbouring community and
  the grid they border most; refused when they do not touch it, lie in another 街道, or would
  empty or cut a donor in two. A donor grid cut in two gets the donor's grids redrawn.
- :class:`Lock`, :class:`Unlock` — a locked community refuses every edit but renaming.
- :class:`Reoptimise` — everything not locked is drawn again by the engine, per 街道 and
  connected part; communities that come out identical keep their ids and grids, the others take
  the id of the old community they overlap most.
- :class:`Rename` — a new name and/or id (e.g. the official 12-digit code).
- :class:`Regrid` — one community's grids drawn again.

A :class:`Scenario` keeps the edits and a cursor; ``push`` / ``undo`` / ``redo`` return new
scenarios. Evaluation is memoised per prefix (shared by every scenario derived from one
another), so undo and redo are instant and return the very same plan objects. Each edit's
author and time are stamped when it is pushed and go into the plan's audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo.errors import ScenarioEditError
from geo.export import spreadsheet_safe
from planning.engine.graph import region_is_connected
from planning.engine.partition import choose_region_count
from planning.engine.propose import plan_grids
from planning.params import ProposeParams
from planning.plans.matching import match_by_households
from planning.plans.numbering import fresh_part_ids
from planning.plans.plan import (
    AuditEntry,
    CommunityStatus,
    Plan,
    PlanCheck,
    audit_table,
    check_plan,
    discontiguous_labels,
    mend_pieces,
    plan_successor,
)

__all__ = [
    "Edit",
    "EditResult",
    "Lock",
    "MergeCommunities",
    "MoveBuildings",
    "MoveCompound",
    "MoveInPolygon",
    "Regrid",
    "Rename",
    "Reoptimise",
    "Scenario",
    "SplitCommunity",
    "Stamp",
    "Unlock",
    "apply_edit",
    "now_utc",
    "write_audit_csv",
]


def now_utc() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Stamp:
    """Who pushed an edit, and when (ISO 8601, UTC)."""

    author: str = ""
    time: str = ""


@dataclass(frozen=True)
class _Change:
    """What an edit made, before the hard rules are re-checked."""

    plan: Plan
    what: str
    before: str
    after: str
    touched: tuple[str, ...]  # community ids after the edit whose band status is reported
    grids_redrawn: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    affected: int | None = None  # households affected when not a change of assignment


@dataclass(frozen=True, eq=False)
class EditResult:
    """The outcome of one edit.

    Attributes
    ----------
    edit, plan
        The edit and the plan it made.
    what, before, after
        What was done, and the state before → after (as the audit log shows it).
    households_affected
        Households whose community or grid changed (for a lock or a rename: households of the
        communities concerned).
    communities
        Size band status of the communities the edit touched, after it.
    grids_redrawn
        Communities whose grids were drawn again.
    notes
        Remarks: sizes outside the band, buildings that moved along with the ones named …
    check
        The hard rules and sizes of the whole new plan.
    """

    edit: Edit
    plan: Plan
    what: str
    before: str
    after: str
    households_affected: int
    communities: tuple[CommunityStatus, ...]
    grids_redrawn: tuple[str, ...]
    notes: tuple[str, ...]
    check: PlanCheck

    def summary(self) -> str:
        """A few lines for the user: what changed and the band status of what it touched."""
        lines = [
            f"{self.what}: {self.before} → {self.after} "
            f"({self.households_affected:,} households affected)"
        ]
        lines += [f"  {status}" for status in self.communities]
        if self.grids_redrawn:
            lines.append(f"  grids redrawn: {', '.join(self.grids_redrawn)}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


class Edit:
    """Base of every edit: ``apply(plan, params)`` returns a new plan or refuses."""

    def apply(self, plan: Plan, params: ProposeParams) -> Plan:
        """The plan this edit makes of ``plan``; :class:`ScenarioEditError` when refused."""
        return apply_edit(plan, self, params=params).plan

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        raise NotImplementedError


# ---------------------------------------------------------------------- helpers


def _fmt(plan: Plan, label: int) -> str:
    return f"{plan.community_ids[label]} ({plan.community_households[label]:,.0f})"


def _require_unlocked(plan: Plan, labels: Iterable[int], action: str) -> None:
    locked = [plan.community_ids[c] for c in labels if plan.locked[c]]
    if locked:
        raise ScenarioEditError(
            f"{action}: refused, {', '.join(locked)} {'is' if len(locked) == 1 else 'are'} "
            "locked (agreed boundaries); fix: unlock it first, or leave it out of the edit."
        )


def _tables(plan: Plan) -> tuple[list[str], list[str], list[bool]]:
    return list(plan.community_ids), list(plan.community_names), list(plan.locked)


def _redraw_grids(
    plan: Plan,
    community: np.ndarray,
    grid: np.ndarray,
    labels: list[int],
    *,
    params: ProposeParams,
    ids: list[str],
) -> tuple[np.ndarray, list[str]]:
    """Grids of the communities ``labels`` drawn again by the engine; the rest kept."""
    new_grid, infeasible = plan_grids(
        plan.district, community, params, only=np.asarray(labels, dtype=np.int64), previous=grid
    )
    notes = [
        str(item.named(ids).reason)
        for item in infeasible
        if item.level in ("community", "grid-band")
    ]
    new_grid, mended = mend_pieces(
        plan.district, new_grid, group=community, scope=np.isin(community, labels)
    )
    if mended:
        notes.append(f"{mended} cut-off piece(s) of grids joined a neighbouring grid")
    return new_grid, notes


def _successor(
    plan: Plan, community: np.ndarray, grid: np.ndarray, *, ids, names, locked
) -> Plan:
    return plan_successor(
        plan,
        site_community=community,
        community_ids=ids,
        community_names=names,
        locked=locked,
        site_grid=grid,
    )


def _subdistrict_label(plan: Plan, label: int) -> str:
    return plan.district.subdistrict_label[int(plan.community_subdistrict[label])]


def _band_notes(plan: Plan, labels: Iterable[int], params: ProposeParams) -> list[str]:
    lower, upper = params.community_band
    notes = []
    for c in labels:
        h = plan.community_households[c]
        if not lower <= h <= upper:
            side = "above" if h > upper else "below"
            notes.append(
                f"{plan.community_ids[c]} has {h:,.0f} households, {side} the band "
                f"{lower:,.0f}–{upper:,.0f}"
            )
    return notes


# ---------------------------------------------------------------------- edits


@dataclass(frozen=True)
class SplitCommunity(Edit):
    """Split a community into ``k`` balanced, contiguous communities; grids redrawn."""

    community_id: str
    k: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "community_id", str(self.community_id))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = f"split {self.community_id} into {self.k}"
        c = plan.label_of(self.community_id)
        _require_unlocked(plan, [c], what)
        if not isinstance(self.k, int | np.integer) or self.k < 2:
            raise ScenarioEditError(
                f"{what}: refused, k must be a whole number of at least 2; found {self.k!r}; "
                "fix: ask for 2 or more communities."
            )
        nodes = np.flatnonzero(plan.site_community == c)
        total = float(plan.district.sites.households[nodes].sum())
        mean = total / self.k
        labels = plan.district.partition_sites(
            nodes,
            k=int(self.k),
            lower=mean * (1 - params.tolerance),
            upper=mean * (1 + params.tolerance),
            seed=params.seed,
        )
        made = len(np.unique(labels))
        if made < self.k:
            raise ScenarioEditError(
                f"{what}: refused, {self.community_id} can only be split into {made}: its "
                f"{len(nodes)} building locations and the compounds that must stay whole do "
                f"not make {self.k} parts; fix: ask for k ≤ {made}."
            )
        weights = np.bincount(labels, weights=plan.district.sites.households[nodes])
        order = np.argsort(-weights, kind="stable")  # the largest part keeps the id
        ids, names, locked = _tables(plan)
        fresh = fresh_part_ids(ids[c], names[c], self.k - 1, taken=set(ids))
        community = plan.site_community.copy()
        new_labels = [c]
        for (new_id, new_name), part in zip(fresh, order[1:], strict=True):
            label = len(ids)
            ids.append(new_id)
            names.append(new_name)
            locked.append(False)
            community[nodes[labels == part]] = label
            new_labels.append(label)
        community, _ = mend_pieces(
            plan.district, community, group=plan.site_community, scope=plan.site_community == c
        )
        grid, notes = _redraw_grids(
            plan, community, plan.site_grid.copy(), new_labels, params=params, ids=ids
        )
        new_ids = [ids[label] for label in new_labels]
        new = _successor(plan, community, grid, ids=ids, names=names, locked=locked)
        return _Change(
            new,
            what,
            _fmt(plan, c),
            ", ".join(_fmt(new, new.label_of(i)) for i in new_ids),
            tuple(new_ids),
            grids_redrawn=tuple(new_ids),
            notes=tuple(notes),
        )


@dataclass(frozen=True)
class MergeCommunities(Edit):
    """Merge community ``b`` into its neighbour ``a`` (``a`` keeps id and name); grids redrawn."""

    a: str
    b: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", str(self.a))
        object.__setattr__(self, "b", str(self.b))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = f"merge {self.b} into {self.a}"
        ca, cb = plan.label_of(self.a), plan.label_of(self.b)
        if ca == cb:
            raise ScenarioEditError(
                f"{what}: refused, a community cannot merge with itself; fix: name two "
                "different communities."
            )
        _require_unlocked(plan, [ca, cb], what)
        za, zb = plan.community_subdistrict[ca], plan.community_subdistrict[cb]
        if za != zb:
            raise ScenarioEditError(
                f"{what}: refused, across a 街道: {self.a} lies in {_subdistrict_label(plan, ca)} and "
                f"{self.b} in {_subdistrict_label(plan, cb)}; communities never cross a 街道 "
                "boundary; fix: merge communities of the same 街道."
            )
        graph = plan.district.graph
        src = graph.sources()
        labels = plan.site_community
        if not ((labels[src] == ca) & (labels[graph.indices] == cb)).any():
            raise ScenarioEditError(
                f"{what}: refused, not adjacent: {self.a} and {self.b} share no border; a "
                "merged community must be one piece; fix: merge neighbours, or move buildings "
                "first."
            )
        ids, names, locked = _tables(plan)
        community = plan.site_community.copy()
        community[community == cb] = ca
        grid, notes = _redraw_grids(
            plan, community, plan.site_grid.copy(), [ca], params=params, ids=ids
        )
        new = _successor(plan, community, grid, ids=ids, names=names, locked=locked)
        notes += _band_notes(new, [new.label_of(self.a)], params)
        return _Change(
            new,
            what,
            f"{_fmt(plan, ca)} + {_fmt(plan, cb)}",
            _fmt(new, new.label_of(self.a)),
            (self.a,),
            grids_redrawn=(self.a,),
            notes=tuple(notes),
        )


def _check_move(
    plan: Plan, sites: np.ndarray, *, to: str, what: str
) -> tuple[np.ndarray, list[int], np.ndarray]:
    """The sites that move to community ``to``, their donors, and every site's community
    after the move; refuses a move that breaks a rule (locked, nothing to move, across a
    街道, not adjacent, a donor left empty or in pieces)."""
    t = plan.label_of(to)
    _require_unlocked(plan, [t], what)
    sites = np.unique(np.asarray(sites, dtype=np.int64))
    community_now = plan.site_community
    moving = sites[community_now[sites] != t]
    if not len(moving):
        raise ScenarioEditError(
            f"{what}: refused, nothing to move: every building named is already in {to}; fix: "
            "pick buildings of another community."
        )
    donors = np.unique(community_now[moving]).tolist()
    _require_unlocked(plan, donors, what)
    subdistrict = plan.district.sites.subdistrict
    other = moving[subdistrict[moving] != plan.community_subdistrict[t]]
    if len(other):
        subdistricts = sorted({plan.district.subdistrict_label[z] for z in subdistrict[other].tolist()})
        raise ScenarioEditError(
            f"{what}: refused, across a 街道: {len(other)} building location(s) lie in "
            f"{', '.join(subdistricts)} but {to} lies in {_subdistrict_label(plan, t)}; communities never "
            "cross a 街道 boundary; fix: move only buildings of the same 街道."
        )
    graph = plan.district.graph
    community = community_now.copy()
    community[moving] = t
    if not region_is_connected(graph, community, t):
        raise ScenarioEditError(
            f"{what}: refused, not adjacent: some of the buildings do not touch {to}, so it "
            f"would not be one piece; fix: move buildings that border {to}, or move the "
            "buildings in between as well."
        )
    for d in donors:
        if not (community == d).any():
            raise ScenarioEditError(
                f"{what}: refused, it would leave {plan.community_ids[d]} empty; fix: merge "
                f"{plan.community_ids[d]} into {to} instead."
            )
        if not region_is_connected(graph, community, d):
            raise ScenarioEditError(
                f"{what}: refused, it would break the contiguity of {plan.community_ids[d]} "
                "(the donor would fall into pieces); fix: move the buildings on its edge, or "
                "every building cut off as well."
            )
    return moving, donors, community


def _join_bordering_grids(plan: Plan, moving: np.ndarray, t: int) -> np.ndarray:
    """Grid per site after ``moving`` joins community ``t``: each connected piece of moved
    sites joins the grid of ``t`` it borders most."""
    graph = plan.district.graph
    community_now = plan.site_community
    grid = plan.site_grid.copy()
    indptr, indices, shared = graph.indptr, graph.indices, graph.shared
    is_moving = np.zeros(graph.n, dtype=bool)
    is_moving[moving] = True
    for piece in plan.district.components(moving):
        lengths: dict[int, float] = {}
        for s in piece.tolist():
            for e in range(indptr[s], indptr[s + 1]):
                v = indices[e]
                if community_now[v] == t and not is_moving[v]:
                    g = int(plan.site_grid[v])
                    lengths[g] = lengths.get(g, 0.0) + float(shared[e])
        best = min(lengths, key=lambda g: (-lengths[g], g))
        grid[piece] = best
    return grid


def _big_grid_notes(
    new: Plan, community: np.ndarray, t: int, *, to: str, params: ProposeParams
) -> list[str]:
    """A note for each grid of community ``t`` above the grid band after a move."""
    g_upper = params.grid_band[1]
    notes = []
    for g in np.unique(new.site_grid[community == t]).tolist():
        if new.grid_households[g] > g_upper:
            notes.append(
                f"grid {new.grid_ids[g]} has {new.grid_households[g]:,.0f} households, "
                f"above the grid band; regrid {to} to redraw its grids"
            )
    return notes


def _move_sites(
    plan: Plan, sites: np.ndarray, *, to: str, what: str, notes: list[str], params: ProposeParams
) -> _Change:
    """Move ``sites`` to community ``to`` keeping every rule, or refuse."""
    t = plan.label_of(to)
    moving, donors, community = _check_move(plan, sites, to=to, what=what)
    grid = _join_bordering_grids(plan, moving, t)
    ids, names, locked = _tables(plan)
    bad = set(discontiguous_labels(plan.district.graph, grid).tolist())
    redraw = [d for d in donors if any(int(g) in bad for g in np.unique(grid[community == d]))]
    if redraw:
        grid, more = _redraw_grids(plan, community, grid, redraw, params=params, ids=ids)
        notes = [*notes, *more]
    new = _successor(plan, community, grid, ids=ids, names=names, locked=locked)
    touched = [to, *[plan.community_ids[d] for d in donors]]
    notes = [
        *notes,
        *_big_grid_notes(new, community, t, to=to, params=params),
        *_band_notes(new, [new.label_of(i) for i in touched], params),
    ]
    before = ", ".join(_fmt(plan, plan.label_of(i)) for i in touched)
    after = ", ".join(_fmt(new, new.label_of(i)) for i in touched)
    return _Change(
        new,
        what,
        before,
        after,
        tuple(touched),
        grids_redrawn=tuple(plan.community_ids[d] for d in redraw),
        notes=tuple(notes),
    )


def _building_sites(plan: Plan, rows: np.ndarray, what: str) -> tuple[np.ndarray, list[str]]:
    """Sites of the buildings at positions ``rows``, and a note naming any building at the
    same spot that moves along."""
    site_of = plan.district.sites.of_building
    sites = np.unique(site_of[rows])
    along = np.setdiff1d(np.flatnonzero(np.isin(site_of, sites)), rows)
    notes = []
    if len(along):
        ids = plan.district.buildings["building_id"].astype(str).to_numpy()[along]
        notes.append(
            f"{len(along)} building(s) at the same spot move along (a building "
            f"location is never split): {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}"
        )
    return sites, notes


@dataclass(frozen=True)
class MoveBuildings(Edit):
    """Move buildings (by building id) to a neighbouring community."""

    building_ids: tuple[str, ...]
    to: str

    def __post_init__(self) -> None:
        ids = (self.building_ids,) if isinstance(self.building_ids, str) else self.building_ids
        object.__setattr__(self, "building_ids", tuple(str(b) for b in ids))
        object.__setattr__(self, "to", str(self.to))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        shown = ", ".join(self.building_ids[:3]) + (" …" if len(self.building_ids) > 3 else "")
        what = f"move {len(self.building_ids)} building(s) ({shown}) to {self.to}"
        if not self.building_ids:
            raise ScenarioEditError(
                f"{what}: refused, no building ids given; fix: name at least one building."
            )
        index = pd.Index(plan.district.buildings["building_id"].astype(str))
        rows = index.get_indexer(list(self.building_ids))
        unknown = [b for b, r in zip(self.building_ids, rows, strict=True) if r < 0]
        if unknown:
            raise ScenarioEditError(
                f"{what}: refused, unknown building id(s) {', '.join(unknown[:5])}"
                f"{' …' if len(unknown) > 5 else ''}; expected ids of the households file's "
                "building column; fix: check the ids."
            )
        sites, notes = _building_sites(plan, rows, what)
        return _move_sites(plan, sites, to=self.to, what=what, notes=notes, params=params)


@dataclass(frozen=True)
class MoveCompound(Edit):
    """Move a whole compound (小区, by name) to a neighbouring community."""

    name: str
    to: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "to", str(self.to))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = f"move compound {self.name} to {self.to}"
        compound = plan.district.buildings["compound"].astype("string")
        rows = np.flatnonzero((compound == self.name).fillna(False).to_numpy(dtype=bool))
        if not len(rows):
            raise ScenarioEditError(
                f"{what}: refused, unknown compound {self.name!r}: no building has this 小区 "
                "name; fix: use the name as written in the households file."
            )
        sites, notes = _building_sites(plan, rows, what)
        return _move_sites(plan, sites, to=self.to, what=what, notes=notes, params=params)


@dataclass(frozen=True)
class MoveInPolygon(Edit):
    """Move every building inside a drawn polygon (WKT, WGS84 lon/lat) to a community."""

    polygon_wkt_wgs84: str
    to: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", str(self.to))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = f"move the buildings inside a drawn polygon to {self.to}"
        try:
            polygon = shapely.from_wkt(self.polygon_wkt_wgs84)
        except shapely.errors.ShapelyError as exc:
            raise ScenarioEditError(
                f"{what}: refused, the polygon is not valid WKT ({exc}); expected e.g. "
                "'POLYGON ((121.50 29.89, …))' in WGS84 lon/lat; fix: draw it again."
            ) from exc
        if (
            polygon is None
            or polygon.geom_type not in ("Polygon", "MultiPolygon")
            or polygon.is_empty
        ):
            kind = "nothing" if polygon is None else polygon.geom_type
            raise ScenarioEditError(
                f"{what}: refused, expected a Polygon or MultiPolygon; found {kind}; fix: draw "
                "an area."
            )
        polygon = shapely.make_valid(polygon)
        points = plan.district.buildings.geometry
        rows = np.flatnonzero(shapely.covers(polygon, np.asarray(points.array, dtype=object)))
        if not len(rows):
            raise ScenarioEditError(
                f"{what}: refused, no building lies inside the polygon; expected WGS84 lon/lat "
                "around some buildings; fix: draw around the buildings to move."
            )
        sites, notes = _building_sites(plan, rows, what)
        what = f"move {len(rows)} building(s) inside a drawn polygon to {self.to}"
        return _move_sites(plan, sites, to=self.to, what=what, notes=notes, params=params)


def _ids_tuple(values) -> tuple[str, ...]:
    return (str(values),) if isinstance(values, str) else tuple(str(v) for v in values)


@dataclass(frozen=True)
class Lock(Edit):
    """Lock communities (agreed boundaries): every edit but renaming leaves them alone."""

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _ids_tuple(self.ids))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        return _set_lock(plan, self.ids, True)


@dataclass(frozen=True)
class Unlock(Edit):
    """Unlock communities."""

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _ids_tuple(self.ids))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        return _set_lock(plan, self.ids, False)


def _set_lock(plan: Plan, community_ids: tuple[str, ...], value: bool) -> _Change:
    word = "lock" if value else "unlock"
    what = f"{word} {', '.join(community_ids)}"
    if not community_ids:
        raise ScenarioEditError(f"{what}: refused, no community named; fix: name at least one.")
    labels = [plan.label_of(i) for i in community_ids]
    already = [plan.community_ids[c] for c in labels if plan.locked[c] == value]
    if already:
        raise ScenarioEditError(
            f"{what}: refused, {', '.join(already)} {'is' if len(already) == 1 else 'are'} "
            f"already {word}ed; fix: leave {'it' if len(already) == 1 else 'them'} out."
        )
    ids, names, locked = _tables(plan)
    for c in labels:
        locked[c] = value
    new = _successor(plan, plan.site_community, plan.site_grid, ids=ids, names=names, locked=locked)
    state = ("unlocked", "locked") if value else ("locked", "unlocked")
    return _Change(
        new,
        what,
        state[0],
        state[1],
        tuple(community_ids),
        affected=round(float(plan.community_households[labels].sum())),
    )


@dataclass(frozen=True)
class Reoptimise(Edit):
    """Draw every community that is not locked again (per 街道 and connected part); with
    ``subdistricts`` (街道 names), only those 街道."""

    subdistricts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "subdistricts", _ids_tuple(self.subdistricts))

    def _locked_sites(self, plan: Plan, what: str) -> np.ndarray:
        """Per site, whether it stays as it is: its community is locked, or it lies outside
        the chosen 街道; refuses unknown 街道 and a plan with nothing to redraw."""
        d = plan.district
        locked_site = np.asarray(plan.locked, dtype=bool)[plan.site_community]
        if self.subdistricts:
            labels = list(d.subdistrict_label)
            unknown = [s for s in self.subdistricts if s not in labels]
            if unknown:
                raise ScenarioEditError(
                    f"{what}: refused, unknown 街道 {', '.join(unknown)}; expected one of "
                    f"{', '.join(labels)}; fix: use a name of the streets layer."
                )
            chosen = np.isin(d.sites.subdistrict, [labels.index(s) for s in self.subdistricts])
            locked_site = locked_site | ~chosen  # outside the chosen 街道: left as they are
        if locked_site.all():
            raise ScenarioEditError(
                f"{what}: refused, every community is locked; fix: unlock the ones to redraw."
            )
        return locked_site

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        where = f" in {', '.join(self.subdistricts)}" if self.subdistricts else ""
        what = f"re-optimise the communities not locked{where}"
        free = ~self._locked_sites(plan, what)
        community, fresh = _partition_free(plan, free, params)
        community, ids, names, locked = _name_redrawn(plan, community, free, fresh)
        # a safety net: each new community one piece, within its 街道 and the unlocked sites
        group = np.where(free, plan.district.sites.subdistrict, -1 - plan.site_community)
        community, _ = mend_pieces(plan.district, community, group=group, scope=free)
        changed = _changed_communities(plan, community, free, len(ids))
        grid, notes = (plan.site_grid.copy(), [])
        if changed:
            grid, notes = _redraw_grids(plan, community, grid, changed, params=params, ids=ids)
        new = _successor(plan, community, grid, ids=ids, names=names, locked=locked)
        changed_ids = tuple(ids[c] for c in changed)
        redrawn_before = len(np.unique(plan.site_community[free]))
        before = f"{plan.n_communities} communities ({redrawn_before} to redraw)"
        after = f"{new.n_communities} communities; redrawn: {', '.join(changed_ids) or 'none'}"
        return _Change(
            new, what, before, after, changed_ids, grids_redrawn=changed_ids, notes=tuple(notes)
        )


def _partition_free(
    plan: Plan, free: np.ndarray, params: ProposeParams
) -> tuple[np.ndarray, list[int]]:
    """The ``free`` sites partitioned again per 街道 and connected part. Returns (community
    per site, with provisional labels past the plan's for the free sites; those labels)."""
    d = plan.district
    lower, upper = params.community_band
    community = plan.site_community.copy()
    fresh: list[int] = []
    next_label = plan.n_communities
    for z in np.unique(d.sites.subdistrict[free]).tolist():
        subdistrict_sites = np.flatnonzero(free & (d.sites.subdistrict == z))
        for part in d.components(subdistrict_sites):
            total = float(d.sites.households[part].sum())
            k = choose_region_count(total, target=params.community_size)
            labels = d.partition_sites(part, k=k, lower=lower, upper=upper, seed=params.seed)
            community[part] = labels + next_label
            fresh.extend(range(next_label, next_label + int(labels.max()) + 1))
            next_label += int(labels.max()) + 1
    return community, fresh


def _name_redrawn(
    plan: Plan, community: np.ndarray, free: np.ndarray, fresh: list[int]
) -> tuple[np.ndarray, list[str], list[str], list[bool]]:
    """Provisional labels ``fresh`` turned into communities: each takes the id of the old
    community it is matched to by shared households, the others a fresh part of the one they
    share most with. Returns (community per site, ids, names, locked flags)."""
    ids, names, locked = _tables(plan)
    matching = match_by_households(
        community[free], plan.site_community[free], plan.district.sites.households[free],
        sites_break_ties=True,
    )
    given, best_old = matching.old_of, matching.largest_old
    taken = set(ids)  # fresh ids never reuse an old one, retired or not
    remap = np.arange(plan.n_communities + len(fresh))
    ids_out, names_out, locked_out = list(ids), list(names), list(locked)
    for label in fresh:
        if label in given:
            remap[label] = given[label]
            continue
        parent = int(best_old[label])
        ((new_id, new_name),) = fresh_part_ids(ids[parent], names[parent], 1, taken=taken)
        taken.add(new_id)
        remap[label] = len(ids_out)
        ids_out.append(new_id)
        names_out.append(new_name)
        locked_out.append(False)
    return remap[community], ids_out, names_out, locked_out


def _changed_communities(
    plan: Plan, community: np.ndarray, free: np.ndarray, n_ids: int
) -> list[int]:
    """The labels among the free sites whose community did not come out identical (those
    that did keep their grids)."""
    old_sites = np.bincount(plan.site_community, minlength=plan.n_communities)
    new_sites = np.bincount(community, minlength=n_ids)
    same = np.bincount(community[community == plan.site_community], minlength=n_ids)
    return [
        c
        for c in np.unique(community[free]).tolist()
        if not (c < plan.n_communities and same[c] == new_sites[c] == old_sites[c])
    ]


@dataclass(frozen=True)
class Rename(Edit):
    """Give a community a new name, and/or a new id (e.g. its official 12-digit code)."""

    community_id: str
    name: str | None = None
    new_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "community_id", str(self.community_id))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = f"rename {self.community_id}"
        c = plan.label_of(self.community_id)
        if self.name is None and self.new_id is None:
            raise ScenarioEditError(
                f"{what}: refused, nothing to rename; fix: give a new name or a new id."
            )
        ids, names, locked = _tables(plan)
        before, after = [], []
        if self.name is not None:
            name = str(self.name).strip()
            if not name:
                raise ScenarioEditError(
                    f"{what}: refused, the new name is empty; fix: type a name."
                )
            owner = [ids[i] for i, n in enumerate(names) if n == name and i != c]
            if owner:
                raise ScenarioEditError(
                    f"{what}: refused, the name {name!r} is already used by {owner[0]}; fix: "
                    "pick a name no other community has."
                )
            before.append(names[c])
            after.append(name)
            names[c] = name
        if self.new_id is not None:
            new_id = str(self.new_id).strip()
            if not new_id or any(ch.isspace() for ch in new_id):
                raise ScenarioEditError(
                    f"{what}: refused, the new id {self.new_id!r} is empty or has spaces; "
                    "expected text such as a 12-digit code '330203001001'; fix: type the code."
                )
            if new_id in ids and new_id != ids[c]:
                raise ScenarioEditError(
                    f"{what}: refused, the id {new_id!r} is already used by another community; "
                    "fix: pick an unused id."
                )
            before.append(ids[c])
            after.append(new_id)
            ids[c] = new_id
        new = _successor(
            plan, plan.site_community, plan.site_grid, ids=ids, names=names, locked=locked
        )
        return _Change(
            new,
            what,
            " / ".join(before),
            " / ".join(after),
            (ids[c],),
            affected=round(float(plan.community_households[c])),
        )


@dataclass(frozen=True)
class Regrid(Edit):
    """Draw one community's grids again (``seed`` None: the plan's seed)."""

    community_id: str
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "community_id", str(self.community_id))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = f"regrid {self.community_id}"
        c = plan.label_of(self.community_id)
        _require_unlocked(plan, [c], what)
        use = params if self.seed is None else dataclasses.replace(params, seed=int(self.seed))
        ids, names, locked = _tables(plan)
        grid, notes = _redraw_grids(
            plan, plan.site_community, plan.site_grid.copy(), [c], params=use, ids=ids
        )
        new = _successor(plan, plan.site_community, grid, ids=ids, names=names, locked=locked)
        before = f"{plan.grid_count[c]} grids"
        after = f"{new.grid_count[new.label_of(self.community_id)]} grids"
        return _Change(
            new,
            what,
            before,
            after,
            (self.community_id,),
            grids_redrawn=(self.community_id,),
            notes=tuple(notes),
        )


# ---------------------------------------------------------------------- applying


def apply_edit(
    plan: Plan, edit: Edit, *, params: ProposeParams, stamp: Stamp | None = None
) -> EditResult:
    """Apply one edit, re-check the hard rules, log it.

    Parameters
    ----------
    plan
        The plan to edit (left unchanged).
    edit
        The edit.
    params
        The size bands, ``max_grids`` and the seed of the engine.
    stamp
        Author and time for the audit log (default: no author, now).

    Raises
    ------
    ScenarioEditError
        When the edit is refused, with the reason; also when the new plan would break a hard
        rule in a community the edit touched.
    """
    stamp = stamp or Stamp(time=now_utc())
    change = edit._change(plan, params)
    new = change.plan
    check = check_plan(new, params)
    touched_before = {str(i) for i in change.touched}
    broken = check.problems(only=touched_before | set(_changed_ids(plan, new)))
    if broken:
        raise ScenarioEditError(
            f"{change.what}: refused, it would break the hard rules: {'; '.join(broken)}; fix: "
            "choose other buildings or another edit."
        )
    if change.affected is None:
        site_old = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
        site_new = np.asarray(new.community_ids, dtype=object)[new.site_community]
        grid_old = np.asarray(plan.grid_ids, dtype=object)[plan.site_grid]
        grid_new = np.asarray(new.grid_ids, dtype=object)[new.site_grid]
        differs = (site_old != site_new) | (grid_old != grid_new)
        affected = round(float(plan.district.sites.households[differs].sum()))
    else:
        affected = int(change.affected)
    entry = AuditEntry(stamp.time, stamp.author, change.what, change.before, change.after, affected)
    new = dataclasses.replace(new, log=(*plan.log, entry))
    statuses = tuple(check.status(i) for i in change.touched if i in set(new.community_ids))
    return EditResult(
        edit,
        new,
        change.what,
        change.before,
        change.after,
        affected,
        statuses,
        change.grids_redrawn,
        change.notes,
        check,
    )


def _changed_ids(old: Plan, new: Plan) -> set[str]:
    site_old = np.asarray(old.community_ids, dtype=object)[old.site_community]
    site_new = np.asarray(new.community_ids, dtype=object)[new.site_community]
    return set(site_new[site_old != site_new].tolist())


# ---------------------------------------------------------------------- scenarios


@dataclass(eq=False)
class _Memo:
    """Evaluated prefixes, shared by every scenario derived from one another."""

    results: dict[tuple, EditResult] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A base plan plus edits; ``cursor`` edits of them are in effect (the rest can be redone).

    Attributes
    ----------
    base
        The plan the edits start from.
    edits
        Every edit, in order, including the undone ones after the cursor.
    cursor
        How many edits are in effect (default: all).
    params
        Bands, ``max_grids`` and seed the edits use.
    stamps
        Author and time of each edit (default: none).
    """

    base: Plan
    edits: tuple[Edit, ...] = ()
    cursor: int | None = None
    params: ProposeParams = field(default_factory=ProposeParams)
    stamps: tuple[Stamp, ...] = ()
    _memo: _Memo = field(default_factory=_Memo, repr=False)

    def __post_init__(self) -> None:
        edits = tuple(self.edits)
        object.__setattr__(self, "edits", edits)
        stamps = tuple(self.stamps) or tuple(Stamp() for _ in edits)
        if len(stamps) != len(edits):
            raise ScenarioEditError(
                f"scenario: expected one stamp per edit ({len(edits)}); found {len(stamps)}."
            )
        object.__setattr__(self, "stamps", stamps)
        cursor = len(edits) if self.cursor is None else int(self.cursor)
        if not 0 <= cursor <= len(edits):
            raise ScenarioEditError(f"scenario: cursor {cursor} out of range 0–{len(edits)}.")
        object.__setattr__(self, "cursor", cursor)

    def _key(self, n: int) -> tuple:
        return tuple(zip(self.edits[:n], self.stamps[:n], strict=True))

    def _result(self, n: int) -> EditResult | None:
        """The result of the first ``n`` edits (memoised per prefix)."""
        if n == 0:
            return None
        memo = self._memo.results
        key = self._key(n)
        if key in memo:
            return memo[key]
        done = n - 1
        while done > 0 and self._key(done) not in memo:
            done -= 1
        plan = self.base if done == 0 else memo[self._key(done)].plan
        result = None
        for i in range(done + 1, n + 1):
            result = apply_edit(
                plan, self.edits[i - 1], params=self.params, stamp=self.stamps[i - 1]
            )
            memo[self._key(i)] = result
            plan = result.plan
        return result

    def evaluate(self) -> Plan:
        """The plan with the edits up to the cursor applied."""
        result = self._result(self.cursor)
        return self.base if result is None else result.plan

    @property
    def last(self) -> EditResult | None:
        """The result of the last edit in effect."""
        return self._result(self.cursor)

    def results(self) -> tuple[EditResult, ...]:
        return tuple(self._result(n) for n in range(1, self.cursor + 1))

    @property
    def can_undo(self) -> bool:
        return self.cursor > 0

    @property
    def can_redo(self) -> bool:
        return self.cursor < len(self.edits)

    def push(self, edit: Edit, *, author: str = "", time: str | None = None) -> Scenario:
        """A scenario with ``edit`` applied after the cursor (the redo tail is dropped).

        Raises :class:`ScenarioEditError` when the edit is refused (nothing is added)."""
        if not isinstance(edit, Edit):
            raise ScenarioEditError(
                f"push: expected an edit (SplitCommunity, MergeCommunities, …); found "
                f"{type(edit).__name__}."
            )
        out = dataclasses.replace(
            self,
            edits=(*self.edits[: self.cursor], edit),
            stamps=(*self.stamps[: self.cursor], Stamp(author, time or now_utc())),
            cursor=self.cursor + 1,
        )
        out._result(out.cursor)  # evaluate now: a refused edit never enters the list
        return out

    def undo(self, steps: int = 1) -> Scenario:
        """The scenario ``steps`` edits back."""
        if steps < 1 or steps > self.cursor:
            raise ScenarioEditError(
                f"undo {steps}: refused, {self.cursor} edit(s) can be undone; fix: undo at most "
                f"{self.cursor}."
            )
        return dataclasses.replace(self, cursor=self.cursor - steps)

    def redo(self, steps: int = 1) -> Scenario:
        """The scenario ``steps`` undone edits forward."""
        available = len(self.edits) - self.cursor
        if steps < 1 or steps > available:
            raise ScenarioEditError(
                f"redo {steps}: refused, {available} undone edit(s) can be redone; fix: redo "
                f"at most {available}."
            )
        return dataclasses.replace(self, cursor=self.cursor + steps)


def write_audit_csv(plan: Plan, path: str | Path) -> Path:
    """The plan's audit log as CSV (UTF-8 with BOM, so Excel shows the Chinese)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spreadsheet_safe(audit_table(plan)).to_csv(path, index=False, encoding="utf-8-sig")
    return path
