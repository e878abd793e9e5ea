"""Search a plan by name: a community (id or name), a compound (小区 name) or a building (its
id), typed in part; the places found and the WGS84 bounds to zoom the map to.

No streamlit here (the pages draw the search box); the matching is plain pandas, so it is
tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["KINDS", "SearchHit", "hit_bounds", "search_plan"]

#: What can be found, in the order hits of equal closeness are listed.
KINDS = ("community", "compound", "building")
#: Half the side (degrees, ~100 m) of the box shown around one building.
_BUILDING_PAD_DEG = 0.001


@dataclass(frozen=True)
class SearchHit:
    """One place found.

    ``kind`` is one of :data:`KINDS`; ``key`` the community id, compound name or building id;
    ``name`` the community's name (empty for the others); ``community_id`` the community it is
    in (for a compound split between several, the one holding most of its households).
    """

    kind: str
    key: str
    name: str
    community_id: str


def _closeness(values: pd.Series, query: str) -> np.ndarray:
    """0 for an exact match, 1 for a match at the start, 2 inside, 3 for none (case folded)."""
    folded = values.astype(str).str.casefold()
    q = query.casefold()
    return np.select(
        [folded == q, folded.str.startswith(q), folded.str.contains(q, regex=False)],
        [0, 1, 2],
        default=3,
    )


def _community_hits(communities: pd.DataFrame, query: str) -> pd.DataFrame:
    ids = communities["community_id"].astype(str)
    names = communities["name"].fillna("").astype(str)
    rank = np.minimum(_closeness(ids, query), _closeness(names, query))
    return pd.DataFrame(
        {"kind": "community", "key": ids, "name": names, "community_id": ids, "rank": rank}
    )


def _compound_hits(buildings: pd.DataFrame, query: str) -> pd.DataFrame:
    named = buildings[buildings["compound"].notna()]
    if named.empty:
        return pd.DataFrame(columns=["kind", "key", "name", "community_id", "rank"])
    sizes = named.groupby(
        [named["compound"].astype(str), named["community_id"].astype(str)], sort=False
    )["households"].sum()
    # the community holding most of each compound's households (ties: the smaller id)
    biggest = (
        sizes.reset_index()
        .sort_values(["households", "community_id"], ascending=[False, True])
        .drop_duplicates("compound")
        .sort_values("compound")
    )
    names = biggest["compound"].reset_index(drop=True)
    return pd.DataFrame(
        {
            "kind": "compound",
            "key": names,
            "name": "",
            "community_id": biggest["community_id"].to_numpy(),
            "rank": _closeness(names, query),
        }
    )


def _building_hits(buildings: pd.DataFrame, query: str) -> pd.DataFrame:
    ids = buildings["building_id"].astype(str).reset_index(drop=True)
    return pd.DataFrame(
        {
            "kind": "building",
            "key": ids,
            "name": "",
            "community_id": buildings["community_id"].astype(str).to_numpy(),
            "rank": _closeness(ids, query),
        }
    )


def search_plan(
    communities: pd.DataFrame, buildings: pd.DataFrame, query: str, *, limit: int = 30
) -> list[SearchHit]:
    """The places whose id or name holds ``query`` (case folded), closest first.

    Parameters
    ----------
    communities
        One row per community: ``community_id``, ``name``.
    buildings
        One row per building: ``building_id``, ``compound`` (may be missing), ``households``,
        ``community_id``.
    query
        Text typed in part; blank finds nothing.
    limit
        At most this many hits.

    Returns
    -------
    list of SearchHit
        Exact matches first, then matches at the start, then inside; within each, communities,
        then compounds, then buildings, each in name order.
    """
    query = query.strip()
    if not query or limit <= 0:
        return []
    found = pd.concat(
        [
            _community_hits(communities, query),
            _compound_hits(buildings, query),
            _building_hits(buildings, query),
        ],
        ignore_index=True,
    )
    found = found[found["rank"] < 3].copy()
    found["order"] = found["kind"].map({k: i for i, k in enumerate(KINDS)})
    found = found.sort_values(["rank", "order", "key"], kind="stable").head(limit)
    return [
        SearchHit(
            kind=str(r.kind), key=str(r.key), name=str(r.name), community_id=str(r.community_id)
        )
        for r in found.itertuples(index=False)
    ]


def hit_bounds(
    hit: SearchHit, communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the place found, in the frames' CRS (WGS84 on the pages);
    a building gets a box about 200 m wide around it. None when it is no longer in the plan."""
    if hit.kind == "community":
        part = communities[communities["community_id"].astype(str) == hit.key]
    elif hit.kind == "compound":
        same = buildings["compound"].astype("string") == hit.key
        part = buildings[same.fillna(False).to_numpy(dtype=bool)]
    else:
        part = buildings[buildings["building_id"].astype(str) == hit.key]
    part = part[part.geometry.notna() & ~part.geometry.is_empty]
    if part.empty:
        return None
    west, south, east, north = (float(v) for v in part.total_bounds)
    if hit.kind != "community":
        west, south = west - _BUILDING_PAD_DEG, south - _BUILDING_PAD_DEG
        east, north = east + _BUILDING_PAD_DEG, north + _BUILDING_PAD_DEG
    return west, south, east, north
