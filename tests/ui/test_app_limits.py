"""The app server's limits: every upload measured before anything reads it, upload names made
safe, old uploads removed, and what crashed saves leave in the projects folder cleaned.

The decisive fixture is a small workbook that expands to 8,000,000 rows (a few hundred MB of
sheet XML, about 1 MB on disk): it must be refused from its declared dimension and its zip
directory in well under a second, without being loaded.
"""

from __future__ import annotations

import fcntl
import io
import os
import time
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from app_support import TIMEOUT_S, texts
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

from ui import loading, projects

ROWS = 8_000_000


def _workbook(path: Path, *, rows: int, dimension_rows: int | None = None) -> Path:
    """A real .xlsx (written by openpyxl) whose first sheet is replaced by ``rows`` rows of
    two cells, streamed into the zip; its ``<dimension>`` says ``dimension_rows`` (default:
    the truth)."""
    book = openpyxl.Workbook()
    book.active.append(["lon", "lat"])
    buffer = io.BytesIO()
    book.save(buffer)
    declared = rows if dimension_rows is None else dimension_rows
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:B{declared}"/><sheetData>'
    ).encode()
    row = b'<row><c t="n"><v>121.5</v></c><c t="n"><v>29.8</v></c></row>'
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info))
                continue
            with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                sheet.write(head)
                block = row * 100_000
                for _ in range(rows // 100_000):
                    sheet.write(block)
                sheet.write(row * (rows % 100_000))
                sheet.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """About 1 MB on disk, 8,000,000 rows and ~480 MB once expanded."""
    return _workbook(tmp_path_factory.mktemp("bomb") / "户数.xlsx", rows=ROWS)


# ---------------------------------------------------------------------------------------------
# Limits before reading


def test_a_small_workbook_of_eight_million_rows_is_refused_by_its_rows_before_reading(bomb):
    assert bomb.stat().st_size < 3 * 1024 * 1024
    started = time.perf_counter()
    breach = loading.limit_breach(bomb)
    assert time.perf_counter() - started < 2.0  # read from the XML's head, not loaded
    assert breach == loading.LimitBreach("户数.xlsx", "rows", ROWS, loading.MAX_ROWS)
    assert "户数.xlsx: the file has 8,000,000 rows" in breach.message
    assert "at most 2,000,000 rows" in breach.message


def test_its_expanded_size_is_read_from_the_zip_directory(bomb):
    expanded = loading.expanded_size(bomb)
    assert expanded > 400 * 1024 * 1024  # declared, not decompressed
    breach = loading.limit_breach(bomb, max_expanded_mb=100)
    assert breach.what == "expanded" and breach.limit == 100
    assert breach.found == -(-expanded // (1024 * 1024))
    assert "expands to" in breach.message and "at most 100 MB" in breach.message


def test_the_loader_refuses_it_with_the_figures_and_never_reads_it(bomb):
    loaded = loading.load_households(str(bomb), "bomb-digest", "gcj02", label="户数.xlsx")
    assert not loaded.ok
    assert "8,000,000 rows" in loaded.message and "split the file" in loaded.message


def test_a_dimension_that_understates_the_rows_is_not_believed(tmp_path):
    path = _workbook(tmp_path / "少报.xlsx", rows=3_000, dimension_rows=2)
    assert loading.count_rows(path, stop_after=1_000) > 1_000
    breach = loading.limit_breach(path, max_rows=1_000)
    assert breach.what == "rows" and breach.found > 1_000
    assert loading.count_rows(path, stop_after=10_000) == 3_000  # every <row>, counted


def test_rows_and_size_of_a_csv(tmp_path):
    path = tmp_path / "户.csv"
    path.write_text("lon,lat\n" + "121.5,29.8\n" * 1_001, encoding="utf-8")
    assert loading.limit_breach(path) is None
    assert loading.limit_breach(path, max_rows=1_000) == loading.LimitBreach(
        "户.csv", "rows", 1_001, 1_000
    )
    assert loading.size_breach("户.csv", 3 * 1024 * 1024 + 1, limit_mb=3) == loading.LimitBreach(
        "户.csv", "size", 4, 3
    )


def test_every_layer_of_a_geopackage_is_counted_not_only_the_first(tmp_path):
    """A GeoPackage whose first layer is small and whose second is over the limit: the planner
    may choose the second, so the file is measured by its largest layer."""
    path = tmp_path / "两层.gpkg"
    small = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(121.5, 29.8)], crs=4326)
    small.to_file(path, layer="a_small")
    points = [Point(121.5 + i * 1e-5, 29.8) for i in range(1_001)]
    gpd.GeoDataFrame({"n": range(1_001)}, geometry=points, crs=4326).to_file(path, layer="b_big")
    assert loading.count_rows(path) == 1_001
    assert loading.limit_breach(path, max_rows=1_000) == loading.LimitBreach(
        "两层.gpkg", "rows", 1_001, 1_000
    )
    assert loading.limit_breach(path, max_rows=2_000) is None


