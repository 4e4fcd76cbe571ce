"""How good is a synthetic table: fidelity (sdmetrics), utility (TSTR) and privacy (DCR).

- :func:`quality` — the ``sdmetrics`` QualityReport: *column shapes* (each column's marginal, KS or
  TV complement) and *column pair trends* (correlations and contingency tables), 0..1, higher is
  better. ``sdmetrics`` is an optional dependency (``pip install gankit[bench]``).
- :func:`tstr` — Train on Synthetic, Test on Real: a ``HistGradientBoostingClassifier`` fitted on
  synthetic rows predicts ``target`` on real held-out rows; accuracy, F1 of the positive class and
  ROC AUC. The same call on real training rows gives the TRTR reference.
- :func:`dcr` — Distance to Closest Record: how near each synthetic row is to its nearest real
  training row, compared with how near *held-out* real rows are. A generator that copies its
  training rows has synthetic distances far below the holdout's (ratio << 1) and exact copies.

Example:
    >>> from gankit.data.tabular import demo_table
    >>> table = demo_table(400)
    >>> table["member"] = table["member"].map({True: "yes", False: "no"})
    >>> train, test = table[:300], table[300:]  # synthetic rows would replace train
    >>> scores = tstr(train, test, target="member", positive="yes")
    >>> sorted(scores), 0 <= scores["auc"] <= 1
    (['accuracy', 'auc', 'f1'], True)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch

from gankit.data.tabular.columns import ColumnSpec
from gankit.errors import GankitError
from gankit.metrics._knn import distance_chunks, nearest_distances

_SDTYPES = {
    "categorical": "categorical",
    "boolean": "boolean",
    "continuous": "numerical",
    "integer": "numerical",
    "datetime": "datetime",
}


def _sdmetrics():
    try:
        with warnings.catch_warnings():
            # sdmetrics 0.32 deprecates the single-table import path in favour of a multi-table
            # API; the single-table report is the one that takes one DataFrame.
            warnings.simplefilter("ignore", FutureWarning)
            import sdmetrics.reports.single_table as reports
    except ImportError:
        raise GankitError(
            "the tabular quality score needs the sdmetrics package: pip install 'gankit[bench]' "
            "(or pip install sdmetrics)"
        ) from None
    return reports


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, specs: list[ColumnSpec]) -> dict[str, Any]:
    """sdmetrics' QualityReport: overall score, column shapes and column pair trends (0..1)."""
    reports = _sdmetrics()
    metadata = {"columns": {}}
    for spec in specs:
        entry: dict[str, Any] = {"sdtype": _SDTYPES[spec.kind]}
        if spec.kind == "datetime" and spec.date_format:
            entry["datetime_format"] = spec.date_format
        metadata["columns"][spec.name] = entry
    report = reports.QualityReport()
    report.generate(real, synthetic, metadata, verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]

    def score(value: float) -> float | None:
        # sdmetrics scores only the pairs whose real association passes its threshold; a table
        # without any such pair has no pair-trends score (NaN), reported as None.
        return None if np.isnan(value) else round(float(value), 4)

    return {
        "quality": score(report.get_score()),
        "column_shapes": score(properties["Column Shapes"]),
        "column_pair_trends": score(properties["Column Pair Trends"]),
    }


