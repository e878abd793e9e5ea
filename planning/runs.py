"""End-to-end runs shared by the command line and the app: read the files, call the library
(propose, check, rebalance), measure, write the files.

:mod:`planning.plans` and :mod:`planning.standards` never read or write a command's files; this
module is the layer above them.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.alignment import AlignedLayer, offset_warnings
from geo.columns import resolve_columns
from geo.crs import geometry_to_wgs84, parse_crs
from geo.errors import (
    CRSError,
    InputFormatError,
    PlanningInputError,
    Problem,
    ValidationError,
    ValidationReport,
)
from geo.export import write_geojson
from geo.footprints import FootprintMatch, match_footprints, read_footprints
from geo.intake import Households, read_households
from geo.layers import (
    LayerFile,
    read_barriers,
    read_communities,
    read_compounds,
    read_facilities,
    read_subdistricts,
)
from geo.records import GeoMessage
from geo.tables import read_table
from planning.engine.district import District
from planning.engine.metrics import plan_metrics, shape_metrics, unforced_barrier_crossings
from planning.engine.propose import Proposal, propose
from planning.parallel import Runner, StageClock, running
from planning.params import SMALL_MARGIN_RANGE, ProposeParams, range_problem
from planning.plans.compare import Comparison, PlanLayers, compare_plans
from planning.plans.folder import write_context, write_plan, write_summary
from planning.plans.rebalance import Rebalance, rebalance
from planning.records import Note
from planning.standards.compliance import ComplianceResult, check_compliance
from planning.standards.report import write_compliance
from planning.standards.rules import Standard, load_standard

__all__ = [
    "CompareRun",
    "Layers",
    "ProposeRun",
    "RebalanceRun",
    "attach_compounds",
    "geojson_crs",
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
    """A proposal with what it was made from: the layers read (``facilities`` when given, for
    :func:`write_compliance_for`), the files written and every warning met reading."""

    households: Households
    proposal: Proposal
    summary: dict
    subdistricts: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    facilities: gpd.GeoDataFrame | None = None
    warnings: tuple[Problem, ...] = ()
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage


@dataclass(frozen=True)
class CompoundPolygons:
    """What ``--compounds`` brought: polygons read, of them without a name (given an id
    ``未命名小区-N``), and buildings that took a compound name from them."""

    polygons: int
    unnamed: int
    buildings_named: int

    def as_dict(self) -> dict[str, int]:
        return {
            "polygons": self.polygons,
            "unnamed": self.unnamed,
            "buildings_named": self.buildings_named,
        }


#: Columns a compound polygon's name is read from, in order.
COMPOUND_NAME_COLUMNS = ("name", "名称", "小区名称", "小区")


def attach_compounds(
    buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, *, metric_crs
) -> tuple[gpd.GeoDataFrame, CompoundPolygons]:
    """Give buildings without a compound the name of the compound polygon they stand in.

    A polygon without a name is still a compound: it is called ``未命名小区-N`` (N its
    feature number), so its buildings are kept together like any other's."""
    out = buildings.copy()
    polys = compounds.to_crs(metric_crs)
    name_col = next((c for c in COMPOUND_NAME_COLUMNS if c in polys.columns), None)
    raw = polys[name_col] if name_col else pd.Series([None] * len(polys), index=polys.index)
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    names = np.where(
        missing.to_numpy(),
        [f"未命名小区-{i + 1}" for i in range(len(polys))],
        text.fillna("").to_numpy(dtype=object),
    ).astype(object)
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


def measure_proposal(
    proposal: Proposal, *, params: ProposeParams, subdistricts, runner: Runner | None = None
) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """(every metric of a proposal, per-feature shape columns for its communities and
    grids: see :func:`planning.engine.metrics.shape_metrics`).

    The plan's own metrics (:func:`planning.engine.metrics.plan_metrics`: they need the
    frames only, a few MB) are measured by a worker of ``runner`` while this process measures
    the shapes on the district (:meth:`planning.parallel.Runner.start`)."""
    pending = (runner or Runner()).start(
        functools.partial(
            plan_metrics,
            communities=proposal.communities,
            grids=proposal.grids,
            buildings=proposal.buildings,
            study_area=proposal.study_area,
            params=params,
            subdistricts=subdistricts,
            barriers=proposal.barriers,
            infeasible=proposal.infeasible,
        )
    )
    if proposal.district is None:
        return dict(pending()), {"communities": {}, "grids": {}}
    shapes, columns = _district_metrics(proposal, proposal.district, params=params)
    metrics = dict(pending())
    metrics["communities"].update(shapes["communities"])
    metrics["grids"].update(shapes["grids"])
    return metrics, columns


