"""Check every community against a standard: floor area, staff, funds, distance to facilities.

:func:`check_compliance` takes communities (polygons), building points with households and
facilities (points or polygons with a floor area), all in WGS84, and projects them once into
the dataset's metric CRS. Then, per community:

- households (and population) of the buildings it covers; a building on a shared boundary
  belongs to the covering community with the lowest id;
- the facility area counted for it: a point facility counts for the community that covers it
  (lowest id on a boundary), a polygon facility for the community it overlaps most; a facility
  with a ``serves`` list (多社一站) is shared among those communities by household share, and
  the ``notes`` column says so; facilities outside every community are listed, not dropped;
- required area, staff and yearly funds from :mod:`planning.standards.rules`, with the arithmetic;
- household-weighted mean and 90th-percentile distance from buildings to the nearest facility
  counted for the community;
- where a community has no facility or falls short, a suggested site: the building that
  minimises household-weighted distance to the community's buildings (the 1-median over
  building points).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import CRSError, Problem, ValidationError
from planning.records import Note
from planning.standards.rules import (
    Standard,
    annual_funds,
    format_number,
    load_standard,
    required_area,
    staff_required,
)

__all__ = [
    "BOUNDARY_TOLERANCE_M",
    "REPORT_COLUMNS",
    "ComplianceResult",
    "check_compliance",
    "one_median",
    "weighted_quantile",
]

#: The per-community columns of a compliance report, in order (geometry follows).
REPORT_COLUMNS = (
    "community_id",
    "name",
    "households",
    "population",
    "required_area_m2",
    "facility_area_m2",
    "gap_m2",
    "meets_standard",
    "staff_required",
    "funds_yuan_per_year",
    "area_rule",
    "staff_rule",
    "funds_rule",
    "facilities",
    "notes",
    "mean_distance_m",
    "p90_distance_m",
    "suggested_site_lon",
    "suggested_site_lat",
    "suggested_building_id",
)

#: A point this close to a community (metres) counts as covered by it, so a point on a shared
#: boundary is covered by both sides even after reprojection moved it by a few nanometres.
BOUNDARY_TOLERANCE_M = 0.01

#: Separators accepted in a facility's ``serves`` list ("A;B", "A,B", "A，B", "A、B").
_SERVES_SPLIT = re.compile(r"[;,，；、]")

#: The geometry types a layer allows -> their words (``standards.word.<word>``).
_GEOMETRY_WORDS = {
    ("Polygon", "MultiPolygon"): "polygons",
    ("Point",): "points",
    ("Point", "Polygon", "MultiPolygon"): "points_or_polygons",
}

#: Distance-matrix cells computed at once by :func:`one_median` (memory bound, ~32 MB).
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class ComplianceResult:
    """The outcome of :func:`check_compliance`.

    Attributes
    ----------
    communities
        One row per input community, in input order, with :data:`REPORT_COLUMNS` and the
        community polygon (EPSG:4326).
    facilities
        Every facility with ``facility_id``, ``name``, ``type``, ``floor_area_m2``,
        ``community_id`` (the community it lies in, None outside all), ``counted_for`` (ids
        its area is counted for, ``;``-separated) and its geometry (EPSG:4326).
    outside
        The facilities that lie outside every community (a subset of ``facilities``).
    totals
        Figures for the whole district: ``communities``, ``failing``, ``total_shortfall_m2``,
        ``total_required_m2``, ``total_facility_area_m2``, ``total_staff`` (None without a
        staff rule), ``total_funds_yuan`` (None without a funds rule), ``households``,
        ``unassigned_households``, ``unassigned_buildings``, ``facilities``,
        ``facilities_outside``.
    standard
        The standard applied.
    year
        The year funds were computed for (None: the rule's base amount).
    """

    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    outside: gpd.GeoDataFrame
    totals: dict = field(default_factory=dict)
    standard: Standard | None = None
    year: int | None = None

    def table(self) -> pd.DataFrame:
        """The per-community report without geometry."""
        return pd.DataFrame(self.communities.drop(columns=self.communities.geometry.name))


# --------------------------------------------------------------------------- algorithms


def one_median(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> int:
    """Index of the point minimising the weighted sum of distances to all points.

    The discrete 1-median over the points themselves: cost_j = Σ_i w_i·|p_i − p_j|. Computed
    in blocks of candidate points so memory stays bounded (5,000 points take well under a
    second). Ties go to the lowest index.

    Parameters
    ----------
    x, y
        Metric coordinates of the points.
    weights
        Non-negative weight of each point (households).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = len(x)
    if n == 0:
        raise ValueError("one_median needs at least one point")
    block = max(1, _BLOCK_CELLS // n)
    costs = np.empty(n)
    for start in range(0, n, block):
        stop = min(n, start + block)
        dx = x[:, None] - x[None, start:stop]
        dy = y[:, None] - y[None, start:stop]
        costs[start:stop] = w @ np.hypot(dx, dy)
    return int(np.argmin(costs))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value v such that at least ``q`` of the total weight has value ≤ v.

    NaN when the weights sum to zero.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if len(values) == 0 or total <= 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, q * total * (1 - 1e-12), side="left"))
    return float(values[order][min(index, len(values) - 1)])


