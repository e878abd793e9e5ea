"""``propose``: communities and grids from household points, printed as a table and written
as a plan folder."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from geo.records import catalogue
from planning.cli.options import (
    add_crs,
    add_line_layers,
    add_reading_options,
    add_size_arguments,
    pad,
    parse_columns,
    print_warnings,
    propose_params,
    reading_options,
    refuse_before_work,
    say,
    text_width,
)
from planning.parallel import default_workers
from planning.params import Range, range_problem
from planning.records import Infeasible, Note, note_from_data

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


def _print_plan(summary: dict, infeasible: Sequence[Infeasible], lang: str) -> None:
    """The plan's figures for communities and grids, the units where the band cannot be met
    (from their records) and the street blocks split, in ``lang``."""
    c, g = summary["communities"], summary["grids"]
    rows = [(say(f"propose.{key}", lang), a, b) for key, a, b in _plan_rows(c, g, lang)]
    tail = [
        (
            say("propose.crossings", lang),
            c["barrier_crossings_count"],
            say(
                "propose.crossings_value",
                lang,
                communities=len({x["community_id"] for x in c["barrier_crossings"]}),
                unforced=c.get("barrier_crossings_unforced_count", 0),
            ),
        ),
        (say("propose.crossing_streets", lang), len(c["crossing_streets"]), ""),
        (
            say("propose.grids_per_community", lang),
            c["grids_per_community_max"],
            say("propose.max", lang),
        ),
    ]
    width = max(22, *(text_width(label) for label, _, _ in rows + tail))
    head = pad(say("propose.communities", lang), 14, right=True)
    print(f"{'':{width + 2}}{head}{pad(say('propose.grids', lang), 12, right=True)}")
    for label, a, b in rows:
        a = f"{a:,}" if isinstance(a, int) else a
        b = f"{b:,}" if isinstance(b, int) else b
        print(f"  {pad(label, width)}{pad(a, 14, right=True)}{pad(b, 12, right=True)}")
    for label, value, note in tail:
        print(f"  {pad(label, width)}{pad(value, 14, right=True)} {note}".rstrip())
    if infeasible:
        print("\n" + say("propose.infeasible", lang, n=len(infeasible)))
        for item in infeasible:
            print(f"  - {item.reason.text(lang)}")
    split = [b for b in c.get("blocks_split", []) if b["fits"]]
    if split:
        print("\n" + say("propose.blocks", lang, n=len(split)))
        for item in split:
            print("  - " + say("propose.block", lang, **{**item, "reason": _reason(item, lang)}))
    times = say("propose.time_sep", lang).join(
        say("propose.time", lang, stage=_stage(k, lang), seconds=v)
        for k, v in summary["runtime_s"].items()
    )
    print("\n" + say("propose.runtime", lang, times=times))


def _stage(key: str, lang: str) -> str:
    """A stage of the runtime line by its name in ``lang`` (one without words: its key)."""
    return (
        say(f"propose.stage.{key}", lang)
        if f"cli.propose.stage.{key}" in catalogue(Note.folder, lang)
        else key
    )


def _reason(block: dict, lang: str) -> str:
    """Why a block was split, in ``lang``: from its record (``reason_record``), else the
    English text a summary written before records holds."""
    record = block.get("reason_record")
    return note_from_data(record).text(lang) if record else block["reason"]


def _plan_rows(c: dict, g: dict, lang: str) -> list[tuple[str, object, object]]:
    """(locale key, communities' value, grids' value) of the plan's table."""
    lo, hi = c["band"]
    glo, ghi = g["band"]
    return [
        ("count", c["count"], g["count"]),
        ("households_min", c["households_min"], g["households_min"]),
        ("households_median", c["households_median"], g["households_median"]),
        ("households_max", c["households_max"], g["households_max"]),
        ("in_band", f"{c['share_in_band']:.0%}", f"{g['share_in_band']:.0%}"),
        ("band", f"{lo:,.0f}–{hi:,.0f}", f"{glo:,.0f}–{ghi:,.0f}"),
        ("within_20", f"{c['share_within_20pct']:.0%}", f"{g['share_within_20pct']:.0%}"),
        ("multipart", c["multipart"], g["multipart"]),
        ("overlap", c["overlap_area_m2"], g["overlap_area_m2"]),
        ("gap", c["gap_area_m2"], g["gap_area_m2"]),
        (
            "compounds_split",
            c["compounds_fit_but_split_count"],
            g["compounds_fit_but_split_count"],
        ),
        ("pp_mean", c["polsby_popper_mean"], g["polsby_popper_mean"]),
        ("pp_min", c["polsby_popper_min"], g["polsby_popper_min"]),
        ("necks", c.get("necks", "—"), g.get("necks", "—")),
        ("jagged", _share(c.get("jagged_border_share")), _share(g.get("jagged_border_share"))),
        ("on_lines", _share(c.get("border_on_lines_share")), "—"),
        (
            "blocks_split",
            _of(c, "blocks_fitting_split", "blocks_fitting", lang),
            _of(g, "blocks_fitting_split", "blocks_fitting", lang),
        ),
        ("footprints", c.get("footprints_crossed", "—"), g.get("footprints_crossed", "—")),
        ("radius", c.get("service_radius_p95_m_max", "—"), g.get("service_radius_p95_m_max", "—")),
    ]


