"""The Standards page's facility-type filter in streamlit's AppTest: the types present are
offered, every type counts by default (as ``check`` without ``--facility-types``), a type left
out is shown with its count and floor area, and the check counts only the types chosen.

The app runs on the built-in sample at 10,000 households (its facilities carry a 类型 such as
社区综合服务设施 or 养老服务站) and on an uploaded facility table with an untyped row.
"""

from __future__ import annotations

import pandas as pd
import pytest
from app_support import SAMPLE_HOUSEHOLDS, metrics, new_app, open_page, texts
from streamlit.testing.v1 import AppTest

from geo.layers import read_facilities
from planning import check_compliance
from ui import loading, runs, state


def standards_page(**session: object) -> AppTest:
    """The Standards page after a proposal of the session's data."""
    at = new_app(**session).run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    open_page(at, "standards")
    assert not at.exception
    return at


def provided_m2(at: AppTest) -> float:
    return float(metrics(at)["现有面积"].removesuffix(" m²").replace(",", ""))


@pytest.fixture(scope="module")
def facilities() -> pd.DataFrame:
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    return read_facilities(files["facilities"], crs=loading.SAMPLE_CRS).frame


def expected_provided(at: AppTest, types: tuple[str, ...] | None) -> float:
    """The floor area the library counts with ``types`` on the page's plan."""
    view = runs.plan_view(at.session_state[state.PLAN_KEY], None)
    source = at.session_state[state.SOURCE_KEY]
    result = check_compliance(
        view.communities[["community_id", "name", "geometry"]],
        view.buildings,
        loading.read_layer(source, "facilities").frame,
        standard=state.DEFAULT_STANDARD,
        metric_crs=view.plan.district.metric_crs,
        grids_per_community=dict(
            zip(view.communities["community_id"], view.communities["grid_count"], strict=True)
        ),
        facility_types=types,
    )
    return float(result.totals["total_facility_area_m2"])


def test_every_type_present_is_offered_and_counts_by_default(facilities):
    at = standards_page()
    (choice,) = at.multiselect
    counts = facilities["type"].value_counts()
    assert sorted(choice.value) == sorted(counts.index)
    assert all(f"{name}（{counts[name]:,} 处）" in choice.options for name in counts.index)
    assert state.FACILITY_TYPES_KEY not in at.session_state
    total = facilities["floor_area_m2"].sum()
    assert f"全部 {len(facilities):,} 处设施计入（共 {total:,.0f} m²）。" in texts(at.caption)
    assert provided_m2(at) == pytest.approx(expected_provided(at, None), abs=1)


def test_a_type_left_out_is_shown_with_its_count_and_floor_area(facilities):
    at = standards_page()
    everything = provided_m2(at)
    (choice,) = at.multiselect
    dropped = facilities["type"].value_counts().index[0]
    kept = tuple(sorted(t for t in facilities["type"].unique() if t != dropped))
    choice.set_value(list(kept)).run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert at.session_state[state.FACILITY_TYPES_KEY] == kept
    left = facilities[facilities["type"] == dropped]
    note = f"未计入：{len(left):,} 处设施，共 {left['floor_area_m2'].sum():,.0f} m²"
    assert any(note in i and f"{dropped} {len(left):,} 处" in i for i in texts(at.info))
    assert provided_m2(at) == pytest.approx(expected_provided(at, kept), abs=1)
    assert provided_m2(at) < everything


def test_choosing_every_type_again_is_the_default_again(facilities):
    at = standards_page()
    (choice,) = at.multiselect
    types = sorted(facilities["type"].unique())
    choice.set_value(types[:1]).run()
    assert state.FACILITY_TYPES_KEY in at.session_state
    at.multiselect[0].set_value(types).run()
    assert state.FACILITY_TYPES_KEY not in at.session_state
    assert not at.info or not any("未计入" in i for i in texts(at.info))


def test_an_untyped_facility_is_left_out_by_a_choice_and_said_so(tmp_path):
    table = tmp_path / "设施.csv"
    files = loading.sample_files(SAMPLE_HOUSEHOLDS, 0)
    sample = read_facilities(files["facilities"], crs=loading.SAMPLE_CRS).frame
    point = sample.geometry.iloc[0]
    rows = [
        ("中心", point.x, point.y, 800, "社区综合服务设施"),
        ("站点", point.x + 0.001, point.y, 300, "养老服务站"),
        ("未知", point.x, point.y + 0.001, 120, ""),
    ]
    pd.DataFrame(rows, columns=["名称", "经度", "纬度", "建筑面积", "类型"]).to_csv(
        table, index=False
    )
    source = loading.source_for_path(
        files["households"], crs=loading.SAMPLE_CRS, layers={"facilities": table}
    )
    at = standards_page(**{state.SOURCE_KEY: source})
    (choice,) = at.multiselect
    assert sorted(choice.value) == ["养老服务站", "社区综合服务设施"]
    assert "全部 3 处设施计入（共 1,220 m²）。" in texts(at.caption)
    choice.set_value(["社区综合服务设施"]).run()
    (note,) = [i for i in texts(at.info) if "未计入" in i]
    assert "未计入：2 处设施，共 420 m²" in note
    assert "养老服务站 1 处" in note and "（未填类型） 1 处" in note


def test_the_filter_in_english(facilities):
    at = standards_page(**{state.LANG_KEY: "en"})
    (choice,) = at.multiselect
    assert choice.label == "Facility types that count toward floor area"
    assert any(c.startswith(f"All {len(facilities):,} facilities count") for c in texts(at.caption))
