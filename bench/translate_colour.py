"""Paired translation, gray -> colour on natural photographs: pix2pix against L1 alone.

Data: ``photos-colour`` (``gankit.data.paired.photos_colour``): 32-px tiles of the 8 colour
photographs that scikit-image, scikit-learn and matplotlib ship, each shrunk so its short side is
256 px; the source is a tile's luma, the target the tile. Training tiles come from everything
above each photo's bottom tile row; the 87 tiles of the bottom rows are the test set. Both
contenders are Pix2Pix presets with the same U-Net and seed (``l1-only`` has no D), trained side
by side, one CPU thread each, for the same number of steps.

Scored on the test tiles:

- PSNR ↑ and SSIM ↑ (RGB, gankit.metrics.image_quality) against the true colour tile;
- colourfulness (Hasler & Süsstrunk 2003, the mean over tiles), next to the true tiles': an
  L1-trained colouriser is known to wash colours out towards the average, and a GAN term is
  meant to bring them back;
- the gray input itself (luma repeated to RGB) as the baseline row.

    python bench/translate_colour.py --steps 1000                     # the recorded benchmark
    python bench/translate_colour.py --steps 20 --no-record           # a quick look
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
from _parallel import run_side_by_side  # noqa: E402
from _record import ROOT, append_section  # noqa: E402

from gankit import Pix2Pix, load  # noqa: E402
from gankit.data.images import convert_channels  # noqa: E402
from gankit.data.paired import photos_colour  # noqa: E402
from gankit.metrics.image_quality import psnr, ssim  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

OUT = ROOT / "bench" / "out" / "translate_colour"
IMG = ROOT / "docs" / "img"
MODEL = {"width": 16, "d_width": 16, "d_layers": 2}  # the edges benchmark's CPU-sized pair
CONTENDERS = {
    "pix2pix (adversarial + 100 x L1)": "default",
    "L1-only U-Net (same G, no D)": "l1-only",
}


def colourfulness(images: torch.Tensor) -> torch.Tensor:
    """Hasler & Süsstrunk's colourfulness of uint8 RGB images (N, 3, H, W), one value per image."""
    r, g, b = images.float().unbind(1)
    rg, yb = (r - g).flatten(1), (0.5 * (r + g) - b).flatten(1)
    spread = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
    return spread + 0.3 * (rg.mean(1).square() + yb.mean(1).square()).sqrt()


def train_one(preset: str, steps: int, batch_size: int, out: Path) -> None:
    """Child process: train one contender on the training tiles into ``out``."""
    torch.set_num_threads(1)
    model = Pix2Pix(preset, model=MODEL, batch_size=batch_size, checkpoint_every=10**6)
    model.fit("photos-colour", steps=steps, out=out, quiet=True)
    print(json.dumps(model.history))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        train_one(args.child, args.steps, args.batch_size, OUT / args.child)
        return
    torch.set_num_threads(1)
    started = time.perf_counter()
    commands = {}
    for name, preset in CONTENDERS.items():
        shutil.rmtree(OUT / preset, ignore_errors=True)
        commands[name] = [sys.executable, __file__, "--child", preset, "--steps", str(args.steps),
                          "--batch-size", str(args.batch_size)]  # fmt: skip
    load_before = os.getloadavg()[0]
    histories = run_side_by_side(commands)
    load_after = os.getloadavg()[0]

    test = photos_colour("test")
    truth = test.targets
    outputs = {"gray input (luma as RGB)": convert_channels(test.sources, 3)}
    for name, preset in CONTENDERS.items():
        outputs[name] = load(OUT / preset).apply(test.sources)
    outputs["true colour"] = truth
    rows = [
        "| model | PSNR ↑ | SSIM ↑ | colourfulness | steps | s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, images in outputs.items():
        history = histories.get(name, {})
        rows.append(
            f"| {name} | {psnr(images, truth).clamp(max=100).mean():.2f} | "
            f"{ssim(images, truth).mean():.4f} | {colourfulness(images).mean():.1f} | "
            f"{history.get('steps', '–')} | {history.get('seconds_this_run', '–')} |"
        )
    table = "\n".join(rows)
    print(table)
    # Rows: gray input, L1-only, pix2pix, true colour, for 16 test tiles spread over the photos.
    pick = torch.linspace(0, len(truth) - 1, 16).long()
    names = list(outputs)
    grid = torch.cat([outputs[names[i]][pick] for i in (0, 2, 1, 3)])
    image = (OUT if args.no_record else IMG) / f"translate-colour-{args.steps}steps.png"
    save_image_grid(grid, image, nrow=16)
    print(f"wrote {image}")
    if not args.no_record:
        body = (
            f"Gray -> colour on `photos-colour` (32-px tiles of the 8 shipped colour photographs "
            f"at 256 px short side; {len(photos_colour('train'))} training tiles, {len(truth)} "
            f"test tiles from the bottom row of each photo). Both models: Pix2Pix presets with "
            f"model {MODEL}, batch {args.batch_size}, seed 0, {args.steps} steps, trained side "
            f"by side, one CPU thread each (load average {load_before:.1f} before, "
            f"{load_after:.1f} after). PSNR and SSIM over RGB against the true tile; "
            f"colourfulness is Hasler & Süsstrunk's (mean over tiles).\n\n{table}\n\n"
            f"Rows of [{image.name}](img/{image.name}): gray input, L1-only, pix2pix, true "
            f"colour (16 test tiles).\n"
        )
        append_section(
            "Paired translation: gray -> colour photographs", body, time.perf_counter() - started
        )


if __name__ == "__main__":
    main()
