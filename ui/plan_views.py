"""Tables and lists the plan pages show, built from the library's results (no streamlit here).

Each function takes the language and returns a :class:`pandas.DataFrame` with translated
headers, or plain records, so the pages only render and the logic is unit-tested. The reasons
of infeasible units are rendered in the language chosen when they come as records
(:class:`planning.records.Infeasible`); a reason stored as text (``summary.json``, refused
edits) is kept as it is, next to a translated explanation. An edit's refusal and result come
as records (:class:`planning.plans.scenario.EditRefused`, :class:`EditResult`) and are rendered
in the language chosen too.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry

from geo.errors import ScenarioEditError
from planning import (
    Comparison,
    ComplianceResult,
    EditRefused,
    EditResult,
    Infeasible,
    PlanCheck,
    ProposeParams,
    bordering_communities,
    community_frame,
    compound_rows,
    grid_frame,
)
from planning.engine import shape
from planning.engine.metrics import barrier_side_labels, unforced_barrier_crossings
from ui.i18n import text
from ui.maps import from_display
from ui.maps.features import once_per_frame

__all__ = [
    "COMPLIANCE_COLUMNS",
    "Findings",
    "MapEvent",
    "Problem",
    "building_targets",
    "community_table",
    "compare_table",
    "compliance_table",
    "edit_label",
    "edit_outcome",
    "history_table",
    "infeasible_line",
    "infeasible_table",
    "map_event",
    "metrics_table",
    "move_targets",
    "neighbours",
    "plan_findings",
    "polygon_targets",
    "refusal_text",
    "site_table",
    "validity_items",
]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")

#: Rows of the metrics table: (section, key, kind); kind formats the value.
_METRIC_ROWS = (
    ("count", "int"),
    ("households_min", "int"),
    ("households_median", "int"),
    ("households_max", "int"),
    ("share_in_band", "pct"),
    ("share_within_20pct", "pct"),
    ("grids_per_community_max", "int"),
    ("polsby_popper_mean", "num"),
    ("polsby_popper_min", "num"),
    ("multipart", "int"),
    ("gap_area_m2", "area"),
    ("overlap_area_m2", "area"),
    ("buildings_split", "int"),
    ("buildings_outside_own_polygon", "int"),
    ("compounds_fit_but_split_count", "int"),
    ("barrier_crossings_count", "int"),
    ("crossing_streets_count", "int"),
)

#: Columns of the compliance table, in order (the report's own column names as keys).
COMPLIANCE_COLUMNS = (
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
    "facilities",
    "mean_distance_m",
    "p90_distance_m",
    "area_rule",
    "notes",
)


def _format(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "pct":
        return f"{float(value):.0%}"
    if kind == "num":
        return f"{float(value):.2f}"
    if kind == "area":
        return f"{float(value):,.0f} m²"
    return f"{round(float(value)):,}"


def _with_counts(block: dict) -> dict:
    out = dict(block)
    if "crossing_streets" in out:
        out["crossing_streets_count"] = len(out["crossing_streets"])
    return out


def metrics_table(summary: dict, lang: str) -> pd.DataFrame:
    """The summary's community and grid metrics side by side (rows a metric, one per kind).

    ``summary`` is :func:`planning.runs.summarise`'s dict (``communities`` and ``grids``).
    """
    communities = _with_counts(summary.get("communities", {}))
    grids = _with_counts(summary.get("grids", {}))
    rows = []
    for key, kind in _METRIC_ROWS:
        if key not in communities and key not in grids:
            continue
        rows.append(
            {
                text("metric.name", lang): text(f"metric.{key}", lang),
                text("metric.communities", lang): _format(communities.get(key), kind)
                if key in communities
                else "",
                text("metric.grids", lang): _format(grids.get(key), kind) if key in grids else "",
            }
        )
    return pd.DataFrame(rows)


def _infeasible_dict(item: Infeasible | dict, lang: str) -> dict:
    """An infeasible unit as ``summary.json`` holds it: a record with its reason in ``lang``,
    a stored dict as it is (its reason in English)."""
    return item.as_dict(lang) if isinstance(item, Infeasible) else item


def infeasible_table(infeasible: Sequence[Infeasible | dict], lang: str) -> pd.DataFrame:
    """Units where a band cannot be met: level, unit, households, what it means, the reason
    (in ``lang`` for a record, as stored for a dict)."""
    infeasible = [_infeasible_dict(item, lang) for item in infeasible]
    return pd.DataFrame(
        {
            text("infeasible.level", lang): [
                text(f"infeasible.level.{item.get('level')}", lang) for item in infeasible
            ],
            text("infeasible.unit", lang): [str(item.get("unit", "")) for item in infeasible],
            text("infeasible.households", lang): [
                f"{int(item.get('households', 0)):,}" for item in infeasible
            ],
            text("infeasible.meaning", lang): [
                text(f"infeasible.meaning.{item.get('level')}", lang) for item in infeasible
            ],
            text("infeasible.reason", lang): [str(item.get("reason", "")) for item in infeasible],
        }
    )


def infeasible_line(item: Infeasible | dict, lang: str) -> str:
    """One infeasible unit as a markdown line: what and where in words, then the reason (in
    ``lang`` for a record, as stored for a dict)."""
    item = _infeasible_dict(item, lang)
    level = item.get("level")
    count = text("infeasible.count", lang).format(n=f"{int(item.get('households', 0)):,}")
    head = f"{text(f'infeasible.level.{level}', lang)} {item.get('unit', '')}"
    meaning = text(f"infeasible.meaning.{level}", lang)
    reason = text("infeasible.engine", lang) + str(item.get("reason", ""))
    colon = text("punct.colon", lang)
    return f"- **{_md(head)}**{_md(count)}{_md(colon)}{_md(meaning)}  \n  {_md(reason)}"


def _md(value: str) -> str:
    """Text shown through markdown exactly as it is."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def community_table(communities: gpd.GeoDataFrame, check: PlanCheck, lang: str) -> pd.DataFrame:
    """The live panel: one row per community with size, band status, grids, locks, contiguity."""
    broken = set(check.discontiguous_communities)
    status = {c.community_id: c.status.replace(" ", "_") for c in check.communities}
    ids = communities["community_id"].astype(str)
    table = pd.DataFrame(
        {
            text("col.community_id", lang): ids.to_numpy(),
            text("col.name", lang): communities["name"].astype(str).to_numpy(),
            text("col.households", lang): communities["households"].astype(int).to_numpy(),
            text("col.grids", lang): communities["grid_count"].astype(int).to_numpy(),
            text("col.status", lang): [
                text(f"map.status.{status.get(i, 'in_band')}", lang) for i in ids
            ],
            text("col.contiguous", lang): [
                text("map.tip.no", lang) if i in broken else text("map.tip.yes", lang) for i in ids
            ],
            text("col.locked", lang): [
                text("map.tip.yes", lang) if v else text("map.tip.no", lang)
                for v in communities.get("locked", pd.Series(False, index=communities.index))
            ],
        }
    )
    if "street" in communities.columns and communities["street"].notna().any():
        table.insert(2, text("col.street", lang), communities["street"].astype(str).to_numpy())
    return table


