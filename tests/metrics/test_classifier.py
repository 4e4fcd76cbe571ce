"""Digit classifier: trains, round-trips through a model directory, refuses tampered weights."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from gankit.errors import GankitError
from gankit.metrics import (
    DigitClassifier,
    DigitClassifierConfig,
    build_extractor,
    load_classifier,
    save_classifier,
    train_digit_classifier,
)


@pytest.fixture(scope="module")
def digits():
    """600 sklearn 8x8 digits, upsampled to 32 px in [-1, 1] (a 32-px generator's format)."""
    data = load_digits()
    images = torch.from_numpy(data.images[:600]).float()[:, None] / 16.0 * 2 - 1  # (N, 1, 8, 8)
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    return images.clamp(-1, 1), torch.from_numpy(data.target[:600])


# A narrow non-default architecture: fast on a shared CPU, and checks config.json rebuilds it.
SMALL = DigitClassifierConfig(channels=(8, 16), feature_dim=32)


@pytest.fixture(scope="module")
def trained(digits):
    images, labels = digits
    losses = []
    model = train_digit_classifier(
        images,
        labels,
        steps=40,
        seed=0,
        batch_size=64,
        config=SMALL,
        on_step=lambda step, loss: losses.append(loss),
    )
    return model, losses


def test_training_reduces_loss_and_learns(trained, digits):
    model, losses = trained
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    images, labels = digits
    with torch.no_grad():
        accuracy = (model(images).argmax(1) == labels).float().mean().item()
    assert accuracy > 0.7  # 40 small steps; the full-MNIST check is done by hand (see report)


def test_training_is_deterministic(digits):
    images, labels = digits
    a = train_digit_classifier(
        images[:96], labels[:96], steps=5, seed=7, batch_size=32, config=SMALL
    )
    b = train_digit_classifier(
        images[:96], labels[:96], steps=5, seed=7, batch_size=32, config=SMALL
    )
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name


def test_input_protocol(trained, digits):
    model, _ = trained
    images, _ = digits
    with torch.no_grad():
        feats = model.features(images[:8])
        # 28-px input takes the same resize path: resizing to 28 first changes nothing
        resized = F.interpolate(images[:8], size=(28, 28), mode="bilinear", antialias=True)
        assert torch.allclose(model.features(resized), feats, atol=1e-5)
    assert feats.shape == (8, 32)
    with pytest.raises(GankitError, match=r"\(B, 1, H, W\)"):
        model(images[:, 0])
    with pytest.raises(GankitError, match=r"\[-1, 1\]"):
        model(images * 127.5 + 127.5)


def test_save_load_round_trip(trained, digits, tmp_path):
    model, _ = trained
    images, _ = digits
    save_classifier(model, tmp_path / "clf", metadata={"data": "sklearn digits"})
    config = json.loads((tmp_path / "clf" / "config.json").read_text())
    assert config["task"] == "extractor" and config["kind"] == "digit-classifier"
    assert config["format_version"] == 1 and len(config["sha256"]) == 64
    loaded = load_classifier(tmp_path / "clf")
    assert loaded.config == SMALL
    with torch.no_grad():
        assert torch.equal(loaded(images[:16]), model(images[:16]))
        assert torch.equal(loaded.features(images[:16]), model.features(images[:16]))


def test_tampered_weights_are_refused(trained, tmp_path):
    model, _ = trained
    save_classifier(model, tmp_path / "clf")
    weights = tmp_path / "clf" / "classifier.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # flip the bits of one weight byte: still a valid safetensors file
    weights.write_bytes(bytes(data))
    with pytest.raises(GankitError, match="sha256"):
        load_classifier(tmp_path / "clf")


def test_unknown_config_key_is_refused(tmp_path):
    save_classifier(DigitClassifier(), tmp_path / "clf")
    path = tmp_path / "clf" / "config.json"
    config = json.loads(path.read_text())
    config["chanels"] = [8, 8]
    path.write_text(json.dumps(config))
    with pytest.raises(GankitError, match="chanels"):
        load_classifier(tmp_path / "clf")


def test_save_refuses_to_replace_other_directories(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "G.safetensors").write_bytes(b"x")
    with pytest.raises(GankitError, match="refusing"):
        save_classifier(DigitClassifier(), tmp_path / "run")
    assert (tmp_path / "run" / "G.safetensors").exists()


def test_extractor_registry(trained, digits, tmp_path):
    model, _ = trained
    images, _ = digits
    save_classifier(model, tmp_path / "clf")
    sha = json.loads((tmp_path / "clf" / "config.json").read_text())["sha256"]
    for name in ("digit-classifier", "model-dir"):
        extractor = build_extractor(name, path=tmp_path / "clf")
        assert extractor.identity.startswith(f"digit-classifier sha256={sha} input=")
        feats = extractor.extract(images[:50], batch_size=16)
        with torch.no_grad():
            assert torch.allclose(feats, model.features(images[:50]), atol=1e-6)
        assert extractor.extract([images[:10], images[10:20]]).shape == (20, 32)
    with pytest.raises(GankitError, match="valid"):
        build_extractor("no-such-extractor")
    with pytest.raises(GankitError, match="path="):
        build_extractor("digit-classifier")
