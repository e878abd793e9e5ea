"""Household intake: read household points as planners have them, validate, aggregate.

A household file has one row per household or one row per building (with a household count),
in any format :func:`geo.tables.read_table` reads, with columns found by Chinese or English
aliases. Every problem is collected and reported at once; errors refuse the file, warnings let
it through. Rows are aggregated into buildings (same building id, else same coordinates): a
building is the indivisible unit of every plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.columns import cell_text, resolve_columns
from geo.crs import SourceCRS, in_china, metric_crs_for, parse_crs, to_wgs84_xy
from geo.errors import CRSError, Problem, ValidationError, ValidationReport
from geo.records import GeoMessage
from geo.tables import TableSource, read_table

__all__ = [
    "HOUSEHOLD_ALIASES",
    "Households",
    "building_keys",
    "buildings_from_rows",
    "read_households",
]

HOUSEHOLD_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("经度", "lon", "lng", "long", "longitude", "x", "东经"),
    "lat": ("纬度", "lat", "latitude", "y", "北纬"),
    "households": ("户数", "households", "hh", "household", "户", "住户数", "household_count"),
    "building": ("楼栋", "楼栋编号", "楼栋号", "building_id", "building", "bldg", "楼号"),
    "compound": ("小区", "小区名称", "小区名", "compound", "community_name", "estate"),
    "population": ("人口", "人口数", "population", "pop", "persons", "常住人口"),
}

#: Rows of one building id farther apart than this are an error: the id is ambiguous.
BUILDING_SPREAD_LIMIT_M = 50.0

#: More households than this in one building is refused unless ``allow_large_counts``: the
#: tallest towers in China hold a few thousand.
LARGE_BUILDING_HOUSEHOLDS = 5_000

#: No count of anything reaches this: a larger number is a wrong cell (or a number that
#: would overflow a 64-bit total).
COUNT_CEILING = 10**9

#: Points farther than this from the median point of a file are named in a warning.
OUTLIER_DISTANCE_M = 50_000.0

# 1,234 / 12,345,678.5 and 12 345 (spaces, no-break or thin spaces): digits in groups of three.
_GROUPED_NUMBER = re.compile(
    r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[+-]?\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?:\.\d+)?"
)
# 70,0 / 2,5 / 116,3: a comma that is a decimal point (not followed by exactly three digits).
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")

#: Mean Earth radius (IUGG), for distances that only need to tell 50 km from 500 km.
_EARTH_RADIUS_M = 6_371_008.8

#: Geographic CRSs whose lon/lat a declared wgs84/gcj02/bd09/cgcs2000 may sit in.
_LONLAT_EPSG = {4326, 4490, 4610, 4214}


@dataclass(frozen=True)
class Households:
    """Household rows and the buildings they aggregate into.

    Attributes
    ----------
    rows
        One row per input row, in input order: the original columns, then ``_row`` (the row
        number a person sees), ``_households``, ``_building`` (building key) and a WGS84
        Point geometry.
    buildings
        One row per building, index 0..n-1: ``building_id``, ``households``, ``population``,
        ``compound`` (None when the rows give none), ``rows`` (input rows aggregated) and a
        WGS84 Point.
    """

    rows: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    source: TableSource
    source_crs: SourceCRS
    metric_crs: pyproj.CRS
    columns: dict[str, str]
    report: ValidationReport = field(default_factory=ValidationReport)

    def summary(self) -> dict:
        """Figures a planner checks first: counts, bounding box, CRS."""
        minx, miny, maxx, maxy = (float(v) for v in self.buildings.total_bounds)
        compounds = self.buildings["compound"].dropna()
        population = self.buildings["population"]
        return {
            "file": self.source.label,
            "encoding": self.source.encoding,
            "rows": len(self.rows),
            "buildings": len(self.buildings),
            "households": int(self.buildings["households"].sum()),
            "compounds": int(compounds.nunique()),
            "population": None if population.isna().all() else int(population.sum()),
            "buildings_without_households": int((self.buildings["households"] == 0).sum()),
            "bbox_wgs84": [round(minx, 6), round(miny, 6), round(maxx, 6), round(maxy, 6)],
            "source_crs": self.source_crs.label,
            "metric_crs": f"EPSG:{self.metric_crs.to_epsg()} ({self.metric_crs.name})",
            "columns": dict(self.columns),
            "warnings": len(self.report.warnings),
        }


def _rows_where(mask: np.ndarray, row_numbers: np.ndarray) -> tuple[int, ...]:
    return tuple(int(r) for r in row_numbers[np.asarray(mask, dtype=bool)])


@dataclass(frozen=True)
class _Numbers:
    """A column read as numbers: the values (NaN where none) and why cells have none."""

    values: np.ndarray
    missing: np.ndarray
    non_numeric: np.ndarray
    #: Cells such as ``70,0``: a comma used as the decimal point, refused rather than guessed.
    decimal_comma: np.ndarray


def _numeric(raw: pd.Series, *, thousands: bool = True) -> _Numbers:
    """A column of text or numbers as numbers. Thousands separators (``1,234``, ``12 345``)
    are dropped; a decimal comma (``70,0``) is set apart, never read as 700. Without
    ``thousands`` (degrees, which never reach a thousand) every comma is a decimal comma."""
    if raw.dtype.kind in "fiu":
        values = raw.to_numpy(dtype=float)
        none = np.zeros(len(raw), dtype=bool)
        return _Numbers(values, np.isnan(values), none, none.copy())
    text = raw.astype("string").str.strip()
    missing = (text.isna() | (text == "")).to_numpy(dtype=bool)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    comma = np.zeros(len(raw), dtype=bool)
    unread = np.flatnonzero(np.isnan(values) & ~missing)
    if unread.size:  # only cells plain numbers are not: separators, commas, text
        rest = text.iloc[unread]
        grouped = rest.str.fullmatch(_GROUPED_NUMBER).fillna(False).to_numpy(dtype=bool)
        grouped &= thousands
        digits = rest[grouped].str.replace(r"[,\s\u00a0\u2009\u202f]", "", regex=True)
        values[unread[grouped]] = pd.to_numeric(digits, errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        decimal = rest.str.fullmatch(_DECIMAL_COMMA).fillna(False).to_numpy(dtype=bool)
        comma[unread[decimal & ~grouped]] = True
    non_numeric = np.isnan(values) & ~missing & ~comma
    return _Numbers(values, missing, non_numeric, comma)


def _decimal_comma_problem(
    raw: pd.Series,
    numbers: _Numbers,
    *,
    what: GeoMessage,
    example: GeoMessage,
    column: str,
    rows: np.ndarray,
    label: str,
) -> list[Problem]:
    """The error for cells written with a decimal comma (none when there are none)."""
    if not numbers.decimal_comma.any():
        return []
    return [
        Problem.of(
            "error",
            label,
            GeoMessage.of(
                "intake.decimal_comma",
                what=what,
                example=example,
                values=_first_values(raw, numbers.decimal_comma),
            ),
            column=column,
            rows=_rows_where(numbers.decimal_comma, rows),
        )
    ]


def _first_values(raw: pd.Series, mask: np.ndarray, limit: int = 3) -> str:
    values = [repr(v) for v in raw[mask].head(limit).tolist()]
    return ", ".join(values) + (" …" if int(mask.sum()) > limit else "")


def _coordinates_from_columns(
    frame: pd.DataFrame,
    roles: dict[str, str],
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
    *,
    degrees: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates from the lon/lat (x/y) columns, with the problems of cells that hold no
    number; ``degrees`` when they are lon/lat (a comma in them is a decimal comma)."""
    x_numbers = _numeric(frame[roles["lon"]], thousands=not degrees)
    y_numbers = _numeric(frame[roles["lat"]], thousands=not degrees)
    for role, numbers in (("lon", x_numbers), ("lat", y_numbers)):
        column = roles[role]
        raw = frame[column]
        missing, bad = numbers.missing, numbers.non_numeric
        what = GeoMessage.of("word.longitude" if role == "lon" else "word.latitude")
        problems += _decimal_comma_problem(
            raw,
            numbers,
            what=what,
            example=GeoMessage.of("word.decimal_example"),
            column=column,
            rows=rows,
            label=label,
        )
        if missing.any():
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of("intake.coordinate_missing", what=what, column=column),
                    column=column,
                    rows=_rows_where(missing, rows),
                )
            )
        if bad.any():
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of(
                        "intake.coordinate_not_number", what=what, values=_first_values(raw, bad)
                    ),
                    column=column,
                    rows=_rows_where(bad, rows),
                )
            )
    unread = [n.missing | n.non_numeric | n.decimal_comma for n in (x_numbers, y_numbers)]
    return x_numbers.values, y_numbers.values, ~(unread[0] | unread[1])


