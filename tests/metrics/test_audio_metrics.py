"""The FSDD-style audio scores: a judge trained on two tones hears them, and the scores move the
right way for a perfect, a mislabelled and a collapsed "generator"."""

from __future__ import annotations

import pytest

from gankit.data.audio import demo_tones
from gankit.metrics.audio import audio_quality, train_audio_judge

pytest.importorskip("soundfile")


@pytest.fixture(scope="module")
def tones_and_judge():
    tones = demo_tones(64)
    return tones, train_audio_judge(tones, steps=30, seed=0)


def test_real_clips_score_as_real_and_collapse_or_wrong_labels_show(tones_and_judge):
    tones, judge = tones_and_judge
    real = audio_quality(judge, tones.waves, tones.labels, tones, tones)
    assert real["accuracy"] == real["judge_accuracy_on_real_test"] == 1.0
    assert real["diversity_ratio"] == pytest.approx(1.0)
    assert real["fd"] == pytest.approx(real["fd_floor"], abs=1e-3)  # the same clips
    swapped = audio_quality(judge, tones.waves, 1 - tones.labels, tones, tones)
    assert swapped["accuracy"] == 0.0
    one_clip = tones.waves[:2].repeat(32, 1)  # every "low" the same clip, every "high" too
    collapsed = audio_quality(judge, one_clip, tones.labels, tones, tones)
    assert collapsed["diversity_ratio"] < 0.01 and collapsed["fd"] > real["fd"]
    assert set(collapsed["accuracy_per_class"]) == {"low", "high"}
