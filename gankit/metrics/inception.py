"""FID's Inception-v3 (pool3, 2048-d features), loaded only from a local safetensors file.

FID numbers are comparable across papers only through the *same* network: the TensorFlow
Inception graph of 2015-12-05 that the original FID code (TTUR) used, fed the same way. This
module rebuilds that network the way torch-fidelity and pytorch-fid do (torchvision's
Inception-v3 with the TF graph's quirks: average pools that ignore padding, a max pool in the
last block, batch-norm eps 1e-3, 1008 logits) and the input protocol of torch-fidelity:

    uint8 RGB (gray repeated to 3 channels) -> TF1 bilinear resize to 299 x 299
    (align_corners=False, no half-pixel shift, no antialias) -> (x - 128) / 128

With the same weights, the features (and so FID) match torch-fidelity's ``inception-v3-compat``
extractor; pytorch-fid resizes with ``F.interpolate`` instead, so its numbers differ slightly.

Nothing is downloaded. Users convert the published ``.pth`` once with
``gankit extractor convert-inception SRC.pth OUT.safetensors`` (a restricted ``weights_only`` load
that cannot run code) and pass ``--inception-weights OUT.safetensors``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from pickle import UnpicklingError

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError
from gankit.io import check_state, load_tensors, save_tensors
from gankit.viz import to_uint8

KIND = "inception-v3-fid"
RESIZE_MODE = "tf1-bilinear-299"
INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_LOGITS = 1008  # the 2015 TF graph's 1000 ImageNet classes + 8 unused
INPUT_PROTOCOL = f"uint8 RGB (gray repeated) -> {RESIZE_MODE} -> (x-128)/128"
# Images per forward pass: Inception at 299 px holds ~30 MB of activations per image.
_CHUNK = 32

_HOW_TO_GET = (
    "download the FID Inception weights yourself (pytorch-fid's pt_inception-2015-12-05-"
    "6726825d.pth or torch-fidelity's weights-inception-2015-12-05-6726825d.pth, from their "
    "GitHub releases), convert them once with `gankit extractor convert-inception SRC.pth "
    "OUT.safetensors`, then pass --inception-weights OUT.safetensors"
)


def tf1_bilinear_resize(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """Resize float (N, C, H, W) images to ``size`` x ``size`` as TensorFlow 1.x did.

    TF1's ``resize_bilinear(align_corners=False)`` samples output pixel ``i`` at input position
    ``i * in / out`` (no half-pixel centre shift, unlike ``F.interpolate``) and never smooths
    when shrinking. FID's reference statistics were computed this way, so we resize the same.

    Example:
        >>> tf1_bilinear_resize(torch.zeros(2, 3, 28, 28)).shape
        torch.Size([2, 3, 299, 299])
    """
    if not images.is_floating_point() or images.dim() != 4:
        raise GankitError(
            f"tf1_bilinear_resize takes float (N, C, H, W), got {images.dtype} "
            f"{tuple(images.shape)}"
        )

    def sample_points(in_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # Positions computed in float32 as TF1 does; float64 would move some by one ulp.
        scale = torch.tensor(in_size / size, dtype=torch.float32)
        position = torch.arange(size, dtype=images.dtype, device=images.device) * scale
        low = position.long()
        high = (low + 1).clamp_max(in_size - 1)
        return low, high, position - low.float()

    y_low, y_high, dy = sample_points(images.shape[2])
    x_low, x_high, dx = sample_points(images.shape[3])
    rows_low = images.index_select(2, y_low)
    rows_high = images.index_select(2, y_high)
    dx = dx.view(1, 1, 1, size)
    top = rows_low[..., x_low] + (rows_low[..., x_high] - rows_low[..., x_low]) * dx
    bottom = rows_high[..., x_low] + (rows_high[..., x_high] - rows_high[..., x_low]) * dx
    return top + (bottom - top) * dy.view(1, 1, size, 1)


class _FrozenBatchNorm(nn.Module):
    """Batch norm with fixed statistics: the four tensors of the TF graph, nothing to train.

    A plain ``nn.BatchNorm2d`` would add a ``num_batches_tracked`` counter that the published
    weights do not all carry; this keeps the strict key check exact.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        for name, value in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0)):
            self.register_buffer(name, torch.full((channels,), value))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, 1e-3
        )


