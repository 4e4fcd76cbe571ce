"""Fréchet distance against closed forms and an independent eigenvalue implementation."""

import numpy as np
import pytest
import torch
from scipy import linalg

from gankit.errors import GankitError
from gankit.metrics import frechet_distance, frechet_from_stats, gaussian_stats


def _fd_eigen(mu1, s1, mu2, s2):
    """Independent FD: Tr((S1 S2)^1/2) = sum sqrt(eig(sqrt(S1) S2 sqrt(S1))), symmetric PSD form."""
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    eig = np.linalg.eigvalsh(root1 @ s2 @ root1)
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(eig, 0, None)).sum()


def test_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    var1, var2 = rng.uniform(0.1, 3, size=6), rng.uniform(0.1, 3, size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    got = frechet_from_stats(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_full_covariance_closed_form():
    # With S2 = c * S1: Tr((S1 S2)^1/2) = sqrt(c) Tr(S1), so FD = |dmu|^2 + (1 - sqrt(c))^2 Tr(S1).
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    s1 = a @ a.T + 0.5 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    c = 2.5
    expected = np.sum((mu1 - mu2) ** 2) + (1 - np.sqrt(c)) ** 2 * np.trace(s1)
    assert frechet_from_stats(mu1, s1, mu2, c * s1) == pytest.approx(expected, rel=1e-9)
    # ... and two unrelated full covariances against the eigen-based form.
    b = rng.normal(size=(5, 5))
    s2 = b @ b.T + 0.1 * np.eye(5)
    assert frechet_from_stats(mu1, s1, mu2, s2) == pytest.approx(
        _fd_eigen(mu1, s1, mu2, s2), rel=1e-9
    )


def test_matches_eigen_implementation_on_random_features():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(400, 16)) @ rng.normal(size=(16, 16))
    b = rng.normal(size=(300, 16)) * 1.3 + 0.2
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = _fd_eigen(mu_a, s_a, mu_b, s_b)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    # torch input, float32, gives the same float64 computation on the same numbers
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(
        expected, rel=1e-8
    )


def test_identical_sets_and_symmetry():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 8))
    y = rng.normal(size=(200, 8)) + 1
    assert abs(frechet_distance(x, x)) < 1e-9
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)


def test_singular_covariance_falls_back_to_offset():
    # 10 samples in 50 dimensions: rank-deficient covariances, the eps offset path.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 50))
    assert abs(frechet_distance(x, x)) < 1e-3
    assert frechet_distance(x, x + 1) == pytest.approx(50.0, abs=1e-3)


def test_gaussian_stats_matches_numpy():
    x = np.random.default_rng(5).normal(size=(50, 3))
    mu, sigma = gaussian_stats(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False))


def test_errors():
    x = np.zeros((5, 3))
    with pytest.raises(GankitError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), x)
    with pytest.raises(GankitError, match="different feature sizes"):
        frechet_distance(x, np.zeros((5, 4)))
    with pytest.raises(GankitError, match=r"\(N, D\)"):
        frechet_distance(np.zeros(5), x)
    with pytest.raises(GankitError, match="NaN"):
        frechet_distance(np.full((5, 3), np.nan), x)
    # Not PSD: sqrt of a negative-definite product is purely imaginary.
    with pytest.raises(GankitError, match="imaginary"):
        frechet_from_stats(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2))


def test_scipy_sqrtm_is_what_we_think():
    # Guard for the scipy API the fallback relies on: singular input warns, does not raise.
    with pytest.warns(linalg.LinAlgWarning):
        linalg.sqrtm(np.diag([1.0, 0.0]))