@dataclass(frozen=True)
class Problem:
    """One entry of the validity list: what, where (a community to zoom to), how serious."""

    kind: str  # "rule", "band", "grid", "compound", "barrier", "neck", "infeasible", "locked"
    community_id: str | None
    message: str
    bounds: tuple[float, float, float, float] | None = None  # WGS84 west, south, east, north
    grid_id: str | None = None  # the grid concerned (grids out of band, grid necks)


@dataclass(frozen=True)
class Findings:
    """What a planner judges beyond the hard rules, measured on a plan (metres, in a few tens
    of milliseconds on 80,000 households).

    Attributes
    ----------
    barrier_crossings
        Communities a major barrier runs through although each side could stand alone.
    community_necks, grid_necks
        Communities and grids whose buildings are joined only through a narrow strip.
    """

    barrier_crossings: tuple[str, ...] = ()
    community_necks: tuple[str, ...] = ()
    grid_necks: tuple[str, ...] = ()


def _neck_ids(frame: gpd.GeoDataFrame, key: str, plan, owner_ids: np.ndarray) -> tuple[str, ...]:
    sites = plan.district.sites
    xy = sites.xy[sites.of_building]
    ids = frame[key].astype(str)
    owner = pd.Index(ids).get_indexer(owner_ids)
    neck = shape.necks(np.asarray(frame.geometry.array, dtype=object), xy, owner)
    return tuple(ids.to_numpy(dtype=object)[neck].tolist())


