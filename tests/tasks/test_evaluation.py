"""Scoring model directories and training runs: evaluate_model, train_extractor, PeriodicEval."""

import json

import pytest

from gankit import ImageGAN, ToyGAN
from gankit.data import load_digits
from gankit.data.images import real_images
from gankit.errors import GankitError
from gankit.metrics.extractors import build_extractor
from gankit.tasks.evaluation import PeriodicEval, evaluate_model, train_extractor

TINY = {"resolution": 16, "batch_size": 8, "model": {"g_width": 8, "d_width": 8}}


@pytest.fixture(scope="module")
def extractor_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("extractor") / "digits"
    extractor = train_extractor("digits", out, steps=20)
    assert "sha256=" in extractor.identity
    return out


def test_evaluate_model_writes_metrics_with_protocol(extractor_dir, tmp_path):
    run = tmp_path / "run"
    ImageGAN(**TINY).fit("digits", steps=2, out=run, quiet=True)
    result = evaluate_model(run, extractor_dir, ("fd", "kid", "pr", "modes"), n=200)
    assert result["protocol"]["n_fake"] == 200 and result["protocol"]["n_real"] == 200
    assert "sha256=" in result["protocol"]["extractor"]
    assert result["metrics"]["fd"] > 0 and 0 <= result["metrics"]["recall"] <= 1
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["eval"] == json.loads(json.dumps(result)) and "quality" in saved  # report kept
    assert (run / "eval.md").is_file()


def test_evaluate_model_refuses_what_it_cannot_score(extractor_dir, tmp_path):
    ToyGAN(model={"hidden": 8}, batch_size=8).fit("ring", steps=1, out=tmp_path / "toy", quiet=True)
    with pytest.raises(GankitError, match="scores models that generate images"):
        evaluate_model(tmp_path / "toy", extractor_dir)
    with pytest.raises(GankitError, match="at least 2"):
        evaluate_model(tmp_path / "toy", extractor_dir, n=1)


def test_periodic_eval_logs_fd_and_keeps_the_best(extractor_dir, tmp_path):
    run = tmp_path / "run"
    extractor = build_extractor("model-dir", path=extractor_dir)
    real = real_images(load_digits(16), 200, seed=0)
    scorer = PeriodicEval(real, extractor, every=2, n=200, best_dir=run / "best")
    gan = ImageGAN(log_every=2, **TINY)
    gan.fit("digits", steps=4, out=run, quiet=True, callbacks=[scorer])
    records = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert all("fd" in r for r in records)
    best = json.loads((run / "best" / "best.json").read_text())
    assert best["step"] in (2, 4) and best["fd"] == min(r["fd"] for r in records)
    assert (run / "best" / "G_ema.safetensors").is_file()
    assert scorer.state_dict() == {"best": best}
