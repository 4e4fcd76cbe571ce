"""A small synthetic table with one column of every kind, for examples, docs and tests.

Example:
    >>> demo_table(100).dtypes.astype(str).tolist()[:4]
    ['float64', 'float64', 'int64', 'int64']
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def demo_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """``n`` rows: continuous, integer (with gaps), few-valued int, boolean, categorical with
    nulls, pandas category, datetime64 and date strings; seeded."""
    rng = np.random.default_rng(seed)
    income = np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(8, 1, n))  # spike at 0 + tail
    with_gaps = rng.integers(20, 90, n).astype(float)
    with_gaps[rng.random(n) < 0.1] = np.nan
    city = rng.choice(["Oslo", "Lima", "Pune"], n, p=[0.6, 0.3, 0.1]).astype(object)
    city[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "income": income,
            "age": with_gaps,  # integers read as float64 because of the gaps
            "visits": rng.integers(0, 500, n),
            "children": rng.integers(0, 4, n),  # few values: categorical, stays int64
            "member": rng.random(n) < 0.3,
            "city": city,
            "tier": pd.Categorical(
                rng.choice(["gold", "silver"], n), categories=["gold", "silver"]
            ),
            "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
            "day": (pd.to_datetime("2021-03-01") + pd.to_timedelta(rng.integers(0, 60, n), "D"))
            .strftime("%Y-%m-%d")
            .astype(object),
        }
    )