def plan_findings(plan, params: ProposeParams) -> Findings:
    """Unforced barrier crossings and necks of ``plan`` (a :class:`planning.plans.plan.Plan`)."""
    lower, upper = params.community_band
    side = once_per_frame(
        plan.district,
        ("barrier sides", upper),
        lambda: barrier_side_labels(plan.district, upper=upper),
    )
    crossings = unforced_barrier_crossings(
        plan.district, plan.site_community, plan.community_ids, lower=lower, upper=upper, side=side
    )
    sites = plan.district.sites
    community_of_building = np.asarray(plan.community_ids, dtype=object)[
        plan.site_community[sites.of_building]
    ].astype(str)
    grid_of_building = np.asarray(plan.grid_ids, dtype=object)[
        plan.site_grid[sites.of_building]
    ].astype(str)
    return Findings(
        barrier_crossings=tuple(c["community_id"] for c in crossings),
        community_necks=_neck_ids(
            community_frame(plan), "community_id", plan, community_of_building
        ),
        grid_necks=_neck_ids(grid_frame(plan), "grid_id", plan, grid_of_building),
    )


def _bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    if frame.empty:
        return None
    west, south, east, north = (float(v) for v in frame.total_bounds)
    return (west, south, east, north)


def _community_of(
    item: dict, buildings: gpd.GeoDataFrame, communities: set[str]
) -> tuple[str | None, gpd.GeoDataFrame | None]:
    """The community an infeasible unit belongs to, and the buildings it is about."""
    level, unit = item.get("level"), str(item.get("unit", ""))
    if (
        level in ("community", "community-band", "grid-band", "barrier-crossing")
        and unit in communities
    ):
        return unit, None
    if level in ("compound", "compound-scattered"):
        part = buildings[buildings["compound"].astype("string") == unit]
    elif level == "building":
        wanted = unit.split(",")
        part = buildings[buildings["building_id"].astype(str).isin(wanted)]
    elif level == "street" and "street" in buildings.columns:
        part = buildings[buildings["street"].astype("string") == unit]
    else:
        return None, None
    if part.empty:
        return None, None
    main = part.groupby("community_id")["households"].sum().sort_values(ascending=False)
    return str(main.index[0]), part


def _band_items(check: PlanCheck, lang: str, bounds_of) -> list[Problem]:
    """Communities outside the band."""
    lower, upper = check.band
    items = []
    for status in check.communities:
        if status.in_band:
            continue
        key = "validity.below" if status.status == "below" else "validity.above"
        message = text(key, lang).format(
            id=status.community_id,
            name=status.name,
            households=f"{status.households:,}",
            lower=f"{lower:,.0f}",
            upper=f"{upper:,.0f}",
        )
        items.append(Problem("band", status.community_id, message, bounds_of(status.community_id)))
    return items


def _grid_items(grids: gpd.GeoDataFrame, band: tuple[float, float], lang: str) -> list[Problem]:
    """Grids outside the grid band (those changed by edits too: measured on the plan now)."""
    lower, upper = band
    households = grids["households"].to_numpy(dtype=float)
    out = np.flatnonzero((households < lower) | (households > upper))
    items = []
    for i in out.tolist():
        row = grids.iloc[i : i + 1]
        key = "validity.grid_below" if households[i] < lower else "validity.grid_above"
        message = text(key, lang).format(
            grid=str(row["grid_id"].iloc[0]),
            households=f"{households[i]:,.0f}",
            lower=f"{lower:,.0f}",
            upper=f"{upper:,.0f}",
        )
        items.append(
            Problem(
                "grid",
                str(row["community_id"].iloc[0]),
                message,
                _bounds(row),
                grid_id=str(row["grid_id"].iloc[0]),
            )
        )
    return items


def _compound_items(buildings: gpd.GeoDataFrame, upper: float, lang: str) -> list[Problem]:
    """Compounds (小区) that fit in one community but lie in several."""
    if "compound" not in buildings.columns:
        return []
    part = buildings[buildings["compound"].notna()]
    if part.empty:
        return []
    names = part["compound"].astype(str)
    grouped = part.groupby(names)
    households = grouped["households"].sum()
    spread = grouped["community_id"].nunique()
    split = spread[(spread > 1) & (households <= upper)].index
    items = []
    chosen = part[names.isin(split)]
    for name, mine in chosen.groupby(chosen["compound"].astype(str), sort=True):
        shares = mine.groupby("community_id")["households"].sum().sort_values(ascending=False)
        message = text("validity.compound_split", lang).format(
            compound=name,
            households=f"{households[name]:,.0f}",
            communities=text("edit.list_sep", lang).join(str(c) for c in shares.index),
        )
        items.append(Problem("compound", str(shares.index[0]), message, _bounds(mine)))
    return items


