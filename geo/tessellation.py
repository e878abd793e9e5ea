"""Tessellation of a study area: blocks cut by lines, one cell per point, adjacency, dissolve.

Everything here works on shapely geometry arrays and numpy arrays in ONE metric CRS (metres);
there are no data frames and no planning words. The pieces fit together as a *coverage*:
polygons that do not overlap, fill their area without gaps and share every common edge vertex
for vertex, so that :func:`shapely.coverage_union_all` and :func:`shapely.coverage_simplify`
apply and shared borders can be measured exactly.

- :func:`build_blocks` splits an area along zone borders and barrier lines into *blocks*
  (the faces of the noded linework); each block lies in exactly one zone.
- :func:`tessellate` gives every point a *cell*: each block is split among the points inside it
  by a Voronoi diagram clipped to the block, and blocks without a point are handed to the
  neighbouring cell whose point is nearest (so cells stay compact; never across a zone border).
- :func:`adjacency` lists the pairs of polygons sharing a border, and :func:`to_csr` turns them
  into a sparse matrix.
- :func:`dissolve` unions polygons per label; :func:`smooth_coverage` simplifies a coverage
  without opening gaps; :func:`study_outline` draws an area around points when none is given.

Precision: the inputs (area, zones) are snapped to a grid of ``grid_size`` metres (1 cm by
default); lines are noded by snap rounding on a grid ``NODE_GRID_FRACTION`` times finer (1 µm),
where Voronoi vertices are rounded too, so a node where a line meets a slanted edge bends that
edge by micrometres and the tiled area keeps its outline. Shared edges are built once from one
noded set of lines, so both sides carry exactly the same vertices; nothing relies on two
floating-point overlays agreeing, and every tessellation is checked with
:func:`shapely.coverage_is_valid` before it is returned.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, KDTree, QhullError, Voronoi

from geo.errors import GeometryError
from geo.land_division import division_lines, land_owner

__all__ = [
    "Adjacency",
    "Blocks",
    "Tessellation",
    "adjacency",
    "build_blocks",
    "dissolve",
    "smooth_coverage",
    "study_outline",
    "tessellate",
    "to_csr",
    "voronoi_faces",
]

#: Relative tolerance of the area bookkeeping (faces must add up to the area they split).
AREA_RTOL = 1e-6
#: Points of one block closer than this many grid steps cannot get separate cells.
MIN_SPACING_GRID_STEPS = 4
#: Blocks with at least this many points get their Voronoi diagram from qhull (faster).
QHULL_MIN_POINTS = 32
#: Lines are noded on a grid this much finer than ``grid_size``: a node where two lines cross
#: then bends them by micrometres instead of millimetres (the area keeps its outline).
NODE_GRID_FRACTION = 1e-4
#: Far-away ghost sites ringing a block's sites in the qhull diagram (see _qhull_diagram).
GHOST_SITES = 8
#: Zone borders and barriers are clipped this far outside the area before noding.
CLIP_MARGIN_M = 1.0
#: A Voronoi edge clipped to its block overshoots the block edge by this many node-grid steps.
OVERSHOOT_NODE_STEPS = 100
#: How many times :func:`smooth_coverage` halves its tolerance before giving up.
SMOOTH_HALVINGS = 8
#: How many indices an error message lists before it only counts the rest.
_SHOWN = 10

_LINEAR_TYPES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING)
_POLYGONAL_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, eq=False)
class Blocks:
    """The faces of a study area cut by zone borders and barrier lines.

    Attributes
    ----------
    geometry : numpy.ndarray of shapely.Polygon
        One polygon per block, on the precision grid; together they tile :attr:`area`.
    zone : numpy.ndarray of int64
        Index of the zone that holds each block, ``-1`` when no zones were given (or the block
        lies outside every zone).
    area : shapely.Polygon or shapely.MultiPolygon
        The study area as tiled (the union of the blocks): made valid and snapped to the
        precision grid.
    grid_size : float
        The precision grid in metres (inputs are snapped to it).
    node_grid : float
        The finer grid the crossings of lines are noded on (``NODE_GRID_FRACTION``).
    """

    geometry: np.ndarray
    zone: np.ndarray
    area: shapely.Geometry
    grid_size: float
    node_grid: float

    def __len__(self) -> int:
        return len(self.geometry)


@dataclass(frozen=True, eq=False)
class Tessellation:
    """One cell per point; the cells (plus any unassigned blocks) tile the study area.

    Attributes
    ----------
    cells : numpy.ndarray of shapely.Polygon
        The cell of each point, in input order. Always a single Polygon (absorbed empty blocks
        join along a shared edge); the cells form an exact coverage.
    block : numpy.ndarray of int64
        Index into :attr:`blocks` of the block each point was placed in.
    zone : numpy.ndarray of int64
        Zone of each point (the zone of its block; ``-1`` without zones).
    blocks : Blocks
        The blocks the area was cut into.
    unassigned_blocks : numpy.ndarray of int64
        Blocks no cell could absorb (their zone, or their part of it, has no point at all).
        ``blocks.geometry[unassigned_blocks]`` fills the rest of the area.
    sites : numpy.ndarray, shape (n, 2)
        Where each cell was seeded: the point itself, or, for a point outside every block of
        its own zone, the nearest spot of the nearest such block.
    street_block : numpy.ndarray of int64
        Per point: its street block, the face of the zone borders and barriers alone (lanes
        subdivide a street block into the blocks above; land joins the block it faces).
    street_blocks : numpy.ndarray of shapely.Polygon
        The street blocks with their land: unions of :attr:`blocks`.
    """

    cells: np.ndarray
    block: np.ndarray
    zone: np.ndarray
    blocks: Blocks
    unassigned_blocks: np.ndarray
    sites: np.ndarray
    street_block: np.ndarray | None = None
    street_blocks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.cells)


@dataclass(frozen=True, eq=False)
class Adjacency:
    """Pairs of polygons sharing a border, each pair once with ``i < j``.

    Attributes
    ----------
    i, j : numpy.ndarray of int64
        Indices of the two polygons, ``i < j``, sorted by ``(i, j)``.
    shared_m : numpy.ndarray of float64
        Length of the shared border in metres.
    crosses_barrier : numpy.ndarray of bool
        True when the two polygons lie in different blocks (a barrier or zone line runs
        between them); all False when no blocks were given.
    same_zone : numpy.ndarray of bool
        True when both polygons lie in the same zone; all True when no zones were given.
    """

    i: np.ndarray
    j: np.ndarray
    shared_m: np.ndarray
    crosses_barrier: np.ndarray
    same_zone: np.ndarray

    def __len__(self) -> int:
        return len(self.i)

    def select(self, mask: np.ndarray) -> Adjacency:
        """The pairs where ``mask`` (a boolean array, one per pair) is True."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.i.shape:
            raise GeometryError(
                f"Adjacency.select: mask has shape {mask.shape}; expected one boolean per pair "
                f"({self.i.shape}). Fix: build the mask from this adjacency's own arrays."
            )
        return Adjacency(
            self.i[mask],
            self.j[mask],
            self.shared_m[mask],
            self.crosses_barrier[mask],
            self.same_zone[mask],
        )


# --------------------------------------------------------------------------------------------
# input checks


def _check_grid_size(grid_size: float) -> float:
    if not (isinstance(grid_size, int | float) and math.isfinite(grid_size) and grid_size > 0):
        raise GeometryError(
            f"grid_size: expected a positive number of metres (e.g. 0.01); found {grid_size!r}. "
            "Fix: pass grid_size=0.01."
        )
    return float(grid_size)


def _geometry_array(values, name: str) -> np.ndarray:
    """A 1-D object array of shapely geometries (None allowed), or GeometryError."""
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise GeometryError(
            f"{name}: expected a 1-D array of shapely geometries; found an array of shape "
            f"{arr.shape}. Fix: pass GeoSeries.values or a list of geometries."
        )
    bad = np.flatnonzero(~shapely.is_geometry(arr) & ~shapely.is_missing(arr))
    if bad.size:
        raise GeometryError(
            f"{name}: expected shapely geometries; found {type(arr[bad[0]]).__name__} at "
            f"{_indices_text(bad)}. Fix: convert the values with shapely (e.g. shapely.from_wkt)."
        )
    return arr


def _indices_text(indices: np.ndarray) -> str:
    shown = ", ".join(str(int(k)) for k in indices[:_SHOWN])
    more = len(indices) - _SHOWN
    tail = f" and {more} more" if more > 0 else ""
    return f"indices {shown}{tail}"


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (a collection's polygons), made valid."""
    if shapely.is_empty(geom):
        return geom
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if shapely.get_type_id(geom) in _POLYGONAL_TYPES:
        return geom
    parts = shapely.get_parts(geom)
    polys = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL_TYPES)]
    return shapely.union_all(polys) if len(polys) else shapely.Polygon()


