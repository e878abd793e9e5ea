"""The print map of a plan folder (planning.render) and ``python -m planning render``.

The plan folder is four 1 km square communities of two grids each, drawn in metres of
EPSG:4547 (CGCS2000 / 3-degree Gauss-Krüger CM 114E) and written as RFC 7946 GeoJSON::

    y (m)                                  river (kind=river) along x = 1000
    2000 +---------+---------+
         | C003    | C004  ! |             ! C004 holds 3,100: out of the band 2,250–2,750
         | 2,600   | 3,100   |
    1000 +====:====+====:====+  ======     primary road along y = 1000
         | C001    | C002    |             residential street along x = 500
         | 2,480   | 2,300   |             (:  grid border at the middle of each community)
       0 +---------+---------+
         0        1000      2000  x (m)

Every community touches the other three (C001 and C004 at a corner only), so the four fills
must differ.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image
from shapely.geometry import LineString, Point, box

from geo.errors import GeometryError, InputFormatError, PlanningInputError
from geo.export import write_geojson
from planning import render
from planning.cli import EXIT_INPUT_ERROR, main
from planning.render import (
    neighbour_colours,
    plan_map_layers,
    read_plan_layers,
    render_map,
    render_plan,
    road_tier,
    scale_bar_length_m,
)

METRIC = 4547
ORIGIN = (500_000.0, 2_490_000.0)  # 114.0E, 22.5N
COMMUNITIES = {  # id: (column, row, households, in band)
    "C001": (0, 0, 2480, True),
    "C002": (1, 0, 2300, True),
    "C003": (0, 1, 2600, True),
    "C004": (1, 1, 3100, False),
}
SUMMARY = {
    "parameters": {
        "community_size": 2500,
        "tolerance": 0.1,
        "grid_size": 250,
        "grid_tolerance": 0.2,
        "max_grids": 10,
    },
    "data": {"metric_crs": "EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"},
    "communities": {"count": 4, "band": [2250.0, 2750.0]},
    "grids": {"count": 8, "band": [200.0, 300.0]},
}
CHINESE_LEGEND = (
    "社区边界",
    "网格边界",
    "超出规模范围的社区",
    "街道界线",  # boundaries
    "主要道路",
    "次要道路",  # roads
    "水系",
    "建筑",
)
DAY = dt.date(2026, 5, 1)
DPI = 40  # small pages keep the tests fast


def _metric(geoms, **columns) -> gpd.GeoDataFrame:
    shifted = [shapely.affinity.translate(g, *ORIGIN) for g in geoms]
    return gpd.GeoDataFrame(columns, geometry=shifted, crs=METRIC)


def write_plan_folder(
    folder: Path,
    *,
    context: bool = True,
    summary: dict | None = SUMMARY,
    in_band_column: bool = True,
) -> Path:
    """The folder of the module docstring; ``context`` adds barriers, streets, buildings and
    footprints."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = list(COMMUNITIES.items())
    squares = [
        box(c * 1000, r * 1000, c * 1000 + 1000, r * 1000 + 1000) for _, (c, r, _, _) in rows
    ]
    columns = {
        "community_id": [cid for cid, _ in rows],
        "name": [f"{cid}社区" for cid, _ in rows],
        "households": [hh for _, (_, _, hh, _) in rows],
        "grid_count": [2] * len(rows),
    }
    if in_band_column:
        columns["in_band"] = [ok for _, (_, _, _, ok) in rows]
    write_geojson(_metric(squares, **columns), folder / "communities.geojson")
    halves, grid_rows = [], {"grid_id": [], "community_id": [], "households": []}
    for square, (cid, (_, _, households, _)) in zip(squares, rows, strict=True):
        x0, y0, x1, y1 = square.bounds
        for part, (a, b) in enumerate(((x0, (x0 + x1) / 2), ((x0 + x1) / 2, x1)), start=1):
            halves.append(box(a, y0, b, y1))
            grid_rows["grid_id"].append(f"{cid}-{part:03d}")
            grid_rows["community_id"].append(cid)
            grid_rows["households"].append(households // 2)
    write_geojson(_metric(halves, **grid_rows), folder / "grids.geojson")
    if summary is not None:
        (folder / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False), encoding="utf-8"
        )
    if context:
        _write_context(folder, squares)
    return folder


