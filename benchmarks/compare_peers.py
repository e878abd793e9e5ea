"""The same units through our engine and the peer tools, side by side.

Usage (peer packages are in requirements-bench.txt, not the product's requirements)::

    .venv/bin/pip install -r requirements-bench.txt
    .venv/bin/python benchmarks/compare_peers.py              # 20k and 80k households
    .venv/bin/python benchmarks/compare_peers.py 100000

Every method partitions the same units: the sample district's building sites, with the same
adjacency graph (cells sharing a border) and k = round(households / 2,500) per 街道 for us,
for the whole district for the peers (none of them knows about 街道). Each peer runs in its
own process with a 10-minute limit. Metrics (communities only):

- ``±10%``: share of communities with 2,250–2,750 households;
- ``contig``: share of communities that are one connected piece;
- ``PP``: mean Polsby-Popper of the dissolved cells;
- ``x-street``: communities spanning two 街道; ``x-barrier``: communities with a major road,
  river or railway running more than 50 m through their interior;
- ``cmp-split``: compounds that fit one community but were split.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TIME_LIMIT_S = 600
TARGET = 2500


def _district(households: int, *, with_subdistricts: bool):
    from geo.intake import read_households
    from geo.layers import read_barriers, read_subdistricts
    from planning.engine.district import prepare_district
    from samples.district import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_sample(Path(tmp), households=households, seed=0)
        data = read_households(paths["households"], crs="gcj02")
        subdistricts = read_subdistricts(paths["streets"], crs="gcj02").frame
        barriers = read_barriers(paths["barriers"], crs="gcj02").frame
    district = prepare_district(
        data.buildings,
        metric_crs=data.metric_crs,
        subdistricts=subdistricts if with_subdistricts else None,
        barriers=barriers,
    )
    return district, subdistricts, barriers


def _subdistrict_of_sites(district, subdistricts) -> np.ndarray:
    import shapely

    subdistricts = np.array(subdistricts.to_crs(district.metric_crs).geometry.array, dtype=object)
    site, subdistrict = shapely.STRtree(subdistricts).query(
        shapely.points(district.sites.xy), predicate="intersects"
    )
    out = np.full(len(district.sites.xy), -1)
    out[site[::-1]] = subdistrict[::-1]
    return out


def _score(district, labels: np.ndarray, subdistrict_of_site: np.ndarray) -> dict:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from geo.tessellation import dissolve
    from planning.engine.graph import region_is_connected
    from planning.engine.metrics import _barrier_crossings, polsby_popper

    sites = district.sites
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=sites.households, minlength=k)
    real = sizes > 0
    in_band = ((sizes >= 0.9 * TARGET) & (sizes <= 1.1 * TARGET))[real]
    connected = [region_is_connected(district.graph, labels, r) for r in np.flatnonzero(real)]
    ids, polys = dissolve(district.cells, labels)
    polys = np.asarray(polys, dtype=object)
    pp = polsby_popper(polys)
    multipart = int((shapely.get_num_geometries(polys) > 1).sum())
    subdistricts_per = pd.Series(subdistrict_of_site).groupby(labels).nunique()
    frame = gpd.GeoDataFrame(
        {"community_id": [str(i) for i in ids]}, geometry=list(polys), crs=district.metric_crs
    )
    crossings = _barrier_crossings(frame, district.major_barriers)
    comp = pd.DataFrame(
        {"c": pd.Series(sites.compound, dtype="object"), "l": labels, "h": sites.households}
    ).dropna()
    per = comp.groupby("c").agg(h=("h", "sum"), n=("l", "nunique"))
    return {
        "regions": int(real.sum()),
        "in_band": round(float(in_band.mean()), 3),
        "max": int(sizes.max()),
        "contiguous": round(float(np.mean(connected)), 3),
        "multipart": multipart,
        "pp_mean": round(float(pp[real[ids]].mean()), 3),
        "crossing_streets": int((subdistricts_per > 1).sum()),
        "crossing_barriers": len({c["community_id"] for c in crossings}),
        "compounds_split": int(((per["n"] > 1) & (per["h"] <= 1.1 * TARGET)).sum()),
    }


def _ours(district, k: int):
    from planning.engine.propose import plan_communities
    from planning.params import ProposeParams

    community, _ = plan_communities(district, ProposeParams())
    return community


def _kmeans(district, k: int):
    from sklearn.cluster import KMeans

    sites = district.sites
    model = KMeans(n_clusters=k, n_init=3, random_state=0)
    return model.fit_predict(sites.xy, sample_weight=np.maximum(sites.households, 1e-3))


def _metis(district, k: int):
    import pymetis

    graph = district.graph
    weights = np.maximum(np.round(district.sites.households).astype(int), 0)
    # METIS refuses contiguous=True on a graph in several pieces (clusters of households far
    # apart); then it runs without, which is what a user of it would have to do
    contiguous = graph.components()[0] == 1
    part = pymetis.part_graph(
        k,
        xadj=graph.indptr.tolist(),
        adjncy=graph.indices.tolist(),
        vweights=weights.tolist(),
        recursive=False,
        contiguous=contiguous,
    )
    return np.asarray(part[1])


def _weights(district):
    from libpysal.weights import W

    graph = district.graph
    neighbours = {
        i: graph.indices[graph.indptr[i] : graph.indptr[i + 1]].tolist() for i in range(graph.n)
    }
    return W(neighbours, silence_warnings=True)


def _frame(district):
    import geopandas as gpd

    sites = district.sites
    return gpd.GeoDataFrame(
        {"households": sites.households, "x": sites.xy[:, 0], "y": sites.xy[:, 1]},
        geometry=list(district.cells),
        crs=district.metric_crs,
    )


def _maxp(district, k: int):
    from spopt.region import MaxPHeuristic

    model = MaxPHeuristic(
        _frame(district), _weights(district), ["x", "y"], "households", TARGET, top_n=2
    )
    model.solve()
    return np.asarray(model.labels_) - np.min(model.labels_)


def _region_kmeans(district, k: int):
    from spopt.region import RegionKMeansHeuristic

    model = RegionKMeansHeuristic(district.sites.xy, k, _weights(district))
    model.solve()
    return np.asarray(model.labels_)


def _kmeans_constrained(district, k: int):
    """One point per household, as the tool counts points (not households)."""
    from k_means_constrained import KMeansConstrained

    sites = district.sites
    counts = np.round(sites.households).astype(int)
    points = np.repeat(sites.xy, counts, axis=0)
    owner = np.repeat(np.arange(len(counts)), counts)
    size = len(points) / k
    model = KMeansConstrained(
        n_clusters=k,
        size_min=int(0.9 * size),
        size_max=int(1.1 * size) + 1,
        random_state=0,
        n_init=1,
    )
    per_point = model.fit_predict(points)
    # a building goes where most of its households went (a tool that splits buildings)
    labels = np.zeros(len(counts), dtype=np.int64)
    np.lexsort((per_point, owner))
    for site in np.unique(owner):
        votes = per_point[owner == site]
        labels[site] = np.bincount(votes).argmax()
    labels[counts == 0] = 0
    return labels


METHODS = {
    "ours, nested in 街道": _ours,
    "ours, no 街道": _ours,
    "scikit-learn k-means": _kmeans,
    "METIS (pymetis)": _metis,
    "spopt MaxPHeuristic": _maxp,
    "spopt RegionKMeans": _region_kmeans,
    "k-means-constrained": _kmeans_constrained,
}


def _run(name: str, households: int, queue) -> None:
    try:
        # only our engine knows 街道: every other method gets the same district without them
        district, subdistricts, _ = _district(
            households, with_subdistricts=name.endswith("nested in 街道")
        )
        k = max(1, round(district.sites.households.sum() / TARGET))
        start = time.perf_counter()
        labels = METHODS[name](district, k)
        solve_s = time.perf_counter() - start
        subdistrict_of_site = _subdistrict_of_sites(district, subdistricts)
        result = {"solve_s": round(solve_s, 2), **_score(district, labels, subdistrict_of_site)}
    except ImportError as exc:
        result = {"error": f"not installed: {exc.name} (pip install -r requirements-bench.txt)"}
    except Exception as exc:  # a peer failing is a result to print, not a crash
        result = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    queue.put(result)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [20_000, 80_000]
    context = mp.get_context("spawn")
    for households in sizes:
        print(
            f"\n{households:,} households (k = round(households / 2,500)); limit "
            f"{TIME_LIMIT_S} s per method",
            flush=True,
        )
        header = (
            f"{'method':<24}{'solve s':>9}{'±10%':>7}{'max':>7}{'contig':>8}{'PP':>7}"
            f"{'x-street':>10}{'x-barrier':>11}{'cmp-split':>11}"
        )
        print(header)
        for name in METHODS:
            if name == "k-means-constrained" and households > 100_000:
                print(f"{name:<24}  skipped (one point per household: too large)")
                continue
            queue = context.Queue()
            proc = context.Process(target=_run, args=(name, households, queue))
            proc.start()
            proc.join(TIME_LIMIT_S + 120)
            if proc.is_alive():
                proc.terminate()
                print(f"{name:<24}  did not finish within {TIME_LIMIT_S} s")
                continue
            r = queue.get() if not queue.empty() else {"error": "no result"}
            if "error" in r:
                print(f"{name:<24}  {r['error']}")
                continue
            print(
                f"{name:<24}{r['solve_s']:>9.2f}{r['in_band']:>7.0%}{r['max']:>7,}"
                f"{r['contiguous']:>8.0%}{r['pp_mean']:>7.2f}{r['crossing_streets']:>10}"
                f"{r['crossing_barriers']:>11}{r['compounds_split']:>11}"
                + (
                    "  (over the limit: the join allows 120 s for loading)"
                    if r["solve_s"] > TIME_LIMIT_S
                    else ""
                ),
                flush=True,
            )
            print("    " + json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
