"""Decoded images as a translator's input: what ``gankit apply`` and ``gankit serve`` both feed
:meth:`~gankit.tasks.base.Translator.apply`, so a file and an upload give the same output.

A model trained at one size (its ``describe()`` has a ``resolution``: pix2pix, CycleGAN) takes a
uint8 batch of its direction's channels at that size; any other (super-resolution) takes the
images as they are.
"""

from __future__ import annotations

from typing import Any

import torch

from gankit.data.paired import square_resize
from gankit.tasks.base import Translator


def fixed_size(translator: Translator) -> int | None:
    """The size a translator trained at one size takes (None: it takes any size)."""
    return translator.describe().get("resolution")


def translator_inputs(
    translator: Translator, images: list[torch.Tensor], resolution: int | None = None
) -> Any:
    """uint8 images (C, H, W) as ``translator.apply``'s input.

    A fixed-size model gets them centre-cropped square and resized to ``resolution`` (default: its
    training size) as one batch (N, C, H, W); any other model gets the list unchanged.
    """
    size = fixed_size(translator)
    if size is None:
        return list(images)
    return torch.cat([square_resize(image[None], resolution or size) for image in images])
