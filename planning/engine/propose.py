"""Propose communities (~2,500 households) and grids (~250) from buildings.

The pipeline, each stage timed:

1. **units** — buildings projected to the dataset's metric CRS; buildings at one spot form one
   site; each site is put in its sub-district (街道).
2. **tessellation** — the study area (the 街道 polygons, else an outline of the households) is
   cut along 街道 lines and barrier lines (roads, rivers, railways) into blocks, and each block
   is shared among its sites (Voronoi, clipped); empty blocks (parks, water) join a neighbour.
3. **graph** — sites sharing a cell border are adjacent; the cost of an edge is its length,
   inflated where a road (more for a major road, river or railway) lies between.
4. **communities** — per 街道 (and per connected part), compounds that fit the band become
   atoms, and :func:`planning.partition.partition_units` draws k = round(households / 2,500)
   balanced, connected, compact communities.
5. **grids** — the same inside each community with the grid band and at most ``max_grids``.
6. **boundaries** — cells dissolved by grid; the land without buildings that a cell absorbed
   (step 2) is handed across a community border where that makes both communities more
   compact (:mod:`planning.land`); then smoothed as a coverage (shared edges stay shared,
   every building stays inside its grid), grids dissolved into communities.

Where a band cannot be met the best possible is made and the reason is recorded per unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.footprints import FootprintMatch
from geo.morphology import necks
from geo.tessellation import dissolve
from planning.engine.blocks import mend_blocks
from planning.engine.boundaries import boundaries
from planning.engine.district import (
    District,
    prepare_district,
)
from planning.engine.necks import mend_necks
from planning.engine.partition import choose_region_count
from planning.engine.pieces import (
    PIECE_COMMUNITIES,
    Piece,
    cut_pieces,
    piece_seed,
    repair_seams,
    seam_zones,
)
from planning.engine.regions import merge_small, region_pp
from planning.engine.shape import NECK_WIDTH_M
from planning.engine.sides import (
    BORDER_KINDS,
    borders_on,
    open_borders,
    part_borders,
    standing_groups,
)
from planning.engine.smooth import straighten_labels
from planning.engine.units import connected, relabel
from planning.parallel import Runner, StageClock, StageProgress, running
from planning.params import ProposeParams
from planning.records import Infeasible, Note

__all__ = [
    "Proposal",
    "assemble",
    "draw_parts",
    "grid_count",
    "number_plan",
    "plan_communities",
    "plan_grids",
    "propose",
]


@dataclass(frozen=True)
class Proposal:
    """A proposed plan: buildings with their community and grid, and the boundaries.

    Geometries are in ``metric_crs``; convert once at export.
    """

    buildings: gpd.GeoDataFrame  # building_id, households, compound, street, community_id, grid_id
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    infeasible: list[Infeasible]
    metric_crs: pyproj.CRS
    study_area: shapely.Geometry
    barriers: gpd.GeoDataFrame | None
    district: District | None = None
    site_community: np.ndarray | None = None
    site_grid: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage


def _reading_order(
    xy: np.ndarray, labels: np.ndarray, weights: np.ndarray, row_height: float
) -> np.ndarray:
    """Rank of each label: north→south in rows of ``row_height`` metres, west→east in a row."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    w = np.maximum(weights, 1e-6)
    mass = np.bincount(inverse, weights=w)
    cx = np.bincount(inverse, weights=xy[:, 0] * w) / mass
    cy = np.bincount(inverse, weights=xy[:, 1] * w) / mass
    row = np.floor((cy.max() - cy) / max(row_height, 1.0))
    order = np.lexsort((cx, row))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[inverse.ravel()]