# ---------------------------------------------------------------------------------------------
# Upload names and old uploads


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("..", "upload"),
        ("../../etc/passwd", "passwd"),
        ("a/../../b.csv", "b.csv"),
        ("C:\\Users\\张\\户数.xlsx", "户数.xlsx"),
        ("户\x00数.csv", "户数.csv"),
        (".csv", "upload.csv"),
        ("", "upload"),
        ("楼栋: 1|2?.csv", "楼栋_ 1_2_.csv"),
    ],
)
def test_upload_names_are_made_safe(name, stored):
    assert loading.safe_upload_name(name) == stored


def test_a_name_over_255_bytes_is_cut_keeping_its_extension():
    name = "户" * 200 + ".xlsx"  # 605 bytes
    stored = loading.safe_upload_name(name)
    assert len(stored.encode()) <= loading.MAX_NAME_BYTES
    assert stored.endswith(".xlsx") and stored.startswith("户户")


def test_save_upload_stores_awkward_names_inside_the_sessions_folder():
    owner = f"test-{uuid.uuid4().hex}"
    folder = loading.UPLOAD_ROOT / owner
    try:
        for name in ("..", "../../x.csv", "a\x00b.csv", "户" * 200 + ".csv"):
            ref = loading.save_upload(name, b"lon,lat\n1,2\n", owner=owner)
            path = Path(ref.path)
            assert path.is_file() and path.resolve().is_relative_to(folder.resolve())
            assert len(path.name.encode()) <= loading.MAX_NAME_BYTES
    finally:
        loading.discard_uploads(
            [loading.FileRef(str(p), "", p.name) for p in folder.rglob("*") if p.is_file()]
            if folder.exists()
            else [],
            owner=owner,
        )
    assert not folder.exists() or not any(folder.rglob("*.csv"))


def test_uploads_older_than_a_day_are_removed_with_their_folders(tmp_path):
    old = tmp_path / "s1" / "abc" / "old.csv"
    new = tmp_path / "s2" / "def" / "new.csv"
    for path in (old, new):
        path.parent.mkdir(parents=True)
        path.write_text("x")
    day_ago = time.time() - loading.UPLOAD_MAX_AGE_S - 60
    os.utime(old, (day_ago, day_ago))
    assert loading.remove_old_uploads(root=tmp_path) == 1
    assert not old.exists() and not (tmp_path / "s1").exists()
    assert new.exists()


def test_a_replaced_upload_of_one_session_leaves_the_others_alone():
    mine, theirs = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"
    first = loading.save_upload("a.csv", b"lon,lat\n1,2\n", owner=mine)
    second = loading.save_upload("b.csv", b"lon,lat\n3,4\n", owner=mine)
    other = loading.save_upload("a.csv", b"lon,lat\n1,2\n", owner=theirs)
    loading.discard_uploads([first, second, other], owner=mine, keep=[second])
    assert not Path(first.path).exists()
    assert Path(second.path).exists() and Path(other.path).exists()
    loading.discard_uploads([second], owner=mine)
    loading.discard_uploads([other], owner=theirs)
    assert not Path(second.path).exists() and not Path(other.path).exists()


# ---------------------------------------------------------------------------------------------
# The projects folder


def test_what_crashed_saves_left_is_cleaned_when_the_folder_is_listed(tmp_path):
    (tmp_path / "海曙区.gpkg").write_bytes(b"")
    hex_ = uuid.uuid4().hex
    old = [
        tmp_path / f".海曙区.gpkg.{hex_}.saving.gpkg",
        tmp_path / f".海曙区.gpkg.{hex_}.saving.gpkg-journal",
    ]
    fresh = tmp_path / f".海曙区.gpkg.{uuid.uuid4().hex}.saving.gpkg-journal"
    other = tmp_path / "notes.saving.txt"
    for path in [*old, fresh, other]:
        path.write_bytes(b"x")
    minutes_ago = time.time() - projects.STALE_SAVE_AGE_S - 60
    for path in [*old, other]:
        os.utime(path, (minutes_ago, minutes_ago))
    assert projects.list_projects(tmp_path) == ["海曙区.gpkg"]
    assert not any(p.exists() for p in old)
    assert fresh.exists() and other.exists()  # too young; not a save's file


