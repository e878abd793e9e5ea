"""The compliance check, its report files, and the ``run_check`` glue.

Fixtures are drawn in metres in EPSG:4547 (CGCS2000 3-degree zone, central meridian 114°E) near
(500000, 4400000) and handed to the check in WGS84, as intake delivers them. Two communities
side by side, ids chosen so the left one is the lowest::

      y=1000 +-------------------+-------------------+
             |  310101001001     |  310101001002     |
             |  (left, "甲")      |  (right, "乙")     |
             |                   |                   |
        y=0  +-------------------+-------------------+
            x=0               x=1000              x=2000        (+ 500000, 4400000)
"""

from __future__ import annotations

import json
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import Point, box

from geo.errors import CRSError, ValidationError
from planning.standards.compliance import (
    REPORT_COLUMNS,
    check_compliance,
    one_median,
    weighted_quantile,
)
from planning.standards.report import REPORT_TITLE, render_report_html, write_compliance
from planning.standards.rules import load_standard

METRIC = pyproj.CRS.from_epsg(4547)
X0, Y0 = 500_000.0, 4_400_000.0
LEFT, RIGHT = "310101001001", "310101001002"


def _frame(data: dict, geoms: list) -> gpd.GeoDataFrame:
    """A WGS84 frame from geometries drawn in local metres (offset by X0, Y0)."""
    from shapely import affinity

    moved = [affinity.translate(g, X0, Y0) for g in geoms]
    return gpd.GeoDataFrame(data, geometry=moved, crs=METRIC).to_crs(4326)


