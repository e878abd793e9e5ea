"""The Export page's print map and audit log (ui/pages/export.py, ui/exports.py).

The page is driven in AppTest on the built-in sample at 10,000 households (the proposal is
cached per process); the files themselves are made by :mod:`ui.exports` from the session's
plan in memory, as the download buttons make them on click, and read back: the PNG's size is
an A4 or A3 sheet at 200 dpi, the PDF has one page of that size, and the audit log's ``what``
column is in the language asked for.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re

import pytest
from app_support import new_app, open_page, texts
from PIL import Image

from planning import SplitCommunity, load_plan
from ui import exports, runs, state
from ui.i18n import text

PNG_DPI = 200
MM_PER_INCH = 25.4


def with_plan(**session: object):
    at = new_app(**session).run()
    open_page(at, "propose")
    at.button(key="propose_run").click().run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def session_plan():
    """The app's plan, its reference and its layers, as the Export page holds them."""
    at = with_plan()
    open_page(at, "export")
    assert not at.exception
    ref = at.session_state[state.PLAN_KEY]
    view = runs.plan_view(ref, state.ScenarioSpec())
    return at, ref, view.plan, runs.layer_frames(ref.source)


def test_the_print_map_section_has_a_default_title_and_both_formats(session_plan):
    at, *_ = session_plan
    assert "打印地图（PDF / PNG）" in texts(at.subheader)
    assert at.text_input(key="export_print_title").value == "示例区社区划分方案（方案 A）"
    keys = {b.key for b in at.get("download_button")}
    assert {"export_print_png", "export_print_pdf"} <= keys
    at.text_input(key="export_print_organisation").set_value("南山区民政局").run()
    at.text_input(key="export_print_editor").set_value("张三").run()
    at.radio(key=state.widget_key_for("export_print_paper", "zh")).set_value("A3").run()
    assert not at.exception
    assert at.session_state["export_print_paper"] == "A3"
    assert at.session_state[state.AUTHOR_KEY] == "张三"  # the editor is the session's author


def test_a_typed_title_is_kept_and_the_default_follows_the_scenario(session_plan):
    at, *_ = session_plan
    at.text_input(key="export_print_title").set_value("南山区社区调整").run()
    at.run()
    assert at.text_input(key="export_print_title").value == "南山区社区调整"
    at.text_input(key="export_print_title").set_value("").run()
    at.run()
    assert at.text_input(key="export_print_title").value == "示例区社区划分方案（方案 A）"


def _sheet(fmt: str, **kwargs) -> exports.PrintSheet:
    base = exports.PrintSheet(
        fmt=fmt,
        title="示例区社区划分方案（方案A）",
        editor="张三",
        organisation="示例区民政局",
        date=dt.date(2026, 12, 3),
    )
    return dataclasses.replace(base, **kwargs)


@pytest.mark.parametrize(("paper", "size_mm"), [("A4", (297, 210)), ("A3", (420, 297))])
def test_the_png_is_a_landscape_sheet_of_the_paper_chosen(session_plan, paper, size_mm):
    _at, ref, plan, layers = session_plan
    png = exports.print_map_bytes(
        plan, params=ref.params, layers=layers, sheet=_sheet("png", paper=paper)
    )
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    expected = [round(mm / MM_PER_INCH * PNG_DPI) for mm in size_mm]
    assert abs(width - expected[0]) <= 2 and abs(height - expected[1]) <= 2


def test_the_pdf_is_one_a4_landscape_page(session_plan):
    _at, ref, plan, layers = session_plan
    pdf = exports.print_map_bytes(plan, params=ref.params, layers=layers, sheet=_sheet("pdf"))
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1
    box = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", pdf)
    assert box is not None
    width_mm, height_mm = (float(v) / 72 * MM_PER_INCH for v in box.groups())
    assert round(width_mm) == 297 and round(height_mm) == 210


def test_the_audit_log_is_written_in_the_language_chosen(session_plan, tmp_path):
    _at, ref, _plan, layers = session_plan
    base = runs.scenario(ref, state.ScenarioSpec())
    first = base.evaluate().community_ids[0]
    plan = base.push(SplitCommunity(first, 2), author="张三").evaluate()
    zh = _rows(exports.audit_csv(plan, lang="zh"))
    en = _rows(exports.audit_csv(plan, lang="en"))
    assert list(zh[0]) == [text(f"edit.history.{key}", "zh") for key in exports.AUDIT_KEYS]
    assert zh[0]["操作"] == f"拆分 {first} 为 2 个"
    assert zh[0]["编辑人"] == "张三"
    assert en[0]["What"] == f"split {first} into 2"
    # a project keeps the records: the reopened plan's log is worded in either language
    project = tmp_path / "project.gpkg"
    project.write_bytes(exports.project_bytes({"B": plan}, params=ref.params, layers=layers))
    reopened = load_plan(project, "B")
    assert _rows(exports.audit_csv(reopened, lang="zh")) == zh
    assert _rows(exports.audit_csv(reopened, lang="en")) == en
    # an entry without records (a project saved before they were kept) shows what it stored
    bare = dataclasses.replace(
        plan, log=tuple(dataclasses.replace(e, records=None) for e in plan.log)
    )
    assert _rows(exports.audit_csv(bare, lang="zh"))[0]["操作"] == f"split {first} into 2"


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_print_map_section_in_english():
    at = with_plan(**{state.LANG_KEY: "en"})
    open_page(at, "export")
    assert not at.exception
    assert "Print map (PDF / PNG)" in texts(at.subheader)
    assert (
        at.text_input(key="export_print_title").value
        == "Sample district: community layout (Scenario A)"
    )
    labels = {b.key: b.label for b in at.get("download_button") if b.key}
    assert labels["export_print_pdf"] == "Download print map PDF"


def test_the_organisation_and_editor_survive_a_visit_to_another_page():
    at = with_plan()
    open_page(at, "export")
    at.text_input(key="export_print_organisation").set_value("示例区民政局").run()
    at.text_input(key="export_print_editor").set_value("张三").run()
    open_page(at, "standards")
    open_page(at, "export")
    assert not at.exception
    assert at.text_input(key="export_print_organisation").value == "示例区民政局"
    assert at.text_input(key="export_print_editor").value == "张三"


@pytest.mark.parametrize(
    ("label", "district"),
    [("海淀区住户.csv", "海淀区住户"), ("households.csv", ""), ("2026_南山.xlsx", "2026_南山")],
)
def test_the_default_title_names_a_district_only_from_a_chinese_file_name(
    session_plan, label, district
):
    _, ref, *_ = session_plan
    uploaded = dataclasses.replace(
        ref.source,
        kind="upload",
        households=dataclasses.replace(ref.source.households, label=label),
    )
    assert exports.district_name(uploaded, sample="示例区") == district
    assert exports.district_name(ref.source, sample="示例区") == "示例区"
    assert (
        text("export.print.default_title_plain", "zh").format(scenario="方案 A")
        == "社区划分方案（方案 A）"
    )
