"""Stacked MNIST: deterministic digit triples as RGB, labels 100r + 10g + b, clear errors."""

import pytest
import torch

from gankit.data import default_data_root, load_mnist
from gankit.data.stacked import CLASS_NAMES, stacked_labels, stacked_mnist
from gankit.errors import GankitError

MNIST_ROOT = default_data_root() / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST_ROOT / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST IDX files not found in {MNIST_ROOT}; set GANKIT_DATA to the shared data folder",
)


@needs_mnist
def test_channels_are_mnist_digits_and_labels_name_the_triple():
    data = stacked_mnist(MNIST_ROOT, n=500, seed=3, split="test", resolution=28)
    assert data.images.shape == (500, 3, 28, 28) and data.images.dtype == torch.uint8
    assert data.class_names == CLASS_NAMES and len(CLASS_NAMES) == 1000
    mnist = load_mnist(MNIST_ROOT, split="test")
    # Find each channel of image 0 among the MNIST test digits; its label is that digit.
    for channel, weight in zip(range(3), (100, 10, 1), strict=True):
        match = (mnist.images[:, 0] == data.images[0, channel]).flatten(1).all(1)
        digit = int(mnist.labels[match][0])
        assert (int(data.labels[0]) // weight) % 10 == digit
    # 500 triples already reach hundreds of the 1,000 modes, and channels vary independently.
    assert len(data.labels.unique()) > 300
    assert not torch.equal(data.images[:, 0], data.images[:, 1])


@needs_mnist
def test_same_seed_same_triples_other_seed_other_triples():
    a = stacked_mnist(MNIST_ROOT, n=50, seed=0, split="test")
    b = stacked_mnist(MNIST_ROOT, n=50, seed=0, split="test")
    c = stacked_mnist(MNIST_ROOT, n=50, seed=1, split="test")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.labels, c.labels)
    assert a.images.shape[-1] == 32  # the DCGAN size by default


def test_stacked_labels_and_bad_input():
    logits = torch.nn.functional.one_hot(torch.tensor([9, 0, 7, 0, 0, 1]), 10).float()
    assert stacked_labels(logits).tolist() == [907, 1]
    with pytest.raises(GankitError, match=r"needs \(3 \* B, 10\) digit logits, got \(4, 10\)"):
        stacked_labels(torch.zeros(4, 10))
    with pytest.raises(GankitError, match="must be a positive integer, got 0"):
        stacked_mnist(MNIST_ROOT, n=0)
