"""``rebalance``: keep today's in-band communities, split the oversized, merge the small."""

from __future__ import annotations

import argparse
from pathlib import Path

from planning.cli.options import (
    add_communities_crs,
    add_line_layers,
    add_reading_options,
    add_size_arguments,
    pad,
    print_warnings,
    propose_params,
    reading_options,
    refuse_before_work,
    say,
    text_width,
)
from planning.params import SMALL_MARGIN_RANGE, range_problem
from planning.plans.rebalance import RebalanceReport, Regrouping
from planning.runs import run_rebalance

__all__ = ["register"]


def _regroupings(regroupings: tuple[Regrouping, ...], lang: str) -> str:
    """``A+B→A/B``, comma-separated, or ``none`` (in ``lang``)."""
    shown = ", ".join(f"{'+'.join(g.sources)}→{'/'.join(g.results)}" for g in regroupings)
    return shown or say("none", lang)


def _run(args: argparse.Namespace) -> int:
    lang = args.lang
    params = propose_params(args)
    margin = range_problem("--small-margin", args.small_margin, SMALL_MARGIN_RANGE)
    refuse_before_work(params=params, out=args.out, problems=[margin] if margin else [], lang=lang)
    layer_crs = {
        layer: getattr(args, f"{layer}_crs")
        for layer in ("communities", "grids")
        if getattr(args, f"{layer}_crs")
    }
    run = run_rebalance(
        args.communities,
        args.households,
        crs=args.crs,
        out_dir=args.out,
        subdistricts_path=args.subdistricts,
        barriers_paths=args.barriers,
        grids_path=args.grids,
        id_column=args.id_column,
        params=params,
        small_margin=args.small_margin,
        layer_crs=layer_crs,
        reading=reading_options(args),
    )
    _print_report(run.result.report, run.summary["communities"], lang)
    print_warnings(run.warnings, lang)
    files = ", ".join(p.name for p in run.paths.values())
    print(say("wrote", lang, files=files, folder=str(args.out)))
    return 0


def _print_report(r: RebalanceReport, communities: dict, lang: str) -> None:
    """What was kept, split, merged and made, the band and the stability, in ``lang``."""
    lo, hi = communities["band"]
    print(say("rebalance.head", lang, existing=r.existing_communities, communities=r.communities))
    outside = say(
        "rebalance.outside_value",
        lang,
        households=r.households_outside_existing,
        buildings=r.buildings_outside_existing,
    )
    stability = say("rebalance.stability_value", lang, share=f"{r.stability:.1%}")
    rows = [
        (say("rebalance.kept", lang), len(r.kept)),
        (say("rebalance.adjusted", lang), len(r.adjusted)),
        (say("rebalance.split", lang), _regroupings(r.split, lang)),
        (say("rebalance.merged", lang), _regroupings(r.merged, lang)),
        (say("rebalance.together", lang), _regroupings(r.redrawn_together, lang)),
        (say("rebalance.new", lang), ", ".join(r.new) or say("none", lang)),
        (
            say("rebalance.in_band", lang, lower=lo, upper=hi),
            f"{communities['share_in_band']:.0%}",
        ),
        (say("rebalance.stability", lang), stability),
        (say("rebalance.outside", lang), outside),
    ]
    width = max(text_width(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {pad(key, width)}  {value}")
    for item in r.kept_out_of_band:
        print(f"  - {item.reason.text(lang)}")


def register(subparsers, lang: str = "en") -> None:
    """The ``rebalance`` command, its help in ``lang``."""
    p = subparsers.add_parser("rebalance", help=say("help.rebalance.command", lang))
    p.add_argument(
        "--communities", type=Path, required=True, help=say("help.rebalance.communities", lang)
    )
    p.add_argument(
        "--households", type=Path, required=True, help=say("help.rebalance.households", lang)
    )
    add_reading_options(p, lang=lang)
    p.add_argument("--crs", required=True, help=say("help.rebalance.crs", lang))
    add_communities_crs(p, grids=True, lang=lang)
    p.add_argument("--out", type=Path, required=True, help=say("help.out_folder", lang))
    add_line_layers(p, lang=lang)
    p.add_argument("--grids", type=Path, help=say("help.rebalance.grids", lang))
    p.add_argument("--id-column", help=say("help.id_column", lang))
    add_size_arguments(p, lang=lang)
    p.add_argument(
        "--small-margin",
        type=float,
        default=0.2,
        help=say("help.rebalance.small_margin", lang),
    )
    p.set_defaults(run=_run)
