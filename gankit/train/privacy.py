"""DP-SGD for the discriminator: the engine's side of differentially private training.

Only D reads real samples, so only D's updates need the Gaussian mechanism; G learns through D and
from conditions drawn from already-private counts, which is post-processing (Xie et al. 2018,
DPGAN; Torkzadehmahani et al. 2019). Each D update:

1. draws a **Poisson** batch: every real sample joins with probability ``q = batch_size / N``,
   from a generator seeded by the operating system and never stored (subsampling only amplifies
   privacy when the batch is secret, so a seed in config.json would void it);
2. runs D once on the real samples and ``batch_size`` fakes, however many reals were drawn (so
   that one added real sample adds one clipped gradient, not a fake's too; conditions drawn by
   the data's ``fake_conditions``, never copied from the real batch), with the loss written as a
   *sum* of per-sample terms so Opacus' per-sample gradients are those of one sample each;
3. clips every per-sample gradient to ``max_grad_norm``, adds Gaussian noise of standard deviation
   ``noise_multiplier * max_grad_norm`` and divides by the expected batch (Opacus' ``DPOptimizer``;
   the noise also comes from an unstored OS seed).

The noise multiplier is the smallest that keeps ``(epsilon, delta)`` after all planned D updates
under Opacus' RDP accountant; :meth:`DPSGD.spent` reports the epsilon reached at any update.
Statistics that read the real batch (D's loss, its accuracy on reals, the raw gradient norm) are
not logged under DP: they would be released without budget.

Example:
    >>> dp = DPSGD(epsilon=3.0, delta=1e-6, sample_rate=0.01, updates=1000)
    >>> round(dp.noise_multiplier, 2), dp.spent(1000) <= 3.0
    (0.92, True)
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import torch
from torch import nn

from gankit.errors import GankitError

#: Per-sample gradients are clipped to this L2 norm unless the caller chooses another.
MAX_GRAD_NORM = 1.0


def _opacus():
    try:
        import opacus
    except ImportError:
        raise GankitError(
            "differentially private training needs the opacus package: pip install "
            "'gankit[privacy]'"
        ) from None
    return opacus


def secret_generator() -> torch.Generator:
    """A torch generator seeded from the operating system's entropy; the seed is never stored."""
    return torch.Generator().manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)


class DPSGD:
    """Noise calibration, accounting and D's wrapping for ``(epsilon, delta)`` DP-SGD.

    ``sample_rate`` is the Poisson rate of real samples per D update, ``updates`` how many D
    updates the run makes (steps x n_critic).
    """

    def __init__(
        self,
        epsilon: float,
        delta: float,
        sample_rate: float,
        updates: int,
        max_grad_norm: float = MAX_GRAD_NORM,
    ) -> None:
        if not epsilon > 0 or not 0 < delta < 1:
            raise GankitError(
                f"DP-SGD needs epsilon > 0 and delta in (0, 1), got {epsilon!r} and {delta!r}"
            )
        if not 0 < sample_rate <= 1:
            raise GankitError(f"DP-SGD sample rate must be in (0, 1], got {sample_rate!r}")
        if not max_grad_norm > 0:
            raise GankitError(f"DP-SGD max_grad_norm must be > 0, got {max_grad_norm!r}")
        _opacus()
        from opacus.accountants.utils import get_noise_multiplier

        self.epsilon, self.delta = float(epsilon), float(delta)
        self.sample_rate, self.updates = float(sample_rate), int(updates)
        self.max_grad_norm = float(max_grad_norm)
        # Opacus warns when the best RDP order is its largest; the bound is still an upper bound.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.noise_multiplier = float(
                get_noise_multiplier(
                    target_epsilon=self.epsilon,
                    target_delta=self.delta,
                    sample_rate=self.sample_rate,
                    steps=self.updates,
                    accountant="rdp",
                    epsilon_tolerance=0.005,
                )
            )

    def spent(self, updates: int) -> float:
        """The accountant's epsilon (at :attr:`delta`) after ``updates`` D updates."""
        from opacus.accountants import RDPAccountant

        if updates <= 0:
            return 0.0
        accountant = RDPAccountant()
        accountant.history.append((self.noise_multiplier, self.sample_rate, int(updates)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return float(accountant.get_epsilon(self.delta))

    def describe(self, updates: int) -> dict[str, Any]:
        """What config.json and the report record: the target, the noise and the epsilon spent."""
        return {
            "mechanism": "DP-SGD on D (Opacus, Poisson sampling, RDP accountant)",
            "epsilon_target": self.epsilon,
            "delta": self.delta,
            "noise_multiplier": round(self.noise_multiplier, 5),
            "max_grad_norm": self.max_grad_norm,
            "sample_rate": self.sample_rate,
            "d_updates": int(updates),
            "epsilon_spent": round(self.spent(updates), 4),
        }

    def wrap(self, D: nn.Module) -> nn.Module:
        """D with per-sample gradients (Opacus ``GradSampleModule``); refuses unsupported layers."""
        _opacus()
        from opacus import GradSampleModule
        from opacus.validators import ModuleValidator

        problems = ModuleValidator.validate(D, strict=False)
        if problems:
            names = sorted({type(p).__name__ + ": " + str(p).split(".")[0] for p in problems})
            raise GankitError(
                "DP-SGD cannot train this discriminator: "
                + "; ".join(names)
                + ". Use a D without BatchNorm (spectral norm, GroupNorm or no normalisation)"
            )
        return GradSampleModule(D, loss_reduction="sum")

    def optimizer(
        self, optimizer: torch.optim.Optimizer, expected_batch: int
    ) -> torch.optim.Optimizer:
        """``optimizer`` behind clipping and noise; ``expected_batch`` real + fake samples."""
        from opacus.optimizers import DPOptimizer

        return DPOptimizer(
            optimizer,
            noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.max_grad_norm,
            expected_batch_size=expected_batch,
            loss_reduction="mean",
            generator=secret_generator(),
        )


class PoissonSampled:
    """Real batches by Poisson sampling of ``data`` (each sample in with probability ``rate``).

    ``data`` needs ``batch(index)``; conditional data also ``fake_conditions(n, generator)``, the
    law of G's conditions (drawn from private counts or public classes, never from the batch).
    The membership draws use a secret generator: the engine's seeded one is ignored.
    """

    def __init__(self, data: Any, rate: float) -> None:
        self.data = data
        self.rate = rate
        self.conditional = getattr(data, "conditional", False)
        if self.conditional and not hasattr(data, "fake_conditions"):
            raise GankitError(
                f"{type(data).__name__} is conditional but has no private law for G's conditions "
                "(fake_conditions); train it without privacy or unconditionally"
            )
        self._secret = secret_generator()

    def __len__(self) -> int:
        return len(self.data)

    def sample(self, n: int, generator: torch.Generator) -> Any:
        chosen = torch.rand(len(self.data), generator=self._secret) < self.rate
        return self.data.batch(torch.nonzero(chosen).squeeze(1))

    def fake_conditions(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.data.fake_conditions(n, generator)