def _write_context(folder: Path, squares) -> None:
    barriers = _metric(
        [
            LineString([(-100, 1000), (2100, 1000)]),
            LineString([(500, 0), (500, 2000)]),
            LineString([(1000, -100), (1000, 2100)]),
        ],
        kind=["road", "road", "river"],
        road_class=["primary", "residential", ""],
        name=["深南大道", "", "大沙河"],
    )
    write_geojson(barriers, folder / "barriers.geojson")
    write_geojson(_metric([box(0, 0, 2000, 2000)], name=["粤海街道"]), folder / "streets.geojson")
    centres = [s.centroid for s in squares]
    write_geojson(
        _metric(centres, building_id=["B1", "B2", "B3", "B4"], households=[2480, 2300, 2600, 3100]),
        folder / "buildings.geojson",
    )
    write_geojson(
        _metric(
            [c.buffer(60, cap_style="square") for c in centres],
            building_id=["B1", "B2", "B3", "B4"],
        ),
        folder / "footprints.geojson",
    )


@pytest.fixture(scope="module")
def cjk_font() -> str:
    """The machine's CJK font; CI installs fonts-noto-cjk (.ci/run)."""
    family = render.find_cjk_font()
    if family is None:
        pytest.fail("no CJK font on this machine: apt-get install fonts-noto-cjk")
    return family


@pytest.fixture(scope="module")
def full_plan(tmp_path_factory) -> Path:
    return write_plan_folder(tmp_path_factory.mktemp("plan") / "plan")


@pytest.fixture(scope="module")
def rendered(full_plan: Path, cjk_font: str, tmp_path_factory):
    """The full plan drawn once as PNG, in Chinese."""
    out = tmp_path_factory.mktemp("map") / "plan.png"
    return render_plan(full_plan, out, dpi=DPI, date=DAY)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# ---------------------------------------------------------------------------------------------
# The map


def test_png_is_a_map_of_the_page_size(rendered) -> None:
    with Image.open(rendered.path) as image:
        width, height = image.size
        colours = image.convert("RGB").getcolors(maxcolors=100_000)
    assert width == pytest.approx(297 / 25.4 * DPI, abs=1)
    assert 0.6 * width < height < 1.6 * width
    assert len(colours) > 20  # fills, lines, text: not a blank page
    assert rendered.path.stat().st_size > 5_000


def test_pdf_is_written_by_its_suffix(full_plan: Path, cjk_font: str, tmp_path: Path) -> None:
    result = render_plan(full_plan, tmp_path / "maps" / "plan.pdf", dpi=DPI, date=DAY)
    data = result.path.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 5_000
    assert result.font_family == cjk_font


def test_legend_lists_the_layers_drawn(rendered, cjk_font: str) -> None:
    assert rendered.legend == CHINESE_LEGEND
    assert rendered.layers == (
        "communities",
        "footprints",
        "major",
        "minor",
        "water",
        "grids",
        "streets",
        "out_of_band",
    )  # footprints win over points
    assert rendered.font_family == cjk_font and rendered.lang == "zh"
    assert rendered.warnings == ()


def test_legend_without_context_layers(tmp_path: Path, cjk_font: str) -> None:
    folder = write_plan_folder(tmp_path / "bare", context=False)
    (folder / "grids.geojson").unlink()
    result = render_plan(folder, tmp_path / "bare.png", dpi=DPI, date=DAY)
    assert result.legend == ("社区边界", "超出规模范围的社区")
    assert result.layers == ("communities", "out_of_band")


def test_building_points_when_no_footprints(tmp_path: Path, cjk_font: str) -> None:
    folder = write_plan_folder(tmp_path / "plan")
    (folder / "footprints.geojson").unlink()
    result = render_plan(folder, tmp_path / "plan.png", dpi=DPI, date=DAY)
    assert "buildings" in result.layers and "footprints" not in result.layers
    assert "建筑" in result.legend


def test_labels_carry_id_and_households(rendered) -> None:
    assert rendered.community_labels == (
        "C001\n2,480户",
        "C002\n2,300户",
        "C003\n2,600户",
        "C004\n3,100户",
    )


def test_title_subtitle_and_note(rendered) -> None:
    assert rendered.title == "社区与网格划分方案"
    assert rendered.subtitle == "4 个社区 · 8 个网格 · 社区规模 2,250–2,750 户 · 网格 200–300 户"
    assert rendered.note == (
        "坐标系：CGCS2000 / 3度带高斯-克吕格投影 EPSG:4547 · 制图日期：2026-05-01"
    )
    assert rendered.metric_crs == "EPSG:4547"
    assert rendered.scale_bar_m == 500  # a fifth of the ~2.3 km map


