"""Scoring images under an extractor (tensors in), and `gankit eval` end to end on digits.

The model-directory recipes themselves (evaluate_model, PeriodicEval) are tested in
tests/tasks/test_evaluation.py.
"""

import json

import pytest
import torch

from gankit.cli import main
from gankit.data import load_digits
from gankit.data.images import real_images
from gankit.errors import GankitError
from gankit.metrics.evaluate import evaluate_images
from gankit.metrics.extractors import build_extractor
from gankit.tasks.evaluation import train_extractor


@pytest.fixture(scope="module")
def extractor_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("extractor") / "digits"
    train_extractor("digits", out, steps=20)
    return out


def test_real_against_itself_scores_as_perfect(extractor_dir):
    extractor = build_extractor("model-dir", path=extractor_dir)
    real = real_images(load_digits(16), 300, seed=0)
    result = evaluate_images(real, real, extractor, ("fd", "pr", "modes"))
    assert result["fd"] == pytest.approx(0.0, abs=1e-3)
    assert result["precision"] == 1.0 and result["recall"] == 1.0
    assert result["classes_covered"] == 10
    noise = torch.rand_like(real) * 2 - 1
    assert evaluate_images(real, noise, extractor, ("fd",))["fd"] > 10 * max(result["fd"], 0.01)


def test_eval_writes_metrics_with_protocol(extractor_dir, tmp_path, capsys, tiny_train_args):
    run = tmp_path / "run"
    assert main(["train", *tiny_train_args, "--steps", "2", "--out", str(run)]) == 0
    assert (
        main(
            [
                "eval",
                str(run),
                "--extractor",
                str(extractor_dir),
                "--n",
                "200",
                "--metrics",
                "fd,kid,pr,modes",
            ]
        )
        == 0
    )
    result = json.loads((run / "metrics.json").read_text())["eval"]
    assert result["protocol"]["n_fake"] == 200 and result["protocol"]["n_real"] == 200
    assert "sha256=" in result["protocol"]["extractor"]
    assert result["metrics"]["fd"] > 0 and 0 <= result["metrics"]["recall"] <= 1
    assert (run / "eval.md").is_file()
    assert "quality" in json.loads((run / "metrics.json").read_text())  # training report kept


def test_eval_every_logs_fd_and_keeps_the_best(extractor_dir, tmp_path, tiny_train_args):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                *tiny_train_args,
                "--steps",
                "4",
                "--log-every",
                "2",
                "--out",
                str(run),
                "--eval-every",
                "2",
                "--extractor",
                str(extractor_dir),
            ]
        )
        == 0
    )
    records = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert all("fd" in r for r in records)
    best = json.loads((run / "best" / "best.json").read_text())
    assert best["step"] in (2, 4) and best["fd"] == min(r["fd"] for r in records)
    assert (run / "best" / "G_ema.safetensors").is_file()


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["eval", "runs/none"], "--extractor"),
        (["eval", "train-extractor", "--data", "digits"], "--out"),
    ],
)
def test_eval_bad_input_is_one_clear_line(argv, needle, capsys):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_unknown_metric_is_refused(extractor_dir):
    extractor = build_extractor("model-dir", path=extractor_dir)
    real = real_images(load_digits(16), 20, seed=0)
    with pytest.raises(GankitError, match="unknown metric"):
        evaluate_images(real, real, extractor, ("fid",))
