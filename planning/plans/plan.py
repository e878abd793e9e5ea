"""A plan: every building of a district labelled with its community and grid.

A :class:`Plan` labels the sites of a prepared :class:`~planning.engine.district.District` (buildings at
one spot form one site, so a building is never split): ``site_community`` and ``site_grid`` are
int labels into the plan's tables of community ids (text: 12-digit codes stay text), names,
locks and grid ids. Labels are compact and ordered by id, so two plans with the same assignment
have equal arrays whatever edits led to them.

Plans are never changed in place: an edit derives a new plan with :func:`plan_successor`, which
renumbers the grids of the communities it touched and keeps every other id. Boundaries are
derived lazily and cached per 街道: the engine smooths each 街道's grid coverage on its own
(its outline stays where it is), so an edit re-dissolves only the 街道 it touched and copies
the polygons of every other 街道 from the plan it came from; the polygons are the same as a
full :func:`planning.engine.boundaries.boundaries` run would draw.

:func:`check_plan` re-checks the hard rules (every site assigned once, each community and grid
one connected piece, communities inside one 街道, grids inside one community, at most
``max_grids`` grids) and reports each community's size against the band.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components

from geo.errors import ScenarioEditError
from planning.engine.boundaries import boundaries
from planning.engine.district import District
from planning.engine.graph import Graph
from planning.engine.propose import Proposal
from planning.params import ProposeParams
from planning.plans.matching import match_by_households
from planning.records import Note

__all__ = [
    "AuditEntry",
    "CommunityStatus",
    "Plan",
    "PlanCheck",
    "SubdistrictShapes",
    "audit_table",
    "band_status",
    "building_frame",
    "check_plan",
    "community_frame",
    "discontiguous_labels",
    "grid_frame",
    "mend_pieces",
    "number_grids",
    "plan_frames",
    "plan_from_labels",
    "plan_from_proposal",
    "plan_successor",
]

#: Columns of the audit log table (CSV export and the project file's edit log).
AUDIT_COLUMNS = ("time", "author", "what", "from", "to", "households_affected")


@dataclass(frozen=True)
class AuditEntry:
    """One edit as the audit log keeps it; ``records`` holds what, from and to as records
    (to word them in either language), when known (a log read from an old project has only
    the English text)."""

    time: str  # ISO 8601, UTC
    author: str
    what: str
    from_: str
    to: str
    households_affected: int
    records: tuple[Note, Note, Note] | None = field(default=None, compare=False)

    def texts(self, lang: str) -> tuple[str, str, str]:
        """What, from and to in ``lang`` (as stored when there are no records)."""
        if self.records is None:
            return self.what, self.from_, self.to
        what, before, after = self.records
        return what.text(lang), before.text(lang), after.text(lang)

    def as_row(self) -> dict:
        return {
            "time": self.time,
            "author": self.author,
            "what": self.what,
            "from": self.from_,
            "to": self.to,
            "households_affected": int(self.households_affected),
        }


@dataclass(frozen=True, eq=False)
class SubdistrictShapes:
    """The polygons of one 街道's communities and grids (metric CRS), keyed by id."""

    community: dict[str, shapely.Geometry]
    grid: dict[str, shapely.Geometry]


@dataclass(frozen=True, eq=False)
class _ShapeSource:
    """Where a plan's polygons come from: known per zone, or a parent plan whose polygons are
    reused for every zone not in ``touched``."""

    known: dict[int, SubdistrictShapes] | None = None
    parent: Plan | None = None
    touched: frozenset[int] = frozenset()


