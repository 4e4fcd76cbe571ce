"""Super-resolution x4 on Set5 and Set14: bicubic vs the PSNR-oriented model vs the GAN model.

Protocol (the SR literature's): each HR image is cropped to a multiple of 4, degraded by
antialiased bicubic downscaling (MATLAB ``imresize``-like, Keys a = -0.5) and quantised to 8
bits; outputs are quantised to 8 bits; PSNR and SSIM are computed on the BT.601 Y channel with a
4-pixel border cropped (``gankit.metrics.image_quality``, checked against scikit-image). The
bicubic baseline is computed in the same run with the same resampling.

Training (CPU, step budgets, so that a shared machine's load changes the time, not the
result): the ``psnr`` preset (L1 only) for ``--psnr-steps`` on patches of the photographs
installed packages ship (``gankit.data.superres.TRAINING_IMAGES``; Set5/Set14 are never trained
on), then the ``esrgan`` recipe's GAN phase (L1 + D-feature perceptual + relativistic
adversarial loss) for ``--gan-steps``, started from the PSNR model as in ESRGAN. ``--max-minutes``
caps each phase as a safety net only. Side-by-side crops go to ``docs/img/sr-*-x4-*.png``.

    nohup python bench/sr_set5.py > /tmp/sr_set5.log 2>&1 &                   # the recorded run
    python bench/sr_set5.py --psnr-steps 20 --gan-steps 10 --no-record        # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402

from gankit.data.superres import (  # noqa: E402
    TRAINING_IMAGES,
    bicubic_upscale,
    degrade,
    load_benchmark,
    modcrop,
)
from gankit.metrics.image_quality import psnr_y, ssim_y  # noqa: E402
from gankit.tasks.superres import SuperResolution  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

OUT = ROOT / "bench" / "out" / "sr_set5"
IMG = ROOT / "docs" / "img"
SCALE = 4
PSNR = "PSNR model (L1)"
# EDSR's "+" inference: the PSNR model on the 8 flips/rotations of each input, averaged.
ENSEMBLE = "PSNR model + x8 self-ensemble"
# (benchmark, image, top, left, size): HR regions with fine detail for the side-by-side crops.
CROPS = (("Set5", "butterfly", 96, 96, 96), ("Set14", "zebra", 180, 200, 96))


def train(args: argparse.Namespace) -> tuple[SuperResolution, SuperResolution]:
    model = {"width": args.width, "blocks": args.blocks}
    common = {"batch_size": 16, "seed": 0, "checkpoint_every": 100, "sample_every": 200}
    psnr_dir, gan_dir = args.out / "psnr", args.out / "gan"
    for path in (psnr_dir, gan_dir):
        shutil.rmtree(path, ignore_errors=True)
    psnr = SuperResolution(
        "psnr",
        scale=SCALE,
        model=model,
        steps=args.psnr_steps,
        lr_schedule=args.psnr_schedule,
        **common,
    )
    psnr.fit("photos", out=psnr_dir, quiet=True, max_seconds=args.max_minutes * 60)
    print(f"psnr model: {psnr.history}", flush=True)
    gan = SuperResolution(
        "esrgan",
        scale=SCALE,
        model={**model, "pretrain_steps": 0},
        steps=args.gan_steps,
        lr_g=args.gan_lr,
        lr_d=args.gan_lr,
        **common,
    ).start_from(psnr_dir)
    gan.fit("photos", out=gan_dir, quiet=True, max_seconds=args.max_minutes * 60)
    print(f"gan model: {gan.history}", flush=True)
    return psnr, gan


def evaluate(models: dict[str, SuperResolution]) -> tuple[dict, dict]:
    """Mean PSNR-Y/SSIM-Y per benchmark and method, and the upscales of the crop images."""
    table: dict[str, dict[str, tuple[float, float]]] = {}
    outputs: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    wanted = {(bench, name) for bench, name, *_ in CROPS}
    for bench in ("Set5", "Set14"):
        scores: dict[str, list[tuple[float, float]]] = {
            m: [] for m in ("bicubic", *models, ENSEMBLE)
        }
        for name, image in load_benchmark(bench):
            hr = modcrop(image, SCALE)
            lr = degrade(hr[None], SCALE)
            results = {"bicubic": bicubic_upscale(lr, SCALE)[0]}
            for label, model in models.items():
                results[label] = model.apply(lr[0].to(torch.uint8))
            results[ENSEMBLE] = models[PSNR].apply(lr[0].to(torch.uint8), self_ensemble=True)
            for label, sr in results.items():
                scores[label].append((psnr_y(sr, hr, SCALE).item(), ssim_y(sr, hr, SCALE).item()))
            if (bench, name) in wanted:
                crops = {k: v for k, v in results.items() if k != ENSEMBLE}  # looks like PSNR's
                outputs[(bench, name)] = {**crops, "ground truth": hr}
        table[bench] = {
            label: (
                sum(p for p, _ in values) / len(values),
                sum(s for _, s in values) / len(values),
            )
            for label, values in scores.items()
        }
    return table, outputs


def save_crops(outputs: dict, folder: Path, tag: str) -> list[Path]:
    paths = []
    for bench, name, top, left, size in CROPS:
        row = [
            images[top : top + size, left : left + size]
            if images.dim() == 2
            else images[:, top : top + size, left : left + size]
            for images in outputs[(bench, name)].values()
        ]
        # Each crop enlarged x2 (nearest) so single pixels stay visible in the docs.
        big = torch.stack(row).repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        path = folder / f"sr-{name}-x4-{tag}.png"
        save_image_grid(big, path, nrow=len(row))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--psnr-steps", type=int, default=2000)
    parser.add_argument("--psnr-schedule", default="cosine", choices=("constant", "cosine"))
    parser.add_argument("--gan-steps", type=int, default=250)
    parser.add_argument("--max-minutes", type=float, default=60.0, help="safety cap per phase")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--gan-lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT, help="model directories, results.json")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    psnr, gan = train(args)
    models = {PSNR: psnr, "GAN model (ESRGAN recipe)": gan}
    table, outputs = evaluate(models)
    tag = f"{args.psnr_steps}+{args.gan_steps}steps"
    crops = save_crops(outputs, args.out if args.no_record else IMG, tag)
    wall = time.perf_counter() - started

    lines = [
        "| method | Set5 PSNR-Y | Set5 SSIM-Y | Set14 PSNR-Y | Set14 SSIM-Y |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in table["Set5"]:
        (p5, s5), (p14, s14) = table["Set5"][label], table["Set14"][label]
        lines.append(f"| {label} | {p5:.2f} | {s5:.4f} | {p14:.2f} | {s14:.4f} |")
    bicubic5 = table["Set5"]["bicubic"][0]
    gains = {label: table["Set5"][label][0] - bicubic5 for label in (*models, ENSEMBLE)}
    gain_text = ", ".join(f"{label} {gain:+.2f} dB" for label, gain in gains.items())
    steps = {label: model.history["steps"] for label, model in models.items()}
    seconds = {label: model.history["seconds_this_run"] for label, model in models.items()}
    body = "\n".join(
        [
            f"x4, border crop 4, Y channel (BT.601); gain over bicubic on Set5: {gain_text}. "
            f"Literature anchors on Set5: bicubic 28.42, SRResNet 32.05, SRGAN 29.40.",
            "",
            *lines,
            "",
            f"- Budget: {psnr.history['device']}, {args.threads} CPU thread(s); PSNR model "
            f"{steps[PSNR]} "
            f"steps ({seconds[PSNR]:.0f} s), GAN phase "
            f"{steps['GAN model (ESRGAN recipe)']} steps "
            f"({seconds['GAN model (ESRGAN recipe)']:.0f} s) started from the PSNR model; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
            f"batch 16 HR patches of 96 px; RRDB G width {args.width}, {args.blocks} blocks, "
            f"pixel-shuffle x4, bicubic skip; Adam lr 1e-3 {args.psnr_schedule} "
            f"(PSNR, horizon {args.psnr_steps} steps), "
            f"constant {args.gan_lr:g} (GAN).",
            f"- Training data: patches of the {len(TRAINING_IMAGES)} photographs/textures in "
            "`gankit.data.superres.TRAINING_IMAGES` (scikit-image, scikit-learn, matplotlib); "
            "Set5/Set14 only evaluated.",
            "- Crops (HR 96x96 regions, shown x2): bicubic | PSNR model | GAN model | ground "
            "truth: " + ", ".join(f"![{p.stem}](img/{p.name})" for p in crops),
        ]
    )
    (args.out / "results.json").write_text(json.dumps({"table": table, "steps": steps}, indent=2))
    print(body, flush=True)
    if not args.no_record:
        append_section("Super-resolution x4: Set5 / Set14 (bicubic, PSNR model, GAN)", body, wall)


if __name__ == "__main__":
    main()
