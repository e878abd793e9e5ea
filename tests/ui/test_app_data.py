"""The app's Data page in streamlit's AppTest: the sample, refused files, the language switch.

AppTest cannot drive a file uploader, so a "bad upload" is a file on disk put into the session
as the page's source (``ui.loading.source_for_path``): from there the page runs exactly the code
an upload runs once it is saved. The sample is generated at 10,000 households to stay fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import SAMPLE_HOUSEHOLDS, new_app, texts

from geo.errors import ValidationError
from geo.intake import read_households
from ui import loading, state

BROKEN_CSV = """经度,纬度,户数,楼栋编号,小区名称
121.54,29.87,12,A1,月湖花园
121.55,abc,8,A2,月湖花园
,29.88,5,A3,月湖花园
121.56,29.88,-3,A4,月湖花园
121.57,29.89,2.5,A5,月湖花园
"""


@pytest.fixture
def broken_csv(tmp_path: Path) -> Path:
    path = tmp_path / "住户_坏.csv"
    path.write_text(BROKEN_CSV, encoding="utf-8")
    return path


def test_default_run_shows_the_sample_summary():
    at = new_app().run()
    assert not at.exception
    assert not at.error
    assert at.title[0].value == "数据"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["户数"] == f"{SAMPLE_HOUSEHOLDS:,}"
    assert int(metrics["楼栋"].replace(",", "")) > 0
    assert int(metrics["数据行"].replace(",", "")) >= int(metrics["楼栋"].replace(",", ""))
    body = "\n".join(texts(at.markdown))
    for fact in ("范围（WGS84 经纬度）", "GCJ-02", "EPSG:45"):
        assert fact in body
    assert any("街道" in line for line in texts(at.markdown))  # the layers were read
    assert isinstance(at.session_state[state.SOURCE_KEY], state.DataSource)
    assert at.session_state[state.SOURCE_KEY].kind == "sample"


def test_a_refused_file_shows_every_problem_as_an_error(broken_csv):
    with pytest.raises(ValidationError) as refused:
        read_households(broken_csv, crs="gcj02")
    source = loading.source_for_path(broken_csv, crs="gcj02")
    at = new_app(**{state.SOURCE_KEY: source}).run()
    assert not at.exception
    errors = texts(at.error)
    assert "住户_坏.csv" in errors[0] and "error" not in errors[0]  # the Chinese headline
    for problem in refused.value.problems:
        shown = errors if problem.is_error else texts(at.warning)
        message, fix = problem.rendered("message", "zh"), problem.rendered("fix", "zh")
        assert any(message in e and fix in e for e in shown), message
        assert problem.message not in "\n".join(shown)  # the English text is not shown
    assert len(at.dataframe) == 1  # the table of all problems
    assert not at.metric  # no summary for a refused file


def test_an_unreadable_file_shows_the_library_message(tmp_path):
    path = tmp_path / "households.csv"
    path.write_bytes(b"")
    at = new_app(**{state.SOURCE_KEY: loading.source_for_path(path, crs="wgs84")}).run()
    assert not at.exception
    assert any("households.csv：文件是空的（0 字节）" in e for e in texts(at.error))
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert any("households.csv: the file is empty" in e for e in texts(at.error))


def test_an_unknown_crs_shows_the_accepted_forms(broken_csv):
    source = loading.source_for_path(broken_csv, crs="mercator")
    at = new_app(**{state.SOURCE_KEY: source}).run()
    assert not at.exception
    assert any("无法识别坐标系 'mercator'；应为以下之一：" in e for e in texts(at.error))
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert any("'mercator' is not recognised" in e for e in texts(at.error))


def test_a_good_upload_with_an_explicit_column_mapping(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("东经,北纬,hh\n121.54,29.87,12\n121.55,29.88,30\n", encoding="utf-8")
    source = loading.source_for_path(path, crs="wgs84", columns={"lon": "东经", "lat": "北纬"})
    at = new_app(**{state.SOURCE_KEY: source}).run()
    assert not at.exception
    assert not at.error
    assert {m.label: m.value for m in at.metric}["户数"] == "42"


def test_the_language_switch_changes_the_labels():
    at = new_app().run()
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Data"
    labels = {m.label for m in at.metric}
    assert {"Rows", "Buildings", "Households", "Compounds"} <= labels
    at.radio(key=state.LANG_KEY).set_value("zh").run()
    assert at.title[0].value == "数据"


def test_upload_form_asks_for_a_file_first():
    at = new_app().run()
    at.radio(key=state.widget_key_for("data_kind", "zh")).set_value("upload").run()
    at.button(key="upload_submit").click().run()  # the form's submit button
    assert not at.exception
    assert "请选择住户数据文件。" in texts(at.error)


def test_tianditu_without_a_key_falls_back_to_no_basemap():
    at = new_app().run()
    at.selectbox(key=state.widget_key_for(state.BASEMAP_KEY, "zh")).set_value("tianditu").run()
    assert not at.exception
    assert any("no Tianditu key" in w for w in texts(at.warning))


def test_row_bound_is_checked_before_reading(broken_csv):
    assert loading.count_rows(broken_csv) == 5
    digest = loading.file_digest(broken_csv)
    result = loading.load_households(
        str(broken_csv), digest, "gcj02", (), label="住户_坏.csv", max_rows=4
    )
    assert not result.ok
    assert "5 rows" in result.message and "at most 4 rows" in result.message
    assert loading.rows_over_limit("x.csv", 2_000_000) is None
    assert "2,000,001 rows" in loading.rows_over_limit("x.csv", 2_000_001)


def test_size_bound_message():
    assert loading.size_over_limit("big.csv", 200 * 1024 * 1024) is None
    message = loading.size_over_limit("big.csv", 300 * 1024 * 1024)
    assert "300 MB" in message and "at most 200 MB" in message


def test_uploads_are_saved_under_their_digest_with_their_name():
    first = loading.save_upload("../住户.csv", b"a,b\n1,2\n")
    again = loading.save_upload("住户.csv", b"a,b\n1,2\n")
    assert first == again
    assert Path(first.path).name == "住户.csv" and Path(first.path).read_bytes() == b"a,b\n1,2\n"


def test_choices_survive_the_language_switch():
    at = new_app().run()
    at.selectbox(key=state.widget_key_for(state.BASEMAP_KEY, "zh")).set_value("amap").run()
    at.radio(key=state.LANG_KEY).set_value("en").run()
    assert not at.exception
    assert at.session_state[state.BASEMAP_KEY] == "amap"
    english = at.selectbox(key=state.widget_key_for(state.BASEMAP_KEY, "en"))
    assert english.value == "amap"
    assert not at.warning  # the map was drawn on Amap, no fallback
