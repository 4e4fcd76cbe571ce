"""How ``gankit sample`` writes what a generator makes, chosen by the kind of output it declares.

A generator's ``describe()["output"]`` names its kind (``images``, ``points``, ``table``,
``audio``);
:data:`WRITERS` maps each kind to the targets it can write and how. A target is one file (``-o
grid.png``, ``--grid``) or a folder (``--out-dir``, or ``-o`` with no file suffix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.io import atomic_write_bytes


@dataclass(frozen=True)
class Target:
    """Where samples go: one file, or a folder of one file per sample."""

    path: Path
    folder: bool

    @classmethod
    def from_output(cls, output: str) -> Target:
        """``-o OUTPUT``: a file when it has a suffix (grid.png, rows.csv), else a folder."""
        path = Path(output)
        return cls(path, folder=not path.suffix)


def _write_images(images: Any, target: Target, nrow: int | None, described: dict) -> None:
    from gankit.viz import save_image_grid, save_images

    if target.folder:
        save_images(images, target.path)
    else:
        save_image_grid(images, target.path, nrow=nrow)


def _write_points(points: Any, target: Target, nrow: int | None, described: dict) -> None:
    from gankit.encode import points_csv
    from gankit.viz import save_scatter

    if target.path.suffix.lower() == ".csv":
        atomic_write_bytes(target.path, points_csv(points))
    else:
        save_scatter(points, target.path)


def _write_table(rows: Any, target: Target, nrow: int | None, described: dict) -> None:
    from gankit.encode import table_csv

    atomic_write_bytes(target.path, table_csv(rows))


def _write_audio(clips: Any, target: Target, nrow: int | None, described: dict) -> None:
    from gankit.data.audio import join_clips, wav_bytes

    rate = described["sample_rate"]
    if target.folder:
        target.path.mkdir(parents=True, exist_ok=True)
        for i, clip in enumerate(clips):
            atomic_write_bytes(target.path / f"sample-{i:05d}.wav", wav_bytes(clip, rate))
        return
    atomic_write_bytes(target.path, wav_bytes(join_clips(clips, rate), rate))


@dataclass(frozen=True)
class Writer:
    """Writes one kind of output (``what``); ``takes``: the targets it can write, ``usage``: how
    to ask for them."""

    what: str
    # (samples, target, grid columns, the model's describe()) -> None
    write: Callable[[Any, Target, int | None, dict], None]
    takes: Callable[[Target], bool]
    usage: str


WRITERS: dict[str, Writer] = {
    "images": Writer(
        "images",
        _write_images,
        lambda target: target.folder or target.path.suffix.lower() == ".png",
        "a PNG grid (-o grid.png or --grid) or a folder of PNGs (-o DIR or --out-dir)",
    ),
    "points": Writer(
        "2-D points",
        _write_points,
        lambda target: not target.folder,
        "one file: a scatter plot (-o points.png) or a CSV (-o points.csv)",
    ),
    "table": Writer(
        "table rows",
        _write_table,
        lambda target: not target.folder and target.path.suffix.lower() == ".csv",
        "a CSV file (-o rows.csv)",
    ),
    "audio": Writer(
        "audio clips",
        _write_audio,
        lambda target: target.folder or target.path.suffix.lower() == ".wav",
        "a folder of WAV files (-o DIR) or one WAV of every clip in turn (-o clips.wav)",
    ),
}
