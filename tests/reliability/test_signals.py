"""Ctrl-C and SIGTERM: a real ``gankit train`` process saves, says how to resume, exits 130.

Also the Ctrl-Cs the trainer does not turn into a clean stop (during start-up, or a second one
meaning "now"): they still end in one line and exit 130, and the last checkpoint stays usable.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from reliability_helpers import (
    STEPS,
    add_callback,
    assert_checkpoints_intact,
    assert_clean_error,
    different_files,
    latest_step,
    progress,
    run_cli,
    spawn_gankit,
    train_argv,
    wait_until,
)

from gankit.train import Callback


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_saves_a_checkpoint_and_says_how_to_resume(
    signum, blobs, reference_run, tmp_path, capsys, record_figure
):
    run = tmp_path / "run"
    proc = spawn_gankit(train_argv(blobs, run), cwd=tmp_path)
    # Between checkpoints (every 5 steps), so only the signal's own checkpoint can save step 7+.
    wait_until(lambda: (run / "stats.jsonl").is_file() and progress(run) >= 7, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"gankit resume {run}" in err
    stopped = progress(run)
    assert stopped < STEPS
    saved = latest_step(run)
    assert saved == stopped  # the final checkpoint holds the last finished step
    assert_checkpoints_intact(run)
    code, _, err = run_cli(["resume", str(run), "--quiet"], capsys)
    assert code == 0, err
    assert different_files(run, reference_run) == []
    record_figure(
        f"signal_{signal.Signals(signum).name}",
        f"stopped at step {stopped}, checkpoint step {saved} (0 steps lost), exit 130, "
        "resume printed, resumed run bit-identical",
    )


class _CtrlCTwice(Callback):
    """Ctrl-C pressed twice at ``step``: the second one means "stop now, do not save"."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)


def test_second_ctrl_c_stops_at_once_and_keeps_the_last_checkpoint(
    blobs, tmp_path, capsys, monkeypatch
):
    run = tmp_path / "run"
    add_callback(monkeypatch, _CtrlCTwice(step=7))
    code, _, err = run_cli(train_argv(blobs, run), capsys)
    assert_clean_error(code, err, needle=f"gankit resume {run}", status=130)
    assert latest_step(run) == 5
    assert_checkpoints_intact(run)


def test_ctrl_c_before_training_starts_is_one_line(blobs, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the images are being read

    monkeypatch.setattr("gankit.tasks.images.open_dataset", interrupted)
    code, _, err = run_cli(train_argv(blobs, tmp_path / "run"), capsys)
    assert_clean_error(code, err, status=130)
    assert "interrupted" in err


def test_run_stopped_before_its_first_checkpoint_can_be_restarted(
    blobs, tmp_path, capsys, monkeypatch
):
    """A kill before the first checkpoint leaves config.json but no train_state: the user must
    be able to go on with one of the two commands the messages suggest."""
    run = tmp_path / "run"
    add_callback(monkeypatch, _CtrlCTwice(step=2))
    code, _, _ = run_cli(train_argv(blobs, run), capsys)
    assert code == 130 and not (run / "train_state" / "latest").exists()
    monkeypatch.undo()
    resumed, _, _ = run_cli(["resume", str(run), "--quiet"], capsys)
    restarted, _, _ = run_cli(train_argv(blobs, run), capsys)
    assert 0 in (resumed, restarted)


def test_resume_after_a_torn_stats_line(blobs, reference_run, tmp_path, capsys):
    """Power lost mid-append leaves half a JSON line at the end of stats.jsonl."""
    run = Path(shutil.copytree(reference_run, tmp_path / "run"))
    with open(run / "stats.jsonl", "a") as stats:
        stats.write('{"step": 31, "d_lo')
    code, _, err = run_cli(["resume", str(run), "--steps", "32", "--quiet"], capsys)
    assert code == 0, err
