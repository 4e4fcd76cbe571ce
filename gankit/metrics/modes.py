"""Mode counting: did the generator produce every class / every mixture component?

Two standard protocols for spotting mode collapse:

* Stacked MNIST (Metz et al., 2017; Srivastava et al., 2017): a pretrained classifier labels
  generated samples (1000 classes for three stacked digits); report how many classes appear and
  KL(p_gen || uniform) of the label histogram.
* Toy 2-D mixtures (VEEGAN; PacGAN, Lin et al., 2018): a mode is covered if a sample lies within
  ``n_std`` standard deviations of its centre; a sample is "high quality" if it lies within
  ``n_std`` standard deviations of any centre.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.metrics._arrays import as_torch_2d, check_same_dim
from gankit.metrics._knn import distance_chunks


def class_histogram(labels: Any, num_classes: int) -> np.ndarray:
    """Counts of each integer label in ``[0, num_classes)``, shape (num_classes,), int64.

    Example:
        >>> class_histogram([0, 2, 2], 4)
        array([1, 0, 2, 0])
    """
    if num_classes < 1:
        raise GankitError(f"num_classes must be at least 1, got {num_classes}")
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels).reshape(-1)
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise GankitError(
            f"labels must be integers (class indices), got dtype {labels.dtype}; "
            "take argmax of the classifier logits first"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise GankitError(
            f"labels must lie in [0, {num_classes}); found values from {labels.min()} to "
            f"{labels.max()}; is num_classes right?"
        )
    return np.bincount(labels.astype(np.int64), minlength=num_classes)


def mode_coverage(pred_labels: Any, num_classes: int, min_count: int = 1) -> dict[str, Any]:
    """Stacked-MNIST style mode statistics of predicted labels.

    Returns ``modes`` (classes predicted at least ``min_count`` times), ``kl_to_uniform``
    (KL(p_gen || uniform) in nats, 0 for a perfectly balanced generator, log(num_classes) when
    every sample has one class) and ``counts`` (the histogram, as a list).

    Example:
        >>> mode_coverage([0, 1, 2, 3], num_classes=4)["kl_to_uniform"]
        0.0
    """
    counts = class_histogram(pred_labels, num_classes)
    total = int(counts.sum())
    if total == 0:
        raise GankitError("mode_coverage got no labels; generate some samples first")
    p = counts[counts > 0] / total
    # KL(p || u) = sum p log(p / (1/K)) = sum p log p + log K; empty classes contribute 0 log 0 = 0.
    kl = float(np.sum(p * np.log(p)) + np.log(num_classes))
    return {
        "modes": int((counts >= min_count).sum()),
        "kl_to_uniform": max(kl, 0.0),  # clip rounding noise (~1e-16) below the true minimum 0
        "counts": counts.tolist(),
    }


def toy_mode_stats(
    samples: Any, centers: Any, std: float, n_std: float = 3.0, min_count: int = 1
) -> dict[str, Any]:
    """PacGAN/VEEGAN statistics of samples from a Gaussian-mixture toy dataset (ring, grid, ...).

    Each sample is assigned to its nearest centre and counts as high quality if it lies within
    ``n_std * std`` of it. Returns ``modes_covered`` (centres with at least ``min_count``
    high-quality samples), ``high_quality_fraction`` and per-centre ``counts``.

    Example:
        >>> centers = np.array([[1.0, 0.0], [-1.0, 0.0]])
        >>> toy_mode_stats(centers, centers, std=0.02)["modes_covered"]
        2
    """
    if std <= 0 or n_std <= 0:
        raise GankitError(f"std and n_std must be positive, got std={std}, n_std={n_std}")
    centres = as_torch_2d(centers, "centers")
    labels = assign_modes(samples, centres, n_std * std)
    good = labels >= 0
    counts = torch.bincount(labels[good], minlength=len(centres))
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "high_quality_fraction": float(good.double().mean()),
        "counts": counts.tolist(),
    }


def assign_modes(samples: Any, centers: Any, radius: float) -> torch.Tensor:
    """Index of each sample's nearest centre, or -1 where that centre is farther than ``radius``.

    The mode labeller of a mixture with known centres (int64, shape (N,)); the health monitor's
    mode-coverage probe and :func:`toy_mode_stats` both use it.

    Example:
        >>> centers = np.array([[1.0, 0.0], [-1.0, 0.0]])
        >>> assign_modes([[0.9, 0.0], [0.0, 0.0]], centers, radius=0.2).tolist()
        [0, -1]
    """
    centres = as_torch_2d(centers, "centers")
    points = as_torch_2d(samples, "samples")
    check_same_dim(points, centres, "samples and centers")
    nearest = []
    nearest_dist = []
    for _, dist in distance_chunks(points, centres):  # (chunk of samples, num_centres)
        value, index = dist.min(dim=1)
        nearest.append(index)
        nearest_dist.append(value)
    index = torch.cat(nearest)
    return torch.where(torch.cat(nearest_dist) <= radius, index, torch.full_like(index, -1))
