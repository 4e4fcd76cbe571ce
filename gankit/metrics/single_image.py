"""Metrics of single-image generation that need no downloaded weights.

SIFID (SinGAN's metric) needs Inception weights, which are not available offline. Instead:

- :func:`patch_swd`: the sliced Wasserstein distance between 7x7 patches of the samples and of the
  training image, per level of a Laplacian pyramid (the SWD of Karras et al. 2018, ProGAN, used
  between one image and its samples): the finest level compares fine texture, the coarsest the
  layout of colours. Both patch sets are normalised with the *training image's* per-channel mean
  and std of each level, so a shift of colour or contrast counts (ProGAN normalised each set by
  itself). Lower is better; reported x 1e3 as ProGAN did.
- :func:`diversity`: per-pixel std across samples, averaged over pixels, divided by the training
  image's own std (SinGAN's diversity measure; 0 = every sample identical).
- :func:`copy_distance`: each sample's smallest RMSE to the training image over integer shifts,
  divided by the image's std; a sample under :data:`COPY_THRESHOLD` is a copy.
- :func:`seam_ratio`: gradient energy across the wrap-around borders of an image over the
  interior's: about 1 for an image that tiles seamlessly, far above 1 for one that does not.

Images are float tensors in [-1, 1] (what generators return): samples ``(N, 3, H, W)``, the
training image ``(3, H, W)``.

Example:
    >>> image = torch.rand(3, 32, 32) * 2 - 1
    >>> round(diversity(image.expand(4, -1, -1, -1), image), 6)
    0.0
    >>> copy_distance(image[None], image).tolist()
    [0.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError

PATCH = 7  # patch side of the SWD descriptors (ProGAN)
COPY_THRESHOLD = 0.1  # copy_distance below this (in units of the image's std): a copy
_SWD_MIN_SIDE = 16  # the pyramid stops before a level's shorter side would drop below this
_BLUR = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16  # ProGAN's pyramid kernel


def _check_images(samples: Tensor, image: Tensor) -> None:
    if image.dim() != 3 or samples.dim() != 4 or samples.shape[1:] != image.shape:
        raise GankitError(
            "single-image metrics need samples (N, C, H, W) of the training image's (C, H, W) "
            f"shape; got {tuple(samples.shape)} and {tuple(image.shape)}"
        )


def _blur(x: Tensor) -> Tensor:
    kernel = _BLUR.to(x)
    kernel2d = (kernel[:, None] * kernel[None, :]).expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel2d, groups=x.shape[1])


def laplacian_pyramid(images: Tensor, levels: int) -> list[Tensor]:
    """``levels`` band-pass images of ``(N, C, H, W)``, finest first; the last is the low-pass
    remainder.

    Example:
        >>> [tuple(x.shape[-2:]) for x in laplacian_pyramid(torch.zeros(1, 3, 32, 24), 3)]
        [(32, 24), (16, 12), (8, 6)]
    """
    bands, current = [], images
    for _ in range(levels - 1):
        low = _blur(current)[..., ::2, ::2]
        up = F.interpolate(low, size=current.shape[-2:], mode="bilinear", align_corners=False)
        bands.append(current - up)
        current = low
    bands.append(current)
    return bands


def pyramid_levels(height: int, width: int) -> int:
    """Levels :func:`patch_swd` uses for an image of this size (shorter side >= 16 per level)."""
    levels, side = 1, min(height, width)
    while side // 2 >= _SWD_MIN_SIDE:
        levels, side = levels + 1, side // 2
    return levels


def _patches(images: Tensor, count: int, rng: torch.Generator) -> Tensor:
    """``count`` random 7x7 patches of ``images`` (N, C, H, W), flattened: (count, C*49)."""
    unfolded = F.unfold(images, PATCH)  # (N, C*49, positions)
    n, dim, positions = unfolded.shape
    flat = unfolded.permute(0, 2, 1).reshape(n * positions, dim)
    index = torch.randint(0, len(flat), (count,), generator=rng)
    return flat[index]


def _sliced_wasserstein(a: Tensor, b: Tensor, directions: int, rng: torch.Generator) -> float:
    """Mean over random unit directions of the 1-D Wasserstein-1 distance of the projections."""
    proj = torch.randn(a.shape[1], directions, generator=rng)
    proj = proj / proj.norm(dim=0, keepdim=True)
    pa, _ = (a @ proj).sort(dim=0)
    pb, _ = (b @ proj).sort(dim=0)
    return float((pa - pb).abs().mean())


@torch.no_grad()
def patch_swd(
    samples: Tensor, image: Tensor, patches: int = 4096, directions: int = 256, seed: int = 0
) -> dict[str, float]:
    """Patch sliced-Wasserstein distance (x 1e3) per Laplacian-pyramid level, finest first.

    Keys are ``swd_<side>`` with the level's shorter side in pixels, then ``swd_mean``. The same
    ``seed`` draws the same patch positions and directions, so two models are compared on equal
    terms.

    Example:
        >>> image = torch.rand(3, 32, 32) * 2 - 1
        >>> same = patch_swd(image[None], image)  # other patches of the same image: small
        >>> flat = patch_swd(torch.zeros(1, 3, 32, 32), image)  # no texture at all: large
        >>> list(same), same["swd_mean"] < flat["swd_mean"] / 10
        (['swd_32', 'swd_16', 'swd_mean'], True)
    """
    _check_images(samples, image)
    rng = torch.Generator().manual_seed(seed)
    levels = pyramid_levels(*image.shape[-2:])
    real_bands = laplacian_pyramid(image[None].float(), levels)
    fake_bands = laplacian_pyramid(samples.float(), levels)
    scores: dict[str, float] = {}
    for real_band, fake_band in zip(real_bands, fake_bands, strict=True):
        real = _patches(real_band, patches, rng)
        fake = _patches(fake_band, patches, rng)
        # Per-channel statistics of the real level, applied to both sets.
        channels = real_band.shape[1]
        real_pixels = real_band.transpose(0, 1).reshape(channels, -1)
        mean = real_pixels.mean(1).repeat_interleave(PATCH * PATCH)
        std = real_pixels.std(1).clamp_min(1e-8).repeat_interleave(PATCH * PATCH)
        distance = _sliced_wasserstein((real - mean) / std, (fake - mean) / std, directions, rng)
        scores[f"swd_{min(real_band.shape[-2:])}"] = round(distance * 1e3, 3)
    scores["swd_mean"] = round(sum(scores.values()) / len(scores), 3)
    return scores


def diversity(samples: Tensor, image: Tensor) -> float:
    """Per-pixel std across ``samples``, averaged, over the training ``image``'s std."""
    _check_images(samples, image)
    if len(samples) < 2:
        raise GankitError("diversity needs at least 2 samples")
    return float(samples.float().std(0).mean() / image.float().std().clamp_min(1e-8))


