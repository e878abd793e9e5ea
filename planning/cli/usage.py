"""A refused command line (argparse's own refusals: a value that is no number, a choice not
offered, an option missing or unknown) said in the language of ``--lang``, the words in
``planning/locales`` (section ``cli.usage``). The English text is argparse's own."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from planning.cli.options import default_language, say

__all__ = ["language_asked", "parser_class", "usage_message"]

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


def parser_class(lang: str) -> type[argparse.ArgumentParser]:
    """An ArgumentParser (its subcommands' parsers too) that refuses a command line in
    ``lang``, with the usage as argparse prints it."""

    class WordedParser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            text = say("usage.refused", lang, prog=self.prog, message=usage_message(message, lang))
            self.exit(2, text + "\n")

    return WordedParser
