"""Private preprocessing for differentially private tables: the encoding reads the data only
through noisy statistics whose budget is counted.

CTGAN's transformer reads the data freely (its Gaussian mixtures, point masses, category lists and
frequencies), which voids any DP guarantee of the GAN behind it. Under ``privacy=`` gankit builds
the encoding from public facts and noisy counts instead:

- **kinds** come from the dtypes (numbers: ``integer`` or ``continuous``; booleans; anything else
  categorical) or the user's ``metadata``, never from the values; datetimes are refused.
- **numeric columns** are clipped to bounds: the user's (``bounds={"age": [17, 90]}``, public
  knowledge such as a code book; free) or else DP quantiles (``quantiles``, by the exponential
  mechanism inside ``search_range``; budget spent). The encoding is fixed by the bounds: one
  point-mass mode at each bound (a top-coded or zero-inflated column keeps its exact edge
  values) and one Gaussian mode across the interval. No mixture is fitted.
- **discrete columns** get Laplace-noised counts (each row adds 1 to one value of a column:
  sensitivity 1), which set G's condition frequencies. Their values are the user's
  (``categories={...}``, free) or those whose noisy count passes the threshold
  ``1 + ln(1 / (2 delta_col)) / eps_col`` (a value held by one row is released with
  probability at most ``delta_col``); rows with a value not released (or a missing cell where
  missing was not released) take the column's most frequent released value.

Budget: ``preprocess_share`` of epsilon (default 10 %) is split evenly over the queries (one per
discrete column, two per numeric column without bounds; none for numeric columns with bounds),
half of delta goes to the thresholds when any value list comes from the data; the rest is DP-SGD's
(:mod:`gankit.train.privacy`). Sequential composition adds them up: the whole run is
``(epsilon, delta)``-DP with respect to adding or removing one row.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [20, 35, 50, 70] * 100, "job": ["a", "b", "a", "c"] * 100})
    >>> privacy = TablePrivacy(epsilon=3.0, bounds={"age": (17, 90)})
    >>> fitted = fit_private(df, privacy)
    >>> fitted.transformer.columns[0].minimum, fitted.budget["dp_sgd_epsilon"] < 3.0
    (17.0, True)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gankit.config import from_dict
from gankit.data.tabular.columns import DISCRETE_KINDS, KINDS, ColumnSpec, _json_value
from gankit.data.tabular.transformer import DiscreteEncoder, ModeEncoder, TableTransformer
from gankit.errors import GankitError

# The interior mode's offset alpha = z / (4 * 0.25) = z: the interval maps onto tanh's range.
_INTERIOR_STD = 0.25


@dataclass(frozen=True)
class TablePrivacy:
    """``privacy=`` of :class:`~gankit.TabularGAN`: the budget and the public facts about columns.

    ``epsilon``/``delta``: the whole run's budget. ``bounds``: ``{column: (low, high)}`` for numeric
    columns (public knowledge); ``categories``: ``{column: [values]}`` for discrete ones.
    ``preprocess_share``: the part of epsilon the noisy statistics get. ``max_grad_norm``: DP-SGD's
    per-sample clip. ``quantiles`` and ``search_range``: where DP quantiles look for the bounds of a
    numeric column without ``bounds``.
    """

    epsilon: float
    delta: float = 1e-6
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    categories: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    preprocess_share: float = 0.1
    max_grad_norm: float = 1.0
    quantiles: tuple[float, float] = (0.01, 0.99)
    search_range: tuple[float, float] = (-1e6, 1e6)

    def __post_init__(self) -> None:
        if not (isinstance(self.epsilon, int | float) and math.isfinite(self.epsilon)) or not (
            self.epsilon > 0
        ):
            raise GankitError(f"privacy epsilon must be a number > 0, got {self.epsilon!r}")
        if not isinstance(self.delta, int | float) or not 0 < self.delta < 1:
            raise GankitError(f"privacy delta must be in (0, 1), got {self.delta!r}")
        if not 0 < self.preprocess_share < 1:
            raise GankitError(
                f"privacy preprocess_share must be in (0, 1), got {self.preprocess_share!r}"
            )
        for name, pair in self.bounds.items():
            if len(pair) != 2 or not float(pair[0]) < float(pair[1]):
                raise GankitError(f"privacy bounds of {name!r} must be [low, high], got {pair!r}")
        low, high = self.quantiles
        if not 0 < low < high < 1:
            raise GankitError(f"privacy quantiles must be 0 < low < high < 1, got {self.quantiles}")

    @classmethod
    def parse(cls, value: Any) -> TablePrivacy:
        """From a dict (``{"epsilon": 3, "delta": 1e-6}``, lists for pairs); unknown keys fail."""
        if isinstance(value, cls):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = {"epsilon": value}
        if not isinstance(value, dict) or "epsilon" not in value:
            raise GankitError(
                f"privacy must be a dict with at least 'epsilon', e.g. {{'epsilon': 3, "
                f"'delta': 1e-6}}; got {value!r}"
            )
        values = dict(value)
        values["bounds"] = {k: tuple(v) for k, v in (values.get("bounds") or {}).items()}
        values["categories"] = {k: tuple(v) for k, v in (values.get("categories") or {}).items()}
        return from_dict(cls, values, "privacy option")

    def to_json(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "categories": {k: list(v) for k, v in self.categories.items()},
            "preprocess_share": self.preprocess_share,
            "max_grad_norm": self.max_grad_norm,
            "quantiles": list(self.quantiles),
            "search_range": list(self.search_range),
        }


@dataclass(frozen=True)
class PrivateFit:
    """A transformer fitted through noisy statistics, and how the budget was split."""

    transformer: TableTransformer
    budget: dict[str, Any]

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` as the encoding takes it: numbers clipped to their bounds, unreleased
        categories replaced by their column's most frequent released one."""
        out = frame.copy()
        for spec in self.transformer.columns:
            column = out[spec.name]
            if spec.discrete:
                known = column.isin(spec.categories) | (column.isna() & spec.has_null)
                counts = self.budget["noisy_counts"][spec.name]
                fallback = spec.categories[int(np.argmax(counts[: len(spec.categories)]))]
                out[spec.name] = column.where(known, fallback)
            else:
                out[spec.name] = pd.to_numeric(column).clip(spec.minimum, spec.maximum)
        return out


