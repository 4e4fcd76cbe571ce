"""Image-to-image translation data: aligned pairs (pix2pix), two unpaired domains (CycleGAN).

Paired data comes as a folder with ``A/`` (sources) and ``B/`` (targets) holding files of the same
names, or as a folder of side-by-side images (source left, target right, pix2pix's format). A pair
is cropped and flipped *jointly*: the target must stay aligned with its source. Unpaired data is
two image collections (two folders, two named datasets or two tensors) of the same size.

Randomness: both datasets implement ``sample(n, generator)``, so the engine draws indices, crop
offsets and flips from its own data RNG; a resumed run sees exactly the batches of the
uninterrupted one. ``batch(index)`` is deterministic (centre crop, no flip) for evaluation.

Built-in real data (nothing downloads):

- ``mnist-edges``: Canny edges of MNIST digits (A) -> the digits (B), 32 px;
- ``digits-mnist``: scikit-learn's 8x8 digits enlarged to 32 px (A) and MNIST at 32 px (B);
- ``photos-colour``: gray (A) -> colour (B) tiles of the colour photographs that scikit-image,
  scikit-learn and matplotlib ship.

Example:
    >>> import torch
    >>> pairs = PairedData(torch.zeros(4, 1, 8, 8, dtype=torch.uint8),
    ...                    torch.zeros(4, 1, 8, 8, dtype=torch.uint8), "blank", crop=6)
    >>> target, source = pairs.sample(2, torch.Generator().manual_seed(0))
    >>> target.shape, source.shape
    (torch.Size([2, 1, 6, 6]), torch.Size([2, 1, 6, 6]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.data.digits import load_digits
from gankit.data.folder import IMAGE_EXTENSIONS, find_images, read_image
from gankit.data.images import ImageData, check_fits_in_memory, convert_channels, resize_images
from gankit.data.mnist import default_data_root, load_mnist
from gankit.errors import GankitError

_NAMES_IN_MESSAGES = 5
# CycleGAN's layout (trainA/, trainB/) is accepted beside the plain A/ and B/.
_DOMAIN_FOLDERS = (("A", "B"), ("trainA", "trainB"))


def _to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 127.5 - 1.0  # uint8 -> [-1, 1], the range tanh generators emit


def _check_images(images: torch.Tensor, what: str) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise GankitError(f"{what} must be uint8 images (N, C, H, W), got {shape}")
    if images.shape[1] not in (1, 3):
        raise GankitError(f"{what} must have 1 or 3 channels, got {images.shape[1]}")


def _crop_flip(
    images: torch.Tensor, crop: int, offsets: torch.Tensor, flips: torch.Tensor
) -> torch.Tensor:
    """Per-sample ``crop x crop`` windows at ``offsets`` (N, 2), mirrored where ``flips``."""
    windows = [
        img[:, top : top + crop, left : left + crop]
        for img, (top, left) in zip(images, offsets, strict=True)
    ]
    out = torch.stack(windows)
    if flips.any():
        out[flips] = out[flips].flip(-1)
    return out


@dataclass(frozen=True, eq=False)
class PairedData:
    """Aligned (source, target) image pairs in memory, uint8 (N, C, H, W) each.

    ``crop`` is the training size (random crops of it, jointly for a pair; ``None`` = the full
    image), ``flip`` mirrors both images of a pair at random. ``batch``/``sample`` return
    ``(target, source)`` in [-1, 1]: the real target first, its condition second, as the engine
    expects from conditional data. ``labels`` (optional, e.g. MNIST digits) serve evaluation.
    """

    sources: torch.Tensor
    targets: torch.Tensor
    name: str
    crop: int | None = None
    flip: bool = True
    labels: torch.Tensor | None = None

    conditional = True  # the engine passes real conditions to G in its step

    def __post_init__(self) -> None:
        where = f"paired dataset '{self.name}'"
        _check_images(self.sources, f"{where}: sources (A)")
        _check_images(self.targets, f"{where}: targets (B)")
        if len(self.sources) != len(self.targets):
            raise GankitError(
                f"{where}: {len(self.sources)} sources (A) but {len(self.targets)} targets (B); "
                "every source needs exactly one target"
            )
        if self.sources.shape[2:] != self.targets.shape[2:]:
            raise GankitError(
                f"{where}: sources are {tuple(self.sources.shape[2:])} pixels but targets are "
                f"{tuple(self.targets.shape[2:])}; pairs must have the same size"
            )
        if self.crop is not None and not 1 <= self.crop <= min(self.sources.shape[2:]):
            raise GankitError(
                f"{where}: crop {self.crop} must be between 1 and the image size "
                f"{min(self.sources.shape[2:])}"
            )

    def __len__(self) -> int:
        return self.sources.shape[0]

    @property
    def size(self) -> int:
        """Side of the images a batch holds (the crop, or the full square image)."""
        return self.crop or self.sources.shape[2]

    def _window(self, images: torch.Tensor) -> torch.Tensor:
        h, w = images.shape[2:]
        size = self.size
        top, left = (h - size) // 2, (w - size) // 2
        return images[:, :, top : top + size, left : left + size]

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(target, source)`` for ``index``: centre crop, no flip (deterministic)."""
        return (
            _to_float(self._window(self.targets[index])),
            _to_float(self._window(self.sources[index])),
        )

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random pairs, cropped and flipped jointly; all randomness from ``generator``."""
        index = torch.randint(len(self), (n,), generator=generator)
        h, w = self.sources.shape[2:]
        size = self.size
        offsets = torch.stack(
            [
                torch.randint(h - size + 1, (n,), generator=generator),
                torch.randint(w - size + 1, (n,), generator=generator),
            ],
            dim=1,
        )
        flips = torch.rand(n, generator=generator) < 0.5
        flips &= self.flip
        targets = _crop_flip(self.targets[index], size, offsets, flips)
        sources = _crop_flip(self.sources[index], size, offsets, flips)
        return _to_float(targets), _to_float(sources)


@dataclass(frozen=True, eq=False)
class UnpairedData:
    """Two unaligned image domains A and B of the same size, uint8 (N, C, S, S) each.

    A batch pairs A and B images at random and returns ``(x, x)`` with
    ``x = concat(a, b)`` along channels ``(B, Ca + Cb, S, S)``: the CycleGAN pair of generators
    reads both domains from the condition, and its pair of discriminators judges each half.
    Domains may differ in size and channels; ``len`` is the larger domain's size.
    """

    domain_a: torch.Tensor
    domain_b: torch.Tensor
    name: str
    flip: bool = False
    labels_a: torch.Tensor | None = None
    labels_b: torch.Tensor | None = None

    conditional = True

    def __post_init__(self) -> None:
        where = f"unpaired dataset '{self.name}'"
        _check_images(self.domain_a, f"{where}: domain A")
        _check_images(self.domain_b, f"{where}: domain B")
        if self.domain_a.shape[2:] != self.domain_b.shape[2:]:
            raise GankitError(
                f"{where}: domain A images are {tuple(self.domain_a.shape[2:])} pixels but "
                f"domain B images are {tuple(self.domain_b.shape[2:])}; load both at the same "
                "resolution"
            )
        if len(self.domain_a) == 0 or len(self.domain_b) == 0:
            raise GankitError(f"{where}: both domains need at least one image")

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    @property
    def channels(self) -> tuple[int, int]:
        """Channels of domain A and of domain B."""
        return self.domain_a.shape[1], self.domain_b.shape[1]

    @property
    def size(self) -> int:
        return self.domain_a.shape[2]

    def _pair(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([_to_float(a), _to_float(b)], dim=1)  # (B, Ca + Cb, S, S)
        return x, x

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A and B images at ``index`` (wrapped around the smaller domain), no flips."""
        return self._pair(
            self.domain_a[index % len(self.domain_a)], self.domain_b[index % len(self.domain_b)]
        )

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` independent A and B images (and flips) drawn from ``generator``."""
        a = self.domain_a[torch.randint(len(self.domain_a), (n,), generator=generator)]
        b = self.domain_b[torch.randint(len(self.domain_b), (n,), generator=generator)]
        flips = (torch.rand(2, n, generator=generator) < 0.5) & self.flip
        no_offset = torch.zeros(n, 2, dtype=torch.long)
        a = _crop_flip(a, self.size, no_offset, flips[0])
        b = _crop_flip(b, self.size, no_offset, flips[1])
        return self._pair(a, b)


# ----------------------------------------------------------------------------- reading folders


def _listed(names: list[str]) -> str:
    more = " ..." if len(names) > _NAMES_IN_MESSAGES else ""
    return ", ".join(names[:_NAMES_IN_MESSAGES]) + more


def _by_stem(root: Path) -> dict[str, Path]:
    """Image files below ``root`` keyed by relative path without extension (a.png ~ a.jpg)."""
    found: dict[str, Path] = {}
    for path in find_images(root):
        key = path.relative_to(root).with_suffix("").as_posix()
        if key in found:
            raise GankitError(
                f"'{root}' holds two images named '{key}' ({found[key].name} and {path.name}); "
                "keep one so the pairing is unambiguous"
            )
        found[key] = path
    return found


def square_resize(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 images (N, C, H, W): centre-crop the largest square, then resize to ``resolution``."""
    h, w = images.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize_images(images[..., top : top + side, left : left + side], resolution)


def _domain_folders(root: Path) -> tuple[Path, Path] | None:
    for a, b in _DOMAIN_FOLDERS:
        if (root / a).is_dir() and (root / b).is_dir():
            return root / a, root / b
    return None


def load_paired_folder(
    path: str | Path,
    resolution: int,
    channels: tuple[int, int] = (1, 1),
    crop: int | None = None,
    flip: bool = True,
) -> PairedData:
    """Pairs from ``path/A`` + ``path/B`` (same file names) or from side-by-side AB images.

    Each pair must have one size (checked, naming the files); it is centre-cropped to a square and
    resized to ``resolution``. ``channels`` are (source, target): 1 gray or 3 RGB. ``crop`` and
    ``flip`` set the training augmentation (see :class:`PairedData`).

    Example:
        >>> from PIL import Image
        >>> for side, colour in (("A", "white"), ("B", "navy")):
        ...     (tmp / "facades" / side).mkdir(parents=True)
        ...     for name in ("1.png", "2.png"):
        ...         Image.new("RGB", (40, 40), colour).save(tmp / "facades" / side / name)
        >>> pairs = load_paired_folder(tmp / "facades", 36, (3, 3), crop=32)
        >>> pairs.sources.shape, pairs.targets.shape
        (torch.Size([2, 3, 36, 36]), torch.Size([2, 3, 36, 36]))
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise GankitError(
            f"paired data folder '{root}' does not exist; pass a folder holding A/ and B/ with "
            "matching file names, or side-by-side AB images"
        )
    for c in channels:
        if c not in (1, 3):
            raise GankitError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
    folders = _domain_folders(root)
    if folders is not None:
        pairs = _read_ab_folders(*folders, channels)
    else:
        pairs = _read_side_by_side(root, channels)
    check_fits_in_memory(len(pairs), sum(channels), (resolution, resolution), f"'{root}'")
    sources = torch.stack([square_resize(a[None], resolution)[0] for a, _ in pairs])
    targets = torch.stack([square_resize(b[None], resolution)[0] for _, b in pairs])
    return PairedData(sources, targets, root.resolve().name, crop=crop, flip=flip)


def _read_ab_folders(
    folder_a: Path, folder_b: Path, channels: tuple[int, int]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    files_a, files_b = _by_stem(folder_a), _by_stem(folder_b)
    only_a = sorted(set(files_a) - set(files_b))
    only_b = sorted(set(files_b) - set(files_a))
    if only_a or only_b:
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} in {folder_a.name}/ only ({_listed(only_a)})")
        if only_b:
            parts.append(f"{len(only_b)} in {folder_b.name}/ only ({_listed(only_b)})")
        raise GankitError(
            f"paired folders '{folder_a}' and '{folder_b}' must hold the same file names; "
            f"unmatched: {'; '.join(parts)}. Add the missing partners or remove those files"
        )
    if not files_a:
        raise GankitError(
            f"'{folder_a}' and '{folder_b}' hold no images ({', '.join(IMAGE_EXTENSIONS)})"
        )
    pairs = []
    mismatched = []
    for key in sorted(files_a):
        a = read_image(files_a[key], channels[0])
        b = read_image(files_b[key], channels[1])
        if a.shape[1:] != b.shape[1:]:
            mismatched.append(f"{key}: {a.shape[2]}x{a.shape[1]} vs {b.shape[2]}x{b.shape[1]}")
        pairs.append((a, b))
    if mismatched:
        raise GankitError(
            f"{len(mismatched)} pair(s) in '{folder_a.parent}' differ in size (width x height, A "
            f"vs B): {_listed(mismatched)}; a source and its target must be aligned pixel for "
            "pixel, so resize them to the same size first"
        )
    return pairs


def _read_side_by_side(
    root: Path, channels: tuple[int, int]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    paths = find_images(root)
    if not paths:
        raise GankitError(
            f"'{root}' holds neither A/ and B/ folders nor side-by-side AB images; pass a folder "
            "with A/ and B/ (matching file names) or with images whose left half is the source "
            "and right half the target"
        )
    pairs = []
    odd = []
    for path in paths:
        # Read in the richer mode once so the halves can take different channel counts.
        image = read_image(path, 3 if 3 in channels else 1)
        width = image.shape[2]
        if width % 2:
            odd.append(f"{path.relative_to(root).as_posix()} ({width} px wide)")
            continue
        left, right = image[:, :, : width // 2], image[:, :, width // 2 :]
        pairs.append(
            (
                convert_channels(left[None], channels[0])[0],
                convert_channels(right[None], channels[1])[0],
            )
        )
    if odd:
        raise GankitError(
            f"side-by-side images in '{root}' must have an even width (source left, target "
            f"right, equal halves); odd widths: {_listed(odd)}"
        )
    return pairs


def load_unpaired_folders(
    path_a: str | Path,
    path_b: str | Path,
    resolution: int,
    channels: tuple[int | None, int | None] = (None, None),
    flip: bool = False,
) -> UnpairedData:
    """Two domains from two image folders (any names, any counts), both at ``resolution``.

    Example:
        >>> from PIL import Image
        >>> for folder, count in (("horses", 3), ("zebras", 2)):
        ...     (tmp / folder).mkdir()
        ...     for i in range(count):
        ...         Image.new("RGB", (40, 30), "tan").save(tmp / folder / f"{i}.png")
        >>> data = load_unpaired_folders(tmp / "horses", tmp / "zebras", 16)
        >>> data.domain_a.shape, data.domain_b.shape
        (torch.Size([3, 3, 16, 16]), torch.Size([2, 3, 16, 16]))
    """
    from gankit.data import open_dataset

    a = open_dataset(str(path_a), resolution, channels[0])
    b = open_dataset(str(path_b), resolution, channels[1])
    return _unpaired(a, b, f"{a.name}-{b.name}", flip)


def _unpaired(a: ImageData, b: ImageData, name: str, flip: bool) -> UnpairedData:
    return UnpairedData(a.images, b.images, name, flip, a.labels, b.labels)


# ----------------------------------------------------------------------------- built-in pairs


def canny_edges(images: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Canny edge maps (scikit-image) of uint8 gray images (N, 1, H, W), as uint8 0/255.

    Example:
        >>> square = torch.zeros(1, 1, 16, 16, dtype=torch.uint8)
        >>> square[..., 4:12, 4:12] = 255
        >>> int(canny_edges(square).max())
        255
    """
    from skimage.feature import canny

    if images.dim() != 4 or images.shape[1] != 1:
        raise GankitError(
            f"canny_edges expects gray images (N, 1, H, W), got {tuple(images.shape)}"
        )
    pixels = images[:, 0].numpy().astype(np.float64) / 255.0
    edges = np.stack([canny(image, sigma=sigma) for image in pixels])
    return torch.from_numpy(edges.astype(np.uint8) * 255).unsqueeze(1)


def mnist_edges(
    split: str = "train", limit: int | None = None, root: Path | None = None
) -> PairedData:
    """MNIST digits (B, 32 px, zero-padded) and their Canny edges (A): edges -> digit.

    ``limit`` keeps the first ``limit`` images, for quick runs: the edge detector's cost grows
    with the digits (docs/translate.md, "Data").

    Example:
        >>> pairs = mnist_edges("test", limit=8, root=mnist_dir)
        >>> pairs.sources.shape, pairs.targets.shape
        (torch.Size([8, 1, 32, 32]), torch.Size([8, 1, 32, 32]))
    """
    digits = _mnist(split, root)
    images, labels = digits.images, digits.labels
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return PairedData(
        canny_edges(images), images, f"mnist-edges-{split}", flip=False, labels=labels
    )


def _mnist(split: str, root: Path | None) -> ImageData:
    root = root or default_data_root() / "mnist"
    if not root.is_dir():
        raise GankitError(
            f"MNIST is looked for in '{root}', which does not exist; set GANKIT_DATA to the "
            "folder that holds mnist/"
        )
    return load_mnist(root, split, 32)


def digits_mnist(split: str = "train", root: Path | None = None) -> UnpairedData:
    """Domain A: the 1,797 scikit-learn 8x8 digits enlarged to 32 px; domain B: MNIST at 32 px.

    Both keep their labels so class preservation can be measured. The digits fill their frame
    with thick, blurry strokes; MNIST digits sit in a 20-px box with a margin: a real domain gap.
    """
    return _unpaired(load_digits(32), _mnist(split, root), "digits-mnist", flip=False)


# The colour photographs among gankit.data.superres.TRAINING_IMAGES (gray ones teach no colour).
COLOUR_PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "motorcycle", "china", "flower", "grace_hopper",
)  # fmt: skip
_TILES_PER_SIDE = 8  # photos are shrunk so their short side holds 8 tiles


def photos_colour(split: str = "train", tile: int = 32) -> PairedData:
    """Gray -> colour on tiles of the colour photographs installed packages ship.

    A is the ITU-R 601 luma of a tile, B the RGB tile. Each photograph of :data:`COLOUR_PHOTOS`
    is shrunk (antialiased) so its short side is ``8 * tile`` pixels, enough scene in one tile to
    tell sky from skin. The bottom row of tiles of every photo is the ``"test"`` split (side by
    side, no overlap); ``"train"`` tiles cover the rest with half-tile strides, and never reach
    into the test rows.

    Example:
        >>> pairs = photos_colour("test")
        >>> pairs.sources.shape[1:], pairs.targets.shape[1:]
        (torch.Size([1, 32, 32]), torch.Size([3, 32, 32]))
    """
    from gankit.data.superres import training_images

    if split not in ("train", "test"):
        raise GankitError(f"photos-colour split must be 'train' or 'test', got {split!r}")
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 8:
        raise GankitError(f"photos-colour tile must be an integer of at least 8 px, got {tile!r}")
    tiles = []
    for photo in training_images(list(COLOUR_PHOTOS)):
        h, w = photo.shape[1:]
        short = _TILES_PER_SIDE * tile
        size = (short, round(w * short / h)) if h <= w else (round(h * short / w), short)
        photo = resize_images(photo[None], size)[0]
        test_top = size[0] - tile
        if split == "test":
            tiles += [photo[:, test_top:, x : x + tile] for x in range(0, size[1] - tile + 1, tile)]
        else:
            stride = tile // 2
            tiles += [
                photo[:, y : y + tile, x : x + tile]
                for y in range(0, test_top - tile + 1, stride)
                for x in range(0, size[1] - tile + 1, stride)
            ]
    targets = torch.stack(tiles)
    return PairedData(
        convert_channels(targets, 1), targets, f"photos-colour-{split}", flip=split == "train"
    )


# name -> loader for built-in data (no path needed).
PAIRED_DATASETS: dict[str, Callable[[], PairedData]] = {
    "mnist-edges": mnist_edges,
    "photos-colour": photos_colour,
}
UNPAIRED_DATASETS: dict[str, Callable[[], UnpairedData]] = {"digits-mnist": digits_mnist}
