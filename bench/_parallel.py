"""Shared by the benchmarks that train contenders side by side: one process per contender."""

from __future__ import annotations

import json
import os
import subprocess


def run_side_by_side(commands: dict[str, list[str]]) -> dict[str, dict]:
    """Start every command at once with one CPU thread each; name -> its last stdout line (JSON).

    Contenders that run at the same time share whatever load the machine has, so a busy machine
    slows them alike instead of favouring whichever ran first.
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
        results[name] = json.loads(stdout.strip().splitlines()[-1])
        print(name, results[name], flush=True)
    return results