def _district_metrics(
    proposal: Proposal, district: District, *, params: ProposeParams
) -> tuple[dict[str, dict], dict[str, dict[str, np.ndarray]]]:
    """The metrics measured on the proposal's district: the barrier crossings that were not
    forced, and the shapes (:func:`planning.engine.metrics.shape_metrics`), by level; and
    the per-feature shape columns."""
    of_building = district.sites.of_building
    ids = np.empty(int(proposal.site_community.max()) + 1, dtype=object)
    first = np.unique(proposal.site_community[of_building], return_index=True)[1]
    labels = proposal.site_community[of_building][first]
    ids[labels] = proposal.buildings["community_id"].to_numpy(dtype=object)[first]
    unforced = unforced_barrier_crossings(
        district,
        proposal.site_community,
        ids,
        lower=params.community_band[0],
        upper=params.community_band[1],
    )
    shapes, columns = shape_metrics(
        district,
        proposal.buildings,
        proposal.communities,
        proposal.grids,
        community_upper=params.community_band[1],
        grid_upper=params.grid_band[1],
    )
    communities = {
        "barrier_crossings_unforced": unforced,
        "barrier_crossings_unforced_count": len(unforced),
        **shapes["communities"],
    }
    return {"communities": communities, "grids": shapes["grids"]}, columns


def summarise(
    proposal: Proposal,
    *,
    params: ProposeParams,
    households: Households,
    subdistricts,
    inputs: Mapping[str, object],
    runtime: dict,
    metrics: dict | None = None,
) -> dict:
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
    ``compounds_path`` where given), the 街道, barrier and facility frames in WGS84, and every
    warning met reading them."""

    households: Households
    buildings: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame | None
    barriers: gpd.GeoDataFrame | None
    barrier_paths: list[str | Path]
    compound_polygons: CompoundPolygons | None = None
    footprints: FootprintMatch | None = None
    facilities: gpd.GeoDataFrame | None = None
    warnings: tuple[Problem, ...] = ()


class _Reads:
    """Every input read before anything is computed: each reader's problems are collected
    (a refused file does not stop the others being read), then :meth:`done` raises once with
    the problems of every file, or hands back the warnings."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def read(self, label: str | Path, reader: Callable[[], _T]) -> _T | None:
        """``reader()``, or None with its problems kept."""
        try:
            result = reader()
        except ValidationError as exc:
            self.problems.extend(exc.problems)
            return None
        except PlanningInputError as exc:
            self.problems.append(_problem_of(exc, str(label)))
            return None
        report = getattr(result, "report", None)
        if isinstance(report, ValidationReport):
            self.problems.extend(report.warnings)
        return result

    def warn(self, problems: Sequence[Problem]) -> None:
        self.problems.extend(problems)

    def done(self) -> tuple[Problem, ...]:
        """The warnings met; raises ValidationError with every problem when one is an error."""
        if any(p.is_error for p in self.problems):
            raise ValidationError(self.problems)
        return tuple(self.problems)


_T = TypeVar("_T")

_PROSE = re.compile(
    r"^(?P<message>.*?)[.;:]?\s*expected:?\s*(?P<expected>.*?)[.;]\s*"
    r"found:?\s*(?P<found>.*?)[.;]\s*fix:?\s*(?P<fix>.*)$",
    re.IGNORECASE | re.DOTALL,
)


def _problem_of(exc: PlanningInputError, label: str) -> Problem:
    """A reader's refusal in prose (``file: what; expected …; found …; fix: …``) as a
    Problem, so it is listed with the problems of the other files."""
    text, name = str(exc), Path(label).name
    for prefix in (f"{label}: ", f"{name}: "):
        text = text.removeprefix(prefix)
    label = name
    match = _PROSE.match(text)
    record = GeoMessage.of("refusal", refusal=exc.record) if exc.record is not None else None
    if match is None:
        return Problem(
            "error",
            label,
            text,
            expected="a file this layer can be read from",
            found="the refusal above",
            fix="as the refusal says",
            record=record,
        )
    return Problem(
        "error",
        label,
        match["message"] or "refused",
        expected=match["expected"],
        found=match["found"],
        fix=match["fix"].rstrip("."),
        record=record,
    )


