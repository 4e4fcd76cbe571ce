"""Preset behaviour beyond the contract (tests/tasks/test_contract.py trains, saves and reloads
every preset of every task): seeds, refusals, resume through the API, truncation on toy models."""

import json

import pytest
import torch
from test_contract import RECIPES

from gankit import GankitError, ImageGAN, ToyGAN, load
from gankit.data import toy_mixture
from gankit.metrics.modes import toy_mode_stats


def tiny(task, preset, **train):
    """The contract test's tiny recipe for ``task``/``preset``: (untrained task, its data)."""
    recipe = RECIPES[task]
    return recipe.build(preset, **train), recipe.data()


def test_same_seed_same_images_other_seed_other_images():
    gan, data = tiny("images", "default")
    gan.fit(data, steps=1)
    a, b, c = gan.sample(6, seed=1), gan.sample(6, seed=1), gan.sample(6, seed=2)
    assert a.dtype == torch.uint8 and a.shape == (6, 1, 16, 16)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_training_again_into_a_run_directory_is_refused(tmp_path):
    gan, data = tiny("images", "dcgan")
    gan.fit(data, steps=1, out=tmp_path, quiet=True)
    with pytest.raises(GankitError, match="gankit resume"):
        tiny("images", "dcgan")[0].fit(data, steps=1, out=tmp_path, quiet=True)


def test_resume_through_the_api_reaches_the_new_step_count(tmp_path):
    gan, data = tiny("toy", "toy-mlp")
    gan.fit(data, steps=3, out=tmp_path, quiet=True)
    again = load(tmp_path)
    again.fit(steps=5, out=tmp_path, resume=True, quiet=True)
    assert again.history["steps"] == 5 and again.history["steps_this_run"] == 2


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: ImageGAN("nope"), "valid presets: default"),
        (lambda: ImageGAN(lrg=1.0), "unknown training option key.*valid keys"),
        (
            lambda: ImageGAN(model={"widht": 3}).fit("digits", steps=1),
            "unknown .*widht.*valid keys",
        ),
        (lambda: ImageGAN().sample(4), "no weights yet"),
        (lambda: ToyGAN().fit("spiral", steps=1), "spiral"),
    ],
)
def test_bad_input_names_the_problem(make, match):
    with pytest.raises(GankitError, match=match):
        make()


def test_unwritable_output_is_refused_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    gan, data = tiny("images", "dcgan")
    with pytest.raises(GankitError, match="cannot write to output folder"):
        gan.fit(data, steps=1, out=blocker / "run")


def test_toy_report_counts_modes(tmp_path):
    gan, data = tiny("toy", "toy-mlp")
    gan.fit(data, steps=2, out=tmp_path, quiet=True)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["modes"]["num_modes"] == 8
    # The report counts this model's points: the same latents recounted give the same numbers.
    ring = toy_mixture(data, seed=gan.train_config.seed)
    again = toy_mode_stats(gan.generate_raw(2500, seed=12345), ring.centers, ring.std)
    assert metrics["modes"]["counts"] == again["counts"]
    assert metrics["modes"]["modes_covered"] == sum(c >= 1 for c in again["counts"])


def test_truncation_on_toy_models_keeps_every_bucket_reachable():
    plain, data = tiny("toy", "toy-mlp")
    plain.fit(data, steps=1)
    points = plain.sample(500, seed=0, truncation=0.5)
    assert points.shape == (500, 2) and not torch.equal(points, plain.sample(500, seed=0))
    bucketed, data = tiny("toy", "toy-rpgan")
    bucketed.fit(data, steps=1)
    with pytest.raises(GankitError, match="truncation would drop modes"):
        bucketed.sample(10, truncation=1.0)
