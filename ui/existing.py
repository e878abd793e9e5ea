"""Today's communities (the data's ``communities`` layer): each one's households against the
band, and the same communities as a plan to compare a scenario with.

A building belongs to the existing community whose polygon contains it — the first in the
layer's order where polygons overlap, as :func:`planning.plans.rebalance.rebalance` counts
them; a building in none belongs to no community (and is counted as outside).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import streamlit as st

from geo.errors import Problem
from planning import PlanLayers, ProposeParams, band_status, locate_in_polygons
from ui import loading
from ui.state import DataSource

__all__ = [
    "ExistingCommunities",
    "ExistingOutcome",
    "existing_plan_layers",
    "load_existing",
    "locate_buildings",
    "measure_existing",
]


@dataclass(frozen=True, eq=False)
class ExistingCommunities:
    """Existing communities measured on a set of buildings.

    Attributes
    ----------
    communities
        The layer (WGS84) with ``community_id``, ``name`` (and ``street`` when given),
        ``households``, ``buildings`` and ``status`` (``below``, ``in band``, ``above``), in the
        layer's order.
    buildings
        The buildings (WGS84) with ``community_id``: the existing community each lies in, or
        None.
    band
        The community size band (households) the status is measured against.
    households_outside, buildings_outside
        In no existing community.
    households_in_overlaps
        In more than one existing community (counted in the first).
    """

    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    band: tuple[float, float]
    households_outside: int
    buildings_outside: int
    households_in_overlaps: int

    @property
    def out_of_band(self) -> int:
        """Existing communities with households outside the band."""
        return int((self.communities["status"] != "in band").sum())


@dataclass(frozen=True, eq=False)
class ExistingOutcome:
    """The existing communities measured (with the warnings met reading the layer), or why
    they could not be read (the problems of the layer, or one message)."""

    existing: ExistingCommunities | None = None
    problems: tuple[Problem, ...] = ()
    message: str | None = None
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.existing is not None


def locate_buildings(
    buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(index into ``communities`` per building, -1 in none; how many polygons contain each
    building). Both frames in WGS84."""
    points = np.asarray(buildings.to_crs("EPSG:4326").geometry.array, dtype=object)
    polygons = np.asarray(communities.to_crs("EPSG:4326").geometry.array, dtype=object)
    return locate_in_polygons(points, polygons)


def measure_existing(
    buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, *, band: tuple[float, float]
) -> ExistingCommunities:
    """Each existing community's households and buildings against ``band``.

    Parameters
    ----------
    buildings
        Points (WGS84) with ``building_id`` and ``households``.
    communities
        Polygons (WGS84) with ``community_id`` and optionally ``name`` and ``street``, as
        :func:`geo.layers.read_communities` returns them.
    band
        The community size band (households).
    """
    layer = communities.reset_index(drop=True)
    located, cover = locate_buildings(buildings, layer)
    households = buildings["households"].to_numpy(dtype=float)
    inside = located >= 0
    per_community = np.bincount(located[inside], weights=households[inside], minlength=len(layer))
    count = np.bincount(located[inside], minlength=len(layer))
    ids = layer["community_id"].astype(str).to_numpy(dtype=object)
    columns = {
        "community_id": ids,
        "name": layer["name"].astype(str).to_numpy() if "name" in layer.columns else ids,
    }
    if "street" in layer.columns:
        columns["street"] = layer["street"].astype("string").fillna("").to_numpy(dtype=object)
    columns["households"] = np.rint(per_community).astype(np.int64)
    columns["buildings"] = count.astype(np.int64)
    columns["status"] = [band_status(h, band) for h in per_community]
    measured = gpd.GeoDataFrame(
        pd.DataFrame(columns), geometry=layer.geometry.to_crs("EPSG:4326").array, crs="EPSG:4326"
    )
    community_of = np.where(inside, ids[np.where(inside, located, 0)], None)
    return ExistingCommunities(
        communities=measured,
        buildings=buildings.assign(community_id=community_of),
        band=(float(band[0]), float(band[1])),
        households_outside=round(float(households[~inside].sum())),
        buildings_outside=int((~inside).sum()),
        households_in_overlaps=round(float(households[cover > 1].sum())),
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def load_existing(source: DataSource, band: tuple[float, float]) -> ExistingOutcome | None:
    """The existing communities of ``source`` measured on its households (None: the source
    has no communities layer). Not ok when the households or the layer are refused."""
    read = loading.read_layer(source, "communities")
    if read is None:
        return None
    loaded = loading.source_households(source)
    if not loaded.ok:
        return ExistingOutcome(problems=loaded.problems, message=loaded.message)
    if not read.ok:
        return ExistingOutcome(problems=read.problems, message=read.message)
    measured = measure_existing(loaded.households.buildings, read.frame, band=band)
    return ExistingOutcome(measured, warnings=read.warnings)


def existing_plan_layers(
    existing: ExistingCommunities,
    *,
    metric_crs: pyproj.CRS,
    params: ProposeParams,
    name: str = "existing",
) -> PlanLayers:
    """The existing communities as a plan to compare (:func:`planning.plans.compare.compare_plans`):
    the buildings with their existing community and no grid."""
    buildings = existing.buildings[["building_id", "households", "community_id"]].assign(
        grid_id=None
    )
    buildings = gpd.GeoDataFrame(
        buildings, geometry=existing.buildings.geometry.array, crs=existing.buildings.crs
    )
    return PlanLayers(
        name=name,
        buildings=buildings,
        communities=existing.communities,
        grids=None,
        metric_crs=metric_crs,
        params=params,
    )
