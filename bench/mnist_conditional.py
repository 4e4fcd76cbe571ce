"""Class-conditional MNIST at an equal budget: conditional vs. unconditional vs. AC-GAN.

The contenders are run by ``bench/mnist_wallclock.py``'s machinery: all train *at the same time*,
one CPU thread each, for the same number of steps (``--steps``) or seconds (``--seconds``), then
each writes 10,000 samples at 28x28. A class-conditional model, sampled without explicit labels,
draws the balanced cycle of classes 0, 1, ..., 9, 0, ... (``ImageGAN.sample``'s documented
default), so sample ``i`` was asked to be digit ``i % 10``. One MNIST judge (by default the
``strong`` recipe of mnist_wallclock's ``JUDGES``, ~99.5 % on real test digits, trained once and
kept in bench/judges/ keyed by its recipe) scores:

- **accuracy**: how often the judge reads the requested digit, overall and per class (goal: 99 %);
- **FD** on the judge's penultimate features against the 10,000 MNIST test images, and per class
  against the test images of that class (an unconditional model's samples are grouped by the
  class the judge reads, since nothing was requested).

    bench/conditional_and_text.sh 2000        # the recorded run, together with mnist_text.py
    python bench/mnist_conditional.py --steps 2000                   # this benchmark alone
    python bench/mnist_conditional.py --steps 20 --n 1000 --no-record
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402
from mnist_wallclock import (  # noqa: E402
    JUDGES,
    add_steps_option,
    budget,
    judge_dir_for,
    judge_note,
    launch_all,
    load_or_train_judge,
)

from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.metrics import frechet_distance, mode_coverage  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

UNCONDITIONAL = "default"
# contender spec (mnist_wallclock syntax) -> short name for its picture in docs/img/
CONTENDERS = {
    UNCONDITIONAL: "unconditional",
    "default-cond": "projection",  # conditional BN in G + projection D
    "default-cond:model.projection=false:model.aux_classifier=true": "acgan",  # AC-GAN ablation
}
NUM_CLASSES = 10


def class_rows(images: np.ndarray, per_class: int = 8) -> torch.Tensor:
    """The first ``per_class`` samples requested as each digit, one row per digit (uint8)."""
    rows = [images[k::NUM_CLASSES][:per_class] for k in range(NUM_CLASSES)]
    return torch.from_numpy(np.concatenate(rows))[:, None]


def score(
    judge: torch.nn.Module,
    images: np.ndarray,
    conditional: bool,
    test_features: torch.Tensor,
    test_labels: torch.Tensor,
) -> dict:
    """Judge accuracy (conditional only), FD overall and per class, class coverage."""
    fake = torch.from_numpy(images).float()[:, None] / 127.5 - 1
    with torch.no_grad():
        features = judge.features(fake)
        predicted = judge(fake).argmax(1)
    requested = torch.arange(len(images)) % NUM_CLASSES
    # Unconditional samples have no requested class: group them by what the judge reads.
    groups = requested if conditional else predicted
    result = {
        "fd": frechet_distance(test_features, features),
        "fd_class": [
            frechet_distance(test_features[test_labels == k], features[groups == k])
            if (groups == k).sum() > 1
            else float("nan")
            for k in range(NUM_CLASSES)
        ],
        "modes": mode_coverage(predicted, NUM_CLASSES),
    }
    if conditional:
        hits = (predicted == requested).float()
        result["accuracy"] = hits.mean().item()
        result["accuracy_class"] = [hits[requested == k].mean().item() for k in range(NUM_CLASSES)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=540)
    add_steps_option(parser)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--gankit", nargs="*", default=list(CONTENDERS), help="contenders")
    parser.add_argument("--no-record", action="store_true", help="print only; no docs")
    parser.add_argument("--out", default="bench/out/mnist_conditional")
    parser.add_argument("--judge", default="strong", choices=JUDGES, help="judge recipe")
    args = parser.parse_args()
    args.no_peers = True  # launch_all's switch: only gankit contenders here
    started = time.perf_counter()
    mnist = default_data_root() / "mnist"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    judge_dir = judge_dir_for(args.judge)
    judge = load_or_train_judge(mnist, judge_dir, args.judge)
    load_before = os.getloadavg()[0]
    results = launch_all(args, mnist, out)
    load_after = os.getloadavg()[0]

    test = load_mnist(mnist, "test")
    with torch.no_grad():
        test_images = test.batch(torch.arange(len(test)))
        test_predicted = judge(test_images).argmax(1)
        test_features = judge.features(test_images)
    real_hits = (test_predicted == test.labels).float()
    real_class = [real_hits[test.labels == k].mean().item() for k in range(NUM_CLASSES)]

    digits = " | ".join(str(k) for k in range(NUM_CLASSES))
    acc_rows = [
        f"| contender | overall | min class | {digits} |",
        "|---|---:|---:|" + "---:|" * NUM_CLASSES,
        f"| real MNIST test images (judge ceiling) | {real_hits.mean().item():.2%} | "
        f"{min(real_class):.2%} | " + " | ".join(f"{a:.1%}" for a in real_class) + " |",
    ]
    fd_rows = [
        f"| contender | FD ↓ | mean class FD ↓ | {digits} | classes | KL to uniform ↓ | training |",
        "|---|---:|---:|" + "---:|" * NUM_CLASSES + "---:|---:|---|",
    ]
    for (name, (npy, note)), spec in zip(results.items(), args.gankit, strict=True):
        images = np.load(npy)
        conditional = spec != UNCONDITIONAL
        result = score(judge, images, conditional, test_features, test.labels)
        fd_class = result["fd_class"]
        fd_rows.append(
            f"| {name} | {result['fd']:.2f} | {np.nanmean(fd_class):.2f} | "
            + " | ".join(f"{v:.1f}" for v in fd_class)
            + f" | {result['modes']['modes']} | {result['modes']['kl_to_uniform']:.4f} | {note} |"
        )
        grid = npy.with_suffix(".png")
        if conditional:
            accuracy = result["accuracy_class"]
            acc_rows.append(
                f"| {name} | {result['accuracy']:.2%} | {min(accuracy):.2%} | "
                + " | ".join(f"{a:.1%}" for a in accuracy)
                + " |"
            )
            save_image_grid(class_rows(images), grid, nrow=8)
        else:
            save_image_grid(torch.from_numpy(images[:80])[:, None], grid, nrow=8)
    tables = "\n".join(acc_rows) + "\n\n" + "\n".join(fd_rows)
    print(tables)
    if args.no_record:
        return
    images_dir = ROOT / "docs" / "img"
    pictures = []
    for index, (spec, (name, (npy, _))) in enumerate(
        zip(args.gankit, results.items(), strict=True)
    ):
        target = images_dir / f"mnist-cond-{CONTENDERS.get(spec, index)}.png"
        shutil.copyfile(npy.with_suffix(".png"), target)
        pictures.append(f"{name} ![]({target.relative_to(ROOT / 'docs').as_posix()})")
    body = (
        f"{len(results)} contenders trained concurrently for {budget(args)} each, one CPU "
        f"thread each (OMP_NUM_THREADS=1; load average {load_before:.1f} before, "
        f"{load_after:.1f} after), through `bench/mnist_wallclock.py`'s launcher; {args.n} "
        "samples each. Conditional samples are the balanced cycle 0..9 (sample i asks for digit "
        f"i % 10). {judge_note(judge_dir)} Accuracy = share of samples the judge reads as the "
        "requested digit. FD on the judge's 128-d penultimate features against the 10,000 MNIST "
        "test images; per class against that class's test images (unconditional samples grouped "
        "by the judge's reading).\n\n"
        "Judge accuracy on the requested digit:\n\n"
        f"{tables.split(chr(10) + chr(10))[0]}\n\n"
        "Fréchet distance, overall and per class:\n\n"
        f"{tables.split(chr(10) + chr(10))[1]}\n\n"
        "Samples (conditional: one row per digit 0-9, 8 each; unconditional: the first 80): "
        + " ".join(pictures)
        + "\n"
    )
    equal = "steps" if args.steps else "wall-clock"
    title = f"Class-conditional MNIST at equal {equal} ({budget(args)} per contender)"
    append_section(title, body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
