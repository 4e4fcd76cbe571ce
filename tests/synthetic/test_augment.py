"""gankit augment: few labelled images and imbalanced tables, end to end at a tiny size."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from gankit import GankitError, augment_dataset
from gankit.cli import main
from gankit.data import ImageData, open_dataset
from gankit.data.tabular import demo_table
from gankit.synthetic import augment_images, augment_table, write_image_set
from gankit.synthetic.images import subset
from gankit.synthetic.report import (
    IMAGE_ROWS,
    TABLE_ROWS,
    compare_images,
    compare_table,
    recommendation,
)

TINY_IMAGES = {"steps": 2, "model": {"g_width": 8, "d_width": 8}, "batch_size": 8}
TINY_TABLE = {"steps": 2, "batch_size": 20}


@pytest.fixture(scope="module")
def digits() -> ImageData:
    return open_dataset("digits", resolution=16)


@pytest.fixture(scope="module")
def mixed(digits):
    return augment_images(digits, labels_per_class=3, synthetic_fraction=0.75, **TINY_IMAGES)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    df = demo_table(200).drop(columns=["joined", "day"]).dropna()
    df["label"] = (df["age"] > 60).map({True: "old", False: "young"})
    return df.reset_index(drop=True)


@pytest.fixture(scope="module")
def oversampled(table):
    return augment_table(table, "label", **TINY_TABLE)


def test_mixed_image_set_has_the_requested_ratio_and_labels(mixed):
    data = mixed.data
    assert (mixed.real_count, mixed.synthetic_count) == (30, 90)  # 90 / 120 = 0.75
    assert torch.equal(data.images[:30], mixed.real.images)  # the real images come first
    assert torch.bincount(data.labels[mixed.synthetic]).tolist() == [9] * 10  # balanced
    assert torch.bincount(data.labels[~mixed.synthetic]).tolist() == [3] * 10
    assert data.images.dtype == torch.uint8 and data.images.shape[1:] == (1, 16, 16)
    # The labels are what the model was asked for: the same seed draws the same images.
    sevens = data.images[mixed.synthetic][data.labels[mixed.synthetic] == 7]
    again = mixed.model.generate(len(sevens), seed=1, condition=7)
    assert sevens.shape == again.shape


def test_synthetic_only_set_is_balanced_and_reuses_a_model(digits, mixed):
    result = augment_images(digits, labels_per_class=3, n=25, gan=mixed.model, seed=0)
    assert (result.real_count, result.synthetic_count) == (0, 25)
    assert torch.bincount(result.data.labels).tolist() == [3] * 5 + [2] * 5
    same = augment_images(digits, labels_per_class=3, n=25, gan=mixed.model, seed=0)
    assert torch.equal(result.data.images, same.data.images)


def test_written_folder_reads_back_with_its_classes(mixed, tmp_path):
    folder = write_image_set(mixed, tmp_path / "augmented")
    back = open_dataset(str(folder), resolution=16, channels=1)
    assert len(back) == 120 and back.class_names == mixed.data.class_names
    assert len(list(folder.glob("*/synthetic-*.png"))) == 90
    with pytest.raises(GankitError, match="not empty"):
        write_image_set(mixed, folder)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"synthetic_fraction": 0.0}, r"synthetic_fraction .* \(0, 1\]"),
        ({"synthetic_fraction": 1.5}, r"synthetic_fraction .* \(0, 1\]"),
        ({"labels_per_class": 500}, "fewer than the 500"),
        ({"synthetic_fraction": 0.5, "n": 10}, "pass one of the two"),
    ],
)
def test_bad_image_requests_are_refused(digits, mixed, options, message):
    with pytest.raises(GankitError, match=message):
        augment_images(digits, **{"labels_per_class": 3, "gan": mixed.model, **options})


def test_images_need_two_labelled_classes(digits, mixed):
    ones = subset(digits, digits.labels == 1)
    with pytest.raises(GankitError, match="only one class"):
        augment_images(ones, gan=mixed.model)
    unlabelled = ImageData(digits.images[:10], None, (), "blank")
    with pytest.raises(GankitError, match="no class labels"):
        augment_images(unlabelled, gan=mixed.model)


def test_table_minority_is_oversampled_with_dtypes_and_ranges_kept(table, oversampled):
    data, new = oversampled.data, oversampled.data[oversampled.synthetic.numpy()]
    counts = table["label"].value_counts()
    assert data["label"].value_counts().to_dict() == {"young": counts.max(), "old": counts.max()}
    assert (new["label"] == "old").all() and len(new) == counts.max() - counts.min()
    assert data.dtypes.equals(table.dtypes)
    pd.testing.assert_frame_equal(data.iloc[: len(table)], table)
    for column in ("income", "age", "visits"):
        assert new[column].between(table[column].min(), table[column].max()).all()
    assert set(new["city"]) <= set(table["city"])


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        ("nope", {}, "target column 'nope' is not in the table"),
        ("member_only", {}, "one class only"),
        ("label", {"ratio": 0}, r"ratio .* \(0, 1\]"),
        ("label", {"ratio": 2.0}, r"ratio .* \(0, 1\]"),
    ],
)
def test_bad_table_requests_are_refused(table, oversampled, target, options, message):
    frame = table.assign(member_only="yes")
    with pytest.raises(GankitError, match=message):
        augment_table(frame, target, gan=oversampled.model, **options)


def test_augment_dataset_dispatches_and_asks_for_a_target(table, oversampled):
    result = augment_dataset(table, target="label", gan=oversampled.model, ratio=0.9)
    young = (table["label"] == "young").sum()
    assert result.data["label"].value_counts().to_dict() == {
        "young": young,
        "old": round(0.9 * young),
    }
    with pytest.raises(GankitError, match="needs its target column"):
        augment_dataset(table)


def test_reports_score_every_row(digits, mixed, table, oversampled):
    images = compare_images(mixed.real, subset(mixed.data, mixed.synthetic), digits, steps=2)
    assert tuple(images) == IMAGE_ROWS
    assert all(0 <= s["accuracy"] <= 1 and 0 <= s["minority_f1"] <= 1 for s in images.values())
    pytest.importorskip("imblearn")
    new = oversampled.data[oversampled.synthetic.numpy()]
    scores = compare_table(table, new, table, "label")
    assert tuple(scores) == TABLE_ROWS
    assert scores["real"]["balanced_accuracy"] > 0.9  # age > 60 is easy to read off the table


@pytest.mark.parametrize(
    ("ours", "verdict"),
    [
        ((0.9, 0.9, 0.9), "gankit helped"),
        ((0.7, 0.9, 0.7), "gankit did not help"),
        ((0.95, 0.79, 0.9), "inconclusive"),
    ],
)
def test_recommendation_is_honest(ours, verdict):
    scores = {
        "real": [{"f1": 0.8}] * 3,
        "real + gankit": [{"f1": value} for value in ours],
    }
    line = recommendation(scores, "f1", baselines=["real"], candidates=["real + gankit"])
    assert line.startswith(verdict)


def test_cli_writes_a_balanced_csv_and_a_report(table, tmp_path, capsys):
    pytest.importorskip("imblearn")
    table.to_csv(tmp_path / "train.csv", index=False)
    out, report = tmp_path / "balanced.csv", tmp_path / "report.md"
    argv = ["augment", "table", str(tmp_path / "train.csv"), "--target", "label", "-o", str(out)]
    argv += ["--steps", "2", "--set", "batch_size=20", "--quiet", "--report", str(report)]
    argv += ["--test", str(tmp_path / "train.csv"), "--report-seeds", "1"]
    assert main(argv) == 0
    assert pd.read_csv(out)["label"].value_counts().nunique() == 1
    assert "**Recommendation:**" in report.read_text()
    assert "report in" in capsys.readouterr().out


def test_cli_images_and_its_errors(tmp_path, capsys):
    argv = ["augment", "images", "--data", "digits", "--labels-per-class", "2", "--resolution"]
    argv += ["16", "--steps", "1", "--set", "batch_size=4", "--set", "model.g_width=8"]
    argv += ["--set", "model.d_width=8", "--fraction", "0.5", "--quiet", "-o"]
    assert main([*argv, str(tmp_path / "set")]) == 0
    assert len(list((tmp_path / "set").glob("*/*.png"))) == 40
    assert main([*argv[:-2], "--fraction", "1.5", "-o", str(tmp_path / "x")]) == 2
    assert main([*argv, str(tmp_path / "y"), "--report", "r.md"]) == 2
    assert "--report needs --test" in capsys.readouterr().err
