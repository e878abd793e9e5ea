"""Write a compliance result for a bureau: CSV for Excel, GeoJSON for GIS, a printable HTML page.

:func:`write_compliance` writes three files into a folder:

- ``compliance.csv``: one row per community (UTF-8 with BOM, so Excel shows Chinese);
- ``compliance.geojson``: the communities with the same columns (RFC 7946, WGS84);
- ``report.html``: 社区设施面积达标核查报告 — the standard with every rule's citation and
  source, the totals, a table and a map of the area gap drawn as SVG in the page: one file
  that prints and opens offline (no web map, no network).

The page and its map are Jinja2 templates in ``templates/`` beside this module (rendered with
autoescape); this module computes what they show: totals, table cells, the map's shapes.
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

import branca.colormap
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from geo.export import spreadsheet_safe, write_geojson
from planning.standards.compliance import ComplianceResult
from planning.standards.rules import Standard, format_number

__all__ = [
    "REPORT_TITLE",
    "render_report_html",
    "svg_gap_map",
    "write_compliance",
]

REPORT_TITLE = "社区设施面积达标核查报告"

#: The page and map templates (and the page's CSS and JavaScript), shipped beside this module.
_TEMPLATES = Path(__file__).parent / "templates"

#: Table columns of the HTML report: (column, Chinese header, kind).
_TABLE = (
    ("community_id", "社区代码", "text"),
    ("name", "社区名称", "text"),
    ("households", "户数", "int"),
    ("population", "人口", "int"),
    ("required_area_m2", "应配面积(m²)", "num"),
    ("facility_area_m2", "现有面积(m²)", "num"),
    ("gap_m2", "缺口(m²)", "num"),
    ("meets_standard", "达标", "bool"),
    ("staff_required", "应配专职工作者(人)", "int"),
    ("funds_yuan_per_year", "工作经费(元/年)", "num"),
    ("facilities", "计入设施", "text"),
    ("mean_distance_m", "平均距离(m)", "int"),
    ("p90_distance_m", "90%距离(m)", "int"),
    ("suggested_site", "建议选址(经度, 纬度)", "text"),
)


def write_compliance(
    result: ComplianceResult, out_dir: str | Path, *, standard: Standard | None = None
) -> dict[str, Path]:
    """Write ``compliance.csv``, ``compliance.geojson`` and ``report.html`` into ``out_dir``.

    Parameters
    ----------
    result
        From :func:`planning.standards.compliance.check_compliance`.
    out_dir
        The folder (created if missing).
    standard
        The standard to cite; defaults to the one the result was computed with.

    Returns
    -------
    dict
        ``{"csv": …, "geojson": …, "html": …}`` paths.
    """
    standard = standard or result.standard
    if standard is None:
        raise ValueError("write_compliance needs the standard the result was computed with")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "compliance.csv"
    spreadsheet_safe(result.table()).to_csv(csv_path, index=False, encoding="utf-8-sig")
    geojson_path = write_geojson(result.communities, out / "compliance.geojson")
    html_path = out / "report.html"
    html_path.write_text(render_report_html(result, standard=standard), encoding="utf-8")
    return {"csv": csv_path, "geojson": geojson_path, "html": html_path}


# --------------------------------------------------------------------------- templates


@functools.cache
def _templates() -> jinja2.Environment:
    """The report's templates (``templates/`` beside this module), autoescaped.

    Values are escaped as :func:`html.escape` does (``'`` → ``&#x27;``, ``"`` → ``&quot;``),
    the escaping the report has always had; markup passed in as :class:`markupsafe.Markup`
    is kept as it is.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


# --------------------------------------------------------------------------- map


def _gap_colormap(result: ComplianceResult) -> branca.colormap.LinearColormap:
    gaps = result.communities["gap_m2"].astype(float).to_numpy()
    finite = gaps[np.isfinite(gaps)]
    reach = max(1.0, float(np.abs(finite).max())) if len(finite) else 1.0
    colormap = branca.colormap.LinearColormap(
        ["#1a9850", "#ffffbf", "#d73027"], vmin=-reach, vmax=reach
    )
    colormap.caption = "面积缺口(m²)：正值为不足，负值为富余"
    return colormap


@dataclass(frozen=True)
class _Frame:
    """Lon/lat → SVG pixels: equirectangular, x scaled by cos(mid latitude), ``pad`` margin."""

    minx: float
    maxy: float
    kx: float
    scale: float
    pad: float

    @classmethod
    def around(cls, bounds: np.ndarray, *, width: int, height: int) -> _Frame:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        kx = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * kx, 1e-9)
        span_y = max(maxy - miny, 1e-9)
        pad = 10.0
        scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        return cls(minx, maxy, kx, scale, pad)

    def xy(self, lon: float, lat: float) -> tuple[str, str]:
        """Pixel x and y, written with one decimal."""
        x = self.pad + (lon - self.minx) * self.kx * self.scale
        y = self.pad + (self.maxy - lat) * self.scale
        return f"{x:.1f}", f"{y:.1f}"

    def path(self, polygon: shapely.Polygon) -> str:
        """SVG path data of a polygon with its holes."""
        rings = [polygon.exterior.coords, *(i.coords for i in polygon.interiors)]
        return "".join(
            "M" + "L".join(",".join(self.xy(x, y)) for x, y, *_ in r) + "Z" for r in rings
        )


