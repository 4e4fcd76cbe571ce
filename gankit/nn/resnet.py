"""SNGAN ResNet (Miyato et al. 2018; layout of Mimura's ``sngan_projection``).

G: a linear layer maps the noise to a 4x4 map, residual up-blocks (BN, ReLU, nearest upsample) each
double the resolution, then BN, ReLU, a 3x3 conv and tanh give the image. D: residual down-blocks
with spectral norm halve the resolution until 8x8, two more blocks work at 8x8 (the last one also
sees a minibatch-std channel), then ReLU, a global *sum* pool and a spectral-normed linear layer
give the logit. All blocks use the same ``width``, as SNGAN's CIFAR model does.

Blocks per resolution: 32 -> G 3 up / D 2 down + 2; 64 -> 4 / 3 + 2; 128 -> 5 / 4 + 2.

Conditional (``condition="class"`` or ``"vector"``, see :mod:`gankit.nn.conditioning`), as in
Miyato & Koyama's ``sngan_projection``: the BNs of G's up-blocks become conditional BNs fed by one
shared condition embedding, which G's first linear layer also reads next to the noise (BigGAN-deep);
D adds ``<embed(y), phi(x)>`` to its logit, ``phi(x)`` being the
sum-pooled features its linear layer reads, and optionally an AC-GAN classifier on them.

Example:
    >>> import torch
    >>> G, D = build_resnet(ResNetConfig(resolution=32, width=16))
    >>> images = G(torch.randn(4, G.latent_dim))
    >>> images.shape, D(images).shape
    (torch.Size([4, 3, 32, 32]), torch.Size([4]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.conditioning import ConditionSettings, batch_norm, conditional_head
from gankit.nn.layers import MinibatchStd, ResBlockDown, ResBlockUp, pack_samples, sn

RESOLUTIONS = (32, 64, 128)
G_START = 4  # G's first feature map is 4x4
D_END = 8  # D downsamples to 8x8, then runs two blocks there


@dataclass(frozen=True)
class ResNetConfig(ConditionSettings):
    """Sizes and switches of the SNGAN ResNet pair.

    ``width`` is the channel count of every residual block in G and D (SNGAN uses 256 for G and
    128 for D on CIFAR; 128 keeps a 32-px step affordable on a CPU). ``spectral_norm`` applies to
    D only; ``minibatch_std`` adds a :class:`MinibatchStd` channel before D's last block;
    ``pack`` makes D judge ``pack`` images jointly (PacGAN). The conditioning fields come from
    :class:`~gankit.nn.conditioning.ConditionSettings`.
    """

    resolution: int = 32
    channels: int = 3
    latent_dim: int = 128
    width: int = 128
    spectral_norm: bool = True
    minibatch_std: bool = True
    pack: int = 1

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise GankitError(
                f"resnet does not support resolution {self.resolution}; supported resolutions: "
                f"{', '.join(map(str, RESOLUTIONS))}"
            )
        for name in ("channels", "latent_dim", "width", "pack"):
            if getattr(self, name) < 1:
                raise GankitError(f"resnet {name} must be >= 1, got {getattr(self, name)}")
        self.check_condition("resnet", self.pack)


class ResNetGenerator(nn.Module):
    """``(B, latent_dim)[, cond] -> (B, channels, resolution, resolution)`` in [-1, 1]."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        self.condition = config.generator_encoder()  # None: unconditional
        embed = config.condition_embed if self.condition is not None else 0
        width = config.width
        n_up = int(math.log2(config.resolution // G_START))
        # No bias: every path from here to the image passes a BatchNorm, which would cancel it.
        self.project = nn.Linear(config.latent_dim + embed, width * G_START * G_START, bias=False)
        self.blocks = nn.ModuleList(
            [ResBlockUp(width, width, lambda c: batch_norm(c, embed)) for _ in range(n_up)]
        )
        self.out = nn.Sequential(
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, config.channels, 3, padding=1),
            nn.Tanh(),
        )
        nn.init.xavier_uniform_(self.project.weight)
        nn.init.xavier_uniform_(self.out[2].weight)

    def forward(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        embedding = None
        if self.condition is not None:
            if cond is None:
                raise GankitError("this generator is conditional: pass a condition, G(z, cond)")
            embedding = self.condition(cond)  # (B, E)
            z = torch.cat([z, embedding], dim=1)  # (B, Z) -> (B, Z+E)
        h = self.project(z).unflatten(1, (-1, G_START, G_START))  # (B, Z) -> (B, W, 4, 4)
        for block in self.blocks:
            h = block(h, embedding)
        return self.out(h)  # (B, W, 4, 4) -> (B, C, R, R)


class ResNetDiscriminator(nn.Module):
    """``(B, channels, resolution, resolution)[, cond] -> (B / pack,)`` logits."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.pack = config.pack
        width, use_sn = config.width, config.spectral_norm
        n_down = int(math.log2(config.resolution // D_END))
        in_channels = config.channels * config.pack
        # The first block sees the images themselves: no ReLU in front of its first conv.
        blocks: list[nn.Module] = [
            ResBlockDown(in_channels, width, preactivation=False, spectral_norm=use_sn)
        ]
        blocks += [ResBlockDown(width, width, spectral_norm=use_sn) for _ in range(n_down - 1)]
        blocks.append(ResBlockDown(width, width, downsample=False, spectral_norm=use_sn))
        if config.minibatch_std:
            blocks.append(MinibatchStd())  # (B, W, 8, 8) -> (B, W+1, 8, 8)
        last_in = width + 1 if config.minibatch_std else width
        blocks.append(ResBlockDown(last_in, width, downsample=False, spectral_norm=use_sn))
        self.blocks = nn.Sequential(*blocks)
        linear = nn.Linear(width, 1)
        nn.init.xavier_uniform_(linear.weight)
        self.linear = sn(linear, use_sn)
        self.head = conditional_head(config, width, use_sn)

    def features(self, x: Tensor) -> Tensor:
        """``phi(x)``: sum-pooled features (B/pack, W) that the linear layer reads."""
        x = pack_samples(x, self.pack)  # (B, C, R, R) -> (B/pack, pack*C, R, R)
        h = self.blocks(x).relu()  # (B/pack, W, 8, 8)
        # Sum (not mean) pooling, as in SNGAN: spectral norm caps every layer's gain at ~1, and a
        # mean over the 8x8 positions would shrink the logits by a further 64x.
        return h.sum(dim=(2, 3))  # (B/pack, W, 8, 8) -> (B/pack, W)

    def classify(self, x: Tensor) -> Tensor:
        """AC-GAN class logits (B, K) (needs ``aux_classifier``)."""
        if self.head is None:
            raise GankitError("this discriminator is unconditional; it has no class head")
        return self.head.classify(self.features(x))

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        h = self.features(x)
        logits = self.linear(h).squeeze(1)  # (B/pack, 1) -> (B/pack,)
        return logits if self.head is None else logits + self.head(h, cond)


def build_resnet(config: ResNetConfig) -> tuple[ResNetGenerator, ResNetDiscriminator]:
    """Build ``(G, D)`` from ``config``."""
    return ResNetGenerator(config), ResNetDiscriminator(config)