@torch.no_grad()
def copy_distance(samples: Tensor, image: Tensor, max_shift: int | None = None) -> Tensor:
    """Each sample's smallest RMSE to ``image`` over shifts up to ``max_shift`` pixels (default
    an eighth of the shorter side) on each axis, over the overlap, in units of the image's std.

    A sample that is the training image moved by a few pixels scores 0; :data:`COPY_THRESHOLD`
    separates copies from new images.
    """
    _check_images(samples, image)
    h, w = image.shape[-2:]
    limit = max(1, min(h, w) // 8) if max_shift is None else max_shift
    samples, image = samples.float(), image.float()
    best = torch.full((len(samples),), float("inf"))
    for dy in range(-limit, limit + 1):
        for dx in range(-limit, limit + 1):
            # sample[y, x] against image[y + dy, x + dx] on the overlap.
            s = samples[:, :, max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
            i = image[:, max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)]
            rmse = (s - i).square().mean(dim=(1, 2, 3)).sqrt()
            best = torch.minimum(best, rmse)
    return best / image.std().clamp_min(1e-8)


def seam_ratio(images: Tensor) -> Tensor:
    """Per image: squared differences across the wrap-around borders over those between
    interior neighbours, ``(N, C, H, W)`` -> ``(N,)``.

    A periodic (tileable) image has no seam and scores about 1; a photograph tiled as it is
    scores several times that, because its left and right edges do not meet.

    Example:
        >>> ramp = torch.linspace(-1, 1, 32).expand(1, 3, 32, 32)  # dark left, bright right
        >>> bool(seam_ratio(ramp)[0] > 100)
        True
    """
    if images.dim() != 4 or min(images.shape[-2:]) < 3:
        raise GankitError(
            f"seam_ratio needs images (N, C, H, W) of at least 3x3, got {tuple(images.shape)}"
        )
    x = images.float()
    seam = (x[..., :, 0] - x[..., :, -1]).square().mean(dim=(1, 2))
    seam += (x[..., 0, :] - x[..., -1, :]).square().mean(dim=(1, 2))
    interior = (x[..., :, 1:] - x[..., :, :-1]).square().mean(dim=(1, 2, 3))
    interior += (x[..., 1:, :] - x[..., :-1, :]).square().mean(dim=(1, 2, 3))
    return seam / interior.clamp_min(1e-12)


def single_image_report(samples: Tensor, image: Tensor) -> dict[str, float]:
    """Every measure above for ``samples`` of one training ``image``, as report numbers."""
    distances = copy_distance(samples, image)
    return {
        **patch_swd(samples, image),
        "diversity": round(diversity(samples, image), 4),
        "copy_distance_min": round(float(distances.min()), 4),
        "copies": int((distances < COPY_THRESHOLD).sum()),
        "samples": len(samples),
    }
