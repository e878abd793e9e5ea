"""``python -m planning``: the engine from the command line.

Subcommands: ``sample`` (write the synthetic district), ``validate`` (check a household file),
``propose``, ``check``, ``rebalance``, ``compare``. Every input error is printed with all its
problems and the exit status is 2; nothing prints a traceback for a user's mistake.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from geo.errors import PlanningInputError, ValidationError

__all__ = ["build_parser", "main", "parse_columns"]

EXIT_INPUT_ERROR = 2


def parse_columns(text: str | None) -> dict[str, str] | None:
    """``lon=东经,lat=北纬`` → ``{"lon": "东经", "lat": "北纬"}``."""
    if not text:
        return None
    mapping = {}
    for part in text.split(","):
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise PlanningInputError(
                f"--columns: '{part}' is not role=column. expected e.g. lon=东经,lat=北纬,"
                "households=户数; fix: write each mapping as role=column, separated by commas."
            )
        mapping[role.strip()] = column.strip()
    return mapping


def _print_table(rows: Sequence[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


def _cmd_sample(args: argparse.Namespace) -> int:
    from planning.sample import write_sample

    paths = write_sample(args.outdir, households=args.households, seed=args.seed)
    print(f"wrote the sample district (seed {args.seed}) to {args.outdir}:")
    for key, path in paths.items():
        print(f"  {key:<12} {path}")
    print("every layer is in GCJ-02 lon/lat: declare --crs gcj02")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from geo.intake import read_households

    data = read_households(args.file, crs=args.crs, columns=parse_columns(args.columns))
    summary = data.summary()
    if args.json:
        print(json.dumps({"summary": summary,
                          "problems": [p.as_dict() for p in data.report.problems]},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{summary['file']}: valid")
    bbox = summary["bbox_wgs84"]
    _print_table(
        [
            ("rows", f"{summary['rows']:,}"),
            ("buildings", f"{summary['buildings']:,}"),
            ("households", f"{summary['households']:,}"),
            ("compounds", f"{summary['compounds']:,}"),
            ("population", "—" if summary["population"] is None else f"{summary['population']:,}"),
            ("bbox (WGS84)", f"{bbox[0]:.5f}, {bbox[1]:.5f} – {bbox[2]:.5f}, {bbox[3]:.5f}"),
            ("source CRS", summary["source_crs"]),
            ("metric CRS", summary["metric_crs"]),
            ("encoding", summary["encoding"] or "—"),
            ("columns", ", ".join(f"{k}={v}" for k, v in summary["columns"].items())),
        ]
    )
    if data.report.warnings:
        print(f"\n{len(data.report.warnings)} warning(s):")
        for problem in data.report.warnings:
            print(problem)
    return 0


def _add_crs(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--crs", required=required,
        help="CRS of the input coordinates: wgs84, gcj02 (Amap/Tencent), bd09 (Baidu), "
        "cgcs2000, or an EPSG code such as 4547. Never guessed.",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m planning",
        description="Community (社区居委会) and grid (网格) layout planner.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sample = sub.add_parser("sample", help="write the synthetic sample district")
    sample.add_argument("outdir", type=Path)
    sample.add_argument("--households", type=int, default=80_000)
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(run=_cmd_sample)

    validate = sub.add_parser("validate", help="check a household file and summarise it")
    validate.add_argument("file", type=Path)
    _add_crs(validate)
    validate.add_argument("--columns", help="explicit column mapping, e.g. lon=东经,lat=北纬")
    validate.add_argument("--json", action="store_true", help="print the summary as JSON")
    validate.set_defaults(run=_cmd_validate)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


#: Later subcommands register themselves here (each a function taking the subparsers object).
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValidationError as exc:
        errors = [p for p in exc.problems if p.is_error]
        print(f"{len(errors)} error(s), {len(exc.problems) - len(errors)} warning(s); "
              "the file was refused:", file=sys.stderr)
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INPUT_ERROR
    except PlanningInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
