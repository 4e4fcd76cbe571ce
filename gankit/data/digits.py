"""scikit-learn's bundled 8x8 handwritten digits: the dataset that needs no files.

1,797 images ship inside scikit-learn itself, so this is the default dataset for quick runs, tests
and demos on any machine, online or not.
"""

from __future__ import annotations

import torch

from gankit.data.images import ImageData, resize_images


def load_digits(resolution: int = 32) -> ImageData:
    """The 1,797 scikit-learn digits as 1-channel uint8 images at ``resolution``, labels 0..9.

    Pixel values 0..16 are scaled to 0..255, then the 8x8 images are enlarged with bilinear
    filtering (smooth strokes rather than blocky nearest-neighbour pixels).

    Example:
        >>> data = load_digits(resolution=16)
        >>> len(data), data.channels, data.resolution, data.class_names[:3]
        (1797, 1, 16, ('0', '1', '2'))
    """
    # Imported here: scikit-learn takes about a second to import and only this loader needs it.
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    values = torch.from_numpy(bunch.images).float()  # (1797, 8, 8), 0..16
    images = (values * (255.0 / 16.0)).round_().to(torch.uint8).unsqueeze(1)
    labels = torch.from_numpy(bunch.target).to(torch.int64)
    return ImageData(
        images=resize_images(images, resolution),
        labels=labels,
        class_names=tuple(str(digit) for digit in range(10)),
        name="digits",
    )