def _coordinates_from_geometry(
    frame: gpd.GeoDataFrame, rows: np.ndarray, label: str, problems: list[Problem]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    geometry = np.array(frame.geometry.array, dtype=object)
    empty = np.asarray(shapely.is_missing(geometry) | shapely.is_empty(geometry), dtype=bool)
    kinds = np.array(
        ["" if e else g.geom_type for g, e in zip(geometry, empty, strict=True)], dtype=object
    )
    is_point = kinds == "Point"
    is_area = np.isin(kinds, ["Polygon", "MultiPolygon"])
    other = ~empty & ~is_point & ~is_area
    if empty.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("intake.geometry_missing"),
                rows=_rows_where(empty, rows),
            )
        )
    if other.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("intake.geometry_kind", kinds=tuple(sorted(set(kinds[other])))),
                rows=_rows_where(other, rows),
            )
        )
    has_z = ~empty & np.asarray(shapely.has_z(geometry), dtype=bool)
    if has_z.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("intake.geometry_z"),
                rows=_rows_where(has_z, rows),
            )
        )
    if is_area.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("intake.footprints_as_points", count=int(is_area.sum())),
                rows=_rows_where(is_area, rows),
            )
        )
    points = geometry.copy()
    points[is_area] = shapely.point_on_surface(points[is_area])
    valid = ~empty & ~other
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    x[valid] = shapely.get_x(points[valid])
    y[valid] = shapely.get_y(points[valid])
    return x, y, valid


