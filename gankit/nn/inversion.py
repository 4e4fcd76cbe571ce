"""A GAN whose generator carries an encoder that inverts it: ``E(x) -> z`` with ``G(E(x)) ~ x``.

What the anomaly detector builds (f-AnoGAN, Schlegl et al. 2019; BiGAN/ALI's encoder): G and D are
the existing DCGAN pair for images and the MLP pair for vectors (table rows); the encoder mirrors
D's downsampling path (images) or is an MLP (vectors). The encoder lives inside the generator
module, :class:`InvertibleGenerator`, so the engine's one G optimizer, its EMA and its checkpoints
carry it without any special case; ``forward`` is G's alone, so the engine's contract
(``G(z) -> x``) holds.

D has no BatchNorm and no minibatch-std here: its features score one input at a time, and must not
depend on what else is in the batch or on running statistics of a mixed real/fake stream.

Example:
    >>> import torch
    >>> G, D = build_inversion(InversionConfig(resolution=28, width=8, latent_dim=16))
    >>> x = torch.rand(4, 1, 28, 28) * 2 - 1
    >>> G.encode(x).shape, G(G.encode(x)).shape, D.features(x).shape
    (torch.Size([4, 16]), torch.Size([4, 1, 28, 28]), torch.Size([4, 784]))
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.dcgan import UPSAMPLINGS, DCGANConfig, build_dcgan
from gankit.nn.layers import init_weights_dcgan
from gankit.nn.mlp import MLPConfig, build_mlp

KINDS = ("image", "vector")


@dataclass(frozen=True)
class InversionConfig:
    """Sizes of the G/D/encoder triple and the weights of the encoder's terms.

    ``kind`` "image": DCGAN G and D of ``width`` channels at ``resolution`` px (16, 28, 32, 64);
    "vector": MLPs of ``depth`` hidden layers, ``width`` wide, over ``data_dim`` columns.
    ``pixel_weight`` and ``feature_weight`` weigh the encoder's reconstruction terms in G's loss:
    ``|G(E(x)) - x|^2`` and ``|f(G(E(x))) - f(x)|^2`` with ``f`` D's features (f-AnoGAN's izi_f).
    ``score`` names the default anomaly score (see :mod:`gankit.tasks.anomaly`), ``k`` the
    neighbours of its ``knn`` part and ``bank_size`` the training normals it keeps for them.
    """

    kind: str = "image"
    resolution: int = 28
    channels: int = 1
    data_dim: int = 1
    latent_dim: int = 32
    width: int = 16
    depth: int = 2
    pixel_weight: float = 1.0
    feature_weight: float = 1.0
    score: str = "knn"
    k: int = 5
    bank_size: int = 6000

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise GankitError(
                f"inversion kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if self.kind == "image" and self.resolution not in UPSAMPLINGS:
            raise GankitError(
                f"the anomaly detector's images must be {', '.join(map(str, UPSAMPLINGS))} px, "
                f"got {self.resolution}"
            )
        for name in ("channels", "data_dim", "latent_dim", "width", "depth", "k", "bank_size"):
            if getattr(self, name) < 1:
                raise GankitError(f"inversion {name} must be >= 1, got {getattr(self, name)}")
        for name in ("pixel_weight", "feature_weight"):
            if not 0 <= getattr(self, name) < float("inf"):
                raise GankitError(f"inversion {name} must be >= 0, got {getattr(self, name)}")


class InvertibleGenerator(nn.Module):
    """``G(z) -> x`` with an encoder: ``encode(x) -> z``, ``reconstruct(x) = G(encode(x))``."""

    def __init__(self, generator: nn.Module, encoder: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        self.encoder = encoder
        self.latent_dim = generator.latent_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.generator(z)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.generator(self.encoder(x))


def _image_encoder(config: InversionConfig) -> nn.Sequential:
    """D's downsampling path (stride-2 convs, LeakyReLU, no BatchNorm), then a linear map to z."""
    n_down = UPSAMPLINGS[config.resolution]
    start = config.resolution // 2**n_down
    width = config.width
    layers: list[nn.Module] = [nn.Conv2d(config.channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
    for _ in range(n_down - 1):
        layers += [nn.Conv2d(width, width * 2, 4, 2, 1), nn.LeakyReLU(0.2)]
        width *= 2
    # (B, W, s, s) -> (B, W*s*s) -> (B, Z)
    layers += [nn.Flatten(), nn.Linear(width * start * start, config.latent_dim)]
    encoder = nn.Sequential(*layers)
    encoder.apply(init_weights_dcgan)
    return encoder


def _vector_encoder(config: InversionConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(config.depth):
        layers += [nn.Linear(config.data_dim if i == 0 else config.width, config.width)]
        layers += [nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Linear(config.width, config.latent_dim))


def build_inversion(config: InversionConfig) -> tuple[InvertibleGenerator, nn.Module]:
    """Build ``(G with its encoder, D)`` from ``config``; D has a ``features(x)`` method."""
    if config.kind == "image":
        dcgan = DCGANConfig(
            resolution=config.resolution,
            channels=config.channels,
            latent_dim=config.latent_dim,
            g_width=config.width,
            d_width=config.width,
            d_batchnorm=False,
        )
        generator, discriminator = build_dcgan(dcgan)
        encoder = _image_encoder(config)
    else:
        mlp = MLPConfig(
            data_dim=config.data_dim,
            latent_dim=config.latent_dim,
            hidden=config.width,
            depth=config.depth,
        )
        generator, discriminator = build_mlp(mlp)
        encoder = _vector_encoder(config)
    return InvertibleGenerator(generator, encoder), discriminator
