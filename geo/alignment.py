"""Whether two layers sit on each other, or one is off by the GCJ-02 / BD-09 shift.

A layer in GCJ-02 (Amap/Tencent) declared as WGS84, or the reverse, lands a few hundred
metres from where it belongs, and nothing else notices: every layer is read, converted and
used. Another layer in the same area shows the offset, because real layers fit each other in
a way a shifted copy does not:

- building points do not stand on roads: as declared, few of them lie within
  :data:`ON_LINE_M` of a road, river or railway line, where a shifted copy puts them on lines
  as often as chance does;
- building points stand inside their footprints, compounds, communities and 街道: as
  declared, most lie inside a polygon, where a shifted copy leaves many outside; and, like
  roads, the edges of 街道 and communities (which follow roads) keep clear of buildings.

:func:`measure_alignment` measures that fit for the points as declared and for every other
declaration of either layer among WGS84, GCJ-02 and BD-09 (the transforms of
:mod:`geo.crs`), and for translations of the same size in 16 directions (the fit of an
arbitrary shift, so a chance improvement is not taken for the offset). :func:`offset_problem`
turns a clear improvement into a warning naming both layers and the declaration to change.
Cheap: at most ``max_points`` points (a seeded sample), one STRtree per layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas
import numpy as np
import pyproj
import shapely

from geo.crs import (
    SourceCRS,
    parse_crs,
    to_wgs84_xy,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import Problem
from geo.records import GeoMessage

__all__ = [
    "ON_LINE_M",
    "AlignedLayer",
    "LayerAlignment",
    "Reading",
    "measure_alignment",
    "offset_problem",
    "offset_warnings",
]

#: A building point this close to a line (metres) stands on the road: aligned layers have few.
ON_LINE_M = 5.0
#: Translations of the variant's size the fit is compared against.
RING_DIRECTIONS = 16
#: Lines: a variant fits clearly better when it has at most this share of the points on a line
#: that the declared reading has, and at most this share of the ring's median.
LINE_RATIO = 1 / 3
LINE_RING_RATIO = 1 / 2
#: Lines: as declared, at least this many sampled points must stand on a line.
LINE_MIN_ON = 3
#: Polygons: a variant fits clearly better when this much larger a share lies inside than as
#: declared and than the ring's median, and either three times the share inside, or a third of
#: the share outside.
POLYGON_GAIN = 0.1
POLYGON_RATIO = 3.0

_SYSTEMS = ("wgs84", "gcj02", "bd09")
_FROM_WGS84: dict[str, Callable] = {
    "wgs84": lambda lon, lat: (np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)),
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


@dataclass(frozen=True)
class Reading:
    """Another declaration one layer may have needed: ``side`` (``"layer"`` or ``"points"``)
    read in ``system`` (wgs84 / gcj02 / bd09), with the fit it gives, how far it moves the
    points (metres, median) and the median fit of the points moved as far in
    :data:`RING_DIRECTIONS` directions (NaN, not measured, when the reading does not beat the
    declaration anyway)."""

    side: str
    system: str
    fit: float
    shift_m: float
    ring_median: float


@dataclass(frozen=True)
class LayerAlignment:
    """How well a layer fits the points, as declared and under every other declaration.

    Attributes
    ----------
    kind
        ``"lines"`` (fit: the share of points within :data:`ON_LINE_M` of a line, lower is
        better) or ``"polygons"`` (fit: the share inside a polygon, higher is better).
    points
        How many points were measured (a sample of at most ``max_points``).
    declared
        The fit as declared.
    readings
        The fit when the layer or the points are read in another of WGS84, GCJ-02, BD-09.
    points_crs, layer_crs
        The declared CRSs.
    """

    kind: str
    points: int
    declared: float
    readings: tuple[Reading, ...]
    points_crs: SourceCRS
    layer_crs: SourceCRS

    def better(self) -> tuple[Reading, ...]:
        """The readings that fit clearly better than the declaration: the layer's first (the
        points are the data a plan is made of, more often declared right than another layer),
        the best fit first on each side.

        Both sides can fit better: reading the layer in GCJ-02 moves it as reading the points
        in WGS84 does; and with few points, a reading that doubles the offset may land clear
        of the roads by chance."""
        clear = [r for r in self.readings if self._clearly_better(r)]
        sign = 1.0 if self.kind == "lines" else -1.0
        return tuple(sorted(clear, key=lambda r: (r.side != "layer", sign * r.fit)))

    def _clearly_better(self, reading: Reading) -> bool:
        if not _beats_declared(self.kind, reading.fit, self.declared, self.points):
            return False
        if self.kind == "lines":
            return reading.fit <= reading.ring_median * LINE_RING_RATIO
        return reading.fit >= reading.ring_median + POLYGON_GAIN


def _beats_declared(kind: str, fit: float, declared: float, points: int) -> bool:
    """Whether ``fit`` is clearly better than the ``declared`` fit (before the ring test)."""
    if kind == "lines":
        return declared * points >= LINE_MIN_ON and fit <= declared * LINE_RATIO
    return fit >= declared + POLYGON_GAIN and (
        fit >= declared * POLYGON_RATIO or 1 - fit <= (1 - declared) / POLYGON_RATIO
    )


def _reading_systems(source: SourceCRS) -> tuple[str, ...]:
    """The other lon/lat systems a layer declared ``source`` may really be in (none for a
    projected CRS)."""
    if not source.is_geographic:
        return ()
    declared = source.key if source.is_offset else "wgs84"
    return tuple(s for s in _SYSTEMS if s != declared)


def _declared_system(source: SourceCRS) -> str:
    return source.key if source.is_offset else "wgs84"


def _sample(points: geopandas.GeoSeries, max_points: int, seed: int) -> tuple[np.ndarray, ...]:
    geoms = np.asarray(points.values)
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    lon, lat = shapely.get_x(geoms[keep]), shapely.get_y(geoms[keep])
    finite = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[finite], lat[finite]
    if len(lon) > max_points:
        pick = np.sort(np.random.default_rng(seed).choice(len(lon), max_points, replace=False))
        lon, lat = lon[pick], lat[pick]
    return lon, lat


def _kind(geoms: np.ndarray) -> str | None:
    types = set(shapely.get_type_id(geoms[~shapely.is_empty(geoms)]).tolist())
    if types and types <= {1, 5}:
        return "lines"
    if types and types <= {3, 6}:
        return "polygons"
    return None


class _Fit:
    """The fit of metric points to one layer's STRtree."""

    def __init__(self, geoms: np.ndarray, kind: str):
        self.tree = shapely.STRtree(geoms)
        self.kind = kind

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        points = shapely.points(x, y)
        if self.kind == "lines":
            hits = self.tree.query(points, predicate="dwithin", distance=ON_LINE_M)[0]
        else:
            hits = self.tree.query(points, predicate="within")[0]
        return len(np.unique(hits)) / len(points)

    def ring(self, x: np.ndarray, y: np.ndarray, radius_m: float) -> float:
        angles = 2 * np.pi * np.arange(RING_DIRECTIONS) / RING_DIRECTIONS
        return float(
            np.median([self(x + radius_m * np.cos(a), y + radius_m * np.sin(a)) for a in angles])
        )


