"""End-to-end runs shared by the command line and the app: read the files, call the library
(propose, check, rebalance), measure, write the files.

:mod:`planning.plans` and :mod:`planning.standards` never read or write a command's files; this
module is the layer above them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.columns import resolve_columns
from geo.crs import geometry_to_wgs84, parse_crs
from geo.errors import InputFormatError
from geo.export import write_geojson
from geo.footprints import FootprintMatch, match_footprints, read_footprints
from geo.intake import Households, read_households
from geo.layers import (
    read_barriers,
    read_communities,
    read_compounds,
    read_facilities,
    read_subdistricts,
)
from geo.tables import read_table
from planning.engine.metrics import plan_metrics, shape_metrics, unforced_barrier_crossings
from planning.engine.propose import Proposal, propose
from planning.params import ProposeParams
from planning.plans.compare import Comparison, PlanLayers, compare_plans
from planning.plans.folder import write_context, write_plan, write_summary
from planning.plans.rebalance import Rebalance, rebalance
from planning.standards.compliance import ComplianceResult, check_compliance
from planning.standards.report import write_compliance
from planning.standards.rules import Standard, load_standard

__all__ = [
    "CompareRun",
    "Layers",
    "ProposeRun",
    "attach_compounds",
    "measure_proposal",
    "proposal_metrics",
    "read_layers",
    "read_plan_folder",
    "run_check",
    "run_compare",
    "run_propose",
    "run_rebalance",
    "summarise",
    "write_comparison",
    "write_compliance_for",
]


@dataclass(frozen=True)
class ProposeRun:
    households: Households
    proposal: Proposal
    summary: dict
    subdistricts: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class CompoundPolygons:
    """What ``--compounds`` brought: polygons read, of them without a name (given an id
    ``未命名小区-N``), and buildings that took a compound name from them."""

    polygons: int
    unnamed: int
    buildings_named: int

    def as_dict(self) -> dict[str, int]:
        return {"polygons": self.polygons, "unnamed": self.unnamed,
                "buildings_named": self.buildings_named}


#: Columns a compound polygon's name is read from, in order.
COMPOUND_NAME_COLUMNS = ("name", "名称", "小区名称", "小区")


def attach_compounds(buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
                     *, metric_crs) -> tuple[gpd.GeoDataFrame, CompoundPolygons]:
    """Give buildings without a compound the name of the compound polygon they stand in.

    A polygon without a name is still a compound: it is called ``未命名小区-N`` (N its
    feature number), so its buildings are kept together like any other's."""
    out = buildings.copy()
    polys = compounds.to_crs(metric_crs)
    name_col = next((c for c in COMPOUND_NAME_COLUMNS if c in polys.columns), None)
    raw = polys[name_col] if name_col else pd.Series([None] * len(polys), index=polys.index)
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    names = np.where(missing.to_numpy(), [f"未命名小区-{i + 1}" for i in range(len(polys))],
                     text.fillna("").to_numpy(dtype=object)).astype(object)
    pts = np.array(out.to_crs(metric_crs).geometry.array, dtype=object)
    geoms = np.array(polys.geometry.array, dtype=object)
    tree = shapely.STRtree(geoms)
    p, c = tree.query(pts, predicate="within")
    compound = out["compound"].to_numpy(dtype=object).copy()
    empty = np.array([v is None for v in compound])
    first = np.unique(p, return_index=True)[1]
    named = 0
    for pi, ci in zip(p[first], c[first], strict=True):
        if empty[pi]:
            compound[pi] = names[ci]
            named += 1
    out["compound"] = compound
    return out, CompoundPolygons(len(polys), int(missing.sum()), named)


def footprint_summary(match: FootprintMatch) -> dict:
    """The footprint match as summary.json tells it: counts and every warning."""
    return {
        "footprints": len(match.footprint_id),
        "matched_by": match.method,
        "buildings_matched": match.buildings_matched,
        "buildings_unmatched": match.buildings_unmatched,
        "footprints_without_households": match.footprints_without_households,
        "warnings": [str(problem) for problem in match.report.warnings],
    }


def proposal_metrics(proposal: Proposal, *, params: ProposeParams, subdistricts) -> dict:
    """Every metric of a proposal (planning.engine.metrics), with the unforced barrier crossings."""
    return measure_proposal(proposal, params=params, subdistricts=subdistricts)[0]


