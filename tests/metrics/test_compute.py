"""compute_metrics: the registry, option routing and report fields."""

import numpy as np
import pytest

from gankit.errors import GankitError
from gankit.metrics import (
    METRICS,
    compute_metrics,
    density_coverage,
    frechet_distance,
    kernel_inception_distance,
    precision_recall,
)


def test_report_matches_individual_metrics():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(150, 6)), rng.normal(size=(120, 6)) + 0.3
    report = compute_metrics(real, fake, kid_subsets=5, kid_subset_size=50, pr_k=4, extractor="x")
    assert report["num_real"] == 150 and report["num_fake"] == 120 and report["feature_dim"] == 6
    assert report["extractor"] == "x"
    assert report["fd"] == frechet_distance(real, fake)
    kid = kernel_inception_distance(real, fake, subsets=5, subset_size=50)
    assert (report["kid_mean"], report["kid_std"]) == kid
    assert (report["precision"], report["recall"]) == precision_recall(real, fake, k=4)
    assert (report["density"], report["coverage"]) == density_coverage(real, fake, k=5)


def test_unknown_names_and_options():
    x = np.random.default_rng(1).normal(size=(20, 3))
    with pytest.raises(GankitError, match="valid"):
        compute_metrics(x, x, names=("fid",))
    with pytest.raises(GankitError, match="kid_subsets"):
        compute_metrics(x, x, names=("fd",), kid_subset=3)  # typo of kid_subsets
    assert set(compute_metrics(x, x, names="fd")) >= {"fd"}
    assert set(METRICS) == {"fd", "kid", "pr", "dc"}