def _share(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def _of(block: dict, part: str, whole: str, lang: str) -> str:
    if whole not in block:
        return "—"
    return say("propose.of", lang, part=block[part], whole=block[whole])


def _run(args: argparse.Namespace) -> int:
    from planning.runs import run_propose

    params = propose_params(args)
    workers = range_problem("--workers", args.workers, WORKERS_RANGE)
    refuse_before_work(
        params=params, out=args.out, problems=[workers] if workers else [], lang=args.lang
    )
    columns = parse_columns(args.columns, args.lang)
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
    progress, close = _progress_bar(forced=args.progress, lang=args.lang)
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
    lang = args.lang
    _print_plan(run.summary, run.proposal.infeasible, lang)
    if args.facilities:
        from planning.runs import write_compliance_for

        result = write_compliance_for(run, standard=args.standard, out_dir=args.out)
        short = say(
            "propose.standard",
            lang,
            standard=args.standard,
            failing=result.totals["failing"],
            communities=result.totals["communities"],
        )
        print("\n" + short)
    print_warnings(run.warnings, lang)
    files = ", ".join(p.name for p in run.paths.values())
    print("\n" + say("wrote", lang, files=files, folder=str(args.out)))
    return 0


def register(sub, lang: str = "en") -> None:
    """The ``propose`` command, its help in ``lang``."""
    p = sub.add_parser("propose", help=say("help.propose.command", lang))
    p.add_argument("households", type=Path, help=say("help.households_file", lang))
    add_crs(p, lang=lang)
    p.add_argument("--out", type=Path, required=True, help=say("help.out_folder", lang))
    add_line_layers(p, lang=lang)
    p.add_argument("--facilities", type=Path, help=say("help.facilities", lang))
    p.add_argument("--compounds", type=Path, help=say("help.propose.compounds", lang))
    p.add_argument("--buildings", type=Path, help=say("help.propose.buildings", lang))
    p.add_argument(
        "--subdistricts-crs",
        "--streets-crs",
        dest="subdistricts_crs",
        help=say("help.propose.subdistricts_crs", lang),
    )
    for layer in ("barriers", "facilities", "buildings", "compounds"):
        p.add_argument(f"--{layer}-crs", help=say("help.layer_crs", lang, layer=layer))
    p.add_argument("--columns", help=say("help.columns", lang))
    add_reading_options(p, lang=lang)
    p.add_argument(
        "--workers", type=int, default=default_workers(), help=say("help.propose.workers", lang)
    )
    p.add_argument("--scheduler", help=say("help.propose.scheduler", lang))
    p.add_argument("--progress", action="store_true", help=say("help.propose.progress", lang))
    add_size_arguments(p, lang=lang)
    p.add_argument("--standard", default="national-2021", help=say("help.propose.standard", lang))
    p.set_defaults(run=_run)
