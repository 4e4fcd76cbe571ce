"""The anomaly detector: it separates a synthetic anomaly, its threshold keeps its false-positive
rate on fresh normals, save/load keeps every score, tables work as well as images, and bad input
gets one clear message."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from gankit import AnomalyDetector, GankitError, load
from gankit.cli import main
from gankit.data import load_digits
from gankit.serve.models import load_models
from gankit.tasks.anomaly import PARTS, auroc, parse_score

TINY = {"width": 8, "latent_dim": 8}


@pytest.fixture(scope="module")
def zeros(tmp_path_factory):
    """A detector of the digit 0 (16 px digits), trained briefly, and its model directory."""
    run = tmp_path_factory.mktemp("anomaly") / "zeros"
    detector = AnomalyDetector(normal_class=0, resolution=16, model=TINY, batch_size=32, seed=0)
    detector.fit("digits", steps=60, out=run, quiet=True)
    return detector, run


@pytest.fixture(scope="module")
def table_detector():
    """A table detector of 3 correlated Gaussian columns, with fresh normal rows to test on."""
    rng = np.random.default_rng(0)
    mix = np.array([[1.0, 0.8, 0.0], [0.0, 0.6, 0.5], [0.0, 0.0, 0.7]])
    rows = pd.DataFrame(rng.normal(size=(3000, 3)) @ mix, columns=["a", "b", "c"])
    fresh = pd.DataFrame(rng.normal(size=(4000, 3)) @ mix, columns=["a", "b", "c"])
    detector = AnomalyDetector("table", holdout=0.3, batch_size=64, seed=0, model={"width": 32})
    return detector.fit(rows, steps=150, quiet=True), fresh


def test_inverted_digits_score_far_above_normal_ones(zeros):
    detector, _ = zeros
    digits = load_digits(16)
    normal = digits.images[digits.labels == 0][-40:]
    inverted = 255 - normal
    scores_normal, scores_inverted = detector.score(normal), detector.score(inverted)
    assert auroc(scores_normal, scores_inverted) == 1.0
    assert scores_inverted.min() > detector.threshold(0.01)
    # Every named part is defined, and most of them also see the inversion.
    for part in PARTS:
        assert torch.isfinite(detector.score(inverted, score=part)).all()
    pixel = [detector.score(images, score="pixel") for images in (normal, inverted)]
    assert auroc(*pixel) > 0.9


def test_the_report_has_validation_auroc_roc_histograms_and_heatmaps(zeros):
    _, run = zeros
    report = (run / "report.md").read_text()
    for name in ("roc.png", "scores.png", "heatmaps.png"):
        assert (run / name).is_file() and f"({name})" in report
    assert "auroc_knn" in report  # the other digits of the same data are validation anomalies


def test_save_load_gives_identical_scores_thresholds_and_heatmaps(zeros):
    detector, run = zeros
    reloaded = load(run)
    images = load_digits(16).images[:20]
    for score in ("knn", "pixel+knn", "feature+latent"):
        assert torch.equal(reloaded.score(images, score=score), detector.score(images, score=score))
        assert reloaded.threshold(0.05, score=score) == detector.threshold(0.05, score=score)
    assert torch.equal(reloaded.explain(images), detector.explain(images))
    assert torch.equal(detector.score(images), detector.score(images))  # deterministic


def test_explain_maps_each_pixel(zeros):
    detector, _ = zeros
    heat = detector.explain(load_digits(16).images[:3])
    assert heat.shape == (3, 16, 16) and (heat >= 0).all()


def test_threshold_keeps_its_false_positive_rate_on_fresh_normals(table_detector):
    detector, fresh = table_detector
    scores = detector.score(fresh)
    n_calibration = round(3000 * 0.3)
    for fpr in (0.05, 0.1):
        flagged = (scores > detector.threshold(fpr)).double().mean().item()
        # Sampling error of the calibration quantile and of the fresh rows, 3 sigma.
        sigma = math.sqrt(fpr * (1 - fpr) * (1 / n_calibration + 1 / len(fresh)))
        assert abs(flagged - fpr) < 3 * sigma, (fpr, flagged)


def test_table_rows_far_from_normal_score_high(table_detector):
    detector, fresh = table_detector
    outliers = fresh.iloc[:200] + np.array([0.0, 4.0, -4.0])
    assert auroc(detector.score(fresh.iloc[200:]), detector.score(outliers)) > 0.95
    heat = detector.explain(outliers.iloc[:5])
    assert heat.shape == (5, 3)
    assert detector.describe()["columns"] == ["a", "b", "c"]
    # The same rows as an array score the same.
    assert torch.equal(detector.score(outliers.to_numpy()), detector.score(outliers))


@pytest.mark.parametrize(
    "bad,message",
    [
        (lambda: torch.zeros(2, 3, 16, 16, dtype=torch.uint8), "channels|images"),
        (lambda: torch.full((2, 1, 16, 16), float("nan")), "NaN"),
        (lambda: torch.zeros(0, 1, 16, 16, dtype=torch.uint8), "nothing to score"),
        (lambda: [], "empty"),
        (lambda: "no/such/image.png", "not found"),
    ],
)
def test_bad_images_are_refused_with_one_message(zeros, bad, message):
    with pytest.raises(GankitError, match=message):
        zeros[0].score(bad())


def test_bad_rows_and_settings_are_refused_with_one_message(table_detector, zeros):
    detector, fresh = table_detector
    with pytest.raises(GankitError, match=r"\(N, 3\)"):
        detector.score(np.zeros((2, 4)))
    with pytest.raises(GankitError, match="NaN"):
        detector.score(fresh.iloc[:3].assign(b=[1.0, np.nan, 2.0]))
    with pytest.raises(GankitError, match="lacks column"):
        detector.score(fresh[["a", "b"]])
    with pytest.raises(GankitError, match="not numeric"):
        detector.score(fresh.iloc[:2].assign(c=["x", "y"]))
    with pytest.raises(GankitError, match="unknown anomaly score"):
        detector.score(fresh, score="pixel+typo")
    with pytest.raises(GankitError, match="fpr"):
        detector.threshold(1.5)
    with pytest.raises(GankitError, match="ONNX"):
        zeros[0].network()
    with pytest.raises(GankitError, match="not a class"):
        AnomalyDetector(normal_class="eleven", resolution=16).fit("digits", steps=1, quiet=True)
    with pytest.raises(GankitError, match="holdout"):
        AnomalyDetector(holdout=1.0)
    assert parse_score("knn+pixel") == ("knn", "pixel")


def test_cli_trains_scores_a_folder_into_csv_and_refuses_export(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    digits = load_digits(16)
    for i, image in enumerate(digits.images[:6]):
        Image.fromarray(image[0].numpy()).save(images / f"d{i}.png")
    (tmp_path / "empty").mkdir()
    run = tmp_path / "a0"
    argv = ["train", "--task", "anomaly", "--data", "digits", "--normal-class", "0"]
    argv += ["--resolution", "16", "--batch-size", "16", "--steps", "2", "--quiet"]
    argv += ["--set", "model.width=8", "--set", "model.latent_dim=8", "--out", str(run)]
    assert main(argv) == 0, capsys.readouterr().err
    out = tmp_path / "scores.csv"
    assert main(["apply", str(run), str(images), "-o", str(out), "--fpr", "0.05"]) == 0
    rows = pd.read_csv(out)
    assert list(rows.columns) == ["path", "score", "anomalous"] and len(rows) == 6
    detector = load(run)
    expected = detector.score(digits.images[:6]).numpy()
    assert np.allclose(rows.sort_values("path")["score"], expected, atol=1e-5)
    assert main(["apply", str(run), str(tmp_path / "empty"), "-o", str(out)]) != 0
    assert "holds no images" in capsys.readouterr().err
    assert main(["export", str(run), "-o", str(tmp_path / "a.onnx")]) != 0
    assert "cannot be exported to ONNX" in capsys.readouterr().err
    with pytest.raises(GankitError, match="gankit serve does not serve"):
        load_models([run])


def test_cli_scores_table_rows_into_csv(tmp_path, capsys):
    rng = np.random.default_rng(1)
    pd.DataFrame(rng.normal(size=(200, 2)), columns=["u", "v"]).to_csv(
        tmp_path / "n.csv", index=False
    )
    new = pd.DataFrame({"u": [0.0, 8.0], "v": [0.1, -8.0], "note": ["ok", "far"]})
    new.to_csv(tmp_path / "new.csv", index=False)
    run = tmp_path / "t"
    argv = ["train", "--task", "anomaly", "--preset", "table", "--data", str(tmp_path / "n.csv")]
    assert main([*argv, "--steps", "30", "--batch-size", "32", "--quiet", "--out", str(run)]) == 0
    out = tmp_path / "scored.csv"
    assert main(["apply", str(run), str(tmp_path / "new.csv"), "-o", str(out)]) == 0
    scored = pd.read_csv(out)
    assert list(scored.columns) == ["u", "v", "note", "score", "anomalous"]
    assert scored["score"][1] > scored["score"][0]
    assert main(["apply", str(run), str(tmp_path / "new.csv"), "-o", str(tmp_path / "x.png")]) != 0
    assert "name it .csv" in capsys.readouterr().err


def test_a_reloaded_detector_keeps_its_held_out_share(table_detector, tmp_path):
    detector, fresh = table_detector
    reloaded = load(detector.save(tmp_path / "t"))
    data, info = reloaded.open_data(fresh)  # resume and fine-tuning reopen data this way
    assert info["holdout"] == 0.3 and len(data.holdout) == round(len(fresh) * 0.3)
