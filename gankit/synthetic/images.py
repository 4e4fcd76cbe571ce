"""Few labelled images: a class-conditional ImageGAN trained on them, then a synthetic or mixed set.

Example:
    >>> from gankit.data import open_dataset
    >>> digits = open_dataset("digits", resolution=16)
    >>> tiny = {"g_width": 8, "d_width": 8}  # real runs keep the preset's widths
    >>> result = augment_images(digits, labels_per_class=5, synthetic_fraction=0.5, steps=2,
    ...                         model=tiny, batch_size=8)
    >>> len(result.data), int(result.synthetic.sum())  # 50 real + 50 synthetic
    (100, 50)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gankit.data import ImageData, open_dataset
from gankit.errors import GankitError
from gankit.io import atomic_dir
from gankit.synthetic.common import Augmented, check_fraction, synthetic_count
from gankit.tasks import ImageGAN
from gankit.viz import save_images

# The training recipe for a few hundred images: the class-conditional `default` preset with
# DiffAugment (translation + cutout), which keeps D from memorising a tiny set (Zhao et al. 2020).
DEFAULT_PRESET = "default-cond"
DEFAULT_AUGMENT = "translation,cutout"
DEFAULT_STEPS = 1500
_CHUNK = 1000  # images per generator call


def labelled_images(data: Any, resolution: int | None = None) -> ImageData:
    """The labelled images ``data`` names (an :class:`ImageData`, a dataset name or a folder).

    Refuses unlabelled data and data with a single class, naming what to pass instead.
    """
    if isinstance(data, ImageData):
        images = data
    elif isinstance(data, str | Path):
        images = open_dataset(str(data), resolution or 32)
    else:
        raise GankitError(
            "augment_images takes an ImageData, a dataset name (mnist-5k, digits, mnist) or an "
            f"image folder with one sub-folder per class, not {type(data).__name__}"
        )
    if images.labels is None:
        raise GankitError(
            f"{images.name}: the images have no class labels; put each class in its own "
            "sub-folder (folder/cat/*.png, folder/dog/*.png)"
        )
    present = torch.unique(images.labels)
    if len(present) < 2:
        raise GankitError(
            f"{images.name}: only one class ({images.class_names[int(present[0])]!r}) has "
            "images; a class-conditional model needs at least two classes"
        )
    return images


def take_per_class(data: ImageData, per_class: int, seed: int) -> ImageData:
    """``per_class`` images of every class, drawn at random with ``seed`` (labels kept).

    Example:
        >>> few = take_per_class(open_dataset("digits", resolution=8), 3, seed=0)
        >>> len(few), torch.bincount(few.labels).tolist()
        (30, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise GankitError(f"labels_per_class must be a positive integer, got {per_class!r}")
    rng = torch.Generator().manual_seed(seed)
    chosen = []
    for label, name in enumerate(data.class_names):
        rows = torch.nonzero(data.labels == label).flatten()
        if len(rows) < per_class:
            raise GankitError(
                f"{data.name}: class {name!r} has {len(rows)} images, fewer than the "
                f"{per_class} labels_per_class asks for; ask for at most {len(rows)}"
            )
        chosen.append(rows[torch.randperm(len(rows), generator=rng)[:per_class]])
    index = torch.cat(chosen)
    return ImageData(data.images[index], data.labels[index], data.class_names, data.name)


def fit_image_model(
    data: ImageData,
    *,
    preset: str = DEFAULT_PRESET,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    out: str | Path | None = None,
    quiet: bool = True,
    **options: Any,
) -> ImageGAN:
    """A class-conditional :class:`ImageGAN` fitted on ``data`` (its labels are the classes).

    ``options`` go to :class:`ImageGAN` (``model={...}``, any training option); DiffAugment
    (``augment="translation,cutout"``) is on unless ``augment`` is given.
    """
    options.setdefault("augment", DEFAULT_AUGMENT)
    gan = ImageGAN(preset, resolution=data.resolution, conditional=True, seed=seed, **options)
    return gan.fit(data, steps=steps, out=out, quiet=quiet)


def subset(data: ImageData, mask: torch.Tensor) -> ImageData:
    """The images (and labels) of ``data`` where ``mask`` is True."""
    return ImageData(data.images[mask], data.labels[mask], data.class_names, data.name)


def draw_balanced(gan: ImageGAN, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` uint8 images from a class-conditional model, the classes in turn: (images, labels)."""
    classes = len(gan.class_names)
    labels = torch.arange(n) % classes
    chunks = [
        gan.generate(len(part), seed=seed + i, condition=part.tolist())
        for i, part in enumerate(labels.split(_CHUNK))
    ]
    images = torch.cat(chunks) if chunks else torch.zeros(0, dtype=torch.uint8)
    return images, labels


def augment_images(
    data: Any,
    *,
    labels_per_class: int | None = None,
    synthetic_fraction: float = 1.0,
    n: int | None = None,
    gan: ImageGAN | None = None,
    resolution: int | None = None,
    seed: int = 0,
    **fit_options: Any,
) -> Augmented:
    """Train a class-conditional GAN on few labelled images and return a synthetic or mixed set.

    - ``data``: an :class:`~gankit.data.ImageData` with labels, a dataset name or a folder with
      one sub-folder per class; ``labels_per_class=k`` keeps ``k`` random images of each class
      (the "few labels" setting; None keeps all).
    - ``synthetic_fraction=1.0`` (the default) returns only synthetic images, the classes in
      turn (a balanced set of ``n``, default as many as the real images); a fraction in (0, 1)
      returns the real images plus enough synthetic ones that they make that fraction of the set.
    - ``gan``: a trained class-conditional ImageGAN to draw from instead of training one;
      otherwise ``fit_options`` (``preset``, ``steps``, ``out``, ``quiet``, ``model``, any training
      option) go to :func:`fit_image_model`.

    The result's ``synthetic`` marks the generated images, ``model`` is the GAN and ``real`` the
    labelled images it was fitted on.
    """
    check_fraction(synthetic_fraction)
    real = labelled_images(data, resolution)
    if labels_per_class is not None:
        real = take_per_class(real, labels_per_class, seed)
    if gan is None:
        gan = fit_image_model(real, seed=seed, **fit_options)
    elif fit_options:
        raise GankitError(
            f"a trained model was given, so there is nothing to fit: drop {sorted(fit_options)}"
        )
    if gan.condition_kind != "class" or list(gan.class_names) != list(real.class_names):
        raise GankitError(
            f"the model draws classes {list(gan.class_names)}, the data has "
            f"{list(real.class_names)}; train the model on this data (pass no gan=)"
        )
    count = synthetic_count(len(real), synthetic_fraction, n)
    images, labels = draw_balanced(gan, count, seed)
    if images.shape[1:] != real.images.shape[1:]:
        raise GankitError(
            f"the model makes images of shape {tuple(images.shape[1:])}, the data has "
            f"{tuple(real.images.shape[1:])}; train the model at the data's resolution"
        )
    keep_real = synthetic_fraction < 1.0
    parts = [real.images, images] if keep_real else [images]
    label_parts = [real.labels, labels] if keep_real else [labels]
    mixed = ImageData(torch.cat(parts), torch.cat(label_parts), real.class_names, real.name)
    synthetic = torch.cat([torch.zeros(len(real) if keep_real else 0), torch.ones(count)]).bool()
    return Augmented(mixed, synthetic, gan, real)


def write_image_set(result: Augmented, folder: str | Path) -> Path:
    """Write an augmented image set as PNGs in class sub-folders (``real-*`` / ``synthetic-*``).

    The folder is what ``gankit train --data FOLDER`` and the image-folder loader read back; it
    appears whole or not at all. An existing non-empty folder is refused.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GankitError(f"{folder} exists and is not empty; choose a new output folder")
    data = result.data
    with atomic_dir(folder) as tmp:
        for label, name in enumerate(data.class_names):
            rows = data.labels == label
            for kind, synthetic in (("real", False), ("synthetic", True)):
                mask = rows & (result.synthetic == synthetic)
                if mask.any():
                    save_images(data.images[mask], tmp / name, prefix=kind)
    return folder
