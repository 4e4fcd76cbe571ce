"""Training the marker: random bits in, the same bits out after a random attack.

Each step draws a batch of ``crop x crop`` luma patches from the training images, random bits and
a random tile phase (so the decoder learns not to care where the tiles start), embeds the bits at
the configured PSNR, rounds to uint8 (straight through), applies one attack to the batch and
scores the decoder with binary cross-entropy. The image quality needs no loss term: the residual
is scaled to the PSNR by construction. A mark at 39 dB is too faint for an untrained decoder to
find, so the PSNR starts at ``START_PSNR`` and rises linearly to the target over the first half.

The attacks are the training-time cousins of :mod:`gankit.provenance.attacks`, with random
strengths around the evaluated ones: JPEG runs the real codec forward and passes gradients
straight through (the "forward ASL" trick), the rest are differentiable.

This is not an adversarial game, so it does not run on :class:`gankit.train.Trainer`: one loss,
one optimizer, no discriminator, no EMA.

Example:
    >>> images = [torch.randint(0, 256, (1, 40, 40), dtype=torch.uint8) for _ in range(3)]
    >>> marker, log = train_marker(images, MarkerConfig(), steps=2, batch_size=4)
    >>> sorted(log[-1])
    ['bit_accuracy', 'loss', 'step']
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from gankit.errors import GankitError

from .attacks import jpeg
from .marker import Marker, MarkerConfig, luma_of

# dB at step 0 of the strength curriculum (a loud mark first, then ever fainter).
START_PSNR = 30.0


def _straight_through(x: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
    """``changed`` forward, the identity's gradient backward."""
    return x + (changed - x).detach()


def _jpeg(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    quality = rng.randint(40, 90)
    as_uint8 = (x.detach() * 255).round().clamp(0, 255).to(torch.uint8)
    return _straight_through(x, jpeg(as_uint8, quality).float() / 255)


def _resize(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    size = x.shape[-2:]
    factor = rng.uniform(0.4, 0.9)
    small = [max(4, round(side * factor)) for side in size]
    down = F.interpolate(x, size=small, mode="bicubic", antialias=True, align_corners=False)
    return F.interpolate(down, size=size, mode="bicubic", align_corners=False)


def _crop(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    height, width = x.shape[-2:]
    keep_h, keep_w = round(height * rng.uniform(0.7, 0.95)), round(width * rng.uniform(0.7, 0.95))
    top, left = rng.randint(0, height - keep_h), rng.randint(0, width - keep_w)
    return x[..., top : top + keep_h, left : left + keep_w]


def _noise(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    return x + torch.randn_like(x) * rng.uniform(0.0, 0.04)


def _brightness(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    return x * rng.uniform(0.7, 1.3)


TRAINING_ATTACKS: tuple[Callable[[torch.Tensor, random.Random], torch.Tensor], ...] = (
    lambda x, rng: x,
    _jpeg,
    _jpeg,
    _resize,
    _crop,
    _noise,
    _brightness,
)


def _patches(
    images: Sequence[torch.Tensor], n: int, crop: int, gen: torch.Generator
) -> torch.Tensor:
    """``n`` random ``crop x crop`` luma patches (N, 1, crop, crop) in [0, 1]."""
    picks = torch.randint(len(images), (n,), generator=gen).tolist()
    patches = []
    for index in picks:
        image = images[index]
        height, width = image.shape[-2:]
        top = int(torch.randint(height - crop + 1, (1,), generator=gen))
        left = int(torch.randint(width - crop + 1, (1,), generator=gen))
        patches.append(image[:, top : top + crop, left : left + crop])
    return luma_of(torch.stack([p if p.shape[0] == 3 else p.expand(3, -1, -1) for p in patches]))


def train_marker(
    images: Sequence[torch.Tensor],
    config: MarkerConfig | None = None,
    *,
    steps: int = 600,
    batch_size: int = 32,
    crop: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    log_every: int = 100,
    on_log: Callable[[dict[str, float]], None] | None = None,
) -> tuple[Marker, list[dict[str, float]]]:
    """Train a :class:`Marker` on ``images`` (uint8 (C, H, W) tensors, C 1 or 3, each at least
    ``crop`` pixels a side); returns it (eval mode) and the logged loss and bit accuracy."""
    usable = [image for image in images if min(image.shape[-2:]) >= crop]
    if not usable:
        raise GankitError(f"no training image is at least {crop} pixels a side")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    config = config or MarkerConfig()
    marker = Marker(config)
    optimizer = torch.optim.Adam(marker.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    log: list[dict[str, float]] = []
    loss_sum = accuracy_sum = 0.0
    for step in range(1, steps + 1):
        luma = _patches(usable, batch_size, crop, gen)
        bits = torch.randint(0, 2, (batch_size, config.bits), generator=gen)
        phase = (rng.randrange(config.tile), rng.randrange(config.tile))
        psnr = START_PSNR + (config.psnr - START_PSNR) * min(1.0, 2 * step / steps)
        marked = (luma + marker.residual(luma, bits, psnr, phase)).clamp(0, 1)
        marked = _straight_through(marked, (marked * 255).round() / 255)
        attacked = rng.choice(TRAINING_ATTACKS)(marked, rng).clamp(0, 1)
        logits = marker.decode(attacked)
        loss = F.binary_cross_entropy_with_logits(logits, bits.float())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        loss_sum += loss.item()
        accuracy_sum += ((logits > 0) == bits.bool()).float().mean().item()
        if step % log_every == 0 or step == steps:
            count = step - (log[-1]["step"] if log else 0)
            entry = {"step": step, "loss": loss_sum / count, "bit_accuracy": accuracy_sum / count}
            log.append(entry)
            loss_sum = accuracy_sum = 0.0
            if on_log is not None:
                on_log(entry)
    return marker.eval(), log
