"""Score generated images against real ones under one feature extractor: tensors in, numbers out.

Scoring a model *directory* (load it, draw samples, record the protocol) is a recipe over this,
in :mod:`gankit.tasks.evaluation`.

Example:
    >>> from gankit.data import load_digits
    >>> from gankit.metrics import build_extractor
    >>> extractor = build_extractor("model-dir", path=extractor_dir)
    >>> real = load_digits(16).images[:200].float() / 127.5 - 1
    >>> scores = evaluate_images(real, real.flip(-1), extractor, ("fd", "pr", "modes"))
    >>> scores["fd"] > 0, scores["classes_covered"] <= 10
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from gankit.errors import GankitError
from gankit.metrics.compute import METRICS, compute_metrics
from gankit.metrics.extractors import FeatureExtractor
from gankit.metrics.modes import mode_coverage

# Metrics beyond the feature-space ones in METRICS; "modes" needs an extractor with a class head.
EXTRA_METRICS = ("modes",)


def evaluate_images(
    real: torch.Tensor,
    fake: torch.Tensor,
    extractor: FeatureExtractor,
    metrics: Sequence[str] = ("fd", "kid", "pr", "dc", "modes"),
    num_classes: int | None = None,
) -> dict[str, Any]:
    """Metrics of ``fake`` against ``real`` (both (N, C, H, W) in [-1, 1]) under ``extractor``."""
    unknown = sorted(set(metrics) - set(METRICS) - set(EXTRA_METRICS))
    if unknown:
        valid = ", ".join([*METRICS, *EXTRA_METRICS])
        raise GankitError(f"unknown metric(s) {', '.join(unknown)}; valid: {valid}")
    if "modes" in metrics and not extractor.classes:
        raise GankitError(
            f"metric 'modes' counts predicted classes; the {extractor.kind} extractor has no "
            "class head for this data: drop modes from --metrics, or use a classifier extractor"
        )
    real_features = extractor.extract(real)  # extract() converts channels as the network needs
    fake_features = extractor.extract(fake)
    feature_metrics = [m for m in metrics if m in METRICS]
    result = compute_metrics(
        real_features, fake_features, feature_metrics, extractor=extractor.identity
    )
    if "modes" in metrics:
        with torch.no_grad():
            logits = torch.cat([extractor.module(extractor.prepare(b)) for b in fake.split(256)])
        coverage = mode_coverage(logits.argmax(1), num_classes or logits.shape[1])
        result.update(
            classes_covered=coverage["modes"],
            class_kl_to_uniform=coverage["kl_to_uniform"],
            class_counts=coverage["counts"],
        )
    return result
