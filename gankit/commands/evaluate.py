"""``gankit eval`` (score a model directory) and ``gankit extractor`` (the feature extractors
the scores use: train one, or convert the FID Inception weights).

gankit extractor train --data mnist --out extractors/mnist
gankit eval runs/digits --extractor extractors/mnist --metrics fd,kid,pr,dc,modes
gankit extractor convert-inception pt_inception-2015-12-05-6726825d.pth inception.safetensors
gankit eval runs/photos --extractor inception --inception-weights inception.safetensors
gankit eval runs/adult --holdout holdout.csv        # a table's privacy report (docs/privacy.md)

Every result records its protocol (extractor hash, resize, sample counts, seed, reference data).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from gankit.errors import GankitError
from gankit.tasks.evaluation import evaluate_model, evaluate_table_privacy, train_extractor


def _extractor(args: argparse.Namespace) -> Any:
    """--extractor DIR, or --extractor inception (implied by --inception-weights)."""
    from gankit.metrics.extractors import build_extractor

    if args.extractor in (None, "inception") and args.inception_weights:
        return build_extractor("inception", path=args.inception_weights)
    if args.extractor == "inception":
        return build_extractor("inception")  # its error says how to get and pass the weights
    if args.inception_weights:
        raise GankitError("--inception-weights goes with --extractor inception, not a directory")
    if not args.extractor:
        raise GankitError(
            "pass --extractor DIR (make one with `gankit extractor train`) or "
            "--extractor inception --inception-weights PATH"
        )
    return args.extractor


def run_eval(args: argparse.Namespace) -> None:
    """Score the model directory; results go to its metrics.json ('eval') and eval.md."""
    if args.holdout:  # a synthetic table (model directory or CSV): the privacy report
        result = evaluate_table_privacy(
            args.model, args.holdout, args.reference, n=args.n, seed=args.seed
        )
        print(json.dumps(result, indent=1))
        return
    extractor = _extractor(args)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    result = evaluate_model(
        args.model, extractor, metrics, n=args.n, reference=args.reference, seed=args.seed
    )
    shown = {k: v for k, v in result["metrics"].items() if isinstance(v, int | float)}
    print(" ".join(f"{k}={v:.4g}" for k, v in shown.items()))
    print(f"written to {args.model}/metrics.json and {args.model}/eval.md")


def run_train_extractor(args: argparse.Namespace) -> None:
    """Train the classifier whose features the metrics use, as an extractor directory."""
    if not args.data or not args.out:
        raise GankitError("gankit extractor train needs --data (labelled images) and --out DIR")
    extractor = train_extractor(args.data, args.out, steps=args.steps, seed=args.seed)
    print(f"extractor written to {args.out} ({extractor.identity})")


def run_convert_inception(args: argparse.Namespace) -> None:
    """Convert the published FID Inception .pth into safetensors (no pickle code runs)."""
    if args.out is None:
        raise GankitError("usage: gankit extractor convert-inception SRC.pth OUT.safetensors")
    from gankit.io import file_sha256
    from gankit.metrics.inception import convert_inception_weights

    convert_inception_weights(args.src, args.out)
    print(
        f"wrote {args.out} (sha256 {file_sha256(args.out)}); score with "
        f"`gankit eval RUN --extractor inception --inception-weights {args.out}`"
    )


def add_parser(sub: Any) -> None:
    """Add ``gankit eval`` and ``gankit extractor train|convert-inception`` to ``sub``."""
    evaluate = sub.add_parser(
        "eval",
        help="score a model directory",
        description="Score a model directory (writes metrics.json 'eval' and eval.md) with the "
        "features of an extractor: one trained by `gankit extractor train`, or FID's Inception "
        "(`gankit extractor convert-inception`). Every result records its protocol (extractor "
        "hash, resize, sample counts, seed, reference data). Deprecated: `gankit eval "
        "train-extractor` and `gankit eval convert-inception`; use `gankit extractor ...`.",
    )
    evaluate.add_argument("model", help="model directory")
    evaluate.add_argument(
        "--extractor", help="extractor directory (from `gankit extractor train`), or inception"
    )
    evaluate.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="FID Inception-v3 .safetensors (from `gankit extractor convert-inception`); nothing "
        "is downloaded",
    )
    evaluate.add_argument(
        "--metrics",
        default=None,
        help="comma-separated (default fd,kid,pr,dc, plus modes with a classifier extractor)",
    )
    evaluate.add_argument("--n", type=int, default=10_000, help="samples (default 10000)")
    evaluate.add_argument("--reference", help="real data to compare with (default: training data)")
    evaluate.add_argument(
        "--holdout",
        metavar="CSV",
        help="tables: real rows the generator never saw; runs the privacy report (DCR, NNDR, "
        "membership-inference AUC) of MODEL, a tabular model directory or a CSV of synthetic rows "
        "(then --reference TRAIN.csv is required)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    evaluate.set_defaults(func=run_eval)

    extractor = sub.add_parser(
        "extractor",
        help="make the feature extractor `gankit eval` uses",
        description="Train a classifier extractor on labelled images, or convert FID's "
        "Inception weights for --extractor inception.",
    )
    jobs = extractor.add_subparsers(dest="extractor_command", required=True, metavar="COMMAND")
    train = jobs.add_parser(
        "train",
        help="train a classifier extractor on labelled images",
        description="Train the classifier whose features the metrics use; saved as an extractor "
        "directory for `gankit eval --extractor DIR`.",
    )
    train.add_argument("--data", help="labelled data: mnist-5k, digits, mnist, or a folder")
    train.add_argument("--out", help="extractor directory to write")
    train.add_argument("--steps", type=int, default=936, help="training steps (default 936)")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.set_defaults(func=run_train_extractor)
    convert = jobs.add_parser(
        "convert-inception",
        help="convert FID Inception .pth weights to safetensors",
        description="Convert pt_inception-2015-12-05-6726825d.pth (pytorch-fid's weights) into "
        "a .safetensors file for `gankit eval --extractor inception --inception-weights OUT`.",
    )
    convert.add_argument("src", metavar="SRC.pth", help="the published .pth file")
    # Optional for argparse, so that a missing one is gankit's one-line error, not a usage dump.
    convert.add_argument("out", nargs="?", metavar="OUT.safetensors", help="the file to write")
    convert.set_defaults(func=run_convert_inception)
