"""Measured attributes of digit images: stroke thickness, slant, size and position.

The same measurements caption the training data (:mod:`gankit.data.captions`) and judge whether
generated images follow their text, so they work on real and generated images alike: uint8 pixels
or generator output in [-1, 1], sharp or blurry, one batch at a time (vectorised torch, no loops).

A digit is treated as an ink density ``I`` in [0, 1] (white strokes on black, as MNIST; its density
and moments come from :mod:`gankit.data.ink`, which also puts digits in a common frame):

- **thickness** = 2 * ink / edge length, with ink = sum(I) and edge length = sum |grad I|. A stroke
  of width ``w`` and length ``L`` has ink ``w L`` and two edges of length ``L``, so this is ``w``
  (slightly less for short strokes: their ends add edge). Soft, antialiased edges still sum to one
  crossing each, so blur barely changes it, unlike pixel counts after thresholding.
- **slant** (degrees; positive = the top leans right, like italics) = atan(-cov(x, y) / var(y)),
  the shear that makes the ink's second moments upright (Morpho-MNIST's definition, with rows
  counted downwards).
- **height** / **width**: the bounding box of pixels with I > 0.5, in pixels.
- **area**: the ink, sum(I), in pixels.
- **center_x** / **center_y**: the ink centroid's offset from the image centre, in pixels
  (positive = right / down).

An image without ink measures NaN for thickness, slant and centre, and 0 for the rest.

Example:
    >>> images = torch.zeros(1, 1, 28, 28, dtype=torch.uint8)
    >>> images[0, 0, 4:24, 12:15] = 255                     # a vertical bar 3 px wide
    >>> attrs = measure_attributes(images)
    >>> round(attrs["thickness"].item(), 2), attrs["slant"].abs().item() < 1e-6
    (2.64, True)
"""

from __future__ import annotations

import math

import torch

from gankit.data.ink import ink_density, ink_moments

ATTRIBUTES = ("thickness", "slant", "height", "width", "area", "center_x", "center_y")

# Ink above this density counts towards the bounding box (half way between paper and ink).
BOX_THRESHOLD = 0.5
# Below this much ink (in pixels) an image is "empty": its shape measures are undefined.
_MIN_INK = 1e-3


def _box_extent(mask: torch.Tensor) -> torch.Tensor:
    """``(B, N)`` bool occupancy -> (B,) extent from the first to the last True (0 if none)."""
    n = mask.shape[1]
    any_ink = mask.any(dim=1)
    first = mask.float().argmax(dim=1)
    last = n - 1 - mask.flip(1).float().argmax(dim=1)
    return torch.where(any_ink, last - first + 1, torch.zeros_like(first)).double()


@torch.no_grad()
def measure_attributes(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each of :data:`ATTRIBUTES` for every image of the batch: a dict of ``(B,)`` float tensors.

    Example:
        >>> sorted(measure_attributes(torch.zeros(2, 1, 16, 16)))[:3]
        ['area', 'center_x', 'center_y']
    """
    # float64: moments of 60,000 images stay exact enough; clamped: the measures assume ink in
    # [0, 1], also for out-of-range float input.
    ink = ink_density(images).clamp(0.0, 1.0).double()
    batch, height, width = ink.shape
    area = ink.sum(dim=(1, 2))
    has_ink = area > _MIN_INK
    safe_area = torch.where(has_ink, area, torch.ones_like(area))

    # Edge length: isotropic gradient magnitude with zero padding, so ink touching the border
    # still has its edge there. (B, H, W) -> (B, H+1, W+1) forward differences.
    padded = torch.nn.functional.pad(ink, (1, 1, 1, 1))
    dx = padded[:, 1:, 1:] - padded[:, 1:, :-1]
    dy = padded[:, 1:, 1:] - padded[:, :-1, 1:]
    edge = torch.sqrt(dx**2 + dy**2).sum(dim=(1, 2))
    thickness = 2.0 * area / edge.clamp_min(1e-12)

    rows = torch.arange(height, dtype=ink.dtype)
    cols = torch.arange(width, dtype=ink.dtype)
    mean_y, mean_x, var_y, _, cov_xy = ink_moments(ink, rows, cols, safe_area)
    # Rows grow downwards: a top leaning right means x falls as the row index grows (cov < 0).
    slant = torch.rad2deg(torch.atan(-cov_xy / var_y.clamp_min(1e-12)))

    box = ink > BOX_THRESHOLD
    nan = torch.full_like(area, math.nan)
    values = {
        "thickness": torch.where(has_ink, thickness, nan),
        "slant": torch.where(has_ink, slant, nan),
        "height": _box_extent(box.any(dim=2)),
        "width": _box_extent(box.any(dim=1)),
        "area": area,
        "center_x": torch.where(has_ink, mean_x - (width - 1) / 2, nan),
        "center_y": torch.where(has_ink, mean_y - (height - 1) / 2, nan),
    }
    return {name: values[name].float() for name in ATTRIBUTES}


def measure_in_chunks(images: torch.Tensor, chunk: int = 4096) -> dict[str, torch.Tensor]:
    """:func:`measure_attributes` over a large set, ``chunk`` images at a time (bounded memory).

    Example:
        >>> measure_in_chunks(torch.zeros(10, 1, 8, 8), chunk=4)["area"].shape
        torch.Size([10])
    """
    parts = [measure_attributes(images[i : i + chunk]) for i in range(0, len(images), chunk)]
    if not parts:
        return {name: torch.empty(0) for name in ATTRIBUTES}
    return {name: torch.cat([part[name] for part in parts]) for name in ATTRIBUTES}
