"""Full-reference image quality: PSNR and SSIM, on any channels or on the Y (luma) channel.

The super-resolution literature reports both on the Y channel of YCbCr (ITU-R BT.601, the
``rgb2ycbcr`` of MATLAB: Y in [16, 235]) after cropping ``border`` pixels (= the scale factor) from
every edge, because SR models cannot see past the image border. SSIM is the one of Wang et al.
(2004): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, population statistics,
averaged over the positions where the window lies fully inside the image. These are the numbers
``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=...)`` gives; the tests check that.

Images are tensors ``(N, C, H, W)`` or ``(C, H, W)``, uint8 or float, with pixel values on the
scale given by ``data_range`` (255 for uint8-like images). Outputs are per-image float64 tensors
``(N,)``. Convert generator output in [-1, 1] with :func:`gankit.viz.to_uint8` first: a saved
image is quantised, and scores are reported on what a user would see.

Example:
    >>> import torch
    >>> hr = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    >>> psnr_y(hr, hr, border=4).tolist()
    [inf, inf]
    >>> ssim_y(hr, hr, border=4).tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError

# ITU-R BT.601 for 8-bit studio range, as MATLAB's rgb2ycbcr: Y = 16 + (65.481 R + 128.553 G +
# 24.966 B) / 255 for R, G, B in [0, 255].
_Y_WEIGHTS = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)
_Y_OFFSET = 16.0

_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # scipy's gaussian_filter radius int(truncate * sigma + 0.5), truncate 3.5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def _as_batch(images: Tensor, what: str) -> Tensor:
    """``(C, H, W)`` or ``(N, C, H, W)`` -> float64 ``(N, C, H, W)``."""
    if not isinstance(images, Tensor):
        raise GankitError(f"{what} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dim() != 4:
        raise GankitError(
            f"{what} must be (C, H, W) or (N, C, H, W), got shape {tuple(images.shape)}"
        )
    return images.to(torch.float64)


def _pair(a: Tensor, b: Tensor, border: int) -> tuple[Tensor, Tensor]:
    a, b = _as_batch(a, "the test images"), _as_batch(b, "the reference images")
    if a.shape != b.shape:
        raise GankitError(
            f"image quality needs images of the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}; crop the reference to the output size (see modcrop)"
        )
    if not isinstance(border, int) or border < 0:
        raise GankitError(f"border must be a number of pixels >= 0, got {border!r}")
    if border:
        if min(a.shape[-2:]) <= 2 * border:
            raise GankitError(
                f"images of {a.shape[-2]}x{a.shape[-1]} pixels leave nothing after cropping a "
                f"border of {border}"
            )
        a = a[..., border:-border, border:-border]
        b = b[..., border:-border, border:-border]
    return a, b


def rgb_to_y(images: Tensor) -> Tensor:
    """Luma Y of RGB images on the [0, 255] scale, as MATLAB ``rgb2ycbcr`` (Y in [16, 235]).

    ``(N, 3, H, W)`` or ``(3, H, W)`` -> float64 with one channel. Single-channel input is taken
    to be luminance already and returned as float64 unchanged (the convention of BasicSR's
    ``to_y_channel``).

    Example:
        >>> rgb_to_y(torch.full((3, 1, 1), 255, dtype=torch.uint8)).item()
        235.0
    """
    batch = _as_batch(images, "images")
    if batch.shape[1] == 1:
        y = batch
    elif batch.shape[1] == 3:
        weights = torch.tensor(_Y_WEIGHTS, dtype=torch.float64).view(1, 3, 1, 1)
        y = (batch * weights).sum(dim=1, keepdim=True) + _Y_OFFSET
    else:
        raise GankitError(f"rgb_to_y needs 1 or 3 channels, got {batch.shape[1]}")
    return y if images.dim() == 4 else y[0]


def psnr(a: Tensor, b: Tensor, data_range: float = 255.0, border: int = 0) -> Tensor:
    """Peak signal-to-noise ratio in dB per image, over all channels: ``10 log10(R^2 / MSE)``.

    Identical images give ``inf``. ``border`` pixels are cropped from every edge first.

    Example:
        >>> a = torch.zeros(1, 1, 8, 8); b = a.clone(); b[0, 0, 0, 0] = 255
        >>> round(psnr(a, b).item(), 2)  # MSE = 255^2 / 64
        18.06
    """
    a, b = _pair(a, b, border)
    mse = (a - b).square().flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)


def _gaussian_window() -> Tensor:
    offsets = torch.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (offsets / _SSIM_SIGMA) ** 2)
    return weights / weights.sum()


def _blur(x: Tensor, window: Tensor) -> Tensor:
    """Separable Gaussian filter over each channel, 'valid' positions only."""
    channels = x.shape[1]
    size = window.numel()
    x = F.conv2d(x, window.view(1, 1, size, 1).expand(channels, 1, size, 1), groups=channels)
    return F.conv2d(x, window.view(1, 1, 1, size).expand(channels, 1, 1, size), groups=channels)


def ssim(a: Tensor, b: Tensor, data_range: float = 255.0, border: int = 0) -> Tensor:
    """Structural similarity (Wang et al. 2004) per image, averaged over channels.

    Gaussian window sigma 1.5 (11x11), K1 = 0.01, K2 = 0.03, population covariance; the map is
    averaged where the window fits inside the (border-cropped) image, as
    ``skimage.metrics.structural_similarity`` with ``gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False`` (and ``channel_axis`` for colour).

    Example:
        >>> x = torch.rand(1, 1, 16, 16) * 255
        >>> ssim(x, x).item()
        1.0
    """
    a, b = _pair(a, b, border)
    size = 2 * _SSIM_RADIUS + 1
    if min(a.shape[-2:]) < size:
        raise GankitError(
            f"SSIM needs images of at least {size}x{size} pixels after the border crop, got "
            f"{a.shape[-2]}x{a.shape[-1]}"
        )
    window = _gaussian_window()
    c1, c2 = (_SSIM_K1 * data_range) ** 2, (_SSIM_K2 * data_range) ** 2
    mu_a, mu_b = _blur(a, window), _blur(b, window)
    var_a = _blur(a * a, window) - mu_a.square()
    var_b = _blur(b * b, window) - mu_b.square()
    cov = _blur(a * b, window) - mu_a * mu_b
    numerator = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    denominator = (mu_a.square() + mu_b.square() + c1) * (var_a + var_b + c2)
    return (numerator / denominator).flatten(1).mean(dim=1)


def psnr_y(sr: Tensor, hr: Tensor, border: int = 0) -> Tensor:
    """PSNR on the BT.601 Y channel of [0, 255] RGB images, ``border`` pixels cropped (SR papers).

    Example:
        >>> hr = torch.full((1, 3, 16, 16), 100.0); sr = hr + 1
        >>> round(psnr_y(sr, hr, border=2).item(), 2)  # Y differs by 219/255
        49.45
    """
    return psnr(rgb_to_y(sr), rgb_to_y(hr), data_range=255.0, border=border)


def ssim_y(sr: Tensor, hr: Tensor, border: int = 0) -> Tensor:
    """SSIM on the BT.601 Y channel of [0, 255] RGB images, ``border`` pixels cropped (SR papers).

    Example:
        >>> hr = torch.rand(1, 3, 32, 32) * 255
        >>> ssim_y(hr, hr, border=4).item()
        1.0
    """
    return ssim(rgb_to_y(sr), rgb_to_y(hr), data_range=255.0, border=border)
