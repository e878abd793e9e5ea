"""Compare two plans: metric deltas, households that change community, a diff layer.

A plan to compare is a :class:`PlanLayers`: building points with their community and grid,
community polygons (and grids), all in WGS84. Build one from an edited :class:`Plan`
(:func:`plan_layers`) or from a folder ``propose`` / ``rebalance`` wrote
(:func:`planning.runs.read_plan_folder`: ``communities.geojson``, ``grids.geojson``,
``households.csv``, ``summary.json``). Both plans must cover the same buildings (the same households file).

Communities of the two plans are matched one to one, greedily by the households they share
(ids are not trusted: two engine runs both number C001…). A household *changes community*
when its community in B is not the match of its community in A: a community split in two
keeps the larger part, so the households of the smaller part change; of two communities
merged, the smaller one's households change. The diff layer holds, for each pair (A's X,
B's Y) with such households, the parts of X ∩ Y that contain them: the areas that changed
hands. ``households_changed_id`` counts households whose community id text differs, which is
what matters when both plans share ids (a rebalance keeps its input's ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import InputFormatError
from planning.engine.metrics import polsby_popper, size_metrics
from planning.params import ProposeParams
from planning.plans.matching import match_by_households
from planning.plans.plan import Plan, building_frame, community_frame, grid_frame
from planning.records import Note

__all__ = [
    "Comparison",
    "PlanLayers",
    "compare_plans",
    "plan_layers",
]


@dataclass(frozen=True, eq=False)
class PlanLayers:
    """A plan as layers (WGS84): ``buildings`` (``building_id``, ``households``,
    ``community_id``, ``grid_id``, point), ``communities`` (``community_id``, ``name``,
    ``households``, polygon), ``grids`` (or None); the bands it was drawn for and the metric
    CRS of its data."""

    name: str
    buildings: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame | None
    metric_crs: pyproj.CRS
    params: ProposeParams = field(default_factory=ProposeParams)


def plan_layers(
    plan: Plan, *, params: ProposeParams | None = None, name: str = "plan"
) -> PlanLayers:
    """The layers of an (edited) plan."""
    return PlanLayers(
        name=name,
        buildings=building_frame(plan),
        communities=community_frame(plan).to_crs("EPSG:4326"),
        grids=grid_frame(plan).to_crs("EPSG:4326"),
        metric_crs=plan.district.metric_crs,
        params=params or ProposeParams(),
    )


@dataclass(frozen=True, eq=False)
class Comparison:
    """The differences between plan A and plan B.

    Attributes
    ----------
    a, b
        Metrics of each plan (``communities``, ``grids``, and ``compliance`` totals when a
        standard was given).
    delta
        B − A for every numeric metric.
    households_changed, share_changed
        Households whose community in B is not the match of their community in A.
    households_changed_id
        Households whose community id differs between A and B.
    matches
        A's community id, B's matched id (None: no match), households they share.
    diff
        The areas that changed hands (WGS84): ``from_community`` (A), ``to_community`` (B),
        ``households``, ``buildings``, ``area_km2``.
    """

    a: dict
    b: dict
    delta: dict
    households: int
    households_changed: int
    share_changed: float
    households_changed_id: int
    matches: pd.DataFrame
    diff: gpd.GeoDataFrame

    def as_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "delta": self.delta,
            "households": self.households,
            "households_changed": self.households_changed,
            "share_changed": self.share_changed,
            "households_changed_id": self.households_changed_id,
            "matches": self.matches.replace({np.nan: None}).to_dict(orient="records"),
            "diff_areas": len(self.diff),
        }


def _metrics(layers: PlanLayers, *, standard=None, facilities=None, year=None) -> dict:
    p = layers.params
    comm = layers.communities
    if "households" not in comm.columns:
        totals = layers.buildings.groupby("community_id")["households"].sum()
        comm = comm.assign(households=comm["community_id"].map(totals).fillna(0))
    geoms = np.asarray(comm.to_crs(layers.metric_crs).geometry.array, dtype=object)
    pp = polsby_popper(geoms)
    c_lower, c_upper = p.community_band
    out: dict = {
        "communities": size_metrics(
            comm["households"].to_numpy(dtype=float),
            lower=c_lower,
            upper=c_upper,
            target=p.community_size,
        )
    }
    out["communities"].update(
        {
            "polsby_popper_mean": round(float(pp.mean()), 4) if len(pp) else None,
            "polsby_popper_min": round(float(pp.min()), 4) if len(pp) else None,
            "multipart": int((shapely.get_num_geometries(geoms) > 1).sum()),
        }
    )
    per_community = layers.buildings.groupby("community_id")["grid_id"].nunique()
    grid_households = layers.buildings.groupby("grid_id")["households"].sum()
    g_lower, g_upper = p.grid_band
    out["grids"] = size_metrics(
        grid_households.to_numpy(dtype=float),
        lower=g_lower,
        upper=g_upper,
        target=p.grid_households,
    )
    out["grids"]["grids_per_community_max"] = int(per_community.max()) if len(per_community) else 0
    if standard is not None:
        from planning.standards.compliance import check_compliance

        result = check_compliance(
            comm[["community_id", "name", comm.geometry.name]]
            if "name" in comm.columns
            else comm[["community_id", comm.geometry.name]],
            layers.buildings[["building_id", "households", layers.buildings.geometry.name]],
            facilities,
            standard=standard,
            metric_crs=layers.metric_crs,
            grids_per_community={str(k): int(v) for k, v in per_community.items()},
            year=year,
        )
        t = result.totals
        out["compliance"] = {
            "standard": result.standard.name if result.standard else None,
            "failing": t["failing"],
            "staff": t["total_staff"],
            "funds_yuan": t["total_funds_yuan"],
            "shortfall_m2": t["total_shortfall_m2"],
        }
    return out


def _delta(a: dict, b: dict) -> dict:
    out = {}
    for key, value in a.items():
        other = b.get(key)
        if isinstance(value, dict) and isinstance(other, dict):
            out[key] = _delta(value, other)
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and isinstance(other, int | float)
            and not isinstance(other, bool)
        ):
            out[key] = round(other - value, 6)
    return out


def _match(a_ids: np.ndarray, b_ids: np.ndarray, households: np.ndarray) -> pd.DataFrame:
    """One-to-one matching of A's communities to B's by shared households, as a table: A's
    id, B's matched id (None: no match), households they share."""
    matching = match_by_households(b_ids, a_ids, households)
    rows = [{"a": a, "b": b, "households_shared": round(float(h))} for b, a, h in matching.pairs]
    rows += [{"a": a, "b": None, "households_shared": 0} for a in matching.unmatched_old]
    return pd.DataFrame(rows, columns=["a", "b", "households_shared"])


