"""Scenario edits and project saves on the 80,000-household sample district.

Usage::

    .venv/bin/python benchmarks/edits.py            # the built-in sample, 80,000 households
    .venv/bin/python benchmarks/edits.py 200000     # another size

For each edit type: the time to apply it and re-check the hard rules (the target is under
0.5 s), then the time to derive its polygons (only the 街道 it touched are re-dissolved), the
households it affected; then undo / redo, and saving scenarios into a project GeoPackage (the
target is under 2 s).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _pick(plan, params):
    """Targets for every edit type: an adjacent pair of communities in one 街道, a border
    building whose move keeps the donor in one piece, a compound on a border, …"""
    from planning.engine.graph import region_is_connected

    d = plan.district
    g = d.graph
    src = np.repeat(np.arange(g.n), np.diff(g.indptr))
    lab = plan.site_community
    cross = lab[src] != lab[g.indices]
    pairs = sorted(
        {(int(a), int(b)) for a, b in zip(lab[src[cross]], lab[g.indices[cross]], strict=True)},
        key=lambda p: plan.community_households[list(p)].sum(),
    )
    a, b = pairs[0]
    border = np.unique(src[(lab[src] == b) & (lab[g.indices] == a)])
    site = next(int(s) for s in border if region_is_connected(g, lab, b, without=int(s)))
    bids = d.buildings["building_id"].astype(str).to_numpy()
    building = bids[np.flatnonzero(d.sites.of_building == site)[0]]
    point = d.buildings.geometry.to_numpy()[np.flatnonzero(d.sites.of_building == site)[0]]
    compounds = [
        d.sites.compound[s]
        for s in border
        if d.sites.compound[s] is not None and region_is_connected(g, lab, b, without=int(s))
    ]
    return {
        "a": plan.community_ids[a],
        "b": plan.community_ids[b],
        "largest": plan.community_ids[int(np.argmax(plan.community_households))],
        "building": building,
        "polygon": shapely.buffer(point, 0.0003).wkt,
        "compounds": list(dict.fromkeys(compounds)),
    }


def _proposed_sample(folder: Path, households: int, params):
    """The sample district written to ``folder``, read and proposed: (data, layers, plan)."""
    from geo.intake import read_households
    from geo.layers import read_barriers, read_facilities, read_subdistricts
    from planning.engine.propose import propose
    from planning.plans.plan import check_plan, plan_from_proposal
    from samples.district import write_sample

    paths = write_sample(folder, households=households, seed=0)
    data = read_households(paths["households"], crs="gcj02")
    layers = {
        "subdistricts": read_subdistricts(paths["streets"], crs="gcj02").frame,
        "barriers": read_barriers(paths["barriers"], crs="gcj02").frame,
        "facilities": read_facilities(paths["facilities"], crs="gcj02").frame,
    }
    start = time.perf_counter()
    proposal = propose(
        data.buildings,
        metric_crs=data.metric_crs,
        subdistricts=layers["subdistricts"],
        barriers=layers["barriers"],
        params=params,
    )
    propose_s = time.perf_counter() - start
    plan = plan_from_proposal(proposal, smooth_m=params.smooth_m)
    start = time.perf_counter()
    check_plan(plan, params)
    check_s = time.perf_counter() - start
    print(
        f"sample: {int(data.buildings['households'].sum()):,} households, "
        f"{len(data.buildings):,} buildings, {len(plan.district.sites.xy):,} sites, "
        f"{plan.n_communities} communities, {plan.n_grids} grids "
        f"(propose {propose_s:.1f} s; check_plan {check_s * 1000:.1f} ms)"
    )
    return data, layers, plan


def _edits(plan, targets: dict, params) -> list:
    """(label, edit) for every edit type; None where the edit applies to a locked plan."""
    from geo.errors import ScenarioEditError
    from planning.plans.scenario import (
        Lock,
        MergeCommunities,
        MoveBuildings,
        MoveCompound,
        MoveInPolygon,
        Regrid,
        Rename,
        SplitCommunity,
        apply_edit,
    )

    t = targets
    edits = [
        ("split", SplitCommunity(t["largest"], 2)),
        ("merge", MergeCommunities(t["a"], t["b"])),
        ("move buildings", MoveBuildings((t["building"],), t["a"])),
        ("move in polygon", MoveInPolygon(t["polygon"], t["a"])),
        ("lock", Lock((t["a"], t["b"]))),
        ("rename", Rename(t["a"], name="新名社区", new_id="330203099001")),
        ("regrid", Regrid(t["b"], seed=1)),
        ("re-optimise (2 locked)", None),
        ("unlock", None),
    ]
    for name in t["compounds"]:
        try:
            apply_edit(plan, MoveCompound(name, t["a"]), params=params)
        except ScenarioEditError:
            continue
        edits.insert(3, ("move compound", MoveCompound(name, t["a"])))
        break
    return edits


def _time_edits(plan, targets: dict, params) -> None:
    """Apply each edit type once: apply + check, then the polygons, and the households moved."""
    from planning.plans.plan import plan_frames
    from planning.plans.scenario import Lock, Reoptimise, Unlock, apply_edit

    t = targets
    print(f"\n{'edit':<26}{'apply+check s':>14}{'polygons s':>12}{'households':>12}")
    worst = 0.0
    locked_plan = apply_edit(plan, Lock((t["a"], t["b"])), params=params).plan
    for label, edit in _edits(plan, targets, params):
        base = plan
        if label.startswith("re-optimise"):
            base, edit = locked_plan, Reoptimise()
        elif label == "unlock":
            base, edit = locked_plan, Unlock((t["a"],))
        start = time.perf_counter()
        result = apply_edit(base, edit, params=params)
        apply_s = time.perf_counter() - start
        start = time.perf_counter()
        plan_frames(result.plan)
        polygons_s = time.perf_counter() - start
        worst = max(worst, apply_s)
        print(f"{label:<26}{apply_s:>14.3f}{polygons_s:>12.3f}{result.households_affected:>12,}")
    print(f"slowest edit {worst:.3f} s (target < 0.5 s)")


def _time_history(plan, targets: dict, params):
    """Four edits, undone and redone, then re-optimised (all, and one 街道); the edited plan."""
    from planning.plans.scenario import (
        Lock,
        MoveBuildings,
        Regrid,
        Reoptimise,
        Scenario,
        SplitCommunity,
        apply_edit,
    )

    t = targets
    scenario = Scenario(plan, params=params)
    chain = [
        SplitCommunity(t["largest"], 2),
        MoveBuildings((t["building"],), t["a"]),
        Regrid(t["b"], seed=2),
        Lock((t["a"],)),
    ]
    for edit in chain:
        scenario = scenario.push(edit, author="bench")
    start = time.perf_counter()
    back = scenario.undo(4)
    back.evaluate()
    again = back.redo(4)
    again.evaluate()
    print(f"undo 4 + redo 4: {(time.perf_counter() - start) * 1000:.2f} ms (memoised)")
    edited = again.evaluate()
    start = time.perf_counter()
    result = apply_edit(edited, Reoptimise(), params=params)
    reopt_s = time.perf_counter() - start
    print(
        f"re-optimise after those 4 edits: {reopt_s:.3f} s, "
        f"{result.households_affected:,} households affected, grids redrawn in "
        f"{len(result.grids_redrawn)} communities"
    )
    community = edited.label_of(t["a"])
    street = edited.district.subdistrict_label[int(edited.community_subdistrict[community])]
    start = time.perf_counter()
    result = apply_edit(edited, Reoptimise(subdistricts=(street,)), params=params)
    print(
        f"re-optimise one 街道 ({street}) after them: {time.perf_counter() - start:.3f} s, "
        f"{result.households_affected:,} households affected"
    )
    return edited


def _time_project(project: Path, data, layers: dict, *, plan, edited, params) -> None:
    """Create a project GeoPackage, save two scenarios and overwrite one."""
    from planning.plans.project import create_project, save_scenario

    start = time.perf_counter()
    create_project(project, buildings=data.buildings, metric_crs=data.metric_crs, **layers)
    create_s = time.perf_counter() - start
    start = time.perf_counter()
    info = save_scenario(project, "proposal", plan, author="bench", params=params)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    save_scenario(project, "draft", edited, author="bench", base="proposal", params=params)
    second_s = time.perf_counter() - start
    start = time.perf_counter()
    save_scenario(
        project,
        "proposal",
        edited,
        author="bench",
        expected_revision=info.revision,
        params=params,
    )
    over_s = time.perf_counter() - start
    size_mb = project.stat().st_size / 1e6
    print(
        f"\nproject: create {create_s:.2f} s; save a scenario {first_s:.2f} s, another "
        f"{second_s:.2f} s, overwrite one {over_s:.2f} s (target < 2 s); file "
        f"{size_mb:.1f} MB"
    )


def main(households: int = 80_000) -> None:
    from planning.params import ProposeParams

    params = ProposeParams()
    with tempfile.TemporaryDirectory() as tmp:
        data, layers, plan = _proposed_sample(Path(tmp) / "in", households, params)
        targets = _pick(plan, params)
        _time_edits(plan, targets, params)
        edited = _time_history(plan, targets, params)
        _time_project(
            Path(tmp) / "project.gpkg", data, layers, plan=plan, edited=edited, params=params
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 80_000)
