"""Fixtures of the reliability suite: the tiny dataset, an uninterrupted reference run, figures."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from reliability_helpers import STEPS, train_argv, write_blobs

from gankit.cli import main

_FIGURES: dict[str, str] = {}


@pytest.fixture(scope="session")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_blobs(tmp_path_factory.mktemp("data") / "blobs")


@pytest.fixture(scope="session")
def reference_run(blobs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny run trained straight through; interrupted-and-resumed runs must equal it."""
    out = tmp_path_factory.mktemp("reference") / "run"
    torch.set_num_threads(1)  # as in every test (tests/conftest.py) and every child process
    assert main(train_argv(blobs, out, STEPS)) == 0
    return out


@pytest.fixture(scope="session")
def record_figure() -> Iterator[Callable[[str, str], None]]:
    """Record a measured figure for docs/reliability.md.

    With ``GANKIT_RELIABILITY_FIGURES=path.json`` set, the figures of the session are written there
    at its end; otherwise they are only kept in memory (tests write nothing outside tmp_path).
    """

    def record(name: str, text: str) -> None:
        _FIGURES[name] = text

    yield record
    target = os.environ.get("GANKIT_RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(_FIGURES, indent=2, sort_keys=True) + "\n")
