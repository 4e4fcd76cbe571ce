"""2-D toy mixtures (ring of 8, 5×5 grid): the standard test bed for mode collapse.

Example:
    >>> from gankit import ToyGAN
    >>> gan = ToyGAN().fit("ring", steps=2, quiet=True)  # covering the ring takes ~2000 steps
    >>> gan.generate(2500, seed=0).shape
    torch.Size([2500, 2])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.data import ToyData, toy_mixture
from gankit.errors import GankitError
from gankit.metrics.modes import toy_mode_stats
from gankit.nn.generate import generate
from gankit.tasks.base import Generator, Preset
from gankit.train import TrainConfig
from gankit.train.objective import Objective, Players
from gankit.viz import save_scatter

TOY_PRESETS: dict[str, Preset] = {
    "toy-mlp": Preset(
        "toy-mlp",
        "MLP G and D for 2-D mixtures; non-saturating loss with lazy R1 and EMA.",
        "mlp",
        {"data_dim": 2},
        TrainConfig(
            steps=3000,
            batch_size=256,
            lr_g=1e-3,
            lr_d=1e-3,
            betas=(0.5, 0.99),
            r1_gamma=0.1,
            ema_beta=0.99,
            log_every=100,
        ),
    ),
    "toy-rpgan": Preset(
        "toy-rpgan",
        "Mode-covering recipe for 2-D mixtures: relativistic pairing loss (RpGAN) with lazy R1, "
        "4-layer MLPs, a G with 64 discrete latent buckets so it can jump between modes, a "
        "nearest-fake coverage term that calls a bucket to any mode left empty, EMA 0.99 and a "
        "cosine lr decay that lets G settle on the modes.",
        "mlp",
        # Depth: G needs steep transitions between modes, and a 4th layer put more samples on
        # the ring's modes than 3. Buckets: a continuous G has to put mass on the paths between
        # modes, and 64 buckets removed it; 256 did as well on the ring but worse on the grid (1
        # sample per bucket per batch: buckets learn slowly). Coverage: with buckets alone a mode
        # that no bucket reached stayed empty on some grid seeds; the nearest-fake term pulls a
        # bucket to it (NearestFakeCoverage). Runs: docs/stability.md, "Why toy-rpgan is built
        # so" and the PacGAN-protocol benchmark.
        {"data_dim": 2, "hidden": 128, "depth": 4, "latent_buckets": 64, "coverage_weight": 1.0},
        TrainConfig(
            steps=6000,
            batch_size=256,
            loss="rpgan",
            lr_g=2e-3,
            lr_d=2e-3,
            lr_schedule="cosine",
            betas=(0.5, 0.99),
            r1_gamma=0.01,  # small: the modes are 0.01-0.05 wide and D must be sharp at that scale
            # 0.999 averaged weights from before the modes were sharp, and its samples fell
            # below the raw G's on the ring (docs/stability.md, "Why toy-rpgan is built so").
            ema_beta=0.99,
            log_every=100,
        ),
    ),
}


class NearestFakeCoverage(Objective):
    """G's coverage term: each real point's distance to its nearest fake in the batch, averaged.

    A mode that no fake reaches sits in a flat region of D (no reals nearby are matched, and no
    fakes for D to push against), so the adversarial loss alone never calls G back to it. This
    term gives every real point a pull on the nearest fake, so an empty mode always draws the
    closest latent bucket, whatever D says; fakes far from all reals get no pull. It is the
    nearest-neighbour matching of IMLE (Li & Malik 2019) used as a term beside the GAN loss, and
    it is meant for low-dimensional data, where Euclidean distance between points is meaningful.
    Plain distance (not squared), so a far mode pulls as hard as a near one.

    Example:
        >>> real = torch.tensor([[0.0, 0.0], [0.0, 4.0]])  # 1 and 3 from the one fake
        >>> fake = torch.tensor([[0.0, 1.0]])
        >>> NearestFakeCoverage(0.5).g_terms(None, real, fake, None)["coverage"].item()
        1.0
    """

    g_needs_real = True

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def g_terms(
        self, players: Players, real: torch.Tensor | None, fake: torch.Tensor, cond: Any
    ) -> dict[str, torch.Tensor]:
        nearest = torch.cdist(real.float(), fake.float()).min(dim=1).values  # (B_real,)
        return {"coverage": self.weight * nearest.mean()}


class ToyGAN(Generator):
    """A GAN on 2-D Gaussian mixtures; samples are float points (N, 2)."""

    task = "toy"
    presets = TOY_PRESETS
    default_preset = "toy-mlp"
    default_data = "ring"

    def open_data(self, data: Any) -> tuple[ToyData, dict[str, Any]]:
        if isinstance(data, ToyData):
            dataset = data
        elif isinstance(data, str):
            dataset = toy_mixture(data, seed=self.train_config.seed)
        else:
            raise GankitError("ToyGAN data must be 'ring', 'grid' or a ToyData")
        info = {
            "source": dataset.name if isinstance(data, str) else None,
            "name": dataset.name,
            "size": len(dataset),
            "centers": dataset.centers.tolist(),
            "std": dataset.std,
        }
        return dataset, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        return {"data_dim": 2}

    def objective(self) -> Objective | None:
        weight = self.architecture_config.coverage_weight
        return NearestFakeCoverage(weight) if weight > 0 else None

    def generate_raw(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: Any = None,
        truncation: float | None = None,
        ema: bool = True,
    ) -> torch.Tensor:
        """Points for ``n`` latents from ``seed``; ``truncation`` only without latent buckets."""
        if truncation is not None and not self.supports_truncation:
            # The first latent coordinate picks the bucket, hence the mode: clipping it would
            # leave the outer buckets (a third of them at t = 1) unreachable.
            raise GankitError(
                "truncation would drop modes of a generator with latent buckets (e.g. "
                "toy-rpgan): the truncated coordinate picks the bucket; sample without truncation"
            )
        return super().generate_raw(
            n, seed=seed, condition=condition, truncation=truncation, ema=ema
        )

    @property
    def supports_truncation(self) -> bool:
        return not getattr(self.G, "buckets", 0)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "output": "points"}

    def render(self, G: nn.Module, path: Path) -> None:
        save_scatter(generate(G, 2500, seed=0), path, torch.tensor(self.data_info["centers"]))

    def evaluate(self, dataset: ToyData) -> dict[str, Any]:
        stats = toy_mode_stats(self.generate_raw(2500, seed=12345), dataset.centers, dataset.std)
        return {"modes": {**stats, "num_modes": len(dataset.centers)}}