def plan_communities(
    district: District, params: ProposeParams, *, runner: Runner | None = None
) -> tuple[np.ndarray, list[Infeasible]]:
    """Community label per site (0..m-1, numbered per 街道) and the infeasible units.

    Every part of a 街道 (:func:`_standing_parts`) is partitioned on its own, a part of more
    than :data:`planning.engine.pieces.PIECE_COMMUNITIES` communities in pieces
    (:func:`planning.engine.pieces.cut_pieces`) whose seams are then repaired; the parts and
    pieces are drawn by ``runner`` (default: one after the other in this process)."""
    sites = district.sites
    lower, upper = params.community_band
    community = np.full(len(sites.xy), -1, dtype=np.int64)
    infeasible: list[Infeasible] = []
    parts_of = [
        _subdistrict_parts(district, z, lower, upper)
        for z in range(len(district.subdistrict_label))
    ]
    runner = runner or Runner()
    drawn_of = _in_groups(
        draw_parts([part for parts in parts_of for part in parts], district, params, runner=runner),
        [len(parts) for parts in parts_of],
    )
    parts_of, drawn_of, joins_of = join_unfilled(
        parts_of, drawn_of, district, params, runner=runner
    )
    drawn = iter([labels for labels_of in drawn_of for labels in labels_of])
    joins = iter([joins for part_joins in joins_of for joins in part_joins])
    next_label = 0
    for z, subdistrict_label in enumerate(district.subdistrict_label):
        subdistrict_sites = np.flatnonzero(sites.subdistrict == z)
        if len(subdistrict_sites) == 0:
            infeasible.append(
                Infeasible(
                    "street",
                    0,
                    Note.of("infeasible.subdistrict_empty", subdistrict=subdistrict_label),
                    unit=subdistrict_label,
                )
            )
            continue
        parts = parts_of[z]
        for part in parts:
            labels = next(drawn)
            total = float(sites.households[part].sum())
            community[part] = labels + next_label
            infeasible.extend(
                _crossing_records(
                    next(joins),
                    part,
                    labels,
                    sites.households,
                    offset=next_label,
                    band=(lower, upper),
                )
            )
            count = int(labels.max()) + 1
            next_label += count
            mean = total / count
            if not (lower <= mean <= upper):
                code = "subdistrict_band" if len(parts) == 1 else "subdistrict_part_band"
                infeasible.append(
                    Infeasible(
                        "street",
                        int(total),
                        Note.of(
                            f"infeasible.{code}",
                            subdistrict=subdistrict_label,
                            households=total,
                            lower=lower,
                            upper=upper,
                            count=count,
                            mean=mean,
                        ),
                        unit=subdistrict_label,
                    )
                )
                continue
            sizes = np.bincount(labels, weights=sites.households[part], minlength=count)
            for label in np.flatnonzero((sizes < lower) | (sizes > upper)):
                infeasible.append(
                    Infeasible(
                        "community-band",
                        int(sizes[label]),
                        Note.of(
                            "infeasible.community_band",
                            households=float(sizes[label]),
                            subdistrict=subdistrict_label,
                            lower=lower,
                            upper=upper,
                        ),
                        community_label=int(label + next_label - count),
                    )
                )
        subdistrict_compounds = pd.DataFrame(
            {
                "c": pd.Series(sites.compound[subdistrict_sites], dtype="object"),
                "w": sites.households[subdistrict_sites],
            }
        ).dropna()
        big = subdistrict_compounds.groupby("c")["w"].sum()
        for name, total in big[big > upper].items():
            infeasible.append(
                Infeasible(
                    "compound",
                    int(total),
                    Note.of(
                        "infeasible.compound_too_big",
                        compound=str(name),
                        households=total,
                        upper=upper,
                    ),
                    unit=str(name),
                )
            )
        infeasible.extend(
            _scattered_compounds(
                district, subdistrict_sites, big[big <= upper], community, level="community"
            )
        )
    return community, infeasible


def _in_groups(items: list, sizes: list[int]) -> list[list]:
    """``items`` cut into consecutive lists of ``sizes``."""
    ends = np.cumsum(sizes).tolist()
    return [items[end - size : end] for size, end in zip(sizes, ends, strict=True)]


#: Rounds of joining parts that could not be filled in band with a neighbour (a part joined
#: once may be joined again with another neighbour in the next round).
JOIN_ROUNDS = 8
#: What a community across the barrier of a join counts against a community out of band: a
#: join is kept when the communities out of band it saves outweigh those it puts across
#: (two across for one saved, not three).
CROSSING_WORTH = 0.4
#: A join may leave no community less compact than this (Polsby-Popper of its cells) unless
#: one already was.
POOR_COMMUNITY_PP = 0.25
#: A part of at most this many communities is drawn again whole when it joins a neighbour
#: (its households may fit no whole number of communities); a larger one only around its
#: communities out of band.
JOIN_WHOLE_COMMUNITIES = 10


@dataclass(frozen=True)
class _Join:
    """A part drawn together with a neighbouring part across a major barrier: its own
    communities could not all be drawn in the band.

    ``side`` and ``other`` are the sites of the two (ascending), ``kind`` the barrier
    between them (index into :data:`planning.engine.sides.BORDER_KINDS`), ``out_of_band``
    how many communities of the two were out of band when each was drawn alone."""

    side: np.ndarray
    other: np.ndarray
    kind: int
    out_of_band: int


def _out_of_band(labels: np.ndarray, households: np.ndarray, lower: float, upper: float) -> int:
    sizes = np.bincount(labels, weights=households)
    return int(((sizes < lower) | (sizes > upper)).sum())


@dataclass(frozen=True)
class _JoinTrial:
    """Part ``side`` of 街道 ``z`` drawn again with its neighbour ``other``: the sites of
    ``zone`` redrawn, the rest of both as they were; ``before`` communities of the two out
    of band as they are."""

    z: int
    side: int
    other: int
    kind: int
    before: int
    zone: np.ndarray


