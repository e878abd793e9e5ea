"""A static print map of a plan folder: PNG or PDF, in Chinese or English.

:func:`render_plan` reads the folder ``propose`` (or ``rebalance``) wrote —
``communities.geojson``, ``summary.json``, and where present ``grids.geojson`` and the context
layers ``footprints.geojson`` (else ``buildings.geojson`` points), ``barriers.geojson`` and
``streets.geojson`` — projects every layer once into the plan's metric CRS (the EPSG code in
``summary.json`` ``data.metric_crs``, else :func:`geo.crs.metric_crs_for` on the data) and
draws, bottom to top::

    community fills (neighbours never share a colour)   water areas   building footprints/points
    roads by class   rivers   railways   grid borders   街道 borders   community borders
    out-of-band hatching   labels (id and households)

with the title, a subtitle of counts and bands and the north arrow above the map, and the
legend (only the layers drawn), the scale bar and a note with the CRS and date below it, so
nothing but the labels covers the map. Chinese needs a CJK font (:func:`find_cjk_font`);
without one the map is drawn in English and a :class:`RenderWarning` names the font package
to install, rather than printing boxes for every Chinese character.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.ops import polylabel

from geo.crs import metric_crs_for
from geo.errors import GeometryError, InputFormatError, PlanningInputError
from planning.records import Note

__all__ = [
    "PAPERS",
    "PlanMapLayers",
    "RenderWarning",
    "RenderedMap",
    "find_cjk_font",
    "neighbour_colours",
    "plan_map_layers",
    "read_plan_layers",
    "render_map",
    "render_plan",
    "road_tier",
    "scale_bar_length_m",
]

#: CJK font families tried in this order (Simplified Chinese faces first).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Heiti SC",
    "STHeiti",
    "Droid Sans Fallback",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Noto Sans CJK TC",
    "Arial Unicode MS",
)
#: Font files whose name suggests a CJK font; added to matplotlib when its cache predates them.
_CJK_FILE_HINTS = (
    "cjk",
    "sourcehan",
    "wqy",
    "wenquanyi",
    "simhei",
    "msyh",
    "pingfang",
    "hiragino",
    "heiti",
    "droidsansfallback",
    "notosanssc",
    "arialuni",
)
LATIN_FAMILY = "DejaVu Sans"
CJK_FONT_PACKAGES = (
    "fonts-noto-cjk (Debian/Ubuntu: apt-get install fonts-noto-cjk), "
    "google-noto-sans-cjk-fonts (Fedora), or Noto Sans CJK SC from "
    "https://github.com/notofonts/noto-cjk"
)

PLAN_FILES = ("communities.geojson", "grids.geojson", "summary.json")
CONTEXT_FILES = ("footprints.geojson", "buildings.geojson", "barriers.geojson", "streets.geojson")
FORMATS = (".png", ".pdf")
#: Paper sizes on offer (landscape), millimetres (width, height).
PAPERS = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
#: How to make a plan folder to render (the fix of every refused folder).
_HINT = Note.of("render.hint")

#: OSM highway values drawn as major roads (and their ``_link``s) and as minor roads; every
#: other class (service, footway, path, track, …) is drawn as a lane.
MAJOR_ROADS = frozenset({"motorway", "trunk", "primary", "secondary"})
MINOR_ROADS = frozenset({"tertiary", "residential", "unclassified", "living_street", "road", ""})
_WATER_KINDS = frozenset({"river", "water", "waterway", "canal", "stream", "lake"})
_RAIL_KINDS = frozenset({"railway", "rail"})

#: Scale-bar lengths on offer, metres.
SCALE_BAR_LENGTHS_M = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)

#: Community fills (ColorBrewer Set3 without its reds, which mark communities out of band).
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#bc80bd",
    "#ccebc5",
    "#d9d9d9",
    "#ffed6f",
)
_OUT_OF_BAND = "#d62728"
_BORDER = "#262626"
_WATER = "#5b9bd5"
_STREET = "#5e35b1"
_STREET_BAND = "#cfc2ea"
_DASH_DOT = (0, (7, 2, 1.5, 2))
_MM_PER_INCH = 25.4
_PT_PER_MM = 72 / _MM_PER_INCH
_PNG_COLOURS = 256

_TEXT = {
    "zh": {
        "title": "社区与网格划分方案",
        "communities": "社区边界",
        "grids": "网格边界",
        "out_of_band": "超出规模范围的社区",
        "major": "主要道路",
        "minor": "次要道路",
        "lanes": "内部道路",
        "water": "水系",
        "railway": "铁路",
        "buildings": "建筑",
        "streets": "街道界线",
        "households": "{:,}户",
        "m": "{:,} 米",
        "km": "{:g} 公里",
        "count": "{communities} 个社区 · {grids} 个网格",
        "band": "社区规模 {lo:,}–{hi:,} 户",
        "grid_band": "网格 {lo:,}–{hi:,} 户",
        "crs": "坐标系：{crs}",
        "date": "制图日期：{date}",
        "editor": "编制人：{name}",
        "organisation": "编制单位：{name}",
        "sep": " · ",
        "gk": "CGCS2000 / 3度带高斯-克吕格投影",
        "utm": "WGS 84 / UTM 投影 {zone} 带",
    },
    "en": {
        "title": "Communities and grids: proposed layout",
        "communities": "Community boundary",
        "grids": "Grid boundary",
        "out_of_band": "Community outside the size band",
        "major": "Major road",
        "minor": "Minor road",
        "lanes": "Service road / lane",
        "water": "Water",
        "railway": "Railway",
        "buildings": "Building",
        "streets": "Sub-district (jiedao) boundary",
        "households": "{:,} hh",
        "m": "{:,} m",
        "km": "{:g} km",
        "count": "{communities} communities · {grids} grids",
        "band": "communities {lo:,}–{hi:,} households",
        "grid_band": "grids {lo:,}–{hi:,}",
        "crs": "CRS: {crs}",
        "date": "drawn {date}",
        "editor": "prepared by {name}",
        "organisation": "{name}",
        "sep": " · ",
        "gk": None,
        "utm": None,
    },
}
#: Legend columns (boundaries; roads and railways; water and buildings), read column by
#: column; each key is listed only when its layer is drawn.
LEGEND_COLUMNS = (
    ("communities", "grids", "out_of_band", "streets"),
    ("major", "minor", "lanes", "railway"),
    ("water", "buildings"),
)


@dataclass(frozen=True)
class RenderWarning:
    """Something the map could not do as asked, e.g. ``code="no_cjk_font"``."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"warning: {self.message}"


