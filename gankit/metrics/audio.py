"""Scoring generated spoken digits with a judge gankit trains itself on FSDD.

The judge is the small CNN of :mod:`gankit.metrics.classifier` reading a clip's 64 x 64 log-mel
image (:class:`~gankit.data.audio.MelSpectrogram`, the same transform whatever the generator's
own resolution), trained on FSDD's train split (recordings 5-49) and measured on the official
test split (recordings 0-4 of every digit and speaker). A generator is scored from its
**waveforms**, so a spectrogram model is judged after its vocoder, like a waveform model.

- **accuracy**: how often the judge hears the digit that was asked for (overall and per digit);
- **FD**: Fréchet distance between the judge's penultimate features of the generated clips and
  of the real test clips, with its **floor**: the same distance from as many real *train* clips
  (FD is biased upward at small counts, so the floor is taken at the generated count);
- **diversity**: mean pairwise feature distance among the clips of one requested digit, averaged
  over digits, divided by the same for the real test clips (1.0: as varied as real speech; a
  collapsed generator tends to 0).

Example:
    >>> from gankit.data.audio import demo_tones
    >>> tones = demo_tones(64)
    >>> judge = train_audio_judge(tones, steps=5, seed=0)
    >>> scores = audio_quality(judge, tones.waves[:32], tones.labels[:32], tones, tones)
    >>> sorted(scores)[:3]
    ['accuracy', 'accuracy_per_class', 'diversity_ratio']
"""

from __future__ import annotations

from typing import Any

import torch

from gankit.data.audio import AudioData, MelSpectrogram
from gankit.metrics.classifier import DigitClassifier, DigitClassifierConfig, train_digit_classifier
from gankit.metrics.frechet import frechet_distance

JUDGE_RESOLUTION = 64
JUDGE_STEPS = 400  # 9.5 epochs of FSDD's 2,700 train clips at batch 64


def judge_images(waves: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The judge's input for clips (N, samples): float log-mel images (N, 1, 64, 64)."""
    spectrogram = MelSpectrogram(sample_rate, waves.shape[1], JUDGE_RESOLUTION)
    return torch.cat([spectrogram(part) for part in waves.split(512)])


def train_audio_judge(train: AudioData, steps: int = JUDGE_STEPS, seed: int = 0) -> DigitClassifier:
    """A :class:`DigitClassifier` over log-mel images of ``train``'s labelled clips."""
    config = DigitClassifierConfig(num_classes=len(train.class_names))
    images = judge_images(train.waves, train.sample_rate)
    return train_digit_classifier(images, train.labels, steps, seed, batch_size=64, config=config)


@torch.no_grad()
def _read(judge: DigitClassifier, waves: torch.Tensor, rate: int) -> tuple[torch.Tensor, ...]:
    images = judge_images(waves, rate)
    features = judge.features(images)
    return features, judge.head(torch.relu(features)).argmax(1)


def _spread(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean pairwise feature distance within each label, averaged over the labels."""
    spreads = []
    for label in labels.unique():
        group = features[labels == label]
        if len(group) > 1:
            n = len(group)
            spreads.append(torch.cdist(group, group).sum().item() / (n * (n - 1)))
    return sum(spreads) / len(spreads)


def audio_quality(
    judge: DigitClassifier,
    fake_waves: torch.Tensor,
    requested: torch.Tensor,
    real_test: AudioData,
    real_train: AudioData,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy, FD (and its real-train floor) and diversity of ``fake_waves`` (N, samples),
    each asked to be class ``requested[i]``; see the module notes."""
    rate = real_test.sample_rate
    fake_features, heard = _read(judge, fake_waves, rate)
    test_features, test_heard = _read(judge, real_test.waves, rate)
    pick = torch.randperm(len(real_train), generator=torch.Generator().manual_seed(seed))
    train_features, _ = _read(judge, real_train.waves[pick[: len(fake_waves)]], rate)
    hits = (heard == requested).float()
    real_spread = _spread(test_features, real_test.labels)
    return {
        "accuracy": round(hits.mean().item(), 4),
        "accuracy_per_class": {
            name: round(hits[requested == k].mean().item(), 4)
            for k, name in enumerate(real_test.class_names)
            if (requested == k).any()
        },
        "fd": round(frechet_distance(test_features, fake_features), 3),
        "fd_floor": round(frechet_distance(test_features, train_features), 3),
        "diversity_ratio": round(_spread(fake_features, requested) / real_spread, 4),
        "judge_accuracy_on_real_test": round(
            (test_heard == real_test.labels).float().mean().item(), 4
        ),
        "n_generated": len(fake_waves),
        "n_real_test": len(real_test),
    }