def join_unfilled(
    parts_of: list[list[np.ndarray]],
    drawn_of: list[list[np.ndarray]],
    district: District,
    params: ProposeParams,
    *,
    runner: Runner,
) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]], list[list[list[_Join]]]]:
    """Parts of each 街道 (``parts_of``, drawn as ``drawn_of``) where some community is out of
    band, joined with a neighbouring part across the weakest barrier between them
    (:meth:`planning.engine.sides.PartBorders.neighbours`: a road before a river or a
    railway, the longest border first): the communities out of band, those beside them and
    those across the barrier beside these are drawn again together (:func:`_join_zone`),
    kept where that leaves fewer communities out of band. Up to :data:`JOIN_ROUNDS` rounds,
    each trying a part with the next neighbour it has not tried. Returns the parts, their
    labels and, per part, the joins made in it."""
    lower, upper = params.community_band
    households = district.sites.households
    parts_of = [list(parts) for parts in parts_of]
    drawn_of = [list(drawn) for drawn in drawn_of]
    joins_of: list[list[list[_Join]]] = [[[] for _ in parts] for parts in parts_of]
    tried: set[tuple[int, int]] = set()
    for _ in range(JOIN_ROUNDS):
        trials = [
            trial
            for z in range(len(parts_of))
            for trial in _join_trials(
                district, z, parts_of[z], drawn_of[z], tried=tried, band=(lower, upper)
            )
        ]
        if not trials:
            break
        joined = open_borders(
            district,
            [(j.side, j.other) for joins in joins_of for part in joins for j in part]
            + [(parts_of[t.z][t.side], parts_of[t.z][t.other]) for t in trials],
        )
        redrawn = draw_parts([t.zone for t in trials], joined, params, runner=runner)
        gone: dict[int, set[int]] = {}
        for trial, drawn in zip(trials, redrawn, strict=True):
            z, i, j = trial.z, trial.side, trial.other
            union = np.union1d(parts_of[z][i], parts_of[z][j])
            labels = _joined_labels(
                union,
                trial.zone,
                drawn,
                [(parts_of[z][i], drawn_of[z][i]), (parts_of[z][j], drawn_of[z][j])],
            )
            after = _out_of_band(labels, households[union], lower, upper)
            across = len(_across(union, labels, parts_of[z][i], parts_of[z][j]))
            if after + CROSSING_WORTH * across >= trial.before:
                continue
            as_was = _joined_labels(
                union,
                union[:0],
                labels[:0],
                [(parts_of[z][i], drawn_of[z][i]), (parts_of[z][j], drawn_of[z][j])],
            )
            if _drawn_worse(district, union, labels, as_was, upper=upper):
                continue
            joins = joins_of[z][i] + joins_of[z][j]
            joins.append(_Join(parts_of[z][i], parts_of[z][j], trial.kind, trial.before))
            parts_of[z][i], drawn_of[z][i], joins_of[z][i] = union, labels, joins
            gone.setdefault(z, set()).add(j)
        for z, drop in gone.items():
            keep = [i for i in range(len(parts_of[z])) if i not in drop]
            parts_of[z] = [parts_of[z][i] for i in keep]
            drawn_of[z] = [drawn_of[z][i] for i in keep]
            joins_of[z] = [joins_of[z][i] for i in keep]
    return parts_of, drawn_of, joins_of


def _join_trials(
    district: District,
    z: int,
    parts: list[np.ndarray],
    drawn: list[np.ndarray],
    *,
    tried: set[tuple[int, int]],
    band: tuple[float, float],
) -> list[_JoinTrial]:
    """The joins to try in one round among the parts of 街道 ``z``: each part with
    communities out of band (the most first) with the first neighbour, weakest barrier
    first, that its zone borders and that no trial of this round holds; pairs in ``tried``
    are not tried again (``tried`` gains the new ones)."""
    households = district.sites.households
    out = [
        _out_of_band(labels, households[part], *band)
        for part, labels in zip(parts, drawn, strict=True)
    ]
    if not any(out):
        return []
    borders = part_borders(district, parts)
    taken: set[int] = set()
    trials = []
    for i in np.argsort([-o for o in out], kind="stable").tolist():
        if out[i] == 0 or i in taken:
            continue
        for j, kind in borders.neighbours(i):
            key = (int(parts[i][0]), int(parts[j][0]))
            if j in taken or key in tried:
                continue
            tried.add(key)
            zone = _join_zone(district, (parts[i], drawn[i]), (parts[j], drawn[j]), band=band)
            if zone is None:
                continue
            taken.update((i, j))
            trials.append(_JoinTrial(z, i, j, kind, out[i] + out[j], zone))
            break
    return trials


def _drawn_worse(
    district: District, nodes: np.ndarray, labels: np.ndarray, before: np.ndarray, *, upper: float
) -> bool:
    """Whether ``labels`` of ``nodes`` split more street blocks that fit one community than
    ``before`` does, or leave a community less compact than :data:`POOR_COMMUNITY_PP` and
    the least compact before (Polsby-Popper of the cells): a join may put communities
    across a barrier, not make them worse in other ways."""
    graph = district.graph.subgraph(nodes)
    area, perimeter = district.cell_area[nodes], district.cell_perimeter[nodes]

    def least_compact(values: np.ndarray) -> float:
        return float(region_pp(graph, values, area, perimeter, int(values.max()) + 1).min())

    if least_compact(labels) < min(least_compact(before), POOR_COMMUNITY_PP) - 1e-9:
        return True
    if district.site_block is None:
        return False
    block = district.site_block[nodes]
    fits = np.bincount(district.site_block, weights=district.sites.households)[block] <= upper

    def split(values: np.ndarray) -> int:
        pairs = np.unique(np.column_stack([block[fits], values[fits]]), axis=0)
        return int((np.bincount(pairs[:, 0]) > 1).sum()) if len(pairs) else 0

    return split(labels) > split(before)


def _across(union: np.ndarray, labels: np.ndarray, side: np.ndarray, other: np.ndarray):
    """The labels of the communities of ``union`` holding sites of both ``side`` and
    ``other``."""
    return np.intersect1d(labels[np.isin(union, side)], labels[np.isin(union, other)])


