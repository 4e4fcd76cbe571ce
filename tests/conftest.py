"""Shared fixtures: tiny, fast datasets and configurations."""

import signal

import pytest
import torch

from gankit.data import load_digits
from gankit.data.toy import toy_mixture


@pytest.fixture(scope="session")
def digits16():
    """scikit-learn digits at 16 px: real data, small enough for one-second training runs."""
    return load_digits(16)


@pytest.fixture(scope="session")
def ring():
    return toy_mixture("ring", n=4096, seed=0)


@pytest.fixture(scope="session")
def tiny_train_args():
    """`gankit train` options for a one-second run on 16-px digits with 8-channel G and D."""
    return [
        "--data",
        "digits",
        "--resolution",
        "16",
        "--batch-size",
        "8",
        "--quiet",
        "--set",
        "model.g_width=8",
        "--set",
        "model.d_width=8",
    ]


@pytest.fixture(autouse=True)
def _few_threads():
    # Tests compare numbers bit for bit; a fixed thread count fixes CPU reduction order.
    torch.set_num_threads(1)
    yield


@pytest.fixture(autouse=True, scope="session")
def _signals_as_in_a_terminal():
    """Ctrl-C and SIGTERM live, whatever the shell running pytest chose.

    A shell started in the background (nohup, CI runners) ignores SIGINT, and gankit keeps an
    ignored signal ignored (so would the ``gankit`` processes the tests spawn); the tests that send
    one need it live. What was there is restored at the end.
    """
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for sig, handler in before.items():
        signal.signal(sig, handler)


# The legacy-model writer runs against gankit 0.1.0 only (see its docstring): never collect it.
collect_ignore_glob = ["fixtures/*"]
