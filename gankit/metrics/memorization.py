"""Memorization check: do generated samples sit closer to the training set than fresh data does?

A GAN that copies its training images scores well on FID, precision and recall. To catch it,
compare two nearest-neighbour distances to the *training* features:

* fake → train: for each generated sample, the distance to its nearest training sample;
* test → train: the same for held-out real samples the model never saw.

``ratio = median(fake → train) / median(test → train)``. Held-out data shows how close a
genuinely new sample from the data distribution lands, so:

* ratio ≈ 1 or above: generated samples are as novel as fresh data (above 1 is typical of an
  imperfect generator whose samples lie off the data manifold);
* ratio clearly below 1: generated samples lie closer to training points than new data does,
  which suggests copying (or near-copying) of training samples; inspect the nearest pairs.

Medians make the number robust to a few outliers; both queries use the same reference set, so
the number of fake and test samples does not bias the ratio (it only changes its noise). It only
sees copying that the feature extractor sees, and the test set must not overlap the training set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.metrics._arrays import as_torch_2d, check_same_dim
from gankit.metrics._knn import DEFAULT_CHUNK, nearest_distances


def memorization_ratio(
    train_feats: Any,
    test_feats: Any,
    fake_feats: Any,
    chunk_size: int = DEFAULT_CHUNK,
    device: str | torch.device | None = None,
) -> float:
    """Median nearest-train distance of generated samples over that of held-out samples.

    Below 1 means generated samples lie closer to the training data than fresh data does:
    suspected memorization. See the module docstring for how to read it.

    Example:
        >>> train, test = torch.randn(500, 8), torch.randn(200, 8)
        >>> memorization_ratio(train, test, train[:200] + 0.01) < 0.1   # copies of training rows
        True
    """
    train = as_torch_2d(train_feats, "train_feats", device=device)
    test = as_torch_2d(test_feats, "test_feats", device=device)
    fake = as_torch_2d(fake_feats, "fake_feats", device=device)
    check_same_dim(train, test, "train_feats and test_feats")
    check_same_dim(train, fake, "train_feats and fake_feats")
    # np.median averages the two middle values for even counts (torch.median takes the lower).
    test_median = float(np.median(nearest_distances(test, train, chunk_size).cpu().numpy()))
    if test_median == 0.0:
        raise GankitError(
            "memorization_ratio: most held-out samples are exact copies of training samples; "
            "pass a test set that does not overlap the training set"
        )
    fake_median = float(np.median(nearest_distances(fake, train, chunk_size).cpu().numpy()))
    return fake_median / test_median
