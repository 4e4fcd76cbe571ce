"""Turn user feature arrays (torch or numpy) into checked 2-D float64 arrays.

Every metric starts here so that a wrong shape, a NaN from a diverged generator or mismatched
feature sizes fail with one message naming the argument, not deep inside numpy or scipy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gankit.errors import GankitError


def as_numpy_2d(feats: Any, name: str, min_rows: int = 1) -> np.ndarray:
    """Return ``feats`` as a float64 (N, D) numpy array, checked for shape and finiteness.

    Example:
        >>> as_numpy_2d(torch.zeros(3, 2), "real_feats").dtype
        dtype('float64')
    """
    if isinstance(feats, torch.Tensor):
        array = feats.detach().to("cpu", torch.float64).numpy()
    else:
        try:
            array = np.asarray(feats, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise GankitError(f"{name} must be an (N, D) array of numbers ({err})") from None
    if array.ndim != 2:
        raise GankitError(
            f"{name} must be (N, D) features, one row per sample; got shape {tuple(array.shape)}"
        )
    if array.shape[0] < min_rows:
        raise GankitError(
            f"{name} has {array.shape[0]} samples; this metric needs at least {min_rows}"
        )
    if not np.isfinite(array).all():
        raise GankitError(
            f"{name} holds NaN or infinite values; check the generator output "
            "(did training diverge?)"
        )
    return array


def as_torch_2d(
    feats: Any, name: str, min_rows: int = 1, device: str | torch.device | None = None
) -> torch.Tensor:
    """Return ``feats`` as a float64 (N, D) torch tensor on ``device`` (CPU by default)."""
    if isinstance(feats, torch.Tensor):
        # Check on the tensor itself so a CUDA tensor is not copied to the host first.
        array = feats.detach()
        if array.ndim != 2:
            raise GankitError(
                f"{name} must be (N, D) features, one row per sample; "
                f"got shape {tuple(array.shape)}"
            )
        if array.shape[0] < min_rows:
            raise GankitError(
                f"{name} has {array.shape[0]} samples; this metric needs at least {min_rows}"
            )
        array = array.to(dtype=torch.float64)
        if not torch.isfinite(array).all():
            raise GankitError(
                f"{name} holds NaN or infinite values; check the generator output "
                "(did training diverge?)"
            )
    else:
        array = torch.from_numpy(as_numpy_2d(feats, name, min_rows))
    return array.to(device or "cpu")


def check_same_dim(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, names: str) -> None:
    """Raise unless two (N, D) arrays share D (features from the same extractor)."""
    if a.shape[1] != b.shape[1]:
        raise GankitError(
            f"{names} have different feature sizes ({a.shape[1]} vs {b.shape[1]}); "
            "compute both with the same feature extractor"
        )
