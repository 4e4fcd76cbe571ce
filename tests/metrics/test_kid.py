"""KID against a direct O(n^2) numpy computation."""

import numpy as np
import pytest

from gankit.errors import GankitError
from gankit.metrics import kernel_inception_distance


def _mmd2_direct(x, y, degree=3, coef0=1.0):
    """Unbiased MMD^2 by explicit pair loops over the kernel (no shared code with gankit)."""
    gamma = 1.0 / x.shape[1]

    def k(a, b):
        return (gamma * float(a @ b) + coef0) ** degree

    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_matches_direct_computation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = rng.normal(size=(40, 5)) * 1.5 + 0.3
    # One subset of the full size is a permutation of each set; MMD^2 is order-invariant.
    mean, std = kernel_inception_distance(x, y, subsets=1, subset_size=40)
    assert mean == pytest.approx(_mmd2_direct(x, y), rel=1e-10)
    assert std == 0.0


def test_zero_for_same_distribution_positive_for_shift():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 16))
    y = rng.normal(size=(600, 16))
    same, same_std = kernel_inception_distance(x, y, subsets=20, subset_size=300)
    shifted, _ = kernel_inception_distance(x, y + 0.5, subsets=20, subset_size=300)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 0.05 > abs(same)
    # identical inputs and seed: deterministic
    assert kernel_inception_distance(x, y, subsets=5, subset_size=100) == kernel_inception_distance(
        x, y, subsets=5, subset_size=100
    )


def test_subset_size_is_clipped_with_warning():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(50, 4))
    with pytest.warns(UserWarning, match="using 30"):
        mean, _ = kernel_inception_distance(x, y, subsets=3)
    assert np.isfinite(mean)


def test_errors():
    x = np.zeros((10, 3))
    with pytest.raises(GankitError, match="different feature sizes"):
        kernel_inception_distance(x, np.zeros((10, 2)))
    with pytest.raises(GankitError, match="at least 2"):
        kernel_inception_distance(np.zeros((1, 3)), x)
    with pytest.raises(GankitError, match="subsets"):
        kernel_inception_distance(x, x, subsets=0)
