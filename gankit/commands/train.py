"""``gankit train``: train a model of any task and write its model directory.

gankit train --data digits --steps 3000 --out runs/digits
gankit train --task toy --data ring
gankit train --task tabular --data adult.csv --target income --out runs/adult
gankit train --task pix2pix --data ./pairs --resolution 64 --channels 1,3
gankit train --task superres --preset psnr --scale 2        # on the photographs packages ship
gankit train --task toy --nproc-per-node 2                  # 2 processes (torch.distributed)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gankit.commands.launch import add_launch_option, launched
from gankit.commands.options import add_training_options, training_overrides, verb_for
from gankit.commands.task_options import add_task_options, task_settings
from gankit.errors import GankitError
from gankit.tasks import TASKS
from gankit.train.distributed import is_main_process

DEFAULT_TASK = "images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of ``gankit train`` (the deprecated training spellings reuse them)."""
    parser.add_argument(
        "--task",
        default=DEFAULT_TASK,
        choices=tuple(TASKS),
        help=f"what to train (default {DEFAULT_TASK}); `gankit presets` describes each",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="training data, as the task reads it: images: mnist-5k or digits (embedded), mnist "
        "($GANKIT_DATA/mnist) or an image folder; text-images: mnist-5k, digits or mnist "
        "(captioned); "
        "toy: ring or grid; tabular: a CSV file; pix2pix: mnist-edges, photos-colour or a folder "
        "with A/ and B/; cyclegan: digits-mnist or a folder with A/ and B/; superres: photos or "
        "an image folder. Default: the data gankit ships for the task (images, text-images: "
        "mnist-5k; toy: ring; superres: photos), else it must be given",
    )
    parser.add_argument("--preset", default=None, help="named configuration; see `gankit presets`")
    parser.add_argument("--out", default=None, help="run directory (default: runs/TASK)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop early after this much wall-clock time (a normal end: report, weights)",
    )
    parser.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="score G_ema every N steps (needs --extractor); best weights in OUT/best",
    )
    parser.add_argument("--extractor", default=None, help="extractor directory for --eval-every")
    parser.add_argument("--tensorboard", action="store_true", help="also write TensorBoard logs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_task_options(parser, TASKS)
    add_training_options(parser)
    add_launch_option(parser)


def run(args: argparse.Namespace) -> None:
    """Build the task from its preset and the options given, train it, and say where it went."""
    args.out = args.out or f"runs/{args.task}"  # set here so that a Ctrl-C message can name it
    if launched(args):
        return
    task = TASKS[args.task]
    train, model = training_overrides(args)
    settings = task_settings(task, args.preset, args, model)
    gan = task(args.preset, model=settings.model, **settings.init, **train)
    for method, value in settings.method.items():
        getattr(gan, method)(value)
    if args.data is None:
        args.data = task.default_data  # --eval-every reads the same data
    gan.fit(
        args.data,
        out=args.out,
        callbacks=_periodic_eval(gan, args),
        quiet=args.quiet,
        tensorboard=args.tensorboard,
        max_seconds=args.max_seconds,
        **settings.fit,
    )
    if not is_main_process():
        return
    print(
        f"trained {gan.history['steps']} steps in {gan.history['seconds_this_run']:.0f} s; "
        f"model, samples and report in {args.out}/ (see {args.out}/report.md); use it with "
        f"`gankit {verb_for(gan)} {args.out} ...`"
    )


def _periodic_eval(gan: Any, args: argparse.Namespace) -> list:
    """The --eval-every callback: FD of G_ema every N steps, best weights kept in OUT/best."""
    if args.eval_every is None:
        return []
    if args.eval_every < 1 or not args.extractor:
        raise GankitError("--eval-every needs a positive step count and --extractor DIR")
    if not is_main_process():  # the engine runs callbacks on rank 0 only: build it there alone
        return []
    from gankit.data.images import real_images
    from gankit.metrics.extractors import build_extractor
    from gankit.tasks.evaluation import PeriodicEval

    data, _ = gan.open_data(args.data)
    images = getattr(data, "data", data)  # the images behind class labels or clusters
    extractor = build_extractor("model-dir", path=args.extractor)
    real = real_images(images, 2000, seed=0)
    return [PeriodicEval(real, extractor, args.eval_every, best_dir=Path(args.out) / "best")]


def add_parser(sub: Any) -> None:
    """Add ``gankit train`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "train",
        help="train a model of any task",
        description="Train a GAN of any task (--task) and write a model directory: config.json, "
        "weights, checkpoints for `gankit resume`, samples and report.md.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
