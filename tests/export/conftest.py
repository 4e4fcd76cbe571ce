"""Tiny trained models of every generator family, each exported once per session.

One training step is enough: parity compares a network with its own export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from families import FAMILIES, RECIPES

from gankit.export import load_onnx, to_onnx
from gankit.tasks import GANTask


@dataclass(frozen=True)
class Exported:
    """A trained tiny model, its directory, its .onnx files and their onnxruntime models."""

    gan: GANTask
    folder: Path
    paths: list[Path]
    runners: list[GANTask]


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    cache: dict[str, Exported] = {}

    def get(family: str) -> Exported:
        if family not in cache:
            task, preset = FAMILIES[family]
            recipe = RECIPES[task]
            root = tmp_path_factory.mktemp(family)
            gan = recipe.build(preset, health=False).fit(recipe.data(), steps=1, quiet=True)
            folder = gan.save(root / "model")
            paths = to_onnx(folder, root / f"{family}.onnx")
            runners = [load_onnx(path, threads=1) for path in paths]
            cache[family] = Exported(gan, folder, paths, runners)
        return cache[family]

    return get
