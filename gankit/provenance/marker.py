"""The marker: an encoder/decoder pair, trained end to end through the attacks, that hides 48 bits
in an image's luma and reads them back after everyday handling.

The design is HiDDeN's training recipe (encoder, a noise layer of attacks, decoder, trained on
bits) on a spread-spectrum structure that makes it learn in minutes on a CPU and read any size:

- **encoder**: each bit owns a learned ``tile x tile`` carrier; the residual is the sum of the
  carriers signed by the bits, repeated over the image and scaled so that every image gets
  exactly the chosen PSNR (before rounding to uint8): the strength is a setting, not something
  training drifts.
- **decoder**: a learned filter suppresses the image content, the filtered image is folded onto one
  tile (every tile added up: a 256 px image averages 64 copies of the mark), and the fold is
  cross-correlated with every carrier at every cyclic shift (FFT). The shift where the carriers
  agree best is where the tiles start, so a crop, which moves that point, costs nothing but the
  lost pixels; the correlations there, in units of their spread, are the bits' logits.

(A plain HiDDeN encoder/decoder with global pooling did not start learning within 300 steps on
this machine; this structure reads the bits from step 0 and training makes it robust.)

Colour images carry the mark in luma: the same residual is added to R, G and B, which leaves the
chroma (Cb, Cr) unchanged exactly because their weights sum to zero.

Example:
    >>> marker = Marker(MarkerConfig())
    >>> luma = torch.rand(2, 1, 32, 32)
    >>> bits = torch.randint(0, 2, (2, 48))
    >>> marker.residual(luma, bits).shape, marker.decode(luma).shape
    (torch.Size([2, 1, 32, 32]), torch.Size([2, 48]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import from_dict, to_dict
from gankit.errors import GankitError
from gankit.io import load_module, read_json, save_module, write_json

from .keys import PAYLOAD_BITS

MARKER_WEIGHTS = "marker.safetensors"
MARKER_CONFIG = "marker.json"
# Shorter sides than this cannot hold a mark the decoder can read reliably (nor leave the
# detector's last feature map more than a pixel or two).
MIN_SIDE = 16


@dataclass(frozen=True)
class MarkerConfig:
    """The marker's shape and the strength it embeds at.

    ``psnr`` is the PSNR (dB) of a marked image against the unmarked one before uint8 rounding;
    ``tile`` the side of the repeated pattern; ``filter`` the side of the decoder's content filter;
    ``seed`` draws the initial carriers.
    """

    bits: int = PAYLOAD_BITS
    tile: int = 32
    filter: int = 5
    psnr: float = 39.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.bits < 1 or self.tile < 8 or self.filter < 1 or self.filter % 2 == 0:
            raise ValueError("bits must be positive, tile at least 8, filter a positive odd size")


def _initial_carriers(config: MarkerConfig) -> torch.Tensor:
    """Random orthogonal carriers (bits, tile, tile) in the band JPEG and halving leave: 1/16-1/4
    cycles per pixel, unit RMS."""
    gen = torch.Generator().manual_seed(config.seed)
    noise = torch.randn(config.bits, config.tile, config.tile, generator=gen)
    freq = torch.fft.fftfreq(config.tile)
    radius = (freq[:, None] ** 2 + freq[None, :] ** 2).sqrt()
    band = ((radius >= 1 / 16) & (radius <= 1 / 4)).float()
    carriers = torch.fft.ifft2(torch.fft.fft2(noise) * band).real
    # Orthogonal (still in the band: combinations of in-band patterns), so that unshifted
    # carriers do not leak into each other's correlation; unit RMS.
    basis, _ = torch.linalg.qr(carriers.reshape(config.bits, -1).T)
    return basis.T.reshape(carriers.shape) * config.tile


def _initial_filter(size: int) -> torch.Tensor:
    """A high-pass filter (1, 1, size, size): the pixel minus its neighbourhood's mean."""
    weights = torch.full((1, 1, size, size), -1.0 / (size * size))
    weights[0, 0, size // 2, size // 2] += 1.0
    return weights


class Marker(nn.Module):
    """Encoder (bits -> residual) and decoder (image -> bit logits) on luma in [0, 1]."""

    def __init__(self, config: MarkerConfig = MarkerConfig()) -> None:
        super().__init__()
        self.config = config
        self.carriers = nn.Parameter(_initial_carriers(config))
        self.content_filter = nn.Parameter(_initial_filter(config.filter))
        # Logits are correlation z-scores times this (learned: the decoder's confidence).
        self.temperature = nn.Parameter(torch.tensor(1.0))

    def pattern(self, bits: torch.Tensor, size: tuple[int, int], phase=(0, 0)) -> torch.Tensor:
        """The bits' tile (N, 1, H, W) repeated over ``size`` (H, W), ``phase`` pixels in."""
        tile = self.config.tile
        signs = bits.float() * 2 - 1
        one = torch.einsum("nb,bhw->nhw", signs, self.carriers).unsqueeze(1)
        height, width = size
        reps = (math.ceil((height + phase[0]) / tile), math.ceil((width + phase[1]) / tile))
        tiled = one.repeat(1, 1, *reps)
        return tiled[:, :, phase[0] : phase[0] + height, phase[1] : phase[1] + width]

    def residual(
        self, luma: torch.Tensor, bits: torch.Tensor, psnr: float | None = None, phase=(0, 0)
    ) -> torch.Tensor:
        """What to add to ``luma`` (N, 1, H, W in [0, 1]) to carry ``bits`` (N, 48 of 0/1), scaled
        so that each image's PSNR is ``psnr`` (default: the config's)."""
        pattern = self.pattern(bits, luma.shape[-2:], phase)
        rms = pattern.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-8)
        target = 10 ** (-(self.config.psnr if psnr is None else psnr) / 20)
        return pattern / rms * target

    def correlations(self, luma: torch.Tensor) -> torch.Tensor:
        """Cross-correlation (N, bits, tile, tile) of the filtered, folded image with every
        carrier at every cyclic shift."""
        tile = self.config.tile
        # Replicated edges: zero padding would make every border a strong edge to the filter.
        pad = self.config.filter // 2
        filtered = F.conv2d(
            F.pad(luma, (pad, pad, pad, pad), mode="replicate"), self.content_filter
        )
        height, width = filtered.shape[-2:]
        # (N, 1, H, W) -> zero-padded to whole tiles -> (N, H/T, T, W/T, T) -> summed: (N, T, T)
        filtered = F.pad(filtered, (0, -width % tile, 0, -height % tile))
        n, _, rows, cols = filtered.shape
        folded = filtered.view(n, rows // tile, tile, cols // tile, tile).sum(dim=(1, 3))
        spectrum = torch.fft.fft2(folded).unsqueeze(1) * torch.fft.fft2(self.carriers).conj()
        return torch.fft.ifft2(spectrum).real

    def scores(self, luma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Correlation z-scores (N, bits, T*T) at every shift, and each shift's energy (N, T*T):
        the sum of the squared z-scores, largest where the tiles start."""
        corr = self.correlations(luma)  # (N, bits, T, T)
        flat = corr.reshape(*corr.shape[:2], -1)
        z = flat / flat.std(dim=(1, 2), keepdim=True).clamp_min(1e-12)
        return z, z.pow(2).sum(dim=1)

    def decode(self, luma: torch.Tensor) -> torch.Tensor:
        """Bit logits (N, 48) of luma images (N, 1, H, W in [0, 1]); > 0 reads as a 1."""
        z, energy = self.scores(luma)
        n, bits = z.shape[:2]
        shift = energy.argmax(dim=1)  # where the tiles start, found by all carriers together
        at_shift = z.gather(2, shift.view(n, 1, 1).expand(n, bits, 1)).squeeze(2)
        return at_shift * self.temperature


def save_marker(marker: Marker, folder: str | Path) -> None:
    """Write ``marker.json`` and ``marker.safetensors`` into ``folder``."""
    folder = Path(folder)
    save_module(marker, folder / MARKER_WEIGHTS)
    write_json(folder / MARKER_CONFIG, to_dict(marker.config))


def load_marker(folder: str | Path | None = None) -> Marker:
    """The marker in ``folder`` (default: the one shipped with gankit), in eval mode."""
    if folder is None:
        with resources.as_file(resources.files(__package__)) as package:
            return load_marker(package)
    folder = Path(folder)
    if not (folder / MARKER_CONFIG).is_file():
        raise GankitError(
            f"{folder} holds no marker ({MARKER_CONFIG} missing); train one with "
            "bench/provenance_marker.py or leave the marker unset to use gankit's own"
        )
    config = from_dict(MarkerConfig, read_json(folder / MARKER_CONFIG), "marker setting")
    marker = Marker(config)
    load_module(marker, folder / MARKER_WEIGHTS)
    return marker.eval()


def luma_of(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) uint8 images (C 1 or 3) -> (N, 1, H, W) float luma in [0, 1]."""
    from gankit.imageops import to_gray

    return to_gray(images.float() / 255)


def check_images(images: torch.Tensor, reader: str = "a provenance mark") -> None:
    """Refuse what ``reader`` (the marker, or the detector) cannot read: not uint8
    (N, 1|3, H, W), or a side under :data:`MIN_SIDE` pixels."""
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        raise GankitError(
            f"{reader} needs uint8 images of shape (N, C, H, W); got "
            f"{getattr(images, 'dtype', type(images).__name__)} "
            f"{tuple(getattr(images, 'shape', ()))}"
        )
    if images.shape[1] not in (1, 3):
        raise GankitError(f"images must have 1 (gray) or 3 (RGB) channels, got {images.shape[1]}")
    if min(images.shape[-2:]) < MIN_SIDE:
        raise GankitError(
            f"images of {images.shape[-1]}x{images.shape[-2]} pixels are too small for {reader}; "
            f"the shorter side must be at least {MIN_SIDE} pixels"
        )
