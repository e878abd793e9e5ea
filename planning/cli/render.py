"""``render``: draw a plan folder as a print map (PNG or PDF).

The map is drawn in the language ``--lang`` names, in Chinese when it names none (the map is a
bureau's document, whatever the machine's locale); what the command prints follows ``--lang``,
else the locale, as every command's does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from planning.cli.options import printed_language, refuse_before_work, say
from planning.params import Range, range_problem

if TYPE_CHECKING:
    from planning.render import RenderWarning

__all__ = ["register"]

#: Resolutions a print map may be drawn at.
DPI_RANGE = Range(20, 1200)


def _run(args: argparse.Namespace) -> int:
    from planning.render import render_plan

    lang = printed_language(args)
    dpi = range_problem("--dpi", args.dpi, DPI_RANGE)
    refuse_before_work(out=args.out, out_is_folder=False, problems=[dpi] if dpi else [], lang=lang)
    outputs = [args.out]
    if args.pdf and args.out.suffix.lower() != ".pdf":
        outputs.append(args.out.with_suffix(".pdf"))
    warnings = {}
    for out in outputs:
        result = render_plan(
            args.plan_dir,
            out,
            title=args.title,
            lang=args.lang or "zh",
            dpi=args.dpi,
            paper=args.paper,
            editor=args.editor or "",
            organisation=args.organisation or "",
        )
        warnings.update((_warning_text(w, lang), None) for w in result.warnings)
        shown = say(
            "render.wrote",
            lang,
            path=str(result.path),
            communities=len(result.community_labels),
            layers=", ".join(result.layers),
            font=result.font_family,
        )
        print(shown)
    for warning in warnings:
        print(warning, file=sys.stderr)
    return 0


def _warning_text(warning: RenderWarning, lang: str) -> str:
    """A warning of the map in ``lang`` (one the command line has no words for, as drawn)."""
    from planning.render import CJK_FONT_PACKAGES

    if warning.code == "no_cjk_font":
        return say("render.no_cjk_font", lang, packages=CJK_FONT_PACKAGES)
    return str(warning)


def register(sub, lang: str = "en") -> None:
    """The ``render`` command, its help in ``lang``."""
    p = sub.add_parser("render", help=say("help.render.command", lang))
    p.add_argument("plan_dir", type=Path, help=say("help.render.plan_dir", lang))
    p.add_argument("--out", type=Path, required=True, help=say("help.render.out", lang))
    p.add_argument("--pdf", action="store_true", help=say("help.render.pdf", lang))
    p.add_argument("--title", help=say("help.render.title", lang))
    p.add_argument("--dpi", type=int, default=200, help=say("help.render.dpi", lang, dpi=200))
    p.add_argument("--paper", choices=("A4", "A3"), help=say("help.render.paper", lang))
    p.add_argument("--editor", help=say("help.render.editor", lang))
    p.add_argument("--organisation", help=say("help.render.organisation", lang))
    p.set_defaults(run=_run)
