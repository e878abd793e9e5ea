"""``python -m planning``: the engine from the command line.

Subcommands, one module each: ``sample`` (write the synthetic district), ``validate`` (check a
household file), ``propose``, ``check``, ``rebalance``, ``compare``, ``render``. Every input
error is printed with all its problems and the exit status is 2; nothing prints a traceback
for a user's mistake.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from geo.errors import PlanningInputError, ValidationError
from planning.cli import check, compare, propose, rebalance, render, sample, validate
from planning.cli.options import (
    EXIT_INPUT_ERROR,
    add_size_arguments,
    parse_columns,
    propose_params,
)

__all__ = [
    "EXIT_INPUT_ERROR",
    "add_size_arguments",
    "build_parser",
    "main",
    "parse_columns",
    "propose_params",
]

#: The subcommands in the order ``--help`` lists them.
COMMANDS = (sample, validate, propose, check, rebalance, compare, render)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m planning",
        description="Community (社区居委会) and grid (网格) layout planner.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValidationError as exc:
        errors = [p for p in exc.problems if p.is_error]
        print(
            f"{len(errors)} error(s), {len(exc.problems) - len(errors)} warning(s); "
            "the file was refused:",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INPUT_ERROR
    except PlanningInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
