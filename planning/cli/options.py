"""What the commands share: the CRS option, the size options (defaults from
:class:`planning.params.ProposeParams`), the column mapping, the exit status of an input error,
a two-column table, and the language of everything printed (``--lang``; the words in
``planning/locales``, section ``cli``)."""

from __future__ import annotations

import argparse
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from geo.errors import PARAMETERS, ROWS_SHOWN, PlanningInputError, Problem, ValidationError
from geo.records import LANGUAGES
from planning.params import FILE_KEYS, ProposeParams
from planning.records import Note

__all__ = [
    "EXIT_INPUT_ERROR",
    "EXIT_UNEXPECTED",
    "LOCALE_VARIABLES",
    "SIZE_OPTIONS",
    "add_communities_crs",
    "add_crs",
    "add_lang",
    "add_line_layers",
    "add_reading_options",
    "add_size_arguments",
    "default_language",
    "out_problems",
    "pad",
    "parse_columns",
    "print_table",
    "print_warnings",
    "printed_language",
    "problem_text",
    "propose_params",
    "reading_options",
    "refuse_before_work",
    "say",
    "text_width",
]


#: Exit status of a refused input (a file, a parameter, ``--out``).
EXIT_INPUT_ERROR = 2
#: Exit status of an unexpected failure (a bug): one line and a log file with the traceback.
EXIT_UNEXPECTED = 3

#: The environment variables that name the locale, the first set one deciding (POSIX order).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

#: ProposeParams field -> the option that sets it, as problems name it.
SIZE_OPTIONS = {
    "community_size": "--community-size",
    "tolerance": "--tolerance",
    "grid_households": "--grid-households",
    "grid_tolerance": "--grid-tolerance",
    "max_grids": "--max-grids",
    "seed": "--seed",
}


def out_problems(out: Path, *, folder: bool = True, lang: str = "en") -> list[Problem]:
    """Why ``--out`` cannot be written, found before any work (empty: it can), in ``lang``.

    Parameters
    ----------
    out : Path
        The output folder (``folder``) or file.
    folder : bool
        True when ``out`` is a folder the command creates or fills.
    lang : {"zh", "en"}
        The language of the problems.
    """
    if folder and out.exists() and not out.is_dir():
        return [_out_problem(out, "not_folder", lang)]
    if not folder and out.is_dir():
        return [_out_problem(out, "not_file", lang)]
    parent = out if out.exists() and folder else out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        what = "folder" if folder else "file"
        return [_out_problem(out, "not_writable", lang, expected=f"_{what}", parent=parent)]
    return []


def _out_problem(out: Path, code: str, lang: str, *, expected: str = "", **values) -> Problem:
    """The problem ``cli.out.<code>`` (its message, expected, found and fix) with ``out``."""
    return Problem(
        "error",
        str(out),
        say(f"out.{code}", lang, **values),
        expected=say(f"out.{code}_expected{expected}", lang, **values),
        found=say(f"out.{code}_found", lang, **values),
        fix=say(f"out.{code}_fix", lang, **values),
        column="--out",
    )


def refuse_before_work(
    *,
    params: ProposeParams | None = None,
    out: Path | None = None,
    out_is_folder: bool = True,
    problems: Iterable[Problem] = (),
    lang: str = "en",
) -> None:
    """Refuse the parameters and ``--out`` at once, with every problem, before anything is
    read or computed (the problems of ``--out`` in ``lang``).

    Raises
    ------
    ValidationError
        With every problem of ``params`` (named by their options), ``out`` and ``problems``.
    """
    found = list(problems)
    if params is not None:
        found += params.problems(labels=SIZE_OPTIONS)
    if out is not None:
        found += out_problems(out, folder=out_is_folder, lang=lang)
    if any(p.is_error for p in found):
        raise ValidationError(found)


def print_warnings(warnings: Sequence[Problem], lang: str = "en") -> None:
    """Every warning met on the way, as ``validate`` prints them, in ``lang``."""
    if warnings:
        print("\n" + say("warnings", lang, n=len(warnings)))
        for problem in warnings:
            print(problem_text(problem, lang))


def problem_text(problem: Problem, lang: str) -> str:
    """A problem as the command line prints it: where (file, column, rows) and what, then
    what was expected, what was found and the fix, in ``lang`` (a problem that is no record
    reads as the reader that found it wrote it)."""
    sep = say("problem.sep", lang)
    where = [say("problem.parameters", lang) if problem.file == PARAMETERS else problem.file]
    if problem.column:
        where.append(say("problem.column", lang, column=problem.column))
    if problem.rows:
        more = len(problem.rows) - ROWS_SHOWN
        shown = say("problem.row_sep", lang).join(str(r) for r in problem.rows[:ROWS_SHOWN])
        where.append(
            say(
                "problem.rows",
                lang,
                shown=shown,
                more=say("problem.more", lang, n=more) if more > 0 else "",
                n=len(problem.rows),
            )
        )
    message = problem.rendered("message", lang)
    head = f"{say(f'problem.{problem.severity}', lang)} {sep.join(where)}{sep}{message}"
    details = [
        "    " + say(f"problem.{part}", lang, text=problem.rendered(part, lang))
        for part in ("expected", "found", "fix")
    ]
    return "\n".join([head, *details])


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """``zh`` when the locale is Chinese (the first of :data:`LOCALE_VARIABLES` set starts
    with ``zh``, e.g. ``zh_CN.UTF-8``), else ``en``."""
    env = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def add_lang(parser: argparse.ArgumentParser, *, resolved: bool = True, lang: str = "en") -> None:
    """``--lang zh|en``: the language of what the command prints (read by :func:`say`), its
    help in ``lang``.

    Its default is :func:`default_language` when the parser is built; with ``resolved``
    False it is None when not given (the command decides, see :func:`printed_language`)."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=default_language() if resolved else None,
        help=say("help.lang", lang),
    )


def printed_language(args: argparse.Namespace) -> str:
    """The language the command prints in: ``--lang``, else the locale's."""
    return getattr(args, "lang", None) or default_language()


