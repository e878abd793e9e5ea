"""The buildings a planner brushes together on the Edit map, and the preview of moving them:
what a click or a drawn shape adds to the selection, where the selection can go, and the
households, grids and band status of each community before → after, with the refusal the move
would meet and what would work instead.

No streamlit here: the page keeps the selection in its session state and draws these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning import MovePreview, Plan, bordering_communities
from ui.i18n import text
from ui.plan_views import MapEvent

__all__ = [
    "Selection",
    "brushed_ids",
    "click_mark",
    "preview_messages",
    "preview_table",
    "selection_of",
    "selection_targets",
    "toggle",
]


@dataclass(frozen=True)
class Selection:
    """What is selected: ``buildings`` and ``households`` in all, and the communities they are
    in (largest share first)."""

    buildings: int
    households: int
    communities: tuple[str, ...]


def click_mark(value: dict | None) -> tuple | None:
    """What identifies the click or drawing in st_folium's value (the point clicked and the
    feature or shape), or None when it holds neither. A page acts on a value only when its
    mark differs from the last one acted on: the same value handed back on a rerun (or kept
    after the map is redrawn) is not a new click, and a pan sends no new mark."""
    value = value or {}
    clicked, drawing = value.get("last_object_clicked"), value.get("last_active_drawing")
    if clicked is None and drawing is None:
        return None
    return (repr(clicked), repr(drawing))


def toggle(selection: Sequence[str], ids: Sequence[str]) -> tuple[str, ...]:
    """``ids`` added to ``selection`` (in order, once each); when every one of them is already
    selected, they are taken out instead (a second click on a building unselects it)."""
    chosen = [str(i) for i in ids]
    if not chosen:
        return tuple(selection)
    have = set(selection)
    if all(i in have for i in chosen):
        drop = set(chosen)
        return tuple(s for s in selection if s not in drop)
    return tuple(dict.fromkeys([*selection, *chosen]))


def brushed_ids(buildings: gpd.GeoDataFrame, event: MapEvent) -> tuple[str, ...]:
    """The buildings a map event brushes: the building clicked, every building of the grid
    (block) clicked, or every building inside the shape drawn (WGS84, as ``buildings``); none
    for a click on a community alone."""
    ids = buildings["building_id"].astype(str)
    if event.building_id:
        wanted = ids == str(event.building_id)
    elif event.grid_id:
        wanted = buildings["grid_id"].astype(str) == str(event.grid_id)
    elif event.polygon_wkt:
        polygon = shapely.make_valid(shapely.from_wkt(event.polygon_wkt))
        wanted = pd.Series(
            shapely.covers(polygon, np.asarray(buildings.geometry.array, dtype=object)),
            index=buildings.index,
        )
    else:
        return ()
    return tuple(ids[wanted.to_numpy(dtype=bool)])


def _rows(buildings: pd.DataFrame, selection: Sequence[str]) -> pd.DataFrame:
    return buildings[buildings["building_id"].astype(str).isin({str(s) for s in selection})]


def selection_of(buildings: pd.DataFrame, selection: Sequence[str]) -> Selection:
    """Counts of the selected buildings that are in the plan (ids no longer there are left
    out)."""
    rows = _rows(buildings, selection)
    by_community = (
        rows.groupby(rows["community_id"].astype(str))["households"]
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    return Selection(
        buildings=len(rows),
        households=round(float(rows["households"].sum())),
        communities=tuple(by_community.index),
    )


def selection_targets(plan: Plan, buildings: pd.DataFrame, selection: Sequence[str]) -> list[str]:
    """Where the selection can go: the communities it lies in (when more than one) and those
    it borders, in id order."""
    rows = _rows(buildings, selection)
    if rows.empty:
        return []
    index = pd.Index(plan.district.buildings["building_id"].astype(str))
    positions = index.get_indexer(rows["building_id"].astype(str).tolist())
    sites = plan.district.sites.of_building[positions[positions >= 0]]
    own = sorted(set(rows["community_id"].astype(str)))
    near = bordering_communities(plan, sites)
    return sorted(set(near) | (set(own) if len(own) > 1 else set()))


def _arrow(before: object, after: object) -> str:
    return f"{before}" if before == after else f"{before} → {after}"


def preview_table(preview: MovePreview, lang: str) -> pd.DataFrame:
    """One row per community the move touches (the receiver first): households, grids and
    band status before → after, headed in ``lang``."""
    rows = []
    for before, after in zip(preview.before, preview.after, strict=True):
        rows.append(
            {
                text("edit.preview.col.community", lang): before.community_id,
                text("edit.preview.col.households", lang): _arrow(
                    f"{before.households:,}", f"{after.households:,}"
                ),
                text("edit.preview.col.grids", lang): _arrow(before.grids, after.grids),
                text("edit.preview.col.status", lang): _arrow(
                    _status(before.status, lang), _status(after.status, lang)
                ),
            }
        )
    return pd.DataFrame(rows)


def _status(status: str, lang: str) -> str:
    return text(f"map.status.{status.replace(' ', '_')}", lang)


def preview_messages(
    preview: MovePreview,
    band: tuple[float, float],
    lang: str,
    *,
    grid_band: tuple[float, float] | None = None,
) -> tuple[str | None, list[str]]:
    """(why the move would be refused or None, warnings): each community the move would take
    out of ``band`` or further from it, each grid it would push above ``grid_band``, and the
    communities that would take the buildings instead."""
    lower, upper = band

    def outside(households: float) -> float:
        return max(lower - households, households - upper, 0.0)

    warnings = [
        text(f"edit.preview.{after.status}", lang).format(
            community=after.community_id, households=after.households, lower=lower, upper=upper
        )
        for before, after in zip(preview.before, preview.after, strict=True)
        if outside(after.households) > outside(before.households)
    ]
    if grid_band is not None:
        warnings += [
            text("edit.preview.big_grid", lang).format(
                grid=grid, households=households, upper=grid_band[1], to=preview.to
            )
            for grid, households in preview.big_grids
        ]
    if preview.instead:
        warnings.append(
            text("edit.preview.instead", lang).format(
                ids=text("edit.list_sep", lang).join(preview.instead)
            )
        )
    reason = preview.refusal.record.text(lang) if preview.refusal is not None else None
    return reason, warnings