def _frozen(values: np.ndarray, dtype) -> np.ndarray:
    out = np.array(values, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Plan:
    """Communities and grids of a district, as labels of its sites.

    Attributes
    ----------
    district
        The district the plan labels (sites, cells, adjacency, metric CRS).
    site_community, site_grid
        Label per site into ``community_ids`` / ``grid_ids`` (read-only arrays).
    community_ids, community_names, locked
        One entry per community label, labels ordered by id.
    grid_ids
        One entry per grid label, ordered by id (``<community id>-<3-digit sequence>``).
    smooth_m
        Smoothing tolerance of the boundaries (``ProposeParams.smooth_m``).
    log
        The audit log of the edits that led to this plan.
    """

    district: District
    site_community: np.ndarray
    site_grid: np.ndarray
    community_ids: tuple[str, ...]
    community_names: tuple[str, ...]
    locked: tuple[bool, ...]
    grid_ids: tuple[str, ...]
    smooth_m: float = 10.0
    log: tuple[AuditEntry, ...] = ()
    shape_source: _ShapeSource = field(default_factory=_ShapeSource, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "site_community", _frozen(self.site_community, np.int64))
        object.__setattr__(self, "site_grid", _frozen(self.site_grid, np.int64))
        for name in ("community_ids", "community_names", "locked", "grid_ids", "log"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        n_sites = len(self.district.sites.xy)
        m, g = len(self.community_ids), len(self.grid_ids)
        if self.site_community.shape != (n_sites,) or self.site_grid.shape != (n_sites,):
            raise ScenarioEditError(
                f"plan: expected one community and one grid label per site ({n_sites}); found "
                f"{self.site_community.shape} and {self.site_grid.shape}. Fix: label every site."
            )
        if len(self.community_names) != m or len(self.locked) != m:
            raise ScenarioEditError(
                f"plan: expected a name and a lock flag per community ({m}); found "
                f"{len(self.community_names)} names and {len(self.locked)} flags."
            )
        if n_sites and (self.site_community.max() >= m or self.site_grid.max() >= g):
            raise ScenarioEditError(
                f"plan: labels out of range ({m} communities, {g} grids). Fix: build plans with "
                "plan_from_labels or plan_successor."
            )

    # ------------------------------------------------------------------ lookups

    @property
    def n_communities(self) -> int:
        return len(self.community_ids)

    @property
    def n_grids(self) -> int:
        return len(self.grid_ids)

    @cached_property
    def _label_of(self) -> dict[str, int]:
        return {cid: i for i, cid in enumerate(self.community_ids)}

    def label_of(self, community_id: str) -> int:
        """The label of a community id; :class:`ScenarioEditError` when unknown."""
        label = self._label_of.get(str(community_id))
        if label is None:
            raise ScenarioEditError(
                Note.of(
                    "plan.unknown_community",
                    community=repr(community_id),
                    n=self.n_communities,
                    shown=tuple(str(c) for c in self.community_ids[:3]),
                    more=" …" if self.n_communities > 3 else "",
                )
            )
        return label

    @cached_property
    def community_households(self) -> np.ndarray:
        return np.bincount(
            self.site_community,
            weights=self.district.sites.households,
            minlength=self.n_communities,
        )

    @cached_property
    def grid_households(self) -> np.ndarray:
        return np.bincount(
            self.site_grid, weights=self.district.sites.households, minlength=self.n_grids
        )

    @cached_property
    def grid_community(self) -> np.ndarray:
        """Community label of each grid (that of its first site)."""
        out = np.full(self.n_grids, -1, dtype=np.int64)
        out[self.site_grid[::-1]] = self.site_community[::-1]
        return out

    @cached_property
    def community_subdistrict(self) -> np.ndarray:
        """街道 index of each community (that of its first site)."""
        out = np.full(self.n_communities, -1, dtype=np.int64)
        out[self.site_community[::-1]] = self.district.sites.subdistrict[::-1]
        return out

    @cached_property
    def grid_count(self) -> np.ndarray:
        return np.bincount(self.grid_community, minlength=self.n_communities)

    def sites_of(self, community_id: str) -> np.ndarray:
        return np.flatnonzero(self.site_community == self.label_of(community_id))

    # ------------------------------------------------------------------ polygons

    @cached_property
    def shapes(self) -> dict[int, SubdistrictShapes]:
        """Polygons per 街道 index, derived on first use (see the module docstring)."""
        subdistricts = np.unique(self.community_subdistrict)
        source = self.shape_source
        out: dict[int, SubdistrictShapes] = {}
        for z in subdistricts.tolist():
            if source.known is not None and z in source.known:
                out[z] = source.known[z]
            elif (
                source.parent is not None and z not in source.touched and z in source.parent.shapes
            ):
                out[z] = source.parent.shapes[z]
            else:
                out[z] = _subdistrict_shapes(self, z)
        return out

    def community_polygons(self) -> np.ndarray:
        """One polygon per community label (metric CRS)."""
        lookup = {k: v for shapes in self.shapes.values() for k, v in shapes.community.items()}
        return np.array([lookup[cid] for cid in self.community_ids], dtype=object)

    def grid_polygons(self) -> np.ndarray:
        """One polygon per grid label (metric CRS)."""
        lookup = {k: v for shapes in self.shapes.values() for k, v in shapes.grid.items()}
        return np.array([lookup[gid] for gid in self.grid_ids], dtype=object)


def _subdistrict_view(district: District, sites: np.ndarray) -> District:
    """The district restricted to ``sites`` (for :func:`planning.engine.boundaries.boundaries`)."""
    s = district.sites
    view_sites = dataclasses.replace(
        s,
        xy=s.xy[sites],
        households=s.households[sites],
        compound=s.compound[sites],
        subdistrict=s.subdistrict[sites],
        of_building=np.zeros(0, dtype=np.int64),
    )
    return dataclasses.replace(
        district,
        sites=view_sites,
        cells=district.cells[sites],
        cell_area=district.cell_area[sites],
        cell_perimeter=district.cell_perimeter[sites],
        site_parcel=None if district.site_parcel is None else district.site_parcel[sites],
        site_block=None if district.site_block is None else district.site_block[sites],
        site_shape=None if district.site_shape is None else district.site_shape[sites],
        **_footprints_view(district, sites),
    )


def _footprints_view(district: District, sites: np.ndarray) -> dict:
    """The footprints of ``sites`` (and of no site), their site renumbered as in the view."""
    if district.footprints is None:
        return {}
    position = np.full(len(district.sites.xy), -1, dtype=np.int64)
    position[sites] = np.arange(len(sites))
    owner = district.footprint_site
    keep = (owner < 0) | (position[np.maximum(owner, 0)] >= 0)
    return {
        "footprints": district.footprints[keep],
        "footprint_site": np.where(owner[keep] >= 0, position[np.maximum(owner[keep], 0)], -1),
    }


def _subdistrict_shapes(plan: Plan, subdistrict: int) -> SubdistrictShapes:
    """Dissolve and smooth one 街道 exactly as the engine does for a whole plan."""
    sites = np.flatnonzero(plan.district.sites.subdistrict == subdistrict)
    comm_u, comm_local = np.unique(plan.site_community[sites], return_inverse=True)
    grid_u, grid_local = np.unique(plan.site_grid[sites], return_inverse=True)
    grid_polys, comm_polys, _ = boundaries(
        _subdistrict_view(plan.district, sites),
        comm_local.ravel(),
        grid_local.ravel(),
        smooth_m=plan.smooth_m,
    )
    return SubdistrictShapes(
        community={plan.community_ids[c]: p for c, p in zip(comm_u, comm_polys, strict=True)},
        grid={plan.grid_ids[g]: p for g, p in zip(grid_u, grid_polys, strict=True)},
    )


# ---------------------------------------------------------------------- building plans


def _reading_ranks(
    xy: np.ndarray, weights: np.ndarray, labels: np.ndarray, area_m2: float
) -> dict[int, int]:
    """Rank of each label: north→south in rows, west→east within a row."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.ravel()
    w = np.maximum(weights, 1e-6)
    mass = np.bincount(inverse, weights=w)
    cx = np.bincount(inverse, weights=xy[:, 0] * w) / mass
    cy = np.bincount(inverse, weights=xy[:, 1] * w) / mass
    row = np.floor((cy.max() - cy) / max(np.sqrt(area_m2 / len(uniq)), 1.0))
    order = np.lexsort((cx, row))
    return {int(uniq[i]): rank for rank, i in enumerate(order)}


def number_grids(
    district: District,
    community: np.ndarray,
    grid: np.ndarray,
    ids: list[str],
    which: Iterable[int],
) -> dict[int, str]:
    """Grid id per grid label of the communities ``which``: community id + 3-digit sequence
    in reading order."""
    out: dict[int, str] = {}
    sites = district.sites
    for c in which:
        members = np.flatnonzero(community == c)
        if not len(members):
            continue
        ranks = _reading_ranks(
            sites.xy[members],
            sites.households[members],
            grid[members],
            float(district.cell_area[members].sum()),
        )
        for label, rank in ranks.items():
            out[label] = f"{ids[c]}-{rank + 1:03d}"
    return out


def _canonical(
    community: np.ndarray,
    grid: np.ndarray,
    *,
    ids: list[str],
    names: list[str],
    locked: list[bool],
    grid_ids: dict[int, str],
):
    """Compact labels ordered by id; unused communities and grids dropped."""
    used = np.unique(community)
    order = sorted(used.tolist(), key=lambda c: ids[c])
    remap = np.full(len(ids), -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    g_used = np.unique(grid)
    g_order = sorted(g_used.tolist(), key=lambda g: grid_ids[g])
    g_remap = np.full(int(grid.max()) + 1 if len(grid) else 0, -1, dtype=np.int64)
    g_remap[g_order] = np.arange(len(g_order))
    return (
        remap[community],
        g_remap[grid],
        [ids[c] for c in order],
        [names[c] for c in order],
        [bool(locked[c]) for c in order],
        [grid_ids[g] for g in g_order],
    )


def _check_unique_ids(ids: list[str], what: str) -> None:
    seen = pd.Series(ids)
    dup = seen[seen.duplicated()].unique().tolist()
    if dup:
        raise ScenarioEditError(
            Note.of(
                "plan.ids_repeat",
                what=Note.of(f"plan.word.{what.replace(' ', '_')}"),
                ids=tuple(map(str, dup[:5])),
            )
        )


def plan_from_labels(
    district: District,
    site_community: np.ndarray,
    site_grid: np.ndarray,
    *,
    community_ids: Iterable[str],
    community_names: Iterable[str] | None = None,
    locked: Iterable[bool] | None = None,
    grid_ids: Iterable[str] | None = None,
    smooth_m: float = ProposeParams.smooth_m,
    shapes: dict[int, SubdistrictShapes] | None = None,
) -> Plan:
    """A plan from label arrays (labels index the tables; unused labels are dropped).

    Grid ids are numbered per community in reading order when ``grid_ids`` is None.
    ``shapes`` gives known polygons per 街道 (e.g. an engine run's), else they are derived.
    """
    ids = [str(v) for v in community_ids]
    _check_unique_ids(ids, "community ids")
    names = list(ids) if community_names is None else [str(v) for v in community_names]
    flags = [False] * len(ids) if locked is None else [bool(v) for v in locked]
    community = np.asarray(site_community, dtype=np.int64)
    grid = np.asarray(site_grid, dtype=np.int64)
    if (community < 0).any() or (grid < 0).any():
        raise ScenarioEditError(
            f"plan: {int((community < 0).sum())} site(s) without a community and "
            f"{int((grid < 0).sum())} without a grid; expected every site labelled; fix: "
            "assign every building before building a plan."
        )
    if grid_ids is None:
        numbered = number_grids(district, community, grid, ids, np.unique(community))
    else:
        numbered = dict(enumerate(str(v) for v in grid_ids))
    _check_unique_ids([numbered[g] for g in np.unique(grid).tolist()], "grid ids")
    community, grid, ids, names, flags, gids = _canonical(
        community, grid, ids=ids, names=names, locked=flags, grid_ids=numbered
    )
    return Plan(
        district,
        community,
        grid,
        tuple(ids),
        tuple(names),
        tuple(flags),
        tuple(gids),
        smooth_m=smooth_m,
        shape_source=_ShapeSource(known=shapes),
    )


def plan_from_proposal(proposal: Proposal, *, smooth_m: float = ProposeParams.smooth_m) -> Plan:
    """The plan an engine run drew, with its ids, names and polygons (nothing recomputed).

    ``smooth_m`` must be the smoothing the proposal was drawn with (``params.smooth_m``).
    """
    district = proposal.district
    if district is None or proposal.site_community is None or proposal.site_grid is None:
        raise ScenarioEditError(
            "proposal: expected a proposal from planning.engine.propose.propose (with its district "
            "and site labels); found one without them; fix: run propose() again."
        )
    community = np.asarray(proposal.site_community, dtype=np.int64)
    grid = np.asarray(proposal.site_grid, dtype=np.int64)
    site = district.sites.of_building
    ids = np.empty(int(community.max()) + 1, dtype=object)
    ids[community[site]] = proposal.buildings["community_id"].astype(str).to_numpy(dtype=object)
    gids = np.empty(int(grid.max()) + 1, dtype=object)
    gids[grid[site]] = proposal.buildings["grid_id"].astype(str).to_numpy(dtype=object)
    frame = proposal.communities
    name_of = dict(zip(frame["community_id"].astype(str), frame["name"].astype(str), strict=True))
    comm_geom = dict(zip(frame["community_id"].astype(str), frame.geometry.array, strict=True))
    grid_geom = dict(
        zip(proposal.grids["grid_id"].astype(str), proposal.grids.geometry.array, strict=True)
    )
    subdistrict_of = np.full(len(ids), -1, dtype=np.int64)
    subdistrict_of[community] = district.sites.subdistrict
    grid_subdistrict = np.full(len(gids), -1, dtype=np.int64)
    grid_subdistrict[grid] = district.sites.subdistrict
    shapes = {
        int(z): SubdistrictShapes(
            community={ids[c]: comm_geom[ids[c]] for c in np.flatnonzero(subdistrict_of == z)},
            grid={gids[g]: grid_geom[gids[g]] for g in np.flatnonzero(grid_subdistrict == z)},
        )
        for z in np.unique(subdistrict_of)
    }
    return plan_from_labels(
        district,
        community,
        grid,
        community_ids=ids.tolist(),
        community_names=[name_of[i] for i in ids],
        grid_ids=gids.tolist(),
        smooth_m=smooth_m,
        shapes=shapes,
    )


def _keep_grid_ids(
    plan: Plan, community: np.ndarray, grid: np.ndarray, ids: list[str], which: list[int]
) -> dict[int, str]:
    """Grid ids of the communities ``which`` after an edit: a new grid takes the id of the
    old grid of the same community id it shares most households with (each old id once);
    the other grids get the next free numbers, in reading order."""
    out: dict[int, str] = {}
    if not which:
        return out
    sites = plan.district.sites
    old_gid = np.asarray(plan.grid_ids, dtype=object)[plan.site_grid]
    old_cid = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
    for c in which:
        members = np.flatnonzero(community == c)
        stay = members[old_cid[members] == ids[c]]
        taken: set[str] = set()
        if len(stay):
            matching = match_by_households(
                grid[stay], old_gid[stay], sites.households[stay], sites_break_ties=True
            )
            for new, old, _ in matching.pairs:
                out[int(new)] = str(old)
                taken.add(str(old))
        # every id the community ever had stays reserved, so a number is never reused
        prefix = f"{ids[c]}-"
        reserved = {g for g in plan.grid_ids if g.startswith(prefix)} | taken
        ranks = _reading_ranks(
            sites.xy[members],
            sites.households[members],
            grid[members],
            float(plan.district.cell_area[members].sum()),
        )
        seq = 1
        for label in sorted(ranks, key=ranks.get):
            if label in out:
                continue
            while f"{prefix}{seq:03d}" in reserved:
                seq += 1
            out[label] = f"{prefix}{seq:03d}"
            reserved.add(out[label])
    return out


def plan_successor(
    plan: Plan,
    *,
    site_community: np.ndarray,
    community_ids: Iterable[str],
    community_names: Iterable[str],
    locked: Iterable[bool],
    site_grid: np.ndarray,
    log: Iterable[AuditEntry] | None = None,
) -> Plan:
    """The plan an edit makes of ``plan``.

    ``site_community`` labels index the given tables (unused labels are dropped);
    ``site_grid`` holds any int labels, unique across communities. A community whose id,
    sites and grid partition are all unchanged keeps its grid ids; the grids of every other
    community are renumbered. Polygons are re-derived only in the 街道 where something changed.
    """
    ids = [str(v) for v in community_ids]
    names = [str(v) for v in community_names]
    flags = [bool(v) for v in locked]
    _check_unique_ids([ids[c] for c in np.unique(site_community)], "community ids")
    community = np.asarray(site_community, dtype=np.int64)
    grid = np.asarray(site_grid, dtype=np.int64)
    new_id = np.asarray(ids, dtype=object)[community]
    old_id = np.asarray(plan.community_ids, dtype=object)[plan.site_community]
    moved = new_id != old_id
    changed = set(new_id[moved].tolist()) | set(old_id[moved].tolist())
    # grid partitions: unchanged when old and new grid labels correspond one to one
    pairs = pd.DataFrame({"old": plan.site_grid, "new": grid, "c": new_id})
    split_old = pairs.groupby("old")["new"].transform("nunique") > 1
    split_new = pairs.groupby("new")["old"].transform("nunique") > 1
    changed |= set(pairs.loc[split_old | split_new, "c"].tolist())
    changed_labels = [c for c in np.unique(community).tolist() if ids[c] in changed]
    numbered = _keep_grid_ids(plan, community, grid, ids, changed_labels)
    keep = ~np.isin(community, changed_labels)
    first = pd.Series(np.flatnonzero(keep)).groupby(grid[keep]).first()
    for g, s in first.items():
        numbered[int(g)] = plan.grid_ids[plan.site_grid[s]]
    subdistricts = plan.district.sites.subdistrict
    touched = set(subdistricts[np.isin(new_id, list(changed))].tolist())
    touched |= set(subdistricts[np.isin(old_id, list(changed))].tolist())
    community, grid, ids, names, flags, gids = _canonical(
        community, grid, ids=ids, names=names, locked=flags, grid_ids=numbered
    )
    return Plan(
        plan.district,
        community,
        grid,
        tuple(ids),
        tuple(names),
        tuple(flags),
        tuple(gids),
        smooth_m=plan.smooth_m,
        log=plan.log if log is None else tuple(log),
        shape_source=_ShapeSource(parent=plan, touched=frozenset(int(z) for z in touched)),
    )


# ---------------------------------------------------------------------- frames


def community_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per community (metric CRS): ``community_id``, ``name``, ``street``,
    ``households``, ``buildings``, ``grid_count``, ``locked`` and the polygon."""
    d = plan.district
    subdistrict_names = np.array(d.subdistrict_names, dtype=object)
    buildings = np.bincount(plan.site_community[d.sites.of_building], minlength=plan.n_communities)
    return gpd.GeoDataFrame(
        {
            "community_id": list(plan.community_ids),
            "name": list(plan.community_names),
            "street": subdistrict_names[plan.community_subdistrict] if d.has_subdistricts else None,
            "households": plan.community_households.round().astype("int64"),
            "buildings": buildings.astype("int64"),
            "grid_count": plan.grid_count.astype("int64"),
            "locked": np.asarray(plan.locked, dtype=bool),
        },
        geometry=list(plan.community_polygons()),
        crs=d.metric_crs,
    )


def grid_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per grid (metric CRS): ``grid_id``, ``community_id``, ``households``,
    ``buildings`` and the polygon."""
    d = plan.district
    ids = np.asarray(plan.community_ids, dtype=object)
    buildings = np.bincount(plan.site_grid[d.sites.of_building], minlength=plan.n_grids)
    return gpd.GeoDataFrame(
        {
            "grid_id": list(plan.grid_ids),
            "community_id": ids[plan.grid_community],
            "households": plan.grid_households.round().astype("int64"),
            "buildings": buildings.astype("int64"),
        },
        geometry=list(plan.grid_polygons()),
        crs=d.metric_crs,
    )


def building_frame(plan: Plan) -> gpd.GeoDataFrame:
    """The district's buildings (as given, WGS84) with ``street``, ``community_id`` and
    ``grid_id``, aligned with ``district.buildings``."""
    d = plan.district
    site = d.sites.of_building
    out = d.buildings.copy()
    out["street"] = (
        np.array(d.subdistrict_names, dtype=object)[d.sites.subdistrict[site]]
        if d.has_subdistricts
        else None
    )
    out["community_id"] = np.asarray(plan.community_ids, dtype=object)[plan.site_community[site]]
    out["grid_id"] = np.asarray(plan.grid_ids, dtype=object)[plan.site_grid[site]]
    return out


def plan_frames(plan: Plan) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(buildings, communities, grids), as :func:`planning.engine.propose.assemble` returns them."""
    return building_frame(plan), community_frame(plan), grid_frame(plan)


def audit_table(plan: Plan) -> pd.DataFrame:
    """The audit log as a table (columns :data:`AUDIT_COLUMNS`), oldest edit first."""
    return pd.DataFrame([e.as_row() for e in plan.log], columns=list(AUDIT_COLUMNS))


# ---------------------------------------------------------------------- checks


def discontiguous_labels(graph: Graph, labels: np.ndarray) -> np.ndarray:
    """Labels whose units do not form one connected piece of ``graph``."""
    labels = np.asarray(labels, dtype=np.int64)
    n = graph.n
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    src = graph.sources()
    dst = graph.indices
    same = labels[src] == labels[dst]
    matrix = scipy.sparse.csr_matrix(
        (np.ones(int(same.sum())), (src[same], dst[same])), shape=(n, n)
    )
    count, comp = connected_components(matrix, directed=False)
    pairs = np.unique(labels * count + comp)
    pieces = np.bincount(pairs // count)
    return np.flatnonzero(pieces > 1)


def mend_pieces(
    district: District, labels: np.ndarray, *, group: np.ndarray, scope: np.ndarray
) -> tuple[np.ndarray, int]:
    """Make every label with a site in ``scope`` one connected piece: its smaller pieces join
    the neighbouring label (of a site in the same ``group``) they share the longest border
    with. Returns (labels, pieces moved).

    A safety net under the engine, whose regions should already be connected."""
    graph = district.graph
    labels = labels.copy()
    weights = district.sites.households
    mended = 0
    targets = set(np.unique(labels[scope]).tolist())
    for _ in range(10):
        bad = [int(b) for b in discontiguous_labels(graph, labels) if int(b) in targets]
        if not bad:
            break
        for b in bad:
            members = np.flatnonzero(labels == b)
            parts = district.components(members)
            parts.sort(key=lambda p: (-float(weights[p].sum()), int(p.min())))
            for part in parts[1:]:
                lengths: dict[int, float] = {}
                for s in part.tolist():
                    for e in range(graph.indptr[s], graph.indptr[s + 1]):
                        v = int(graph.indices[e])
                        if labels[v] != b and group[v] == group[s]:
                            lengths[int(labels[v])] = lengths.get(int(labels[v]), 0.0) + float(
                                graph.shared[e]
                            )
                if lengths:
                    labels[part] = min(lengths, key=lambda g: (-lengths[g], g))
                    mended += 1
    return labels, mended


def band_status(households: float, band: tuple[float, float]) -> str:
    """ "below", "in band" or "above"."""
    lower, upper = band
    if households < lower:
        return "below"
    if households > upper:
        return "above"
    return "in band"


@dataclass(frozen=True)
class CommunityStatus:
    """A community's size against the band."""

    community_id: str
    name: str
    households: int
    grids: int
    status: str  # "below" | "in band" | "above"
    locked: bool = False

    @property
    def in_band(self) -> bool:
        return self.status == "in band"

    def __str__(self) -> str:
        lock = ", locked" if self.locked else ""
        return (
            f"{self.community_id} {self.name}: {self.households:,} households, "
            f"{self.grids} grids, {self.status}{lock}"
        )


@dataclass(frozen=True)
class PlanCheck:
    """The hard rules and the size band of a plan.

    Hard rules: every site assigned once (``unassigned_sites``), each community and grid one
    connected piece, each community inside one 街道, each grid inside one community, at most
    ``max_grids`` grids per community. Sizes are reported, not enforced.
    """

    unassigned_sites: int
    discontiguous_communities: tuple[str, ...]
    discontiguous_grids: tuple[str, ...]
    crossing_subdistricts: tuple[str, ...]
    grids_across_communities: tuple[str, ...]
    over_max_grids: tuple[str, ...]
    communities: tuple[CommunityStatus, ...]
    band: tuple[float, float]
    grid_band: tuple[float, float]
    grid_share_in_band: float
    violations: tuple[tuple[str, str], ...] = ()  # (community id, sentence)

    @property
    def ok(self) -> bool:
        return not self.problems()

    @property
    def share_in_band(self) -> float:
        if not self.communities:
            return 0.0
        return sum(c.in_band for c in self.communities) / len(self.communities)

    def status(self, community_id: str) -> CommunityStatus:
        for c in self.communities:
            if c.community_id == community_id:
                return c
        raise ScenarioEditError(f"unknown community {community_id!r} in the check")

    def problems(self, only: Collection[str] | None = None) -> list[str]:
        """The hard-rule violations as sentences, limited to those of the communities
        ``only`` (a grid's violation belongs to its community) when given."""
        if only is None:
            return [text for _, text in self.violations]
        wanted = set(only)
        return [text for cid, text in self.violations if cid in wanted]


def check_plan(plan: Plan, params: ProposeParams) -> PlanCheck:
    """Re-check the hard rules and the size band of every community (vectorised; a few
    milliseconds on 80,000 households)."""
    d = plan.district
    ids = np.asarray(plan.community_ids, dtype=object)
    gids = np.asarray(plan.grid_ids, dtype=object)
    subdistricts = pd.DataFrame({"c": plan.site_community, "z": d.sites.subdistrict})
    crossing = subdistricts.groupby("c")["z"].nunique()
    comms = pd.DataFrame({"g": plan.site_grid, "c": plan.site_community})
    across = comms.groupby("g")["c"].nunique()
    band = params.community_band
    statuses = tuple(
        CommunityStatus(
            str(cid), str(name), round(float(h)), int(g), band_status(h, band), bool(lock)
        )
        for cid, name, h, g, lock in zip(
            plan.community_ids,
            plan.community_names,
            plan.community_households,
            plan.grid_count,
            plan.locked,
            strict=True,
        )
    )
    g_lower, g_upper = params.grid_band
    gh = plan.grid_households
    bad_comm = ids[discontiguous_labels(d.graph, plan.site_community)]
    bad_grid = discontiguous_labels(d.graph, plan.site_grid)
    crossing_ids = ids[crossing[crossing > 1].index.to_numpy()]
    across_grid = across[across > 1].index.to_numpy()
    over = ids[plan.grid_count > params.max_grids]
    owner = ids[plan.grid_community]
    unassigned = int((plan.site_community < 0).sum())
    violations = (
        [("", f"{unassigned} building location(s) without a community")] if unassigned else []
    )
    violations += [(c, f"community {c} is not one connected piece") for c in bad_comm]
    violations += [(owner[g], f"grid {gids[g]} is not one connected piece") for g in bad_grid]
    violations += [(c, f"community {c} crosses a 街道 boundary") for c in crossing_ids]
    violations += [(owner[g], f"grid {gids[g]} spans several communities") for g in across_grid]
    violations += [(c, f"community {c} has more than {params.max_grids} grids") for c in over]
    return PlanCheck(
        unassigned_sites=unassigned,
        discontiguous_communities=tuple(str(v) for v in bad_comm),
        discontiguous_grids=tuple(str(v) for v in gids[bad_grid]),
        crossing_subdistricts=tuple(str(v) for v in crossing_ids),
        grids_across_communities=tuple(str(v) for v in gids[across_grid]),
        over_max_grids=tuple(str(v) for v in over),
        communities=statuses,
        band=band,
        grid_band=params.grid_band,
        grid_share_in_band=float(np.mean((gh >= g_lower) & (gh <= g_upper))) if len(gh) else 0.0,
        violations=tuple((str(c), t) for c, t in violations),
    )
