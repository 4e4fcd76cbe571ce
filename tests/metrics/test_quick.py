"""The training report's quick quality check reads a bounded subset, in bounded chunks."""

import pytest
import torch

from gankit.data import load_digits
from gankit.metrics import quick


def test_reads_at_most_the_pool_and_chunks_do_not_change_the_scores(monkeypatch):
    digits = load_digits(16)
    fakes = digits.batch(torch.arange(400)).flip(-1)  # mirrored digits: a poor generator
    monkeypatch.setattr(quick, "REAL_POOL", 300)
    whole = quick.labelled_quality(digits, fakes, max_steps=5)
    assert "trained on 270 real images" in whole["extractor"]  # 90 % of 300, not of 1,797
    assert whole["n_generated"] == 270 and "fd_real_holdout_at_n30" in whole
    monkeypatch.setattr(quick, "CHUNK", 37)
    chunked = quick.labelled_quality(digits, fakes, max_steps=5)
    assert chunked["classes_covered"] == whole["classes_covered"]
    for key in ("fd", "fd_at_n30", "class_kl_to_uniform"):
        assert chunked[key] == pytest.approx(whole[key], rel=1e-3)
