"""A synthetic but realistic Chinese urban district to try the planner on.

The district sits in Ningbo (centre 121.54°E, 29.87°N), about 4.8 km × 3.8 km for the default
80,000 households (its sides grow with the square root of the household count, so density stays
put). It is built in the CGCS2000 3-degree Gauss-Krüger zone of Ningbo (``metric_crs_for``:
EPSG:4550, CM 123°E) and only converted at the end:

- a slightly irregular grid of arterial roads (``primary``/``secondary``) every 800–1,200 m,
  local roads (``tertiary``/``residential``) between them, a meandering river (姚江), and a
  railway across the north-east;
- sub-districts (街道) that tile the district, bounded by arterials and the river;
- land use per block (the faces between barrier lines): gated compounds (小区) of towers or
  mid-rise blocks, an old town (老城区) of walk-ups in small 院落 or without a compound name,
  urban villages (城中村) given one row per household, parks, the river corridor, and blocks
  with nobody in them (work places, schools, farmland);
- hard cases on purpose: one compound too big for one community, one 420-household tower (too
  big for one grid), street totals that are not multiples of 2,500;
- facilities (社区综合服务设施, 党群服务中心, 养老服务站, 卫生服务站), about one per 2,500
  households but unevenly spread;
- the current plan (communities with 12-digit codes), some oversized and some undersized, with
  two gaps.

:func:`build_sample` returns the layers in WGS84 (EPSG:4326). :func:`write_sample` writes them
in **GCJ-02** lon/lat (the system of Amap/Tencent exports): the households CSV and every
GeoJSON, so the whole sample is read with one declared CRS, ``gcj02`` (:data:`SAMPLE_CRS`).
Those GeoJSON files therefore break RFC 7946 on purpose and carry a ``coordinate_system`` member
saying so. Everything is a function of ``(households, seed)``: the same pair gives the same bytes.

Run ``python -m samples.district data/boundaries`` to rewrite the boundary layers shipped in the
repository (streets, barriers, facilities, communities for the defaults).
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import mapping

from geo.crs import metric_crs_for, wgs84_to_gcj02
from geo.errors import PlanningInputError
from geo.records import GeoMessage

__all__ = [
    "BOUNDARY_LAYERS",
    "CENTRE_LONLAT",
    "HOUSEHOLD_COLUMNS",
    "MAX_HOUSEHOLDS",
    "MIN_HOUSEHOLDS",
    "SAMPLE_CRS",
    "SampleDistrict",
    "build_sample",
    "write_boundaries",
    "write_sample",
]

#: The CRS every file :func:`write_sample` writes is in (declare it when reading them back).
SAMPLE_CRS = "gcj02"
#: WGS84 lon/lat of the district centre (Ningbo).
CENTRE_LONLAT = (121.54, 29.87)
#: Columns of households.csv, in order: lon, lat (GCJ-02), households, building id, compound
#: name (empty when the building has none), population.
HOUSEHOLD_COLUMNS = ("经度", "纬度", "户数", "楼栋编号", "小区名称", "人口")
#: The boundary layers (everything but the households), as shipped in ``data/boundaries``.
BOUNDARY_LAYERS = ("streets", "barriers", "facilities", "communities")
#: The household counts :func:`build_sample` accepts.
MIN_HOUSEHOLDS = 5_000
MAX_HOUSEHOLDS = 20_000_000

_DECIMALS = 7
_ADMIN_PREFIX = "330203"  # Zhejiang 33, Ningbo 02, Haishu 03
_BASE_HOUSEHOLDS = 80_000
_BASE_SIZE_M = (4_800.0, 3_800.0)
_HOUSEHOLDS_PER_STREET = 16_000
_OVERSHOOT_M = 1.0  # lines run this far past the lines they end on, so noding sees a crossing

# Corridor half-width + setback: no building centre closer than this to the line (metres).
_CLEARANCE_M = {
    "primary": 35.0,
    "secondary": 30.0,
    "tertiary": 22.0,
    "residential": 17.0,
    "railway": 35.0,
    "river": 75.0,
}
_RIVER_HALF_WIDTH_M = 55.0
_EDGE_CLEARANCE_M = 15.0
_SETBACK_ESTIMATE_M = 25.0

# Building kinds: lattice spacing (m) and households per building (range, mean).
_LATTICE_M = {
    "tower": (55.0, 100.0),
    "midrise": (40.0, 48.0),
    "walkup": (22.0, 30.0),
    "village": (12.0, 13.0),
}
_MEAN_HOUSEHOLDS = {"tower": 180.0, "midrise": 54.0, "walkup": 21.0, "village": 2.7}
# Share of a block's buildable land a compound takes (the rest: shops, schools, offices).
_BLOCK_SHARE = {"tower": (0.3, 0.7), "midrise": (0.3, 0.7), "walkup": (0.6, 0.85)}
_HOUSEHOLD_RANGE = {"tower": (96, 264), "midrise": (24, 90), "walkup": (12, 36), "village": (1, 6)}
_BIG_TOWER_HOUSEHOLDS = 420
_CHINESE_DIGITS = "〇一二三四五六七八九"
_PERSONS_PER_HOUSEHOLD = 2.6

_STREET_NAMES = (
    "西门", "北岸", "东湖", "南苑", "江滨", "月湖", "鼓楼", "白云", "望春", "段塘", "石碶", "古林",
    "高桥", "集士港", "横街", "龙观", "章水", "洞桥", "鄞江", "江厦", "南门", "新芝", "甬江",
    "庄桥", "洪塘", "湾头", "福明", "百丈", "明楼", "东胜", "白鹤", "潘火", "钟公庙", "首南",
    "下应", "中河",
)  # fmt: skip
_EW_ARTERIALS = (
    "中山路", "药行街", "柳汀街", "环城北路", "大闸路", "灵桥路", "南站路", "天童路", "兴宁路",
    "百丈路", "世纪大道", "四明路", "鄞州大道", "钱湖路", "嵩江路", "泰康路", "贸城路",
    "广德湖路", "启运路", "前河路",
)  # fmt: skip
_NS_ARTERIALS = (
    "解放路", "镇明路", "望春路", "机场路", "丽园路", "长春路", "苍松路", "翠柏路", "环城西路",
    "常青藤路", "宁穿路", "桑田路", "中兴路", "江东路", "福明路", "天童北路", "新典路",
    "青林湾路", "段塘路", "气象路",
)  # fmt: skip
_OLD_LANES = (
    "县学街", "孝闻街", "天一街", "开明街", "公园路", "秀水街", "莲桥街", "大沙泥街", "郡庙街",
    "府桥街", "鼓楼前", "偃月街", "尚书街", "青石街", "马衙街", "君子营", "平桥街", "迎凤街",
    "槐树路", "陈家巷",
)  # fmt: skip
_COMPOUND_NAMES = (
    "翠园小区", "锦绣花园", "阳光家园", "白云新村", "华侨城", "春江花城", "香樟苑", "怡江苑",
    "天水家园", "丽晶国际", "清水湾", "书香苑", "和美家园", "紫郡", "金色水岸",
)  # fmt: skip
_PARK_NAMES = ("月湖公园", "日湖公园", "中山公园", "三江口公园", "姚江公园", "樱花公园", "湿地公园")
_FIRST = "翠锦阳金银碧华紫和嘉瑞盛福康泰安御龙凤海江湖春秋明丽云星月景兰桂梅竹松柏桃李杏樱荷菊枫柳杨桐文德仁信雅逸宁庆永祥兴旺昌隆鸿鹏"
_SECOND = "园苑庭城湾庄府轩阁都汇晖辉悦澜溪林桥山水洲岸邸院居郡泉港源"
_COMPOUND_SUFFIXES = (
    "小区",
    "花园",
    "家园",
    "新村",
    "公寓",
    "名苑",
    "华庭",
    "雅苑",
    "佳苑",
    "嘉园",
)
_PLACE_SECOND = "桥湖门河塘浦港浜漕埠岙山园苑亭楼巷弄坊庙寺岭墩"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱"
    "严武戴莫孔汤"
)
_VILLAGE_SUFFIXES = ("家村", "家桥村", "家漕村", "家埭村")
_LOCAL_SUFFIXES = ("路", "街", "巷")
_FACILITY_TYPES = (
    # type, name suffix, weight, floor area range m²
    ("社区综合服务设施", "社区服务中心", 0.45, (300, 1500)),
    ("党群服务中心", "社区党群服务中心", 0.25, (300, 1200)),
    ("养老服务站", "社区居家养老服务站", 0.18, (200, 800)),
    ("卫生服务站", "社区卫生服务站", 0.12, (200, 600)),
)


@dataclass(frozen=True, eq=False)
class SampleDistrict:
    """The layers of a synthetic district, all GeoDataFrames in WGS84 (EPSG:4326).

    Attributes
    ----------
    households : geopandas.GeoDataFrame
        One row per building, except urban-village houses: one row per household there (each
        ``households`` = 1, the rows of a house share ``building_id`` and coordinates).
        Columns ``building_id`` (str), ``households`` (int), ``population`` (int),
        ``compound`` (str; missing where a building has no compound name), ``kind``
        (tower | midrise | walkup | village), ``floors`` (int), ``street`` (街道 name), Point
        geometry. Sorted by ``building_id``.
    streets : geopandas.GeoDataFrame
        Sub-districts (街道) tiling the district: ``name``, ``street_code`` (9 digits),
        ``households``, Polygon.
    barriers : geopandas.GeoDataFrame
        ``kind`` (road | river | railway), ``road_class`` (primary | secondary | tertiary |
        residential for roads, None otherwise), ``name``, LineString.
    facilities : geopandas.GeoDataFrame
        ``facility_id``, ``name``, ``type``, ``floor_area_m2`` (int), Point.
    communities : geopandas.GeoDataFrame
        The current plan: ``community_id`` (12-digit text), ``name``, ``street``,
        ``households`` (counted from ``households``), Polygon. Tiles each street but for two
        gaps.
    open_spaces : geopandas.GeoDataFrame
        Where nobody lives on purpose: ``kind`` (park | water), ``name``, Polygon (not written
        by :func:`write_sample`; for checks and maps).
    metric_crs : pyproj.CRS
        The metric CRS the district was built in (CGCS2000 3-degree GK zone, EPSG:4550).
    """

    households: geopandas.GeoDataFrame
    subdistricts: geopandas.GeoDataFrame
    barriers: geopandas.GeoDataFrame
    facilities: geopandas.GeoDataFrame
    communities: geopandas.GeoDataFrame
    open_spaces: geopandas.GeoDataFrame
    metric_crs: pyproj.CRS

    def layer(self, name: str) -> geopandas.GeoDataFrame:
        """A layer by its file name (the 街道 are written as ``streets.geojson``)."""
        return getattr(self, "subdistricts" if name == "streets" else name)


# ---------------------------------------------------------------------------------------------
# Public API


def build_sample(
    *, households: int = 80_000, seed: int = 0, subdistricts: int | None = None
) -> SampleDistrict:
    """Build the synthetic district (pure: nothing is written).

    Parameters
    ----------
    households : int, keyword-only
        Total households; the result holds exactly this many. Between :data:`MIN_HOUSEHOLDS`
        and :data:`MAX_HOUSEHOLDS`.
    seed : int, keyword-only
        Seed of the only random generator used; the same seed gives the same district.
    subdistricts : int | None, keyword-only
        How many 街道 to aim for (at least 2: the river divides the district; fewer may be
        made where the arterials allow no more). None: one per ~25,000 households, at least 4
        (the default district). Few large 街道 are what scale benchmarks need.

    Returns
    -------
    SampleDistrict
        Every layer in WGS84 (EPSG:4326).

    Raises
    ------
    PlanningInputError
        When ``households`` or ``seed`` is out of range.
    """
    households = _checked_int("households", households, MIN_HOUSEHOLDS, MAX_HOUSEHOLDS)
    seed = _checked_int("seed", seed, 0, 2**63 - 1)
    if subdistricts is not None:
        subdistricts = _checked_int("subdistricts", subdistricts, 2, 999)
    metric_crs = metric_crs_for(*CENTRE_LONLAT)
    net = _network(households, seed)
    blocks = _blocks(net, subdistricts=subdistricts)
    plan = _land_use(net, blocks, households, seed)
    buildings = _buildings(net, blocks, plan, households, seed)
    block_households = np.bincount(
        buildings["block"], weights=buildings["households"], minlength=len(blocks.geoms)
    ).astype(np.int64)
    communities = _communities(net, blocks, block_households, seed)
    facilities = _facilities(buildings, communities, households, seed)

    to_wgs84 = _metric_to_wgs84(net, metric_crs)
    rows = _household_rows(buildings, blocks, seed)
    subdistricts = _subdistrict_frame(net, blocks, block_households)
    return SampleDistrict(
        households=_frame(rows, to_wgs84),
        subdistricts=_frame(subdistricts, to_wgs84),
        barriers=_frame(_barrier_rows(net), to_wgs84),
        facilities=_frame(facilities, to_wgs84),
        communities=_frame(communities, to_wgs84),
        open_spaces=_frame(_open_spaces(net, blocks, plan), to_wgs84),
        metric_crs=metric_crs,
    )


def write_sample(
    outdir: str | Path, *, households: int = 80_000, seed: int = 0, subdistricts: int | None = None
) -> dict[str, Path]:
    """Build the district and write it in GCJ-02 lon/lat (declare ``crs="gcj02"`` to read).

    Writes ``households.csv`` (UTF-8 with BOM; columns :data:`HOUSEHOLD_COLUMNS`; lon/lat with
    7 decimals; one row per building, one per household in urban villages) and
    ``streets.geojson``, ``barriers.geojson``, ``facilities.geojson``, ``communities.geojson``
    (UTF-8, Chinese unescaped, coordinates rounded to 7 decimals, one feature per line).

    Parameters
    ----------
    outdir : str | pathlib.Path
        Folder to write into (created if missing; files of the same names are replaced).
    households, seed : int, keyword-only
        As for :func:`build_sample`.
    subdistricts : int | None, keyword-only
        As for :func:`build_sample`.

    Returns
    -------
    dict[str, pathlib.Path]
        Keys ``households``, ``streets``, ``barriers``, ``facilities``, ``communities``.
    """
    sample = build_sample(households=households, seed=seed, subdistricts=subdistricts)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {"households": _write_households_csv(sample.households, outdir / "households.csv")}
    paths.update(write_boundaries(sample, outdir))
    return paths


def write_boundaries(sample: SampleDistrict, outdir: str | Path) -> dict[str, Path]:
    """Write the four boundary layers of a sample as GCJ-02 GeoJSON (see :func:`write_sample`).

    Parameters
    ----------
    sample : SampleDistrict
        From :func:`build_sample`.
    outdir : str | pathlib.Path
        Folder to write into (created if missing).

    Returns
    -------
    dict[str, pathlib.Path]
        Keys :data:`BOUNDARY_LAYERS`.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return {
        layer: _write_gcj02_geojson(sample.layer(layer), outdir / f"{layer}.geojson", layer)
        for layer in BOUNDARY_LAYERS
    }