def _join_zone(
    district: District,
    side_drawn: tuple[np.ndarray, np.ndarray],
    other_drawn: tuple[np.ndarray, np.ndarray],
    *,
    band: tuple[float, float],
) -> np.ndarray | None:
    """The sites drawn again when a side joins another (``side_drawn``, ``other_drawn``:
    sites and their labels): all of
    ``side`` when it holds at most :data:`JOIN_WHOLE_COMMUNITIES` communities, else its
    communities out of band and those beside them; with the communities of ``other`` that
    border these. None when they do not border the other."""
    lower, upper = band
    (side, side_labels), (other, other_labels) = side_drawn, other_drawn
    sizes = np.bincount(side_labels, weights=district.sites.households[side])
    zone_side = side
    if len(sizes) > JOIN_WHOLE_COMMUNITIES:
        out_nodes = side[np.isin(side_labels, np.flatnonzero((sizes < lower) | (sizes > upper)))]
        near = np.unique(side_labels[borders_on(district, side, out_nodes)])
        zone_side = side[np.isin(side_labels, near)]
    touching = np.unique(other_labels[borders_on(district, other, zone_side)])
    if len(touching) == 0:
        return None
    return np.union1d(zone_side, other[np.isin(other_labels, touching)])


def _joined_labels(
    union: np.ndarray,
    zone: np.ndarray,
    zone_labels: np.ndarray,
    kept: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Labels (0…) of ``union``: the redrawn ``zone`` as drawn, the rest of each (sites,
    labels) of ``kept`` as it was."""
    labels = np.empty(len(union), dtype=np.int64)
    labels[np.searchsorted(union, zone)] = zone_labels
    offset = int(zone_labels.max()) + 1 if len(zone_labels) else 0
    for nodes, old in kept:
        rest = ~np.isin(nodes, zone)
        labels[np.searchsorted(union, nodes[rest])] = old[rest] + offset
        offset += int(old.max()) + 1
    return relabel(labels)


def _crossing_records(
    joins: list[_Join],
    part: np.ndarray,
    labels: np.ndarray,
    households: np.ndarray,
    *,
    offset: int,
    band: tuple[float, float],
) -> list[Infeasible]:
    """One record per community of ``part`` (labelled ``labels``, plan labels from
    ``offset``) holding households on both sides of a join: why it crosses the barrier."""
    lower, upper = band
    out = []
    weights = households[part]
    sizes = np.bincount(labels, weights=weights)
    for join in joins:
        for label in _across(part, labels, join.side, join.other).tolist():
            out.append(
                Infeasible(
                    "barrier-crossing",
                    int(sizes[label]),
                    Note.of(
                        "infeasible.barrier_joined",
                        kind=Note.of(f"barrier_kind.{BORDER_KINDS[join.kind]}"),
                        households=float(households[join.side].sum()),
                        out=join.out_of_band,
                        other=float(households[join.other].sum()),
                        lower=lower,
                        upper=upper,
                    ),
                    community_label=int(label + offset),
                )
            )
    return out


def _subdistrict_parts(district: District, z: int, lower: float, upper: float) -> list[np.ndarray]:
    """The parts of 街道 ``z`` communities are drawn in: its connected parts, each split
    along the major barriers where the sides can stand alone."""
    subdistrict_sites = np.flatnonzero(district.sites.subdistrict == z)
    if len(subdistrict_sites) == 0:
        return []
    return [
        group
        for component in district.components(subdistrict_sites)
        for group in _standing_parts(district, component, lower, upper)
    ]


@dataclass(frozen=True)
class _PieceTask:
    """One piece to partition into ``k`` communities: the district restricted to its sites
    (:meth:`District.restricted`), so a worker process gets only what it draws on."""

    district: District
    k: int
    lower: float
    upper: float
    seed: int


def _draw_piece(task: _PieceTask) -> np.ndarray:
    """Community labels (0…) of a piece's sites: partitioned, fitting blocks made whole,
    borders straightened, necks mended."""
    district, lower, upper = task.district, task.lower, task.upper
    part = np.arange(len(district.sites.xy))
    labels = district.partition_sites(part, k=task.k, lower=lower, upper=upper, seed=task.seed)
    labels = _whole_blocks(district, part, labels, lower, upper)
    labels = _straight_labels(district, part, labels, lower, upper)
    return mend_necks(
        district.graph.subgraph(part),
        district.cells[part],
        district.sites.xy[part],
        district.sites.households[part],
        labels,
        lower=lower,
        upper=upper,
        block=_blocks_of(district, part),
    )


def draw_parts(
    parts: list[np.ndarray],
    district: District,
    params: ProposeParams,
    *,
    runner: Runner | None = None,
) -> list[np.ndarray]:
    """Community labels (0… per part) of each of ``parts`` (connected sites of one 街道):
    every piece of every part drawn by ``runner`` (default: in this process), each part's
    pieces joined and their seams repaired; propose and re-optimise draw communities so. A part of at most
    :data:`PIECE_COMMUNITIES` communities is one piece, drawn with the plan's seed; the pieces
    of a larger part with seeds of their own (:func:`piece_seed`)."""
    lower, upper = params.community_band
    runner = runner or Runner()
    pieces_of: list[list[Piece]] = []
    tasks: list[_PieceTask] = []
    for part in parts:
        k = choose_region_count(
            float(district.sites.households[part].sum()), target=params.community_size
        )
        pieces = cut_pieces(district, part, k=k, upper=upper)
        pieces_of.append(pieces)
        for piece in pieces:
            seed = params.seed if len(pieces) == 1 else piece_seed(params.seed, len(tasks))
            nodes = part if len(pieces) == 1 else piece.nodes
            tasks.append(_PieceTask(district.restricted(nodes), piece.k, lower, upper, seed))
    drawn = iter(runner.map(_draw_piece, tasks, sizes=[len(t.district.cells) for t in tasks]))
    out = []
    for part, pieces in zip(parts, pieces_of, strict=True):
        if len(pieces) == 1:
            out.append(next(drawn))
            continue
        labels = np.empty(len(part), dtype=np.int64)
        piece_of = np.empty(len(part), dtype=np.int64)
        offset = 0
        for index, piece in enumerate(pieces):
            at = np.searchsorted(part, piece.nodes)
            piece_labels = next(drawn)
            labels[at] = piece_labels + offset
            piece_of[at] = index
            offset += int(piece_labels.max()) + 1
        labels = _redraw_seams(district, part, labels, piece_of, params, runner=runner)
        labels = repair_seams(district, part, labels, piece_of, lower=lower, upper=upper)
        out.append(relabel(labels))
    return out


def _redraw_seams(
    district: District,
    part: np.ndarray,
    labels: np.ndarray,
    piece_of: np.ndarray,
    params: ProposeParams,
    *,
    runner: Runner,
) -> np.ndarray:
    """Labels of ``part`` with the communities along each seam between two pieces drawn
    again together (:func:`_draw_piece`), where that leaves no more of them out of band and
    makes them more compact (mean Polsby-Popper of their cells). Zones that share no
    community are drawn at once (by ``runner``), in the order of the seams."""
    lower, upper = params.community_band
    zones = [
        zone
        for zone in seam_zones(district, part, labels, piece_of)
        if len(zone) <= 2 * PIECE_COMMUNITIES
    ]
    labels = labels.copy()
    seeds = {i: piece_seed(params.seed, SEAM_SEEDS + i) for i in range(len(zones))}
    waiting = list(range(len(zones)))
    while waiting:
        taken: set[int] = set()
        round_ = []
        for i in waiting:
            if taken.isdisjoint(zones[i].tolist()):
                taken.update(zones[i].tolist())
                round_.append(i)
        waiting = [i for i in waiting if i not in round_]
        members = [np.flatnonzero(np.isin(labels, zones[i])) for i in round_]
        tasks = [
            _PieceTask(district.restricted(part[m]), len(zones[i]), lower, upper, seeds[i])
            for i, m in zip(round_, members, strict=True)
        ]
        for i, m, drawn in zip(round_, members, runner.map(_draw_piece, tasks), strict=True):
            before = np.searchsorted(zones[i], labels[m])
            if _zone_score(district, part[m], drawn, params) < _zone_score(
                district, part[m], before, params
            ):
                labels[m] = zones[i][drawn]
    return labels


#: Seam redraws are seeded from the plan's seed and this plus their number.
SEAM_SEEDS = 1_000_000


def _zone_score(
    district: District, nodes: np.ndarray, labels: np.ndarray, params: ProposeParams
) -> tuple[int, float]:
    """(communities out of band, less their mean Polsby-Popper on cells) of ``nodes``
    labelled ``labels`` (0…k-1): lower is better."""
    lower, upper = params.community_band
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=district.sites.households[nodes], minlength=k)
    shape = region_pp(
        district.graph.subgraph(nodes),
        labels,
        district.cell_area[nodes],
        district.cell_perimeter[nodes],
        k,
    )
    return int(((sizes < lower) | (sizes > upper)).sum()), -float(shape.mean())


def _standing_parts(
    district: District, nodes: np.ndarray, lower: float, upper: float
) -> list[np.ndarray]:
    """``nodes`` split along the major roads, rivers and railways where each side can be
    communities of its own (:func:`planning.engine.sides.standing_groups`): communities are
    drawn in each part, so a major barrier runs through one only where it must."""
    group = standing_groups(district, nodes, lower=lower, upper=upper)
    return [nodes[group == g] for g in range(int(group.max()) + 1)]


def _scattered_compounds(
    district: District, nodes: np.ndarray, totals: pd.Series, labels: np.ndarray, *, level: str
) -> list[Infeasible]:
    """Compounds that fit but ended in several units because their buildings do not touch."""
    sites = district.sites
    out = []
    frame = pd.DataFrame(
        {"c": pd.Series(sites.compound[nodes], dtype="object"), "l": labels[nodes]}
    ).dropna()
    parts = frame.groupby("c")["l"].nunique()
    for name in parts[(parts > 1) & parts.index.isin(totals.index)].index:
        members = nodes[sites.compound[nodes] == name]
        if connected(district.graph, members):
            continue  # contiguous: the split is the engine's choice, reported by the metrics
        out.append(
            Infeasible(
                "compound-scattered",
                int(totals[name]),
                Note.of(
                    f"infeasible.compound_scattered_{level}",
                    compound=str(name),
                    parts=int(parts[name]),
                ),
                unit=str(name),
            )
        )
    return out


def plan_grids(
    district: District,
    community: np.ndarray,
    params: ProposeParams,
    *,
    only: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    runner: Runner | None = None,
) -> tuple[np.ndarray, list[Infeasible]]:
    """Grid label per site (unique across communities) and the infeasible units.

    ``only`` limits the work to these community labels; the other sites keep their label in
    ``previous``. The communities' grids are drawn by ``runner`` (default: one after the
    other in this process), in batches of :data:`GRID_BATCH` communities.
    """
    sites = district.sites
    g_upper = params.grid_band[1]
    grid = np.full(len(sites.xy), -1, dtype=np.int64) if previous is None else previous.copy()
    infeasible: list[Infeasible] = []
    targets = np.unique(community[community >= 0]) if only is None else np.asarray(only)
    next_grid = int(grid.max()) + 1 if previous is not None else 0
    members = _members(community, targets)
    drawn = _draw_grids(district, members, params, runner=runner or Runner())
    for c, nodes, labels in zip(targets, members, drawn, strict=True):
        total = float(sites.households[nodes].sum())
        grid[nodes] = labels + next_grid
        made = int(labels.max()) + 1
        next_grid += made
        if total / params.max_grids > g_upper and made == params.max_grids:
            infeasible.append(
                Infeasible(
                    "community",
                    int(total),
                    Note.of(
                        "infeasible.too_many_grids",
                        households=total,
                        max_grids=params.max_grids,
                        upper=g_upper,
                        made=made,
                        mean=total / made,
                    ),
                    community_label=int(c),
                )
            )
        else:
            infeasible.extend(_grid_packing(sites.households[nodes], labels, int(c), params))
    for s in np.flatnonzero(sites.households > g_upper):
        if only is not None and community[s] not in set(targets.tolist()):
            continue
        ids = district.buildings["building_id"].astype(str).to_numpy()[sites.of_building == s]
        infeasible.append(
            Infeasible(
                "building",
                int(sites.households[s]),
                Note.of(
                    "infeasible.building_too_big",
                    building=ids[0],
                    households=float(sites.households[s]),
                    upper=g_upper,
                ),
                unit=",".join(ids[:3]),
            )
        )
    return _relabel_grids(grid), infeasible


def _members(community: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
    """The sites (ascending) of each of the community labels ``targets``."""
    order = np.argsort(community, kind="stable")
    starts = np.searchsorted(community[order], targets, side="left")
    ends = np.searchsorted(community[order], targets, side="right")
    return [order[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


#: Communities whose grids one task draws (a worker gets their sites alone).
GRID_BATCH = 16


@dataclass(frozen=True)
class _GridTask:
    """Communities whose grids to draw: the district restricted to their sites, and the
    sites of each community (indices into it)."""

    district: District
    members: list[np.ndarray]
    params: ProposeParams


def _draw_grid_batch(task: _GridTask) -> list[np.ndarray]:
    return [_grid_labels(task.district, nodes, task.params) for nodes in task.members]


def _draw_grids(
    district: District, members: list[np.ndarray], params: ProposeParams, *, runner: Runner
) -> list[np.ndarray]:
    """Grid labels (0… per community) of the communities whose sites are ``members``."""
    tasks = []
    for start in range(0, len(members), GRID_BATCH):
        batch = members[start : start + GRID_BATCH]
        nodes = np.sort(np.concatenate(batch))
        tasks.append(
            _GridTask(
                district.restricted(nodes), [np.searchsorted(nodes, m) for m in batch], params
            )
        )
    done = runner.map(_draw_grid_batch, tasks, sizes=[len(t.district.cells) for t in tasks])
    return [labels for batch in done for labels in batch]


def _grid_labels(district: District, nodes: np.ndarray, params: ProposeParams) -> np.ndarray:
    """Grids of one community's sites: partitioned without corner contacts, tiny grids
    merged, necks mended. Where that leaves grids out of band, the partition is tried again
    with corner contacts allowed (a tight packing: Haidian's communities of ~2,900 in 10
    grids of at most 300); where it leaves a neck, with other seeds. The result with the
    fewest grids out of band wins, then the fewest necks."""
    lower, upper = params.grid_band
    weights = district.sites.households[nodes]
    k = grid_count(weights, params)
    cells, xy = district.cells[nodes], district.sites.xy[nodes]

    def attempt(graph, seed: int) -> tuple[tuple[int, int], np.ndarray]:
        # a community of few buildings is cheap to redraw pair by pair for shape as well
        labels = district.partition_sites(
            nodes,
            k=k,
            lower=lower,
            upper=upper,
            seed=seed,
            barrier_weight=0.3,
            restarts=1,
            recombine_shapes=len(nodes) <= SHAPED_GRID_SITES,
            graph=graph,
            releases=GRID_RELEASES,
        )
        labels = merge_small(graph, labels, weights, lower=lower, upper=upper)
        labels = _whole_blocks(district, nodes, labels, lower, upper, graph=graph)
        labels = _straight_labels(district, nodes, labels, lower, upper, graph=graph)
        labels = mend_necks(
            graph,
            cells,
            xy,
            weights,
            labels,
            lower=lower,
            upper=upper,
            block=_blocks_of(district, nodes),
        )
        sizes = np.bincount(labels, weights=weights)
        big = np.bincount(labels, weights=weights > upper) > 0
        out = int((((sizes < lower) | (sizes > upper)) & ~big).sum())
        _, polys = dissolve(cells, labels)
        return (out, int(necks(polys, xy, labels, width_m=NECK_WIDTH_M).sum())), labels

    sturdy = district.sturdy_subgraph(nodes)
    score, labels = attempt(sturdy, params.seed)
    if score[0] and not (weights > upper).any():  # a tower's grid is out whatever we do
        again = attempt(district.graph.subgraph(nodes), params.seed)
        if again[0] < score:
            score, labels = again
    for extra in range(1, NECK_RETRIES + 1):
        if not score[1]:
            break
        again = attempt(sturdy, params.seed + 7919 * extra)
        if again[0] < score:
            score, labels = again
    return labels


#: Grids of a community left with a neck are drawn again with up to this many other seeds.
NECK_RETRIES = 2
#: A community of at most this many building sites has its grids redrawn for shape too.
SHAPED_GRID_SITES = 120
#: Attempts at grids with blocks released when grids stay out of band: the blocks of the
#: grids out of band only (a block that fits a grid is small; the rest is rarely worth it).
GRID_RELEASES = 1


def _whole_blocks(
    district: District,
    nodes: np.ndarray,
    labels: np.ndarray,
    lower: float,
    upper: float,
    *,
    graph=None,
) -> np.ndarray:
    """Fitting blocks the partition split made whole where the band allows
    (:func:`planning.engine.blocks.mend_blocks`)."""
    block = _blocks_of(district, nodes)
    if block is None:
        return labels
    return mend_blocks(
        district.graph.subgraph(nodes) if graph is None else graph,
        district.sites.households[nodes],
        labels,
        block,
        lower=lower,
        upper=upper,
    )


def _straight_labels(
    district: District,
    nodes: np.ndarray,
    labels: np.ndarray,
    lower: float,
    upper: float,
    *,
    graph=None,
) -> np.ndarray:
    """Borders inside blocks cut straight at the level of buildings (engine/smooth)."""
    block = _blocks_of(district, nodes)
    if block is None:
        block = np.zeros(len(nodes), dtype=np.int64)
    return straighten_labels(
        district.graph.subgraph(nodes) if graph is None else graph,
        district.sites.xy[nodes],
        district.sites.households[nodes],
        labels,
        block,
        lower=lower,
        upper=upper,
    )


def _blocks_of(district: District, nodes: np.ndarray) -> np.ndarray | None:
    """The street block of each of ``nodes``, numbered 0… among them (None without blocks)."""
    if district.site_block is None:
        return None
    return np.unique(district.site_block[nodes], return_inverse=True)[1].ravel()


def grid_count(households: np.ndarray, params: ProposeParams) -> int:
    """How many grids for a community whose sites hold ``households``: one for each
    building bigger than a grid (it is never split), and the nearest whole number of grids
    for the rest, at most ``params.max_grids`` in all and at least one."""
    big = households > params.grid_band[1]
    rest = float(households[~big].sum())
    k = int(big.sum()) + (round(rest / params.grid_households) if rest > 0 else 0)
    return max(1, min(k, params.max_grids))


def _grid_packing(
    households: np.ndarray, labels: np.ndarray, community: int, params: ProposeParams
) -> list[Infeasible]:
    """Why a community's grids are not all in band, when no oversized building explains it:
    the partition found no packing (buildings whole, grids contiguous); say so, with the
    numbers a planner needs to judge it."""
    lower, upper = params.grid_band
    made = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=households, minlength=made)
    oversized_building = np.bincount(labels, weights=households > upper, minlength=made) > 0
    out = ((sizes < lower) | (sizes > upper)) & ~oversized_building
    if not out.any():
        return []
    total = float(households.sum())
    if made == 1:
        side = "below" if total < lower else "above"
        return [
            Infeasible(
                "grid-band",
                int(total),
                Note.of(f"infeasible.one_grid_{side}", households=total, lower=lower, upper=upper),
                community_label=community,
            )
        ]
    return [
        Infeasible(
            "grid-band",
            int(total),
            Note.of(
                "infeasible.grids_out_of_band",
                households=total,
                made=made,
                mean=total / made,
                lower=lower,
                upper=upper,
                out=int(out.sum()),
                sizes=tuple(float(h) for h in np.sort(sizes[out])),
                largest=tuple(float(h) for h in np.sort(households)[::-1][:3]),
            ),
            community_label=community,
        )
    ]


def _relabel_grids(grid: np.ndarray) -> np.ndarray:
    out = grid.copy()
    valid = grid >= 0
    out[valid] = relabel(grid[valid])
    return out


def number_plan(
    district: District, community: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(community ids, community names, grid ids) per label, in reading order per 街道.

    Communities are numbered C001… per 街道 north→south, west→east; grids are the community
    id plus a 3-digit sequence in the same order inside their community.
    """
    sites = district.sites
    n_comm = int(community.max()) + 1
    n_grid = int(grid.max()) + 1
    area = max(float(shapely.area(district.study_area)), 1.0)
    comm_subdistrict = np.full(n_comm, -1, dtype=np.int64)
    comm_subdistrict[community] = sites.subdistrict
    keys: list[tuple[int, int, int]] = []  # (街道, reading rank, community label)
    for z in np.unique(comm_subdistrict):
        mask = np.isin(community, np.flatnonzero(comm_subdistrict == z))
        ranks = _reading_order(
            sites.xy[mask], community[mask], sites.households[mask], np.sqrt(area / n_comm)
        )
        rank_of = dict(zip(community[mask].tolist(), ranks.tolist(), strict=True))
        keys.extend((int(z), rank, label) for label, rank in rank_of.items())
    keys.sort()
    community_id = np.empty(n_comm, dtype=object)
    community_name = np.empty(n_comm, dtype=object)
    for seq, (z, rank, label) in enumerate(keys, start=1):
        community_id[label] = f"C{seq:03d}"
        community_name[label] = f"{district.subdistrict_names[z]}第{rank + 1}社区"
    grid_id = np.empty(n_grid, dtype=object)
    for c in range(n_comm):
        mask = community == c
        if not mask.any():
            continue
        ranks = _reading_order(
            sites.xy[mask], grid[mask], sites.households[mask], np.sqrt(area / max(n_grid, 1))
        )
        for label, rank in zip(grid[mask].tolist(), ranks.tolist(), strict=True):
            grid_id[label] = f"{community_id[c]}-{rank + 1:03d}"
    return community_id, community_name, grid_id


