"""Model directories of every task kind, trained two steps from the contract tests' tiny recipes,
once per session; each folder's name is the name it is served under."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _contract_tests():
    """tests/tasks/test_contract.py, loaded by path (``tests`` is no importable package here)."""
    path = Path(__file__).parents[1] / "tasks" / "test_contract.py"
    spec = importlib.util.spec_from_file_location("_serve_contract_recipes", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


_CONTRACT = _contract_tests()
HAS_TEXT_ENCODER, RECIPES = _CONTRACT.HAS_TEXT_ENCODER, _CONTRACT.RECIPES

# Served name -> (task, preset): every inference shape, condition kind and output kind.
MODELS = {
    "digits": ("images", "default"),
    "digits-cond": ("images", "default-cond"),
    "ring": ("toy", "toy-mlp"),
    "table": ("tabular", "default"),
    "edges": ("pix2pix", "default"),
    "cycle": ("cyclegan", "default"),
    "sr": ("superres", "psnr"),
}
if HAS_TEXT_ENCODER:
    MODELS["captions"] = ("text-images", "default")


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Served name -> its model directory (trained on first use, kept for the session)."""
    root = tmp_path_factory.mktemp("served")
    dirs = {}
    for name, (task, preset) in MODELS.items():
        recipe = RECIPES[task]
        recipe.build(preset).fit(recipe.data(), steps=2, out=root / name, quiet=True)
        dirs[name] = root / name
    return dirs
