"""Shared pieces of the reliability suite: a tiny run, real subprocesses, checkpoint checks.

Every run here trains the ``default`` preset at 16 px with 8-wide G/D on an unlabelled folder of
48 generated images: unlabelled, so the end-of-run report skips its classifier and a whole run
(import, train, save, report) takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.io import load_tensors, read_json
from gankit.tasks.base import GANTask
from gankit.train import Callback
from gankit.train.state import LATEST, STATE_DIR

STEPS = 30
CHECKPOINT_EVERY = 5
# Every file a complete checkpoint directory holds (gankit/train/state.py documents the layout).
CHECKPOINT_FILES = {
    *(f"{stem}.safetensors" for stem in ("G", "G_ema", "D", "optim_G", "optim_D", "rng")),
    "trainer.json",
}
WEIGHT_FILES = ("G.safetensors", "G_ema.safetensors", "D.safetensors")

# The Python API spelling of TINY_ARGS, for runs that need hooks the CLI does not offer.
TINY_MODEL = {"g_width": 8, "d_width": 8, "latent_dim": 8}
TINY_TRAIN = {
    "batch_size": 8,
    "checkpoint_every": CHECKPOINT_EVERY,
    "log_every": 1,  # one stats.jsonl line per step: the last line is the progress a kill loses
    "sample_every": 1000,
}
TINY_ARGS = [
    "--resolution",
    "16",
    "--quiet",
    *(
        arg
        for key, value in TINY_TRAIN.items()
        for arg in (f"--{key.replace('_', '-')}", str(value))
    ),
    *(arg for key, value in TINY_MODEL.items() for arg in ("--set", f"model.{key}={value}")),
]


def write_blobs(folder: Path, n: int = 48, size: int = 16) -> Path:
    """``n`` seeded grayscale PNGs of one soft blob each: a real image folder, without labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:size, 0:size]
    for i in range(n):
        cy, cx = rng.uniform(3, size - 3, 2)
        radius = rng.uniform(2, 5)
        pixels = 255 * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * radius**2))
        Image.fromarray(pixels.astype(np.uint8)).save(folder / f"blob-{i:03d}.png")
    return folder


def train_argv(data: Path, out: Path, steps: int = STEPS) -> list[str]:
    """``gankit train`` arguments of the tiny run."""
    return ["train", "--data", str(data), "--out", str(out), "--steps", str(steps), *TINY_ARGS]


def child_env() -> dict[str, str]:
    # One thread: the subprocess then computes exactly what the in-process runs compute (tests
    # run torch on one thread), and it leaves the second core to whoever shares the machine.
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def spawn_gankit(argv: Sequence[str], cwd: Path) -> subprocess.Popen:
    """Start ``gankit ARGV`` as a real process (its own interpreter, its own signal handling)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gankit.cli", *argv],
        cwd=cwd,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll ``condition`` until it holds; fail with the process output if it exits first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"gankit exited with {proc.returncode} too early:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"condition not reached within {timeout} s")
        time.sleep(0.02)


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL: no handler, no cleanup, no flush; what a power cut or the OOM killer does."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """``gankit ARGV`` in this process: (exit status, stdout, stderr). Argparse exits count too."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_error(code: int, err: str, needle: str | None = None, status: int = 2) -> None:
    """The CLI contract for bad input: exit ``status``, an ``error:`` line, no traceback."""
    assert "Traceback" not in err, err
    assert code == status, f"exit {code}, expected {status}: {err}"
    lines = err.strip().splitlines()
    # gankit prints one line; argparse prints its usage (a few lines) and then its one error line.
    assert lines and "error:" in lines[-1], err
    assert len(lines) == 1 or lines[0].startswith("usage:"), err
    if needle is not None:
        assert needle in err, err


def progress(run: Path) -> int:
    """The last step whose statistics reached ``stats.jsonl`` (log_every is 1)."""
    lines = (run / "stats.jsonl").read_text().splitlines()
    return int(json.loads(lines[-1])["step"]) if lines else 0


def latest_step(run: Path) -> int:
    return int((run / STATE_DIR / LATEST).read_text().strip().removeprefix("step-"))


def has_checkpoint(run: Path) -> Callable[[], bool]:
    return lambda: (run / STATE_DIR / LATEST).is_file()


def assert_checkpoints_intact(run: Path) -> list[str]:
    """Every visible checkpoint directory is complete and every file in it parses.

    Returns their names. ``latest`` must name one of them.
    """
    root = run / STATE_DIR
    names = sorted(p.name for p in root.glob("step-*"))
    for name in names:
        files = {p.name for p in (root / name).iterdir()}
        assert files == CHECKPOINT_FILES, f"{name} holds {sorted(files)}"
        for file in files - {"trainer.json"}:
            load_tensors(root / name / file)
        read_json(root / name / "trainer.json")
    assert (root / LATEST).read_text().strip() in names
    return names


def different_files(run: Path, reference: Path) -> list[str]:
    """Weights and newest-checkpoint files that are not byte-identical between two runs.

    safetensors serialises equal tensors to equal bytes, so byte equality is tensor equality.
    """
    latest = (reference / STATE_DIR / LATEST).read_text().strip()
    paths = [*WEIGHT_FILES, *(f"{STATE_DIR}/{latest}/{name}" for name in sorted(CHECKPOINT_FILES))]
    return [p for p in paths if (run / p).read_bytes() != (reference / p).read_bytes()]


def leftovers(run: Path) -> list[str]:
    """Temporary files or directories (``.name.*.tmp``, ``.name.old``) under ``train_state``."""
    return sorted(p.name for p in (run / STATE_DIR).iterdir() if p.name.startswith("."))


def add_callback(monkeypatch: pytest.MonkeyPatch, callback: Callback) -> None:
    """Make every run started in this test (CLI included) also call ``callback``."""
    real = GANTask._callbacks
    monkeypatch.setattr(GANTask, "_callbacks", lambda *args: [*real(*args), callback])
