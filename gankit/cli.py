"""The ``gankit`` command: builds the parser from :mod:`gankit.commands` and maps errors to exit
statuses.

Every user-fixable problem surfaces as one line ``gankit: error: ...`` and exit status 2; an
interrupted run exits with 130 after saving its checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gankit.commands import add_parsers, legacy
from gankit.errors import GankitError
from gankit.train.distributed import is_main_process
from gankit.train.engine import TrainingInterrupted


def build_parser() -> argparse.ArgumentParser:
    """The ``gankit`` parser: one sub-command per module of :data:`gankit.commands.COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="gankit",
        description="Train, sample, apply and inspect GANs of every task. `gankit COMMAND --help` "
        "documents each command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gankit`` console script."""
    argv = legacy.rewrite(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # what --nproc-per-node runs again under torchrun
    try:
        # A verb returns None, or an exit status that is a finding (a verify that fails).
        status = args.func(args)
    except TrainingInterrupted as err:
        if is_main_process():  # every rank of a distributed run stops; one says so
            print(f"gankit: {err}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        # Ctrl-C outside the trainer's clean stop: during start-up, or a second Ctrl-C ("now").
        from gankit.train.state import LATEST, STATE_DIR

        run = getattr(args, "out", None) or getattr(args, "run", None)
        saved = run is not None and (Path(run) / STATE_DIR / LATEST).is_file()
        resume = f"; continue from the last checkpoint with: gankit resume {run}" if saved else ""
        print(f"gankit: error: interrupted{resume}", file=sys.stderr)
        return 130
    except GankitError as err:
        print(f"gankit: error: {err}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as err:
        # Only allocation failures are the user's to fix (-n, --batch-size, --resolution too
        # large); any other RuntimeError is a bug and keeps its traceback.
        if not isinstance(err, MemoryError) and "allocate" not in str(err):
            raise
        print(
            "gankit: error: not enough memory for this request; use a smaller -n, "
            "--batch-size or --resolution",
            file=sys.stderr,
        )
        return 2
    except OSError as err:
        # The machine's problem, not gankit's (disk full, permissions, a vanished file): one
        # line naming the file, as for any other input the user can fix.
        where = f" {err.filename}" if err.filename else ""
        print(f"gankit: error: cannot access{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
