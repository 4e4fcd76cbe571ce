"""A small CNN digit classifier: the feature extractor and mode counter for MNIST-like data.

Inception-v3 features say little about 28 x 28 grey digits, so MNIST GANs are scored with a
classifier trained on the digits themselves: its penultimate layer gives the features for FD, KID
and precision/recall, and its labels give the Stacked-MNIST mode counts. Two convolution blocks and
two linear layers are enough after two epochs on a laptop CPU (docs/metrics.md, "The MNIST digit
classifier", records the accuracy).

Input protocol: (B, 1, H, W) grey images in [-1, 1] (a tanh generator's range). Every input is
resized to 28 x 28 with antialiased bilinear interpolation *inside the model*, so a 32-px generator
and the 28-px MNIST test set are measured through the same resampling.

A stronger judge (one that can tell 99 % from 99.5 % accuracy on generated digits) comes from the
same class: two convolutions per block with batch norm, trained longer on randomly shifted and
rotated digits (``convs_per_block=2, batch_norm=True`` and ``train_digit_classifier(...,
max_shift=2, max_rotation=10)``).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit._version import __version__
from gankit.errors import GankitError
from gankit.io import (
    FORMAT_VERSION,
    atomic_dir,
    file_sha256,
    load_module,
    read_config,
    save_module,
    write_json,
)

KIND = "digit-classifier"
WEIGHTS_NAME = "classifier.safetensors"
INPUT_SIZE = 28
INPUT_PROTOCOL = "gray (B,1,H,W) in [-1,1] -> bilinear antialias 28x28"
# config.json entries that are not DigitClassifierConfig fields.
_HEADER_KEYS = {"task", "format_version", "kind", "gankit_version", "sha256", "weights"}
_HEADER_KEYS |= {"input_protocol", "metadata"}


@dataclass(frozen=True)
class DigitClassifierConfig:
    """Architecture of :class:`DigitClassifier`: all config.json needs to rebuild it."""

    channels: tuple[int, int] = (32, 64)
    feature_dim: int = 128
    num_classes: int = 10
    convs_per_block: int = 1  # 3x3 convolutions before each pooling
    batch_norm: bool = False  # after every convolution

    def __post_init__(self) -> None:
        # Two pooled blocks take 28 px to the 7 x 7 map the feature layer is sized for.
        if len(self.channels) != 2:
            raise GankitError(
                f"digit-classifier channels must name two blocks' widths, got {self.channels!r}"
            )
        if (
            isinstance(self.convs_per_block, bool)
            or not isinstance(self.convs_per_block, int)
            or self.convs_per_block < 1
        ):
            raise GankitError(
                "digit-classifier convs_per_block must be an integer of at least 1, got "
                f"{self.convs_per_block!r}"
            )
        if not isinstance(self.batch_norm, bool):
            raise GankitError(
                f"digit-classifier batch_norm must be true or false, got {self.batch_norm!r}"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> DigitClassifierConfig:
        """Build from JSON values; an unknown key is an error that lists the valid ones."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise GankitError(
                f"unknown digit-classifier config keys {unknown}; valid keys: {sorted(fields)}"
            )
        values = dict(values)
        if "channels" in values:
            values["channels"] = tuple(values["channels"])  # JSON turns tuples into lists
        return cls(**values)


