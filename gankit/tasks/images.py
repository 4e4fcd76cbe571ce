"""Unconditional image generation: ``ImageGAN``.

Example:
    >>> from gankit import ImageGAN
    >>> gan = ImageGAN(preset="dcgan", resolution=32)                  # doctest: +SKIP
    >>> gan.fit("digits", steps=2000, out="runs/digits")               # doctest: +SKIP
    >>> images = gan.sample(64, seed=0)   # uint8 (64, 1, 32, 32)       # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace as _dc_replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.data import ImageData, open_dataset, resize_images, with_channels
from gankit.errors import GankitError
from gankit.nn.generate import generate
from gankit.tasks.base import GANTask, Preset
from gankit.train import TrainConfig
from gankit.viz import save_image_grid, to_uint8

IMAGE_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "Fast, stable CPU-first recipe: compact conv G/D with minibatch-std, "
            "non-saturating loss, "
            "lazy R1, EMA of G. The embedded default and the recommended start for small images.",
            "dcgan",
            {"latent_dim": 64, "g_width": 32, "d_width": 32, "minibatch_std": True},
            TrainConfig(
                steps=3000,
                batch_size=64,
                lr_g=2e-4,
                lr_d=2e-4,
                betas=(0.5, 0.99),
                r1_gamma=1.0,
                reg_interval=16,
                ema_beta=0.999,
            ),
        ),
        Preset(
            "dcgan",
            "Radford et al. 2015: transposed-conv G with BatchNorm, conv D, non-saturating loss, "
            "Adam 2e-4 (0.5, 0.999), batch 64. The classic baseline.",
            "dcgan",
            {"latent_dim": 100, "g_width": 64, "d_width": 64},
            TrainConfig(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)),
        ),
        Preset(
            "resnet-sn",
            "Miyato et al. 2018 (SNGAN): ResNet G, spectrally normalised ResNet D with "
            "minibatch-std, "
            "hinge loss, Adam (0, 0.9) with a faster D (TTUR). For 32-128 px colour images.",
            "resnet",
            {},
            TrainConfig(
                steps=10000, batch_size=64, loss="hinge", lr_g=1e-4, lr_d=4e-4, betas=(0.0, 0.9)
            ),
        ),
    )
}


class ImageGAN(GANTask):
    """Generate images like those in a folder, MNIST or the embedded scikit-learn digits.

    ``resolution`` and ``channels`` default to 32 and the dataset's own; ``model`` overrides
    architecture settings; any other keyword overrides a :class:`~gankit.train.TrainConfig` field.

    Example:
        >>> gan = ImageGAN("default", resolution=32, steps=500, lr_d=4e-4)   # doctest: +SKIP
    """

    task = "images"
    presets = IMAGE_PRESETS
    default_preset = "default"

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        channels: int | None = None,
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
        self.channels = channels

    def open_data(self, data: Any) -> tuple[ImageData, dict[str, Any]]:
        resolution = self.resolution or self.data_info.get("resolution") or 32
        channels = self.channels or self.data_info.get("channels")
        if data is None:
            raise GankitError(
                "no training data given; pass a dataset name (digits, mnist) or an image folder"
            )
        if isinstance(data, ImageData):
            dataset, source = data, None
            if dataset.resolution != resolution:
                dataset = _dc_replace(dataset, images=resize_images(dataset.images, resolution))
            dataset = with_channels(dataset, channels)
        else:
            source = str(data)
            if Path(source).expanduser().exists():
                source = str(Path(source).expanduser().resolve())
            dataset = open_dataset(source, resolution, channels)
        info = {
            "source": source,
            "name": dataset.name,
            "size": len(dataset),
            "resolution": dataset.resolution,
            "channels": dataset.channels,
            "class_names": list(dataset.class_names),
        }
        return dataset, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        return {"resolution": data_info["resolution"], "channels": data_info["channels"]}

    def postprocess(self, x: torch.Tensor) -> torch.Tensor:
        return to_uint8(x)

    def render(self, G: nn.Module, path: Path) -> None:
        save_image_grid(to_uint8(generate(G, 64, seed=0)), path)

    def evaluate(self, dataset: ImageData) -> dict[str, Any]:
        if dataset.labels is None or len(dataset.class_names) < 2:
            return {
                "quality": {
                    "note": "dataset has no class labels: run `gankit eval` with an extractor"
                }
            }
        from gankit.metrics.quick import labelled_quality

        fakes = self.generate(min(len(dataset), 5000), seed=12345)
        return {"quality": labelled_quality(dataset, fakes, seed=self.train_config.seed)}
