"""Kill a checkpoint save at every file-system operation it makes, one forked child per point.

Run by test_crash_during_save.py as ``python crashlab.py DATA WORKDIR SELECTION``, in two modes:

- ``fresh``: crash inside the save of step CRASH_STEP (a new directory; the save also prunes
  the oldest checkpoint).
- ``resave``: first leave step CRASH_STEP's directory complete but ``latest`` still naming the
  previous one (the crash point right after that directory's rename), then resume and crash
  inside the second save of the same step, which must replace a directory that already exists.

Operations are os.mkdir/fsync/replace/rename/unlink/rmdir calls made while that save runs;
"crash before operation k" for every k, plus once right after the save returns, covers every
state the disk can be left in. ``SELECTION`` is ``all`` or ``key`` (the renames that publish
something and the end). Prints a JSON manifest per mode: the operation labels and one run per
point.

The parent imports gankit but runs no torch operation before forking, so each child is a clean
copy that costs no interpreter start-up; each child SIGKILLs itself, exactly like ``kill -9``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from reliability_helpers import STEPS, TINY_MODEL, TINY_TRAIN

import gankit.train.engine
from gankit.io import read_config
from gankit.tasks import TASKS, ImageGAN

CRASH_STEP = 20  # the fourth checkpoint: three exist, so this save also prunes the oldest
MODES = ("fresh", "resave")
_WATCHED = ("mkdir", "fsync", "replace", "rename", "unlink", "rmdir")


class Probe:
    """Counts file-system operations during the watched save; SIGKILLs the process at one."""

    def __init__(self, crash_at: int | None, save_number: int) -> None:
        self.crash_at = crash_at
        self.save_number = save_number  # which save of CRASH_STEP to watch (1st, or 2nd)
        self.saves_seen = 0
        self.armed = False
        self.labels: list[str] = []

    def hit(self, label: str) -> None:
        if not self.armed:
            return
        if len(self.labels) == self.crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        self.labels.append(label)

    def install(self) -> None:
        for name in _WATCHED:
            setattr(os, name, self._watch(name, getattr(os, name)))
        real_write = gankit.train.engine.write_checkpoint

        def write_checkpoint(run_dir, step, *args, **kwargs):
            if step == CRASH_STEP:
                self.saves_seen += 1
                self.armed = self.saves_seen == self.save_number
            try:
                return real_write(run_dir, step, *args, **kwargs)
            finally:
                self.hit("save returned")
                self.armed = False

        gankit.train.engine.write_checkpoint = write_checkpoint

    def _watch(self, name: str, real: Callable) -> Callable:
        def watched(*args, **kwargs):
            paths = [Path(a).name for a in args if isinstance(a, str | os.PathLike)]
            self.hit(" ".join([name, *paths]))
            return real(*args, **kwargs)

        return watched


def train(data: str, run: Path, probe: Probe, resume: bool) -> None:
    """The tiny run of reliability_helpers through the Python API, watched by ``probe``."""
    probe.install()
    if resume:
        gan = TASKS["images"].from_config(read_config(run))
        gan.fit(None, steps=STEPS, out=run, resume=True, quiet=True)
    else:
        gan = ImageGAN(resolution=16, model=TINY_MODEL, **TINY_TRAIN)
        gan.fit(data, steps=STEPS, out=run, quiet=True)


def in_child(work: Callable[[], None]) -> int:
    """Run ``work`` in a forked child; returns its wait status (the child never returns)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1]


def watched_labels(data: str, run: Path, save_number: int, resume: bool) -> list[str]:
    """The operations of the watched save, from a child that runs it without crashing."""
    labels_file = run.with_suffix(".labels.json")

    def work() -> None:
        probe = Probe(None, save_number)
        try:
            train(data, run, probe, resume)
        finally:
            labels_file.write_text(json.dumps(probe.labels))

    status = in_child(work)
    assert os.waitstatus_to_exitcode(status) == 0, f"counting run failed: {status}"
    return json.loads(labels_file.read_text())


def key_points(labels: list[str]) -> list[int]:
    """The points that matter most: before publishing the step directory, before moving
    ``latest``, and right after the save."""
    published = (f"step-{CRASH_STEP:06d}", "latest")
    return [
        i
        for i, label in enumerate(labels)
        if label.startswith("replace") and label.split()[-1] in published
    ] + [len(labels) - 1]


def prepare_resave(data: str, work: Path) -> Path:
    """A run whose step-CRASH_STEP directory is complete but ``latest`` still names the one
    before: the disk after a crash between publishing the directory and the pointer."""
    count_run = work / "prepare-count"
    labels = watched_labels(data, count_run, 1, resume=False)
    shutil.rmtree(count_run)
    publish = key_points(labels)[0]
    base = work / "prepared"
    status = in_child(lambda: train(data, base, Probe(publish + 1, 1), resume=False))
    assert os.WTERMSIG(status) == signal.SIGKILL, status
    return base


def crash_runs(data: str, work: Path, mode: str, selection: str) -> dict:
    """Crash the watched save of ``mode`` at the selected points; the manifest of that mode."""
    work.mkdir(parents=True)
    base = prepare_resave(data, work) if mode == "resave" else None

    def fresh_copy(name: str) -> Path:
        run = work / name
        if base is not None:
            shutil.copytree(base, run, symlinks=True)
        return run

    resume = base is not None
    labels = watched_labels(data, fresh_copy("count"), 1, resume)
    points = range(len(labels)) if selection == "all" else key_points(labels)
    runs = {}
    for point in points:
        run = fresh_copy(f"crash-{point:03d}")
        status = in_child(lambda run=run, point=point: train(data, run, Probe(point, 1), resume))
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (point, status)
        runs[point] = str(run)
    return {"labels": labels, "runs": runs}


def warm_imports() -> None:
    """Import what a run imports lazily (torch.optim pulls in torch._dynamo: seconds), once."""
    import matplotlib.pyplot  # noqa: F401  (the loss plot at the end of a run)
    import torch._dynamo  # noqa: F401


def main(data: str, workdir: str, selection: str) -> None:
    torch.set_num_threads(1)
    warm_imports()
    manifest = {mode: crash_runs(data, Path(workdir) / mode, mode, selection) for mode in MODES}
    print(json.dumps(manifest))


if __name__ == "__main__":
    main(*sys.argv[1:])
