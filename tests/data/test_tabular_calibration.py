"""Raking G's pool of rows to the training table's (span slot, target) shares."""

import numpy as np
import pandas as pd
import pytest

from gankit import GankitError
from gankit.data.tabular import TableTransformer
from gankit.data.tabular.calibration import rake_weights


def _weighted_pairs(code, targets, weights, shape):
    pairs = np.bincount(code * shape[1] + targets, weights=weights, minlength=shape[0] * shape[1])
    return pairs.reshape(shape) / weights.sum()


def test_raking_matches_every_span_s_shares():
    rng = np.random.default_rng(0)
    rows = 20_000
    # A pool with uniform spans; the table has no slot 2 in span 0 and leans in span 1.
    codes = [rng.integers(0, 3, rows), rng.integers(0, 2, rows)]
    shares = [np.array([0.6, 0.4, 0.0]), np.array([0.2, 0.8])]
    weights = rake_weights(codes, shares, sweeps=20)
    assert weights.mean() == pytest.approx(1.0)
    for code, share in zip(codes, shares, strict=True):
        have = np.bincount(code, weights=weights, minlength=len(share)) / weights.sum()
        assert np.allclose(have, share, atol=1e-3)
    assert (weights[codes[0] == 2] == 0).all()  # a value the table never has gets no weight


def test_weights_are_capped_so_rare_rows_cannot_fill_the_sample():
    code = np.array([0] * 999 + [1])
    weights = rake_weights([code], [np.array([0.5, 0.5])], max_weight=3.0)
    assert weights.max() <= 3.0 + 1e-9


def test_a_pool_that_does_not_fit_the_shares_is_refused():
    with pytest.raises(GankitError, match="one slot per row"):
        rake_weights([np.zeros(3, np.int64), np.zeros(4, np.int64)], [np.ones(1), np.ones(1)])


def test_the_transformer_counts_each_span_s_slots_with_the_target_and_keeps_them_in_json():
    df = pd.DataFrame(
        {"c": ["a", "b", "a", "a"] * 25, "x": [0.5, 1.5, 10.0, 11.0] * 25, "y": list("pqqq") * 25}
    )
    transformer = TableTransformer.fit(df, target="y")
    counts = [np.asarray(c) for c in transformer.span_counts]
    assert [c.shape for c in counts] == [(2, 2), (4, 2), (2, 2)]  # c, x's modes, y
    assert all(c.sum() == len(df) for c in counts)
    assert counts[0].tolist() == [[25, 50], [0, 25]]  # "b" never goes with "p"
    assert transformer.class_shares(0)[0].tolist() == [1.0, 0.0]  # the "p" rows' c
    again = TableTransformer.from_json(transformer.to_json())
    assert again.span_counts == transformer.span_counts
    state = transformer.to_json()
    state["span_counts"] = state["span_counts"][:1]
    with pytest.raises(GankitError, match="span counts"):
        TableTransformer.from_json(state)
    state.pop("span_counts")  # a transformer.json from before calibrated sampling
    assert TableTransformer.from_json(state).class_shares(0) is None


def test_a_pool_with_no_row_the_table_has_gets_zero_weights_without_nan(recwarn):
    # Every pool row is in slot 1, which the table never has: all weights 0, no 0/0 later.
    weights = rake_weights([np.array([1, 1]), np.array([0, 1])], [np.array([1.0, 0.0])] * 2)
    assert weights.tolist() == [0.0, 0.0]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize(
    "damage",
    [
        lambda counts: [[[1, 2], [3]], *counts[1:]],  # a ragged table
        lambda counts: 7,  # not a list
        lambda counts: [[["a", "b"], ["c", "d"]], *counts[1:]],  # not numbers
        lambda counts: [[[-1, 2], [3, 4]], *counts[1:]],  # a negative count
    ],
)
def test_damaged_span_counts_are_refused_by_name(damage):
    df = pd.DataFrame({"c": ["a", "b"] * 10, "y": list("pq") * 10})
    state = TableTransformer.fit(df, target="y").to_json()
    state["span_counts"] = damage(state["span_counts"])
    with pytest.raises(GankitError, match="span counts"):
        TableTransformer.from_json(state)
