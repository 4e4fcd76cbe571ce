"""Did the synthetic data help? The same downstream classifier on real, classic and GAN data.

Images: :func:`~gankit.metrics.classifier.train_digit_classifier` (a small CNN, grey 28 px
input) for a fixed number of steps on real only, real with random shifts and rotations (classic
augmentation), real + gankit samples, and real + gankit samples with shifts and rotations.
Tables: a ``HistGradientBoostingClassifier`` on real only, real + random oversampling, real +
SMOTE (SMOTE-NC when the table has categorical columns; imbalanced-learn), real + gankit rows,
and real + half SMOTE, half gankit. Every oversampler adds the same rows per class as gankit did.

Scores on the test data: accuracy, balanced accuracy (the mean recall over classes) and the F1
of the minority class (the class with the fewest real training rows). :func:`recommendation`
turns scores over seeds into one honest line.

Example:
    >>> scores = {"real": [{"accuracy": 0.80}, {"accuracy": 0.82}, {"accuracy": 0.81}],
    ...           "real + gankit": [{"accuracy": 0.85}, {"accuracy": 0.84}, {"accuracy": 0.86}]}
    >>> recommendation(scores, "accuracy", baselines=["real"], candidates=["real + gankit"])
    'gankit helped: real + gankit beat real on accuracy on every seed (+0.040 on average, 3 seeds).'
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from gankit.data import ImageData
from gankit.data.images import convert_channels
from gankit.errors import GankitError
from gankit.metrics.classifier import DigitClassifierConfig, train_digit_classifier
from gankit.metrics.tabular import as_features

IMAGE_ROWS = ("real", "real + classic", "real + gankit", "real + both")
TABLE_ROWS = ("real", "real + random oversampling", "real + SMOTE", "real + gankit", "real + both")
METRICS = ("accuracy", "balanced_accuracy", "minority_f1")
# Classic image augmentation: shifts up to 2 px and turns up to 15 degrees (the ranges
# torchvision's MNIST examples and DAGAN's baselines use).
MAX_SHIFT, MAX_ROTATION = 2.0, 15.0
# The downstream CNN: half the widths of the metrics' digit classifier, 300 Adam steps at batch
# 64 whatever the set's size, so every row trains exactly as long (about 10 CPU-seconds a row).
CLASSIFIER_WIDTHS, CLASSIFIER_FEATURES = (16, 32), 64
CLASSIFIER_STEPS, CLASSIFIER_BATCH = 300, 64
_EVAL_CHUNK = 2000


def _scores(y_true: np.ndarray, y_pred: np.ndarray, minority: int | str) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "minority_f1": float(f1_score(y_true == minority, y_pred == minority)),
    }


def _minority(labels: Sequence[Any]) -> Any:
    """The class with the fewest rows (the first such in sorted order on a tie)."""
    counts = pd.Series(labels).value_counts().sort_index(kind="stable")
    return counts.idxmin()


# ------------------------------------------------------------------ images
def _grey_float(data: ImageData) -> torch.Tensor:
    return convert_channels(data.images, 1).float() / 127.5 - 1.0


def compare_images(
    real: ImageData,
    synthetic: ImageData,
    test: ImageData,
    *,
    seed: int = 0,
    steps: int = CLASSIFIER_STEPS,
) -> dict[str, dict[str, float]]:
    """Scores of the same small CNN trained on each of :data:`IMAGE_ROWS`, tested on ``test``.

    ``real`` and ``synthetic`` are labelled sets with the same classes as ``test``; colour
    images are read as grey (the classifier's input).
    """
    for name, data in (("synthetic", synthetic), ("test", test)):
        if list(data.class_names) != list(real.class_names) or data.labels is None:
            raise GankitError(
                f"the {name} images must have the real images' classes {list(real.class_names)}"
            )
    config = DigitClassifierConfig(
        CLASSIFIER_WIDTHS, CLASSIFIER_FEATURES, num_classes=len(real.class_names)
    )
    real_x, synthetic_x = _grey_float(real), _grey_float(synthetic)
    mixed_x = torch.cat([real_x, synthetic_x])
    mixed_y = torch.cat([real.labels, synthetic.labels])
    test_x, test_y = _grey_float(test), test.labels.numpy()
    minority = int(_minority(real.labels.tolist()))
    classic = {"max_shift": MAX_SHIFT, "max_rotation": MAX_ROTATION}
    plans = {
        "real": (real_x, real.labels, {}),
        "real + classic": (real_x, real.labels, classic),
        "real + gankit": (mixed_x, mixed_y, {}),
        "real + both": (mixed_x, mixed_y, classic),
    }
    results = {}
    for row, (x, y, augment) in plans.items():
        model = train_digit_classifier(
            x, y, steps, seed, batch_size=CLASSIFIER_BATCH, config=config, **augment
        )
        with torch.no_grad():
            predicted = torch.cat([model(chunk).argmax(1) for chunk in test_x.split(_EVAL_CHUNK)])
        results[row] = _scores(test_y, predicted.numpy(), minority)
    return results


# ------------------------------------------------------------------ tables
def _oversamplers(features: pd.DataFrame, counts: dict[Any, int], seed: int) -> dict[str, Any]:
    try:
        from imblearn.over_sampling import SMOTE, SMOTENC, RandomOverSampler
    except ImportError:
        raise GankitError(
            "the table report compares with imbalanced-learn's SMOTE and random oversampling; "
            "install it with pip install 'gankit[augment]'"
        ) from None
    categorical = [
        i
        for i, column in enumerate(features.columns)
        if not pd.api.types.is_numeric_dtype(features[column])
        or isinstance(features[column].dtype, pd.CategoricalDtype)
    ]
    smote = (
        SMOTENC(categorical_features=categorical, sampling_strategy=counts, random_state=seed)
        if categorical
        else SMOTE(sampling_strategy=counts, random_state=seed)
    )
    return {
        "real + random oversampling": RandomOverSampler(
            sampling_strategy=counts, random_state=seed
        ),
        "real + SMOTE": smote,
    }


def _fit_score(
    train: pd.DataFrame, test: pd.DataFrame, target: str, minority: Any, seed: int
) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x_train, x_test = as_features([train.drop(columns=[target]), test.drop(columns=[target])])
    model = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
    model.fit(x_train, train[target].astype(str))
    return _scores(test[target].astype(str).to_numpy(), model.predict(x_test), str(minority))


def compare_table(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    *,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Scores of the same gradient-boosting classifier trained on each of :data:`TABLE_ROWS`.

    ``synthetic`` holds the rows gankit added (per class); random oversampling and SMOTE add the
    same number per class, and "real + both" takes half of each class's new rows from SMOTE and
    the other half from ``synthetic``. Tables with empty cells cannot go through SMOTE: fill them.
    """
    if real.isna().any().any():
        raise GankitError(
            "SMOTE cannot read empty cells; the table report needs a table without them (fill "
            "or drop them first)"
        )
    counts = real[target].value_counts()
    added = synthetic[target].value_counts()
    strategy = {value: int(counts[value] + added[value]) for value in added.index}
    features, labels = real.drop(columns=[target]), real[target]
    trains = {"real": real}
    smote_rows = None
    for row, sampler in _oversamplers(features, strategy, seed).items():
        x, y = sampler.fit_resample(features, labels)
        resampled = x.assign(**{target: y.to_numpy()})[real.columns]
        trains[row] = resampled.astype(real.dtypes.to_dict())
        if row == "real + SMOTE":
            smote_rows = trains[row].iloc[len(real) :]
    trains["real + gankit"] = pd.concat([real, synthetic], ignore_index=True)
    halves = []
    for value, count in added.items():
        keep = count // 2
        halves.append(synthetic[synthetic[target] == value].iloc[:keep])
        halves.append(smote_rows[smote_rows[target] == value].iloc[: count - keep])
    trains["real + both"] = pd.concat([real, *halves], ignore_index=True)
    minority = _minority(labels.astype(str).tolist())
    return {row: _fit_score(trains[row], test, target, minority, seed) for row in TABLE_ROWS}


# ------------------------------------------------------------------ report
def interval(values: Sequence[float], digits: int = 3) -> str:
    """``mean ± half-width`` of the 95 % t-interval over seeds (one value: the value alone).

    Example:
        >>> interval([0.80, 0.82, 0.84])
        '0.820 ± 0.050'
    """
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    from scipy.stats import t

    half = t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def score_table(scores: dict[str, list[dict[str, float]]], metrics: Sequence[str] = METRICS) -> str:
    """A markdown table: one row per training set, ``mean ± 95 % interval`` per metric."""
    names = {"balanced_accuracy": "balanced acc.", "minority_f1": "minority F1"}
    lines = [
        "| trained on | " + " | ".join(names.get(m, m) for m in metrics) + " |",
        "|---|" + "---:|" * len(metrics),
    ]
    for row, runs in scores.items():
        cells = [interval([run[m] for run in runs]) for m in metrics]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def recommendation(
    scores: dict[str, list[dict[str, float]]],
    metric: str,
    *,
    baselines: Sequence[str],
    candidates: Sequence[str],
) -> str:
    """One line: did the best gankit row beat the best baseline row on ``metric``, seed by seed?

    "helped" needs a gain on every seed; a loss on average says it did not help; anything in
    between is called inconclusive, with the numbers.
    """

    def mean(row: str) -> float:
        return statistics.fmean(run[metric] for run in scores[row])

    best_baseline = max(baselines, key=mean)
    best = max(candidates, key=mean)
    pairs = zip(scores[best], scores[best_baseline], strict=True)
    gains = [ours[metric] - theirs[metric] for ours, theirs in pairs]
    average, seeds = statistics.fmean(gains), len(gains)
    said = f"{best} vs {best_baseline} on {metric}"
    if all(g > 0 for g in gains):
        return (
            f"gankit helped: {best} beat {best_baseline} on {metric} on every seed "
            f"({average:+.3f} on average, {seeds} seeds)."
        )
    if average <= 0:
        return (
            f"gankit did not help on this data: {said}: {average:+.3f} on average over {seeds} "
            f"seeds; use {best_baseline}."
        )
    return (
        f"inconclusive: {said}: {average:+.3f} on average but not better on every seed "
        f"({sum(g > 0 for g in gains)} of {seeds})."
    )


def image_report(
    real: ImageData, synthetic: ImageData, test: ImageData, *, seeds: Sequence[int] = (0, 1, 2)
) -> str:
    """A markdown report: :func:`compare_images` over classifier ``seeds``, and the verdict."""
    runs = [compare_images(real, synthetic, test, seed=seed) for seed in seeds]
    scores = {row: [run[row] for run in runs] for row in IMAGE_ROWS}
    return _report(
        f"{len(real)} real and {len(synthetic)} synthetic images; {len(test)} test images; "
        f"the same small CNN ({CLASSIFIER_STEPS} steps) per row",
        scores,
        recommendation(
            scores,
            "accuracy",
            baselines=["real", "real + classic"],
            candidates=["real + gankit", "real + both"],
        ),
        seeds,
    )


def table_report(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    *,
    seeds: Sequence[int] = (0, 1, 2),
) -> str:
    """A markdown report: :func:`compare_table` over classifier ``seeds``, and the verdict."""
    runs = [compare_table(real, synthetic, test, target, seed=seed) for seed in seeds]
    scores = {row: [run[row] for run in runs] for row in TABLE_ROWS}
    return _report(
        f"{len(real)} real and {len(synthetic)} synthetic rows of {target!r}; {len(test)} test "
        "rows; the same gradient-boosting classifier per row",
        scores,
        recommendation(
            scores,
            "minority_f1",
            baselines=["real", "real + random oversampling", "real + SMOTE"],
            candidates=["real + gankit", "real + both"],
        ),
        seeds,
    )


def _report(setting: str, scores: dict, verdict: str, seeds: Sequence[int]) -> str:
    return (
        f"# Did the synthetic data help?\n\n{setting}; classifier seeds {list(seeds)}, "
        "mean ± 95 % t-interval over them (the synthetic data is one draw: its own variation "
        "is not in the interval).\n\n"
        f"{score_table(scores)}\n\n**Recommendation:** {verdict}\n"
    )
