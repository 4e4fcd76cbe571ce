"""Task-specific terms in the adversarial game: where a task changes what the engine optimises.

The engine always plays the same game (``n_critic`` D updates, one G update, EMA); an
:class:`Objective` adds what a recipe needs on top of the adversarial loss, without a private loop:

- pix2pix adds an L1 term to G's loss (:meth:`Objective.g_terms`),
- CycleGAN adds cycle and identity terms and shows D fakes from a history pool
  (:meth:`Objective.fake_for_d`, whose pool is saved with every checkpoint through
  :meth:`Objective.state_tensors`),
- super-resolution pre-trains on pixels alone (:meth:`Objective.adversarial_weight` = 0),
- a single-image GAN grows its generator stage by stage (:meth:`Objective.begin_step`) and trains
  older stages at smaller learning rates (:meth:`Objective.g_lr_factors`),
- text-to-image adds a matching-aware D term on real images with mismatched text
  (:meth:`Objective.d_terms`).

Every term comes back already weighted in a dict; the engine sums them into the loss and logs each
one as ``g_<name>`` / ``d_<name>`` so a user can see which term dominates.

An objective sees the game through :class:`Players`, a narrow view the engine builds (as
stylegan2-ada's ``Loss`` gets only the networks it needs), never the trainer itself: it cannot
reach the optimizers, the data order or the checkpoints, so it cannot break determinism or resume.

Example:
    >>> import torch
    >>> class L1(Objective):
    ...     def g_terms(self, players, real, fake, cond):
    ...         return {"l1": 100.0 * (fake - real).abs().mean()}
    >>> L1().g_terms(None, torch.zeros(2, 1), torch.ones(2, 1), None)["l1"].item()
    100.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from gankit.losses import AdversarialLoss

Condition = torch.Tensor | None


@dataclass(frozen=True)
class Players:
    """What an objective may use of the game at one training step.

    ``G`` and ``D`` are the networks being trained (under distributed training their wrappers:
    ``getattr(D, "module", D)`` reaches methods beyond ``forward``, such as ``D.classify``);
    ``critic(x, cond)`` is D on augmented input, as the engine's own losses call it; ``loss`` the
    run's adversarial loss; ``step`` the step being trained, counted from 0.

    Example:
        >>> from gankit.losses import get_loss
        >>> D = nn.Linear(2, 1)
        >>> players = Players(nn.Identity(), D, lambda x, cond=None: D(x), get_loss("hinge"), 0)
        >>> players.critic(torch.zeros(3, 2)).shape
        torch.Size([3, 1])
    """

    G: nn.Module
    D: nn.Module
    critic: Callable[[torch.Tensor, Condition], torch.Tensor]
    loss: AdversarialLoss
    step: int


class Objective:
    """The plain GAN game: no extra terms, D sees G's latest fakes, adversarial weight 1."""

    # G's terms compare with a real batch even where the loss and the data would not draw one
    # (unconditional data under a non-relativistic loss); True makes the engine draw it.
    g_needs_real: bool = False

    def g_terms(
        self, players: Players, real: torch.Tensor | None, fake: torch.Tensor, cond: Condition
    ) -> dict[str, torch.Tensor]:
        """Extra weighted G loss terms; ``real`` is the real target paired with ``cond``.

        ``real`` is None only for unconditional data with a loss that does not compare with reals,
        unless :attr:`g_needs_real` asks for it.
        """
        return {}

    def d_terms(
        self, players: Players, real: torch.Tensor, fake: torch.Tensor, cond: Condition
    ) -> dict[str, torch.Tensor]:
        """Extra weighted D loss terms (``fake`` is what :meth:`fake_for_d` returned)."""
        return {}

    def fake_for_d(self, players: Players, fake: torch.Tensor) -> torch.Tensor:
        """The fakes D is trained on this update (G's latest by default)."""
        return fake

    def begin_step(self, step: int) -> None:
        """Called before every training step, ``step`` counted from 0: where a schedule that
        changes the players (a multi-stage generator growing a stage) happens. It must depend on
        ``step`` and the checkpointed state alone, so that a resumed run repeats it."""

    def g_lr_factors(self, step: int) -> list[float] | None:
        """Factors of G's learning rate at ``step``, one per optimizer group (the groups of
        ``G.param_groups()`` when G defines it); None: 1 for all."""
        return None

    def adversarial_weight(self, step: int) -> float:
        """Weight of G's adversarial loss at ``step``; 0 skips D entirely (pre-training)."""
        return 1.0

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Tensors to checkpoint so a resumed run continues bit for bit (e.g. an image pool).

        Names and shapes must be fixed when the objective is built (preallocate, e.g. a pool of
        zeros and a fill count): a resumed trainer checks the saved file against them.
        """
        return {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_tensors` returned."""