class DigitClassifier(nn.Module):
    """conv-pool, conv-pool, linear (features), linear (logits); optionally deeper blocks with BN.

    Example:
        >>> model = DigitClassifier()
        >>> images = torch.rand(4, 1, 32, 32) * 2 - 1       # a 32-px generator's output
        >>> model.features(images).shape, model(images).shape
        (torch.Size([4, 128]), torch.Size([4, 10]))
    """

    def __init__(self, config: DigitClassifierConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DigitClassifierConfig()
        layers: list[nn.Module] = []
        width = 1
        for channels in config.channels:  # 28 -> 14 -> 7
            for _ in range(config.convs_per_block):
                layers.append(nn.Conv2d(width, channels, 3, padding=1))
                if config.batch_norm:
                    layers.append(nn.BatchNorm2d(channels))
                layers.append(nn.ReLU())
                width = channels
            layers.append(nn.MaxPool2d(2))
        # The default layout keeps the indices (conv.0, conv.3) of judges saved before deeper
        # blocks existed, so their weights still load.
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(width * 7 * 7, config.feature_dim)
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Check (B, 1, H, W) in [-1, 1] and resize to 28 x 28 (the fixed input protocol)."""
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise GankitError(
                f"the digit classifier takes (B, 1, H, W) grey images, got {shape}; "
                "add the channel axis with images[:, None]"
            )
        images = images.to(self.fc.weight.device, self.fc.weight.dtype)
        # Catch [0, 255] inputs; a [0, 1] image cannot be told apart from a dark [-1, 1] one.
        if images.numel() and images.abs().max() > 1.5:
            raise GankitError(
                f"the digit classifier takes images in [-1, 1], got values in "
                f"[{images.min().item():.3g}, {images.max().item():.3g}]; "
                "scale uint8 images with x / 127.5 - 1"
            )
        if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            images = F.interpolate(
                images,
                size=(INPUT_SIZE, INPUT_SIZE),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )
        return images

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, feature_dim) penultimate features.

        Taken before the ReLU: post-ReLU features have exact zeros and dead units, which make
        the covariance in the Fréchet distance singular.
        """
        return self.fc(self.conv(self.prepare(images)).flatten(1))  # (B, c2, 7, 7) -> (B, c2*49)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, num_classes) logits."""
        return self.head(F.relu(self.features(images)))


def _as_images(images: Any) -> torch.Tensor:
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise GankitError(f"images must be a torch tensor or numpy array, got {type(images)}")
    return images.float()


def shift_and_rotate(
    images: torch.Tensor, generator: torch.Generator, max_shift: float, max_rotation: float
) -> torch.Tensor:
    """Square (B, C, S, S) images, each moved ≤ ``max_shift`` px and turned ≤ ``max_rotation``°.

    Small shifts and turns are what separate handwriting from handwriting; training on them is
    the cheapest step up in MNIST test accuracy for a small CNN (docs/conditional.md, "The
    judge"). Images are in [-1, 1]; what comes in at the border is background (-1).
    Differentiable in ``images``.

    Example:
        >>> moved = shift_and_rotate(torch.zeros(2, 1, 28, 28), torch.Generator(), 2.0, 10.0)
        >>> moved.shape
        torch.Size([2, 1, 28, 28])
    """
    count, size = len(images), images.shape[-1]
    if images.dim() != 4 or images.shape[-2] != size:
        # affine_grid's units are per axis: on a non-square image a "turn" would shear it.
        raise GankitError(
            f"shift_and_rotate needs square (B, C, S, S) images, got shape {tuple(images.shape)}"
        )
    draws = torch.rand(count, 3, generator=generator) * 2 - 1  # uniform in [-1, 1]
    angle = torch.deg2rad(draws[:, 0] * max_rotation)
    shift = draws[:, 1:] * max_shift * 2 / size  # pixels -> affine_grid's [-1, 1] units
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    ).to(images)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # Shift to [0, 2] so that the zeros padding brought in at the border is background (-1).
    moved = F.grid_sample(images + 1, grid, mode="bilinear", align_corners=False)
    return moved - 1


