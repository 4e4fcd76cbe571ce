"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for the discriminator's input.

The same random transforms are applied to real and generated images before D sees them, and they are
differentiable, so G still gets useful gradients while D cannot simply memorise a small dataset.
Randomness comes from torch's global RNG, which checkpoints save and restore.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from gankit.errors import GankitError

Augment = Callable[[torch.Tensor], torch.Tensor]


def _per_sample(x: torch.Tensor) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (±0.5), saturation (×0..2) and contrast (×0.5..1.5)."""
    x = x + (_per_sample(x) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_per_sample(x) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_per_sample(x) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with zeros."""
    b, _, h, w = x.shape
    shift = torch.stack(
        [
            torch.randint(-int(h * ratio + 0.5), int(h * ratio + 0.5) + 1, (b,), device=x.device),
            torch.randint(-int(w * ratio + 0.5), int(w * ratio + 0.5) + 1, (b,), device=x.device),
        ],
        dim=1,
    )
    # Shifting by integer pixels through a padded gather keeps the op differentiable w.r.t. x.
    rows = (torch.arange(h, device=x.device)[None, :] + shift[:, :1] + 1).clamp(0, h + 1)  # (B, H)
    cols = (torch.arange(w, device=x.device)[None, :] + shift[:, 1:] + 1).clamp(0, w + 1)  # (B, W)
    padded = F.pad(x, [1, 1, 1, 1])
    batch = torch.arange(b, device=x.device)[:, None, None]
    # (B, C, H+2, W+2) -> (B, H, W, C) -> (B, C, H, W)
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one random square of ``ratio`` × the image size per image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)  # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, Augment] = {"color": color, "translation": translation, "cutout": cutout}


def build_augment(policy: str) -> Augment:
    """Compose the comma-separated ``policy`` (e.g. ``"translation,cutout"``); ``""`` is identity.

    Example:
        >>> aug = build_augment("translation,cutout")
        >>> aug(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise GankitError(f"unknown augmentation {unknown[0]!r}; valid: {', '.join(POLICIES)}")
    transforms = [POLICIES[n] for n in names]

    def augment(x: torch.Tensor) -> torch.Tensor:
        # Augmentation is defined for images only; 2-D points and table rows pass through.
        if x.dim() != 4:
            return x
        for transform in transforms:
            x = transform(x)
        return x

    return augment
