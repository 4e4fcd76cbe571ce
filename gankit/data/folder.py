"""A folder of photos (PNG, JPEG, BMP, WEBP) as one in-memory ImageData.

Real folders are messy: palette PNGs, transparent logos, 16-bit scans, CMYK JPEGs from print
workflows, non-square shots and the odd truncated download. Every image is brought to the same
mode and square size; unreadable files are skipped with one warning instead of ending the run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image

from gankit.data.images import ImageData, check_fits_in_memory, convert_channels, resize_images
from gankit.errors import GankitError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

# Modes that hold no colour; with channels=None a folder of only these loads as 1 channel.
_GRAYSCALE_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
_BACKGROUND = (255, 255, 255, 255)  # transparent pixels become white, as most viewers show them
_NAMES_IN_MESSAGES = 5  # how many bad files a warning or error lists by name


def _center_square(width: int, height: int) -> tuple[int, int, int, int] | None:
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return (left, top, left + side, top + side)


def _no_crop(width: int, height: int) -> None:
    return None  # "resize" squashes the whole frame into the square


# crop mode -> function (width, height) -> PIL crop box, or None to keep the whole frame.
CROPS: dict[str, Callable[[int, int], tuple[int, int, int, int] | None]] = {
    "center": _center_square,
    "resize": _no_crop,
}


def read_image(path: str | Path, channels: int = 3) -> torch.Tensor:
    """One image file as uint8 ``(channels, H, W)`` (1 gray or 3 RGB) at its own size.

    A missing, corrupt, non-image or decompression-bomb file is a :class:`GankitError` naming it.

    Example:
        >>> Image.new("L", (64, 48), 128).save(tmp / "photo.png")  # a gray file
        >>> read_image(tmp / "photo.png", 3).shape
        torch.Size([3, 48, 64])
    """
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"image file {path} not found; pass a PNG/JPEG/BMP/WEBP image")
    return decode_image(path, channels, str(path))


def decode_image(source: str | Path | BinaryIO, channels: int, name: str) -> torch.Tensor:
    """An image file or file object as uint8 ``(channels, H, W)``; ``name`` names it in errors.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> Image.new("RGB", (5, 3), (255, 0, 0)).save(buffer, format="PNG")
        >>> decode_image(buffer, 1, "upload").shape
        torch.Size([1, 3, 5])
    """
    from PIL import UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                image.load()
                pixels = np.asarray(to_mode(image, "L" if channels == 1 else "RGB"))
    except UnidentifiedImageError:
        raise GankitError(
            f"{name} is not an image PIL can read; pass a PNG/JPEG/BMP/WEBP file"
        ) from None
    # PIL raises many types on a damaged file (OSError, SyntaxError, ValueError, bombs, ...).
    except Exception as err:  # noqa: BLE001
        raise GankitError(f"{name} could not be decoded ({err}); the image is damaged") from None
    planes = torch.from_numpy(pixels.copy())
    return planes.unsqueeze(0) if planes.dim() == 2 else planes.permute(2, 0, 1)


def find_images(root: Path) -> list[Path]:
    """Image files below ``root``, sorted so the dataset order never depends on the filesystem.

    Hidden files and folders (``.ipynb_checkpoints``, macOS ``._name.jpg`` forks) are skipped:
    they are never part of the data and often not images at all.
    """
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def to_mode(image: Image.Image, mode: str) -> Image.Image:
    """``image`` converted to "L" or "RGB", handling the modes PIL's convert gets wrong."""
    if image.mode == "I" or image.mode.startswith("I;16"):
        # PIL's convert("L") clips 16-bit values at 255 (almost everything turns white);
        # scale the 0..65535 range down instead.
        values = np.asarray(image).astype(np.float64) / 257.0
        image = Image.fromarray(values.round().clip(0, 255).astype(np.uint8))
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        # Dropping alpha would expose whatever colour the encoder left in transparent pixels.
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, _BACKGROUND), rgba)
    return image if image.mode == mode else image.convert(mode)


def _decode(
    path: Path, resolution: int, channels: int | None, crop: str
) -> tuple[np.ndarray, bool]:
    """Pixels of ``path`` as uint8 (H, W) or (H, W, 3), cropped; and whether it was grayscale."""
    # PIL only warns between MAX_IMAGE_PIXELS and twice that and then decodes gigabytes; a
    # training image that large is a bomb or a mistake, so refuse it like one (the file is skipped).
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return _decode_image(path, resolution, channels, crop)


def _decode_image(
    path: Path, resolution: int, channels: int | None, crop: str
) -> tuple[np.ndarray, bool]:
    with Image.open(path) as image:
        # JPEG can decode at 1/2, 1/4 or 1/8 scale for free; keep at least twice the target size
        # so the antialiased resize still has detail to work from. Other formats ignore this.
        image.draft(None, (2 * resolution, 2 * resolution))
        image.load()
        is_gray = image.mode in _GRAYSCALE_MODES
        if channels is None:
            mode = "L" if is_gray else "RGB"
        else:
            mode = "L" if channels == 1 else "RGB"
        converted = to_mode(image, mode)
        box = CROPS[crop](*converted.size)
        if box is not None:
            converted = converted.crop(box)
        return np.asarray(converted), is_gray


