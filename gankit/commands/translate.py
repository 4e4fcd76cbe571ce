"""``gankit translate``: train an image-to-image translator, or apply one to a folder.

gankit translate train --task pix2pix --data mnist-edges --out runs/edges
gankit translate train --task pix2pix --data ./facades --resolution 286 --crop 256 --channels 3,3
gankit translate train --task cyclegan --data digits-mnist --out runs/digits2mnist
gankit translate apply runs/edges ./edges ./digits                # every image, same file names
gankit translate apply runs/digits2mnist ./mnist ./digits --direction BA
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gankit.cli import add_set_option, parse_set
from gankit.errors import GankitError

_TASKS = ("pix2pix", "cyclegan")


def _channels(text: str) -> tuple[int, int]:
    """``"1,3"`` -> (1, 3): source and target channels."""
    parts = text.split(",")
    if len(parts) != 2 or any(p.strip() not in ("1", "3") for p in parts):
        raise argparse.ArgumentTypeError(f"expected two of 1/3 like 1,3; got {text!r}")
    return int(parts[0]), int(parts[1])


def _train(args: argparse.Namespace) -> None:
    from gankit.tasks import TASKS

    overrides = parse_set(args.set)
    model = {k[len("model.") :]: v for k, v in overrides.items() if k.startswith("model.")}
    train = {k: v for k, v in overrides.items() if not k.startswith("model.")}
    for name in ("batch_size", "seed", "device", "loss"):
        if getattr(args, name) is not None:
            train[name] = getattr(args, name)
    options: dict[str, Any] = {"resolution": args.resolution, "channels": args.channels}
    if args.task == "pix2pix":
        options["crop"] = args.crop
    elif args.crop is not None:
        raise GankitError("--crop (random training crops) is a pix2pix option; drop it")
    translator = TASKS[args.task](args.preset, model=model, **options, **train)
    out = args.out or f"runs/{args.task}"
    translator.fit(
        args.data, steps=args.steps, out=out, quiet=args.quiet, max_seconds=args.max_seconds
    )
    print(
        f"trained {translator.history['steps']} steps in "
        f"{translator.history['seconds_this_run']:.0f} s; model and report in {out}/ (see "
        f"{out}/report.md); translate a folder with: gankit translate apply {out} IN_DIR OUT_DIR"
    )


def _apply(args: argparse.Namespace) -> None:
    import torch

    from gankit.data.folder import find_images
    from gankit.data.paired import read_image, square_resize
    from gankit.io import atomic_write_bytes
    from gankit.tasks import load
    from gankit.viz import png_bytes

    translator = load(args.model)
    if translator.task not in _TASKS:
        raise GankitError(
            f"{args.model} holds a {translator.task!r} model, not a translator "
            f"({', '.join(_TASKS)}); use `gankit sample` or `gankit upscale` for it"
        )
    in_dir, out_dir = Path(args.in_dir).expanduser(), Path(args.out_dir).expanduser()
    if not in_dir.is_dir():
        raise GankitError(f"input folder '{in_dir}' does not exist; pass a folder of images")
    paths = find_images(in_dir)
    if not paths:
        raise GankitError(f"'{in_dir}' holds no images to translate")
    if translator.task == "cyclegan":
        index = 0 if args.direction == "AB" else 1
        channels = translator.data_info["channels"][index]
        kwargs = {"direction": args.direction}
    else:
        if args.direction != "AB":
            raise GankitError("--direction BA needs a CycleGAN; pix2pix translates A -> B only")
        channels = translator.data_info["channels"][0]
        kwargs = {}
    resolution = args.resolution or translator.data_info["resolution"]
    if args.batch_size < 1:
        raise GankitError(f"--batch-size must be at least 1, got {args.batch_size}")
    targets: dict[Path, Path] = {}
    for path in paths:
        target = (out_dir / path.relative_to(in_dir)).with_suffix(".png")
        if target in targets:
            raise GankitError(
                f"{targets[target]} and {path} would both be written to {target}; rename one"
            )
        targets[target] = path
    done = 0
    for start in range(0, len(paths), args.batch_size):
        chunk = paths[start : start + args.batch_size]
        images = [square_resize(read_image(p, channels)[None], resolution) for p in chunk]
        outputs = translator.apply(torch.cat(images), ema=not args.no_ema, **kwargs)
        for path, output in zip(chunk, outputs, strict=True):
            atomic_write_bytes(
                (out_dir / path.relative_to(in_dir)).with_suffix(".png"), png_bytes(output)
            )
        done += len(chunk)
    print(f"translated {done} images from {in_dir} into {out_dir} ({resolution} px)")


def add_parser(sub: Any) -> None:
    """Add ``gankit translate train|apply`` to the ``gankit`` sub-parsers ``sub``."""
    translate = sub.add_parser(
        "translate",
        help="image-to-image translation: train pix2pix / CycleGAN, apply to a folder",
        description="Train a paired (pix2pix) or unpaired (CycleGAN) image translator, or "
        "translate a folder of images with one.",
    )
    commands = translate.add_subparsers(dest="translate_command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train a translator",
        description="Train pix2pix on aligned pairs or CycleGAN on two unpaired domains.",
    )
    train.add_argument("--task", required=True, choices=_TASKS, help="paired or unpaired")
    train.add_argument(
        "--data",
        required=True,
        help="pix2pix: mnist-edges, photos-colour, or a folder with A/ and B/ (matching names) or "
        "side-by-side AB images; cyclegan: digits-mnist, or a folder with A/ and B/ (or trainA/ "
        "and trainB/)",
    )
    train.add_argument("--out", default=None, help="run directory (default: runs/TASK)")
    train.add_argument("--preset", default=None, help="see `gankit presets`")
    train.add_argument("--steps", type=int, default=None, help="G updates (preset default)")
    train.add_argument("--max-seconds", type=float, default=None, help="wall-clock budget")
    train.add_argument(
        "--resolution", type=int, default=None, help="size folder images load at (default 32)"
    )
    train.add_argument("--crop", type=int, default=None, help="pix2pix random crop size")
    train.add_argument(
        "--channels",
        type=_channels,
        default=None,
        help="channels of A and B for folder data, e.g. 1,3 (pix2pix default 3,3; cyclegan: "
        "each folder's own)",
    )
    train.add_argument("--batch-size", type=int, default=None, help="pairs per update")
    train.add_argument("--loss", default=None, help="adversarial loss (preset default)")
    train.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    train.add_argument("--device", default=None, help="auto, cpu, cuda or mps")
    add_set_option(train, "any training option or model.KEY=VALUE (e.g. model.l1_weight=50)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_train)

    apply = commands.add_parser(
        "apply",
        help="translate every image in a folder",
        description="Translate every image below IN_DIR into OUT_DIR (same relative names, PNG).",
    )
    apply.add_argument("model", help="model directory written by `gankit translate train`")
    apply.add_argument("in_dir", help="folder of source images (searched recursively)")
    apply.add_argument("out_dir", help="folder for the translations")
    apply.add_argument(
        "--direction", default="AB", choices=("AB", "BA"), help="CycleGAN direction (default AB)"
    )
    apply.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="images are centre-cropped square and resized to this (default: training size)",
    )
    apply.add_argument("--batch-size", type=int, default=64, help="images per forward pass")
    apply.add_argument("--no-ema", action="store_true", help="use the raw generator, not its EMA")
    apply.set_defaults(func=_apply)
