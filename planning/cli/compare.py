"""``compare``: two plan folders side by side, with the households that change community."""

from __future__ import annotations

import argparse
from pathlib import Path

from planning.cli.options import pad, print_warnings, refuse_before_work, say, text_width
from planning.runs import run_compare

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    lang = args.lang
    refuse_before_work(out=args.out, lang=lang)
    run = run_compare(
        args.a,
        args.b,
        out_dir=args.out,
        crs=args.crs,
        facilities_path=args.facilities,
        facilities_crs=args.facilities_crs,
        standard=args.standard or ("national-2021" if args.facilities else None),
        year=args.year,
    )
    a, b, result = run.a, run.b, run.comparison
    ca, cb = result.a["communities"], result.b["communities"]
    rows = [
        ("communities", ca["count"], cb["count"]),
        ("share_in_band", f"{ca['share_in_band']:.0%}", f"{cb['share_in_band']:.0%}"),
        ("grids", result.a["grids"]["count"], result.b["grids"]["count"]),
        ("pp_mean", ca["polsby_popper_mean"], cb["polsby_popper_mean"]),
    ]
    if "compliance" in result.a:
        for key in ("failing", "staff", "funds_yuan", "shortfall_m2"):
            rows.append((key, result.a["compliance"][key], result.b["compliance"][key]))
    labels = [say(f"compare.{key}", lang) for key, _, _ in rows]
    width = max(24, *(text_width(label) for label in labels))
    print(f"{'':{width + 2}}{pad(a.name, 14, right=True)}{pad(b.name, 14, right=True)}")
    for label, (_, x, y) in zip(labels, rows, strict=True):
        print(f"  {pad(label, width)}{pad(x, 14, right=True)}{pad(y, 14, right=True)}")
    changed = say(
        "compare.changed",
        lang,
        households=result.households_changed,
        share=f"{result.share_changed:.1%}",
        areas=len(result.diff),
    )
    print(f"  {changed}")
    print_warnings(run.warnings, lang)
    files = ", ".join(p.name for p in run.paths.values())
    print(say("wrote", lang, files=files, folder=str(args.out)))
    return 0


def register(subparsers, lang: str = "en") -> None:
    """The ``compare`` command, its help in ``lang``."""
    p = subparsers.add_parser("compare", help=say("help.compare.command", lang))
    p.add_argument("a", type=Path, help=say("help.compare.a", lang))
    p.add_argument("b", type=Path, help=say("help.compare.b", lang))
    p.add_argument("--out", type=Path, required=True, help=say("help.out_folder", lang))
    p.add_argument("--crs", help=say("help.compare.crs", lang))
    p.add_argument("--standard", help=say("help.compare.standard", lang))
    p.add_argument("--facilities", type=Path, help=say("help.facilities", lang))
    p.add_argument("--facilities-crs", help=say("help.compare.facilities_crs", lang))
    p.add_argument("--year", type=int, help=say("help.year", lang))
    p.set_defaults(run=_run)
