"""Metrics over feature arrays, and the feature extractors that produce them.

Every metric is a plain function of (N, D) features (torch or numpy), so the same numbers come
out whichever network produced the features. Pair them with an extractor whose ``identity``
goes into the report.

Example:
    >>> import torch
    >>> from gankit.metrics import compute_metrics, frechet_distance
    >>> real, fake = torch.randn(500, 16), torch.randn(500, 16)
    >>> frechet_distance(real, fake) < 1.0
    True
"""

from gankit.metrics.classifier import (
    DigitClassifier,
    DigitClassifierConfig,
    load_classifier,
    save_classifier,
    train_digit_classifier,
)
from gankit.metrics.compute import METRICS, compute_metrics
from gankit.metrics.extractors import EXTRACTORS, FeatureExtractor, build_extractor
from gankit.metrics.frechet import frechet_distance, frechet_from_stats, gaussian_stats
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.memorization import memorization_ratio
from gankit.metrics.modes import class_histogram, mode_coverage, toy_mode_stats
from gankit.metrics.prdc import density_coverage, precision_recall

__all__ = [
    "EXTRACTORS",
    "METRICS",
    "DigitClassifier",
    "DigitClassifierConfig",
    "FeatureExtractor",
    "build_extractor",
    "class_histogram",
    "compute_metrics",
    "density_coverage",
    "frechet_distance",
    "frechet_from_stats",
    "gaussian_stats",
    "kernel_inception_distance",
    "load_classifier",
    "memorization_ratio",
    "mode_coverage",
    "precision_recall",
    "save_classifier",
    "toy_mode_stats",
    "train_digit_classifier",
]