def as_features(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Frames a gradient-boosting model takes: dates as numbers, text as shared categories."""
    out = [f.copy() for f in frames]
    for column in frames[0].columns:
        first = frames[0][column]
        if pd.api.types.is_datetime64_any_dtype(first):
            for f in out:
                f[column] = pd.to_datetime(f[column]).astype("int64")
        elif not pd.api.types.is_numeric_dtype(first) or isinstance(
            first.dtype, pd.CategoricalDtype
        ):
            values = sorted(pd.concat([f[column].astype(str) for f in frames]).unique())
            for f in out:
                codes = pd.Categorical(f[column].astype(str), categories=values)
                # HistGradientBoosting takes at most 255 categories; beyond, use the (sorted) order.
                f[column] = codes if len(values) <= 250 else codes.codes
    return out


def tstr(
    train: pd.DataFrame, test: pd.DataFrame, target: str, positive: Any, seed: int = 0
) -> dict[str, float]:
    """Fit ``HistGradientBoostingClassifier(random_state=seed)`` on ``train``, score on ``test``.

    ``positive`` is the class whose F1 is reported and whose probability ranks for ROC AUC.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    for name, frame in (("train", train), ("test", test)):
        if target not in frame.columns:
            raise GankitError(f"TSTR target column {target!r} is not in the {name} table")
    y_train = (train[target] == positive).to_numpy()
    y_test = (test[target] == positive).to_numpy()
    if y_train.all() or not y_train.any():
        # A generator that never (or always) makes the positive class: nothing to learn.
        return {"accuracy": float((y_test == y_train[0]).mean()), "f1": 0.0, "auc": 0.5}
    x_train, x_test = as_features([train.drop(columns=[target]), test.drop(columns=[target])])
    model = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
    model.fit(x_train, y_train)
    proba = model.predict_proba(x_test)[:, 1]
    predicted = proba >= 0.5
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1": float(f1_score(y_test, predicted)),
        "auc": float(roc_auc_score(y_test, proba)),
    }


def _encode(df: pd.DataFrame, specs: list[ColumnSpec], reference: pd.DataFrame) -> torch.Tensor:
    """Rows as vectors where one differing category, or a full range of a number, costs 1."""
    parts = []
    for spec in specs:
        column, ref = df[spec.name], reference[spec.name]
        if spec.discrete or spec.kind == "datetime":
            # One-hot scaled by 1/sqrt(2): two different categories are at distance 1.
            categories = pd.unique(ref.astype(str))
            codes = pd.Categorical(column.astype(str), categories=categories).codes
            one_hot = np.eye(len(categories) + 1)[np.where(codes < 0, len(categories), codes)]
            parts.append(one_hot / np.sqrt(2.0))
        else:
            low, high = float(ref.min()), float(ref.max())
            values = (column.astype(float).to_numpy() - low) / ((high - low) or 1.0)
            missing = np.isnan(values)
            parts.append(np.stack([np.nan_to_num(values), missing], axis=1))
    return torch.from_numpy(np.concatenate(parts, axis=1))


def _share_of_rows_in(rows: torch.Tensor, table: torch.Tensor) -> float:
    """Share of ``rows`` that equal some row of ``table`` exactly (the same encoding)."""
    seen = {row.tobytes() for row in table.numpy()}
    return sum(row.tobytes() in seen for row in rows.numpy()) / max(len(rows), 1)


def dcr(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    specs: list[ColumnSpec],
    holdout: pd.DataFrame | None = None,
    n: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Median distance to the closest training row: synthetic rows vs. held-out real rows.

    Without ``holdout``, the baseline is each of ``n`` training rows' distance to its nearest
    *other* training row. ``privacy_ratio`` = synthetic median / baseline median (about 1 or more:
    no closer to the training data than fresh real data; well below 1: memorisation).
    """
    rng = np.random.default_rng(seed)

    def subsample(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rng.choice(len(frame), min(n, len(frame)), replace=False)]

    ref = _encode(train, specs, train)
    synth_rows = _encode(subsample(synthetic), specs, train)
    synth = nearest_distances(synth_rows, ref)
    if holdout is not None:
        base = nearest_distances(_encode(subsample(holdout), specs, train), ref)
        baseline = "holdout"
    else:
        picks = torch.from_numpy(rng.choice(len(train), min(n, len(train)), replace=False))
        nearest = []
        for start, dist in distance_chunks(ref[picks], ref):
            rows = torch.arange(dist.shape[0])
            dist[rows, picks[start : start + len(rows)]] = float("inf")  # not its own neighbour
            nearest.append(dist.min(dim=1).values)
        base = torch.cat(nearest)
        baseline = "train leave-one-out"
    synth_median, base_median = float(synth.median()), float(base.median())
    return {
        "dcr_synthetic_median": round(synth_median, 4),
        "dcr_baseline_median": round(base_median, 4),
        "dcr_baseline": baseline,
        "privacy_ratio": round(synth_median / base_median, 3) if base_median > 0 else float("inf"),
        # Equal encodings, not a distance threshold: the matmul distance of a copy is ~1e-8, not 0.
        "exact_copies": round(_share_of_rows_in(synth_rows, ref), 4),
    }
