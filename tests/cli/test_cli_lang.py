"""``--lang zh|en``: every command prints in the language chosen, Chinese by default when the
locale is Chinese.

A refusal (``--out`` an existing file, a bad ``--columns``, communities that hold no building,
a standards file that breaks the schema)
and good runs (``sample``, ``validate``, ``propose``, ``rebalance``, ``compare``) are run in both
languages on the synthetic sample district (5,000 households, GCJ-02 lon/lat).
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest

from geo.errors import Problem
from planning.cli import EXIT_INPUT_ERROR, build_parser, main
from planning.cli.options import default_language, problem_text

ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = 5_000
SIZES = ["--community-size", "1000", "--grid-households", "150"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.district import write_sample

    folder = tmp_path_factory.mktemp("lang") / "s"
    write_sample(folder, households=HOUSEHOLDS, seed=0)
    return folder


@pytest.fixture(scope="module")
def plans(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A proposal and a rebalance of the sample, as plan folders."""
    out = tmp_path_factory.mktemp("plans")
    households = str(sample / "households.csv")
    propose = ["propose", households, "--crs", "gcj02", "--out", str(out / "p"), *SIZES]
    assert main([*propose, "--workers", "1"]) == 0
    rebalance = ["rebalance", "--communities", str(sample / "communities.geojson")]
    rebalance += ["--households", households, "--crs", "gcj02", "--out", str(out / "r"), *SIZES]
    assert main(rebalance) == 0
    return {"proposal": out / "p", "rebalanced": out / "r"}


# ---------------------------------------------------------------------------------------------
# The default


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.Big5"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL overrides every other
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": ""}, "zh"),  # an empty variable counts as unset
    ],
)
def test_the_default_language_follows_the_locale(environ, lang):
    assert default_language(environ) == lang


def test_every_command_takes_lang_with_the_locale_as_default(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    parser = build_parser()
    assert parser.parse_args(["sample", "out"]).lang == "zh"
    assert parser.parse_args(["sample", "out", "--lang", "en"]).lang == "en"
    for command in ("sample", "validate", "propose", "check", "rebalance", "compare", "render"):
        with pytest.raises(SystemExit):
            parser.parse_args([command, "--lang", "fr"])


def test_a_problem_in_english_reads_as_before():
    problem = Problem(
        "error",
        "households.csv",
        "not a number",
        expected="a number of households",
        found="'abc'",
        fix="type the count",
        column="户数",
        rows=(2, 3, 4, 5, 6, 7, 9),
    )
    assert problem_text(problem, "en") == str(problem)
    assert problem_text(problem, "zh") == (
        "[错误] households.csv：列“户数”：第 2、3、4、5、6 行 等，另有 2 行（共 7 行）：not a number\n"
        "    应为：a number of households\n"
        "    实际：'abc'\n"
        "    解决：type the count"
    )


# ---------------------------------------------------------------------------------------------
# Refusals


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh",
            [
                "1 个错误、0 个警告；文件未通过校验：",
                "[错误] ",
                "列“--out”：--out 是一个已存在的文件，不是文件夹",
                "    应为：用于写出结果的文件夹（新建或已有）",
                "    解决：给 --out 一个文件夹名，或把该文件移走",
            ],
        ),
        (
            "en",
            [
                "1 error(s), 0 warning(s); the file was refused:",
                "[error] ",
                "column '--out': --out is an existing file, not a folder",
                "    expected: a folder (new or existing) to write the results into",
                "    fix: give --out a folder name, or move the file away",
            ],
        ),
    ],
)
def test_an_out_that_is_a_file_is_refused_in_the_language(sample, tmp_path, capsys, lang, expected):
    taken = tmp_path / "taken.txt"
    taken.write_text("x", encoding="utf-8")
    households = str(sample / "households.csv")
    argv = ["propose", households, "--crs", "gcj02", "--out", str(taken), "--lang", lang]
    code, out, err = _run(argv, capsys)
    assert code == EXIT_INPUT_ERROR and out == ""
    for text in expected:
        assert text in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "错误：--columns：“lon”不是“角色=列名”的形式。"),
        ("en", "error: --columns: 'lon' is not role=column."),
    ],
)
def test_a_bad_column_mapping_is_refused_in_the_language(sample, capsys, lang, expected):
    argv = ["validate", str(sample / "households.csv"), "--crs", "gcj02", "--columns", "lon"]
    code, _, err = _run([*argv, "--lang", lang], capsys)
    assert code == EXIT_INPUT_ERROR
    assert err.startswith(expected)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "错误：现状调整：没有任何楼栋位于现有社区内或紧邻现有社区。"),
        ("en", "error: rebalance: no building lies in or next to any existing community;"),
    ],
)
def test_communities_without_buildings_are_refused_in_the_language(
    sample, tmp_path, capsys, lang, expected
):
    far = gpd.read_file(sample / "communities.geojson")
    far["geometry"] = far.geometry.translate(xoff=0.5)  # 50 km east of every building
    far.to_file(tmp_path / "far.geojson", driver="GeoJSON")
    argv = ["rebalance", "--communities", str(tmp_path / "far.geojson")]
    argv += ["--households", str(sample / "households.csv"), "--crs", "gcj02"]
    code, _, err = _run([*argv, "--out", str(tmp_path / "r"), "--lang", lang], capsys)
    assert code == EXIT_INPUT_ERROR
    assert err.startswith(expected)


