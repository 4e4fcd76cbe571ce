"""Cross-check density/coverage against the authors' ``prdc`` package (skipped if not installed)."""

import contextlib
import io

import numpy as np
import pytest

from gankit.metrics import density_coverage, precision_recall

prdc = pytest.importorskip("prdc")


def test_density_coverage_match_reference_package():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 10))
    fake = rng.normal(size=(280, 10)) * 1.2 + 0.3
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sample counts
        theirs = prdc.compute_prdc(real, fake, nearest_k=5)
    density, coverage = density_coverage(real, fake, k=5)
    assert density == pytest.approx(theirs["density"], abs=1e-9)
    assert coverage == pytest.approx(theirs["coverage"], abs=1e-9)
    # prdc's precision/recall use strict '<' where the PR paper's code uses '<='; on continuous
    # data no distance sits exactly on a radius, so the numbers agree.
    with contextlib.redirect_stdout(io.StringIO()):
        theirs3 = prdc.compute_prdc(real, fake, nearest_k=3)
    assert precision_recall(real, fake, k=3) == pytest.approx(
        (theirs3["precision"], theirs3["recall"]), abs=1e-9
    )
