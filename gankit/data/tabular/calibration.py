"""Calibrate G's rows to the fitted table's shares by raking (iterative proportional fitting).

A table GAN's rows can have every marginal close and still give a value to the wrong class: on
Adult, G gave a capital loss that never goes with `>50K` in the table to many `>50K` rows
(docs/tabular.md, "How it works: calibrated sampling"). Sampling draws a pool of G's rows larger
than asked for, weights each row so that the pool's share of every span's values matches the
training table's (raking: one span at a time, rescale the weights of each value's rows, repeat),
and keeps rows in proportion to their weights.
With a named target this happens class by class: each class keeps its share of the pool (G is
given targets as often as the table has them), and its rows are raked to the shares that the
table's rows *of that class* have. Only G's rows are returned; the table's counts come from the
fitted transformer (:attr:`~gankit.data.tabular.TableTransformer.span_counts`). Where the pool
holds too few rows of the kinds the table has, rows of kinds it never has fill the sample: a
G far from the table (a few training steps) is helped, not fixed.

Example:
    >>> import numpy as np
    >>> codes = [np.array([0, 0, 0, 1])]  # one span; the pool has 3 rows of slot 0
    >>> shares = [np.array([0.5, 0.5])]    # the table has half of each
    >>> rake_weights(codes, shares).round(2).tolist()
    [0.67, 0.67, 0.67, 2.0]
"""

from __future__ import annotations

import numpy as np

from gankit.errors import GankitError

# Raking passes over every span.
SWEEPS = 5
# Rows are kept without replacement, so a row's weight can count for at most the pool's size over
# the sample's; callers cap the weights there.
MAX_WEIGHT = 20.0


def rake_weights(
    codes: list[np.ndarray],
    shares: list[np.ndarray],
    sweeps: int = SWEEPS,
    max_weight: float = MAX_WEIGHT,
) -> np.ndarray:
    """One weight per pool row so that each span's weighted slot shares approach ``shares``.

    ``codes[j]`` holds each row's slot in span ``j``, ``shares[j]`` the table's share of each of
    span ``j``'s slots. The weights have mean 1 unless the cap (``max_weight``, in units of the
    mean) held some down; a slot the table never has gets weight 0.
    """
    rows = len(codes[0]) if codes else 0
    if any(len(c) != rows for c in codes) or len(codes) != len(shares):
        raise GankitError("raking needs one slot per row for every span, and one share table each")
    weights = np.ones(rows)
    for _ in range(sweeps):
        for code, share in zip(codes, shares, strict=True):
            total = weights.sum()
            if total == 0:  # no row has only slots the table has: there is nothing to rescale
                return weights
            have = np.bincount(code, weights=weights, minlength=len(share)) / total
            ratio = np.divide(share, have, out=np.ones(len(share)), where=have > 0)
            weights = weights * ratio[code]
            weights *= rows / max(weights.sum(), 1e-300)
            np.minimum(weights, max_weight, out=weights)
    return weights
