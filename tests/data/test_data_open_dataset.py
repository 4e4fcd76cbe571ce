"""open_dataset: names, MNIST folders and image folders behind one call."""

from pathlib import Path

import pytest
from PIL import Image

from gankit.data import default_data_root, open_dataset
from gankit.errors import GankitError


def test_named_digits_with_channels():
    data = open_dataset("digits", resolution=16)
    assert data.images.shape == (1797, 1, 16, 16) and data.name == "digits"
    assert open_dataset("digits", resolution=16, channels=3).images.shape == (1797, 3, 16, 16)


def test_image_folder_path(tmp_path: Path):
    Image.new("RGB", (20, 20), (0, 255, 0)).save(tmp_path / "green.png")
    data = open_dataset(str(tmp_path), resolution=8, channels=1)
    assert data.images.shape == (1, 1, 8, 8)


def test_mnist_folder_is_recognised():
    mnist_root = default_data_root() / "mnist"
    if not (mnist_root / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST IDX files not found in {mnist_root}; set GANKIT_DATA")
    data = open_dataset(str(mnist_root), resolution=32)
    assert data.images.shape == (60_000, 1, 32, 32) and data.name == "mnist-train"


def test_named_mnist_without_data_says_where_it_looked(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GANKIT_DATA", str(tmp_path))
    with pytest.raises(GankitError, match="GANKIT_DATA"):
        open_dataset("mnist")


def test_unknown_sources_raise(tmp_path: Path):
    with pytest.raises(GankitError, match="unknown dataset 'cifar11'.*digits, mnist.*folder"):
        open_dataset("cifar11")
    with pytest.raises(GankitError, match="unknown dataset"):
        open_dataset(str(tmp_path / "no" / "such" / "folder"))
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(GankitError, match="is a file"):
        open_dataset(str(tmp_path / "a.png"))
    with pytest.raises(GankitError, match="channels"):
        open_dataset("digits", channels=2)
