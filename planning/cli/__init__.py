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
from planning.params import FILE_KEYS, ProposeParams

__all__ = ["add_size_arguments", "build_parser", "main", "parse_columns", "propose_params"]

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
    from samples.district import write_sample

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


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """The size, tolerance and seed options every planning command shares (defaults from
    :class:`planning.params.ProposeParams`)."""
    defaults = ProposeParams()
    parser.add_argument("--community-size", type=int, default=defaults.community_size,
                        help="households a community aims at")
    parser.add_argument("--tolerance", type=float, default=defaults.tolerance,
                        help="half-width of the community band, a share of its size")
    parser.add_argument("--grid-households", "--grid-size", dest="grid_households", type=int,
                        default=defaults.grid_households, help="households a grid aims at")
    parser.add_argument("--grid-tolerance", type=float, default=defaults.grid_tolerance,
                        help="half-width of the grid band, a share of its households")
    parser.add_argument("--max-grids", type=int, default=defaults.max_grids,
                        help="most grids in one community")
    parser.add_argument("--seed", type=int, default=defaults.seed)


def propose_params(args: argparse.Namespace) -> ProposeParams:
    """ProposeParams from the options of :func:`add_size_arguments`."""
    return ProposeParams.from_dict({name: getattr(args, name) for name in FILE_KEYS})


