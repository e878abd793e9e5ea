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
    # Project file (Data page)
    "data.project_label": {
        "zh": "项目文件 {file} 中的数据",
        "en": "The data of project file {file}",
    },
    "project.section": {
        "zh": "项目文件：打开或新建",
        "en": "Project file: open or create",
    },
    "project.intro": {
        "zh": "项目文件（GeoPackage，可用 QGIS 打开）保存输入图层和全部方案。打开后可载入其中一个方案"
        "继续编辑；也可把当前数据和方案存成新的项目文件。多人编辑同一方案时，后保存者若基于旧版本，"
        "系统会提示而不会覆盖。",
        "en": "A project file (GeoPackage; opens in QGIS) holds the input layers and every saved "
        "scenario. Open one and load a scenario to go on editing it, or save the current data and "
        "scenario as a new project. When two people edit one scenario, a save based on an older "
        "revision is refused with a message, never written over the other.",
    },
    "project.open": {"zh": "打开项目", "en": "Open a project"},
    "project.upload": {"zh": "上传项目文件（.gpkg）", "en": "Upload a project file (.gpkg)"},
    "project.upload.help": {
        "zh": "至多 {mb} MB。上传的文件保存在服务器的临时目录中；保存方案后可点“下载项目文件”取回。",
        "en": "At most {mb} MB. The file is kept in the server's temp folder; after saving a "
        "scenario into it, download it with 'Download the project file'.",
    },
    "project.path": {"zh": "或服务器上的路径", "en": "Or a path on the server"},
    "project.path.hint": {
        "zh": "例如 /data/projects/海曙区.gpkg",
        "en": "e.g. /data/projects/haishu.gpkg",
    },
    "project.path.help": {
        "zh": "运行本系统的服务器上的项目文件路径（共享目录中的项目可多人使用）。",
        "en": "A project file on the server running the app (a project in a shared folder can be "
        "used by several people).",
    },
    "project.open_button": {"zh": "打开", "en": "Open"},
    "project.need_path": {
        "zh": "请先填写项目文件的路径。",
        "en": "Enter the project file's path first.",
    },
    "project.no_file": {
        "zh": "服务器上没有文件 {path}。请检查路径（区分大小写），或上传项目文件。",
        "en": "There is no file {path} on the server. Check the path (case matters), or upload the "
        "project file.",
    },
    "project.too_big": {
        "zh": "{file} 有 {mb} MB，超过本系统可打开的上限 {limit} MB。请在 QGIS 中删除不需要的方案后再打开。",
        "en": "{file} is {mb} MB, more than the {limit} MB the app opens. Delete the scenarios you "
        "no longer need (e.g. in QGIS) and open it again.",
    },
    "project.open_failed": {
        "zh": "无法打开项目文件 {file}：",
        "en": "The project file {file} cannot be opened:",
    },
    "project.opened": {
        "zh": "已打开项目文件 {file}，其中有 {n} 个方案。",
        "en": "Opened the project file {file}: {n} scenario(s).",
    },
    "project.open_now": {
        "zh": "**当前项目文件：{file}**（{n} 个方案）",
        "en": "**Project file open: {file}** ({n} scenario(s))",
    },
    "project.upload_copy": {
        "zh": "这是上传文件在服务器上的副本：保存的方案写入副本，请用“下载项目文件”取回。",
        "en": "This is the server's copy of the uploaded file: scenarios are saved into the copy; "
        "take it back with 'Download the project file'.",
    },
    "project.gone": {
        "zh": "项目文件 {file} 已不在原处（被移动或删除）。请重新打开。",
        "en": "The project file {file} is no longer there (moved or deleted). Open it again.",
    },
    "project.empty": {
        "zh": "项目中还没有保存方案。可在右侧把当前方案保存进来。",
        "en": "No scenario is saved in the project yet. Save the current one into it (right).",
    },
    "project.col.name": {"zh": "方案", "en": "Scenario"},
    "project.col.revision": {"zh": "版本", "en": "Revision"},
    "project.col.author": {"zh": "编辑人", "en": "Author"},
    "project.col.modified": {"zh": "修改时间", "en": "Modified"},
    "project.col.base": {"zh": "基于", "en": "Based on"},
    "project.col.created": {"zh": "创建时间", "en": "Created"},
    "project.scenario": {"zh": "要载入的方案", "en": "Scenario to load"},
    "project.load": {"zh": "载入并编辑", "en": "Load and edit"},
    "project.load.help": {
        "zh": "把该方案设为当前方案：方案、编辑、标准、比较、导出各页都基于它；数据改为项目中的图层。",
        "en": "Make this scenario the plan every page works on (Propose, Edit, Standards, Compare, "
        "Export); the data becomes the project's layers.",
    },
    "project.loading": {"zh": "正在载入方案 {scenario}…", "en": "Loading scenario {scenario}…"},
    "project.no_scenario": {
        "zh": "项目中没有方案 {scenario}（可能已被他人删除或改名）。请重新选择。",
        "en": "The project has no scenario {scenario} (someone may have deleted or renamed it). "
        "Choose again.",
    },
    "project.load_failed": {
        "zh": "无法载入项目 {file} 中的方案 {scenario}：",
        "en": "Scenario {scenario} of {file} cannot be loaded:",
    },
    "project.moved": {
        "zh": "项目 {file} 中的方案 {scenario} 在打开后已被修改（第 {opened} 版 → 第 {now} 版，"
        "{author} 于 {modified} 保存）。请在“数据”页重新载入该方案。",
        "en": "Scenario {scenario} of {file} was saved again since it was opened (revision "
        "{opened} → {now}, by {author} at {modified}). Load it again on the Data page.",
    },
    "project.loaded": {
        "zh": "已载入方案 {scenario}（第 {revision} 版，{author} 于 {modified} 保存），"
        "现为当前方案，可前往“编辑”页继续修改。",
        "en": "Loaded scenario {scenario} (revision {revision}, saved by {author} at {modified}); "
        "it is now the plan every page works on — go on editing it on the Edit page.",
    },
    "project.working": {
        "zh": "当前方案来自本项目：{scenario}（第 {revision} 版）。正在编辑 {active}（{edits} 处修改），"
        "可在右侧“保存方案”写回项目。",
        "en": "The plan in use comes from this project: {scenario} (revision {revision}). Editing "
        "{active} ({edits} edit(s)); write it back with 'Save scenario' (right).",
    },
    "project.download": {"zh": "下载项目文件", "en": "Download the project file"},
    "project.save": {"zh": "保存到项目", "en": "Save to a project"},
    "project.save_path": {
        "zh": "项目文件路径（服务器上）",
        "en": "Project file path (on the server)",
    },
    "project.save_path.help": {
        "zh": "“新建项目文件”在此路径创建新文件（已存在则拒绝）；“保存方案”写入此处已有的项目文件。",
        "en": "'Create project file' makes a new file at this path (refused if it exists); "
        "'Save scenario' writes into the project file already there.",
    },
    "project.save_name": {"zh": "方案名称", "en": "Scenario name"},
    "project.save_name.help": {
        "zh": "字母（可用中文）、数字、“-”或“_”，至多 60 个字符，例如“方案二”或 draft-2。",
        "en": "Letters (Chinese too), digits, '-' or '_', at most 60 characters: e.g. 'draft-2' "
        "or '方案二'.",
    },
    "project.no_plan": {
        "zh": "还没有方案：“新建项目文件”只保存当前数据的图层，生成方案后再保存方案。",
        "en": "No plan yet: 'Create project file' saves the current data's layers only; save a "
        "scenario once there is a plan.",
    },
    "project.will_save": {
        "zh": "将保存方案 {active}（含 {edits} 处修改）及其修改日志。",
        "en": "Saves scenario {active} ({edits} edit(s)) with its audit log.",
    },
    "project.create": {"zh": "新建项目文件", "en": "Create project file"},
    "project.create.help": {
        "zh": "用当前数据（住户、街道、障碍、设施图层）新建项目文件，并保存当前方案。",
        "en": "A new project file with the current data (households, sub-districts, barriers, "
        "facilities) and the current scenario saved into it.",
    },
    "project.save_button": {"zh": "保存方案", "en": "Save scenario"},
    "project.save.help": {
        "zh": "把当前方案保存到已有的项目文件；同名方案须是本会话打开或保存的版本，否则不会覆盖。",
        "en": "Save the current scenario into the existing project file; a scenario of the same "
        "name is overwritten only from the revision this session opened or saved.",
    },
    "project.need_name": {"zh": "请填写方案名称。", "en": "Enter a scenario name."},
    "project.need_gpkg": {
        "zh": "{path}：项目文件须以 .gpkg 结尾。",
        "en": "{path}: a project file's name ends in .gpkg.",
    },
    "project.exists": {
        "zh": "{path} 已存在。请换一个文件名新建，或用“保存方案”写入这个项目。",
        "en": "{path} exists. Pick another name to create a project, or write into this one "
        "with 'Save scenario'.",
    },
    "project.not_there": {
        "zh": "{path} 不存在。请先“新建项目文件”，或检查路径。",
        "en": "{path} does not exist. Create the project file first, or check the path.",
    },
    "project.no_plan_to_save": {
        "zh": "没有可保存的方案：请先在“方案”页生成方案，或载入项目中的方案。",
        "en": "There is no plan to save: run a proposal on the Propose page, or load a scenario "
        "from a project.",
    },
    "project.data_refused": {
        "zh": "数据 {file} 未通过校验，无法建立项目文件。",
        "en": "The data {file} did not pass validation; no project file was made.",
    },
    "project.create_failed": {
        "zh": "无法新建项目文件 {file}：",
        "en": "The project file {file} could not be created:",
    },
    "project.created": {"zh": "已新建项目文件 {file}。", "en": "Created the project file {file}."},
    "project.created_empty": {
        "zh": "其中只有数据图层，还没有方案。",
        "en": "It holds the data layers and no scenario yet.",
    },
    "project.saved": {
        "zh": "已把方案 {scenario} 保存到 {file}（第 {revision} 版，编辑人 {author}）。",
        "en": "Saved scenario {scenario} to {file} (revision {revision}, by {author}).",
    },
    "project.save_failed": {
        "zh": "方案 {scenario} 未能保存到 {file}：",
        "en": "Scenario {scenario} could not be saved to {file}:",
    },
    "project.conflict": {
        "zh": "未保存：{file} 中的方案 {scenario} 已被他人修改或已存在，且不是本会话打开的版本。"
        "为避免覆盖他人的修改，请换一个方案名称保存，或重新载入该方案后再编辑。",
        "en": "Not saved: scenario {scenario} in {file} was changed by someone else or exists, "
        "and is not the revision this session opened. So as not to overwrite their work, save "
        "under another name, or load the scenario again and redo the edits.",
    },
    "project.other_households": {
        "zh": "未保存：{file} 中的住户（{theirs} 栋楼）与当前方案的数据（{mine} 栋楼）不同。"
        "请用“新建项目文件”为当前方案另建项目。",
        "en": "Not saved: {file} holds other households ({theirs} buildings) than the plan's "
        "data ({mine} buildings). Create a new project file for this plan.",
    },
    # Plans opened from a project (every plan page)
    "scenario.stored": {
        "zh": "项目方案 {name}（第 {revision} 版）",
        "en": "Stored scenario {name} (revision {revision})",
    },
    "edit.from_project": {
        "zh": "编辑的是项目 {file} 中的方案 {scenario}（第 {revision} 版）；在“数据”页保存回项目。",
        "en": "Editing scenario {scenario} (revision {revision}) of project {file}; save it back "
        "on the Data page.",
    },
    "propose.stored": {
        "zh": "当前方案是从项目 {file} 载入的方案 {scenario}（第 {revision} 版），参数为保存时的参数。"
        "点击“生成方案”将按上面的参数为项目数据重新划分（替换当前方案）。",
        "en": "The plan in use is scenario {scenario} (revision {revision}) loaded from project "
        "{file}, with the parameters it was saved with. Propose draws a new plan of the "
        "project's data with the parameters above (replacing it).",
    },
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
    # Navigation and links between pages
    "nav.propose": {"zh": "方案", "en": "Propose"},
    "nav.edit": {"zh": "编辑", "en": "Edit"},
    "nav.standards": {"zh": "标准", "en": "Standards"},
    "nav.compare": {"zh": "比较", "en": "Compare"},
    "nav.export": {"zh": "导出", "en": "Export"},
    "link.data": {"zh": "前往“数据”页", "en": "Go to the Data page"},
    "link.propose": {"zh": "前往“方案”页", "en": "Go to the Propose page"},
    "link.edit": {"zh": "前往“编辑”页", "en": "Go to the Edit page"},
    "link.standards": {"zh": "前往“标准”页", "en": "Go to the Standards page"},
    "link.compare": {"zh": "前往“比较”页", "en": "Go to the Compare page"},
    "link.export": {"zh": "前往“导出”页", "en": "Go to the Export page"},
    "plan.none": {
        "zh": "还没有划分方案。请先在“方案”页设置参数并生成方案。",
        "en": "There is no plan yet. Set the parameters and run a proposal on the Propose page.",
    },
    "plan.failed": {
        "zh": "方案未能生成，原因见“方案”页。",
        "en": "The proposal could not be made; the Propose page says why.",
    },
    "scenario.proposal": {"zh": "初始方案（系统生成）", "en": "Proposal (as drawn)"},
    "scenario.label": {"zh": "方案 {name}", "en": "Scenario {name}"},
    "scenario.edits": {"zh": "{n} 处修改", "en": "{n} edit(s)"},
    # Propose page
    "propose.title": {"zh": "方案", "en": "Propose"},
    "propose.intro": {
        "zh": "按户数把住户划成社区（居委会，约 2,500 户）和网格（约 250 户，每社区至多 10 个），"
        "社区不跨街道、尽量不跨主干路、河流与铁路，同一小区尽量不拆分。",
        "en": "Draw communities (residents' committees, ~2,500 households) and grids (~250, at "
        "most 10 per community) from the households: communities stay inside their sub-district, "
        "avoid crossing arterials, rivers and railways, and keep compounds whole.",
    },
    "propose.parameters": {"zh": "**参数**（数据：{file}）", "en": "**Parameters** (data: {file})"},
    "propose.propose_community_size": {"zh": "社区目标户数", "en": "Community size (households)"},
    "propose.propose_community_size.help": {
        "zh": "每个社区的目标户数；常见为 1,000–3,000 户。",
        "en": "Target households per community; 1,000–3,000 is usual.",
    },
    "propose.propose_tolerance_pct": {"zh": "社区户数容差（%）", "en": "Community tolerance (%)"},
    "propose.propose_tolerance_pct.help": {
        "zh": "允许偏离目标的比例：10% 即 2,250–2,750 户。",
        "en": "Allowed deviation from the target: 10% means 2,250–2,750 households.",
    },
    "propose.propose_grid_households": {"zh": "网格目标户数", "en": "Grid size (households)"},
    "propose.propose_grid_households.help": {
        "zh": "每个网格的目标户数；常见为 200–300 户。",
        "en": "Target households per grid; 200–300 is usual.",
    },
    "propose.propose_grid_tolerance_pct": {"zh": "网格户数容差（%）", "en": "Grid tolerance (%)"},
    "propose.propose_grid_tolerance_pct.help": {
        "zh": "网格允许偏离目标的比例。",
        "en": "Allowed deviation of a grid from its target.",
    },
    "propose.propose_max_grids": {"zh": "每社区最多网格数", "en": "Max grids per community"},
    "propose.propose_max_grids.help": {
        "zh": "一个社区至多划分的网格数。",
        "en": "The most grids one community is divided into.",
    },
    "propose.propose_seed": {"zh": "随机种子", "en": "Seed"},
    "propose.propose_seed.help": {
        "zh": "相同数据、参数和种子总得到相同方案；换一个种子可得到另一种划法。",
        "en": "The same data, parameters and seed always give the same plan; another seed "
        "gives another layout.",
    },
    "propose.standard": {"zh": "核查标准", "en": "Standard"},
    "propose.standard.help": {
        "zh": "用于核查社区服务设施面积、人员与经费的标准（可在“标准”页更换或上传）。",
        "en": "The standard the facility area, staff and funds are checked against (change or "
        "upload one on the Standards page).",
    },
    "propose.run": {"zh": "生成方案", "en": "Propose"},
    "propose.not_yet": {
        "zh": "设置参数后点击“生成方案”。八万户约需十秒。",
        "en": "Set the parameters and click Propose. 80,000 households take about ten seconds.",
    },
    "propose.other_data": {
        "zh": "下面的方案基于之前打开的数据；点击“生成方案”为当前数据重新划分。",
        "en": "The plan below was drawn from the data opened before; click Propose to draw "
        "one for the current data.",
    },
    "propose.changed": {
        "zh": "参数已修改；点击“生成方案”按新参数重新划分。",
        "en": "The parameters changed; click Propose to draw the plan with them.",
    },
    "propose.data_refused": {
        "zh": "数据 {file} 未通过校验，无法划分。请在“数据”页查看并修正问题。",
        "en": "The data {file} did not pass validation; fix it on the Data page first.",
    },
    "propose.failed": {"zh": "方案未能生成：", "en": "The proposal could not be made:"},
    "propose.stage.start": {"zh": "正在读取数据…", "en": "Reading the data…"},
    "propose.stage.tessellation": {
        "zh": "正在按街道与道路划分地块…",
        "en": "Cutting the district along sub-districts and roads…",
    },
    "propose.stage.communities": {"zh": "正在划分社区…", "en": "Drawing the communities…"},
    "propose.stage.grids": {"zh": "正在划分网格…", "en": "Drawing the grids…"},
    "propose.stage.boundaries": {"zh": "正在生成边界…", "en": "Drawing the boundaries…"},
    "propose.stage.done": {"zh": "完成", "en": "Done"},
    "propose.m.communities": {"zh": "社区数", "en": "Communities"},
    "propose.m.in_band": {"zh": "户数达标社区", "en": "Communities in band"},
    "propose.m.in_band.help": {
        "zh": "户数在 {lower}–{upper} 之间的社区所占比例。",
        "en": "Share of communities with {lower}–{upper} households.",
    },
    "propose.m.grids": {"zh": "网格数", "en": "Grids"},
    "propose.m.grids_in_band": {"zh": "户数达标网格", "en": "Grids in band"},
    "propose.m.runtime": {"zh": "用时", "en": "Run time"},
    "propose.map_caption": {
        "zh": "鼠标停在社区、网格或楼栋上可查看详情；右上角可开关图层。到“编辑”页调整方案。",
        "en": "Hover over a community, grid or building for details; switch layers top right. "
        "Adjust the plan on the Edit page.",
    },
    "propose.metrics": {"zh": "方案指标", "en": "Plan metrics"},
    "propose.compliance": {
        "zh": "按标准 {standard}：{failing} / {communities} 个社区服务设施面积不足，合计缺口 {shortfall} ㎡。",
        "en": "Against {standard}: {failing} of {communities} communities are short of facility "
        "area, {shortfall} m² in all.",
    },
    "propose.infeasible": {
        "zh": "无法满足户数区间的单元（{n}）",
        "en": "Units where a band cannot be met ({n})",
    },
    "propose.infeasible.intro": {
        "zh": "以下单元无法按设定的户数区间划分，系统已尽量接近，并说明原因。",
        "en": "These units cannot be divided within the size bands; the engine came as close as "
        "it could and says why.",
    },
    "propose.infeasible.none": {
        "zh": "所有街道都能按设定的户数区间划分。",
        "en": "Every sub-district can be divided within the size bands.",
    },
    "propose.communities": {"zh": "社区一览表", "en": "All communities"},
    "propose.infeasible.table": {"zh": "全部列为表格", "en": "All of them as a table"},
    "infeasible.count": {"zh": "（{n} 户）", "en": " ({n} households)"},
    "infeasible.engine": {"zh": "系统说明：", "en": "Engine: "},
    # Metrics
    "metric.name": {"zh": "指标", "en": "Metric"},
    "metric.communities": {"zh": "社区", "en": "Communities"},
    "metric.grids": {"zh": "网格", "en": "Grids"},
    "metric.count": {"zh": "数量", "en": "Count"},
    "metric.households_min": {"zh": "最少户数", "en": "Fewest households"},
    "metric.households_median": {"zh": "户数中位数", "en": "Median households"},
    "metric.households_max": {"zh": "最多户数", "en": "Most households"},
    "metric.share_in_band": {"zh": "户数在区间内的比例", "en": "Share in band"},
    "metric.share_within_20pct": {
        "zh": "偏离目标 20% 以内的比例",
        "en": "Share within ±20% of target",
    },
    "metric.grids_per_community_max": {"zh": "每社区最多网格", "en": "Most grids in a community"},
    "metric.polsby_popper_mean": {"zh": "紧凑度（平均）", "en": "Compactness (mean Polsby-Popper)"},
    "metric.polsby_popper_min": {"zh": "紧凑度（最低）", "en": "Compactness (lowest)"},
    "metric.multipart": {"zh": "不连片的单元", "en": "Units in several pieces"},
    "metric.gap_area_m2": {"zh": "缝隙面积", "en": "Gaps"},
    "metric.overlap_area_m2": {"zh": "重叠面积", "en": "Overlaps"},
    "metric.buildings_split": {"zh": "被拆分的楼栋", "en": "Buildings split"},
    "metric.buildings_outside_own_polygon": {
        "zh": "落在边界外的楼栋",
        "en": "Buildings outside their polygon",
    },
    "metric.compounds_fit_but_split_count": {
        "zh": "可完整却被拆分的小区",
        "en": "Compounds split though they fit",
    },
    "metric.barrier_crossings_count": {"zh": "跨越主干路、河流、铁路", "en": "Barrier crossings"},
    "metric.crossing_streets_count": {
        "zh": "跨街道的社区",
        "en": "Communities across sub-districts",
    },
    # Infeasible units
    "infeasible.level": {"zh": "层级", "en": "Level"},
    "infeasible.unit": {"zh": "单元", "en": "Unit"},
    "infeasible.households": {"zh": "户数", "en": "Households"},
    "infeasible.meaning": {"zh": "含义", "en": "What it means"},
    "infeasible.reason": {"zh": "原因（系统说明）", "en": "Reason (as the engine reports it)"},
    "infeasible.level.street": {"zh": "街道", "en": "Sub-district"},
    "infeasible.level.compound": {"zh": "小区", "en": "Compound"},
    "infeasible.level.building": {"zh": "楼栋", "en": "Building"},
    "infeasible.level.community": {"zh": "社区", "en": "Community"},
    "infeasible.level.community-band": {"zh": "社区", "en": "Community"},
    "infeasible.level.compound-scattered": {"zh": "小区", "en": "Compound"},
    "infeasible.level.grid-band": {"zh": "社区网格", "en": "Grids of"},
    "infeasible.meaning.street": {
        "zh": "该街道的户数无法整分为区间内的社区",
        "en": "The sub-district's households cannot be divided into communities within the band",
    },
    "infeasible.meaning.compound": {
        "zh": "小区户数超过一个社区的上限，只能拆分",
        "en": "The compound exceeds one community's upper bound and is split",
    },
    "infeasible.meaning.building": {
        "zh": "单栋楼户数超过网格上限，单独成为一个网格",
        "en": "One building exceeds a grid's upper bound and forms a grid of its own",
    },
    "infeasible.meaning.community": {
        "zh": "社区需要的网格数超过上限",
        "en": "The community needs more grids than allowed",
    },
    "infeasible.meaning.community-band": {
        "zh": "小区须完整、社区须连片，未找到户数在区间内的划分，此为最接近的结果",
        "en": "With compounds whole and communities in one piece, no split within the band was "
        "found; this is the closest",
    },
    "infeasible.meaning.grid-band": {
        "zh": "楼栋与小区须完整、网格须连片，未找到各网格户数都在区间内的划分，此为最接近的结果",
        "en": "With buildings and compounds whole and grids in one piece, no split of the "
        "community with every grid within the band was found; this is the closest",
    },
    "infeasible.meaning.compound-scattered": {
        "zh": "小区楼栋不连片（中间隔有其他楼栋），只能分属多个单元",
        "en": "The compound's buildings do not touch (others stand between), so it is in "
        "several units",
    },
    # Tables
    "col.community_id": {"zh": "社区代码", "en": "Community id"},
    "col.name": {"zh": "名称", "en": "Name"},
    "col.street": {"zh": "街道", "en": "Sub-district"},
    "col.households": {"zh": "户数", "en": "Households"},
    "col.grids": {"zh": "网格数", "en": "Grids"},
    "col.status": {"zh": "规模", "en": "Size"},
    "col.contiguous": {"zh": "连片", "en": "One piece"},
    "col.locked": {"zh": "已锁定", "en": "Locked"},
    # Edit page
    "edit.title": {"zh": "编辑", "en": "Edit"},
    "edit.intro": {
        "zh": "在地图上点击社区或网格将其选中（也可在右侧列表中选择），然后拆分、与相邻社区合并、"
        "移动小区或圈选范围内的楼栋、锁定、重新优化未锁定的社区；每一步都可撤销、重做。",
        "en": "Click a community or grid on the map to select it (or pick it on the right), then "
        "split it, merge it with a neighbour, move a compound or the buildings inside a drawn "
        "polygon, lock it, or re-optimise the unlocked communities; every step can be undone.",
    },
    "edit.scenario": {"zh": "当前方案", "en": "Scenario"},
    "edit.new_scenario": {"zh": "另存为新方案", "en": "Save as new"},
    "edit.new_scenario.help": {
        "zh": "复制当前方案（含已做的修改），在副本上继续编辑，便于在“比较”页对照。",
        "en": "Copy this scenario (with its edits) and keep editing the copy, to compare them "
        "on the Compare page.",
    },
    "edit.new_scenario_made": {"zh": "已新建方案 {name}。", "en": "Scenario {name} made."},
    "edit.undo": {"zh": "撤销", "en": "Undo"},
    "edit.redo": {"zh": "重做", "en": "Redo"},
    "edit.undone": {"zh": "已撤销上一步。", "en": "Undone."},
    "edit.redone": {"zh": "已重做。", "en": "Redone."},
    "edit.reoptimise": {"zh": "重新优化未锁定社区", "en": "Re-optimise unlocked"},
    "edit.reoptimise.help": {
        "zh": "锁定的社区保持不变，其余社区由系统重新划分。",
        "en": "Locked communities stay as they are; the engine draws the others again.",
    },
    "edit.author": {"zh": "编辑人", "en": "Editor"},
    "edit.author.hint": {"zh": "记入修改日志", "en": "Recorded in the audit log"},
    "edit.refused": {"zh": "未执行：", "en": "Refused:"},
    "edit.done": {"zh": "已完成：", "en": "Done: "},
    "edit.households": {"zh": "{n} 户", "en": "{n} households"},
    "edit.grids": {"zh": "{n} 个网格", "en": "{n} grids"},
    "edit.contiguous.yes": {"zh": "连片", "en": "one piece"},
    "edit.contiguous.no": {"zh": "不连片", "en": "not one piece"},
    "edit.locked": {"zh": "已锁定", "en": "locked"},
    "edit.grid_selected": {"zh": "选中网格 {grid}：{n} 户", "en": "Grid {grid}: {n} households"},
    "edit.map_caption": {
        "zh": "点击社区、网格或楼栋即选中（黑框）；左侧工具可画多边形或矩形圈选楼栋，再到“移动”中移到所选社区。",
        "en": "Click a community, grid or building to select it (black outline); the tools on "
        "the left draw a polygon or rectangle around buildings to move under Move.",
    },
    "edit.selected": {"zh": "选中的社区", "en": "Selected community"},
    "edit.community": {"zh": "社区", "en": "Community"},
    "edit.community.help": {
        "zh": "在地图上点击也可选中。",
        "en": "A click on the map selects one too.",
    },
    "edit.tab.split": {"zh": "拆分", "en": "Split"},
    "edit.tab.merge": {"zh": "合并", "en": "Merge"},
    "edit.tab.move": {"zh": "移动", "en": "Move"},
    "edit.tab.more": {"zh": "锁定·重划·改名", "en": "Lock · regrid · rename"},
    "edit.split_k": {"zh": "拆分为几个社区", "en": "Split into"},
    "edit.split": {"zh": "拆分", "en": "Split"},
    "edit.split.help": {
        "zh": "按户数均衡、连片地拆分；能完整保留的小区不拆开；网格重新划分。",
        "en": "Balanced and contiguous; compounds that fit stay whole; grids are redrawn.",
    },
    "edit.merge_with": {"zh": "与相邻社区合并", "en": "Merge with the neighbour"},
    "edit.no_neighbours": {
        "zh": "同一街道内没有相邻社区。",
        "en": "No neighbour in the same sub-district.",
    },
    "edit.merge": {"zh": "合并", "en": "Merge"},
    "edit.merge.help": {
        "zh": "所选社区保留代码和名称，相邻社区并入；网格重新划分。",
        "en": "The selected community keeps its id and name; the neighbour joins it; grids "
        "are redrawn.",
    },
    "edit.move_compound": {
        "zh": "**把小区移到相邻社区**",
        "en": "**Move a compound to a neighbour**",
    },
    "edit.compound": {"zh": "小区", "en": "Compound"},
    "edit.move_to": {"zh": "移到社区", "en": "Move to"},
    "edit.no_compounds": {
        "zh": "该社区没有带小区名称的楼栋，或没有相邻社区。",
        "en": "This community has no buildings with a compound name, or no neighbour.",
    },
    "edit.move_compound.button": {"zh": "移动小区", "en": "Move compound"},
    "edit.move_polygon": {
        "zh": "**移动圈选范围内的楼栋**",
        "en": "**Move the buildings inside a drawn polygon**",
    },
    "edit.draw_hint": {
        "zh": "先用地图左侧的多边形或矩形工具圈出楼栋。",
        "en": "First draw a polygon or rectangle around buildings with the tools on the map.",
    },
    "edit.polygon_drawn": {
        "zh": "已圈选 {buildings} 栋楼，共 {households} 户。",
        "en": "{buildings} buildings drawn around, {households} households.",
    },
    "edit.move_polygon.button": {"zh": "移动圈选的楼栋", "en": "Move the drawn buildings"},
    "edit.lock": {"zh": "锁定（边界已商定）", "en": "Lock (agreed boundary)"},
    "edit.unlock": {"zh": "解除锁定", "en": "Unlock"},
    "edit.lock.help": {
        "zh": "锁定的社区除改名外不接受任何修改，重新优化时也保持不变。",
        "en": "A locked community refuses every edit but renaming, and re-optimising leaves it.",
    },
    "edit.regrid": {"zh": "重新划分网格", "en": "Redraw its grids"},
    "edit.regrid.help": {"zh": "只重划该社区的网格。", "en": "Only this community's grids."},
    "edit.rename_name": {"zh": "新名称", "en": "New name"},
    "edit.rename_id": {"zh": "新代码", "en": "New id"},
    "edit.rename_id.help": {
        "zh": "如民政部门的 12 位社区代码，例如 330203001001。",
        "en": "Such as the bureau's 12-digit code, e.g. 330203001001.",
    },
    "edit.rename": {"zh": "改名", "en": "Rename"},
    "edit.live": {"zh": "实时概况", "en": "Live panel"},
    "edit.m.locked": {"zh": "已锁定", "en": "Locked"},
    "edit.m.violations": {"zh": "违反硬性规则", "en": "Hard-rule violations"},
    "edit.validity": {"zh": "需要关注的问题", "en": "Validity"},
    "edit.validity.none": {
        "zh": "没有问题：所有社区都在户数区间内、连片、未违反规则。",
        "en": "Nothing to look at: every community is in band, in one piece and keeps the rules.",
    },
    "edit.validity.hint": {
        "zh": "点击一行，地图缩放到该问题并选中相应社区。",
        "en": "Click a row to zoom the map to the problem and select its community.",
    },
    "edit.validity.kind": {"zh": "类别", "en": "Kind"},
    "edit.validity.message": {"zh": "说明", "en": "Details"},
    "edit.validity.kind.rule": {"zh": "违反规则", "en": "Hard rule"},
    "edit.validity.kind.band": {"zh": "户数超出区间", "en": "Out of band"},
    "edit.validity.kind.infeasible": {"zh": "无法满足", "en": "Infeasible"},
    "edit.validity.kind.locked": {"zh": "已锁定", "en": "Locked"},
    "validity.below": {
        "zh": "{id} {name}：{households} 户，少于 {lower} 户",
        "en": "{id} {name}: {households} households, below {lower}",
    },
    "validity.above": {
        "zh": "{id} {name}：{households} 户，多于 {upper} 户",
        "en": "{id} {name}: {households} households, above {upper}",
    },
    "validity.locked": {
        "zh": "{id} {name}：已锁定，重新优化时保持不变",
        "en": "{id} {name}: locked, kept when re-optimising",
    },
    "edit.kind.SplitCommunity": {
        "zh": "拆分 {community_id} 为 {k} 个",
        "en": "Split {community_id} into {k}",
    },
    "edit.kind.MergeCommunities": {"zh": "把 {b} 并入 {a}", "en": "Merge {b} into {a}"},
    "edit.kind.MoveBuildings": {"zh": "移动楼栋到 {to}", "en": "Move buildings to {to}"},
    "edit.kind.MoveCompound": {
        "zh": "把小区 {name} 移到 {to}",
        "en": "Move compound {name} to {to}",
    },
    "edit.kind.MoveInPolygon": {
        "zh": "把圈选的楼栋移到 {to}",
        "en": "Move the drawn buildings to {to}",
    },
    "edit.kind.Lock": {"zh": "锁定 {ids}", "en": "Lock {ids}"},
    "edit.kind.Unlock": {"zh": "解除锁定 {ids}", "en": "Unlock {ids}"},
    "edit.kind.Reoptimise": {"zh": "重新优化未锁定社区", "en": "Re-optimise the unlocked"},
    "edit.kind.Rename": {"zh": "改名 {community_id}", "en": "Rename {community_id}"},
    "edit.kind.Regrid": {
        "zh": "重划 {community_id} 的网格",
        "en": "Redraw the grids of {community_id}",
    },
    # Standards page
    "standards.title": {"zh": "标准", "en": "Standards"},
    "standards.intro": {
        "zh": "按所选标准核查每个社区的服务设施面积、社区工作者和工作经费；面积不足或没有设施的社区给出建议选址"
        "（使住户到设施的加权距离最短的楼栋）。",
        "en": "Check each community's facility floor area, staff and funds against the chosen "
        "standard; where the area falls short or there is no facility, a site is suggested (the "
        "building closest to the households, weighted).",
    },
    "standards.scenario": {"zh": "核查的方案", "en": "Scenario to check"},
    "standards.choose": {"zh": "标准", "en": "Standard"},
    "standards.choose.help": {
        "zh": "内置标准每一条都注明出处与原文；也可上传或修改 TOML 文件。",
        "en": "Every rule of a preset cites its source; you can also upload or edit a TOML file.",
    },
    "standards.custom": {"zh": "自定义：{file}", "en": "Custom: {file}"},
    "standards.upload": {"zh": "上传标准文件（TOML）", "en": "Upload a standard (TOML)"},
    "standards.upload.help": {
        "zh": "格式与 data/standards/ 中的预设相同；有错误时会列出全部问题。",
        "en": "The same schema as the presets in data/standards/; every problem is listed.",
    },
    "standards.edit": {
        "zh": "查看或修改当前标准（TOML）",
        "en": "View or edit the standard (TOML)",
    },
    "standards.edit.help": {
        "zh": "修改后点击“应用修改”，作为自定义标准使用；原预设文件不变。",
        "en": "Apply the changes to use them as a custom standard; the preset file is unchanged.",
    },
    "standards.toml": {"zh": "标准内容", "en": "Standard"},
    "standards.too_big": {
        "zh": "{file}：文件有 {kb} KB，标准文件最大 {limit} KB；请检查是否选错了文件。",
        "en": "{file}: the file is {kb} KB; a standards file is at most {limit} KB. Check that "
        "it is the right file.",
    },
    "standards.apply": {"zh": "应用修改", "en": "Apply changes"},
    "standards.invalid": {
        "zh": "标准 {file} 有误，未能使用：",
        "en": "The standard {file} has errors and cannot be used:",
    },
    "standards.rules": {"zh": "标准条文：{title}", "en": "Rules: {title}"},
    "standards.source": {"zh": "出处：", "en": "Source: "},
    "standards.no_facilities": {
        "zh": "数据中没有服务设施图层：每个社区的应配面积都计为缺口。在“数据”页上传设施图层可核查现有面积。",
        "en": "The data has no facility layer: each community's whole requirement counts as the "
        "gap. Upload facilities on the Data page to check existing floor area.",
    },
    "standards.m.failing": {"zh": "面积不足的社区", "en": "Communities short"},
    "standards.m.shortfall": {"zh": "合计缺口", "en": "Total shortfall"},
    "standards.m.required": {"zh": "应配面积", "en": "Required"},
    "standards.m.provided": {"zh": "现有面积", "en": "Provided"},
    "standards.m.staff": {"zh": "应配社区工作者", "en": "Staff required"},
    "standards.outside": {
        "zh": "有 {n} 处设施不在任何社区内，未计入（见导出的报告）。",
        "en": "{n} facilities lie outside every community and are not counted (see the report).",
    },
    "standards.sites": {"zh": "建议选址", "en": "Suggested sites"},
    "standards.sites.help": {
        "zh": "没有设施或面积不足的社区：使本社区住户到设施的户数加权距离最短的楼栋。",
        "en": "For communities without a facility or short of area: the building that "
        "minimises the household-weighted distance.",
    },
    "standards.table": {"zh": "核查结果", "en": "Compliance table"},
    "compliance.community_id": {"zh": "社区代码", "en": "Community id"},
    "compliance.name": {"zh": "社区名称", "en": "Community"},
    "compliance.households": {"zh": "户数", "en": "Households"},
    "compliance.population": {"zh": "人口", "en": "Population"},
    "compliance.required_area_m2": {"zh": "应配面积（㎡）", "en": "Required (m²)"},
    "compliance.facility_area_m2": {"zh": "现有面积（㎡）", "en": "Provided (m²)"},
    "compliance.gap_m2": {"zh": "缺口（㎡）", "en": "Gap (m²)"},
    "compliance.meets_standard": {"zh": "达标", "en": "Meets"},
    "compliance.staff_required": {"zh": "应配社区工作者", "en": "Staff"},
    "compliance.funds_yuan_per_year": {"zh": "工作经费（元/年）", "en": "Funds (yuan/year)"},
    "compliance.facilities": {"zh": "计入设施", "en": "Facilities counted"},
    "compliance.mean_distance_m": {"zh": "平均距离（米）", "en": "Mean distance (m)"},
    "compliance.p90_distance_m": {"zh": "90% 距离（米）", "en": "90th pct distance (m)"},
    "compliance.area_rule": {"zh": "面积计算", "en": "Area rule"},
    "compliance.notes": {"zh": "备注", "en": "Notes"},
    "sites.building": {"zh": "建议楼栋", "en": "Building"},
    "sites.lon": {"zh": "经度（WGS84）", "en": "Longitude (WGS84)"},
    "sites.lat": {"zh": "纬度（WGS84）", "en": "Latitude (WGS84)"},
    # Compare page
    "compare.title": {"zh": "比较", "en": "Compare"},
    "compare.intro": {
        "zh": "并排比较两个方案：指标差异、更换社区的户数，以及易手的区域（红色）。社区按共有户数一一对应，不按代码。",
        "en": "Two scenarios side by side: metric deltas, the households that change community "
        "and the areas that changed hands (red). Communities are matched by shared households, "
        "not by id.",
    },
    "compare.a": {"zh": "方案 A（参照）", "en": "Plan A (reference)"},
    "compare.b": {"zh": "方案 B", "en": "Plan B"},
    "compare.hint": {
        "zh": "目前只有初始方案。在“编辑”页修改方案，或“另存为新方案”后再比较。",
        "en": "There is only the proposal so far. Edit it, or save a new scenario on the Edit "
        "page, then compare.",
    },
    "compare.same": {
        "zh": "两个方案的社区划分相同。",
        "en": "The two plans assign every household alike.",
    },
    "compare.m.changed": {"zh": "更换社区的户数", "en": "Households changing community"},
    "compare.m.changed.help": {
        "zh": "在 B 中所属社区不是其 A 中社区的对应社区的户数。",
        "en": "Households whose community in B is not the match of their community in A.",
    },
    "compare.m.share": {"zh": "占总户数", "en": "Share of households"},
    "compare.m.areas": {"zh": "易手区域", "en": "Areas changing hands"},
    "compare.metrics": {"zh": "指标对比", "en": "Metrics"},
    "compare.diff": {"zh": "易手区域", "en": "Areas that changed hands"},
    "compare.area_km2": {"zh": "面积（平方公里）", "en": "Area (km²)"},
    "compare.communities": {"zh": "社区", "en": "Communities"},
    "compare.grids": {"zh": "网格", "en": "Grids"},
    "compare.compliance": {"zh": "标准", "en": "Standard"},
    "compare.delta": {"zh": "差值（B − A）", "en": "B − A"},
    # Export page
    "export.title": {"zh": "导出", "en": "Export"},
    "export.intro": {
        "zh": "下载方案：GeoJSON（RFC 7946，WGS84）、国家 2000 坐标系（CGCS2000）的 GeoPackage 与 Shapefile、"
        "带社区与网格编号的住户表、核查表与可打印报告、项目文件和修改日志。点击按钮时生成文件。",
        "en": "Download the plan: GeoJSON (RFC 7946, WGS84), GeoPackage and Shapefile in "
        "CGCS2000, the households with their community and grid, the compliance table and "
        "printable report, the project file and the audit log. Files are made when clicked.",
    },
    "export.scenario": {"zh": "导出的方案", "en": "Scenario to export"},
    "export.crs": {"zh": "GeoPackage / Shapefile 坐标系", "en": "GeoPackage / Shapefile CRS"},
    "export.crs.help": {
        "zh": "国土、规划部门通常要求 CGCS2000；投影坐标用数据所在的 3 度带（可带带号）。",
        "en": "Planning bureaus usually ask for CGCS2000; projected, in the data's 3-degree "
        "Gauss-Krüger zone (optionally with the zone number prefixed).",
    },
    "export.crs.cgcs2000": {
        "zh": "CGCS2000 经纬度（EPSG:4490）",
        "en": "CGCS2000 lon/lat (EPSG:4490)",
    },
    "export.crs.zone": {"zh": "CGCS2000 3 度带投影", "en": "CGCS2000 3-degree zone"},
    "export.crs.zone-prefixed": {"zh": "3 度带投影（带号）", "en": "3-degree zone (prefixed)"},
    "export.plan": {
        "zh": "方案（GeoJSON，WGS84）与住户表",
        "en": "Plan (GeoJSON, WGS84) and households",
    },
    "export.communities_geojson": {"zh": "社区 GeoJSON", "en": "Communities GeoJSON"},
    "export.grids_geojson": {"zh": "网格 GeoJSON", "en": "Grids GeoJSON"},
    "export.geojson.help": {
        "zh": "RFC 7946：WGS84 经纬度，7 位小数。",
        "en": "RFC 7946: WGS84 lon/lat, 7 decimals.",
    },
    "export.households_csv": {"zh": "住户表 CSV", "en": "Households CSV"},
    "export.households_csv.help": {
        "zh": "原始每一行，加上社区代码与网格编号（UTF-8，Excel 可直接打开）。",
        "en": "Every input row with its community id and grid id (UTF-8 with BOM for Excel).",
    },
    "export.bureau": {"zh": "规划部门格式（{crs}）", "en": "Bureau formats ({crs})"},
    "export.gpkg": {"zh": "GeoPackage（社区与网格）", "en": "GeoPackage (communities, grids)"},
    "export.communities_shp": {"zh": "社区 Shapefile（zip）", "en": "Communities Shapefile (zip)"},
    "export.grids_shp": {"zh": "网格 Shapefile（zip）", "en": "Grids Shapefile (zip)"},
    "export.shp.help": {
        "zh": "UTF-8 编码；字段名截短为 10 字节，对照表见压缩包内 fields.csv。",
        "en": "UTF-8; field names cut to 10 bytes, listed in fields.csv inside the zip.",
    },
    "export.compliance": {"zh": "标准核查（{standard}）", "en": "Compliance ({standard})"},
    "export.compliance.unavailable": {
        "zh": "当前标准无法核查（见“标准”页的说明）。",
        "en": "The compliance check cannot be made with the current standard (see the "
        "Standards page).",
    },
    "export.compliance_csv": {"zh": "核查表 CSV", "en": "Compliance CSV"},
    "export.report_html": {"zh": "可打印报告（HTML）", "en": "Printable report (HTML)"},
    "export.report_html.help": {
        "zh": "含标准条文与出处、汇总、明细表和缺口图；浏览器中打印为 A4 横向。",
        "en": "The standard with citations, totals, the table and a gap map; prints on A4 "
        "landscape.",
    },
    "export.compliance_geojson": {"zh": "核查结果 GeoJSON", "en": "Compliance GeoJSON"},
    "export.project": {"zh": "项目文件与修改日志", "en": "Project file and audit log"},
    "export.project_file": {"zh": "项目文件（GeoPackage）", "en": "Project file (GeoPackage)"},
    "export.project_file.help": {
        "zh": "包含输入图层和全部 {n} 个方案（社区、网格、楼栋归属、修改日志），可用 QGIS 打开。",
        "en": "The input layers and all {n} scenarios (communities, grids, assignment, audit "
        "log); opens in QGIS.",
    },
    "export.audit": {"zh": "修改日志 CSV", "en": "Audit log CSV"},
    "export.audit.help": {
        "zh": "该方案的 {n} 条修改：时间、编辑人、内容、修改前后、影响户数。",
        "en": "The scenario's {n} edits: time, editor, what, before, after, households affected.",
    },
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
