"""When a major barrier through a community is forced, and when it is not.

Two columns of five buildings on either side of a primary road (metres, near Ningbo)::

    W1  |  E1        the road at x = 500 splits the district into a west and an east side;
    W2  |  E2        each test chooses the households per building and which buildings
    W3  |  E3        form which community, then asks which communities cross the road
    W4  |  E4        although every side they hold could have been communities of its own
    W5  |  E5
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from planning.engine.district import prepare_district
from planning.engine.metrics import unforced_barrier_crossings

METRIC = pyproj.CRS.from_epsg(4550)
ORIGIN = np.array([356_000.0, 3_305_000.0])
BAND = {"lower": 2250.0, "upper": 2750.0}
NAMES = [f"W{i}" for i in range(1, 6)] + [f"E{i}" for i in range(1, 6)]


def _district(west: int, east: int, compound: dict[str, str] | None = None):
    """Households per building on each side; ``compound`` names buildings' compounds."""
    xy = [(250.0, 900.0 - 200 * i) for i in range(5)] + [(750.0, 900.0 - 200 * i) for i in range(5)]
    names = compound or {}
    buildings = gpd.GeoDataFrame(
        {
            "building_id": NAMES,
            "households": [west] * 5 + [east] * 5,
            "compound": [names.get(b) for b in NAMES],
        },
        geometry=list(shapely.points(np.array(xy) + ORIGIN)),
        crs=METRIC,
    ).to_crs(4326)
    road = shapely.LineString(ORIGIN + np.array([[500.0, -200.0], [500.0, 1200.0]]))
    barriers = gpd.GeoDataFrame(
        {"kind": ["road"], "road_class": ["primary"], "name": ["主干路"]},
        geometry=[road],
        crs=METRIC,
    ).to_crs(4326)
    return prepare_district(buildings, metric_crs=METRIC, barriers=barriers)


def _labels(district, communities: dict[str, str]) -> np.ndarray:
    """Community label per site, with ``communities`` mapping buildings to ids (sorted)."""
    ids = sorted(set(communities.values()))
    site_label = np.empty(len(district.sites.xy), dtype=np.int64)
    site_label[district.sites.of_building] = [ids.index(communities[b]) for b in NAMES]
    return site_label


def _crossings(district, communities: dict[str, str]) -> list[dict]:
    ids = np.array(sorted(set(communities.values())), dtype=object)
    return unforced_barrier_crossings(district, _labels(district, communities), ids, **BAND)


def _unforced(district, communities: dict[str, str]) -> list[str]:
    return [item["community_id"] for item in _crossings(district, communities)]


def _plan(across: list[str]) -> dict[str, str]:
    """West in A, east in B, except the buildings in ``across``, which join A."""
    return {b: "A" if b.startswith("W") or b in across else "B" for b in NAMES}


def test_a_community_that_keeps_to_its_side_crosses_nothing():
    assert _unforced(_district(500, 500), _plan([])) == []


def test_crossing_between_two_sides_that_could_each_be_a_community_is_unforced():
    # 2,500 households a side: each could be one community, so A taking E1 was a choice
    found = _crossings(_district(500, 500), _plan(["E1"]))
    assert [item["community_id"] for item in found] == ["A"]
    assert found[0]["sides_households"] == [2500, 500]
    assert found[0]["sides_total_households"] == [2500, 2500]


@pytest.mark.parametrize(
    ("west", "why"),
    [
        (200, "1,000 households: too small to be a community"),
        (720, "3,600 households: one community is too many, two too few"),
    ],
)
def test_crossing_from_a_side_that_cannot_stand_alone_is_forced(west, why):
    assert _unforced(_district(west, 500), _plan(["E1"])) == [], why


def test_a_compound_on_both_sides_of_the_road_joins_them():
    # W3 and E3 are one compound kept whole: holding both is what the compound rule asks
    district = _district(500, 500, compound={"W3": "跨路小区", "E3": "跨路小区"})
    assert _unforced(district, _plan(["E3"])) == []
    # a compound too big for one community joins nothing
    district = _district(500, 500, compound=dict.fromkeys(NAMES, "大小区"))
    assert _unforced(district, _plan(["E1"])) == ["A"]
