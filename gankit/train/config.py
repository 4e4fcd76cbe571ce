"""The training configuration shared by every task.

Each field is described once, in its metadata: ``help`` (the text ``gankit train --help`` shows),
``check`` (``"positive"`` or ``"non_negative"``: validated in ``__post_init__``), ``choices`` (the
valid words) and ``flag`` (the command-line spelling when it is not ``--field-name``; None: no flag,
set it with ``--set``). :mod:`gankit.commands.options` turns them into options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from gankit.errors import GankitError

OPTIMIZERS = ("adam", "adamw")
LR_SCHEDULES = ("constant", "cosine", "linear")  # implemented in engine.LR_SCHEDULES
PRECISIONS = ("fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")
# The order the range checks report in: every "positive" field before any "non_negative" one.
CHECKS = ("positive", "non_negative")


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A TrainConfig field with its description: ``help`` plus ``check``/``choices``/``flag``."""
    return field(default=default, metadata={"help": help, **metadata})


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of the adversarial training loop; the same for images, tables and audio.

    One *step* is one generator update preceded by ``n_critic`` discriminator updates; each update
    averages ``accum_steps`` micro-batches of ``batch_size``.

    Example:
        >>> TrainConfig(steps=1000, loss="hinge", lr_d=4e-4).n_critic
        1
    """

    steps: int = option(
        5000, "number of G updates (each after n_critic D updates)", check="positive"
    )
    batch_size: int = option(64, "samples per micro-batch of each D/G update", check="positive")
    n_critic: int = option(1, "D updates per G update", check="positive")
    accum_steps: int = option(
        1, "micro-batches averaged per update (a larger batch in the same memory)", check="positive"
    )
    loss: str = option(
        "nonsaturating", "adversarial loss: nonsaturating, hinge, wasserstein, least-squares, rpgan"
    )
    optimizer: str = option("adam", "optimizer of G and D", choices=OPTIMIZERS)
    lr_g: float = option(2e-4, "generator learning rate", check="non_negative")
    lr_d: float = option(
        2e-4,
        "discriminator learning rate (TTUR: set it above --lr-g to let D keep up)",
        check="non_negative",
    )
    betas: tuple[float, float] = option(
        (0.5, 0.999), "Adam's (beta1, beta2); no flag: --set betas=[0.0,0.99]", flag=None
    )
    lr_schedule: str = option(
        "constant",
        "learning-rate schedule; cosine and linear decay to 0 at --steps",
        choices=LR_SCHEDULES,
    )
    weight_decay: float = option(0.0, "optimizer weight decay of G and D", check="non_negative")
    r1_gamma: float = option(
        0.0, "R1 penalty weight gamma on real data (0 = off)", check="non_negative", flag="--r1"
    )
    r2_gamma: float = option(0.0, "R2 penalty weight on fake data (0 = off)", check="non_negative")
    gp_weight: float = option(
        0.0,
        "WGAN-GP gradient penalty weight, applied on every D update (0 = off)",
        check="non_negative",
    )
    reg_interval: int = option(
        16, "lazy R1/R2: every N-th D update, with the weight scaled by N", check="positive"
    )
    ema_beta: float = option(
        0.999, "decay of the EMA generator G_ema, in [0, 1); 0 disables it (G_ema equals G)"
    )
    ema_warmup: int = option(
        10, "EMA warm-up: beta_t = min(ema_beta, (1 + t) / (ema_warmup + t))", check="non_negative"
    )
    augment: str = option("", "DiffAugment policy, e.g. translation,cutout,color (empty: none)")
    seed: int = option(0, "seed for initialisation, data order and noise")
    device: str = option("auto", "where to train", choices=DEVICES)
    precision: str = option(
        "fp32", "numeric precision; bf16/fp16 autocast runs on CUDA only", choices=PRECISIONS
    )
    log_every: int = option(50, "steps between stats.jsonl lines", check="positive")
    sample_every: int = option(500, "steps between sample grids", check="positive")
    checkpoint_every: int = option(500, "steps between checkpoints", check="positive")
    keep_checkpoints: int = option(3, "newest checkpoints kept in train_state/", check="positive")
    # NaN/Inf rollback: restore the last good in-memory snapshot, lower both learning rates and go
    # on, rather than lose the run to one bad step.
    rollback_limit: int = option(
        3,
        "NaN/Inf rollbacks allowed; the next non-finite step saves the last good state and stops",
        check="non_negative",
    )
    rollback_lr_factor: float = option(
        0.5, "each rollback multiplies both learning rates by this, in (0, 1]"
    )
    snapshot_every: int = option(
        10, "steps between the in-memory snapshots a rollback restores", check="positive"
    )
    # Adaptive augmentation (ADA, Karras et al. 2020): p moves so that E[sign(D(real))] stays at
    # the target, so that D cannot memorise a small dataset.
    ada_target: float = option(
        0.0,
        "ADA: apply --augment (or translation,cutout,color when empty) with probability p, moved "
        "to keep E[sign(D(real))] at this value, in [0, 1); 0 = off (ADA's value is 0.6)",
    )
    ada_interval: int = option(4, "ADA: D updates between adjustments of p", check="positive")
    ada_kimg: float = option(
        100.0, "ADA: thousands of real images for p to move from 0 to 1 at most (> 0)"
    )
    # Distributed runs (torchrun / --nproc-per-node; docs/distributed.md): batch_size stays the
    # global batch, split evenly over the ranks.
    sync_batchnorm: bool = option(
        False,
        "distributed runs: BatchNorm statistics over the global batch instead of each rank's slice",
    )
    dist_timeout: int = option(
        600,
        "distributed runs: seconds a rank waits for the others (start-up, each collective) before "
        "the run ends with an error",
        check="positive",
    )
    health: bool = option(True, "training-health monitor (gankit.train.health)")
    health_stop: str = option(
        "",
        "health alarms that end training early (a normal end), e.g. mode_collapse,d_winning or any",
    )

    @property
    def images_per_step(self) -> int:
        """Real images D trains on in one step (``n_critic`` updates of ``accum_steps`` batches).

        >>> TrainConfig(steps=10, batch_size=64, n_critic=2).images_per_step
        128
        """
        return self.batch_size * self.accum_steps * self.n_critic

    def __post_init__(self) -> None:
        for check in CHECKS:
            for spec in fields(self):
                if spec.metadata.get("check") == check:
                    _check_range(spec.name, getattr(self, spec.name), check)
        if self.lr_g == 0 or self.lr_d == 0:
            raise GankitError("learning rates lr_g and lr_d must be > 0")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise GankitError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        if not 0 < self.rollback_lr_factor <= 1:
            raise GankitError(
                f"rollback_lr_factor must be in (0, 1], got {self.rollback_lr_factor!r}"
            )
        if not 0 <= self.ada_target < 1 or not self.ada_kimg > 0:
            raise GankitError(
                f"ada_target must be in [0, 1) and ada_kimg > 0, got {self.ada_target!r} and "
                f"{self.ada_kimg!r}"
            )
        if not 0 <= self.ema_beta < 1:
            raise GankitError(f"ema_beta must be in [0, 1), got {self.ema_beta!r}")
        for spec in fields(self):
            valid = spec.metadata.get("choices")
            if valid is not None and getattr(self, spec.name) not in valid:
                raise GankitError(
                    f"{spec.name} must be one of {', '.join(valid)}, got "
                    f"{getattr(self, spec.name)!r}"
                )


def _check_range(name: str, value: Any, check: str) -> None:
    """Refuse ``value`` of field ``name`` outside its ``check`` ("positive" or "non_negative")."""
    if check == "positive":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise GankitError(f"training option {name} must be a positive integer, got {value!r}")
    elif not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise GankitError(f"training option {name} must be a finite number >= 0, got {value!r}")