class _Shape(NamedTuple):
    d: str
    fill: str
    title: str


class _Label(NamedTuple):
    x: str
    y: str
    name: str
    gap: str


class _Mark(NamedTuple):
    x: str
    y: str
    name: str


class _Cross(NamedTuple):
    d: str
    name: str


def svg_gap_map(result: ComplianceResult, *, width: int = 900, height: int = 560) -> str:
    """A static SVG choropleth of the area gap: prints anywhere and needs no network.

    Communities are drawn in an equirectangular projection scaled by cos(latitude) (true
    shapes at district scale), labelled with name and gap; facilities are blue dots and
    suggested sites red crosses.
    """
    communities = result.communities
    if len(communities) == 0:
        return ""
    colormap = _gap_colormap(result)
    frame = _Frame.around(communities.total_bounds, width=width, height=height)
    shapes, labels = _community_shapes(communities, frame, colormap)
    reach = colormap.vmax - colormap.vmin
    stops = [
        {"offset": f"{i / 4:.2f}", "color": colormap(colormap.vmin + i / 4 * reach)[:7]}
        for i in range(5)
    ]
    return (
        _templates()
        .get_template("gap_map.svg")
        .render(
            width=width,
            height=height,
            pad=frame.pad,
            shapes=shapes,
            labels=labels,
            facilities=[
                _Mark(*frame.xy(*_lon_lat(row.geometry)), str(row.name))
                for row in result.facilities.itertuples(index=False)
            ],
            sites=_site_crosses(communities, frame),
            stops=stops,
            caption=colormap.caption,
            low=format_number(colormap.vmin),
            high=format_number(colormap.vmax),
        )
    )


def _lon_lat(geometry: shapely.Geometry) -> tuple[float, float]:
    point = geometry.representative_point()
    return point.x, point.y


def _community_shapes(
    communities: gpd.GeoDataFrame, frame: _Frame, colormap: branca.colormap.LinearColormap
) -> tuple[list[_Shape], list[_Label]]:
    """Each community's filled shape, and a label on those large enough to read one."""
    shapes, labels = [], []
    for row in communities.itertuples(index=False):
        geom = row.geometry
        d = "".join(frame.path(p) for p in getattr(geom, "geoms", [geom]))
        gap = float(row.gap_m2)
        fill = "#cccccc" if math.isnan(gap) else colormap(gap)[:7]
        title = f"{row.community_id} {row.name}：缺口 {format_number(gap)} m²"
        shapes.append(_Shape(d, fill, title))
        gx0, gy0, gx1, gy1 = geom.bounds
        if (gx1 - gx0) * frame.kx * frame.scale < 56 or (gy1 - gy0) * frame.scale < 28:
            continue  # too small to label legibly; the hover title still names it
        labels.append(_Label(*frame.xy(*_lon_lat(geom)), str(row.name), format_number(gap)))
    return shapes, labels


def _site_crosses(communities: gpd.GeoDataFrame, frame: _Frame) -> list[_Cross]:
    """A cross of ±5 px on each suggested site."""
    crosses = []
    sites = communities.dropna(subset=["suggested_site_lon", "suggested_site_lat"])
    for row in sites.itertuples(index=False):
        x, y = (float(v) for v in frame.xy(row.suggested_site_lon, row.suggested_site_lat))
        d = f"M{x - 5:.1f},{y:.1f}H{x + 5:.1f}M{x:.1f},{y - 5:.1f}V{y + 5:.1f}"
        crosses.append(_Cross(d, str(row.name)))
    return crosses


