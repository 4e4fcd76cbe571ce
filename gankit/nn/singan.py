"""The multi-stage generator and patch critic of single-image GANs (ConSinGAN-style).

Hinz et al. (2021), "Improved techniques for training single-image GANs" (ConSinGAN), grow one
generator stage by stage, coarse to fine, and train the newest few stages together:

- stage 0 turns a coarse noise image into features (``head`` then ``body[0]``);
- stage k upsamples the features of stage k-1 to its own size, adds noise scaled by
  ``noise_amp[k]`` and refines them with a residual block (``body[k]``);
- one ``tail`` turns the features of the active stage into an RGB image (tanh).

The critic is a small fully convolutional patch critic: its receptive field (a few dozen pixels)
is what makes it judge *texture statistics* rather than the whole picture, and the same critic
follows the generator from stage to stage (ConSinGAN initialises each stage's critic from the
previous one; here it simply keeps training).

``G(z)`` keeps gankit's generator contract: ``z`` is ``(B, latent_dim)``, every stage's noise at
the training size flattened into one vector, so the engine, seeds and truncation work unchanged.
:meth:`SinGANGenerator.synthesize` draws at any other size and, with ``tileable=True``, makes the
output periodic: every convolution pads circularly and every upsampling wraps around, so the image
tiles without seams (PSGAN's periodic idea without its periodic latent).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError

_SLOPE = 0.2  # LeakyReLU slope of every block
_NOISE_CHANNELS_0 = 3  # stage 0 starts from an RGB-shaped noise image, as SinGAN


@dataclass(frozen=True)
class SinGANConfig:
    """A multi-stage single-image generator and its patch critic.

    ``height``/``width`` are the training image's size (the finest stage), set from the data.
    ``stages`` stages span from a shorter side of ``min_side`` pixels up to it, geometrically;
    ``concurrent`` of them train at once, the older ones at ``lr_scale`` ** age of the learning
    rate (ConSinGAN: 3 and 0.1). ``reconstruction_weight`` weighs the fixed-noise reconstruction
    term (ConSinGAN's alpha = 10) and ``noise_scale`` sets each stage's noise amplitude to that
    fraction of the previous stage's reconstruction RMSE (0.1). ``tileable`` trains with circular
    padding (the texture mode).
    """

    height: int = 64
    width: int = 64
    stages: int = 5
    min_side: int = 20
    g_width: int = 32
    layers: int = 3
    d_width: int = 32
    d_layers: int = 5
    concurrent: int = 3
    lr_scale: float = 0.1
    reconstruction_weight: float = 10.0
    noise_scale: float = 0.1
    tileable: bool = False

    def __post_init__(self) -> None:
        if min(self.height, self.width) < self.min_side:
            raise GankitError(
                f"the training image ({self.height}x{self.width}) is smaller than the coarsest "
                f"stage's side min_side={self.min_side}; use a larger image or a smaller min_side"
            )
        for name in ("stages", "min_side", "g_width", "layers", "d_width", "concurrent"):
            if getattr(self, name) < 1:
                raise GankitError(f"single-image model setting {name} must be >= 1")
        if self.d_layers < 2:
            raise GankitError("single-image model setting d_layers must be >= 2")
        if not 0 <= self.lr_scale <= 1:
            raise GankitError(f"lr_scale must be in [0, 1], got {self.lr_scale!r}")


def stage_shapes(
    config: SinGANConfig, size: tuple[int, int] | None = None
) -> list[tuple[int, int]]:
    """(h, w) of every stage for an output of ``size`` (default: the training size).

    The stages of the training image are ``min_side`` to full size in a geometric series; another
    size keeps each stage's ratio to the finest one, so a pixel of every stage covers the same
    area of the scene (a wider image holds more content, not bigger content).

    Example:
        >>> stage_shapes(SinGANConfig(height=64, width=96, stages=3, min_side=16))
        [(16, 24), (32, 48), (64, 96)]
    """
    train = (config.height, config.width)
    base = min(train)
    ratio = (config.min_side / base) ** (1 / max(config.stages - 1, 1))
    fractions = [ratio ** (config.stages - 1 - k) for k in range(config.stages)]
    target = train if size is None else size
    return [
        (max(1, round(target[0] * f)), max(1, round(target[1] * f)))
        if k < config.stages - 1
        else (target[0], target[1])
        for k, f in enumerate(fractions)
    ]


def noise_channels(config: SinGANConfig, stage: int) -> int:
    """Channels of stage ``stage``'s noise: RGB-shaped at stage 0, feature-shaped after."""
    return _NOISE_CHANNELS_0 if stage == 0 else config.g_width


def resize(x: Tensor, size: tuple[int, int], periodic: bool) -> Tensor:
    """Bilinear resize of ``(B, C, h, w)`` to ``size``; ``periodic`` wraps around the borders.

    The periodic version samples the same pixel centres as ``F.interpolate`` (align_corners
    False) but takes the neighbour across a border from the opposite side, so a periodic input
    gives a periodic output.
    """
    if not periodic:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    for dim, (old, new) in ((2, (x.shape[2], size[0])), (3, (x.shape[3], size[1]))):
        centres = (torch.arange(new, dtype=torch.float32) + 0.5) * (old / new) - 0.5
        low = torch.floor(centres)
        frac = (centres - low).to(x.dtype).to(x.device)
        index0 = low.long().remainder(old).to(x.device)
        index1 = (low.long() + 1).remainder(old).to(x.device)
        shape = [1, 1, 1, 1]
        shape[dim] = new
        frac = frac.view(shape)
        x = x.index_select(dim, index0) * (1 - frac) + x.index_select(dim, index1) * frac
    return x


class _ConvStack(nn.Module):
    """3x3 convolutions with LeakyReLU between (and after, unless ``last_plain``), padded by
    zeros or circularly per call."""

    def __init__(self, channels: list[int], last_plain: bool = False) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 3) for c_in, c_out in zip(channels, channels[1:], strict=False)
        )
        self.last_plain = last_plain

    def forward(self, x: Tensor, periodic: bool = False) -> Tensor:
        mode = "circular" if periodic else "constant"
        for index, conv in enumerate(self.convs):
            x = conv(F.pad(x, (1, 1, 1, 1), mode=mode))
            if not (self.last_plain and index == len(self.convs) - 1):
                x = F.leaky_relu(x, _SLOPE)
        return x


