"""In-memory snapshots of the trainable state, for rolling back a step that went NaN/Inf.

A checkpoint on disk is slow and infrequent; a snapshot is a plain copy of the tensors in memory,
taken every ``snapshot_every`` good steps, so a non-finite loss or gradient costs at most that
many steps instead of the run. RNG states are deliberately *not* part of a snapshot: after a
rollback the data and noise streams move on, so the batch that blew up is skipped, not replayed.

Example:
    >>> from gankit.data.toy import toy_mixture
    >>> from gankit.nn import build_gan
    >>> from gankit.train import TrainConfig, Trainer
    >>> G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 16})
    >>> trainer = Trainer(G, D, toy_mixture("ring", n=256, seed=0), TrainConfig(batch_size=32))
    >>> snap = Snapshot.take(trainer)
    >>> weight = next(trainer.G.parameters())
    >>> before = weight.detach().clone()
    >>> _ = weight.data.fill_(float("nan"))  # a step that blew up
    >>> snap.restore(trainer)
    >>> torch.equal(weight, before)
    True
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from gankit.train.engine import Trainer

_MODULES = ("G", "G_ema", "D")
_STATEFUL = ("opt_G", "opt_D", "scaler_G", "scaler_D")


@dataclass(frozen=True)
class Snapshot:
    """Copies of G, G_ema, D, both optimizers, both loss scalers and the objective's state."""

    step: int
    modules: dict[str, dict[str, torch.Tensor]]
    states: dict[str, dict[str, Any]]
    objective: dict[str, torch.Tensor]

    @classmethod
    def take(cls, trainer: Trainer) -> Snapshot:
        modules = {
            name: {k: v.detach().clone() for k, v in getattr(trainer, name).state_dict().items()}
            for name in _MODULES
        }
        # deepcopy clones the optimizer's moment tensors too; state_dict() alone would alias them.
        states = {name: copy.deepcopy(getattr(trainer, name).state_dict()) for name in _STATEFUL}
        # The objective's state (e.g. CycleGAN's pool of past fakes) would replay a bad step's
        # NaN images to D after a rollback, so it is rolled back with the weights.
        objective = {k: v.clone() for k, v in trainer.objective.state_tensors().items()}
        return cls(trainer.step, modules, states, objective)

    def is_finite(self) -> bool:
        """False when the snapshot itself holds NaN/Inf weights (then nothing good is left)."""
        return all(
            bool(torch.isfinite(t).all())
            for state in self.modules.values()
            for t in state.values()
            if t.is_floating_point()
        )

    def restore(self, trainer: Trainer) -> None:
        """Put every copied tensor back (the snapshot stays usable for another rollback)."""
        for name, state in self.modules.items():
            getattr(trainer, name).load_state_dict(state)
        for name, state in self.states.items():
            getattr(trainer, name).load_state_dict(copy.deepcopy(state))
        if self.objective:
            trainer.objective.load_state_tensors({k: v.clone() for k, v in self.objective.items()})
