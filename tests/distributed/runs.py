"""Tiny training runs that the distributed tests build twice: on the ranks under torchrun
(worker.py) and in one process (the tests), so that both train exactly the same thing."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gankit.data import load_digits
from gankit.data.toy import toy_mixture
from gankit.nn import build_gan
from gankit.train import TrainConfig, Trainer, state_tensors

TESTS = Path(__file__).parents[1]
QUIET = {"health": False, "log_every": 1}


@dataclass(frozen=True)
class Recipe:
    arch: str
    model: dict[str, Any]
    config: TrainConfig


def _toy() -> Any:
    return toy_mixture("ring", n=64, seed=0)


def _digits() -> Any:
    return load_digits(16)


DCGAN = {"resolution": 16, "channels": 1, "g_width": 8, "d_width": 8, "latent_dim": 16}
RECIPES: dict[str, tuple[Recipe, Any]] = {
    # No BatchNorm; lazy R1 and the gradient penalty on every D update.
    "plain": (
        Recipe(
            "mlp",
            {"data_dim": 2, "hidden": 16},
            TrainConfig(batch_size=16, r1_gamma=1.0, reg_interval=2, gp_weight=1.0, **QUIET),
        ),
        _toy,
    ),
    # BatchNorm in G and D, statistics over the global batch.
    "batchnorm": (
        Recipe("dcgan", DCGAN, TrainConfig(batch_size=8, sync_batchnorm=True, **QUIET)),
        _digits,
    ),
    # Per-rank BatchNorm and augmentation (ADA, p moving fast): each rank has state of its own
    # to checkpoint, and p must agree.
    "augmented": (
        Recipe(
            "dcgan",
            DCGAN,
            TrainConfig(
                batch_size=8,
                augment="translation",
                ada_target=0.01,
                ada_interval=1,
                ada_kimg=0.05,
                **QUIET,
            ),
        ),
        _digits,
    ),
}
EQUIVALENCE = ("plain", "batchnorm")


def build(
    name: str, steps: int, run_dir: Path | None = None, data: Any = None, **config: Any
) -> Trainer:
    """The trainer of recipe ``name`` (on ``data`` if given), initialised from seed 0."""
    recipe, recipe_data = RECIPES[name]
    torch.manual_seed(0)
    G, D, _ = build_gan(recipe.arch, recipe.model)
    train = TrainConfig(**{**recipe.config.__dict__, "steps": steps, **config})
    return Trainer(G, D, data or recipe_data(), train, run_dir=run_dir)


def train_steps(name: str, steps: int = 3) -> tuple[Trainer, list[dict[str, float]]]:
    """``steps`` training steps of recipe ``name`` and each step's statistics."""
    trainer = build(name, steps)
    history = []
    for _ in range(steps):
        history.append({k: float(v) for k, v in trainer.train_step().items()})
        trainer.step += 1
    return trainer, history


def params(trainer: Trainer) -> dict[str, torch.Tensor]:
    """Every trained weight of G, G_ema and D."""
    return {
        f"{name}.{key}": value.detach().clone()
        for name in ("G", "G_ema", "D")
        for key, value in getattr(trainer, name).named_parameters()
    }


class _Recording:
    """A dataset that remembers the indices of every batch it served."""

    def __init__(self, data: Any) -> None:
        self.data, self.seen = data, []

    def __len__(self) -> int:
        return len(self.data)

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        self.seen.append(index.tolist())
        return self.data.batch(index)


class _Poisoned(_Recording):
    """A dataset whose sample 5 is NaN: one batch, and one rank's slice of it, blows up."""

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        x = super().batch(index).clone()
        x[index == 5] = float("nan")
        return x


def seen_indices() -> list[list[int]]:
    """The indices one epoch of the plain recipe (64 samples, batches of 16) fed this process."""
    recording = _Recording(RECIPES["plain"][1]())
    build("plain", 4, data=recording).fit()
    return recording.seen


def poisoned() -> Trainer:
    """One epoch of the plain recipe in which one batch holds a NaN sample (a rollback)."""
    trainer = build("plain", 4, data=_Poisoned(RECIPES["plain"][1]()), snapshot_every=1)
    trainer.fit()
    return trainer


def checkpointed(run_dir: Path, name: str, steps: int) -> Trainer:
    """Recipe ``name`` trained ``steps`` steps with a checkpoint every 2 (all kept)."""
    shutil.rmtree(run_dir, ignore_errors=True)
    trainer = build(name, steps, run_dir, checkpoint_every=2, keep_checkpoints=10)
    trainer.fit()
    return trainer


def resumed(source: Path, name: str, step: str, steps: int, run_dir: Path) -> Trainer:
    """Recipe ``name`` continued from checkpoint ``step`` of run ``source`` to ``steps``."""
    trainer = build(name, steps, run_dir, checkpoint_every=2, keep_checkpoints=10)
    trainer.load_checkpoint(source / "train_state" / step)
    trainer.fit()
    return trainer


def full_state(trainer: Trainer) -> dict[str, torch.Tensor]:
    """Everything that must continue bit for bit: weights, buffers, optimizers, every RNG."""
    return state_tensors(trainer)


def differing(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    """The names whose tensors are not bit for bit equal in ``a`` and ``b`` (or in one only)."""
    return sorted(
        k for k in a.keys() | b.keys() if k not in a or k not in b or not torch.equal(a[k], b[k])
    )


# Beyond each task's default preset: AC-GAN, whose objective reaches D.classify past DDP.
EXTRA_RUNS = {"images-acgan": ("images", "default-cond", {"aux_classifier": True})}


# Tasks whose data cannot be split over ranks; the engine refuses them with its batch-size message.
NOT_DATA_PARALLEL = {"single-image"}  # one training image: nothing to shard


def task_names() -> list[str]:
    """Every registered task with its tiny recipe (tests/tasks/test_contract.py), and extras."""
    from test_contract import HAS_TEXT_ENCODER
    from test_contract import RECIPES as TASK_RECIPES

    tasks = [
        task
        for task in TASK_RECIPES
        if (task != "text-images" or HAS_TEXT_ENCODER) and task not in NOT_DATA_PARALLEL
    ]
    return tasks + list(EXTRA_RUNS)


def train_task(name: str, run: Path) -> Any:
    """Run ``name``'s tiny recipe, two steps, checkpoints in ``run``."""
    from test_contract import RECIPES as TASK_RECIPES

    from gankit.tasks import TASKS

    task, preset, model = EXTRA_RUNS.get(name, (name, None, {}))
    recipe = TASK_RECIPES[task]
    gan = recipe.build(preset or TASKS[task].default_preset)
    gan.model_overrides.update(model)
    return gan.fit(recipe.data(), steps=2, out=run, quiet=True)


sys.path.insert(0, str(TESTS / "tasks"))  # test_contract's RECIPES
