"""gankit: one PyTorch toolkit for Generative Adversarial Networks.

Example:
    >>> from gankit import ImageGAN, load
    >>> gan = ImageGAN("default").fit("digits", steps=2000, out="runs/d")  # doctest: +SKIP
    >>> images = load("runs/d").sample(64, seed=0)  # doctest: +SKIP
"""

from gankit._version import __version__
from gankit.errors import GankitError
from gankit.tasks import (
    CycleGAN,
    ImageGAN,
    Pix2Pix,
    SuperResolution,
    TabularGAN,
    TextGAN,
    ToyGAN,
    load,
)

__all__ = [
    "CycleGAN",
    "GankitError",
    "ImageGAN",
    "Pix2Pix",
    "SuperResolution",
    "TabularGAN",
    "TextGAN",
    "ToyGAN",
    "__version__",
    "load",
]
