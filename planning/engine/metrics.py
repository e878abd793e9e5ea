"""Quality metrics of a plan: sizes, bands, shapes, topology and the planning rules.

Everything is measured, nothing assumed: a plan built to have no gaps is still checked for
gaps. Areas are m² in the plan's metric CRS.
"""

from __future__ import annotations

from typing import Required, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning.params import ProposeParams
from planning.records import Infeasible, Note, note_to_data

__all__ = [
    "CommunityMetrics",
    "GridMetrics",
    "PlanMetrics",
    "SizeMetrics",
    "barrier_side_labels",
    "plan_metrics",
    "polsby_popper",
    "size_metrics",
    "unforced_barrier_crossings",
]

#: A barrier runs "through a community's interior" when more than this length of it lies
#: farther than INTERIOR_MARGIN_M inside the community's boundary.
CROSSING_MIN_M = 50.0
INTERIOR_MARGIN_M = 5.0
#: Areas below this (m²) are numerical noise, not gaps or overlaps.
AREA_EPS_M2 = 1.0
#: Coordinates are snapped to 1 cm and exported with 7 decimals (~1 cm): borders may shift
#: by this much without anything crossing.
PRECISION_MARGIN_M = 0.5
#: Coordinates re-projected through WGS84 agree with the plan's own to well under this (m).
ROUND_TRIP_M = 0.001


def polsby_popper(geometries: np.ndarray) -> np.ndarray:
    """4πA / P² per polygon (1 for a circle)."""
    area = shapely.area(geometries)
    perimeter = shapely.length(geometries)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)


class SizeMetrics(TypedDict, total=False):
    """Sizes of a level's units (households); only ``count`` when there are none."""

    count: Required[int]
    households_min: int
    households_median: float
    households_max: int
    share_in_band: float
    share_within_20pct: float
    band: list[float]


class CommunityMetrics(SizeMetrics):
    """The communities' block of :class:`PlanMetrics` (areas m², shares 0–1)."""

    grids_per_community_max: int
    communities_over_max_grids: int
    multipart: int
    overlap_area_m2: float
    gap_area_m2: float
    outside_study_area_m2: float
    buildings_split: int
    buildings_outside_own_polygon: int
    compounds_fit_but_split: list[str]
    barrier_crossings: list[dict]
    barrier_crossings_count: int
    crossing_streets: list[str]
    polsby_popper_mean: float | None
    polsby_popper_min: float | None
    compounds_fit_but_split_count: int


class GridMetrics(SizeMetrics):
    """The grids' block of :class:`PlanMetrics` (areas m², shares 0–1)."""

    multipart: int
    overlap_area_m2: float
    gap_area_m2: float
    outside_community_m2: float
    buildings_outside_own_polygon: int
    compounds_fit_but_split: list[str]
    polsby_popper_mean: float | None
    polsby_popper_min: float | None
    compounds_fit_but_split_count: int


def size_metrics(
    households: np.ndarray, *, lower: float, upper: float, target: float
) -> SizeMetrics:
    """Counts, min/median/max, share in band and within ±20% of the target."""
    h = np.asarray(households, dtype=float)
    if len(h) == 0:
        return {"count": 0}
    return {
        "count": len(h),
        "households_min": int(h.min()),
        "households_median": float(np.median(h)),
        "households_max": int(h.max()),
        "share_in_band": float(np.mean((h >= lower) & (h <= upper))),
        "share_within_20pct": float(np.mean(np.abs(h / target - 1) <= 0.2 + 1e-12)),
        "band": [lower, upper],
    }


