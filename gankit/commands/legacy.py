"""The spellings of earlier releases, kept for one release as thin mappings onto today's verbs.

- ``gankit tabular fit DATA ...`` -> ``gankit train --task tabular --data DATA ...``
- ``gankit tabular sample MODEL ...`` -> ``gankit sample MODEL ...`` (``-n`` still defaults to 1000)
- ``gankit translate train ...`` -> ``gankit train ...`` (``--task`` a translator)
- ``gankit translate apply MODEL IN OUT`` -> ``gankit apply MODEL IN -o OUT``
- ``gankit upscale MODEL IN -o OUT`` -> ``gankit apply MODEL IN -o OUT``
- ``gankit upscale train ...`` -> ``gankit train --task superres ...``
- ``gankit eval train-extractor|convert-inception`` -> ``gankit extractor train|convert-inception``

Each prints a one-line note on stderr when used and says "deprecated" in its help.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from gankit.commands import apply, sample, train
from gankit.errors import GankitError
from gankit.tasks import TASKS, SuperResolution, TabularGAN
from gankit.tasks.base import Translator

# Spellings whose second word was a magic value of the first one's positional argument: the
# words are replaced before parsing.
REWRITES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("eval", "train-extractor"), ("extractor", "train")),
    (("eval", "convert-inception"), ("extractor", "convert-inception")),
    (("upscale", "train"), ("train", "--task", SuperResolution.task)),
)


def _note(old: str, new: str) -> None:
    print(f"gankit: note: `gankit {old}` is deprecated; use `gankit {new}`", file=sys.stderr)


def rewrite(argv: Sequence[str]) -> list[str]:
    """``argv`` with a deprecated magic-word spelling (see :data:`REWRITES`) replaced."""
    for old, new in REWRITES:
        if tuple(argv[: len(old)]) == old:
            _note(" ".join(old), " ".join(new))
            return [*new, *argv[len(old) :]]
    return list(argv)


def _alias(
    run: Callable[[argparse.Namespace], None], old: str, new: str
) -> Callable[[argparse.Namespace], None]:
    """``run`` behind a deprecation note."""

    def run_alias(args: argparse.Namespace) -> None:
        _note(old, new)
        run(args)

    return run_alias


def _train_translator(args: argparse.Namespace) -> None:
    """``translate train`` trained translators only; ``--task`` was required."""
    if args.task is None or not issubclass(TASKS[args.task], Translator):
        translators = [name for name, task in TASKS.items() if issubclass(task, Translator)]
        raise GankitError(f"translate train needs --task, one of {', '.join(translators)}")
    train.run(args)


def _deprecated(new: str) -> str:
    return f"deprecated: use {new}"


def add_parsers(sub: Any) -> None:
    """Add the deprecated ``tabular``, ``translate`` and ``upscale`` commands to ``sub``."""
    table_train = f"train --task {TabularGAN.task}"
    tabular = sub.add_parser("tabular", help=_deprecated(f"gankit {table_train}, gankit sample"))
    jobs = tabular.add_subparsers(dest="legacy_command", required=True, metavar="COMMAND")
    fit = jobs.add_parser("fit", help=_deprecated(f"gankit {table_train} --data DATA"))
    train.add_arguments(fit)
    fit.add_argument("data", help="CSV file with a header row")
    fit.set_defaults(task=TabularGAN.task, func=_alias(train.run, "tabular fit", table_train))
    rows = jobs.add_parser("sample", help=_deprecated("gankit sample MODEL -o rows.csv"))
    sample.add_arguments(rows)
    rows.set_defaults(n=1000, func=_alias(sample.run, "tabular sample", "sample"))

    translate = sub.add_parser(
        "translate", help=_deprecated("gankit train --task pix2pix|cyclegan, gankit apply")
    )
    jobs = translate.add_subparsers(dest="legacy_command", required=True, metavar="COMMAND")
    fit = jobs.add_parser("train", help=_deprecated("gankit train --task TASK"))
    train.add_arguments(fit)
    fit.set_defaults(task=None, func=_alias(_train_translator, "translate train", "train"))
    folder = jobs.add_parser("apply", help=_deprecated("gankit apply MODEL IN_DIR -o OUT_DIR"))
    apply.add_arguments(folder)
    folder.add_argument("output", metavar="OUT_DIR", help="folder for the translations")
    folder.set_defaults(
        func=_alias(apply.run, "translate apply MODEL IN OUT", "apply MODEL IN -o OUT")
    )

    upscale = sub.add_parser(
        "upscale",
        help=_deprecated("gankit apply MODEL in.png -o out.png, gankit train --task superres"),
        description="Deprecated: `gankit upscale MODEL in.png -o out.png` is `gankit apply`, "
        "`gankit upscale train ...` is `gankit train --task superres ...`.",
    )
    apply.add_arguments(upscale)
    upscale.set_defaults(func=_alias(apply.run, "upscale MODEL IN -o OUT", "apply MODEL IN -o OUT"))
