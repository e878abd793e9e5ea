"""The files the Export page hands out, as bytes (no streamlit here).

Each function writes with the library's writers into a temporary folder and returns the file's
bytes, so what the app downloads is exactly what the command line writes: GeoJSON (RFC 7946,
WGS84), GeoPackage and zipped Shapefile in CGCS2000 (or its 3-degree zone), the households
with their community and grid, the compliance CSV and printable report, the audit log and the
project file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

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
    save_scenario,
    write_compliance,
    write_plan,
)

__all__ = [
    "EXPORT_CRS",
    "audit_csv",
    "compliance_files",
    "geojson_bytes",
    "geopackage_bytes",
    "plan_files",
    "project_bytes",
    "shapefile_zip_bytes",
]

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


def audit_csv(plan: Plan) -> bytes:
    """The plan's audit log (time, author, what, from, to, households affected) as CSV."""
    return spreadsheet_safe(audit_table(plan)).to_csv(index=False).encode("utf-8-sig")


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
