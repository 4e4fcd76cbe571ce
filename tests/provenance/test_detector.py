"""The detector of generated images: training, files, errors and the CLI (tiny, deterministic)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from gankit import GankitError, ImageGAN
from gankit.cli import main as gankit
from gankit.data import default_data_root, load_mnist, open_dataset
from gankit.io import read_json, write_json
from gankit.provenance import (
    Detector,
    DetectorConfig,
    detect,
    load_detector,
    save_detector,
    train_detector,
)
from gankit.provenance.detector import TRAINING_ATTACKS, shipped_detector_dir

TINY = DetectorConfig(widths=(8, 16, 16))
MNIST_ROOT = default_data_root() / "mnist"


def _auroc(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> float:
    """P(a fake scores above a real), ties counting one half."""
    above = (fake_scores[:, None] > real_scores[None, :]).float().mean()
    ties = (fake_scores[:, None] == real_scores[None, :]).float().mean()
    return (above + ties / 2).item()


def _checkerboard(images: torch.Tensor) -> torch.Tensor:
    """A transposed convolution's signature: a faint 2-pixel checkerboard over the image."""
    rows, cols = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    pattern = ((rows + cols) % 2).float() * 2 - 1  # +-1
    return (images.float() + 24 * pattern).round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits at 32 px: reals, and the same digits with a checkerboard (fakes);
    the first 1,400 for training, the rest for testing."""
    real = open_dataset("digits", 32).images
    return real, _checkerboard(real)


@pytest.fixture(scope="module")
def trained(digits) -> Detector:
    # Module fixtures run before conftest's per-test thread setting: pin it here too.
    torch.set_num_threads(1)
    real, fake = digits
    return train_detector(real[:1400], fake[:1400], TINY, steps=120, batch_size=32, seed=0)


def test_a_tiny_detector_separates_real_from_generated(digits, trained):
    real, fake = digits
    real_scores, fake_scores = detect(real[1400:], trained), detect(fake[1400:], trained)
    assert _auroc(real_scores, fake_scores) > 0.97
    assert ((real_scores < 0.5).float().mean() + (fake_scores >= 0.5).float().mean()) / 2 > 0.9


def test_training_is_deterministic_and_leaves_the_global_rng(digits):
    real, fake = digits
    state = torch.random.get_rng_state()
    first = train_detector(real[:64], fake[:64], TINY, steps=3, batch_size=8, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    second = train_detector(real[:64], fake[:64], TINY, steps=3, batch_size=8, seed=1)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_every_training_attack_keeps_images_readable(digits):
    import random

    rng = random.Random(0)
    for attack in TRAINING_ATTACKS:
        out = attack(digits[0][:4], rng)
        assert out.dtype == torch.uint8 and out.shape[:2] == (4, 1) and min(out.shape[-2:]) >= 16


def test_save_and_load_round_trip_is_identical(tmp_path, digits, trained):
    folder = save_detector(trained, tmp_path / "det", {"data": "digits vs checkerboard"})
    loaded = load_detector(folder)
    assert loaded.config == trained.config
    images = torch.cat([digits[0][1400:1432], digits[1][1400:1432]])
    assert torch.equal(detect(images, folder), detect(images, trained))
    config = read_json(folder / "config.json")
    assert config["task"] == "detector" and config["metadata"] == {"data": "digits vs checkerboard"}
    save_detector(loaded, folder)  # a detector directory may be replaced by a detector


def test_bad_input_and_bad_directories_get_one_clear_message(tmp_path, trained):
    with pytest.raises(GankitError, match="too small"):
        detect(torch.zeros(1, 1, 12, 40, dtype=torch.uint8), trained)
    with pytest.raises(GankitError, match="uint8 images"):
        detect(torch.zeros(1, 3, 32, 32), trained)
    with pytest.raises(GankitError, match="1 \\(gray\\) or 3"):
        detect(torch.zeros(1, 2, 32, 32, dtype=torch.uint8), trained)
    with pytest.raises(GankitError, match="holds no detector"):
        load_detector(tmp_path / "missing")
    with pytest.raises(GankitError, match="one size"):
        train_detector(
            torch.zeros(4, 1, 32, 32, dtype=torch.uint8),
            torch.zeros(4, 1, 24, 24, dtype=torch.uint8),
            steps=1,
        )
    folder = save_detector(trained, tmp_path / "det")
    (folder / "detector.safetensors").write_bytes(b"damaged")
    with pytest.raises(GankitError, match="SHA-256"):
        load_detector(folder)
    other = tmp_path / "other"
    other.mkdir()
    write_json(other / "config.json", {"task": "images", "format_version": 1})
    with pytest.raises(GankitError, match="not a detector"):
        load_detector(other)
    with pytest.raises(GankitError, match="does not hold a detector"):
        save_detector(trained, other)
    folder = save_detector(trained, tmp_path / "det")
    write_json(folder / "config.json", {**read_json(folder / "config.json"), "widht": 3})
    with pytest.raises(GankitError, match="unknown detector setting"):
        load_detector(folder)


def test_the_shipped_detector_loads_and_reads_gray_as_rgb():
    detector = load_detector()
    assert (shipped_detector_dir() / "detector.safetensors").stat().st_size < 2_000_000
    gray = torch.randint(0, 256, (2, 1, 32, 32), generator=torch.Generator().manual_seed(0))
    gray = gray.to(torch.uint8)
    probabilities = torch.cat([detect(gray), detect(gray.expand(-1, 3, -1, -1), detector)])
    assert probabilities.shape == (4,) and ((probabilities >= 0) & (probabilities <= 1)).all()
    assert torch.allclose(probabilities[:2], probabilities[2:])  # gray is read as R = G = B


@pytest.mark.skipif(
    not (MNIST_ROOT / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST IDX files not found in {MNIST_ROOT}; set GANKIT_DATA to the shared data folder",
)
def test_the_shipped_detector_calls_mnist_test_digits_real():
    digits = load_mnist(MNIST_ROOT, "test", 32).images[:200]
    assert (detect(digits) < 0.5).float().mean() > 0.95


def _png(image: torch.Tensor, path) -> str:
    """Save a gray uint8 image (1, H, W) as a PNG file; returns its path."""
    Image.fromarray(image[0].numpy()).save(path)
    return str(path)


def test_cli_train_detector_and_detect(tmp_path, digits, capsys):
    gan = ImageGAN(resolution=32, batch_size=8, model={"g_width": 8, "d_width": 8})
    gan.fit("digits", steps=1, quiet=True).save(tmp_path / "gan")
    out = tmp_path / "det"
    argv = ["provenance", "train-detector", "--real", "digits", "--fake", str(tmp_path / "gan")]
    assert gankit([*argv, "-o", str(out), "--samples", "64", "--steps", "30"]) == 0
    assert "wrote a detector" in capsys.readouterr().out
    assert read_json(out / "config.json")["metadata"]["fake"] == [str(tmp_path / "gan")]
    # An untrained G's samples are far from digits: the detector calls them generated.
    sample = _png(gan.generate(1, seed=5)[0], tmp_path / "sample.png")
    real = _png(digits[0][1500], tmp_path / "real.png")
    assert gankit(["provenance", "detect", sample, real, "--detector", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{sample}: P(generated) = ") and "GENERATED" in lines[0]
    assert lines[1].startswith(f"{real}: P(generated) = ") and "looks real" in lines[1]
    assert gankit(["provenance", "detect", real, "--detector", str(out), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["image"] == real and answer["generated"] is False
    (tmp_path / "broken.png").write_bytes(b"not an image")
    Image.new("RGB", (8, 8)).save(tmp_path / "tiny.png")
    bad = [str(tmp_path / "broken.png"), str(tmp_path / "tiny.png"), real]
    assert gankit(["provenance", "detect", *bad, "--detector", str(out)]) == 2
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "too small" in captured.err
    assert "looks real" in captured.out  # the readable image is still scored
    assert gankit(["provenance", "detect", real, "--detector", str(tmp_path / "none")]) == 2
    assert gankit(["provenance", "detect", real, "--threshold", "1.5"]) == 2
    err = capsys.readouterr().err
    assert err.count("holds no detector") == 1 and "between 0 and 1" in err


def test_serve_detects_generated_images(tmp_path):
    from fastapi.testclient import TestClient

    from gankit.serve import create_app

    gan = ImageGAN(resolution=32, batch_size=8, model={"g_width": 8, "d_width": 8})
    run = gan.fit("digits", steps=1, quiet=True).save(tmp_path / "digits")
    image = torch.randint(0, 256, (1, 32, 32), generator=torch.Generator().manual_seed(0))
    path = _png(image.to(torch.uint8), tmp_path / "noise.png")
    Image.new("L", (8, 8)).save(tmp_path / "tiny.png")
    with TestClient(create_app([run])) as client:
        with open(path, "rb") as file:
            answer = client.post("/v1/provenance/detect", files={"image": file})
        with open(path, "rb") as file:
            strict = client.post(
                "/v1/provenance/detect", files={"image": file}, data={"threshold": "0.999"}
            )
        with open(tmp_path / "tiny.png", "rb") as file:
            tiny = client.post("/v1/provenance/detect", files={"image": file})
        with open(path, "rb") as file:
            bad = client.post("/v1/provenance/detect", files={"image": file}, data={"threshold": 2})
    assert answer.status_code == 200, answer.text
    (expected,) = detect(image[None].to(torch.uint8)).tolist()
    assert answer.json() == {
        "p_generated": expected,
        "generated": expected >= 0.5,
        "threshold": 0.5,
    }
    assert strict.json()["threshold"] == 0.999
    assert tiny.status_code == 422 and "too small" in tiny.json()["error"]
    assert bad.status_code == 422 and "between 0 and 1" in bad.json()["error"]