def _communities(ids=(LEFT, RIGHT), names=("甲", "乙")) -> gpd.GeoDataFrame:
    return _frame(
        {"community_id": list(ids), "name": list(names)},
        [box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
    )


def _buildings(points: list[tuple[float, float, int]]) -> gpd.GeoDataFrame:
    return _frame(
        {
            "building_id": [f"b{i}" for i in range(len(points))],
            "households": [h for _, _, h in points],
        },
        [Point(x, y) for x, y, _ in points],
    )


def _facilities(rows: list[dict]) -> gpd.GeoDataFrame:
    geoms = [r.pop("geometry") for r in rows]
    data = {k: [r.get(k) for r in rows] for k in ("name", "type", "floor_area_m2", "serves")}
    return _frame(data, geoms)


#: 1,500 households left, 500 right.
BUILDINGS = [(250, 500, 500), (500, 500, 500), (750, 500, 500), (1500, 500, 500)]


def _check(facilities, *, standard="beilun", communities=None, buildings=BUILDINGS, **kw):
    return check_compliance(
        _communities() if communities is None else communities,
        _buildings(buildings),
        facilities,
        standard=standard,
        metric_crs=METRIC,
        **kw,
    )


def _row(result, community_id):
    table = result.table().set_index("community_id")
    return table.loc[community_id]


# --------------------------------------------------------------------------- report shape


def test_report_columns_and_rules():
    facilities = _facilities(
        [{"name": "甲站", "type": "服务站", "floor_area_m2": 1200, "geometry": Point(500, 600)}]
    )
    result = _check(facilities)
    assert list(result.communities.columns) == [*REPORT_COLUMNS, "geometry"]
    assert result.communities.crs == "EPSG:4326"
    left, right = _row(result, LEFT), _row(result, RIGHT)
    assert left["households"] == 1500
    assert left["required_area_m2"] == 1000  # max(1500/100×40=600, 最低1000)
    assert left["area_rule"] == "max(1500/100×40=600, 最低1000)=1000"
    assert left["facility_area_m2"] == 1200
    assert left["gap_m2"] == -200  # sign kept: a surplus is negative
    assert bool(left["meets_standard"])
    assert left["staff_required"] == 5
    assert left["funds_yuan_per_year"] == 225000
    assert left["facilities"] == "甲站"
    assert right["facility_area_m2"] == 0
    assert right["gap_m2"] == 1000
    assert not bool(right["meets_standard"])
    assert np.isnan(right["mean_distance_m"])
    totals = result.totals
    assert totals["communities"] == 2
    assert totals["failing"] == 1
    assert totals["total_shortfall_m2"] == 1000
    assert totals["total_staff"] == 10
    assert totals["total_funds_yuan"] == 300000
    assert totals["households"] == 2000


def test_ids_kept_and_input_order_kept():
    communities = _communities(ids=("Z9", "A1"))
    result = _check(None, communities=communities)
    assert result.communities["community_id"].tolist() == ["Z9", "A1"]


def test_id_column_argument():
    communities = _communities().rename(columns={"community_id": "社区代码"})
    result = _check(None, communities=communities, id_column="社区代码")
    assert result.communities["community_id"].tolist() == [LEFT, RIGHT]


# --------------------------------------------------------------------------- assignment


@pytest.mark.parametrize("reverse", [False, True])
def test_point_on_boundary_goes_to_lowest_id(reverse):
    """A facility at x=1000 (on the shared edge) is covered by both; the lowest id takes it,
    whatever the row order."""
    communities = _communities()
    if reverse:
        communities = communities.iloc[::-1].reset_index(drop=True)
    facilities = _facilities(
        [{"name": "边界站", "type": "服务站", "floor_area_m2": 300, "geometry": Point(1000, 500)}]
    )
    result = _check(facilities, communities=communities)
    assert _row(result, LEFT)["facility_area_m2"] == 300
    assert _row(result, RIGHT)["facility_area_m2"] == 0
    assert "边界" in _row(result, LEFT)["notes"]
    assert result.facilities["community_id"].tolist() == [LEFT]
    assert len(result.outside) == 0


def test_building_on_boundary_goes_to_lowest_id():
    result = _check(None, buildings=[(1000, 500, 100), (1500, 500, 50)])
    assert _row(result, LEFT)["households"] == 100
    assert _row(result, RIGHT)["households"] == 50


def test_polygon_facility_counts_where_it_overlaps_most():
    """A footprint from x=900 to x=1300: 100 m in the left community, 300 m in the right."""
    facilities = _facilities(
        [
            {
                "name": "跨界楼",
                "type": "综合体",
                "floor_area_m2": 800,
                "geometry": box(900, 400, 1300, 600),
            }
        ]
    )
    result = _check(facilities)
    assert _row(result, RIGHT)["facility_area_m2"] == 800
    assert _row(result, LEFT)["facility_area_m2"] == 0
    assert result.facilities["community_id"].tolist() == [RIGHT]


def test_shared_facility_is_split_by_household_share():
    """多社一站: 1,000 m² serving both; 1,500 : 500 households → 750 and 250 m²."""
    facilities = _facilities(
        [
            {
                "name": "联合服务站",
                "type": "服务站",
                "floor_area_m2": 1000,
                "serves": f"{LEFT}; {RIGHT}",
                "geometry": Point(500, 500),
            }
        ]
    )
    result = _check(facilities)
    left, right = _row(result, LEFT), _row(result, RIGHT)
    assert left["facility_area_m2"] == 750
    assert right["facility_area_m2"] == 250
    assert "多社一站" in left["notes"] and "多社一站" in right["notes"]
    assert "75%=750" in left["notes"]
    assert "25%=250" in right["notes"]
    assert left["facilities"] == right["facilities"] == "联合服务站"
    assert result.facilities["counted_for"].tolist() == [f"{LEFT};{RIGHT}"]
    # the right community is served from across the boundary: 500 m away for everyone
    assert right["mean_distance_m"] == pytest.approx(1000.0, abs=0.5)


@pytest.mark.parametrize("separator", [",", "，", "、", ";"])
def test_serves_separators(separator):
    facilities = _facilities(
        [
            {
                "name": "站",
                "type": None,
                "floor_area_m2": 400,
                "serves": f"{LEFT}{separator}{RIGHT}",
                "geometry": Point(500, 500),
            }
        ]
    )
    result = _check(facilities)
    assert result.communities["facility_area_m2"].tolist() == [300, 100]


def test_facility_outside_every_community_is_listed_not_dropped():
    facilities = _facilities(
        [
            {"name": "甲站", "type": "服务站", "floor_area_m2": 1000, "geometry": Point(500, 500)},
            {
                "name": "远处站",
                "type": "服务站",
                "floor_area_m2": 600,
                "geometry": Point(3000, 500),
            },
        ]
    )
    result = _check(facilities)
    assert result.outside["name"].tolist() == ["远处站"]
    assert result.outside["counted_for"].tolist() == [""]
    assert len(result.facilities) == 2
    assert result.totals["facilities_outside"] == 1
    assert result.communities["facility_area_m2"].sum() == 1000


def test_facility_types_filter_what_counts():
    facilities = _facilities(
        [
            {
                "name": "服务中心",
                "type": "社区综合服务设施",
                "floor_area_m2": 700,
                "geometry": Point(400, 500),
            },
            {"name": "医院", "type": "医院", "floor_area_m2": 9000, "geometry": Point(600, 500)},
        ]
    )
    result = _check(facilities, facility_types=["社区综合服务设施"])
    left = _row(result, LEFT)
    assert left["facility_area_m2"] == 700
    assert left["facilities"] == "服务中心"
    assert result.facilities["counted_for"].tolist() == [LEFT, ""]
    assert len(result.outside) == 0
    assert _check(facilities).communities["facility_area_m2"].iloc[0] == 9700


def test_unassigned_buildings_are_counted_in_totals():
    result = _check(None, buildings=[*BUILDINGS, (5000, 500, 77)])
    assert result.totals["unassigned_households"] == 77
    assert result.totals["unassigned_buildings"] == 1
    assert result.communities["households"].sum() == 2000


# --------------------------------------------------------------------------- distances and sites


def test_household_weighted_distances():
    """9 households 100 m from the facility, 1 household 400 m away, and an empty building:
    mean 130 m, and 90% of households live within 100 m."""
    facilities = _facilities(
        [{"name": "站", "type": "服务站", "floor_area_m2": 5000, "geometry": Point(500, 500)}]
    )
    result = _check(facilities, buildings=[(600, 500, 9), (500, 900, 1), (100, 100, 0)])
    left = _row(result, LEFT)
    assert left["mean_distance_m"] == pytest.approx((9 * 100 + 1 * 400) / 10, abs=0.1)
    assert left["p90_distance_m"] == pytest.approx(100, abs=0.1)


def test_polygon_facility_distance_is_zero_inside():
    facilities = _facilities(
        [{"name": "楼", "type": None, "floor_area_m2": 5000, "geometry": box(200, 200, 800, 800)}]
    )
    result = _check(facilities, buildings=[(500, 500, 10), (900, 500, 10)])
    assert _row(result, LEFT)["mean_distance_m"] == pytest.approx(50, abs=0.1)


def test_suggested_site_is_the_centre_of_a_symmetric_community():
    """A plus of five buildings, 100 households each, around (500, 500): the centre building
    minimises the household-weighted distance."""
    plus = [(500, 500, 100), (200, 500, 100), (800, 500, 100), (500, 200, 100), (500, 800, 100)]
    buildings = _buildings(plus)
    result = check_compliance(_communities(), buildings, None, standard="beilun", metric_crs=METRIC)
    left = _row(result, LEFT)
    centre = buildings.geometry.iloc[0]
    assert left["suggested_site_lon"] == pytest.approx(centre.x, abs=1e-9)
    assert left["suggested_site_lat"] == pytest.approx(centre.y, abs=1e-9)
    assert left["suggested_building_id"] == "b0"
    assert np.isnan(_row(result, RIGHT)["suggested_site_lon"])  # no buildings there


def test_no_suggested_site_when_the_standard_is_met():
    facilities = _facilities(
        [{"name": "站", "type": None, "floor_area_m2": 5000, "geometry": Point(500, 500)}]
    )
    result = _check(facilities)
    assert np.isnan(_row(result, LEFT)["suggested_site_lon"])
    assert not np.isnan(_row(result, RIGHT)["suggested_site_lon"])


def test_suggested_site_weighs_households():
    """Three buildings on a line; the heavy one at the end wins."""
    result = _check(None, buildings=[(100, 500, 1), (500, 500, 1), (900, 500, 10)])
    assert _row(result, LEFT)["suggested_building_id"] == "b2"


def test_one_median_matches_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300)
    w = rng.integers(1, 200, 300).astype(float)
    brute = (w[:, None] * np.hypot(x[:, None] - x, y[:, None] - y)).sum(axis=0)
    assert one_median(x, y, w) == int(np.argmin(brute))


