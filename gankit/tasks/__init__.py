"""Applications, each a thin recipe over the shared engine, and the registry that ``load`` uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit.errors import GankitError
from gankit.io import read_config
from gankit.tasks.anomaly import AnomalyDetector
from gankit.tasks.audio import AudioGAN
from gankit.tasks.base import GANTask, Generator, Preset, Translator
from gankit.tasks.cyclegan import CycleGAN
from gankit.tasks.images import ImageGAN
from gankit.tasks.pix2pix import Pix2Pix
from gankit.tasks.single_image import SingleImageGAN
from gankit.tasks.superres import SuperResolution
from gankit.tasks.tabular import TabularGAN
from gankit.tasks.text import TextGAN
from gankit.tasks.toy import ToyGAN

TASKS: dict[str, type[GANTask]] = {
    cls.task: cls
    for cls in (
        ImageGAN,
        ToyGAN,
        TabularGAN,
        Pix2Pix,
        CycleGAN,
        SuperResolution,
        TextGAN,
        AudioGAN,
        SingleImageGAN,
        AnomalyDetector,
    )
}


def load(path: str | Path) -> GANTask:
    """Load any gankit model directory (``config.json`` + ``*.safetensors``).

    Example:
        >>> gan = load(image_model)  # a model directory: config.json + *.safetensors
        >>> type(gan).__name__, gan.generate(16, seed=0, condition=7).shape
        ('ImageGAN', torch.Size([16, 1, 16, 16]))
    """
    return task_class(read_config(path), path).from_dir(path)


def task_class(config: dict[str, Any], where: object) -> type[GANTask]:
    """The task class a config.json dict names; ``where`` (a path) is named in the error."""
    task = config.get("task")
    if task not in TASKS:
        raise GankitError(f"{where}: unknown task {task!r}; this gankit knows {', '.join(TASKS)}")
    return TASKS[task]


__all__ = [
    "AnomalyDetector",
    "AudioGAN",
    "CycleGAN",
    "GANTask",
    "Generator",
    "ImageGAN",
    "Pix2Pix",
    "Preset",
    "SingleImageGAN",
    "SuperResolution",
    "TASKS",
    "TabularGAN",
    "TextGAN",
    "ToyGAN",
    "Translator",
    "load",
    "task_class",
]