# --------------------------------------------------------------------------- html


class _Total(NamedTuple):
    label: str
    value: str
    bad: bool = False


class _Cell(NamedTuple):
    klass: str
    key: str
    text: str


class _Row(NamedTuple):
    fails: bool
    cells: list[_Cell]


def _cell(value: object, kind: str) -> tuple[str, str]:
    """(text shown, sort key) of one table cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—", ""
    if kind == "bool":
        return ("是", "1") if bool(value) else ("否", "0")
    if kind == "int":
        number = float(value)
        return f"{round(number):,}", str(number)
    if kind == "num":
        number = float(value)
        text = format_number(number)
        whole, _, frac = text.partition(".")
        return f"{int(whole):,}" + (f".{frac}" if frac else ""), str(number)
    return str(value), str(value)


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "本标准未规定"
    whole, _, frac = format_number(value).partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "") + unit


def render_report_html(result: ComplianceResult, *, standard: Standard) -> str:
    """The printable report as one HTML page (``templates/report.html``, autoescaped)."""
    return (
        _templates()
        .get_template("report.html")
        .render(
            report_title=REPORT_TITLE,
            standard=standard,
            today=date.today().isoformat(),
            year=result.year,
            totals=_totals(result.totals),
            gap_map=Markup(svg_gap_map(result)),
            community_headings=[title for _, title, _ in _TABLE],
            community_rows=_community_rows(result),
            rule_rows=_rule_rows(result),
            outside_rows=_outside_rows(result),
            rules=standard.rules(),
        )
    )


def _totals(totals: dict) -> list[_Total]:
    """The figures in the boxes at the top: the district's totals, shortfalls marked bad."""
    boxes = [
        _Total("社区数", f"{totals['communities']:,}"),
        _Total("未达标社区", f"{totals['failing']:,}", totals["failing"] > 0),
        _Total(
            "面积缺口合计",
            _amount(totals["total_shortfall_m2"], " m²"),
            totals["total_shortfall_m2"] > 0,
        ),
        _Total("应配面积合计", _amount(totals["total_required_m2"], " m²")),
        _Total("现有面积合计", _amount(totals["total_facility_area_m2"], " m²")),
        _Total("应配专职工作者", _amount(totals["total_staff"], " 人")),
        _Total("工作经费合计", _amount(totals["total_funds_yuan"], " 元/年")),
        _Total("户数合计", f"{totals['households']:,}"),
    ]
    if totals["unassigned_households"]:
        boxes.append(
            _Total("不在任何社区内的户数", f"{totals['unassigned_households']:,}", bad=True)
        )
    if totals["facilities_outside"]:
        boxes.append(_Total("社区范围外的设施", f"{totals['facilities_outside']:,}", bad=True))
    return boxes


def _community_rows(result: ComplianceResult) -> list[_Row]:
    """The cells of the results table (:data:`_TABLE`), one row per community."""
    classes = {"gap_m2": "gap", "facilities": "wide", "name": "nowrap"}
    rows = []
    for record in result.table().to_dict("records"):
        lon, lat = record["suggested_site_lon"], record["suggested_site_lat"]
        record["suggested_site"] = (
            None
            if lon is None or (isinstance(lon, float) and math.isnan(lon))
            else f"{lon:.6f}, {lat:.6f}"
        )
        cells = []
        for column, _, kind in _TABLE:
            text, key = _cell(record[column], kind)
            klass = f"{kind} {classes[column]}" if column in classes else kind
            cells.append(_Cell(klass, key, text))
        rows.append(_Row(not record["meets_standard"], cells))
    return rows


def _rule_rows(result: ComplianceResult) -> list[tuple]:
    """Per community: id, name, and the arithmetic of area, staff and funds, with the notes."""
    columns = ("community_id", "name", "area_rule", "staff_rule", "funds_rule", "notes")
    return [tuple(r[c] for c in columns) for r in result.table().to_dict("records")]


def _outside_rows(result: ComplianceResult) -> list[tuple]:
    """The facilities outside every community: id, name, type, area, place, counted for."""
    rows = []
    for r in result.outside.itertuples(index=False):
        lon, lat = _lon_lat(r.geometry)
        rows.append(
            (
                r.facility_id,
                r.name,
                r.type if isinstance(r.type, str) else "—",
                format_number(r.floor_area_m2),
                f"{lon:.6f}, {lat:.6f}",
                r.counted_for or "未计入任何社区",
            )
        )
    return rows
