"""Multilayer perceptron G and D for low-dimensional data (the toy 2-D ring and grid mixtures).

G maps noise to points with a linear output (no tanh: toy data is not confined to [-1, 1]); D is
a plain MLP that returns one logit per sample, or per pack of samples when ``pack > 1``.

Example:
    >>> import torch
    >>> G, D = build_mlp(MLPConfig())
    >>> points = G(torch.randn(8, G.latent_dim))  # (8, 2)
    >>> D(points).shape
    torch.Size([8])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.layers import pack_samples, sn


@dataclass(frozen=True)
class MLPConfig:
    """Sizes of the MLP pair.

    ``depth`` is the number of hidden layers in each of G and D, all ``hidden`` wide, with
    LeakyReLU(0.2) between them. ``pack`` makes D judge ``pack`` samples jointly (PacGAN);
    ``spectral_norm`` wraps D's linear layers. ``latent_buckets`` > 0 cuts the first latent
    coordinate into that many equally likely buckets, each adding a learned vector to G's first
    hidden layer: G can then jump between separated modes instead of bridging them (see
    :class:`MLPGenerator`); 0 keeps G a continuous map of z. ``coverage_weight`` > 0 adds the
    nearest-fake coverage term to G's loss (the toy task's objective,
    :class:`gankit.tasks.toy.NearestFakeCoverage`); it changes no module.
    """

    data_dim: int = 2
    latent_dim: int = 16
    hidden: int = 256
    depth: int = 3
    pack: int = 1
    spectral_norm: bool = False
    latent_buckets: int = 0
    coverage_weight: float = 0.0

    def __post_init__(self) -> None:
        for name in ("data_dim", "latent_dim", "hidden", "depth", "pack"):
            if getattr(self, name) < 1:
                raise GankitError(f"mlp {name} must be >= 1, got {getattr(self, name)}")
        if self.latent_buckets < 0 or self.latent_buckets == 1:
            raise GankitError(
                f"mlp latent_buckets must be 0 (off) or >= 2, got {self.latent_buckets}"
            )
        if not 0 <= self.coverage_weight < math.inf:  # refuses NaN too
            raise GankitError(f"mlp coverage_weight must be >= 0, got {self.coverage_weight}")


def _mlp(in_dim: int, hidden: int, depth: int, out_dim: int, spectral_norm: bool) -> nn.Sequential:
    """``depth`` hidden Linear+LeakyReLU layers, then a bare Linear to ``out_dim``."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [sn(nn.Linear(in_dim if i == 0 else hidden, hidden), spectral_norm)]
        layers += [nn.LeakyReLU(0.2)]
    layers.append(sn(nn.Linear(hidden, out_dim), spectral_norm))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """``(B, latent_dim) -> (B, data_dim)``.

    A continuous G must put some mass on the paths between separated modes (the image of a
    connected latent space is connected). With ``latent_buckets = K`` the first coordinate of z
    picks one of K equally likely buckets (through the normal CDF, so z stays plain N(0, I)) and
    each bucket adds its own learned vector to the first hidden layer: a discrete latent as in
    DeLiGAN / BourGAN, which lets G send each bucket to one mode with nothing in between.
    """

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        self.net = _mlp(config.latent_dim, config.hidden, config.depth, config.data_dim, False)
        self.buckets = config.latent_buckets
        self.bucket_vectors = (
            nn.Embedding(config.latent_buckets, config.hidden) if config.latent_buckets else None
        )

    def bucket_of(self, z: Tensor) -> Tensor:
        """The latent bucket (0..K-1) each row of ``z`` falls in; needs ``latent_buckets`` > 0."""
        # ndtr(z0) is uniform on (0, 1), so the K buckets are equally likely.
        return (torch.special.ndtr(z[:, 0]) * self.buckets).long().clamp_(0, self.buckets - 1)

    def forward(self, z: Tensor) -> Tensor:
        if self.bucket_vectors is None:
            return self.net(z)
        h = self.net[0](z) + self.bucket_vectors(self.bucket_of(z))  # net[0] is the first Linear
        return self.net[1:](h)


class MLPDiscriminator(nn.Module):
    """``(B, data_dim) -> (B / pack,)`` logits."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.pack = config.pack
        in_dim = config.data_dim * config.pack
        self.net = _mlp(in_dim, config.hidden, config.depth, 1, config.spectral_norm)

    def features(self, x: Tensor) -> Tensor:
        """The last hidden layer's activations (B, hidden), one sample at a time (no packing)."""
        return self.net[:-1](x)

    def forward(self, x: Tensor) -> Tensor:
        x = pack_samples(x, self.pack)  # (B, d) -> (B/pack, pack*d)
        return self.net(x).squeeze(1)  # (B/pack, 1) -> (B/pack,)


def build_mlp(config: MLPConfig) -> tuple[MLPGenerator, MLPDiscriminator]:
    """Build ``(G, D)`` from ``config``."""
    return MLPGenerator(config), MLPDiscriminator(config)
