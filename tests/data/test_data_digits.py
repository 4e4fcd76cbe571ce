"""scikit-learn's bundled digits, the dataset that needs no files."""

import torch

from gankit.data import load_digits


def test_digits_shape_labels_and_range():
    data = load_digits(resolution=32)
    assert data.images.shape == (1797, 1, 32, 32) and data.images.dtype == torch.uint8
    assert data.labels.dtype == torch.int64
    assert data.labels.unique().tolist() == list(range(10))
    assert data.class_names == tuple("0123456789") and data.name == "digits"
    assert data.images.max() == 255 and data.images.min() == 0  # 16 maps to 255
    batch = data.batch(torch.arange(64))
    assert batch.min() >= -1 and batch.max() <= 1 and batch.min() == -1


def test_digits_native_resolution_is_the_sklearn_pixels():
    from sklearn.datasets import load_digits as sklearn_digits

    data = load_digits(resolution=8)
    expected = (torch.from_numpy(sklearn_digits().images[:5]) * 255 / 16).round()
    assert torch.equal(data.images[:5, 0].float(), expected.float())
