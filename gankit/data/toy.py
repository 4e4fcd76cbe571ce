"""2-D Gaussian mixtures for mode-collapse experiments, following the PacGAN protocol.

PacGAN (Lin et al., 2018) measures mode collapse on two mixtures: ``ring``, 8 Gaussians on the unit
circle with std 0.01, and ``grid``, 25 Gaussians on a 5x5 grid (centres -4, -2, 0, 2, 4) with std
0.05. Keeping the centres with the points lets a metric count the modes a generator covers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gankit.errors import GankitError


@dataclass(frozen=True, eq=False)
class ToyData:
    """Points drawn from a Gaussian mixture, with the mixture that made them.

    Example:
        >>> data = toy_mixture("ring", n=1000)
        >>> len(data), data.centers.shape, data.std
        (1000, torch.Size([8, 2]), 0.01)
        >>> data.batch(torch.tensor([0, 1])).shape
        torch.Size([2, 2])
    """

    points: torch.Tensor  # float32 (N, 2)
    centers: torch.Tensor  # float32 (K, 2), the mixture's means
    std: float  # per-coordinate standard deviation of every component
    name: str

    def __len__(self) -> int:
        return self.points.shape[0]

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """The points at ``index``, float32 (B, 2)."""
        return self.points[index]

    def assign_modes(self, x: torch.Tensor) -> torch.Tensor:
        """Component whose centre is nearest each point, or -1 beyond a quarter of the spacing.

        The health monitor's mode labeller (int64, (B,)): it asks which modes G reaches, not how
        precisely, so the radius is a quarter of the distance between the closest centres (19 std
        on the ring, 10 on the grid) rather than the 3 std of the high-quality count.
        """
        # Computed here rather than with gankit.metrics.assign_modes: data sits below metrics, and
        # a training batch against at most 25 centres needs no chunking.
        spacing = torch.pdist(self.centers).min().item()
        distance, nearest = torch.cdist(x.float(), self.centers).min(dim=1)
        return torch.where(distance <= spacing / 4, nearest, torch.full_like(nearest, -1))


def _ring_centers() -> torch.Tensor:
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return torch.stack([angles.cos(), angles.sin()], dim=1).float()


def _grid_centers() -> torch.Tensor:
    coords = torch.arange(-4.0, 5.0, 2.0)  # -4, -2, 0, 2, 4
    xs, ys = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


# kind -> (centres, std): the two PacGAN benchmarks.
MIXTURES: dict[str, tuple[Callable[[], torch.Tensor], float]] = {
    "ring": (_ring_centers, 0.01),
    "grid": (_grid_centers, 0.05),
}


def toy_mixture(kind: str, n: int = 100_000, seed: int = 0) -> ToyData:
    """Sample ``n`` points from mixture ``kind`` ("ring" or "grid"); same seed -> same points.

    Components are picked uniformly at random, as in PacGAN.

    Example:
        >>> toy_mixture("grid", n=10, seed=1).centers.shape
        torch.Size([25, 2])
    """
    if kind not in MIXTURES:
        raise GankitError(f"unknown toy mixture {kind!r}; valid kinds: {', '.join(MIXTURES)}")
    if not isinstance(n, int) or n < 1:
        raise GankitError(f"toy mixture size n must be a positive integer, got {n!r}")
    make_centers, std = MIXTURES[kind]
    centers = make_centers()
    generator = torch.Generator().manual_seed(seed)
    component = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    points = centers[component] + std * noise
    return ToyData(points=points, centers=centers, std=std, name=kind)