def measure_alignment(
    points: geopandas.GeoSeries,
    layer: geopandas.GeoSeries,
    *,
    points_crs: SourceCRS | str | int,
    layer_crs: SourceCRS | str | int,
    metric_crs: pyproj.CRS,
    max_points: int = 3000,
    seed: int = 0,
) -> LayerAlignment | None:
    """Measure how well ``points`` fit ``layer`` as declared and under other declarations.

    Parameters
    ----------
    points : geopandas.GeoSeries
        Building points in WGS84 (as read, i.e. converted from ``points_crs``).
    layer : geopandas.GeoSeries
        Lines (roads, rivers, railways) or polygons (footprints, compounds, communities, 街道)
        in WGS84 (converted from ``layer_crs``).
    points_crs, layer_crs : SourceCRS | str | int, keyword-only
        What each was declared in.
    metric_crs : pyproj.CRS, keyword-only
        The metric CRS distances are measured in.
    max_points : int, keyword-only
        At most this many points are measured (a sample drawn with ``seed``).

    Returns
    -------
    LayerAlignment | None
        None when there is nothing to compare: no point, a layer of points or of mixed lines
        and polygons, or both layers declared in projected CRSs.
    """
    points_crs, layer_crs = parse_crs(points_crs), parse_crs(layer_crs)
    geoms = np.asarray(layer.values)
    kind = _kind(geoms) if len(geoms) else None
    lon, lat = _sample(points, max_points, seed)
    if kind is None or not len(lon):
        return None
    to_metric = pyproj.Transformer.from_crs(4326, metric_crs, always_xy=True).transform
    metric = geopandas.GeoSeries(geoms, crs=4326).to_crs(metric_crs).values
    fit = _Fit(np.asarray(metric), kind)
    x, y = (np.asarray(v) for v in to_metric(lon, lat))
    declared = fit(x, y)
    readings = []
    for side, source in (("layer", layer_crs), ("points", points_crs)):
        for system in _reading_systems(source):
            moved_lon, moved_lat = _moved(
                lon, lat, side=side, system=system, declared=_declared_system(source)
            )
            mx, my = (np.asarray(v) for v in to_metric(moved_lon, moved_lat))
            shift_m = float(np.median(np.hypot(mx - x, my - y)))
            moved_fit = fit(mx, my)
            # the ring is only measured for a reading that beats the declaration (cheap when
            # the layers align)
            ring = (
                fit.ring(x, y, shift_m)
                if _beats_declared(kind, moved_fit, declared, len(lon))
                else float("nan")
            )
            readings.append(Reading(side, system, moved_fit, shift_m, ring))
    if not readings:
        return None
    return LayerAlignment(kind, len(lon), declared, tuple(readings), points_crs, layer_crs)


