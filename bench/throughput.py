"""Training throughput on this machine: images/s of a full D+G step and the share of fp32 peak.

For each gankit preset at 32×32, batch 64, on MNIST: the FLOPs of one training step (counted by
``torch.utils.flop_counter``), images/s over timed steps after warm-up, and that rate as a fraction
of the fp32 matmul peak, measured by the same child just before its steps. The classic DCGAN
recipe from ../shared/peers runs for the same number of seconds as the reference (its rate counts
its whole budget: images seen / seconds). Recorded under bench/protocol.py: each contender is one
child process alone with ``--threads`` threads, one after the other, once per seed.

    python bench/throughput.py                 # 3 seeds, records to docs/BENCHMARKS.md
    python bench/throughput.py --no-record --seconds 20 --seeds 0
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import protocol
import torch
from mnist_wallclock import peers_dir, run_peer
from torch.utils.flop_counter import FlopCounterMode

from gankit import ImageGAN
from gankit.data import default_data_root, load_mnist
from gankit.train import Trainer

PEER = "peer: classic DCGAN recipe (plain PyTorch)"


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


def preset_throughput(preset: str, seconds: float, seed: int) -> dict:
    """One preset's full training steps for ``seconds``: rate, FLOPs per step, share of peak."""
    data = load_mnist(default_data_root() / "mnist", "train", resolution=32)
    gan = ImageGAN(preset, resolution=32, seed=seed)
    _, info = gan.open_data(data)
    gan.data_info = info
    gan._build()
    trainer = Trainer(gan.G, gan.D, data, gan.train_config)
    peak = matmul_peak_gflops()
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
    batch = gan.train_config.batch_size
    gflop = counter.get_total_flops() / 1e9
    return {
        "steps": steps,
        "images_seen": steps * batch,
        "img_per_s": steps * batch / elapsed,
        "gflop_per_step": gflop,
        "peak_gflops": peak,
        "share_of_peak": steps * gflop / elapsed / peak,
    }


def body(args: argparse.Namespace, runs: dict[str, list[protocol.Measurement]]) -> str:
    rows = [
        "| contender | img/s ↑ | GFLOP/step | share of fp32 matmul peak |",
        "|---|---:|---:|---:|",
    ]
    for name, measured in runs.items():
        results = [m.result for m in measured]
        rate = protocol.mean_std([r["img_per_s"] for r in results], digits=0)
        if name == PEER:
            rows.append(f"| {name} | {rate} | | |")
            continue
        share = protocol.mean_std([100 * r["share_of_peak"] for r in results], digits=1)
        rows.append(
            f"| gankit `{name}` | {rate} | {results[0]['gflop_per_step']:.2f} | {share} % |"
        )
    return (
        f"Batch 64, 32×32 MNIST, fp32 on CPU; each gankit contender timed for {args.seconds:.0f} s "
        "after 5 warm-up steps, its FLOPs per step counted by torch's FlopCounterMode and its "
        "share taken of the fp32 matmul peak the same child measured just before (2048² GEMM, "
        f"best of 5). The peer trains for {args.seconds:.0f} s; its rate is images seen / "
        "seconds.\n\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="timed seconds per contender")
    parser.add_argument("--presets", nargs="*", default=["dcgan", "default"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.worker == PEER:
        with tempfile.TemporaryDirectory() as tmp:
            mnist = default_data_root() / "mnist"
            script = peers_dir() / "mnist_dcgan_recipe.py"
            result = run_peer(script, mnist, args.seconds, 500, Path(tmp) / "x.npy", args.seed)
        protocol.emit({**result, "img_per_s": result["images_seen"] / args.seconds})
        return
    if args.worker:
        protocol.emit(preset_throughput(args.worker, args.seconds, args.seed))
        return
    rec = protocol.Recording(
        f"Training throughput (CPU, {args.threads} threads, {len(args.seeds)} seeds)", args
    )
    runs: dict[str, list[protocol.Measurement]] = {}
    for seed in args.seeds:
        for name in [*args.presets, PEER]:
            argv = [sys.executable, __file__, "--worker", name, "--seed", str(seed)]
            argv += ["--seconds", str(args.seconds)]
            runs.setdefault(name, []).append(rec.run(name, argv, seed=seed, threads=args.threads))
    rec.write(body(args, runs))


if __name__ == "__main__":
    main()
