"""The GeoPackage project file: layers, scenarios, atomic saves (with real kills) and
conflicts between sessions, on the lattice district of test_plan (5 communities W1–W3, E1,
E2 of 400–600 households, 48 buildings)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from test_plan import PARAMS, base_plan, lattice_buildings, lattice_crs, lattice_subdistricts

from geo.errors import InputFormatError, ScenarioEditError
from planning.plans.plan import audit_table
from planning.plans.project import (
    ScenarioConflictError,
    create_project,
    delete_scenario,
    list_scenarios,
    load_district,
    load_plan,
    open_scenario,
    rename_scenario,
    save_scenario,
    save_scenario_layers,
)
from planning.plans.scenario import Lock, MoveCompound, Scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "海曙.gpkg"
    create_project(
        path,
        buildings=lattice_buildings(),
        metric_crs=lattice_crs(),
        subdistricts=lattice_subdistricts(),
    )
    return path


def edited_plan():
    s = Scenario(base_plan(), params=PARAMS)
    s = s.push(MoveCompound("桂园", "W1"), author="王工", time="2026-03-01T09:00:00+00:00")
    s = s.push(Lock(("E2",)), author="王工", time="2026-03-01T09:05:00+00:00")
    return s.evaluate()


def test_a_new_project_holds_the_layers_and_opens_as_a_geopackage(project):
    layers = {str(name): kind for name, kind in pyogrio.list_layers(project)}
    assert layers["households"] == "Point" and layers["streets"] == "Polygon"
    assert "scenarios" in layers and "project" in layers
    con = sqlite3.connect(project)
    try:
        (app_id,) = con.execute("PRAGMA application_id").fetchone()
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    finally:
        con.close()
    assert app_id == 0x47504B47  # "GPKG"
    assert contents["scenarios"] == "attributes" and contents["households"] == "features"
    assert list_scenarios(project).empty
    with pytest.raises(InputFormatError, match="the project file exists"):
        create_project(project, buildings=lattice_buildings(), metric_crs=lattice_crs())


def test_save_open_and_load_a_scenario(project):
    plan = edited_plan()
    info = save_scenario(project, "方案一", plan, author="王工", base="proposal", params=PARAMS)
    assert (info.revision, info.author, info.base) == (1, "王工", "proposal")
    layers = {str(name) for name, _ in pyogrio.list_layers(project)}
    assert {"方案一__communities", "方案一__grids", "方案一__assignment", "方案一__log"} <= layers
    stored = open_scenario(project, "方案一")
    assert stored.info.revision == 1 and stored.info.params["community_size"] == 600
    assert stored.communities.crs.to_epsg() == 4326
    assert stored.communities["community_id"].tolist() == list(plan.community_ids)
    assert len(stored.assignment) == 48
    assert stored.log["what"].tolist() == ["move compound 桂园 to W1", "lock E2"]
    loaded = load_plan(project, "方案一", district=plan.district)
    assert np.array_equal(loaded.site_community, plan.site_community)
    assert np.array_equal(loaded.site_grid, plan.site_grid)
    assert loaded.community_ids == plan.community_ids and loaded.grid_ids == plan.grid_ids
    assert loaded.community_names == plan.community_names
    assert loaded.locked == plan.locked and loaded.log == plan.log
    for a, b in zip(loaded.community_polygons(), plan.community_polygons(), strict=True):
        assert shapely.area(shapely.symmetric_difference(a, b)) < 1.0  # m², WGS84 round trip
    assert audit_table(loaded).equals(audit_table(plan))


def test_invalid_polygons_are_stored_valid(project):
    """A bow-tie community and a grid with a zero-width spike (as a drawing may leave)::

        bow-tie  ┌─┐        spike  ┌────┐
                  ╳                │    ├────── (out and back along one line)
                 └─┘               └────┘

    are repaired as the exports repair them (their area kept) before they are stored."""
    bow_tie = shapely.Polygon([(121.50, 29.90), (121.51, 29.91), (121.51, 29.90), (121.50, 29.91)])
    spike = shapely.Polygon(
        [
            (121.50, 29.90),
            (121.51, 29.90),
            (121.51, 29.905),
            (121.52, 29.905),
            (121.51, 29.905),
            (121.51, 29.91),
            (121.50, 29.91),
        ]
    )
    assert not shapely.is_valid(bow_tie) and not shapely.is_valid(spike)
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["甲", "乙"]},
        geometry=[bow_tie, spike],
        crs="EPSG:4326",
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": ["C1-001", "C2-001"], "community_id": ["C1", "C2"]},
        geometry=[bow_tie, spike],
        crs="EPSG:4326",
    )
    save_scenario_layers(
        project,
        "repaired",
        communities=communities,
        grids=grids,
        assignment=pd.DataFrame(
            {
                "building_id": ["B1", "B2"],
                "community_id": ["C1", "C2"],
                "grid_id": ["C1-001", "C2-001"],
            }
        ),
        log=pd.DataFrame(columns=["time", "author", "what", "from", "to", "households_affected"]),
    )
    stored = open_scenario(project, "repaired")
    for frame in (stored.communities, stored.grids):
        assert frame.is_valid.all()
        assert frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        square = 0.01 * 0.01  # deg²: the bow-tie keeps its two triangles, the spike goes
        assert np.allclose(shapely.area(np.asarray(frame.geometry.array)), [square / 2, square])


def test_load_plan_rebuilds_the_district_from_the_project(project):
    plan = edited_plan()
    save_scenario(project, "draft", plan, author="a")
    district = load_district(project)
    assert np.allclose(district.sites.xy, plan.district.sites.xy, atol=1e-3)
    loaded = load_plan(project, "draft")
    assert np.array_equal(loaded.site_community, plan.site_community)


def test_list_rename_and_delete(project):
    save_scenario(project, "draft", base_plan(), author="amy")
    save_scenario(project, "draft-2", edited_plan(), author="ben", base="draft")
    table = list_scenarios(project)
    assert table["name"].tolist() == ["draft", "draft-2"]
    assert table.columns.tolist() == ["name", "base", "created", "modified", "author", "revision"]
    info = rename_scenario(project, "draft-2", "方案二", author="cat")
    assert (info.name, info.revision, info.base) == ("方案二", 2, "draft")
    assert "draft-2__communities" not in {str(n) for n, _ in pyogrio.list_layers(project)}
    assert open_scenario(project, "方案二").log["author"].tolist() == ["王工", "王工"]
    with pytest.raises(ScenarioEditError, match=r"rename 方案二 → draft: refused, draft exists"):
        rename_scenario(project, "方案二", "draft")
    delete_scenario(project, "draft")
    assert list_scenarios(project)["name"].tolist() == ["方案二"]
    assert not any(str(n).startswith("draft__") for n, _ in pyogrio.list_layers(project))
    with pytest.raises(ScenarioEditError, match=r"delete 'draft': no such scenario"):
        delete_scenario(project, "draft")
    con = sqlite3.connect(project)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        names = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    finally:
        con.close()
    assert not any(n.startswith("draft__") for n in names)


@pytest.mark.parametrize("name", ["", "a__b", "two words", "_x", "x" * 61, "a;b"])
def test_scenario_names_are_checked(project, name):
    with pytest.raises(ScenarioEditError, match="expected letters"):
        save_scenario(project, name, base_plan())


def test_missing_project_and_unknown_scenario(project, tmp_path):
    with pytest.raises(InputFormatError, match="no such project file"):
        list_scenarios(tmp_path / "none.gpkg")
    with pytest.raises(ScenarioEditError, match=r"scenario 'x': not in .*\(none saved yet\)"):
        open_scenario(project, "x")


def test_two_sessions_cannot_overwrite_each_other(project):
    save_scenario(project, "draft", base_plan(), author="amy")
    alice = open_scenario(project, "draft").info.revision
    bob = open_scenario(project, "draft").info.revision
    saved = save_scenario(project, "draft", edited_plan(), author="bob", expected_revision=bob)
    assert saved.revision == 2
    with pytest.raises(
        ScenarioConflictError,
        match=r"scenario draft was changed by bob at .+ since you opened it "
        r"\(revision 1→2\); reload or save under a new name",
    ):
        save_scenario(project, "draft", base_plan(), author="alice", expected_revision=alice)
    with pytest.raises(ScenarioConflictError, match=r"already exists .*pass expected_revision"):
        save_scenario(project, "draft", base_plan(), author="alice")
    with pytest.raises(ScenarioConflictError, match=r"revision 1→2"):
        delete_scenario(project, "draft", expected_revision=alice)
    assert save_scenario(project, "draft-alice", base_plan(), author="alice").revision == 1
    assert isinstance(ScenarioConflictError("x"), ScenarioEditError)


def test_simultaneous_saves_of_one_revision_let_exactly_one_through(project):
    save_scenario(project, "draft", base_plan(), author="amy")
    plans = {"amy": base_plan(), "ben": edited_plan()}

    def save(author):
        try:
            return save_scenario(
                project, "draft", plans[author], author=author, expected_revision=1
            ).revision
        except ScenarioConflictError:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(map(str, pool.map(save, ["amy", "ben"])))
    assert outcomes == ["2", "conflict"]


# ---------------------------------------------------------------------- kill during save

CHILD = r"""
import sys
import geopandas as gpd, numpy as np, pandas as pd, shapely
from planning.plans.project import save_scenario_layers

