"""CTGAN's conditional vector and training-by-sampling, vectorised in torch.

A *condition* says "discrete column ``c`` has value ``k``": a one-hot over all discrete columns'
slots. During training (:class:`TabularData`) each row of a batch picks a column uniformly and a
value with probability proportional to ``log(1 + count)``, then a real row that has that value.
Rare categories (``native-country = Holand-Netherlands``, 1 row in 32,561) are thus seen often
enough for G to learn them, and D judges real and fake rows under the same conditions. When
sampling, values are drawn with their true frequencies, so the output keeps the data's marginals.
A model with a named *target* column holds the target in every condition as well, so a condition
then has two slots set (one when the drawn column is the target itself).

Example:
    >>> sampler = ConditionSampler([3, 1, 6], [2, 1])   # columns of 2 and 1 slots
    >>> sampler.one_hot(torch.tensor([0, 2])).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.errors import GankitError


class ConditionSampler:
    """Draws condition slots from per-slot counts; ``column_sizes`` groups slots into columns.

    With a *target* (``target_column``, the index of a conditioned column, and ``target_counts``,
    ``(cond_dim, target slots)``: how often each condition slot occurs with each target value)
    every condition also holds the row's target, so G and D always play class by class; when
    sampling, the target is drawn given the other drawn slot from those counts.
    """

    def __init__(
        self,
        slot_counts: list[int],
        column_sizes: list[int],
        target_column: int | None = None,
        target_counts: list[list[int]] | None = None,
    ) -> None:
        self.cond_dim = len(slot_counts)
        self.n_columns = len(column_sizes)
        self.target_column = target_column
        self.offsets = torch.tensor(np.cumsum([0, *column_sizes])[:-1], dtype=torch.long)
        width = max(column_sizes, default=1)
        counts = torch.zeros(self.n_columns, width, dtype=torch.float64)
        for column, (start, size) in enumerate(
            zip(self.offsets.tolist(), column_sizes, strict=True)
        ):
            counts[column, :size] = torch.tensor(
                slot_counts[start : start + size], dtype=torch.float64
            )
        # Padding slots have count 0, hence probability 0 under both laws.
        self.train_probs = torch.log1p(counts) / torch.log1p(counts).sum(1, keepdim=True)
        self.data_probs = counts / counts.sum(1, keepdim=True)
        if target_column is not None:
            pairs = torch.tensor(target_counts or [], dtype=torch.float64)
            if pairs.shape != (self.cond_dim, column_sizes[target_column]):
                raise GankitError(
                    f"target counts must be {self.cond_dim} rows of the target's "
                    f"{column_sizes[target_column]} slots, got {tuple(pairs.shape)}; is the "
                    "model's transformer.json damaged? Fit the model again"
                )
            pairs += pairs.sum(1, keepdim=True) == 0  # a slot the data never has: never drawn
            self.target_probs = pairs / pairs.sum(1, keepdim=True)

    def draw(
        self,
        n: int,
        generator: torch.Generator,
        log_frequency: bool = True,
        column: int | None = None,
    ) -> torch.Tensor:
        """``n`` slots: a uniform column (or ``column``), then a value by log- or true frequency."""
        if column is None:
            column = torch.randint(self.n_columns, (n,), generator=generator)
        else:
            column = torch.full((n,), column)
        probs = (self.train_probs if log_frequency else self.data_probs)[column]
        value = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return self.offsets[column] + value

    def draw_target(self, slots: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A target slot for each condition slot, drawn from the data's pairs of the two."""
        value = torch.multinomial(self.target_probs[slots], 1, generator=generator).squeeze(1)
        return self.offsets[self.target_column] + value

    def holds_target(self, slot: int) -> bool:
        """Whether condition slot ``slot`` is one of the target's (False without a target)."""
        if self.target_column is None:
            return False
        start = int(self.offsets[self.target_column])
        return start <= slot < start + self.target_probs.shape[1]

    def one_hot(self, slots: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Conditions holding ``slots`` (and ``targets``, the target's slots, when given)."""
        cond = torch.zeros(len(slots), self.cond_dim)
        cond[torch.arange(len(slots)), slots] = 1.0
        if targets is not None:
            cond[torch.arange(len(slots)), targets] = 1.0
        return cond


class TabularData:
    """Encoded rows for the :class:`~gankit.train.Trainer`, batched by training-by-sampling.

    ``rows`` is the encoded table ``(N, D)``; ``slots`` holds each row's condition slot per
    discrete column ``(N, n_discrete)`` (empty when the table has no discrete column: then the
    data is unconditional and batches are uniform draws).
    """

    def __init__(self, rows: torch.Tensor, slots: torch.Tensor, sampler: ConditionSampler) -> None:
        self.rows = rows
        self.slots = slots
        self.sampler = sampler
        self.conditional = sampler.n_columns > 0
        # Rows grouped by slot: the rows having slot s are order[start[s] : start[s] + count[s]].
        flat = slots.T.reshape(-1)  # (n_discrete * N,): column by column
        order = torch.argsort(flat, stable=True)
        self.order = order % len(rows)
        self.count = torch.bincount(flat, minlength=sampler.cond_dim)
        self.start = torch.cumsum(self.count, 0) - self.count

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, index: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Rows ``index``; conditioned on their own value of column ``i % n_discrete``."""
        if not self.conditional:
            return self.rows[index]
        slot = self.slots[index, index % self.sampler.n_columns]
        return self.rows[index], self.sampler.one_hot(slot, self._targets(index))

    def sample(
        self, n: int, generator: torch.Generator
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``n`` real rows and their conditions (training-by-sampling), drawn from ``generator``."""
        if not self.conditional:
            return self.rows[torch.randint(len(self.rows), (n,), generator=generator)]
        slot = self.sampler.draw(n, generator, log_frequency=True)
        pick = (torch.rand(n, generator=generator) * self.count[slot]).long()
        index = self.order[self.start[slot] + pick.clamp_max(self.count[slot] - 1)]
        return self.rows[index], self.sampler.one_hot(slot, self._targets(index))

    def fake_conditions(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """G's conditions under private training: a uniform column, a value with the fitted
        (there: noisy) frequencies, the law of the conditions :meth:`batch` gives real rows."""
        if self.sampler.target_column is not None:
            raise GankitError("private training does not take a model target")
        return self.sampler.one_hot(self.sampler.draw(n, generator, log_frequency=False))

    def _targets(self, index: torch.Tensor) -> torch.Tensor | None:
        """The target's slot of rows ``index`` (None without a target)."""
        column = self.sampler.target_column
        return None if column is None else self.slots[index, column]
