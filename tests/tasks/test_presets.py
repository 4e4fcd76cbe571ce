"""Contract tests over every preset of every task: build, train a step, save, reload, sample."""

import json

import pandas as pd
import pytest
import torch

from gankit import GankitError, ImageGAN, ToyGAN, load
from gankit.data.tabular import demo_table
from gankit.tasks import TASKS

# Shrunk widths so each preset trains in about a second; everything else is the preset's own.
TINY_MODEL = {
    "dcgan": {"g_width": 8, "d_width": 8},
    "resnet": {"width": 16},
    "mlp": {"hidden": 16},
    "tabular": {"g_hidden": [16], "d_hidden": [16], "latent_dim": 8, "pack": 4},
}
# Translators turn images into images and have no sample(); tests/tasks/test_translate.py covers
# their presets (train, save, reload, apply), tests/tasks/test_superres.py the upscaler's.
TRANSLATOR_TASKS = ("pix2pix", "cyclegan", "superres")
PRESETS = [
    (task, name)
    for task, cls in TASKS.items()
    for name in cls.presets
    if task not in TRANSLATOR_TASKS
]


def tiny(task, preset, **train):
    cls = TASKS[task]
    model = TINY_MODEL[cls.presets[preset].arch]
    options = {"batch_size": 8, "log_every": 1, "sample_every": 2, "checkpoint_every": 2, **train}
    if task in ("images", "text-images"):
        resolution = 32 if cls.presets[preset].arch == "resnet" else 16
        return cls(preset, resolution=resolution, model=model, **options), "digits"
    if task == "tabular":
        return cls(preset, model=model, **options), demo_table(64)
    return cls(preset, model=model, **options), "ring"


def same(a, b) -> bool:
    """Equal samples: tensors (images, points) or DataFrames (table rows)."""
    return a.equals(b) if isinstance(a, pd.DataFrame) else torch.equal(a, b)


@pytest.mark.parametrize("task,preset", PRESETS)
def test_preset_trains_saves_and_reloads_identically(task, preset, tmp_path):
    gan, data = tiny(task, preset)
    gan.fit(data, steps=2, out=tmp_path / "run", quiet=True)
    run = tmp_path / "run"
    for name in (
        "config.json",
        "G.safetensors",
        "G_ema.safetensors",
        "D.safetensors",
        "stats.jsonl",
        "metrics.json",
        "report.md",
        "loss.png",
        "samples/step-000002.png",
    ):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == task and config["preset"] == preset and config["format_version"] == 1
    assert config["gankit_version"]
    reloaded = load(run)
    assert type(reloaded) is type(gan)
    assert same(reloaded.sample(8, seed=3), gan.sample(8, seed=3))
    assert same(reloaded.sample(8, seed=3, ema=False), gan.sample(8, seed=3, ema=False))


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
    assert 0 <= metrics["modes"]["modes_covered"] <= 8


def test_truncation_on_toy_models_keeps_every_bucket_reachable():
    plain, data = tiny("toy", "toy-mlp")
    plain.fit(data, steps=1)
    points = plain.sample(500, seed=0, truncation=0.5)
    assert points.shape == (500, 2) and not torch.equal(points, plain.sample(500, seed=0))
    bucketed, data = tiny("toy", "toy-rpgan")
    bucketed.fit(data, steps=1)
    with pytest.raises(GankitError, match="truncation would drop modes"):
        bucketed.sample(10, truncation=1.0)
