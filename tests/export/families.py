"""The generator families export covers, and the tiny recipes they train with.

The recipes are the contract test's (``tests/tasks/test_contract.py``), imported, not copied.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "tasks"))
from test_contract import HAS_TEXT_ENCODER, RECIPES  # noqa: E402, F401 (re-exported)

# family -> (task, preset): every architecture gankit generates or translates with.
FAMILIES = {
    "dcgan": ("images", "dcgan"),
    "resnet-sn": ("images", "resnet-sn"),
    "dcgan-cbn-projection": ("images", "default-cond"),  # class index as an input
    "resnet-sn-cbn-projection": ("images", "resnet-sn-cond"),
    "text-images": ("text-images", "default"),  # sentence embedding as an input
    "unet-pix2pix": ("pix2pix", "default"),
    "unet-cyclegan": ("cyclegan", "default"),  # one file per direction
    "rrdb-superres": ("superres", "esrgan"),
    "tabular": ("tabular", "default"),
    "toy-mlp": ("toy", "toy-mlp"),
    "toy-mlp-buckets": ("toy", "toy-rpgan"),
}


def family_params() -> list:
    return [
        pytest.param(
            family,
            marks=pytest.mark.skipif(
                task == "text-images" and not HAS_TEXT_ENCODER, reason="needs the `text` extra"
            ),
            id=family,
        )
        for family, (task, _) in FAMILIES.items()
    ]
