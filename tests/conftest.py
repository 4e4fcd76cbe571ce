"""Shared fixtures: tiny, fast datasets and configurations."""

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
