"""Building blocks shared by the architectures in :mod:`gankit.nn`.

Everything here is a plain ``nn.Module`` or function with no knowledge of any particular
architecture, so a new model assembles these instead of copying them:

- :func:`pack_samples` — PacGAN packing: D judges ``pack`` samples jointly.
- :class:`MinibatchStd` — StyleGAN2's minibatch standard deviation feature.
- :func:`sn` — optional spectral normalization, switched by a config flag.
- :func:`init_weights_dcgan` — the N(0, 0.02) initialisation of Radford et al.
- :class:`ResBlockUp` / :class:`ResBlockDown` — SNGAN-style residual blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """Stack ``pack`` consecutive samples along the first feature axis (PacGAN, Lin et al. 2018).

    ``(B, *S) -> (B/pack, pack*S[0], *S[1:])``: points ``(B, d) -> (B/pack, pack*d)``, images
    ``(B, C, H, W) -> (B/pack, pack*C, H, W)``. Samples ``0..pack-1`` form the first pack, and so
    on. Seeing several samples at once lets D notice a lack of diversity (mode collapse), which it
    cannot from one sample. ``pack=1`` returns ``x`` unchanged.

    Example:
        >>> pack_samples(torch.zeros(6, 3, 8, 8), 2).shape
        torch.Size([3, 6, 8, 8])
    """
    if pack == 1:
        return x
    batch = x.shape[0]
    if batch % pack:
        raise GankitError(
            f"a discriminator with pack={pack} needs a batch size divisible by {pack}, got {batch}"
        )
    # (B, S0, *S) -> (B/pack, pack*S0, *S): reshape keeps consecutive samples together.
    return x.reshape(batch // pack, pack * x.shape[1], *x.shape[2:])


def _largest_divisor_at_most(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


class MinibatchStd(nn.Module):
    """Append the standard deviation across a group of samples as extra channels (StyleGAN2).

    Samples are split into groups of ``group_size``; for each group, each of ``num_features``
    channel chunks gets the std over the group, averaged over its channels and positions, and that
    scalar is broadcast as one new channel to every sample of the group. A collapsed G (samples
    that look alike) shows up as a low std, which D can then punish.

    Shape: ``(B, C, H, W) -> (B, C + num_features, H, W)``; any rank >= 2 works, so feature vectors
    ``(B, C) -> (B, C + num_features)``. When ``B`` is not divisible by ``group_size`` the group
    is the largest divisor of ``B`` that is ``<= group_size`` (1 in the worst case, where the std
    is 0), so odd final batches still run.

    Example:
        >>> MinibatchStd(group_size=4)(torch.randn(6, 8, 4, 4)).shape
        torch.Size([6, 9, 4, 4])
    """

    def __init__(self, group_size: int = 4, num_features: int = 1) -> None:
        super().__init__()
        if group_size < 1 or num_features < 1:
            raise GankitError(
                f"MinibatchStd needs group_size >= 1 and num_features >= 1, "
                f"got {group_size} and {num_features}"
            )
        self.group_size = group_size
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, *spatial = x.shape
        n_feat = self.num_features
        if channels % n_feat:
            raise GankitError(
                f"MinibatchStd num_features={n_feat} must divide the {channels} input channels"
            )
        group = _largest_divisor_at_most(batch, self.group_size)
        # (B, C, *S) -> (G, B/G, F, C/F, *S): sample i lands in group i % (B/G), as in StyleGAN2.
        y = x.reshape(group, batch // group, n_feat, channels // n_feat, *spatial)
        y = y.float()  # the variance of near-equal values needs more than fp16
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (B/G, F, C/F, *S): std over the group
        y = y.flatten(2).mean(dim=2)  # (B/G, F): one number per group and feature
        y = y.to(x.dtype).reshape(-1, n_feat, *([1] * len(spatial)))  # (B/G, F, 1, ..., 1)
        y = y.repeat(group, 1, *spatial)  # (B, F, *S): row i is group i % (B/G), matching above
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_features={self.num_features}"


def sn(module: nn.Module, enabled: bool = True) -> nn.Module:
    """``module`` with spectral normalization (Miyato et al. 2018) on its weight if ``enabled``.

    Uses ``torch.nn.utils.parametrizations.spectral_norm``: the weight is divided by an estimate of
    its largest singular value, refreshed by one power iteration per training forward, which makes
    the layer roughly 1-Lipschitz and D's training far more stable. The parametrization is
    registered on ``module`` in place and the same object is returned, so initialise the weight
    first: the power iteration starts from it.

    Example:
        >>> layer = sn(nn.Linear(4, 4), enabled=True)
        >>> float(torch.linalg.matrix_norm(layer.weight.detach(), ord=2)) < 1.1
        True
    """
    if not enabled:
        return module
    return nn.utils.parametrizations.spectral_norm(module)


def init_weights_dcgan(module: nn.Module) -> None:
    """Radford et al. init: conv/linear weights ~ N(0, 0.02), BatchNorm scales ~ N(1, 0.02).

    Use with ``model.apply(init_weights_dcgan)``; biases start at zero.
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d) and module.affine:
        # (a conditional BN's inner BN has no affine weights: its gain comes from the condition)
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _conv(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    gain: float,
    spectral_norm: bool = False,
    bias: bool = True,
) -> nn.Module:
    """A same-padding conv, Xavier-initialised as in SNGAN *before* spectral norm wraps it."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
    nn.init.xavier_uniform_(conv.weight, gain=gain)
    if bias:
        nn.init.zeros_(conv.bias)
    return sn(conv, spectral_norm)


class ResBlockUp(nn.Module):
    """Generator residual block that doubles the resolution (SNGAN, Miyato et al. 2018).

    Main path ``BN -> ReLU -> upsample x2 -> conv3 -> BN -> ReLU -> conv3``; the shortcut is
    ``upsample x2 -> conv1``. Shape: ``(B, C_in, H, W) -> (B, C_out, 2H, 2W)``. The convs have no
    bias: every path out of a block meets a BatchNorm (the next block's, or G's output one), which
    would cancel it. ``norm`` builds the two BNs; a conditional one (``norm(channels)`` returning a
    module called as ``bn(x, embedding)``) gets the ``embedding`` passed to :meth:`forward`.

    Example:
        >>> ResBlockUp(8, 4)(torch.randn(2, 8, 4, 4)).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        norm: Callable[[int], nn.Module] = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        self.bn1 = norm(in_channels)
        self.conv1 = _conv(in_channels, out_channels, 3, gain=math.sqrt(2), bias=False)
        self.bn2 = norm(out_channels)
        self.conv2 = _conv(out_channels, out_channels, 3, gain=math.sqrt(2), bias=False)
        self.shortcut = _conv(in_channels, out_channels, 1, gain=1.0, bias=False)

    def forward(self, x: Tensor, embedding: Tensor | None = None) -> Tensor:
        def bn(layer: nn.Module, h: Tensor) -> Tensor:
            return layer(h) if embedding is None else layer(h, embedding)

        h = F.interpolate(F.relu(bn(self.bn1, x)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(bn(self.bn2, self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResBlockDown(nn.Module):
    """Discriminator residual block, optionally halving the resolution (SNGAN).

    Main path ``ReLU -> conv3 -> ReLU -> conv3 -> avgpool2``; the shortcut is ``conv1 -> avgpool2``
    (1x1 conv and average pooling commute, so the order does not matter). The first block of a D
    sets ``preactivation=False``: its input is the image itself, which should not pass a ReLU. The
    shortcut conv is skipped when it would be an identity (same channels, no downsampling).
    Shape: ``(B, C_in, H, W) -> (B, C_out, H/2, W/2)`` (or ``H, W`` with ``downsample=False``).

    Example:
        >>> ResBlockDown(3, 8, preactivation=False)(torch.randn(2, 3, 8, 8)).shape
        torch.Size([2, 8, 4, 4])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        downsample: bool = True,
        preactivation: bool = True,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        self.downsample = downsample
        self.preactivation = preactivation
        self.conv1 = _conv(in_channels, out_channels, 3, math.sqrt(2), spectral_norm)
        self.conv2 = _conv(out_channels, out_channels, 3, math.sqrt(2), spectral_norm)
        learnable_shortcut = downsample or in_channels != out_channels
        self.shortcut = (
            _conv(in_channels, out_channels, 1, 1.0, spectral_norm)
            if learnable_shortcut
            else nn.Identity()
        )

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        skip = self.shortcut(x)
        if self.downsample:
            h, skip = F.avg_pool2d(h, 2), F.avg_pool2d(skip, 2)
        return h + skip
