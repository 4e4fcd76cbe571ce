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


def test_too_few_images_get_a_note_not_a_crash(tmp_path):
    from dataclasses import replace

    from gankit import ImageGAN
    from gankit.errors import GankitError

    digits = load_digits(16)
    few = replace(digits, images=digits.images[:15], labels=digits.labels[:15])
    with pytest.raises(GankitError, match="at least 20 labelled images"):
        quick.labelled_quality(few, digits.batch(torch.arange(15)), max_steps=1)
    gan = ImageGAN(resolution=16, batch_size=8, model={"g_width": 8, "d_width": 8})
    gan.fit(few, steps=1, quiet=True, out=tmp_path / "run")
    assert (
        "15 images are too few for the quick check" in (tmp_path / "run" / "report.md").read_text()
    )
