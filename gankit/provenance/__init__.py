"""Provenance marks: an invisible, keyed 48-bit mark in generated images, and its verification.

A user keeps a secret key (``gankit provenance keygen -o KEYFILE``); gankit derives a 48-bit
payload from it with a keyed hash (the key itself is stored nowhere) and a trained marker network
hides the payload in the image's luma at a fixed PSNR. Anyone holding the key can then check an
image: how many of the 48 bits read back match, the binomial p-value of that count, and a decision
at a chosen false-positive rate. For images without a mark, :func:`detect` gives the probability
that a gankit model made them (a trained detector, :mod:`gankit.provenance.detector`). See
docs/provenance.md for the threat model and the measured
robustness.

Example:
    >>> import torch
    >>> from gankit.provenance import mark, verify
    >>> key = "an example key, keep yours secret"
    >>> images = torch.full((2, 3, 64, 64), 128, dtype=torch.uint8)
    >>> marked = mark(images, key)
    >>> [v.marked for v in verify(marked, key)], [v.marked for v in verify(images, key)]
    ([True, True], [False, False])
"""

from __future__ import annotations

from .attacks import ATTACKS
from .detector import (
    DEFAULT_THRESHOLD,
    Detector,
    DetectorConfig,
    detect,
    load_detector,
    save_detector,
    train_detector,
)
from .keys import PAYLOAD_BITS, payload, read_key, write_new_key
from .marker import Marker, MarkerConfig, load_marker, save_marker
from .verify import DEFAULT_FPR, Verdict, mark, p_value, read_bits, threshold, verify

__all__ = [
    "ATTACKS",
    "DEFAULT_FPR",
    "DEFAULT_THRESHOLD",
    "Detector",
    "DetectorConfig",
    "PAYLOAD_BITS",
    "Marker",
    "MarkerConfig",
    "Verdict",
    "detect",
    "load_detector",
    "load_marker",
    "mark",
    "p_value",
    "payload",
    "read_bits",
    "read_key",
    "save_detector",
    "save_marker",
    "threshold",
    "train_detector",
    "verify",
    "write_new_key",
]
