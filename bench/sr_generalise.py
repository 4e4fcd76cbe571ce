"""Does the PSNR model generalise? x4 PSNR-Y/SSIM-Y gain over bicubic on photos never trained on.

The model is what ``gankit upscale train --preset psnr --scale 4`` trains (the ``psnr`` preset,
defaults untouched but the step count), on the photographs installed packages ship.

Two splits, never mixed:

- ``--split validation`` (tuning): each contender trains on the shipped photos less
  :data:`VALIDATION` and is scored on those held-out photos. Contenders are ``PHOTOS:ZOOM``,
  PHOTOS ``legacy`` (the 16 scikit-image/scikit-learn/matplotlib photos, before the ``srdata``
  extra) or ``all`` (every available one), ZOOM the largest random shrink of the HR sources.
- ``--split test`` (the recorded result, read once): the default recipe trains on every shipped
  photo, once per seed, and is scored on Set5 and Set14 (``$GANKIT_DATA``) and on the three
  photographs sporco ships (a Kodak photo and two Waterloo BragZone ones), none trained on.

Each training run is one child process, measured alone under bench/protocol.py.

    nohup python bench/sr_generalise.py --split validation --steps 500 > /tmp/v.log 2>&1 &
    nohup python bench/sr_generalise.py --split test --steps 1000 > /tmp/t.log 2>&1 &
    python bench/sr_generalise.py --steps 5 --seeds 1 --no-record   # a quick look
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402
from _record import ROOT  # noqa: E402

from gankit.data.superres import (  # noqa: E402
    ORIGINAL_PHOTOS,
    SRPatches,
    available_training_images,
    load_benchmark,
    training_images,
)
from gankit.tasks.superres import ZOOM, SuperResolution, evaluate_benchmark  # noqa: E402

OUT = ROOT / "bench" / "out" / "sr_generalise"
SCALE = 4
# Colour photographs held out of training for tuning (a cat, a cup, a temple).
VALIDATION = ("chelsea", "coffee", "china")
TEST_SETS = ("Set5", "Set14", "sporco")


def train(args: argparse.Namespace) -> dict:
    """One training run in this (child) process; returns its scores per evaluation set."""
    torch.set_num_threads(args.threads)
    photos, zoom = args.contender.split(":")
    out = args.out / f"{args.split}-{photos}-zoom{zoom}-seed{args.seed}"
    shutil.rmtree(out, ignore_errors=True)
    model = SuperResolution("psnr", scale=SCALE, zoom=float(zoom), steps=args.steps, seed=args.seed)
    if args.split == "test":
        data = "photos"  # exactly what the CLI trains on
        evaluation = {name: load_benchmark(name) for name in TEST_SETS}
    else:
        names = list(ORIGINAL_PHOTOS) if photos == "legacy" else available_training_images()
        names = [n for n in names if n not in VALIDATION]
        data = SRPatches.from_images(training_images(names), SCALE, 96, "photos", float(zoom))
        evaluation = {
            "validation": list(zip(VALIDATION, training_images(list(VALIDATION)), strict=True))
        }
    model.fit(data, out=out, quiet=True)
    scores = {name: evaluate_benchmark(model, images) for name, images in evaluation.items()}
    steps = model.history["steps"]
    sizes = {name: len(images) for name, images in evaluation.items()}
    return {
        "scores": scores,
        "sizes": sizes,
        "steps": steps,
        "images_seen": steps * model.train_config.batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("validation", "test"), default="test")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3, help="test split: seeds 0, 1, ...")
    parser.add_argument(
        "--contenders",
        nargs="+",
        default=["legacy:1", "all:1", "all:2", "all:3"],
        help="validation split: PHOTOS:ZOOM, PHOTOS legacy or all (one seed each)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT, help="model directories")
    parser.add_argument("--contender", help=argparse.SUPPRESS)  # a child
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.contender:
        protocol.emit(train(args))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    child = [sys.executable, __file__, f"--out={args.out}", f"--threads={args.threads}"]
    child += [f"--split={args.split}", f"--steps={args.steps}"]
    if args.split == "test":
        runs = [(f"all:{ZOOM:g}", seed) for seed in range(args.seeds)]
        title = (
            f"Super-resolution x4 that generalises: the psnr preset ({args.steps} steps) on "
            f"Set5 / Set14 / sporco photos, gain over bicubic ({args.seeds} seeds)"
        )
    else:
        runs = [(contender, 0) for contender in args.contenders]
        title = (
            f"Super-resolution x4, validation split: training photos and zoom ({args.steps} "
            f"steps, {len(runs)} contenders, 1 seed each)"
        )
    rec = protocol.Recording(title, args)
    results = []
    for contender, seed in runs:
        m = rec.run(
            f"psnr preset, photos {contender.replace(':', ', zoom ')}",
            [*child, f"--contender={contender}", f"--seed={seed}"],
            seed=seed,
            threads=args.threads,
        )
        results.append((contender, seed, m.result["scores"]))
    rec.write(summary(args, results, m.result["sizes"]))


def summary(args: argparse.Namespace, results: list[tuple[str, int, dict]], sizes: dict) -> str:
    sets = list(results[0][2])
    counts = "; ".join(f"{name}: {sizes[name]} images" for name in sets)
    lines = [
        "| run | seed | " + " | ".join(f"{s} PSNR-Y (gain) | {s} SSIM-Y" for s in sets) + " |",
        "|---|---:|" + "---:|---:|" * len(sets),
    ]
    bicubic = results[0][2]
    lines.append(
        "| bicubic | – | "
        + " | ".join(
            f"{bicubic[s]['bicubic_psnr']:.2f} | {bicubic[s]['bicubic_ssim']:.4f}" for s in sets
        )
        + " |"
    )
    for contender, seed, scores in results:
        cells = [
            f"{scores[s]['psnr']:.2f} ({scores[s]['psnr'] - scores[s]['bicubic_psnr']:+.2f}) | "
            f"{scores[s]['ssim']:.4f}"
            for s in sets
        ]
        lines.append(
            f"| photos {contender.replace(':', ', zoom ')} | {seed} | " + " | ".join(cells) + " |"
        )
    gains = {
        s: [scores[s]["psnr"] - scores[s]["bicubic_psnr"] for _, _, scores in results] for s in sets
    }
    headline = (
        "PSNR-Y gain over bicubic, mean over seeds: "
        + "; ".join(f"{s} {protocol.mean_std(gains[s], 2)} dB" for s in sets)
        + "."
        if args.split == "test"
        else "Contenders differ only in training photos and zoom; one seed each (tuning only)."
    )
    photos = available_training_images()
    if args.split == "validation":
        photos = [n for n in photos if n not in VALIDATION]
    return "\n".join(
        [
            f"x{SCALE}, PSNR-Y / SSIM-Y (BT.601 Y, border crop {SCALE}) of the `psnr` preset "
            f"trained {args.steps} steps (batch 16, 96 px HR patches, Adam lr 1e-3 constant, "
            "1 thread); bicubic is the same degradation's baseline, scored in the same run.",
            "",
            headline,
            "",
            *lines,
            "",
            f"- Evaluation sets ({counts}), never trained on"
            + (
                f": the validation photos {', '.join(VALIDATION)} are held out of every "
                "contender's training photos."
                if args.split == "validation"
                else "; sporco = kodim23, sail, tulips from the sporco package's data folder."
            ),
            f"- Training photos (`all`, {len(photos)}): {', '.join(photos)}; `legacy` = the "
            "first 16 of `gankit.data.superres.TRAINING_IMAGES` less the held-out ones.",
        ]
    )


if __name__ == "__main__":
    main()
