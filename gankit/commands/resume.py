"""``gankit resume``: continue a run from its newest checkpoint, bit for bit on CPU.

gankit resume runs/digits                 # to the run's own --steps
gankit resume runs/digits --steps 6000    # further
gankit resume runs/digits --nproc-per-node 2   # on 2 processes (docs/distributed.md)
"""

from __future__ import annotations

import argparse
from typing import Any

from gankit.commands.launch import add_launch_option, launched


def run(args: argparse.Namespace) -> None:
    """Rebuild the run's task from its config.json and train on from its newest checkpoint."""
    from gankit.io import read_config
    from gankit.tasks import task_class
    from gankit.train.distributed import is_main_process

    config = read_config(args.run)
    cls = task_class(config, args.run)
    if launched(args):
        return
    gan = cls.from_config(config)
    gan.fit(None, steps=args.steps, out=args.run, resume=True, quiet=args.quiet)
    if is_main_process():
        print(f"run {args.run} now at step {gan.history['steps']}; report in {args.run}/report.md")


def add_parser(sub: Any) -> None:
    """Add ``gankit resume`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "resume",
        help="continue an interrupted run",
        description="Continue a run from its newest checkpoint, bit for bit, with the options it "
        "was started with (only the number of steps may change).",
    )
    parser.add_argument("run", help="run directory given to `gankit train --out`")
    parser.add_argument("--steps", type=int, default=None, help="new total number of steps")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_launch_option(parser)
    parser.set_defaults(func=run)
