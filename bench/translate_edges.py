"""Paired translation, edges -> digit on MNIST: pix2pix against the same U-Net trained on L1 alone.

Data: Canny edges (scikit-image, sigma 1) of the 60,000 MNIST training digits at 32 px are the
sources, the digits the targets. Both contenders are Pix2Pix presets with the same U-Net and the
same seed; ``l1-only`` sets gan_weight 0 (no D), so the difference between the rows is what the
adversarial term adds. They train *at the same time*, one CPU thread each, for the same number of
steps (each capped at ``--max-seconds``).

Scored on the 10,000 MNIST *test* edge maps, translated by each model:

- FD ↓: Fréchet distance of the outputs to the 10,000 test digits, in the feature space of the
  MNIST judge classifier of bench/mnist_wallclock.py (trained once, cached, sha256 recorded);
- SSIM ↑ (Wang et al., Gaussian 11x11) and L1 ↓ against each output's own true digit;
- class accuracy ↑: the judge's label for the output equals the true digit's label.

    python bench/translate_edges.py                          # the recorded benchmark
    python bench/translate_edges.py --steps 50 --no-record   # a quick look
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
from mnist_wallclock import load_or_train_judge  # noqa: E402

from gankit import Pix2Pix, load  # noqa: E402
from gankit.data import default_data_root  # noqa: E402
from gankit.data.paired import PairedData, mnist_edges  # noqa: E402
from gankit.io import (  # noqa: E402
    file_sha256,  # noqa: E402
    load_tensors,
    save_tensors,
)
from gankit.metrics import frechet_distance  # noqa: E402
from gankit.metrics.image_quality import ssim  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

OUT = ROOT / "bench" / "out" / "translate_edges"
IMG = ROOT / "docs" / "img"
# Smaller than the default preset's widths so a 10-minute, one-thread budget reaches ~1,000 steps.
MODEL = {"width": 16, "d_width": 16, "d_layers": 2}
CONTENDERS = {
    "pix2pix (adversarial + 100 x L1)": "default",
    "L1-only U-Net (same G, no D)": "l1-only",
}


def training_pairs() -> PairedData:
    """The MNIST training edges, computed once (~1 min) and cached under bench/out."""
    cache = OUT / "mnist-edges-train.safetensors"
    if not cache.is_file():
        pairs = mnist_edges("train")
        save_tensors(cache, {"sources": pairs.sources, "targets": pairs.targets})
    tensors = load_tensors(cache)
    return PairedData(tensors["sources"], tensors["targets"], "mnist-edges-train", flip=False)


def train_one(preset: str, steps: int, seconds: float, batch_size: int, out: Path) -> None:
    """Child process: train one contender on the MNIST training edges into ``out``."""
    torch.set_num_threads(1)
    model = Pix2Pix(preset, model=MODEL, batch_size=batch_size, checkpoint_every=10**6)
    model.fit(training_pairs(), steps=steps, out=out, quiet=True, max_seconds=seconds)
    print(json.dumps(model.history))


def launch(args: argparse.Namespace) -> dict[str, tuple[Path, dict]]:
    commands = {}
    for name, preset in CONTENDERS.items():
        shutil.rmtree(OUT / preset, ignore_errors=True)
        argv = [sys.executable, __file__, "--child", preset, "--steps", str(args.steps)]
        argv += ["--max-seconds", str(args.max_seconds), "--batch-size", str(args.batch_size)]
        commands[name] = argv
    histories = run_side_by_side(commands)
    return {name: (OUT / preset, histories[name]) for name, preset in CONTENDERS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        train_one(args.child, args.steps, args.max_seconds, args.batch_size, OUT / args.child)
        return
    torch.set_num_threads(1)
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    mnist = default_data_root() / "mnist"
    judge_dir = ROOT / "bench" / "out" / "mnist_wallclock" / "judge"
    judge = load_or_train_judge(mnist, judge_dir)
    training_pairs()  # fills the cache before the contenders start
    load_before = os.getloadavg()[0]
    results = launch(args)
    load_after = os.getloadavg()[0]

    test = mnist_edges("test")
    truth = test.targets  # uint8 (10000, 1, 32, 32)
    with torch.no_grad():
        real_features = judge.features(truth.float() / 127.5 - 1)
    outputs = {"edges (the input, as is)": test.sources}
    for name, (run_dir, _) in results.items():
        outputs[name] = load(run_dir).apply(test.sources)
    rows = [
        "| model | FD to MNIST test ↓ | SSIM ↑ | L1 ↓ | class accuracy ↑ | steps | s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, images in outputs.items():
        x = images.float() / 127.5 - 1
        with torch.no_grad():
            fd = frechet_distance(real_features, judge.features(x))
            accuracy = (judge(x).argmax(1) == test.labels).float().mean().item()
        similarity = ssim(images, truth).mean().item()
        l1 = (images.float() - truth.float()).abs().mean().item() / 127.5
        history = results[name][1] if name in results else {}
        rows.append(
            f"| {name} | {fd:.2f} | {similarity:.4f} | {l1:.4f} | {accuracy:.4f} | "
            f"{history.get('steps', '–')} | {history.get('seconds_this_run', '–')} |"
        )
    table = "\n".join(rows)
    print(table)
    # Side by side: edges, L1-only, pix2pix, truth (one row each) for the first 12 test digits.
    names = list(outputs)
    grid = torch.cat([outputs[names[0]][:12], outputs[names[2]][:12], outputs[names[1]][:12]])
    grid = torch.cat([grid, truth[:12]])
    image = IMG / f"translate-edges-{args.steps}steps-{args.max_seconds:.0f}s.png"
    save_image_grid(grid, image, nrow=12)
    print(f"wrote {image}")
    if not args.no_record:
        judge_hash = file_sha256(judge_dir / "classifier.safetensors")[:16]
        body = (
            f"Edges -> digit on MNIST (32 px; Canny edges, sigma 1, of the 60,000 training "
            f"digits as sources). Both models: Pix2Pix presets with model {MODEL}, batch "
            f"{args.batch_size}, seed 0, trained concurrently, one CPU thread each, until "
            f"{args.steps} steps or {args.max_seconds:.0f} s, whichever came first (steps reached "
            f"in the table; load average {load_before:.1f} before, {load_after:.1f} after). "
            f"Scored on the 10,000 test edge maps: FD of the outputs to the test digits in the "
            f"MNIST judge's features "
            f"(bench/mnist_wallclock.py judge, sha256 {judge_hash}…), SSIM (Gaussian 11x11, "
            f"gankit.metrics.image_quality) and L1 (images in [-1, 1]) against the true digit, and "
            f"the judge's accuracy on the outputs.\n\n{table}\n\n"
            f"Rows of [{image.name}](img/{image.name}): input edges, L1-only, "
            f"pix2pix, true digit (first 12 test digits).\n"
        )
        append_section(
            "Paired translation: edges -> MNIST digit", body, time.perf_counter() - started
        )


if __name__ == "__main__":
    main()
