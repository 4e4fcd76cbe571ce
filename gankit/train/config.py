"""The training configuration shared by every task."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gankit.errors import GankitError

OPTIMIZERS = ("adam", "adamw")
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
        if not 0 <= self.ema_beta < 1:
            raise GankitError(f"ema_beta must be in [0, 1), got {self.ema_beta!r}")
        for name, valid in (
            ("optimizer", OPTIMIZERS),
            ("precision", PRECISIONS),
            ("device", DEVICES),
        ):
            if getattr(self, name) not in valid:
                raise GankitError(
                    f"{name} must be one of {', '.join(valid)}, got {getattr(self, name)!r}"
                )
