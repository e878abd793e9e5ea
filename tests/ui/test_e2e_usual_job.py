"""End to end in headless Chromium: the usual job, as a planner does it.

On the 数据 page upload the households (a sample CSV, GCJ-02), today's 社区 boundaries and a
facility table (a CSV with 经度/纬度, type and floor area, written from the sample's
facilities); on 现状社区 see the communities against the band and rebalance them; on 编辑 move
a compound and a few buildings (each clicked on the map), then re-grid what the moves touched;
on 比较 compare the result with today's 社区; on 导出 download the print map and the
GeoPackage, and open the GeoPackage with geopandas (CGCS2000).

Every step is a click or a file chosen in the page; each asserts what a planner would see (in
Chinese) and saves a screenshot to ``$E2E_SHOTS`` (default: the test's temporary folder).
Playwright drives Debian's ``/usr/bin/chromium`` against ``streamlit run app.py`` on a free
port (:mod:`tests.ui.browser`); the basemap is "none", so nothing is fetched from the internet.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from tests.ui.browser import (
    browser_page,
    choose_file,
    click_on_map,
    go,
    map_drawn,
    metric,
    served_app,
    settle,
    shoot,
)

HOUSEHOLDS = 10_000
STEP_S = 180
#: The CRS of a CGCS2000 export: geographic (EPSG:4490) or a 3-degree Gauss-Krüger zone.
CGCS2000 = re.compile(r"CGCS2000|China Geodetic Coordinate System 2000")
BUILDING_MOVES = 2

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with served_app(
        tmp_path_factory.mktemp("e2e-usual") / "streamlit.log", households=HOUSEHOLDS
    ) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    with browser_page(app_url, step_s=STEP_S, height=1100, downloads=True) as tab:
        yield tab


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Path]:
    from samples.district import write_sample

    return write_sample(tmp_path_factory.mktemp("sample"), households=HOUSEHOLDS)


@pytest.fixture(scope="module")
def facility_table(sample, tmp_path_factory) -> tuple[Path, int]:
    """The sample's facilities as a planner's table: one row each, 经度/纬度 (GCJ-02, as the
    sample), 设施类型 and 建筑面积; the file and its row count."""
    points = gpd.read_file(sample["facilities"])
    table = pd.DataFrame(
        {
            "设施编号": points["facility_id"],
            "设施名称": points["name"],
            "设施类型": points["type"],
            "建筑面积": points["floor_area_m2"],
            "经度": points.geometry.x.round(7),
            "纬度": points.geometry.y.round(7),
        }
    )
    path = tmp_path_factory.mktemp("facilities") / "facilities.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path, len(table)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("E2E_SHOTS")
    out = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _success(page) -> str:
    """The text of the page's (last) success message."""
    done = page.locator('[data-testid="stAlertContentSuccess"]').last
    done.wait_for()
    return done.inner_text()


def _button(page, name: str):
    """The button named ``name`` that is shown (a tab being redrawn may hold it twice)."""
    return page.get_by_role("button", name=name, exact=True).locator("visible=true").first


def _upload_data(page, sample, facilities: Path, shots: Path) -> None:
    page.get_by_text("打开数据：内置示例或上传文件").click()
    page.get_by_text("上传文件", exact=True).click()
    settle(page)
    choose_file(page, "住户数据文件", sample["households"])
    page.get_by_role("combobox", name="坐标系", exact=True).first.click()
    page.get_by_role("option", name="GCJ-02（高德、腾讯）").click()
    page.get_by_text("其他图层（可选）").click()
    choose_file(page, "现有社区边界", sample["communities"])
    choose_file(page, "社区服务设施", facilities)
    _button(page, "读取并校验").click()
    settle(page)


def _choose(page, label: str, index: int) -> None:
    """Choose option ``index`` of the list labelled ``label``."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option").nth(index).click()
    settle(page)


def _options(page, label: str) -> int:
    """How many options the list labelled ``label`` offers."""
    page.get_by_role("combobox", name=label, exact=True).click()
    count = page.get_by_role("option").count()
    page.keyboard.press("Escape")
    return count


def _move_tab(page) -> None:
    """Open the panel's 移动 tab (it stays open across reruns once chosen)."""
    page.get_by_role("tab", name="移动", exact=True).locator("visible=true").first.click()
    settle(page)


def _move_a_compound(page) -> tuple[str, str, str]:
    """Move a compound to a community it borders, as a planner looks for one: community after
    community, compound after compound, until 移动小区 is offered and the move is not refused;
    the result, and the communities it moved from and to."""
    compounds = page.get_by_role("combobox", name="小区", exact=True)
    for community in range(_options(page, "社区")):
        _choose(page, "社区", community)
        _move_tab(page)
        for compound in range(min(_options(page, "小区") if compounds.count() else 0, 6)):
            if not compounds.count():
                break
            _choose(page, "小区", compound)
            move = _button(page, "移动小区")
            if move.is_disabled():
                continue  # it borders no other community
            source = page.get_by_role("combobox", name="社区", exact=True).input_value()
            target = page.get_by_role("combobox", name="移到社区", exact=True).first.input_value()
            move.click()
            settle(page)
            if not page.locator('[data-testid="stAlertContentError"]').count():
                return _success(page), source.split(" · ")[0], target.split(" · ")[0]
    pytest.fail("no compound could move to a community it borders")