def train_digit_classifier(
    images_float: Any,
    labels: Any,
    steps: int,
    seed: int,
    batch_size: int = 128,
    lr: float = 3e-3,
    config: DigitClassifierConfig | None = None,
    device: str | torch.device = "cpu",
    on_step: Callable[[int, float], None] | None = None,
    max_shift: float = 0.0,
    max_rotation: float = 0.0,
) -> DigitClassifier:
    """Train a :class:`DigitClassifier` with Adam and cross-entropy; same seed → same weights.

    ``images_float`` is (N, 1, H, W) in [-1, 1], ``labels`` (N,) integers. Batches walk through a
    seeded permutation of the data, one epoch after another; the learning rate decays from ``lr``
    to 0 along a cosine over ``steps``. With ``max_shift`` (pixels) or ``max_rotation`` (degrees)
    above 0, every training image is randomly shifted and rotated by up to that much (seeded).
    ``on_step(step, loss)`` is called after every step. The model comes back in eval mode.
    936 steps are two MNIST epochs at batch size 128 (their accuracy, and a constant lr's:
    docs/metrics.md, "The MNIST digit classifier").

    Example:
        >>> x, y = torch.rand(64, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (64,))
        >>> model = train_digit_classifier(x, y, steps=2, seed=0, batch_size=32)
    """
    images = _as_images(images_float)
    labels = torch.as_tensor(labels).long().reshape(-1)
    if steps < 1 or batch_size < 1:
        raise GankitError(f"steps and batch_size must be at least 1, got {steps} and {batch_size}")
    if not all(0 <= value < math.inf for value in (max_shift, max_rotation)):  # refuses NaN too
        raise GankitError(
            f"max_shift and max_rotation must be finite and >= 0, got {max_shift} and "
            f"{max_rotation}"
        )
    if len(images) == 0 or len(images) != len(labels):
        raise GankitError(
            f"train_digit_classifier needs as many labels as images, got {len(images)} images "
            f"and {len(labels)} labels"
        )
    config = config or DigitClassifierConfig()
    if labels.min() < 0 or labels.max() >= config.num_classes:
        raise GankitError(
            f"labels must lie in [0, {config.num_classes}), found {labels.min()}..{labels.max()}"
        )

    with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching global RNG
        torch.manual_seed(seed)
        model = DigitClassifier(config).to(device)
    # Resize the whole set once instead of every step (same function as at scoring time).
    with torch.no_grad():
        images = torch.cat([model.prepare(chunk) for chunk in images.split(4096)])
    labels = labels.to(images.device)
    order_rng = torch.Generator().manual_seed(seed)
    augment_rng = torch.Generator().manual_seed(seed + 1)
    augment = max_shift > 0 or max_rotation > 0
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # Cosine decay to 0 over the run lets a high peak rate (3e-3) learn fast and the last steps
    # refine: it beat a constant 1e-3 at two MNIST epochs (docs/metrics.md, "The MNIST digit
    # classifier").
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * step / steps))
    )
    batch_size = min(batch_size, len(images))

    model.train()
    order = torch.randperm(len(images), generator=order_rng)
    position = 0
    for step in range(steps):
        if position + batch_size > len(order):  # new epoch; drop the ragged tail batch
            order = torch.randperm(len(images), generator=order_rng)
            position = 0
        batch = order[position : position + batch_size].to(images.device)
        position += batch_size
        batch_images = images[batch]  # already 28 px: no resize
        if augment:
            batch_images = shift_and_rotate(batch_images, augment_rng, max_shift, max_rotation)
        loss = F.cross_entropy(model(batch_images), labels[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if on_step is not None:
            on_step(step, loss.item())
    return model.eval()


def save_classifier(
    model: DigitClassifier, model_dir: str | os.PathLike, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write ``model`` as a model directory: config.json (with the weights' sha256) + weights.

    ``metadata`` (e.g. the training data and measured test accuracy) is stored as is in the config.
    An existing directory is replaced only if it is empty or holds an extractor.

    Example:
        >>> save_classifier(DigitClassifier(), tmp / "mnist-judge", {"data": "untrained"}).name
        'mnist-judge'
    """
    model_dir = Path(model_dir)
    if model_dir.is_dir() and any(model_dir.iterdir()):
        existing = model_dir / "config.json"
        task = read_config(model_dir).get("task") if existing.is_file() else None
        if task != "extractor":
            raise GankitError(
                f"{model_dir} exists and does not hold a feature extractor; refusing to replace "
                "it, choose an empty or new directory"
            )
    with atomic_dir(model_dir) as tmp:
        save_module(model, tmp / WEIGHTS_NAME)
        write_json(
            tmp / "config.json",
            {
                "task": "extractor",
                "format_version": FORMAT_VERSION,
                "kind": KIND,
                "gankit_version": __version__,
                **dataclasses.asdict(model.config),
                "input_protocol": INPUT_PROTOCOL,
                "weights": WEIGHTS_NAME,
                "sha256": file_sha256(tmp / WEIGHTS_NAME),
                "metadata": dict(metadata or {}),
            },
        )
    return model_dir


def load_classifier(model_dir: str | os.PathLike) -> DigitClassifier:
    """Load a directory written by :func:`save_classifier`, refusing weights whose hash differs.

    The hash check matters because metric values are only comparable under one extractor: a
    silently retrained or damaged classifier would shift every FD without anyone noticing.

    Example:
        >>> model = load_classifier(extractor_dir)  # written by save_classifier
        >>> model(torch.zeros(2, 1, 28, 28)).shape  # class logits
        torch.Size([2, 10])
    """
    model_dir = Path(model_dir)
    config = read_config(model_dir)
    if config.get("task") != "extractor" or config.get("kind") != KIND:
        raise GankitError(
            f"{model_dir} holds task={config.get('task')!r} kind={config.get('kind')!r}, not a "
            f"{KIND}; pass a directory written by save_classifier"
        )
    weights = model_dir / WEIGHTS_NAME
    if not weights.is_file():
        raise GankitError(f"{weights} not found; the classifier directory is incomplete")
    found = file_sha256(weights)
    if found != config.get("sha256"):
        raise GankitError(
            f"{weights} has sha256 {found[:12]}..., but config.json records "
            f"{str(config.get('sha256'))[:12]}...; the weights were changed or damaged after "
            "saving. Restore them or re-save the classifier (metrics from different weights are "
            "not comparable)"
        )
    fields = {k: v for k, v in config.items() if k not in _HEADER_KEYS}
    model = DigitClassifier(DigitClassifierConfig.from_dict(fields))
    load_module(model, weights)
    return model.eval()
