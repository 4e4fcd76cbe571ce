"""Fréchet distance between Gaussians fitted to two feature sets (FID with Inception features).

FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))   (Heusel et al., 2017)

Everything runs in float64: the trace term subtracts numbers of similar size, and float32
covariances of a few thousand samples give FD errors larger than the differences people report.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import linalg

from gankit.errors import GankitError
from gankit.metrics._arrays import as_numpy_2d, check_same_dim

# Tolerated imaginary part of diag(sqrtm), relative to its real part. Rounding in the Schur
# method leaves ~1e-8; anything near 1e-3 means the covariances are not PSD, i.e. broken input.
_IMAG_RTOL = 1e-3


def gaussian_stats(feats: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, in float64.

    Example:
        >>> mu, sigma = gaussian_stats(np.random.default_rng(0).normal(size=(100, 4)))
        >>> mu.shape, sigma.shape
        ((4,), (4, 4))
    """
    array = as_numpy_2d(feats, "feats", min_rows=2)  # a covariance needs at least two samples
    return array.mean(axis=0), np.cov(array, rowvar=False).reshape(array.shape[1], array.shape[1])


def _sqrtm_product(sigma1: np.ndarray, sigma2: np.ndarray, eps: float) -> np.ndarray:
    """sqrtm(sigma1 @ sigma2); retried with ``eps`` added to both diagonals if it is singular."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
    singular = any(issubclass(w.category, linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        # Fewer samples than dimensions (or dead features) make the product singular, where
        # sqrtm is ill-conditioned. The standard fix (TTUR, pytorch-fid) nudges both covariances.
        offset = np.eye(sigma1.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if not np.isfinite(covmean).all():
        raise GankitError(
            "Fréchet distance: the matrix square root of the covariance product is not finite; "
            "the features are degenerate (constant or huge); check the extractor output"
        )
    return covmean


def frechet_from_stats(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Example:
        >>> frechet_from_stats(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
        2.0
    """
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    dim = mu1.shape[0]
    if (
        mu1.shape != (dim,)
        or mu2.shape != (dim,)
        or sigma1.shape != (dim, dim)
        or sigma2.shape != (dim, dim)
    ):
        raise GankitError(
            f"Fréchet distance needs means of shape (D,) and covariances (D, D) with one D; got "
            f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}"
        )
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.isfinite(value).all():
            raise GankitError(f"Fréchet distance: {name} holds NaN or infinite values")

    covmean = _sqrtm_product(sigma1, sigma2, eps)
    if np.iscomplexobj(covmean):
        imag = np.abs(np.diagonal(covmean).imag).max()
        scale = max(1.0, np.abs(np.diagonal(covmean).real).max())
        if imag > _IMAG_RTOL * scale:
            raise GankitError(
                f"Fréchet distance: sqrt of the covariance product has a large imaginary part "
                f"({imag:.3g}): the covariances are not positive semi-definite; pass raw (N, D) "
                "features, or statistics from gaussian_stats"
            )
        covmean = covmean.real  # the residue is rounding noise from the Schur decomposition
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(feats_a: Any, feats_b: Any, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets (torch or numpy).

    Symmetric; 0 for identical sets; FID when the features come from Inception-v3's pool layer.
    The value depends on the number of samples (it is biased upwards for small N), so only
    compare numbers computed with the same N and the same extractor.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(500, 8))
        >>> abs(frechet_distance(x, x)) < 1e-9
        True
    """
    a = as_numpy_2d(feats_a, "feats_a", min_rows=2)
    b = as_numpy_2d(feats_b, "feats_b", min_rows=2)
    check_same_dim(a, b, "feats_a and feats_b")
    mu_a, sigma_a = gaussian_stats(a)
    mu_b, sigma_b = gaussian_stats(b)
    return frechet_from_stats(mu_a, sigma_a, mu_b, sigma_b, eps=eps)