def _kind(series: pd.Series, declared: str | None) -> str:
    if declared is not None:
        if declared not in KINDS:
            raise GankitError(f"column {series.name!r}: unknown kind {declared!r}; valid: {KINDS}")
        kind = declared
    elif pd.api.types.is_bool_dtype(series):
        kind = "boolean"
    elif pd.api.types.is_integer_dtype(series):
        kind = "integer"
    elif pd.api.types.is_float_dtype(series):
        kind = "continuous"
    else:
        kind = "categorical"
    if kind == "datetime":
        raise GankitError(
            f"column {series.name!r} is a datetime: private training has no private encoding "
            "for dates; convert it to a number with bounds (privacy bounds=) or drop it"
        )
    return kind


def _laplace(rng: np.random.Generator, counts: np.ndarray, epsilon: float) -> np.ndarray:
    return counts + rng.laplace(0.0, 1.0 / epsilon, size=counts.shape)


def dp_quantile(
    values: np.ndarray,
    q: float,
    epsilon: float,
    low: float,
    high: float,
    rng: np.random.Generator,
) -> float:
    """The ``q`` quantile of ``values`` clipped to ``[low, high]``, by the exponential mechanism.

    Smith (2011): pick the gap between consecutive sorted values with probability proportional
    to its width times ``exp(-epsilon * |rank - q n| / 2)``, then a uniform point in it.

    Example:
        >>> x = np.arange(1000.0)
        >>> 400 < dp_quantile(x, 0.5, 1.0, 0, 1000, np.random.default_rng(0)) < 600
        True
    """
    x = np.sort(np.clip(values, low, high))
    edges = np.concatenate([[low], x, [high]])
    widths = np.diff(edges)
    ranks = np.arange(len(widths))
    log_weights = np.log(np.maximum(widths, 1e-300)) - epsilon * np.abs(ranks - q * len(x)) / 2
    log_weights[widths <= 0] = -np.inf
    weights = np.exp(log_weights - log_weights.max())
    gap = rng.choice(len(widths), p=weights / weights.sum())
    return float(rng.uniform(edges[gap], edges[gap + 1]))


