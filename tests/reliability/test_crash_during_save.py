"""A kill at every file-system operation of a checkpoint save: resume still always succeeds.

crashlab.py forks one child per crash point (os.mkdir/fsync/replace/rename/unlink/rmdir of the
save, plus the moment right after it) and SIGKILLs it there. Each resulting run directory must hold
a loadable checkpoint named by ``latest``, lose at most one checkpoint interval, resume, and
finish bit-identical to the uninterrupted run. By default only the key points run (the renames
that publish a file or directory, and the end); ``-m slow`` runs every point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import (
    CHECKPOINT_EVERY,
    assert_checkpoints_intact,
    child_env,
    different_files,
    leftovers,
    progress,
    run_cli,
)

from gankit.io import read_json
from gankit.train.state import latest_checkpoint

CRASHLAB = Path(__file__).with_name("crashlab.py")


def crash_everywhere(data: Path, workdir: Path, selection: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(CRASHLAB), str(data), str(workdir), selection],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_crashed_runs(manifest: dict, reference: Path, capsys) -> tuple[int, int]:
    """Every crashed run resumes and ends equal to ``reference``: (points checked, max lost)."""
    worst = 0
    for point, run in manifest["runs"].items():
        run = Path(run)
        where = f"crash before {manifest['labels'][int(point)]!r} (point {point})"
        checkpoint = latest_checkpoint(run)
        assert checkpoint is not None, where
        lost = progress(run) - read_json(checkpoint / "trainer.json")["step"]
        assert 0 <= lost <= CHECKPOINT_EVERY, f"{where}: lost {lost} steps"
        worst = max(worst, lost)
        code, out, err = run_cli(["resume", str(run), "--quiet"], capsys)
        assert code == 0, f"{where}: {err}"
        assert different_files(run, reference) == [], where
        assert_checkpoints_intact(run)
        assert leftovers(run) == [], where
    return len(manifest["runs"]), worst


def run_and_check(selection, data, reference, workdir, capsys, record_figure) -> None:
    manifests = crash_everywhere(data, workdir, selection)
    for mode, manifest in manifests.items():
        points, worst = check_crashed_runs(manifest, reference, capsys)
        expected = len(manifest["labels"]) if selection == "all" else 3
        assert points == expected, mode
        record_figure(
            f"save_crash_{mode}_{selection}",
            f"{mode}: {points} of {len(manifest['labels'])} crash points resumed, bit-identical "
            f"to the uninterrupted run; max steps lost {worst} <= {CHECKPOINT_EVERY}",
        )


def test_kill_at_key_points_of_a_save(blobs, reference_run, tmp_path, capsys, record_figure):
    run_and_check("key", blobs, reference_run, tmp_path, capsys, record_figure)


@pytest.mark.slow
def test_kill_at_every_point_of_a_save(blobs, reference_run, tmp_path, capsys, record_figure):
    run_and_check("all", blobs, reference_run, tmp_path, capsys, record_figure)
