"""``gankit sample``: draw samples from any generator and write them as the task's output.

gankit sample runs/digits -n 64 -o grid.png                 # images: a PNG grid ...
gankit sample runs/digits -n 64 -o pngs/                    # ... or one PNG per sample
gankit sample runs/cond --condition 7 -o sevens.png         # a class (alias --label)
gankit sample runs/text --condition "a thick zero" -o z.png # a sentence (alias --text)
gankit sample runs/adult -n 10000 --condition sex=Female -o rows.csv   # table rows
gankit sample runs/ring -n 2000 -o points.png               # 2-D points: a scatter plot
gankit sample runs/cond --interpolate 3:8 -o walk.gif       # walks through G's inputs
gankit sample runs/bark --size 512x512 --tileable -o tiles/ # single-image: any size, seamless
gankit sample runs/digits -o pngs/ --mark mark.key          # with an invisible provenance mark
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gankit.commands.options import add_backend_option, load_model
from gankit.commands.writers import WRITERS, Target
from gankit.errors import GankitError
from gankit.provenance import read_key
from gankit.tasks.base import Generator

DEFAULT_N = 64


# The spellings of --condition that earlier releases had, and the condition kind each is for.
CONDITION_ALIASES = {"label": "class", "text": "text"}
# Options of some generators' generate() (Generator.generate_options) that have a flag here.
GENERATE_OPTIONS = ("calibrate", "size", "tileable")


def _size(text: str) -> tuple[int, int]:
    """``"512x384"`` -> (512, 384): height x width in pixels."""
    height, sep, width = text.lower().partition("x")
    if not sep or not height.strip().isdigit() or not width.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH in pixels like 512x512, got {text!r}"
        )
    return int(height), int(width)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of ``gankit sample`` (``gankit tabular sample`` reuses them)."""
    parser.add_argument(
        "model",
        help="model directory of a generator (or, with --backend "
        "onnxruntime, its exported .onnx file)",
    )
    add_backend_option(parser)
    parser.add_argument(
        "-n", type=int, default=DEFAULT_N, help=f"number of samples (default {DEFAULT_N})"
    )
    parser.add_argument("--seed", type=int, default=0, help="same seed, same samples (default 0)")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="where to write: a file (grid.png, points.png, rows.csv) or, without a suffix, a "
        "folder of PNGs; what fits depends on what the model makes",
    )
    parser.add_argument("--grid", default=None, help="images: write one PNG grid here")
    parser.add_argument("--out-dir", default=None, help="images: one PNG per sample in this folder")
    parser.add_argument("--no-ema", action="store_true", help="use the raw generator, not its EMA")
    parser.add_argument(
        "--truncation",
        type=float,
        default=None,
        metavar="T",
        help="draw latents from the normal truncated to [-T, T] (e.g. 1.0): clearer, less "
        "varied samples",
    )
    parser.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="VALUE",
        help="what to draw, as the model takes it (`gankit info` says): a class name or index, a "
        "sentence, or COLUMN=VALUE for a table (repeatable: classes and sentences cycle over the "
        "samples, columns all hold)",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="CLASS",
        help="--condition for class-conditional models (default: every class in turn)",
    )
    parser.add_argument(
        "--text", action="append", default=[], metavar="SENTENCE", help="--condition for text"
    )
    parser.add_argument(
        "--text-encoder",
        default=None,
        metavar="DIR",
        help="text-to-image models: the sentence-transformers directory they were trained with "
        "(default: the recorded one; its weights hash must match)",
    )
    parser.add_argument(
        "--calibrate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="table models: keep rows from a 3x pool so each value goes with each target value "
        "as often as in the table (default: on for a model with a target and no --condition)",
    )
    parser.add_argument(
        "--size",
        type=_size,
        default=None,
        metavar="HxW",
        help="single-image models: the size of each sample, height x width (default: the "
        "training image's)",
    )
    parser.add_argument(
        "--tileable",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="single-image models: samples that tile without seams (circular padding); prints "
        "the measured seam (default: as the model was trained)",
    )
    parser.add_argument(
        "--interpolate",
        default=None,
        metavar="z|FROM:TO",
        help="image models: walk the latent space (z) or blend class FROM into class TO (e.g. "
        "3:8); writes one PNG grid (one row per walk) or, ending in .gif, an animation",
    )
    parser.add_argument(
        "--mark",
        default=None,
        metavar="KEYFILE",
        help="image models: embed the invisible provenance mark of the key in KEYFILE in every "
        "image (`gankit provenance keygen` makes a key; `gankit provenance verify` checks)",
    )
    parser.add_argument("--frames", type=int, default=8, help="--interpolate: steps per walk")
    parser.add_argument("--rows", type=int, default=4, help="--interpolate: number of walks")


def _targets(args: argparse.Namespace) -> list[Target]:
    targets = [Target.from_output(args.output)] if args.output else []
    if args.grid:
        targets.append(Target(Path(args.grid), folder=False))
    if args.out_dir:
        targets.append(Target(Path(args.out_dir), folder=True))
    if not targets:
        raise GankitError(
            "say where samples go: -o FILE or -o FOLDER (or, for images, --grid out.png and/or "
            "--out-dir folder/)"
        )
    return targets


