"""Every string the app shows, in Chinese (the default) and English.

``text(key, lang)`` is pure (the map builders use it); ``t(key)`` reads the language from the
session. Messages from the library (validation problems, input errors) are not translated
here: they are shown exactly as the command line prints them.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LANG", "LANGUAGES", "TEXT", "t", "text"]

DEFAULT_LANG = "zh"
LANGUAGES = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    # App and navigation
    "app.title": {"zh": "社区规划助手", "en": "Community planner"},
    "app.tagline": {
        "zh": "社区（居委会）与网格的划分、核对与导出",
        "en": "Laying out residents' committees (社区) and grids (网格)",
    },
    "nav.data": {"zh": "数据", "en": "Data"},
    # Sidebar
    "sidebar.language": {"zh": "语言 / Language", "en": "语言 / Language"},
    "sidebar.map": {"zh": "地图", "en": "Map"},
    "sidebar.basemap": {"zh": "底图", "en": "Basemap"},
    "sidebar.basemap_help": {
        "zh": "高德地图使用 GCJ-02 坐标，图层会自动偏移后绘制；离线时请选“无底图”。",
        "en": "Amap is in GCJ-02: the layers are shifted before drawing on it. "
        "Offline, choose 'None'.",
    },
    "sidebar.tianditu_key": {"zh": "天地图密钥（tk）", "en": "Tianditu key (tk)"},
    "sidebar.tianditu_help": {
        "zh": "在天地图开放平台申请的浏览器端密钥；只保存在本次会话中。",
        "en": "A browser key from the Tianditu developer console; kept in this session only.",
    },
    "map.basemap.osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "map.basemap.amap": {"zh": "高德地图（GCJ-02）", "en": "Amap (GCJ-02)"},
    "map.basemap.tianditu": {"zh": "天地图", "en": "Tianditu"},
    "map.basemap.none": {"zh": "无底图（离线）", "en": "None (offline)"},
    # Data page: choosing a source
    "data.title": {"zh": "数据", "en": "Data"},
    "data.intro": {
        "zh": "打开内置示例，或上传住户点位及可选图层。坐标系须明确声明，系统不会猜测；"
        "有问题的文件会被拒绝，并列出全部问题（文件、列、行、应为、实际、修正方法）。",
        "en": "Open the built-in sample, or upload household points and optional layers. The "
        "coordinate system is declared, never guessed; a file with problems is refused with "
        "every problem listed (file, column, rows, expected, found, fix).",
    },
    "data.open": {
        "zh": "打开数据：内置示例或上传文件",
        "en": "Open data: the built-in sample or your files",
    },
    "data.choose": {"zh": "数据来源", "en": "Data source"},
    "data.kind.sample": {"zh": "内置示例", "en": "Built-in sample"},
    "data.kind.upload": {"zh": "上传文件", "en": "Upload files"},
    "data.sample_label": {
        "zh": "内置示例（{households:,} 户，宁波，GCJ-02）",
        "en": "Built-in sample ({households:,} households, Ningbo, GCJ-02)",
    },
    "data.sample_help": {
        "zh": "合成的示范城区：封闭小区的高层与多层、老城区、城中村（每户一行）、公园与水面、"
        "街道边界、道路与河流、设施及若干现有社区。每次生成结果相同。",
        "en": "A synthetic district: gated compounds of towers and mid-rise blocks, an old "
        "town, urban villages (one row per household), parks and water, sub-districts, roads "
        "and a river, facilities and some existing communities. Deterministic.",
    },
    "data.open_sample": {"zh": "打开示例", "en": "Open the sample"},
    "data.generating": {"zh": "正在生成示例数据…", "en": "Generating the sample…"},
    "data.upload.households": {"zh": "住户数据文件", "en": "Household file"},
    "data.upload.households_help": {
        "zh": "CSV（UTF-8 或 GBK）、XLSX、GeoJSON、GeoPackage、Shapefile（zip）、GeoParquet；"
        "每户一行或每栋一行（含“户数”列）。最大 {mb} MB、{rows:,} 行。",
        "en": "CSV (UTF-8 or GBK), XLSX, GeoJSON, GeoPackage, Shapefile (zipped), GeoParquet; "
        "one row per household or one per building (with a households column). At most "
        "{mb} MB and {rows:,} rows.",
    },
    "data.upload.crs": {"zh": "坐标系", "en": "Coordinate system"},
    "data.upload.crs_help": {
        "zh": "声明坐标所用的坐标系（不会自动猜测）：高德、腾讯导出为 GCJ-02，百度为 BD-09，"
        "GPS 与 OpenStreetMap 为 WGS84；投影坐标请输入 EPSG 代码，如 4547。",
        "en": "Declare the coordinates' system (never guessed): Amap and Tencent exports are "
        "GCJ-02, Baidu is BD-09, GPS and OpenStreetMap are WGS84; for projected coordinates "
        "type an EPSG code such as 4547.",
    },
    "data.upload.crs_placeholder": {
        "zh": "请选择，或输入 EPSG 代码",
        "en": "Choose, or type an EPSG code",
    },
    "crs.wgs84": {"zh": "WGS84（GPS、OpenStreetMap）", "en": "WGS84 (GPS, OpenStreetMap)"},
    "crs.gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (Amap, Tencent)"},
    "crs.bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "crs.cgcs2000": {"zh": "CGCS2000（EPSG:4490）", "en": "CGCS2000 (EPSG:4490)"},
    "data.upload.columns": {"zh": "列映射（可选）", "en": "Column mapping (optional)"},
    "data.upload.columns_help": {
        "zh": "留空则按列名自动识别：经度、纬度、户数、楼栋编号、小区名称、人口（及英文别名）。"
        "填写后以填写为准。",
        "en": "Leave empty to find columns by name: 经度/lon, 纬度/lat, 户数/households, "
        "楼栋编号/building_id, 小区名称/compound, 人口/population. Filled in, it overrides them.",
    },
    "role.lon": {"zh": "经度列", "en": "Longitude column"},
    "role.lat": {"zh": "纬度列", "en": "Latitude column"},
    "role.households": {"zh": "户数列", "en": "Households column"},
    "role.building": {"zh": "楼栋编号列", "en": "Building id column"},
    "role.compound": {"zh": "小区名称列", "en": "Compound column"},
    "role.population": {"zh": "人口列", "en": "Population column"},
    "data.upload.layers": {"zh": "其他图层（可选）", "en": "Other layers (optional)"},
    "data.upload.layers_help": {
        "zh": "空间文件：GeoJSON、GeoPackage、Shapefile（zip）或 GeoParquet。",
        "en": "Spatial files: GeoJSON, GeoPackage, Shapefile (zipped) or GeoParquet.",
    },
    "layer.streets": {"zh": "街道（乡镇）边界", "en": "Sub-districts (街道)"},
    "layer.barriers": {"zh": "道路、河流、铁路", "en": "Roads, rivers, railways"},
    "layer.facilities": {"zh": "社区服务设施", "en": "Facilities"},
    "layer.communities": {"zh": "现有社区边界", "en": "Existing communities"},
    "data.upload.layers_crs": {"zh": "图层坐标系", "en": "CRS of the layers"},
    "data.upload.same_crs": {"zh": "与住户数据相同", "en": "Same as the household file"},
    "data.upload.submit": {"zh": "读取并校验", "en": "Read and validate"},
    "data.upload.need_file": {
        "zh": "请选择住户数据文件。",
        "en": "Choose a household file.",
    },
    "data.upload.need_crs": {
        "zh": "请声明住户数据的坐标系（系统不会自动猜测）。",
        "en": "Declare the coordinate system of the household file (it is never guessed).",
    },
    # Data page: results
    "data.current": {"zh": "当前数据：{title}", "en": "Current data: {title}"},
    "data.loading": {"zh": "正在读取并校验 {file}…", "en": "Reading and validating {file}…"},
    "data.summary": {"zh": "数据概况", "en": "Summary"},
    "metric.rows": {"zh": "数据行", "en": "Rows"},
    "metric.buildings": {"zh": "楼栋", "en": "Buildings"},
    "metric.households": {"zh": "户数", "en": "Households"},
    "metric.compounds": {"zh": "小区", "en": "Compounds"},
    "metric.population": {"zh": "人口", "en": "Population"},
    "data.file": {"zh": "文件", "en": "File"},
    "data.bbox": {"zh": "范围（WGS84 经纬度）", "en": "Bounding box (WGS84 lon/lat)"},
    "data.source_crs": {"zh": "源坐标系", "en": "Source CRS"},
    "data.metric_crs": {"zh": "计算坐标系", "en": "Metric CRS"},
    "data.encoding": {"zh": "编码", "en": "Encoding"},
    "data.columns_used": {"zh": "识别的列", "en": "Columns used"},
    "data.warnings": {"zh": "警告（{n}）", "en": "Warnings ({n})"},
    "data.no_warnings": {"zh": "校验通过，没有警告。", "en": "Valid, no warnings."},
    "data.valid_with_warnings": {
        "zh": "校验通过，有 {n} 条警告（数据已接收，请查看）。",
        "en": "Valid, with {n} warning(s) (the data was accepted; please read them).",
    },
    "data.refused": {
        "zh": "{file} 未通过校验：{errors} 个错误、{warnings} 个警告，文件未被接收。请按下列说明修正后重新上传。",
        "en": "{file} was refused: {errors} error(s) and {warnings} warning(s). Fix them as "
        "described below and upload again.",
    },
    "data.unreadable": {"zh": "无法读取数据：", "en": "The data cannot be read:"},
    "data.layers": {"zh": "图层", "en": "Layers"},
    "data.layer_ok": {
        "zh": "{layer}：{n:,} 个要素（{file}）",
        "en": "{layer}: {n:,} features ({file})",
    },
    "data.layer_refused": {
        "zh": "{layer}（{file}）未能读取，地图上不显示该图层：",
        "en": "{layer} ({file}) could not be read and is not drawn:",
    },
    "data.map": {"zh": "地图", "en": "Map"},
    "data.map_caption": {
        "zh": "楼栋多于 {n:,} 栋时按六边形汇总显示；放大地图、将鼠标停在要素上可查看详情。",
        "en": "Above {n:,} buildings they are drawn as hexagons; zoom in and hover for details.",
    },
    "data.map_fallback": {
        "zh": "已改为无底图显示。",
        "en": "Drawn without a basemap instead.",
    },
    "data.table": {"zh": "问题一览表", "en": "All problems as a table"},
    # Problems
    "punct.colon": {"zh": "：", "en": ": "},
    "problem.file": {"zh": "文件", "en": "File"},
    "problem.column": {"zh": "列", "en": "Column"},
    "problem.rows": {"zh": "行", "en": "Rows"},
    "problem.message": {"zh": "问题", "en": "Problem"},
    "problem.expected": {"zh": "应为", "en": "Expected"},
    "problem.found": {"zh": "实际", "en": "Found"},
    "problem.fix": {"zh": "修正方法", "en": "Fix"},
    "problem.severity": {"zh": "类别", "en": "Severity"},
    "severity.error": {"zh": "错误", "en": "error"},
    "severity.warning": {"zh": "警告", "en": "warning"},
    # Map (legend, tooltips, layer names)
    "map.legend.title": {"zh": "图例", "en": "Legend"},
    "map.legend.cells": {
        "zh": "每格户数（六边形 {size} 米）",
        "en": "Households per {size} m hexagon",
    },
    "map.legend.buildings": {"zh": "楼栋（面积 ∝ 户数）", "en": "Building (area ∝ households)"},
    "map.legend.streets": {"zh": "街道边界", "en": "Sub-district boundary"},
    "map.legend.communities": {"zh": "现有社区", "en": "Existing community"},
    "map.legend.facilities": {"zh": "服务设施", "en": "Facility"},
    "map.legend.road": {"zh": "主次干路", "en": "Arterial road"},
    "map.legend.minor_road": {"zh": "支路", "en": "Local road"},
    "map.legend.river": {"zh": "河流", "en": "River"},
    "map.legend.railway": {"zh": "铁路", "en": "Railway"},
    "map.layer.cells": {"zh": "楼栋（{size} 米六边形汇总）", "en": "Buildings ({size} m hexagons)"},
    "map.layer.buildings": {"zh": "楼栋", "en": "Buildings"},
    "map.layer.streets": {"zh": "街道边界", "en": "Sub-districts"},
    "map.layer.barriers": {"zh": "道路、河流、铁路", "en": "Roads, rivers, railways"},
    "map.layer.facilities": {"zh": "服务设施", "en": "Facilities"},
    "map.layer.communities": {"zh": "现有社区", "en": "Existing communities"},
    "map.layer.tianditu_labels": {"zh": "天地图注记", "en": "Tianditu labels"},
    "map.tip.buildings": {"zh": "楼栋数", "en": "Buildings"},
    "map.tip.building": {"zh": "楼栋编号", "en": "Building"},
    "map.tip.compound": {"zh": "小区", "en": "Compound"},
    "map.tip.name": {"zh": "名称", "en": "Name"},
    "map.tip.street": {"zh": "街道", "en": "Sub-district"},
    "map.tip.road_class": {"zh": "等级", "en": "Class"},
    "map.tip.type": {"zh": "类型", "en": "Type"},
    "map.tip.floor_area": {"zh": "建筑面积（㎡）", "en": "Floor area (m²)"},
    "map.tip.community_id": {"zh": "社区代码", "en": "Community id"},
    # Plan maps
    "map.tip.yes": {"zh": "是", "en": "yes"},
    "map.tip.no": {"zh": "否", "en": "no"},
    "map.tip.households": {"zh": "户数", "en": "Households"},
    "map.tip.grid_count": {"zh": "网格数", "en": "Grids"},
    "map.tip.status": {"zh": "规模", "en": "Size"},
    "map.tip.locked": {"zh": "已锁定", "en": "Locked"},
    "map.tip.grid_id": {"zh": "网格编号", "en": "Grid id"},
    "map.tip.from_community": {"zh": "原社区", "en": "From community"},
    "map.tip.to_community": {"zh": "新社区", "en": "To community"},
    "map.tip.required_area_m2": {"zh": "应配面积（㎡）", "en": "Required (m²)"},
    "map.tip.facility_area_m2": {"zh": "现有面积（㎡）", "en": "Provided (m²)"},
    "map.tip.gap_m2": {"zh": "缺口（㎡）", "en": "Gap (m²)"},
    "map.tip.site_community_id": {"zh": "社区代码", "en": "Community id"},
    "map.tip.site_name": {"zh": "社区名称", "en": "Community"},
    "map.tip.site_suggested_building_id": {"zh": "建议选址楼栋", "en": "Suggested building"},
    "map.tip.site_gap_m2": {"zh": "面积缺口（㎡）", "en": "Area gap (m²)"},
    "map.label.households": {"zh": "{n} 户", "en": "{n} hh"},
    "map.label.locked": {"zh": "（锁定）", "en": " (locked)"},
    "map.status.in_band": {"zh": "在区间内", "en": "in band"},
    "map.status.below": {"zh": "偏小", "en": "below band"},
    "map.status.above": {"zh": "偏大", "en": "above band"},
    "map.layer.plan_communities": {"zh": "社区", "en": "Communities"},
    "map.layer.grids": {"zh": "网格", "en": "Grids"},
    "map.layer.plan_buildings_aggregated": {
        "zh": "楼栋（按 {size} 米六边形与社区汇总）",
        "en": "Buildings (per {size} m hexagon and community)",
    },
    "map.layer.diff": {"zh": "变动区域", "en": "Areas that changed hands"},
    "map.layer.selection": {"zh": "选中", "en": "Selection"},
    "map.layer.gap": {"zh": "设施面积缺口", "en": "Facility area gap"},
    "map.layer.gap_labels": {"zh": "缺口标注", "en": "Gap labels"},
    "map.layer.sites": {"zh": "建议选址", "en": "Suggested sites"},
    "map.legend.plan_communities": {
        "zh": "社区（相邻社区颜色不同；标注：代码、户数）",
        "en": "Community (neighbours differ; label: id, households)",
    },
    "map.legend.out_of_band": {
        "zh": "户数不在 {lower}–{upper} 之间",
        "en": "Households outside {lower}–{upper}",
    },
    "map.legend.locked": {"zh": "已锁定（边界已商定）", "en": "Locked (agreed boundary)"},
    "map.legend.grids": {"zh": "网格边界", "en": "Grid boundary"},
    "map.legend.plan_buildings_aggregated": {
        "zh": "楼栋（面积 ∝ 户数；按 {size} 米六边形与社区汇总）",
        "en": "Buildings (area ∝ households; per {size} m hexagon and community)",
    },
    "map.legend.diff": {"zh": "变动区域（住户换了社区）", "en": "Changed hands (households moved)"},
    "map.legend.gap": {"zh": "设施面积缺口", "en": "Facility area gap"},
    "map.legend.gap_hint": {
        "zh": "红：面积不足；绿：面积富余",
        "en": "Red: short of area; green: surplus",
    },
    "map.legend.sites": {"zh": "建议选址", "en": "Suggested site"},
    "map.draw.polygon": {
        "zh": "画多边形，圈选要移动的楼栋",
        "en": "Draw a polygon around buildings",
    },
    "map.draw.rectangle": {
        "zh": "画矩形，圈选要移动的楼栋",
        "en": "Draw a rectangle around buildings",
    },
    "map.draw.cancel_title": {"zh": "取消绘制", "en": "Cancel drawing"},
    "map.draw.cancel": {"zh": "取消", "en": "Cancel"},
    "map.draw.finish_title": {"zh": "完成绘制", "en": "Finish drawing"},
    "map.draw.finish": {"zh": "完成", "en": "Finish"},
    "map.draw.undo_title": {"zh": "删除上一个点", "en": "Delete the last point"},
    "map.draw.undo": {"zh": "撤销上一点", "en": "Delete last point"},
    "map.draw.start": {"zh": "点击开始绘制", "en": "Click to start drawing"},
    "map.draw.cont": {"zh": "点击继续绘制", "en": "Click to continue drawing"},
    "map.draw.end": {"zh": "点击第一个点闭合", "en": "Click the first point to close"},
    "map.draw.rect": {"zh": "按住并拖动画矩形", "en": "Click and drag to draw a rectangle"},
    "map.draw.release": {"zh": "松开鼠标完成", "en": "Release the mouse to finish"},
    "map.draw.remove": {"zh": "删除所画图形", "en": "Delete drawings"},
    "map.draw.remove_disabled": {"zh": "没有可删除的图形", "en": "Nothing to delete"},
    "map.draw.save": {"zh": "保存", "en": "Save"},
    "map.draw.clear": {"zh": "全部清除", "en": "Clear all"},
}


def text(key: str, lang: str = DEFAULT_LANG) -> str:
    """The string for ``key`` in ``lang`` (falls back to Chinese, then to the key itself)."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry[DEFAULT_LANG]


def t(key: str, **values: object) -> str:
    """The string for ``key`` in the session's language, formatted with ``values``."""
    import streamlit as st  # here, so that text() and the map builders need no streamlit

    lang = st.session_state.get("lang", DEFAULT_LANG)
    template = text(key, lang)
    return template.format(**values) if values else template