def test_one_median_5000_points_is_fast():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 2000, 5000), rng.uniform(0, 2000, 5000)
    start = time.perf_counter()
    index = one_median(x, y, rng.integers(1, 100, 5000))
    assert time.perf_counter() - start < 5
    assert 0 <= index < 5000


def test_weighted_quantile():
    assert weighted_quantile([100, 400], [9, 1], 0.9) == 100
    assert weighted_quantile([100, 400], [8, 2], 0.9) == 400
    assert np.isnan(weighted_quantile([1.0], [0.0], 0.9))


# --------------------------------------------------------------------------- standards in the check


def test_grids_per_community_feed_the_per_grid_extra():
    result = _check(None, standard="ningbo-new", grids_per_community={LEFT: 6, RIGHT: 2})
    left = _row(result, LEFT)
    assert left["required_area_m2"] == 1500 / 100 * 40 + 200 + 50 + 20 * 6
    assert "20×6(网格工作活动用房)" in left["area_rule"]
    assert left["staff_required"] == 6  # ⌈1500/250⌉


def test_population_column_and_estimate():
    buildings = _buildings(BUILDINGS)
    buildings["population"] = [1000.0, 1000.0, 1000.0, np.nan]
    result = check_compliance(
        _communities(), buildings, None, standard="national-2021", metric_crs=METRIC
    )
    left, right = _row(result, LEFT), _row(result, RIGHT)
    assert left["population"] == 3000
    assert left["staff_required"] == 6  # ⌈3000/10000×18⌉ = ⌈5.4⌉
    assert right["population"] == pytest.approx(500 * 2.62)
    assert "估算" in right["notes"]


