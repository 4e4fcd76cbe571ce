"""A detector of generated images: the probability that an image came from a gankit model.

Marks only help with images their maker chose to mark. For the others, a small CNN trained on
real images against images from several gankit models gives a second, weaker kind of evidence:
a probability that the image was generated. It is trained through the everyday handling a copy
goes through (JPEG, resizing, cropping, noise, brightness: :mod:`gankit.provenance.attacks`,
with random strengths) so that a re-saved copy still reads as what it is.

The network is fully convolutional with a global average at the end, so it reads any image of at
least :data:`MIN_SIDE` pixels a side; it is only *measured* at the size and on the kind of images
it was trained on (docs/provenance.md, "The detector of generated images", says what the shipped
one covers). A detector is a model directory: ``config.json`` (architecture, training settings,
the weights' SHA-256) and ``detector.safetensors``.

Example:
    >>> real = torch.zeros(64, 1, 32, 32, dtype=torch.uint8)          # black squares ...
    >>> fake = torch.full((64, 1, 32, 32), 255, dtype=torch.uint8)    # ... against white ones
    >>> detector = train_detector(real, fake, DetectorConfig(widths=(4, 8)), steps=20, seed=0)
    >>> probabilities = detect(torch.cat([real[:2], fake[:2]]), detector)
    >>> (probabilities > 0.5).tolist()
    [False, False, True, True]
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gankit._version import __version__
from gankit.config import from_dict, to_dict
from gankit.errors import GankitError
from gankit.imageops import to_gray
from gankit.io import (
    FORMAT_VERSION,
    atomic_dir,
    file_sha256,
    load_module,
    read_config,
    save_module,
    write_json,
)

from .attacks import brightness, gaussian_noise, jpeg, png, resize_back
from .marker import MIN_SIDE, check_images

TASK = "detector"
WEIGHTS_NAME = "detector.safetensors"
# The shipped detector: a model directory inside the package (bench/provenance_detector.py).
SHIPPED_DIR = "detector"
DEFAULT_THRESHOLD = 0.5
READER = "the detector"  # how error messages name it
# Images per forward pass when detecting: bounds memory for large batches.
_CHUNK = 256
# config.json entries that are not DetectorConfig fields.
_HEADER_KEYS = {"task", "format_version", "gankit_version", "weights", "sha256", "metadata"}


@dataclass(frozen=True)
class DetectorConfig:
    """The detector's architecture: all ``config.json`` needs to rebuild it.

    ``channels`` is what the network reads: 3 (RGB; gray images are repeated to R = G = B) or 1
    (gray; colour images are read as their luma). ``widths`` are the convolution widths: the
    first keeps full resolution (generator artefacts live in the finest pixels), each later one
    halves it.
    """

    channels: int = 3
    widths: tuple[int, ...] = (16, 32, 64, 64)

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels!r}")
        if not self.widths or any(not isinstance(w, int) or w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive integers, got {self.widths!r}")


class Detector(nn.Module):
    """conv (full size), then conv-stride-2 blocks with batch norm, a global mean, one logit.

    Example:
        >>> Detector(DetectorConfig(widths=(8, 16)))(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2])
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DetectorConfig()
        layers: list[nn.Module] = [nn.Conv2d(config.channels, config.widths[0], 3, padding=1)]
        layers.append(nn.LeakyReLU(0.2))
        for width_in, width in zip(config.widths, config.widths[1:], strict=False):
            layers += [
                nn.Conv2d(width_in, width, 3, stride=2, padding=1),
                nn.BatchNorm2d(width),
                nn.LeakyReLU(0.2),
            ]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(config.widths[-1], 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (N,) of float images (N, channels, H, W) in [-1, 1]; > 0 leans generated."""
        return self.head(self.features(images).mean(dim=(2, 3))).squeeze(1)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 1|3, H, W) -> float (N, channels, H, W) in [-1, 1]."""
        images = images.float() / 255
        if images.shape[1] != self.config.channels:
            images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else to_gray(images)
        return images * 2 - 1


# ------------------------------------------------------------------------------ training
# The attacks of gankit.provenance.attacks with random strengths around the evaluated ones (and
# a random rather than a central crop), one per training batch: the detector must not learn the
# pristine pixels of either class, only what survives a re-save.
def _random_crop(images: torch.Tensor, rng: random.Random) -> torch.Tensor:
    height, width = images.shape[-2:]
    keep_h = max(MIN_SIDE, round(height * rng.uniform(0.8, 1.0)))
    keep_w = max(MIN_SIDE, round(width * rng.uniform(0.8, 1.0)))
    top, left = rng.randint(0, height - keep_h), rng.randint(0, width - keep_w)
    return images[..., top : top + keep_h, left : left + keep_w]


TRAINING_ATTACKS: tuple[Callable[[torch.Tensor, random.Random], torch.Tensor], ...] = (
    lambda images, rng: images,
    lambda images, rng: png(images),
    lambda images, rng: jpeg(images, rng.randint(40, 90)),
    lambda images, rng: jpeg(images, rng.randint(40, 90)),
    lambda images, rng: resize_back(images, rng.uniform(0.4, 0.8)),
    _random_crop,
    lambda images, rng: gaussian_noise(images, rng.uniform(0.005, 0.03), rng.randrange(2**31)),
    lambda images, rng: brightness(images, rng.uniform(0.75, 1.25)),
)


def _groups(images: torch.Tensor | Sequence[torch.Tensor], what: str) -> list[torch.Tensor]:
    groups = [images] if isinstance(images, torch.Tensor) else list(images)
    if not groups or any(len(group) == 0 for group in groups):
        raise GankitError(f"train_detector needs {what} images; a group is empty")
    for group in groups:
        check_images(group, READER)
    return groups


def _draw(groups: list[torch.Tensor], n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` images, each from a uniformly drawn group (so every source counts the same)."""
    picks = torch.randint(len(groups), (n,), generator=gen).tolist()
    images = [groups[g][int(torch.randint(len(groups[g]), (1,), generator=gen))] for g in picks]
    # Gray groups among colour ones are read as R = G = B.
    return torch.stack([im if im.shape[0] == 3 else im.expand(3, -1, -1) for im in images])


def train_detector(
    real: torch.Tensor | Sequence[torch.Tensor],
    fake: torch.Tensor | Sequence[torch.Tensor],
    config: DetectorConfig | None = None,
    *,
    steps: int = 600,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    attacks: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> Detector:
    """Train a :class:`Detector` of ``fake`` (label 1) against ``real`` (label 0) images.

    ``real`` and ``fake`` are uint8 (N, 1|3, H, W) tensors, or lists of them (groups: one per
    photo set, one per generator); every batch is half real, half fake, and each image comes from
    a uniformly drawn group, so a group of 500 images weighs as much as one of 60,000. All images
    must share one size. With ``attacks``, each batch goes through one of
    :data:`TRAINING_ATTACKS`. Adam with a cosine decay to 0; same seed, same weights (CPU).
    ``on_step(step, loss)`` is called after every step. The model comes back in eval mode.
    """
    real_groups, fake_groups = _groups(real, "real"), _groups(fake, "generated")
    sizes = {tuple(group.shape[-2:]) for group in real_groups + fake_groups}
    if len(sizes) > 1:
        raise GankitError(
            f"train_detector needs images of one size, got {sorted(sizes)}; resize them first"
        )
    if steps < 1 or batch_size < 2:
        raise GankitError(f"steps must be >= 1 and batch_size >= 2, got {steps} and {batch_size}")
    config = config or DetectorConfig()
    with torch.random.fork_rng(devices=[]):  # seed the initialisation, leave the global RNG be
        torch.manual_seed(seed)
        model = Detector(config)
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * step / steps))
    )
    half = batch_size // 2
    labels = torch.cat([torch.zeros(half), torch.ones(half)])
    model.train()
    for step in range(steps):
        images = torch.cat([_draw(real_groups, half, gen), _draw(fake_groups, half, gen)])
        if attacks:
            images = rng.choice(TRAINING_ATTACKS)(images, rng)
        loss = F.binary_cross_entropy_with_logits(model(model.prepare(images)), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if on_step is not None:
            on_step(step, loss.item())
    return model.eval()


# ------------------------------------------------------------------------------ files
def save_detector(
    detector: Detector, folder: str | os.PathLike, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write ``detector`` as a model directory (atomically): config.json + detector.safetensors.

    ``metadata`` (what it was trained on, its measured AUROC) is kept as is in config.json. An
    existing directory is replaced only if it holds a detector.
    """
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()):
        holds = read_config(folder).get("task") if (folder / "config.json").is_file() else None
        if holds != TASK:
            raise GankitError(
                f"{folder} exists and does not hold a detector; refusing to replace it, choose "
                "an empty or new directory"
            )
    with atomic_dir(folder) as tmp:
        save_module(detector, tmp / WEIGHTS_NAME)
        write_json(
            tmp / "config.json",
            {
                "task": TASK,
                "format_version": FORMAT_VERSION,
                "gankit_version": __version__,
                **to_dict(detector.config),
                "weights": WEIGHTS_NAME,
                "sha256": file_sha256(tmp / WEIGHTS_NAME),
                "metadata": dict(metadata or {}),
            },
        )
    return folder


def shipped_detector_dir() -> Path:
    """The directory of the detector shipped with gankit."""
    with resources.as_file(resources.files(__package__)) as package:
        return Path(package) / SHIPPED_DIR


def load_detector(folder: str | os.PathLike | None = None) -> Detector:
    """The detector in ``folder`` (default: gankit's shipped one), in eval mode; weights whose
    SHA-256 differs from the one config.json records are refused."""
    folder = shipped_detector_dir() if folder is None else Path(folder).expanduser()
    if not (folder / "config.json").is_file():
        raise GankitError(
            f"{folder} holds no detector (config.json missing); pass a directory written by "
            "`gankit provenance train-detector`, or leave --detector out to use gankit's own"
        )
    config = read_config(folder)
    if config["task"] != TASK:
        raise GankitError(
            f"{folder} holds a {config['task']!r} model, not a detector; pass a directory written "
            "by `gankit provenance train-detector`"
        )
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise GankitError(f"{weights} not found; the detector directory is incomplete")
    if file_sha256(weights) != config.get("sha256"):
        raise GankitError(
            f"{weights} does not match the SHA-256 in {folder / 'config.json'}; the weights were "
            "changed or damaged after saving: restore them or train the detector again"
        )
    fields = {k: v for k, v in config.items() if k not in _HEADER_KEYS}
    detector = Detector(from_dict(DetectorConfig, fields, "detector setting"))
    load_module(detector, weights)
    return detector.eval()


# ------------------------------------------------------------------------------ inference
_shipped: Detector | None = None


def _resolve(detector: Detector | str | os.PathLike | None) -> Detector:
    """``detector`` itself, the one in that directory, or the shipped one (loaded once)."""
    global _shipped
    if isinstance(detector, Detector):
        return detector
    if detector is not None:
        return load_detector(detector)
    if _shipped is None:
        _shipped = load_detector()
    return _shipped


def detect(
    images: torch.Tensor, detector: Detector | str | os.PathLike | None = None
) -> torch.Tensor:
    """P(generated) (float (N,)) for uint8 ``images`` (N, 1|3, H, W), sides >= 16 pixels.

    ``detector`` is a :class:`Detector`, a directory written by :func:`save_detector`, or None
    for the detector shipped with gankit (32 px digits and photographs: see docs/provenance.md).
    """
    check_images(images, READER)
    model = _resolve(detector)
    with torch.no_grad():
        logits = torch.cat([model(model.prepare(chunk)) for chunk in images.split(_CHUNK)])
    return torch.sigmoid(logits)