def _prepare_area(area, grid_size: float) -> shapely.Geometry:
    if not isinstance(area, shapely.Geometry) or shapely.get_type_id(area) not in _POLYGONAL_TYPES:
        raise GeometryError(
            f"area: expected a shapely Polygon or MultiPolygon in metres; found "
            f"{getattr(area, 'geom_type', type(area).__name__)}. Fix: pass the study area "
            "polygon (e.g. study_outline(points))."
        )
    snapped = shapely.set_precision(_polygonal_part(area), grid_size)
    snapped = _polygonal_part(snapped)
    if shapely.is_empty(snapped) or shapely.area(snapped) <= 0:
        raise GeometryError(
            "area: expected a polygon with positive area; found an empty or degenerate one "
            "(after making it valid on a grid of "
            f"{grid_size} m). Fix: check the area is in metres, not degrees."
        )
    return snapped


def _prepare_zones(zones, grid_size: float) -> np.ndarray:
    arr = _geometry_array(zones, "zones")
    missing = shapely.is_missing(arr)
    types = shapely.get_type_id(arr)
    bad = np.flatnonzero(~missing & ~np.isin(types, _POLYGONAL_TYPES) & ~shapely.is_empty(arr))
    if bad.size:
        raise GeometryError(
            f"zones: expected Polygons or MultiPolygons; found {arr[bad[0]].geom_type} at "
            f"{_indices_text(bad)}. Fix: pass the zone (sub-district) polygons only."
        )
    out = np.empty(len(arr), dtype=object)
    for k, geom in enumerate(arr):
        if geom is None or shapely.is_empty(geom):
            out[k] = shapely.Polygon()
            continue
        out[k] = _polygonal_part(shapely.set_precision(_polygonal_part(geom), grid_size))
    return out


def _prepare_barriers(barriers) -> np.ndarray:
    """Barrier geometries as lines: lines as they are, polygons by their boundary."""
    arr = _geometry_array(barriers, "barriers")
    arr = arr[~shapely.is_missing(arr)]
    if not len(arr):
        return arr
    arr = arr[~shapely.is_empty(arr)]
    types = shapely.get_type_id(arr)
    polygonal = np.isin(types, _POLYGONAL_TYPES)
    arr = arr.copy()
    arr[polygonal] = shapely.boundary(shapely.make_valid(arr[polygonal]))
    dims = shapely.get_dimensions(arr)
    bad = np.flatnonzero(dims != 1)
    if bad.size:
        raise GeometryError(
            f"barriers: expected lines (roads, rivers, railways) or polygons; found points at "
            f"{_indices_text(bad)}. Fix: drop point features from the barrier layer."
        )
    return arr


def _as_points(points) -> np.ndarray:
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise GeometryError(
            f"points: expected an (n, 2) array of x, y in metres; found shape {xy.shape}. "
            "Fix: pass np.column_stack([x, y])."
        )
    bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if bad.size:
        raise GeometryError(
            f"points: expected finite coordinates; found NaN or infinity at "
            f"{_indices_text(bad)}. Fix: drop or repair those points first."
        )
    return xy


def _node_grid(area: shapely.Geometry, grid_size: float) -> float:
    """The noding grid: ``NODE_GRID_FRACTION * grid_size`` unless coordinates are too large."""
    finer = grid_size * NODE_GRID_FRACTION
    reach = float(np.abs(shapely.bounds(area)).max())
    return finer if reach / finer < 2.0**50 else grid_size


def _area_slack(area: shapely.Geometry, grid_size: float) -> float:
    """How far a tiling's area may differ from ``area``: rounding and snapping bend edges.

    Snap rounding moves a node by at most ``grid_size / sqrt(2)``, so an edge bent through it
    sweeps at most half its length times that; all edges of the outer boundary together stay
    below ``perimeter * grid_size``. A missing or doubled face is far larger.
    """
    return AREA_RTOL * shapely.area(area) + shapely.length(area) * grid_size


def _linear_parts(geoms: np.ndarray) -> np.ndarray:
    """Every non-empty LineString inside ``geoms`` (collections flattened)."""
    parts = np.asarray(geoms, dtype=object)
    for _ in range(3):  # GeometryCollection > MultiLineString > LineString
        parts = shapely.get_parts(parts[~shapely.is_empty(parts)])
    keep = np.isin(shapely.get_type_id(parts), _LINEAR_TYPES) & ~shapely.is_empty(parts)
    return parts[keep]


# --------------------------------------------------------------------------------------------
# blocks


def build_blocks(
    area: shapely.Polygon | shapely.MultiPolygon,
    zones: np.ndarray | None = None,
    barriers: np.ndarray | None = None,
    *,
    grid_size: float = 0.01,
) -> Blocks:
    """Cut an area into blocks along zone borders and barrier lines.

    The area boundary, the zone borders and the barrier lines (clipped to a margin of
    ``CLIP_MARGIN_M`` around the area) are noded together by snap rounding on the node grid
    and polygonized; the faces inside the area are the blocks. A barrier only cuts where it
    runs from edge to edge: a dangling end (a dead-end road) does not split anything.

    Parameters
    ----------
    area
        The study area in metres. Made valid and snapped to the grid.
    zones
        Zone polygons (sub-districts), or None. A block belongs to the zone holding its
        representative point; where zones overlap, the lowest index wins; a block outside
        every zone gets ``-1``.
    barriers
        Lines that cut (roads, rivers, railways), or None. Polygons are accepted and cut along
        their boundary (a pond becomes a block of its own).
    grid_size
        Precision grid in metres the area and zones are snapped to; line crossings are noded
        on a grid ``NODE_GRID_FRACTION`` times finer. Shared edges are identical either way.

    Returns
    -------
    Blocks
        ``geometry`` (Polygons tiling ``area``), ``zone`` (int), the snapped ``area`` (the
        union of the blocks).

    Raises
    ------
    GeometryError
        The area is not polygonal or is empty; a zone is not polygonal; a barrier is a point.
    """
    grid_size = _check_grid_size(grid_size)
    area_g = _prepare_area(area, grid_size)
    # Lines are clipped to a margin around the area, not to the area itself: where they cross
    # its edge is left to the noder (a clip point computed apart lands beside the edge).
    region = shapely.buffer(area_g, CLIP_MARGIN_M, quad_segs=2)
    lines = [np.array([shapely.boundary(area_g)], dtype=object)]
    zone_g = None
    if zones is not None:
        zone_g = _prepare_zones(zones, grid_size)
        lines.append(shapely.intersection(shapely.boundary(zone_g), region))
    if barriers is not None:
        bar = _prepare_barriers(barriers)
        if len(bar):
            lines.append(shapely.intersection(bar, region))
    node_grid = _node_grid(area_g, grid_size)
    linework = shapely.union_all(_linear_parts(np.concatenate(lines)), grid_size=node_grid)
    faces = shapely.get_parts(shapely.polygonize(np.array([linework], dtype=object)))
    faces = faces[shapely.area(faces) > 0]
    shapely.prepare(area_g)
    inside = shapely.contains_properly(area_g, shapely.point_on_surface(faces))
    faces = faces[inside]
    covered = math.fsum(shapely.area(faces))
    if abs(covered - shapely.area(area_g)) > _area_slack(area_g, grid_size):
        raise GeometryError(
            f"area: the blocks cover {covered:.2f} m² of an area of {shapely.area(area_g):.2f} "
            "m²; expected them to tile it. Fix: repair the area polygon (self-overlapping "
            "parts?) or use a coarser grid_size."
        )
    zone = np.full(len(faces), -1, dtype=np.int64)
    if zone_g is not None and len(faces):
        tree = shapely.STRtree(zone_g)
        face_idx, zone_idx = tree.query(shapely.point_on_surface(faces), predicate="within")
        first = np.full(len(faces), len(zone_g), dtype=np.int64)
        np.minimum.at(first, face_idx, zone_idx)
        zone = np.where(first < len(zone_g), first, -1)
    # the area as tiled: where a line meets the area's edge, snapping may bend it by < 1 grid step
    area_g = _polygonal_part(shapely.coverage_union_all(faces))
    return Blocks(faces, zone, area_g, grid_size, node_grid)


# --------------------------------------------------------------------------------------------
# tessellation


