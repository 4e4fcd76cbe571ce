"""PatchGAN discriminator (pix2pix, Isola et al. 2017): one logit per overlapping image patch.

A stack of 4x4 convs: ``n_layers`` with stride 2 (widths ``width``, 2x, 4x, 8x at most), one with
stride 1, then a stride-1 conv down to one channel. Every output logit judges the input patch
inside its receptive field, so D models local texture and sharpness and leaves global structure
to the L1 / cycle terms. ``n_layers=3`` gives the paper's 70x70 patches (see
:func:`receptive_field`); fewer layers judge smaller patches.

Conditional (pix2pix): ``D(x, cond)`` judges ``concat(cond, x)``, so a fake must be right *for its
source* (``cond_channels > 0``). Unconditional (CycleGAN): ``cond_channels = 0`` and ``cond`` is
ignored.

The engine's losses take means over whatever shape D returns, so the patch map comes back whole:
``(B, 1, h, w) -> (B, h * w)`` logits; every patch is one real/fake decision.

Example:
    >>> import torch
    >>> D = PatchDiscriminator(PatchGANConfig(in_channels=1, cond_channels=1, width=8))
    >>> D(torch.randn(2, 1, 64, 64), torch.randn(2, 1, 64, 64)).shape  # 6x6 patches of 70x70
    torch.Size([2, 36])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.layers import init_weights_dcgan, sn
from gankit.nn.unet import get_norm

KERNEL = 4


def patchgan_layers(n_layers: int) -> list[tuple[int, int]]:
    """``(kernel, stride)`` of every conv of a PatchGAN with ``n_layers`` strided convs."""
    return [(KERNEL, 2)] * n_layers + [(KERNEL, 1), (KERNEL, 1)]


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Side in pixels of the input patch that one output of a conv stack sees.

    Walking back from one output pixel: ``r <- r * stride + (kernel - stride)``.

    Example:
        >>> receptive_field(patchgan_layers(3))  # the pix2pix PatchGAN
        70
        >>> receptive_field(patchgan_layers(1)), receptive_field(patchgan_layers(5))
        (16, 286)
    """
    size = 1
    for kernel, stride in reversed(layers):
        size = size * stride + (kernel - stride)
    return size


@dataclass(frozen=True)
class PatchGANConfig:
    """Sizes of the PatchGAN.

    ``in_channels`` of the judged images, ``cond_channels`` of the condition D also sees
    (0: unconditional). ``width`` channels at the first layer, doubling per strided layer up to
    ``8 * width``.
    """

    in_channels: int = 1
    cond_channels: int = 0
    width: int = 64
    n_layers: int = 3
    norm: str = "batch"
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        for name in ("in_channels", "width", "n_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GankitError(f"patchgan {name} must be a positive integer, got {value!r}")
        if not isinstance(self.cond_channels, int) or self.cond_channels < 0:
            raise GankitError(
                f"patchgan cond_channels must be an integer >= 0, got {self.cond_channels!r}"
            )
        get_norm(self.norm)

    @property
    def receptive_field(self) -> int:
        """Patch side in pixels that each output logit judges (70 for ``n_layers=3``)."""
        return receptive_field(patchgan_layers(self.n_layers))


class PatchDiscriminator(nn.Module):
    """``D(x[, cond]) -> (B, patches)`` logits, one per receptive-field patch."""

    def __init__(self, config: PatchGANConfig) -> None:
        super().__init__()
        self.config = config
        norm = get_norm(config.norm) if not config.spectral_norm else get_norm("none")
        use_norm = config.norm != "none" and not config.spectral_norm  # SN replaces the norm
        in_ch = config.in_channels + config.cond_channels
        layers: list[nn.Module] = []
        for index, (kernel, stride) in enumerate(patchgan_layers(config.n_layers)[:-1]):
            out_ch = config.width * min(2**index, 8)
            first = index == 0  # no norm on the layer that sees the raw images (DCGAN practice)
            layers.append(nn.Conv2d(in_ch, out_ch, kernel, stride, 1, bias=first or not use_norm))
            if not first and use_norm:
                layers.append(norm(out_ch))
            layers.append(nn.LeakyReLU(0.2))
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 1, KERNEL, 1, 1))
        self.net = nn.Sequential(*layers)
        self.apply(init_weights_dcgan)
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                sn(layer, config.spectral_norm)  # after the init, as in gankit.nn.dcgan

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        if self.config.cond_channels:
            if cond is None or cond.shape[1] != self.config.cond_channels:
                got = None if cond is None else tuple(cond.shape)
                raise GankitError(
                    f"this PatchGAN judges (image, condition) pairs and needs a condition of "
                    f"{self.config.cond_channels} channel(s), got {got}"
                )
            x = torch.cat([cond, x], dim=1)  # (B, Cc + C, H, W): the pair is judged jointly
        if min(x.shape[-2:]) < self.min_side:
            raise GankitError(
                f"images of {x.shape[-2]}x{x.shape[-1]} are too small for a PatchGAN with "
                f"n_layers={self.config.n_layers} (it needs at least {self.min_side} pixels a "
                "side); use fewer layers"
            )
        return self.net(x).flatten(1)  # (B, 1, h, w) -> (B, h*w)

    @property
    def min_side(self) -> int:
        """Smallest image side that still leaves one output patch."""
        side = 1
        for kernel, stride in reversed(patchgan_layers(self.config.n_layers)):
            side = (side - 1) * stride + kernel - 2  # inverse of out = (in + 2 - k) // s + 1
        return side


def build_patchgan(config: PatchGANConfig) -> PatchDiscriminator:
    """Build a :class:`PatchDiscriminator` from ``config``."""
    return PatchDiscriminator(config)
