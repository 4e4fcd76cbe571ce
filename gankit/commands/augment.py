"""``gankit augment``: synthetic data for a classifier (few labelled images, imbalanced tables).

gankit augment images --data ./few -o ./augmented --fraction 0.75         # real + synthetic
gankit augment images --data mnist --labels-per-class 10 -o ./synth -n 5000   # synthetic only
gankit augment table train.csv --target income -o balanced.csv            # oversample minority
gankit augment table train.csv --target income -o b.csv --report r.md --test test.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gankit.commands.options import add_set_option, parse_set
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes, read_json
from gankit.synthetic import augment_images, augment_table, write_image_set
from gankit.synthetic.images import DEFAULT_STEPS, labelled_images, subset
from gankit.synthetic.report import image_report, table_report
from gankit.synthetic.tables import read_table


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, help="where the augmented data goes")
    parser.add_argument("--preset", default=None, help="the GAN's preset (`gankit presets`)")
    parser.add_argument("--steps", type=int, default=None, help="GAN training steps")
    parser.add_argument("--seed", type=int, default=0, help="seeds training and sampling")
    parser.add_argument(
        "--model-out", default=None, help="also keep the trained GAN as a model directory here"
    )
    parser.add_argument(
        "--report",
        default=None,
        metavar="FILE.md",
        help="also write a report: the same classifier trained on real, real + classic "
        "augmentation, real + gankit and real + both, scored on --test, with a recommendation",
    )
    parser.add_argument("--test", default=None, help="labelled data the --report scores on")
    parser.add_argument(
        "--report-seeds", type=int, default=3, help="classifier seeds in the report (default 3)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_set_option(parser)


def _fit_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.report and not args.test:
        raise GankitError(
            "--report needs --test DATA: held-out labelled data the classifiers are scored on"
        )
    if args.report_seeds < 1:
        raise GankitError(f"--report-seeds must be at least 1, got {args.report_seeds}")
    train, model = parse_set(args.set)
    options = {"out": args.model_out, "quiet": args.quiet, **train}
    if args.preset is not None:
        options["preset"] = args.preset
    if args.steps is not None:
        options["steps"] = args.steps
    if model:
        options["model"] = model
    return options


def run_images(args: argparse.Namespace) -> None:
    """Train a class-conditional GAN on the labelled images and write the augmented folder."""
    options = _fit_options(args)
    options.setdefault("steps", DEFAULT_STEPS)
    result = augment_images(
        args.data,
        labels_per_class=args.labels_per_class,
        synthetic_fraction=args.fraction,
        n=args.n,
        resolution=args.resolution,
        seed=args.seed,
        **options,
    )
    folder = write_image_set(result, args.output)
    print(
        f"wrote {result.real_count} real and {result.synthetic_count} synthetic images to "
        f"{folder}/ (one sub-folder per class)"
    )
    if args.report:
        synthetic = subset(result.data, result.synthetic)
        test = labelled_images(args.test, result.data.resolution)
        report = image_report(result.real, synthetic, test, seeds=_seeds(args))
        _write_report(args.report, report)


def run_table(args: argparse.Namespace) -> None:
    """Oversample the rare classes of --target and write the augmented CSV."""
    options = _fit_options(args)
    if args.discrete is not None:
        options["discrete_columns"] = [name.strip() for name in args.discrete.split(",")]
    if args.metadata is not None:
        options["metadata"] = read_json(args.metadata)
    result = augment_table(args.data, args.target, ratio=args.ratio, seed=args.seed, **options)
    atomic_write_bytes(args.output, result.data.to_csv(index=False).encode())
    print(
        f"wrote {result.real_count} real and {result.synthetic_count} synthetic rows to "
        f"{args.output}"
    )
    if args.report:
        synthetic = result.data.iloc[result.real_count :]
        test = read_table(args.test)
        report = table_report(result.real, synthetic, test, args.target, seeds=_seeds(args))
        _write_report(args.report, report)


def _seeds(args: argparse.Namespace) -> list[int]:
    return list(range(args.report_seeds))


def _write_report(path: str, text: str) -> None:
    atomic_write_bytes(Path(path), text.encode())
    verdict = next(line for line in text.splitlines() if line.startswith("**Recommendation"))
    print(f"report in {path}: {verdict.removeprefix('**Recommendation:** ')}")


def add_parser(sub: Any) -> None:
    """Add ``gankit augment images|table`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "augment",
        help="synthetic data for a classifier: few labelled images, imbalanced tables",
        description="Train a conditional GAN on your data and write an augmented data set: "
        "`images` for few labelled images, `table` to oversample the rare classes of a column. "
        "--report says whether the synthetic data helped a classifier. See docs/augment.md.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    images = kinds.add_parser(
        "images",
        help="few labelled images -> a synthetic or mixed set (class sub-folders of PNGs)",
        description="Train a class-conditional ImageGAN on labelled images and write a folder "
        "with one sub-folder per class: real-*.png and synthetic-*.png.",
    )
    images.add_argument(
        "--data",
        required=True,
        help="labelled images: mnist-5k, digits, mnist or a folder with one sub-folder per class",
    )
    images.add_argument(
        "--labels-per-class",
        type=int,
        default=None,
        metavar="K",
        help="keep K random labelled images per class (default: all)",
    )
    images.add_argument(
        "--fraction",
        type=float,
        default=1.0,
        help="share of synthetic images in the output, in (0, 1]; 1 (default): synthetic only",
    )
    images.add_argument(
        "-n", type=int, default=None, help="size of a synthetic-only set (default: the real's)"
    )
    images.add_argument("--resolution", type=int, default=None, help="image size (default 32)")
    _common(images)
    images.set_defaults(func=run_images)

    table = kinds.add_parser(
        "table",
        help="imbalanced table -> the rare classes of --target oversampled (a CSV)",
        description="Fit a TabularGAN with --target named and add rows of the rare classes "
        "until each has --ratio times the largest class's rows; columns, dtypes and value "
        "ranges are kept.",
    )
    table.add_argument("data", help="the table, a CSV file with a header")
    table.add_argument("--target", required=True, help="the class column to balance")
    table.add_argument(
        "--ratio",
        type=float,
        default=1.0,
        help="fill each class up to this share of the largest class, in (0, 1] (default 1)",
    )
    table.add_argument(
        "--discrete", default=None, metavar="COLUMNS", help="comma-separated categorical columns"
    )
    table.add_argument(
        "--metadata", default=None, metavar="FILE", help='JSON file {"column": "kind"}'
    )
    _common(table)
    table.set_defaults(func=run_table)
