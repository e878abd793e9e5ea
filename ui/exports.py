"""The files the Export page hands out, as bytes (no streamlit here).

Each function writes with the library's writers into a temporary folder and returns the file's
bytes, so what the app downloads is exactly what the command line writes: GeoJSON (RFC 7946,
WGS84), GeoPackage and zipped Shapefile in CGCS2000 (or its 3-degree zone), the households
with their community and grid, the compliance CSV and printable report, the audit log, the
project file and the print map (PNG or PDF, drawn by :func:`planning.render_map`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.export import spreadsheet_safe, write_geojson, write_geopackage, write_shapefile_zip
from geo.intake import Households
from planning import (
    ComplianceResult,
    Plan,
    ProposeParams,
    audit_table,
    building_frame,
    community_frame,
    create_project,
    grid_frame,
    plan_map_layers,
    render_map,
    save_scenario,
    write_compliance,
    write_plan,
)
from ui.i18n import text
from ui.state import DataSource

__all__ = [
    "AUDIT_KEYS",
    "BARRIER_KINDS",
    "EXPORT_CRS",
    "PrintSheet",
    "audit_csv",
    "compliance_files",
    "district_name",
    "geojson_bytes",
    "geopackage_bytes",
    "plan_files",
    "print_map_bytes",
    "project_bytes",
    "shapefile_zip_bytes",
]

#: The locale keys (``edit.history.<key>``) heading the audit log's columns, in the order of
#: :func:`planning.audit_table`'s columns.
AUDIT_KEYS = ("time", "author", "what", "from", "to", "households")

#: The layers of roads, rivers and railways a source may hold (one file of each, or one of
#: mixed kinds), all drawn on the print map.
BARRIER_KINDS = ("roads", "water", "railways", "barriers")

#: The CRS choices of the bureau formats (``geo.export``'s forms).
EXPORT_CRS = ("cgcs2000", "zone", "zone-prefixed")


def _read(path: Path) -> bytes:
    return Path(path).read_bytes()


def plan_files(plan: Plan, households: Households, *, params: ProposeParams) -> dict[str, bytes]:
    """``communities.geojson``, ``grids.geojson`` (RFC 7946, with the CLI's extra columns:
    Polsby-Popper, km², in band) and ``households.csv`` (every input row with its
    ``community_id`` and ``grid_id``), as :func:`planning.plans.folder.write_plan` writes them."""
    buildings = building_frame(plan)
    ids = households.buildings["building_id"].astype(str).to_numpy()
    mine = buildings["building_id"].astype(str).to_numpy()
    if len(ids) == len(mine) and (ids != mine).any() and set(ids) == set(mine):
        # a plan opened from a project: the same buildings, perhaps in another order
        buildings = buildings.set_index(mine).loc[ids].reset_index(drop=True)
    with tempfile.TemporaryDirectory(prefix="planner-export-") as folder:
        paths = write_plan(
            folder,
            households=households,
            buildings=buildings,
            communities=community_frame(plan),
            grids=grid_frame(plan),
            band=params.community_band,
        )
        return {Path(p).name: _read(p) for p in paths.values()}


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """A layer as RFC 7946 GeoJSON (WGS84, 7 decimals)."""
    with tempfile.TemporaryDirectory(prefix="planner-export-") as folder:
        return _read(write_geojson(frame, Path(folder) / "layer.geojson"))


def geopackage_bytes(layers: Mapping[str, gpd.GeoDataFrame], *, crs: str = "cgcs2000") -> bytes:
    """One GeoPackage with a layer per entry of ``layers``, in ``crs``."""
    with tempfile.TemporaryDirectory(prefix="planner-export-") as folder:
        path = Path(folder) / "plan.gpkg"
        for name, frame in layers.items():
            write_geopackage(frame, path, layer=name, crs=crs)
        return _read(path)


def shapefile_zip_bytes(frame: gpd.GeoDataFrame, *, name: str, crs: str = "cgcs2000") -> bytes:
    """A zipped Shapefile (UTF-8, with ``fields.csv`` naming the shortened fields)."""
    with tempfile.TemporaryDirectory(prefix="planner-export-") as folder:
        written = write_shapefile_zip(frame, Path(folder) / f"{name}.zip", crs=crs)
        return _read(written.path)


def compliance_files(result: ComplianceResult) -> dict[str, bytes]:
    """``compliance.csv`` (UTF-8 with BOM), ``compliance.geojson`` and ``report.html``."""
    with tempfile.TemporaryDirectory(prefix="planner-export-") as folder:
        paths = write_compliance(result, folder)
        return {Path(p).name: _read(p) for p in paths.values()}


def audit_csv(plan: Plan, *, lang: str = "zh") -> bytes:
    """The plan's audit log (time, author, what, from, to, households affected) as CSV, headed
    and worded in ``lang``: each edit's what, from and to from its records (an entry without
    records — from a project saved before they were kept — as stored, in English)."""
    table = audit_table(plan)
    if len(table):
        table[["what", "from", "to"]] = [list(entry.texts(lang)) for entry in plan.log]
    headers = {
        column: text(f"edit.history.{key}", lang)
        for column, key in zip(table.columns, AUDIT_KEYS, strict=True)
    }
    table = table.rename(columns=headers)
    return spreadsheet_safe(table).to_csv(index=False).encode("utf-8-sig")


def project_bytes(
    plans: Mapping[str, Plan],
    *,
    params: ProposeParams,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    author: str = "",
) -> bytes:
    """A project file (GeoPackage) with the input layers and every scenario in ``plans``.

    ``layers`` holds ``streets``, ``barriers`` and ``facilities`` (WGS84, or None); the
    households come from the plans' district.
    """
    first = next(iter(plans.values()))
    district = first.district
    with tempfile.TemporaryDirectory(prefix="planner-project-") as folder:
        path = Path(folder) / "project.gpkg"
        create_project(
            path,
            buildings=district.buildings,
            metric_crs=district.metric_crs,
            subdistricts=layers.get("streets"),
            barriers=layers.get("barriers"),
            facilities=layers.get("facilities"),
        )
        for name, plan in plans.items():
            save_scenario(path, name, plan, author=author, params=params)
        return _read(path)


@dataclass(frozen=True)
class PrintSheet:
    """What the planner chose for a print map: ``fmt`` is ``png`` or ``pdf``, ``paper`` a key
    of :data:`planning.PAPERS`, ``lang`` ``zh`` or ``en``; the texts as typed."""

    fmt: str
    title: str
    paper: str = "A4"
    lang: str = "zh"
    editor: str = ""
    organisation: str = ""
    date: dt.date | None = None


def print_map_bytes(
    plan: Plan,
    *,
    params: ProposeParams,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    sheet: PrintSheet,
) -> bytes:
    """The plan as a print map (title, legend, scale bar, north arrow, CRS note, date and
    editor), drawn from memory over the buildings, the ``streets`` of ``layers`` and its
    barrier files (:data:`BARRIER_KINDS`; WGS84, or None)."""
    buildings = building_frame(plan)
    summary = {
        "communities": {"band": list(params.community_band)},
        "grids": {"band": list(params.grid_band)},
    }
    map_layers = plan_map_layers(
        community_frame(plan),
        grids=grid_frame(plan),
        buildings=buildings[["households", "geometry"]] if "households" in buildings else None,
        barriers=_barrier_lines(layers),
        subdistricts=layers.get("streets"),
        summary=summary,
    )
    with tempfile.TemporaryDirectory(prefix="planner-map-") as folder:
        drawn = render_map(
            map_layers,
            Path(folder) / f"map.{sheet.fmt}",
            title=sheet.title or None,
            lang=sheet.lang,
            paper=sheet.paper,
            date=sheet.date,
            editor=sheet.editor,
            organisation=sheet.organisation,
        )
        return _read(drawn.path)


def _barrier_lines(layers: Mapping[str, gpd.GeoDataFrame | None]) -> gpd.GeoDataFrame | None:
    """Every barrier file of ``layers`` in one frame (WGS84), or None when there is none."""
    frames = [layers[k] for k in BARRIER_KINDS if layers.get(k) is not None and len(layers[k])]
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def district_name(source: DataSource, *, sample: str) -> str:
    """The district's name a print map's default title uses: ``sample`` for the built-in
    sample, else the household file's name when it is written in Chinese ("海淀区住户.csv" →
    "海淀区住户"); a file named in Latin letters ("households.csv") names no district ("")."""
    if source.kind == "sample":
        return sample
    stem = Path(source.households.label).stem
    return stem if any("\u4e00" <= ch <= "\u9fff" for ch in stem) else ""
