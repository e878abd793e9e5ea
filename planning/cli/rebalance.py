"""``rebalance``: keep today's in-band communities, split the oversized, merge the small."""

from __future__ import annotations

import argparse
from pathlib import Path

from planning.cli.options import (
    add_communities_crs,
    add_line_layers,
    add_reading_options,
    add_size_arguments,
    print_warnings,
    propose_params,
    reading_options,
    refuse_before_work,
)
from planning.params import SMALL_MARGIN_RANGE, range_problem
from planning.plans.rebalance import Regrouping
from planning.runs import run_rebalance

__all__ = ["register"]


def _regroupings(regroupings: tuple[Regrouping, ...]) -> str:
    """``A+B→A/B``, comma-separated, or ``none``."""
    return ", ".join(f"{'+'.join(g.sources)}→{'/'.join(g.results)}" for g in regroupings) or "none"


def _run(args: argparse.Namespace) -> int:
    params = propose_params(args)
    margin = range_problem("--small-margin", args.small_margin, SMALL_MARGIN_RANGE)
    refuse_before_work(params=params, out=args.out, problems=[margin] if margin else [])
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
    r = run.result.report
    c = run.summary["communities"]
    lo, hi = c["band"]
    print(f"rebalanced {r.existing_communities} existing communities into {r.communities}:")
    rows = [
        ("kept as they were", len(r.kept)),
        ("kept, gaps filled", len(r.adjusted)),
        ("split", _regroupings(r.split)),
        ("merged", _regroupings(r.merged)),
        ("redrawn together", _regroupings(r.redrawn_together)),
        ("new", ", ".join(r.new) or "none"),
        (f"in band {lo:,.0f}–{hi:,.0f}", f"{c['share_in_band']:.0%}"),
        ("stability", f"{r.stability:.1%} of households keep their community"),
        (
            "outside every community",
            f"{r.households_outside_existing:,} households in "
            f"{r.buildings_outside_existing:,} buildings (assigned to a neighbour)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
    for item in r.kept_out_of_band:
        print(f"  - {item.reason.text('en')}")
    print_warnings(run.warnings)
    print(f"wrote {', '.join(p.name for p in run.paths.values())} to {args.out}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "rebalance",
        help="keep in-band communities, split the oversized, merge the small",
    )
    p.add_argument("--communities", type=Path, required=True, help="existing community polygons")
    p.add_argument("--households", type=Path, required=True)
    add_reading_options(p)
    p.add_argument(
        "--crs",
        required=True,
        help="CRS of every input layer: wgs84, gcj02, bd09, cgcs2000 or an EPSG code",
    )
    add_communities_crs(p, grids=True)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    add_line_layers(p)
    p.add_argument("--grids", type=Path, help="existing grids, kept where membership holds")
    p.add_argument("--id-column", help="the communities' id column, if not found by name")
    add_size_arguments(p)
    p.add_argument(
        "--small-margin",
        type=float,
        default=0.2,
        help="merge communities below the band's lower edge by more than this "
        "share of the target (default 0.2: below 1,750)",
    )
    p.set_defaults(run=_run)
