"""ESRGAN's RRDB super-resolution generator and a VGG-style discriminator (Wang et al. 2018).

G maps a low-resolution image to one ``scale`` times larger: a conv, a trunk of Residual-in-
Residual Dense Blocks at low resolution, then pixel-shuffle upsampling: by default one conv to
``3 * scale^2`` channels and a shuffle (ESPCN), which keeps all the work at low resolution;
``upsampler="esrgan"`` uses ESRGAN's ``log2(scale)`` x2 stages and two convs at high resolution.
With ``bicubic_skip`` (the default) G predicts only what bicubic interpolation misses and adds the
bicubic upscale of its input (VDSR's global residual, Kim et al. 2016): the untrained network
already equals bicubic, so a short CPU budget goes into detail instead of into re-learning
colours; ``bicubic_skip=False`` is ESRGAN exactly.

D is ESRGAN's VGG-style stack of conv pairs (the second of each pair halves the resolution),
ending in global average pooling and a linear layer, so it judges HR patches of any size and
returns ``(B,)`` logits like every gankit D. :meth:`SRDiscriminator.features` exposes its
per-stage activations for the perceptual loss of :mod:`gankit.tasks.superres`.

Images are in [-1, 1]; G's output is not squashed (a tanh would fight the bicubic skip), callers
clamp when they turn it into pixels.

Example:
    >>> import torch
    >>> G, D = build_rrdb(RRDBConfig(scale=4, width=8, blocks=1, growth=4, d_width=8))
    >>> sr = G(torch.zeros(2, 0), torch.zeros(2, 3, 12, 12))
    >>> sr.shape, D(sr).shape
    (torch.Size([2, 3, 48, 48]), torch.Size([2]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.imageops import bicubic_resize
from gankit.nn.layers import sn

SCALES = (2, 4)
_SLOPE = 0.2  # LeakyReLU slope of ESRGAN, G and D
_RESIDUAL_SCALE = 0.2  # ESRGAN scales every residual by 0.2 so deep trunks train stably


@dataclass(frozen=True)
class RRDBConfig:
    """Settings of the RRDB generator and its discriminator.

    ``width``/``blocks``/``growth``: trunk channels, number of RRDBs, dense-block growth
    (ESRGAN: 64/23/32; the defaults fit a CPU). ``d_width``/``d_stages``: D's first width and its
    number of stride-2 stages (width doubles per stage up to 8x; ESRGAN: 64 and 5 on 128 px
    patches, ~25x the compute of the default, which would take most of a CPU budget).
    """

    scale: int = 4
    channels: int = 3
    width: int = 32
    blocks: int = 2
    growth: int = 16
    bicubic_skip: bool = True
    upsampler: str = "pixelshuffle"  # or "esrgan" (x2 stages + HR convs, ~2x the compute)
    d_width: int = 16
    d_stages: int = 3
    spectral_norm: bool = False
    latent_dim: int = 0  # a deterministic upscaler: no noise input
    # The recipe (read by gankit.tasks.superres, not by the modules): L1 alone for the first
    # pretrain_steps, then pixel_weight * L1 + perceptual_weight * feature distance +
    # adversarial_weight * GAN loss. adversarial_weight 0 is a PSNR-oriented model (no D at all).
    # perceptual: "discriminator" (D's own features) or a local VGG19 .safetensors file.
    pretrain_steps: int = 0
    pixel_weight: float = 1.0
    perceptual_weight: float = 0.2
    adversarial_weight: float = 1e-2
    perceptual: str = "discriminator"

    def __post_init__(self) -> None:
        for name in ("pixel_weight", "perceptual_weight", "adversarial_weight"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise GankitError(f"rrdb option {name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.pretrain_steps, int) or self.pretrain_steps < 0:
            raise GankitError(
                f"rrdb option pretrain_steps must be an integer >= 0, got {self.pretrain_steps!r}"
            )
        if self.scale not in SCALES:
            raise GankitError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if self.upsampler not in UPSAMPLERS:
            raise GankitError(
                f"unknown upsampler {self.upsampler!r}; valid: {', '.join(UPSAMPLERS)}"
            )
        if self.latent_dim != 0:
            raise GankitError("the RRDB upscaler takes no noise: latent_dim must be 0")
        if self.channels not in (1, 3):
            raise GankitError(f"channels must be 1 or 3, got {self.channels!r}")
        for name in ("width", "blocks", "growth", "d_width", "d_stages"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GankitError(f"rrdb option {name} must be a positive integer, got {value!r}")


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1)


class DenseBlock(nn.Module):
    """Five convs, each seeing the block input and every earlier output (ESRGAN's RDB)."""

    def __init__(self, width: int, growth: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            _conv(width + i * growth, growth if i < 4 else width) for i in range(5)
        )

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for conv in self.convs[:-1]:
            features.append(F.leaky_relu(conv(torch.cat(features, 1)), _SLOPE))
        return x + _RESIDUAL_SCALE * self.convs[-1](torch.cat(features, 1))


class RRDB(nn.Module):
    """Three dense blocks inside one more scaled residual connection."""

    def __init__(self, width: int, growth: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(DenseBlock(width, growth) for _ in range(3)))

    def forward(self, x: Tensor) -> Tensor:
        return x + _RESIDUAL_SCALE * self.blocks(x)


class PixelShuffleUpsampler(nn.Module):
    """One conv to ``C * scale^2`` channels, then a pixel shuffle (ESPCN, Shi et al. 2016).

    All the work stays at low resolution, which is what makes the default CPU-friendly.
    """

    def __init__(self, width: int, channels: int, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self.out = _conv(width, channels * scale * scale)

    def forward(self, features: Tensor) -> Tensor:
        # (B, C*s*s, h, w) -> (B, C, s*h, s*w)
        return F.pixel_shuffle(self.out(features), self.scale)


class ESRGANUpsampler(nn.Module):
    """ESRGAN's upsampling: ``log2(scale)`` x2 stages of conv + pixel shuffle, two HR convs."""

    def __init__(self, width: int, channels: int, scale: int) -> None:
        super().__init__()
        self.stages = nn.ModuleList(_conv(width, 4 * width) for _ in range(int(math.log2(scale))))
        self.hr_conv = _conv(width, width)
        self.out = _conv(width, channels)

    def forward(self, features: Tensor) -> Tensor:
        for conv in self.stages:
            # (B, 4C, h, w) -> (B, C, 2h, 2w): sub-pixel convolution.
            features = F.leaky_relu(F.pixel_shuffle(conv(features), 2), _SLOPE)
        return self.out(F.leaky_relu(self.hr_conv(features), _SLOPE))


# upsampler name -> module(width, channels, scale); each ends in a conv called ``out``.
UPSAMPLERS: dict[str, type[nn.Module]] = {
    "pixelshuffle": PixelShuffleUpsampler,
    "esrgan": ESRGANUpsampler,
}


class RRDBGenerator(nn.Module):
    """``G(z, lr) -> sr``: ``(B, C, h, w)`` -> ``(B, C, scale*h, scale*w)``; ``z`` is ``(B, 0)``."""

    latent_dim = 0

    def __init__(self, config: RRDBConfig) -> None:
        super().__init__()
        self.scale = config.scale
        self.bicubic_skip = config.bicubic_skip
        width = config.width
        self.head = _conv(config.channels, width)
        self.trunk = nn.Sequential(*(RRDB(width, config.growth) for _ in range(config.blocks)))
        self.trunk_out = _conv(width, width)
        self.upsampler = UPSAMPLERS[config.upsampler](width, config.channels, config.scale)
        if self.bicubic_skip:
            # Start exactly at bicubic: the residual branch begins silent and grows as it learns.
            nn.init.zeros_(self.upsampler.out.weight)
            nn.init.zeros_(self.upsampler.out.bias)

    def forward(self, z: Tensor, lr: Tensor) -> Tensor:
        features = self.head(lr)
        features = features + self.trunk_out(self.trunk(features))
        sr = self.upsampler(features)
        if self.bicubic_skip:
            sr = sr + bicubic_resize(lr, (lr.shape[-2] * self.scale, lr.shape[-1] * self.scale))
        return sr


class SRDiscriminator(nn.Module):
    """VGG-style D over HR patches: ``D(x, cond=None) -> (B,)`` logits; ``cond`` is ignored.

    The low-resolution input carries no information D needs: an SR output agrees with its LR
    image by construction (the L1 term enforces it), so D judges realism alone, as in ESRGAN.
    """

    def __init__(self, config: RRDBConfig) -> None:
        super().__init__()
        c_in, width = config.channels, config.d_width
        self.stages = nn.ModuleList()
        for stage in range(config.d_stages):
            c_out = config.d_width * min(2**stage, 8)
            self.stages.append(
                nn.Sequential(
                    sn(nn.Conv2d(c_in, c_out, 3, 1, 1), config.spectral_norm),
                    nn.LeakyReLU(_SLOPE),
                    sn(nn.Conv2d(c_out, c_out, 4, 2, 1), config.spectral_norm),
                    nn.LeakyReLU(_SLOPE),
                )
            )
            c_in = width = c_out
        self.head = sn(nn.Linear(width, 1), config.spectral_norm)

    def features(self, x: Tensor) -> list[Tensor]:
        """Activations after each stride-2 stage (the perceptual loss compares these)."""
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.head(self.features(x)[-1].mean(dim=(2, 3))).squeeze(1)


def build_rrdb(config: RRDBConfig) -> tuple[RRDBGenerator, SRDiscriminator]:
    """The ``(G, D)`` pair of ``config``."""
    return RRDBGenerator(config), SRDiscriminator(config)
