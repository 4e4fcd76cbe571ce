"""MNIST at equal wall-clock: gankit presets vs. the two peer recipes in ../shared/peers.

Every contender trains for the same number of seconds on the same machine in this one run, then
writes 10,000 samples at 28×28. One judge scores them all: an MNIST classifier this script trains
(2 epochs, seed 0), whose penultimate features give the Fréchet distance (FD) and KID against the
10,000 MNIST test images, plus precision/recall (k=3) and class coverage.

    python bench/mnist_wallclock.py --seconds 600                     # the recorded benchmark
    python bench/mnist_wallclock.py --seconds 120 --no-record --gankit default dcgan
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import append_section  # noqa: E402

from gankit import ImageGAN  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.metrics import (  # noqa: E402
    frechet_distance,
    kernel_inception_distance,
    load_classifier,
    mode_coverage,
    precision_recall,
    save_classifier,
    train_digit_classifier,
)
from gankit.metrics.classifier import file_sha256  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

PEERS = {
    "peer: classic DCGAN recipe": "mnist_dcgan_recipe.py",
    "peer: modern recipe (lazy R1 + EMA)": "mnist_modern_recipe.py",
}


def run_peer(
    script: Path, mnist: Path, seconds: float, n: int, out: Path
) -> tuple[np.ndarray, str]:
    result = subprocess.run(
        [sys.executable, str(script), str(mnist), str(seconds), str(out), str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return np.load(out), result.stdout.strip().splitlines()[-1]


def run_gankit(preset: str, mnist: Path, seconds: float, n: int) -> tuple[np.ndarray, str]:
    model, train = {}, {}
    for item in preset.split(":")[1:]:  # "default:model.g_width=32:lr_g=0.0004" for ablations
        key, value = item.split("=")
        target = model if key.startswith("model.") else train
        target[key.removeprefix("model.")] = json.loads(value)
    gan = ImageGAN(preset.split(":")[0], resolution=28, model=model, **{"steps": 10**7, **train})
    gan.fit(str(mnist), quiet=True, max_seconds=seconds)
    images = gan.sample(n, seed=0)[:, 0].numpy()
    return images, f"steps={gan.history['steps']} img/s={gan.history['img_per_s']:.0f}"


def load_or_train_judge(mnist: Path, judge_dir: Path):
    """The MNIST judge, trained once (2 epochs, seed 0) and reused; its sha256 is recorded."""
    if (judge_dir / "config.json").is_file():
        return load_classifier(judge_dir)
    train = load_mnist(mnist, "train")
    judge = train_digit_classifier(
        train.batch(torch.arange(len(train))), train.labels, steps=936, seed=0
    )
    save_classifier(judge, judge_dir)
    return judge


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--gankit", nargs="*", default=["default"], help="gankit presets to run")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to docs"
    )
    parser.add_argument("--out", default="bench/out/mnist_wallclock")
    args = parser.parse_args()
    started = time.perf_counter()
    data_root = default_data_root()
    mnist = data_root / "mnist"
    peers_dir = Path(os.environ.get("GANKIT_PEERS", data_root.parent / "peers"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    samples: dict[str, tuple[np.ndarray, str]] = {}
    for preset in args.gankit:
        samples[f"gankit `{preset}`"] = run_gankit(preset, mnist, args.seconds, args.n)
        print(preset, samples[f"gankit `{preset}`"][1], flush=True)
    if not args.no_peers:
        for name, script in PEERS.items():
            samples[name] = run_peer(
                peers_dir / script, mnist, args.seconds, args.n, out / f"{script}.npy"
            )
            print(name, samples[name][1], flush=True)

    test = load_mnist(mnist, "test")
    judge = load_or_train_judge(mnist, out / "judge")
    with torch.no_grad():
        test_images = test.batch(torch.arange(len(test)))
        accuracy = (judge(test_images).argmax(1) == test.labels).float().mean().item()
        real_features = judge.features(test_images)
    rows = [
        "| contender | FD ↓ | KID×1e3 ↓ | precision ↑ | recall ↑ | classes | KL to uniform ↓ "
        "| training |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, (images, note) in samples.items():
        fake = torch.from_numpy(images).float()[:, None] / 127.5 - 1
        with torch.no_grad():
            features = judge.features(fake)
            predicted = judge(fake).argmax(1)
        fd = frechet_distance(real_features, features)
        kid, _ = kernel_inception_distance(real_features, features, subsets=50)
        precision, recall = precision_recall(real_features, features, k=3)
        modes = mode_coverage(predicted, 10)
        rows.append(
            f"| {name} | {fd:.2f} | {kid * 1e3:.2f} | {precision:.3f} | {recall:.3f} | "
            f"{modes['modes']} | {modes['kl_to_uniform']:.4f} | {note} |"
        )
        slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
        save_image_grid(torch.from_numpy(images[:64])[:, None], out / f"{slug}.png")
    table = "\n".join(rows)
    print(table)
    if not args.no_record:
        judge_hash = file_sha256(out / "judge" / "classifier.safetensors")[:16]
        body = (
            f"Budget {args.seconds:.0f} s of training per contender, run one after another; "
            f"{args.n} samples each. Judge: MNIST classifier trained by this script "
            f"(936 steps, seed 0, "
            f"test accuracy {accuracy:.4f}, weights sha256 {judge_hash}); FD/KID on its 128-d "
            f"penultimate features against "
            f"the 10,000 MNIST test images. Sample grids: `{out}/`.\n\n{table}\n"
        )
        append_section(
            f"MNIST at equal wall-clock ({args.seconds:.0f} s per contender)",
            body,
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
