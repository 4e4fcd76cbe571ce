"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for the discriminator's input.

The same random transforms are applied to real and generated images before D sees them, and they are
differentiable, so G still gets useful gradients while D cannot simply memorise a small dataset.
Randomness comes from torch's global RNG, which checkpoints save and restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def _transforms(policy: str) -> list[Augment]:
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise GankitError(f"unknown augmentation {unknown[0]!r}; valid: {', '.join(POLICIES)}")
    return [POLICIES[n] for n in names]


def build_augment(policy: str) -> Augment:
    """Compose the comma-separated ``policy`` (e.g. ``"translation,cutout"``); ``""`` is identity.

    Example:
        >>> aug = build_augment("translation,cutout")
        >>> aug(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """
    transforms = _transforms(policy)

    def augment(x: torch.Tensor) -> torch.Tensor:
        # Augmentation is defined for images only; 2-D points and table rows pass through.
        if x.dim() != 4:
            return x
        for transform in transforms:
            x = transform(x)
        return x

    return augment


ADA_DEFAULT_POLICY = "translation,cutout,color"


class AdaptiveAugment:
    """ADA (Karras et al. 2020): each transform hits each sample with probability ``p``, and ``p``
    follows D's overfitting.

    The overfitting signal is ``r_t = E[sign(D(real))]``: near 0 while D is unsure about reals, near
    1 once D has memorised them. Every ``interval`` D updates ``p`` moves by
    ``sign(r_t - target) * images / (kimg * 1000)``, so a D that overfits gets stronger
    augmentation and a struggling D gets less. ``p`` and the running sums are part of the state so
    a resumed run continues exactly.

    Example:
        >>> ada = AdaptiveAugment("translation", target=0.6, interval=1, kimg=0.001)
        >>> ada.observe(torch.tensor([2.0, 3.0]))  # D sure about every real: r_t = 1 > 0.6
        >>> ada.p
        1.0
        >>> ada(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """

    def __init__(self, policy: str, target: float, interval: int, kimg: float) -> None:
        self.transforms = _transforms(policy or ADA_DEFAULT_POLICY)
        self.target = target
        self.interval = interval
        self.kimg = kimg
        self.p = 0.0
        self._sign_sum = 0.0
        self._count = 0
        self._updates = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # Images only, like build_augment; p = 0 draws no random numbers (identical to no ADA).
        if x.dim() != 4 or self.p <= 0:
            return x
        for transform in self.transforms:
            apply = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < self.p  # (B, 1, 1, 1)
            x = torch.where(apply, transform(x), x)
        return x

    def observe(self, real_logits: torch.Tensor) -> None:
        """Feed D's logits on one real batch; adjusts ``p`` every ``interval`` calls."""
        self._sign_sum += float(real_logits.detach().sign().sum())
        self._count += real_logits.numel()
        self._updates += 1
        if self._updates % self.interval:
            return
        r_t = self._sign_sum / max(self._count, 1)
        step = self._count / (self.kimg * 1000)
        direction = (r_t > self.target) - (r_t < self.target)  # sign, 0 on target
        self.p = min(max(self.p + direction * step, 0.0), 1.0)
        self._sign_sum, self._count = 0.0, 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "sign_sum": self._sign_sum,
            "count": self._count,
            "updates": self._updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = state["p"]
        self._sign_sum, self._count, self._updates = (
            state["sign_sum"],
            state["count"],
            state["updates"],
        )