def _check_file_crs(frame: pd.DataFrame, source_crs: SourceCRS, label: str) -> None:
    file_crs = getattr(frame, "crs", None)
    if file_crs is None:
        return
    if file_crs.is_geographic or file_crs.is_compound:
        file_crs = file_crs.to_2d()  # a CRS stated with heights (EPSG:4979) counts as its 2-D part
    epsg = file_crs.to_epsg()
    declared = source_crs.crs.to_epsg()
    if source_crs.is_geographic and epsg in _LONLAT_EPSG:
        return
    if epsg != declared:
        raise CRSError(
            GeoMessage.of(
                "intake.errors.file_crs_differs",
                file=label,
                epsg=epsg,
                name=file_crs.name,
                crs=source_crs.label,
            )
        )


def _check_lonlat(
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    *,
    roles: dict[str, str],
    source_crs: SourceCRS,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> np.ndarray:
    """Range, swap and in-China checks for lon/lat input; returns rows still usable."""
    lon_col = roles.get("lon", "geometry")
    lat_col = roles.get("lat", "geometry")
    lon_ok = valid & (np.abs(x) <= 180)
    lat_ok = valid & (np.abs(y) <= 90)
    # Swapped: the latitude column holds longitudes of China and the longitude column latitudes.
    swapped = valid & (x >= 3) & (x <= 60) & (y >= 70) & (y <= 140)
    if swapped.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.swapped",
                    lon=lon_col,
                    lat=lat_col,
                    x=float(np.nanmedian(x[swapped])),
                    y=float(np.nanmedian(y[swapped])),
                ),
                column=f"{lon_col}/{lat_col}",
                rows=_rows_where(swapped, rows),
            )
        )
    out_of_range = valid & ~(lon_ok & lat_ok) & ~swapped
    if out_of_range.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.out_of_range",
                    x=float(x[out_of_range][0]),
                    y=float(y[out_of_range][0]),
                    crs=source_crs.key,
                ),
                column=f"{lon_col}/{lat_col}",
                rows=_rows_where(out_of_range, rows),
            )
        )
    usable = valid & lon_ok & lat_ok & ~swapped
    if source_crs.is_offset:
        outside = usable & ~in_china(x, y)
        if outside.any():
            problems.append(
                Problem.of(
                    "error",
                    label,
                    GeoMessage.of(
                        "intake.offset_outside_china",
                        crs=source_crs.key,
                        count=int(outside.sum()),
                        x=float(x[outside][0]),
                        y=float(y[outside][0]),
                    ),
                    column=f"{lon_col}/{lat_col}",
                    rows=_rows_where(outside, rows),
                )
            )
            usable &= ~outside
    return usable


def _check_counts(
    frame: pd.DataFrame,
    column: str,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
    *,
    what: GeoMessage,
    zero_is_warning: bool,
    required: bool,
) -> np.ndarray:
    """The counts of a column (NaN where unreadable); their problems go to ``problems``."""
    numbers = _numeric(frame[column])
    values, missing, bad = numbers.values, numbers.missing, numbers.non_numeric
    problems += _decimal_comma_problem(
        frame[column],
        numbers,
        what=what,
        example=GeoMessage.of("word.count_example", what=what),
        column=column,
        rows=rows,
        label=label,
    )
    if required and missing.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("intake.count_missing", what=what, column=column),
                column=column,
                rows=_rows_where(missing, rows),
            )
        )
    if bad.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.count_not_number", what=what, values=_first_values(frame[column], bad)
                ),
                column=column,
                rows=_rows_where(bad, rows),
            )
        )
    problems += _implausible_counts(
        values,
        frame[column],
        label,
        what=what,
        zero_is_warning=zero_is_warning,
        column=column,
        rows=rows,
    )
    return values


def _implausible_counts(
    values: np.ndarray,
    raw: pd.Series,
    label: str,
    *,
    what: GeoMessage,
    zero_is_warning: bool,
    column: str,
    rows: np.ndarray,
) -> list[Problem]:
    """The problems of counts that are numbers but not counts: infinite, too large to be a
    count, negative, fractional, zero."""
    problems = _unbounded_counts(values, raw, label, what=what, column=column, rows=rows)
    finite = np.isfinite(values) & (np.abs(values) < COUNT_CEILING)
    negative = finite & (values < 0)
    if negative.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.count_negative", what=what, values=_first_values(raw, negative)
                ),
                column=column,
                rows=_rows_where(negative, rows),
            )
        )
    fractional = finite & (values >= 0) & (np.floor(values) != values)
    if fractional.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.count_fractional", what=what, values=_first_values(raw, fractional)
                ),
                column=column,
                rows=_rows_where(fractional, rows),
            )
        )
    zero = finite & (values == 0)
    if zero_is_warning and zero.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("intake.count_zero", what=what),
                column=column,
                rows=_rows_where(zero, rows),
            )
        )
    return problems


