"""``gankit apply``: run any translator on one image file, or on every image below a folder.

gankit apply runs/edges sketch.png -o photo.png
gankit apply runs/edges ./edges -o ./digits                  # a folder: same relative names, .png
gankit apply runs/digits2mnist ./mnist -o ./digits --direction BA
gankit apply runs/sr photo.png -o photo_x4.png --self-ensemble
gankit apply runs/a8 ./images -o scores.csv                 # an anomaly detector: CSV of scores
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gankit.commands.options import add_backend_option, load_model
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes
from gankit.tasks.base import Translator

# Options only some translators' apply() takes: (flag, keyword, argparse settings).
APPLY_OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("--tile", "tile", {"type": int, "help": "LR pixels per tile (default 128)"}),
    ("--overlap", "overlap", {"type": int, "help": "context pixels around each tile (default 16)"}),
    (
        "--self-ensemble",
        "self_ensemble",
        {
            "action": "store_true",
            "default": None,
            "help": "average the 8 flips/rotations (8x slower; helps PSNR-oriented models)",
        },
    ),
    ("--score", "score", {"help": "anomaly detectors: the score, e.g. knn or pixel+knn"}),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option of ``gankit apply`` (the deprecated spellings reuse them)."""
    parser.add_argument(
        "model",
        help="model directory of a translator (or, with --backend onnxruntime, its .onnx file)",
    )
    add_backend_option(parser)
    parser.add_argument("input", help="an image file, or a folder of images (searched recursively)")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="a .png file for one image; a folder for a folder (same relative names, .png)",
    )
    parser.add_argument(
        "--direction",
        default=None,
        help="which way to translate (CycleGAN: AB or BA; default: the model's first)",
    )
    parser.add_argument("--no-ema", action="store_true", help="use the raw generator, not its EMA")
    parser.add_argument(
        "--batch-size", type=int, default=64, help="images per forward pass (default 64)"
    )
    parser.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="models trained at one size (pix2pix, CycleGAN): images are centre-cropped square "
        "and resized to this (default: the training size)",
    )
    group = parser.add_argument_group(
        "options of some translators (super-resolution, anomaly detectors)"
    )
    for flag, keyword, settings in APPLY_OPTIONS:
        group.add_argument(flag, dest=keyword, **settings)
    group.add_argument(
        "--fpr",
        type=float,
        default=None,
        help="anomaly detectors: flag inputs above the threshold that flags this share of "
        "held-out normals (default 0.01)",
    )


def _apply_options(translator: Translator, args: argparse.Namespace) -> dict[str, Any]:
    """The options given that this translator's ``apply`` takes; any other is an error."""
    takes = inspect.signature(type(translator).apply).parameters
    options = {"batch_size": args.batch_size} if "batch_size" in takes else {}
    for flag, keyword, _ in APPLY_OPTIONS:
        value = getattr(args, keyword)
        if value is None:
            continue
        if keyword not in takes:
            raise GankitError(f"a {translator.task!r} model does not take {flag}; drop it")
        options[keyword] = value
    return options


def _reader(
    translator: Translator, direction: str, resolution: int | None
) -> Callable[[list[Path]], Any]:
    """How a chunk of image files becomes the translator's input (:mod:`gankit.tasks.inputs`)."""
    from gankit.data.folder import read_image
    from gankit.tasks.inputs import fixed_size, translator_inputs

    if fixed_size(translator) is None and resolution is not None:
        raise GankitError(f"a {translator.task!r} model takes any image size; drop --resolution")
    channels = translator.input_channels(direction)
    return lambda paths: translator_inputs(
        translator, [read_image(path, channels) for path in paths], resolution
    )


def _pairs(source: Path, output: Path) -> list[tuple[Path, Path]]:
    """(input image, output PNG) for one file or every image below a folder."""
    from gankit.data.folder import find_images

    if source.is_file():
        if output.suffix.lower() != ".png":
            raise GankitError(f"-o {output}: gankit apply writes PNG files; name it *.png")
        return [(source, output)]
    paths = find_images(source)
    if not paths:
        raise GankitError(f"'{source}' holds no images to translate")
    targets: dict[Path, Path] = {}
    for path in paths:
        target = (output / path.relative_to(source)).with_suffix(".png")
        if target in targets:
            raise GankitError(
                f"{targets[target]} and {path} would both be written to {target}; rename one"
            )
        targets[target] = path
    return [(path, target) for target, path in targets.items()]


