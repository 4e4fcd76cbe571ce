"""Digit ink geometry: ink density, its moments, and the moment-normalised frame of a digit.

A digit is read as an ink density ``I`` in [0, 1] (light strokes on a dark ground, as MNIST), from
uint8 pixels or generator output in [-1, 1] alike. Its first and second moments (centroid, spread,
slant) serve twice: :mod:`gankit.data.attributes` reports them as measurements, and
:func:`aligned_ink` uses them to put every digit in a common frame (moment normalisation, the
classic way to make digits comparable), which CycleGAN's structure and semantic terms read.

Example:
    >>> bar = torch.zeros(1, 1, 16, 16, dtype=torch.uint8)
    >>> bar[..., 2:10, 4:6] = 255
    >>> ink = ink_density(bar)
    >>> rows, cols = torch.arange(16.0), torch.arange(16.0)
    >>> moments = ink_moments(ink, rows, cols, ink.sum((1, 2)))
    >>> moments.center_y.item(), moments.center_x.item()
    (5.5, 4.5)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError
from gankit.imageops import to_gray


def ink_density(images: Tensor) -> Tensor:
    """``(B, C, H, W)`` images -> ``(B, H, W)`` ink density, in [0, 1] for images in range.

    uint8 images are read as 0..255; float images as generator output in [-1, 1]. Colour images
    are turned grey first (ITU-R 601 luma, :func:`gankit.imageops.to_gray`). Out-of-range floats
    are not clamped: a clamp would stop the gradient at exactly -1 and 1, where a translation
    that CycleGAN's structure term reads may well sit (measurements clamp for themselves).

    Example:
        >>> ink_density(torch.full((2, 1, 4, 4), -1.0)).max().item()
        0.0
    """
    if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise GankitError(
            f"digit ink (attributes, structure maps) is read from image batches "
            f"(B, 1 or 3, H, W), got {shape}"
        )
    if images.dtype == torch.uint8:
        ink = images.float() / 255.0
    elif images.is_floating_point():
        ink = (images.float() + 1.0) / 2.0
    else:
        raise GankitError(
            f"digit ink (attributes, structure maps) needs uint8 (0..255) or float ([-1, 1]) "
            f"images, got {images.dtype}"
        )
    return to_gray(ink).squeeze(1)


class InkMoments(NamedTuple):
    """Per image ``(B,)``: the ink's centroid and its second central moments."""

    center_y: Tensor
    center_x: Tensor
    var_y: Tensor
    var_x: Tensor
    cov_xy: Tensor


def ink_moments(ink: Tensor, ys: Tensor, xs: Tensor, mass: Tensor) -> InkMoments:
    """Moments of ``(B, H, W)`` ink weights at row coordinates ``ys`` (H,), columns ``xs`` (W,).

    Each moment is a weighted sum divided by ``mass`` (B,): the caller decides how an image
    without ink is kept finite. The coordinates set the units (pixels, or [-1, 1]).

    Example:
        >>> ink = torch.zeros(1, 3, 3)
        >>> ink[0, 0, 0] = ink[0, 2, 2] = 1.0     # two dots on the main diagonal
        >>> m = ink_moments(ink, torch.arange(3.0), torch.arange(3.0), ink.sum((1, 2)))
        >>> m.center_y.item(), m.var_y.item(), m.cov_xy.item()
        (1.0, 1.0, 1.0)
    """
    rows, cols = ys.view(1, -1, 1), xs.view(1, 1, -1)

    def moment(f: Tensor) -> Tensor:
        return (ink * f).sum((1, 2)) / mass

    center_y, center_x = moment(rows), moment(cols)
    dy, dx = rows - center_y.view(-1, 1, 1), cols - center_x.view(-1, 1, 1)
    return InkMoments(center_y, center_x, moment(dy**2), moment(dx**2), moment(dx * dy))


# Wide enough to hold most of a digit's strokes (the RMS radius of a 7 is about 1/3 of its
# height), narrow enough that 8 x 8 cells still resolve the strokes.
_STRUCTURE_SPAN = 1.5


