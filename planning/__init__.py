"""The domain: what the app (and any other caller) needs, in one place.

The engine proposes communities and grids (:func:`propose`); a :class:`Plan` labels the
sites with them and is edited through a :class:`Scenario`; :func:`rebalance` redraws today's
communities and :func:`compare_plans` sets two plans side by side; the standards check
facility area, staff and funds (:func:`check_compliance`); projects keep scenarios in one
GeoPackage; ``run_*`` read files, compute and write a plan folder. Deeper modules remain
importable; this is the surface the app is written against.
"""

from planning.engine.propose import Proposal, propose
from planning.params import RANGES, ProposeParams
from planning.plans.compare import Comparison, PlanLayers, compare_plans
from planning.plans.folder import write_plan
from planning.plans.plan import (
    Plan,
    PlanCheck,
    audit_table,
    band_status,
    building_frame,
    check_plan,
    community_frame,
    grid_frame,
    plan_from_proposal,
)
from planning.plans.project import (
    ScenarioConflictError,
    ScenarioInfo,
    create_project,
    list_scenarios,
    load_district,
    load_plan,
    open_scenario,
    save_scenario,
)
from planning.plans.rebalance import (
    Rebalance,
    RebalanceError,
    RebalanceReport,
    locate_in_polygons,
    rebalance,
)
from planning.plans.scenario import (
    Edit,
    EditRefused,
    EditResult,
    Lock,
    MergeCommunities,
    MoveBuildings,
    MoveCompound,
    MoveInPolygon,
    MovePreview,
    Regrid,
    Rename,
    Reoptimise,
    Scenario,
    SplitCommunity,
    Unlock,
    bordering_communities,
    compound_rows,
    preview_move,
)
from planning.records import Infeasible
from planning.render import PAPERS, RenderedMap, plan_map_layers, render_map
from planning.runs import ProposeRun, run_check, run_compare, run_propose, run_rebalance, summarise
from planning.standards.compliance import ComplianceResult, check_compliance
from planning.standards.report import write_compliance
from planning.standards.rules import PRESET_DIR, Standard, list_presets, load_standard

__all__ = [
    "PAPERS",
    "PRESET_DIR",
    "RANGES",
    "Comparison",
    "ComplianceResult",
    "Edit",
    "EditRefused",
    "EditResult",
    "Infeasible",
    "Lock",
    "MergeCommunities",
    "MoveBuildings",
    "MoveCompound",
    "MoveInPolygon",
    "MovePreview",
    "Plan",
    "PlanCheck",
    "PlanLayers",
    "Proposal",
    "ProposeParams",
    "ProposeRun",
    "Rebalance",
    "RebalanceError",
    "RebalanceReport",
    "Regrid",
    "Rename",
    "RenderedMap",
    "Reoptimise",
    "Scenario",
    "ScenarioConflictError",
    "ScenarioInfo",
    "SplitCommunity",
    "Standard",
    "Unlock",
    "audit_table",
    "band_status",
    "bordering_communities",
    "building_frame",
    "check_compliance",
    "check_plan",
    "community_frame",
    "compare_plans",
    "compound_rows",
    "create_project",
    "grid_frame",
    "list_presets",
    "list_scenarios",
    "load_district",
    "load_plan",
    "load_standard",
    "locate_in_polygons",
    "open_scenario",
    "plan_from_proposal",
    "plan_map_layers",
    "preview_move",
    "propose",
    "rebalance",
    "render_map",
    "run_check",
    "run_compare",
    "run_propose",
    "run_rebalance",
    "save_scenario",
    "summarise",
    "write_compliance",
    "write_plan",
]
