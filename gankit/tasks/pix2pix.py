"""Paired image-to-image translation (pix2pix, Isola et al. 2017): ``Pix2Pix``.

A recipe over the one engine (:class:`~gankit.tasks.image_translation.ImageTranslator`): G is a
U-Net that reads the source image, D a PatchGAN that judges (target, source) pairs. The objective
adds ``l1_weight * |G(a) - b|`` beside the adversarial loss; with ``gan_weight=0`` the same U-Net
trains on L1 alone (the ablation that shows what D adds).

Example:
    >>> from gankit import Pix2Pix
    >>> model = Pix2Pix().fit("mnist-edges", steps=2000, out="runs/edges")     # doctest: +SKIP
    >>> digits = model.apply(edge_images)     # uint8 (N, 1, 32, 32)            # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit.data.paired import PAIRED_DATASETS, PairedData, load_paired_folder
from gankit.errors import GankitError
from gankit.nn.translation import Pix2PixConfig
from gankit.tasks.base import Preset
from gankit.tasks.image_translation import EVAL_PAIRS, PREVIEW, ImageTranslator, grid_rows
from gankit.train import TrainConfig
from gankit.train.objective import Objective, Players
from gankit.viz import save_image_grid, to_uint8


class Pix2PixObjective(Objective):
    """pix2pix's G loss: adversarial x ``gan_weight`` + ``l1_weight`` x mean |G(a) - b|."""

    def __init__(self, l1_weight: float = 100.0, gan_weight: float = 1.0) -> None:
        self.l1_weight = l1_weight
        self.gan_weight = gan_weight

    def g_terms(
        self, players: Players, real: Tensor, fake: Tensor, cond: Tensor
    ) -> dict[str, Tensor]:
        return {"l1": self.l1_weight * (fake - real).abs().mean()}

    def adversarial_weight(self, step: int) -> float:
        return self.gan_weight


def _p2p_train(**overrides: Any) -> TrainConfig:
    values = {"steps": 3000, "batch_size": 32, "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999)}
    return TrainConfig(**{"ema_beta": 0.0, "sample_every": 500, **values, **overrides})


_P2P_SMALL = {"width": 32, "d_width": 32, "d_layers": 2}

PIX2PIX_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "CPU-first pix2pix for small images (32-64 px): U-Net (width 32), PatchGAN with 34x34 "
            "patches, non-saturating loss + 100 x L1, Adam 2e-4 (0.5, 0.999), batch 32.",
            "pix2pix",
            _P2P_SMALL,
            _p2p_train(),
        ),
        Preset(
            "l1-only",
            "Ablation: the default U-Net trained on L1 alone (gan_weight 0; D is never used). "
            "Compare it with `default` to see what the adversarial term adds.",
            "pix2pix",
            {**_P2P_SMALL, "gan_weight": 0.0},
            _p2p_train(),
        ),
        Preset(
            "pix2pix",
            "Isola et al. 2017 for 256-px images: U-Net depth 8 (width 64), 70x70 PatchGAN, "
            "batch norm, dropout 0.5, non-saturating loss + 100 x L1, batch 1.",
            "pix2pix",
            {"depth": 8, "width": 64, "d_width": 64, "d_layers": 3},
            _p2p_train(steps=200_000, batch_size=1, sample_every=2000, checkpoint_every=2000),
        ),
    )
}


class Pix2Pix(ImageTranslator):
    """Paired translation A -> B from aligned pairs (``mnist-edges``, ``photos-colour``, a folder,
    a PairedData).

    A folder holds ``A/`` and ``B/`` with matching file names, or side-by-side AB images.
    ``resolution`` is the size images are loaded at and ``crop`` the random training crop (e.g.
    286 and 256 as in the paper); ``channels`` the (source, target) channels of folder data.

    Example:
        >>> model = Pix2Pix(resolution=64, channels=(1, 3))   # doctest: +SKIP
        >>> model.fit("sketches/", steps=5000)                # doctest: +SKIP
        >>> model.apply(sketch_uint8).shape      # doctest: +SKIP
        torch.Size([4, 3, 64, 64])
    """

    task = "pix2pix"
    presets = PIX2PIX_PRESETS
    default_preset = "default"

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        crop: int | None = None,
        channels: tuple[int, int] | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, resolution, model=model, **train)
        self.crop = crop
        self.channels = tuple(channels) if channels is not None else None

    def open_data(self, data: Any) -> tuple[PairedData, dict[str, Any]]:
        if data is None:
            raise GankitError(
                "no training data given; pass mnist-edges, photos-colour, a folder with A/ and "
                "B/ (matching names) or side-by-side AB images, or a PairedData"
            )
        if isinstance(data, PairedData):
            dataset, source = data, None
        elif str(data) in PAIRED_DATASETS:
            dataset, source = PAIRED_DATASETS[str(data)](), str(data)
        else:
            path = Path(str(data)).expanduser()
            source = str(path.resolve()) if path.exists() else str(data)
            channels = self.channels or tuple(self.data_info.get("channels", (3, 3)))
            crop = self.crop or self.data_info.get("crop")
            # Images load at load_size, then train on random crops of `crop` (paper: 286, 256).
            load_size = self.resolution or self.data_info.get("load_size") or 32
            dataset = load_paired_folder(path, load_size, channels, crop=crop)
        self._preview = dataset.batch(torch.arange(min(PREVIEW, len(dataset))))
        info = {
            "source": source,
            "name": dataset.name,
            "size": len(dataset),
            "resolution": dataset.size,
            "load_size": dataset.sources.shape[2],
            "crop": dataset.crop,
            "channels": [dataset.sources.shape[1], dataset.targets.shape[1]],
        }
        return dataset, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        in_channels, out_channels = data_info["channels"]
        return {
            "resolution": data_info["resolution"],
            "in_channels": in_channels,
            "out_channels": out_channels,
        }

    def objective(self) -> Pix2PixObjective:
        config = Pix2PixConfig(**(self.model_config or {}))
        return Pix2PixObjective(config.l1_weight, config.gan_weight)

    def render(self, G: nn.Module, path: Path) -> None:
        if self._preview is None:
            return
        target, source = self._preview
        rows = grid_rows(to_uint8(source), self._run(G, source, PREVIEW), to_uint8(target))
        save_image_grid(rows, path, nrow=len(source))  # rows: source, output, target

    def evaluate(self, dataset: PairedData) -> dict[str, Any]:
        from gankit.metrics.image_quality import psnr, ssim

        n = min(len(dataset), EVAL_PAIRS)
        target, source = dataset.batch(torch.arange(n))
        output = self.apply(source)
        truth = to_uint8(target)
        return {
            "translation": {
                "pairs": n,
                "note": "first pairs of the training data; evaluate(held_out_pairs) scores others",
                "l1": round(float((output.float() - truth.float()).abs().mean() / 127.5), 4),
                "psnr": round(float(psnr(output, truth).clamp(max=100).mean()), 3),
                "ssim": round(float(ssim(output, truth).mean()), 4),
            }
        }
