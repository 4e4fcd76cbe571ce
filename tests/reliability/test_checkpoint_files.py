"""The files a save leaves behind: permissions, pruning order, and crash leftovers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import torch
from reliability_helpers import latest_step, leftovers

from gankit.io import atomic_dir, save_tensors, tidy_dir
from gankit.train.state import STATE_DIR, latest_checkpoint, write_checkpoint

TENSORS = {"G": {"w": torch.zeros(2)}}


def _save(run: Path, step: int, keep: int = 3) -> None:
    write_checkpoint(run, step, TENSORS, {"step": step}, keep=keep)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_files_get_the_usual_permissions(tmp_path):
    """Written via mkstemp/mkdtemp (0600/0700) but shared like any file (umask applies)."""
    umask = os.umask(0o022)
    os.umask(umask)
    _save(tmp_path, 5)
    step_dir = latest_checkpoint(tmp_path)
    assert _mode(step_dir) == 0o777 & ~umask
    assert _mode(step_dir / "G.safetensors") == 0o666 & ~umask
    assert _mode(tmp_path / STATE_DIR / "latest") == 0o666 & ~umask


def test_pruning_orders_steps_by_number(tmp_path):
    for step in (999_998, 999_999, 1_000_000):
        _save(tmp_path, step, keep=2)
    names = sorted(p.name for p in (tmp_path / STATE_DIR).glob("step-*"))
    assert names == ["step-1000000", "step-999999"]
    assert latest_checkpoint(tmp_path).name == "step-1000000"


def test_pruning_after_going_back_in_time_keeps_latest(tmp_path):
    """keep=1 after a resume from step 10 (step 15's pointer was lost) and a stop at step 12."""
    for step in (5, 10, 15):
        _save(tmp_path, step)
    _save(tmp_path, 12, keep=1)
    assert latest_step(tmp_path) == 12
    assert latest_checkpoint(tmp_path).name == "step-000012"


def test_next_save_clears_what_a_killed_save_left(tmp_path):
    _save(tmp_path, 5)
    root = tmp_path / STATE_DIR
    (root / ".step-000010.abcd.tmp").mkdir()  # a step directory being written
    (root / ".step-000010.abcd.tmp" / "G.safetensors").write_bytes(b"half")
    (root / ".latest.efgh.tmp").write_bytes(b"step-")  # a pointer being written
    (root / ".step-000001.pruned.tmp").mkdir()  # a pruned directory being deleted
    _save(tmp_path, 10)
    assert leftovers(tmp_path) == []


def test_a_crash_between_the_two_renames_of_a_replace_is_recovered(tmp_path):
    """atomic_dir moves the old directory aside, then the new one in; a kill in between leaves
    only the old one (aside): readers still find it, and the next writer puts it back."""
    _save(tmp_path, 5)
    root = tmp_path / STATE_DIR
    os.replace(root / "step-000005", root / ".step-000005.old")
    assert latest_checkpoint(tmp_path).name == ".step-000005.old"
    tidy_dir(root)
    assert latest_checkpoint(tmp_path) == root / "step-000005"


def test_atomic_dir_replaces_a_directory_whole(tmp_path):
    target = tmp_path / "model"
    for value in (1.0, 2.0):
        with atomic_dir(target) as tmp:
            save_tensors(tmp / "w.safetensors", {"w": torch.full((2,), value)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
