"""How compact can communities be while compounds stay whole? A bound for the PP target.

Usage::

    .venv/bin/python benchmarks/compactness_bound.py                 # sample and Haidian
    .venv/bin/python benchmarks/compactness_bound.py --steps 300000 --seeds 6

Issue #3 asks for a mean Polsby-Popper (PP) of communities of at least 0.6, and ranks
keeping compounds whole and following barriers above compactness. This script measures
what that ordering allows. For the built-in sample district (80,000 households, with 街道
and barriers) and for ``../shared/data/beijing_haidian`` (roads and the river as barriers,
compounds from the OSM polygons) it prints the mean PP of the communities **as drawn**
(land placed, borders smoothed: what ``communities.geojson`` holds) for:

- ``engine``: the community stage of ``propose`` (seed 0);
- ``best seed``: per 街道, the most compact of ``--seeds`` seeds;
- ``anneal``: simulated annealing on the engine's own units (compounds whole, 街道 kept,
  every region connected, no community leaving the band it was in), maximising PP alone
  with barriers ignored, started from the engine's result; per 街道 the most compact of
  ``--runs`` runs and the engine's own. A practical ceiling of compactness under
  "compounds whole";
- ``no rules``: the engine on the same households with no compound names and no barrier
  layer, i.e. what those two rules cost.

PP is measured the same way in every column, so the columns compare; ``anneal`` is a
search, not a proof, but a long one (``--steps`` moves per 街道 part).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HAIDIAN = REPO.parent / "shared" / "data" / "beijing_haidian"
PP_TARGET = 0.6


def _district(
    households, *, crs: str, subdistricts=None, barriers=(), compounds=None, rules: bool = True
):
    """The prepared district, read as ``propose`` reads it; without ``rules``, with no
    compound names and no barrier layer."""
    from planning.engine.district import prepare_district
    from planning.runs import read_layers

    layers = read_layers(
        households,
        crs=crs,
        subdistricts_path=subdistricts,
        barriers_path=list(barriers) if rules else None,
        compounds_path=compounds if rules else None,
    )
    buildings = layers.buildings if rules else layers.buildings.assign(compound=None)
    return prepare_district(
        buildings,
        metric_crs=layers.households.metric_crs,
        subdistricts=layers.subdistricts,
        barriers=layers.barriers,
    )


def _sample_district(*, rules: bool = True):
    from samples.district import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_sample(Path(tmp), seed=0)
        return _district(
            paths["households"],
            crs="gcj02",
            subdistricts=paths["streets"],
            barriers=[paths["barriers"]],
            rules=rules,
        )


def _haidian_district(*, rules: bool = True):
    return _district(
        HAIDIAN / "households.geojson",
        crs="wgs84",
        barriers=[HAIDIAN / "roads.geojson", HAIDIAN / "water.geojson"],
        compounds=HAIDIAN / "compounds.geojson",
        rules=rules,
    )


def _drawn_pp(district, community: np.ndarray) -> np.ndarray:
    """PP of each community as ``propose`` draws it (land placed, smoothed)."""
    from planning.engine.boundaries import boundaries
    from planning.engine.metrics import polsby_popper
    from planning.params import ProposeParams

    _, polygons, _ = boundaries(district, community, community, smooth_m=ProposeParams().smooth_m)
    return polsby_popper(polygons)


def _communities(district, seed: int) -> np.ndarray:
    from planning.engine.propose import plan_communities
    from planning.params import ProposeParams

    return plan_communities(district, ProposeParams(seed=seed))[0]


def _most_compact_per_subdistrict(district, plans: list[np.ndarray]) -> np.ndarray:
    """Per 街道, the communities of whichever plan draws them most compactly there."""
    best = np.zeros(len(district.sites.xy), dtype=np.int64)
    best_pp: dict[int, float] = {}
    for number, community in enumerate(plans):
        pp = _drawn_pp(district, community)
        subdistrict_of = np.zeros(len(pp), dtype=np.int64)
        subdistrict_of[community] = district.sites.subdistrict
        for z in np.unique(subdistrict_of).tolist():
            mean = float(pp[subdistrict_of == z].mean())
            if mean > best_pp.get(z, -1.0):
                best_pp[z] = mean
                in_subdistrict = district.sites.subdistrict == z
                best[in_subdistrict] = (
                    community[in_subdistrict] + number * 1_000_000
                )  # apart from others
    return np.unique(best, return_inverse=True)[1].ravel()


def _anneal(graph, weights, area, perimeter, labels, *, lower, upper, steps, seed):
    """Single-unit moves accepted by the Metropolis rule on the sum of PP (on the units'
    cells); a move must keep the donor connected and may not take a region out of the band
    (a region already out may not move further out). Returns the best labels seen."""
    from planning.engine.graph import region_is_connected
    from planning.engine.regions import region_shapes as _region_shapes
    from planning.engine.shape import pp as _pp

    labels = labels.copy()
    k = int(labels.max()) + 1
    rng = random.Random(seed)
    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    reg_area, reg_perimeter, _ = _region_shapes(graph, labels, area, perimeter, k)
    sizes = np.bincount(labels, weights=weights, minlength=k)

    def beyond(size):
        return max(size - upper, 0.0) + max(lower - size, 0.0)

    current = float(_pp(reg_area, reg_perimeter).sum())
    best, best_labels = current, labels.copy()
    for step in range(steps):
        temperature = 0.02 * (1 - step / steps) + 1e-5
        e = rng.randrange(len(src))
        u, v = int(src[e]), int(graph.indices[e])
        a, b = int(labels[u]), int(labels[v])
        if a == b:
            continue
        w = weights[u]
        if beyond(sizes[a] - w) > beyond(sizes[a]) or beyond(sizes[b] + w) > beyond(sizes[b]):
            continue
        lo, hi = graph.indptr[u], graph.indptr[u + 1]
        around = labels[graph.indices[lo:hi]]
        shared = graph.shared[lo:hi]
        new_area = reg_area[[a, b]] + np.array([-area[u], area[u]])
        new_perimeter = reg_perimeter[[a, b]] + np.array(
            [
                -perimeter[u] + 2 * shared[around == a].sum(),
                perimeter[u] - 2 * shared[around == b].sum(),
            ]
        )
        delta = float(
            _pp(new_area, new_perimeter).sum() - _pp(reg_area[[a, b]], reg_perimeter[[a, b]]).sum()
        )
        if delta < 0 and rng.random() > math.exp(delta / temperature):
            continue
        if not region_is_connected(graph, labels, a, without=u):
            continue
        labels[u] = b
        reg_area[[a, b]], reg_perimeter[[a, b]] = new_area, new_perimeter
        sizes[a] -= w
        sizes[b] += w
        current += delta
        if current > best + 1e-12:
            best, best_labels = current, labels.copy()
    return best_labels


def _annealed(district, community: np.ndarray, steps: int, seed: int) -> np.ndarray:
    """The engine's communities, annealed for compactness per connected part of a 街道, on the
    same units the engine partitions (compounds that fit the band are one unit)."""
    from planning.engine.partition import effective_band
    from planning.engine.units import Units
    from planning.engine.units import atoms as _atoms
    from planning.engine.units import contract as _contract
    from planning.params import ProposeParams

    lower, upper = ProposeParams().community_band
    out = community.copy()
    for z in range(len(district.subdistrict_geoms)):
        subdistrict_sites = np.flatnonzero(district.sites.subdistrict == z)
        if not len(subdistrict_sites):
            continue
        for part in district.components(subdistrict_sites):
            regions, local = np.unique(community[part], return_inverse=True)
            if len(regions) < 2:
                continue
            sub = district.graph.subgraph(part)
            weights = district.sites.households[part]
            atom = _atoms(
                part, sub, district.sites.compound, weights, upper, xy=district.sites.xy[part]
            )
            units = _contract(
                Units(
                    sub,
                    district.sites.xy[part],
                    weights,
                    district.cell_area[part],
                    district.cell_perimeter[part],
                ),
                atom,
            )
            graph, unit_weights = units.graph, units.weights
            unit_area, unit_perimeter = units.area, units.perimeter
            unit_labels = np.zeros(graph.n, dtype=np.int64)
            unit_labels[atom] = local.ravel()
            lo, hi = effective_band(float(unit_weights.sum()), len(regions), lower, upper)
            unit_labels = _anneal(
                graph,
                unit_weights,
                unit_area,
                unit_perimeter,
                unit_labels,
                lower=lo,
                upper=hi,
                steps=steps,
                seed=seed * 1000 + z,
            )
            out[part] = regions[unit_labels[atom]]
    return out


def _in_band(district, community: np.ndarray) -> float:
    from planning.params import ProposeParams

    lower, upper = ProposeParams().community_band
    sizes = np.bincount(community, weights=district.sites.households)
    return float(((sizes >= lower) & (sizes <= upper)).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=300_000, help="annealing moves per 街道 part (default 300,000)"
    )
    parser.add_argument("--seeds", type=int, default=6, help="seeds for 'best seed' (default 6)")
    parser.add_argument(
        "--runs",
        type=int,
        default=4,
        help="annealing runs; per 街道 the most compact is kept (default 4)",
    )
    parser.add_argument(
        "datasets", nargs="*", default=["sample", "haidian"], help="sample, haidian (default both)"
    )
    args = parser.parse_args(argv)
    datasets = [("sample (80k)", _sample_district)] if "sample" in args.datasets else []
    if "haidian" not in args.datasets:
        pass
    elif HAIDIAN.exists():
        datasets.append(("haidian", _haidian_district))
    else:
        print(f"(no {HAIDIAN}: Haidian skipped)")
    print(f"mean Polsby-Popper of communities as drawn; target {PP_TARGET}")
    print(
        f"{'dataset':<14}{'engine':>8}{'best seed':>11}{'anneal':>8}{'no rules':>10}"
        f"   (share in band: engine / anneal / no rules)   time"
    )
    for name, load in datasets:
        clock = time.perf_counter()
        district = load()
        engine = _communities(district, 0)
        plans = {
            "engine": engine,
            "best seed": _most_compact_per_subdistrict(
                district, [engine] + [_communities(district, seed) for seed in range(1, args.seeds)]
            ),
            "anneal": _most_compact_per_subdistrict(
                district,
                [engine]
                + [_annealed(district, engine, args.steps, run) for run in range(args.runs)],
            ),
        }
        pp = {key: float(_drawn_pp(district, labels).mean()) for key, labels in plans.items()}
        free = load(rules=False)  # no compound names, no barrier layer
        plans["no rules"] = _communities(free, 0)
        pp["no rules"] = float(_drawn_pp(free, plans["no rules"]).mean())
        bands = " / ".join(
            f"{_in_band(d, plans[key]):.0%}"
            for d, key in ((district, "engine"), (district, "anneal"), (free, "no rules"))
        )
        print(
            f"{name:<14}{pp['engine']:>8.3f}{pp['best seed']:>11.3f}{pp['anneal']:>8.3f}"
            f"{pp['no rules']:>10.3f}   ({bands})   {time.perf_counter() - clock:.0f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
