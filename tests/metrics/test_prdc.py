"""Precision/recall and density/coverage on configurations with known answers."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from gankit.errors import GankitError
from gankit.metrics import density_coverage, precision_recall


def _mixture(centres, n_per, std, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([c + std * rng.normal(size=(n_per, len(c))) for c in centres])


def _reference(real, fake, k_pr=3, k_dc=5):
    """Full-matrix numpy/scipy version of both papers' definitions."""

    def radii(x, k):
        d = cdist(x, x)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    d_rf = cdist(real, fake)  # (N_real, N_fake)
    r_real3, r_fake3, r_real5 = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    precision = (d_rf <= r_real3[:, None]).any(axis=0).mean()
    recall = (d_rf <= r_fake3[None, :]).any(axis=1).mean()
    density = (d_rf < r_real5[:, None]).sum(axis=0).mean() / k_dc
    coverage = (d_rf.min(axis=1) < r_real5).mean()
    return precision, recall, density, coverage


def test_matches_full_matrix_reference_with_small_chunks():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 6))
    fake = rng.normal(size=(250, 6)) * 1.3 + 0.4
    p, r, d, c = _reference(real, fake)
    # chunk_size smaller than both sets exercises the chunk bookkeeping
    assert precision_recall(real, fake, chunk_size=64) == pytest.approx((p, r), abs=1e-12)
    assert density_coverage(real, fake, chunk_size=37) == pytest.approx((d, c), abs=1e-12)


def test_identical_sets():
    x = torch.randn(400, 8, generator=torch.Generator().manual_seed(1))
    assert precision_recall(x, x) == (1.0, 1.0)
    density, coverage = density_coverage(x, x)
    assert coverage == 1.0
    assert density == pytest.approx(1.0, abs=0.1)


def test_far_apart_clouds_score_zero():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) + 100.0
    assert precision_recall(real, fake) == (0.0, 0.0)
    assert density_coverage(real, fake) == (0.0, 0.0)


def test_fake_covering_half_the_modes():
    centres = [np.array([10.0 * i, 0.0]) for i in range(8)]
    real = _mixture(centres, 100, 0.5, seed=3)
    fake = _mixture(centres[:4], 200, 0.5, seed=4)  # all samples good, half the modes missing
    precision, recall = precision_recall(real, fake)
    density, coverage = density_coverage(real, fake)
    assert precision > 0.95
    assert recall == pytest.approx(0.5, abs=0.05)
    assert coverage == pytest.approx(0.5, abs=0.05)


def test_errors():
    x = np.zeros((10, 3))
    with pytest.raises(GankitError, match="at least 4"):
        precision_recall(np.zeros((3, 3)), x, k=3)
    with pytest.raises(GankitError, match="k must be"):
        density_coverage(x, x, k=0)
    with pytest.raises(GankitError, match="different feature sizes"):
        precision_recall(x, np.zeros((10, 4)))
