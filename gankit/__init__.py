"""gankit: one PyTorch toolkit for Generative Adversarial Networks.

Example:
    >>> from gankit import ImageGAN, load
    >>> gan = ImageGAN("default").fit("digits", steps=2000, out="runs/d")  # doctest: +SKIP
    >>> images = load("runs/d").sample(64, seed=0)  # doctest: +SKIP
"""

__version__ = "0.1.0"

from gankit.errors import GankitError  # noqa: E402
from gankit.tasks import (  # noqa: E402
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