def tessellate(
    points: np.ndarray,
    area: shapely.Polygon | shapely.MultiPolygon,
    *,
    zones: np.ndarray | None = None,
    barriers: np.ndarray | None = None,
    lanes: np.ndarray | None = None,
    point_zone: np.ndarray | None = None,
    shapes: np.ndarray | None = None,
    grid_size: float = 0.01,
) -> Tessellation:
    """Split an area into one cell per point, cells never crossing a barrier or zone line.

    Each block (see :func:`build_blocks`) is divided among the points inside it by their
    Voronoi diagram clipped to the block. A block without a point (a park, water, an empty
    corner) joins the neighbouring cell of the same zone whose point is nearest to it (ties:
    the longest shared border), repeatedly, until every such block is absorbed; blocks whose zone has no point at all stay
    out and are listed in ``unassigned_blocks``. A Voronoi cell that a concave block splits in
    two keeps the part holding its point; the cut-off part is absorbed like an empty block.

    Parameters
    ----------
    points
        (n, 2) x, y in metres; distinct locations (points of one block closer than
        ``MIN_SPACING_GRID_STEPS * grid_size`` raise).
    area, zones, barriers, grid_size
        As for :func:`build_blocks`.
    point_zone
        Zone index of each point, or None. A point is placed in a block of its own zone: a
        point on a block border goes to the lowest-numbered block it touches, and a point
        outside every block of its zone goes to the nearest one, its cell seeded at the
        nearest spot of that block (see ``Tessellation.sites``).
    lanes
        Lines that cut blocks into smaller blocks (parcels) without being barriers of the
        street blocks (``Tessellation.street_block``), or None.
    shapes
        A polygon (or None) per point, e.g. its building's footprint: points along its
        outline (in the point's block) seed the point's cell too, so the cell holds the
        whole footprint and no cell border crosses it (as far as footprints do not overlap).

    Returns
    -------
    Tessellation
        ``cells`` (one Polygon per point), ``block``, ``zone``, ``blocks``,
        ``unassigned_blocks``, ``sites``.

    Raises
    ------
    GeometryError
        Points outside the area (beyond ``grid_size``), points too close together, a
        ``point_zone`` naming a zone without blocks, or malformed input.
    """
    grid_size = _check_grid_size(grid_size)
    xy = _as_points(points)
    n = len(xy)
    point_zone = _point_zones(point_zone, n)
    streets, blocks, block_of, sites, cores = _blocks_of_points(
        xy,
        area,
        zones=zones,
        barriers=barriers,
        lanes=lanes,
        point_zone=point_zone,
        grid_size=grid_size,
    )
    _check_spacing(sites, block_of, MIN_SPACING_GRID_STEPS * grid_size)
    geoms, face_block, owner, cells = _cells(blocks, block_of, sites, shapes)
    tiled = _as_tiled(blocks, geoms, face_block)
    street_of_block = _street_of_blocks(cores, streets)
    return Tessellation(
        cells=cells,
        block=block_of,
        zone=blocks.zone[block_of],
        blocks=tiled,
        unassigned_blocks=np.unique(face_block[owner < 0]).astype(np.int64),
        sites=sites,
        street_block=street_of_block[block_of] if n else np.zeros(0, dtype=np.int64),
        street_blocks=dissolve(tiled.geometry, street_of_block)[1],
    )


def _point_zones(point_zone: np.ndarray | None, n: int) -> np.ndarray | None:
    """``point_zone`` as an array of one integer per point, or None."""
    if point_zone is None:
        return None
    point_zone = np.asarray(point_zone)
    if point_zone.shape != (n,) or not np.issubdtype(point_zone.dtype, np.integer):
        raise GeometryError(
            f"point_zone: expected one integer zone index per point ({n}); found dtype "
            f"{point_zone.dtype} and shape {point_zone.shape}. Fix: pass an int array "
            "aligned with points."
        )
    return point_zone


def _blocks_of_points(
    xy: np.ndarray,
    area: shapely.Geometry,
    *,
    zones: np.ndarray | None,
    barriers: np.ndarray | None,
    lanes: np.ndarray | None,
    point_zone: np.ndarray | None,
    grid_size: float,
) -> tuple[Blocks, Blocks, np.ndarray, np.ndarray, np.ndarray]:
    """(street blocks, blocks, block of each point, site of each point, a point inside each
    block's own part): the street blocks cut by the lanes and the empty strips, each occupied
    block with the land around it."""
    streets = build_blocks(area, zones, barriers, grid_size=grid_size)
    cut = barriers
    if lanes is not None and len(lanes):
        cut = np.concatenate([_as_line_array(barriers), _as_line_array(lanes)])
        blocks = build_blocks(area, zones, cut, grid_size=grid_size)
    else:
        blocks = streets
    pts = shapely.points(xy)
    _check_inside(blocks.area, pts, grid_size)
    block_of, sites = _locate(blocks, xy, pts, point_zone)
    strips = _strip_lines(blocks, block_of, pts)
    if len(strips):
        # the empty strips of occupied blocks become land of their own (divided below)
        cut = np.concatenate([_as_line_array(cut), strips])
        blocks = build_blocks(area, zones, cut, grid_size=grid_size)
        block_of, sites = _locate(blocks, xy, pts, point_zone)
    blocks, block_of, cores = _with_land(blocks, block_of, area=area, zones=zones, cut=cut)
    return streets, blocks, block_of, sites, cores


def _cells(
    blocks: Blocks, block_of: np.ndarray, sites: np.ndarray, shapes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(faces, block of each face, point owning each face or -1, cell of each point): each
    block split among its sites (and the outline seeds of their shapes), the faces without a
    site absorbed by a neighbouring cell."""
    n = len(sites)
    grid_size = blocks.grid_size
    # with shapes (footprints), points on their outlines seed cells of their point too
    seeds, seed_block, seed_owner = sites, block_of, np.arange(n)
    if shapes is not None:
        extra, extra_block, extra_owner = _outline_seeds(
            shapes, block_of, blocks, sites, MIN_SPACING_GRID_STEPS * grid_size
        )
        seeds = np.concatenate([sites, extra])
        seed_block = np.concatenate([block_of, extra_block])
        seed_owner = np.concatenate([seed_owner, extra_owner])
    faces = None
    for robust in (False, True):
        faces = voronoi_faces(blocks, seeds, seed_block, robust=robust)
        if faces is not None:
            break
    if faces is None:
        raise GeometryError(
            "points: the cells could not be built cleanly on a grid of "
            f"{grid_size} m (points nearly on top of each other or on a degenerate spot); "
            "expected well-separated points. Fix: merge points closer than a few grid steps, "
            "or pass a finer grid_size."
        )
    geoms, face_block, face_of_seed = faces
    owner = np.full(len(geoms), -1, dtype=np.int64)
    owner[face_of_seed] = seed_owner
    owner = _absorb(geoms, owner, blocks.zone[face_block], sites)
    cells = _union_by_owner(geoms, owner, face_of_seed[:n], n)
    if shapes is not None:
        # an outline seed cut off from its point (a footprint wrapped round another
        # building) must not leave the cell in pieces: the stray faces join a neighbour
        stray = _stray_faces(geoms, owner, face_of_seed[:n], cells)
        if len(stray):
            owner[stray] = -1
            owner = _absorb(geoms, owner, blocks.zone[face_block], sites)
            cells = _union_by_owner(geoms, owner, face_of_seed[:n], n)
    return geoms, face_block, owner, cells


#: Footprint outlines are seeded every this many metres (and at every vertex).
OUTLINE_STEP_M = 4.0
#: Outline seeds stand this far inside their footprint.
OUTLINE_INSET_M = 0.3


def _outline_seeds(
    shapes, block_of: np.ndarray, blocks: Blocks, sites: np.ndarray, spacing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeds along each point's shape outline: (xy, block, point) for the seeds that lie in
    the point's own block, clear of every other seed and site of that block."""
    shapes = np.asarray(shapes, dtype=object)
    has = np.flatnonzero(~shapely.is_missing(shapes))
    if not len(has):
        return np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64)
    inner = shapely.buffer(shapes[has].astype(object), -OUTLINE_INSET_M, quad_segs=1)
    inner = np.where(shapely.is_empty(inner), shapes[has], inner)
    rings = shapely.segmentize(shapely.boundary(inner), OUTLINE_STEP_M)
    xy, which = shapely.get_coordinates(rings, return_index=True)
    owner = has[which]
    block = block_of[owner]
    inside = (
        shapely.contains_xy(blocks.geometry[block], xy[:, 0], xy[:, 1])
        if len(xy)
        else np.zeros(0, bool)
    )
    xy, owner, block = xy[inside], owner[inside], block[inside]
    # drop seeds too close to a site or an earlier seed of the same block
    everything = np.concatenate([sites, xy])
    every_block = np.concatenate([block_of, block])
    pairs = KDTree(everything).query_pairs(spacing, output_type="ndarray")
    drop = np.zeros(len(everything), dtype=bool)
    if len(pairs):
        pairs = np.sort(pairs, axis=1)
        pairs = pairs[every_block[pairs[:, 0]] == every_block[pairs[:, 1]]]
        drop[pairs[:, 1]] = True  # the later of each close pair (sites come first)
    keep = ~drop[len(sites) :]
    return xy[keep], block[keep], owner[keep]


