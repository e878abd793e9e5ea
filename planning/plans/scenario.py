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

Refusals, notes and what an edit did are records (:class:`planning.records.Note`, templates
``edit.*`` in ``planning/locales``): :class:`EditRefused` carries the refusal's record, and an
:class:`EditResult` its ``what`` / ``before`` / ``after`` and notes, so a page renders them in
Chinese or English; the strings (``str(error)``, ``result.what``, the audit log) are English.

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
from planning.engine.propose import draw_parts, plan_grids
from planning.params import ProposeParams
from planning.plans.matching import match_by_households
from planning.plans.numbering import fresh_part_ids
from planning.plans.plan import (
    AuditEntry,
    CommunityStatus,
    Plan,
    PlanCheck,
    audit_table,
    band_status,
    check_plan,
    discontiguous_labels,
    mend_pieces,
    plan_successor,
)
from planning.records import Note

__all__ = [
    "Edit",
    "EditRefused",
    "EditResult",
    "Lock",
    "MergeCommunities",
    "MoveBuildings",
    "MoveCompound",
    "MoveInPolygon",
    "MovePreview",
    "Regrid",
    "Rename",
    "Reoptimise",
    "Scenario",
    "SplitCommunity",
    "Stamp",
    "Unlock",
    "apply_edit",
    "bordering_communities",
    "compound_rows",
    "now_utc",
    "preview_move",
    "write_audit_csv",
]


class EditRefused(ScenarioEditError):
    """A refused edit; ``record`` says why (and what would work instead) in either language.

    ``str(error)`` is the English text."""

    def __init__(self, record: Note) -> None:
        super().__init__(record.text("en"))
        self.record = record


def _refused(what: Note, reason: str, **values) -> EditRefused:
    """The refusal ``edit.refused.<reason>`` of the edit described by ``what``."""
    return EditRefused(Note.of(f"edit.refused.{reason}", what=what, **values))


def _plain(text: str) -> Note:
    """Text that reads the same in every language (ids and counts)."""
    return Note.of("edit.plain", text=text)


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
    what: Note
    before: Note
    after: Note
    touched: tuple[str, ...]  # community ids after the edit whose band status is reported
    grids_redrawn: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    affected: int | None = None  # households affected when not a change of assignment


@dataclass(frozen=True, eq=False)
class EditResult:
    """The outcome of one edit.

    Attributes
    ----------
    edit, plan
        The edit and the plan it made.
    what, before, after
        What was done, and the state before → after (as the audit log shows it, in English).
    households_affected
        Households whose community or grid changed (for a lock or a rename: households of the
        communities concerned).
    communities
        Size band status of the communities the edit touched, after it.
    grids_redrawn
        Communities whose grids were drawn again.
    notes
        Remarks: sizes outside the band, buildings that moved along with the ones named …
        (in English).
    check
        The hard rules and sizes of the whole new plan.
    records
        ``what``, ``before``, ``after`` and the notes as records, to render in a language.
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
    records: EditRecords | None = None

    def headline(self, lang: str = "en") -> str:
        """What changed, before → after, and the households affected, in ``lang``."""
        records = self.records or EditRecords(
            _plain(self.what), _plain(self.before), _plain(self.after)
        )
        return Note.of(
            "edit.summary.head",
            what=records.what,
            before=records.before,
            after=records.after,
            households=self.households_affected,
        ).text(lang)

    def note_texts(self, lang: str = "en") -> tuple[str, ...]:
        """The notes in ``lang``."""
        if self.records is None:
            return self.notes
        return tuple(note.text(lang) for note in self.records.notes)

    def summary(self, lang: str = "en") -> str:
        """A few lines for the user: what changed and the band status of what it touched."""
        lines = [self.headline(lang)]
        lines += [f"  {_status_text(status, lang)}" for status in self.communities]
        if self.grids_redrawn:
            redrawn = Note.of("edit.summary.grids_redrawn", ids=self.grids_redrawn)
            lines.append(f"  {redrawn.text(lang)}")
        lines += [
            f"  {Note.of('edit.summary.note', note=text).text(lang)}"
            for text in self.note_texts(lang)
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class EditRecords:
    """What an edit did as records: ``what``, ``before`` → ``after`` and its notes."""

    what: Note
    before: Note
    after: Note
    notes: tuple[Note, ...] = ()


def _status_text(status: CommunityStatus, lang: str) -> str:
    """A community's size and band status after an edit (English: as the plan says it)."""
    if lang == "en":
        return str(status)
    return Note.of(
        "edit.summary.status",
        community=status.community_id,
        name=status.name,
        households=status.households,
        grids=status.grids,
        status=Note.of(f"edit.band.{status.status.replace(' ', '_')}"),
        locked=Note.of("edit.summary.locked") if status.locked else "",
    ).text(lang)