def _moved(
    lon: np.ndarray, lat: np.ndarray, *, side: str, system: str, declared: str
) -> tuple[np.ndarray, np.ndarray]:
    """The points where they fall against the layer when ``side`` is read in ``system``
    instead of ``declared``.

    Reading the points in ``system``: they are ``to_wgs84(system, from_wgs84(declared, p))``.
    Reading the layer in ``system`` moves the layer by that transform, which moves the points,
    relative to it, by the inverse: ``to_wgs84(declared, from_wgs84(system, p))``.
    """
    if side == "points":
        raw_lon, raw_lat = _FROM_WGS84[declared](lon, lat)
        return to_wgs84_xy(raw_lon, raw_lat, system)
    raw_lon, raw_lat = _FROM_WGS84[system](lon, lat)
    return to_wgs84_xy(raw_lon, raw_lat, declared)


_LABELS = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def offset_problem(
    alignment: LayerAlignment | None,
    *,
    layer_label: str,
    points_label: str,
    layer_option: str,
    points_option: str = "--crs",
) -> Problem | None:
    """A warning when one of the two layers fits the other clearly better in another of
    WGS84, GCJ-02, BD-09 than as declared; None when the declaration fits best.

    Parameters
    ----------
    alignment : LayerAlignment | None
        From :func:`measure_alignment`.
    layer_label, points_label : str, keyword-only
        How the layer and the points are named (e.g. their file names).
    layer_option, points_option : str, keyword-only
        The options that declare each one's CRS (e.g. ``--barriers-crs`` and ``--crs``).
    """
    if alignment is None or not (better := alignment.better()):
        return None
    best = better[0]
    names = {
        "layer": (layer_label, layer_option, alignment.layer_crs),
        "points": (points_label, points_option, alignment.points_crs),
    }
    name, option, declared = names[best.side]
    other_name, other_option, other_declared = names["points" if best.side == "layer" else "layer"]
    twin = next((r for r in better if r.side != best.side), None)
    also: str | GeoMessage = ""
    if twin is not None:
        also = GeoMessage.of(
            "alignment.word.twin",
            name=name,
            other=other_name,
            system=_LABELS[twin.system],
            option=other_option,
            key=twin.system,
        )
    measure = f"alignment.word.measure_{'lines' if alignment.kind == 'lines' else 'areas'}"
    return Problem.of(
        "warning",
        name,
        GeoMessage.of(
            "alignment.offset",
            name=name,
            system=_LABELS[best.system],
            declared=declared.label,
            shift_m=best.shift_m,
            other=other_name,
            other_declared=other_declared.label,
            measure=GeoMessage.of(measure),
            as_declared=alignment.declared,
            fit=best.fit,
            ring=best.ring_median,
            points=alignment.points,
            option=option,
            key=best.system,
            twin=also,
        ),
    )


@dataclass(frozen=True)
class AlignedLayer:
    """A layer to check against the points: its name, WGS84 geometries, declared CRS and the
    option that declares it."""

    label: str
    geometry: geopandas.GeoSeries
    crs: SourceCRS | str | int
    option: str


def offset_warnings(
    points: geopandas.GeoSeries,
    layers: Sequence[AlignedLayer],
    *,
    points_crs: SourceCRS | str | int,
    points_label: str,
    metric_crs: pyproj.CRS,
    points_option: str = "--crs",
) -> tuple[Problem, ...]:
    """:func:`offset_problem` for each layer against the points: a warning for every layer
    that sits off them by the GCJ-02 / BD-09 shift (or that they sit off)."""
    problems = []
    for layer in layers:
        alignment = measure_alignment(
            points,
            layer.geometry,
            points_crs=points_crs,
            layer_crs=layer.crs,
            metric_crs=metric_crs,
        )
        if _covering(alignment):
            edges = geopandas.GeoSeries(
                shapely.boundary(np.asarray(layer.geometry.values)), crs=layer.geometry.crs
            )
            edge_alignment = measure_alignment(
                points, edges, points_crs=points_crs, layer_crs=layer.crs, metric_crs=metric_crs
            )
            if edge_alignment is not None and edge_alignment.better():
                alignment = edge_alignment
        problem = offset_problem(
            alignment,
            layer_label=layer.label,
            points_label=points_label,
            layer_option=layer.option,
            points_option=points_option,
        )
        if problem is not None:
            problems.append(problem)
    return tuple(problems)


#: Polygons cover the area when, read otherwise, at least this share of points still falls
#: inside one.
COVERING_SHARE = 0.5


def _covering(alignment: LayerAlignment | None) -> bool:
    """Whether polygons cover the whole area (街道, communities), so that buildings fall inside
    one however they are shifted and only the polygons' edges, which follow roads and keep
    clear of buildings, tell an offset; footprints and compounds do not cover it (and
    buildings stand close to their edges)."""
    if alignment is None or alignment.kind != "polygons" or alignment.better():
        return False
    return float(np.median([r.fit for r in alignment.readings])) >= COVERING_SHARE
