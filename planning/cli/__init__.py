"""``python -m planning``: the engine from the command line.

Subcommands, one module each: ``sample`` (write the synthetic district), ``validate`` (check a
household file), ``propose``, ``check``, ``rebalance``, ``compare``, ``render``. Every input
error is printed with all its problems and the exit status is 2; nothing prints a traceback
for a user's mistake. An unexpected failure (a bug) prints one line and the path of a log
file holding the traceback (under ``--out`` when that folder exists, else the system's temp
folder), and the exit status is 3.

Every command takes ``--lang zh|en``: what it prints — refusals, errors, summaries, ``--help``
— is worded in that language (``planning/locales``, section ``cli``, and the library's records); by
default Chinese when the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) is Chinese, else
English.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from geo.errors import PARAMETERS, PlanningInputError, ValidationError
from planning.cli import check, compare, propose, rebalance, render, sample, validate
from planning.cli.options import (
    EXIT_INPUT_ERROR,
    EXIT_UNEXPECTED,
    add_lang,
    add_size_arguments,
    default_language,
    parse_columns,
    printed_language,
    problem_text,
    propose_params,
    say,
)
from planning.cli.usage import language_asked, parser_class

__all__ = [
    "EXIT_INPUT_ERROR",
    "EXIT_UNEXPECTED",
    "add_size_arguments",
    "build_parser",
    "main",
    "parse_columns",
    "propose_params",
]

#: The subcommands in the order ``--help`` lists them.
COMMANDS = (sample, validate, propose, check, rebalance, compare, render)


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; its ``--help`` is in ``lang`` (default: the locale's
    language) and so is the refusal of a command line it cannot understand."""
    lang = lang or default_language()
    parser = parser_class(lang)(
        prog="python -m planning", description=say("help.description", lang)
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, lang)
    for name, command_parser in sub.choices.items():
        # render's map is a bureau's document, drawn in Chinese unless --lang says otherwise
        add_lang(command_parser, resolved=name != "render", lang=lang)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(language_asked(argv))
    args = parser.parse_args(argv)
    lang = printed_language(args)
    try:
        return args.run(args)
    except ValidationError as exc:
        _print_refusal(exc, lang)
        return EXIT_INPUT_ERROR
    except PlanningInputError as exc:
        print(say("error", lang, message=exc.text(lang)), file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Exception as exc:  # a bug: one line and a log, never a traceback
        log = _write_traceback(args)
        print(
            say(
                "unexpected",
                lang,
                command=args.command,
                kind=type(exc).__name__,
                error=str(exc),
                log=str(log),
            ),
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def _print_refusal(exc: ValidationError, lang: str) -> None:
    """Every problem of a refusal, errors and warnings, on stderr, in ``lang``."""
    errors = [p for p in exc.problems if p.is_error]
    files = {p.file for p in exc.problems}
    what = "refused_file" if len(files) == 1 else "refused_inputs"
    if files == {PARAMETERS}:
        what = "refused_parameters"
    head = say(
        "refused",
        lang,
        errors=len(errors),
        warnings=len(exc.problems) - len(errors),
        what=say(what, lang),
    )
    print(head, file=sys.stderr)
    for problem in exc.problems:
        print(problem_text(problem, lang), file=sys.stderr)


def _write_traceback(args: argparse.Namespace) -> Path:
    """The traceback being handled, written to a log under ``--out`` when that folder exists
    (beside it when ``--out`` is a file), else in the system's temp folder."""
    out = getattr(args, "out", None)
    folder = Path(tempfile.gettempdir())
    if isinstance(out, Path):
        candidate = out if out.is_dir() else out.parent
        if out.exists() and candidate.is_dir():
            folder = candidate
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"planning-{args.command}-error-{stamp}.log"
    try:
        path.write_text(traceback.format_exc(), encoding="utf-8")
    except OSError:
        path = Path(tempfile.mkstemp(prefix=f"planning-{args.command}-error-", suffix=".log")[1])
        path.write_text(traceback.format_exc(), encoding="utf-8")
    return path