def _unbounded_counts(
    values: np.ndarray,
    raw: pd.Series,
    label: str,
    *,
    what: GeoMessage,
    column: str,
    rows: np.ndarray,
) -> list[Problem]:
    """Errors for counts that are infinite or beyond :data:`COUNT_CEILING` (they would
    overflow a total)."""
    problems = []
    infinite = np.isinf(values)
    if infinite.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.count_infinite", what=what, values=_first_values(raw, infinite)
                ),
                column=column,
                rows=_rows_where(infinite, rows),
            )
        )
    huge = np.isfinite(values) & (np.abs(values) >= COUNT_CEILING)
    if huge.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of(
                    "intake.count_huge",
                    what=what,
                    ceiling=COUNT_CEILING,
                    values=_first_values(raw, huge),
                ),
                column=column,
                rows=_rows_where(huge, rows),
            )
        )
    return problems


def _text(raw: pd.Series) -> np.ndarray:
    """Stripped text per row, None for empty cells."""
    return np.array(cell_text(raw), dtype=object)


def _check_duplicates(
    frame: pd.DataFrame,
    households: np.ndarray,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> None:
    """Exact duplicate rows of buildings (more than one household each) are probably one
    building listed twice; identical one-household rows are expected (a household per row)."""
    spatial = isinstance(frame, gpd.GeoDataFrame)
    attributes = frame.drop(columns=frame.geometry.name) if spatial else frame
    # each column as the number of its distinct text (one column's text at a time)
    codes = {
        i: pd.factorize(attributes[c].astype("string"))[0] for i, c in enumerate(attributes.columns)
    }
    if spatial:
        codes[len(codes)] = pd.factorize(frame.geometry.to_wkb())[0]
    plain = pd.DataFrame(codes, index=frame.index)
    duplicated = plain.duplicated(keep="first").to_numpy(dtype=bool, copy=True)
    duplicated &= np.nan_to_num(households, nan=1.0) > 1
    if duplicated.any():
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of("intake.duplicate_rows", count=int(duplicated.sum())),
                rows=_rows_where(duplicated, rows),
            )
        )