def measure_proposal(proposal: Proposal, *, params: ProposeParams,
                     subdistricts) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """(every metric of a proposal, per-feature shape columns for its communities and
    grids: see :func:`planning.engine.metrics.shape_metrics`)."""
    metrics = plan_metrics(
        communities=proposal.communities, grids=proposal.grids,
        buildings=proposal.buildings, study_area=proposal.study_area, params=params,
        subdistricts=subdistricts, barriers=proposal.barriers,
        infeasible=proposal.infeasible,
    )
    columns: dict[str, dict[str, np.ndarray]] = {"communities": {}, "grids": {}}
    if proposal.district is not None:
        of_building = proposal.district.sites.of_building
        ids = np.empty(int(proposal.site_community.max()) + 1, dtype=object)
        first = np.unique(proposal.site_community[of_building], return_index=True)[1]
        labels = proposal.site_community[of_building][first]
        ids[labels] = proposal.buildings["community_id"].to_numpy(dtype=object)[first]
        unforced = unforced_barrier_crossings(
            proposal.district, proposal.site_community, ids, lower=params.community_band[0],
            upper=params.community_band[1],
        )
        metrics["communities"]["barrier_crossings_unforced"] = unforced
        metrics["communities"]["barrier_crossings_unforced_count"] = len(unforced)
        shapes, columns = shape_metrics(
            proposal.district, proposal.buildings, proposal.communities, proposal.grids,
            community_upper=params.community_band[1], grid_upper=params.grid_band[1],
        )
        for level in ("communities", "grids"):
            metrics[level].update(shapes[level])
    return metrics, columns


def summarise(proposal: Proposal, *, params: ProposeParams, households: Households,
              subdistricts, inputs: Mapping[str, object], runtime: dict,
              metrics: dict | None = None) -> dict:
    if metrics is None:
        metrics = proposal_metrics(proposal, params=params, subdistricts=subdistricts)
    return {
        "inputs": dict(inputs),
        "parameters": params.to_dict(),
        "data": households.summary(),
        **metrics,
        "runtime_s": {k: round(v, 3) for k, v in runtime.items()},
    }


@dataclass(frozen=True)
class Layers:
    """The inputs of a proposal, read: households, their buildings (with compound names from
    ``compounds_path`` where given), and the 街道 and barrier frames in WGS84."""

    households: Households
    buildings: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame | None
    barriers: gpd.GeoDataFrame | None
    barrier_paths: list[str | Path]
    compound_polygons: CompoundPolygons | None = None
    footprints: FootprintMatch | None = None


def read_layers(
    households_path: str | Path,
    *,
    crs: str,
    subdistricts_path: str | Path | None = None,
    barriers_path: str | Path | Sequence[str | Path] | None = None,
    compounds_path: str | Path | None = None,
    buildings_path: str | Path | None = None,
    layer_crs: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
) -> Layers:
    """Read every layer of a proposal, each in ``crs`` unless ``layer_crs`` overrides it;
    several barrier files become one frame; building footprints (``buildings_path``) are
    matched to the households' buildings."""
    layer_crs = dict(layer_crs or {})
    households = read_households(households_path, crs=crs, columns=columns)
    subdistricts = barriers = None
    if subdistricts_path:
        subdistricts = read_subdistricts(subdistricts_path, crs=layer_crs.get("streets", crs)).frame
    barrier_paths = [barriers_path] if isinstance(barriers_path, str | Path) else \
        list(barriers_path or [])
    if barrier_paths:
        barriers = _read_barriers(barrier_paths, crs=layer_crs.get("barriers", crs))
    buildings = households.buildings
    compound_polygons = footprints = None
    if compounds_path:
        compounds = read_compounds(compounds_path, crs=layer_crs.get("compounds", crs)).frame
        buildings, compound_polygons = attach_compounds(buildings, compounds,
                                                        metric_crs=households.metric_crs)
    if buildings_path:
        frame = read_footprints(buildings_path, crs=layer_crs.get("buildings", crs)).frame
        footprints = match_footprints(buildings, frame, metric_crs=households.metric_crs)
    return Layers(households, buildings, subdistricts, barriers, barrier_paths, compound_polygons,
                  footprints)


