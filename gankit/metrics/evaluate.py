"""Evaluate a trained model directory against real data with a pinned protocol.

Every result records the protocol that produced it (extractor identity with its weights hash, the
sample counts, the seed and the reference data) because GAN numbers are only comparable under
the same protocol.

Example:
    >>> result = evaluate_model("runs/mnist", "extractors/mnist")  # doctest: +SKIP
    >>> result["metrics"]["fd"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gankit.data import ImageData, open_dataset
from gankit.data.images import to_gray
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes, read_json, write_json
from gankit.metrics.classifier import DigitClassifierConfig, save_classifier, train_digit_classifier
from gankit.metrics.compute import METRICS, compute_metrics
from gankit.metrics.extractors import FeatureExtractor, build_extractor
from gankit.metrics.modes import mode_coverage

# Metrics beyond the feature-space ones in METRICS; "modes" needs an extractor with a class head.
EXTRA_METRICS = ("modes",)


def real_images(data: ImageData, n: int, seed: int) -> torch.Tensor:
    """Up to ``n`` real images in [-1, 1], a seeded random subset when the dataset is larger."""
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return data.batch(order.sort().values)


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


def evaluate_model(
    model_dir: str | Path,
    extractor_path: str | Path | FeatureExtractor,
    metrics: Sequence[str] | None = None,
    n: int = 10_000,
    reference: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate ``model_dir``; writes ``eval`` into its ``metrics.json`` and a summary ``eval.md``.

    ``reference`` is the real data to compare with (a dataset name or folder); by default the data
    the model was trained on. ``n`` samples are generated from ``seed`` and as many real images
    (or all, if fewer) are drawn. ``extractor_path`` is an extractor directory or a built
    :class:`FeatureExtractor` (e.g. ``build_extractor("inception", path=weights)``); ``metrics``
    defaults to fd, kid, pr, dc, plus modes when the extractor has a class head.
    """
    from gankit.tasks import load

    if n < 2:
        raise GankitError(f"--n must be at least 2 samples, got {n}")
    gan = load(model_dir)
    if gan.task != "images":
        raise GankitError(f"gankit eval scores image models; {model_dir} is a {gan.task!r} model")
    source = reference or gan.data_info.get("source")
    if source is None:
        raise GankitError(f"{model_dir} was trained on in-memory data; pass --reference DATA")
    data = open_dataset(source, gan.data_info["resolution"], gan.data_info["channels"])
    extractor = (
        extractor_path
        if isinstance(extractor_path, FeatureExtractor)
        else build_extractor("model-dir", path=extractor_path)
    )
    if metrics is None:
        metrics = ("fd", "kid", "pr", "dc", *(("modes",) if extractor.classes else ()))
    real = real_images(data, n, seed)
    fake = gan.generate_raw(n, seed=seed)
    result = {
        "metrics": evaluate_images(real, fake, extractor, metrics),
        "protocol": {
            "extractor": extractor.identity,
            "extractor_kind": extractor.kind,
            "weights_sha256": extractor.weights_sha256,
            "resize": extractor.resize,
            "n_real": len(real),
            "n_fake": len(fake),
            "seed": seed,
            "reference": str(source),
            "ema": True,
        },
    }
    path = Path(model_dir) / "metrics.json"
    previous = read_json(path) if path.is_file() else {}
    write_json(path, {**previous, "eval": result})
    lines = [
        "# gankit eval",
        "",
        *[f"- {k}: {v}" for k, v in result["metrics"].items() if k != "class_counts"],
        "",
        "Protocol:",
        *[f"- {k}: {v}" for k, v in result["protocol"].items()],
        "",
    ]
    atomic_write_bytes(Path(model_dir) / "eval.md", "\n".join(lines).encode())
    return result


def train_extractor(
    data: str, out: str | Path, steps: int = 936, seed: int = 0, resolution: int = 28
) -> FeatureExtractor:
    """Train a digit/class classifier on labelled ``data`` and save it as an extractor directory."""
    dataset = open_dataset(data, resolution, None)
    if dataset.labels is None:
        raise GankitError(f"{data} has no labels; a classifier extractor needs class sub-folders")
    images = to_gray(dataset.batch(torch.arange(len(dataset))))
    config = DigitClassifierConfig(num_classes=len(dataset.class_names))
    model = train_digit_classifier(images, dataset.labels, steps=steps, seed=seed, config=config)
    save_classifier(model, out, metadata={"data": str(data), "steps": steps, "seed": seed})
    return build_extractor("model-dir", path=out)
