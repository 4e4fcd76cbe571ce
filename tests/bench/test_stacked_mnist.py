"""bench/stacked_mnist.py: checkpoints along the run, on a training clock that judging stops."""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import stacked_mnist  # noqa: E402

from gankit import ImageGAN  # noqa: E402


def test_mode_checkpoints_judge_at_each_mark_outside_the_budget_and_stop_at_the_last(
    monkeypatch,
):
    judged = []

    def slow_judge(judge, images):  # stands in for the MNIST judge: 2 s per checkpoint
        judged.append(images.shape)
        time.sleep(2)
        return torch.arange(len(images)) % 7

    monkeypatch.setattr(stacked_mnist, "classify", slow_judge)
    # self-conditioned, so the checkpoint must hand G_ema the data's cluster frequencies
    gan = ImageGAN("default", resolution=16, model={"g_width": 8, "d_width": 8}, batch_size=8)
    marks = [0.2, 0.4, 0.6]
    checkpoints = stacked_mnist.ModeCheckpoints(gan, judge=None, marks=marks, n=40)
    gan.fit("digits", steps=10**6, quiet=True, callbacks=[checkpoints])
    assert gan.history["stopped_early"] == "budget spent"
    assert judged == [(40, 1, 16, 16)] * 3
    points = checkpoints.points
    assert [p["modes"] for p in points] == [7, 7, 7]
    for mark, point in zip(marks, points, strict=True):
        # judged at the first step past its mark, on a clock that skipped the 2-s judgings
        # (counted, the second mark would be passed at 2.2 s); a slack for a slow machine's step
        assert mark <= point["seconds"] < mark + 1.5, (mark, point)
    assert points[-1]["steps"] == gan.history["steps"]
    assert points[-1]["images_seen"] == gan.history["steps"] * 8
    assert checkpoints.judging >= 6
    sizes = torch.tensor(gan.data_info["clusters"], dtype=torch.float32)
    assert torch.allclose(gan.G_ema.frequencies, sizes / sizes.sum())