# ---------------------------------------------------------------------------------------------
# Good runs


def test_sample_and_validate_in_both_languages(sample, tmp_path, capsys):
    code, out, _ = _run(
        ["sample", str(tmp_path / "s"), "--households", "5000", "--lang", "zh"], capsys
    )
    assert code == 0
    assert out.startswith(f"已写出示例区（种子 0）到 {tmp_path / 's'}：")
    assert "所有图层均为 GCJ-02 经纬度：请声明 --crs gcj02" in out
    households = str(sample / "households.csv")
    code, zh, _ = _run(["validate", households, "--crs", "gcj02", "--lang", "zh"], capsys)
    assert code == 0
    assert "households.csv：校验通过" in zh
    # names padded to the widest, 范围（WGS84）, 13 columns (two per Chinese character)
    assert f"  户数{' ' * 11}{HOUSEHOLDS:,}" in zh
    code, en, _ = _run(["validate", households, "--crs", "gcj02", "--lang", "en"], capsys)
    assert "households.csv: valid" in en and f"  households    {HOUSEHOLDS:,}" in en


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh",
            ["社区", "网格", "  数量", "  规模达标", "  紧凑度（Polsby-Popper）平均", "已写出 "],
        ),
        ("en", ["communities", "grids", "  count", "  in band", "  Polsby-Popper mean", "wrote "]),
    ],
)
def test_propose_prints_its_summary_in_the_language(sample, tmp_path, capsys, lang, expected):
    households = str(sample / "households.csv")
    argv = ["propose", households, "--crs", "gcj02", "--out", str(tmp_path / "p"), *SIZES]
    code, out, _ = _run([*argv, "--workers", "1", "--lang", lang], capsys)
    assert code == 0
    for text in expected:
        assert text in out
    other = "规模达标" if lang == "en" else "in band"
    assert other not in out


def test_rebalance_and_compare_print_in_chinese(plans, sample, tmp_path, capsys):
    households = str(sample / "households.csv")
    argv = ["rebalance", "--communities", str(sample / "communities.geojson")]
    argv += ["--households", households, "--crs", "gcj02", "--out", str(tmp_path / "r")]
    code, out, _ = _run([*argv, *SIZES, "--lang", "zh"], capsys)
    assert code == 0
    assert re.match(r"已将 \d+ 个现状社区调整为 \d+ 个：", out)
    assert "  稳定性" in out and "的住户所属社区不变" in out
    argv = ["compare", str(plans["proposal"]), str(plans["rebalanced"])]
    code, out, _ = _run([*argv, "--out", str(tmp_path / "c"), "--lang", "zh"], capsys)
    assert code == 0
    assert "社区数" in out and "改变所属社区的住户：" in out
    assert f"到 {tmp_path / 'c'}" in out


def test_check_names_its_figures_in_chinese(plans, sample, tmp_path, capsys):
    argv = ["check", "--communities", str(plans["proposal"] / "communities.geojson")]
    argv += ["--households", str(sample / "households.csv"), "--crs", "gcj02"]
    argv += ["--communities-crs", "wgs84", "--facilities", str(sample / "facilities.geojson")]
    code, out, _ = _run([*argv, "--out", str(tmp_path / "k"), "--lang", "zh"], capsys)
    assert code == 0
    assert out.startswith("标准：national-2021（")
    assert "  面积不足的社区  " in out and "  不在任何社区内的设施  " in out
    assert "failing" not in out
    assert f"已写出 compliance.csv, compliance.geojson, report.html 到 {tmp_path / 'k'}" in out


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh",
            [
                "2 个错误、1 个警告；输入未通过校验：",
                "：键 area.minimum_m2：为负数\n    应为：不小于 0 的数\n    实际：-100（整数）\n"
                "    解决：更正该数",
                "：键 colour：不是格式中规定的键",
                "[警告] communities.geojson：按 WGS84 读取：",
            ],
        ),
        (
            "en",
            [
                "2 error(s), 1 warning(s); the inputs were refused:",
                ": key 'area.minimum_m2': is negative\n    expected: a number 0 or more\n"
                "    found: -100 (int)\n    fix: correct the number",
                ": key 'colour': is not a key of the schema",
                "[warning] communities.geojson: read as WGS84: ",
            ],
        ),
    ],
)
def test_check_refuses_a_standards_file_problem_by_problem_in_the_language(
    plans, sample, tmp_path, capsys, lang, expected
):
    """A standards file with a key not of the schema and a negative minimum area: each is a
    problem of its own, in the language chosen, with the warnings about the other layers."""
    standard = tmp_path / "本区标准.toml"
    national = (ROOT / "data" / "standards" / "national-2021.toml").read_text(encoding="utf-8")
    standard.write_text(
        'colour = "red"\n' + national.replace("[area]\n", "[area]\nminimum_m2 = -100\n", 1),
        encoding="utf-8",
    )
    argv = ["check", "--communities", str(plans["proposal"] / "communities.geojson")]
    argv += ["--households", str(sample / "households.csv"), "--crs", "gcj02"]
    argv += ["--standard", str(standard), "--out", str(tmp_path / "k"), "--lang", lang]
    code, out, err = _run(argv, capsys)
    assert code == EXIT_INPUT_ERROR and out == ""
    for text in expected:
        assert text in err, err
    assert "Traceback" not in err
