"""CycleGAN's frozen digit classifiers for the semantic term (CyCADA, Hoffman et al. 2018).

One classifier is fitted on domain A's labels through :func:`semantic_view`, the deskewed ink frame
that carries over between domains; :func:`adapt_semantic_classifier` self-trains a second one on
domain B's unlabelled images. Both are fitted before the game and frozen: the semantic term moves
G, never them. Gray means ITU-R luma (:func:`gankit.imageops.to_gray`) here as everywhere.

Example:
    >>> images = torch.randint(0, 256, (16, 1, 32, 32), dtype=torch.uint8)
    >>> classifier = train_semantic_classifier(images, torch.arange(16) % 2, 2, steps=2, seed=0)
    >>> classifier(semantic_view(images.float() / 127.5 - 1)).shape
    torch.Size([16, 2])
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.data.ink import aligned_ink
from gankit.errors import GankitError
from gankit.imageops import to_gray
from gankit.metrics.classifier import (
    DigitClassifier,
    DigitClassifierConfig,
    shift_and_rotate,
    train_digit_classifier,
)

# The digit classifier's input size: the aligned frame is drawn straight at it.
_SEMANTIC_FRAME = 28


# The semantic classifiers' augmentation: shifts up to 2 px and turns up to 10 degrees, in
# training and, with semantic_jitter, when they read a translation.
_JITTER_SHIFT = 2.0
_JITTER_ROTATION = 10.0


def semantic_jitter(images: Tensor, generator: torch.Generator) -> Tensor:
    """A random shift (up to 2 px) and turn (up to 10 degrees) from ``generator``.

    The classifiers' training augmentation; the semantic term reads translations through it too
    (``semantic_jitter``), so they are judged as the classifiers were taught.

    Example:
        >>> semantic_jitter(torch.zeros(2, 1, 28, 28), torch.Generator().manual_seed(0)).shape
        torch.Size([2, 1, 28, 28])
    """
    return shift_and_rotate(images, generator, _JITTER_SHIFT, _JITTER_ROTATION)


def semantic_view(images: Tensor) -> Tensor:
    """What CycleGAN's semantic classifier reads: the deskewed ink frame at 28 px, in [-1, 1].

    The frame (:func:`aligned_ink` with ``deskew``) removes position, size, slant and stroke
    width, which is most of what tells one domain's digits from another's; a classifier trained
    on one domain through this view then carries over to the other far better than one trained
    on the images as they are (bench/translate_digits.py prints both for scikit-learn digits
    -> MNIST).

    Example:
        >>> semantic_view(torch.rand(2, 3, 32, 32) * 2 - 1).shape
        torch.Size([2, 1, 28, 28])
    """
    return aligned_ink(images, _SEMANTIC_FRAME, deskew=True) * 2 - 1


def train_semantic_classifier(
    images: Tensor, labels: Tensor, num_classes: int, steps: int, seed: int
) -> DigitClassifier:
    """A frozen classifier of uint8 ``images`` (N, C, H, W) by ``labels``, through the view.

    It reads :func:`semantic_view`. Shifts of up to 2 px and turns of up to 10 degrees widen
    the few thousand images a domain may hold; the same seed gives the same weights (CPU).
    Every parameter is frozen and the model comes back in eval mode: the semantic term moves
    G, never the classifier.

    Example:
        >>> images = torch.randint(0, 256, (16, 1, 32, 32), dtype=torch.uint8)
        >>> model = train_semantic_classifier(images, torch.arange(16) % 2, 2, steps=2, seed=0)
        >>> model(semantic_view(images.float() / 127.5 - 1)).shape
        torch.Size([16, 2])
    """
    with torch.no_grad():
        views = torch.cat([semantic_view(chunk.float() / 127.5 - 1) for chunk in images.split(512)])
    model = train_digit_classifier(
        views,
        labels,
        steps=steps,
        seed=seed,
        batch_size=64,
        config=DigitClassifierConfig(num_classes=num_classes),
        max_shift=_JITTER_SHIFT,
        max_rotation=_JITTER_ROTATION,
    )
    return model.requires_grad_(False)


def adapt_semantic_classifier(
    classifier: DigitClassifier,
    images: Tensor,
    steps: int,
    seed: int,
    keep: float = 0.5,
    rounds: int = 1,
) -> DigitClassifier:
    """A classifier of the other domain's unlabelled uint8 ``images``, taught by ``classifier``.

    Self-training with class-balanced selection (Zou et al. 2018): ``classifier`` labels every
    image through :func:`semantic_view`; of the images it gives each class, the most confident
    ``keep`` share become the training set of a new classifier. The new one has seen only the
    other domain's images, and reads them as they are (gray, :func:`~gankit.imageops.to_gray`),
    not through the view: it learns a class the way that domain draws it, position, size and
    stroke included, so a translation must look like that domain's digit to satisfy it. No label
    of that domain is used. Augmentation and seeding are those of :func:`train_semantic_classifier`.

    Each further round (``rounds`` > 1) relabels the images with the previous student, which
    already reads the domain as it is drawn, and keeps 0.2 more of each class (up to all of
    it), with steps in proportion to the images kept so every round makes the same passes over
    them. On digits -> MNIST, three rounds name 95.7 % of the MNIST test digits against 94.2 %
    for one (a diagnostic with MNIST's test labels; docs/BENCHMARKS.md).

    Example:
        >>> images = torch.randint(0, 256, (32, 1, 32, 32), dtype=torch.uint8)
        >>> teacher = train_semantic_classifier(images, torch.arange(32) % 2, 2, steps=2, seed=0)
        >>> student = adapt_semantic_classifier(teacher, images, steps=2, seed=0, rounds=2)
        >>> student(to_gray(images.float() / 127.5 - 1)).shape
        torch.Size([32, 2])
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise GankitError(
            f"adapt_semantic_classifier rounds must be an integer >= 1, got {rounds!r}"
        )
    if not 0 < keep <= 1:  # also refuses NaN
        raise GankitError(f"adapt_semantic_classifier keep must be in (0, 1], got {keep!r}")
    teacher, view, share = classifier, semantic_view, keep
    for _ in range(rounds):
        device = next(teacher.parameters()).device
        with torch.no_grad():
            probabilities = torch.cat(
                [
                    teacher(view(chunk.to(device).float() / 127.5 - 1)).softmax(1).cpu()
                    for chunk in images.split(4096)
                ]
            )
        confidence, labels = probabilities.max(1)
        chosen = []
        for label in labels.unique():
            members = (labels == label).nonzero().flatten()
            count = max(1, round(share * len(members)))
            chosen.append(members[confidence[members].argsort(descending=True)[:count]])
        chosen = torch.cat(chosen).sort().values
        teacher = train_digit_classifier(
            to_gray(images[chosen].float() / 127.5 - 1),
            labels[chosen],
            steps=max(1, round(steps * share / keep)),
            seed=seed,
            batch_size=64,
            config=classifier.config,
            max_shift=_JITTER_SHIFT,
            max_rotation=_JITTER_ROTATION,
        ).requires_grad_(False)
        view, share = to_gray, min(1.0, share + 0.2)
    return teacher
