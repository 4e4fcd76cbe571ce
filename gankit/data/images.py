"""Image datasets held in memory as one uint8 tensor, and the resize every image loader shares.

Keeping images as uint8 (N, C, H, W) costs a quarter of float32 memory (60,000 MNIST digits at
32x32 are 61 MB); :meth:`ImageData.batch` converts only the rows a training step asks for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.imageops import to_gray

# Converting in chunks bounds the float32 copy that interpolation needs (4,096 images at 256x256x3
# are 3 GB in float32; one chunk of them is what we allow at a time).
_RESIZE_CHUNK_PIXELS = 64 * 2**20


@dataclass(frozen=True, eq=False)
class ImageData:
    """A labelled or unlabelled image dataset, fully in memory.

    ``eq=False`` because comparing tensors element-wise inside a dataclass ``==`` is ambiguous;
    two ImageData are equal only if they are the same object.

    Example:
        >>> data = ImageData(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), None, (), "blank")
        >>> len(data), data.channels, data.resolution
        (4, 1, 8)
        >>> data.batch(torch.tensor([0, 1])).min().item()
        -1.0
    """

    images: torch.Tensor  # uint8 (N, C, H, W), H == W
    labels: torch.Tensor | None  # int64 (N,), values index class_names; None if unlabelled
    class_names: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        images = self.images
        where = f"dataset '{self.name}'"
        if not isinstance(images, torch.Tensor):
            kind = type(images).__name__
            raise GankitError(f"{where}: images must be a torch.Tensor, got {kind}")
        if images.dtype != torch.uint8:
            raise GankitError(f"{where}: images must be uint8 (0..255), got {images.dtype}")
        if images.dim() != 4:
            raise GankitError(
                f"{where}: images must be 4-D (N, C, H, W), got shape {tuple(images.shape)}"
            )
        if images.shape[2] != images.shape[3]:
            raise GankitError(
                f"{where}: images must be square, got {images.shape[2]}x{images.shape[3]}; "
                "crop or resize them first (see gankit.data.images.resize_images)"
            )
        if self.labels is None:
            return
        labels = self.labels
        if labels.dtype != torch.int64 or labels.dim() != 1:
            raise GankitError(
                f"{where}: labels must be a 1-D int64 tensor, got {labels.dtype} "
                f"of shape {tuple(labels.shape)}"
            )
        if len(labels) != len(images):
            raise GankitError(f"{where}: {len(labels)} labels for {len(images)} images")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise GankitError(
                f"{where}: labels must lie in 0..{len(self.class_names) - 1} "
                f"(one per class name), got {labels.min().item()}..{labels.max().item()}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def channels(self) -> int:
        """Number of colour channels: 1 (grayscale) or 3 (RGB)."""
        return self.images.shape[1]

    @property
    def resolution(self) -> int:
        """Side length in pixels (images are square)."""
        return self.images.shape[2]

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """Float32 images in [-1, 1] for the rows in ``index`` (the range tanh generators emit).

        Example:
            >>> data = ImageData(torch.full((2, 1, 4, 4), 255, dtype=torch.uint8), None, (), "x")
            >>> data.batch(torch.tensor([1])).shape, data.batch(torch.tensor([1])).max().item()
            (torch.Size([1, 1, 4, 4]), 1.0)
        """
        return self.images[index].float() / 127.5 - 1.0


@dataclass(frozen=True, eq=False)
class LabelledImages:
    """An :class:`ImageData` whose batches carry their class labels: ``(images, labels)``.

    This is what a class-conditional GAN trains on: the engine sees ``conditional = True`` and
    calls ``G(z, labels)`` and ``D(x, labels)``. Build it with :func:`labelled`.

    Example:
        >>> data = labelled(ImageData(torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
        ...                           torch.tensor([0, 1]), ("a", "b"), "tiny"))
        >>> x, y = data.batch(torch.tensor([1]))
        >>> x.shape, y.tolist()
        (torch.Size([1, 1, 4, 4]), [1])
    """

    data: ImageData
    conditional: ClassVar[bool] = True

    def __len__(self) -> int:
        return len(self.data)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.data.class_names

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1] and their int64 labels for the rows in ``index``."""
        return self.data.batch(index), self.data.labels[index]

    def fake_conditions(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """G's labels under private training: uniform over the (public) class list, never the
        data's class frequencies."""
        return torch.randint(len(self.class_names), (n,), generator=generator)


def labelled(data: ImageData) -> LabelledImages:
    """``data`` with labels in every batch; a dataset without class labels is a clear error."""
    if data.labels is None or len(data.class_names) < 2:
        raise GankitError(
            f"dataset '{data.name}' has no class labels, so a class-conditional model cannot "
            "train on it; use MNIST, digits, or an image folder with one sub-folder per class "
            "(at least two)"
        )
    return LabelledImages(data)


def check_fits_in_memory(count: int, channels: int, size: tuple[int, int], what: str) -> None:
    """Refuse a dataset whose uint8 pixels alone would not fit in this machine's memory.

    Without this a typo like ``--resolution 20000`` allocates until the OOM killer ends the
    process (or a neighbour's); with it the user gets one message saying what to change.
    """
    needed = count * channels * size[0] * size[1]
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not on every platform
        return
    if needed > memory:
        raise GankitError(
            f"{what}: {count} images of {size[0]}x{size[1]} pixels need "
            f"{needed / 2**30:.0f} GiB, more than this machine's {memory / 2**30:.0f} GiB; "
            "use a smaller --resolution"
        )


def resize_images(images: torch.Tensor, resolution: int | tuple[int, int]) -> torch.Tensor:
    """Resize uint8 images (N, C, H, W) with antialiased bilinear filtering; returns uint8.

    ``resolution`` is the side of a square output or an (H, W) pair. Antialiasing matters when
    shrinking (plain bilinear aliases fine strokes and textures); when enlarging it is a no-op.
    Images already at the requested size are returned unchanged.

    Example:
        >>> resize_images(torch.zeros(2, 3, 64, 48, dtype=torch.uint8), 32).shape
        torch.Size([2, 3, 32, 32])
    """
    size = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
    if images.dim() != 4 or images.dtype != torch.uint8:
        raise GankitError(
            f"resize_images expects uint8 images (N, C, H, W), got {images.dtype} "
            f"of shape {tuple(images.shape)}"
        )
    if min(size) < 1:
        raise GankitError(f"image resolution must be at least 1 pixel, got {size}")
    if tuple(images.shape[2:]) == size:
        return images
    n, channels = images.shape[:2]
    check_fits_in_memory(n, channels, size, "resizing")
    pixels_per_image = channels * max(images.shape[2] * images.shape[3], size[0] * size[1])
    chunk = max(1, _RESIZE_CHUNK_PIXELS // pixels_per_image)
    out = torch.empty((n, channels, *size), dtype=torch.uint8)
    for start in range(0, n, chunk):
        part = images[start : start + chunk].float()
        resized = F.interpolate(part, size=size, mode="bilinear", antialias=True)
        out[start : start + chunk] = resized.round_().clamp_(0, 255).to(torch.uint8)
    return out


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Convert uint8 images (N, C, H, W) between 1 (gray) and 3 (RGB) channels.

    Gray -> RGB repeats the plane; RGB -> gray uses ITU-R 601 luma like PIL's ``convert("L")``.

    Example:
        >>> convert_channels(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), 3).shape
        torch.Size([2, 3, 8, 8])
    """
    if channels not in (1, 3):
        raise GankitError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have != 3:
        raise GankitError(f"cannot convert {have}-channel images to {channels} channel(s)")
    return to_gray(images.float()).round_().clamp_(0, 255).to(torch.uint8)


def with_channels(data: ImageData, channels: int | None) -> ImageData:
    """``data`` with ``channels`` colour channels (None keeps what it has).

    Example:
        >>> gray = ImageData(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), None, (), "g")
        >>> with_channels(gray, 3).channels
        3
    """
    if channels is None or channels == data.channels:
        return data
    return ImageData(
        convert_channels(data.images, channels), data.labels, data.class_names, data.name
    )


def real_images(data: ImageData, n: int, seed: int) -> torch.Tensor:
    """Up to ``n`` images of ``data`` in [-1, 1]: the real side of a comparison with samples.

    A seeded random subset when the dataset is larger, in dataset order, so the same seed gives
    the same reference set.

    Example:
        >>> data = ImageData(torch.zeros(10, 1, 4, 4, dtype=torch.uint8), None, (), "blank")
        >>> real_images(data, 3, seed=0).shape, real_images(data, 50, seed=0).shape
        (torch.Size([3, 1, 4, 4]), torch.Size([10, 1, 4, 4]))
    """
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return data.batch(order.sort().values)
