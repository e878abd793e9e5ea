"""The ``check`` command's library half: read an existing plan's layers, check, write the report.

:func:`run_check` reads communities, households and facilities with the intake readers (every
layer in the one declared CRS), checks them with :func:`planning.standards.compliance.check_compliance`
in the households' metric CRS, and writes ``compliance.csv``, ``compliance.geojson`` and
``report.html`` with :func:`planning.standards.report.write_compliance`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from geo.intake import read_households
from geo.layers import read_communities, read_facilities
from planning.standards.compliance import ComplianceResult, check_compliance
from planning.standards.report import write_compliance
from planning.standards.rules import Standard, load_standard

__all__ = ["run_check"]


def run_check(
    communities_path: str | Path,
    households_path: str | Path,
    *,
    crs: str | int,
    facilities_path: str | Path | None,
    standard: str | Path | Standard,
    out_dir: str | Path,
    id_column: str | None = None,
    grids_per_community: Mapping[object, int] | None = None,
    year: int | None = None,
    facility_types: Collection[str] | None = None,
) -> ComplianceResult:
    """Check an existing plan against a standard and write the three report files.

    Parameters
    ----------
    communities_path, households_path, facilities_path
        The layers, in any format the intake readers accept; ``facilities_path`` None checks
        against no facilities at all (every community falls short).
    crs
        The declared CRS of every input layer ("wgs84", "gcj02", "bd09", "cgcs2000", an EPSG
        code), as in ``propose``.
    standard
        A preset name (``planning.standards.rules.list_presets()``), a TOML path, or a Standard.
    out_dir
        Where ``compliance.csv``, ``compliance.geojson`` and ``report.html`` go.
    id_column
        The communities' id column when the aliases do not find it; the report keeps these ids.
    grids_per_community
        Grids per community id, for per-grid area extras (estimated when None).
    year
        The year funds are computed for (yearly growth); None: the rule's base amount.
    facility_types
        Only facilities of these types count (None: all), as in ``check_compliance``.

    Raises
    ------
    StandardsError, ValidationError, CRSError, InputFormatError
        From loading the standard or reading the layers (every problem of a file at once).
    """
    rules = load_standard(standard)
    columns = {"community_id": id_column} if id_column else None
    communities = read_communities(communities_path, crs=crs, columns=columns).frame
    households = read_households(households_path, crs=crs)
    facilities = (
        None
        if facilities_path is None
        else read_facilities(facilities_path, crs=crs, require_area=True).frame
    )
    result = check_compliance(
        communities,
        households.buildings,
        facilities,
        standard=rules,
        metric_crs=households.metric_crs,
        id_column="community_id",
        grids_per_community=grids_per_community,
        year=year,
        facility_types=facility_types,
    )
    write_compliance(result, out_dir, standard=rules)
    return result
