"""Community fills: neighbours never share one."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["COMMUNITY_PALETTE", "community_colours"]

#: Community fills (ColorBrewer Set3 without its grey): neighbours never share one.
COMMUNITY_PALETTE = (
    "#8dd3c7",
    "#fdb462",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#b3de69",
    "#fccde5",
    "#ffed6f",
    "#bc80bd",
    "#ccebc5",
)
#: Neighbours for colouring: polygons closer than this (degrees, ~2 m; metres when projected).
_TOUCH_DEG = 2e-5
_TOUCH_M = 2.0


def community_colours(
    communities: gpd.GeoDataFrame,
    *,
    id_column: str = "community_id",
    palette: Sequence[str] = COMMUNITY_PALETTE,
) -> dict[str, str]:
    """A fill per community such that communities that touch get different colours.

    Greedy colouring of the adjacency graph (polygons that share a border or a corner), in id
    order: each community takes the first colour of ``palette`` that none of its coloured
    neighbours has; a map needs a handful (four suffice for planar maps, greedy rarely needs
    more than six). Deterministic for the same polygons and ids.

    Parameters
    ----------
    communities : GeoDataFrame
        Polygons with ``id_column``, in any CRS (geographic or metric).

    Returns
    -------
    dict
        Colour (``#rrggbb``) per community id (as text).
    """
    ids = communities[id_column].astype(str).to_numpy(dtype=object)
    if len(ids) == 0:
        return {}
    geoms = np.asarray(communities.geometry.array, dtype=object)
    geographic = communities.crs is None or communities.crs.is_geographic
    tree = shapely.STRtree(geoms)
    left, right = tree.query(
        geoms, predicate="dwithin", distance=_TOUCH_DEG if geographic else _TOUCH_M
    )
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(ids))}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    order = sorted(range(len(ids)), key=lambda i: _natural_key(str(ids[i])))
    chosen: dict[int, int] = {}
    for i in order:
        used = [chosen[n] for n in neighbours[i] if n in chosen]
        free = [k for k in range(len(palette)) if k not in used]
        chosen[i] = free[0] if free else min(range(len(palette)), key=used.count)
    return {str(ids[i]): palette[k] for i, k in chosen.items()}


def _natural_key(text: str) -> tuple:
    """Sort key that puts C2 before C10."""
    parts = []
    number = ""
    for ch in text:
        if ch.isdigit():
            number += ch
            continue
        if number:
            parts.append((0, int(number), ""))
            number = ""
        parts.append((1, 0, ch))
    if number:
        parts.append((0, int(number), ""))
    return tuple(parts)
