"""What the commands share: the CRS option, the size options (defaults from
:class:`planning.params.ProposeParams`), the column mapping, the exit status of an input error
and a two-column table."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from geo.errors import PlanningInputError, Problem, ValidationError
from planning.params import FILE_KEYS, ProposeParams

__all__ = [
    "EXIT_INPUT_ERROR",
    "EXIT_UNEXPECTED",
    "SIZE_OPTIONS",
    "add_communities_crs",
    "add_crs",
    "add_line_layers",
    "add_reading_options",
    "add_size_arguments",
    "out_problems",
    "parse_columns",
    "print_table",
    "print_warnings",
    "propose_params",
    "reading_options",
    "refuse_before_work",
]


#: Exit status of a refused input (a file, a parameter, ``--out``).
EXIT_INPUT_ERROR = 2
#: Exit status of an unexpected failure (a bug): one line and a log file with the traceback.
EXIT_UNEXPECTED = 3

#: ProposeParams field -> the option that sets it, as problems name it.
SIZE_OPTIONS = {
    "community_size": "--community-size",
    "tolerance": "--tolerance",
    "grid_households": "--grid-households",
    "grid_tolerance": "--grid-tolerance",
    "max_grids": "--max-grids",
    "seed": "--seed",
}


def out_problems(out: Path, *, folder: bool = True) -> list[Problem]:
    """Why ``--out`` cannot be written, found before any work (empty: it can).

    Parameters
    ----------
    out : Path
        The output folder (``folder``) or file.
    folder : bool
        True when ``out`` is a folder the command creates or fills.
    """
    what = "a folder" if folder else "a file"
    if folder and out.exists() and not out.is_dir():
        return [
            Problem(
                "error",
                str(out),
                "--out is an existing file, not a folder",
                expected="a folder (new or existing) to write the results into",
                found="a file",
                fix="give --out a folder name, or move the file away",
                column="--out",
            )
        ]
    if not folder and out.is_dir():
        return [
            Problem(
                "error",
                str(out),
                "--out is a folder, not a file",
                expected="a file name",
                found="a folder",
                fix="give --out a file name such as map.png",
                column="--out",
            )
        ]
    parent = out if out.exists() and folder else out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return [
            Problem(
                "error",
                str(out),
                f"--out cannot be written: {parent} is not a writable folder",
                expected=f"{what} in a folder you may write to",
                found=f"{parent} not writable",
                fix="choose an --out in a writable folder",
                column="--out",
            )
        ]
    return []


def refuse_before_work(
    *,
    params: ProposeParams | None = None,
    out: Path | None = None,
    out_is_folder: bool = True,
    problems: Iterable[Problem] = (),
) -> None:
    """Refuse the parameters and ``--out`` at once, with every problem, before anything is
    read or computed.

    Raises
    ------
    ValidationError
        With every problem of ``params`` (named by their options), ``out`` and ``problems``.
    """
    found = list(problems)
    if params is not None:
        found += params.problems(labels=SIZE_OPTIONS)
    if out is not None:
        found += out_problems(out, folder=out_is_folder)
    if any(p.is_error for p in found):
        raise ValidationError(found)


def print_warnings(warnings: Sequence[Problem]) -> None:
    """Every warning met on the way, as ``validate`` prints them."""
    if warnings:
        print(f"\n{len(warnings)} warning(s):")
        for problem in warnings:
            print(problem)


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """How to read the household file: which sheet or layer, where the header is, and
    whether buildings of more than 5,000 households are accepted
    (:func:`geo.intake.read_households`)."""
    parser.add_argument("--sheet", help="the sheet of a workbook to read (when several hold data)")
    parser.add_argument(
        "--layer", help="the layer of a GeoPackage, or the Shapefile of a zip, to read"
    )
    parser.add_argument(
        "--header-row", type=int, help="row number of the header (default: found, else 1)"
    )
    parser.add_argument(
        "--allow-large-counts",
        action="store_true",
        help="accept buildings of more than 5,000 households (refused by default)",
    )


def reading_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`geo.intake.read_households` that
    :func:`add_reading_options` sets."""
    return {
        "sheet": args.sheet,
        "layer": args.layer,
        "header_row": args.header_row,
        "allow_large_counts": args.allow_large_counts,
    }


def parse_columns(text: str | None) -> dict[str, str] | None:
    """``lon=东经,lat=北纬`` → ``{"lon": "东经", "lat": "北纬"}``."""
    if not text:
        return None
    mapping = {}
    for part in text.split(","):
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise PlanningInputError(
                f"--columns: '{part}' is not role=column. expected e.g. lon=东经,lat=北纬,"
                "households=户数; fix: write each mapping as role=column, separated by commas."
            )
        mapping[role.strip()] = column.strip()
    return mapping


def print_table(rows: Sequence[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


def add_crs(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--crs",
        required=required,
        help="CRS of the input coordinates: wgs84, gcj02 (Amap/Tencent), bd09 (Baidu), "
        "cgcs2000, or an EPSG code such as 4547. Never guessed.",
    )


def add_communities_crs(parser: argparse.ArgumentParser, *, grids: bool = False) -> None:
    """``--communities-crs`` (and ``--grids-crs``): the CRS of a plan's polygons when it is not
    --crs. By default a GeoJSON file is WGS84, as RFC 7946 defines GeoJSON and as propose and
    rebalance write it, unless the file states another (a ``crs`` member)."""
    layers = ("communities", "grids") if grids else ("communities",)
    for layer in layers:
        parser.add_argument(
            f"--{layer}-crs",
            help=f"CRS of --{layer} if it differs from --crs. Default: --crs, except that a "
            "GeoJSON file stating no CRS is WGS84 (RFC 7946: GeoJSON is WGS84 by definition, "
            "and propose writes its communities.geojson and grids.geojson so), whatever "
            "--crs says",
        )


def add_line_layers(parser: argparse.ArgumentParser) -> None:
    """The layers borders follow: 街道 polygons and roads / rivers / railways."""
    parser.add_argument(
        "--subdistricts",
        "--streets",
        dest="subdistricts",
        type=Path,
        help="sub-district (街道) polygons (--streets: the same)",
    )
    parser.add_argument(
        "--barriers",
        type=Path,
        action="append",
        help="roads / rivers / railways (repeat for several files)",
    )


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """The size, tolerance and seed options every planning command shares (defaults from
    :class:`planning.params.ProposeParams`)."""
    defaults = ProposeParams()
    parser.add_argument(
        "--community-size",
        type=int,
        default=defaults.community_size,
        help="households a community aims at",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=defaults.tolerance,
        help="half-width of the community band, a share of its size",
    )
    parser.add_argument(
        "--grid-households",
        "--grid-size",
        dest="grid_households",
        type=int,
        default=defaults.grid_households,
        help="households a grid aims at",
    )
    parser.add_argument(
        "--grid-tolerance",
        type=float,
        default=defaults.grid_tolerance,
        help="half-width of the grid band, a share of its households",
    )
    parser.add_argument(
        "--max-grids", type=int, default=defaults.max_grids, help="most grids in one community"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)


def propose_params(args: argparse.Namespace) -> ProposeParams:
    """ProposeParams from the options of :func:`add_size_arguments`."""
    return ProposeParams.from_dict({name: getattr(args, name) for name in FILE_KEYS})