def _checked_int(name: str, value: object, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not (low <= int(value) <= high)
    ):
        raise PlanningInputError(
            GeoMessage.of("sample.out_of_range", name=name, value=repr(value), low=low, high=high)
        )
    return int(value)


def _rng(seed: int, stage: int) -> np.random.Generator:
    """An independent generator per stage, so one stage's draws never shift another's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stage,)))


# ---------------------------------------------------------------------------------------------
# Road network, river, railway


@dataclass(frozen=True, eq=False)
class _Net:
    width_m: float
    height_m: float
    x_cuts: np.ndarray  # nominal x of the N-S arterials (interior), ascending
    y_cuts: np.ndarray  # nominal y of the E-W arterials (interior), ascending
    ns_lines: tuple[np.ndarray, ...]  # (n, 2) vertices, y ascending
    ew_lines: tuple[np.ndarray, ...]  # (n, 2) vertices, x ascending
    river: np.ndarray  # (n, 2), x ascending
    railway: np.ndarray  # (n, 2)
    lines: np.ndarray  # shapely LineStrings: every barrier line as noded for the blocks
    line_kind: np.ndarray  # road | river | railway
    line_class: np.ndarray  # primary | secondary | tertiary | residential | None
    line_name: np.ndarray
    district: shapely.Polygon
    old_centre: tuple[float, float]
    old_radius_m: float
    giant_cell: tuple[int, int]


def _wave(t: np.ndarray, rng: np.random.Generator, amplitude_m: float) -> np.ndarray:
    a1 = rng.uniform(0.5, 0.75) * amplitude_m
    a2 = amplitude_m - a1
    l1, l2 = rng.uniform(1500.0, 3000.0), rng.uniform(500.0, 900.0)
    p1, p2 = rng.uniform(0, 2 * math.pi, 2)
    return a1 * np.sin(2 * math.pi * t / l1 + p1) + a2 * np.sin(2 * math.pi * t / l2 + p2)


def _cuts(length_m: float, rng: np.random.Generator) -> np.ndarray:
    """Interior positions of arterials across ``length_m``, spaced 800–1,200 m apart."""
    count = max(2, round(length_m / 1000.0))
    for _ in range(100):
        spacing = rng.uniform(0.85, 1.15, count)
        spacing *= length_m / spacing.sum()
        if count == 2 or (spacing.min() >= 700 and spacing.max() <= 1300):
            break
    return np.cumsum(spacing)[:-1]


def _network(households: int, seed: int) -> _Net:
    rng = _rng(seed, 1)
    scale = math.sqrt(households / _BASE_HOUSEHOLDS)
    width, height = _BASE_SIZE_M[0] * scale, _BASE_SIZE_M[1] * scale
    x_cuts, y_cuts = _cuts(width, rng), _cuts(height, rng)

    # Arterials: wavy lines across the district, vertices every 100 m, ±30 m at most.
    ns_lines, ew_lines = [], []
    ts = np.linspace(-_OVERSHOOT_M, height + _OVERSHOOT_M, max(3, round(height / 100) + 1))
    for x in x_cuts:
        ns_lines.append(np.column_stack([x + _wave(ts, rng, 28.0), ts]))
    ts = np.linspace(-_OVERSHOOT_M, width + _OVERSHOOT_M, max(3, round(width / 100) + 1))
    for y in y_cuts:
        ew_lines.append(np.column_stack([ts, y + _wave(ts, rng, 28.0)]))

    # River: a smooth meander west to east, vertices every 20 m.
    xs = np.linspace(-_OVERSHOOT_M, width + _OVERSHOOT_M, max(3, round(width / 20) + 1))
    amplitude = min(550.0, 0.09 * height)
    y_river = height * rng.uniform(0.44, 0.52)
    l1, l2 = rng.uniform(5000, 7000), rng.uniform(1800, 2600)
    p1, p2 = rng.uniform(0, 2 * math.pi, 2)
    ys = (
        y_river
        + amplitude * np.sin(2 * math.pi * xs / l1 + p1)
        + 0.3 * amplitude * np.sin(2 * math.pi * xs / l2 + p2)
    )
    river = np.column_stack([xs, ys])

    # Railway: a gentle curve across the north-east, from the north edge to the east edge.
    y_end = min(height * 0.9, ys.max() + max(0.12 * height, 400.0))
    x_start = width * rng.uniform(0.5, 0.6)
    p0 = np.array([x_start, height + _OVERSHOOT_M])
    p2 = np.array([width + _OVERSHOOT_M, y_end])
    p1 = np.array([x_start + 0.2 * (width - x_start), y_end + 0.35 * (height - y_end)])
    t = np.linspace(0.0, 1.0, 60)[:, None]
    railway = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2

    # The old town: west of centre, on the river; its radius fits ~18% of the households at
    # ~200 households per hectare of land (roads included).
    x_old = width * rng.uniform(0.38, 0.46)
    old_centre = (x_old, float(np.interp(x_old, xs, ys)) + rng.uniform(-100.0, 250.0))
    old_radius = math.sqrt(0.18 * households / 200.0 * 10_000 / math.pi)

    x_edges = np.r_[0.0, x_cuts, width]
    y_edges = np.r_[0.0, y_cuts, height]
    railway_line = shapely.LineString(railway)
    giant_cell = _giant_cell(
        x_edges,
        y_edges,
        river=river,
        railway_line=railway_line,
        old_centre=old_centre,
        old_radius=old_radius,
        rng=rng,
    )

    # Local roads: 1–2 each way per arterial cell (2–3 in the old town, none in the giant's).
    local_lines, local_class = [], []
    for i in range(len(x_edges) - 1):
        for j in range(len(y_edges) - 1):
            if (i, j) == giant_cell:
                continue
            cx, cy = (x_edges[i] + x_edges[i + 1]) / 2, (y_edges[j] + y_edges[j + 1]) / 2
            old = math.hypot(cx - old_centre[0], cy - old_centre[1]) < old_radius + 500
            counts = rng.integers(2, 4, 2) if old else rng.choice([1, 1, 2], 2)
            lines = _cell_locals(
                i,
                j,
                x_edges=x_edges,
                y_edges=y_edges,
                ns_lines=ns_lines,
                ew_lines=ew_lines,
                counts=counts,
                rng=rng,
            )
            local_lines += lines
            major = rng.random(len(lines)) < (0.2 if old else 0.45)
            local_class += ["tertiary" if m else "residential" for m in major]

    arterial_class = _arterial_classes(len(ns_lines), len(ew_lines), rng)
    names = _road_names(
        x_cuts, y_cuts, width=width, height=height, n_local=len(local_lines), rng=rng
    )
    lines = (
        [shapely.LineString(v) for v in ns_lines]
        + [shapely.LineString(v) for v in ew_lines]
        + local_lines
        + [shapely.LineString(river), railway_line]
    )
    n_art = len(ns_lines) + len(ew_lines)
    kind = ["road"] * (n_art + len(local_lines)) + ["river", "railway"]
    road_class = arterial_class + local_class + [None, None]
    name = [*names, "姚江", "萧甬铁路"]
    return _Net(
        width_m=width,
        height_m=height,
        x_cuts=x_cuts,
        y_cuts=y_cuts,
        ns_lines=tuple(ns_lines),
        ew_lines=tuple(ew_lines),
        river=river,
        railway=railway,
        lines=np.array(lines, dtype=object),
        line_kind=np.array(kind, dtype=object),
        line_class=np.array(road_class, dtype=object),
        line_name=np.array(name, dtype=object),
        district=shapely.box(0.0, 0.0, width, height),
        old_centre=old_centre,
        old_radius_m=old_radius,
        giant_cell=giant_cell,
    )


def _giant_cell(x_edges, y_edges, *, river, railway_line, old_centre, old_radius, rng):
    """An arterial cell clear of the river, the railway and the old town, not too far out."""
    width, height = x_edges[-1], y_edges[-1]
    best: list[tuple[int, int]] = []
    fallback: list[tuple[int, int]] = []
    for i in range(len(x_edges) - 1):
        for j in range(len(y_edges) - 1):
            x0, x1, y0, y1 = x_edges[i], x_edges[i + 1], y_edges[j], y_edges[j + 1]
            in_x = (river[:, 0] >= x0 - 100) & (river[:, 0] <= x1 + 100)
            r_lo, r_hi = river[in_x, 1].min(), river[in_x, 1].max()
            if not (y1 + 120 < r_lo or y0 - 120 > r_hi):
                continue
            if shapely.distance(shapely.box(x0, y0, x1, y1), railway_line) < 120:
                continue
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            if math.hypot(cx - old_centre[0], cy - old_centre[1]) < old_radius + 700:
                continue
            fallback.append((i, j))
            spread = math.hypot((cx - width / 2) / width, (cy - height / 2) / height)
            if 0.12 <= spread <= 0.4:
                best.append((i, j))
    pool = best or fallback or [(0, 0)]
    return pool[int(rng.integers(len(pool)))]


def _cell_locals(i, j, *, x_edges, y_edges, ns_lines, ew_lines, counts, rng):
    """Straight local roads across one arterial cell, ending 1 m past the arterials."""
    n_x, n_y = len(x_edges) - 1, len(y_edges) - 1
    x0, x1, y0, y1 = x_edges[i], x_edges[i + 1], y_edges[j], y_edges[j + 1]
    out = []
    n_v, n_h = int(counts[0]), int(counts[1])
    for k in range(n_v):
        x = x0 + (x1 - x0) * ((k + 1) / (n_v + 1) + rng.uniform(-0.06, 0.06))
        lo = -_OVERSHOOT_M if j == 0 else _at(ew_lines[j - 1], x, axis=0) - _OVERSHOOT_M
        hi = y1 + _OVERSHOOT_M if j == n_y - 1 else _at(ew_lines[j], x, axis=0) + _OVERSHOOT_M
        out.append(shapely.LineString([(x, lo), (x, hi)]))
    for k in range(n_h):
        y = y0 + (y1 - y0) * ((k + 1) / (n_h + 1) + rng.uniform(-0.06, 0.06))
        lo = -_OVERSHOOT_M if i == 0 else _at(ns_lines[i - 1], y, axis=1) - _OVERSHOOT_M
        hi = x1 + _OVERSHOOT_M if i == n_x - 1 else _at(ns_lines[i], y, axis=1) + _OVERSHOOT_M
        out.append(shapely.LineString([(lo, y), (hi, y)]))
    return out


def _at(vertices: np.ndarray, t, *, axis: int):
    """The other coordinate of a monotone polyline at ``t`` along ``axis`` (0: x, 1: y)."""
    return np.interp(t, vertices[:, axis], vertices[:, 1 - axis])


def _arterial_classes(n_ns: int, n_ew: int, rng: np.random.Generator) -> list[str]:
    out = []
    for n in (n_ns, n_ew):
        primary = rng.random(n) < 0.4
        primary[n // 2] = True  # the middle one each way is a main road
        out += ["primary" if p else "secondary" for p in primary]
    return out


def _road_names(x_cuts, y_cuts, *, width, height, n_local, rng) -> list[str]:
    """Arterial names nearest the centre first (中山路, 解放路 …), then generated local names."""
    pool = _name_pool(_FIRST, _PLACE_SECOND, _LOCAL_SUFFIXES, rng)
    used = set(_NS_ARTERIALS + _EW_ARTERIALS)
    pool = [p for p in pool if p not in used]
    names: list[str] = []
    for cuts, size, curated in ((x_cuts, width, _NS_ARTERIALS), (y_cuts, height, _EW_ARTERIALS)):
        order = np.argsort(np.abs(cuts - size / 2), kind="stable")
        given = [""] * len(cuts)
        for rank, k in enumerate(order):
            given[k] = curated[rank] if rank < len(curated) else pool.pop()
        names += given
    return names + [pool[k % len(pool)] for k in range(n_local)]


def _name_pool(first: str, second: str, suffixes: Sequence[str], rng) -> list[str]:
    """Every first+second+suffix name, shuffled (deterministic for the generator)."""
    firsts = list(dict.fromkeys(first))
    seconds = list(dict.fromkeys(second)) or [""]
    names = [a + b + s for s in suffixes for a in firsts for b in seconds if a != b]
    order = rng.permutation(len(names))
    return [names[k] for k in order]


# ---------------------------------------------------------------------------------------------
# Blocks (faces between barrier lines) and streets


@dataclass(frozen=True, eq=False)
class _Blocks:
    geoms: np.ndarray  # Polygons tiling the district, prepared
    rep: np.ndarray  # (n, 2) a point inside each
    area: np.ndarray
    buildable_m2: np.ndarray  # estimate after setbacks and the river corridor
    subdistrict: np.ndarray  # street index, ordered north to south, west to east
    subdistrict_names: tuple[str, ...]
    adjacency: tuple[np.ndarray, ...]  # neighbours sharing an edge
    near_river: np.ndarray  # within 700 m of the river
    on_edge: np.ndarray  # shares an edge with the district boundary


def _blocks(net: _Net, *, subdistricts: int | None = None) -> _Blocks:
    ring = shapely.get_exterior_ring(net.district)
    noded = shapely.union_all(np.r_[net.lines, [ring]])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 1.0]
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    order = np.lexsort((np.round(rep[:, 0], 3), -np.round(rep[:, 1], 3)))
    faces, rep = faces[order], rep[order]
    shapely.prepare(faces)

    area = shapely.area(faces)
    inner = shapely.buffer(faces, -_SETBACK_ESTIMATE_M)
    river_line = shapely.LineString(net.river)
    river_tree = shapely.STRtree(_pieces(np.array([river_line])))
    near = np.unique(river_tree.query(inner, "dwithin", _CLEARANCE_M["river"])[0])
    corridor = shapely.buffer(_river_near(river_line, inner[near], 100.0), _CLEARANCE_M["river"])
    inner[near] = shapely.difference(inner[near], corridor)
    buildable = shapely.area(inner)
    near_river = np.zeros(len(faces), dtype=bool)
    near_river[river_tree.query(shapely.points(rep), "dwithin", 700.0)[0]] = True
    on_edge = shapely.length(shapely.intersection(shapely.boundary(faces), ring)) > 0.5

    subdistrict, names = _subdistricts_of(net, rep, count=subdistricts)
    return _Blocks(
        geoms=faces,
        rep=rep,
        area=area,
        buildable_m2=buildable,
        subdistrict=subdistrict,
        subdistrict_names=names,
        adjacency=_adjacency(faces),
        near_river=near_river,
        on_edge=on_edge,
    )


def _river_near(river_line: shapely.LineString, geoms: np.ndarray, margin_m: float):
    """The part of the river within ``margin_m`` of each geometry's bounding box."""
    bounds = shapely.bounds(geoms)
    boxes = shapely.box(
        bounds[:, 0] - margin_m, bounds[:, 1] - margin_m,
        bounds[:, 2] + margin_m, bounds[:, 3] + margin_m,
    )  # fmt: skip
    return shapely.intersection(river_line, boxes)