path, stage = sys.argv[1], sys.argv[2]
n_comm, n_grid, n_rows = 1500, 15000, 200_000
x = np.arange(n_grid) % 150 * 0.001 + 121.4
y = np.arange(n_grid) // 150 * 0.001 + 29.8
grids = gpd.GeoDataFrame({"grid_id": [f"G{i:05d}" for i in range(n_grid)],
                          "community_id": [f"C{i // 10:04d}" for i in range(n_grid)]},
                         geometry=shapely.box(x, y, x + 0.001, y + 0.001), crs="EPSG:4326")
communities = gpd.GeoDataFrame(
    {"community_id": [f"C{i:04d}" for i in range(n_comm)], "name": "大社区"},
    geometry=shapely.box(x[::10], y[::10], x[::10] + 0.01, y[::10] + 0.001), crs="EPSG:4326")
assignment = pd.DataFrame({"building_id": [f"B{i:06d}" for i in range(n_rows)],
                           "community_id": "C0001", "grid_id": "G00001"})
log = pd.DataFrame({"time": ["t"], "author": ["child"], "what": ["big"], "from": ["a"],
                    "to": ["b"], "households_affected": [n_rows]})

def progress(now):
    print(now, flush=True)
    if now == stage:
        sys.stdin.readline()  # hold here until the parent kills us

