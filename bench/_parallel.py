"""Shared by the benchmarks that train contenders side by side: one process per contender."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile


def run_processes(commands: dict[str, list[str]]) -> dict[str, str]:
    """Start every command at once with one CPU thread each; name -> its last stdout line.

    Contenders that run at the same time share whatever load the machine has, so a busy machine
    slows them alike instead of favouring whichever ran first. Their output goes to temporary
    files, not pipes: a contender that writes much would otherwise block on a full pipe until
    its turn to be read, while its time budget ran on. A failed command stops the benchmark with
    the end of its stderr.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with contextlib.ExitStack() as files:
        outputs = {
            name: (files.enter_context(tempfile.TemporaryFile("w+")),
                   files.enter_context(tempfile.TemporaryFile("w+")))
            for name in commands
        }  # fmt: skip
        running = {
            name: subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=env)
            for name, argv in commands.items()
            for out, err in [outputs[name]]
        }
        results = {}
        for name, process in running.items():
            process.wait()
            out, err = outputs[name]
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise SystemExit(f"{name} failed:\n{err.read()[-3000:]}")
            lines = out.read().strip().splitlines()
            results[name] = lines[-1] if lines else ""
            print(name, results[name], flush=True)
    return results


def run_side_by_side(commands: dict[str, list[str]]) -> dict[str, dict]:
    """:func:`run_processes` for commands whose last stdout line is a JSON object."""
    return {name: json.loads(line) for name, line in run_processes(commands).items()}