def run_propose(
    households_path: str | Path,
    *,
    crs: str,
    out_dir: str | Path | None = None,
    subdistricts_path: str | Path | None = None,
    barriers_path: str | Path | Sequence[str | Path] | None = None,
    compounds_path: str | Path | None = None,
    buildings_path: str | Path | None = None,
    layer_crs: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    params: ProposeParams | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> ProposeRun:
    """Read every layer (each in ``crs`` unless ``layer_crs`` overrides it), propose, measure,
    and write the plan files when ``out_dir`` is given."""
    params = params or ProposeParams()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    layers = read_layers(households_path, crs=crs, subdistricts_path=subdistricts_path,
                         barriers_path=barriers_path, compounds_path=compounds_path,
                         buildings_path=buildings_path, layer_crs=layer_crs, columns=columns)
    households, subdistricts, barriers = layers.households, layers.subdistricts, layers.barriers
    timings["read"] = time.perf_counter() - start
    proposal = propose(layers.buildings, metric_crs=households.metric_crs, subdistricts=subdistricts,
                       barriers=barriers, footprints=layers.footprints, params=params,
                       progress=progress)
    timings.update(proposal.timings)
    start = time.perf_counter()
    inputs = {"households": str(households_path), "crs": crs, "streets": subdistricts_path and
              str(subdistricts_path), "barriers": [str(p) for p in layers.barrier_paths],
              "compounds": compounds_path and str(compounds_path),
              "buildings": buildings_path and str(buildings_path)}
    metrics, columns = measure_proposal(proposal, params=params, subdistricts=subdistricts)
    summary = summarise(proposal, params=params, households=households, subdistricts=subdistricts,
                        inputs=inputs, runtime=timings, metrics=metrics)
    if layers.compound_polygons is not None:
        summary["data"]["compound_polygons"] = layers.compound_polygons.as_dict()
    if layers.footprints is not None:
        summary["data"]["footprints"] = footprint_summary(layers.footprints)
    timings["metrics"] = time.perf_counter() - start
    summary["runtime_s"]["metrics"] = round(timings["metrics"], 3)
    paths: dict[str, Path] = {}
    if out_dir is not None:
        start = time.perf_counter()
        paths = write_plan(out_dir, households=households, buildings=proposal.buildings,
                           communities=proposal.communities.assign(**columns["communities"]),
                           grids=proposal.grids.assign(**columns["grids"]),
                           band=params.community_band)
        paths.update(write_context(out_dir, buildings=proposal.buildings, subdistricts=subdistricts,
                                   barriers=barriers, footprints=layers.footprints))
        summary["runtime_s"]["write"] = round(time.perf_counter() - start, 3)
        summary["runtime_s"]["total"] = round(sum(summary["runtime_s"].values()), 3)
        paths["summary"] = write_summary(Path(out_dir) / "summary.json", summary)
    return ProposeRun(households, proposal, summary, subdistricts, barriers, paths)



def write_compliance_for(
    run: ProposeRun,
    *,
    facilities_path: str | Path,
    crs: str,
    standard: str | Path,
    out_dir: str | Path,
):
    """The standards check of a proposal: compliance.csv, compliance.geojson, report.html."""
    preset = load_standard(standard)
    facilities = read_facilities(facilities_path, crs=crs, require_area=True).frame
    communities = run.proposal.communities.to_crs("EPSG:4326")
    grids = dict(zip(communities["community_id"], communities["grid_count"], strict=True))
    result = check_compliance(
        communities, run.households.buildings, facilities, standard=preset,
        metric_crs=run.households.metric_crs, grids_per_community=grids,
    )
    write_compliance(result, out_dir, standard=preset)
    return result


def run_check(
    communities_path: str | Path,
    households_path: str | Path,
    *,
    crs: str | int,
    facilities_path: str | Path | None,
    standard: str | Path | Standard,
    out_dir: str | Path,
    id_column: str | None = None,
    grids_per_community: Mapping[object, int] | None = None,
    year: int | None = None,
    facility_types: Collection[str] | None = None,
) -> ComplianceResult:
    """Check an existing plan against a standard and write the three report files.

    Parameters
    ----------
    communities_path, households_path, facilities_path
        The layers, in any format the intake readers accept; ``facilities_path`` None checks
        against no facilities at all (every community falls short).
    crs
        The declared CRS of every input layer ("wgs84", "gcj02", "bd09", "cgcs2000", an EPSG
        code), as in ``propose``.
    standard
        A preset name (``planning.standards.rules.list_presets()``), a TOML path, or a Standard.
    out_dir
        Where ``compliance.csv``, ``compliance.geojson`` and ``report.html`` go.
    id_column
        The communities' id column when the aliases do not find it; the report keeps these ids.
    grids_per_community
        Grids per community id, for per-grid area extras (estimated when None).
    year
        The year funds are computed for (yearly growth); None: the rule's base amount.
    facility_types
        Only facilities of these types count (None: all), as in ``check_compliance``.

    Raises
    ------
    StandardsError, ValidationError, CRSError, InputFormatError
        From loading the standard or reading the layers (every problem of a file at once).
    """
    rules = load_standard(standard)
    columns = {"community_id": id_column} if id_column else None
    communities = read_communities(communities_path, crs=crs, columns=columns).frame
    households = read_households(households_path, crs=crs)
    facilities = (
        None
        if facilities_path is None
        else read_facilities(facilities_path, crs=crs, require_area=True).frame
    )
    result = check_compliance(
        communities,
        households.buildings,
        facilities,
        standard=rules,
        metric_crs=households.metric_crs,
        id_column="community_id",
        grids_per_community=grids_per_community,
        year=year,
        facility_types=facility_types,
    )
    write_compliance(result, out_dir, standard=rules)
    return result


def run_rebalance(
    communities_path: str | Path,
    households_path: str | Path,
    *,
    crs: str,
    out_dir: str | Path,
    subdistricts_path: str | Path | None = None,
    barriers_paths: list[str | Path] | None = None,
    grids_path: str | Path | None = None,
    id_column: str | None = None,
    params: ProposeParams | None = None,
    small_margin: float = 0.2,
) -> tuple[Rebalance, dict, dict[str, Path]]:
    """Read the layers (all in ``crs``), rebalance, write the four files of ``propose``.

    Returns (result, summary, paths)."""
    params = params or ProposeParams()
    start = time.perf_counter()
    households = read_households(households_path, crs=crs)
    columns = {"community_id": id_column} if id_column else None
    existing = read_communities(communities_path, crs=crs, columns=columns).frame
    subdistricts = read_subdistricts(subdistricts_path, crs=crs).frame if subdistricts_path else None
    barriers = _read_barriers(barriers_paths, crs=crs) if barriers_paths else None
    grids = _read_grids(grids_path, crs=crs) if grids_path else None
    read_s = time.perf_counter() - start
    result = rebalance(
        existing,
        households,
        params=params,
        subdistricts=subdistricts,
        barriers=barriers,
        grids=grids,
        small_margin=small_margin,
    )
    p = result.proposal
    metrics = proposal_metrics(p, params=params, subdistricts=subdistricts)
    summary = {
        "inputs": {
            "communities": str(communities_path),
            "households": str(households_path),
            "crs": crs,
            "streets": subdistricts_path and str(subdistricts_path),
            "barriers": [str(b) for b in barriers_paths or []],
            "grids": grids_path and str(grids_path),
        },
        "parameters": {
            **params.to_dict(),
            "small_margin": small_margin,
        },
        "data": households.summary(),
        "rebalance": result.report.as_dict(),
        "stability": result.report.stability,
        "households_outside_existing": result.report.households_outside_existing,
        **metrics,
        "runtime_s": {"read": round(read_s, 3), **{k: round(v, 3) for k, v in p.timings.items()}},
    }
    paths = write_plan(
        out_dir,
        households=households,
        buildings=p.buildings,
        communities=p.communities,
        grids=p.grids,
        band=params.community_band,
    )
    paths["summary"] = write_summary(Path(out_dir) / "summary.json", summary)
    return result, summary, paths


def _read_barriers(paths: Sequence[str | Path], *, crs: str) -> gpd.GeoDataFrame:
    """Every barrier file as one frame in WGS84."""
    frames = [read_barriers(p, crs=crs).frame for p in paths]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def _read_grids(path: str | Path, *, crs: str) -> gpd.GeoDataFrame:
    """An existing grids layer in WGS84 with ``grid_id`` (and ``community_id`` if given)."""
    raw, _ = read_table(path)
    label = str(path)
    if not isinstance(raw, gpd.GeoDataFrame):
        raise InputFormatError(
            f"{label}: expected a polygon layer of grids; found a table "
            "without geometry; fix: export the grids as GeoJSON or GPKG."
        )
    aliases = {
        "grid_id": ("grid_id", "网格编号", "网格代码", "id", "code"),
        "community_id": ("community_id", "社区代码", "社区编码"),
    }
    roles, _problems = resolve_columns(raw.columns.drop(raw.geometry.name), aliases, label=label)
    if "grid_id" not in roles:
        raise InputFormatError(
            f"{label}: expected a grid id column (grid_id / 网格编号); "
            f"found {', '.join(map(str, raw.columns))}; fix: name it grid_id."
        )
    data = {"grid_id": raw[roles["grid_id"]].astype(str).to_numpy()}
    if "community_id" in roles:
        data["community_id"] = raw[roles["community_id"]].astype(str).to_numpy()
    series = gpd.GeoSeries(raw.geometry.array, crs=parse_crs(crs).crs)
    return gpd.GeoDataFrame(
        data, geometry=geometry_to_wgs84(series, parse_crs(crs)).array, crs="EPSG:4326"
    )


# ---------------------------------------------------------------------- compare


@dataclass(frozen=True, eq=False)
class CompareRun:
    """Two plan folders read, compared, and the comparison written (``paths``)."""

    a: PlanLayers
    b: PlanLayers
    comparison: Comparison
    paths: dict[str, Path]


def run_compare(
    a_path: str | Path,
    b_path: str | Path,
    *,
    out_dir: str | Path,
    crs: str | None = None,
    facilities_path: str | Path | None = None,
    facilities_crs: str | None = None,
    standard: str | Path | None = None,
    year: int | None = None,
) -> CompareRun:
    """Read two plan folders, compare them, write ``compare.json`` and ``diff.geojson``.

    Parameters
    ----------
    a_path, b_path
        Folders written by ``propose`` or ``rebalance`` (A is the reference).
    out_dir
        Where the comparison goes.
    crs
        The households files' declared CRS; by default the one each ``summary.json`` records.
    facilities_path, facilities_crs
        Facilities for compliance deltas, in ``facilities_crs`` (default: ``crs``, else A's).
    standard, year
        As for :func:`planning.plans.compare.compare_plans`.
    """
    a = read_plan_folder(a_path, crs=crs)
    b = read_plan_folder(b_path, crs=crs)
    facilities = None
    if facilities_path:
        layer_crs = facilities_crs or crs or _summary_crs(a_path)
        facilities = read_facilities(facilities_path, crs=layer_crs, require_area=True).frame
    comparison = compare_plans(a, b, standard=standard, facilities=facilities, year=year)
    return CompareRun(a, b, comparison, write_comparison(comparison, out_dir))


def _summary_crs(folder: str | Path) -> str | None:
    """The households' CRS a plan folder's ``summary.json`` records (None: none)."""
    path = Path(folder) / "summary.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8")).get("inputs", {}).get("crs")
    return None


