"""``validate``: check a household file and summarise it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from planning.cli.options import (
    add_crs,
    add_reading_options,
    parse_columns,
    print_table,
    print_warnings,
    reading_options,
    say,
)

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from geo.intake import read_households

    lang = args.lang
    data = read_households(
        args.file, crs=args.crs, columns=parse_columns(args.columns, lang), **reading_options(args)
    )
    summary = data.summary()
    if args.json:
        print(
            json.dumps(
                {"summary": summary, "problems": [p.as_dict() for p in data.report.problems]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(say("validate.valid", lang, file=summary["file"]))
    bbox = summary["bbox_wgs84"]
    population = summary["population"]
    rows = [
        ("rows", f"{summary['rows']:,}"),
        ("buildings", f"{summary['buildings']:,}"),
        ("households", f"{summary['households']:,}"),
        ("compounds", f"{summary['compounds']:,}"),
        ("population", "—" if population is None else f"{population:,}"),
        ("bbox", f"{bbox[0]:.5f}, {bbox[1]:.5f} – {bbox[2]:.5f}, {bbox[3]:.5f}"),
        ("source_crs", summary["source_crs"]),
        ("metric_crs", summary["metric_crs"]),
        ("encoding", summary["encoding"] or "—"),
        ("columns", ", ".join(f"{k}={v}" for k, v in summary["columns"].items())),
    ]
    print_table([(say(f"validate.{key}", lang), value) for key, value in rows])
    print_warnings(data.report.warnings, lang)
    return 0


def register(sub, lang: str = "en") -> None:
    """The ``validate`` command, its help in ``lang``."""
    p = sub.add_parser("validate", help=say("help.validate.command", lang))
    p.add_argument("file", type=Path, help=say("help.households_file", lang))
    add_crs(p, lang=lang)
    p.add_argument("--columns", help=say("help.columns", lang))
    add_reading_options(p, lang=lang)
    p.add_argument("--json", action="store_true", help=say("help.validate.json", lang))
    p.set_defaults(run=_run)