def buildings_from_rows(
    *,
    lon: np.ndarray,
    lat: np.ndarray,
    building_ids: np.ndarray,
    households: np.ndarray,
    population: np.ndarray,
    compounds: np.ndarray,
    source_x: np.ndarray,
    source_y: np.ndarray,
    keys: np.ndarray | None = None,
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Aggregate rows into buildings: same building id, else same source coordinates.

    ``keys`` are the rows' :func:`building_keys` when they are known already (they are
    computed from ``building_ids``, ``source_x`` and ``source_y`` otherwise).

    Returns
    -------
    (keys, buildings)
        ``keys`` is the building key of each row; ``buildings`` one row per building (WGS84),
        in order of first appearance.
    """
    if keys is None:
        keys = building_keys(building_ids, source_x, source_y)
    frame = pd.DataFrame(
        {
            "key": keys,
            "lon": lon,
            "lat": lat,
            "households": households,
            "population": population,
            "compound": pd.Series(compounds, dtype="object"),
            "building_id": pd.Series(building_ids, dtype="object"),
        }
    )
    grouped = frame.groupby("key", sort=False)
    counts = grouped.size()
    # the compound most of a building's rows name (ties: the first named), vectorised
    named = frame.dropna(subset=["compound"])
    votes = named.groupby(["key", "compound"], sort=False).size().reset_index(name="n")
    votes = votes.sort_values("n", ascending=False, kind="stable").drop_duplicates("key")
    compound = pd.Series(votes["compound"].to_numpy(dtype=object), index=votes["key"])
    compound = compound.reindex(grouped.size().index)
    compound = compound.astype(object).where(compound.notna(), None)
    population_sum = grouped["population"].sum(min_count=1)
    building_id = grouped["building_id"].first()
    order = counts.index
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [
                bid if bid is not None else f"B{i + 1:06d}"
                for i, bid in enumerate(building_id.loc[order].tolist())
            ],
            "households": grouped["households"].sum().loc[order].astype("int64").to_numpy(),
            "population": population_sum.loc[order].to_numpy(dtype=float),
            "compound": compound.loc[order].to_numpy(dtype=object),
            "rows": counts.loc[order].to_numpy(dtype="int64"),
        },
        geometry=gpd.points_from_xy(
            grouped["lon"].mean().loc[order], grouped["lat"].mean().loc[order]
        ),
        crs="EPSG:4326",
    )
    return keys, buildings.reset_index(drop=True)


def _check_building_spread(
    building_ids: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    usable: np.ndarray,
    *,
    metric_crs: pyproj.CRS,
    rows: np.ndarray,
    column: str | None,
    label: str,
    problems: list[Problem],
) -> None:
    """An error for the building ids whose usable rows lie farther apart than
    :data:`BUILDING_SPREAD_LIMIT_M`."""
    if not usable.any():
        return
    to_metric = pyproj.Transformer.from_crs(4326, metric_crs, always_xy=True)
    mx, my = (np.asarray(v) for v in to_metric.transform(lon[usable], lat[usable]))
    building_ids, rows = building_ids[usable], rows[usable]
    has_id = np.fromiter((b is not None for b in building_ids), bool, len(building_ids))
    if not has_id.any():
        return
    codes = np.full(len(building_ids), -1, dtype=np.int64)
    codes[has_id], ids = pd.factorize(np.asarray(building_ids, dtype=object)[has_id])
    frame = pd.DataFrame({"key": codes[has_id], "x": mx[has_id], "y": my[has_id]})
    spans = frame.groupby("key").agg(
        x0=("x", "min"), x1=("x", "max"), y0=("y", "min"), y1=("y", "max")
    )
    spread = np.hypot(spans["x1"] - spans["x0"], spans["y1"] - spans["y0"])
    bad = spread[spread > BUILDING_SPREAD_LIMIT_M]
    if bad.empty:
        return
    bad_rows = np.isin(codes, bad.index.to_numpy()) & has_id
    # named in the order of their ids (as text)
    named = pd.Series(bad.to_numpy(), index=[str(ids[c]) for c in bad.index]).sort_index()
    examples = ", ".join(f"{k} ({d:.0f} m)" for k, d in named.head(3).items())
    problems.append(
        Problem.of(
            "error",
            label,
            GeoMessage.of(
                "intake.building_spread",
                count=len(bad),
                limit_m=BUILDING_SPREAD_LIMIT_M,
                examples=examples,
                more=" …" if len(bad) > 3 else "",
            ),
            column=column,
            rows=_rows_where(bad_rows, rows),
        )
    )


def read_households(
    path: str | Path,
    *,
    crs: str | int,
    columns: Mapping[str, str] | None = None,
    label: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    header_row: int | None = None,
    allow_large_counts: bool = False,
) -> Households:
    """Read, validate and aggregate a household file.

    Parameters
    ----------
    path
        CSV / XLSX / GeoJSON / GeoPackage / Shapefile (or .zip) / GeoParquet.
    crs
        The declared CRS of the coordinates: ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000`` or
        an EPSG code. Never guessed.
    columns
        Explicit role → column mapping (roles: lon, lat, households, building, compound,
        population); overrides the aliases.
    label
        How messages name the file (default: its name).
    sheet, layer
        The sheet of a workbook, the layer of a GeoPackage (or Shapefile of a zip) to read;
        needed when the file holds several with data.
    header_row
        Row number of the header in a table (default: the first row holding the column
        names, with a warning when it is not row 1).
    allow_large_counts
        Accept buildings of more than :data:`LARGE_BUILDING_HOUSEHOLDS` households (with a
        warning) instead of refusing them.

    Raises
    ------
    ValidationError
        With every problem found, when any is an error.
    """
    source_crs = parse_crs(crs)
    frame, source = read_table(
        path,
        label=label,
        sheet=sheet,
        layer=layer,
        header_row=header_row,
        header_names=_header_names(columns),
    )
    read = _read_rows(frame, source, source_crs, columns)
    keys = _check_buildings(read, allow_large_counts=allow_large_counts, label=source.label)
    report = ValidationReport(tuple(read.problems))
    if not report.ok:
        raise ValidationError(report.problems)
    # the file's own geometry is read (read.x, read.y): let it go before the rows get points
    frame = _attributes(frame)

    keys, buildings = buildings_from_rows(
        lon=read.lon,
        lat=read.lat,
        building_ids=read.building_ids,
        households=read.households,
        population=read.population,
        compounds=read.compounds,
        source_x=read.x,
        source_y=read.y,
        keys=keys,
    )
    mixed = _compounds_per_building(keys, read.compounds)
    if mixed:
        mixed_problem = _mixed_compounds_problem(mixed, read.roles.get("compound"), source.label)
        report = report.merged([mixed_problem])
    rows_read = _row_frame(
        frame, lon=read.lon, lat=read.lat, rows=read.rows, households=read.households, keys=keys
    )
    return Households(
        rows=rows_read,
        buildings=buildings,
        source=source,
        source_crs=source_crs,
        metric_crs=read.metric_crs,
        columns=read.roles,
        report=report,
    )


@dataclass(frozen=True)
class _RowValues:
    """What each row of a household file says, once read and checked row by row.

    ``valid`` marks rows whose place can be used; ``lon``/``lat`` are WGS84 (NaN where not
    valid), ``x``/``y`` the coordinates as given; ``problems`` collects every problem so far.
    """

    roles: dict[str, str]
    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    valid: np.ndarray
    households: np.ndarray
    population: np.ndarray
    building_ids: np.ndarray
    compounds: np.ndarray
    metric_crs: pyproj.CRS
    problems: list[Problem]


def _read_rows(
    frame: pd.DataFrame,
    source: TableSource,
    source_crs: SourceCRS,
    columns: Mapping[str, str] | None,
) -> _RowValues:
    """Every row's place, counts, building id and compound, with the problems of each row
    (the reader's warnings first)."""
    label = source.label
    spatial = isinstance(frame, gpd.GeoDataFrame)
    if spatial:
        _check_file_crs(frame, source_crs, label)
    attribute_columns = [c for c in frame.columns if not (spatial and c == frame.geometry.name)]
    roles, problems = resolve_columns(
        attribute_columns, HOUSEHOLD_ALIASES, explicit=columns, label=label
    )
    problems[:0] = source.warnings
    rows = np.asarray(source.row_numbers(len(frame)), dtype=np.int64)
    roles = _coordinate_roles(roles, spatial, attribute_columns, label, problems)
    x, y, valid = _source_coordinates(
        frame, roles, source_crs, rows, label=label, problems=problems
    )
    households, population = _row_counts(
        frame, roles, rows, label, problems, attribute_columns=attribute_columns
    )
    _check_duplicates(frame, households, rows, label, problems)
    lon, lat, metric_crs = _wgs84_and_metric_crs(x, y, valid, source_crs)
    valid = _check_places(
        lon,
        lat,
        valid,
        source_x=x,
        source_y=y,
        source_crs=source_crs,
        column=_coordinate_column(roles),
        rows=rows,
        label=label,
        problems=problems,
    )
    return _RowValues(
        roles=roles,
        rows=rows,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        valid=valid,
        households=households,
        population=population,
        building_ids=_text_of_role(frame, roles, "building"),
        compounds=_text_of_role(frame, roles, "compound"),
        metric_crs=metric_crs,
        problems=problems,
    )


def _check_buildings(read: _RowValues, *, allow_large_counts: bool, label: str) -> np.ndarray:
    """The problems of buildings (rows taken together) go to ``read.problems``: too many
    households in one, one id at places far apart. Returns the rows' building keys."""
    households = read.households
    usable = read.valid & np.isfinite(households) & (households >= 0) & (households < COUNT_CEILING)
    keys = building_keys(read.building_ids, read.x, read.y)
    _check_building_sizes(
        keys,
        households,
        usable,
        allow=allow_large_counts,
        column=read.roles.get("households"),
        rows=read.rows,
        label=label,
        problems=read.problems,
    )
    _check_building_spread(
        read.building_ids,
        read.lon,
        read.lat,
        usable,
        metric_crs=read.metric_crs,
        rows=read.rows,
        column=read.roles.get("building"),
        label=label,
        problems=read.problems,
    )
    return keys


def _header_names(columns: Mapping[str, str] | None) -> tuple[str, ...]:
    """The names a household table's header holds: every alias, and the columns mapped."""
    aliases = [name for names in HOUSEHOLD_ALIASES.values() for name in names]
    return (*aliases, *(columns or {}).values())


def _coordinate_column(roles: dict[str, str]) -> str:
    """How messages name the coordinates: ``经度/纬度``, or ``geometry`` in a spatial file."""
    if "lon" not in roles:
        return "geometry"
    return f"{roles['lon']}/{roles['lat']}"


def _source_coordinates(
    frame: pd.DataFrame,
    roles: dict[str, str],
    source_crs: SourceCRS,
    rows: np.ndarray,
    *,
    label: str,
    problems: list[Problem],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y in the declared CRS and the rows whose coordinates can be used: read from the
    geometry or the lon/lat columns, then checked as lon/lat or as metres."""
    if isinstance(frame, gpd.GeoDataFrame):
        x, y, valid = _coordinates_from_geometry(frame, rows, label, problems)
    else:
        x, y, valid = _coordinates_from_columns(
            frame, roles, rows, label, problems, degrees=source_crs.is_geographic
        )
    if source_crs.is_geographic:
        valid = _check_lonlat(
            x,
            y,
            valid,
            roles=roles,
            source_crs=source_crs,
            rows=rows,
            label=label,
            problems=problems,
        )
    else:
        valid = _check_degrees_declared_as_metres(
            x,
            y,
            valid,
            source_crs=source_crs,
            column=_coordinate_column(roles),
            rows=rows,
            label=label,
            problems=problems,
        )
    return x, y, valid


def _check_degrees_declared_as_metres(
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    *,
    source_crs: SourceCRS,
    column: str,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> np.ndarray:
    """An error when a projected CRS is declared for numbers that are all Chinese lon/lat
    degrees (read as metres the whole file would collapse into a few metres); returns the
    rows still usable (none then)."""
    if not valid.any() or not np.all(in_china(x[valid], y[valid])):
        return valid
    extent_m = max(float(np.ptp(x[valid])), float(np.ptp(y[valid])))
    problems.append(
        Problem.of(
            "error",
            label,
            GeoMessage.of(
                "intake.degrees_declared_metric",
                crs=source_crs.label,
                x0=float(np.min(x[valid])),
                x1=float(np.max(x[valid])),
                y0=float(np.min(y[valid])),
                y1=float(np.max(y[valid])),
                extent_m=extent_m,
            ),
            column=column,
            rows=_rows_where(valid, rows),
        )
    )
    return np.zeros_like(valid)


def _check_places(
    lon: np.ndarray,
    lat: np.ndarray,
    valid: np.ndarray,
    *,
    source_x: np.ndarray,
    source_y: np.ndarray,
    source_crs: SourceCRS,
    column: str,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> np.ndarray:
    """Points no district holds: errors for (0, 0) and for points outside China when the
    rest is in China, a warning for points far from the rest; returns the rows still
    usable."""
    zero = valid & (source_x == 0) & (source_y == 0)
    if zero.any():
        problems.append(
            Problem.of(
                "error",
                label,
                GeoMessage.of("intake.zero_points", count=int(zero.sum())),
                column=column,
                rows=_rows_where(zero, rows),
            )
        )
        valid = valid & ~zero
    if not valid.any():
        return valid
    if not source_crs.is_offset and in_china(np.median(lon[valid]), np.median(lat[valid])):
        stray = valid & ~in_china(lon, lat)
        if stray.any():
            problems.append(_stray_problem(lon, lat, stray, column=column, rows=rows, label=label))
            valid = valid & ~stray
    _warn_far_points(lon, lat, valid, column=column, rows=rows, label=label, problems=problems)
    return valid


def _stray_problem(
    lon: np.ndarray,
    lat: np.ndarray,
    stray: np.ndarray,
    *,
    column: str,
    rows: np.ndarray,
    label: str,
) -> Problem:
    """The error for points outside China in a file whose points are in China."""
    return Problem.of(
        "error",
        label,
        GeoMessage.of(
            "intake.stray_points",
            count=int(stray.sum()),
            x=float(lon[stray][0]),
            y=float(lat[stray][0]),
        ),
        column=column,
        rows=_rows_where(stray, rows),
    )


def _warn_far_points(
    lon: np.ndarray,
    lat: np.ndarray,
    valid: np.ndarray,
    *,
    column: str,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> None:
    """A warning naming the points farther than :data:`OUTLIER_DISTANCE_M` from the median
    point of the file."""
    if not valid.any():
        return
    mid_lon, mid_lat = float(np.median(lon[valid])), float(np.median(lat[valid]))
    distance = _haversine_m(mid_lon, mid_lat, lon[valid], lat[valid])
    far = np.zeros(len(lon), dtype=bool)
    far[valid] = np.asarray(distance) > OUTLIER_DISTANCE_M
    if not far.any():
        return
    problems.append(
        Problem.of(
            "warning",
            label,
            GeoMessage.of(
                "intake.far_points",
                limit_km=OUTLIER_DISTANCE_M / 1000,
                count=int(far.sum()),
                far_km=float(np.max(distance)) / 1000,
                x=mid_lon,
                y=mid_lat,
            ),
            column=column,
            rows=_rows_where(far, rows),
        )
    )


def _haversine_m(lon0: float, lat0: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres from (lon0, lat0) to each point (a sphere: within
    0.5 % of the ellipsoid, enough for a plausibility threshold)."""
    phi0, phi = np.radians(lat0), np.radians(lat)
    half = (
        np.sin((phi - phi0) / 2) ** 2
        + np.cos(phi0) * np.cos(phi) * np.sin(np.radians(lon - lon0) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))


def building_keys(
    building_ids: np.ndarray, source_x: np.ndarray, source_y: np.ndarray
) -> np.ndarray:
    """The building key of each row: ``id:<building id>``, else ``@x,y`` (its source
    coordinates to 7 decimals). Each distinct key is one string shared by its rows."""
    keys = np.empty(len(building_ids), dtype=object)
    has_id = np.fromiter((b is not None for b in building_ids), bool, len(building_ids))
    if has_id.any():
        codes, ids = pd.factorize(np.asarray(building_ids, dtype=object)[has_id])
        keys[has_id] = np.array([f"id:{b}" for b in ids], dtype=object)[codes]
    if not has_id.all():
        xy = np.column_stack([source_x[~has_id], source_y[~has_id]]).astype(float)
        # distinct by their bits, so each key is written from its own coordinates
        _, first, inverse = np.unique(
            xy.view(np.int64), axis=0, return_index=True, return_inverse=True
        )
        written = [f"@{sx:.7f},{sy:.7f}" for sx, sy in xy[first].tolist()]
        keys[~has_id] = np.array(written, dtype=object)[inverse.ravel()]
    return keys


def _check_building_sizes(
    keys: np.ndarray,
    households: np.ndarray,
    usable: np.ndarray,
    *,
    allow: bool,
    column: str | None,
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
) -> None:
    """An error (a warning when ``allow``) for buildings of more than
    :data:`LARGE_BUILDING_HOUSEHOLDS` households, naming their rows."""
    totals = pd.Series(households[usable]).groupby(keys[usable], sort=False).sum()
    large = totals[totals > LARGE_BUILDING_HOUSEHOLDS]
    if large.empty:
        return
    examples = tuple(
        GeoMessage.of("word.building_households", building=_building_named(k), households=v)
        for k, v in large.head(3).items()
    )
    problems.append(
        Problem.of(
            "warning" if allow else "error",
            label,
            GeoMessage.of(
                "intake.large_buildings_allowed" if allow else "intake.large_buildings",
                count=len(large),
                limit=LARGE_BUILDING_HOUSEHOLDS,
                examples=examples,
                more=" …" if len(large) > 3 else "",
            ),
            column=column,
            rows=_rows_where(usable & np.isin(keys, large.index.to_numpy()), rows),
        )
    )


def _building_named(key: str) -> str | GeoMessage:
    """A building as a problem names it: its id, else "at" its source coordinates."""
    if key.startswith("@"):
        return GeoMessage.of("word.at_place", place=key.removeprefix("@"))
    return key.removeprefix("id:")


def _wgs84_and_metric_crs(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray, source_crs: SourceCRS
) -> tuple[np.ndarray, np.ndarray, pyproj.CRS]:
    """WGS84 lon/lat of the valid rows (NaN elsewhere) and the metric CRS they choose
    (EPSG:3857 when no row is valid)."""
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    if not valid.any():
        return lon, lat, pyproj.CRS.from_epsg(3857)
    lon[valid], lat[valid] = to_wgs84_xy(x[valid], y[valid], source_crs)
    return lon, lat, metric_crs_for(lon[valid], lat[valid])


def _coordinate_roles(
    roles: dict[str, str],
    spatial: bool,
    attribute_columns: list,
    label: str,
    problems: list[Problem],
) -> dict[str, str]:
    """The roles without lon/lat for a spatial file (its geometry holds the points); for a
    table, the roles as they are, or a ValidationError when lon or lat has no column."""
    if spatial:
        return {role: column for role, column in roles.items() if role not in ("lon", "lat")}
    if "lon" in roles and "lat" in roles:
        return roles
    missing = [r for r in ("lon", "lat") if r not in roles]
    problems.append(
        Problem.of(
            "error",
            label,
            GeoMessage.of(
                "intake.no_coordinate_column",
                roles=GeoMessage.of(f"word.{'_and_'.join(missing)}"),
                columns=tuple(map(str, attribute_columns)),
            ),
        )
    )
    raise ValidationError(problems)


def _row_counts(
    frame: pd.DataFrame,
    roles: dict[str, str],
    rows: np.ndarray,
    label: str,
    problems: list[Problem],
    *,
    attribute_columns: list,
) -> tuple[np.ndarray, np.ndarray]:
    """Households (1 a row without the column) and population (NaN without it) per row."""
    if "households" in roles:
        households = _check_counts(
            frame,
            roles["households"],
            rows,
            label,
            problems,
            what=GeoMessage.of("word.households"),
            zero_is_warning=True,
            required=True,
        )
    else:
        households = np.ones(len(frame))
        problems.append(
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "intake.no_households_column", columns=tuple(map(str, attribute_columns))
                ),
            )
        )
    if "population" in roles:
        population = _check_counts(
            frame,
            roles["population"],
            rows,
            label,
            problems,
            what=GeoMessage.of("word.population"),
            zero_is_warning=False,
            required=False,
        )
    else:
        population = np.full(len(frame), np.nan)
    return households, population


