"""Disk full and unwritable output folders: refused before training, or a clean stop that keeps
the previous checkpoint, and a resume that continues exactly once space is back.

The full disk is real: a small tmpfs mounted inside tmp_path (needs root with CAP_SYS_ADMIN, as
in the project's containers; skipped elsewhere), filled by a callback in the middle of training.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import (
    add_callback,
    assert_checkpoints_intact,
    assert_clean_error,
    different_files,
    latest_step,
    leftovers,
    run_cli,
    train_argv,
)

from gankit.train import Callback


def _mount_tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """64 MiB: enough for gankit's 50 MiB free-space preflight, small enough to fill fast."""
    yield from _mount_tmpfs(tmp_path / "disk", "size=64m")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount_tmpfs(tmp_path / "disk", "size=8m")


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount_tmpfs(tmp_path / "disk", "size=1m,ro")


class _FillDisk(Callback):
    """Another program fills the disk at ``step``: every later new block fails with ENOSPC."""

    def __init__(self, filler: Path, step: int) -> None:
        self.filler, self.step = filler, step

    def on_step_end(self, trainer) -> None:
        if trainer.step != self.step:
            return
        with open(self.filler, "wb", buffering=0) as f:
            for size in (2**20, 4096, 1):  # big chunks, then the last pages, then the last bytes
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError as err:
                    assert err.errno == errno.ENOSPC


def test_disk_full_mid_run_stops_cleanly_and_resumes(
    small_disk, blobs, reference_run, monkeypatch, capsys, record_figure
):
    run, filler = small_disk / "run", small_disk / "filler"
    add_callback(monkeypatch, _FillDisk(filler, step=7))
    code, _, err = run_cli(train_argv(blobs, run), capsys)
    assert_clean_error(code, err, "No space left on device")
    message = err.strip()
    assert latest_step(run) == 5
    assert_checkpoints_intact(run)
    assert leftovers(run) == []

    monkeypatch.undo()
    filler.unlink()
    code, _, err = run_cli(["resume", str(run), "--quiet"], capsys)
    assert code == 0, err
    assert different_files(run, reference_run) == []
    record_figure("disk_full", f"real ENOSPC (tmpfs filled at step 7), exit 2: {message}")


def test_nearly_full_disk_is_refused_before_training(tiny_disk, blobs, capsys):
    code, _, err = run_cli(train_argv(blobs, tiny_disk / "run"), capsys)
    assert_clean_error(code, err, "MiB free")
    assert not (tiny_disk / "run" / "config.json").exists()


def test_read_only_disk_is_refused_before_training(read_only_disk, blobs, capsys):
    code, _, err = run_cli(train_argv(blobs, read_only_disk / "run"), capsys)
    assert_clean_error(code, err, "cannot write to output folder")


def test_output_below_a_file_is_refused_before_training(blobs, tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    code, _, err = run_cli(train_argv(blobs, tmp_path / "a-file" / "run"), capsys)
    assert_clean_error(code, err, "a-file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_unwritable_output_is_refused_before_training(blobs, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_cli(train_argv(blobs, locked / "run"), capsys)
    assert_clean_error(code, err, "cannot write to output folder")
