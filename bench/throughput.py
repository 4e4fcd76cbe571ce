"""Training throughput on this machine: images/s of a full D+G step and the share of fp32 peak.

For each gankit preset at 32×32, batch 64, on MNIST: the FLOPs of one training step (counted by
``torch.utils.flop_counter``), images/s over timed steps after warm-up, and that rate as a fraction
of the machine's fp32 matmul peak measured in the same run. The classic DCGAN recipe from
../shared/peers runs in the same script, for the same number of seconds, as the reference.

    python bench/throughput.py                 # records to docs/BENCHMARKS.md
    python bench/throughput.py --no-record --seconds 20
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import append_section  # noqa: E402

from gankit import ImageGAN  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.train import Trainer  # noqa: E402


def matmul_peak_gflops(size: int = 2048, repeats: int = 20) -> float:
    """Best-of-5 fp32 GEMM rate: the practical peak the conv kernels are measured against."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b)
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9)
    return best


def preset_throughput(preset: str, data, seconds: float) -> tuple[float, float]:
    """(images per second, GFLOP per step) for one preset's full training step."""
    gan = ImageGAN(preset, resolution=32)
    _, info = gan.open_data(data)
    gan.data_info = info
    gan._build()
    trainer = Trainer(gan.G, gan.D, data, gan.train_config)
    for _ in range(5):  # warm-up: kernel selection, allocator
        trainer.train_step()
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.train_step()
        steps += 1
    elapsed = time.perf_counter() - start
    return steps * gan.train_config.batch_size / elapsed, counter.get_total_flops() / 1e9


def peer_throughput(script: Path, mnist: Path, seconds: float) -> float:
    out = Path("bench/out/throughput_peer.npy")
    out.parent.mkdir(parents=True, exist_ok=True)
    line = (
        subprocess.run(
            [sys.executable, str(script), str(mnist), str(seconds), str(out), "500"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    fields = dict(item.split("=") for item in line.split())
    return int(fields["images_seen"]) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="timed seconds per contender")
    parser.add_argument("--presets", nargs="*", default=["dcgan", "default"])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    mnist = default_data_root() / "mnist"
    data = load_mnist(mnist, "train", resolution=32)
    peak = matmul_peak_gflops()
    rows = [
        "| contender | img/s ↑ | GFLOP/step | achieved GFLOP/s | share of fp32 matmul peak |",
        "|---|---:|---:|---:|---:|",
    ]
    for preset in args.presets:
        images_per_s, gflop = preset_throughput(preset, data, args.seconds)
        achieved = images_per_s / 64 * gflop
        rows.append(
            f"| gankit `{preset}` | {images_per_s:.0f} | {gflop:.2f} | {achieved:.1f} | "
            f"{achieved / peak:.1%} |"
        )
        print(rows[-1], flush=True)
    peers = Path(os.environ.get("GANKIT_PEERS", default_data_root().parent / "peers"))
    peer = peer_throughput(peers / "mnist_dcgan_recipe.py", mnist, args.seconds)
    rows.append(f"| peer: classic DCGAN recipe (plain PyTorch) | {peer:.0f} | | | |")
    table = "\n".join(rows)
    print(table)
    if not args.no_record:
        body = (
            f"Batch 64, 32×32 MNIST, fp32 on CPU, {torch.get_num_threads()} threads; each "
            f"contender timed for {args.seconds:.0f} s after 5 warm-up steps. fp32 matmul peak "
            f"measured here: {peak:.1f} GFLOP/s (2048² GEMM, best of 5). The peer's rate "
            f"counts its whole budget (images seen / seconds).\n\n{table}\n"
        )
        append_section("Training throughput (CPU)", body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