def test_party_members_and_year():
    communities = _communities()
    communities["party_members"] = [40, np.nan]
    result = _check(None, communities=communities, standard="henan-2022", year=2024)
    assert _row(result, LEFT)["funds_yuan_per_year"] == 60000 + 40 * 50
    assert "未提供党员数" in _row(result, RIGHT)["funds_rule"]
    assert result.year == 2024


def test_standard_without_staff_or_funds():
    result = _check(None, standard="embedded-2024")
    assert result.totals["total_funds_yuan"] is None
    assert result.communities["funds_yuan_per_year"].isna().all()
    lanzhou = _check(None, standard=load_standard("lanzhou-2013"))
    assert lanzhou.totals["total_staff"] is None
    assert lanzhou.communities["staff_required"].isna().all()


# --------------------------------------------------------------------------- errors


def test_layers_not_in_wgs84_are_refused():
    with pytest.raises(CRSError, match=r"EPSG:4326.*communities"):
        check_compliance(
            _communities().to_crs(METRIC),
            _buildings(BUILDINGS),
            None,
            standard="beilun",
            metric_crs=METRIC,
        )


def test_geographic_metric_crs_is_refused():
    with pytest.raises(CRSError, match="projected CRS in metres"):
        check_compliance(
            _communities(), _buildings(BUILDINGS), None, standard="beilun", metric_crs=4326
        )


def test_every_input_problem_reported_at_once():
    communities = _communities().rename(columns={"community_id": "code"})
    buildings = _buildings(BUILDINGS).drop(columns="households")
    facilities = _facilities(
        [{"name": "站", "type": None, "floor_area_m2": None, "geometry": Point(500, 500)}]
    )
    with pytest.raises(ValidationError, match=r"3 error\(s\)") as caught:
        check_compliance(communities, buildings, facilities, standard="beilun", metric_crs=METRIC)
    message = str(caught.value)
    assert "no id column 'community_id'" in message
    assert "no 'households' column" in message
    assert "floor area (m²) missing or not a number" in message


def test_unknown_serves_ids_and_repeated_community_ids():
    facilities = _facilities(
        [
            {
                "name": "站",
                "type": None,
                "floor_area_m2": 100,
                "serves": f"{LEFT};999999999999",
                "geometry": Point(500, 500),
            }
        ]
    )
    with pytest.raises(ValidationError, match="'serves' names communities that do not exist"):
        _check(facilities)
    twins = _communities(ids=(LEFT, LEFT))
    with pytest.raises(ValidationError, match="community ids repeat"):
        _check(None, communities=twins)


def test_unknown_standard_is_refused_before_work():
    from geo.errors import StandardsError

    with pytest.raises(StandardsError, match="unknown standards preset"):
        _check(None, standard="nowhere")


def test_inputs_are_not_mutated():
    communities = _communities()
    buildings = _buildings(BUILDINGS)
    before_c, before_b = communities.copy(), buildings.copy()
    check_compliance(communities, buildings, None, standard="beilun", metric_crs=METRIC)
    pd.testing.assert_frame_equal(pd.DataFrame(communities), pd.DataFrame(before_c))
    pd.testing.assert_frame_equal(pd.DataFrame(buildings), pd.DataFrame(before_b))


# --------------------------------------------------------------------------- report files


def _shared_result():
    facilities = _facilities(
        [
            {
                "name": "联合站",
                "type": "服务站",
                "floor_area_m2": 1000,
                "serves": f"{LEFT},{RIGHT}",
                "geometry": Point(500, 500),
            },
            {"name": "远处站", "type": None, "floor_area_m2": 80, "geometry": Point(3000, 500)},
        ]
    )
    return _check(facilities, standard="ningbo-new")


def test_write_compliance_writes_three_files(tmp_path):
    result = _shared_result()
    paths = write_compliance(result, tmp_path / "out", standard=result.standard)
    assert {p.name for p in paths.values()} == {
        "compliance.csv",
        "compliance.geojson",
        "report.html",
    }
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    table = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype={"community_id": str})
    assert table["community_id"].tolist() == [LEFT, RIGHT]
    assert list(table.columns) == list(REPORT_COLUMNS)
    text = paths["geojson"].read_text(encoding="utf-8")
    assert "甲" in text  # not \\u escaped
    collection = json.loads(text)
    assert "crs" not in collection
    assert len(collection["features"]) == 2
    assert collection["features"][0]["properties"]["community_id"] == LEFT
    lon, lat = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert 113 < lon < 115 and 39 < lat < 40.5


