"""kill -9 at a random moment of a real ``gankit train`` process, then ``gankit resume``.

Each trial: start training in a subprocess, wait for its first checkpoint, SIGKILL it after a
seeded random delay, check every checkpoint on disk, resume, and compare the finished run with the
uninterrupted reference bit for bit. A few trials run by default, 20 with ``-m slow``.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    CHECKPOINT_EVERY,
    STEPS,
    assert_checkpoints_intact,
    different_files,
    has_checkpoint,
    kill_hard,
    latest_step,
    leftovers,
    progress,
    run_cli,
    spawn_gankit,
    train_argv,
    wait_until,
)

# A kill lands between the first checkpoint and the end of training: at ~0.05 s per step this
# window spans several checkpoint intervals, including moments inside a checkpoint save.
MAX_DELAY_S = 0.8


def kill_and_resume(trial: int, data: Path, reference: Path, workdir: Path, capsys) -> int:
    """One trial; returns the steps the kill cost (progress reached minus the resumed step)."""
    run = workdir / f"trial-{trial:02d}"
    proc = spawn_gankit(train_argv(data, run, STEPS), cwd=workdir)
    wait_until(has_checkpoint(run), proc)
    time.sleep(random.Random(trial).uniform(0, MAX_DELAY_S))
    kill_hard(proc)

    assert_checkpoints_intact(run)
    lost = progress(run) - latest_step(run)
    assert 0 <= lost <= CHECKPOINT_EVERY, f"trial {trial}: lost {lost} steps"

    code, out, err = run_cli(["resume", str(run), "--quiet"], capsys)
    assert code == 0, err
    assert f"now at step {STEPS}" in out
    assert different_files(run, reference) == []
    assert leftovers(run) == []
    return lost


def run_trials(trials: range, data, reference, workdir, capsys, record_figure, name) -> None:
    lost = [kill_and_resume(t, data, reference, workdir, capsys) for t in trials]
    record_figure(
        name,
        f"{len(lost)}/{len(lost)} kill -9 trials resumed and finished bit-identical to the "
        f"uninterrupted run; steps lost max {max(lost)} (mean {sum(lost) / len(lost):.1f}) "
        f"<= checkpoint interval {CHECKPOINT_EVERY}",
    )


def test_kill_9_then_resume_few_trials(blobs, reference_run, tmp_path, capsys, record_figure):
    run_trials(range(2), blobs, reference_run, tmp_path, capsys, record_figure, "kill9_default")


@pytest.mark.slow
def test_kill_9_then_resume_20_trials(blobs, reference_run, tmp_path, capsys, record_figure):
    run_trials(range(100, 120), blobs, reference_run, tmp_path, capsys, record_figure, "kill9_slow")
