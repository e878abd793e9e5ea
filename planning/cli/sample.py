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


def register(sub) -> None:
    p = sub.add_parser("sample", help="write the synthetic sample district")
    p.add_argument("outdir", type=Path)
    p.add_argument("--households", type=int, default=80_000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run)
