"""What the commands share: the CRS option, the size options (defaults from
:class:`planning.params.ProposeParams`), the column mapping, the exit status of an input error
and a two-column table."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from geo.errors import PlanningInputError
from planning.params import FILE_KEYS, ProposeParams

__all__ = [
    "EXIT_INPUT_ERROR",
    "add_crs",
    "add_line_layers",
    "add_reading_options",
    "add_size_arguments",
    "parse_columns",
    "print_table",
    "propose_params",
    "reading_options",
]


EXIT_INPUT_ERROR = 2


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