def test_no_credits_unless_given(rendered) -> None:
    assert rendered.credits == ""


def test_editor_and_organisation_at_the_bottom_right(
    full_plan: Path, cjk_font: str, tmp_path: Path
) -> None:
    result = render_plan(
        full_plan,
        tmp_path / "plan.png",
        dpi=DPI,
        date=DAY,
        editor=" 张三 ",
        organisation="南山区民政局",
    )
    assert result.credits == "编制单位：南山区民政局 · 编制人：张三"
    plain = render_plan(full_plan, tmp_path / "plain.png", dpi=DPI, date=DAY)
    with_credits, without = _pixels(result.path), _pixels(plain.path)
    height, width, _ = with_credits.shape
    differs = np.argwhere((with_credits != without).any(axis=2))
    assert len(differs)  # the credits are drawn, and only in the bottom-right corner
    assert (differs[:, 0] > 0.9 * height).all() and (differs[:, 1] > 0.5 * width).all()
    only_editor = render_plan(
        full_plan, tmp_path / "editor.png", lang="en", dpi=DPI, date=DAY, editor="Li Si"
    )
    assert only_editor.credits == "prepared by Li Si"


@pytest.mark.parametrize(("paper", "size_mm"), [("A4", (297, 210)), ("A3", (420, 297))])
def test_paper_sizes_are_landscape_sheets(
    full_plan: Path, cjk_font: str, tmp_path: Path, paper: str, size_mm
) -> None:
    result = render_plan(full_plan, tmp_path / "plan.png", dpi=DPI, date=DAY, paper=paper)
    assert result.page_mm == size_mm
    with Image.open(result.path) as image:
        width, height = image.size
    assert width == pytest.approx(size_mm[0] / 25.4 * DPI, abs=1)
    assert height == pytest.approx(size_mm[1] / 25.4 * DPI, abs=1)
    assert result.legend == CHINESE_LEGEND  # the legend still fits below the map


def test_a_plan_in_memory_draws_as_its_folder_does(
    full_plan: Path, cjk_font: str, tmp_path: Path
) -> None:
    """The frames of a plan (metric CRS, as an app holds them) give the folder's map."""
    folder = read_plan_layers(full_plan)
    wgs84 = {
        name: gpd.read_file(full_plan / f"{name}.geojson")
        for name in ("communities", "grids", "barriers", "streets", "buildings")
    }
    layers = plan_map_layers(
        wgs84["communities"].to_crs(METRIC).drop(columns="in_band"),
        grids=wgs84["grids"],
        buildings=wgs84["buildings"],
        barriers=wgs84["barriers"],
        subdistricts=wgs84["streets"],
        summary=SUMMARY,
    )
    assert layers.metric_crs.to_epsg() == METRIC
    assert layers.communities["in_band"].tolist() == folder.communities["in_band"].tolist()
    from_memory = render_map(layers, tmp_path / "memory.png", dpi=DPI, date=DAY)
    from_folder = render_plan(full_plan, tmp_path / "folder.png", dpi=DPI, date=DAY)
    assert from_memory.subtitle == from_folder.subtitle
    assert from_memory.out_of_band == ("C004",)
    assert from_memory.community_labels == from_folder.community_labels
    assert set(from_memory.layers) == set(from_folder.layers) - {"footprints"} | {"buildings"}


def test_a_plan_in_memory_without_communities_is_refused() -> None:
    empty = gpd.GeoDataFrame({"community_id": [], "households": []}, geometry=[], crs=4326)
    with pytest.raises(InputFormatError, match=r"communities: holds no features"):
        plan_map_layers(empty)


def test_neighbouring_communities_differ_in_colour(rendered) -> None:
    colours = rendered.community_colours
    assert set(colours) == set(COMMUNITIES)
    assert len(set(colours.values())) == 4  # all four touch one another


def test_out_of_band_community_is_marked(rendered) -> None:
    assert rendered.out_of_band == ("C004",)
    assert "超出规模范围的社区" in rendered.legend
    pixels = _pixels(rendered.path).astype(int)
    red = (pixels[..., 0] > 170) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    assert red.sum() > 200  # the red border and hatching