def _subdistricts_of(
    net: _Net, rep: np.ndarray, *, count: int | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Street of each block: river side × groups of arterial columns and rows (``count`` of
    them, else one per ~25,000 households and at least 4).

    Cuts run along arterials only; row cuts only where the arterial stays clear of the river,
    so every street is one piece bounded by arterials, the river and the district edge.
    """
    x, y = rep[:, 0], rep[:, 1]
    col = np.zeros(len(rep), dtype=np.int64)
    for line in net.ns_lines:
        col += _at(line, y, axis=1) < x
    row = np.zeros(len(rep), dtype=np.int64)
    for line in net.ew_lines:
        row += _at(line, x, axis=0) < y
    north = y > _at(net.river, x, axis=0)

    n_subdistricts = max(4, _subdistrict_count(net)) if count is None else count
    r_lo, r_hi = net.river[:, 1].min(), net.river[:, 1].max()
    area_north = float(np.trapezoid(net.height_m - net.river[:, 1], net.river[:, 0]))
    share_north = area_north / (net.width_m * net.height_m)
    n_north = min(max(1, math.floor(n_subdistricts * share_north + 0.5)), n_subdistricts - 1)
    key = np.zeros(len(rep), dtype=np.int64)
    subdistricts = (
        (north, n_north, share_north, [k for k, yc in enumerate(net.y_cuts) if yc - 60 > r_hi]),
        (~north, n_subdistricts - n_north, 1 - share_north,
         [k for k, yc in enumerate(net.y_cuts) if yc + 60 < r_lo]),
    )  # fmt: skip
    for z, (mask, count, share, row_cuts_ok) in enumerate(subdistricts):
        zone_height = share * net.height_m
        g_rows = max(1, round(math.sqrt(count * zone_height / net.width_m)))
        g_rows = min(g_rows, len(row_cuts_ok) + 1, count)
        g_cols = min(max(1, round(count / g_rows)), len(net.x_cuts) + 1)
        col_cuts = _even_cuts(len(net.x_cuts), g_cols)
        row_cuts = [row_cuts_ok[k] for k in _even_cuts(len(row_cuts_ok), g_rows)]
        col_group = (col[mask, None] > np.array(col_cuts, dtype=np.int64)[None, :]).sum(1)
        row_group = (row[mask, None] > np.array(row_cuts, dtype=np.int64)[None, :]).sum(1)
        # north first, then rows from the top, then west to east
        key[mask] = z * 1_000_000 + (g_rows - 1 - row_group) * 1000 + col_group
    uniq, subdistrict = np.unique(key, return_inverse=True)
    return subdistrict.astype(np.int64), _subdistrict_names(len(uniq))


def _subdistrict_count(net: _Net) -> int:
    households = _BASE_HOUSEHOLDS * (net.width_m * net.height_m) / math.prod(_BASE_SIZE_M)
    return round(households / _HOUSEHOLDS_PER_STREET)


def _even_cuts(n_lines: int, groups: int) -> list[int]:
    """Which of ``n_lines`` lines split the ``n_lines + 1`` cells into ``groups`` even runs.

    A block in cell ``c`` (0-based, counted from the first line's near side) belongs to run
    ``sum(c > cut for cut in cuts)``.
    """
    if groups <= 1 or n_lines == 0:
        return []
    cells = n_lines + 1
    cuts = {min(max(round(cells * k / groups) - 1, 0), n_lines - 1) for k in range(1, groups)}
    return sorted(cuts)


def _subdistrict_names(count: int) -> tuple[str, ...]:
    names = [n + "街道" for n in _STREET_NAMES]
    extra = [a + b + "街道" for a in _FIRST for b in _PLACE_SECOND if a != b]
    names += [n for n in extra if n not in names]
    return tuple(names[:count])


def _adjacency(faces: np.ndarray) -> tuple[np.ndarray, ...]:
    """Blocks sharing an edge (not just a corner), as sorted neighbour arrays.

    Faces polygonized from one noded line set share edges vertex for vertex, so two faces are
    neighbours exactly when some boundary segment of one is a boundary segment of the other.
    """
    rings, face_of_ring = shapely.get_rings(faces, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    seg = np.column_stack([coords[:-1][same], coords[1:][same]])
    face = face_of_ring[ring[:-1][same]]
    swap = (seg[:, 0] > seg[:, 2]) | ((seg[:, 0] == seg[:, 2]) & (seg[:, 1] > seg[:, 3]))
    seg[swap] = seg[swap][:, [2, 3, 0, 1]]
    order = np.lexsort((seg[:, 3], seg[:, 2], seg[:, 1], seg[:, 0]))
    seg, face = seg[order], face[order]
    twin = np.flatnonzero((seg[1:] == seg[:-1]).all(axis=1) & (face[1:] != face[:-1]))
    length = np.hypot(seg[twin, 2] - seg[twin, 0], seg[twin, 3] - seg[twin, 1])
    left, right = face[twin], face[twin + 1]
    pairs, inverse = np.unique(
        np.column_stack([np.r_[left, right], np.r_[right, left]]), axis=0, return_inverse=True
    )
    shared = np.bincount(inverse.ravel(), weights=np.r_[length, length], minlength=len(pairs))
    pairs = pairs[shared > 0.5]  # a sliver of an edge near a crossing is a corner
    starts = np.searchsorted(pairs[:, 0], np.arange(len(faces) + 1))
    return tuple(pairs[starts[k] : starts[k + 1], 1] for k in range(len(faces)))


# ---------------------------------------------------------------------------------------------
# Land use: which block holds what, and how many households it should get


@dataclass(frozen=True, eq=False)
class _Plan:
    use: np.ndarray  # "" (nobody) | park | giant | oldtown | village | tower | midrise
    budget: np.ndarray  # target households per block
    village_names: dict[int, str]
    park_names: dict[int, str]


def _land_use(net: _Net, blocks: _Blocks, households: int, seed: int) -> _Plan:
    rng = _rng(seed, 2)
    n = len(blocks.geoms)
    use = np.full(n, "", dtype=object)
    budget = np.zeros(n, dtype=np.float64)
    x, y = blocks.rep[:, 0], blocks.rep[:, 1]
    w, h = net.width_m, net.height_m
    spread = np.hypot((x - w / 2) / w, (y - h / 2) / h)  # 0 at the centre, ~0.7 at corners
    d_old = np.hypot(x - net.old_centre[0], y - net.old_centre[1])
    build = blocks.buildable_m2

    # The giant compound: the one block of the arterial cell left without local roads.
    gi, gj = net.giant_cell
    xe, ye = np.r_[0.0, net.x_cuts, w], np.r_[0.0, net.y_cuts, h]
    in_cell = (x > xe[gi]) & (x < xe[gi + 1]) & (y > ye[gj]) & (y < ye[gj + 1])
    giant = int(np.flatnonzero(in_cell)[np.argmax(build[in_cell])])
    use[giant] = "giant"
    budget[giant] = min(
        _capacity("tower", build[giant]) * 0.8,
        float(np.clip(0.09 * households, 3_000, 8_200)) * rng.uniform(0.95, 1.05),
    )

    # Parks: near the river, a fair size, away from each other.
    n_parks = max(1, round(2 * households / _BASE_HOUSEHOLDS))
    candidates = np.flatnonzero(
        (use == "") & blocks.near_river & (blocks.area > 60_000)
        & (blocks.area < 600_000) & (d_old > net.old_radius_m * 0.6)
    )  # fmt: skip
    parks = _spread_pick(candidates, rng.permutation(len(candidates)), blocks.rep, n_parks, 2000)
    use[parks] = "park"
    park_names = list(_PARK_NAMES) + [
        n for n in _name_pool(_FIRST, _PLACE_SECOND, ("公园",), rng) if n not in _PARK_NAMES
    ]
    park_name = {int(b): park_names[k % len(park_names)] for k, b in enumerate(parks)}

    # The old town: blocks nearest its centre until ~18% of the households fit.
    old_target = 0.18 * households
    old_share = rng.uniform(*_BLOCK_SHARE["walkup"], n)
    cap = np.where(use == "", _capacity("walkup", build) * old_share, 0.0)
    order = np.argsort(d_old, kind="stable")
    order = order[cap[order] > 0]
    taken = order[: int(np.searchsorted(np.cumsum(cap[order]), old_target)) + 1]
    use[taken] = "oldtown"
    budget[taken] = cap[taken] * min(1.0, old_target / cap[taken].sum())

    # Urban villages: out in the periphery, compact clusters of 1–6-household houses.
    n_villages = max(2, round(3 * households / _BASE_HOUSEHOLDS))
    candidates = np.flatnonzero((use == "") & (spread > 0.3) & (build > 30_000))
    villages = _spread_pick(
        candidates, rng.permutation(len(candidates)), blocks.rep, n_villages, 1500
    )
    village_size = min(1.0, households / 40_000)
    for b in villages:
        use[b] = "village"
        budget[b] = min(_capacity("village", build[b]) * 0.8, rng.uniform(900, 1900) * village_size)
    surnames = _name_pool(_SURNAMES, "", _VILLAGE_SUFFIXES, rng)
    village_name = {int(b): surnames[k % len(surnames)] for k, b in enumerate(villages)}

    _place_compounds(
        blocks, use, budget, households=households, d_old=d_old, size=max(w, h), rng=rng
    )
    return _Plan(use=use, budget=budget, village_names=village_name, park_names=park_name)


def _place_compounds(
    blocks: _Blocks,
    use: np.ndarray,
    budget: np.ndarray,
    *,
    households: int,
    d_old: np.ndarray,
    size: float,
    rng: np.random.Generator,
) -> None:
    """Compounds (towers and mid-rises) on the free blocks of each 街道, filling ``use`` and
    ``budget`` in place: each 街道 gets a share of the households not yet placed."""
    n = len(blocks.geoms)
    build = blocks.buildable_m2
    # its blocks nearest the core go first
    n_subdistricts = int(blocks.subdistrict.max()) + 1
    subdistrict_area = np.bincount(
        blocks.subdistrict, weights=blocks.area, minlength=n_subdistricts
    )
    subdistrict_share = (
        subdistrict_area / subdistrict_area.sum() * rng.uniform(0.75, 1.25, n_subdistricts)
    )
    subdistrict_share /= subdistrict_share.sum()
    already = np.bincount(blocks.subdistrict, weights=budget, minlength=n_subdistricts)
    rest = households - budget.sum()
    want = np.maximum(subdistrict_share * households - already, 0.04 * households / n_subdistricts)
    want *= rest / want.sum()
    kind_of = np.where(rng.random(n) < 0.2 + 0.25 * np.clip(d_old / 5000, 0, 1), "tower", "midrise")
    block_share = rng.uniform(*_BLOCK_SHARE["tower"], n)
    priority = np.clip(d_old / size, 0, 1) + 1.2 * rng.random(n)
    for s in range(n_subdistricts):
        cand = np.flatnonzero((use == "") & (blocks.subdistrict == s) & (build > 8_000))
        cand = cand[np.argsort(priority[cand], kind="stable")]
        caps = np.array([_capacity(kind_of[b], build[b]) * block_share[b] for b in cand])
        if len(cand) == 0:
            continue
        k = int(np.searchsorted(np.cumsum(caps), want[s])) + 1
        chosen = cand[:k]
        use[chosen] = kind_of[chosen]
        budget[chosen] = caps[:k] * min(1.0, want[s] / caps[:k].sum())


def _capacity(kind, buildable_m2):
    """Households ``buildable_m2`` of land holds when covered with ``kind`` buildings."""
    dx, dy = _LATTICE_M[kind]
    return np.asarray(buildable_m2) / (dx * dy) * _MEAN_HOUSEHOLDS[kind]


def _spread_pick(candidates, order, rep, count, min_gap_m) -> np.ndarray:
    """Up to ``count`` of ``candidates`` (in ``order``) at least ``min_gap_m`` apart."""
    chosen: list[int] = []
    for gap in (min_gap_m, min_gap_m / 2, 0.0):
        for k in order:
            b = int(candidates[k])
            if len(chosen) >= count:
                break
            if b in chosen:
                continue
            if all(math.dist(rep[b], rep[c]) >= gap for c in chosen):
                chosen.append(b)
    return np.array(chosen, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Buildings


def _buildings(net: _Net, blocks: _Blocks, plan: _Plan, households: int, seed: int) -> dict:
    """Place buildings on lattices inside each residential block; exactly ``households`` in all.

    Returns a dict of aligned arrays: x, y, households, kind, floors, block, compound
    (name or None).
    """
    rng = _rng(seed, 3)
    parts = []
    lattice_kind = {
        "giant": "tower", "tower": "tower", "midrise": "midrise", "oldtown": "walkup",
        "village": "village",
    }  # fmt: skip
    for use, kind in lattice_kind.items():
        ids = np.flatnonzero(plan.use == use)
        if len(ids):
            parts.append(_lattice(net, blocks, ids, kind=kind, use=use, rng=rng))
    cand = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    # Compounds and villages are compact clusters around a centre; the old town is everywhere.
    compact = cand["use"] != "oldtown"
    centre_x, centre_y = blocks.rep[:, 0].copy(), blocks.rep[:, 1].copy()
    pick = np.lexsort((rng.random(len(cand["x"])), cand["block"]))
    first = pick[np.r_[0, np.flatnonzero(np.diff(cand["block"][pick])) + 1]]
    around_spot = np.isin(cand["use"][first], ["tower", "midrise"])
    centre_x[cand["block"][first[around_spot]]] = cand["x"][first[around_spot]]
    centre_y[cand["block"][first[around_spot]]] = cand["y"][first[around_spot]]
    distance = np.hypot(cand["x"] - centre_x[cand["block"]], cand["y"] - centre_y[cand["block"]])
    fuzz = np.where(np.isin(cand["use"], ["tower", "midrise"]), 60.0, 5.0)
    order_key = np.where(
        compact, distance + fuzz * rng.random(len(distance)), rng.random(len(distance))
    )
    keep = _fill_to_budget(cand["block"], order_key, cand["households"], plan.budget)

    # Top up from unused spots if some blocks could not take their share.
    short = households - int(cand["households"][keep].sum())
    if short > 0:
        spare = np.flatnonzero(~keep & ~compact)
        spare = spare[np.argsort(rng.random(len(spare)), kind="stable")]
        cum = np.cumsum(cand["households"][spare])
        keep[spare[: int(np.searchsorted(cum, short))]] = True
    out = {k: v[keep] for k, v in cand.items()}

    # One tower too big for a grid.
    towers = np.flatnonzero((out["use"] == "tower") & (out["kind"] == "tower"))
    if len(towers) == 0:
        towers = np.flatnonzero(out["kind"] == "tower")
    big = int(towers[rng.integers(len(towers))])
    out["households"][big] = _BIG_TOWER_HOUSEHOLDS
    out["floors"][big] = 30
    _adjust_total(out, households, big, rng)
    out["compound"] = _compound_names(out, blocks, plan, rng)
    return out


def _lattice(net, blocks, ids, *, kind, use, rng) -> dict:
    """Candidate building spots on a jittered lattice in each block, clear of every barrier."""
    dx, dy = _LATTICE_M[kind]
    bounds = shapely.bounds(blocks.geoms[ids])
    ox, oy = rng.uniform(0, dx, len(ids)), rng.uniform(0, dy, len(ids))
    nx = np.maximum(np.floor((bounds[:, 2] - bounds[:, 0] - ox) / dx).astype(np.int64) + 1, 0)
    ny = np.maximum(np.floor((bounds[:, 3] - bounds[:, 1] - oy) / dy).astype(np.int64) + 1, 0)
    count = nx * ny
    owner = np.repeat(np.arange(len(ids)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    jitter = 0.12 * min(dx, dy)
    x = bounds[owner, 0] + ox[owner] + (k % nx[owner]) * dx + rng.uniform(-jitter, jitter, len(k))
    y = bounds[owner, 1] + oy[owner] + (k // nx[owner]) * dy + rng.uniform(-jitter, jitter, len(k))
    block = ids[owner]
    ok = (
        (x > _EDGE_CLEARANCE_M) & (x < net.width_m - _EDGE_CLEARANCE_M)
        & (y > _EDGE_CLEARANCE_M) & (y < net.height_m - _EDGE_CLEARANCE_M)
    )  # fmt: skip
    ok[ok] = shapely.contains_xy(blocks.geoms[block[ok]], x[ok], y[ok])
    x, y, block = x[ok], y[ok], block[ok]
    ok = ~_too_close(net, x, y)
    x, y, block = x[ok], y[ok], block[ok]
    households, floors = _draw_households(kind, len(x), rng)
    return {
        "x": x,
        "y": y,
        "block": block,
        "households": households,
        "floors": floors,
        "kind": np.full(len(x), kind, dtype=object),
        "use": np.full(len(x), use, dtype=object),
    }


def _too_close(net: _Net, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spots within the corridor + setback of any barrier line."""
    points = shapely.points(x, y)
    bad = np.zeros(len(x), dtype=bool)
    key = np.where(net.line_kind == "road", net.line_class, net.line_kind)
    for name, clearance in _CLEARANCE_M.items():
        lines = net.lines[key == name]
        if len(lines) == 0 or len(points) == 0:
            continue
        tree = shapely.STRtree(_pieces(lines))  # short pieces: long lines' boxes filter nothing
        hit = tree.query(points, predicate="dwithin", distance=clearance)
        bad[hit[0]] = True
    return bad


def _pieces(lines: np.ndarray, vertices: int = 8) -> np.ndarray:
    """Lines cut into pieces of at most ``vertices`` vertices (consecutive pieces share one)."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    count = np.bincount(owner, minlength=len(lines))
    local = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    step = vertices - 1
    per_line = np.maximum(1, -(-(count - 1) // step))
    first_piece = np.cumsum(per_line) - per_line
    piece = first_piece[owner] + np.minimum(local // step, per_line[owner] - 1)
    shared = (local % step == 0) & (local > 0) & (local < count[owner] - 1)
    all_coords = np.concatenate([coords, coords[shared]])
    all_piece = np.concatenate([piece, piece[shared] - 1])
    all_local = np.concatenate([local, local[shared]])
    order = np.lexsort((all_local, all_piece))
    return shapely.linestrings(all_coords[order], indices=all_piece[order])


def _draw_households(kind: str, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    low, high = _HOUSEHOLD_RANGE[kind]
    if kind == "village":
        households = rng.choice(np.arange(1, 7), n, p=[0.18, 0.3, 0.24, 0.14, 0.09, 0.05])
        return households.astype(np.int64), rng.integers(2, 5, n)
    floors_range, per_floor = {
        "tower": ((18, 33), (4, 12)),
        "midrise": ((6, 11), (4, 8)),
        "walkup": ((3, 6), (3, 6)),
    }[kind]
    floors = rng.integers(floors_range[0], floors_range[1] + 1, n)
    units = rng.integers(per_floor[0], per_floor[1] + 1, n)
    return np.clip(floors * units, low, high).astype(np.int64), floors.astype(np.int64)


def _fill_to_budget(block, order_key, households, budget) -> np.ndarray:
    """Per block, take spots in ``order_key`` order while the running total stays near budget."""
    order = np.lexsort((order_key, block))
    b, h = block[order], households[order]
    cum = np.cumsum(h)
    starts = np.r_[0, np.flatnonzero(np.diff(b)) + 1]
    base = np.repeat(cum[starts] - h[starts], np.diff(np.r_[starts, len(b)]))
    before = cum - base - h
    keep = np.zeros(len(block), dtype=bool)
    keep[order] = before + h / 2 < budget[b]
    return keep


def _adjust_total(out: dict, households: int, fixed: int, rng) -> None:
    """Add or remove single households within each kind's range until the total is exact."""
    diff = households - int(out["households"].sum())
    adjustable = np.flatnonzero(out["kind"] != "village")
    adjustable = adjustable[adjustable != fixed]
    adjustable = adjustable[rng.permutation(len(adjustable))]
    low = np.array([_HOUSEHOLD_RANGE[k][0] for k in out["kind"][adjustable]])
    high = np.array([_HOUSEHOLD_RANGE[k][1] for k in out["kind"][adjustable]])
    while diff != 0:
        current = out["households"][adjustable]
        room = (high - current) if diff > 0 else (current - low)
        can = np.flatnonzero(room > 0)
        if len(can) == 0:
            raise RuntimeError("sample district: cannot reach the household total")  # a bug
        step = max(1, abs(diff) // len(can))
        take = can[: abs(diff)] if step == 1 else can
        change = np.minimum(room[take], step)
        change = change[: len(take)]
        cum = np.cumsum(change)
        stop = int(np.searchsorted(cum, abs(diff))) + 1
        take, change = take[:stop], change[:stop]
        change[-1] -= max(0, int(change.sum()) - abs(diff))
        out["households"][adjustable[take]] += np.sign(diff) * change
        diff = households - int(out["households"].sum())


class _UniqueNames:
    """Hands out names from a pool, never the same twice (numbered 二期, 三期 … if it runs dry)."""

    def __init__(self, pool: Sequence[str]):
        self._pool = list(pool)
        self._next = 0
        self._used: set[str] = set()

    def take(self, wanted: str | None = None) -> str:
        name = wanted
        while name is None or name in self._used:
            base = self._pool[self._next % len(self._pool)]
            round_ = self._next // len(self._pool)
            name = base if round_ == 0 else f"{base}{_CHINESE_DIGITS[(round_ + 1) % 10]}期"
            if round_ >= 9:
                name = f"{base}{round_ + 1}期"
            self._next += 1
        self._used.add(name)
        return name


def _compound_names(out: dict, blocks: _Blocks, plan: _Plan, rng) -> np.ndarray:
    """Compound (小区) of every building: split blocks into compounds and name them."""
    x, y, block, use = out["x"], out["y"], out["block"], out["use"]
    bounds = shapely.bounds(blocks.geoms)[block]
    fx = (x - bounds[:, 0]) / np.maximum(bounds[:, 2] - bounds[:, 0], 1.0)
    fy = (y - bounds[:, 1]) / np.maximum(bounds[:, 3] - bounds[:, 1], 1.0)
    build = blocks.buildable_m2[block]
    wide = (bounds[:, 2] - bounds[:, 0]) >= (bounds[:, 3] - bounds[:, 1])
    n_split = np.select([build < 40_000, build < 90_000, build < 160_000], [1, 2, 4], 6)
    cols = np.where(n_split == 1, 1, np.where(n_split == 2, np.where(wide, 2, 1), 2))
    cols = np.where((n_split == 6) & wide, 3, cols)
    rows = n_split // cols
    sub = np.minimum(np.floor(fx * cols), cols - 1) + cols * np.minimum(
        np.floor(fy * rows), rows - 1
    )
    # old town: courtyards of ~70 m × 90 m
    court = np.floor((x - bounds[:, 0]) / 70.0) + 1000 * np.floor((y - bounds[:, 1]) / 90.0)
    sub = np.where(use == "oldtown", court, np.where(np.isin(use, ["giant", "village"]), 0, sub))
    key = block.astype(np.int64) * 1_000_000 + sub.astype(np.int64)
    keys, inverse = np.unique(key, return_inverse=True)
    key_block = keys // 1_000_000
    key_use = plan.use[key_block]

    fresh = _UniqueNames(
        list(_COMPOUND_NAMES) + _name_pool(_FIRST, _SECOND, _COMPOUND_SUFFIXES, rng)
    )
    old_estates = _UniqueNames(_name_pool(_FIRST, _SECOND, ("新村", "小区"), rng))
    lane_number: dict[str, int] = {}
    draw = rng.random(len(keys))
    names: list[str | None] = []
    for k, b in enumerate(key_block):
        u = key_use[k]
        if u == "village":
            names.append(plan.village_names[int(b)])
        elif u == "giant":
            names.append(fresh.take("江南世纪城"))
        elif u != "oldtown":
            names.append(fresh.take())
        elif draw[k] < 0.45:  # old town: no compound at all
            names.append(None)
        elif draw[k] < 0.8:  # a courtyard named after its lane
            lane = _OLD_LANES[k % len(_OLD_LANES)]
            lane_number[lane] = lane_number.get(lane, 0) + 1 + int(rng.integers(0, 4))
            names.append(fresh.take(f"{lane}{lane_number[lane]}号院"))
        else:  # a 1980s estate of walk-ups
            names.append(fresh.take(old_estates.take()))
    return np.array(names, dtype=object)[inverse]


# ---------------------------------------------------------------------------------------------
# Communities (the current plan) and facilities


def _communities(net: _Net, blocks: _Blocks, block_hh: np.ndarray, seed: int):
    """The current plan: blocks grouped into communities inside each street.

    Communities grow from populated blocks (taken in a serpentine sweep, north to south) to a
    drawn target; empty land then goes to the nearest community of the same street.
    """
    rng = _rng(seed, 4)
    n = len(blocks.geoms)
    member = np.full(n, -1, dtype=np.int64)
    rep = blocks.rep
    band = np.floor((net.height_m - rep[:, 1]) / 700.0).astype(np.int64)
    serp = np.where(band % 2 == 0, rep[:, 0], -rep[:, 0])
    sweep = np.lexsort((serp, band))
    sweep = sweep[block_hh[sweep] > 0]
    next_id = 0
    for start in sweep:
        if member[start] >= 0:
            continue
        _grow_community(
            member, blocks, block_hh, start=int(start), label=next_id, target=_community_target(rng)
        )
        next_id += 1
    _spread_to_empty_land(member, blocks)
    for b in np.flatnonzero(member < 0):  # a street piece nobody lives in (not expected)
        member[b] = next_id
        next_id += 1
    member = _merge_small(member, blocks, block_hh, 400)
    member = _open_enclaves(member, blocks, block_hh)
    member = _ensure_extremes(member, blocks, block_hh)
    return _community_frame(member, blocks, block_hh, rng)


def _grow_community(
    member: np.ndarray,
    blocks: _Blocks,
    block_hh: np.ndarray,
    *,
    start: int,
    label: int,
    target: float,
) -> None:
    """Blocks of ``start``'s street, nearest first, join community ``label`` (in ``member``)
    until it holds ``target`` households; empty land only as a link between populated blocks."""
    rep = blocks.rep
    s = blocks.subdistrict[start]
    total = 0
    heap = [(0.0, start)]
    while heap:
        d, b = heapq.heappop(heap)
        if member[b] >= 0:
            continue
        if total >= 0.7 * target and total + block_hh[b] > target + 600:
            continue
        member[b] = label
        total += block_hh[b]
        if total >= target:
            break
        for nb in blocks.adjacency[b]:
            if member[nb] < 0 and blocks.subdistrict[nb] == s:
                d = math.dist(rep[nb], rep[start])
                if d < 2500.0:
                    heapq.heappush(heap, (d + 500.0 * (block_hh[nb] == 0), int(nb)))


def _spread_to_empty_land(member: np.ndarray, blocks: _Blocks) -> None:
    """Empty land goes to the community next door (same street), spreading out block by
    block (``member`` filled in place)."""
    rep = blocks.rep
    heap = [(0.0, int(b), int(member[b])) for b in np.flatnonzero(member >= 0)]
    heapq.heapify(heap)
    while heap:
        d, b, c = heapq.heappop(heap)
        if member[b] < 0:
            member[b] = c
        elif member[b] != c:
            continue
        for nb in blocks.adjacency[b]:
            if member[nb] < 0 and blocks.subdistrict[nb] == blocks.subdistrict[b]:
                heapq.heappush(heap, (d + math.dist(rep[b], rep[nb]), int(nb), c))


def _community_target(rng) -> float:
    draw = rng.random()
    if draw < 0.1:
        return rng.uniform(4300, 5200)  # oversized on purpose
    if draw < 0.18:
        return rng.uniform(700, 1100)  # undersized on purpose
    return rng.uniform(2000, 3300)


def _member_totals(member, block_hh):
    return np.bincount(member, weights=block_hh, minlength=member.max() + 1)


def _neighbours_of(group_blocks, member, blocks, same_subdistrict=True):
    out = set()
    subdistrict = blocks.subdistrict[group_blocks[0]]
    for b in group_blocks:
        for nb in blocks.adjacency[b]:
            if member[nb] != member[b] and (
                not same_subdistrict or blocks.subdistrict[nb] == subdistrict
            ):
                out.add(int(member[nb]))
    return sorted(out)


def _merge_small(member, blocks, block_hh, floor_households) -> np.ndarray:
    """Merge communities under ``floor_households`` into their smallest neighbour."""
    member = member.copy()
    while True:
        totals = _member_totals(member, block_hh)
        present = np.unique(member)
        small = [c for c in present if totals[c] < floor_households]
        merged = False
        for c in small:
            group = np.flatnonzero(member == c)
            nbs = _neighbours_of(group, member, blocks)
            if not nbs:
                continue
            target = min(nbs, key=lambda m: (totals[m], m))
            member[group] = target
            merged = True
            break
        if not merged:
            break
    _, member = np.unique(member, return_inverse=True)
    return member.astype(np.int64)


def _open_enclaves(member, blocks, block_hh) -> np.ndarray:
    """Give every community wholly inside another a way out to a third, or to the edge.

    The enclosing community hands over the cheapest chain of its blocks (empty land first)
    from the enclave to a block on its own outer side, if it stays in one piece; otherwise
    the enclave is merged into it.
    """
    member = member.copy()
    left = np.repeat(np.arange(len(blocks.adjacency)), [len(a) for a in blocks.adjacency])
    right = np.concatenate(blocks.adjacency)
    other_subdistrict = blocks.subdistrict[left] != blocks.subdistrict[right]
    for _ in range(int(member.max()) + 1):
        n_comm = int(member.max()) + 1
        ml, mr = member[left], member[right]
        open_ = np.zeros(n_comm, dtype=bool)
        open_[member[blocks.on_edge]] = True
        open_[ml[other_subdistrict]] = True
        cross = ml != mr
        pairs = np.unique(np.column_stack([ml[cross], mr[cross]]), axis=0)
        n_outside = np.bincount(pairs[:, 0], minlength=n_comm)
        enclaves = np.flatnonzero((n_outside == 1) & ~open_)
        if len(enclaves) == 0:
            break
        outer_of = dict(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), strict=False))
        for inner in enclaves.tolist():
            outer = outer_of[inner]
            path = _exit_path(member, blocks, block_hh, inner, outer)
            rest = np.flatnonzero(member == outer)
            if path and _connected(np.setdiff1d(rest, path), blocks):
                member[path] = inner
            else:
                member[member == inner] = outer
        _, member = np.unique(member, return_inverse=True)
    return member.astype(np.int64)


def _exit_path(member, blocks, block_hh, inner, outer) -> list[int]:
    """Cheapest chain of ``outer``'s blocks from ``inner`` to ``outer``'s outer side."""
    subdistrict = blocks.subdistrict
    cost = {}
    prev: dict[int, int] = {}
    heap = []
    for b in np.flatnonzero(member == inner):
        for nb in blocks.adjacency[b]:
            if member[nb] == outer:
                heapq.heappush(heap, (1.0 + 9.0 * (block_hh[nb] > 0), int(nb), -1))
    while heap:
        d, b, came = heapq.heappop(heap)
        if b in cost:
            continue
        cost[b] = d
        prev[b] = came
        exit_ = blocks.on_edge[b] or any(
            member[nb] not in (inner, outer) or subdistrict[nb] != subdistrict[b]
            for nb in blocks.adjacency[b]
        )
        if exit_:
            path = [b]
            while prev[path[-1]] >= 0:
                path.append(prev[path[-1]])
            return path
        for nb in blocks.adjacency[b]:
            if member[nb] == outer and int(nb) not in cost:
                heapq.heappush(heap, (d + 1.0 + 9.0 * (block_hh[nb] > 0), int(nb), b))
    return []


def _connected(group: np.ndarray, blocks: _Blocks) -> bool:
    if len(group) <= 1:
        return True
    inside = set(group.tolist())
    seen = {int(group[0])}
    stack = [int(group[0])]
    while stack:
        b = stack.pop()
        for nb in blocks.adjacency[b]:
            nb = int(nb)
            if nb in inside and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return len(seen) == len(inside)


def _ensure_extremes(member, blocks, block_hh) -> np.ndarray:
    """At least two communities of 4,000+ households and one of 1,200 or fewer."""
    member = member.copy()
    totals = _member_totals(member, block_hh)
    if (totals >= 4000).sum() < 2:
        best = None
        for c in np.argsort(totals, kind="stable"):
            group = np.flatnonzero(member == c)
            for m in _neighbours_of(group, member, blocks):
                s = totals[c] + totals[m]
                if (
                    s >= 4000
                    and totals[c] < 4000
                    and totals[m] < 4000
                    and (best is None or s < best[0])
                ):
                    best = (s, int(c), m)
        if best is not None:
            member[member == best[2]] = best[1]
    totals = _member_totals(member, block_hh)
    present = np.unique(member)
    if not any(0 < totals[c] <= 1200 for c in present):
        for b in np.argsort(block_hh, kind="stable"):
            c = member[b]
            if not (150 <= block_hh[b] <= 1200) or totals[c] - block_hh[b] < 1500:
                continue
            rest = np.flatnonzero(member == c)
            rest = rest[rest != b]
            if _connected(rest, blocks):
                member[b] = member.max() + 1
                break
    _, member = np.unique(member, return_inverse=True)
    return member.astype(np.int64)


def _community_frame(member, blocks, block_hh, rng) -> geopandas.GeoDataFrame:
    n_comm = int(member.max()) + 1
    geoms = np.array(
        [shapely.coverage_union_all(blocks.geoms[member == c]) for c in range(n_comm)], dtype=object
    )
    totals = _member_totals(member, block_hh).astype(np.int64)
    subdistrict = np.array(
        [blocks.subdistrict[np.flatnonzero(member == c)[0]] for c in range(n_comm)]
    )

    # Two gaps, as inherited plans have: an empty block left out, and a strip along a road.
    empty = [
        b
        for b in np.argsort(blocks.area, kind="stable")
        if block_hh[b] == 0 and blocks.area[b] > 10_000
    ]
    for b in empty:
        c = member[b]
        rest = np.flatnonzero(member == c)
        rest = rest[rest != b]
        if len(rest) and _connected(rest, blocks):
            geoms[c] = shapely.coverage_union_all(blocks.geoms[rest])
            break
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="touches")
    pairs = [(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b]
    for a, b in pairs:
        shared = shapely.line_merge(
            shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
        )
        if shapely.length(shared) < 300:
            continue
        strip = shapely.buffer(shared, 12.0, cap_style="flat")
        new_a, new_b = shapely.difference(geoms[a], strip), shapely.difference(geoms[b], strip)
        if new_a.geom_type == "Polygon" and new_b.geom_type == "Polygon":
            geoms[a], geoms[b] = new_a, new_b
            break
    for k, g in enumerate(geoms):
        if g.geom_type != "Polygon":
            raise RuntimeError(f"sample district: community {k} is a {g.geom_type}")  # a bug

    # Codes: street 3 digits + committee 3 digits, committees north to south, west to east.
    rep = shapely.get_coordinates(shapely.point_on_surface(geoms))
    order = np.lexsort((np.round(rep[:, 0]), -np.round(rep[:, 1], -2), subdistrict))
    names = [n + "社区" for n in _name_pool(_FIRST, _PLACE_SECOND, ("",), rng)]
    rows = []
    within: dict[int, int] = {}
    for rank, c in enumerate(order):
        s = int(subdistrict[c])
        within[s] = within.get(s, 0) + 1
        rows.append(
            {
                "community_id": f"{_ADMIN_PREFIX}{s + 1:03d}{within[s]:03d}",
                "name": names[rank % len(names)],
                "street": blocks.subdistrict_names[s],
                "households": int(totals[c]),
                "geometry": geoms[c],
            }
        )
    return geopandas.GeoDataFrame(rows, geometry="geometry")


def _facilities(buildings: dict, communities: geopandas.GeoDataFrame, households: int, seed: int):
    """About one per 2,500 households, at buildings; one street gets far fewer."""
    rng = _rng(seed, 5)
    count = max(2, round(households / 2500 * rng.uniform(0.85, 0.98)))
    n = len(buildings["x"])
    weight = np.sqrt(buildings["households"].astype(float))
    comm_geoms = np.asarray(communities.geometry.values)
    points = shapely.points(buildings["x"], buildings["y"])
    tree = shapely.STRtree(comm_geoms)
    at, inside = tree.query(points, predicate="within")
    comm_of = np.full(n, -1, dtype=np.int64)
    comm_of[at] = inside
    subdistricts = communities["street"].to_numpy()
    lacking = subdistricts[int(rng.integers(len(subdistricts)))]
    lacking_rows = np.isin(comm_of, np.flatnonzero(subdistricts == lacking))
    weight = np.where(lacking_rows, weight * 0.15, weight)
    weight = np.where(buildings["kind"] == "village", weight * 0.3, weight)
    chosen = rng.choice(n, size=min(count, n), replace=False, p=weight / weight.sum())
    chosen = chosen[np.lexsort((buildings["x"][chosen], -buildings["y"][chosen]))]
    probs = np.array([t[2] for t in _FACILITY_TYPES])
    kinds = rng.choice(len(_FACILITY_TYPES), size=len(chosen), p=probs / probs.sum())
    width = max(4, len(str(len(chosen))))
    rows = []
    comm_names = communities["name"].to_numpy()
    for k, (b, t) in enumerate(zip(chosen, kinds, strict=True)):
        ftype, suffix, _, (lo, hi) = _FACILITY_TYPES[t]
        c = comm_of[b]
        place = comm_names[c].removesuffix("社区") if c >= 0 else (buildings["compound"][b] or "")
        rows.append(
            {
                "facility_id": f"F{k + 1:0{width}d}",
                "name": f"{place}{suffix}",
                "type": ftype,
                "floor_area_m2": int(round(rng.uniform(lo, hi) / 10.0) * 10),
                "geometry": shapely.Point(buildings["x"][b] + 6.0, buildings["y"][b]),
            }
        )
    return geopandas.GeoDataFrame(rows, geometry="geometry")


# ---------------------------------------------------------------------------------------------
# Layers


def _household_rows(b: dict, blocks: _Blocks, seed: int) -> geopandas.GeoDataFrame:
    """One row per building, one per household in villages, ordered by building id."""
    rng = _rng(seed, 6)
    # Building ids follow streets, then compounds, then north to south, west to east.
    subdistrict = blocks.subdistrict[b["block"]]
    order = np.lexsort((np.round(b["x"], 1), -np.round(b["y"], 1), b["block"], subdistrict))
    width = max(6, len(str(len(order))))
    ids = np.empty(len(order), dtype=object)
    ids[order] = [f"B{k + 1:0{width}d}" for k in range(len(order))]
    village = b["kind"] == "village"
    repeat = np.where(village, b["households"], 1)
    idx = np.repeat(order, repeat[order])
    row_households = np.where(village[idx], 1, b["households"][idx])
    persons = row_households * rng.normal(_PERSONS_PER_HOUSEHOLD, 0.25, len(idx))
    village_persons = rng.choice(np.arange(1, 7), len(idx), p=[0.1, 0.25, 0.3, 0.2, 0.1, 0.05])
    population = np.where(
        village[idx], village_persons, np.maximum(np.rint(persons), row_households)
    )
    names = blocks.subdistrict_names
    return geopandas.GeoDataFrame(
        {
            "building_id": ids[idx],
            "households": row_households.astype(np.int64),
            "population": population.astype(np.int64),
            "compound": b["compound"][idx],
            "kind": b["kind"][idx],
            "floors": b["floors"][idx].astype(np.int64),
            "street": np.array(names, dtype=object)[subdistrict[idx]],
            "geometry": shapely.points(b["x"][idx], b["y"][idx]),
        },
        geometry="geometry",
    )


def _subdistrict_frame(net: _Net, blocks: _Blocks, block_hh: np.ndarray) -> geopandas.GeoDataFrame:
    rows = []
    for s, name in enumerate(blocks.subdistrict_names):
        mask = blocks.subdistrict == s
        rows.append(
            {
                "name": name,
                "street_code": f"{_ADMIN_PREFIX}{s + 1:03d}",
                "households": int(block_hh[mask].sum()),
                "geometry": shapely.coverage_union_all(blocks.geoms[mask]),
            }
        )
    return geopandas.GeoDataFrame(rows, geometry="geometry")


def _barrier_rows(net: _Net) -> geopandas.GeoDataFrame:
    """Barrier lines clipped to the district; local roads stop at the river's banks."""
    river_line = shapely.LineString(net.river)
    lines = shapely.intersection(net.lines, net.district)
    local = np.flatnonzero(np.isin(net.line_class, ["tertiary", "residential"]))
    tree = shapely.STRtree(_pieces(np.array([river_line])))
    wet = local[np.unique(tree.query(lines[local], "dwithin", _RIVER_HALF_WIDTH_M)[0])]
    corridor = shapely.buffer(_river_near(river_line, lines[wet], 80.0), _RIVER_HALF_WIDTH_M)
    lines[wet] = shapely.difference(lines[wet], corridor)
    parts, index = shapely.get_parts(lines, return_index=True)
    keep = shapely.length(parts) > 1.0
    parts, index = parts[keep], index[keep]
    return geopandas.GeoDataFrame(
        {
            "kind": net.line_kind[index],
            "road_class": net.line_class[index],
            "name": net.line_name[index],
            "geometry": parts,
        },
        geometry="geometry",
    )


def _open_spaces(net: _Net, blocks: _Blocks, plan: _Plan) -> geopandas.GeoDataFrame:
    water = shapely.intersection(
        shapely.buffer(shapely.LineString(net.river), _RIVER_HALF_WIDTH_M), net.district
    )
    rows = [{"kind": "water", "name": "姚江", "geometry": water}]
    for b, name in sorted(plan.park_names.items()):
        rows.append(
            {"kind": "park", "name": name, "geometry": shapely.buffer(blocks.geoms[b], -12.0)}
        )
    return geopandas.GeoDataFrame(rows, geometry="geometry")


def _metric_to_wgs84(net: _Net, metric_crs: pyproj.CRS):
    """A function mapping (n, 2) local metres to (n, 2) WGS84 lon/lat."""
    to_metric = pyproj.Transformer.from_crs(4326, metric_crs, always_xy=True)
    east, north = to_metric.transform(*CENTRE_LONLAT)
    east -= net.width_m / 2
    north -= net.height_m / 2
    to_lonlat = pyproj.Transformer.from_crs(metric_crs, 4326, always_xy=True)

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat.transform(xy[:, 0] + east, xy[:, 1] + north)
        return np.column_stack([lon, lat])

    return convert


def _frame(frame: geopandas.GeoDataFrame, convert) -> geopandas.GeoDataFrame:
    out = frame.copy()
    geoms = shapely.transform(np.asarray(frame.geometry.values), convert)
    return out.set_geometry(geopandas.GeoSeries(geoms, index=frame.index, crs=4326))


# ---------------------------------------------------------------------------------------------
# Writers (GCJ-02)


def _to_gcj02_rounded(xy: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), _DECIMALS)