def compare_plans(
    a: Plan | PlanLayers,
    b: Plan | PlanLayers,
    *,
    params: ProposeParams | None = None,
    standard=None,
    facilities: gpd.GeoDataFrame | None = None,
    year: int | None = None,
) -> Comparison:
    """Compare plan A with plan B (see the module docstring).

    Parameters
    ----------
    a, b
        Plans (their layers are derived with ``params``) or plan layers.
    params
        Bands for plans given as :class:`Plan` (layers carry their own).
    standard
        A standards preset (name, TOML path or Standard): adds compliance totals (failing,
        staff, funds, shortfall) to both sides.
    facilities
        Facilities (WGS84, with ``floor_area_m2``) for the compliance check; None: none.
    year
        Year for funds with yearly growth.

    Raises
    ------
    InputFormatError
        When A and B do not cover the same buildings.
    """
    la = a if isinstance(a, PlanLayers) else plan_layers(a, params=params, name="A")
    lb = b if isinstance(b, PlanLayers) else plan_layers(b, params=params, name="B")
    ba, bb = la.buildings, lb.buildings
    same = (
        len(ba) == len(bb)
        and (
            ba["building_id"].astype(str).to_numpy() == bb["building_id"].astype(str).to_numpy()
        ).all()
    )
    if not same:
        code = "compare.other_households" if len(ba) != len(bb) else "compare.other_ids"
        raise InputFormatError(Note.of(code, a=la.name, b=lb.name, a_n=len(ba), b_n=len(bb)))
    households = ba["households"].to_numpy(dtype=float)
    a_ids = ba["community_id"].astype("string").fillna("").to_numpy(dtype=object)
    b_ids = bb["community_id"].astype("string").fillna("").to_numpy(dtype=object)
    matches = _match(a_ids, b_ids, households)
    match_of = dict(zip(matches["a"], matches["b"], strict=True))
    expected = np.array([match_of.get(x) for x in a_ids], dtype=object)
    changed = expected != b_ids
    metrics_a = _metrics(la, standard=standard, facilities=facilities, year=year)
    metrics_b = _metrics(lb, standard=standard, facilities=facilities, year=year)
    total = float(households.sum())
    return Comparison(
        a=metrics_a,
        b=metrics_b,
        delta=_delta(metrics_a, metrics_b),
        households=round(total),
        households_changed=round(float(households[changed].sum())),
        share_changed=round(float(households[changed].sum()) / total, 6) if total else 0.0,
        households_changed_id=round(float(households[a_ids != b_ids].sum())),
        matches=matches,
        diff=_diff_layer(la, lb, a_ids=a_ids, b_ids=b_ids, changed=changed, households=households),
    )


def _diff_layer(
    la: PlanLayers,
    lb: PlanLayers,
    *,
    a_ids: np.ndarray,
    b_ids: np.ndarray,
    changed: np.ndarray,
    households: np.ndarray,
) -> gpd.GeoDataFrame:
    """The areas whose households change hands from A's community to another than its match
    in B, one polygon per (A id, B id)."""
    crs = la.metric_crs
    columns = ["from_community", "to_community", "households", "buildings", "area_km2"]
    if not changed.any():
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    poly_a = dict(
        zip(
            la.communities["community_id"].astype(str),
            la.communities.to_crs(crs).geometry.array,
            strict=True,
        )
    )
    poly_b = dict(
        zip(
            lb.communities["community_id"].astype(str),
            lb.communities.to_crs(crs).geometry.array,
            strict=True,
        )
    )
    points = np.asarray(la.buildings.to_crs(crs).geometry.array, dtype=object)
    frame = pd.DataFrame(
        {
            "a": a_ids[changed],
            "b": b_ids[changed],
            "h": households[changed],
            "i": np.flatnonzero(changed),
        }
    )
    rows, geoms = [], []
    for (x, y), group in frame.groupby(["a", "b"], sort=True):
        pa, pb = poly_a.get(x), poly_b.get(y)
        if pa is None or pb is None:
            continue
        piece = shapely.intersection(pa, pb, grid_size=0.01)
        parts = shapely.get_parts(piece)
        parts = parts[np.isin(shapely.get_type_id(parts), [3])]
        pts = points[group["i"].to_numpy()]
        keep = [p for p in parts if shapely.covers(p, pts).any()] if len(parts) else []
        if not keep:
            continue
        geom = shapely.union_all(keep, grid_size=0.01)
        rows.append(
            {
                "from_community": x,
                "to_community": y,
                "households": round(float(group["h"].sum())),
                "buildings": len(group),
                "area_km2": round(float(shapely.area(geom)) / 1e6, 4),
            }
        )
        geoms.append(geom)
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geoms, crs=crs)
    return out.to_crs("EPSG:4326")
