"""``sample``: write the synthetic sample district."""

from __future__ import annotations

import argparse
from pathlib import Path

from planning.cli.options import say

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from samples.district import write_sample

    paths = write_sample(args.outdir, households=args.households, seed=args.seed)
    print(say("sample.wrote", args.lang, seed=args.seed, folder=str(args.outdir)))
    for key, path in paths.items():
        print(f"  {key:<12} {path}")
    print(say("sample.crs", args.lang))
    return 0


def register(sub, lang: str = "en") -> None:
    """The ``sample`` command, its help in ``lang``."""
    p = sub.add_parser("sample", help=say("help.sample.command", lang))
    p.add_argument("outdir", type=Path, help=say("help.sample.outdir", lang))
    p.add_argument(
        "--households",
        type=int,
        default=80_000,
        help=say("help.sample.households", lang, households=80_000),
    )
    p.add_argument("--seed", type=int, default=0, help=say("help.sample.seed", lang, seed=0))
    p.set_defaults(run=_run)
