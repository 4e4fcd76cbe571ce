"""What both augmentation workflows share: the result type and the checks of the mixing ratio."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from gankit.errors import GankitError


@dataclass(frozen=True, eq=False)
class Augmented:
    """An augmented data set: ``data`` (an ImageData or a DataFrame; real rows first), which of
    its rows are ``synthetic`` (bool tensor, one per row), the ``model`` that drew them and the
    ``real`` data the model was fitted on."""

    data: Any
    synthetic: torch.Tensor
    model: Any
    real: Any

    @property
    def synthetic_count(self) -> int:
        """Generated rows in ``data``."""
        return int(self.synthetic.sum())

    @property
    def real_count(self) -> int:
        """Real rows in ``data`` (0 for a synthetic-only set)."""
        return len(self.synthetic) - self.synthetic_count


def check_fraction(fraction: float) -> None:
    """``synthetic_fraction`` must lie in (0, 1]; anything else names the valid range."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise GankitError(
            f"synthetic_fraction (--fraction) must be in (0, 1]: the share of synthetic samples "
            f"in the returned set, 1 for synthetic only; got {fraction!r}"
        )


def synthetic_count(real: int, fraction: float, n: int | None) -> int:
    """How many samples to draw: ``n`` (default ``real``) for a synthetic-only set, else as many
    as make ``fraction`` of a set that also holds the ``real`` ones.

    Example:
        >>> synthetic_count(100, 0.75, None), synthetic_count(100, 1.0, None)
        (300, 100)
    """
    if fraction == 1.0:
        count = real if n is None else n
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise GankitError(f"n must be a positive number of samples, got {count!r}")
        return count
    if n is not None:
        raise GankitError(
            "n is the size of a synthetic-only set; a mixed set's size follows from "
            "synthetic_fraction and the real data: pass one of the two"
        )
    return math.ceil(real * fraction / (1.0 - fraction) - 1e-9)