save_scenario_layers(path, "big", communities=communities, grids=grids,
                     assignment=assignment, log=log, author="child", expected_revision=1,
                     progress=progress)
print("done", flush=True)
"""


def _small_state(project: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["小"]},
        geometry=[shapely.box(121.5, 29.9, 121.51, 29.91)],
        crs="EPSG:4326",
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": ["C1-001"], "community_id": ["C1"]},
        geometry=[shapely.box(121.5, 29.9, 121.51, 29.91)],
        crs="EPSG:4326",
    )
    assignment = pd.DataFrame(
        {"building_id": ["B1", "B2"], "community_id": "C1", "grid_id": "C1-001"}
    )
    log = pd.DataFrame(columns=["time", "author", "what", "from", "to", "households_affected"])
    save_scenario_layers(
        project,
        "big",
        communities=frame,
        grids=grids,
        assignment=assignment,
        log=log,
        author="parent",
    )


def _assert_previous_state(project: Path) -> None:
    con = sqlite3.connect(project)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    table = list_scenarios(project)
    assert table.set_index("name").loc["big", "revision"] == 1
    stored = open_scenario(project, "big")
    assert stored.assignment["building_id"].tolist() == ["B1", "B2"]
    assert stored.communities["name"].tolist() == ["小"]
    assert len(gpd.read_file(project, layer="households")) == 48


def _kill_at(project: Path, stage: str, *, hold: bool) -> list[str]:
    """Run a big save in a child process and SIGKILL it when it reports ``stage`` (held
    there, or still running when ``hold`` is False)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(project), stage if hold else "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    seen = []
    try:
        for line in child.stdout:
            seen.append(line.strip())
            if seen[-1] == stage:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        child.stdout.close()
        child.stdin.close()
    assert child.returncode == -signal.SIGKILL, seen
    return seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stage", "hold"),
    [
        ("locked", True),  # holds the lock, nothing written yet
        ("copied", True),  # the copy exists beside the file
        ("communities", True),  # one layer written into the copy
        ("grids", True),  # both layers written, the tables not yet
        ("tables", True),  # the copy is complete but not yet synced
        ("synced", True),  # synced, just before os.replace
        ("copied", False),  # killed while writing layers (not held)
    ],
)
def test_a_save_killed_midway_leaves_the_previous_state(project, stage, hold):
    _small_state(project)
    seen = _kill_at(project, stage, hold=hold)
    assert "done" not in seen and "replaced" not in seen
    _assert_previous_state(project)
    # the killed process released its lock; the next save succeeds and sweeps its leftovers
    save_scenario_layers(
        project,
        "big",
        communities=open_scenario(project, "big").communities,
        grids=open_scenario(project, "big").grids,
        assignment=pd.DataFrame({"building_id": ["B1"], "community_id": "C1", "grid_id": "C1-001"}),
        log=pd.DataFrame(columns=["time", "author", "what", "from", "to", "households_affected"]),
        author="parent",
        expected_revision=1,
    )
    assert list_scenarios(project).set_index("name").loc["big", "revision"] == 2
    assert not list(project.parent.glob(f".{project.name}.*.saving.gpkg"))


@pytest.mark.slow
def test_an_unkilled_big_save_completes(project):
    _small_state(project)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project), "-"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "locked",
        "copied",
        "communities",
        "grids",
        "tables",
        "synced",
        "replaced",
        "done",
    ]
    stored = open_scenario(project, "big")
    assert stored.info.revision == 2 and len(stored.assignment) == 200_000
    assert len(stored.grids) == 15_000
