"""A command line argparse refuses is said in the language of --lang (planning.cli.usage):
the English text is argparse's own, the Chinese one has no English words but the options."""

from __future__ import annotations

import pytest

from planning.cli import main
from planning.cli.usage import language_asked, usage_message


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
