"""Unpaired translation, scikit-learn digits -> MNIST with CycleGAN: is the class preserved?

Domain A: the 1,797 scikit-learn 8x8 digits enlarged to 32 px (bilinear; thick strokes filling
the frame). Domain B: the 60,000 MNIST training digits at 32 px (zero-padded; thin strokes in a
20-px box). CycleGAN never sees a label or a pair. After training, every domain-A digit is
translated A -> B (unpaired translation is judged on the inputs it was trained to translate; the
labels were never used) and scored by the MNIST judge classifier of bench/mnist_wallclock.py:

- class preservation ↑: the judge's label for the translation equals the digit's own label
  (goal >= 95 %);
- FD to MNIST ↓: Fréchet distance to the 10,000 MNIST test digits in the judge's features.

The baseline row is the identity mapping (the enlarged digits as they are), scored the same way.

    python bench/translate_digits.py                          # the recorded benchmark
    python bench/translate_digits.py --steps 20 --no-record   # a quick look
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
from mnist_wallclock import load_or_train_judge  # noqa: E402

from gankit import CycleGAN, load  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.data.paired import digits_mnist  # noqa: E402
from gankit.metrics import frechet_distance  # noqa: E402
from gankit.metrics.classifier import file_sha256  # noqa: E402
from gankit.train.state import latest_checkpoint  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

OUT = ROOT / "bench" / "out" / "translate_digits"
IMG = ROOT / "docs" / "img"
# Narrower than the default preset so a 10-minute, one-thread budget reaches ~1,000 steps.
MODEL = {"width": 16, "d_width": 16, "d_layers": 2}


def _saved_steps(run_dir: Path) -> int:
    step_dir = latest_checkpoint(run_dir)
    return int(step_dir.name.split("-")[1]) if step_dir is not None else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--resume", action="store_true", help="continue the previous run of this seed"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    mnist = default_data_root() / "mnist"
    judge_dir = ROOT / "bench" / "out" / "mnist_wallclock" / "judge"
    judge = load_or_train_judge(mnist, judge_dir)

    data = digits_mnist("train")
    run_dir = OUT / f"seed{args.seed}"
    load_before = os.getloadavg()[0]
    if args.resume:
        # Continue the previous run of this seed (bit-identical to a longer uninterrupted one).
        model = load(run_dir)
        start_step = _saved_steps(run_dir)
        model.fit(
            data, steps=args.steps, out=run_dir, resume=True, quiet=True,
            max_seconds=args.max_seconds,
        )  # fmt: skip
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        start_step = 0
        model = CycleGAN(
            model=MODEL, batch_size=args.batch_size, seed=args.seed, checkpoint_every=10**6
        )
        model.fit(data, steps=args.steps, out=run_dir, quiet=True, max_seconds=args.max_seconds)
    load_after = os.getloadavg()[0]
    print(json.dumps(model.history), flush=True)

    test = load_mnist(mnist, "test", 32)
    digits, labels = data.domain_a, data.labels_a
    with torch.no_grad():
        real_features = judge.features(test.batch(torch.arange(len(test))))
    outputs = {
        "identity (enlarged digits as they are)": digits,
        "CycleGAN A -> B": model.apply(digits, direction="AB"),
    }
    rows = [
        "| mapping | class preservation ↑ | FD to MNIST test ↓ |",
        "|---|---:|---:|",
    ]
    for name, images in outputs.items():
        x = images.float() / 127.5 - 1
        with torch.no_grad():
            accuracy = (judge(x).argmax(1) == labels).float().mean().item()
            fd = frechet_distance(real_features, judge.features(x))
        rows.append(f"| {name} | {accuracy:.4f} | {fd:.2f} |")
    table = "\n".join(rows)
    print(table)
    # Two rows per block: 16 digits, their translations; then 16 MNIST digits and G_BA of them.
    back = model.apply(data.domain_b[:16], direction="BA")
    grid = torch.cat([digits[:16], outputs["CycleGAN A -> B"][:16], data.domain_b[:16], back])
    image = IMG / f"translate-digits-{args.max_seconds:.0f}s.png"
    save_image_grid(grid, image, nrow=16)
    print(f"wrote {image}")
    if not args.no_record:
        history = model.history
        judge_hash = file_sha256(judge_dir / "classifier.safetensors")[:16]
        body = (
            f"CycleGAN preset `default` with model {MODEL}, batch {args.batch_size}, seed "
            f"{args.seed}: {history['steps']} steps, {history['steps_this_run']} of them in this "
            f"run ({'resumed at step ' + str(start_step) + ', ' if args.resume else ''}"
            f"{history['seconds_this_run']:.0f} s on one "
            f"CPU thread; budget {args.steps} steps or {args.max_seconds:.0f} s; load average "
            f"{load_before:.1f} before, {load_after:.1f} after). Domain A: the 1,797 scikit-learn "
            f"digits enlarged to 32 px; domain B: the 60,000 MNIST training digits at 32 px; no "
            f"labels or pairs are used in training. All 1,797 digits are translated A -> B and "
            f"judged by the MNIST classifier of bench/mnist_wallclock.py (sha256 "
            f"{judge_hash}…): class preservation = its label equals the digit's own; FD = "
            f"Fréchet distance to the 10,000 MNIST test digits in its features.\n\n{table}\n\n"
            f"[{image.name}](img/{image.name}): rows 1-2 digits and G_AB of them, "
            f"rows 3-4 MNIST digits and G_BA of them.\n"
        )
        append_section(
            "Unpaired translation: scikit-learn digits -> MNIST (CycleGAN)",
            body,
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