def _progress_bar():
    """A tqdm bar on a terminal, nothing when output is piped."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, desc="propose", unit="%", leave=False, file=sys.stderr)

    def update(stage: str, done: float) -> None:
        bar.set_description(stage)
        bar.update(max(0, round(done * 100) - bar.n))

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
        ("compounds split (fit)", c["compounds_fit_but_split_count"],
         g["compounds_fit_but_split_count"]),
        ("Polsby-Popper mean", c["polsby_popper_mean"], g["polsby_popper_mean"]),
        ("Polsby-Popper min", c["polsby_popper_min"], g["polsby_popper_min"]),
        ("necks", c.get("necks", "—"), g.get("necks", "—")),
        ("jagged border", _share(c.get("jagged_border_share")),
         _share(g.get("jagged_border_share"))),
        ("border on given lines", _share(c.get("border_on_lines_share")), "—"),
        ("fitting blocks split", _of(c, "blocks_fitting_split", "blocks_fitting"),
         _of(g, "blocks_fitting_split", "blocks_fitting")),
        ("footprints crossed", c.get("footprints_crossed", "—"),
         g.get("footprints_crossed", "—")),
        ("service radius p95 m", c.get("service_radius_p95_m_max", "—"),
         g.get("service_radius_p95_m_max", "—")),
    ]
    for name, a, b in rows:
        a = f"{a:,}" if isinstance(a, int) else a
        b = f"{b:,}" if isinstance(b, int) else b
        print(f"  {name:<22}{a!s:>14}{b!s:>12}")
    print(f"  {'barrier crossings':<22}{c['barrier_crossings_count']:>14} "
          f"({len({x['community_id'] for x in c['barrier_crossings']})} communities, "
          f"{c.get('barrier_crossings_unforced_count', 0)} not forced)")
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


def _cmd_propose(args: argparse.Namespace) -> int:
    from planning.runs import run_propose

    progress, close = _progress_bar()
    layer_crs = {k: v for k, v in (("streets", args.subdistricts_crs),
                                   ("barriers", args.barriers_crs),
                                   ("facilities", args.facilities_crs),
                                   ("buildings", args.buildings_crs)) if v}
    try:
        run = run_propose(
            args.households, crs=args.crs, out_dir=args.out, subdistricts_path=args.subdistricts,
            barriers_path=args.barriers, compounds_path=args.compounds,
            buildings_path=args.buildings, layer_crs=layer_crs,
            columns=parse_columns(args.columns), params=propose_params(args),
            progress=progress,
        )
    finally:
        close()
    _print_plan(run.summary)
    if args.facilities:
        from planning.runs import write_compliance_for

        result = write_compliance_for(run, facilities_path=args.facilities,
                                      crs=layer_crs.get("facilities", args.crs),
                                      standard=args.standard, out_dir=args.out)
        print(f"\nstandard {args.standard}: {result.totals['failing']} of "
              f"{result.totals['communities']} communities short of floor area")
    print(f"\nwrote {', '.join(p.name for p in run.paths.values())} to {args.out}")
    return 0


def _add_propose(sub) -> None:
    p = sub.add_parser("propose", help="propose communities and grids from household points")
    p.add_argument("households", type=Path)
    _add_crs(p)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--subdistricts", "--streets", dest="subdistricts", type=Path,
                   help="sub-district (街道) polygons (--streets: the same)")
    p.add_argument("--barriers", type=Path, action="append",
                   help="roads / rivers / railways (repeat for several files)")
    p.add_argument("--facilities", type=Path, help="facilities with floor area (m²)")
    p.add_argument("--compounds", type=Path,
                   help="compound (小区) polygons naming buildings that have no 小区 column")
    p.add_argument("--buildings", type=Path,
                   help="building footprints (polygons), matched to the households by id or "
                   "containment: no border crosses one")
    p.add_argument("--subdistricts-crs", "--streets-crs", dest="subdistricts_crs",
                   help="CRS of --subdistricts if it differs from --crs")
    for layer in ("barriers", "facilities", "buildings"):
        p.add_argument(f"--{layer}-crs", help=f"CRS of --{layer} if it differs from --crs")
    p.add_argument("--columns", help="explicit column mapping, e.g. lon=东经,lat=北纬")
    add_size_arguments(p)
    p.add_argument("--standard", default="national-2021",
                   help="standard preset (or TOML file) for the facility check")
    p.set_defaults(run=_cmd_propose)


def _cmd_render(args: argparse.Namespace) -> int:
    from planning.render import render_plan

    outputs = [args.out]
    if args.pdf and args.out.suffix.lower() != ".pdf":
        outputs.append(args.out.with_suffix(".pdf"))
    warnings = {}
    for out in outputs:
        result = render_plan(args.plan_dir, out, title=args.title, lang=args.lang, dpi=args.dpi)
        warnings.update((str(w), None) for w in result.warnings)
        print(f"wrote {result.path}: {len(result.community_labels)} communities, "
              f"layers {', '.join(result.layers)}; font {result.font_family}")
    for warning in warnings:
        print(warning, file=sys.stderr)
    return 0


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="draw a plan folder as a print map (PNG or PDF)")
    p.add_argument("plan_dir", type=Path, help="a folder written by propose --out")
    p.add_argument("--out", type=Path, required=True, help="the map file, .png or .pdf")
    p.add_argument("--pdf", action="store_true", help="also write a PDF beside the PNG")
    p.add_argument("--title", help="map title (default 社区与网格划分方案)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--dpi", type=int, default=200)
    p.set_defaults(run=_cmd_render)


def _cmd_check(args: argparse.Namespace) -> int:
    from planning.check_run import run_check

    types = [t.strip() for t in args.facility_types.split(",")] if args.facility_types else None
    result = run_check(
        args.communities, args.households, crs=args.crs, facilities_path=args.facilities,
        standard=args.standard, out_dir=args.out, id_column=args.id_column, year=args.year,
        facility_types=types,
    )
    totals = result.totals
    print(f"standard: {result.standard.name} ({result.standard.title})")
    _print_table([(str(k), v) for k, v in totals.items()])
    if len(result.outside):
        print(f"{len(result.outside)} facilities lie outside every community (listed in the report)")
    print(f"wrote compliance.csv, compliance.geojson, report.html to {args.out}")
    return 0


def _add_check(sub) -> None:
    p = sub.add_parser("check", help="check communities against a facility-area standard")
    p.add_argument("--communities", type=Path, required=True)
    p.add_argument("--households", type=Path, required=True)
    _add_crs(p)
    p.add_argument("--facilities", type=Path, help="facilities with floor area (m²)")
    p.add_argument("--standard", default="national-2021", help="preset name or TOML file")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--id-column", help="the communities' id column, if not found by name")
    p.add_argument("--year", type=int, help="year for funds with yearly growth")
    p.add_argument("--facility-types", help="count only these facility types (comma-separated)")
    p.set_defaults(run=_cmd_check)


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
def _add_rebalance(sub) -> None:
    from planning.plans.rebalance import add_rebalance_command

    add_rebalance_command(sub)


def _add_compare(sub) -> None:
    from planning.plans.compare import add_compare_command

    add_compare_command(sub)


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_propose, _add_check, _add_rebalance, _add_compare, _add_render,
]


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
