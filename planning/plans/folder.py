"""Write a plan's files: communities.geojson, grids.geojson, households.csv, summary.json, and
the layers it was drawn on (buildings.geojson, barriers.geojson, streets.geojson,
footprints.geojson), so a plan folder is whole: ``python -m planning render`` draws it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo.export import spreadsheet_safe, write_geojson
from geo.intake import Households
from planning.engine.metrics import polsby_popper

__all__ = ["assignment_rows", "write_context", "write_plan", "write_summary"]


def assignment_rows(households: Households, buildings: pd.DataFrame) -> pd.DataFrame:
    """Every input row, in input order, with all original columns plus community_id, grid_id.

    ``buildings`` is aligned with ``households.buildings`` (same order) and carries
    ``community_id`` and ``grid_id``.
    """
    rows = households.rows
    index = rows["_building_index"].to_numpy()
    internal = [c for c in rows.columns if str(c).startswith("_")] + [rows.geometry.name]
    out = pd.DataFrame(rows.drop(columns=internal))
    out["community_id"] = buildings["community_id"].to_numpy(dtype=object)[index]
    out["grid_id"] = buildings["grid_id"].to_numpy(dtype=object)[index]
    if "lon" not in {str(c).lower() for c in out.columns} and households.source.kind == "spatial":
        out["lon_wgs84"] = np.round(rows.geometry.x.to_numpy(), 7)
        out["lat_wgs84"] = np.round(rows.geometry.y.to_numpy(), 7)
    return out


def write_plan(
    out_dir: str | Path,
    *,
    households: Households,
    buildings: pd.DataFrame,
    communities,
    grids,
    band: tuple[float, float],
) -> dict[str, Path]:
    """Write communities.geojson, grids.geojson and households.csv into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lower, upper = band
    comm = communities.copy()
    geoms = np.array(comm.geometry.array, dtype=object)
    comm["polsby_popper"] = np.round(polsby_popper(geoms), 4)
    comm["area_km2"] = np.round(shapely.area(geoms) / 1e6, 4)
    comm["in_band"] = (comm["households"] >= lower) & (comm["households"] <= upper)
    paths = {
        "communities": write_geojson(comm, out / "communities.geojson"),
        "grids": write_geojson(grids, out / "grids.geojson"),
    }
    table = assignment_rows(households, buildings)
    paths["households"] = out / "households.csv"
    spreadsheet_safe(table).to_csv(paths["households"], index=False, encoding="utf-8-sig")
    return paths


def write_context(
    out_dir: str | Path,
    *,
    buildings: pd.DataFrame,
    subdistricts=None,
    barriers=None,
    footprints=None,
) -> dict[str, Path]:
    """The layers a plan was drawn on, as RFC 7946 GeoJSON beside it: the buildings (points,
    with households, compound, community and grid), the barrier lines and the 街道 given, and
    the footprints (``geo.footprints.FootprintMatch``) with the community and grid of the
    building standing in each."""
    out = Path(out_dir)
    columns = [
        c
        for c in ("building_id", "households", "compound", "community_id", "grid_id")
        if c in buildings.columns
    ]
    paths = {
        "buildings_points": write_geojson(
            buildings[[*columns, "geometry"]], out / "buildings.geojson"
        )
    }
    if barriers is not None and len(barriers):
        keep = [c for c in ("kind", "road_class", "name") if c in barriers.columns]
        paths["barriers"] = write_geojson(barriers[[*keep, "geometry"]], out / "barriers.geojson")
    if subdistricts is not None and len(subdistricts):
        paths["streets"] = write_geojson(
            subdistricts[["name", "geometry"]], out / "streets.geojson"
        )
    if footprints is not None:
        import geopandas as gpd

        owner = np.full(len(footprints.footprint_id), -1, dtype=np.int64)
        matched = footprints.footprint_of_building >= 0
        owner[footprints.footprint_of_building[matched]] = np.flatnonzero(matched)
        has = owner >= 0
        frame = gpd.GeoDataFrame(
            {
                "footprint_id": footprints.footprint_id,
                "building_id": np.where(
                    has,
                    buildings["building_id"]
                    .astype(str)
                    .to_numpy(dtype=object)[np.maximum(owner, 0)],
                    None,
                ),
                "community_id": np.where(
                    has,
                    buildings["community_id"].to_numpy(dtype=object)[np.maximum(owner, 0)],
                    None,
                ),
                "grid_id": np.where(
                    has, buildings["grid_id"].to_numpy(dtype=object)[np.maximum(owner, 0)], None
                ),
            },
            geometry=list(footprints.geometry),
            crs=footprints.metric_crs,
        )
        paths["footprints"] = write_geojson(frame, out / "footprints.geojson")
    return paths


def write_summary(path: str | Path, summary: dict) -> Path:
    """summary.json: UTF-8, Chinese readable, numpy values as plain numbers."""
    path = Path(path)
    path.write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8"
    )
    return path


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