def geojson_crs(
    path: str | Path, *, crs: str | int, declared: str | int | None = None, option: str
) -> tuple[str | int, tuple[Problem, ...]]:
    """The CRS a layer is read in: ``declared`` when given; for a GeoJSON file (``.geojson``,
    ``.json``) that states no coordinate system (no ``crs`` member, no note such as the
    sample district's ``coordinate_system``) WGS84, as RFC 7946 defines GeoJSON and as every
    GeoJSON this tool writes is; else ``crs``.

    Returns
    -------
    (crs, warnings)
        A warning when the file is read as WGS84 although ``crs`` says otherwise, naming
        ``option`` to say so if the file is not RFC 7946 after all.
    """
    if declared:
        return declared, ()
    if not _states_no_crs(Path(path)):
        return crs, ()
    try:
        source = parse_crs(crs)
    except CRSError:
        return crs, ()  # the households' reader refuses it
    if source.key == "wgs84" or (source.crs.to_epsg() == 4326 and not source.is_offset):
        return "wgs84", ()
    return "wgs84", (
        Problem.of(
            "warning",
            str(path.name),
            Note.of("runs.geojson_wgs84", system=source.label, option=option, crs=str(crs)),
        ),
    )


def _states_no_crs(path: Path) -> bool:
    """True for a readable GeoJSON file with neither a ``crs`` member nor a
    ``coordinate_system`` note at its top."""
    if path.suffix.lower() not in (".geojson", ".json") or not path.is_file():
        return False
    try:
        members = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False  # the reader says what is wrong with the file
    return isinstance(members, dict) and not {"crs", "coordinate_system"} & set(members)


def read_layers(
    households_path: str | Path,
    *,
    crs: str,
    subdistricts_path: str | Path | LayerFile | None = None,
    barriers_path: str | Path | LayerFile | Sequence[str | Path | LayerFile] | None = None,
    compounds_path: str | Path | LayerFile | None = None,
    buildings_path: str | Path | LayerFile | None = None,
    facilities_path: str | Path | None = None,
    layer_crs: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    reading: Mapping[str, object] | None = None,
) -> Layers:
    """Read every layer of a proposal, each in ``crs`` unless ``layer_crs`` overrides it
    (keys ``streets``, ``barriers``, ``compounds``, ``buildings``, ``facilities``) or — for
    the 街道, barrier, compound and footprint files given as a
    :class:`~geo.layers.LayerFile` — the file says its
    own CRS (and, for a barrier file, what it holds; for a workbook or GeoPackage, the part to
    read); several barrier files become one frame; building footprints (``buildings_path``)
    are matched to the households' buildings; facilities need a floor area. ``reading`` holds
    the keyword arguments of :func:`geo.intake.read_households` that say how to read the
    households (``sheet``, ``layer``, ``header_row``, ``allow_large_counts``).

    Raises
    ------
    ValidationError
        With the problems of every file at once, when any file is refused: all files are read
        before this is raised.
    """
    layer_crs = dict(layer_crs or {})
    reads = _Reads()
    households = reads.read(
        households_path,
        lambda: read_households(households_path, crs=crs, columns=columns, **dict(reading or {})),
    )
    subdistricts = barriers = facilities = None
    streets = _layer_file(subdistricts_path, layer_crs.get("streets", crs))
    if streets is not None:
        layer = reads.read(
            streets.path,
            lambda: read_subdistricts(streets.path, crs=streets.crs, **streets.part_options()),
        )
        subdistricts = layer and layer.frame
    barrier_files = [
        _layer_file(p, layer_crs.get("barriers", crs))
        for p in (
            [barriers_path]
            if isinstance(barriers_path, str | Path | LayerFile)
            else list(barriers_path or [])
        )
    ]
    barrier_paths = [f.path for f in barrier_files if f is not None]
    if barrier_files:
        barriers = _read_barriers(barrier_files, crs=layer_crs.get("barriers", crs), reads=reads)
    compounds = footprint_layer = None
    compound_file = _layer_file(compounds_path, layer_crs.get("compounds", crs))
    if compound_file is not None:
        compounds = reads.read(
            compound_file.path,
            lambda: read_compounds(
                compound_file.path, crs=compound_file.crs, **compound_file.part_options()
            ),
        )
    footprint_file = _layer_file(buildings_path, layer_crs.get("buildings", crs))
    if footprint_file is not None:
        footprint_layer = reads.read(
            footprint_file.path,
            lambda: read_footprints(
                footprint_file.path, crs=footprint_file.crs, **footprint_file.part_options()
            ),
        )
    if facilities_path:
        layer = reads.read(
            facilities_path,
            lambda: read_facilities(
                facilities_path, crs=layer_crs.get("facilities", crs), require_area=True
            ),
        )
        facilities = layer and layer.frame
    reads.done()
    assert households is not None  # done() raised when it was refused
    buildings = households.buildings
    compound_polygons = footprints = None
    if compounds is not None:
        buildings, compound_polygons = attach_compounds(
            buildings, compounds.frame, metric_crs=households.metric_crs
        )
    if footprint_layer is not None:
        footprints = match_footprints(
            buildings, footprint_layer.frame, metric_crs=households.metric_crs
        )
        reads.warn(footprints.report.warnings)
    reads.warn(
        _offset_warnings(
            households,
            households_path,
            [
                (streets and streets.path, subdistricts, streets and streets.crs, "--streets-crs"),
                *_barrier_groups(barrier_files, barriers),
                (
                    compound_file and compound_file.path,
                    compounds and compounds.frame,
                    compound_file and compound_file.crs,
                    "--compounds-crs",
                ),
                (
                    footprint_file and footprint_file.path,
                    footprint_layer and footprint_layer.frame,
                    footprint_file and footprint_file.crs,
                    "--buildings-crs",
                ),
            ],
        )
    )
    return Layers(
        households,
        buildings,
        subdistricts,
        barriers,
        barrier_paths,
        compound_polygons,
        footprints,
        facilities,
        reads.done(),
    )