def read_plan_folder(path: str | Path, *, crs: str | None = None) -> PlanLayers:
    """A plan folder written by ``propose`` or ``rebalance``.

    ``crs`` is the households file's declared CRS; by default the one ``summary.json``
    records.
    """
    folder = Path(path)
    needed = [folder / "communities.geojson", folder / "households.csv"]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        raise InputFormatError(
            f"{folder}: expected a plan folder written by propose or rebalance "
            f"(communities.geojson, households.csv, summary.json); missing {', '.join(missing)}; "
            "fix: point at the --out folder of a run."
        )
    summary = {}
    if (folder / "summary.json").exists():
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    crs = crs or summary.get("inputs", {}).get("crs")
    if not crs:
        raise InputFormatError(
            f"{folder}: the households' CRS is unknown (no summary.json with inputs.crs); "
            "expected a declared CRS; fix: pass --crs (wgs84, gcj02, bd09, cgcs2000, EPSG code)."
        )
    parameters = summary.get("parameters", {})
    params = ProposeParams.from_dict(parameters)
    households = read_households(folder / "households.csv", crs=crs)
    rows = households.rows
    for column in ("community_id", "grid_id"):
        if column not in rows.columns:
            raise InputFormatError(
                f"{folder / 'households.csv'}: expected a {column} column (written by propose); "
                "found none; fix: compare plan folders, not raw household files."
            )
    per_building = (
        pd.DataFrame(
            {
                "b": rows["_building_index"].to_numpy(),
                "community_id": rows["community_id"]
                .astype("string")
                .fillna("")
                .to_numpy(dtype=object),
                "grid_id": rows["grid_id"].astype("string").fillna("").to_numpy(dtype=object),
            }
        )
        .groupby("b")
        .first()
    )
    buildings = households.buildings.copy()
    buildings["community_id"] = per_building["community_id"].reindex(buildings.index).to_numpy()
    buildings["grid_id"] = per_building["grid_id"].reindex(buildings.index).to_numpy()
    communities = _read_layer(folder / "communities.geojson", "community_id")
    grids = (
        _read_layer(folder / "grids.geojson", "grid_id")
        if (folder / "grids.geojson").exists()
        else None
    )
    return PlanLayers(folder.name, buildings, communities, grids, households.metric_crs, params)


def _read_layer(path: Path, id_column: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path)
    if id_column not in frame.columns:
        raise InputFormatError(
            f"{path}: expected a {id_column} column; found "
            f"{', '.join(map(str, frame.columns))}; fix: use propose output."
        )
    frame[id_column] = frame[id_column].astype(str)
    if "community_id" in frame.columns:
        frame["community_id"] = frame["community_id"].astype(str)
    return frame.set_crs("EPSG:4326", allow_override=True)


def write_comparison(comparison: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """compare.json and diff.geojson (RFC 7946) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "compare": write_summary(out / "compare.json", comparison.as_dict()),
        "diff": write_geojson(comparison.diff, out / "diff.geojson"),
    }
