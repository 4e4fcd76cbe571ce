"""MNIST from the original IDX files: counts, padding, and clear errors on damaged files."""

import gzip
import shutil
from pathlib import Path

import pytest
import torch

from gankit.data import default_data_root, load_mnist
from gankit.data.mnist import IMAGES_MAGIC
from gankit.errors import GankitError

MNIST_ROOT = default_data_root() / "mnist"
T10K_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

needs_mnist = pytest.mark.skipif(
    not (MNIST_ROOT / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST IDX files not found in {MNIST_ROOT}; set GANKIT_DATA to the shared data folder",
)


@pytest.fixture(scope="module")
def mnist_train():
    return load_mnist(MNIST_ROOT, split="train")


@pytest.fixture
def t10k_copy(tmp_path: Path) -> Path:
    """A private copy of the (small) t10k files that a test may damage."""
    for name in T10K_FILES:
        shutil.copy(MNIST_ROOT / name, tmp_path / name)
    return tmp_path


@needs_mnist
def test_train_split_counts(mnist_train):
    assert mnist_train.images.shape == (60_000, 1, 28, 28)
    assert mnist_train.images.dtype == torch.uint8
    counts = torch.bincount(mnist_train.labels, minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist_train.class_names == tuple("0123456789")


@needs_mnist
def test_test_split_and_resolutions(mnist_train):
    test = load_mnist(MNIST_ROOT, split="test")
    assert len(test) == 10_000 and len(load_mnist(MNIST_ROOT, split="t10k")) == 10_000
    padded = load_mnist(MNIST_ROOT, split="train", resolution=32)
    assert padded.images.shape == (60_000, 1, 32, 32)
    # 32 is the LeNet zero padding: the 28x28 digit sits untouched inside a 2-pixel black border.
    assert torch.equal(padded.images[:100, :, 2:30, 2:30], mnist_train.images[:100])
    assert padded.images[:, :, :2].max() == 0 and padded.images[:, :, :, 30:].max() == 0
    small = load_mnist(MNIST_ROOT, split="test", resolution=14)
    assert small.images.shape == (10_000, 1, 14, 14)


@needs_mnist
def test_unpacked_files_load_too(t10k_copy: Path):
    for name in T10K_FILES:
        packed = t10k_copy / name
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    data = load_mnist(t10k_copy, split="test")
    assert len(data) == 10_000 and data.labels[:3].tolist() == [7, 2, 1]


@needs_mnist
def test_truncated_gzip_names_the_file(t10k_copy: Path):
    images = t10k_copy / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:50_000])
    with pytest.raises(GankitError, match="t10k-images-idx3-ubyte.gz' is corrupt or truncated"):
        load_mnist(t10k_copy, split="test")


@needs_mnist
def test_short_payload_names_the_file(t10k_copy: Path):
    # A valid gzip whose content stops early: the header promises more pixels than there are.
    images = t10k_copy / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-784], compresslevel=1))
    with pytest.raises(GankitError, match="t10k-images-idx3-ubyte.gz' holds 7839216 bytes"):
        load_mnist(t10k_copy, split="test")


@needs_mnist
def test_wrong_magic_names_the_file(t10k_copy: Path):
    # The labels file put where the images file belongs: magic 2049 instead of 2051.
    shutil.copy(t10k_copy / T10K_FILES[1], t10k_copy / T10K_FILES[0])
    expected = f"images-idx3-ubyte.gz' has magic number 2049, expected {IMAGES_MAGIC}"
    with pytest.raises(GankitError, match=expected):
        load_mnist(t10k_copy, split="test")


@needs_mnist
def test_label_count_mismatch(t10k_copy: Path):
    labels = t10k_copy / T10K_FILES[1]
    raw = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(raw[:4] + (9_999).to_bytes(4, "big") + raw[8:-1]))
    with pytest.raises(GankitError, match="10000 images but .* 9999 labels"):
        load_mnist(t10k_copy, split="test")


def test_missing_files_and_bad_arguments(tmp_path: Path):
    with pytest.raises(GankitError, match="train-images-idx3-ubyte.gz' not found"):
        load_mnist(tmp_path)
    with pytest.raises(GankitError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(GankitError, match="unknown MNIST split 'val'"):
        load_mnist(tmp_path, split="val")


def test_default_data_root_honours_env(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("GANKIT_DATA", str(tmp_path))
    assert default_data_root() == tmp_path
    monkeypatch.delenv("GANKIT_DATA")
    import gankit

    repo_root = Path(gankit.__file__).resolve().parents[1]
    assert default_data_root() == repo_root.parent / "shared" / "data"
