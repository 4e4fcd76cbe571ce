"""What the image translators (Pix2Pix, CycleGAN) share: images in, images out, no noise.

The data is conditional: a batch is ``(target, source)``, the engine calls ``G(z, source)`` (``z``
is empty: ``latent_dim`` 0) and ``D(x, source)``. :class:`ImageTranslator` turns user images into
the generator's range, runs it in eval mode and returns uint8 images.

Example:
    >>> as_images(torch.full((2, 1, 4, 4), 255, dtype=torch.uint8), 1, "images").max().item()
    1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.data.images import convert_channels
from gankit.errors import GankitError
from gankit.nn import TRANSLATORS
from gankit.tasks.base import Translator
from gankit.viz import to_uint8

PREVIEW = 8  # pairs drawn in the sample grids
EVAL_PAIRS = 1000  # pairs the report scores


def as_images(images: Any, channels: int, what: str) -> Tensor:
    """uint8 / [-1, 1] float images (N, C, H, W) or (C, H, W), tensor or numpy, -> float [-1, 1].

    ``channels`` is what the model takes; ``what`` names the images in the error a wrong shape,
    type or range gets.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, Tensor):
        raise GankitError(f"{what} must be a torch tensor or numpy array, got {type(images)}")
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dim() != 4 or images.shape[1] != channels:
        raise GankitError(
            f"{what} must be images (N, {channels}, H, W) for this model, got shape "
            f"{tuple(images.shape)}"
        )
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    images = images.float()
    if images.numel() and (images.min() < -1.001 or images.max() > 1.001):
        raise GankitError(
            f"{what}: float images must lie in [-1, 1] (or pass uint8 0..255), got "
            f"{images.min().item():.3g}..{images.max().item():.3g}"
        )
    return images


def grid_rows(*rows: Tensor) -> Tensor:
    """uint8 image rows (N, C, H, W) stacked for one grid, with channels made to agree.

    Example:
        >>> gray = torch.zeros(2, 1, 4, 4, dtype=torch.uint8)
        >>> grid_rows(gray, gray.expand(-1, 3, -1, -1)).shape
        torch.Size([4, 3, 4, 4])
    """
    channels = max(row.shape[1] for row in rows)
    return torch.cat([convert_channels(row, channels) for row in rows])


class ImageTranslator(Translator):
    """What Pix2Pix and CycleGAN share: no noise, images in, images out (a base, not a task)."""

    architectures = TRANSLATORS

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, model=model, **train)
        if resolution is not None and (
            isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1
        ):
            raise GankitError(f"resolution must be a positive number of pixels, got {resolution!r}")
        self.resolution = resolution
        self._preview: tuple[Tensor, Tensor] | None = None

    def _resolution(self) -> int:
        return self.resolution or self.data_info.get("resolution") or 32

    def _run(self, G: nn.Module, images: Tensor, batch_size: int) -> Tensor:
        """G on float images in chunks, in eval mode (dropout off), as uint8."""
        was_training = G.training
        G.eval()
        device = next(G.parameters()).device
        try:
            with torch.no_grad():
                out = [
                    to_uint8(G(chunk.new_zeros(len(chunk), 0), chunk).cpu())
                    for chunk in images.to(device).split(batch_size)
                ]
        finally:
            G.train(was_training)
        return torch.cat(out)

    def apply(
        self,
        inputs: Any,
        *,
        direction: str | None = None,
        ema: bool = True,
        batch_size: int = 64,
    ) -> Tensor:
        """Translate images (uint8 0..255 or float in [-1, 1], (N, C, H, W)) to uint8 images.

        Any size divisible by ``2**depth`` works (the U-Net is fully convolutional); the same
        input always gives the same output (dropout is off outside training).
        """
        direction = self.check_direction(direction)
        G = self.network(direction=direction, ema=ema)
        source = as_images(inputs, G.config.in_channels, f"images to translate {direction}")
        return self._run(G, source, batch_size)

    def input_channels(self, direction: str | None = None) -> int:
        """The channels of ``direction``'s source domain, as its network was built."""
        return self.network(direction=direction).config.in_channels

    def network(self, *, direction: str | None = None, ema: bool = True) -> nn.Module:
        G = super().network(direction=direction, ema=ema)
        return self._direction_generator(G, self.check_direction(direction))

    def _direction_generator(self, G: nn.Module, direction: str) -> nn.Module:
        """The network that translates in ``direction`` (pix2pix: G itself)."""
        return G

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "resolution": self.data_info.get("resolution"),
            "channels": self.data_info.get("channels"),
            "input": "images",
            "output": "images",
        }
