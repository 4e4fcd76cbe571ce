"""Precision/recall and density/coverage: fidelity and diversity measured separately.

A single number such as FID mixes "are samples realistic?" with "is all of the data covered?".
These metrics estimate each manifold as a union of k-nearest-neighbour balls around its samples:

* precision (Kynkäänniemi et al., 2019): share of fake samples inside the real manifold;
* recall: share of real samples inside the fake manifold;
* density (Naeem et al., 2020): how many real balls hold each fake sample, divided by k
  (about 1 when fake matches real; robust to real outliers, unlike precision; may exceed 1);
* coverage: share of real samples whose ball holds at least one fake sample (robust to fake
  outliers, unlike recall).

All distances are computed in float64 torch, ``chunk_size`` rows at a time (see ``_knn``).
"""

from __future__ import annotations

from typing import Any

import torch

from gankit.errors import GankitError
from gankit.metrics._arrays import as_torch_2d, check_same_dim
from gankit.metrics._knn import DEFAULT_CHUNK, distance_chunks, kth_neighbour_radii


def _prepare(
    real: Any, fake: Any, k: int, device: str | torch.device | None
) -> tuple[torch.Tensor, torch.Tensor]:
    if k < 1:
        raise GankitError(f"the neighbourhood size k must be at least 1, got {k}")
    # The k-th neighbour of a point among the *others* needs k + 1 points in its set.
    real_t = as_torch_2d(real, "real", min_rows=k + 1, device=device)
    fake_t = as_torch_2d(fake, "fake", min_rows=k + 1, device=device)
    check_same_dim(real_t, fake_t, "real and fake features")
    return real_t, fake_t


def _share_inside(
    query: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk_size: int
) -> float:
    """Share of query rows inside at least one ball (centres[j], radii[j]), boundary included."""
    inside = 0
    for _, dist in distance_chunks(query, centres, chunk_size):
        inside += int((dist <= radii[None, :]).any(dim=1).sum())
    return inside / len(query)


def precision_recall(
    real: Any,
    fake: Any,
    k: int = 3,
    chunk_size: int = DEFAULT_CHUNK,
    device: str | torch.device | None = None,
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019) of (N, D) feature sets.

    Balls include their boundary (``<=``), as in the authors' code and torch-fidelity.

    Example:
        >>> x = torch.randn(200, 8)
        >>> precision_recall(x, x)
        (1.0, 1.0)
    """
    real_t, fake_t = _prepare(real, fake, k, device)
    real_radii = kth_neighbour_radii(real_t, k, chunk_size)
    fake_radii = kth_neighbour_radii(fake_t, k, chunk_size)
    precision = _share_inside(fake_t, real_t, real_radii, chunk_size)
    recall = _share_inside(real_t, fake_t, fake_radii, chunk_size)
    return precision, recall


def density_coverage(
    real: Any,
    fake: Any,
    k: int = 5,
    chunk_size: int = DEFAULT_CHUNK,
    device: str | torch.device | None = None,
) -> tuple[float, float]:
    """Density and coverage (Naeem et al., 2020) of (N, D) feature sets.

    Balls exclude their boundary (``<``), as in the authors' ``prdc`` package.

    Example:
        >>> x = torch.randn(200, 8)
        >>> density, coverage = density_coverage(x, x)
        >>> coverage
        1.0
    """
    real_t, fake_t = _prepare(real, fake, k, device)
    real_radii = kth_neighbour_radii(real_t, k, chunk_size)
    # density: for each fake sample, count the real balls that hold it.
    balls_holding = 0
    for _, dist in distance_chunks(fake_t, real_t, chunk_size):  # (chunk of fake, N_real)
        balls_holding += int((dist < real_radii[None, :]).sum())
    density = balls_holding / (k * len(fake_t))
    # coverage: for each real sample, is its nearest fake sample inside its ball?
    covered = 0
    for start, dist in distance_chunks(real_t, fake_t, chunk_size):  # (chunk of real, N_fake)
        nearest_fake = dist.min(dim=1).values
        covered += int((nearest_fake < real_radii[start : start + len(dist)]).sum())
    coverage = covered / len(real_t)
    return density, coverage
