"""Samples-to-quality curve: FD of the `default` preset on MNIST against training steps.

Training runs with the :class:`~gankit.tasks.evaluation.PeriodicEval` callback, which scores
G_ema every ``--every`` steps on 2,000 samples against 2,000 MNIST test images, using the same
judge (MNIST classifier) as ``bench/mnist_wallclock.py``. The curve is saved as a PNG in
``docs/img/`` and the table appended to docs/BENCHMARKS.md.

    python bench/mnist_curve.py --steps 3000 --every 250
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402
from mnist_wallclock import load_or_train_judge  # noqa: E402

from gankit import ImageGAN  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.data.images import real_images  # noqa: E402
from gankit.metrics.extractors import build_extractor  # noqa: E402
from gankit.tasks.evaluation import PeriodicEval  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--judge", default="bench/out/mnist_wallclock/judge")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    mnist = default_data_root() / "mnist"
    load_or_train_judge(mnist, Path(args.judge))
    extractor = build_extractor("model-dir", path=args.judge)
    test = load_mnist(mnist, "test")
    callback = PeriodicEval(real_images(test, 2000, seed=0), extractor, args.every, n=2000)
    gan = ImageGAN(args.preset, resolution=28, steps=args.steps, log_every=args.every)
    with tempfile.TemporaryDirectory() as tmp:
        gan.fit(str(mnist), out=Path(tmp) / "run", quiet=True, callbacks=[callback])
        records = [json.loads(line) for line in (Path(tmp) / "run" / "stats.jsonl").open()]
    curve = [(r["step"], r["fd"]) for r in records if "fd" in r]
    rows = ["| step | images seen | FD ↓ |", "|---:|---:|---:|"]
    batch = gan.train_config.batch_size
    rows += [f"| {step} | {step * batch} | {fd:.1f} |" for step, fd in curve]
    table = "\n".join(rows)
    print(table)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([s * batch for s, _ in curve], [fd for _, fd in curve], marker="o")
    ax.set_xlabel("real images seen")
    ax.set_ylabel("FD (MNIST classifier features)")
    ax.set_yscale("log")
    ax.set_title(f"gankit `{args.preset}` on MNIST 28×28")
    fig.tight_layout()
    plot = ROOT / "docs" / "img" / f"mnist-curve-{args.preset}.png"
    fig.savefig(plot, dpi=100)
    if not args.no_record:
        body = (
            f"Preset `{args.preset}`, MNIST 28×28, {args.steps} steps, torch threads "
            f"{torch.get_num_threads()}. FD of 2,000 G_ema samples (seed 0) against 2,000 MNIST "
            f"test images under the judge of `bench/mnist_wallclock.py` ({extractor.identity[:60]}"
            f"…). Best: FD {callback.best['fd']:.1f} at step {callback.best['step']}. "
            f"Plot: ![](img/{plot.name})\n\n{table}\n"
        )
        append_section("MNIST samples-to-quality curve", body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