@dataclass(frozen=True)
class RenderedMap:
    """What :func:`render_plan` drew, so callers and tests need not read pixels.

    Attributes
    ----------
    path : pathlib.Path
        The file written.
    title, subtitle, note : str
        The title, the line of counts and bands under it, and the CRS and date note.
    credits : str
        The organisation and the editor (编制单位、编制人) at the bottom right; empty when
        neither was given.
    page_mm : tuple of float
        The page's width and height, millimetres.
    layers : tuple of str
        Layers drawn, from ``communities``, ``grids``, ``out_of_band``,
        ``footprints``/``buildings``, ``major``, ``minor``, ``lanes``, ``water``, ``railway``,
        ``streets``.
    legend : tuple of str
        The legend labels, top-left to bottom-right.
    community_labels : tuple of str
        One label per community, e.g. ``"C001\\n2,480户"``, in the order of the file.
    community_colours : dict of str to str
        Fill colour (``#rrggbb``) by community id.
    out_of_band : tuple of str
        Ids of the communities hatched and outlined in red.
    scale_bar_m : int
        Length of the scale bar, metres.
    font_family : str
        The font the text was set in.
    lang : str
        ``"zh"`` or ``"en"``: the language drawn (``"en"`` when Chinese was asked for but no
        CJK font exists).
    metric_crs : str
        ``EPSG:NNNN`` of the map.
    warnings : tuple of RenderWarning
    """

    path: Path
    title: str
    subtitle: str
    note: str
    layers: tuple[str, ...]
    legend: tuple[str, ...]
    community_labels: tuple[str, ...]
    community_colours: dict[str, str]
    out_of_band: tuple[str, ...]
    scale_bar_m: int
    font_family: str
    lang: str
    metric_crs: str
    credits: str = ""
    page_mm: tuple[float, float] = (0.0, 0.0)
    warnings: tuple[RenderWarning, ...] = ()


@dataclass(frozen=True, eq=False)
class PlanMapLayers:
    """A plan folder's layers, every one in ``metric_crs``; a missing optional layer is None.

    ``communities`` holds ``community_id`` (text), ``households`` (int) and ``in_band``
    (bool); ``barriers`` holds ``kind`` and ``road_class`` (lower-case text, empty when not
    known); ``buildings`` holds ``households``.
    """

    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame | None
    footprints: gpd.GeoDataFrame | None
    buildings: gpd.GeoDataFrame | None
    barriers: gpd.GeoDataFrame | None
    subdistricts: gpd.GeoDataFrame | None
    summary: dict
    metric_crs: pyproj.CRS


# ---------------------------------------------------------------------------------------------
# Reading a plan folder


def read_plan_layers(plan_dir: str | Path) -> PlanMapLayers:
    """Read a plan folder and project it into its metric CRS.

    Parameters
    ----------
    plan_dir : str | pathlib.Path
        A folder written by ``python -m planning propose … --out DIR`` (or ``rebalance``).

    Returns
    -------
    PlanMapLayers

    Raises
    ------
    InputFormatError
        When the folder does not exist, holds no ``communities.geojson``, or a file in it
        cannot be read or lacks a column the map needs.
    GeometryError
        When the communities are not polygons.
    """
    folder = Path(plan_dir)
    _require_plan_folder(folder)
    summary = _read_summary(folder / "summary.json")
    communities = _read_layer(folder / "communities.geojson", required=True)
    _require_columns(communities, folder / "communities.geojson", ("community_id", "households"))
    _require_polygons(communities, folder / "communities.geojson")
    layers = {
        name: _read_layer(folder / f"{name}.geojson", required=False)
        for name in ("grids", "footprints", "buildings", "barriers", "streets")
    }
    return plan_map_layers(
        communities,
        grids=layers["grids"],
        footprints=layers["footprints"],
        buildings=layers["buildings"],
        barriers=layers["barriers"],
        subdistricts=layers["streets"],
        summary=summary,
    )


def plan_map_layers(
    communities: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    summary: dict | None = None,
) -> PlanMapLayers:
    """A plan held in memory (an app's scenario) as the layers of a map, in its metric CRS.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Polygons with ``community_id`` and ``households`` (``in_band`` optional), in any CRS
        (a frame without one is WGS84).
    grids, footprints, buildings, barriers, subdistricts : geopandas.GeoDataFrame, optional
        The other layers, each in its own CRS; an empty one counts as absent.
    summary : dict, optional
        As ``summary.json`` holds it: ``communities.band`` and ``grids.band`` (households,
        for the subtitle and the out-of-band marks) and ``data.metric_crs``.

    Returns
    -------
    PlanMapLayers
        The map's CRS is that of ``communities`` when it is projected, else the EPSG code of
        ``summary``, else the 3-degree zone (or UTM zone) of the data.

    Raises
    ------
    InputFormatError
        When ``communities`` is empty or lacks ``community_id`` or ``households``.
    GeometryError
        When the communities are not polygons.
    """
    summary = summary or {}
    communities = _with_crs(communities)
    if communities is None:
        raise InputFormatError(Note.of("render.no_communities"))
    _require_columns(communities, Path("communities"), ("community_id", "households"))
    _require_polygons(communities, Path("communities"))
    metric = communities.crs if communities.crs.is_projected else _metric_crs(summary, communities)
    projected = {
        name: None if layer is None else layer.to_crs(metric)
        for name, layer in (
            ("grids", _with_crs(grids)),
            ("footprints", _with_crs(footprints)),
            ("buildings", _with_crs(buildings)),
            ("barriers", _with_crs(barriers)),
            ("subdistricts", _with_crs(subdistricts)),
        )
    }
    return PlanMapLayers(
        communities=_community_columns(communities.to_crs(metric), summary),
        grids=projected["grids"],
        footprints=projected["footprints"],
        buildings=_building_columns(projected["buildings"]),
        barriers=_barrier_columns(projected["barriers"]),
        subdistricts=projected["subdistricts"],
        summary=summary,
        metric_crs=metric,
    )


