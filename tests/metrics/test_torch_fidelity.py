"""Cross-check against torch-fidelity's own feature-level functions (skipped if not installed)."""

import numpy as np
import pytest
import torch

from gankit.metrics import frechet_distance, kernel_inception_distance, precision_recall

fid = pytest.importorskip("torch_fidelity.metric_fid")
kid = pytest.importorskip("torch_fidelity.metric_kid")
prc = pytest.importorskip("torch_fidelity.metric_prc")


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32)) * 0.3
    fake = rng.normal(size=(300, 32)) * 1.1 + 0.2
    return torch.from_numpy(real), torch.from_numpy(fake)  # float64, as ours computes


def test_fid_agrees(features):
    real, fake = features
    theirs = fid.fid_statistics_to_metric(
        fid.fid_features_to_statistics(real), fid.fid_features_to_statistics(fake), verbose=False
    )[fid.KEY_METRIC_FID]
    assert frechet_distance(real, fake) == pytest.approx(theirs, abs=1e-3)


def test_kid_agrees(features):
    real, fake = features
    theirs = kid.kid_features_to_metric(
        real, fake, kid_subsets=10, kid_subset_size=200, verbose=False, rng_seed=3
    )
    mean, std = kernel_inception_distance(real, fake, subsets=10, subset_size=200, seed=3)
    assert mean == pytest.approx(theirs[kid.KEY_METRIC_KID_MEAN], abs=1e-3, rel=1e-6)
    assert std == pytest.approx(theirs[kid.KEY_METRIC_KID_STD], abs=1e-3, rel=1e-6)


def test_precision_recall_agrees(features):
    real, fake = features
    # torch-fidelity's convention: features_1 is generated, features_2 is real.
    theirs = prc.prc_features_to_metric(fake, real, prc_neighborhood=3, verbose=False)
    precision, recall = precision_recall(real, fake, k=3)
    assert precision == pytest.approx(theirs[prc.KEY_METRIC_PRECISION], abs=1e-3)
    assert recall == pytest.approx(theirs[prc.KEY_METRIC_RECALL], abs=1e-3)
