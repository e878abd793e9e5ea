"""``check``: communities against a facility-area standard."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.records import catalogue
from planning.cli.options import (
    add_communities_crs,
    add_crs,
    add_reading_options,
    print_table,
    print_warnings,
    reading_options,
    refuse_before_work,
    say,
)
from planning.records import Note

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from planning.runs import run_check

    lang = args.lang
    refuse_before_work(out=args.out, lang=lang)
    warnings: list = []
    types = [t.strip() for t in args.facility_types.split(",")] if args.facility_types else None
    result = run_check(
        args.communities,
        args.households,
        crs=args.crs,
        facilities_path=args.facilities,
        standard=args.standard,
        out_dir=args.out,
        id_column=args.id_column,
        year=args.year,
        facility_types=types,
        communities_crs=args.communities_crs,
        facilities_crs=args.facilities_crs,
        on_warnings=warnings.extend,
        reading=reading_options(args),
    )
    totals = result.totals
    print(say("check.standard", lang, name=result.standard.name, title=result.standard.title))
    shown = [
        (_total_label(str(k), lang), "—" if v is None and lang == "zh" else v)
        for k, v in totals.items()
    ]
    print_table(shown)
    if len(result.outside):
        print(say("check.outside", lang, n=len(result.outside)))
    print_warnings(warnings, lang)
    files = "compliance.csv, compliance.geojson, report.html"
    print(say("wrote", lang, files=files, folder=str(args.out)))
    return 0


def _total_label(key: str, lang: str) -> str:
    """A district figure's name in ``lang`` (a figure the command line has no words for, as
    the library names it)."""
    known = f"cli.check.totals.{key}" in catalogue(Note.folder, lang)
    return say(f"check.totals.{key}", lang) if known else key


def register(sub, lang: str = "en") -> None:
    """The ``check`` command, its help in ``lang``."""
    p = sub.add_parser("check", help=say("help.check.command", lang))
    p.add_argument(
        "--communities", type=Path, required=True, help=say("help.check.communities", lang)
    )
    p.add_argument(
        "--households", type=Path, required=True, help=say("help.check.households", lang)
    )
    add_reading_options(p, lang=lang)
    add_crs(p, lang=lang)
    add_communities_crs(p, lang=lang)
    p.add_argument("--facilities", type=Path, help=say("help.facilities", lang))
    p.add_argument("--facilities-crs", help=say("help.facilities_crs", lang))
    p.add_argument("--standard", default="national-2021", help=say("help.check.standard", lang))
    p.add_argument("--out", type=Path, required=True, help=say("help.out_folder", lang))
    p.add_argument("--id-column", help=say("help.id_column", lang))
    p.add_argument("--year", type=int, help=say("help.year", lang))
    p.add_argument("--facility-types", help=say("help.check.facility_types", lang))
    p.set_defaults(run=_run)
