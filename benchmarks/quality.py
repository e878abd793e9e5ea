"""The shape of the plans a planner signs, on every reference data set, beside the peers.

Usage::

    .venv/bin/python benchmarks/quality.py                 # every data set
    .venv/bin/python benchmarks/quality.py haidian sample  # some of them
    .venv/bin/python benchmarks/quality.py --no-peers      # the engine only

Data sets (roads, rivers and railways given as barriers):

- ``sample``: the built-in synthetic district (80,000 households, 街道, streets of every
  class, a river), as ``python -m planning sample`` writes it;
- ``haidian``: ../shared/data/beijing_haidian (OSM, 2 communities, compounds as polygons);
- ``shenzhen``: ../shared/data/shenzhen_nanshan_north, all 3,456 buildings (236k households);
- ``shenzhen-18m``: its ``height_class_m == 18`` subset (urban villages, 77k households).

For each, the engine runs end to end (``run_propose``, reading and writing included) and its
summary is printed; then weighted k-means (scikit-learn) and METIS (pymetis, from
requirements-bench.txt; skipped when missing) partition the same building sites into as many
communities, drawn as the dissolved cells, and are measured the same way. The targets are
those of the borders issue: necks 0 (grids ≤ 1%), jagged ≤ 5%, fitting blocks split ≤ 15%,
≥ 85% of internal border on a given line where streets of every class are given,
Polsby-Popper min ≥ 0.25 and mean ≥ 0.55, ≥ 95% in band, ≥ 90% of grids in band.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

TARGET = 2500


def _inputs(name: str, tmp: Path) -> dict:
    """Keyword arguments of run_propose for a data set."""
    if name == "sample":
        from samples.district import write_sample

        paths = write_sample(tmp / "sample", households=80_000, seed=0)
        return {
            "households_path": paths["households"],
            "crs": "gcj02",
            "subdistricts_path": paths["streets"],
            "barriers_path": [paths["barriers"]],
        }
    if name == "haidian":
        base = SHARED / "beijing_haidian"
        return {
            "households_path": base / "households.geojson",
            "crs": "wgs84",
            "barriers_path": [base / "roads.geojson", base / "water.geojson"],
            "compounds_path": base / "compounds.geojson",
        }
    base = SHARED / "shenzhen_nanshan_north"
    households = base / "households.geojson"
    if name == "shenzhen-18m":
        import geopandas as gpd

        frame = gpd.read_file(households)
        households = tmp / "shenzhen_18m.geojson"
        frame[frame["height_class_m"] == 18].to_file(households, driver="GeoJSON")
    return {
        "households_path": households,
        "crs": "wgs84",
        "barriers_path": [base / "roads.geojson"],
    }


def _row(metrics: dict, grids: dict | None, seconds: float | None) -> dict:
    c = metrics
    row = {
        "communities": c["count"],
        "in band": f"{c['share_in_band']:.0%}",
        "PP mean/min": f"{c['polsby_popper_mean']:.2f}/{c['polsby_popper_min']:.2f}",
        "necks": c["necks"],
        "jagged": f"{c['jagged_border_share']:.1%}",
        "on lines": "—"
        if c.get("border_on_lines_share") is None
        else f"{c['border_on_lines_share']:.0%}",
        "blocks split": f"{c['blocks_fitting_split']}/{c['blocks_fitting']}",
        "radius p95 m": f"{c['service_radius_p95_m_median']:.0f}/"
        f"{c['service_radius_p95_m_max']:.0f}",
        "multipart": c["multipart"],
    }
    if grids is not None:
        row.update(
            {
                "grids in band": f"{grids['share_in_band_ex_big']:.0%}",
                "grid necks": f"{grids['necks']}/{grids['count']}",
                "grid jagged": f"{grids['jagged_border_share']:.1%}",
                "unforced x": c.get("barrier_crossings_unforced_count", "—"),
            }
        )
    if seconds is not None:
        row["seconds"] = f"{seconds:.1f}"
    return row


def _grid_share_ex_big(summary: dict, run) -> float:
    """Grids in band, not counting grids that hold a building bigger than a grid."""
    grids = run.proposal.grids
    lower, upper = summary["grids"]["band"]
    buildings = run.proposal.buildings
    big = set(buildings.loc[buildings["households"] > upper, "grid_id"].astype(str))
    keep = ~grids["grid_id"].astype(str).isin(big)
    h = grids.loc[keep, "households"]
    return float(((h >= lower) & (h <= upper)).mean()) if len(h) else 1.0


def _peer(name: str, district, k: int) -> np.ndarray:
    sites = district.sites
    if name == "weighted k-means":
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=k, n_init=3, random_state=0)
        return model.fit_predict(sites.xy, sample_weight=np.maximum(sites.households, 1e-3))
    import pymetis

    graph = district.graph
    weights = np.maximum(np.round(sites.households).astype(int), 0)
    # METIS refuses contiguity on a graph in several pieces; a user of it would drop it then
    options = pymetis.Options(contig=int(graph.components()[0] == 1))
    adjacency = pymetis.CSRAdjacency(graph.indptr.astype(np.int32), graph.indices.astype(np.int32))
    _, part = pymetis.part_graph(
        k, adjacency, vweights=weights.tolist(), recursive=False, options=options
    )
    return np.asarray(part)


def _measure_peer(district, labels: np.ndarray, params) -> dict:
    import geopandas as gpd
    import pandas as pd

    from geo.tessellation import dissolve
    from planning.engine.metrics import shape_metrics, size_metrics
    from planning.engine.shape import polsby_popper

    ids, polys = dissolve(district.cells, labels)
    polys = np.asarray(polys, dtype=object)
    hh = np.bincount(labels, weights=district.sites.households, minlength=int(ids.max()) + 1)
    communities = gpd.GeoDataFrame(
        {"community_id": [f"P{i}" for i in ids], "households": hh[ids]},
        geometry=list(polys),
        crs=district.metric_crs,
    )
    buildings = pd.DataFrame(
        {
            "community_id": [f"P{i}" for i in labels[district.sites.of_building]],
            "households": district.buildings["households"].to_numpy(),
        }
    )
    shapes, _ = shape_metrics(
        district,
        buildings,
        communities,
        None,
        community_upper=params.community_band[1],
        grid_upper=0,
    )
    lower, upper = params.community_band
    out = size_metrics(hh[ids], lower=lower, upper=upper, target=params.community_size)
    pp = polsby_popper(polys)
    out.update(shapes["communities"])
    out.update(
        {
            "polsby_popper_mean": float(pp.mean()),
            "polsby_popper_min": float(pp.min()),
            "multipart": int((shapely_parts(polys) > 1).sum()),
        }
    )
    return out


def shapely_parts(polys):
    import shapely

    return shapely.get_num_geometries(polys)


def _print(name: str, rows: dict[str, dict]) -> None:
    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    width = max(len(m) for m in rows) + 2
    print(f"\n## {name}")
    print("method".ljust(width) + "".join(f"{k:>15}" for k in keys))
    for method, row in rows.items():
        print(method.ljust(width) + "".join(f"{row.get(k, ''):>15}" for k in keys))


def main(argv: list[str]) -> int:
    from planning.params import ProposeParams
    from planning.runs import run_propose

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "datasets", nargs="*", default=["sample", "haidian", "shenzhen", "shenzhen-18m"]
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    params = ProposeParams()
    everything = {}
    for name in args.datasets:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            kwargs = _inputs(name, tmp)
            start = time.perf_counter()
            run = run_propose(out_dir=tmp / "plan", params=params, **kwargs)
            seconds = time.perf_counter() - start
        summary = run.summary
        summary["grids"]["share_in_band_ex_big"] = _grid_share_ex_big(summary, run)
        rows = {"this engine": _row(summary["communities"], summary["grids"], seconds)}
        everything[name] = {
            "engine": {k: summary[k] for k in ("communities", "grids")},
            "seconds": seconds,
        }
        if not args.no_peers:
            district = run.proposal.district
            k = int(summary["communities"]["count"])
            for peer in ("weighted k-means", "METIS"):
                try:
                    labels = _peer(peer, district, k)
                except ImportError:
                    rows[peer] = {"communities": "pymetis missing (requirements-bench.txt)"}
                    continue
                measured = _measure_peer(district, labels, params)
                rows[peer] = _row(measured, None, None)
                everything[name][peer] = measured
        _print(
            f"{name}: {summary['data']['households']:,} households, "
            f"{summary['data']['buildings']:,} buildings",
            rows,
        )
        infeasible = summary.get("infeasible", [])
        for item in summary["communities"].get("blocks_split", []):
            if item["fits"]:
                print(f"  {item['block']} ({item['households']:,} households): {item['reason']}")
        print(
            f"  infeasible units: {len(infeasible)}; runtime "
            + ", ".join(f"{k} {v:.2f}s" for k, v in summary["runtime_s"].items())
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                everything,
                ensure_ascii=False,
                indent=1,
                default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
