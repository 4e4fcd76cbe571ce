"""ImageData validation, batch scaling, and the shared resize/channel helpers."""

import pytest
import torch

from gankit.data.images import ImageData, convert_channels, resize_images, with_channels
from gankit.errors import GankitError


def _blank(n: int = 3, channels: int = 1, side: int = 8) -> torch.Tensor:
    return torch.zeros(n, channels, side, side, dtype=torch.uint8)


def test_properties_and_batch_scaling():
    images = torch.tensor([0, 127, 255], dtype=torch.uint8).view(3, 1, 1, 1).expand(3, 3, 4, 4)
    data = ImageData(images.contiguous(), torch.tensor([0, 1, 1]), ("a", "b"), "tiny")
    assert (len(data), data.channels, data.resolution) == (3, 3, 4)
    batch = data.batch(torch.tensor([2, 0]))
    assert batch.dtype == torch.float32 and batch.shape == (2, 3, 4, 4)
    assert batch[0].unique().tolist() == [1.0] and batch[1].unique().tolist() == [-1.0]
    assert data.batch(torch.tensor([1]))[0, 0, 0, 0].item() == pytest.approx(127 / 127.5 - 1)


@pytest.mark.parametrize(
    "images, labels, match",
    [
        (torch.zeros(2, 1, 8, 8), None, "uint8"),
        (torch.zeros(2, 8, 8, dtype=torch.uint8), None, "4-D"),
        (torch.zeros(2, 1, 8, 6, dtype=torch.uint8), None, "square"),
        (_blank(3), torch.tensor([0, 1]), "2 labels for 3 images"),
        (_blank(2), torch.tensor([0.0, 1.0]), "int64"),
        (_blank(2), torch.tensor([0, 5]), "0..1"),
    ],
)
def test_invalid_data_raises(images, labels, match):
    with pytest.raises(GankitError, match=match):
        ImageData(images, labels, ("a", "b"), "bad")


def test_resize_keeps_constants_and_shapes():
    images = torch.full((5, 3, 40, 24), 200, dtype=torch.uint8)
    resized = resize_images(images, 16)
    assert resized.shape == (5, 3, 16, 16) and resized.dtype == torch.uint8
    assert resized.unique().tolist() == [200]
    assert resize_images(images, (10, 6)).shape == (5, 3, 10, 6)
    assert resize_images(resized, 16) is resized  # already the right size: no copy


def test_resize_antialiases_when_shrinking():
    # A one-pixel checkerboard shrunk 4x must average to grey, not alias to black or white.
    checker = ((torch.arange(32).view(-1, 1) + torch.arange(32)) % 2 * 255).to(torch.uint8)
    small = resize_images(checker.view(1, 1, 32, 32), 8)
    assert small.float().sub(127.5).abs().max() <= 1


def test_convert_channels_round_trip():
    gray = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    rgb = convert_channels(gray, 3)
    assert rgb.shape == (2, 3, 4, 4) and torch.equal(rgb[:, 2], gray[:, 0])
    assert torch.equal(convert_channels(rgb, 1), gray)  # luma of equal channels is that value
    red = torch.zeros(1, 3, 1, 1, dtype=torch.uint8)
    red[:, 0] = 255
    assert convert_channels(red, 1).item() == 76  # 0.299 * 255, as PIL's convert("L")
    with pytest.raises(GankitError, match="channels"):
        convert_channels(gray, 2)
    data = ImageData(gray, None, (), "g")
    assert with_channels(data, None) is data and with_channels(data, 3).channels == 3
