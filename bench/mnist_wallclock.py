"""MNIST at equal wall-clock: gankit presets vs. the two peer recipes in ../shared/peers.

All contenders train *at the same time*, one CPU thread each, for the same number of seconds, so
whatever else loads this shared machine hits every contender alike. Each then writes 10,000
samples at 28×28. One judge scores them all: an MNIST classifier this script trains once (two
epochs, seed 0; cached under the output folder with its sha256 recorded), whose penultimate
features give the Fréchet distance (FD) and KID against the 10,000 MNIST test images, plus
precision/recall (k=3) and class coverage.

    python bench/mnist_wallclock.py --seconds 600                       # the recorded benchmark
    python bench/mnist_wallclock.py --seconds 120 --no-record --gankit default dcgan
    python bench/mnist_wallclock.py --gankit default default:model.g_width=32 --no-peers

A contender ``preset:key=value:model.key=value`` overrides training or model settings (ablations).
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


def train_contender(spec: str, mnist: Path, seconds: float, n: int, out: Path) -> None:
    """Train one gankit contender for ``seconds`` and save ``n`` samples as uint8 (n, 28, 28)."""
    preset, *overrides = spec.split(":")
    model, train = {}, {}
    for item in overrides:
        key, value = item.split("=")
        target = model if key.startswith("model.") else train
        target[key.removeprefix("model.")] = json.loads(value)
    gan = ImageGAN(preset, resolution=28, model=model, **{"steps": 10**7, **train})
    gan.fit(str(mnist), quiet=True, max_seconds=seconds)
    np.save(out, gan.sample(n, seed=0)[:, 0].numpy())
    print(f"steps={gan.history['steps']} img/s={gan.history['img_per_s']:.0f}")


def load_or_train_judge(mnist: Path, judge_dir: Path):
    """The MNIST judge, trained once (2 epochs, seed 0) and reused; its sha256 is recorded."""
    if (judge_dir / "config.json").is_file():
        return load_classifier(judge_dir)
    train = load_mnist(mnist, "train")
    images = train.batch(torch.arange(len(train)))
    judge = train_digit_classifier(images, train.labels, steps=936, seed=0)
    save_classifier(judge, judge_dir)
    return judge


def launch_all(args: argparse.Namespace, mnist: Path, out: Path) -> dict[str, tuple[Path, str]]:
    """Start every contender at once (one thread each), wait, return name -> (samples, note)."""
    peers_dir = Path(os.environ.get("GANKIT_PEERS", default_data_root().parent / "peers"))
    commands: dict[str, tuple[list[str], Path]] = {}
    for spec in args.gankit:
        npy = out / f"gankit-{spec.replace(':', '_').replace('=', '-')}.npy"
        argv = [__file__, "--contender", spec, "--npy", str(npy)]
        commands[f"gankit `{spec}`"] = (
            [sys.executable, *argv, "--seconds", str(args.seconds)],
            npy,
        )
    if not args.no_peers:
        for name, script in PEERS.items():
            npy = out / f"{script}.npy"
            argv = [str(peers_dir / script), str(mnist), str(args.seconds), str(npy), str(args.n)]
            commands[name] = ([sys.executable, *argv], npy)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running = {
        name: subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for name, (cmd, _) in commands.items()
    }
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{name} failed:\n{stderr[-2000:]}")
        results[name] = (commands[name][1], stdout.strip().splitlines()[-1])
        print(name, results[name][1], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--gankit", nargs="*", default=["default"], help="gankit contenders")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to docs"
    )
    parser.add_argument("--out", default="bench/out/mnist_wallclock")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--npy", help=argparse.SUPPRESS)
    args = parser.parse_args()
    mnist = default_data_root() / "mnist"
    if args.contender:
        torch.set_num_threads(1)
        train_contender(args.contender, mnist, args.seconds, args.n, Path(args.npy))
        return
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    judge = load_or_train_judge(mnist, out / "judge")
    load_before = os.getloadavg()[0]
    results = launch_all(args, mnist, out)
    load_after = os.getloadavg()[0]

    test = load_mnist(mnist, "test")
    with torch.no_grad():
        test_images = test.batch(torch.arange(len(test)))
        accuracy = (judge(test_images).argmax(1) == test.labels).float().mean().item()
        real_features = judge.features(test_images)
    rows = [
        "| contender | FD ↓ | KID ↓ | precision ↑ | recall ↑ | classes | KL to uniform ↓ "
        "| training |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, (npy, note) in results.items():
        images = np.load(npy)
        fake = torch.from_numpy(images).float()[:, None] / 127.5 - 1
        with torch.no_grad():
            features = judge.features(fake)
            predicted = judge(fake).argmax(1)
        fd = frechet_distance(real_features, features)
        kid, _ = kernel_inception_distance(real_features, features, subsets=50)
        precision, recall = precision_recall(real_features, features, k=3)
        modes = mode_coverage(predicted, 10)
        rows.append(
            f"| {name} | {fd:.2f} | {kid:.4g} | {precision:.3f} | {recall:.3f} | "
            f"{modes['modes']} | {modes['kl_to_uniform']:.4f} | {note} |"
        )
        save_image_grid(torch.from_numpy(images[:64])[:, None], npy.with_suffix(".png"))
    table = "\n".join(rows)
    print(table)
    if not args.no_record:
        judge_hash = file_sha256(out / "judge" / "classifier.safetensors")[:16]
        body = (
            f"{len(results)} contenders trained concurrently for {args.seconds:.0f} s each, one "
            f"CPU thread each (OMP_NUM_THREADS=1; load average {load_before:.1f} before, "
            f"{load_after:.1f} after); {args.n} samples each. Judge: MNIST classifier trained by "
            f"this script (936 steps, seed 0, test accuracy {accuracy:.4f}, weights sha256 "
            f"{judge_hash}…); FD/KID on its 128-d penultimate features against the 10,000 MNIST "
            f"test images. Sample grids: `{out}/*.png`.\n\n{table}\n"
        )
        title = f"MNIST at equal wall-clock ({args.seconds:.0f} s per contender)"
        append_section(title, body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
