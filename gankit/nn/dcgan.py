"""DCGAN (Radford, Metz & Chintala 2016): the all-convolutional G and D.

G projects the noise to a small ``start x start`` map, then each stride-2 transposed conv doubles
the resolution and halves the channels (BN + ReLU between them) until a tanh image of
``resolution`` pixels comes out. D mirrors it: stride-2 convs with LeakyReLU(0.2), BatchNorm on all
but the first, doubling the channels, then one conv over the whole ``start x start`` map gives the
logit. Weights start from N(0, 0.02).

``resolution`` picks the number of doublings: 16, 32, 64 start from 4x4; 28 (MNIST) from 7x7.

Conditional (``condition="class"`` or ``"vector"``, see :mod:`gankit.nn.conditioning`): G's first
layer reads the condition embedding next to the noise (as BigGAN-deep), and every BN of G becomes a
conditional BN fed by the same embedding; D adds the projection term
``<embed(y), phi(x)>`` with ``phi(x)`` the flattened map its last conv reads (a class-specific
last-conv filter), and optionally an AC-GAN classifier on the same features.

Example:
    >>> import torch
    >>> G, D = build_dcgan(DCGANConfig(resolution=28, channels=1, g_width=8, d_width=8))
    >>> images = G(torch.randn(4, G.latent_dim))
    >>> images.shape, D(images).shape
    (torch.Size([4, 1, 28, 28]), torch.Size([4]))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.conditioning import (
    NO_CONDITION,
    ConditionalSequential,
    ConditionSettings,
    batch_norm,
    conditional_head,
)
from gankit.nn.layers import MinibatchStd, init_weights_dcgan, pack_samples, sn

# resolution -> number of stride-2 (de)convolutions; the small map is resolution // 2**n.
UPSAMPLINGS = {16: 2, 28: 2, 32: 3, 64: 4}
RESOLUTIONS = tuple(UPSAMPLINGS)


@dataclass(frozen=True)
class DCGANConfig(ConditionSettings):
    """Sizes and switches of the DCGAN pair.

    ``g_width`` / ``d_width`` are the channels of the layer next to the image (at half its
    resolution); each further halving of the resolution doubles them. ``minibatch_std`` adds a
    :class:`MinibatchStd` channel before D's last conv. ``pack`` makes D judge ``pack`` images
    jointly (PacGAN). ``d_batchnorm=False`` removes BatchNorm from D (WGAN-GP needs a per-sample
    critic); ``spectral_norm`` wraps D's convs and, as in SNGAN, replaces D's BatchNorm.
    The conditioning fields come from :class:`~gankit.nn.conditioning.ConditionSettings`.
    """

    resolution: int = 32
    channels: int = 1
    latent_dim: int = 100
    g_width: int = 64
    d_width: int = 64
    minibatch_std: bool = False
    pack: int = 1
    d_batchnorm: bool = True
    spectral_norm: bool = False
    diversity: float = 0.0  # weight of G's diversity term (gankit.tasks.images.DiversityLoss)

    def __post_init__(self) -> None:
        if not self.diversity >= 0:  # refuses NaN too
            raise GankitError(f"dcgan diversity must be >= 0, got {self.diversity}")
        if self.diversity and self.condition not in (NO_CONDITION, "class"):
            raise GankitError(
                "dcgan diversity pairs fakes of the same class: it needs condition 'class' or "
                f"none, got {self.condition!r}"
            )
        if self.resolution not in UPSAMPLINGS:
            raise GankitError(
                f"dcgan does not support resolution {self.resolution}; supported resolutions: "
                f"{', '.join(map(str, RESOLUTIONS))}"
            )
        for name in ("channels", "latent_dim", "g_width", "d_width", "pack"):
            if getattr(self, name) < 1:
                raise GankitError(f"dcgan {name} must be >= 1, got {getattr(self, name)}")
        self.check_condition("dcgan", self.pack)


class DCGANGenerator(nn.Module):
    """``(B, latent_dim)[, cond] -> (B, channels, resolution, resolution)`` in [-1, 1]."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        embed = config.condition_embed if config.conditional else 0
        n_up = UPSAMPLINGS[config.resolution]
        start = config.resolution // 2**n_up
        width = config.g_width * 2 ** (n_up - 1)  # channels at the start map
        # A transposed conv with kernel=start on a 1x1 input is the "project and reshape" layer.
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim + embed, width, start, 1, 0, bias=False),
            batch_norm(width, embed),
            nn.ReLU(),
        ]
        for _ in range(n_up - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),  # bias: BN removes it
                batch_norm(width // 2, embed),
                nn.ReLU(),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, config.channels, 4, 2, 1), nn.Tanh()]
        self.net = ConditionalSequential(*layers)
        self.apply(init_weights_dcgan)
        # Built after the N(0, 0.02) init, which would shrink a vector encoder's outputs.
        self.condition = config.generator_encoder()  # None: unconditional

    def forward(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        if self.condition is None:
            return self.net(z[:, :, None, None])  # (B, Z) -> (B, Z, 1, 1) -> (B, C, R, R)
        if cond is None:
            raise GankitError("this generator is conditional: pass a condition, G(z, cond)")
        embedding = self.condition(cond)  # (B, E)
        z = torch.cat([z, embedding], dim=1)  # (B, Z) -> (B, Z+E)
        return self.net(z[:, :, None, None], embedding)


class DCGANDiscriminator(nn.Module):
    """``(B, channels, resolution, resolution)[, cond] -> (B / pack,)`` logits."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.pack = config.pack
        n_down = UPSAMPLINGS[config.resolution]
        start = config.resolution // 2**n_down
        width = config.d_width
        use_bn = config.d_batchnorm and not config.spectral_norm  # SN replaces BN, as in SNGAN
        in_channels = config.channels * config.pack
        # Radford et al.: no BatchNorm on the first layer, which sees the raw images.
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        for _ in range(n_down - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=not use_bn)]
            layers += [nn.BatchNorm2d(width * 2)] if use_bn else []
            layers += [nn.LeakyReLU(0.2)]
            width *= 2
        if config.minibatch_std:
            layers.append(MinibatchStd())  # (B, W, s, s) -> (B, W+1, s, s)
            width += 1
        # One conv over the whole start x start map: (B, W, s, s) -> (B, 1, 1, 1).
        layers.append(nn.Conv2d(width, 1, start, 1, 0))
        self.net = nn.Sequential(*layers)
        self.apply(init_weights_dcgan)
        # Spectral norm goes on after the init, so its power iteration starts from these weights.
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                sn(layer, config.spectral_norm)  # registers in place
        self.head = conditional_head(config, width * start * start, config.spectral_norm)

    def features(self, x: Tensor) -> Tensor:
        """``phi(x)``: the map the last conv reads, flattened: (B, C, R, R) -> (B, W*s*s)."""
        return self.net[:-1](x).flatten(1)

    def classify(self, x: Tensor) -> Tensor:
        """AC-GAN class logits (B, K) (needs ``aux_classifier``)."""
        if self.head is None:
            raise GankitError("this discriminator is unconditional; it has no class head")
        return self.head.classify(self.features(x))

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        x = pack_samples(x, self.pack)  # (B, C, R, R) -> (B/pack, pack*C, R, R)
        if self.head is None:
            return self.net(x).flatten()  # (B/pack, 1, 1, 1) -> (B/pack,)
        h = self.net[:-1](x)  # (B, W, s, s)
        return self.net[-1](h).flatten() + self.head(h.flatten(1), cond)


def build_dcgan(config: DCGANConfig) -> tuple[DCGANGenerator, DCGANDiscriminator]:
    """Build ``(G, D)`` from ``config``."""
    return DCGANGenerator(config), DCGANDiscriminator(config)