def test_band_from_summary_when_in_band_is_absent(tmp_path: Path, cjk_font: str) -> None:
    folder = write_plan_folder(tmp_path / "plan", context=False, in_band_column=False)
    result = render_plan(folder, tmp_path / "plan.png", dpi=DPI, date=DAY)
    assert result.out_of_band == ("C004",)


def test_english(full_plan: Path, tmp_path: Path) -> None:
    result = render_plan(full_plan, tmp_path / "plan.png", lang="en", dpi=DPI, date=DAY)
    assert result.lang == "en" and result.font_family == render.LATIN_FAMILY
    assert result.legend[:3] == (
        "Community boundary",
        "Grid boundary",
        "Community outside the size band",
    )
    assert result.community_labels[0] == "C001\n2,480 hh"
    assert result.subtitle.startswith("4 communities · 8 grids · communities 2,250–2,750")
    assert result.note.startswith("CRS: CGCS2000 / 3-degree Gauss-Kruger CM 114E EPSG:4547")


def test_no_cjk_font_falls_back_to_english(full_plan: Path, tmp_path: Path, monkeypatch) -> None:
    """No boxes for Chinese: English text, and a warning naming the font package (a glyph
    missing from the font would be a matplotlib warning, an error under filterwarnings)."""
    monkeypatch.setattr(render, "find_cjk_font", lambda: None)
    result = render_plan(
        full_plan, tmp_path / "plan.png", title="南山区社区方案", dpi=DPI, date=DAY
    )
    assert result.lang == "en" and result.font_family == render.LATIN_FAMILY
    assert result.title == "Communities and grids: proposed layout"
    assert result.legend[0] == "Community boundary"
    assert [w.code for w in result.warnings] == ["no_cjk_font"]
    assert "fonts-noto-cjk" in str(result.warnings[0])


def test_metric_crs_from_the_data_without_summary(tmp_path: Path, cjk_font: str) -> None:
    folder = write_plan_folder(tmp_path / "plan", context=False, summary=None)
    result = render_plan(folder, tmp_path / "plan.png", dpi=DPI, date=DAY)
    assert result.metric_crs == "EPSG:4547"
    assert result.subtitle == "4 个社区 · 8 个网格"  # no bands without summary.json
    assert result.out_of_band == ("C004",)  # from the in_band column


def test_layers_are_projected(full_plan: Path) -> None:
    layers = read_plan_layers(full_plan)
    assert layers.metric_crs.to_epsg() == METRIC
    minx, miny, _, _ = layers.communities.total_bounds
    assert minx == pytest.approx(ORIGIN[0], abs=0.5) and miny == pytest.approx(ORIGIN[1], abs=0.5)
    assert layers.barriers["kind"].tolist() == ["road", "road", "river"]


# ---------------------------------------------------------------------------------------------
# Refusals


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match=r"no such folder.*python -m planning propose"):
        render_plan(tmp_path / "nowhere", tmp_path / "plan.png")


def test_folder_without_communities_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(
        InputFormatError, match=r"communities.geojson is missing.*found: notes.txt.*propose"
    ):
        render_plan(tmp_path, tmp_path / "plan.png")


def test_damaged_summary_is_refused(tmp_path: Path) -> None:
    folder = write_plan_folder(tmp_path / "plan", context=False)
    (folder / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"summary.json: cannot be read as JSON"):
        render_plan(folder, tmp_path / "plan.png")


def test_damaged_layer_is_refused(tmp_path: Path) -> None:
    folder = write_plan_folder(tmp_path / "plan", context=False)
    (folder / "grids.geojson").write_text('{"type": "FeatureCollection", "feat', encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"grids.geojson: cannot be read as GeoJSON"):
        render_plan(folder, tmp_path / "plan.png")


def test_communities_without_households_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    folder.mkdir()
    write_geojson(
        _metric([box(0, 0, 10, 10)], community_id=["C001"]), folder / "communities.geojson"
    )
    with pytest.raises(InputFormatError, match=r"missing column\(s\) households"):
        render_plan(folder, tmp_path / "plan.png")


