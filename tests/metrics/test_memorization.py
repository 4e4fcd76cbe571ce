"""Memorization ratio: copies of training rows score far below 1, fresh samples about 1."""

import numpy as np
import pytest

from gankit.errors import GankitError
from gankit.metrics import memorization_ratio


def test_memorization_ratio():
    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(500, 8)), rng.normal(size=(200, 8))
    copies = train[:200] + 1e-3 * rng.normal(size=(200, 8))
    fresh = rng.normal(size=(200, 8))
    assert memorization_ratio(train, test, copies) < 0.05
    assert memorization_ratio(train, test, fresh) == pytest.approx(1.0, abs=0.15)
    with pytest.raises(GankitError, match="held-out"):
        memorization_ratio(train, train[:100], fresh)
