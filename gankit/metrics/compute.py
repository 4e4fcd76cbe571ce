"""``compute_metrics``: several feature-space metrics in one call, by name, for reports.

Options go to one metric by prefix: ``kid_subsets=50`` reaches KID's ``subsets``, ``pr_k=5``
precision/recall's ``k``. An unknown metric or option is an error listing the valid ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from gankit.errors import GankitError
from gankit.metrics._arrays import as_numpy_2d, check_same_dim
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.prdc import density_coverage, precision_recall


def _fd(real: Any, fake: Any, eps: float = 1e-6) -> dict[str, float]:
    return {"fd": frechet_distance(real, fake, eps=eps)}


def _kid(
    real: Any,
    fake: Any,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> dict[str, float]:
    mean, std = kernel_inception_distance(
        real, fake, subsets, subset_size, degree=degree, gamma=gamma, coef0=coef0, seed=seed
    )
    return {"kid_mean": mean, "kid_std": std}


def _pr(real: Any, fake: Any, k: int = 3) -> dict[str, float]:
    precision, recall = precision_recall(real, fake, k=k)
    return {"precision": precision, "recall": recall}


def _dc(real: Any, fake: Any, k: int = 5) -> dict[str, float]:
    density, coverage = density_coverage(real, fake, k=k)
    return {"density": density, "coverage": coverage}


# name -> function(real, fake, **options) returning named values.
METRICS: dict[str, Callable[..., dict[str, float]]] = {
    "fd": _fd,
    "kid": _kid,
    "pr": _pr,
    "dc": _dc,
}


def _options(name: str) -> list[str]:
    params = list(inspect.signature(METRICS[name]).parameters)[2:]  # skip real, fake
    return [f"{name}_{param}" for param in params]


def compute_metrics(
    real_feats: Any,
    fake_feats: Any,
    names: Sequence[str] = ("fd", "kid", "pr", "dc"),
    *,
    extractor: str | None = None,
    **opts: Any,
) -> dict[str, Any]:
    """Compute the named metrics on (N, D) real and fake features.

    The result also records ``num_real``, ``num_fake``, ``feature_dim`` and, if given, the
    extractor identity: metric values are only comparable with the same counts and extractor.

    Example:
        >>> import torch
        >>> real, fake = torch.randn(300, 8), torch.randn(300, 8) + 0.5
        >>> sorted(compute_metrics(real, fake, names=("fd", "pr"), pr_k=5))
        ['fd', 'feature_dim', 'num_fake', 'num_real', 'precision', 'recall']
    """
    if isinstance(names, str):
        names = (names,)  # "fd" would otherwise be read as ("f", "d")
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise GankitError(f"unknown metrics {unknown}; valid: {sorted(METRICS)}")
    valid_opts = {opt for name in METRICS for opt in _options(name)}
    bad_opts = sorted(set(opts) - valid_opts)
    if bad_opts:
        raise GankitError(f"unknown metric options {bad_opts}; valid: {sorted(valid_opts)}")
    real = as_numpy_2d(real_feats, "real_feats")
    fake = as_numpy_2d(fake_feats, "fake_feats")
    check_same_dim(real, fake, "real_feats and fake_feats")

    report: dict[str, Any] = {
        "num_real": len(real),
        "num_fake": len(fake),
        "feature_dim": real.shape[1],
    }
    if extractor is not None:
        report["extractor"] = extractor
    for name in names:
        prefix = f"{name}_"
        kwargs = {k[len(prefix) :]: v for k, v in opts.items() if k.startswith(prefix)}
        report.update(METRICS[name](real, fake, **kwargs))
    return report
