"""How wide should G's class embedding be? Label accuracy, FD and within-class diversity.

Trains `default-cond` on the scikit-learn digits (16 px) for the same number of steps with several
``condition_embed`` widths, plus the unconditional `default`, all at once (one process and one CPU
thread each). Each model draws 1,000 balanced samples (seed 1), scored by the report's quick check
(`gankit.metrics.quick.labelled_quality`: a classifier trained on 90 % of the digits; FD on its
features, label accuracy on the requested class). Within-class diversity is the per-pixel std
across the samples of one class (requested class; for the unconditional model, the class the
classifier reads), averaged over pixels and classes, next to the same number for the real digits.

    python bench/conditional_embed.py               # the recorded run (400 steps)
    python bench/conditional_embed.py --steps 50 --no-record
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import append_section  # noqa: E402

from gankit import ImageGAN  # noqa: E402
from gankit.data import load_digits  # noqa: E402
from gankit.metrics.quick import labelled_quality  # noqa: E402

WIDTHS = (16, 32, 128)
RESOLUTION = 16
N = 1000


def within_class_std(images: torch.Tensor, labels: torch.Tensor) -> float:
    stds = [images[labels == k].std(0).mean() for k in range(10) if (labels == k).sum() > 2]
    return torch.stack(stds).mean().item()


def run(width: int | None, steps: int) -> dict:
    """Train one contender (``width`` None: unconditional) and score it."""
    torch.set_num_threads(1)
    started = time.perf_counter()
    if width is None:
        gan = ImageGAN("default", resolution=RESOLUTION)
    else:
        gan = ImageGAN("default-cond", resolution=RESOLUTION, model={"condition_embed": width})
    gan.fit("digits", steps=steps, quiet=True)
    data = load_digits(RESOLUTION)
    requested = gan.labels_tensor(None, N) if width is not None else None
    fakes = gan.generate_raw(N, seed=1)
    quality = labelled_quality(data, fakes, fake_labels=requested)
    if requested is None:
        # Group unconditional samples by what a classifier reads (same recipe as the quick check).
        from gankit.metrics.classifier import train_digit_classifier

        real = data.batch(torch.arange(len(data)))
        judge = train_digit_classifier(real, data.labels, steps=300, seed=0)
        with torch.no_grad():
            requested = judge(fakes).argmax(1)
    return {
        "width": width,
        "fd": quality["fd"],
        "accuracy": quality.get("label_accuracy"),
        "std": within_class_std(fakes, requested),
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    contenders = [*WIDTHS, None]
    with ProcessPoolExecutor(len(contenders)) as pool:
        results = list(pool.map(run, contenders, [args.steps] * len(contenders)))
    data = load_digits(RESOLUTION)
    real_std = within_class_std(data.batch(torch.arange(len(data))), data.labels)
    rows = [
        "| model | label accuracy ↑ | quick-check FD ↓ | within-class pixel std (real "
        f"{real_std:.3f}) | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results:
        name = (
            f"`default-cond`, condition_embed={result['width']}"
            if result["width"] is not None
            else "`default` (unconditional)"
        )
        accuracy = f"{result['accuracy']:.1%}" if result["accuracy"] is not None else "–"
        rows.append(
            f"| {name} | {accuracy} | {result['fd']:.1f} | {result['std']:.3f} | "
            f"{result['seconds']:.0f} |"
        )
    table = "\n".join(rows)
    print(table)
    if not args.no_record:
        body = (
            f"scikit-learn digits at {RESOLUTION} px, {args.steps} steps each (batch 64), all "
            "contenders at once, one process and one CPU thread each; 1,000 balanced samples "
            "(seed 1) each. Quick check = the training report's classifier (trained on 90 % of "
            "the digits). Within-class std: per-pixel std over one class's samples, averaged.\n\n"
            f"{table}\n"
        )
        append_section("Class embedding width (digits)", body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
