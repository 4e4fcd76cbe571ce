"""The training configuration shared by every task."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gankit.errors import GankitError

OPTIMIZERS = ("adam", "adamw")
LR_SCHEDULES = ("constant", "cosine", "linear")  # implemented in engine.LR_SCHEDULES
PRECISIONS = ("fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of the adversarial training loop; the same for images, tables and audio.

    One *step* is one generator update preceded by ``n_critic`` discriminator updates; each update
    averages ``accum_steps`` micro-batches of ``batch_size``.

    Example:
        >>> TrainConfig(steps=1000, loss="hinge", lr_d=4e-4).n_critic
        1
    """

    steps: int = 5000
    batch_size: int = 64
    n_critic: int = 1
    accum_steps: int = 1
    loss: str = "nonsaturating"
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4  # TTUR: set higher than lr_g to let D keep up
    betas: tuple[float, float] = (0.5, 0.999)
    lr_schedule: str = "constant"  # or "cosine"/"linear" decay to 0 at `steps`
    weight_decay: float = 0.0
    r1_gamma: float = 0.0
    r2_gamma: float = 0.0
    gp_weight: float = 0.0  # WGAN-GP, applied on every D update
    reg_interval: int = 16  # lazy R1/R2: every N-th D update, weight scaled by N
    ema_beta: float = 0.999  # 0 disables the EMA generator (G_ema then equals G)
    ema_warmup: int = 10  # beta_t = min(ema_beta, (1 + t) / (ema_warmup + t))
    augment: str = ""  # DiffAugment policy, e.g. "translation,cutout"; "" = none
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"  # bf16/fp16 autocast on CUDA only
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    # NaN/Inf rollback: restore the last good in-memory snapshot (taken every snapshot_every
    # steps), multiply both learning rates by rollback_lr_factor and go on; the
    # (rollback_limit + 1)-th non-finite step saves the last good state and stops.
    rollback_limit: int = 3
    rollback_lr_factor: float = 0.5
    snapshot_every: int = 10
    # Adaptive augmentation (ADA, Karras et al. 2020): the `augment` policy (or
    # translation,cutout,color when empty) is applied to each sample with probability p, and p
    # moves so that E[sign(D(real))] stays at ada_target; 0 turns it off (ADA's value is 0.6).
    ada_target: float = 0.0
    ada_interval: int = 4  # D updates between adjustments of p
    ada_kimg: float = 100.0  # thousands of real images for p to move from 0 to 1 at most
    # Training-health monitor (gankit.train.health): on by default in every task; health_stop
    # lists alarms that end training early (a normal end), e.g. "mode_collapse,d_winning" or "any".
    health: bool = True
    health_stop: str = ""

    def __post_init__(self) -> None:
        positive = (
            "steps",
            "batch_size",
            "n_critic",
            "accum_steps",
            "reg_interval",
            "log_every",
            "sample_every",
            "checkpoint_every",
            "keep_checkpoints",
            "snapshot_every",
            "ada_interval",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GankitError(
                    f"training option {name} must be a positive integer, got {value!r}"
                )
        non_negative = (
            "lr_g",
            "lr_d",
            "weight_decay",
            "r1_gamma",
            "r2_gamma",
            "gp_weight",
            "ema_warmup",
            "rollback_limit",
        )
        for name in non_negative:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise GankitError(
                    f"training option {name} must be a finite number >= 0, got {value!r}"
                )
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
        for name, valid in (
            ("optimizer", OPTIMIZERS),
            ("lr_schedule", LR_SCHEDULES),
            ("precision", PRECISIONS),
            ("device", DEVICES),
        ):
            if getattr(self, name) not in valid:
                raise GankitError(
                    f"{name} must be one of {', '.join(valid)}, got {getattr(self, name)!r}"
                )