def _write_households_csv(households: geopandas.GeoDataFrame, path: Path) -> Path:
    xy = _to_gcj02_rounded(shapely.get_coordinates(households.geometry.values))
    table = pd.DataFrame(
        {
            HOUSEHOLD_COLUMNS[0]: xy[:, 0],
            HOUSEHOLD_COLUMNS[1]: xy[:, 1],
            HOUSEHOLD_COLUMNS[2]: households["households"].to_numpy(),
            HOUSEHOLD_COLUMNS[3]: households["building_id"].to_numpy(),
            HOUSEHOLD_COLUMNS[4]: households["compound"].to_numpy(),
            HOUSEHOLD_COLUMNS[5]: households["population"].to_numpy(),
        }
    )
    table.to_csv(
        path, index=False, encoding="utf-8-sig", float_format=f"%.{_DECIMALS}f", lineterminator="\n"
    )
    return path


def _json_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _write_gcj02_geojson(frame: geopandas.GeoDataFrame, path: Path, layer: str) -> Path:
    """GeoJSON with GCJ-02 lon/lat (not RFC 7946 WGS84: the file says so), one feature a line."""
    geoms = shapely.transform(np.asarray(frame.geometry.values), _to_gcj02_rounded)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    values = {c: frame[c].astype(object).tolist() for c in columns}
    lines = []
    for row, geom in enumerate(geoms):
        feature = {
            "type": "Feature",
            "properties": {c: _json_value(values[c][row]) for c in columns},
            "geometry": mapping(geom),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, allow_nan=False))
    head = {
        "type": "FeatureCollection",
        "name": layer,
        "coordinate_system": ("GCJ-02 lon/lat (Amap/Tencent), not WGS84: read with crs='gcj02'"),
    }
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'
    text += ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.district",
        description="Write the boundary layers of the sample district (GCJ-02 GeoJSON).",
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--households", type=int, default=80_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sample = build_sample(households=args.households, seed=args.seed)
    for layer, path in write_boundaries(sample, args.outdir).items():
        print(f"{layer}: {path} ({len(sample.layer(layer))} features)")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