def _offset_warnings(
    households: Households,
    households_path: str | Path,
    layers: Sequence[
        tuple[str | Path | list[str | Path] | None, gpd.GeoDataFrame | None, str | int, str]
    ],
) -> tuple[Problem, ...]:
    """A warning for every layer (path or paths, frame in WGS84, declared CRS, the option
    declaring it) that sits off the households by the GCJ-02 / BD-09 shift
    (:func:`geo.alignment.offset_warnings`)."""
    aligned = []
    for paths, frame, layer_crs, option in layers:
        if frame is None or paths is None:
            continue
        names = [Path(p).name for p in (paths if isinstance(paths, list) else [paths])]
        aligned.append(AlignedLayer(", ".join(names), frame.geometry, layer_crs, option))
    return offset_warnings(
        households.buildings.geometry,
        aligned,
        points_crs=households.source_crs,
        points_label=Path(households_path).name,
        metric_crs=households.metric_crs,
    )


def run_propose(
    households_path: str | Path,
    *,
    crs: str,
    out_dir: str | Path | None = None,
    subdistricts_path: str | Path | LayerFile | None = None,
    barriers_path: str | Path | LayerFile | Sequence[str | Path | LayerFile] | None = None,
    compounds_path: str | Path | LayerFile | None = None,
    buildings_path: str | Path | LayerFile | None = None,
    facilities_path: str | Path | None = None,
    layer_crs: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    reading: Mapping[str, object] | None = None,
    params: ProposeParams | None = None,
    progress: Callable[[str, float], None] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> ProposeRun:
    """Check the parameters, read every layer (each in ``crs`` unless ``layer_crs`` overrides
    it) before anything is computed, propose, measure, and write the plan files when
    ``out_dir`` is given. ``facilities_path`` is only read here (refused with the other files,
    before the plan is computed); :func:`write_compliance_for` checks the plan against it.

    summary.json holds every warning met (``warnings``: the problems as dicts) beside the
    households' count (``data.warnings``)."""
    params = (params or ProposeParams()).validate()
    clock = StageClock()
    with clock.stage("read"):
        layers = read_layers(
            households_path,
            crs=crs,
            subdistricts_path=subdistricts_path,
            barriers_path=barriers_path,
            compounds_path=compounds_path,
            buildings_path=buildings_path,
            facilities_path=facilities_path,
            layer_crs=layer_crs,
            columns=columns,
            reading=reading,
        )
    households, subdistricts, barriers = layers.households, layers.subdistricts, layers.barriers
    proposal = propose(
        layers.buildings,
        metric_crs=households.metric_crs,
        subdistricts=subdistricts,
        barriers=barriers,
        footprints=layers.footprints,
        params=params,
        progress=progress,
        workers=workers,
        scheduler=scheduler,
    )
    clock.wall_s.update(proposal.timings)
    clock.cpu_s.update(proposal.cpu_s)
    with running(workers=workers, scheduler=scheduler) as runner:
        context = None
        if out_dir is not None:  # the layers it was drawn on: written beside the metrics
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            context = runner.start(
                functools.partial(
                    write_context,
                    out_dir,
                    buildings=proposal.buildings,
                    subdistricts=subdistricts,
                    barriers=barriers,
                    footprints=layers.footprints,
                )
            )
        with clock.stage("metrics"):
            inputs = {
                "households": str(households_path),
                "crs": crs,
                "streets": subdistricts_path and str(_layer_file(subdistricts_path, crs).path),
                "barriers": [str(p) for p in layers.barrier_paths],
                "compounds": compounds_path and str(_layer_file(compounds_path, crs).path),
                "buildings": buildings_path and str(_layer_file(buildings_path, crs).path),
            }
            metrics, columns = measure_proposal(
                proposal, params=params, subdistricts=subdistricts, runner=runner
            )
            summary = summarise(
                proposal,
                params=params,
                households=households,
                subdistricts=subdistricts,
                inputs=inputs,
                runtime=clock.wall_s,
                metrics=metrics,
            )
            if layers.compound_polygons is not None:
                summary["data"]["compound_polygons"] = layers.compound_polygons.as_dict()
            if layers.footprints is not None:
                summary["data"]["footprints"] = footprint_summary(layers.footprints)
            summary["warnings"] = [problem.as_dict() for problem in layers.warnings]
        summary["runtime_s"]["metrics"] = round(clock.wall_s["metrics"], 3)
        paths: dict[str, Path] = {}
        if out_dir is not None and context is not None:
            with clock.stage("write"):
                paths = write_plan(
                    out_dir,
                    households=households,
                    buildings=proposal.buildings,
                    communities=proposal.communities.assign(**columns["communities"]),
                    grids=proposal.grids.assign(**columns["grids"]),
                    band=params.community_band,
                )
                paths.update(context())
            summary["runtime_s"]["write"] = round(clock.wall_s["write"], 3)
            summary["runtime_s"]["total"] = round(sum(summary["runtime_s"].values()), 3)
            paths["summary"] = write_summary(Path(out_dir) / "summary.json", summary)
    return ProposeRun(
        households,
        proposal,
        summary,
        subdistricts,
        barriers,
        paths,
        layers.facilities,
        layers.warnings,
        clock.cpu_s,
    )


def write_compliance_for(
    run: ProposeRun,
    *,
    standard: str | Path,
    out_dir: str | Path,
    facilities_path: str | Path | None = None,
    crs: str | None = None,
):
    """The standards check of a proposal: compliance.csv, compliance.geojson, report.html.

    The facilities are those ``run`` read (``run_propose(facilities_path=…)``, refused before
    the plan was computed) unless ``facilities_path`` (in ``crs``) is given."""
    preset = load_standard(standard)
    if facilities_path is not None:
        facilities = read_facilities(
            facilities_path, crs=crs or run.summary["inputs"]["crs"], require_area=True
        ).frame
    elif run.facilities is not None:
        facilities = run.facilities
    else:
        raise InputFormatError(Note.of("runs.no_facilities"))
    communities = run.proposal.communities.to_crs("EPSG:4326")
    grids = dict(zip(communities["community_id"], communities["grid_count"], strict=True))
    result = check_compliance(
        communities,
        run.households.buildings,
        facilities,
        standard=preset,
        metric_crs=run.households.metric_crs,
        grids_per_community=grids,
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
    communities_crs: str | int | None = None,
    facilities_crs: str | int | None = None,
    on_warnings: Callable[[tuple[Problem, ...]], object] | None = None,
    reading: Mapping[str, object] | None = None,
) -> ComplianceResult:
    """Check an existing plan against a standard and write the three report files.

    Every layer and the standard are read before anything is checked; the problems of all of
    them are raised at once.

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
    communities_crs
        The communities' CRS when it is not ``crs``; by default a GeoJSON file is WGS84
        (RFC 7946: :func:`geojson_crs`), so ``propose``'s communities.geojson reads back
        right whatever ``crs`` the households have.
    facilities_crs
        The facilities' CRS when it is not ``crs``.
    on_warnings
        Called once, before the check, with every warning met reading the layers.
    reading
        How to read the households (:func:`read_layers`).

    Raises
    ------
    ValidationError
        With every problem of every layer and the standard, when one is refused.
    """
    rules, communities, households, facilities, warnings = _read_check_layers(
        communities_path,
        households_path,
        crs=crs,
        facilities_path=facilities_path,
        standard=standard,
        id_column=id_column,
        communities_crs=communities_crs,
        facilities_crs=facilities_crs,
        reading=reading,
    )
    if on_warnings is not None:
        on_warnings(warnings)
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


def _read_check_layers(
    communities_path: str | Path,
    households_path: str | Path,
    *,
    crs: str | int,
    facilities_path: str | Path | None,
    standard: str | Path | Standard,
    id_column: str | None,
    communities_crs: str | int | None,
    facilities_crs: str | int | None = None,
    reading: Mapping[str, object] | None,
) -> tuple[Standard, gpd.GeoDataFrame, Households, gpd.GeoDataFrame | None, tuple[Problem, ...]]:
    """(standard, communities, households, facilities, warnings) of :func:`run_check`, all
    read before one raise with the problems of every file."""
    reads = _Reads()
    rules = reads.read(f"standard {standard}", lambda: load_standard(standard))
    layer_crs, notes = geojson_crs(
        communities_path, crs=crs, declared=communities_crs, option="--communities-crs"
    )
    reads.warn(notes)
    columns = {"community_id": id_column} if id_column else None
    communities = reads.read(
        communities_path, lambda: read_communities(communities_path, crs=layer_crs, columns=columns)
    )
    households = reads.read(
        households_path, lambda: read_households(households_path, crs=crs, **dict(reading or {}))
    )
    facilities = None
    if facilities_path is not None:
        facilities = reads.read(
            facilities_path,
            lambda: read_facilities(facilities_path, crs=facilities_crs or crs, require_area=True),
        )
    warnings = reads.done()
    assert rules is not None and communities is not None and households is not None
    warnings += _offset_warnings(
        households,
        households_path,
        [(communities_path, communities.frame, layer_crs, "--communities-crs")],
    )
    return (rules, communities.frame, households, facilities and facilities.frame, warnings)


@dataclass(frozen=True, eq=False)
class RebalanceRun:
    """A rebalance with its summary (as summary.json holds it), the files written and every
    warning met reading the layers."""

    result: Rebalance
    summary: dict
    paths: dict[str, Path]
    warnings: tuple[Problem, ...] = ()


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
    layer_crs: Mapping[str, str | int] | None = None,
    reading: Mapping[str, object] | None = None,
) -> RebalanceRun:
    """Check the parameters, read every layer before anything is computed (the problems of
    all files raised at once), rebalance, write the four files of ``propose``.

    Every layer is in ``crs`` unless ``layer_crs`` says otherwise (keys ``communities``,
    ``grids``, ``streets``, ``barriers``); communities and grids in a GeoJSON file stating no
    other CRS are WGS84 (RFC 7946: :func:`geojson_crs`), so ``propose``'s own files read back
    right. ``reading`` says how to read the households (:func:`read_layers`). summary.json
    holds every warning (``warnings``)."""
    params = (params or ProposeParams()).validate()
    margin = range_problem("small_margin", small_margin, SMALL_MARGIN_RANGE)
    if margin is not None:
        raise ValidationError([margin])
    start = time.perf_counter()
    households, existing, subdistricts, barriers, grids, warnings = _read_rebalance_layers(
        communities_path,
        households_path,
        crs=crs,
        subdistricts_path=subdistricts_path,
        barriers_paths=barriers_paths,
        grids_path=grids_path,
        id_column=id_column,
        layer_crs=dict(layer_crs or {}),
        reading=reading,
    )
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
        "warnings": [problem.as_dict() for problem in warnings],
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
    return RebalanceRun(result, summary, paths, warnings)