class Edit:
    """Base of every edit: ``apply(plan, params)`` returns a new plan or refuses."""

    def apply(self, plan: Plan, params: ProposeParams) -> Plan:
        """The plan this edit makes of ``plan``; :class:`ScenarioEditError` when refused."""
        return apply_edit(plan, self, params=params).plan

    def what(self) -> Note:
        """What this edit does, as a record (e.g. "split C001 into 2")."""
        raise NotImplementedError

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        raise NotImplementedError


# ---------------------------------------------------------------------- helpers


def _fmt(plan: Plan, label: int) -> str:
    return f"{plan.community_ids[label]} ({plan.community_households[label]:,.0f})"


def _require_unlocked(plan: Plan, labels: Iterable[int], what: Note) -> None:
    locked = tuple(plan.community_ids[c] for c in labels if plan.locked[c])
    if locked:
        raise _refused(what, "locked_one" if len(locked) == 1 else "locked_many", ids=locked)


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
) -> tuple[np.ndarray, list[Note]]:
    """Grids of the communities ``labels`` drawn again by the engine; the rest kept."""
    new_grid, infeasible = plan_grids(
        plan.district, community, params, only=np.asarray(labels, dtype=np.int64), previous=grid
    )
    notes = [
        item.named(ids).reason for item in infeasible if item.level in ("community", "grid-band")
    ]
    new_grid, mended = mend_pieces(
        plan.district, new_grid, group=community, scope=np.isin(community, labels)
    )
    if mended:
        notes.append(Note.of("edit.note.mended", n=mended))
    return new_grid, notes


def _successor(plan: Plan, community: np.ndarray, grid: np.ndarray, *, ids, names, locked) -> Plan:
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


