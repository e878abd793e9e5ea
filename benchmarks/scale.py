"""End-to-end scale benchmark: read → propose → write, at several district sizes.

Usage::

    .venv/bin/python benchmarks/scale.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/scale.py 10000 5000000   # chosen sizes

Each size runs in its own process so peak memory is that run's own. The sample district has
one row per household in its urban villages and one per building elsewhere. Targets on a
2-core machine: 100k ≤ 5 s, 1M ≤ 30 s and ≤ 4 GB, close to linear growth.
"""

from __future__ import annotations

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


def one(households: int) -> dict:
    from planning.runs import run_propose
    from samples.district import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = write_sample(Path(tmp) / "in", households=households, seed=0)
        generate_s = time.perf_counter() - start
        rows = sum(1 for _ in paths["households"].open(encoding="utf-8-sig")) - 1
        start = time.perf_counter()
        run = run_propose(
            paths["households"], crs="gcj02", out_dir=Path(tmp) / "out",
            subdistricts_path=paths["streets"], barriers_path=paths["barriers"],
        )
        total_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c, g = run.summary["communities"], run.summary["grids"]
    return {
        "households": int(run.summary["data"]["households"]),
        "rows": rows,
        "buildings": int(run.summary["data"]["buildings"]),
        "generate_s": round(generate_s, 2),
        "end_to_end_s": round(total_s, 2),
        "stages_s": run.summary["runtime_s"],
        "peak_mb": round(peak_mb),
        "communities": c["count"],
        "communities_in_band": c["share_in_band"],
        "grids": g["count"],
        "grids_in_band": g["share_in_band"],
        "pp_mean": c["polsby_popper_mean"],
        "multipart": c["multipart"] + g["multipart"],
        "gap_m2": c["gap_area_m2"],
        "overlap_m2": c["overlap_area_m2"],
    }


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--one":
        print(json.dumps(one(int(argv[1]))))
        return 0
    sizes = [int(a) for a in argv] or list(DEFAULT_SIZES)
    results = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True,
            check=False, cwd=REPO,
        )
        if proc.returncode != 0:
            print(f"{n:>10,}: failed\n{proc.stderr[-2000:]}")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        stages = ", ".join(f"{k} {v:.2f}" for k, v in result["stages_s"].items())
        print(
            f"{result['households']:>10,} households ({result['rows']:,} rows, "
            f"{result['buildings']:,} buildings): {result['end_to_end_s']:.1f} s end to end, "
            f"peak {result['peak_mb']:,} MB; communities {result['communities']} "
            f"({result['communities_in_band']:.0%} in band), grids {result['grids']} "
            f"({result['grids_in_band']:.0%} in band), PP {result['pp_mean']}, "
            f"multipart {result['multipart']}, gap {result['gap_m2']} m², overlap "
            f"{result['overlap_m2']} m²\n    stages (s): {stages}",
            flush=True,
        )
    if len(results) >= 2:
        a, b = results[0], results[-1]
        ratio = (b["end_to_end_s"] / a["end_to_end_s"]) / (b["households"] / a["households"])
        print(f"cost per household, largest vs smallest: ×{ratio:.2f} (1.0 = linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