def _stray_faces(
    faces: np.ndarray, owner: np.ndarray, own_face: np.ndarray, cells: np.ndarray
) -> np.ndarray:
    """Faces of multipart cells that lie in a part without the cell's own point."""
    out = []
    for p in np.flatnonzero(shapely.get_num_geometries(cells) > 1).tolist():
        parts = shapely.get_parts(cells[p])
        home = shapely.point_on_surface(faces[own_face[p]])
        keep = parts[shapely.intersects(parts, home)]
        mine = np.flatnonzero(owner == p)
        if not len(keep):
            continue
        inside = shapely.intersects(keep[0], shapely.point_on_surface(faces[mine]))
        out.extend(mine[~inside].tolist())
    return np.asarray(out, dtype=np.int64)


def _as_line_array(values) -> np.ndarray:
    if values is None:
        return np.zeros(0, dtype=object)
    return _geometry_array(values, "barriers")


#: A part of an occupied block narrower than this (metres) with no point in it is a strip:
#: the land between a road and the edge of the study area, a verge beside a road that does
#: not close. It is split off and divided among the blocks around it like any empty block,
#: so a cell never reaches along it (an arm).
STRIP_WIDTH_M = 60.0
#: Strips smaller than this (m²) or shorter than this (m) stay with their block.
STRIP_MIN_AREA_M2 = 3000.0
STRIP_MIN_LENGTH_M = 150.0