class _Conv(nn.Module):
    """Convolution without bias -> frozen batch norm -> ReLU (torchvision's BasicConv2d)."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, bias=False, **kwargs)
        self.bn = _FrozenBatchNorm(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_3x3(x: torch.Tensor) -> torch.Tensor:
    # TF's average pool divides by the number of real pixels under the window, not by 9.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _BlockA(nn.Module):
    """35 x 35 block (Mixed_5b-d): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(cin, 64, 1)
        self.branch5x5_1 = _Conv(cin, 48, 1)
        self.branch5x5_2 = _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, padding=1)
        self.branch_pool = _Conv(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pool = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([self.branch1x1(x), b5, b3, pool], 1)


class _BlockB(nn.Module):
    """35 -> 17 reduction (Mixed_6a): 3x3/2 | 1x1-3x3-3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = _Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockC(nn.Module):
    """17 x 17 block (Mixed_6b-e) with factorised 7x7 convolutions (1x7 then 7x1)."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        row, col = {"padding": (0, 3)}, {"padding": (3, 0)}
        self.branch1x1 = _Conv(cin, 192, 1)
        self.branch7x7_1 = _Conv(cin, c7, 1)
        self.branch7x7_2 = _Conv(c7, c7, (1, 7), **row)
        self.branch7x7_3 = _Conv(c7, 192, (7, 1), **col)
        self.branch7x7dbl_1 = _Conv(cin, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), **col)
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), **row)
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), **col)
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), **row)
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7dbl = self.branch7x7dbl_1(x)
        for conv in (
            self.branch7x7dbl_2,
            self.branch7x7dbl_3,
            self.branch7x7dbl_4,
            self.branch7x7dbl_5,
        ):
            b7dbl = conv(b7dbl)
        pool = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([self.branch1x1(x), b7, b7dbl, pool], 1)


