"""Shared by every benchmark: machine facts and appending a result section to docs/BENCHMARKS.md."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"


def machine() -> str:
    """One line describing the machine the numbers came from."""
    import torch  # here, so that a worker importing the protocol stays light until it needs torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores{gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def append_section(title: str, body: str, wall_seconds: float) -> None:
    """Append a dated section (command, commit, machine, wall time, body) to BENCHMARKS.md."""
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n## {title}\n\n- command: `{command}`\n- date: {stamp}; commit: {git_commit()}\n"
        f"- machine: {machine()}\n- wall time: {wall_seconds:.0f} s\n\n{body.rstrip()}\n"
    )
    append_text(section)


def append_text(section: str, path: Path = BENCHMARKS_MD) -> None:
    """Append a finished section to BENCHMARKS.md (created with its preamble if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(
            "# Benchmarks\n\nEvery number here was produced by the command shown "
            "with it; sections are appended by the scripts in `bench/`.\n"
        )
    with open(path, "a") as f:
        f.write(section)
    print(section)
