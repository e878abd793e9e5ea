"""A refused household file on the 数据 page in headless Chromium, in Chinese (issue 16).

A planner uploads a CSV with a household count left empty, a longitude that is no number, a
point in Paris declared GCJ-02 and a negative count; then one whose coordinate columns have
other names; and sets a grid size above the community band on 方案. Every box the page shows
is in Chinese: the words left in English are ids (formats, software, CRS keys, option and
column names) and the file's own names. A screenshot of each is saved to
``$E2E_SHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_message_languages import english_words
from tests.ui.browser import browser_page, choose_file, go, served_app, settle, shoot

STEP_S = 120
OPEN_SAMPLE = "打开示例"
pytestmark = pytest.mark.browser

BAD_VALUES = (
    "经度,纬度,户数,楼栋编号,小区名称\n"
    "116.30,39.98,12,A1,甲\n116.31,39.99,,A2,甲\n116.3a,39.97,5,A3,乙\n"
    "2.35,48.85,8,A4,巴黎\n116.32,39.96,-3,A5,乙\n"
)
BAD_COLUMNS = "x_coord,y_coord,户数\n116.30,39.98,12\n"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    log = tmp_path_factory.mktemp("data-refusal") / "streamlit.log"
    with (
        served_app(log, households=5_000) as url,
        browser_page(url, step_s=STEP_S, height=1100) as tab,
    ):
        settle(tab)
        yield tab


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("E2E_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open_sources(page, kind: str) -> None:
    """The 打开数据 box open (it stays open after a file is read) on ``kind``."""
    choice = page.get_by_text(kind, exact=True)
    if not choice.is_visible():
        page.get_by_text("打开数据：内置示例或上传文件").click()
    choice.click()
    settle(page)


def _upload(page, path: Path) -> None:
    go(page, "数据")
    _open_sources(page, "上传文件")
    choose_file(page, "住户数据文件", path)
    page.get_by_role("combobox", name="坐标系", exact=True).first.click()
    page.get_by_role("option", name="GCJ-02（高德、腾讯）").click()
    page.get_by_role("button", name="读取并校验", exact=True).click()
    settle(page)


def _boxes(page) -> list[str]:
    """The text of every message box the page shows."""
    return [box.inner_text() for box in page.locator('[data-testid="stAlert"]').all()]


def test_a_bad_household_file_is_refused_in_chinese(page, tmp_path, shots):
    path = tmp_path / "坏住户.csv"
    path.write_text(BAD_VALUES, encoding="utf-8")
    _upload(page, path)
    boxes = _boxes(page)
    shoot(page, shots, "data_refused_values.png")
    text = "\n".join(boxes)
    for sentence in (
        "缺少户数",
        "经度不是数字",
        "点位于中国境外，但声明的坐标系是 gcj02",
        "户数为负数",
    ):
        assert sentence in text
    data = (path.name, "经度/纬度", "gcj02", "'116.3a'", "'-3'")
    assert [w for box in boxes for w in english_words(box, *data)] == []


def test_columns_that_are_not_found_are_said_in_chinese(page, tmp_path, shots):
    path = tmp_path / "列名不对.csv"
    path.write_text(BAD_COLUMNS, encoding="utf-8")
    _upload(page, path)
    boxes = _boxes(page)
    shoot(page, shots, "data_refused_columns.png")
    assert any("没有经度和纬度列" in box for box in boxes)
    data = (path.name, "x_coord", "y_coord", "--columns", "--header-row")
    assert [w for box in boxes for w in english_words(box, *data)] == []


def test_a_grid_above_the_community_band_is_refused_in_chinese(page, shots):
    go(page, "数据")
    _open_sources(page, "内置示例")
    page.get_by_role("button", name=OPEN_SAMPLE, exact=True).click()
    settle(page)
    go(page, "方案")
    size = page.get_by_label("网格目标户数", exact=True)
    size.fill("2500")
    size.press("Enter")
    settle(page)
    page.get_by_role("button", name="生成方案", exact=True).click()
    settle(page)
    boxes = _boxes(page)
    shoot(page, shots, "propose_refused_parameters.png")
    assert any("网格户数范围的上限高于社区户数范围的下限" in box for box in boxes)
    assert [w for box in boxes for w in english_words(box)] == []