class _BlockD(nn.Module):
    """17 -> 8 reduction (Mixed_7a): 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = _Conv(cin, 192, 1)
        self.branch3x3_2 = _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _Conv(cin, 192, 1)
        self.branch7x7x3_2 = _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for conv in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = conv(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockE(nn.Module):
    """8 x 8 block (Mixed_7b, 7c) whose 3x3s split into parallel 1x3 and 3x1 halves.

    The TF graph's last block (Mixed_7c) pools with a 3x3 *max* pool where the paper and
    torchvision average; FID's reference numbers carry that quirk, so ``max_pool`` keeps it.
    """

    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        row, col = {"padding": (0, 1)}, {"padding": (1, 0)}
        self.branch1x1 = _Conv(cin, 320, 1)
        self.branch3x3_1 = _Conv(cin, 384, 1)
        self.branch3x3_2a = _Conv(384, 384, (1, 3), **row)
        self.branch3x3_2b = _Conv(384, 384, (3, 1), **col)
        self.branch3x3dbl_1 = _Conv(cin, 448, 1)
        self.branch3x3dbl_2 = _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _Conv(384, 384, (1, 3), **row)
        self.branch3x3dbl_3b = _Conv(384, 384, (3, 1), **col)
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3dbl = torch.cat([self.branch3x3dbl_3a(b3dbl), self.branch3x3dbl_3b(b3dbl)], 1)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool_3x3(x)
        return torch.cat([self.branch1x1(x), b3, b3dbl, self.branch_pool(pooled)], 1)


class InceptionV3FID(nn.Module):
    """FID's Inception-v3; ``forward`` maps (B, 3, H, W) pixels in [0, 255] to (B, 2048).

    Parameter names follow torchvision / pytorch-fid / torch-fidelity, so their published weights
    load after :func:`convert_inception_weights`. ``fc`` (1008 logits) is kept so that ImageNet
    Inception weights (1000 logits), which give different features, fail the shape check.

    Example:
        >>> model = InceptionV3FID()                  # random weights; load real ones for FID
        >>> pixels = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
        >>> model(pixels).shape
        torch.Size([2, 2048])
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = _Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _Conv(80, 192, 3)
        self.Mixed_5b = _BlockA(192, pool_features=32)
        self.Mixed_5c = _BlockA(256, pool_features=64)
        self.Mixed_5d = _BlockA(288, pool_features=64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, c7=128)
        self.Mixed_6c = _BlockC(768, c7=160)
        self.Mixed_6d = _BlockC(768, c7=160)
        self.Mixed_6e = _BlockC(768, c7=192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, NUM_LOGITS)
        self.requires_grad_(False)
        self.eval()

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = tf1_bilinear_resize(pixels.to(self.fc.weight), INPUT_SIZE)  # (B, 3, 299, 299)
        x = (x - 128) / 128
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # (B, 64, 147, 147)
        x = F.max_pool2d(x, 3, stride=2)  # (B, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))  # (B, 192, 71, 71)
        x = F.max_pool2d(x, 3, stride=2)  # (B, 192, 35, 35)
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))  # (B, 288, 35, 35)
        x = self.Mixed_6a(x)  # (B, 768, 17, 17)
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))  # (B, 2048, 8, 8)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)  # pool3: (B, 2048)


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """(N, 1 or 3, H, W) gankit images -> uint8 RGB pixels, the protocol's input.

    Float images are generator output in [-1, 1] and are quantised as PNG samples are
    (:func:`gankit.viz.to_uint8`); uint8 images pass through; gray is repeated to RGB.

    Example:
        >>> to_pixels(torch.zeros(1, 1, 4, 4)).shape, to_pixels(torch.zeros(1, 1, 4, 4)).dtype
        (torch.Size([1, 3, 4, 4]), torch.uint8)
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
        raise GankitError(
            f"the Inception extractor takes (N, 1, H, W) gray or (N, 3, H, W) RGB images, "
            f"got {shape}"
        )
    pixels = images if images.dtype == torch.uint8 else to_uint8(images)
    return pixels.expand(-1, 3, -1, -1)


def _weights_error(path: Path, problem: str) -> GankitError:
    return GankitError(f"{path}: {problem}; {_HOW_TO_GET}")


def load_inception(path: str | os.PathLike | None) -> InceptionV3FID:
    """Build :class:`InceptionV3FID` with weights from a local ``.safetensors`` file.

    The file must hold exactly the network's tensors (names, shapes, dtypes); nothing is ever
    downloaded and no pickle is ever opened.

    Example:
        >>> model = load_inception(inception_weights)  # e.g. "weights/inception-fid.safetensors"
    """
    if path is None:
        raise GankitError(
            "the Inception extractor needs a local weights file and never downloads one: "
            + _HOW_TO_GET
        )
    path = Path(path)
    if not path.is_file():
        raise _weights_error(path, "Inception weights file not found")
    if path.suffix in (".pth", ".pt", ".pkl", ".bin"):
        raise _weights_error(
            path, "gankit loads only .safetensors weights (a pickle can run code on load)"
        )
    model = InceptionV3FID()
    found = load_tensors(path)
    try:
        check_state(model.state_dict(), found, str(path))
    except GankitError as err:
        raise _weights_error(path, f"not FID Inception-v3 weights ({err})") from None
    model.load_state_dict(found)
    return model


def inception_features(model: InceptionV3FID, images: torch.Tensor) -> torch.Tensor:
    """(N, 2048) pool3 features of gankit images ([-1, 1] float or uint8, gray or RGB).

    Example:
        >>> fake_images = torch.rand(2, 1, 16, 16) * 2 - 1
        >>> inception_features(load_inception(inception_weights), fake_images).shape
        torch.Size([2, 2048])
    """
    pixels = to_pixels(images)
    with torch.no_grad():
        return torch.cat([model(chunk) for chunk in pixels.split(_CHUNK)])


def _read_pickled_state(src: Path) -> Mapping[str, object]:
    """``torch.load`` with the restricted unpickler: tensors and containers only, never code."""
    if not src.is_file():
        raise GankitError(f"{src} not found; pass the .pth file you downloaded")
    try:
        state = torch.load(src, map_location="cpu", weights_only=True)
    except UnpicklingError as err:
        # Keep only the unpickler's finding: torch's full text suggests weights_only=False.
        detail = str(err).partition("WeightsUnpickler error:")[2]
        detail = " ".join(detail.split("Check the documentation")[0].split(". Please")[0].split())
        raise GankitError(
            f"{src} was refused by the safe loader, which accepts only tensors and plain "
            f"containers ({detail or type(err).__name__}); gankit never runs code from a weights "
            "file. The published FID Inception .pth is a plain state dict: if this is it, the "
            "download is damaged, get it again"
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        raise GankitError(f"{src} is not a readable PyTorch weights file ({err})") from None
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise GankitError(f"{src} holds a {type(state).__name__}, not a state dict of tensors")
    return state


def convert_inception_weights(src: str | os.PathLike, out: str | os.PathLike) -> InceptionV3FID:
    """Convert torch-fidelity's / pytorch-fid's FID Inception ``.pth`` to ``.safetensors``.

    The ``.pth`` is read with ``torch.load(weights_only=True)``, whose unpickler accepts only
    tensors and plain containers and refuses anything that would run code. Batch-norm
    ``num_batches_tracked`` counters and a DataParallel ``module.`` prefix are dropped; every
    other tensor must match the network exactly before ``out`` is written (atomically).

    Example:
        >>> src = "pt_inception-2015-12-05-6726825d.pth"  # pytorch-fid's published weights
        >>> convert_inception_weights(src, "fid.safetensors")  # absent here  # doctest: +SKIP
    """
    src, out = Path(src), Path(out)
    if out.suffix != ".safetensors":
        raise GankitError(f"{out}: name the converted file *.safetensors")
    tensors: dict[str, torch.Tensor] = {}
    for name, value in _read_pickled_state(src).items():
        name = str(name).removeprefix("module.")
        if name.endswith("num_batches_tracked"):
            continue  # a training counter; frozen batch norm has no use for it
        if not isinstance(value, torch.Tensor):
            raise GankitError(f"{src}: entry {name!r} is a {type(value).__name__}, not a tensor")
        tensors[name] = value
    model = InceptionV3FID()
    try:
        check_state(model.state_dict(), tensors, str(src))
    except GankitError as err:
        fc = tensors.get("fc.weight")
        hint = (
            "; these look like torchvision's ImageNet Inception-v3 (1000 classes), which is "
            "not the network FID uses"
            if fc is not None and fc.shape[0] == 1000
            else ""
        )
        raise GankitError(f"{err}{hint}. {_HOW_TO_GET}") from None
    model.load_state_dict(tensors)
    save_tensors(out, model.state_dict())
    return model