def _soften(ink: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur with standard deviation ``sigma`` pixels (zero padding)."""
    radius = int(3 * sigma) + 1
    taps = torch.arange(-radius, radius + 1, dtype=ink.dtype, device=ink.device)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    ink = F.conv2d(ink, kernel.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(ink, kernel.view(1, 1, -1, 1), padding=(radius, 0))


def aligned_ink(images: Tensor, size: int, deskew: bool = False) -> Tensor:
    """Images (N, C, H, W) -> their ink (0..1) in its own frame, (N, 1, size, size).

    The images are uint8 or floats in [-1, 1] (:func:`ink_density`). The frame is centred on the
    ink's centroid and spans +-1.5 RMS radii (moment normalisation); ``deskew`` also blurs the
    strokes, undoes the slant and scales each axis halfway to the ink's own extent (see
    :func:`structure_map`, which pools this frame to its low-frequency map).

    Example:
        >>> bar = -torch.ones(1, 1, 32, 32)
        >>> bar[..., 2:10, 2:6] = 1.0            # a bar in a corner comes out centred
        >>> ink = aligned_ink(bar, 16)
        >>> ink.shape, bool(ink[..., 6:10, 6:10].mean() > 0.5)
        (torch.Size([1, 1, 16, 16]), True)
    """
    ink = ink_density(images).unsqueeze(1)  # (N, 1, H, W) in [0, 1]
    n, _, h, w = ink.shape
    if deskew:
        ink = _soften(ink, h / 32)
    ys = torch.linspace(-1, 1, h, device=ink.device)
    xs = torch.linspace(-1, 1, w, device=ink.device)
    # Moments of the brightness above the image's mean only: a uniform ground (a generator's
    # -0.9 instead of -1) would otherwise pull the frame to the centre and widen it.
    strokes = (ink - ink.mean((2, 3), keepdim=True)).clamp_min(0)[:, 0]  # (N, H, W)
    cy, cx, var_y, var_x, cov_xy = ink_moments(strokes, ys, xs, strokes.sum((1, 2)).clamp_min(1e-6))
    radius = (var_y + var_x).clamp_min(1e-4).sqrt()
    scale_y = scale_x = radius
    shear = torch.zeros_like(radius)
    if deskew:
        # Halfway (geometric mean) between the isotropic radius and each axis's own extent.
        scale_y = (radius * (2 * var_y).clamp_min(1e-4).sqrt()).sqrt()
        scale_x = (radius * (2 * var_x).clamp_min(1e-4).sqrt()).sqrt()
        shear = cov_xy / var_y.clamp_min(1e-4)
    # The frame spans +-_STRUCTURE_SPAN radii around the centroid; output (u, v) reads
    # input (cx + span * (scale_x * u + shear * scale_y * v), cy + span * scale_y * v).
    span_x, span_y = _STRUCTURE_SPAN * scale_x, _STRUCTURE_SPAN * scale_y
    zero = torch.zeros_like(radius)
    theta = torch.stack(
        [torch.stack([span_x, shear * span_y, cx], 1), torch.stack([zero, span_y, cy], 1)], 1
    )  # (N, 2, 3): output frame -> input coordinates
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    return F.grid_sample(ink, grid, align_corners=False)


def structure_map(
    images: Tensor, size: int = 8, align: bool = True, deskew: bool = False
) -> Tensor:
    """The low-frequency shape of images in [-1, 1]: (N, C, H, W) -> unit-norm (N, 1, size, size).

    Colour, brightness and contrast are removed (luma, zero mean, unit norm), so only *where* the
    image is bright at ``size`` x ``size`` pixels remains. With ``align`` the map is taken in each
    image's own frame: centred on its brightness centroid and scaled by its RMS radius (moment
    normalisation, the classic way digits are put in a common frame), so a translation may also
    move and resize what it draws, but not reshape it. Brightness is read as ink: align suits
    light strokes on a dark ground (digits, sketches).

    ``deskew`` (with ``align``) goes further, as classic digit normalisation does: the strokes
    are blurred by 1/32 of the image height first (a thick stroke and a thin one then look
    alike), the frame is sheared to undo the slant (the xy ink moment) and scaled per axis
    halfway to the ink's own height and width. Slant, aspect and stroke width are then style,
    and scikit-learn digits find MNIST digits of their own class by map more often
    (bench/translate_digits.py prints how often).

    CycleGAN's structure term compares ``structure_map(G(x))`` with ``structure_map(x)``: the
    cycle loss alone lets G turn a 7 into a 9 as long as G_BA turns it back (the information
    hides in faint detail), but a 9 and a 7 differ in the low-frequency map.

    Example:
        >>> bars = -torch.ones(3, 1, 32, 32)
        >>> bars[0, :, 12:20, 14:18] = 1.0       # an upright bar
        >>> bars[1, :, 4:28, 10:22] = 1.0        # the same bar, three times larger
        >>> bars[2, :, 14:18, 12:20] = 1.0       # a lying bar
        >>> maps = structure_map(bars)
        >>> maps.shape
        torch.Size([3, 1, 8, 8])
        >>> [round(float((maps[0] * maps[i]).sum()), 2) for i in (1, 2)]  # correlations
        [0.99, 0.07]
    """
    ink = aligned_ink(images, 4 * size, deskew) if align else ink_density(images).unsqueeze(1)
    low = F.adaptive_avg_pool2d(ink, size)
    low = low - low.mean((2, 3), keepdim=True)
    return low / low.flatten(1).norm(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)