def _id_order(ids: pd.Series) -> np.ndarray:
    """Rank of each id (0 = lowest): numeric order when every id is a number, else text."""
    values = ids.tolist()
    if all(isinstance(v, int | float | np.integer | np.floating) for v in values):
        keys = np.asarray(values, dtype=float)
    else:
        keys = np.asarray([str(v) for v in values], dtype=object)
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(values), dtype=int)
    rank[order] = np.arange(len(values))
    return rank


def _covering_lowest(
    points: np.ndarray, tree: shapely.STRtree, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the covering polygon with the lowest rank (-1 if none), and how many
    polygons cover it (within :data:`BOUNDARY_TOLERANCE_M`)."""
    assigned = np.full(len(points), -1, dtype=int)
    covering = np.zeros(len(points), dtype=int)
    if len(points) == 0:
        return assigned, covering
    point_idx, poly_idx = tree.query(points, predicate="dwithin", distance=BOUNDARY_TOLERANCE_M)
    if len(point_idx) == 0:
        return assigned, covering
    order = np.lexsort((rank[poly_idx], point_idx))
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    first = np.r_[True, point_idx[1:] != point_idx[:-1]]
    assigned[point_idx[first]] = poly_idx[first]
    covering += np.bincount(point_idx, minlength=len(points))
    return assigned, covering


def _largest_overlap(
    polygons: np.ndarray, tree: shapely.STRtree, communities: np.ndarray, rank: np.ndarray
) -> np.ndarray:
    """For each polygon, the community it overlaps most (ties: lowest rank); -1 if none."""
    assigned = np.full(len(polygons), -1, dtype=int)
    if len(polygons) == 0:
        return assigned
    poly_idx, comm_idx = tree.query(polygons, predicate="intersects")
    if len(poly_idx) == 0:
        return assigned
    overlap = shapely.area(shapely.intersection(polygons[poly_idx], communities[comm_idx]))
    keep = overlap > 0
    poly_idx, comm_idx, overlap = poly_idx[keep], comm_idx[keep], overlap[keep]
    order = np.lexsort((rank[comm_idx], -overlap, poly_idx))
    poly_idx, comm_idx = poly_idx[order], comm_idx[order]
    first = np.r_[True, poly_idx[1:] != poly_idx[:-1]] if len(poly_idx) else np.array([], bool)
    assigned[poly_idx[first]] = comm_idx[first]
    return assigned


# --------------------------------------------------------------------------- validation


def _check_crs(layers: Mapping[str, gpd.GeoDataFrame | None], metric_crs: pyproj.CRS) -> None:
    wrong = []
    for label, frame in layers.items():
        if frame is None:
            continue
        if frame.crs is None or pyproj.CRS.from_user_input(frame.crs) != pyproj.CRS(4326):
            wrong.append(f"{label} ({frame.crs.name if frame.crs is not None else 'no CRS'})")
    if wrong:
        raise CRSError(
            "layers must arrive in WGS84 (EPSG:4326) after intake; found "
            + ", ".join(wrong)
            + "; read them with geo.layers / geo.intake, which convert the declared CRS"
        )
    if not metric_crs.is_projected:
        raise CRSError(
            f"metric_crs must be a projected CRS in metres; found {metric_crs.name}; "
            "use geo.crs.metric_crs_for(lon, lat) (a CGCS2000 3-degree zone in China)"
        )


def _numeric_problems(
    frame: pd.DataFrame, column: str, label: str, what: str, fix: str
) -> list[Problem]:
    """Problems with the numbers of ``column`` (``what`` and ``fix``: ``standards.word``
    codes)."""
    words = {"what": Note.of(f"standards.word.{what}"), "fix": Note.of(f"standards.word.{fix}")}
    if column not in frame.columns:
        columns = tuple(map(str, frame.columns))
        record = Note.of("standards.input.no_column", column=column, columns=columns, **words)
        return [Problem.of("error", label, record, column=column)]
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rows = np.arange(len(frame)) + 1
    problems = []
    bad = np.isnan(values)
    if bad.any():
        found = tuple(repr(v) for v in frame[column][bad].head(3).tolist())
        problems.append(
            Problem.of(
                "error",
                label,
                Note.of("standards.input.not_number", found=found, **words),
                column=column,
                rows=(int(r) for r in rows[bad]),
            )
        )
    negative = ~bad & (values < 0)
    if negative.any():
        found = tuple(f"{v:g}" for v in values[negative][:3])
        problems.append(
            Problem.of(
                "error",
                label,
                Note.of("standards.input.negative", found=found, **words),
                column=column,
                rows=(int(r) for r in rows[negative]),
            )
        )
    return problems


def _geometry_problems(
    frame: gpd.GeoDataFrame, allowed: tuple[str, ...], label: str
) -> list[Problem]:
    kinds = frame.geometry.geom_type.to_numpy(dtype=object)
    bad = np.array([k not in allowed for k in kinds], dtype=bool)
    bad |= np.asarray(frame.geometry.is_empty | frame.geometry.isna(), dtype=bool)
    if not bad.any():
        return []
    rows = np.arange(len(frame)) + 1
    record = Note.of(
        "standards.input.geometry",
        allowed=Note.of(f"standards.word.{_GEOMETRY_WORDS[allowed]}"),
        found=tuple(sorted({str(k) for k in kinds[bad]})),
    )
    return [Problem.of("error", label, record, rows=(int(r) for r in rows[bad]))]


def _parse_serves(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return []
    return [part.strip() for part in _SERVES_SPLIT.split(str(value)) if part.strip()]


def _id_problems(
    communities: gpd.GeoDataFrame, id_column: str
) -> tuple[list[Problem], pd.Series | None]:
    """Problems with the community ids, and the ids (None when the column is missing)."""
    label = "communities"
    if id_column not in communities.columns:
        columns = tuple(map(str, communities.columns))
        record = Note.of("standards.input.no_id", column=id_column, columns=columns)
        problem = Problem.of("error", label, record, column=id_column)
        return [problem], None
    problems = []
    ids = communities[id_column]
    missing = ids.isna().to_numpy()
    if missing.any():
        problems.append(
            Problem.of(
                "error",
                label,
                Note.of("standards.input.id_missing"),
                column=id_column,
                rows=(int(r) + 1 for r in np.flatnonzero(missing)),
            )
        )
    repeated = ids[ids.duplicated() & ~ids.isna()].unique().tolist()
    if repeated:
        record = Note.of("standards.input.ids_repeat", found=tuple(map(str, repeated[:5])))
        problems.append(Problem.of("error", label, record, column=id_column))
    return problems, ids


def _serves_problems(facilities: gpd.GeoDataFrame, ids: pd.Series) -> list[Problem]:
    """Community ids in the facilities' ``serves`` lists that the communities layer lacks."""
    if "serves" not in facilities.columns:
        return []
    known = {str(v) for v in ids.dropna()}
    unknown_rows, unknown_ids = [], []
    for row, value in enumerate(facilities["serves"].tolist(), start=1):
        unknown = [s for s in _parse_serves(value) if s not in known]
        if unknown:
            unknown_rows.append(row)
            unknown_ids += unknown
    if not unknown_rows:
        return []
    record = Note.of("standards.input.serves", found=tuple(sorted(set(unknown_ids))[:5]))
    return [Problem.of("error", "facilities", record, column="serves", rows=unknown_rows)]


def _grid_problems(grids_per_community: Mapping, ids: pd.Series) -> list[Problem]:
    """Grid counts keyed by ids the communities layer lacks, or below zero."""
    known = {str(v) for v in ids.dropna()}
    stray = [str(k) for k in grids_per_community if str(k) not in known]
    negative = [str(k) for k, v in grids_per_community.items() if v is None or v < 0]
    if not (stray or negative):
        return []
    record = Note.of("standards.input.grid_counts", found=tuple((stray + negative)[:5]))
    return [Problem.of("error", "grids_per_community", record)]


def _validate(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    *,
    id_column: str,
    grids_per_community: Mapping | None,
) -> None:
    """Collect every problem of the three layers and the grid counts, then raise once."""
    problems, ids = _id_problems(communities, id_column)
    problems += _geometry_problems(communities, ("Polygon", "MultiPolygon"), "communities")
    problems += _numeric_problems(
        buildings, "households", "buildings", "household_count", "read_households"
    )
    problems += _geometry_problems(buildings, ("Point",), "buildings")
    if facilities is not None:
        problems += _numeric_problems(
            facilities, "floor_area_m2", "facilities", "floor_area", "fill_floor_area"
        )
        problems += _geometry_problems(
            facilities, ("Point", "Polygon", "MultiPolygon"), "facilities"
        )
        if ids is not None:
            problems += _serves_problems(facilities, ids)
    if grids_per_community is not None and ids is not None:
        problems += _grid_problems(grids_per_community, ids)
    if problems:
        raise ValidationError(problems)


# --------------------------------------------------------------------------- check


def check_compliance(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    *,
    standard: Standard | str,
    metric_crs: pyproj.CRS | str | int,
    id_column: str = "community_id",
    grids_per_community: Mapping[object, int] | None = None,
    year: int | None = None,
    facility_types: Collection[str] | None = None,
) -> ComplianceResult:
    """Check each community's facility area, staff and funds against ``standard``.

    Parameters
    ----------
    communities
        Community polygons (EPSG:4326) with ``id_column``, optional ``name`` and optional
        ``party_members`` (for per-party-member funds).
    buildings
        Building points (EPSG:4326) with ``households`` and optional ``population`` and
        ``building_id``.
    facilities
        Facility points or polygons (EPSG:4326) with ``floor_area_m2``, optional
        ``facility_id``, ``name``, ``type`` and ``serves`` (community ids sharing the
        facility, separated by ``;`` or ``,``). None: no facilities at all.
    standard
        A :class:`~planning.standards.rules.Standard`, a preset name or a TOML path.
    metric_crs
        The dataset's projected CRS in metres; every layer is projected to it once.
    id_column
        The column of ``communities`` holding the ids the report keeps.
    grids_per_community
        Grids per community id, for per-grid area extras; None: estimated from households.
    year
        The year funds are computed for (yearly growth); None: the rule's base amount.
    facility_types
        Only facilities of these ``type`` values count toward area and distances (e.g. the
        community service centres, not a hospital); the others are still listed in
        ``result.facilities`` with an empty ``counted_for``. None: every facility counts.

    Raises
    ------
    CRSError
        A layer is not in EPSG:4326 or ``metric_crs`` is not projected.
    ValidationError
        Missing columns, bad values, wrong geometry types, unknown ids in ``serves`` — every
        problem at once.
    """
    standard = load_standard(standard)
    metric_crs = pyproj.CRS.from_user_input(metric_crs)
    _check_crs(
        {"communities": communities, "buildings": buildings, "facilities": facilities},
        metric_crs,
    )
    _validate(
        communities,
        buildings,
        facilities,
        id_column=id_column,
        grids_per_community=grids_per_community,
    )
    district = _locate(
        communities,
        buildings,
        facilities,
        id_column=id_column,
        metric_crs=metric_crs,
        grids_per_community=grids_per_community,
        facility_types=facility_types,
    )
    report = _report_frame(communities, district, standard=standard, year=year)
    facility_frame = _facility_frame(
        facilities, district.facilities, district.ids.tolist(), district.id_text
    )
    outside = facility_frame[facility_frame["community_id"].isna()].copy()
    totals = _totals(report, facility_frame, outside, district.buildings, standard)
    return ComplianceResult(report, facility_frame, outside, totals, standard, year)


@dataclass(frozen=True)
class _Buildings:
    """The building points, projected, with what each holds and the community covering it."""

    metric: np.ndarray  # shapely points in the metric CRS
    wgs: np.ndarray  # the same points in EPSG:4326
    x: np.ndarray
    y: np.ndarray
    households: np.ndarray
    population: np.ndarray  # NaN where not given
    community: np.ndarray  # index of the covering community with the lowest id; -1: none
    ids: np.ndarray | None  # building_id as text; None without that column


def _place_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    tree: shapely.STRtree,
    rank: np.ndarray,
    metric_crs: pyproj.CRS,
) -> _Buildings:
    """Project the buildings once and give each the community covering it."""
    metric = np.asarray(buildings.geometry.to_crs(metric_crs).array, dtype=object)
    if "population" in buildings.columns:
        population = pd.to_numeric(buildings["population"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    else:
        population = np.full(len(buildings), np.nan)
    community, _ = _covering_lowest(metric, tree, rank)
    return _Buildings(
        metric=metric,
        wgs=np.asarray(buildings.geometry.array, dtype=object),
        x=shapely.get_x(metric),
        y=shapely.get_y(metric),
        households=pd.to_numeric(buildings["households"]).to_numpy(dtype=float),
        population=population,
        community=community,
        ids=(
            buildings["building_id"].astype(str).to_numpy()
            if "building_id" in buildings.columns
            else None
        ),
    )


def _community_names(communities: gpd.GeoDataFrame, id_text: list[str]) -> list:
    """Each community's name; its id where the name is missing."""
    raw_names = communities["name"].tolist() if "name" in communities.columns else id_text
    return [id_text[i] if pd.isna(nm) else nm for i, nm in enumerate(raw_names)]


def _party_members(communities: gpd.GeoDataFrame) -> np.ndarray:
    """Party members per community (NaN where not given)."""
    if "party_members" not in communities.columns:
        return np.full(len(communities), np.nan)
    return pd.to_numeric(communities["party_members"], errors="coerce").to_numpy(dtype=float)


@dataclass(frozen=True)
class _District:
    """Where every building and facility lies, per community (positions: community index)."""

    ids: pd.Series
    id_text: list[str]
    names: list
    party_members: np.ndarray
    grids: dict[str, int]
    buildings: _Buildings
    facilities: dict
    shares: list[list[tuple[int, float]]]  # (facility index, area counted) per community
    notes: list[list[str]]  # how shared or boundary facilities were counted


def _locate(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    *,
    id_column: str,
    metric_crs: pyproj.CRS,
    grids_per_community: Mapping[object, int] | None,
    facility_types: Collection[str] | None,
) -> _District:
    """Project the layers once, give buildings and facilities their communities and share
    the facilities' areas among the communities they count for."""
    ids = communities[id_column].reset_index(drop=True)
    id_text = [str(v) for v in ids]
    rank = _id_order(ids)
    comm_metric = np.asarray(communities.geometry.to_crs(metric_crs).array, dtype=object)
    tree = shapely.STRtree(comm_metric)
    placed = _place_buildings(buildings, tree=tree, rank=rank, metric_crs=metric_crs)
    inside = placed.community >= 0
    hh_per_comm = np.bincount(
        placed.community[inside], weights=placed.households[inside], minlength=len(ids)
    )
    fac = _assign_facilities(
        facilities,
        comm_metric=comm_metric,
        tree=tree,
        rank=rank,
        metric_crs=metric_crs,
        index_of={cid: i for i, cid in enumerate(id_text)},
        facility_types=facility_types,
    )
    shares, notes = _share_facilities(fac, hh_per_comm, id_text)
    return _District(
        ids=ids,
        id_text=id_text,
        names=_community_names(communities, id_text),
        party_members=_party_members(communities),
        grids={str(k): int(v) for k, v in (grids_per_community or {}).items()},
        buildings=placed,
        facilities=fac,
        shares=shares,
        notes=notes,
    )


def _report_frame(
    communities: gpd.GeoDataFrame, district: _District, *, standard: Standard, year: int | None
) -> gpd.GeoDataFrame:
    """The per-community report: :data:`REPORT_COLUMNS` and the community polygons."""
    rows = [
        _community_row(district, c, standard=standard, year=year) for c in range(len(district.ids))
    ]
    table = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    table["staff_required"] = table["staff_required"].astype("Int64")
    return gpd.GeoDataFrame(
        table, geometry=np.asarray(communities.geometry.array, dtype=object), crs="EPSG:4326"
    )


def _community_row(district: _District, c: int, *, standard: Standard, year: int | None) -> dict:
    """The report row of community ``c``: headcount, requirements, provision, suggested site."""
    fac, shares = district.facilities, district.shares[c]
    in_c = np.flatnonzero(district.buildings.community == c)
    hh = float(district.buildings.households[in_c].sum())
    population, population_given, population_note = _population(
        hh, district.buildings.population[in_c], standard
    )
    notes = district.notes[c] + ([population_note] if population_note else [])
    area, area_rule = required_area(
        hh, grids=district.grids.get(district.id_text[c]), standard=standard
    )
    staff, staff_rule = staff_required(hh, population=population_given, standard=standard)
    party = None if np.isnan(district.party_members[c]) else float(district.party_members[c])
    funds, funds_rule = annual_funds(
        hh, population=population_given, year=year, standard=standard, party_members=party
    )
    provided = round(sum(share for _, share in shares), 2)
    gap = round(area - provided, 2)
    fac_idx = [f for f, _ in shares]
    mean_d, p90_d = _distances(
        district.buildings.metric[in_c], district.buildings.households[in_c], fac["metric"][fac_idx]
    )
    site = (math.nan, math.nan, None)
    if (not fac_idx or gap > 0) and len(in_c) > 0:
        site = _suggested_site(district.buildings, in_c)
    return {
        "community_id": district.ids[c],
        "name": district.names[c],
        "households": round(hh),
        "population": population,
        "required_area_m2": area,
        "facility_area_m2": provided,
        "gap_m2": gap,
        "meets_standard": bool(gap <= 0),
        "staff_required": staff,
        "funds_yuan_per_year": math.nan if funds is None else funds,
        "area_rule": area_rule,
        "staff_rule": staff_rule,
        "funds_rule": funds_rule,
        "facilities": "、".join(fac["name"][f] for f in fac_idx),
        "notes": "；".join(notes),
        "mean_distance_m": mean_d,
        "p90_distance_m": p90_d,
        "suggested_site_lon": site[0],
        "suggested_site_lat": site[1],
        "suggested_building_id": site[2],
    }


def _population(
    households: float, populations: np.ndarray, standard: Standard
) -> tuple[float, float | None, str | None]:
    """A community's population, the population its buildings give (None unless every one
    does), and a note when the population is estimated from persons per household."""
    known = len(populations) > 0 and not np.isnan(populations).any()
    if known:
        return float(populations.sum()), float(populations.sum()), None
    pph = standard.persons_per_household
    if pph is None:
        return math.nan, None, None
    return households * pph.value, None, f"人口按每户{format_number(pph.value)}人估算"


def _suggested_site(buildings: _Buildings, in_c: np.ndarray) -> tuple[float, float, str | None]:
    """Longitude, latitude and building id of the 1-median building among ``in_c``."""
    best = in_c[one_median(buildings.x[in_c], buildings.y[in_c], buildings.households[in_c])]
    point = buildings.wgs[best]
    return point.x, point.y, None if buildings.ids is None else buildings.ids[best]


def _totals(
    report: gpd.GeoDataFrame,
    facility_frame: gpd.GeoDataFrame,
    outside: gpd.GeoDataFrame,
    buildings: _Buildings,
    standard: Standard,
) -> dict:
    """The district figures of :attr:`ComplianceResult.totals`."""
    unassigned = buildings.community < 0
    households = buildings.households
    return {
        "communities": len(report),
        "failing": int((~report["meets_standard"]).sum()),
        "total_shortfall_m2": round(float(report["gap_m2"].clip(lower=0).sum()), 2),
        "total_required_m2": round(float(report["required_area_m2"].sum()), 2),
        "total_facility_area_m2": round(float(report["facility_area_m2"].sum()), 2),
        "total_staff": int(report["staff_required"].sum()) if standard.staff else None,
        "total_funds_yuan": (
            round(float(report["funds_yuan_per_year"].sum()), 2) if standard.funds else None
        ),
        "households": round(float(households.sum())),
        "unassigned_households": round(float(households[unassigned].sum())),
        "unassigned_buildings": int(unassigned.sum()),
        "facilities": len(facility_frame),
        "facilities_outside": len(outside),
    }


def _assign_facilities(
    facilities: gpd.GeoDataFrame | None,
    *,
    comm_metric: np.ndarray,
    tree: shapely.STRtree,
    rank: np.ndarray,
    metric_crs: pyproj.CRS,
    index_of: dict[str, int],
    facility_types: Collection[str] | None,
) -> dict:
    """Where each facility lies and which communities its area counts for."""
    if facilities is None or len(facilities) == 0:
        return {
            "metric": np.array([], dtype=object),
            "name": [],
            "area": np.array([]),
            "inside": np.array([], dtype=int),
            "on_boundary": np.array([], dtype=bool),
            "counted_for": [],
            "serves": [],
        }
    metric = np.asarray(facilities.geometry.to_crs(metric_crs).array, dtype=object)
    n = len(metric)
    is_point = shapely.get_type_id(metric) == 0
    inside = np.full(n, -1, dtype=int)
    on_boundary = np.zeros(n, dtype=bool)
    point_idx = np.flatnonzero(is_point)
    assigned, covering = _covering_lowest(metric[point_idx], tree, rank)
    inside[point_idx] = assigned
    on_boundary[point_idx] = covering > 1
    poly_idx = np.flatnonzero(~is_point)
    inside[poly_idx] = _largest_overlap(metric[poly_idx], tree, comm_metric, rank)
    fid = _facility_ids(facilities)
    raw_names = facilities["name"].tolist() if "name" in facilities.columns else [None] * n
    names = [
        str(nm) if nm is not None and not (isinstance(nm, float) and math.isnan(nm)) else fid[i]
        for i, nm in enumerate(raw_names)
    ]
    serves = (
        [_parse_serves(v) for v in facilities["serves"].tolist()]
        if "serves" in facilities.columns
        else [[] for _ in range(n)]
    )
    types = facilities["type"].tolist() if "type" in facilities.columns else [None] * n
    wanted = None if facility_types is None else {str(t) for t in facility_types}
    counted_for = []
    for i in range(n):
        if wanted is not None and str(types[i]) not in wanted:
            counted_for.append([])
        elif serves[i]:
            counted_for.append(list(dict.fromkeys(index_of[s] for s in serves[i])))
        elif inside[i] >= 0:
            counted_for.append([int(inside[i])])
        else:
            counted_for.append([])
    return {
        "metric": metric,
        "name": names,
        "area": pd.to_numeric(facilities["floor_area_m2"]).to_numpy(dtype=float),
        "inside": inside,
        "on_boundary": on_boundary,
        "counted_for": counted_for,
        "serves": serves,
    }


def _facility_ids(facilities: gpd.GeoDataFrame) -> list[str]:
    if "facility_id" in facilities.columns:
        return [str(v) for v in facilities["facility_id"].tolist()]
    return [f"F{i + 1:04d}" for i in range(len(facilities))]


def _share_facilities(
    fac: dict, hh_per_comm: np.ndarray, id_text: list[str]
) -> tuple[list[list[tuple[int, float]]], list[list[str]]]:
    """Per community: (facility index, area counted) pairs, and notes saying how."""
    n_comm = len(hh_per_comm)
    shares: list[list[tuple[int, float]]] = [[] for _ in range(n_comm)]
    notes: list[list[str]] = [[] for _ in range(n_comm)]
    for f, targets in enumerate(fac["counted_for"]):
        name, area = fac["name"][f], float(fac["area"][f])
        if not targets:
            continue
        if len(targets) == 1:
            c = targets[0]
            shares[c].append((f, area))
            if fac["on_boundary"][f]:
                notes[c].append(f"{name}位于社区边界上，按编号最小的社区计入本社区")
            if fac["serves"][f] and fac["inside"][f] != c:
                notes[c].append(f"{name}位于本社区范围外，按 serves 计入")
            continue
        weights = hh_per_comm[targets]
        total = weights.sum()
        fractions = weights / total if total > 0 else np.full(len(targets), 1 / len(targets))
        together = "、".join(id_text[c] for c in targets)
        for c, fraction in zip(targets, fractions, strict=True):
            part = round(area * float(fraction), 2)
            shares[c].append((f, part))
            notes[c].append(
                f"多社一站：{name}（{format_number(area)}平方米）由{together}共用，"
                f"按户数分摊{format_number(fraction * 100, decimals=1)}%={format_number(part)}平方米"
            )
    return shares, notes


def _distances(
    buildings: np.ndarray, households: np.ndarray, facilities: np.ndarray
) -> tuple[float, float]:
    """Household-weighted mean and 90th percentile of building → nearest facility (m)."""
    if len(buildings) == 0 or len(facilities) == 0 or households.sum() <= 0:
        return math.nan, math.nan
    nearest = shapely.distance(buildings[:, None], facilities[None, :]).min(axis=1)
    mean = float(np.average(nearest, weights=households))
    return round(mean, 1), round(weighted_quantile(nearest, households, 0.9), 1)


def _facility_frame(
    facilities: gpd.GeoDataFrame | None, fac: dict, ids: list, id_text: list[str]
) -> gpd.GeoDataFrame:
    columns = ["facility_id", "name", "type", "floor_area_m2", "community_id", "counted_for"]
    if facilities is None or len(facilities) == 0:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in columns}, geometry=[], crs="EPSG:4326"
        )
    n = len(facilities)
    frame = pd.DataFrame(
        {
            "facility_id": _facility_ids(facilities),
            "name": fac["name"],
            "type": facilities["type"].tolist() if "type" in facilities.columns else [None] * n,
            "floor_area_m2": fac["area"],
            "community_id": [ids[i] if i >= 0 else None for i in fac["inside"]],
            "counted_for": [";".join(id_text[c] for c in t) for t in fac["counted_for"]],
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=np.asarray(facilities.geometry.array, dtype=object), crs="EPSG:4326"
    )
