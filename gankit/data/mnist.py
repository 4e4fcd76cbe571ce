"""MNIST read straight from its four original IDX files; nothing is downloaded.

The IDX format is a 4-byte big-endian magic number (2051 for images, 2049 for labels), one
big-endian uint32 per dimension, then the raw uint8 values. Every field is checked, because a
truncated download otherwise surfaces as a reshape error deep inside numpy.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data.images import ImageData, resize_images
from gankit.errors import GankitError

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

# split name -> file prefix used by the original distribution ("test" is spelled "t10k" there).
SPLITS = {"train": "train", "test": "t10k", "t10k": "t10k"}

MNIST_URL = "http://yann.lecun.com/exdb/mnist/"


def default_data_root() -> Path:
    """Where tests and benchmarks look for datasets: ``$GANKIT_DATA`` or ``<repo>/../shared/data``.

    Library code never calls this implicitly except for the named dataset ``"mnist"``; pass an
    explicit folder to work anywhere.

    Example:
        >>> isinstance(default_data_root(), Path)
        True
    """
    env = os.environ.get("GANKIT_DATA")
    if env:
        return Path(env).expanduser()
    repo_root = Path(__file__).resolve().parents[2]  # gankit/data/mnist.py -> repo root
    return repo_root.parent / "shared" / "data"


def _find_file(root: Path, name: str) -> Path:
    """``root/name`` (gzip) or, if someone unpacked it, the same name without ``.gz``."""
    for candidate in (root / name, root / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    raise GankitError(
        f"MNIST file '{root / name}' not found; put the four IDX .gz files from {MNIST_URL} "
        f"in '{root}' or pass the folder that holds them"
    )


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """The uint8 array stored in IDX file ``path``, after checking magic number and sizes."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError, zlib.error) as err:
        # gzip raises EOFError on a cut-off stream and BadGzipFile (an OSError) on garbage.
        raise GankitError(
            f"MNIST file '{path}' is corrupt or truncated ({err}); replace it with a fresh copy "
            f"from {MNIST_URL}"
        ) from None
    header_bytes = 4 + 4 * ndim
    if len(raw) < header_bytes:
        raise GankitError(
            f"MNIST file '{path}' is truncated: {len(raw)} bytes, shorter than its "
            f"{header_bytes}-byte header; replace it with a fresh copy from {MNIST_URL}"
        )
    found_magic = int.from_bytes(raw[:4], "big")
    if found_magic != magic:
        kind = "image" if magic == IMAGES_MAGIC else "label"
        raise GankitError(
            f"MNIST file '{path}' has magic number {found_magic}, expected {magic} for an IDX "
            f"{kind} file; the file is damaged or is not the one its name says"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    found = len(raw) - header_bytes
    if found != expected:
        raise GankitError(
            f"MNIST file '{path}' holds {found} bytes of data but its header {shape} needs "
            f"{expected}; the file is truncated or damaged, replace it from {MNIST_URL}"
        )
    # Copy so the tensor owns writable memory (the decompressed bytes object is read-only).
    return np.frombuffer(raw, dtype=np.uint8, offset=header_bytes).reshape(shape).copy()


def digits_at_resolution(images: np.ndarray, resolution: int) -> torch.Tensor:
    """uint8 MNIST-style digits (N, S, S) as (N, 1, resolution, resolution).

    ``resolution`` S keeps them; S + 4 pads 2 black pixels on every side (the LeNet convention,
    strokes stay pixel-sharp); any other size is resized with antialiased bilinear filtering.

    Example:
        >>> digits_at_resolution(np.zeros((3, 28, 28), np.uint8), 32).shape
        torch.Size([3, 1, 32, 32])
    """
    pixels = torch.from_numpy(images).unsqueeze(1)  # (N, S, S) -> (N, 1, S, S)
    native = pixels.shape[-1]
    if resolution == native + 4:
        return F.pad(pixels, (2, 2, 2, 2))  # zero = black background, as LeNet did for 32x32
    if resolution != native:
        return resize_images(pixels, resolution)
    return pixels


def load_mnist(root: str | Path, split: str = "train", resolution: int = 28) -> ImageData:
    """MNIST ``split`` ("train": 60,000 images; "test"/"t10k": 10,000) from IDX files in ``root``.

    ``resolution`` 28 keeps the native images. 32 pads 2 black pixels on every side, the LeNet
    convention: strokes stay pixel-sharp and the digit keeps its centring, whereas resampling
    would blur every stroke. Any other size is resized with antialiased bilinear filtering.

    Example:
        >>> data = load_mnist(mnist_dir, "test", 32)  # mnist_dir: default_data_root() / "mnist"
        >>> len(data), data.resolution
        (10000, 32)
    """
    if split not in SPLITS:
        raise GankitError(f"unknown MNIST split {split!r}; valid splits: {', '.join(SPLITS)}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise GankitError(
            f"MNIST folder '{root}' does not exist; pass the folder holding the four IDX .gz "
            f"files from {MNIST_URL}"
        )
    prefix = SPLITS[split]
    images_path = _find_file(root, f"{prefix}-images-idx3-ubyte.gz")
    labels_path = _find_file(root, f"{prefix}-labels-idx1-ubyte.gz")
    images = _read_idx(images_path, IMAGES_MAGIC, ndim=3)
    labels = _read_idx(labels_path, LABELS_MAGIC, ndim=1)

    if len(images) != len(labels):
        raise GankitError(
            f"MNIST files disagree: '{images_path}' holds {len(images)} images but "
            f"'{labels_path}' holds {len(labels)} labels; use files from the same split"
        )
    if images.shape[1] != images.shape[2]:
        raise GankitError(
            f"MNIST file '{images_path}' holds {images.shape[1]}x{images.shape[2]} images; "
            "expected square images (28x28)"
        )
    if len(labels) and labels.max() > 9:
        raise GankitError(
            f"MNIST file '{labels_path}' holds label {labels.max()}; digits must be 0..9"
        )

    return ImageData(
        images=digits_at_resolution(images, resolution),
        labels=torch.from_numpy(labels).to(torch.int64),
        class_names=tuple(str(digit) for digit in range(10)),
        name=f"mnist-{prefix}",
    )
