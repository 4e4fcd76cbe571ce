"""Stacked MNIST: three MNIST digits as the R, G and B channels of one image (1,000 modes).

The standard mode-collapse benchmark for image GANs (Metz et al. 2017, VEEGAN, PacGAN): every
combination of three digits is a mode, 1,000 in all, equally likely. A generator's samples are
split into their channels, each channel is labelled by an MNIST classifier, and the label
``100 * r + 10 * g + b`` counts modes and the KL of their histogram to uniform.

Example:
    >>> data = stacked_mnist(mnist_dir, n=100, seed=0)  # mnist_dir: default_data_root() / "mnist"
    >>> data.images.shape, int(data.labels.max()) < 1000
    (torch.Size([100, 3, 32, 32]), True)
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data.images import ImageData
from gankit.data.mnist import load_mnist
from gankit.errors import GankitError

NUM_MODES = 1000
CLASS_NAMES = tuple(f"{i:03d}" for i in range(NUM_MODES))


def stacked_mnist(
    root: str | Path, n: int = 60_000, seed: int = 0, split: str = "train", resolution: int = 32
) -> ImageData:
    """``n`` RGB images, each channel an MNIST ``split`` digit drawn independently; same seed ->
    same triples. Labels are ``100 * r + 10 * g + b`` (class names ``"000"`` ... ``"999"``).

    ``resolution`` as in :func:`gankit.data.load_mnist` (32 pads the 28-px digits, the DCGAN
    size).

    Example:
        >>> data = stacked_mnist(mnist_dir, n=4)
        >>> data.channels, data.class_names[123]
        (3, '123')
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise GankitError(f"stacked MNIST size n must be a positive integer, got {n!r}")
    mnist = load_mnist(root, split=split, resolution=resolution)
    generator = torch.Generator().manual_seed(seed)
    index = torch.randint(len(mnist), (n, 3), generator=generator)  # (n, channel)
    images = mnist.images[index.flatten(), 0].reshape(n, 3, resolution, resolution)
    digits = mnist.labels[index]  # (n, 3)
    labels = digits @ torch.tensor([100, 10, 1])
    return ImageData(images, labels, CLASS_NAMES, f"stacked-mnist-{split}")


def stacked_labels(digit_logits: torch.Tensor) -> torch.Tensor:
    """Per-channel digit logits (3 * B, 10), channel-major per image, -> mode labels (B,).

    The rows are the R, G, B channels of image 0, then of image 1, ... (what
    ``images.reshape(-1, 1, H, W)`` gives from (B, 3, H, W)).

    Example:
        >>> logits = torch.nn.functional.one_hot(torch.tensor([1, 2, 3]), 10).float()
        >>> stacked_labels(logits).tolist()
        [123]
    """
    if digit_logits.dim() != 2 or digit_logits.shape[0] % 3 or digit_logits.shape[1] != 10:
        raise GankitError(
            f"stacked_labels needs (3 * B, 10) digit logits, got {tuple(digit_logits.shape)}"
        )
    digits = digit_logits.argmax(1).reshape(-1, 3)
    return digits @ torch.tensor([100, 10, 1], device=digits.device)
