"""The privacy report: the attack scores copying high and an independent sample near 0.5."""

import json

import numpy as np
import pandas as pd
import pytest

from gankit import GankitError
from gankit.cli import main
from gankit.metrics.privacy import privacy_report


def population(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.lognormal(size=n),
            "c": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
        }
    )


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    real = population(1500, seed=0)
    return real[:500], real[500:]


def test_attack_scores_a_memorising_generator_high(split):
    train, holdout = split
    report = privacy_report(train, holdout, synthetic=train, n=200)
    assert report["mia_auc"] > 0.95 and report["mia_auc_outliers"] > 0.95
    assert report["exact_copies"] == 1.0 and report["privacy_ratio"] == 0.0
    assert report["nndr_synthetic_median"] == 0.0 < report["nndr_holdout_median"]


def test_attack_scores_an_independent_sample_near_one_half(split):
    train, holdout = split
    aucs = [
        privacy_report(train, holdout, synthetic=population(1500, seed), n=200, seed=seed)
        for seed in (1, 2, 3)
    ]
    assert abs(np.mean([r["mia_auc"] for r in aucs]) - 0.5) < 0.05
    assert abs(np.mean([r["mia_auc_outliers"] for r in aucs]) - 0.5) < 0.1
    assert all(0.8 < r["privacy_ratio"] < 1.25 and r["exact_copies"] == 0.0 for r in aucs)


def test_noisy_copies_land_between(split):
    train, holdout = split
    noisy = train.assign(x=train["x"] + np.random.default_rng(0).normal(0, 0.3, len(train)))
    auc = privacy_report(train, holdout, synthetic=noisy, n=200)["mia_auc"]
    assert 0.55 < auc < 0.95


def test_too_few_rows_and_missing_columns_are_named(split):
    train, holdout = split
    with pytest.raises(GankitError, match="at least 20"):
        privacy_report(train, holdout[:30], synthetic=train)
    with pytest.raises(GankitError, match=r"lacks column\(s\) \['c'\]"):
        privacy_report(train, holdout, synthetic=train.drop(columns="c"))


def test_cli_eval_holdout_reports_any_synthetic_csv(split, tmp_path, capsys):
    train, holdout = split
    for name, frame in (("train", train), ("holdout", holdout), ("synthetic", train)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["eval", str(tmp_path / "synthetic.csv"), "--holdout", str(tmp_path / "holdout.csv")]
    assert main([*args, "--reference", str(tmp_path / "train.csv")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mia_auc"] > 0.95 and report["protocol"]["seed"] == 0
    assert main(args) != 0  # no training table to compare with
    assert "--reference TRAIN.csv" in capsys.readouterr().err
