"""Mode statistics: toy mixtures (PacGAN protocol) and label histograms (Stacked MNIST)."""

import numpy as np
import pytest

from gankit.errors import GankitError
from gankit.metrics import class_histogram, mode_coverage, toy_mode_stats


def _ring(n_modes=8, radius=2.0):
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def test_exact_centres_cover_every_mode():
    centres = _ring()
    stats = toy_mode_stats(centres, centres, std=0.02)
    assert stats["modes_covered"] == 8
    assert stats["high_quality_fraction"] == 1.0


def test_samples_from_three_of_eight_modes():
    rng = np.random.default_rng(0)
    centres, std = _ring(), 0.02
    picked = centres[rng.integers(0, 3, size=600)]
    samples = picked + std * rng.normal(size=picked.shape)
    outliers = np.zeros((100, 2))  # the ring's centre: far from every mode, low quality
    stats = toy_mode_stats(np.concatenate([samples, outliers]), centres, std=std)
    assert stats["modes_covered"] == 3
    assert stats["counts"][3:] == [0] * 5
    # within 3 std in 2-D holds 1 - exp(-4.5) = 98.9 % of a Gaussian's mass
    assert stats["high_quality_fraction"] == pytest.approx(600 * 0.989 / 700, abs=0.01)


def test_histogram_and_kl():
    assert class_histogram(np.array([0, 2, 2]), 4).tolist() == [1, 0, 2, 0]
    uniform = mode_coverage(np.repeat(np.arange(10), 7), num_classes=10)
    assert uniform["modes"] == 10 and uniform["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    collapsed = mode_coverage(np.full(50, 3), num_classes=1000)
    assert collapsed["modes"] == 1
    assert collapsed["kl_to_uniform"] == pytest.approx(np.log(1000))
    # two classes 3:1 out of 4: KL = 0.75 log(0.75 * 4) + 0.25 log(0.25 * 4)
    half = mode_coverage([0, 0, 0, 1], num_classes=4, min_count=2)
    assert half["modes"] == 1
    assert half["kl_to_uniform"] == pytest.approx(0.75 * np.log(3.0))


def test_label_errors():
    with pytest.raises(GankitError, match=r"\[0, 10\)"):
        class_histogram([0, 10], 10)
    with pytest.raises(GankitError, match="integers"):
        class_histogram([0.5], 10)