def fit_private(
    df: pd.DataFrame,
    privacy: TablePrivacy,
    metadata: dict[str, str] | None = None,
    discrete_columns: list[str] | None = None,
) -> PrivateFit:
    """Fit a :class:`TableTransformer` on ``df`` spending ``preprocess_share`` of the budget."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise GankitError("private training needs a non-empty table (a DataFrame or a CSV path)")
    declared = {c: "categorical" for c in discrete_columns or ()}
    declared.update(metadata or {})
    names = [str(c) for c in df.columns]
    for what, given in (("metadata", declared), ("bounds", privacy.bounds)):
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise GankitError(f"privacy/{what} name column(s) {unknown} not in the table {names}")
    unknown = sorted(set(privacy.categories) - set(names))
    if unknown:
        raise GankitError(f"privacy categories name column(s) {unknown} not in the table {names}")
    kinds = {name: _kind(df[name], declared.get(name)) for name in names}
    for name in privacy.bounds:
        if kinds[name] in DISCRETE_KINDS:
            raise GankitError(f"privacy bounds given for {name!r}, a {kinds[name]} column")
    for name, kind in kinds.items():
        if kind not in DISCRETE_KINDS and df[name].isna().any():
            raise GankitError(
                f"column {name!r} has missing numbers; private training does not model missing "
                "numeric cells: fill them or declare the column categorical"
            )
    quantiled = [n for n, k in kinds.items() if k not in DISCRETE_KINDS and n not in privacy.bounds]
    discrete = [n for n, k in kinds.items() if k in DISCRETE_KINDS]
    thresholded = [n for n in discrete if kinds[n] == "categorical" and n not in privacy.categories]
    queries = len(discrete) + 2 * len(quantiled)
    eps_pre = privacy.epsilon * privacy.preprocess_share if queries else 0.0
    delta_pre = privacy.delta / 2 if thresholded else 0.0
    eps_query = eps_pre / queries if queries else 0.0
    delta_col = delta_pre / len(thresholded) if thresholded else 0.0
    # Secret noise: a seed in config.json would let anyone subtract it.
    rng = np.random.default_rng(int.from_bytes(os.urandom(8), "little"))
    encoders, noisy_counts, released_bounds = [], {}, {}
    for name in names:
        series, kind = df[name], kinds[name]
        base = {"name": name, "kind": kind, "dtype": str(series.dtype)}
        if kind in DISCRETE_KINDS:
            if kind == "boolean":
                candidates = [False, True]
            elif name in privacy.categories:
                candidates = list(privacy.categories[name])
            else:
                candidates = sorted(pd.unique(series.dropna()).tolist(), key=str)
            values = series.astype(object).where(series.notna(), None)
            table = pd.Categorical(values.dropna(), categories=candidates)
            present = np.bincount(table.codes[table.codes >= 0], minlength=len(candidates))
            counts = np.append(present, int(series.isna().sum()))  # the last: missing cells
            noisy = _laplace(rng, counts.astype(float), eps_query)
            if name in thresholded:
                threshold = 1 + math.log(1 / (2 * delta_col)) / eps_query
                keep = noisy >= threshold
            else:  # public values; missing cells (if any) take the most frequent value
                keep = np.append(np.ones(len(candidates), bool), False)
            kept = [c for c, k in zip(candidates, keep[:-1], strict=True) if k]
            if not kept:
                raise GankitError(
                    f"column {name!r}: no value is frequent enough to release at epsilon "
                    f"{privacy.epsilon}; list its values (privacy categories=) or drop it"
                )
            has_null = bool(keep[-1])
            released = np.maximum(noisy[np.append(keep[:-1], has_null)], 0.0)
            noisy_counts[name] = [round(float(c), 2) for c in released]
            spec = ColumnSpec(
                **base, has_null=has_null, categories=tuple(_json_value(v) for v in kept)
            )
            encoders.append(DiscreteEncoder(spec))
            continue
        if name in privacy.bounds:
            low, high = (float(v) for v in privacy.bounds[name])
        else:
            x = pd.to_numeric(series).to_numpy(dtype=np.float64)
            bottom, top = privacy.search_range
            low, high = sorted(
                dp_quantile(x, q, eps_query, bottom, top, rng) for q in privacy.quantiles
            )
            if kind == "integer":
                low, high = math.floor(low), math.ceil(high)
            high = high if high > low else low + 1.0
        released_bounds[name] = [low, high]
        spec = ColumnSpec(**base, minimum=low, maximum=high)
        step = 1.0 if kind == "integer" else 0.0
        encoders.append(
            ModeEncoder(
                spec, (low + high) / 2, (high - low) / 2, [0.0], [_INTERIOR_STD], [1.0], step,
                [low, high],
            )
        )  # fmt: skip
    transformer = TableTransformer(encoders, seed=0)
    # G's conditions are drawn with these (noisy, released) frequencies: post-processing.
    transformer.slot_counts = [
        max(round(count), 1)
        for i, _ in transformer.conditioned
        for count in noisy_counts[transformer.columns[i].name]
    ]
    budget = {
        "epsilon": privacy.epsilon,
        "delta": privacy.delta,
        "preprocess_epsilon": round(eps_pre, 6),
        "preprocess_delta": delta_pre,
        "epsilon_per_query": round(eps_query, 6),
        "queries": {
            "noisy_counts": discrete,
            "value_thresholds": thresholded,
            "dp_quantiles": quantiled,
        },
        "dp_sgd_epsilon": round(privacy.epsilon - eps_pre, 6),
        "dp_sgd_delta": privacy.delta - delta_pre,
        "bounds": released_bounds,
        "noisy_counts": noisy_counts,
    }
    return PrivateFit(transformer, budget)
