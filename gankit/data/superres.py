"""Super-resolution data: training patches degraded on the fly, and the Set5/Set14 benchmarks.

Training images are photographs that installed packages ship (nothing downloads):
:data:`TRAINING_IMAGES` lists them (scikit-image's sample photographs and textures,
scikit-learn's two sample photos, matplotlib's portrait of Grace Hopper). Grayscale ones are
repeated to RGB. Set5 and Set14, read from ``$GANKIT_DATA/sr_benchmarks``, are for evaluation only.

The degradation is the classic one of the SR literature: antialiased bicubic downscaling (as
MATLAB ``imresize``), quantised to 8 bits like a saved image. Each patch gets a random crop and one
of the 8 flips/rotations, all drawn from the trainer's generator, so runs are reproducible and
resume bit for bit.

Example:
    >>> data = SRPatches.from_images(training_images(["astronaut"]), scale=4, patch=64)
    >>> hr, lr = data.sample(2, torch.Generator().manual_seed(0))
    >>> hr.shape, lr.shape
    (torch.Size([2, 3, 64, 64]), torch.Size([2, 3, 16, 16]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit.data.folder import IMAGE_EXTENSIONS, read_image
from gankit.data.mnist import default_data_root
from gankit.errors import GankitError
from gankit.imageops import bicubic_resize

BENCHMARKS = ("Set5", "Set14")


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _skimage_stereo_left() -> np.ndarray:
    import skimage.data

    return skimage.data.stereo_motorcycle()[0]


def _package_file(module: str, *parts: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import importlib

        root = Path(importlib.import_module(module).__file__).parent
        with Image.open(root.joinpath(*parts)) as image:
            return np.asarray(image.convert("RGB"))

    return load


# name -> loader of an (H, W) or (H, W, 3) uint8 array. Photographs and natural textures only:
# synthetic images (logos, checkerboards), microscopy and astronomy were left out, and nothing
# overlaps Set5/Set14.
TRAINING_IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "motorcycle": _skimage_stereo_left,
    "camera": _skimage("camera"),
    "coins": _skimage("coins"),
    "moon": _skimage("moon"),
    "text": _skimage("text"),
    "page": _skimage("page"),
    "brick": _skimage("brick"),
    "grass": _skimage("grass"),
    "gravel": _skimage("gravel"),
    "china": _package_file("sklearn.datasets", "images", "china.jpg"),
    "flower": _package_file("sklearn.datasets", "images", "flower.jpg"),
    "grace_hopper": _package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"),
}


def _to_rgb_tensor(pixels: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, 3) uint8 -> (3, H, W) uint8."""
    planes = torch.from_numpy(np.array(pixels, dtype=np.uint8))  # a writable copy
    if planes.dim() == 2:
        planes = planes.unsqueeze(-1).expand(-1, -1, 3)
    return planes.permute(2, 0, 1).contiguous()


def training_images(names: Sequence[str] | None = None) -> list[torch.Tensor]:
    """The shipped photographs ``names`` (default: all of :data:`TRAINING_IMAGES`) as RGB uint8.

    Example:
        >>> training_images(["chelsea"])[0].shape
        torch.Size([3, 300, 451])
    """
    names = list(TRAINING_IMAGES) if names is None else list(names)
    unknown = [n for n in names if n not in TRAINING_IMAGES]
    if unknown:
        raise GankitError(
            f"unknown training image(s) {unknown}; valid names: {', '.join(TRAINING_IMAGES)}"
        )
    return [_to_rgb_tensor(TRAINING_IMAGES[name]()) for name in names]


def read_rgb_image(path: str | Path) -> torch.Tensor:
    """One image file as RGB uint8 ``(3, H, W)`` (gray files are repeated to three channels).

    Example:
        >>> read_rgb_image("photo.png").shape  # doctest: +SKIP
        torch.Size([3, 480, 640])
    """
    return read_image(path, 3)


def modcrop(image: torch.Tensor, scale: int) -> torch.Tensor:
    """Crop ``(..., H, W)`` to the largest multiple of ``scale`` from the top-left (SR practice).

    Example:
        >>> modcrop(torch.zeros(3, 10, 7), 4).shape
        torch.Size([3, 8, 4])
    """
    h, w = image.shape[-2:]
    return image[..., : h - h % scale, : w - w % scale]