def _class_labels(root: Path, paths: list[Path]) -> tuple[list[str], list[int] | None]:
    """Class names and per-file labels when every image sits in a first-level sub-folder.

    A single sub-folder (say ``photos/img_align_celeba/``) is an unpacked archive, not a class
    split, so labels need at least two classes.
    """
    parts = [p.relative_to(root).parts for p in paths]
    if any(len(part) < 2 for part in parts):
        return [], None
    class_names = sorted({part[0] for part in parts})
    if len(class_names) < 2:
        return [], None
    index = {name: i for i, name in enumerate(class_names)}
    return class_names, [index[part[0]] for part in parts]


def load_image_folder(
    path: str | Path, resolution: int, channels: int | None = None, crop: str = "center"
) -> ImageData:
    """All images below ``path`` as uint8 (N, C, resolution, resolution).

    - Files: .png .jpg .jpeg .bmp .webp (any case), found recursively, in sorted path order.
    - Labels: if every image lies in a first-level sub-folder and there are at least two, the
      sorted sub-folder names are the classes; otherwise ``labels`` is None.
    - ``channels``: 1 (grayscale), 3 (RGB), or None: 1 if every image is grayscale, else 3.
      Transparent pixels are composited onto white; 16-bit images are scaled to 8 bits.
    - ``crop``: "center" crops the largest centred square, "resize" squashes the whole frame.
    - Unreadable files (corrupt, truncated, decompression bombs) are skipped with one warning.

    Example:
        >>> for name in ("cats/a.png", "cats/b.jpg", "dogs/c.png"):
        ...     (tmp / "photos" / name).parent.mkdir(parents=True, exist_ok=True)
        ...     Image.new("RGB", (80, 60), "orange").save(tmp / "photos" / name)
        >>> data = load_image_folder(tmp / "photos", resolution=32)
        >>> data.images.shape, data.class_names
        (torch.Size([3, 3, 32, 32]), ('cats', 'dogs'))
    """
    root = Path(path).expanduser()
    if crop not in CROPS:
        raise GankitError(f"unknown crop {crop!r}; valid crops: {', '.join(CROPS)}")
    if channels not in (None, 1, 3):
        raise GankitError(f"channels must be 1 (grayscale), 3 (RGB) or None (auto), got {channels}")
    if not isinstance(resolution, int) or resolution < 1:
        raise GankitError(f"resolution must be a positive number of pixels, got {resolution!r}")
    if not root.exists():
        raise GankitError(f"image folder '{root}' does not exist; pass a folder of images")
    if not root.is_dir():
        raise GankitError(f"'{root}' is a file, not a folder; pass the folder holding the images")

    paths = find_images(root)
    if not paths:
        raise GankitError(
            f"image folder '{root}' holds no images (searched recursively for "
            f"{', '.join(IMAGE_EXTENSIONS)}); add images or pass another folder"
        )
    class_names, all_labels = _class_labels(root, paths)
    check_fits_in_memory(len(paths), channels or 3, (resolution, resolution), f"'{root}'")

    images: list[torch.Tensor] = []
    labels: list[int] = []
    all_gray = True
    failures: list[tuple[Path, Exception]] = []
    for i, image_path in enumerate(paths):
        try:
            pixels, is_gray = _decode(image_path, resolution, channels, crop)
        # PIL raises many types on malformed input (OSError, SyntaxError, ValueError,
        # DecompressionBombError, struct.error, ...); any of them means "this file is bad".
        except Exception as err:  # noqa: BLE001
            failures.append((image_path, err))
            continue
        all_gray &= is_gray
        planes = torch.from_numpy(pixels.copy())
        planes = planes.unsqueeze(0) if planes.dim() == 2 else planes.permute(2, 0, 1)
        images.append(resize_images(planes.unsqueeze(0), resolution)[0])  # (C, res, res)
        if all_labels is not None:
            labels.append(all_labels[i])

    names = ", ".join(p.relative_to(root).as_posix() for p, _ in failures[:_NAMES_IN_MESSAGES])
    more = " ..." if len(failures) > _NAMES_IN_MESSAGES else ""
    if not images:
        first_path, first_error = failures[0]
        raise GankitError(
            f"none of the {len(paths)} image files in '{root}' could be read ({names}{more}); "
            f"first error, '{first_path.name}': {first_error}"
        )
    if failures:
        warnings.warn(
            f"skipped {len(failures)} unreadable image file(s) in '{root}': {names}{more}",
            stacklevel=2,
        )

    if channels is None:
        channels = 1 if all_gray else 3
    stacked = torch.stack([convert_channels(img.unsqueeze(0), channels)[0] for img in images])
    return ImageData(
        images=stacked,
        labels=torch.tensor(labels, dtype=torch.int64) if all_labels is not None else None,
        class_names=tuple(class_names),
        name=root.resolve().name,
    )