def _with_crs(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The layer without empty geometries, WGS84 when it states no CRS; None when empty."""
    if layer is None:
        return None
    layer = layer[layer.geometry.notna() & ~layer.geometry.is_empty]
    if layer.empty:
        return None
    return layer if layer.crs is not None else layer.set_crs(4326)


def _require_plan_folder(folder: Path) -> None:
    expected = Note.of("render.plan_folder", plan_files=PLAN_FILES, context_files=CONTEXT_FILES)
    if not folder.is_dir():
        what = Note.of("render.word.a_file" if folder.exists() else "render.word.no_folder")
        raise InputFormatError(
            Note.of(
                "render.not_folder", folder=str(folder), what=what, expected=expected, hint=_HINT
            )
        )
    if not (folder / "communities.geojson").is_file():
        present = tuple(sorted(p.name for p in folder.iterdir())[:8])
        raise InputFormatError(
            Note.of(
                "render.no_communities_file",
                folder=str(folder),
                expected=expected,
                found=present or Note.of("render.word.empty_folder"),
                hint=_HINT,
            )
        )


def _read_summary(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
        raise InputFormatError(
            Note.of("render.bad_json", path=str(path), error=str(exc), hint=_HINT)
        ) from exc
    if not isinstance(summary, dict):
        raise InputFormatError(
            Note.of("render.not_object", path=str(path), kind=type(summary).__name__, hint=_HINT)
        )
    return summary


def _read_layer(path: Path, *, required: bool) -> gpd.GeoDataFrame | None:
    """A GeoJSON layer of the folder; an optional layer that is absent or empty is None."""
    if not path.is_file():
        return None
    try:
        layer = gpd.read_file(path)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        ValueError,
        OSError,
    ) as exc:
        raise InputFormatError(
            Note.of("render.bad_geojson", path=str(path), error=str(exc), hint=_HINT)
        ) from exc
    layer = layer[layer.geometry.notna() & ~layer.geometry.is_empty]
    if layer.empty:
        if required:
            raise InputFormatError(Note.of("render.empty_layer", path=str(path), hint=_HINT))
        return None
    if layer.crs is None:
        layer = layer.set_crs(4326)
    return layer


def _require_columns(layer: gpd.GeoDataFrame, path: Path, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in layer.columns]
    if missing:
        found = tuple(str(c) for c in layer.columns if c != layer.geometry.name)
        raise InputFormatError(
            Note.of(
                "render.missing_columns",
                path=str(path),
                missing=tuple(missing),
                columns=tuple(columns),
                found=found or Note.of("render.word.none"),
                hint=_HINT,
            )
        )


def _require_polygons(layer: gpd.GeoDataFrame, path: Path) -> None:
    wrong = ~layer.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if wrong.any():
        rows = (np.flatnonzero(wrong) + 1).tolist()
        found = tuple(sorted(set(layer.geom_type[wrong])))
        raise GeometryError(
            Note.of(
                "render.not_polygons",
                path=str(path),
                rows=tuple(map(str, rows[:5])),
                found=found,
                hint=_HINT,
            )
        )


def _metric_crs(summary: dict, communities: gpd.GeoDataFrame) -> pyproj.CRS:
    """The EPSG code summary.json records, else the one geo.crs picks for the data."""
    text = str(summary.get("data", {}).get("metric_crs", ""))
    match = re.search(r"EPSG:(\d+)", text, flags=re.IGNORECASE)
    if match:
        try:
            return pyproj.CRS.from_epsg(int(match.group(1)))
        except pyproj.exceptions.CRSError:
            pass  # an unknown code: fall back to the data's own zone
    centres = communities.to_crs(4326).geometry.representative_point()
    return metric_crs_for(centres.x.to_numpy(), centres.y.to_numpy())


def _community_columns(communities: gpd.GeoDataFrame, summary: dict) -> gpd.GeoDataFrame:
    out = communities.copy()
    out["community_id"] = out["community_id"].astype(str)
    households = pd.to_numeric(out["households"], errors="coerce").fillna(0)
    out["households"] = households.round().astype(int)
    band = summary.get("communities", {}).get("band")
    if "in_band" in out.columns:
        out["in_band"] = out["in_band"].fillna(True).astype(bool)
    elif band:
        out["in_band"] = households.between(band[0], band[1])
    else:
        out["in_band"] = True
    return out


def _building_columns(buildings: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if buildings is None:
        return None
    out = buildings.copy()
    if "households" in out.columns:
        out["households"] = pd.to_numeric(out["households"], errors="coerce").fillna(1)
    else:
        out["households"] = 1
    return out


def _barrier_columns(barriers: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if barriers is None:
        return None
    out = barriers.copy()
    for column, default in (("kind", "road"), ("road_class", "")):
        values = out[column] if column in out.columns else pd.Series(default, index=out.index)
        out[column] = values.fillna(default).astype(str).str.strip().str.lower()
    return out


# ---------------------------------------------------------------------------------------------
# Small pure pieces


def road_tier(road_class: Sequence[str]) -> np.ndarray:
    """``"major"``, ``"minor"`` or ``"lanes"`` for each OSM ``highway`` value.

    Major: motorway, trunk, primary, secondary and their ``_link``; minor: tertiary,
    residential, unclassified, living_street, road, and an unknown (empty) class; lanes:
    everything else (service, footway, path, track, …).
    """
    classes = np.asarray([str(c).strip().lower() for c in road_class], dtype=object)
    base = np.asarray([c.removesuffix("_link") for c in classes], dtype=object)
    tiers = np.full(len(classes), "lanes", dtype=object)
    tiers[np.isin(base, list(MINOR_ROADS))] = "minor"
    tiers[np.isin(base, list(MAJOR_ROADS))] = "major"
    return tiers


def scale_bar_length_m(map_width_m: float) -> int:
    """The round length (50/100/200/500 m, 1/2/5 km …) nearest a fifth of the map's width.

    Nearness is by ratio, so 1/5 of 3.3 km (660 m) gives 500 m and 1/5 of 3.9 km (780 m)
    gives 1 km.
    """
    if not math.isfinite(map_width_m) or map_width_m <= 0:
        return SCALE_BAR_LENGTHS_M[0]
    target = map_width_m / 5
    return min(SCALE_BAR_LENGTHS_M, key=lambda length: abs(math.log(length / target)))


def neighbour_colours(geometries, *, tolerance_m: float = 1.0) -> np.ndarray:
    """A colour index per polygon such that polygons that touch never share one.

    Greedy colouring (DSATUR) of the graph of polygons within ``tolerance_m`` of each other
    (corners count: two communities meeting at a point differ too).

    Parameters
    ----------
    geometries : array_like of shapely geometries
        Polygons in a metric CRS.
    tolerance_m : float
        Distance under which two polygons count as touching (GeoJSON rounding leaves slivers).

    Returns
    -------
    numpy.ndarray of int
        Colour indices from 0, aligned with ``geometries``; as few as DSATUR finds (at most
        the largest number of neighbours plus one).
    """
    geoms = np.asarray(geometries, dtype=object)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(geoms)))
    if len(geoms) > 1:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance_m)
        graph.add_edges_from((int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b)
    colouring = nx.coloring.greedy_color(graph, strategy="saturation_largest_first")
    return np.array([colouring[i] for i in range(len(geoms))], dtype=int)


def _palette_colour(index: int) -> str:
    if index < len(PALETTE):
        return PALETTE[index]
    from matplotlib import colormaps, colors

    extra = colormaps["tab20"].colors
    return colors.to_hex(extra[(index - len(PALETTE)) % len(extra)])


# ---------------------------------------------------------------------------------------------
# Fonts


def find_cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use, or None when the machine has none.

    Looks for :data:`CJK_FAMILIES` among the fonts matplotlib knows; when its font cache
    predates an installed CJK font, the system font files whose names suggest one are added
    to matplotlib's font manager (for this process only) and the search is repeated.
    """
    from matplotlib import font_manager

    family = _known_cjk_family(font_manager.fontManager)
    if family:
        return family
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        name = Path(path).name.lower().replace("-", "").replace("_", "")
        if path not in known and any(hint in name for hint in _CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue  # an unreadable font file: try the next
    return _known_cjk_family(font_manager.fontManager)


def _known_cjk_family(manager) -> str | None:
    names = {entry.name for entry in manager.ttflist}
    return next((family for family in CJK_FAMILIES if family in names), None)


def _choose_font(
    lang: str, title: str | None, *, extra: Sequence[str] = ()
) -> tuple[str, str, list[RenderWarning]]:
    """(font family, language drawn, warnings); ``extra`` are other texts given (names)."""
    needs_cjk = lang == "zh" or any(text and _has_cjk(text) for text in (title, *extra))
    if not needs_cjk:
        return LATIN_FAMILY, lang, []
    family = find_cjk_font()
    if family:
        return family, lang, []
    what = "the map is drawn in English" + (
        " with the default title" if title and _has_cjk(title) else ""
    )
    return (
        LATIN_FAMILY,
        "en",
        [
            RenderWarning(
                "no_cjk_font",
                f"no Chinese (CJK) font found on this machine, so {what} instead of printing boxes "
                f"for Chinese characters; install one of {CJK_FONT_PACKAGES}, then render again "
                "(delete ~/.cache/matplotlib if the font is still not found).",
            )
        ],
    )


def _has_cjk(text: str) -> bool:
    return any(ord(ch) > 0x2E7F for ch in text)


# ---------------------------------------------------------------------------------------------
# Page layout


@dataclass(frozen=True)
class _Page:
    """Figure size and the boxes on it, millimetres from the bottom-left corner."""

    width_mm: float
    height_mm: float
    margin_mm: float
    map_box: tuple[float, float, float, float]  # left, bottom, width, height
    extent: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (metres)

    def frac(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        return x_mm / self.width_mm, y_mm / self.height_mm

    @property
    def pt_per_m(self) -> float:
        return self.map_box[2] * _PT_PER_MM / (self.extent[2] - self.extent[0])


_HEADER_MM = 17.0
_FOOTER_MM = 24.0
_ASPECT_RANGE = (0.55, 1.25)


def _page(bounds: Sequence[float], width_mm: float, height_mm: float | None = None) -> _Page:
    """A page ``width_mm`` wide whose map box fits the data, padded to a sane aspect; or, with
    ``height_mm``, a page of that size whose map box fills what the header and footer leave."""
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 1.0)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    margin = max(6.0, 0.035 * width_mm)
    map_w = width_mm - 2 * margin
    if height_mm is None:
        aspect = float(np.clip((ymax - ymin) / (xmax - xmin), *_ASPECT_RANGE))
    else:
        aspect = (height_mm - margin * 1.4 - _FOOTER_MM - _HEADER_MM) / map_w
    map_h = map_w * aspect
    # widen the shorter side of the extent so the map fills its box at one scale
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w = max(xmax - xmin, (ymax - ymin) / aspect) / 2
    half_h = half_w * aspect
    bottom = margin * 0.6 + _FOOTER_MM
    height = bottom + map_h + _HEADER_MM + margin * 0.8
    return _Page(
        width_mm,
        height,
        margin,
        (margin, bottom, map_w, map_h),
        (cx - half_w, cy - half_h, cx + half_w, cy + half_h),
    )


# ---------------------------------------------------------------------------------------------
# Drawing


def render_plan(
    plan_dir: str | Path,
    out: str | Path,
    *,
    title: str | None = None,
    lang: str = "zh",
    dpi: int = 200,
    width_mm: float = 297.0,
    paper: str | None = None,
    date: dt.date | None = None,
    editor: str = "",
    organisation: str = "",
) -> RenderedMap:
    """Draw a plan folder as a print map and write it as PNG or PDF.

    Parameters
    ----------
    plan_dir : str | pathlib.Path
        A folder written by ``python -m planning propose … --out DIR``.
    out, title, lang, dpi, width_mm, paper, date, editor, organisation
        As :func:`render_map` takes them.

    Returns
    -------
    RenderedMap

    Raises
    ------
    PlanningInputError
        For an option :func:`render_map` refuses, or a plan folder that cannot be read (see
        :func:`read_plan_layers`).
    """
    options = {"lang": lang, "dpi": dpi, "width_mm": width_mm, "paper": paper}
    _check_options(Path(out), **options)
    return render_map(
        read_plan_layers(plan_dir),
        out,
        title=title,
        date=date,
        editor=editor,
        organisation=organisation,
        **options,
    )


def render_map(
    layers: PlanMapLayers,
    out: str | Path,
    *,
    title: str | None = None,
    lang: str = "zh",
    dpi: int = 200,
    width_mm: float = 297.0,
    paper: str | None = None,
    date: dt.date | None = None,
    editor: str = "",
    organisation: str = "",
) -> RenderedMap:
    """Draw a plan's layers (:func:`plan_map_layers`, :func:`read_plan_layers`) as a print map
    and write it as PNG or PDF.

    Parameters
    ----------
    layers : PlanMapLayers
        The plan and its context layers.
    out : str | pathlib.Path
        The file to write; its suffix (``.png`` or ``.pdf``) chooses the format. Parent
        folders are created.
    title : str, optional
        The title; default "社区与网格划分方案" (English: "Communities and grids: proposed
        layout").
    lang : {"zh", "en"}
        Language of every text on the map.
    dpi : int
        Resolution of a PNG (a PDF is vector; its few raster parts use it too).
    width_mm : float
        Page width when no ``paper`` is given; the height then follows the map's shape (A4
        landscape width by default).
    paper : {"A4", "A3"}, optional
        A landscape sheet of that size (:data:`PAPERS`); the map fills what the title and the
        legend leave.
    date : datetime.date, optional
        The date in the note; default today.
    editor, organisation : str
        Who prepared the map and for which body (编制人、编制单位), at the bottom right;
        left out when empty.

    Returns
    -------
    RenderedMap

    Raises
    ------
    PlanningInputError
        For an unknown ``lang`` or ``paper``, an ``out`` suffix other than .png/.pdf, or a
        ``dpi`` or ``width_mm`` out of range.
    """
    out = Path(out)
    _check_options(out, lang=lang, dpi=dpi, width_mm=width_mm, paper=paper)
    family, drawn_lang, warnings = _choose_font(lang, title, extra=(editor, organisation))
    if title and _has_cjk(title) and family == LATIN_FAMILY:
        title = None  # no font for it: the default title of the language drawn
    size_mm = PAPERS[paper.upper()] if paper else (width_mm, None)
    import matplotlib

    with matplotlib.rc_context(_rc(family)):
        figure, drawn = _draw(
            layers,
            title=title,
            lang=drawn_lang,
            size_mm=size_mm,
            date=date or dt.date.today(),
            credits=(organisation.strip(), editor.strip()),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        _save(figure, out, dpi=dpi)
    return RenderedMap(
        path=out,
        font_family=family,
        lang=drawn_lang,
        metric_crs=f"EPSG:{layers.metric_crs.to_epsg()}",
        warnings=tuple(warnings),
        **drawn,
    )


def _check_options(out: Path, *, lang: str, dpi: int, width_mm: float, paper: str | None) -> None:
    if lang not in _TEXT:
        raise PlanningInputError(
            f"lang {lang!r}: expected one of {', '.join(_TEXT)}; fix: pass lang='zh' or 'en'."
        )
    if out.suffix.lower() not in FORMATS:
        raise PlanningInputError(
            f"output {out}: unknown map format '{out.suffix or '(none)'}'. expected a file "
            f"ending in {' or '.join(FORMATS)}; fix: name the output e.g. plan.png or plan.pdf."
        )
    if not (10 <= dpi <= 1200) or not (50 <= width_mm <= 2000):
        raise PlanningInputError(
            f"dpi {dpi}, width {width_mm} mm: expected dpi within 10–1200 and a page width "
            "within 50–2000 mm; fix: e.g. dpi=200, width_mm=297 (A4 landscape)."
        )
    if paper is not None and paper.upper() not in PAPERS:
        raise PlanningInputError(
            f"paper {paper!r}: expected one of {', '.join(PAPERS)} (landscape); fix: pass "
            "paper='A4' or 'A3', or leave it out for a page whose height follows the map."
        )


def _rc(family: str) -> dict:
    families = [family] if family == LATIN_FAMILY else [family, LATIN_FAMILY]
    return {
        "font.family": families,
        "font.size": 8,
        "hatch.linewidth": 0.7,
        "pdf.fonttype": 3,
        "path.simplify": True,
        "path.simplify_threshold": 0.3,
        "pdf.compression": 9,
        "savefig.facecolor": "white",
    }


def _draw(
    layers: PlanMapLayers,
    *,
    title: str | None,
    lang: str,
    size_mm: tuple[float, float | None],
    date: dt.date,
    credits: tuple[str, str],
):
    """The figure and the fields of RenderedMap it makes; ``credits`` is (organisation,
    editor)."""
    from matplotlib.figure import Figure

    text = _TEXT[lang]
    communities = layers.communities
    page = _page(communities.total_bounds, *size_mm)
    figure = Figure(figsize=(page.width_mm / _MM_PER_INCH, page.height_mm / _MM_PER_INCH))
    ax = _map_axes(figure, page)
    colours = [_palette_colour(i) for i in neighbour_colours(communities.geometry.array)]
    drawn = _draw_layers(ax, layers, colours, page.extent)
    labels = _draw_labels(ax, communities, text, page.pt_per_m)
    ax.set_xlabel("")  # geopandas names the axes after the CRS
    ax.set_ylabel("")
    scale_m = scale_bar_length_m(page.extent[2] - page.extent[0])
    furniture = _furniture_axes(figure, page)
    _draw_scale_bar(furniture, page, scale_m, text)
    _draw_north_arrow(furniture, page)
    legend = _draw_legend(figure, page, drawn, text)
    title = title or text["title"]
    subtitle = _subtitle(layers, text)
    note = text["sep"].join(
        [
            text["crs"].format(crs=_crs_name(layers.metric_crs, text)),
            text["date"].format(date=date.isoformat()),
        ]
    )
    _draw_header(figure, page, title, subtitle)
    credit_line = _credit_line(credits, text)
    for x_mm, line, align in (
        (page.margin_mm, note, "left"),
        (page.width_mm - page.margin_mm, credit_line, "right"),
    ):
        figure.text(
            *page.frac(x_mm, page.margin_mm * 0.6),
            line,
            ha=align,
            va="bottom",
            fontsize=7,
            color="#444444",
        )
    return figure, {
        "title": title,
        "subtitle": subtitle,
        "note": note,
        "credits": credit_line,
        "page_mm": (page.width_mm, page.height_mm),
        "layers": tuple(drawn),
        "legend": legend,
        "community_labels": labels,
        "community_colours": dict(zip(communities["community_id"], colours, strict=True)),
        "out_of_band": tuple(communities.loc[~communities["in_band"], "community_id"]),
        "scale_bar_m": scale_m,
    }


def _credit_line(credits: tuple[str, str], text: dict) -> str:
    """``编制单位：… · 编制人：…``, the parts given."""
    organisation, editor = credits
    parts = [
        text[key].format(name=name)
        for key, name in (("organisation", organisation), ("editor", editor))
        if name
    ]
    return text["sep"].join(parts)


def _map_axes(figure, page: _Page):
    """The map frame: metres at one scale, no ticks, a thin neat line."""
    left, bottom, map_w, map_h = page.map_box
    ax = figure.add_axes((*page.frac(left, bottom), map_w / page.width_mm, map_h / page.height_mm))
    xmin, ymin, xmax, ymax = page.extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    return ax


def _draw_layers(
    ax, layers: PlanMapLayers, colours: list[str], extent: tuple[float, float, float, float]
) -> list[str]:
    """Every layer in drawing order; returns the names of those drawn."""
    drawn = ["communities"]
    communities = layers.communities
    communities.plot(ax=ax, color=colours, alpha=0.55, linewidth=0, zorder=1)
    clip = shapely.box(*extent)
    barriers = _clipped(layers.barriers, clip)
    water = None if barriers is None else barriers[barriers["kind"].isin(_WATER_KINDS)]
    if water is not None and len(water):
        areas = water[water.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(areas):
            areas.plot(ax=ax, color="#a6cee3", edgecolor="#4a90d9", linewidth=0.4, zorder=2)
    drawn += _draw_buildings(
        ax, _clipped(layers.footprints, clip), _clipped(layers.buildings, clip)
    )
    if barriers is not None:
        drawn += _draw_barriers(ax, barriers)
    if layers.grids is not None:
        layers.grids.boundary.plot(
            ax=ax, color="#3a3a3a", linewidth=0.45, linestyle=(0, (4, 2.5)), zorder=6
        )
        drawn.append("grids")
    subdistricts = _clipped(layers.subdistricts, clip)
    if subdistricts is not None:
        areas = subdistricts.geom_type.isin(["Polygon", "MultiPolygon"])
        lines = subdistricts.geometry.where(~areas, subdistricts.boundary)
        lines.plot(ax=ax, color=_STREET_BAND, linewidth=5.5, zorder=2.5)
        lines.plot(ax=ax, color=_STREET, linewidth=1.5, linestyle=_DASH_DOT, zorder=8.5)
        drawn.append("streets")
    communities.boundary.plot(ax=ax, color=_BORDER, linewidth=1.3, zorder=8)
    outside = communities[~communities["in_band"]]
    if len(outside):
        outside.plot(
            ax=ax, facecolor="none", edgecolor=_OUT_OF_BAND, hatch="////", linewidth=0, zorder=9
        )
        outside.boundary.plot(ax=ax, color=_OUT_OF_BAND, linewidth=1.8, zorder=9)
        drawn.append("out_of_band")
    return drawn


def _clipped(layer: gpd.GeoDataFrame | None, clip) -> gpd.GeoDataFrame | None:
    """The features within ``clip`` (whole, not cut: a cut polygon would draw a false edge)."""
    if layer is None:
        return None
    inside = layer[layer.geometry.intersects(clip)]
    return inside if len(inside) else None


def _draw_buildings(ax, footprints, buildings) -> list[str]:
    if footprints is not None:
        polygons = footprints[footprints.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polygons):
            polygons.plot(ax=ax, color="#9a9a9a", linewidth=0, zorder=3)
            return ["footprints"]
    if buildings is not None:
        points = buildings.geometry.representative_point()
        sizes = np.clip(np.sqrt(buildings["households"].to_numpy(dtype=float)) / 3, 0.6, 6.0)
        ax.scatter(points.x, points.y, s=sizes, color="#303030", linewidths=0, zorder=3)
        return ["buildings"]
    return []


#: (casing colour, casing width, fill colour, fill width) per road tier, points.
_ROAD_STYLE = {
    "major": ("#7a7a7a", 2.8, "#fff2b3", 1.9),
    "minor": ("#8c8c8c", 1.5, "#ffffff", 0.9),
    "lanes": (None, 0.0, "#9c9c9c", 0.45),
}


def _draw_barriers(ax, barriers: gpd.GeoDataFrame) -> list[str]:
    drawn = []
    lines = barriers[~barriers.geom_type.isin(["Polygon", "MultiPolygon"])]
    kinds = lines["kind"]
    roads = lines[~kinds.isin(_WATER_KINDS) & ~kinds.isin(_RAIL_KINDS)]
    tiers = road_tier(roads["road_class"].tolist())
    for tier in ("lanes", "minor", "major"):
        part = roads[tiers == tier]
        if not len(part):
            continue
        casing, casing_w, fill, fill_w = _ROAD_STYLE[tier]
        z = {"lanes": 4.0, "minor": 4.2, "major": 4.4}[tier]
        if casing:
            part.plot(ax=ax, color=casing, linewidth=casing_w, zorder=z, capstyle="round")
        part.plot(ax=ax, color=fill, linewidth=fill_w, zorder=z + 0.05, capstyle="round")
        drawn.append(tier)
    drawn = [t for t in ("major", "minor", "lanes") if t in drawn]
    water = barriers[barriers["kind"].isin(_WATER_KINDS)]
    if len(water):
        water_lines = water[~water.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(water_lines):
            water_lines.plot(ax=ax, color=_WATER, linewidth=4.0, zorder=4.6, capstyle="round")
        drawn.append("water")
    rail = lines[kinds.isin(_RAIL_KINDS)]
    if len(rail):
        rail.plot(ax=ax, color="#111111", linewidth=1.6, linestyle=(0, (5, 3)), zorder=4.8)
        drawn.append("railway")
    return drawn


def _label_point(geometry) -> tuple[shapely.Point, float]:
    """A point well inside the polygon (pole of inaccessibility) and its clearance, metres."""
    polygon = geometry
    if geometry.geom_type == "MultiPolygon":
        polygon = max(geometry.geoms, key=lambda part: part.area)
    if not polygon.is_valid:  # polylabel needs a valid ring; any inside point will do
        point = polygon.representative_point()
    else:
        point = polylabel(polygon, tolerance=max(1.0, math.sqrt(polygon.area) / 200))
    return point, float(polygon.boundary.distance(point))


_LABEL_PT = (4.5, 9.0)


def _label_size(label: str, clearance_pt: float) -> float:
    """The font size (pt) at which the label's box about fits the circle of ``clearance_pt``.

    Widths in ems: a CJK character 1, any other 0.62 (bold digits and Latin letters); lines
    1.1 em apart. The box may reach a little beyond the circle (polygons are wider than their
    inscribed circle), and the size stays within :data:`_LABEL_PT`.
    """
    lines = label.split("\n")
    width_em = max(sum(1.0 if _has_cjk(ch) else 0.62 for ch in line) for line in lines)
    half_diagonal_em = math.hypot(width_em / 2, 1.1 * len(lines) / 2)
    return float(np.clip(1.2 * clearance_pt / half_diagonal_em, *_LABEL_PT))


def _draw_labels(ax, communities: gpd.GeoDataFrame, text: dict, pt_per_m: float) -> tuple[str, ...]:
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    labels = []
    for cid, households, geometry in zip(
        communities["community_id"], communities["households"], communities.geometry, strict=True
    ):
        label = f"{cid}\n{text['households'].format(int(households))}"
        labels.append(label)
        point, clearance_m = _label_point(geometry)
        size = _label_size(label, clearance_m * pt_per_m)
        ax.text(
            point.x,
            point.y,
            label,
            ha="center",
            va="center",
            fontsize=size,
            linespacing=1.1,
            color="#111111",
            zorder=10,
            path_effects=halo,
            fontweight="bold",
        )
    return tuple(labels)


def _format_length(length_m: float, text: dict) -> str:
    if length_m >= 1000:
        return text["km"].format(length_m / 1000)
    return text["m"].format(int(length_m))


def _furniture_axes(figure, page: _Page):
    """Axes over the whole page in millimetres, for the scale bar and the north arrow."""
    ax = figure.add_axes((0, 0, 1, 1), zorder=-1)
    ax.set_xlim(0, page.width_mm)
    ax.set_ylim(0, page.height_mm)
    ax.set_axis_off()
    return ax


def _draw_scale_bar(ax, page: _Page, length_m: int, text: dict) -> None:
    """Below the map's right end: a bar of two halves, black and white, at the map's scale."""
    from matplotlib.patches import Rectangle

    left, bottom, map_w, _ = page.map_box
    bar_mm = length_m * page.pt_per_m / _PT_PER_MM
    x_end = left + map_w - 6.0
    x0, y0, bar_h = x_end - bar_mm, bottom - 9.0, 1.6
    half = length_m / 2
    for x, colour in ((x0, "#111111"), (x0 + bar_mm / 2, "white")):
        ax.add_patch(
            Rectangle(
                (x, y0), bar_mm / 2, bar_h, facecolor=colour, edgecolor="#111111", linewidth=0.6
            )
        )
    for x, value in (
        (x0, "0"),
        (x0 + bar_mm / 2, f"{half:g}" if half < 1000 else f"{half / 1000:g}"),
        (x_end, _format_length(length_m, text)),
    ):
        ax.text(x, y0 + bar_h + 1.0, value, ha="center", va="bottom", fontsize=7)


def _draw_north_arrow(ax, page: _Page) -> None:
    """At the top right of the page, beside the title (grid north: the map is not rotated)."""
    from matplotlib.patches import Polygon

    left, bottom, map_w, map_h = page.map_box
    cx, size = left + map_w - 4.0, 2.6
    base = bottom + map_h + 2.5
    tip, notch = (cx, base + 3.2 * size), base + 0.8 * size
    ax.add_patch(
        Polygon(
            [tip, (cx - size, base), (cx, notch)],
            closed=True,
            facecolor="#111111",
            edgecolor="#111111",
            linewidth=0.6,
        )
    )
    ax.add_patch(
        Polygon(
            [tip, (cx + size, base), (cx, notch)],
            closed=True,
            facecolor="white",
            edgecolor="#111111",
            linewidth=0.6,
        )
    )
    ax.text(
        cx,
        base + 3.2 * size + 0.6,
        "N",
        ha="center",
        va="bottom",
        fontsize=10,
        fontweight="bold",
        family=LATIN_FAMILY,
    )


def _legend_handle(key: str, drawn: Sequence[str]):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if key in _ROAD_STYLE:
        casing, casing_w, fill, fill_w = _ROAD_STYLE[key]
        inner = Line2D([], [], color=fill, linewidth=fill_w)
        return (Line2D([], [], color=casing, linewidth=casing_w), inner) if casing else inner
    handles = {
        "communities": lambda: Patch(facecolor=PALETTE[0] + "8c", edgecolor=_BORDER, linewidth=1.3),
        "grids": lambda: Line2D([], [], color="#3a3a3a", linewidth=0.6, linestyle=(0, (4, 2.5))),
        "out_of_band": lambda: Patch(
            facecolor="none", edgecolor=_OUT_OF_BAND, hatch="////", linewidth=1.5
        ),
        "water": lambda: Line2D([], [], color=_WATER, linewidth=4.0),
        "railway": lambda: Line2D([], [], color="#111111", linewidth=1.6, linestyle=(0, (5, 3))),
        "buildings": lambda: (
            Patch(facecolor="#9a9a9a", linewidth=0)
            if "footprints" in drawn
            else Line2D([], [], linestyle="none", marker="o", markersize=2.5, color="#303030")
        ),
        "streets": lambda: (
            Line2D([], [], color=_STREET_BAND, linewidth=5.5),
            Line2D([], [], color=_STREET, linewidth=1.5, linestyle=_DASH_DOT),
        ),
    }
    return handles[key]()


def _draw_legend(figure, page: _Page, drawn: Sequence[str], text: dict) -> tuple[str, ...]:
    """The legend under the map, one column per group of :data:`LEGEND_COLUMNS`."""
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.lines import Line2D

    present = set(drawn) | ({"buildings"} if "footprints" in drawn else set())
    columns = [[key for key in column if key in present] for column in LEGEND_COLUMNS]
    columns = [column for column in columns if column]
    rows = max(len(column) for column in columns)
    handles, labels = [], []
    for column in columns:  # matplotlib fills columns in turn: pad each to the same height
        handles += [_legend_handle(key, drawn) for key in column]
        labels += [text[key] for key in column]
        handles += [Line2D([], [], linestyle="none")] * (rows - len(column))
        labels += [""] * (rows - len(column))
    left, bottom, _, _ = page.map_box
    figure.legend(
        handles,
        labels,
        loc="upper left",
        ncols=len(columns),
        bbox_to_anchor=page.frac(left - 1.0, bottom - 2.0),
        frameon=False,
        fontsize=8,
        handlelength=3.0,
        handleheight=1.1,
        columnspacing=2.5,
        labelspacing=0.45,
        borderaxespad=0,
        handler_map={tuple: HandlerTuple(ndivide=1, pad=0)},
    )
    return tuple(label for label in labels if label)


def _draw_header(figure, page: _Page, title: str, subtitle: str) -> None:
    top = page.height_mm - page.margin_mm * 0.8
    figure.text(
        *page.frac(page.margin_mm, top), title, ha="left", va="top", fontsize=15, fontweight="bold"
    )
    figure.text(
        *page.frac(page.margin_mm, top - 8.5),
        subtitle,
        ha="left",
        va="top",
        fontsize=8.5,
        color="#333333",
    )


def _subtitle(layers: PlanMapLayers, text: dict) -> str:
    grids = 0 if layers.grids is None else len(layers.grids)
    parts = [text["count"].format(communities=len(layers.communities), grids=grids)]
    for key, section in (("band", "communities"), ("grid_band", "grids")):
        band = layers.summary.get(section, {}).get("band")
        if band and len(band) == 2:
            parts.append(text[key].format(lo=round(band[0]), hi=round(band[1])))
    return text["sep"].join(parts)


def _crs_name(crs: pyproj.CRS, text: dict) -> str:
    name = crs.name  # English as pyproj spells it; Chinese where the zone system is known
    utm = re.match(r"WGS 84 / UTM zone (\d+[NS])", name)
    if text["gk"] and name.startswith("CGCS2000 / 3-degree Gauss-Kruger"):
        name = text["gk"]
    elif text["utm"] and utm:
        name = text["utm"].format(zone=utm.group(1))
    code = crs.to_epsg()
    return f"{name} EPSG:{code}" if code else name


def _save(figure, out: Path, *, dpi: int) -> None:
    """PDF as is; PNG reduced to a palette of at most 256 colours (a third of the bytes)."""
    if out.suffix.lower() == ".pdf":
        figure.savefig(out, format="pdf", dpi=dpi, metadata={"Creator": "community-planner"})
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    paletted = rgb.quantize(
        colors=_PNG_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    paletted.save(out, format="PNG", optimize=True, dpi=(dpi, dpi))