def test_communities_must_be_polygons(tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    folder.mkdir()
    write_geojson(
        _metric([Point(0, 0)], community_id=["C001"], households=[10]),
        folder / "communities.geojson",
    )
    with pytest.raises(GeometryError, match=r"feature\(s\) 1 are not polygons.*found: Point"):
        render_plan(folder, tmp_path / "plan.png")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"out": "plan.svg"}, r"unknown map format '\.svg'.*plan\.png or plan\.pdf"),
        ({"lang": "fr"}, r"lang 'fr': expected one of zh, en"),
        ({"dpi": 0}, r"expected dpi within 10–1200"),
        ({"paper": "B5"}, r"paper 'B5': expected one of A4, A3 \(landscape\)"),
    ],
)
def test_bad_options_are_refused(full_plan: Path, tmp_path: Path, kwargs, message) -> None:
    out = tmp_path / kwargs.pop("out", "plan.png")
    with pytest.raises(PlanningInputError, match=message):
        render_plan(full_plan, out, **kwargs)


# ---------------------------------------------------------------------------------------------
# The pure pieces


def test_neighbour_colours_on_a_lattice() -> None:
    """A 3×3 lattice of 100 m squares and one square far away::

    6 7 8
    3 4 5
    0 1 2        9 (2 km east)
    """
    squares = [
        box(c * 100, r * 100, c * 100 + 100, r * 100 + 100) for r in range(3) for c in range(3)
    ] + [box(2000, 0, 2100, 100)]
    colours = neighbour_colours(squares)
    for i, a in enumerate(squares):
        for j, b in enumerate(squares[:i]):
            if a.distance(b) < 1:
                assert colours[i] != colours[j], (i, j)
    assert colours[9] == 0  # alone: the first colour
    assert neighbour_colours([]).tolist() == []


@pytest.mark.parametrize(
    ("width_m", "length_m"),
    [
        (300, 50),
        (900, 200),
        (2_300, 500),
        (3_300, 500),
        (3_900, 1_000),
        (12_000, 2_000),
        (40_000, 10_000),
        (0, 50),
    ],
)
def test_scale_bar_length(width_m: float, length_m: int) -> None:
    assert scale_bar_length_m(width_m) == length_m


def test_road_tier() -> None:
    classes = [
        "primary",
        "trunk_link",
        "Secondary",
        "tertiary",
        "residential",
        "",
        "service",
        "footway",
    ]
    assert road_tier(classes).tolist() == [
        "major",
        "major",
        "major",
        "minor",
        "minor",
        "minor",
        "lanes",
        "lanes",
    ]


# ---------------------------------------------------------------------------------------------
# The command line


def test_cli_writes_png_and_pdf(full_plan: Path, tmp_path: Path, cjk_font: str, capsys) -> None:
    out = tmp_path / "maps" / "plan.png"
    code = main(
        [
            "render",
            str(full_plan),
            "--out",
            str(out),
            "--pdf",
            "--dpi",
            str(DPI),
            "--title",
            "粤海街道社区方案",
            "--paper",
            "A3",
            "--editor",
            "张三",
            "--organisation",
            "南山区民政局",
        ]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert out.is_file() and out.with_suffix(".pdf").is_file()
    with Image.open(out) as image:
        assert image.size[0] == pytest.approx(420 / 25.4 * DPI, abs=1)
    assert f"wrote {out}: 4 communities" in stdout  # said in the locale's language (English)
    assert f"font {cjk_font}" in stdout  # but the map is Chinese unless --lang says otherwise
    assert stderr == ""


def test_cli_missing_folder_exits_2(tmp_path: Path, capsys) -> None:
    code = main(["render", str(tmp_path / "nowhere"), "--out", str(tmp_path / "plan.png")])
    stdout, stderr = capsys.readouterr()
    assert code == EXIT_INPUT_ERROR
    assert stderr.startswith(f"error: plan folder {tmp_path / 'nowhere'}: no such folder.")
    assert "communities.geojson" in stderr
    assert "run `python -m planning propose HOUSEHOLDS --crs CRS --out DIR` first" in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not (tmp_path / "plan.png").exists()


def test_cli_prints_the_font_warning(full_plan: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(render, "find_cjk_font", lambda: None)
    out = str(tmp_path / "plan.png")
    code = main(["render", str(full_plan), "--out", out, "--dpi", str(DPI), "--lang", "en"])
    _, stderr = capsys.readouterr()
    assert code == 0 and stderr == ""  # an English map needs no Chinese font
    code = main(["render", str(full_plan), "--out", out, "--dpi", str(DPI), "--lang", "zh"])
    _, stderr = capsys.readouterr()
    assert code == 0
    assert stderr.startswith("警告：本机没有中文（CJK）字体，地图改用英文绘制")
    assert "fonts-noto-cjk" in stderr
