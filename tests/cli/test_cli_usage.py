"""A command line argparse refuses is said in the language of --lang (planning.cli.usage):
the English text is argparse's own, the Chinese one has no English words but the options."""

from __future__ import annotations

import re

import pytest

from planning.cli import main
from planning.cli.options import text_width
from planning.cli.usage import language_asked, usage_message, wrap_columns


def _refusal(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_a_value_that_is_no_number(capsys) -> None:
    argv = ["propose", "h.csv", "--crs", "gcj02", "--out", "o", "--community-size", "abc"]
    assert _refusal([*argv, "--lang", "en"], capsys) == (
        "python -m planning propose: error: argument --community-size: invalid int value: 'abc'"
    )
    assert _refusal([*argv, "--lang", "zh"], capsys) == (
        "python -m planning propose：错误：参数 --community-size 的值 'abc' 无效：应为整数"
    )


def test_options_missing_and_a_choice_not_offered(capsys) -> None:
    assert _refusal(["propose", "--lang=zh"], capsys) == (
        "python -m planning propose：错误：缺少必需的参数：households, --crs, --out"
    )
    refused = _refusal(["propose", "h.csv", "--crs", "x", "--out", "o", "--lang", "fr"], capsys)
    assert refused.endswith("argument --lang: invalid choice: 'fr' (choose from 'zh', 'en')")


def test_a_refusal_without_words_of_its_own_is_argparse_s() -> None:
    assert usage_message("something argparse says", "zh") == "something argparse says"
    assert usage_message("unrecognized arguments: --x 1", "zh") == "无法识别的参数：--x 1"


def test_the_language_asked_before_the_command_line_is_understood(monkeypatch) -> None:
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert language_asked(["propose", "--lang", "en"]) == "en"
    assert language_asked(["propose", "--lang=en"]) == "en"
    assert language_asked(["propose", "--lang", "fr"]) == "zh"  # refused in the locale's
    assert language_asked(["propose"]) == "zh"


# ---------------------------------------------------------------------------------------------
# --help

COMMANDS = ("sample", "validate", "propose", "check", "rebalance", "compare", "render")

#: ASCII words a Chinese help may keep besides the options and their values: names of
#: formats, systems, software, files, columns and the commands themselves.
KEPT = frozenset(
    [
        "A",
        "A4",
        "B",
        "COMMAND",
        "Dask",
        "EPSG",
        "GeoJSON",
        "GeoPackage",
        "JSON",
        "LANG",
        "LC_ALL",
        "LC_MESSAGES",
        "PDF",
        "PNG",
        "RFC",
        "Shapefile",
        "TOML",
        "WGS84",
        "bd09",
        "cgcs2000",
        "gcj02",
        "lat",
        "lat_wgs84",
        "lon",
        "lon_wgs84",
        "planning",
        "propose",
        "python",
        "rebalance",
        "tcp",
        "wgs84",
        "zip",
    ]
)


def _help(argv: list[str], capsys) -> str:
    """What ``-h`` prints, given after the command (``argv[0]``, when there is one) and before
    the rest of ``argv``."""
    command = argv[:1] if argv and not argv[0].startswith("-") else []
    with pytest.raises(SystemExit) as exited:
        main([*command, "-h", *argv[len(command) :]])
    assert exited.value.code == 0
    return capsys.readouterr().out


def _english_left(text: str) -> set[str]:
    """The ASCII words of a help past its usage, once the options, their values (the first
    column of each option's lines) and file names are taken out."""
    body = text.split("\n\n", 1)[1]
    body = re.sub(r"(?m)^ {2,4}(?=\S)\S.*?(?: {2,}|$)", " ", body)  # the first column
    body = re.sub(
        r"--?[\w-]+|\S*\.(?:geojson|toml|json|png|pdf)\b|[\w:/.]+:\d+|national-2021", " ", body
    )
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_-]*", body)) - KEPT


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_is_in_chinese(command, capsys) -> None:
    text = _help([*([command] if command else []), "--lang", "zh"], capsys)
    assert text.startswith("用法： python -m planning")
    assert "\n选项：\n" in text and "显示本帮助并退出" in text
    assert "usage" not in text and "options:" not in text
    assert _english_left(text) == set()
    width = max(len(line) for line in text.splitlines() if line.isascii())
    assert all(text_width(line) <= max(width, 80) for line in text.splitlines())


#: The Chinese an English help quotes: names as a bureau writes them.
QUOTED = frozenset(
    [
        "社区居委会",
        "网格",
        "小区",
        "街道",
        "编制人",
        "编制单位",
        "社区与网格划分方案",
        "东经",
        "北纬",
    ]
)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_is_in_english_on_the_switch(command, capsys) -> None:
    text = _help([*([command] if command else []), "--lang", "en"], capsys)
    assert text.startswith("usage: python -m planning")
    assert "\noptions:\n" in text and "show this help message and exit" in text
    assert set(re.findall(r"[\u4e00-\u9fff]+", text)) <= QUOTED


def test_the_help_of_check_reads_as_before_in_english_and_so_in_chinese(capsys) -> None:
    english = _help(["check", "--lang", "en"], capsys)
    assert "  --facility-types FACILITY_TYPES\n" in english
    assert "count only these facility types (comma-separated)" in english
    assert "positional arguments" not in english  # check takes options only
    chinese = _help(["check", "--lang", "zh"], capsys)
    assert (
        "  --facility-types FACILITY_TYPES\n                        只计入这些类型的设施" in chinese
    )
    # the usage's lines align under its first as in English: "用法：" takes the columns of "usage:"
    first, second = chinese.splitlines()[:2]
    indent = text_width(first[: first.index("[-h]")])
    assert indent == english.splitlines()[0].index("[-h]")
    assert len(second) - len(second.lstrip()) == indent


def test_the_help_follows_the_locale(monkeypatch, capsys) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert _help(["propose"], capsys).startswith("用法： python -m planning propose")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert _help(["propose"], capsys).startswith("usage: python -m planning propose")


def test_chinese_wraps_by_columns_and_keeps_its_marks() -> None:
    text = "提示、拒绝说明和汇总所用的语言；默认：系统区域设置（LC_ALL、LC_MESSAGES、LANG）为中文时用中文"
    lines = wrap_columns(text, 24)
    assert "".join(lines) == text
    assert all(text_width(line) <= 24 + 2 for line in lines)  # a mark may hang past the edge
    assert not any(line[0] in "，。、；：）" or line[-1] in "（“" for line in lines)
    assert wrap_columns("a long-option-name --lang stays whole", 10) == [
        "a",
        "long-option-name",
        "--lang",
        "stays",
        "whole",
    ]
