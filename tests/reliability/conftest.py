"""Fixtures of the reliability suite: the tiny dataset, an uninterrupted reference run, figures."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from reliability_helpers import STEPS, train_argv, write_blobs

from gankit.cli import main

_FIGURES: dict[str, str] = {}
_FUZZ_OUTCOMES: dict[str, int] = {}  # pytest outcome -> cases


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
def record_figure() -> Callable[[str, str], None]:
    """Record a measured figure for docs/reliability.md.

    With ``GANKIT_RELIABILITY_FIGURES=path.json`` set, the figures of the session are written there
    at its end; otherwise they are only kept in memory (tests write nothing outside tmp_path).
    """

    def record(name: str, text: str) -> None:
        _FIGURES[name] = text

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count what the fuzz cases did: a figure claims only the outcomes pytest reported."""
    if "test_fuzz_inputs.py::test_bad_" not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _FUZZ_OUTCOMES[report.outcome] = _FUZZ_OUTCOMES.get(report.outcome, 0) + 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _FUZZ_OUTCOMES:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(_FUZZ_OUTCOMES.items()))
        _FIGURES["fuzz_outcomes"] = (
            f"{sum(_FUZZ_OUTCOMES.values())} bad-input cases run: {counts} "
            "(each pass asserted: no traceback, one clear error or a counted skip)"
        )
    target = os.environ.get("GANKIT_RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(_FIGURES, indent=2, sort_keys=True) + "\n")
