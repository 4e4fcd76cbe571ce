"""Shared by the benchmarks that train contenders side by side: one process per contender."""

from __future__ import annotations

import json
import os
import subprocess


def run_processes(commands: dict[str, list[str]]) -> dict[str, str]:
    """Start every command at once with one CPU thread each; name -> its last stdout line.

    Contenders that run at the same time share whatever load the machine has, so a busy machine
    slows them alike instead of favouring whichever ran first. A failed command stops the
    benchmark with the end of its stderr.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running = {
        name: subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for name, argv in commands.items()
    }
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{name} failed:\n{stderr[-3000:]}")
        lines = stdout.strip().splitlines()
        results[name] = lines[-1] if lines else ""
        print(name, results[name], flush=True)
    return results


def run_side_by_side(commands: dict[str, list[str]]) -> dict[str, dict]:
    """:func:`run_processes` for commands whose last stdout line is a JSON object."""
    return {name: json.loads(line) for name, line in run_processes(commands).items()}
