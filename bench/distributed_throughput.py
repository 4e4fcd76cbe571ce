"""Distributed training on CPU: 2 processes x 1 thread against 1 process x 2 threads.

The same training (ImageGAN preset ``default`` at 32x32 on MNIST when ``$GANKIT_DATA/mnist`` is
there, else scikit-learn's digits; global batch 64, fp32) timed for an equal number of steps
after 5 warm-up steps, as

- **1 process x 2 threads**: the plain engine, ``torch.set_num_threads(2)``;
- **2 processes x 1 thread**: ``torchrun --standalone --nproc_per_node=2`` with
  ``OMP_NUM_THREADS=1``, gloo, G and D in DDP, each rank 32 images of every batch.

Contenders alternate, ``--repeats`` times each; every run records wall and CPU seconds (summed
over processes) and the load average before and after (this machine is shared: other work
running at the same time moves the numbers, which is why the contenders interleave). The goal
of issue 27 is a ratio >= 0.9: on 2 cores distribution shows correctness, not speed-up.

    python bench/distributed_throughput.py                 # records to docs/BENCHMARKS.md
    python bench/distributed_throughput.py --steps 20 --repeats 1 --no-record
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402

BATCH = 64
WARMUP = 5


def worker(steps: int, out: Path) -> None:
    """One contender's run (every rank of it): warm up, time ``steps`` steps, write the result."""
    import torch
    import torch.distributed as dist

    from gankit import ImageGAN
    from gankit.config import replace
    from gankit.data import default_data_root
    from gankit.train import Trainer

    mnist = default_data_root() / "mnist" / "train-images-idx3-ubyte.gz"
    source = "mnist" if mnist.exists() else "digits"
    gan = ImageGAN("default", resolution=32)
    data, info = gan.open_data(source)
    gan.data_info = info
    gan._build()
    config = replace(gan.train_config, "training option", batch_size=BATCH, health=False)
    trainer = Trainer(gan.G, gan.D, data, config)
    for _ in range(WARMUP):  # kernel selection, allocator, DDP's first buckets
        trainer.train_step()
    distributed = trainer.dist is not None
    if distributed:
        dist.barrier()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.train_step()
    if distributed:
        dist.barrier()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cpu_total = torch.tensor([cpu])
    if distributed:
        dist.all_reduce(cpu_total)
    if trainer.dist is None or trainer.dist.is_main:
        result = {
            "data": source,
            "wall_s": wall,
            "cpu_s": float(cpu_total),
            "img_per_s": steps * BATCH / wall,
            "threads": torch.get_num_threads(),
        }
        out.write_text(json.dumps(result))


def contender(processes: int, steps: int) -> dict:
    """Run one contender in fresh processes; its result and the load before and after."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        script = [str(Path(__file__).resolve()), "--worker", str(out), "--steps", str(steps)]
        if processes == 1:
            command = [sys.executable, *script]
        else:
            command = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                f"--nproc_per_node={processes}",
                *script,
            ]
        threads = 2 // processes
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        load_before = os.getloadavg()[0]
        subprocess.run(command, env=env, check=True, capture_output=True)
        result = json.loads(out.read_text())
        return {**result, "processes": processes, "load": (load_before, os.getloadavg()[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.steps, args.worker)
        return
    started = time.perf_counter()
    runs: list[dict] = []
    for repeat in range(args.repeats):
        for processes in (1, 2):  # interleaved, so that load changes hit both alike
            runs.append({**contender(processes, args.steps), "repeat": repeat + 1})
            print(runs[-1], flush=True)
    rows = [
        "| repeat | contender | threads each | img/s ↑ | wall s | CPU s | load before → after |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        name = "1 process" if run["processes"] == 1 else f"{run['processes']} processes (DDP, gloo)"
        rows.append(
            f"| {run['repeat']} | {name} | {run['threads']} | {run['img_per_s']:.0f} | "
            f"{run['wall_s']:.1f} | {run['cpu_s']:.1f} | {run['load'][0]:.2f} → "
            f"{run['load'][1]:.2f} |"
        )
    rates = {p: [r["img_per_s"] for r in runs if r["processes"] == p] for p in (1, 2)}
    ratios = [two / one for one, two in zip(rates[1], rates[2], strict=True)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.9 else "missed"
    body = (
        f"ImageGAN `default`, 32×32 {runs[0]['data']}, global batch {BATCH}, fp32 on CPU; "
        f"{args.steps} timed steps after {WARMUP} warm-up steps per run; contenders alternate, "
        f"{args.repeats} repeats. CPU seconds are summed over the processes. The machine is "
        "shared with other engineers' test runs, so the load average (1 min) is shown before "
        "and after each run.\n\n"
        + "\n".join(rows)
        + f"\n\nMedian img/s: 1 process × 2 threads {statistics.median(rates[1]):.0f}, "
        f"2 processes × 1 thread {statistics.median(rates[2]):.0f}; ratio per repeat "
        f"{', '.join(f'{r:.2f}' for r in ratios)}, median **{ratio:.2f}** (goal ≥ 0.9: "
        f"**{verdict}**).\n"
    )
    print(body)
    if not args.no_record:
        append_section(
            "Distributed training on CPU: 2 processes × 1 thread vs 1 process × 2 threads",
            body,
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
