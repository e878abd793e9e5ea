"""Write a compliance result for a bureau: CSV for Excel, GeoJSON for GIS, a printable HTML page.

:func:`write_compliance` writes three files into a folder:

- ``compliance.csv``: one row per community (UTF-8 with BOM, so Excel shows Chinese);
- ``compliance.geojson``: the communities with the same columns (RFC 7946, WGS84);
- ``report.html``: 社区设施面积达标核查报告 — the standard with every rule's citation and
  source, the totals, a table and a map of the area gap drawn as SVG in the page: one file
  that prints and opens offline (no web map, no network).
"""

from __future__ import annotations

import html
import math
from datetime import date
from pathlib import Path

import branca.colormap
import numpy as np
import pandas as pd

from geo.export import write_geojson
from planning.standards.compliance import ComplianceResult
from planning.standards.rules import Standard, format_number

__all__ = [
    "REPORT_TITLE",
    "render_report_html",
    "svg_gap_map",
    "write_compliance",
]

REPORT_TITLE = "社区设施面积达标核查报告"

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

_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif;
       margin: 24px; color: #222; font-size: 14px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #444; padding-bottom: 2px; margin-top: 28px; }
.meta { color: #555; margin: 2px 0; }
.totals { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.total { border: 1px solid #bbb; border-radius: 4px; padding: 8px 14px; min-width: 130px; }
.total .value { font-size: 20px; font-weight: bold; }
.total.bad .value { color: #b2182b; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border: 1px solid #999; padding: 3px 6px; vertical-align: top; }
th { background: #eee; cursor: pointer; }
th::after { content: " \\21C5"; color: #999; font-size: 10px; }
td.num, td.int { text-align: right; white-space: nowrap; }
tr.fail td.gap { color: #b2182b; font-weight: bold; }
td.rule { font-size: 11px; color: #444; }
td.wide { min-width: 11em; }
td.nowrap { white-space: nowrap; }
.scroll { overflow-x: auto; }
blockquote { margin: 4px 0 4px 12px; padding: 2px 10px; border-left: 3px solid #999;
             color: #333; background: #f7f7f7; }
.rule-item { margin-bottom: 10px; page-break-inside: avoid; }
.source, .note { color: #555; font-size: 12px; }
svg.gapmap { max-width: 900px; border: 1px solid #999; background: #fafafa; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; font-size: 11px; }
  th { background: #ddd !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  th::after { content: ""; }
  thead { display: table-header-group; }
  tr, .total, .rule-item { page-break-inside: avoid; }
  svg.gapmap { max-height: 170mm; page-break-inside: avoid; }
  .no-print { display: none; }
  .scroll { overflow: visible; }
  h2 { page-break-after: avoid; }
}
"""

_SORT_JS = """
document.querySelectorAll("table.sortable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.dir !== "asc"; th.dataset.dir = asc ? "asc" : "desc";
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y), "zh");
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


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
    result.table().to_csv(csv_path, index=False, encoding="utf-8-sig")
    geojson_path = write_geojson(result.communities, out / "compliance.geojson")
    html_path = out / "report.html"
    html_path.write_text(render_report_html(result, standard=standard), encoding="utf-8")
    return {"csv": csv_path, "geojson": geojson_path, "html": html_path}


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


def svg_gap_map(result: ComplianceResult, *, width: int = 900, height: int = 560) -> str:
    """A static SVG choropleth of the area gap: prints anywhere and needs no network.

    Communities are drawn in an equirectangular projection scaled by cos(latitude) (true
    shapes at district scale), labelled with name and gap; facilities are blue dots and
    suggested sites red crosses.
    """
    esc = html.escape
    communities = result.communities
    if len(communities) == 0:
        return ""
    colormap = _gap_colormap(result)
    minx, miny, maxx, maxy = (float(v) for v in communities.total_bounds)
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * kx, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    pad = 10.0
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def xy(lon: float, lat: float) -> str:
        return f"{pad + (lon - minx) * kx * scale:.1f},{pad + (maxy - lat) * scale:.1f}"

    def ring(coords) -> str:
        return "M" + "L".join(xy(x, y) for x, y, *_ in coords) + "Z"

    shapes, labels = [], []
    for row in communities.itertuples(index=False):
        geom = row.geometry
        polygons = getattr(geom, "geoms", [geom])
        d = "".join(
            ring(p.exterior.coords) + "".join(ring(i.coords) for i in p.interiors) for p in polygons
        )
        gap = float(row.gap_m2)
        fill = "#cccccc" if math.isnan(gap) else colormap(gap)[:7]
        title = f"{row.community_id} {row.name}：缺口 {format_number(gap)} m²"
        shapes.append(
            f'<path d="{d}" fill="{fill}" fill-rule="evenodd" stroke="#333" '
            f'stroke-width="0.8"><title>{esc(title)}</title></path>'
        )
        gx0, gy0, gx1, gy1 = geom.bounds
        if (gx1 - gx0) * kx * scale < 56 or (gy1 - gy0) * scale < 28:
            continue  # too small to label legibly; the hover title still names it
        point = geom.representative_point()
        x, y = xy(point.x, point.y).split(",")
        labels.append(
            f'<text x="{x}" y="{y}" text-anchor="middle" font-size="11">'
            f"<tspan>{esc(str(row.name))}</tspan>"
            f'<tspan x="{x}" dy="13">{esc(format_number(gap))} m²</tspan></text>'
        )
    marks = []
    for row in result.facilities.itertuples(index=False):
        point = row.geometry.representative_point()
        x, y = xy(point.x, point.y).split(",")
        marks.append(
            f'<circle cx="{x}" cy="{y}" r="3.5" fill="#2166ac" stroke="#fff" stroke-width="0.8">'
            f"<title>{esc(str(row.name))}</title></circle>"
        )
    sites = communities.dropna(subset=["suggested_site_lon", "suggested_site_lat"])
    for row in sites.itertuples(index=False):
        x, y = (float(v) for v in xy(row.suggested_site_lon, row.suggested_site_lat).split(","))
        marks.append(
            f'<path d="M{x - 5:.1f},{y:.1f}H{x + 5:.1f}M{x:.1f},{y - 5:.1f}V{y + 5:.1f}" '
            f'stroke="#b2182b" stroke-width="2.5"><title>建议选址：{esc(str(row.name))}</title></path>'
        )
    stops = "".join(
        f'<stop offset="{i / 4:.2f}" stop-color="{colormap(colormap.vmin + i / 4 * (colormap.vmax - colormap.vmin))[:7]}"/>'
        for i in range(5)
    )
    legend = (
        f'<defs><linearGradient id="gap-legend">{stops}</linearGradient></defs>'
        f'<rect x="{width - 230}" y="{height - 38}" width="200" height="10" fill="url(#gap-legend)" stroke="#333" stroke-width="0.5"/>'
        f'<text x="{width - 230}" y="{height - 42}" font-size="10">{esc(colormap.caption)}</text>'
        f'<text x="{width - 230}" y="{height - 16}" font-size="10">{format_number(colormap.vmin)}</text>'
        f'<text x="{width - 30}" y="{height - 16}" font-size="10" text-anchor="end">+{format_number(colormap.vmax)}</text>'
        f'<circle cx="{pad + 6}" cy="{height - 30}" r="3.5" fill="#2166ac"/>'
        f'<text x="{pad + 14}" y="{height - 26}" font-size="10">设施</text>'
        f'<path d="M{pad + 50},{height - 30}h10M{pad + 55},{height - 35}v10" stroke="#b2182b" stroke-width="2.5"/>'
        f'<text x="{pad + 64}" y="{height - 26}" font-size="10">建议选址</text>'
    )
    return (
        f'<svg class="gapmap" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="面积缺口分布图">'
        f"{''.join(shapes)}{''.join(labels)}{''.join(marks)}{legend}</svg>"
    )


# --------------------------------------------------------------------------- html


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


def _total(label: str, value: str, *, bad: bool = False) -> str:
    klass = "total bad" if bad else "total"
    return (
        f'<div class="{klass}"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div></div>'
    )


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "本标准未规定"
    whole, _, frac = format_number(value).partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "") + unit


def render_report_html(result: ComplianceResult, *, standard: Standard) -> str:
    """The printable report as one HTML page (every user string escaped)."""
    esc = html.escape
    totals = result.totals
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{esc(REPORT_TITLE)} — {esc(standard.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(REPORT_TITLE)}</h1>",
        f'<p class="meta">核查标准：{esc(standard.title)}（{esc(standard.name)}）</p>',
        f'<p class="meta">生成日期：{date.today().isoformat()}'
        + (f"；经费核算年份：{result.year}" if result.year is not None else "")
        + "</p>",
        f"<p>{esc(standard.description)}</p>",
        "<h2>汇总</h2>",
        '<div class="totals">',
        _total("社区数", f"{totals['communities']:,}"),
        _total("未达标社区", f"{totals['failing']:,}", bad=totals["failing"] > 0),
        _total(
            "面积缺口合计",
            _amount(totals["total_shortfall_m2"], " m²"),
            bad=totals["total_shortfall_m2"] > 0,
        ),
        _total("应配面积合计", _amount(totals["total_required_m2"], " m²")),
        _total("现有面积合计", _amount(totals["total_facility_area_m2"], " m²")),
        _total("应配专职工作者", _amount(totals["total_staff"], " 人")),
        _total("工作经费合计", _amount(totals["total_funds_yuan"], " 元/年")),
        _total("户数合计", f"{totals['households']:,}"),
    ]
    if totals["unassigned_households"]:
        parts.append(
            _total("不在任何社区内的户数", f"{totals['unassigned_households']:,}", bad=True)
        )
    if totals["facilities_outside"]:
        parts.append(_total("社区范围外的设施", f"{totals['facilities_outside']:,}", bad=True))
    parts.append("</div>")

    parts += [
        "<h2>面积缺口分布图</h2>",
        svg_gap_map(result),
        "<h2>各社区核查结果</h2>",
        '<p class="no-print meta">点击表头可排序。</p>',
        _community_table(result),
        "<h2>计算过程</h2>",
        _rules_table(result),
    ]
    if len(result.outside):
        parts += ["<h2>社区范围外的设施（已列出，未丢弃）</h2>", _outside_table(result)]
    parts += ["<h2>核查标准及依据</h2>", _standard_section(standard), _method_section()]
    parts += [f"<script>{_SORT_JS}</script>", "</body></html>"]
    return "\n".join(parts)


def _community_table(result: ComplianceResult) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(title)}</th>" for _, title, _ in _TABLE)
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
            klass = {
                "gap_m2": f"{kind} gap",
                "facilities": f"{kind} wide",
                "name": f"{kind} nowrap",
            }.get(column, kind)
            cells.append(f'<td class="{klass}" data-v="{esc(key, quote=True)}">{esc(text)}</td>')
        klass = "" if record["meets_standard"] else ' class="fail"'
        rows.append(f"<tr{klass}>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _rules_table(result: ComplianceResult) -> str:
    esc = html.escape
    heads = ("社区代码", "社区名称", "应配面积", "专职工作者", "工作经费", "说明")
    rows = []
    for r in result.table().to_dict("records"):
        cells = (r["community_id"], r["name"], r["area_rule"], r["staff_rule"], r["funds_rule"])
        cells += (r["notes"],)
        rows.append(
            "<tr>" + "".join(f'<td class="rule">{esc(str(c))}</td>' for c in cells) + "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _outside_table(result: ComplianceResult) -> str:
    esc = html.escape
    rows = []
    for r in result.outside.itertuples(index=False):
        point = r.geometry.representative_point()
        counted = r.counted_for or "未计入任何社区"
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{esc(str(v))}</td>"
                for v in (
                    r.facility_id,
                    r.name,
                    r.type if isinstance(r.type, str) else "—",
                    format_number(r.floor_area_m2),
                    f"{point.x:.6f}, {point.y:.6f}",
                    counted,
                )
            )
            + "</tr>"
        )
    heads = ("设施编号", "名称", "类型", "面积(m²)", "位置(经度, 纬度)", "计入社区")
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _standard_section(standard: Standard) -> str:
    esc = html.escape
    items = []
    for rule in standard.rules():
        note = f'<div class="note">说明：{esc(rule.note)}</div>' if rule.note else ""
        items.append(
            '<div class="rule-item">'
            f"<div><strong>{esc(rule.topic)}</strong>：{esc(rule.summary)}</div>"
            f"<blockquote>{esc(rule.citation)}</blockquote>"
            f'<div class="source">来源：{esc(rule.source)}</div>{note}</div>'
        )
    where = f'<p class="source">标准文件：{esc(standard.path)}</p>' if standard.path else ""
    return "".join(items) + where


def _method_section() -> str:
    lines = (
        "应配面积 = max(户数 ÷ 100 × 每百户面积, 每社区最低面积) + 附加面积；缺口 = 应配 − 现有，"
        "缺口大于0为未达标。",
        "专职工作者按“每N户1名”向上取整（N+1户需2名），再取各条规则的最大值及最低人数。",
        "设施计入其所在社区；面状设施计入重叠面积最大的社区；恰在边界上的点计入编号最小的社区。"
        "设施注明 serves（多社一站）时，按各社区户数比例分摊面积。",
        "距离为各楼栋到本社区最近计入设施的直线距离，按户数加权；90%距离指90%的住户在此距离以内。",
        "建议选址：在未配设施或面积不足的社区中，选取到全社区住户按户数加权距离之和最小的楼栋。",
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<h2>计算方法</h2><ul>{items}</ul>"
