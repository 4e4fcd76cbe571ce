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

from dataclasses import dataclass

from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.layers import pack_samples, sn


@dataclass(frozen=True)
class MLPConfig:
    """Sizes of the MLP pair.

    ``depth`` is the number of hidden layers in each of G and D, all ``hidden`` wide, with
    LeakyReLU(0.2) between them. ``pack`` makes D judge ``pack`` samples jointly (PacGAN);
    ``spectral_norm`` wraps D's linear layers.
    """

    data_dim: int = 2
    latent_dim: int = 16
    hidden: int = 256
    depth: int = 3
    pack: int = 1
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        for name in ("data_dim", "latent_dim", "hidden", "depth", "pack"):
            if getattr(self, name) < 1:
                raise GankitError(f"mlp {name} must be >= 1, got {getattr(self, name)}")


def _mlp(in_dim: int, hidden: int, depth: int, out_dim: int, spectral_norm: bool) -> nn.Sequential:
    """``depth`` hidden Linear+LeakyReLU layers, then a bare Linear to ``out_dim``."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [sn(nn.Linear(in_dim if i == 0 else hidden, hidden), spectral_norm)]
        layers += [nn.LeakyReLU(0.2)]
    layers.append(sn(nn.Linear(hidden, out_dim), spectral_norm))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """``(B, latent_dim) -> (B, data_dim)``."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        self.net = _mlp(config.latent_dim, config.hidden, config.depth, config.data_dim, False)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """``(B, data_dim) -> (B / pack,)`` logits."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.pack = config.pack
        in_dim = config.data_dim * config.pack
        self.net = _mlp(in_dim, config.hidden, config.depth, 1, config.spectral_norm)

    def forward(self, x: Tensor) -> Tensor:
        x = pack_samples(x, self.pack)  # (B, d) -> (B/pack, pack*d)
        return self.net(x).squeeze(1)  # (B/pack, 1) -> (B/pack,)


def build_mlp(config: MLPConfig) -> tuple[MLPGenerator, MLPDiscriminator]:
    """Build ``(G, D)`` from ``config``."""
    return MLPGenerator(config), MLPDiscriminator(config)
