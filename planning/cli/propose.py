"""``propose``: communities and grids from household points, printed as a table and written
as a plan folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from geo.records import catalogue
from planning.cli.options import (
    add_crs,
    add_line_layers,
    add_reading_options,
    add_size_arguments,
    parse_columns,
    print_warnings,
    propose_params,
    reading_options,
    refuse_before_work,
)
from planning.parallel import default_workers
from planning.params import Range, range_problem
from planning.records import Note

__all__ = ["register"]

#: Worker processes a proposal may be drawn by.
WORKERS_RANGE = Range(1, 1024)


def _stage_text(stage: str, lang: str) -> str:
    """What a progress line says of ``stage`` (a :class:`planning.parallel.Stage`: with the
    tasks of it done, when it counts them) in ``lang``."""
    known = f"progress.{stage}" in catalogue(Note.folder, lang)
    name = Note.of(f"progress.{stage}").text(lang) if known else str(stage)
    total = getattr(stage, "total", None)
    if total is None:
        return name
    kind = stage if stage in ("communities", "grids") else "other"
    tasks = Note.of(f"progress.tasks.{kind}", stage=name, done=stage.done, total=total)
    return tasks.text(lang)


def _progress_bar(*, forced: bool = False, lang: str = "zh"):
    """Progress on stderr, never on stdout: a tqdm bar (stage, tasks done, elapsed) when
    stderr is a terminal; with ``forced`` (``--progress``) and stderr not a terminal, a line
    per stage and task; nothing otherwise."""
    if not sys.stderr.isatty():
        if not forced:
            return None, lambda: None
        started = time.perf_counter()

        def line(stage: str, done: float) -> None:
            elapsed = time.perf_counter() - started
            text = _stage_text(stage, lang)
            print(f"[{elapsed:7.1f} s] {done:4.0%} {text}", file=sys.stderr, flush=True)

        return line, lambda: None
    from tqdm import tqdm

    bar = tqdm(
        total=100,
        desc="propose",
        leave=False,
        file=sys.stderr,
        bar_format="{desc} {percentage:3.0f}%|{bar:20}| {elapsed}",
    )

    def update(stage: str, done: float) -> None:
        bar.set_description(_stage_text(stage, lang), refresh=False)
        bar.update(max(0, round(done * 100) - bar.n))
        bar.refresh()

    return update, bar.close


def _print_plan(summary: dict) -> None:
    c, g = summary["communities"], summary["grids"]
    lo, hi = c["band"]
    glo, ghi = g["band"]
    print(f"{'':24}{'communities':>14}{'grids':>12}")
    rows = [
        ("count", c["count"], g["count"]),
        ("households min", c["households_min"], g["households_min"]),
        ("households median", c["households_median"], g["households_median"]),
        ("households max", c["households_max"], g["households_max"]),
        ("in band", f"{c['share_in_band']:.0%}", f"{g['share_in_band']:.0%}"),
        ("band", f"{lo:,.0f}–{hi:,.0f}", f"{glo:,.0f}–{ghi:,.0f}"),
        ("within ±20%", f"{c['share_within_20pct']:.0%}", f"{g['share_within_20pct']:.0%}"),
        ("multipart", c["multipart"], g["multipart"]),
        ("overlap m²", c["overlap_area_m2"], g["overlap_area_m2"]),
        ("gap m²", c["gap_area_m2"], g["gap_area_m2"]),
        (
            "compounds split (fit)",
            c["compounds_fit_but_split_count"],
            g["compounds_fit_but_split_count"],
        ),
        ("Polsby-Popper mean", c["polsby_popper_mean"], g["polsby_popper_mean"]),
        ("Polsby-Popper min", c["polsby_popper_min"], g["polsby_popper_min"]),
        ("necks", c.get("necks", "—"), g.get("necks", "—")),
        (
            "jagged border",
            _share(c.get("jagged_border_share")),
            _share(g.get("jagged_border_share")),
        ),
        ("border on given lines", _share(c.get("border_on_lines_share")), "—"),
        (
            "fitting blocks split",
            _of(c, "blocks_fitting_split", "blocks_fitting"),
            _of(g, "blocks_fitting_split", "blocks_fitting"),
        ),
        ("footprints crossed", c.get("footprints_crossed", "—"), g.get("footprints_crossed", "—")),
        (
            "service radius p95 m",
            c.get("service_radius_p95_m_max", "—"),
            g.get("service_radius_p95_m_max", "—"),
        ),
    ]
    for name, a, b in rows:
        a = f"{a:,}" if isinstance(a, int) else a
        b = f"{b:,}" if isinstance(b, int) else b
        print(f"  {name:<22}{a!s:>14}{b!s:>12}")
    print(
        f"  {'barrier crossings':<22}{c['barrier_crossings_count']:>14} "
        f"({len({x['community_id'] for x in c['barrier_crossings']})} communities, "
        f"{c.get('barrier_crossings_unforced_count', 0)} not forced)"
    )
    print(f"  {'crossing 街道':<21}{len(c['crossing_streets']):>14}")
    print(f"  {'grids per community':<22}{c['grids_per_community_max']:>14} (max)")
    if summary["infeasible"]:
        print(f"\n{len(summary['infeasible'])} unit(s) where the band cannot be met:")
        for item in summary["infeasible"]:
            print(f"  - {item['reason']}")
    split = [b for b in c.get("blocks_split", []) if b["fits"]]
    if split:
        print(f"\n{len(split)} street block(s) that fit one community, split:")
        for item in split:
            print(f"  - {item['block']} ({item['households']:,} households): {item['reason']}")
    runtime = summary["runtime_s"]
    print("\nruntime: " + ", ".join(f"{k} {v:.2f}s" for k, v in runtime.items()))


def _share(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def _of(block: dict, part: str, whole: str) -> str:
    return "—" if whole not in block else f"{block[part]} of {block[whole]}"


def _run(args: argparse.Namespace) -> int:
    from planning.runs import run_propose

    params = propose_params(args)
    workers = range_problem("--workers", args.workers, WORKERS_RANGE)
    refuse_before_work(params=params, out=args.out, problems=[workers] if workers else [])
    columns = parse_columns(args.columns)
    layer_crs = {
        k: v
        for k, v in (
            ("streets", args.subdistricts_crs),
            ("barriers", args.barriers_crs),
            ("facilities", args.facilities_crs),
            ("buildings", args.buildings_crs),
            ("compounds", args.compounds_crs),
        )
        if v
    }
    progress, close = _progress_bar(forced=args.progress, lang=getattr(args, "lang", "zh"))
    try:
        run = run_propose(
            args.households,
            crs=args.crs,
            out_dir=args.out,
            subdistricts_path=args.subdistricts,
            barriers_path=args.barriers,
            compounds_path=args.compounds,
            buildings_path=args.buildings,
            facilities_path=args.facilities,
            layer_crs=layer_crs,
            columns=columns,
            reading=reading_options(args),
            params=params,
            progress=progress,
            workers=args.workers,
            scheduler=args.scheduler,
        )
    finally:
        close()
    _print_plan(run.summary)
    if args.facilities:
        from planning.runs import write_compliance_for

        result = write_compliance_for(run, standard=args.standard, out_dir=args.out)
        print(
            f"\nstandard {args.standard}: {result.totals['failing']} of "
            f"{result.totals['communities']} communities short of floor area"
        )
    print_warnings(run.warnings)
    print(f"\nwrote {', '.join(p.name for p in run.paths.values())} to {args.out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("propose", help="propose communities and grids from household points")
    p.add_argument("households", type=Path)
    add_crs(p)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    add_line_layers(p)
    p.add_argument("--facilities", type=Path, help="facilities with floor area (m²)")
    p.add_argument(
        "--compounds",
        type=Path,
        help="compound (小区) polygons naming buildings that have no 小区 column",
    )
    p.add_argument(
        "--buildings",
        type=Path,
        help="building footprints (polygons), matched to the households by id or "
        "containment: no border crosses one",
    )
    p.add_argument(
        "--subdistricts-crs",
        "--streets-crs",
        dest="subdistricts_crs",
        help="CRS of --subdistricts if it differs from --crs",
    )
    for layer in ("barriers", "facilities", "buildings", "compounds"):
        p.add_argument(f"--{layer}-crs", help=f"CRS of --{layer} if it differs from --crs")
    p.add_argument("--columns", help="explicit column mapping, e.g. lon=东经,lat=北纬")
    add_reading_options(p)
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="worker processes drawing the study area's pieces and the grids "
        "(default: the cores present); the plan is the same whatever the number",
    )
    p.add_argument(
        "--scheduler",
        help="address of a running Dask distributed scheduler "
        "(e.g. tcp://10.0.0.5:8786) to send that work to instead",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="report each stage and piece on stderr even when it is not a terminal "
        "(on a terminal a progress bar is shown anyway)",
    )
    add_size_arguments(p)
    p.add_argument(
        "--standard",
        default="national-2021",
        help="standard preset (or TOML file) for the facility check",
    )
    p.set_defaults(run=_run)