def say(code: str, lang: str, **values: object) -> str:
    """The command line's text ``cli.<code>`` in ``lang``, with ``values``."""
    return Note.of(f"cli.{code}", **values).text(lang)


def text_width(text: object) -> int:
    """Terminal columns ``text`` takes (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def pad(text: object, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns, on the right (or the left: ``right``
    aligns it right)."""
    fill = " " * max(0, width - text_width(text))
    return fill + str(text) if right else str(text) + fill


def add_reading_options(parser: argparse.ArgumentParser, *, lang: str = "en") -> None:
    """How to read the household file: which sheet or layer, where the header is, and
    whether buildings of more than 5,000 households are accepted
    (:func:`geo.intake.read_households`); their help in ``lang``."""
    parser.add_argument("--sheet", help=say("help.sheet", lang))
    parser.add_argument("--layer", help=say("help.layer", lang))
    parser.add_argument("--header-row", type=int, help=say("help.header_row", lang))
    parser.add_argument(
        "--allow-large-counts", action="store_true", help=say("help.allow_large_counts", lang)
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


def parse_columns(text: str | None, lang: str = "en") -> dict[str, str] | None:
    """``lon=东经,lat=北纬`` → ``{"lon": "东经", "lat": "北纬"}`` (refused in ``lang``)."""
    if not text:
        return None
    mapping = {}
    for part in text.split(","):
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise PlanningInputError(say("columns_bad", lang, part=part))
        mapping[role.strip()] = column.strip()
    return mapping


def print_table(rows: Sequence[tuple[str, object]]) -> None:
    """Names and values in two columns (names padded to the widest)."""
    width = max(text_width(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {pad(key, width)}  {value}")


def add_crs(parser: argparse.ArgumentParser, *, required: bool = True, lang: str = "en") -> None:
    """``--crs``: the declared CRS of the input coordinates (its help in ``lang``)."""
    parser.add_argument("--crs", required=required, help=say("help.crs", lang))


def add_communities_crs(
    parser: argparse.ArgumentParser, *, grids: bool = False, lang: str = "en"
) -> None:
    """``--communities-crs`` (and ``--grids-crs``): the CRS of a plan's polygons when it is not
    --crs. By default a GeoJSON file is WGS84, as RFC 7946 defines GeoJSON and as propose and
    rebalance write it, unless the file states another (a ``crs`` member)."""
    layers = ("communities", "grids") if grids else ("communities",)
    for layer in layers:
        parser.add_argument(f"--{layer}-crs", help=say("help.plan_crs", lang, layer=layer))


def add_line_layers(parser: argparse.ArgumentParser, *, lang: str = "en") -> None:
    """The layers borders follow: 街道 polygons and roads / rivers / railways."""
    parser.add_argument(
        "--subdistricts",
        "--streets",
        dest="subdistricts",
        type=Path,
        help=say("help.subdistricts", lang),
    )
    parser.add_argument("--barriers", type=Path, action="append", help=say("help.barriers", lang))


def add_size_arguments(parser: argparse.ArgumentParser, *, lang: str = "en") -> None:
    """The size, tolerance and seed options every planning command shares (defaults from
    :class:`planning.params.ProposeParams`), their help in ``lang``."""
    defaults = ProposeParams()
    parser.add_argument(
        "--community-size",
        type=int,
        default=defaults.community_size,
        help=say("help.community_size", lang),
    )
    parser.add_argument(
        "--tolerance", type=float, default=defaults.tolerance, help=say("help.tolerance", lang)
    )
    parser.add_argument(
        "--grid-households",
        "--grid-size",
        dest="grid_households",
        type=int,
        default=defaults.grid_households,
        help=say("help.grid_households", lang),
    )
    parser.add_argument(
        "--grid-tolerance",
        type=float,
        default=defaults.grid_tolerance,
        help=say("help.grid_tolerance", lang),
    )
    parser.add_argument(
        "--max-grids", type=int, default=defaults.max_grids, help=say("help.max_grids", lang)
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help=say("help.seed", lang, seed=defaults.seed)
    )


def propose_params(args: argparse.Namespace) -> ProposeParams:
    """ProposeParams from the options of :func:`add_size_arguments`."""
    return ProposeParams.from_dict({name: getattr(args, name) for name in FILE_KEYS})