def _read_rebalance_layers(
    communities_path: str | Path,
    households_path: str | Path,
    *,
    crs: str,
    subdistricts_path: str | Path | None,
    barriers_paths: Sequence[str | Path] | None,
    grids_path: str | Path | None,
    id_column: str | None,
    layer_crs: Mapping[str, str | int],
    reading: Mapping[str, object] | None,
) -> tuple[
    Households,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame | None,
    gpd.GeoDataFrame | None,
    gpd.GeoDataFrame | None,
    tuple[Problem, ...],
]:
    """(households, communities, 街道, barriers, grids, warnings) of :func:`run_rebalance`,
    all read before one raise with the problems of every file."""
    reads = _Reads()
    households = reads.read(
        households_path, lambda: read_households(households_path, crs=crs, **dict(reading or {}))
    )
    existing_crs, notes = geojson_crs(
        communities_path, crs=crs, declared=layer_crs.get("communities"), option="--communities-crs"
    )
    reads.warn(notes)
    columns = {"community_id": id_column} if id_column else None
    existing = reads.read(
        communities_path,
        lambda: read_communities(communities_path, crs=existing_crs, columns=columns),
    )
    subdistricts = barriers = grids = None
    if subdistricts_path:
        layer = reads.read(
            subdistricts_path,
            lambda: read_subdistricts(subdistricts_path, crs=layer_crs.get("streets", crs)),
        )
        subdistricts = layer and layer.frame
    if barriers_paths:
        barriers = _read_barriers(barriers_paths, crs=layer_crs.get("barriers", crs), reads=reads)
    if grids_path:
        grids_crs, notes = geojson_crs(
            grids_path, crs=crs, declared=layer_crs.get("grids"), option="--grids-crs"
        )
        reads.warn(notes)
        grids = reads.read(grids_path, lambda: _read_grids(grids_path, crs=grids_crs))
    warnings = reads.done()
    assert households is not None and existing is not None
    warnings += _offset_warnings(
        households,
        households_path,
        [(communities_path, existing.frame, existing_crs, "--communities-crs")],
    )
    return households, existing.frame, subdistricts, barriers, grids, warnings