def _condition_values(gan: Generator, args: argparse.Namespace) -> list[str]:
    """--condition and its aliases, checked against what the model is conditioned on."""
    for alias, kind in CONDITION_ALIASES.items():
        if getattr(args, alias) and gan.condition_kind != kind:
            raise GankitError(
                f"--{alias} is for models conditioned on a {kind}; {args.model} takes {_takes(gan)}"
            )
    values = [*args.condition, *args.label, *args.text]
    if values and gan.condition_kind is None:
        raise GankitError(f"{args.model} takes {_takes(gan)}; drop --condition")
    return values


def _takes(gan: Generator) -> str:
    kind = gan.condition_kind
    return "no condition (it is unconditional)" if kind is None else f"a {kind} condition"


def run(args: argparse.Namespace) -> None:
    """Load the generator, draw ``-n`` samples and write them to every target given."""
    targets = _targets(args)
    gan = load_model(args.model, Generator, "sample", args.backend)
    if args.text_encoder is not None:
        if not callable(getattr(gan, "use_encoder", None)):
            raise GankitError(f"--text-encoder is for text-to-image models; {args.model} has none")
        gan.use_encoder(args.text_encoder)
    values = _condition_values(gan, args)
    if args.interpolate is not None:
        if args.mark is not None:
            raise GankitError("--mark applies to sampling, not to --interpolate")
        _interpolate(gan, args, values, targets)
        return
    described = gan.describe()
    writer = WRITERS[described["output"]]
    for target in targets:
        if not writer.takes(target):
            raise GankitError(
                f"{args.model} makes {writer.what}: write them to {writer.usage}; got {target.path}"
            )
    options = {name: getattr(args, name) for name in GENERATE_OPTIONS}
    options = {name: value for name, value in options.items() if value is not None}
    for name in options:
        if name not in gan.generate_options:
            raise GankitError(
                f"--{name} is not an option of a {gan.task!r} model (its options: "
                f"{', '.join(gan.generate_options) or 'none'})"
            )
    if args.mark is not None:
        gan.check_markable()
        options["watermark"] = read_key(args.mark)
    condition = gan.parse_condition(values, args.n)
    samples = gan.generate(
        args.n,
        seed=args.seed,
        condition=condition,
        truncation=args.truncation,
        ema=not args.no_ema,
        **options,
    )
    nrow = gan.grid_columns(condition)
    for target in targets:
        writer.write(samples, target, nrow, described)
    written = " and ".join(str(target.path) for target in targets)
    marked = " with the provenance mark" if args.mark is not None else ""
    print(f"wrote {args.n} samples (seed {args.seed}){marked} to {written}")
    if options.get("tileable"):
        _print_seam(samples)


def _print_seam(images: Any) -> None:
    """The seam check of tileable samples: wrap-around gradient energy against the interior."""
    from gankit.metrics.single_image import seam_ratio

    ratios = seam_ratio(images.float())
    print(
        f"seam energy across the wrap-around border: {float(ratios.mean()):.2f}x the interior "
        f"(worst {float(ratios.max()):.2f}x; about 1 tiles without a visible seam)"
    )


def _interpolate(
    gan: Generator, args: argparse.Namespace, labels: list[str], targets: list[Target]
) -> None:
    """``--interpolate z`` (latent walk) or ``--interpolate A:B`` (class A to class B)."""
    from gankit.tasks.images import save_interpolation

    if not callable(getattr(gan, "interpolate", None)):
        raise GankitError(f"--interpolate needs a model of images; {args.model} makes none")
    if args.truncation is not None:
        raise GankitError("--truncation applies to sampling, not to --interpolate")
    if len(targets) != 1 or targets[0].folder:
        raise GankitError("--interpolate writes one picture: pass -o out.png or out.gif")
    if args.interpolate == "z":
        classes = None
    else:
        first, sep, last = args.interpolate.partition(":")
        if not sep or not first or not last:
            raise GankitError(
                f"--interpolate expects z or FROM:TO (two classes), got {args.interpolate!r}"
            )
        classes = (first, last)
    if len(labels) > 1:
        raise GankitError("--interpolate takes at most one class (the class of a latent walk)")
    frames = gan.interpolate(
        steps=args.frames,
        rows=args.rows,
        seed=args.seed,
        label=labels[0] if labels else None,
        classes=classes,
        ema=not args.no_ema,
    )
    save_interpolation(frames, targets[0].path)
    walks = f"{args.rows} interpolations of {args.frames} frames"
    print(f"wrote {walks} (seed {args.seed}) to {targets[0].path}")


def add_parser(sub: Any) -> None:
    """Add ``gankit sample`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "sample",
        help="draw samples from a generator (images, points, table rows)",
        description="Draw samples from a generator's model directory and write them as what it "
        "makes: images (a PNG grid or a folder of PNGs), 2-D points (a scatter plot or CSV), "
        "table rows (CSV). Translators use `gankit apply`.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