def _strip_lines(blocks: Blocks, block_of: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The lines that split the empty strips off occupied blocks: where each block's
    opening (what a disc of :data:`STRIP_WIDTH_M` sweeps) meets the strips it leaves."""
    occupied = np.unique(block_of[block_of >= 0])
    if not len(occupied):
        return np.zeros(0, dtype=object)
    geoms = blocks.geometry[occupied]
    half = STRIP_WIDTH_M / 2.0
    opened = shapely.buffer(shapely.buffer(geoms, -half, quad_segs=4), half, quad_segs=4)
    lines = []
    tree = shapely.STRtree(pts)
    for geom, core in zip(geoms, opened, strict=True):
        if shapely.is_empty(core):
            continue
        thin = shapely.get_parts(shapely.difference(geom, core))
        thin = thin[(shapely.area(thin) >= STRIP_MIN_AREA_M2)]
        for part in thin:
            length = shapely.length(part) / 2.0
            if length < STRIP_MIN_LENGTH_M or len(tree.query(part, predicate="intersects")):
                continue
            cut = shapely.intersection(shapely.boundary(part), core.buffer(1e-3))
            parts = shapely.get_parts(cut)
            parts = parts[np.isin(shapely.get_type_id(parts), (1, 5))]
            lines.extend(shapely.get_parts(parts).tolist())
    return np.array(lines, dtype=object)


def _with_land(
    blocks: Blocks,
    block_of: np.ndarray,
    *,
    area: shapely.Geometry,
    zones: np.ndarray | None,
    cut: np.ndarray | None,
) -> tuple[Blocks, np.ndarray, np.ndarray]:
    """The blocks with the land around them: every stretch of blocks without a point is
    divided down the middle among the blocks it borders (:mod:`geo.land_division`), each
    part joining the block in front of it. Stretches with no occupied block of their zone
    around them stay blocks of their own. Returns the new blocks, each point's block and a
    point inside each new block's own part (not its land)."""
    occupied = np.bincount(block_of[block_of >= 0], minlength=len(blocks)) > 0
    if occupied.all() or not occupied.any():
        return blocks, block_of, shapely.point_on_surface(blocks.geometry)
    division = division_lines(blocks.geometry, blocks.zone, occupied)
    if len(division.lines):
        extra = np.concatenate([_as_line_array(cut), division.lines])
        faces = build_blocks(area, zones, extra, grid_size=blocks.grid_size)
    else:
        faces = blocks
    # the block each face lies in (faces only subdivide land): an occupied block is its
    # own core, open space the block it joins whole
    tree = shapely.STRtree(blocks.geometry)
    f_idx, b_idx = tree.query(shapely.point_on_surface(faces.geometry), predicate="within")
    core = np.full(len(faces), -1, dtype=np.int64)
    core[f_idx] = np.where(occupied[b_idx], b_idx, division.whole[b_idx])
    owner = land_owner(faces.geometry, faces.zone, core, division.samples)
    bad = owner >= 0
    bad[bad] = blocks.zone[owner[bad]] != faces.zone[bad]
    owner[bad] = -1
    # new blocks: one per occupied block (in its old order), then each ownerless face
    kept = np.flatnonzero(occupied)
    position = np.full(len(blocks), -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    alone = np.flatnonzero(owner < 0)
    label = np.where(
        owner >= 0,
        position[np.maximum(owner, 0)],
        len(kept) + np.searchsorted(alone, np.arange(len(faces))),
    )
    _, geometry = dissolve(faces.geometry, label)
    zone = np.concatenate([blocks.zone[kept], faces.zone[alone]])
    merged = Blocks(
        np.asarray(geometry, dtype=object), zone, faces.area, faces.grid_size, faces.node_grid
    )
    cores = np.concatenate(
        [
            shapely.point_on_surface(blocks.geometry[kept]),
            shapely.point_on_surface(faces.geometry[alone]),
        ]
    )
    return merged, position[block_of], cores


def _street_of_blocks(cores: np.ndarray, streets: Blocks) -> np.ndarray:
    """The street block holding each block's own part (land joined across a road belongs
    to the block it joined), numbered 0… in order of first appearance."""
    tree = shapely.STRtree(streets.geometry)
    c_idx, s_idx = tree.query(cores, predicate="intersects")
    out = np.full(len(cores), len(streets), dtype=np.int64)
    np.minimum.at(out, c_idx, s_idx)
    _, first, inverse = np.unique(out, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def _check_inside(area: shapely.Geometry, pts: np.ndarray, grid_size: float) -> None:
    if not len(pts):
        return
    shapely.prepare(area)
    out = np.flatnonzero(~shapely.covers(area, pts))
    if out.size:
        out = out[shapely.distance(area, pts[out]) > grid_size]
    if out.size:
        raise GeometryError(
            f"points: {out.size} of {len(pts)} lie outside the study area ({_indices_text(out)}); "
            "expected every point inside the area or on its edge. Fix: enlarge the area "
            "(e.g. study_outline(points)) or drop those points."
        )


def _locate(
    blocks: Blocks, xy: np.ndarray, pts: np.ndarray, point_zone: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Block of each point (lowest index on a shared border) and the site seeding its cell."""
    n = len(xy)
    block_of = np.full(n, -1, dtype=np.int64)
    sites = xy.copy()
    if not n:
        return block_of, sites
    tree = shapely.STRtree(blocks.geometry)
    p_idx, b_idx = tree.query(pts, predicate="intersects")
    if point_zone is not None:
        keep = blocks.zone[b_idx] == point_zone[p_idx]
        p_idx, b_idx = p_idx[keep], b_idx[keep]
    lowest = np.full(n, len(blocks), dtype=np.int64)
    np.minimum.at(lowest, p_idx, b_idx)
    found = lowest < len(blocks)
    block_of[found] = lowest[found]
    lost = np.flatnonzero(~found)
    if not lost.size:
        return block_of, sites
    no_zone = np.iinfo(np.int64).min
    own_zone = point_zone[lost] if point_zone is not None else np.full(lost.size, no_zone)
    for z in np.unique(own_zone):
        group = lost[own_zone == z]
        candidates = np.flatnonzero(blocks.zone == z) if z != no_zone else np.arange(len(blocks))
        if not candidates.size:
            raise GeometryError(
                f"point_zone: {group.size} point(s) belong to zone {int(z)}, which has no part "
                f"inside the area ({_indices_text(group)}); expected the index of a zone that "
                "overlaps the area. Fix: check point_zone against the zones array."
            )
        sub = shapely.STRtree(blocks.geometry[candidates])
        p_near, b_near = sub.query_nearest(pts[group], all_matches=False)
        chosen = candidates[b_near]
        block_of[group[p_near]] = chosen
        line = shapely.shortest_line(blocks.geometry[chosen], pts[group[p_near]])
        sites[group[p_near]] = shapely.get_coordinates(line)[0::2]
    return block_of, sites


def _check_spacing(sites: np.ndarray, block_of: np.ndarray, min_spacing_m: float) -> None:
    if len(sites) < 2:
        return
    pairs = KDTree(sites).query_pairs(min_spacing_m, output_type="ndarray")
    if len(pairs):
        pairs = pairs[block_of[pairs[:, 0]] == block_of[pairs[:, 1]]]
    if len(pairs):
        shown = "; ".join(f"{a} and {b}" for a, b in np.sort(pairs, axis=1)[:_SHOWN])
        raise GeometryError(
            f"points: {len(pairs)} pair(s) of points in one block are closer than "
            f"{min_spacing_m:g} m ({shown}); expected distinct locations. Fix: merge points "
            "closer than that (e.g. round coordinates to 0.1 m and deduplicate)."
        )


def voronoi_faces(
    blocks: Blocks, sites: np.ndarray, block_of: np.ndarray, *, robust: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each block split among the sites inside it by their Voronoi diagram, as a coverage.

    Parameters
    ----------
    blocks
        The blocks (:func:`build_blocks`).
    sites
        (n, 2) x, y in metres, at least :data:`MIN_SPACING_GRID_STEPS` grid steps apart
        within a block.
    block_of
        The block of each site (``-1``: none).
    robust
        False: only the block borders and the diagram edges reaching them are noded together
        (fast); True: every edge is (the fall-back when the fast faces are not clean).

    Returns
    -------
    (faces, face_block, face_of_site) or None
        The faces (polygons tiling the blocks), the block of each face and the face of each
        site; None when the faces do not form a clean coverage.
    """
    diagram = _voronoi(blocks, sites, block_of, blocks.node_grid, shortcut=not robust)
    return _faces(diagram, blocks, sites, block_of, robust=robust)


@dataclass(frozen=True, eq=False)
class _Diagram:
    """Voronoi diagrams of every block, vertices on the node grid.

    ``inner``: edges strictly inside their block; ``crossing``: edges reaching a block border,
    clipped to the block; ``direct``: cells strictly inside their block, built as polygons
    straight from the diagram (their edges between two such cells are left out of ``inner``),
    with the site each belongs to in ``direct_site``.
    """

    inner: np.ndarray
    crossing: np.ndarray
    direct: np.ndarray
    direct_site: np.ndarray


def _voronoi(
    blocks: Blocks, sites: np.ndarray, block_of: np.ndarray, node_grid: float, *, shortcut: bool
) -> _Diagram:
    """Voronoi diagram of the sites of each block (qhull for large blocks, GEOS for small)."""
    inner: list[np.ndarray] = []
    crossing: list[np.ndarray] = []
    direct: list[np.ndarray] = []
    direct_site: list[np.ndarray] = []
    order = np.argsort(block_of, kind="stable")
    starts = np.searchsorted(block_of[order], np.arange(len(blocks) + 1))
    for b in np.flatnonzero(np.diff(starts) >= 2):
        block = blocks.geometry[b]
        shapely.prepare(block)
        members = order[starts[b] : starts[b + 1]]
        part = None
        if len(members) >= QHULL_MIN_POINTS:
            try:
                part = _qhull_diagram(block, sites[members], node_grid, shortcut=shortcut)
            except QhullError:  # degenerate (all on one line): GEOS copes
                part = None
        if part is None:
            edges = shapely.voronoi_polygons(
                shapely.multipoints(sites[members]), extend_to=block, only_edges=True
            )
            # Pointwise rounding maps a Voronoi vertex to one grid node in every edge it ends.
            segments = shapely.set_precision(shapely.get_parts(edges), node_grid, mode="pointwise")
            part = (
                *_split_edges(block, segments, node_grid),
                np.zeros(0, dtype=object),
                np.zeros(0, int),
            )
        inner.append(part[0])
        crossing.append(part[1])
        direct.append(part[2])
        direct_site.append(members[part[3]])
    empty = np.zeros(0, dtype=object)
    return _Diagram(
        inner=np.concatenate(inner) if inner else empty,
        crossing=np.concatenate(crossing) if crossing else empty,
        direct=np.concatenate(direct) if direct else empty,
        direct_site=np.concatenate(direct_site).astype(np.int64) if direct else np.zeros(0, int),
    )


def _split_edges(
    block: shapely.Geometry, segments: np.ndarray, node_grid: float
) -> tuple[np.ndarray, np.ndarray]:
    """(2-point segments strictly inside the block, the others clipped to it, overshooting).

    A clipped end is pushed ``OVERSHOOT_NODE_STEPS`` node-grid steps past the block edge, so
    the noder itself computes where the edge meets the border (a clip point computed apart
    lands beside the border and leaves the edge unconnected); the stub beyond the border is a
    dangle the polygonizer drops. ``block`` must be prepared.
    """
    segments = segments[shapely.length(segments) > 0]
    inside = shapely.contains_properly(block, segments)
    rest = segments[~inside]
    rest = rest[shapely.intersects(block, rest)]
    if not len(rest):
        return segments[inside], rest
    pieces, source = shapely.get_parts(shapely.intersection(rest, block), return_index=True)
    parts, nested = shapely.get_parts(pieces, return_index=True)
    pieces, source = parts, source[nested]
    keep = np.isin(shapely.get_type_id(pieces), _LINEAR_TYPES) & (shapely.length(pieces) > 0)
    pieces, source = pieces[keep], source[keep]
    if not len(pieces):
        return segments[inside], pieces
    ends = shapely.get_coordinates(rest).reshape(-1, 2, 2)[source]
    start = shapely.get_coordinates(shapely.get_point(pieces, 0))
    stop = shapely.get_coordinates(shapely.get_point(pieces, -1))
    step = stop - start
    step *= OVERSHOOT_NODE_STEPS * node_grid / np.hypot(step[:, 0], step[:, 1])[:, None]
    cut_start = ~((start[:, None, :] == ends).all(axis=2).any(axis=1))
    cut_stop = ~((stop[:, None, :] == ends).all(axis=2).any(axis=1))
    start = np.where(cut_start[:, None], start - step, start)
    stop = np.where(cut_stop[:, None], stop + step, stop)
    return segments[inside], shapely.linestrings(np.stack([start, stop], axis=1))


def _round_xy(xy: np.ndarray, grid_size: float) -> np.ndarray:
    """Coordinates rounded to the grid exactly as GEOS rounds them (same float results)."""
    snapped = shapely.set_precision(shapely.points(xy), grid_size, mode="pointwise")
    return shapely.get_coordinates(snapped)


def _qhull_diagram(
    block: shapely.Geometry, pts: np.ndarray, node_grid: float, *, shortcut: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(inner edges, crossing edges, direct cells, their local site index) of one block.

    The sites are ringed by ``GHOST_SITES`` far-away ghost sites, so every real cell is
    bounded and no vertex runs off towards infinity (near-collinear sites on the hull would
    otherwise put vertices at 10^16 m, where a float has no metre left). A ghost stands 4 block
    diameters out: it is nearer than every real site to no point of the block.
    """
    k = len(pts)
    centre = pts.mean(axis=0)
    x0, y0, x1, y1 = shapely.bounds(block)
    reach = 4.0 * math.hypot(x1 - x0, y1 - y0) + math.hypot(
        centre[0] - (x0 + x1) / 2, centre[1] - (y0 + y1) / 2
    )
    angle = np.linspace(0.0, 2.0 * np.pi, GHOST_SITES, endpoint=False)
    ghosts = (reach + 1.0) * np.column_stack([np.cos(angle), np.sin(angle)])
    vor = Voronoi(np.vstack([pts - centre, ghosts]))  # centred: qhull keeps its precision
    verts = _round_xy(vor.vertices + centre, node_grid)
    ridge_points = vor.ridge_points
    ridge_verts = np.asarray(vor.ridge_vertices, dtype=np.int64).reshape(-1, 2)
    real = (ridge_points < k).all(axis=1)
    ridge_points, ridge_verts = ridge_points[real], ridge_verts[real]
    if (ridge_verts < 0).any():
        raise QhullError("an edge between two sites runs to infinity")
    interior = np.zeros(k, dtype=bool)
    direct, direct_site = np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    if shortcut:
        direct, direct_site = _direct_cells(block, vor, verts, k)
        interior[direct_site] = True
    need = ~(interior[ridge_points[:, 0]] & interior[ridge_points[:, 1]])
    segments = shapely.linestrings(verts[ridge_verts[need]])
    inner, crossing = _split_edges(block, segments, node_grid)
    return inner, crossing, direct, direct_site


def _direct_cells(
    block: shapely.Geometry, vor: Voronoi, verts: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells of the first ``k`` sites lying strictly inside the block, as polygons."""
    regions = [vor.regions[r] for r in vor.point_region[:k]]
    sizes = np.fromiter(map(len, regions), dtype=np.int64, count=len(regions))
    flat = np.fromiter(itertools.chain.from_iterable(regions), dtype=np.int64, count=sizes.sum())
    site = np.repeat(np.arange(len(regions)), sizes)
    closed = np.ones(len(regions), dtype=bool)
    closed[site[flat < 0]] = False
    keep = closed[site]
    flat, site = flat[keep], site[keep]
    if not flat.size:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    xy = verts[flat]
    # drop a vertex equal to the one before it in its ring (an edge rounded away)
    first = np.r_[True, site[1:] != site[:-1]]
    last = np.r_[site[1:] != site[:-1], True]
    prev = np.arange(len(site)) - 1
    prev[first] = np.flatnonzero(last)
    keep = ~(xy == xy[prev]).all(axis=1)
    xy, site = xy[keep], site[keep]
    counts = np.bincount(site, minlength=len(regions))
    keep = counts[site] >= 3
    xy, site = xy[keep], site[keep]
    if not site.size:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    ids, ring = np.unique(site, return_inverse=True)
    polygons = shapely.polygons(shapely.linearrings(xy, indices=ring))
    inside = shapely.contains_properly(block, polygons)
    return polygons[inside], ids[inside]


def _faces(
    diagram: _Diagram,
    blocks: Blocks,
    sites: np.ndarray,
    block_of: np.ndarray,
    *,
    robust: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(faces, block of each face, face of each site), or None if not a clean coverage.

    Fast path: only block borders and the edges reaching them are noded together (snap
    rounding); edges strictly inside a block are on the node grid already and meet at shared
    vertices, and cells strictly inside a block come straight from the diagram. Robust path:
    every edge is noded together. Either way the result must pass
    :func:`shapely.coverage_is_valid` before it is used.
    """
    block_lines = shapely.boundary(blocks.geometry)
    if robust:
        lines = np.concatenate([block_lines, diagram.crossing, diagram.inner])
        noded = np.array([shapely.union_all(lines, grid_size=blocks.node_grid)], dtype=object)
    else:
        lines = np.concatenate([block_lines, diagram.crossing])
        border = shapely.union_all(lines, grid_size=blocks.node_grid)
        noded = np.concatenate([np.array([border], dtype=object), diagram.inner])
    polygons, cuts, dangles, invalid = shapely.polygonize_full(noded)
    # only the overshooting stubs of clipped edges may be left over
    stub = 3 * OVERSHOOT_NODE_STEPS * blocks.node_grid
    leftover = shapely.get_parts(np.array([cuts, dangles], dtype=object))
    if not shapely.is_empty(invalid) or (shapely.length(leftover) > stub).any():
        return None
    traced = shapely.get_parts(polygons)
    # the holes of the area come out as faces too
    shapely.prepare(blocks.area)
    traced = traced[shapely.contains_properly(blocks.area, shapely.point_on_surface(traced))]
    direct = diagram.direct
    if len(direct):
        # faces that are the union of direct cells (their shared edges were left out); an
        # interior point of such a face may lie on an edge between two direct cells
        covered, _ = shapely.STRtree(direct).query(
            shapely.point_on_surface(traced), predicate="intersects"
        )
        covered = np.unique(covered)
        traced = np.delete(traced, covered)
    faces = np.concatenate([traced, direct])
    total = shapely.area(blocks.area)
    if (
        not shapely.is_valid(faces).all()
        or abs(math.fsum(shapely.area(faces)) - total) > _area_slack(blocks.area, blocks.grid_size)
        or not shapely.coverage_is_valid(faces)
    ):
        return None
    face_block = np.concatenate(
        [_face_blocks(traced, blocks), block_of[diagram.direct_site]]
    ).astype(np.int64)
    face_of_site = np.full(len(sites), -1, dtype=np.int64)
    face_of_site[diagram.direct_site] = len(traced) + np.arange(len(direct))
    rest = np.flatnonzero(face_of_site < 0)
    matched = _match_sites(
        traced, face_block[: len(traced)], sites[rest], block_of[rest], blocks.grid_size
    )
    if matched is None:
        return None
    face_of_site[rest] = matched
    if len(np.unique(face_of_site)) != len(face_of_site):
        return None
    return faces, face_block, face_of_site


def _face_blocks(faces: np.ndarray, blocks: Blocks) -> np.ndarray:
    """The block each face lies in (by representative point, by overlap area if unclear)."""
    face_block = np.full(len(faces), -1, dtype=np.int64)
    if not len(faces):
        return face_block
    tree = shapely.STRtree(blocks.geometry)
    f_idx, b_idx = tree.query(shapely.point_on_surface(faces), predicate="within")
    face_block[f_idx] = b_idx
    unclear = np.flatnonzero(face_block < 0)
    if unclear.size:
        f_idx, b_idx = tree.query(faces[unclear], predicate="intersects")
        overlap = shapely.area(
            shapely.intersection(
                faces[unclear][f_idx], blocks.geometry[b_idx], grid_size=blocks.node_grid
            )
        )
        best = np.lexsort((-overlap, f_idx))
        first = np.r_[True, f_idx[best][1:] != f_idx[best][:-1]]
        face_block[unclear[f_idx[best][first]]] = b_idx[best][first]
    return face_block


def _match_sites(
    faces: np.ndarray,
    face_block: np.ndarray,
    sites: np.ndarray,
    block_of: np.ndarray,
    grid_size: float,
) -> np.ndarray | None:
    """The face holding each site (nearest within grid_size, same block); None if any lacks."""
    n = len(sites)
    if not n:
        return np.zeros(0, dtype=np.int64)
    site_pts = shapely.points(sites)
    s_idx, f_idx = shapely.STRtree(faces).query(site_pts, predicate="dwithin", distance=grid_size)
    keep = face_block[f_idx] == block_of[s_idx]
    s_idx, f_idx = s_idx[keep], f_idx[keep]
    if not s_idx.size:
        return None
    distance = shapely.distance(faces[f_idx], site_pts[s_idx])
    best = np.lexsort((f_idx, distance, s_idx))
    first = np.r_[True, s_idx[best][1:] != s_idx[best][:-1]]
    chosen_site, chosen_face = s_idx[best][first], f_idx[best][first]
    if len(chosen_site) != n:
        return None
    face_of_site = np.empty(n, dtype=np.int64)
    face_of_site[chosen_site] = chosen_face
    return face_of_site


def _absorb(
    faces: np.ndarray, owner: np.ndarray, face_zone: np.ndarray, sites: np.ndarray
) -> np.ndarray:
    """Hand every ownerless face (the part of a Voronoi cell a concave block cut off) to a
    same-zone neighbour: the one whose point is nearest the face (so cells stay compact, like
    a Voronoi diagram of the land), ties to the longest shared border. Faces with no owned
    neighbour yet wait for the next round."""
    owner = owner.copy()
    free = np.flatnonzero(owner < 0)
    if not free.size or not (owner >= 0).any():
        return owner
    tree = shapely.STRtree(faces)
    local, other = tree.query(faces[free], predicate="intersects")
    face = free[local]
    keep = (other != face) & (face_zone[other] == face_zone[face])
    face, other = face[keep], other[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(faces[face]), shapely.boundary(faces[other]))
    )
    keep = shared > 0
    face, other, shared = face[keep], other[keep], shared[keep]
    centre = shapely.get_coordinates(shapely.point_on_surface(faces))
    while True:
        active = (owner[face] < 0) & (owner[other] >= 0)
        if not active.any():
            return owner
        f, o, s = face[active], owner[other[active]], shared[active]
        key, inverse = np.unique(np.column_stack([f, o]), axis=0, return_inverse=True)
        total = np.bincount(inverse.ravel(), weights=s)
        distance = np.hypot(*(centre[key[:, 0]] - sites[key[:, 1]]).T)
        best = np.lexsort((key[:, 1], -total, distance, key[:, 0]))
        first = np.r_[True, key[best][1:, 0] != key[best][:-1, 0]]
        winners = key[best][first]
        owner[winners[:, 0]] = winners[:, 1]


def _as_tiled(blocks: Blocks, faces: np.ndarray, face_block: np.ndarray) -> Blocks:
    """The blocks rebuilt from the faces, so they share every vertex with the cells."""
    order = np.argsort(face_block, kind="stable")
    starts = np.searchsorted(face_block[order], np.arange(len(blocks) + 1))
    geometry = np.empty(len(blocks), dtype=object)
    for b in range(len(blocks)):
        members = faces[order[starts[b] : starts[b + 1]]]
        geometry[b] = members[0] if len(members) == 1 else shapely.coverage_union_all(members)
    area = _polygonal_part(shapely.coverage_union_all(geometry))
    return Blocks(geometry, blocks.zone, area, blocks.grid_size, blocks.node_grid)


def _union_by_owner(
    faces: np.ndarray, owner: np.ndarray, face_of_site: np.ndarray, n: int
) -> np.ndarray:
    cells = faces[face_of_site].copy() if n else np.zeros(0, dtype=object)
    owned = np.flatnonzero(owner >= 0)
    counts = np.bincount(owner[owned], minlength=n)
    grown = np.flatnonzero(counts > 1)
    if grown.size:
        owned = owned[np.argsort(owner[owned], kind="stable")]
        starts = np.searchsorted(owner[owned], np.arange(n + 1))
        for p in grown:
            cells[p] = shapely.coverage_union_all(faces[owned[starts[p] : starts[p + 1]]])
    return cells


# --------------------------------------------------------------------------------------------
# adjacency


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary segment as (x0, y0, x1, y1), endpoints ordered, and its geometry index."""
    rings = shapely.get_parts(shapely.boundary(geoms[~shapely.is_empty(geoms)]), return_index=True)
    lines, owner_local = rings
    nonempty = np.flatnonzero(~shapely.is_empty(geoms))
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    same = line_idx[1:] == line_idx[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    owner = nonempty[owner_local[line_idx[:-1][same]]]
    swap = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    lo = np.where(swap[:, None], end, start)
    hi = np.where(swap[:, None], start, end)
    return np.column_stack([lo, hi]), owner


def _matched_borders(
    geoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Borders shared segment-for-segment (exact in a valid coverage), and the rest.

    Returns ``(i, j, length)`` of the pairs with identical segments, and ``(segments, owner)``
    of the segments no other polygon has (the outer boundary, in a valid coverage).
    """
    seg, owner = _segments(geoms)
    seg_length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    seg, owner, seg_length = seg[seg_length > 0], owner[seg_length > 0], seg_length[seg_length > 0]
    order = np.lexsort((owner, seg[:, 3], seg[:, 2], seg[:, 1], seg[:, 0]))
    seg, owner, seg_length = seg[order], owner[order], seg_length[order]
    equal = (seg[1:] == seg[:-1]).all(axis=1)
    single = np.ones(len(seg), dtype=bool)
    single[1:] &= ~equal
    single[:-1] &= ~equal
    pair = equal & (owner[1:] != owner[:-1])
    a, b = owner[:-1][pair], owner[1:][pair]
    i, j, shared = _sum_pairs(np.minimum(a, b), np.maximum(a, b), seg_length[:-1][pair])
    return i, j, shared, seg[single], owner[single]


def _sum_pairs(i: np.ndarray, j: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, ...]:
    if not len(i):
        return i.astype(np.int64), j.astype(np.int64), value.astype(float)
    key, inverse = np.unique(np.column_stack([i, j]), axis=0, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=value)
    return key[:, 0].astype(np.int64), key[:, 1].astype(np.int64), total


def adjacency(
    cells: np.ndarray,
    *,
    block: np.ndarray | None = None,
    zone: np.ndarray | None = None,
    min_shared_m: float = 1.0,
) -> Adjacency:
    """Pairs of polygons that share a border of at least ``min_shared_m`` metres.

    Polygons touching only at a corner are not adjacent. Borders are measured by matching
    boundary segments: exact and fast for a coverage such as :attr:`Tessellation.cells`, the
    output of :func:`dissolve` or :func:`smooth_coverage`. A segment that no other polygon
    shares but that runs along another polygon's boundary (vertices not matched, e.g. a
    T-junction) marks that pair, which is then measured with :func:`shapely.intersection` of
    the two boundaries; so polygons that are not a vertex-matched coverage are measured right
    too, only more slowly.

    Parameters
    ----------
    cells
        Polygons (None or empty entries are never adjacent).
    block
        Block of each polygon (e.g. :attr:`Tessellation.block`), or None.
    zone
        Zone of each polygon (e.g. :attr:`Tessellation.zone`), or None.
    min_shared_m
        Shortest shared border that counts, in metres.

    Returns
    -------
    Adjacency
        ``i < j``, ``shared_m``, ``crosses_barrier`` (``block[i] != block[j]``) and
        ``same_zone`` (``zone[i] == zone[j]``).
    """
    geoms = _geometry_array(cells, "cells")
    geoms = np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)
    n = len(geoms)
    block = _per_item(block, n, "block")
    zone = _per_item(zone, n, "zone")
    i, j, shared, single, single_owner = _matched_borders(geoms)
    if len(single):
        lines = shapely.linestrings(single.reshape(-1, 2, 2))
        s_idx, other = shapely.STRtree(geoms).query(lines, predicate="intersects")
        mine = single_owner[s_idx]
        keep = other != mine
        s_idx, other, mine = s_idx[keep], other[keep], mine[keep]
        boundaries = shapely.boundary(geoms)
        along = shapely.length(shapely.intersection(lines[s_idx], boundaries[other])) > 0
        if along.any():
            fi, fj = np.minimum(mine, other)[along], np.maximum(mine, other)[along]
            fi, fj, _ = _sum_pairs(fi, fj, np.zeros(len(fi)))
            measured = shapely.length(shapely.intersection(boundaries[fi], boundaries[fj]))
            stale = np.isin(i * n + j, fi * n + fj)
            i = np.concatenate([i[~stale], fi])
            j = np.concatenate([j[~stale], fj])
            shared = np.concatenate([shared[~stale], measured])
            order = np.lexsort((j, i))
            i, j, shared = i[order], j[order], shared[order]
    keep = (shared > 0) & (shared >= min_shared_m)
    i, j, shared = i[keep].astype(np.int64), j[keep].astype(np.int64), shared[keep]
    crosses = block[i] != block[j] if block is not None else np.zeros(len(i), dtype=bool)
    same_zone = zone[i] == zone[j] if zone is not None else np.ones(len(i), dtype=bool)
    return Adjacency(i, j, shared, crosses, same_zone)


def _per_item(values, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise GeometryError(
            f"{name}: expected one value per cell ({n}); found shape {arr.shape}. Fix: pass the "
            f"{name} array aligned with the cells (e.g. Tessellation.{name})."
        )
    return arr


def to_csr(
    adjacency: Adjacency, n: int, *, weight: str | np.ndarray = "shared_m"
) -> sparse.csr_array:
    """The symmetric n × n sparse matrix of an :class:`Adjacency`.

    Parameters
    ----------
    adjacency
        The pairs (filter first with :meth:`Adjacency.select`, e.g. by ``same_zone``).
    n
        Number of polygons (matrix size).
    weight
        ``"shared_m"`` (border length), ``"ones"`` (1 per pair) or an array with one weight
        per pair.

    Returns
    -------
    scipy.sparse.csr_array
        ``A[i, j] == A[j, i] == weight`` for every pair, zero elsewhere.
    """
    if isinstance(weight, str):
        if weight == "shared_m":
            w = adjacency.shared_m
        elif weight == "ones":
            w = np.ones(len(adjacency))
        else:
            raise GeometryError(
                f'to_csr weight: expected "shared_m", "ones" or an array; found {weight!r}. '
                'Fix: pass weight="shared_m".'
            )
    else:
        w = np.asarray(weight, dtype=float)
        if w.shape != (len(adjacency),):
            raise GeometryError(
                f"to_csr weight: expected one weight per pair ({len(adjacency)}); found shape "
                f"{w.shape}. Fix: build the weights from the adjacency's own arrays."
            )
    if len(adjacency) and (adjacency.j.max() >= n or adjacency.i.min() < 0):
        raise GeometryError(
            f"to_csr n: expected more than the largest index ({int(adjacency.j.max())}); found "
            f"{n}. Fix: pass the number of cells."
        )
    rows = np.concatenate([adjacency.i, adjacency.j])
    cols = np.concatenate([adjacency.j, adjacency.i])
    return sparse.csr_array((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


# --------------------------------------------------------------------------------------------
# dissolve and smoothing


def dissolve(
    cells: np.ndarray, labels: np.ndarray, *, grid_size: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Union the polygons of each label.

    Groups are unioned with :func:`shapely.coverage_union_all` (exact and fast for a coverage:
    the parts keep the vertices of their borders, so the dissolved polygons still tile);
    a group whose coverage union is not clean falls back to
    ``shapely.union_all(..., grid_size=grid_size)``.

    Parameters
    ----------
    cells
        Polygons; None or empty entries are skipped.
    labels
        One label per polygon (any sortable values, e.g. ints; ``-1`` is a label like others).
    grid_size
        Precision grid of the fallback union.

    Returns
    -------
    unique_labels : numpy.ndarray
        The sorted distinct labels.
    polygons : numpy.ndarray of shapely geometry
        One per label: a Polygon when the group is edge-connected, a MultiPolygon otherwise,
        an empty Polygon when all its members are missing.
    """
    grid_size = _check_grid_size(grid_size)
    geoms = _geometry_array(cells, "cells")
    labels = np.asarray(labels)
    if labels.shape != geoms.shape:
        raise GeometryError(
            f"labels: expected one label per cell ({len(geoms)}); found shape {labels.shape}. "
            "Fix: pass a label array aligned with the cells."
        )
    unique, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.ravel()
    present = _present(geoms)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(unique) + 1))
    out = np.empty(len(unique), dtype=object)
    for k in range(len(unique)):
        members = order[starts[k] : starts[k + 1]]
        group = geoms[members[present[members]]]
        out[k] = _union_group(group, grid_size)
    return unique, out


def _present(geoms: np.ndarray) -> np.ndarray:
    """Whether each entry is a geometry that is not empty."""
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present].astype(object))
    return present


def _union_group(group: np.ndarray, grid_size: float) -> shapely.Geometry:
    if not len(group):
        return shapely.Polygon()
    if len(group) == 1:
        return group[0]
    try:
        merged = shapely.coverage_union_all(group)
    except shapely.errors.GEOSException:
        merged = None
    if merged is not None:
        expected = math.fsum(shapely.area(group))
        clean = shapely.is_valid(merged) and abs(shapely.area(merged) - expected) <= (
            AREA_RTOL * expected
        )
        if clean:
            return merged
    return shapely.union_all(group, grid_size=grid_size)


def smooth_coverage(
    polygons: np.ndarray,
    *,
    tolerance_m: float,
    keep_inside: np.ndarray | None = None,
    owner: np.ndarray | None = None,
    simplify_boundary: bool = False,
) -> np.ndarray:
    """Simplify a coverage of polygons without opening gaps or overlaps.

    Uses :func:`shapely.coverage_simplify` (Visvalingam-Whyatt on the shared edges, each edge
    simplified once for both sides). When ``keep_inside`` and ``owner`` are given, every point
    inside (or on) its owner polygon before must still be after; if one is not, the tolerance
    is halved and the simplification redone, :data:`SMOOTH_HALVINGS` times at most, after which
    the polygons are returned unchanged. (A point already outside its owner, e.g. one whose
    cell was seeded elsewhere, see :attr:`Tessellation.sites`, is not held against the result.)

    Parameters
    ----------
    polygons
        A coverage (e.g. the output of :func:`dissolve`); None entries stay None.
    tolerance_m
        Roughly the square root of the largest triangle area removed, in metres; 0 returns
        the polygons unchanged.
    keep_inside
        (m, 2) points that must keep their polygon, or None.
    owner
        Index into ``polygons`` of each point's polygon (negative: no owner), or None.
    simplify_boundary
        Also simplify the outer boundary of the coverage (False keeps the union unchanged).

    Returns
    -------
    numpy.ndarray of shapely geometry
        The simplified polygons, aligned with the input.
    """
    geoms = _geometry_array(polygons, "polygons")
    if not (math.isfinite(tolerance_m) and tolerance_m >= 0):
        raise GeometryError(
            f"tolerance_m: expected a non-negative number of metres; found {tolerance_m!r}. "
            "Fix: pass e.g. tolerance_m=5."
        )
    held = _held_points(keep_inside, owner, len(geoms))
    present = _present(geoms)
    if tolerance_m == 0 or not present.any():
        return geoms.copy()
    if held is not None and len(held[1]):
        held = _inside_before(geoms, *held)
    tolerance = float(tolerance_m)
    for _ in range(SMOOTH_HALVINGS + 1):
        out = geoms.copy()
        out[present] = shapely.coverage_simplify(
            geoms[present], tolerance, simplify_boundary=simplify_boundary
        )
        ok = shapely.is_valid(out[present]).all()
        if ok and held is not None and len(held[1]):
            ok = _still_inside(out, *held)
        if ok:
            return out
        tolerance /= 2.0
    return geoms.copy()


def _held_points(
    keep_inside: np.ndarray | None, owner: np.ndarray | None, n: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The points that must keep their polygon (as shapely points) and the index of that
    polygon, for the points with an owner; None when neither is given."""
    if keep_inside is None and owner is None:
        return None
    if keep_inside is None or owner is None:
        raise GeometryError(
            "smooth_coverage: keep_inside and owner go together; found only one of them. "
            "Fix: pass both (points and the index of each point's polygon) or neither."
        )
    xy = _as_points(keep_inside)
    owner = np.asarray(owner)
    if owner.shape != (len(xy),) or not np.issubdtype(owner.dtype, np.integer):
        raise GeometryError(
            f"owner: expected one integer polygon index per point ({len(xy)}); found dtype "
            f"{owner.dtype}, shape {owner.shape}. Fix: pass an int array aligned with "
            "keep_inside."
        )
    has = owner >= 0
    points, point_owner = shapely.points(xy[has]), owner[has]
    if len(point_owner) and point_owner.max() >= n:
        raise GeometryError(
            f"owner: index {int(point_owner.max())} is out of range for {n} "
            "polygons. Fix: pass owner as indices into polygons."
        )
    return points, point_owner


def _inside_before(
    geoms: np.ndarray, points: np.ndarray, point_owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The points (and their owners) that their polygon covers before smoothing."""
    before = geoms[point_owner]
    held = ~shapely.is_missing(before)
    held[held] = shapely.covers(before[held].astype(object), points[held])
    return points[held], point_owner[held]


def _still_inside(out: np.ndarray, points: np.ndarray, point_owner: np.ndarray) -> bool:
    """Whether every point's polygon exists and covers it after smoothing."""
    target = out[point_owner]
    return not shapely.is_missing(target).any() and bool(shapely.covers(target, points).all())


# --------------------------------------------------------------------------------------------
# outline


def study_outline(
    points: np.ndarray,
    *,
    buffer_m: float = 60.0,
    ratio: float = 0.3,
    cluster_gap_m: float = 500.0,
    grid_size: float = 0.01,
) -> shapely.Polygon | shapely.MultiPolygon:
    """An outline around points when no area is given: concave hulls, buffered.

    Points are grouped by single linkage (chains of points less than ``cluster_gap_m`` apart);
    each group gets a concave hull (:func:`shapely.concave_hull`, ``allow_holes=False``)
    buffered by ``buffer_m``, and the buffered hulls are unioned. Groups that end up apart
    make a MultiPolygon: treat its parts (``shapely.get_parts``) as separate zones.

    Parameters
    ----------
    points
        (n, 2) x, y in metres, n >= 1.
    buffer_m
        Margin around the hulls, in metres (> 0, so every point is well inside; arcs are
        drawn with chords, so the margin can be a little less, about 1 % of ``buffer_m``).
    ratio
        Concave hull ratio: 0 hugs the points, 1 is the convex hull.
    cluster_gap_m
        Gap that separates two groups of points, in metres.
    grid_size
        Precision grid in metres: the outline's vertices lie on it, so :func:`tessellate`
        with the same grid tiles exactly this polygon.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        Valid; a Polygon unless the groups are apart.
    """
    grid_size = _check_grid_size(grid_size)
    xy = _as_points(points)
    if not len(xy):
        raise GeometryError(
            "study_outline points: expected at least one point; found none. Fix: pass the "
            "household locations."
        )
    if not (buffer_m > 0 and math.isfinite(buffer_m)):
        raise GeometryError(
            f"buffer_m: expected a positive number of metres; found {buffer_m!r}. Fix: pass "
            "e.g. buffer_m=60."
        )
    xy = np.unique(xy, axis=0)
    group = _single_linkage(xy, cluster_gap_m)
    order = np.argsort(group, kind="stable")  # multipoints wants its indices sorted
    hulls = shapely.concave_hull(
        shapely.multipoints(xy[order], indices=group[order]), ratio=ratio, allow_holes=False
    )
    outline = shapely.union_all(shapely.buffer(hulls, buffer_m))
    return _polygonal_part(shapely.set_precision(outline, grid_size))


def _single_linkage(xy: np.ndarray, gap_m: float) -> np.ndarray:
    """Group label per point: connected by chains of steps shorter than ``gap_m``.

    The Euclidean minimum spanning tree lies in the Delaunay triangulation, so its edges
    shorter than the gap give the single-linkage groups.
    """
    n = len(xy)
    if n < 3:
        if n == 2 and np.hypot(*(xy[1] - xy[0])) >= gap_m:
            return np.array([0, 1])
        return np.zeros(n, dtype=np.int64)
    try:
        tri = Delaunay(xy)
    except QhullError:  # all points on one line: split the sorted line at the gaps
        axis = xy[-1] - xy[0]
        order = np.argsort(xy @ axis)
        steps = np.hypot(*np.diff(xy[order], axis=0).T)
        label = np.empty(n, dtype=np.int64)
        label[order] = np.r_[0, np.cumsum(steps >= gap_m)]
        return label
    simplices = tri.simplices
    a = np.concatenate([simplices[:, 0], simplices[:, 1], simplices[:, 2]])
    b = np.concatenate([simplices[:, 1], simplices[:, 2], simplices[:, 0]])
    if len(tri.coplanar):  # points qhull left out: tie each to its nearest vertex
        a = np.concatenate([a, tri.coplanar[:, 0]])
        b = np.concatenate([b, tri.coplanar[:, 2]])
    short = np.hypot(*(xy[a] - xy[b]).T) < gap_m
    graph = sparse.coo_array((np.ones(short.sum()), (a[short], b[short])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return label.astype(np.int64)