def _layer_file(entry: str | Path | LayerFile | None, crs: str | int) -> LayerFile | None:
    """``entry`` as a :class:`~geo.layers.LayerFile` read in its own CRS, else ``crs``."""
    if entry is None or entry == "":
        return None
    if not isinstance(entry, LayerFile):
        return LayerFile(entry, crs=crs)
    return entry if entry.crs is not None else replace(entry, crs=crs)


def _read_barriers(
    paths: Sequence[str | Path | LayerFile | None], *, crs: str | int, reads: _Reads
) -> gpd.GeoDataFrame | None:
    """Every barrier file (each in its own CRS, else ``crs``) as one frame in WGS84 (None when
    one was refused: ``reads`` holds why)."""
    files = [f for p in paths if (f := _layer_file(p, crs)) is not None]
    layers = [
        reads.read(
            f.path,
            lambda f=f: read_barriers(f.path, crs=f.crs, kind=f.kind, **f.part_options()),
        )
        for f in files
    ]
    if any(layer is None for layer in layers):
        return None
    frames = [layer.frame for layer in layers if layer is not None]
    barriers = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    barriers.attrs["rows_per_file"] = [len(frame) for frame in frames]
    return barriers


def _barrier_groups(
    files: Sequence[LayerFile | None], barriers: gpd.GeoDataFrame | None
) -> list[tuple[list[str | Path], gpd.GeoDataFrame | None, str | int, str]]:
    """The barrier files (read into ``barriers``, in order) grouped by the CRS they were
    read in, for :func:`_offset_warnings`: one group when they share it."""
    read = [f for f in files if f is not None]
    if barriers is None or not read:
        return []
    crs_of = [f.crs if f.crs is not None else "" for f in read]
    if len(set(map(str, crs_of))) == 1:
        return [([f.path for f in read], barriers, crs_of[0], "--barriers-crs")]
    ends = np.cumsum(barriers.attrs["rows_per_file"])
    starts = ends - np.asarray(barriers.attrs["rows_per_file"])
    groups: list[tuple[list[str | Path], gpd.GeoDataFrame | None, str | int, str]] = []
    for crs in dict.fromkeys(crs_of):
        chosen = [i for i, c in enumerate(crs_of) if c == crs]
        rows = np.concatenate([np.arange(starts[i], ends[i]) for i in chosen])
        groups.append(([read[i].path for i in chosen], barriers.iloc[rows], crs, "--barriers-crs"))
    return groups


