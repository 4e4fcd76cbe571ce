"""gankit: one PyTorch toolkit for Generative Adversarial Networks.

Example:
    >>> from gankit import ImageGAN, load
    >>> gan = ImageGAN(resolution=16, model={"g_width": 8, "d_width": 8}, batch_size=8)
    >>> gan = gan.fit("digits", steps=2, quiet=True)  # a real run takes thousands of steps
    >>> images = load(gan.save(tmp / "digits")).generate(64, seed=0)  # uint8, same seed: same
    >>> images.shape, images.dtype
    (torch.Size([64, 1, 16, 16]), torch.uint8)
"""

from gankit._version import __version__
from gankit.errors import GankitError
from gankit.synthetic import augment_dataset
from gankit.tasks import (
    AnomalyDetector,
    AudioGAN,
    CycleGAN,
    Generator,
    ImageGAN,
    Pix2Pix,
    SingleImageGAN,
    SuperResolution,
    TabularGAN,
    TextGAN,
    ToyGAN,
    Translator,
    load,
)

__all__ = [
    "AnomalyDetector",
    "AudioGAN",
    "CycleGAN",
    "GankitError",
    "Generator",
    "ImageGAN",
    "Pix2Pix",
    "SingleImageGAN",
    "SuperResolution",
    "TabularGAN",
    "TextGAN",
    "ToyGAN",
    "Translator",
    "augment_dataset",
    "load",
    "__version__",
]