def test_report_html_cites_every_rule(tmp_path):
    result = _shared_result()
    page = write_compliance(result, tmp_path)["html"].read_text(encoding="utf-8")
    assert REPORT_TITLE in page
    assert "宁波市新建社区" in page  # the preset title
    for rule in result.standard.rules():
        assert _escaped(rule.citation) in page
        assert _escaped(rule.source) in page
    assert "@media print" in page
    assert "<svg" in page
    # one file that opens offline: nothing is fetched from the network
    assert "srcdoc=" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page
    assert "多社一站" in page
    assert "远处站" in page  # the outside facility is listed
    assert "面积缺口合计" in page and "未达标社区" in page


def test_report_html_escapes_user_strings():
    communities = _communities(names=("<script>alert(1)</script>", "乙&丙"))
    result = _check(None, communities=communities)
    page = render_report_html(result, standard=result.standard)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "乙&amp;丙" in page


def test_report_templates_escape_a_hostile_name_wherever_a_name_appears():
    """A community and a facility named with markup: every place the page writes a name (the
    results table and its sort key, the arithmetic table, the map's shape title, label and
    suggested-site cross, the facility dot and the table of facilities outside) escapes it."""
    hostile = """<img src=x onerror="alert('x')">&"""
    facilities = _facilities(
        [{"name": hostile, "type": None, "floor_area_m2": 80, "geometry": Point(3000, 500)}]
    )
    result = _check(facilities, communities=_communities(names=(hostile, "乙")))
    page = render_report_html(result, standard=result.standard)
    name = _escaped(hostile)
    assert name == "&lt;img src=x onerror=&quot;alert(&#x27;x&#x27;)&quot;&gt;&amp;"
    assert "<img" not in page and "alert('x')" not in page
    places = {
        "results table": f'<td class="text nowrap" data-v="{name}">{name}</td>',
        "arithmetic table": f'<td class="rule">{LEFT}</td><td class="rule">{name}</td>',
        "map shape title": f"<title>{LEFT} {name}：缺口",
        "map label": f"<tspan>{name}</tspan>",
        "suggested site": f"<title>建议选址：{name}</title>",
        "facility dot": f"<title>{name}</title></circle>",
        "facilities outside": f"<td>F0001</td><td>{name}</td>",
    }
    missing = [where for where, text in places.items() if text not in page]
    assert not missing
    assert page.count(name) == len(places) + 1  # the results table writes it twice


def _escaped(text: str) -> str:
    import html

    return html.escape(text)


# --------------------------------------------------------------------------- glue


def test_run_check_on_the_haidian_sample(haidian, tmp_path):
    """The real sample: its compounds stand in for communities; three facilities with areas
    (one shared by two compounds, one outside every compound)."""
    from planning.runs import run_check

    compounds = gpd.read_file(haidian / "compounds.geojson")
    inside = compounds.geometry.iloc[0].representative_point()
    facilities = gpd.GeoDataFrame(
        {
            "name": ["社区服务站", "联合服务中心", "远处站"],
            "类型": ["服务站", "服务站", "服务站"],
            "建筑面积": [450, 900, 100],
            "服务社区": [None, "C002;C003", None],
        },
        geometry=[inside, compounds.geometry.iloc[1].representative_point(), Point(116.0, 39.9)],
        crs=4326,
    )
    facilities_path = tmp_path / "facilities.geojson"
    facilities.to_file(facilities_path, driver="GeoJSON")
    out = tmp_path / "out"
    result = run_check(
        haidian / "compounds.geojson",
        haidian / "households.geojson",
        crs="wgs84",
        facilities_path=facilities_path,
        standard="ningbo-new",
        out_dir=out,
    )
    assert len(result.communities) == len(compounds)
    assert result.communities["community_id"].iloc[0] == "C001"
    assert result.communities["facility_area_m2"].iloc[0] == 450
    assert result.outside["name"].tolist() == ["远处站"]
    shared = result.communities.set_index("community_id").loc[["C002", "C003"]]
    assert shared["facility_area_m2"].sum() == pytest.approx(900)
    assert {p.name for p in out.iterdir()} == {
        "compliance.csv",
        "compliance.geojson",
        "report.html",
    }
    assert result.totals["households"] == 5805
