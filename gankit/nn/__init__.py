"""Architectures: a registry of frozen configs and the functions that build ``(G, D)`` from them.

Every architecture keeps one contract so the engine, the losses and the tasks never special-case a
model:

- ``G(z) -> x`` with ``z`` of shape ``(B, G.latent_dim)``; image models return
  ``(B, channels, resolution, resolution)`` in [-1, 1] (tanh).
- ``D(x) -> logits`` of shape ``(B,)``, or ``(B / D.pack,)`` when D packs samples (PacGAN).

Example:
    >>> import torch
    >>> G, D, config = build_gan("dcgan", {"resolution": 32, "g_width": 8, "d_width": 8})
    >>> config.channels, D(G(torch.randn(4, G.latent_dim))).shape
    (1, torch.Size([4]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from gankit.config import from_dict
from gankit.errors import GankitError
from gankit.nn import dcgan, resnet
from gankit.nn.dcgan import DCGANConfig, build_dcgan
from gankit.nn.layers import MinibatchStd, pack_samples
from gankit.nn.mlp import MLPConfig, build_mlp
from gankit.nn.resnet import ResNetConfig, build_resnet
from gankit.nn.rrdb import RRDBConfig, build_rrdb
from gankit.nn.self_conditioning import ClusterConditionedGenerator
from gankit.nn.tabular import TabularConfig, build_tabular
from gankit.nn.translation import CycleGANConfig, Pix2PixConfig, build_cyclegan, build_pix2pix


@dataclass(frozen=True)
class Architecture:
    """A config class, the function that builds ``(G, D)`` from one, and its image resolutions.

    ``resolutions`` is empty for models of vectors (the MLP).
    """

    config_cls: type
    build: Callable[[Any], tuple[nn.Module, nn.Module]]
    resolutions: tuple[int, ...] = ()


ARCHITECTURES: dict[str, Architecture] = {
    "mlp": Architecture(MLPConfig, build_mlp),
    "dcgan": Architecture(DCGANConfig, build_dcgan, dcgan.RESOLUTIONS),
    "resnet": Architecture(ResNetConfig, build_resnet, resnet.RESOLUTIONS),
    "tabular": Architecture(TabularConfig, build_tabular),
}

# Image-to-image translators: G(z, source) with latent_dim 0, D over (image[, source]) patches,
# returning (B, patches) logits. Kept apart from ARCHITECTURES, whose contract (G(z) -> x,
# D(x) -> (B,)) the shared contract tests check; pass registry=TRANSLATORS to the functions below.
TRANSLATORS: dict[str, Architecture] = {
    "pix2pix": Architecture(Pix2PixConfig, build_pix2pix),
    "cyclegan": Architecture(CycleGANConfig, build_cyclegan),
    "rrdb": Architecture(RRDBConfig, build_rrdb),  # super-resolution: G(z, low_res) -> x
}


def get_architecture(arch: str, registry: dict[str, Architecture] = ARCHITECTURES) -> Architecture:
    """The registered architecture called ``arch``; an unknown name lists the valid ones."""
    try:
        return registry[arch]
    except KeyError:
        raise GankitError(
            f"unknown architecture {arch!r}; valid architectures: {', '.join(registry)}"
        ) from None


def config_from_dict(
    arch: str,
    values: dict[str, Any] | None = None,
    registry: dict[str, Architecture] = ARCHITECTURES,
) -> Any:
    """The config of ``arch`` from ``values`` (missing keys take defaults, unknown keys fail).

    Example:
        >>> config_from_dict("mlp", {"hidden": 64}).hidden
        64
        >>> config_from_dict("mlp", {"hiden": 64})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        gankit.errors.GankitError: unknown mlp config key(s) 'hiden'; valid keys: ...
    """
    config_cls = get_architecture(arch, registry).config_cls
    return from_dict(config_cls, values or {}, what=f"{arch} config")


def build_gan(
    arch: str,
    config_dict: dict[str, Any] | None = None,
    registry: dict[str, Architecture] = ARCHITECTURES,
) -> tuple[nn.Module, nn.Module, Any]:
    """Build ``(G, D, config)`` for architecture ``arch`` from a plain dict of settings.

    A config with ``clusters`` builds the class-conditional pair over clusters and wraps G in a
    :class:`~gankit.nn.self_conditioning.ClusterConditionedGenerator` (self-conditioning).

    The returned config is the frozen dataclass actually used (defaults filled in); saving it with
    :func:`gankit.config.to_dict` is enough to rebuild the same modules.
    """
    config = config_from_dict(arch, config_dict, registry)
    clusters = getattr(config, "clusters", 0)
    built = config.by_cluster() if clusters else config
    generator, discriminator = get_architecture(arch, registry).build(built)
    if clusters:
        generator = ClusterConditionedGenerator(generator, clusters)
    return generator, discriminator, config


__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "CycleGANConfig",
    "DCGANConfig",
    "MLPConfig",
    "MinibatchStd",
    "Pix2PixConfig",
    "RRDBConfig",
    "ResNetConfig",
    "TRANSLATORS",
    "TabularConfig",
    "build_gan",
    "config_from_dict",
    "get_architecture",
    "pack_samples",
]