def _finding_items(
    findings: Findings, grids: gpd.GeoDataFrame | None, lang: str, bounds_of
) -> list[Problem]:
    """Barriers crossed without need, and necks."""
    items = [
        Problem("barrier", cid, text("validity.barrier", lang).format(id=cid), bounds_of(cid))
        for cid in findings.barrier_crossings
    ]
    items += [
        Problem("neck", cid, text("validity.neck", lang).format(id=cid), bounds_of(cid))
        for cid in findings.community_necks
    ]
    if grids is not None:
        for gid in findings.grid_necks:
            row = grids[grids["grid_id"].astype(str) == gid]
            cid = str(row["community_id"].iloc[0]) if not row.empty else None
            message = text("validity.grid_neck", lang).format(grid=gid)
            items.append(Problem("neck", cid, message, _bounds(row), grid_id=gid))
    return items


def _infeasible_items(
    infeasible: Sequence[dict],
    buildings: gpd.GeoDataFrame,
    known: set[str],
    lang: str,
    bounds_of,
) -> list[Problem]:
    items = []
    for item in infeasible:
        item = _infeasible_dict(item, lang)
        cid, part = _community_of(item, buildings, known)
        bounds = _bounds(part) if part is not None else bounds_of(cid)
        level = item.get("level")
        count = text("infeasible.count", lang).format(n=f"{int(item.get('households', 0)):,}")
        message = (
            f"{text(f'infeasible.level.{level}', lang)} {item.get('unit', '')}{count}"
            f"{text('punct.colon', lang)}{text(f'infeasible.meaning.{level}', lang)}"
        )
        items.append(Problem("infeasible", cid, message, bounds))
    return items


def validity_items(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    check: PlanCheck,
    infeasible: Sequence[dict],
    lang: str,
    *,
    grids: gpd.GeoDataFrame | None = None,
    findings: Findings | None = None,
) -> list[Problem]:
    """Everything a planner should look at, most serious first: broken hard rules, sizes
    outside the band (communities, and grids when ``grids`` is given), compounds split that
    would fit in one community, barriers crossed and necks (``findings``), units the engine
    could not fit, locked communities. Every entry is measured on the plan as it is now."""
    boxes = communities.geometry.bounds.set_axis(communities["community_id"].astype(str))
    by_id = {
        cid: (float(w), float(s), float(e), float(n))
        for cid, (w, s, e, n) in zip(boxes.index, boxes.to_numpy(), strict=True)
    }

    def bounds_of(cid: str | None) -> tuple[float, float, float, float] | None:
        return by_id.get(cid) if cid is not None else None

    items: list[Problem] = []
    for cid, sentence in check.violations:
        cid = cid or None
        items.append(Problem("rule", cid, sentence, bounds_of(cid)))
    items += _band_items(check, lang, bounds_of)
    if grids is not None:
        items += _grid_items(grids, check.grid_band, lang)
    if "community_id" in buildings.columns:
        items += _compound_items(buildings, check.band[1], lang)
    if findings is not None:
        items += _finding_items(findings, grids, lang, bounds_of)
    items += _infeasible_items(infeasible, buildings, set(by_id), lang, bounds_of)
    for status in check.communities:
        if status.locked:
            message = text("validity.locked", lang).format(id=status.community_id, name=status.name)
            items.append(
                Problem("locked", status.community_id, message, bounds_of(status.community_id))
            )
    return items


def neighbours(plan, community_id: str) -> list[str]:
    """Ids of the communities that share a border with ``community_id`` (site adjacency)."""
    label = plan.label_of(community_id)
    graph = plan.district.graph
    labels = plan.site_community
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    touching = labels[graph.indices][(labels[src] == label) & (labels[graph.indices] != label)]
    return sorted({plan.community_ids[c] for c in np.unique(touching).tolist()})


