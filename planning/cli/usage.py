"""The command line's parsers in the language of ``--lang``: a refused command line
(argparse's own refusals: a value that is no number, a choice not offered, an option missing
or unknown) and ``--help`` (argparse's headings ``usage:``, ``positional arguments``,
``options``, and the help of ``-h``), the words in ``planning/locales`` (sections
``cli.usage`` and ``cli.help``). The English text is argparse's own."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from planning.cli.options import default_language, pad, say, text_width

__all__ = ["language_asked", "parser_class", "usage_message", "wrap_columns"]

#: argparse's refusals that have words of their own: (code, the message as argparse writes it).
_REFUSALS = (
    (
        "invalid_number",
        re.compile(r"argument (?P<option>\S+): invalid (?P<kind>int|float) value: (?P<value>.+)"),
    ),
    (
        "invalid_choice",
        re.compile(
            r"argument (?P<option>\S+): invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)"
        ),
    ),
    ("expected_value", re.compile(r"argument (?P<option>\S+): expected one argument")),
    ("required", re.compile(r"the following arguments are required: (?P<options>.+)")),
    ("unrecognized", re.compile(r"unrecognized arguments: (?P<options>.+)")),
)


def usage_message(message: str, lang: str) -> str:
    """argparse's ``message`` in ``lang`` (as it is when it has no words of its own)."""
    for code, pattern in _REFUSALS:
        if matched := pattern.fullmatch(message):
            values = matched.groupdict()
            if "kind" in values:
                values["kind"] = say(f"usage.{values['kind']}", lang)
            return say(f"usage.{code}", lang, **values)
    return message


def language_asked(argv: Sequence[str] | None) -> str:
    """The language ``--lang`` asks for in ``argv`` (the command line when None), else the
    locale's: what a refusal is said in before the command line is understood."""
    words = list(sys.argv[1:] if argv is None else argv)
    for i, word in enumerate(words):
        if word.startswith("--lang="):
            asked = word.removeprefix("--lang=")
        elif word == "--lang" and i + 1 < len(words):
            asked = words[i + 1]
        else:
            continue
        if asked in ("zh", "en"):
            return asked
    return default_language()


#: Marks a Chinese line may not start with (they stay at the end of the line before) …
_NO_LINE_START = frozenset("，。、；：）》」』”！？")
#: … and marks it may not end with (they go to the next line).
_NO_LINE_END = frozenset("（《「『“")


def wrap_columns(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (a Chinese character takes two
    and may end a line anywhere, but a comma or a closing bracket does not start one and an
    opening bracket does not end one; a run of Latin letters, digits and signs is kept
    whole)."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"\s+|[!-~]+|.", text):
        token = " " if token.isspace() else token
        fits = text_width((line + token).rstrip()) <= width
        if fits or not line.strip() or token in _NO_LINE_START:
            line += token
            continue
        carried = ""
        while line and line[-1] in _NO_LINE_END:
            line, carried = line[:-1], line[-1] + carried
        lines.append(line.rstrip())
        line = carried + ("" if token == " " else token)
    if line.strip():
        lines.append(line.rstrip())
    return lines


#: How argparse starts a usage.
_USAGE = "usage: "


def _formatter_class(lang: str) -> type[argparse.HelpFormatter]:
    """argparse's help formatter with its headings in ``lang``; in Chinese it wraps by
    terminal columns (argparse counts a Chinese character as one)."""

    class WordedFormatter(argparse.HelpFormatter):
        def format_help(self) -> str:
            text = super().format_help()
            if lang == "en":
                return text
            # "usage: " in lang, padded to its columns so the usage's lines still align
            if text.startswith(_USAGE):
                text = pad(say("help.usage", lang), len(_USAGE)) + text.removeprefix(_USAGE)
            for heading in ("help.positionals", "help.options"):  # argparse adds ":"
                title = say(heading, lang)
                text = text.replace(f"\n{title}:\n", f"\n{title}{say('problem.sep', lang)}\n")
            return text

        def _split_lines(self, text: str, width: int) -> list[str]:
            if lang == "en":
                return super()._split_lines(text, width)
            return wrap_columns(" ".join(text.split()), width)

        def _fill_text(self, text: str, width: int, indent: str) -> str:
            if lang == "en":
                return super()._fill_text(text, width, indent)
            return "\n".join(indent + line for line in wrap_columns(" ".join(text.split()), width))

    return WordedFormatter


def parser_class(lang: str) -> type[argparse.ArgumentParser]:
    """An ArgumentParser (its subcommands' parsers too) that refuses a command line in
    ``lang``, with the usage as argparse prints it, and whose ``--help`` has argparse's own
    words in ``lang`` too."""

    class WordedParser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", _formatter_class(lang))
            super().__init__(*args, **kwargs)
            self._positionals.title = say("help.positionals", lang)
            self._optionals.title = say("help.options", lang)
            for action in self._actions:
                if isinstance(action, argparse._HelpAction):
                    action.help = say("help.help", lang)

        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            text = say("usage.refused", lang, prog=self.prog, message=usage_message(message, lang))
            self.exit(2, text + "\n")

    return WordedParser