def degrade(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic downscale of HR images by ``scale`` (antialiased), rounded to 8-bit levels.

    ``hr``: uint8 or float ``(N, C, H, W)`` on the [0, 255] scale with H, W multiples of
    ``scale``; returns float ``(N, C, H/scale, W/scale)`` on the same scale.

    Example:
        >>> degrade(torch.full((1, 3, 8, 8), 200, dtype=torch.uint8), 4).flatten()[:2].tolist()
        [200.0, 200.0]
    """
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise GankitError(f"HR size {h}x{w} is not a multiple of scale {scale}; modcrop it first")
    low = bicubic_resize(hr.float(), (h // scale, w // scale))
    return low.round().clamp(0, 255)


def bicubic_upscale(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The bicubic baseline: ``(N, C, h, w)`` [0, 255] -> ``(N, C, scale*h, scale*w)`` uint8."""
    up = bicubic_resize(lr.float(), (lr.shape[-2] * scale, lr.shape[-1] * scale))
    return up.round().clamp(0, 255).to(torch.uint8)


def _to_unit(pixels: torch.Tensor) -> torch.Tensor:
    return pixels.float() / 127.5 - 1.0  # [0, 255] -> [-1, 1], the range of gankit's images


@dataclass(frozen=True, eq=False)
class SRPatches:
    """Random HR patches of RGB uint8 images with their degraded LR versions.

    ``sample(n, generator)`` (what the trainer calls) returns ``(hr, lr)`` in [-1, 1]: the real
    target and the condition. Crops are drawn in proportion to each image's area.
    """

    images: tuple[torch.Tensor, ...]  # uint8 (3, H, W), each at least `patch` on both sides
    scale: int
    patch: int  # HR patch side; a multiple of scale
    name: str = "skimage-photos"
    conditional = True

    def __post_init__(self) -> None:
        if self.scale < 1 or self.patch < self.scale or self.patch % self.scale:
            raise GankitError(
                f"HR patch size {self.patch} must be a positive multiple of scale {self.scale}"
            )
        small = [tuple(im.shape[1:]) for im in self.images if min(im.shape[1:]) < self.patch]
        if not self.images or small:
            raise GankitError(
                f"SR training needs images of at least {self.patch}x{self.patch} pixels; got "
                f"{len(self.images)} image(s), too small: {small[:3]}; lower the patch size"
            )

    @classmethod
    def from_images(
        cls, images: Sequence[torch.Tensor], scale: int, patch: int, name: str = "skimage-photos"
    ) -> SRPatches:
        return cls(tuple(images), scale, patch, name)

    def _positions(self) -> torch.Tensor:
        """Number of crop positions of each image."""
        return torch.tensor(
            [(im.shape[1] - self.patch + 1) * (im.shape[2] - self.patch + 1) for im in self.images]
        )

    def __len__(self) -> int:
        return int(self._positions().sum())

    def _pairs(self, crops: list[torch.Tensor], flips: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # One of the 8 symmetries of the square per patch: transpose, then flip rows/columns.
        patches = []
        for crop, (transpose, flip_h, flip_w) in zip(crops, flips.tolist(), strict=True):
            patch = crop.transpose(1, 2) if transpose else crop
            dims = [d for d, on in ((1, flip_h), (2, flip_w)) if on]
            patches.append(patch.flip(dims) if dims else patch)
        hr = torch.stack(patches)
        return _to_unit(hr), _to_unit(degrade(hr, self.scale))

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random (HR, LR) pairs, all randomness from ``generator``."""
        weights = self._positions().double()
        which = torch.multinomial(weights, n, replacement=True, generator=generator)
        unit = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        flips = torch.randint(0, 2, (n, 3), generator=generator)
        crops = []
        for k, (u, v) in zip(which.tolist(), unit.tolist(), strict=True):
            image = self.images[k]
            top = int(u * (image.shape[1] - self.patch + 1))
            left = int(v * (image.shape[2] - self.patch + 1))
            crops.append(image[:, top : top + self.patch, left : left + self.patch])
        return self._pairs(crops, flips)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed (HR, LR) pairs: crop position ``index`` in the images' concatenated positions."""
        starts = torch.cumsum(self._positions(), 0)
        crops = []
        for i in index.tolist():
            k = int(torch.searchsorted(starts, i, right=True))
            offset = i - (int(starts[k - 1]) if k else 0)
            top, left = divmod(offset, self.images[k].shape[2] - self.patch + 1)
            crops.append(self.images[k][:, top : top + self.patch, left : left + self.patch])
        return self._pairs(crops, torch.zeros(len(crops), 3, dtype=torch.long))


def load_benchmark(name: str, root: str | Path | None = None) -> list[tuple[str, torch.Tensor]]:
    """``(stem, RGB uint8 (3, H, W))`` of every image of benchmark ``name`` (Set5, Set14).

    Looks in ``root`` or ``$GANKIT_DATA/sr_benchmarks/<name>``. Evaluation only: training on
    these would make the benchmark meaningless.

    Example:
        >>> [stem for stem, _ in load_benchmark("Set5")]  # doctest: +SKIP
        ['baby', 'bird', 'butterfly', 'head', 'woman']
    """
    if name not in BENCHMARKS:
        raise GankitError(f"unknown SR benchmark {name!r}; valid: {', '.join(BENCHMARKS)}")
    folder = Path(root) if root is not None else default_data_root() / "sr_benchmarks" / name
    if not folder.is_dir():
        raise GankitError(
            f"SR benchmark {name} looks for its images in '{folder}', which does not exist; set "
            f"GANKIT_DATA to the folder that holds sr_benchmarks/{name}/ (PNG files)"
        )
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise GankitError(f"'{folder}' holds no images; expected the {name} PNG files")
    return [(path.stem, read_rgb_image(path)) for path in paths]