def building_targets(plan, building_id: str) -> list[str]:
    """Where building ``building_id`` can move: the communities its location borders (empty
    for an unknown id)."""
    index = pd.Index(plan.district.buildings["building_id"].astype(str))
    row = index.get_indexer([str(building_id)])[0]
    if row < 0:
        return []
    return bordering_communities(plan, plan.district.sites.of_building[[row]])


def polygon_targets(plan, polygon_wkt_wgs84: str) -> list[str]:
    """Where the buildings inside a drawn polygon (WKT, WGS84) can go: the communities they
    are in and those they border (empty when none is inside or the WKT is not readable)."""
    try:
        polygon = shapely.make_valid(shapely.from_wkt(polygon_wkt_wgs84))
    except (shapely.errors.ShapelyError, TypeError):
        return []
    points = np.asarray(plan.district.buildings.geometry.array, dtype=object)
    rows = np.flatnonzero(shapely.covers(polygon, points))
    if not len(rows):
        return []
    sites = plan.district.sites.of_building[rows]
    own = {plan.community_ids[c] for c in np.unique(plan.site_community[sites]).tolist()}
    return sorted(own | set(bordering_communities(plan, sites)))


def move_targets(plan, community_id: str, compound: str) -> list[str]:
    """Where compound ``compound``'s buildings in ``community_id`` can move: the communities
    they border (not the neighbours of the whole community)."""
    rows = compound_rows(plan, compound)
    sites = plan.district.sites.of_building[rows]
    label = plan.label_of(community_id)
    mine = sites[plan.site_community[sites] == label]
    return bordering_communities(plan, mine)


def refusal_text(error: ScenarioEditError, lang: str) -> str:
    """A refused edit's reason in ``lang`` (a refusal without a record: its own text)."""
    if isinstance(error, EditRefused):
        return error.record.text(lang)
    return str(error)


def edit_outcome(result: EditResult, lang: str) -> tuple[str, list[str], list[str]]:
    """An edit's result for the page: (headline, the touched communities' status lines, the
    notes), in ``lang``."""
    lines = result.summary(lang).splitlines()[1 : 1 + len(result.communities)]
    statuses = [line.strip() for line in lines]
    if result.grids_redrawn:
        statuses.append(
            text("edit.result.grids_redrawn", lang).format(
                ids=text("edit.list_sep", lang).join(result.grids_redrawn)
            )
        )
    return result.headline(lang), statuses, list(result.note_texts(lang))


def history_table(plan, results: Sequence[EditResult], lang: str) -> pd.DataFrame:
    """The edits in effect as the audit log lists them, ``what`` in ``lang`` (time and author
    from the plan's log, whose last entries are these edits)."""
    log = list(plan.log)[len(plan.log) - len(results) :] if results else []
    return pd.DataFrame(
        {
            text("edit.history.time", lang): [e.time for e in log],
            text("edit.history.author", lang): [e.author for e in log],
            text("edit.history.what", lang): [
                r.records.what.text(lang) if r.records else r.what for r in results
            ],
            text("edit.history.from", lang): [
                r.records.before.text(lang) if r.records else r.before for r in results
            ],
            text("edit.history.to", lang): [
                r.records.after.text(lang) if r.records else r.after for r in results
            ],
            text("edit.history.households", lang): [r.households_affected for r in results],
        }
    )


@dataclass(frozen=True)
class MapEvent:
    """What a click or a drawing on the Edit map asks for."""

    community_id: str | None = None
    grid_id: str | None = None
    polygon_wkt: str | None = None  # WGS84
    building_id: str | None = None  # a building clicked (its properties carry its id)


def map_event(value: dict | None, basemap: str) -> MapEvent:
    """Read st_folium's return value: a clicked community, grid or building (its properties
    carry ``community_id`` and maybe ``grid_id``), or a drawn polygon (shifted back to WGS84
    when drawn on Amap)."""
    drawing = (value or {}).get("last_active_drawing") or {}
    props = drawing.get("properties") or {}
    if props.get("community_id"):
        grid = props.get("grid_id")
        building = props.get("building_id")
        return MapEvent(
            community_id=html.unescape(str(props["community_id"])),
            grid_id=html.unescape(str(grid)) if grid else None,
            building_id=html.unescape(str(building)) if building else None,
        )
    geometry = drawing.get("geometry") or {}
    if geometry.get("type") in ("Polygon", "MultiPolygon"):
        try:
            shape = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, shapely.errors.ShapelyError):
            return MapEvent()
        return MapEvent(polygon_wkt=from_display(shape, basemap).wkt)
    return MapEvent()