def test_a_save_in_progress_keeps_its_files(tmp_path):
    (tmp_path / "p.gpkg").write_bytes(b"")
    journal = tmp_path / f".p.gpkg.{uuid.uuid4().hex}.saving.gpkg-journal"
    journal.write_bytes(b"x")
    long_ago = time.time() - 3600
    os.utime(journal, (long_ago, long_ago))
    with open(tmp_path / "p.gpkg.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # as planning.plans.project's save does
        assert projects.clean_stale_saves(tmp_path) == []
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    assert projects.clean_stale_saves(tmp_path) == [journal]


def test_projects_are_opened_and_made_only_inside_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(projects.PROJECTS_ENV, str(tmp_path))
    (tmp_path / "海曙区.gpkg").write_bytes(b"")
    outside = tmp_path.parent / f"outside-{uuid.uuid4().hex}.gpkg"
    outside.write_bytes(b"")
    try:
        assert projects.project_path("海曙区.gpkg") == tmp_path.resolve() / "海曙区.gpkg"
        for name in (f"../{outside.name}", str(outside), "没有.gpkg", ".."):
            assert projects.project_path(name) is None
        assert projects.new_project_path("../../etc/x") == tmp_path.resolve() / "x.gpkg"
        assert projects.new_project_path("新项目.gpkg") == tmp_path.resolve() / "新项目.gpkg"
        for name in ("", "  ", "..", "/"):
            assert projects.new_project_path(name) is None
    finally:
        outside.unlink()


# ---------------------------------------------------------------------------------------------
# In the page


def _store(paths: list[str], lang: str) -> None:
    """Submit files as the Data page's upload form does (AppTest cannot drive an uploader)."""
    from pathlib import Path

    import streamlit as st

    from ui.pages import data as data_page

    class Upload:
        def __init__(self, path: str, name: str) -> None:
            self.name, self._data = name, Path(path).read_bytes()
            self.size = len(self._data)

        def getvalue(self) -> bytes:
            return self._data

    st.session_state["lang"] = lang
    kinds = ("households", "facilities")
    names = ("../户数.xlsx", "设施\x00.csv")
    files = {k: Upload(p, n) for k, p, n in zip(kinds, paths, names, strict=False)}
    st.session_state["stored"] = data_page.store_uploads(files) is not None


def test_the_page_refuses_the_oversized_workbook_in_chinese_and_keeps_nothing(bomb):
    at = AppTest.from_function(_store, args=([str(bomb)], "zh"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    errors = texts(at.error)
    assert len(errors) == 1, errors
    assert "户数.xlsx：文件至少有 8,000,000 行，超过在线可接受的 2,000,000 行" in errors[0]
    assert "拆分" in errors[0] and "命令行" in errors[0]
    assert at.session_state["stored"] is False
    owner = at.session_state["upload_owner"]
    assert not list((loading.UPLOAD_ROOT / owner).rglob("*.xlsx"))  # removed again


def test_the_page_stores_a_good_upload_and_a_facility_table_under_safe_names(tmp_path):
    households = tmp_path / "h.csv"
    households.write_text("lon,lat,户数\n121.5,29.8,10\n", encoding="utf-8")
    facilities = tmp_path / "f.csv"
    facilities.write_text("名称,经度,纬度\n学校,121.5,29.8\n", encoding="utf-8")
    at = AppTest.from_function(
        _store, args=([str(households), str(facilities)], "en"), default_timeout=TIMEOUT_S
    )
    at.run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert at.session_state["stored"] is True
    owner = at.session_state["upload_owner"]
    stored = sorted(p.name for p in (loading.UPLOAD_ROOT / owner).rglob("*") if p.is_file())
    assert stored == ["户数.xlsx", "设施.csv"]
    loading.discard_uploads(
        [loading.FileRef(str(p), "", p.name) for p in (loading.UPLOAD_ROOT / owner).rglob("*.*")],
        owner=owner,
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_facility_table_with_lon_lat_in_chinese_is_read_as_a_layer(tmp_path, suffix):
    """What the facilities uploader now takes: a table with 经度/纬度, as planners keep it."""
    rows = [
        ["名称", "类型", "建筑面积", "经度", "纬度"],
        ["学校", "school", "1200", "121.55", "29.87"],
    ]
    path = tmp_path / f"设施{suffix}"
    if suffix == ".csv":
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        for r in rows:
            book.active.append(r)
        book.save(path)
    loaded = loading.load_layer("facilities", str(path), f"digest{suffix}", "gcj02")
    assert loaded.ok, (loaded.message, loaded.problems)
    assert loaded.frame["name"].tolist() == ["学校"]
    assert loaded.frame["floor_area_m2"].tolist() == [1200.0]


def test_a_source_over_a_limit_is_refused_in_the_page_language(bomb):
    """A source already set (not through the form) that is over a limit: the Data page says so
    in Chinese, with the figures, and shows no traceback."""
    from app_support import new_app

    from ui import state

    at = new_app(**{state.SOURCE_KEY: loading.source_for_path(bomb, crs="gcj02")})
    at.run()
    assert not at.exception, at.exception
    errors = texts(at.error)
    assert any(
        "户数.xlsx：文件至少有 8,000,000 行，超过在线可接受的 2,000,000 行" in e for e in errors
    )