def _read_grids(path: str | Path, *, crs: str | int) -> gpd.GeoDataFrame:
    """An existing grids layer in WGS84 with ``grid_id`` (and ``community_id`` if given)."""
    raw, _ = read_table(path)
    label = str(path)
    if not isinstance(raw, gpd.GeoDataFrame):
        raise InputFormatError(Note.of("runs.grids_no_geometry", label=label))
    aliases = {
        "grid_id": ("grid_id", "网格编号", "网格代码", "id", "code"),
        "community_id": ("community_id", "社区代码", "社区编码"),
    }
    roles, _problems = resolve_columns(raw.columns.drop(raw.geometry.name), aliases, label=label)
    if "grid_id" not in roles:
        columns = tuple(map(str, raw.columns))
        raise InputFormatError(Note.of("runs.grids_no_id", label=label, columns=columns))
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
    warnings: tuple[Problem, ...] = ()


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
    reads = _Reads()
    a = reads.read(a_path, lambda: _plan_folder(a_path, crs=crs))
    b = reads.read(b_path, lambda: _plan_folder(b_path, crs=crs))
    facilities = None
    if facilities_path:
        layer_crs = facilities_crs or crs or _summary_crs(a_path)
        if layer_crs:
            layer = reads.read(
                facilities_path,
                lambda: read_facilities(facilities_path, crs=layer_crs, require_area=True),
            )
            facilities = layer and layer.frame
        else:
            reads.warn(
                [
                    Problem.of(
                        "error",
                        str(facilities_path),
                        Note.of(
                            "runs.facilities_crs_unknown",
                            summary=str(Path(a_path) / "summary.json"),
                        ),
                        column="--facilities-crs",
                    )
                ]
            )
    warnings = reads.done()
    assert a is not None and b is not None
    comparison = compare_plans(
        a.layers, b.layers, standard=standard, facilities=facilities, year=year
    )
    paths = write_comparison(comparison, out_dir, warnings=warnings)
    return CompareRun(a.layers, b.layers, comparison, paths, warnings)