def edit_label(edit: object, lang: str) -> str:
    """A short translated description of an edit (for the undo / redo buttons' help); a list
    of ids is written as a list (``锁定 C001、C002``)."""
    kind = type(edit).__name__
    sep = text("edit.list_sep", lang)
    fields = {
        k: sep.join(str(i) for i in v) if isinstance(v, tuple | list) else v
        for k, v in vars(edit).items()
        if not k.startswith("_")
    }
    template = text(f"edit.kind.{kind}", lang)
    try:
        return template.format(**fields)
    except (KeyError, IndexError):
        return template


def compliance_table(result: ComplianceResult, lang: str) -> pd.DataFrame:
    """The compliance report with translated headers (numbers kept as numbers)."""
    table = result.table()
    columns = [c for c in COMPLIANCE_COLUMNS if c in table.columns]
    out = table[columns].copy()
    if "meets_standard" in out:
        out["meets_standard"] = [
            text("map.tip.yes", lang) if bool(v) else text("map.tip.no", lang)
            for v in out["meets_standard"]
        ]
    for column in ("required_area_m2", "facility_area_m2", "gap_m2", "population"):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").round(1)
    for column in ("mean_distance_m", "p90_distance_m", "funds_yuan_per_year"):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").round(0)
    for column in list(out.columns):
        values = out[column]
        if values.isna().all():
            out = out.drop(columns=column)  # a rule the standard does not have
        elif values.dtype.kind == "f" and values.isna().any():
            out[column] = [_number_text(v) for v in values]
        elif values.dtype == object:
            out[column] = values.fillna("")
    kept = [c for c in columns if c in out.columns]
    return out.rename(columns={c: text(f"compliance.{c}", lang) for c in kept})


def _number_text(value: float) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def site_table(result: ComplianceResult, lang: str) -> pd.DataFrame:
    """Suggested sites for communities with no facility or a shortfall."""
    table = result.table()
    has = table["suggested_site_lon"].notna() & table["suggested_site_lat"].notna()
    part = table[has]
    return pd.DataFrame(
        {
            text("compliance.community_id", lang): part["community_id"].astype(str).to_numpy(),
            text("compliance.name", lang): part["name"].astype(str).to_numpy(),
            text("compliance.gap_m2", lang): pd.to_numeric(part["gap_m2"]).round(1).to_numpy(),
            text("sites.building", lang): part["suggested_building_id"].astype(str).to_numpy(),
            text("sites.lon", lang): part["suggested_site_lon"].astype(float).round(6).to_numpy(),
            text("sites.lat", lang): part["suggested_site_lat"].astype(float).round(6).to_numpy(),
        }
    )


_COMPARE_ROWS = (
    ("communities", "count", "int"),
    ("communities", "share_in_band", "pct"),
    ("communities", "households_min", "int"),
    ("communities", "households_median", "int"),
    ("communities", "households_max", "int"),
    ("communities", "polsby_popper_mean", "num"),
    ("communities", "multipart", "int"),
    ("grids", "count", "int"),
    ("grids", "share_in_band", "pct"),
    ("grids", "grids_per_community_max", "int"),
    ("compliance", "failing", "int"),
    ("compliance", "shortfall_m2", "area"),
    ("compliance", "staff", "int"),
)


def _delta(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    if abs(value) < 5e-4:
        return "0"
    if kind == "pct":
        return f"{value * 100:+.0f} pp"
    if kind == "num":
        return f"{value:+.3f}"
    if kind == "area":
        return f"{value:+,.0f} m²"
    return f"{round(value):+,}"


def compare_table(comparison: Comparison, names: tuple[str, str], lang: str) -> pd.DataFrame:
    """Metrics of plan A and plan B with B − A."""
    rows = []
    for section, key, kind in _COMPARE_ROWS:
        a = comparison.a.get(section, {})
        b = comparison.b.get(section, {})
        if key not in a and key not in b:
            continue
        delta = comparison.delta.get(section, {}).get(key)
        rows.append(
            {
                text("metric.name", lang): text(f"compare.{section}", lang)
                + " · "
                + text(f"metric.{key}", lang),
                names[0]: _format(a.get(key), kind),
                names[1]: _format(b.get(key), kind),
                text("compare.delta", lang): _delta(delta, kind),
            }
        )
    return pd.DataFrame(rows)
