"""``gankit upscale``: super-resolve an image with a trained model, or train one.

gankit upscale runs/sr photo.png -o photo_x4.png          # apply (tiled, any size)
gankit upscale runs/psnr photo.png -o x4.png --self-ensemble   # average 8 flips/rotations
gankit upscale train --scale 4 --out runs/sr               # train on the shipped photos
gankit upscale train --data ./my_photos --preset psnr      # or on a folder of HR images
gankit upscale train --start-from runs/psnr --set model.pretrain_steps=0 --out runs/gan
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gankit.cli import add_set_option, parse_set
from gankit.errors import GankitError

_TRAIN = "train"


def _train(args: argparse.Namespace) -> None:
    from gankit.tasks.superres import SHIPPED, SuperResolution

    if args.input is not None:
        raise GankitError(
            f"`gankit upscale train` takes no input image (got {args.input!r}); pass the "
            "training images with --data"
        )
    overrides = parse_set(args.set)
    model = {k[len("model.") :]: v for k, v in overrides.items() if k.startswith("model.")}
    train = {k: v for k, v in overrides.items() if not k.startswith("model.")}
    if args.pretrain_steps is not None:
        model["pretrain_steps"] = args.pretrain_steps
    for name in ("batch_size", "seed", "device"):
        if getattr(args, name) is not None:
            train[name] = getattr(args, name)
    gan = SuperResolution(args.preset, scale=args.scale, patch=args.patch, model=model, **train)
    if args.start_from is not None:
        gan.start_from(args.start_from)
    out = args.out or "runs/superres"
    gan.fit(
        args.data or SHIPPED,
        steps=args.steps,
        out=out,
        quiet=args.quiet,
        max_seconds=args.max_seconds,
    )
    print(
        f"trained {gan.history['steps']} steps in {gan.history['seconds_this_run']:.0f} s; "
        f"model and report in {out}/ (see {out}/report.md); "
        f"upscale with: gankit upscale {out} in.png -o out.png"
    )


def _apply(args: argparse.Namespace) -> None:
    from gankit.io import atomic_write_bytes
    from gankit.tasks import load
    from gankit.viz import png_bytes

    if args.input is None or args.output is None:
        raise GankitError("usage: gankit upscale MODEL_DIR in.png -o out.png")
    if Path(args.output).suffix.lower() != ".png":
        raise GankitError(f"-o {args.output}: gankit upscale writes PNG files; name it *.png")
    gan = load(args.model)
    if gan.task != "superres":
        raise GankitError(
            f"{args.model} holds a {gan.task!r} model, not a super-resolution one; train one "
            "with `gankit upscale train`"
        )
    image = gan.upscale(
        args.input,
        tile=args.tile,
        overlap=args.overlap,
        ema=not args.no_ema,
        self_ensemble=args.self_ensemble,
    )
    atomic_write_bytes(args.output, png_bytes(image))
    print(f"wrote {args.output} ({image.shape[2]}x{image.shape[1]}, x{gan.config.scale})")


def _run(args: argparse.Namespace) -> None:
    (_train if args.model == _TRAIN else _apply)(args)


def add_parser(sub: Any) -> None:
    """Add ``gankit upscale`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "upscale",
        help="super-resolution: upscale an image x2/x4, or train an upscaler",
        description="`gankit upscale MODEL_DIR in.png -o out.png` upscales one image (tiled, any "
        "size); `gankit upscale train --scale 4 --out runs/sr` trains an ESRGAN-style model "
        "on the photographs installed packages ship (or --data FOLDER of HR images).",
    )
    parser.add_argument("model", help="model directory, or the word train")
    parser.add_argument("input", nargs="?", default=None, help="image to upscale (PNG/JPEG/...)")
    parser.add_argument("-o", "--output", default=None, help="PNG file to write")
    parser.add_argument("--tile", type=int, default=128, help="LR pixels per tile (default 128)")
    parser.add_argument(
        "--overlap", type=int, default=16, help="context pixels around each tile (default 16)"
    )
    parser.add_argument("--no-ema", action="store_true", help="use the raw generator, not its EMA")
    parser.add_argument(
        "--self-ensemble",
        action="store_true",
        help="average the 8 flips/rotations (8x slower; helps PSNR-oriented models)",
    )
    train = parser.add_argument_group("train options")
    train.add_argument("--data", default=None, help="photos (default, shipped) or an image folder")
    train.add_argument("--scale", type=int, default=None, choices=(2, 4), help="default 4")
    train.add_argument("--preset", default=None, help="esrgan (default) or psnr")
    train.add_argument("--out", default=None, help="run directory (default runs/superres)")
    train.add_argument("--steps", type=int, default=None, help="G updates (preset default)")
    train.add_argument(
        "--pretrain-steps", type=int, default=None, help="L1-only steps before the GAN phase"
    )
    train.add_argument(
        "--start-from",
        default=None,
        metavar="MODEL_DIR",
        help="initialise G from a trained model (ESRGAN: the GAN phase starts from a psnr model)",
    )
    train.add_argument("--patch", type=int, default=None, help="HR patch side (default 96)")
    train.add_argument("--batch-size", type=int, default=None, help="patches per update")
    train.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    train.add_argument("--device", default=None, help="auto, cpu, cuda or mps")
    train.add_argument("--max-seconds", type=float, default=None, help="wall-clock budget")
    add_set_option(
        train, "any training option or model.KEY=VALUE (e.g. model.perceptual=vgg19.safetensors)"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run)