def _text_of_role(frame: pd.DataFrame, roles: dict[str, str], role: str) -> np.ndarray:
    """The stripped text of a role's column per row; None everywhere without the column."""
    if role in roles:
        return _text(frame[roles[role]])
    return np.full(len(frame), None, dtype=object)


def _mixed_compounds_problem(mixed: list[str], column: str | None, label: str) -> Problem:
    """The warning for buildings whose rows name different compounds."""
    return Problem.of(
        "warning",
        label,
        GeoMessage.of(
            "intake.mixed_compounds",
            count=len(mixed),
            names=tuple(mixed[:3]),
            more=" …" if len(mixed) > 3 else "",
        ),
        column=column,
    )


def _row_frame(
    frame: pd.DataFrame,
    *,
    lon: np.ndarray,
    lat: np.ndarray,
    rows: np.ndarray,
    households: np.ndarray,
    keys: np.ndarray,
) -> gpd.GeoDataFrame:
    """The input rows as read, on WGS84 points, with ``_row``, ``_households``,
    ``_building`` and ``_building_index``."""
    spatial = isinstance(frame, gpd.GeoDataFrame)
    out = frame if spatial else pd.DataFrame(frame)
    out = gpd.GeoDataFrame(
        out.drop(columns=out.geometry.name) if spatial else out,
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    out["_row"] = rows
    out["_households"] = households.astype("int64")
    # the keys in order of first appearance, held once each (a category) and by their index
    index, first_seen = pd.factorize(keys)
    out["_building"] = pd.Categorical.from_codes(index, categories=first_seen)
    out["_building_index"] = index.astype("int64")
    return out


def _attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its geometry (a spatial file's attribute table)."""
    if isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame


def _compounds_per_building(keys: np.ndarray, compounds: np.ndarray) -> list[str]:
    frame = pd.DataFrame({"key": keys, "compound": pd.Series(compounds, dtype="object")})
    per_key = frame.dropna().groupby("key")["compound"].nunique()
    return [k.removeprefix("id:") for k in per_key[per_key > 1].index]