def run(args: argparse.Namespace) -> None:
    """Translate the input file or folder into ``-o`` with the model's ``apply``."""
    from gankit.viz import png_bytes

    if args.output is None:
        raise GankitError("say where the outputs go: -o out.png for a file, -o FOLDER for a folder")
    if args.batch_size < 1:
        raise GankitError(f"--batch-size must be at least 1, got {args.batch_size}")
    translator = load_model(args.model, Translator, "apply", args.backend)
    source = Path(args.input).expanduser()
    if not source.exists():
        raise GankitError(f"input {source} not found; pass an image file or a folder of images")
    if translator.describe().get("output") == "scores":
        _write_scores(translator, source, args)
        return
    if args.fpr is not None:
        raise GankitError(f"a {translator.task!r} model does not take --fpr; drop it")
    pairs = _pairs(source, Path(args.output).expanduser())
    direction = translator.check_direction(args.direction)
    options = _apply_options(translator, args)
    read = _reader(translator, direction, args.resolution)
    for start in range(0, len(pairs), args.batch_size):
        chunk = pairs[start : start + args.batch_size]
        outputs = translator.apply(
            read([path for path, _ in chunk]), direction=direction, ema=not args.no_ema, **options
        )
        for (_, target), output in zip(chunk, outputs, strict=True):
            atomic_write_bytes(target, png_bytes(output))
    if source.is_file():
        height, width = outputs[0].shape[-2:]
        print(f"wrote {args.output} ({width}x{height})")
    else:
        print(f"translated {len(pairs)} images from {source} into {args.output}")


def _write_scores(detector: Translator, source: Path, args: argparse.Namespace) -> None:
    """An anomaly detector: one score per image below ``source`` (or per row of a CSV table)
    into the CSV file ``-o``, with whether it lies above the ``--fpr`` threshold."""
    import pandas as pd
    import torch

    output = Path(args.output).expanduser()
    if output.suffix.lower() != ".csv":
        raise GankitError(
            f"-o {output}: a detector writes one score per input as CSV; name it .csv"
        )
    fpr = 0.01 if args.fpr is None else args.fpr
    threshold = detector.threshold(fpr, score=args.score)
    options = _apply_options(detector, args)
    if detector.describe()["input"] == "table":
        if source.suffix.lower() != ".csv" or not source.is_file():
            raise GankitError(f"{source}: this detector scores table rows; pass a CSV file")
        frame = pd.read_csv(source)
        scores = detector.apply(frame, **options)
    else:
        from gankit.data.folder import find_images

        paths = [source] if source.is_file() else find_images(source)
        if not paths:
            raise GankitError(f"'{source}' holds no images to score")
        read = _reader(detector, detector.check_direction(None), args.resolution)
        chunks = range(0, len(paths), args.batch_size)
        scores = torch.cat(
            [detector.apply(read(paths[i : i + args.batch_size]), **options) for i in chunks]
        )
        names = [p.name if source.is_file() else str(p.relative_to(source)) for p in paths]
        frame = pd.DataFrame({"path": names})
    frame = frame.assign(score=scores.numpy(), anomalous=(scores > threshold).numpy())
    atomic_write_bytes(output, frame.to_csv(index=False).encode())
    flagged = int(frame["anomalous"].sum())
    print(
        f"scored {len(frame)} inputs into {output}: {flagged} above the threshold "
        f"{threshold:.3f} (it flags {fpr:.2%} of held-out normals)"
    )


def add_parser(sub: Any) -> None:
    """Add ``gankit apply`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "apply",
        help="run a translator on an image or a folder (pix2pix, CycleGAN, super-resolution, "
        "anomaly scores)",
        description="Translate one image file into -o FILE.png, or every image below a folder "
        "into -o FOLDER with the same relative names (PNG). Generators use `gankit sample`.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