def _overlap_area(geoms: np.ndarray) -> float:
    """The area the polygons share, pair by pair. Only pairs whose insides meet are
    intersected: neighbours that merely touch share a border of no area (0.0 exactly), and
    building their common border cost more than all the rest (3,864 grids: 0.42 → 0.19 s)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    if not keep.any():
        return 0.0
    left, right = left[keep], right[keep]
    shared = np.zeros(len(left))
    inside = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    shared[inside] = shapely.area(shapely.intersection(geoms[left[inside]], geoms[right[inside]]))
    return float(shared.sum())


def _multipart(geoms: np.ndarray) -> int:
    return int((shapely.get_num_geometries(geoms) > 1).sum())


def _split_compounds(
    compound: pd.Series, label: pd.Series, households: pd.Series, upper: float
) -> list[str]:
    frame = pd.DataFrame({"c": compound, "l": label, "h": households}).dropna(subset=["c"])
    if frame.empty:
        return []
    grouped = frame.groupby("c")
    fits = grouped["h"].sum() <= upper
    parts = grouped["l"].nunique()
    return sorted(str(c) for c in parts[(parts > 1) & fits].index)


def _barrier_crossings(communities: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame | None) -> list:
    if barriers is None or len(barriers) == 0 or len(communities) == 0:
        return []
    inner = shapely.buffer(np.array(communities.geometry.array), -INTERIOR_MARGIN_M)
    lines = np.array(barriers.geometry.array)
    tree = shapely.STRtree(lines)
    c_idx, b_idx = tree.query(inner, predicate="intersects")
    if len(c_idx) == 0:
        return []
    lengths = shapely.length(shapely.intersection(inner[c_idx], lines[b_idx]))
    hit = lengths > CROSSING_MIN_M
    names = barriers.get("name", pd.Series([None] * len(barriers))).to_numpy(dtype=object)
    kinds = barriers.get("kind", pd.Series(["barrier"] * len(barriers))).to_numpy(dtype=object)
    ids = communities["community_id"].to_numpy(dtype=object)
    out = [
        {
            "community_id": str(ids[c]),
            "barrier": str(names[b] or kinds[b]),
            "kind": str(kinds[b]),
            "length_m": round(float(length), 1),
        }
        for c, b, length in zip(c_idx[hit], b_idx[hit], lengths[hit], strict=True)
    ]
    return out


def barrier_side_labels(district, *, upper: float) -> np.ndarray:
    """The side of each site (:func:`planning.engine.sides.barrier_sides`, per 街道, numbered
    across the district); it depends on the district only, not on a plan."""
    from planning.engine.sides import barrier_sides

    sites = district.sites
    side = np.full(len(sites.xy), -1, dtype=np.int64)
    offset = 0
    for z in np.unique(sites.subdistrict):
        nodes = np.flatnonzero(sites.subdistrict == z)
        side[nodes] = barrier_sides(district, nodes, upper=upper) + offset
        offset = int(side.max()) + 1
    return side


def unforced_barrier_crossings(
    district,
    site_community: np.ndarray,
    community_ids,
    *,
    lower: float,
    upper: float,
    side: np.ndarray | None = None,
) -> list[dict]:
    """Communities that a major barrier runs through although no rule asked for it.

    Each 街道's sites are split into *sides* along the major-barrier edges of the site graph
    (the sites of a compound count as one side with everything they touch: a compound kept
    whole may stand on both sides of a road). A side can stand alone when its households can
    form communities within ``lower``–``upper`` by themselves. A community holding households
    on two or more sides crosses a barrier; the crossing is forced when one of those sides
    cannot stand alone (too small, or a size no whole number of communities fits, such as
    3,600), and unforced when every one of them could have been communities of its own.
    ``side`` is :func:`barrier_side_labels` of the district with ``upper`` (made here when
    not given; several plans of one district can share it).
    """
    from planning.engine.sides import can_stand_alone

    sites = district.sites
    if side is None:
        side = barrier_side_labels(district, upper=upper)
    side_households = np.bincount(side, weights=sites.households)
    alone = can_stand_alone(side_households, lower, upper)
    held = pd.DataFrame({"c": site_community, "side": side, "h": sites.households})
    held = held.groupby(["c", "side"])["h"].sum().reset_index()
    held = held[held["h"] > 0]
    out = []
    for c, group in held.groupby("c"):
        if len(group) > 1 and alone[group["side"].to_numpy()].all():
            out.append(
                {
                    "community_id": str(community_ids[c]),
                    "sides_households": group["h"].astype(int).tolist(),
                    "sides_total_households": side_households[group["side"].to_numpy()]
                    .astype(int)
                    .tolist(),
                }
            )
    return out


class PlanMetrics(TypedDict):
    """The ``metrics`` of ``summary.json``: one block for communities, one for grids, and
    every unit the engine could not bring within the rules."""

    communities: CommunityMetrics
    grids: GridMetrics
    infeasible: list[dict]


def plan_metrics(
    *,
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    study_area: shapely.Geometry,
    params: ProposeParams,
    subdistricts: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    infeasible: list[Infeasible] | None = None,
) -> PlanMetrics:
    """Every metric the summary reports, for communities and grids.

    All frames must share one metric CRS; ``buildings`` carries ``community_id``,
    ``grid_id``, ``households`` and ``compound``. The bands, targets and the most grids a
    community may hold come from ``params``.
    """
    c_geoms = np.array(communities.geometry.array, dtype=object)
    g_geoms = np.array(grids.geometry.array, dtype=object)
    b = buildings.to_crs(communities.crs)
    return {
        "communities": _community_metrics(
            communities,
            c_geoms,
            b,
            study_area=study_area,
            params=params,
            subdistricts=subdistricts,
            barriers=barriers,
        ),
        "grids": _grid_metrics(grids, g_geoms, communities, c_geoms, b, params=params),
        "infeasible": [item.as_dict() for item in infeasible or []],
    }


def _outside_own_polygon(
    frame: gpd.GeoDataFrame, key: str, geoms: np.ndarray, buildings: gpd.GeoDataFrame
) -> int:
    """How many buildings lie outside the polygon of their own ``key`` (community or grid)."""
    pts = np.array(buildings.geometry.array, dtype=object)
    lookup = dict(zip(frame[key], geoms, strict=True))
    own = np.array([lookup.get(v) for v in buildings[key]], dtype=object)
    # within a millimetre: a building on its polygon's edge can land 1e-10 m outside after the
    # round trip of its coordinates through WGS84
    return int((~shapely.dwithin(own, pts, ROUND_TRIP_M)).sum())


def _crossing_subdistricts(
    communities: gpd.GeoDataFrame, geoms: np.ndarray, subdistricts: gpd.GeoDataFrame | None
) -> list[str]:
    """The communities lying in more than one 街道."""
    if subdistricts is None or not len(subdistricts):
        return []
    s = subdistricts.to_crs(communities.crs)
    # shrink each 街道 by a precision margin: a community that only grazes a neighbour by
    # centimetres of coordinate rounding along its border does not cross it
    s_geoms = shapely.buffer(np.array(s.geometry.array, dtype=object), -PRECISION_MARGIN_M)
    tree = shapely.STRtree(s_geoms)
    ci, si = tree.query(geoms, predicate="intersects")
    shared = shapely.area(shapely.intersection(geoms[ci], s_geoms[si]))
    per = pd.DataFrame({"c": ci, "a": shared})
    per = per[per["a"] > AREA_EPS_M2]
    many = per.groupby("c").size()
    return [str(communities["community_id"].iloc[c]) for c in many[many > 1].index]


def _community_metrics(
    communities: gpd.GeoDataFrame,
    geoms: np.ndarray,
    b: gpd.GeoDataFrame,
    *,
    study_area: shapely.Geometry,
    params: ProposeParams,
    subdistricts: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame | None,
) -> CommunityMetrics:
    """The communities' block: sizes, topology (multipart, overlaps, gaps, the study area),
    buildings kept whole and in place, barriers and 街道 crossed, compactness."""
    union = shapely.union_all(geoms)
    gap = float(shapely.area(shapely.difference(study_area, union)))
    outside = float(shapely.area(shapely.difference(union, study_area)))
    pp_c = polsby_popper(geoms)
    # a building is split when its rows went to different units: buildings are the rows here,
    # so check the building id maps to one community and one grid
    split = b.groupby("building_id").agg(c=("community_id", "nunique"), g=("grid_id", "nunique"))
    buildings_split = int(((split["c"] > 1) | (split["g"] > 1)).sum())
    lower, upper = params.community_band
    crossings = _barrier_crossings(communities, barriers)
    compounds_split = _split_compounds(b["compound"], b["community_id"], b["households"], upper)
    return {
        **size_metrics(
            communities["households"], lower=lower, upper=upper, target=params.community_size
        ),
        "grids_per_community_max": int(communities["grid_count"].max()) if len(communities) else 0,
        "communities_over_max_grids": int((communities["grid_count"] > params.max_grids).sum()),
        "multipart": _multipart(geoms),
        "overlap_area_m2": round(_overlap_area(geoms), 2),
        "gap_area_m2": round(gap, 2),
        "outside_study_area_m2": round(outside, 2),
        "buildings_split": buildings_split,
        "buildings_outside_own_polygon": _outside_own_polygon(
            communities, "community_id", geoms, b
        ),
        "compounds_fit_but_split": compounds_split,
        "barrier_crossings": crossings,
        "barrier_crossings_count": len(crossings),
        "crossing_streets": _crossing_subdistricts(communities, geoms, subdistricts),
        "polsby_popper_mean": round(float(pp_c.mean()), 4) if len(pp_c) else None,
        "polsby_popper_min": round(float(pp_c.min()), 4) if len(pp_c) else None,
        "compounds_fit_but_split_count": len(compounds_split),
    }


def _grid_metrics(
    grids: gpd.GeoDataFrame,
    geoms: np.ndarray,
    communities: gpd.GeoDataFrame,
    community_geoms: np.ndarray,
    b: gpd.GeoDataFrame,
    *,
    params: ProposeParams,
) -> GridMetrics:
    """The grids' block: sizes, topology (multipart, overlaps, tiling their community),
    buildings in place, compounds kept whole, compactness."""
    # grids inside their community and tiling it
    community_of_grid = grids["community_id"].to_numpy(dtype=object)
    grid_outside = 0.0
    grid_gap = 0.0
    for cid, cgeom in dict(zip(communities["community_id"], community_geoms, strict=True)).items():
        union = shapely.union_all(geoms[community_of_grid == cid])
        grid_outside += float(
            shapely.area(shapely.difference(union, shapely.buffer(cgeom, PRECISION_MARGIN_M)))
        )
        grid_gap += float(
            shapely.area(shapely.difference(shapely.buffer(cgeom, -PRECISION_MARGIN_M), union))
        )
    pp_g = polsby_popper(geoms)
    lower, upper = params.grid_band
    compounds_split = _split_compounds(b["compound"], b["grid_id"], b["households"], upper)
    return {
        **size_metrics(
            grids["households"], lower=lower, upper=upper, target=params.grid_households
        ),
        "multipart": _multipart(geoms),
        "overlap_area_m2": round(_overlap_area(geoms), 2),
        "gap_area_m2": round(grid_gap, 2),
        "outside_community_m2": round(grid_outside, 2),
        "buildings_outside_own_polygon": _outside_own_polygon(grids, "grid_id", geoms, b),
        "compounds_fit_but_split": compounds_split,
        "polsby_popper_mean": round(float(pp_g.mean()), 4) if len(pp_g) else None,
        "polsby_popper_min": round(float(pp_g.min()), 4) if len(pp_g) else None,
        "compounds_fit_but_split_count": len(compounds_split),
    }


def _split_blocks(
    district, label: np.ndarray, scope: np.ndarray | None, *, upper: float, level: str
) -> tuple[int, list[dict]]:
    """(how many street blocks fit ``upper`` households, every split block with the reason;
    for grids only the blocks that fit one).

    A block counts at this level when its sites all lie in one ``scope`` (a grid split is
    judged inside one community: a block across two communities was split a level up).
    The reasons, in order: the block is bigger than one region; its buildings stand in
    parts that do not touch inside it; a compound standing in it and beyond is kept whole;
    else it fits but was released to meet the band (the engine splits a block that fits
    only then: :meth:`planning.engine.district.District.partition_blocks`). Each is a
    ``blocks.*`` note: ``reason`` holds its English text (as always), ``reason_record`` its
    code and values (:func:`planning.records.note_to_data`) to be shown in any language."""
    sites = district.sites
    block = district.site_block
    hh = sites.households
    frame = pd.DataFrame(
        {
            "b": block,
            "l": label,
            "s": np.zeros(len(block), np.int64) if scope is None else scope,
            "h": hh,
        }
    )
    frame = frame[frame["h"] > 0]
    per = frame.groupby("b").agg(h=("h", "sum"), n=("l", "nunique"), scopes=("s", "nunique"))
    per = per[per["scopes"] == 1]
    fitting = int((per["h"] <= upper).sum())
    split = per[per["n"] > 1]
    unit = "community" if level == "communities" else "grid"
    compound = pd.Series(sites.compound, dtype="object")
    compound_total = (
        compound.groupby(compound).apply(lambda c: float(hh[c.index].sum()))
        if compound.notna().any()
        else pd.Series(dtype=float)
    )
    at = (
        shapely.get_coordinates(
            shapely.point_on_surface(district.block_geoms[split.index.to_numpy()])
        )
        if len(split)
        else np.zeros((0, 2))
    )
    out = []
    for (b, row), (x, y) in zip(split.iterrows(), at, strict=True):
        if level == "grids" and row["h"] > upper:
            continue  # a block bigger than a grid holds several: not worth a line each
        members = np.flatnonzero(block == b)
        if row["h"] > upper:
            reason = Note.of(
                f"blocks.too_big.{level}", households=float(row["h"]), upper=float(upper)
            )
        elif district.graph.subgraph(members).components()[0] > 1:
            reason = Note.of("blocks.parts_apart")
        else:
            names = [
                c
                for c in pd.unique(compound[members].dropna())
                if compound_total[c] > hh[members[compound[members] == c]].sum() + 1e-9
            ]
            if names:
                reason = Note.of(f"blocks.compound_beyond.{level}", compound=str(names[0]))
            else:
                reason = Note.of(f"blocks.released.{level}")
        out.append(
            {
                "block": f"B{int(b):04d}",
                "households": int(row["h"]),
                "fits": bool(row["h"] <= upper),
                f"{unit}_count": int(row["n"]),
                "reason": reason.text("en"),
                "reason_record": note_to_data(reason),
                "at_xy_m": [round(float(x), 1), round(float(y), 1)],
            }
        )
    return fitting, out


def shape_metrics(
    district,
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame | None,
    *,
    community_upper: float,
    grid_upper: float,
) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """The shape a planner judges (:mod:`planning.engine.shape`), for communities and grids
    (communities only when ``grids`` is None).

    Returns the summary (``communities`` and ``grids`` entries to merge into the metrics) and
    per-feature columns (``communities`` / ``grids`` → column → values aligned with the
    frames): ``neck``, ``service_radius_m``, and for communities ``border_on_lines_share`` and
    ``jagged_border_share``.
    """
    from geo.footprints import footprints_crossed
    from planning.engine import shape

    sites = district.sites
    of_building = sites.of_building
    xy = sites.xy[of_building]
    hh = buildings["households"].to_numpy(dtype=float)
    summary: dict[str, dict] = {"communities": {}, "grids": {}}
    columns: dict[str, dict[str, np.ndarray]] = {"communities": {}, "grids": {}}
    for level, frame, key, upper in (
        ("communities", communities, "community_id", community_upper),
        ("grids", grids, "grid_id", grid_upper),
    ):
        if frame is None:
            continue
        geoms = np.array(frame.geometry.array, dtype=object)
        index = pd.Index(frame[key].astype(str))
        owner = index.get_indexer(buildings[key].astype(str))
        neck = shape.necks(geoms, xy, owner)
        radius = shape.service_radius(xy, hh, owner, len(geoms))
        ids = frame[key].astype(str).to_numpy(dtype=object)
        out = {
            "necks": int(neck.sum()),
            "necks_ids": ids[neck].tolist(),
            "service_radius_p95_m_median": _rounded(np.nanmedian(radius) if len(radius) else None),
            "service_radius_p95_m_max": _rounded(np.nanmax(radius) if len(radius) else None),
        }
        columns[level]["neck"] = neck
        columns[level]["service_radius_m"] = np.round(radius, 1)
        if district.footprints is not None:
            out["footprints_crossed"] = len(footprints_crossed(geoms, district.footprints))
        border_summary, border_columns = _border_metrics(district, geoms, level=level)
        out.update(border_summary)
        columns[level].update(border_columns)
        if district.site_block is not None:
            out.update(
                _block_metrics(district, buildings, communities, owner, level=level, upper=upper)
            )
        summary[level] = out
    return summary, columns


def _border_metrics(
    district, geoms: np.ndarray, *, level: str
) -> tuple[dict, dict[str, np.ndarray]]:
    """(summary entries, per-feature columns) of the borders between ``geoms``: how much is
    jagged, and for communities how long they are and how much follows a given line."""
    from planning.engine import shape

    borders = shape.shared_borders(geoms)
    length = borders.length_m
    total = float(length.sum())
    jag = shape.jagged(borders.lines)
    if level != "communities":
        return {"jagged_border_share": round(float(jag.sum()) / total, 4) if total else 0.0}, {}
    lines = district.given_lines if district.given_lines is not None else np.array([], dtype=object)
    on = shape.on_lines(borders.lines, lines)
    own = np.maximum(borders.per_region(length, len(geoms)), 1e-9)
    columns = {
        "jagged_border_share": np.round(borders.per_region(jag, len(geoms)) / own, 4),
        "border_on_lines_share": np.round(borders.per_region(on, len(geoms)) / own, 4),
    }
    return {
        "internal_border_km": round(total / 1000, 3),
        "jagged_border_share": round(float(jag.sum()) / total, 4) if total else 0.0,
        "border_on_lines_share": round(float(on.sum()) / total, 4) if total else None,
    }, columns


def _block_metrics(
    district,
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    owner: np.ndarray,
    *,
    level: str,
    upper: float,
) -> dict:
    """The street blocks that fit one unit of ``level`` and those split (``owner``: the
    unit of each building; a grid's block is judged inside its community)."""
    sites = district.sites
    of_building = sites.of_building
    site_label = np.full(len(sites.xy), -1, dtype=np.int64)
    site_label[of_building] = owner
    scope = None
    if level == "grids":
        scope = np.full(len(sites.xy), -1, dtype=np.int64)
        scope[of_building] = pd.Index(communities["community_id"].astype(str)).get_indexer(
            buildings["community_id"].astype(str)
        )
    fitting, split = _split_blocks(district, site_label, scope, upper=upper, level=level)
    return {
        "blocks_fitting": fitting,
        "blocks_fitting_split": sum(item["fits"] for item in split),
        "blocks_split": split,
    }


def _rounded(value):
    return None if value is None or not np.isfinite(value) else round(float(value), 1)
