"""End-to-end scale benchmark: read → propose → write, at several district sizes.

Usage::

    .venv/bin/python benchmarks/scale.py                          # 10k, 100k, 1M, with 街道
    .venv/bin/python benchmarks/scale.py 100000 800000 --no-streets
    .venv/bin/python benchmarks/scale.py 1000000 --streets 3      # few large 街道
    .venv/bin/python benchmarks/scale.py 400000 --no-streets --workers 1 2

The sample district of each size is generated once (in its own process, cached under the
system temp folder by size and 街道 count); each run then proposes in a process of its own so
peak memory is that run's own (``peak`` is the proposing process, ``workers`` the largest of
its worker processes). ``--no-streets`` plans without a 街道 layer (one study area, as a
planner without 街道 polygons has); ``--streets N`` has the generator make N 街道 and plans
in them; ``--no-barriers`` leaves the barrier layer out, so no major road cuts the study
area into parts (the engine then cuts it into pieces of its own). ``--workers 1 2`` runs each
size once per worker count, on the same sample, and prints the speed-up of the stages the
workers draw: the wall time of the partition stages (communities and grids) and of those with
the boundaries (drawn per 街道), with 1 worker over that with 2, and the CPU time of every
process of each run (on a machine others share, the CPU time says whether the work grew).
Each run prints every stage's wall time and its CPU time (the proposing process and its
worker processes; :class:`planning.parallel.StageClock`).

Targets on a 2-core machine (issue 17): in band ≥ 95% and PP within 0.02 of the 100k figure at
any size without 街道; 1M households in three 街道 ≤ 30 s; ≥ 1.6× from 1 to 2 workers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
#: The partition stages the worker speed-up is measured on (issue 17: ≥ 1.6× from 1 to 2).
PARTITION_STAGES = ("communities", "grids")
#: Every stage whose tasks the workers draw: the partition stages and the boundaries (per 街道).
PARALLEL_STAGES = (*PARTITION_STAGES, "boundaries")


def sample_folder(households: int, streets: int | None) -> Path:
    """The generated sample of this size and 街道 count (made on first use)."""
    folder = Path(tempfile.gettempdir()) / "scale_samples" / f"{households}_{streets or 'default'}"
    if not (folder / "done").exists():
        from samples.district import write_sample

        write_sample(folder, households=households, seed=0, subdistricts=streets)
        (folder / "done").write_text("ok", encoding="utf-8")
    return folder


def one(
    households: int,
    *,
    streets: int | None,
    use_streets: bool,
    use_barriers: bool,
    workers: int | None,
) -> dict:
    """Propose on the sample of ``households`` and measure the run."""
    from planning.runs import run_propose

    folder = sample_folder(households, streets)
    rows = sum(1 for _ in (folder / "households.csv").open(encoding="utf-8-sig")) - 1
    extra = {} if workers is None else {"workers": workers}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = run_propose(
            folder / "households.csv",
            crs="gcj02",
            out_dir=Path(tmp) / "out",
            subdistricts_path=folder / "streets.geojson" if use_streets else None,
            barriers_path=folder / "barriers.geojson" if use_barriers else None,
            **extra,
        )
        total_s = time.perf_counter() - start
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    peak_mb, workers_mb = own.ru_maxrss / 1024, children.ru_maxrss / 1024
    cpu_s = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    c, g = run.summary["communities"], run.summary["grids"]
    return {
        "households": int(run.summary["data"]["households"]),
        "rows": rows,
        "buildings": int(run.summary["data"]["buildings"]),
        "streets": len(run.subdistricts) if run.subdistricts is not None else 0,
        "barriers": use_barriers,
        "workers": workers,
        "end_to_end_s": round(total_s, 2),
        "cpu_s": round(cpu_s, 1),
        "stages_s": run.summary["runtime_s"],
        "stages_cpu_s": {k: round(v, 2) for k, v in run.cpu_s.items()},
        "peak_mb": round(peak_mb),
        "workers_peak_mb": round(workers_mb),
        "communities": c["count"],
        "communities_in_band": c["share_in_band"],
        "grids": g["count"],
        "grids_in_band": g["share_in_band"],
        "pp_mean": c["polsby_popper_mean"],
        "multipart": c["multipart"] + g["multipart"],
        "gap_m2": c["gap_area_m2"],
        "overlap_m2": c["overlap_area_m2"],
    }


def _line(result: dict) -> str:
    stages = ", ".join(f"{k} {v:.2f}" for k, v in result["stages_s"].items())
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in result["stages_cpu_s"].items())
    who = "" if result["workers"] is None else f", {result['workers']} worker(s)"
    who += "" if result["barriers"] else ", no barriers"
    return (
        f"{result['households']:>10,} households in {result['streets'] or 'no'} 街道{who} "
        f"({result['rows']:,} rows, {result['buildings']:,} buildings): "
        f"{result['end_to_end_s']:.1f} s end to end ({result['cpu_s']:.1f} s of CPU in all "
        f"processes: on a busy machine wall time overstates), peak {result['peak_mb']:,} MB "
        f"(workers {result['workers_peak_mb']:,} MB); communities {result['communities']} "
        f"({result['communities_in_band']:.1%} in band), grids {result['grids']} "
        f"({result['grids_in_band']:.1%} in band), PP {result['pp_mean']}, "
        f"multipart {result['multipart']}, gap {result['gap_m2']} m², overlap "
        f"{result['overlap_m2']} m²\n    stages (s): {stages}\n    stages (CPU s, this "
        f"process and its workers): {cpu}"
    )


def _speed_up(base: dict, other: dict) -> str:
    """The speed-up from ``base``'s workers to ``other``'s: wall time of the partition stages,
    of every parallel stage and end to end, and the CPU time of each run."""

    def wall(result: dict, stages: tuple[str, ...]) -> float:
        return sum(result["stages_s"].get(s, 0.0) for s in stages)

    parts = []
    for stages in (PARTITION_STAGES, PARALLEL_STAGES):
        before, after = wall(base, stages), wall(other, stages)
        parts.append(
            f"×{before / after:.2f} on {' + '.join(stages)} ({before:.1f} s → {after:.1f} s)"
        )
    return (
        f"    speed-up {base['workers']} → {other['workers']} workers (wall time): "
        f"{', '.join(parts)}, ×{base['end_to_end_s'] / other['end_to_end_s']:.2f} end to end; "
        f"CPU in all processes {base['cpu_s']:.1f} s → {other['cpu_s']:.1f} s"
    )


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES))
    parser.add_argument(
        "--streets",
        type=int,
        default=None,
        help="街道 the generator makes (default: one per ~25,000 households)",
    )
    parser.add_argument(
        "--no-streets", action="store_true", help="plan without a 街道 layer (one study area)"
    )
    parser.add_argument(
        "--no-barriers",
        action="store_true",
        help="plan without the barrier layer (no major roads cut the area)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=None,
        help="worker counts to run each size with (default: the engine's)",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _run_one(n: int, args: argparse.Namespace, workers: int | None) -> dict | None:
    command = [sys.executable, __file__, "--one", str(n)]
    if args.streets is not None:
        command += ["--streets", str(args.streets)]
    if args.no_streets:
        command.append("--no-streets")
    if args.no_barriers:
        command.append("--no-barriers")
    if workers is not None:
        command += ["--workers", str(workers)]
    sample_folder(n, args.streets)  # generated outside the measured process
    proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    if proc.returncode != 0:
        print(f"{n:>10,}: failed\n{proc.stderr[-2000:]}", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    if args.one:
        workers = args.workers[0] if args.workers else None
        print(
            json.dumps(
                one(
                    args.sizes[0],
                    streets=args.streets,
                    use_streets=not args.no_streets,
                    use_barriers=not args.no_barriers,
                    workers=workers,
                )
            )
        )
        return 0
    results = []
    for n in args.sizes:
        runs = [r for w in (args.workers or [None]) if (r := _run_one(n, args, w))]
        for result in runs:
            print(_line(result), flush=True)
        if len(runs) >= 2:
            for result in runs[1:]:
                print(_speed_up(runs[0], result), flush=True)
        results.extend(runs[:1])
    if len(results) >= 2:
        a, b = results[0], results[-1]
        ratio = (b["end_to_end_s"] / a["end_to_end_s"]) / (b["households"] / a["households"])
        print(f"cost per household, largest vs smallest: ×{ratio:.2f} (1.0 = linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