def _band_notes(plan: Plan, labels: Iterable[int], params: ProposeParams) -> list[Note]:
    lower, upper = params.community_band
    notes = []
    for c in labels:
        h = plan.community_households[c]
        if not lower <= h <= upper:
            side = "above" if h > upper else "below"
            notes.append(
                Note.of(
                    f"edit.note.{side}_band",
                    community=plan.community_ids[c],
                    households=float(h),
                    lower=lower,
                    upper=upper,
                )
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

    def what(self) -> Note:
        return Note.of("edit.what.split", community=self.community_id, k=str(self.k))

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        c = plan.label_of(self.community_id)
        _require_unlocked(plan, [c], what)
        if not isinstance(self.k, int | np.integer) or self.k < 2:
            raise _refused(what, "split_k", found=repr(self.k))
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
            raise _refused(
                what,
                "split_parts",
                community=self.community_id,
                made=made,
                locations=len(nodes),
                k=int(self.k),
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
            _plain(_fmt(plan, c)),
            _plain(", ".join(_fmt(new, new.label_of(i)) for i in new_ids)),
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

    def what(self) -> Note:
        return Note.of("edit.what.merge", a=self.a, b=self.b)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        ca, cb = plan.label_of(self.a), plan.label_of(self.b)
        if ca == cb:
            raise _refused(what, "merge_itself")
        _require_unlocked(plan, [ca, cb], what)
        za, zb = plan.community_subdistrict[ca], plan.community_subdistrict[cb]
        if za != zb:
            raise _refused(
                what,
                "merge_across",
                a=self.a,
                b=self.b,
                zone_a=_subdistrict_label(plan, ca),
                zone_b=_subdistrict_label(plan, cb),
            )
        graph = plan.district.graph
        src = graph.sources()
        labels = plan.site_community
        if not ((labels[src] == ca) & (labels[graph.indices] == cb)).any():
            raise _refused(what, "merge_not_adjacent", a=self.a, b=self.b)
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
            _plain(f"{_fmt(plan, ca)} + {_fmt(plan, cb)}"),
            _plain(_fmt(new, new.label_of(self.a))),
            (self.a,),
            grids_redrawn=(self.a,),
            notes=tuple(notes),
        )


def bordering_communities(plan: Plan, sites: np.ndarray) -> list[str]:
    """Ids of the communities that building locations ``sites`` border, other than their own:
    where they can move (site adjacency)."""
    sites = np.unique(np.asarray(sites, dtype=np.int64))
    if not len(sites):
        return []
    graph = plan.district.graph
    chosen = np.zeros(graph.n, dtype=bool)
    chosen[sites] = True
    src = graph.sources()
    edges = chosen[src] & ~chosen[graph.indices]
    labels = plan.site_community
    own = set(np.unique(labels[sites]).tolist())
    near = set(np.unique(labels[graph.indices[edges]]).tolist()) - own
    return sorted(plan.community_ids[c] for c in near if c >= 0)


def _check_move(
    plan: Plan, sites: np.ndarray, *, to: str, what: Note
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
        raise _refused(what, "nothing_to_move", to=to)
    donors = np.unique(community_now[moving]).tolist()
    _require_unlocked(plan, donors, what)
    subdistrict = plan.district.sites.subdistrict
    other = moving[subdistrict[moving] != plan.community_subdistrict[t]]
    if len(other):
        subdistricts = sorted(
            {plan.district.subdistrict_label[z] for z in subdistrict[other].tolist()}
        )
        raise _refused(
            what,
            "move_across",
            n=len(other),
            zones=tuple(subdistricts),
            to=to,
            zone=_subdistrict_label(plan, t),
        )
    graph = plan.district.graph
    community = community_now.copy()
    community[moving] = t
    if not region_is_connected(graph, community, t):
        borders = tuple(c for c in bordering_communities(plan, moving) if c != to)
        if borders:
            raise _refused(what, "move_not_adjacent_borders", to=to, borders=borders)
        raise _refused(what, "move_not_adjacent", to=to)
    for d in donors:
        if not (community == d).any():
            raise _refused(what, "move_empties", donor=plan.community_ids[d], to=to)
        if not region_is_connected(graph, community, d):
            raise _refused(what, "move_cuts", donor=plan.community_ids[d])
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
) -> list[Note]:
    """A note for each grid of community ``t`` above the grid band after a move."""
    g_upper = params.grid_band[1]
    notes = []
    for g in np.unique(new.site_grid[community == t]).tolist():
        if new.grid_households[g] > g_upper:
            notes.append(
                Note.of(
                    "edit.note.big_grid",
                    grid=new.grid_ids[g],
                    households=float(new.grid_households[g]),
                    to=to,
                )
            )
    return notes


def _move_sites(
    plan: Plan, sites: np.ndarray, *, to: str, what: Note, notes: list[Note], params: ProposeParams
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
        _plain(before),
        _plain(after),
        tuple(touched),
        grids_redrawn=tuple(plan.community_ids[d] for d in redraw),
        notes=tuple(notes),
    )


def _building_sites(plan: Plan, rows: np.ndarray) -> tuple[np.ndarray, list[Note]]:
    """Sites of the buildings at positions ``rows``, and a note naming any building at the
    same spot that moves along."""
    site_of = plan.district.sites.of_building
    sites = np.unique(site_of[rows])
    along = np.setdiff1d(np.flatnonzero(np.isin(site_of, sites)), rows)
    notes = []
    if len(along):
        ids = plan.district.buildings["building_id"].astype(str).to_numpy()[along]
        notes.append(
            Note.of(
                "edit.note.along",
                n=len(along),
                ids=", ".join(ids[:5]),
                more=" …" if len(ids) > 5 else "",
            )
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

    def what(self) -> Note:
        shown = ", ".join(self.building_ids[:3]) + (" …" if len(self.building_ids) > 3 else "")
        return Note.of(
            "edit.what.move_buildings", n=len(self.building_ids), shown=shown, to=self.to
        )

    def building_rows(self, plan: Plan) -> np.ndarray:
        """The rows of ``plan``'s buildings this edit moves; refused when there are none or an
        id is unknown."""
        what = self.what()
        if not self.building_ids:
            raise _refused(what, "no_buildings")
        index = pd.Index(plan.district.buildings["building_id"].astype(str))
        rows = index.get_indexer(list(self.building_ids))
        unknown = [b for b, r in zip(self.building_ids, rows, strict=True) if r < 0]
        if unknown:
            raise _refused(
                what,
                "unknown_buildings",
                ids=", ".join(unknown[:5]),
                more=" …" if len(unknown) > 5 else "",
            )
        return rows

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        sites, notes = _building_sites(plan, self.building_rows(plan))
        return _move_sites(plan, sites, to=self.to, what=what, notes=notes, params=params)


@dataclass(frozen=True)
class MoveCompound(Edit):
    """Move a whole compound (小区, by name) to a neighbouring community."""

    name: str
    to: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "to", str(self.to))

    def what(self) -> Note:
        return Note.of("edit.what.move_compound", name=self.name, to=self.to)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        rows = compound_rows(plan, self.name)
        if not len(rows):
            raise _refused(what, "unknown_compound", name=self.name)
        sites, notes = _building_sites(plan, rows)
        return _move_sites(plan, sites, to=self.to, what=what, notes=notes, params=params)


@dataclass(frozen=True)
class MoveInPolygon(Edit):
    """Move every building inside a drawn polygon (WKT, WGS84 lon/lat) to a community."""

    polygon_wkt_wgs84: str
    to: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", str(self.to))

    def what(self) -> Note:
        return Note.of("edit.what.move_polygon", to=self.to)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        try:
            polygon = shapely.from_wkt(self.polygon_wkt_wgs84)
        except shapely.errors.ShapelyError as exc:
            raise _refused(what, "bad_wkt", error=str(exc)) from exc
        if (
            polygon is None
            or polygon.geom_type not in ("Polygon", "MultiPolygon")
            or polygon.is_empty
        ):
            kind = "nothing" if polygon is None else polygon.geom_type
            raise _refused(what, "not_polygon", found=kind)
        polygon = shapely.make_valid(polygon)
        points = plan.district.buildings.geometry
        rows = np.flatnonzero(shapely.covers(polygon, np.asarray(points.array, dtype=object)))
        if not len(rows):
            raise _refused(what, "empty_polygon")
        sites, notes = _building_sites(plan, rows)
        what = Note.of("edit.what.move_polygon_n", n=len(rows), to=self.to)
        return _move_sites(plan, sites, to=self.to, what=what, notes=notes, params=params)


@dataclass(frozen=True)
class MovePreview:
    """What moving some buildings to community ``to`` would do, measured without doing it.

    ``buildings`` and ``households`` are what would move (with any building at the same
    spot); ``before`` and ``after`` the status of the receiving community then of each donor
    (households, grids, against the band; a donor grid cut in two would be redrawn by the edit,
    so ``after`` counts the grids that keep a building); ``refusal`` the refusal the edit would
    meet (None when it would go through); ``instead`` the communities the buildings border that
    would take them with every rule kept and the receiver in band; ``big_grids`` the grids of
    ``to`` the buildings would join that would end above the grid band, as (grid id,
    households).
    """

    to: str
    buildings: int
    households: float
    before: tuple[CommunityStatus, ...]
    after: tuple[CommunityStatus, ...]
    refusal: EditRefused | None = None
    instead: tuple[str, ...] = ()
    big_grids: tuple[tuple[str, float], ...] = ()


def _statuses(
    plan: Plan, labels: list[int], community: np.ndarray, band: tuple[float, float]
) -> tuple[CommunityStatus, ...]:
    """Status of communities ``labels`` with the sites assigned as ``community``."""
    households = np.bincount(
        community, weights=plan.district.sites.households, minlength=plan.n_communities
    )
    out = []
    for c in labels:
        mine = community == c
        out.append(
            CommunityStatus(
                community_id=plan.community_ids[c],
                name=plan.community_names[c],
                households=round(float(households[c])),
                grids=len(np.unique(plan.site_grid[mine & (plan.site_community == c)]))
                if mine.any()
                else 0,
                status=band_status(households[c], band),
                locked=bool(plan.locked[c]),
            )
        )
    return tuple(out)


def preview_move(
    plan: Plan, building_ids: Iterable[str], to: str, *, params: ProposeParams
) -> MovePreview:
    """What :class:`MoveBuildings` of ``building_ids`` to ``to`` would do (households and
    grids before and after, the refusal it would meet, where else they could go), in a few
    milliseconds: the rules are checked, no grid is drawn.

    Raises :class:`EditRefused` when nothing can be measured (no building, an unknown
    building id) and :class:`~geo.errors.ScenarioEditError` for an unknown community ``to``.
    """
    edit = MoveBuildings(tuple(building_ids), to)
    what = edit.what()
    rows = edit.building_rows(plan)
    t = plan.label_of(edit.to)
    sites, _notes = _building_sites(plan, rows)
    community = plan.site_community.copy()
    moving = sites[community[sites] != t]
    community[moving] = t
    labels = [t, *np.unique(plan.site_community[moving]).tolist()]
    band = params.community_band
    try:
        _check_move(plan, sites, to=edit.to, what=what)
        refusal = None
    except EditRefused as exc:
        refusal = exc
    moved = int(np.isin(plan.district.sites.of_building, moving).sum())
    return MovePreview(
        to=edit.to,
        buildings=moved,
        households=float(plan.district.sites.households[moving].sum()),
        before=_statuses(plan, labels, plan.site_community, band),
        after=_statuses(plan, labels, community, band),
        refusal=refusal,
        instead=_move_instead(plan, sites, moving, edit.to, band) if len(moving) else (),
        big_grids=_joined_big_grids(plan, moving, t, params) if refusal is None else (),
    )


def _joined_big_grids(
    plan: Plan, moving: np.ndarray, t: int, params: ProposeParams
) -> tuple[tuple[str, float], ...]:
    """The grids of community ``t`` that ``moving`` would join and that would end above the
    grid band (as the move joins them: each piece to the grid it borders most)."""
    grid = _join_bordering_grids(plan, moving, t)
    households = np.bincount(
        grid, weights=plan.district.sites.households, minlength=len(plan.grid_ids)
    )
    joined = np.unique(grid[moving]).tolist()
    upper = params.grid_band[1]
    return tuple((plan.grid_ids[g], float(households[g])) for g in joined if households[g] > upper)


def _move_instead(
    plan: Plan, sites: np.ndarray, moving: np.ndarray, to: str, band: tuple[float, float]
) -> tuple[str, ...]:
    """The communities ``moving`` borders, other than ``to``, that would take ``sites`` with
    every rule kept and stay in ``band``."""
    households = float(plan.district.sites.households[moving].sum())
    out = []
    for other in bordering_communities(plan, moving):
        c = plan.label_of(other)
        if other == to or plan.locked[c]:
            continue
        if band_status(plan.community_households[c] + households, band) != "in band":
            continue
        try:
            _check_move(plan, sites, to=other, what=_plain(""))
        except EditRefused:
            continue
        out.append(other)
    return tuple(out)


def compound_rows(plan: Plan, name: str) -> np.ndarray:
    """Positions (in the plan's buildings) of the buildings of compound (小区) ``name``."""
    compound = plan.district.buildings["compound"].astype("string")
    return np.flatnonzero((compound == str(name)).fillna(False).to_numpy(dtype=bool))


def _ids_tuple(values) -> tuple[str, ...]:
    return (str(values),) if isinstance(values, str) else tuple(str(v) for v in values)


@dataclass(frozen=True)
class Lock(Edit):
    """Lock communities (agreed boundaries): every edit but renaming leaves them alone."""

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _ids_tuple(self.ids))

    def what(self) -> Note:
        return Note.of("edit.what.lock", ids=self.ids)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        return _set_lock(plan, self.ids, True, self.what())