def _summary_crs(folder: str | Path) -> str | None:
    """The households' CRS a plan folder's ``summary.json`` records (None: none)."""
    path = Path(folder) / "summary.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8")).get("inputs", {}).get("crs")
    return None


@dataclass(frozen=True, eq=False)
class _PlanFolder:
    """A plan folder read, with the households' report (its warnings)."""

    layers: PlanLayers
    report: ValidationReport


def read_plan_folder(path: str | Path, *, crs: str | None = None) -> PlanLayers:
    """A plan folder written by ``propose`` or ``rebalance`` (see :func:`_plan_folder`)."""
    return _plan_folder(path, crs=crs).layers


def _plan_folder(path: str | Path, *, crs: str | None = None) -> _PlanFolder:
    """A plan folder written by ``propose`` or ``rebalance``, from any households file.

    households.csv is read with the column mapping ``summary.json`` records; its
    ``lon_wgs84``/``lat_wgs84`` columns (written for households given as a spatial file) are
    WGS84 whatever ``crs`` says. Otherwise ``crs`` is the households file's declared CRS; by
    default the one ``summary.json`` records.
    """
    folder = Path(path)
    needed = [folder / "communities.geojson", folder / "households.csv"]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        raise InputFormatError(
            Note.of("runs.not_plan_folder", folder=str(folder), missing=tuple(missing))
        )
    summary = {}
    if (folder / "summary.json").exists():
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    crs = crs or summary.get("inputs", {}).get("crs")
    if not crs and not _has_wgs84_columns(folder / "households.csv"):
        raise InputFormatError(Note.of("runs.plan_crs_unknown", folder=str(folder)))
    parameters = summary.get("parameters", {})
    params = ProposeParams.from_dict(parameters)
    crs, columns = _plan_households_columns(
        folder / "households.csv", crs=crs, recorded=summary.get("data", {}).get("columns")
    )
    # the tool wrote this file from households it accepted: a building it was allowed to hold
    # more than 5,000 households (--allow-large-counts) is read back as it was
    households = read_households(
        folder / "households.csv", crs=crs, columns=columns, allow_large_counts=True
    )
    rows = households.rows
    for column in ("community_id", "grid_id"):
        if column not in rows.columns:
            raise InputFormatError(
                Note.of(
                    "runs.plan_column_missing", file=str(folder / "households.csv"), column=column
                )
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
    return _PlanFolder(
        PlanLayers(folder.name, buildings, communities, grids, households.metric_crs, params),
        households.report,
    )


#: The position columns households.csv gets when the households came as a spatial file
#: (:func:`planning.plans.folder.assignment_rows`).
WGS84_COLUMNS = {"lon": "lon_wgs84", "lat": "lat_wgs84"}


def _header(path: Path) -> list[str]:
    """The column names of a CSV written by :func:`planning.plans.folder.write_plan`."""
    return list(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns.astype(str))


def _has_wgs84_columns(path: Path) -> bool:
    return path.exists() and set(WGS84_COLUMNS.values()) <= set(_header(path))


def _plan_households_columns(
    path: Path, *, crs: str | None, recorded: Mapping[str, str] | None
) -> tuple[str, dict[str, str] | None]:
    """(CRS, column mapping) to read a plan folder's households.csv: the mapping the run
    recorded, for the columns the file has; the ``lon_wgs84``/``lat_wgs84`` columns in WGS84
    when the households came as a spatial file."""
    header = set(_header(path))
    columns = {role: column for role, column in dict(recorded or {}).items() if column in header}
    if set(WGS84_COLUMNS.values()) <= header and not {"lon", "lat"} & set(columns):
        return "wgs84", {**columns, **WGS84_COLUMNS}
    return str(crs), columns or None


def _read_layer(path: Path, id_column: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path)
    if id_column not in frame.columns:
        columns = tuple(map(str, frame.columns))
        raise InputFormatError(
            Note.of("runs.layer_no_id", path=str(path), column=id_column, columns=columns)
        )
    frame[id_column] = frame[id_column].astype(str)
    if "community_id" in frame.columns:
        frame["community_id"] = frame["community_id"].astype(str)
    return frame.set_crs("EPSG:4326", allow_override=True)


def write_comparison(
    comparison: Comparison, out_dir: str | Path, *, warnings: Sequence[Problem] = ()
) -> dict[str, Path]:
    """compare.json (with ``warnings``: every warning met reading, as dicts) and diff.geojson
    (RFC 7946) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "compare": write_summary(
            out / "compare.json",
            {**comparison.as_dict(), "warnings": [p.as_dict() for p in warnings]},
        ),
        "diff": write_geojson(comparison.diff, out / "diff.geojson"),
    }
