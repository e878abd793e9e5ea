"""Peak memory of reading a large household file: CSV and GeoParquet, 2,000,000 rows.

Usage::

    .venv/bin/python benchmarks/intake_memory.py                 # 2,000,000 rows
    .venv/bin/python benchmarks/intake_memory.py --rows 500000

A household table of ``--rows`` rows (one row per household, as a 户籍 export has them: 小区,
楼栋, GCJ-02 经度/纬度, 户数 1, 人口) is written once as CSV and as GeoParquet (cached under
the system temp folder by row count). Each file is then read with
:func:`geo.intake.read_households` in a fresh process of its own, so ``peak`` is that read's
own peak resident memory (``ru_maxrss``); ``base`` is the same process's resident memory
after its imports, before reading; ``held`` what stays resident beyond it while the returned
``Households`` lives (its table, with a shapely point per row), and ``kept`` what pandas counts
in it (``memory_usage(deep=True)`` of its rows and buildings). A good reader's
``peak - base`` is a small multiple of ``held``, not of the file's text.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: Households per building and buildings per compound of the generated table.
ROWS_PER_BUILDING = 40
BUILDINGS_PER_COMPOUND = 25


def _rss_mb() -> float:
    """The peak resident memory of this process so far."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _resident_mb() -> float:
    """The resident memory of this process now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_files(rows: int, folder: Path) -> dict[str, Path]:
    """The household table of ``rows`` rows as households.csv and households.parquet."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    paths = {"csv": folder / "households.csv", "parquet": folder / "households.parquet"}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    buildings = -(-rows // ROWS_PER_BUILDING)
    side = int(np.ceil(np.sqrt(buildings)))
    index = np.arange(buildings)
    # a lattice of buildings 40 m apart around Haidian, in GCJ-02 degrees
    lon = 116.30 + (index % side) * 0.00047 + rng.normal(0, 0.00005, buildings)
    lat = 39.95 + (index // side) * 0.00036 + rng.normal(0, 0.00005, buildings)
    of_row = np.arange(rows) // ROWS_PER_BUILDING
    table = pd.DataFrame(
        {
            "小区": [f"小区{b // BUILDINGS_PER_COMPOUND:05d}" for b in of_row],
            "楼栋": [f"B{b:07d}" for b in of_row],
            "经度": np.round(lon[of_row], 6),
            "纬度": np.round(lat[of_row], 6),
            "户数": 1,
            "人口": rng.integers(1, 6, rows),
        }
    )
    table.to_csv(paths["csv"], index=False, encoding="utf-8-sig")
    points = gpd.GeoDataFrame(
        table.drop(columns=["经度", "纬度"]),
        geometry=gpd.points_from_xy(table["经度"], table["纬度"]),
        crs="EPSG:4326",
    )
    points.to_parquet(paths["parquet"])
    return paths


def measure(path: Path) -> dict:
    """Read ``path`` in this process; the figures of that read."""
    import pandas as pd

    from geo.intake import read_households

    base = _resident_mb()
    started = time.perf_counter()
    households = read_households(path, crs="gcj02")
    seconds = time.perf_counter() - started
    gc.collect()  # what stays is the Households, not the garbage of reading
    kept = sum(
        int(frame.memory_usage(deep=True).sum())
        for frame in (pd.DataFrame(households.rows), pd.DataFrame(households.buildings))
    )
    return {
        "file": path.name,
        "megabytes": round(path.stat().st_size / 2**20, 1),
        "rows": len(households.rows),
        "buildings": len(households.buildings),
        "seconds": round(seconds, 1),
        "base_mb": round(base),
        "peak_mb": round(_rss_mb()),
        "held_mb": round(_resident_mb() - base),
        "kept_mb": round(kept / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    folder = Path(tempfile.gettempdir()) / "intake_memory" / str(args.rows)
    paths = write_files(args.rows, folder)
    print(
        f"{'file':<20}{'MB':>8}{'rows':>11}{'seconds':>9}{'base':>8}{'peak':>8}{'held':>8}"
        f"{'kept':>8}"
    )
    for path in paths.values():
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{r['file']:<20}{r['megabytes']:>8}{r['rows']:>11,}{r['seconds']:>9}"
            f"{r['base_mb']:>8}{r['peak_mb']:>8}{r['held_mb']:>8}{r['kept_mb']:>8}"
        )
    print("MB: file size; base, peak: resident MB before and at the peak of reading; held: MB")
    print("resident after it beyond base; kept: what pandas counts in the Households returned")
    print("(rows and buildings, deep; not the shapely points of its rows)")


if __name__ == "__main__":
    main()
