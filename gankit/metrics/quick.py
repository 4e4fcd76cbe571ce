"""A quick, self-contained quality check for labelled image datasets, used by training reports.

A small classifier is trained on 90 % of a seeded subset of the real images (at most
``REAL_POOL``), so no external weights are needed. Generated images are then scored with its
penultimate features (Fréchet distance) and its predictions (class coverage). The same FD
between the training images and the held-out 10 % shows the noise floor (at a shared sample
count): a generator cannot be expected to beat real data.
"""

from __future__ import annotations

from typing import Any

import torch

from gankit.data.images import to_gray
from gankit.errors import GankitError
from gankit.metrics.classifier import DigitClassifierConfig, train_digit_classifier
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.modes import mode_coverage

# The check reads a seeded subset of at most this many real images: enough for a 3-epoch
# classifier and a stable FD, while reading all of MNIST cost 12 GB and minutes (issue 21).
REAL_POOL = 10_000
# Below this the 10 % held out is under 2 images, and FD needs 2 per set.
MIN_REAL = 20
# Images per forward pass: a conv net's activations for 50,000 digits at once are gigabytes.
CHUNK = 500


def _chunked(fn: Any, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([fn(chunk) for chunk in images.split(CHUNK)])


def labelled_quality(
    dataset: Any,
    fakes: torch.Tensor,
    seed: int = 0,
    max_steps: int = 300,
    fake_labels: torch.Tensor | None = None,
) -> dict[str, Any]:
    """FD, class coverage and KL-to-uniform of generated images under a classifier trained here.

    ``dataset`` is an :class:`~gankit.data.ImageData` with labels; ``fakes`` the raw generator
    output in [-1, 1]. ``fake_labels`` (the classes a conditional G was asked for) adds how often
    the classifier agrees with the request, overall and per class.

    Example:
        >>> from gankit.data import load_digits
        >>> gan = load(image_model)  # 16-px digits
        >>> scores = labelled_quality(load_digits(16), gan.generate_raw(200), max_steps=20)
        >>> scores["fd"] > 0, scores["classes_covered"] <= 10
        (True, True)
    """
    if len(dataset) < MIN_REAL:
        raise GankitError(
            f"the quick quality check needs at least {MIN_REAL} labelled images, "
            f"'{dataset.name}' has {len(dataset)}; score the model with `gankit eval` instead"
        )
    pool = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    pool = pool[:REAL_POOL]
    real, labels = to_gray(dataset.batch(pool)), dataset.labels[pool]
    n_test = len(real) // 10  # at least 2 (MIN_REAL)
    test, train = torch.arange(n_test), torch.arange(n_test, len(real))
    num_classes = len(dataset.class_names)
    steps = min(max_steps, max(3 * len(train) // 128, 1))
    classifier = train_digit_classifier(
        real[train],
        labels[train],
        steps=steps,
        seed=seed,
        config=DigitClassifierConfig(num_classes=num_classes),
    )
    with torch.no_grad():
        accuracy = (
            (_chunked(classifier, real[test]).argmax(1) == labels[test]).float().mean().item()
        )
        n = min(len(fakes), len(train))
        fake_features = _chunked(classifier.features, to_gray(fakes[:n]))
        train_features = _chunked(classifier.features, real[train])
        test_features = _chunked(classifier.features, real[test])
        predicted = _chunked(classifier, to_gray(fakes)).argmax(1)
    coverage = mode_coverage(predicted, num_classes)
    # FD is biased upward at small N, so the real-data floor is compared at one shared count.
    m = min(n_test, n)
    agreement: dict[str, Any] = {}
    if fake_labels is not None:
        hits = (predicted == fake_labels).float()
        agreement = {
            "label_accuracy": round(hits.mean().item(), 4),
            "label_accuracy_per_class": {
                name: round(hits[fake_labels == k].mean().item(), 4)
                for k, name in enumerate(dataset.class_names)
                if (fake_labels == k).any()
            },
            "classifier_accuracy_on_real": round(accuracy, 4),
        }
    return {
        **agreement,
        "fd": round(frechet_distance(train_features[:n], fake_features), 3),
        "n_generated": n,
        f"fd_at_n{m}": round(frechet_distance(train_features, fake_features[:m]), 3),
        f"fd_real_holdout_at_n{m}": round(frechet_distance(train_features, test_features[:m]), 3),
        "classes_covered": coverage["modes"],
        "num_classes": num_classes,
        "class_kl_to_uniform": round(coverage["kl_to_uniform"], 4),
        "extractor": (
            f"classifier trained on {len(train)} real images for {steps} steps "
            f"(seed {seed}), held-out accuracy {accuracy:.3f}; penultimate features"
        ),
    }
