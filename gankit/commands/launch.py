"""``--nproc-per-node N``: a training verb starts torchrun for the user.

``gankit train ... --nproc-per-node 2`` runs the same command line again as 2 processes on this
machine through ``torch.distributed.run`` (what the ``torchrun`` script runs, here in-process),
each of which trains its share of every batch (docs/distributed.md). Inside torchrun the option
is inert: the workers see ``WORLD_SIZE`` and train. Several machines need the plain ``torchrun``
line (``--nnodes``, a rendezvous endpoint) that docs/distributed.md shows.
"""

from __future__ import annotations

import argparse
import os

from gankit.errors import GankitError
from gankit.train import TrainingInterrupted

# Exit status of a worker that stopped cleanly on Ctrl-C / SIGTERM (see gankit.cli).
_INTERRUPTED = 130


def add_launch_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--nproc-per-node`` to a training verb."""
    parser.add_argument(
        "--nproc-per-node",
        type=int,
        default=1,
        metavar="N",
        help="train on N processes of this machine (torch.distributed: gloo on CPU, one GPU "
        "each on CUDA); --batch-size stays the global batch. Several machines: see "
        "docs/distributed.md",
    )


def launched(args: argparse.Namespace) -> bool:
    """Run ``args.argv`` again under torchrun on ``args.nproc_per_node`` processes when asked.

    Returns False (the caller trains itself) for one process or inside torchrun already, True
    once the workers have finished; a failed worker ends it with one :class:`GankitError`.

    Ctrl-C / SIGTERM: torchrun passes the signal on to the workers (each in a session of its
    own, out of the terminal's reach), which stop cleanly after the step they all agree on and
    save a checkpoint; torchrun then reports the signal, and so does this, as an interruption.
    """
    nproc = args.nproc_per_node
    if nproc < 1:
        raise GankitError(f"--nproc-per-node must be a positive integer, got {nproc}")
    if nproc == 1 or "WORLD_SIZE" in os.environ:
        return False
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    torchrun = get_args_parser().parse_args(
        [
            "--standalone",
            f"--nproc-per-node={nproc}",
            "--module",
            "gankit.cli",
            *args.argv,
        ]
    )
    run_dir = getattr(args, "out", None) or getattr(args, "run", None)
    interrupted = TrainingInterrupted(
        f"training stopped on all {nproc} processes; checkpoint saved. Continue with: "
        f"gankit resume {run_dir} --nproc-per-node {nproc}"
    )
    try:
        run(torchrun)
    except SignalException:  # torchrun passed it on; the workers stopped cleanly
        raise interrupted from None
    except ChildFailedError as err:
        rank, failure = err.get_first_failure()
        if failure.exitcode == _INTERRUPTED:
            raise interrupted from None
        how = (
            f"was killed by {failure.signal_name()}"
            if failure.exitcode < 0
            else f"exited with status {failure.exitcode} (its message is above)"
        )
        raise GankitError(
            f"distributed training on {nproc} processes stopped: rank {rank} {how}; the last "
            "checkpoint is intact, continue with gankit resume"
        ) from None
    return True
