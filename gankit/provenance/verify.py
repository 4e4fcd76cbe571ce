"""Marking images with a key, and verifying marks: matching bits, a p-value and a decision.

An image verifies against a key when at least :func:`threshold` of the 48 bits read from it
match the key's payload. Under the null hypothesis (an unmarked image, or one marked with another
key) each read bit matches with probability 1/2, independently, so the number of matches is
Binomial(48, 1/2) and its upper tail is the p-value: the chance that an unmarked image matches at
least that well. The threshold for a false-positive rate ``fpr`` is the smallest count whose tail
is at most ``fpr`` (41 of 48 at 1e-6, the count Stable Signature uses).

Example:
    >>> threshold(1e-6), round(p_value(48), 17)
    (41, 3.55e-15)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from gankit.errors import GankitError

from .keys import PAYLOAD_BITS, payload
from .marker import Marker, check_images, load_marker, luma_of

DEFAULT_FPR = 1e-6
# Images per forward pass: bounds memory for large batches of large images.
_CHUNK = 64
_shipped: Marker | None = None


def _marker(marker: Marker | None) -> Marker:
    """``marker``, or gankit's shipped one (loaded once)."""
    global _shipped
    if marker is not None:
        return marker
    if _shipped is None:
        _shipped = load_marker()
    return _shipped


def p_value(matches: int, bits: int = PAYLOAD_BITS) -> float:
    """P(Binomial(bits, 1/2) >= matches): how often an unmarked image matches this well."""
    return sum(math.comb(bits, k) for k in range(matches, bits + 1)) / 2**bits


def threshold(fpr: float = DEFAULT_FPR, bits: int = PAYLOAD_BITS) -> int:
    """The fewest matching bits that decide "marked" at false-positive rate ``fpr``."""
    if not 0 < fpr < 1:
        raise GankitError(f"the false-positive rate must be between 0 and 1, got {fpr!r}")
    for matches in range(bits + 1):
        if p_value(matches, bits) <= fpr:
            return matches
    raise GankitError(f"no decision reaches a false-positive rate of {fpr} with {bits} bits")


def mark(
    images: torch.Tensor,
    key: str | bytes,
    *,
    psnr: float | None = None,
    marker: Marker | None = None,
) -> torch.Tensor:
    """``images`` (uint8 (N, C, H, W), C 1 or 3, sides >= 16) carrying ``key``'s 48-bit payload.

    ``psnr`` sets the strength (default: the marker's, 39 dB): lower is louder and more robust.
    The PSNR against the unmarked image is at least ``psnr``, up to uint8 rounding.
    """
    check_images(images)
    marker = _marker(marker)
    bits = payload(key).unsqueeze(0)
    marked = []
    with torch.no_grad():
        for chunk in images.split(_CHUNK):
            residual = marker.residual(luma_of(chunk), bits.expand(len(chunk), -1), psnr)
            # The same residual on R, G and B: luma changes by it, chroma not at all.
            out = (chunk.float() + residual * 255).round().clamp(0, 255)
            marked.append(out.to(torch.uint8))
    return torch.cat(marked)


def read_bits(images: torch.Tensor, *, marker: Marker | None = None) -> torch.Tensor:
    """The 48 bits (uint8 (N, 48)) the marker reads from ``images``."""
    check_images(images)
    marker = _marker(marker)
    with torch.no_grad():
        logits = torch.cat([marker.decode(luma_of(chunk)) for chunk in images.split(_CHUNK)])
    return (logits > 0).to(torch.uint8)


@dataclass(frozen=True)
class Verdict:
    """What verifying one image against a key found."""

    matches: int  # bits that agree with the key's payload, of ``bits``
    bits: int
    p_value: float  # P(an unmarked image matches at least as well)
    threshold: int  # matches needed at the chosen false-positive rate
    fpr: float
    marked: bool  # matches >= threshold

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def verify(
    images: torch.Tensor,
    key: str | bytes,
    *,
    fpr: float = DEFAULT_FPR,
    marker: Marker | None = None,
) -> list[Verdict]:
    """One :class:`Verdict` per image: does it carry ``key``'s mark, at false-positive rate
    ``fpr``?"""
    needed = threshold(fpr)
    expected = payload(key)
    matches = (read_bits(images, marker=marker) == expected).sum(dim=1).tolist()
    return [Verdict(m, PAYLOAD_BITS, p_value(m), needed, fpr, m >= needed) for m in matches]
