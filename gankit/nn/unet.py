"""U-Net generator for image-to-image translation (pix2pix, Isola et al. 2017).

An encoder of stride-2 4x4 convs halves the resolution ``depth`` times (LeakyReLU 0.2, a norm on
all but the first and the innermost layer); a decoder of stride-2 4x4 transposed convs doubles it
back (ReLU, norm), and every decoder layer also sees the encoder features of its own resolution
(skip connections). The skips carry the layout of the input straight to the output, so G only has
to learn what changes (edges -> strokes, style) and not where things are.

pix2pix has no noise vector: a ``z`` that G learns to ignore is useless, so its "noise" is dropout
(p = ``dropout``) in the innermost decoder layers. ``latent_dim`` is 0 and the engine passes an
empty ``(B, 0)`` tensor. Dropout is active in training only (``G.eval()`` is deterministic, which
``apply`` and tests rely on).

Example:
    >>> import torch
    >>> G = UNetGenerator(UNetConfig(resolution=32, width=8, depth=5))
    >>> G(torch.zeros(2, 0), torch.randn(2, 1, 32, 32)).shape
    torch.Size([2, 1, 32, 32])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.layers import init_weights_dcgan

# norm name -> layer factory(channels). Instance norm is CycleGAN's choice (per-image contrast);
# batch norm is pix2pix's.
NORMS: dict[str, Callable[[int], nn.Module]] = {
    "batch": nn.BatchNorm2d,
    "instance": lambda channels: nn.InstanceNorm2d(channels, affine=True),
    "none": lambda channels: nn.Identity(),
}


def get_norm(name: str) -> Callable[[int], nn.Module]:
    """The norm layer factory called ``name``; an unknown name lists the valid ones."""
    if name not in NORMS:
        raise GankitError(f"unknown norm {name!r}; valid norms: {', '.join(NORMS)}")
    return NORMS[name]


@dataclass(frozen=True)
class UNetConfig:
    """Sizes of the U-Net.

    ``depth`` stride-2 downsamplings (``resolution`` must be divisible by ``2**depth``; the
    pix2pix 256-px G has depth 8, a 32-px G depth 5 reaches 1x1). ``width`` channels at the first
    layer, doubling per level up to ``max_width``. ``dropout`` applies to the ``dropout_layers``
    innermost decoder layers (pix2pix: 0.5 on 3).
    """

    resolution: int = 32
    in_channels: int = 1
    out_channels: int = 1
    width: int = 64
    max_width: int = 512
    depth: int = 5
    norm: str = "batch"
    dropout: float = 0.5
    dropout_layers: int = 3

    def __post_init__(self) -> None:
        for name in ("resolution", "in_channels", "out_channels", "width", "max_width", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GankitError(f"unet {name} must be a positive integer, got {value!r}")
        if self.resolution % 2**self.depth:
            raise GankitError(
                f"unet depth {self.depth} halves the image {self.depth} times, so the resolution "
                f"must be divisible by {2**self.depth}; got {self.resolution}. Use a multiple of "
                f"{2**self.depth} or a smaller depth"
            )
        if not 0 <= self.dropout < 1:
            raise GankitError(f"unet dropout must be in [0, 1), got {self.dropout!r}")
        if self.dropout_layers < 0:
            raise GankitError(f"unet dropout_layers must be >= 0, got {self.dropout_layers!r}")
        get_norm(self.norm)


class UNetGenerator(nn.Module):
    """``G(z, source) -> target``: (B, in_channels, R, R) -> (B, out_channels, R, R) in [-1, 1]."""

    latent_dim = 0  # no noise vector: dropout is pix2pix's noise

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        norm = get_norm(config.norm)
        widths = [min(config.width * 2**level, config.max_width) for level in range(config.depth)]
        self.down = nn.ModuleList()
        in_ch = config.in_channels
        for level, out_ch in enumerate(widths):
            layers: list[nn.Module] = [] if level == 0 else [nn.LeakyReLU(0.2)]
            # Bias is redundant before a norm; the outermost and innermost layers have none.
            has_norm = 0 < level < config.depth - 1 and config.norm != "none"
            layers.append(nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=not has_norm))
            if has_norm:
                layers.append(norm(out_ch))
            self.down.append(nn.Sequential(*layers))
            in_ch = out_ch
        self.up = nn.ModuleList()
        for level in reversed(range(config.depth)):
            # The innermost decoder layer sees only the bottleneck; the others also their skip.
            in_ch = widths[level] * (1 if level == config.depth - 1 else 2)
            outermost = level == 0
            out_ch = config.out_channels if outermost else widths[level - 1]
            layers = [nn.ReLU(), nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=outermost)]
            if outermost:
                layers.append(nn.Tanh())
            else:
                if config.norm != "none":
                    layers.append(norm(out_ch))
                if config.depth - 1 - level < config.dropout_layers and config.dropout > 0:
                    layers.append(nn.Dropout(config.dropout))
            self.up.append(nn.Sequential(*layers))
        self.apply(init_weights_dcgan)

    def forward(self, z: Tensor, source: Tensor) -> Tensor:
        if source.dim() != 4 or source.shape[1] != self.config.in_channels:
            raise GankitError(
                f"the U-Net expects source images (B, {self.config.in_channels}, H, W), got shape "
                f"{tuple(source.shape)}"
            )
        if source.shape[-1] % 2**self.config.depth or source.shape[-2] % 2**self.config.depth:
            raise GankitError(
                f"the U-Net (depth {self.config.depth}) needs image sides divisible by "
                f"{2**self.config.depth}, got {source.shape[-2]}x{source.shape[-1]}"
            )
        skips = []
        h = source
        for layer in self.down:
            h = layer(h)
            skips.append(h)
        skips.pop()  # the bottleneck itself is the decoder's input, not a skip
        h = self.up[0](h)
        for layer in self.up[1:]:
            h = layer(torch.cat([h, skips.pop()], dim=1))  # (B, C, r, r) + skip -> (B, 2C, r, r)
        return h


def build_unet(config: UNetConfig) -> UNetGenerator:
    """Build a :class:`UNetGenerator` from ``config``."""
    return UNetGenerator(config)