def assemble(
    district: District,
    community: np.ndarray,
    grid: np.ndarray,
    *,
    community_id: np.ndarray,
    community_name: np.ndarray,
    grid_id: np.ndarray,
    smooth_m: float,
    runner: Runner | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(buildings, communities, grids) frames of a labelled plan (the 街道 drawn by
    ``runner``: :func:`planning.engine.boundaries.boundaries`)."""
    sites = district.sites
    grid_polys, community_polys, grid_community = boundaries(
        district, community, grid, smooth_m=smooth_m, runner=runner
    )
    n_comm, n_grid = len(community_polys), len(grid_polys)
    building_site = sites.of_building
    subdistrict_names = np.array(district.subdistrict_names, dtype=object)
    out_buildings = district.buildings.copy()
    out_buildings["street"] = (
        subdistrict_names[sites.subdistrict[building_site]] if district.has_subdistricts else None
    )
    out_buildings["community_id"] = community_id[community[building_site]]
    out_buildings["grid_id"] = grid_id[grid[building_site]]
    comm_subdistrict = np.full(n_comm, -1, dtype=np.int64)
    comm_subdistrict[community] = sites.subdistrict
    grid_count = np.bincount(grid_community, minlength=n_comm)
    communities = gpd.GeoDataFrame(
        {
            "community_id": community_id,
            "name": community_name,
            "street": subdistrict_names[comm_subdistrict] if district.has_subdistricts else None,
            "households": np.bincount(community, weights=sites.households, minlength=n_comm).astype(
                "int64"
            ),
            "buildings": np.bincount(community[building_site], minlength=n_comm).astype("int64"),
            "grid_count": grid_count.astype("int64"),
        },
        geometry=list(community_polys),
        crs=district.metric_crs,
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_id": grid_id,
            "community_id": community_id[grid_community],
            "households": np.bincount(grid, weights=sites.households, minlength=n_grid).astype(
                "int64"
            ),
            "buildings": np.bincount(grid[building_site], minlength=n_grid).astype("int64"),
        },
        geometry=list(grid_polys),
        crs=district.metric_crs,
    )
    communities = communities.sort_values("community_id").reset_index(drop=True)
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    return out_buildings, communities, grids


def propose(
    buildings: gpd.GeoDataFrame,
    *,
    metric_crs: pyproj.CRS,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    footprints: FootprintMatch | None = None,
    params: ProposeParams | None = None,
    progress: Callable[[str, float], None] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> Proposal:
    """Propose communities and grids for buildings.

    Parameters
    ----------
    buildings
        One row per building (WGS84): ``building_id``, ``households``, ``compound``.
    metric_crs
        The dataset's metric CRS (``Households.metric_crs``).
    streets
        Sub-district polygons (``name``) in WGS84; communities nest inside them.
    barriers
        Barrier lines (``kind``, ``road_class``) in WGS84.
    footprints
        Building footprints matched to ``buildings`` (:func:`geo.footprints.match_footprints`):
        no border crosses one.
    params
        Sizes, tolerances, seed.
    progress
        Called with (stage, fraction done) for progress bars.
    workers
        Worker processes drawing the parts and pieces of the study area and the grids of
        the communities (1: all in this process). The plan is the same whatever the number.
    scheduler
        Address of a Dask distributed scheduler to send that work to instead.
    """
    params = params or ProposeParams()
    report = StageProgress(progress)
    report.stage("tessellation", 0.05)
    district = prepare_district(
        buildings,
        metric_crs=metric_crs,
        subdistricts=subdistricts,
        barriers=barriers,
        footprints=footprints,
    )
    clock = StageClock(dict(district.timings), dict(district.cpu_s))
    report.stage("communities", 0.4, 0.7)
    with running(workers=workers, scheduler=scheduler, on_task=report.task_done) as runner:
        with clock.stage("communities"):
            community, infeasible = plan_communities(district, params, runner=runner)
        report.stage("grids", 0.7, 0.9)
        with clock.stage("grids"):
            grid, grid_infeasible = plan_grids(district, community, params, runner=runner)
        report.stage("boundaries", 0.9, 1.0)
        with clock.stage("boundaries"):
            community_id, community_name, grid_id = number_plan(district, community, grid)
            out_buildings, communities, grids = assemble(
                district,
                community,
                grid,
                community_id=community_id,
                community_name=community_name,
                grid_id=grid_id,
                smooth_m=params.smooth_m,
                runner=runner,
            )
    report.stage("done", 1.0)
    return Proposal(
        buildings=out_buildings,
        communities=communities,
        grids=grids,
        infeasible=[item.named(community_id) for item in infeasible + grid_infeasible],
        metric_crs=metric_crs,
        study_area=district.study_area,
        barriers=district.major_barriers,
        district=district,
        site_community=community,
        site_grid=grid,
        timings=clock.wall_s,
        cpu_s=clock.cpu_s,
    )