class SinGANGenerator(nn.Module):
    """All stages of a single-image generator; :attr:`stage` (a buffer) is the active one.

    Example:
        >>> G = SinGANGenerator(SinGANConfig(height=24, width=32, stages=2, min_side=12))
        >>> G(torch.randn(2, G.latent_dim)).shape  # the active stage: the last, after training
        torch.Size([2, 3, 24, 32])
        >>> G.synthesize(torch.randn(1, G.noise_size((30, 60))), (30, 60), tileable=True).shape
        torch.Size([1, 3, 30, 60])
    """

    def __init__(self, config: SinGANConfig) -> None:
        super().__init__()
        self.config = config
        width = config.g_width
        self.head = _ConvStack([_NOISE_CHANNELS_0, width])
        self.body = nn.ModuleList(
            _ConvStack([width] * (config.layers + 1)) for _ in range(config.stages)
        )
        self.tail = _ConvStack([width, 3], last_plain=True)
        self.register_buffer("stage", torch.tensor(config.stages - 1))
        self.register_buffer("noise_amp", torch.ones(config.stages))
        # The fixed noise of the reconstruction term: stage 0 only, the others get none.
        h0, w0 = stage_shapes(config)[0]
        self.register_buffer("reconstruction_noise", torch.randn(1, _NOISE_CHANNELS_0, h0, w0))
        self.latent_dim = self.noise_size(None)

    # ---------------------------------------------------------------- shapes
    def noise_size(self, size: tuple[int, int] | None) -> int:
        """Length of the latent vector for an output of ``size`` (every stage's noise, flat)."""
        return sum(
            noise_channels(self.config, k) * h * w
            for k, (h, w) in enumerate(stage_shapes(self.config, size))
        )

    def _noise_maps(self, z: Tensor, shapes: list[tuple[int, int]]) -> list[Tensor]:
        """Split ``z`` (B, noise_size) into per-stage maps (B, c_k, h_k, w_k)."""
        maps, start = [], 0
        for k, (h, w) in enumerate(shapes):
            count = noise_channels(self.config, k) * h * w
            maps.append(z[:, start : start + count].reshape(len(z), -1, h, w))
            start += count
        return maps

    # --------------------------------------------------------------- forward
    def forward(self, z: Tensor) -> Tensor:
        """Images of the active stage (at its size) from latents ``(B, latent_dim)``: what the
        critic judges while that stage trains; after training, the training image's size."""
        shapes = stage_shapes(self.config)
        return self.run(
            self._noise_maps(self._check(z, None), shapes), shapes, self.config.tileable
        )

    def synthesize(
        self, z: Tensor, size: tuple[int, int] | None, tileable: bool | None = None
    ) -> Tensor:
        """Images ``(B, 3, *size)`` (default: the training size) from ``z`` of
        ``noise_size(size)`` entries; ``tileable`` (default: as trained) makes them periodic.

        A model stopped before its last stage draws at its finest trained stage, upsampled.
        """
        shapes = stage_shapes(self.config, size)
        periodic = self.config.tileable if tileable is None else tileable
        images = self.run(self._noise_maps(self._check(z, size), shapes), shapes, periodic)
        return resize(images, shapes[-1], periodic) if images.shape[-2:] != shapes[-1] else images

    def _check(self, z: Tensor, size: tuple[int, int] | None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.noise_size(size):
            raise GankitError(
                f"latents for size {size or (self.config.height, self.config.width)} must be "
                f"(B, {self.noise_size(size)}), got {tuple(z.shape)}"
            )
        return z

    def reconstruct(self) -> Tensor:
        """The active stage's output for the fixed reconstruction noise (should be the image)."""
        shapes = stage_shapes(self.config)
        noise = [self.reconstruction_noise] + [
            self.reconstruction_noise.new_zeros(1, 1, 1, 1) for _ in shapes[1:]
        ]
        return self.run(noise, shapes, self.config.tileable)

    def run(self, noise: list[Tensor], shapes: list[tuple[int, int]], periodic: bool) -> Tensor:
        """Stages 0..active on per-stage ``noise`` maps (broadcastable to each stage's shape)."""
        x = self.body[0](self.head(noise[0], periodic), periodic)
        for k in range(1, int(self.stage) + 1):
            up = resize(x, shapes[k], periodic)
            x = up + self.body[k](up + self.noise_amp[k] * noise[k], periodic)
        return torch.tanh(self.tail(x, periodic))

    # ------------------------------------------------------------- training
    def stage_modules(self, stage: int) -> list[nn.Module]:
        """What stage ``stage`` owns: its body block (stage 0 also the head)."""
        return [self.head, self.body[0]] if stage == 0 else [self.body[stage]]

    def param_groups(self) -> list[list[nn.Parameter]]:
        """One optimizer group per stage, then the tail: each stage learns at its own rate."""
        groups = [
            [p for module in self.stage_modules(k) for p in module.parameters()]
            for k in range(self.config.stages)
        ]
        return [*groups, list(self.tail.parameters())]

    def lr_factors(self, stage: int) -> list[float]:
        """Learning-rate factor of each :meth:`param_groups` entry while ``stage`` trains:
        1 for it, ``lr_scale`` ** age for the ``concurrent - 1`` before it, 0 for the rest."""
        config = self.config
        factors = [
            config.lr_scale ** (stage - k) if 0 <= stage - k < config.concurrent else 0.0
            for k in range(config.stages)
        ]
        return [*factors, 1.0]

    def start_stage(self, stage: int, real: Tensor) -> None:
        """Make ``stage`` the active one: copy the previous block into it (ConSinGAN), set its
        noise amplitude from the reconstruction error so far, and freeze what no longer trains.
        """
        with torch.no_grad():
            if stage > 0 and int(self.stage) != stage:
                self.stage.fill_(stage - 1)
                previous = self.reconstruct()
                self.body[stage].load_state_dict(self.body[stage - 1].state_dict())
                up = resize(previous, real.shape[-2:], self.config.tileable)
                rmse = (up - real).square().mean().sqrt()
                self.noise_amp[stage] = self.config.noise_scale * rmse
            self.stage.fill_(stage)
        for k, factor in enumerate(self.lr_factors(stage)[:-1]):
            for module in self.stage_modules(k):
                module.requires_grad_(factor > 0)


class PatchCritic(nn.Module):
    """``d_layers`` 3x3 convolutions (no padding, no normalisation): a logit per patch.

    Returns ``(B, patches)``; the receptive field is ``2 * d_layers + 1`` pixels.
    """

    def __init__(self, config: SinGANConfig) -> None:
        super().__init__()
        channels = [3] + [config.d_width] * (config.d_layers - 1) + [1]
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 3) for c_in, c_out in zip(channels, channels[1:], strict=False)
        )

    def forward(self, x: Tensor) -> Tensor:
        for index, conv in enumerate(self.convs):
            x = conv(x)
            if index < len(self.convs) - 1:
                x = F.leaky_relu(x, _SLOPE)
        return x.flatten(1)


def build_singan(config: SinGANConfig) -> tuple[SinGANGenerator, PatchCritic]:
    return SinGANGenerator(config), PatchCritic(config)


__all__ = [
    "PatchCritic",
    "SinGANConfig",
    "SinGANGenerator",
    "build_singan",
    "resize",
    "stage_shapes",
]