def _move_buildings(page, among: tuple[str, str], moves: int) -> tuple[list[str], list[str]]:
    """Click buildings on the map along the border of the communities ``among`` (the two a
    compound just moved between, so they share a 街道) and move each; the results, and what
    became of each building clicked. A building that cannot move (its community would be cut
    in two) is passed over for the next."""
    done: list[str] = []
    tried: list[str] = []
    for rank in range(12):
        if len(done) == moves:
            break
        map_drawn(page)
        building = click_on_map(page, rank, among=among)
        if building is None:
            tried.append(f"no {rank}th building on the border of {among}")
            break
        settle(page)
        chosen = page.get_by_text(re.compile(r"选中的楼栋 \S+：[\d,]+ 户，属于 \S+"))
        move = _button(page, "移动楼栋")
        if not chosen.count() or not move.count() or move.is_disabled():
            tried.append(f"{building}: chosen {chosen.count()}, 移动楼栋 {move.count()}")
            continue
        move.click()
        settle(page)
        if page.locator('[data-testid="stAlertContentError"]').count():
            tried.append(f"{building}: refused")
            continue
        text = _success(page)
        assert f"把 1 栋楼（{building}）移到" in text, text
        done.append(text)
    return done, tried


@pytest.fixture
def shot_on_failure(request, page, shots):
    """A screenshot of the page as it was when the test failed (``failed.png``)."""
    before = request.session.testsfailed
    yield
    if request.session.testsfailed > before:
        shoot(page, shots, "failed.png")


def test_usual_job(page, sample, facility_table, shots, tmp_path, shot_on_failure):
    started = time.monotonic()
    facilities, facility_rows = facility_table
    settle(page)

    # 数据: households, today's communities and a facility table, all GCJ-02
    _upload_data(page, sample, facilities, shots)
    page.get_by_text("households.csv").first.wait_for()
    page.get_by_text(re.compile(r"现有社区边界：5 个要素（communities\.geojson）")).wait_for()
    page.get_by_text(
        re.compile(rf"社区服务设施：{facility_rows} 个要素（facilities\.csv）")
    ).wait_for()
    map_drawn(page)
    shoot(page, shots, "1-data-uploaded.png")

    # 现状社区: the band, then rebalance
    go(page, "现状社区")
    assert metric(page, "现状社区数") == "5"
    assert metric(page, "偏大") == "2" and metric(page, "偏小") == "3"
    map_drawn(page)
    shoot(page, shots, "2-existing-band.png")
    _button(page, "调整现状社区").click()
    settle(page)
    page.get_by_text("调整后的方案已成为当前方案").wait_for()
    assert metric(page, "社区数（调整前 → 后）") == "5 → 4"
    stability = metric(page, "稳定性")
    shoot(page, shots, "3-rebalanced.png")

    # 编辑: a compound, a few buildings clicked on the map, then re-grid what they touched
    go(page, "编辑")
    map_drawn(page)
    assert metric(page, "社区数") == "4"
    compound, source, target = _move_a_compound(page)
    assert re.search(rf"把小区 \S+ 移到 {target}", compound), compound
    moved, tried = _move_buildings(page, (source, target), BUILDING_MOVES)
    assert len(moved) == BUILDING_MOVES, f"moved {moved}; tried {tried}"
    regrid = _button(page, "重划受影响社区的网格")
    assert regrid.is_enabled()
    regrid.click()
    settle(page)
    assert "重划" in _success(page)
    assert not _button(page, "重划受影响社区的网格").is_enabled()  # nothing left to re-grid
    map_drawn(page)
    shoot(page, shots, "4-edited-regridded.png")

    # 比较: today's 社区 (A) against the edited plan (B)
    go(page, "比较")
    assert page.get_by_role("combobox", name="方案 A（参照）").input_value() == "现状社区"
    map_drawn(page, 0)
    map_drawn(page, 1)
    changed = int(metric(page, "更换社区的户数").replace(",", ""))
    changed_id = int(metric(page, "社区代码改变的户数").replace(",", ""))
    assert changed > 0 and changed_id > 0
    metrics = page.locator('[data-testid="stVerticalBlock"]').filter(
        has=page.get_by_text("指标对比", exact=True)
    )
    metrics.locator('[data-testid="stDataFrame"]').first.wait_for()  # the metrics, B − A
    shoot(page, shots, "5-compare-existing.png")

    # 导出: the print map and the GeoPackage
    go(page, "导出")
    page.get_by_text("打印地图（PDF / PNG）").first.wait_for()
    with page.expect_download() as png:
        _button(page, "下载打印地图 PNG").click()
    print_map = shots / f"7-{png.value.suggested_filename}"  # the lead looks at it too
    png.value.save_as(print_map)
    assert print_map.suffix == ".png" and print_map.read_bytes()[:4] == b"\x89PNG"
    with page.expect_download() as gpkg:
        _button(page, "GeoPackage（社区与网格）").click()
    package = tmp_path / gpkg.value.suggested_filename
    gpkg.value.save_as(package)
    layers = gpd.list_layers(package)["name"].tolist()
    assert len(layers) == 2, layers  # communities and grids
    frames = {name: gpd.read_file(package, layer=name) for name in layers}
    for frame in frames.values():
        assert CGCS2000.search(frame.crs.name), frame.crs
    communities = next(f for name, f in frames.items() if "grid" not in name)
    assert len(communities) == 4
    shoot(page, shots, "6-export.png")
    seconds = time.monotonic() - started
    print(
        f"e2e usual job: {HOUSEHOLDS:,} households, 5 existing communities → 4 (stability "
        f"{stability}); moved a compound and {len(moved)} buildings, re-gridded; against today's "
        f"社区 {changed:,} households change community; print map {print_map.name} "
        f"({print_map.stat().st_size / 1024:,.0f} kB), GeoPackage {package.name} in "
        f"{communities.crs.name}; {seconds:.0f} s; screenshots in {shots}"
    )
