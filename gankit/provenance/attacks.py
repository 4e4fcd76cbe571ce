"""The everyday handling a provenance mark must survive, as functions on uint8 images.

Each attack takes uint8 images (N, C, H, W) and a seed and returns uint8 images (a crop is
smaller); the tests and ``bench/provenance.py`` apply the same ones to gankit's marks and to
other watermarks.

- ``png``: a PNG round trip (lossless: the control).
- ``jpeg50``, ``jpeg75``: JPEG at quality 50 and 75 (PIL, 4:2:0 chroma for colour).
- ``resize0.5``: down to half the side and back up (bicubic both ways, as PIL resizes).
- ``crop10``: the central 90 % of the width and of the height (the frame loses 19 % of its area;
  not resized back).
- ``noise0.02``: Gaussian noise of sigma 0.02 of the full range (5.1 levels).
- ``bright+20``, ``bright-20``: every pixel times 1.2 or 0.8.

Example:
    >>> images = torch.full((2, 3, 32, 32), 100, dtype=torch.uint8)
    >>> ATTACKS["crop10"](images, 0).shape, ATTACKS["bright+20"](images, 0)[0, 0, 0, 0].item()
    (torch.Size([2, 3, 29, 29]), 120)
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

Attack = Callable[[torch.Tensor, int], torch.Tensor]


def _to_pil(image: torch.Tensor) -> Image.Image:
    array = image.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def _from_pil(image: Image.Image, channels: int) -> torch.Tensor:
    array = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    planes = torch.from_numpy(array.copy())
    return planes.unsqueeze(0) if planes.dim() == 2 else planes.permute(2, 0, 1)


def _per_image(images: torch.Tensor, change: Callable[[Image.Image], Image.Image]) -> torch.Tensor:
    channels = images.shape[1]
    return torch.stack([_from_pil(change(_to_pil(image)), channels) for image in images])


def _round_trip(fmt: str, **options: object) -> Callable[[Image.Image], Image.Image]:
    def change(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        buffer.seek(0)
        decoded = Image.open(buffer)
        decoded.load()
        return decoded

    return change


def jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """JPEG round trip at ``quality`` (1-95)."""
    return _per_image(images, _round_trip("JPEG", quality=quality))


def png(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """PNG round trip (lossless)."""
    return _per_image(images, _round_trip("PNG"))


def resize_back(images: torch.Tensor, factor: float) -> torch.Tensor:
    """Resize by ``factor`` and back to the original size, bicubic both ways."""

    def change(image: Image.Image) -> Image.Image:
        small = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        return image.resize(small, Image.BICUBIC).resize(image.size, Image.BICUBIC)

    return _per_image(images, change)


def center_crop(images: torch.Tensor, fraction: float) -> torch.Tensor:
    """Keep the central ``1 - fraction`` of the height and of the width."""
    height, width = images.shape[-2:]
    keep_h, keep_w = round(height * (1 - fraction)), round(width * (1 - fraction))
    top, left = (height - keep_h) // 2, (width - keep_w) // 2
    return images[..., top : top + keep_h, left : left + keep_w].clone()


def gaussian_noise(images: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """Add N(0, sigma) noise (sigma a fraction of the range 0-255), seeded, then round."""
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed)) * sigma * 255
    return (images.float() + noise).round().clamp(0, 255).to(torch.uint8)


def brightness(images: torch.Tensor, factor: float) -> torch.Tensor:
    """Scale every pixel by ``factor`` (as PIL's ImageEnhance.Brightness), then round."""
    return (images.float() * factor).round().clamp(0, 255).to(torch.uint8)


#: name -> attack(images, seed), in the order the benchmark reports them.
ATTACKS: dict[str, Attack] = {
    "none": lambda images, seed: images,
    "png": png,
    "jpeg75": lambda images, seed: jpeg(images, 75),
    "jpeg50": lambda images, seed: jpeg(images, 50),
    "resize0.5": lambda images, seed: resize_back(images, 0.5),
    "crop10": lambda images, seed: center_crop(images, 0.1),
    "noise0.02": lambda images, seed: gaussian_noise(images, 0.02, seed),
    "bright+20": lambda images, seed: brightness(images, 1.2),
    "bright-20": lambda images, seed: brightness(images, 0.8),
}
