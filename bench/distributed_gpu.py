"""Distributed training on GPUs: 1 GPU against several, with AMP, at equal steps.

For each GPU count (1 and every count given, default 1 and all visible GPUs), trains the same
ImageGAN (preset ``default``, 32x32 MNIST from ``$GANKIT_DATA/mnist``, else scikit-learn's digits)
for the same number of steps and global batch through ``gankit train --nproc-per-node K
--device cuda --precision bf16`` (nccl, one GPU per rank), then reads the run's metrics.json:
img/s of the whole run and the Fréchet distance of G_ema's samples in the digit classifier's
feature space (``gankit.metrics.quick``, the report every image run writes). Equal steps at an
equal global batch means equal images seen: the FD column shows that more GPUs change the speed,
not the result.

    python bench/distributed_gpu.py                         # 1 and all GPUs; records
    python bench/distributed_gpu.py --gpus 1 2 4 --steps 5000 --batch-size 256
    python bench/distributed_gpu.py --steps 200 --no-record # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402

from gankit.data import default_data_root  # noqa: E402


def train(gpus: int, steps: int, batch_size: int, data: str, precision: str, out: Path) -> dict:
    """One run on ``gpus`` GPUs; its img/s and FD from metrics.json."""
    command = [
        sys.executable,
        "-m",
        "gankit.cli",
        "train",
        "--task",
        "images",
        "--data",
        data,
        "--preset",
        "default",
        "--resolution",
        "32",
        "--steps",
        str(steps),
        "--batch-size",
        str(batch_size),
        "--device",
        "cuda",
        "--precision",
        precision,
        "--nproc-per-node",
        str(gpus),
        "--checkpoint-every",
        str(steps),
        "--sample-every",
        str(steps),
        "--out",
        str(out),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    metrics = json.loads((out / "metrics.json").read_text())
    return {
        "gpus": gpus,
        "img_per_s": metrics["training"]["img_per_s"],
        "train_s": metrics["training"]["seconds_this_run"],
        "wall_s": time.perf_counter() - started,
        "fd": metrics.get("quality", {}).get("fd"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, nargs="*", help="GPU counts (default: 1 and all)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256, help="global batch")
    parser.add_argument("--precision", default="bf16", choices=("bf16", "fp16", "fp32"))
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit(
            "distributed_gpu.py needs CUDA GPUs; bench/distributed_throughput.py is the CPU one"
        )
    visible = torch.cuda.device_count()
    counts = args.gpus or sorted({1, visible})
    if max(counts) > visible:
        sys.exit(f"asked for {max(counts)} GPUs, {visible} visible")
    mnist = default_data_root() / "mnist"
    data = "mnist" if (mnist / "train-images-idx3-ubyte.gz").exists() else "digits"
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for gpus in counts:
            out = Path(tmp) / f"gpus-{gpus}"
            results.append(train(gpus, args.steps, args.batch_size, data, args.precision, out))
            print(results[-1], flush=True)
    base = results[0]["img_per_s"]
    rows = [
        "| GPUs | img/s ↑ | speed-up | training s | FD ↓ (digit-classifier features) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        fd = f"{r['fd']:.2f}" if r["fd"] is not None else "n/a"
        rows.append(
            f"| {r['gpus']} | {r['img_per_s']:.0f} | {r['img_per_s'] / base:.2f}× | "
            f"{r['train_s']:.0f} | {fd} |"
        )
    body = (
        f"ImageGAN `default`, 32×32 {data}, {args.steps} steps at global batch "
        f"{args.batch_size} per run ({args.precision} autocast, nccl, one process per GPU, "
        f"`gankit train --nproc-per-node K`). img/s counts the whole training run.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    print(body)
    if not args.no_record:
        title = f"Distributed training on GPUs ({', '.join(map(str, counts))} GPUs, equal steps)"
        append_section(title, body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