@dataclass(frozen=True)
class Unlock(Edit):
    """Unlock communities."""

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _ids_tuple(self.ids))

    def what(self) -> Note:
        return Note.of("edit.what.unlock", ids=self.ids)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        return _set_lock(plan, self.ids, False, self.what())


def _set_lock(plan: Plan, community_ids: tuple[str, ...], value: bool, what: Note) -> _Change:
    if not community_ids:
        raise _refused(what, "no_community")
    labels = [plan.label_of(i) for i in community_ids]
    already = tuple(plan.community_ids[c] for c in labels if plan.locked[c] == value)
    if already:
        word = Note.of("edit.word.locked" if value else "edit.word.unlocked")
        count = "one" if len(already) == 1 else "many"
        raise _refused(what, f"already_{count}", ids=already, state=word)
    ids, names, locked = _tables(plan)
    for c in labels:
        locked[c] = value
    new = _successor(plan, plan.site_community, plan.site_grid, ids=ids, names=names, locked=locked)
    state = ("unlocked", "locked") if value else ("locked", "unlocked")
    return _Change(
        new,
        what,
        Note.of(f"edit.word.{state[0]}"),
        Note.of(f"edit.word.{state[1]}"),
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

    def what(self) -> Note:
        if self.subdistricts:
            return Note.of("edit.what.reoptimise_in", zones=self.subdistricts)
        return Note.of("edit.what.reoptimise")

    def _locked_sites(self, plan: Plan, what: Note) -> np.ndarray:
        """Per site, whether it stays as it is: its community is locked, or it lies outside
        the chosen 街道; refuses unknown 街道 and a plan with nothing to redraw."""
        d = plan.district
        locked_site = np.asarray(plan.locked, dtype=bool)[plan.site_community]
        if self.subdistricts:
            labels = list(d.subdistrict_label)
            unknown = [s for s in self.subdistricts if s not in labels]
            if unknown:
                raise _refused(
                    what, "unknown_zones", zones=", ".join(unknown), known=", ".join(labels)
                )
            chosen = np.isin(d.sites.subdistrict, [labels.index(s) for s in self.subdistricts])
            locked_site = locked_site | ~chosen  # outside the chosen 街道: left as they are
        if locked_site.all():
            raise _refused(what, "all_locked")
        return locked_site

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
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
        before = Note.of(
            "edit.state.reoptimise_before", n=plan.n_communities, redraw=redrawn_before
        )
        after = (
            Note.of("edit.state.reoptimise_after", n=new.n_communities, ids=changed_ids)
            if changed_ids
            else Note.of("edit.state.reoptimise_none", n=new.n_communities)
        )
        return _Change(
            new, what, before, after, changed_ids, grids_redrawn=changed_ids, notes=tuple(notes)
        )


def _partition_free(
    plan: Plan, free: np.ndarray, params: ProposeParams
) -> tuple[np.ndarray, list[int]]:
    """The ``free`` sites partitioned again per 街道 and connected part, as propose draws
    them (:func:`planning.engine.propose.draw_parts`: a large part in pieces). Returns
    (community per site, with provisional labels past the plan's for the free sites; those
    labels)."""
    d = plan.district
    community = plan.site_community.copy()
    fresh: list[int] = []
    next_label = plan.n_communities
    parts = [
        part
        for z in np.unique(d.sites.subdistrict[free]).tolist()
        for part in d.components(np.flatnonzero(free & (d.sites.subdistrict == z)))
    ]
    for part, labels in zip(parts, draw_parts(parts, d, params), strict=True):
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
        community[free],
        plan.site_community[free],
        plan.district.sites.households[free],
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

    def what(self) -> Note:
        return Note.of("edit.what.rename", community=self.community_id)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        c = plan.label_of(self.community_id)
        if self.name is None and self.new_id is None:
            raise _refused(what, "rename_nothing")
        ids, names, locked = _tables(plan)
        before, after = [], []
        if self.name is not None:
            name = str(self.name).strip()
            if not name:
                raise _refused(what, "rename_empty")
            owner = [ids[i] for i, n in enumerate(names) if n == name and i != c]
            if owner:
                raise _refused(what, "rename_name_used", name=name, owner=owner[0])
            before.append(names[c])
            after.append(name)
            names[c] = name
        if self.new_id is not None:
            new_id = str(self.new_id).strip()
            if not new_id or any(ch.isspace() for ch in new_id):
                raise _refused(what, "rename_bad_id", new_id=repr(self.new_id))
            if new_id in ids and new_id != ids[c]:
                raise _refused(what, "rename_id_used", new_id=new_id)
            before.append(ids[c])
            after.append(new_id)
            ids[c] = new_id
        new = _successor(
            plan, plan.site_community, plan.site_grid, ids=ids, names=names, locked=locked
        )
        return _Change(
            new,
            what,
            _plain(" / ".join(before)),
            _plain(" / ".join(after)),
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

    def what(self) -> Note:
        return Note.of("edit.what.regrid", community=self.community_id)

    def _change(self, plan: Plan, params: ProposeParams) -> _Change:
        what = self.what()
        c = plan.label_of(self.community_id)
        _require_unlocked(plan, [c], what)
        use = params if self.seed is None else dataclasses.replace(params, seed=int(self.seed))
        ids, names, locked = _tables(plan)
        grid, notes = _redraw_grids(
            plan, plan.site_community, plan.site_grid.copy(), [c], params=use, ids=ids
        )
        new = _successor(plan, plan.site_community, grid, ids=ids, names=names, locked=locked)
        before = Note.of("edit.state.grids", n=int(plan.grid_count[c]))
        after = Note.of("edit.state.grids", n=int(new.grid_count[new.label_of(self.community_id)]))
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
        raise _refused(change.what, "hard_rules", broken="; ".join(broken))
    if change.affected is None:
        site_old = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
        site_new = np.asarray(new.community_ids, dtype=object)[new.site_community]
        grid_old = np.asarray(plan.grid_ids, dtype=object)[plan.site_grid]
        grid_new = np.asarray(new.grid_ids, dtype=object)[new.site_grid]
        differs = (site_old != site_new) | (grid_old != grid_new)
        affected = round(float(plan.district.sites.households[differs].sum()))
    else:
        affected = int(change.affected)
    what, before, after = (str(change.what), str(change.before), str(change.after))
    records = (change.what, change.before, change.after)
    entry = AuditEntry(stamp.time, stamp.author, what, before, after, affected, records)
    new = dataclasses.replace(new, log=(*plan.log, entry))
    statuses = tuple(check.status(i) for i in change.touched if i in set(new.community_ids))
    return EditResult(
        edit,
        new,
        what,
        before,
        after,
        affected,
        statuses,
        change.grids_redrawn,
        tuple(str(note) for note in change.notes),
        check,
        records=EditRecords(change.what, change.before, change.after, tuple(change.notes)),
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
