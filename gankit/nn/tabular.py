"""Generator and discriminator for encoded table rows (CTGAN's design, with two changes).

G: ``(z, cond) -> row``. Residual MLP blocks (Linear, BatchNorm, ReLU, whose output is concatenated
to their input) and one Linear to the encoded row; then each span of the row gets its activation
from the table transformer's spans: ``tanh`` for a mode offset, a softmax for a one-hot choice —
Gumbel-softmax (``tau``) while training, so G's choices stay differentiable and stochastic, plain
probabilities in eval mode (the task draws the category from them, with its own seeded RNG).

D: ``(row, cond) -> logit`` per pack of ``pack`` rows (PacGAN), Linear + LeakyReLU + Dropout.

Changes from CTGAN:

- **Hard conditioning.** The span of the column named by the condition is *set* to the
  condition's one-hot instead of being pushed there by an extra cross-entropy loss. A conditioned
  row always has the asked-for value (so conditional sampling is exact) and G spends its capacity
  on the rest of the row.
- One vectorised segment-softmax over all discrete spans instead of a Python loop per column.

Example:
    >>> import torch
    >>> config = TabularConfig(
    ...     data_dim=4, cond_dim=2, span_sizes=(1, 1, 2), span_softmax=(False, False, True),
    ...     cond_positions=(2, 3), pack=2)
    >>> G, D = build_tabular(config)
    >>> rows = G(torch.randn(4, G.latent_dim), torch.eye(2).repeat(2, 1))
    >>> rows.shape, D(rows, torch.eye(2).repeat(2, 1)).shape
    (torch.Size([4, 4]), torch.Size([2]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.layers import pack_samples, sn


@dataclass(frozen=True)
class TabularConfig:
    """Sizes of the pair and the row layout it works on (from the fitted table transformer).

    ``span_sizes``/``span_softmax`` list the encoded row's spans left to right (softmax or tanh);
    ``cond_positions[j]`` is where condition slot ``j`` sits in the row.
    """

    data_dim: int = 1
    cond_dim: int = 0
    span_sizes: tuple[int, ...] = (1,)
    span_softmax: tuple[bool, ...] = (False,)
    cond_positions: tuple[int, ...] = ()
    latent_dim: int = 128
    g_hidden: tuple[int, ...] = (256, 256)
    d_hidden: tuple[int, ...] = (256, 256)
    d_dropout: float = 0.5
    pack: int = 10
    tau: float = 0.2  # Gumbel-softmax temperature
    spectral_norm: bool = False
    # Shared-row D: one MLP reads every row of a pack with the same weights, and the head sees the
    # pack's mean and std of row features. CTGAN's D (False) feeds the flat pack to one MLP, which
    # must learn each column relation once per position in the pack.
    shared_rows: bool = False
    # Training-by-sampling also conditions on numeric columns' modes (read by the table
    # transformer when it is fitted; the layout above already includes those condition slots).
    condition_modes: bool = False
    # Weight of G's span-frequency term (:func:`span_frequency_loss`); 0 leaves it out.
    frequency_weight: float = 0.0
    # A discrete column the user names as the one to predict. It is held in every condition (the
    # table transformer reads it at fit time), and with ``target_weight`` > 0 a classifier fitted
    # on the real rows judges whether G's rows have the target their other columns imply
    # (CTAB-GAN's auxiliary classifier). "" (the default) leaves both out.
    target: str = ""
    # 0: on Adult the classifier raised TSTR F1 but cost ROC AUC over the target conditioning
    # alone (docs/tabular.md, "Target classifier").
    target_weight: float = 0.0

    def __post_init__(self) -> None:
        if sum(self.span_sizes) != self.data_dim or len(self.span_sizes) != len(self.span_softmax):
            raise GankitError(
                f"tabular config: spans {self.span_sizes} do not add up to data_dim {self.data_dim}"
            )
        if len(self.cond_positions) != self.cond_dim:
            raise GankitError("tabular config: cond_positions needs one entry per condition slot")
        if (
            self.latent_dim < 1
            or self.pack < 1
            or not 0 <= self.d_dropout < 1
            or self.tau <= 0
            or not 0 <= self.frequency_weight < math.inf  # refuses NaN too
            or not 0 <= self.target_weight < math.inf
        ):
            raise GankitError(f"tabular config has an invalid size or rate: {self}")


class _Residual(nn.Module):
    """``x -> cat([relu(bn(fc(x))), x])``: each block sees, and passes on, everything before it."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


def span_layout(config: TabularConfig) -> tuple[Tensor, Tensor, Tensor]:
    """Index tensors for the vectorised activations: tanh positions, padded softmax groups.

    Returns ``(tanh, index, valid)``: ``index`` is (n_groups, width), the position of each slot of
    each softmax span, with short spans padded by position 0; ``valid`` marks the real slots.
    """
    starts = torch.cumsum(torch.tensor((0, *config.span_sizes)), 0)[:-1].tolist()
    spans = list(zip(starts, config.span_sizes, config.span_softmax, strict=True))
    tanh = torch.tensor([s for s, _, soft in spans if not soft], dtype=torch.long)
    groups = [(s, n) for s, n, soft in spans if soft]
    width = max((n for _, n in groups), default=1)
    index = torch.full((len(groups), width), -1, dtype=torch.long)
    for g, (start, size) in enumerate(groups):
        index[g, :size] = torch.arange(start, start + size)
    return tanh, index.clamp_min(0), index >= 0


class TabularGenerator(nn.Module):
    """``(B, latent_dim), (B, cond_dim) -> (B, data_dim)`` encoded rows."""

    def __init__(self, config: TabularConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        self.tau = config.tau
        blocks, width = [], config.latent_dim + config.cond_dim
        for hidden in config.g_hidden:
            blocks.append(_Residual(width, hidden))
            width += hidden
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(width, config.data_dim)
        tanh, index, valid = span_layout(config)
        # Derived from the config, so not saved with the weights (persistent=False).
        self.register_buffer("tanh_index", tanh, persistent=False)
        self.register_buffer("soft_index", index, persistent=False)
        self.register_buffer("soft_valid", valid, persistent=False)
        # Hard conditioning: cond @ fill puts the condition's one-hot at its row positions;
        # cond @ cover marks the whole span of the conditioned column, to be overwritten.
        fill = torch.zeros(config.cond_dim, config.data_dim)
        cover = torch.zeros(config.cond_dim, config.data_dim)
        for slot, pos in enumerate(config.cond_positions):
            fill[slot, pos] = 1.0
            group = (index == pos).any(dim=1).nonzero()[0, 0]
            cover[slot, index[group][valid[group]]] = 1.0
        self.register_buffer("cond_fill", fill, persistent=False)
        self.register_buffer("cond_cover", cover, persistent=False)

    def activate(self, raw: Tensor) -> Tensor:
        """tanh on offset spans; Gumbel-softmax (training) or softmax (eval) on one-hot spans."""
        out = torch.empty_like(raw)
        out[:, self.tanh_index] = torch.tanh(raw[:, self.tanh_index])
        if self.training:  # Gumbel noise from torch's global RNG (saved in checkpoints)
            uniform = torch.rand_like(raw).clamp_(1e-10, 1.0)
            raw = (raw - (-uniform.log()).log()) / self.tau  # tanh spans were taken above
        logits = raw[:, self.soft_index]  # (B, groups, width)
        probs = logits.masked_fill(~self.soft_valid, float("-inf")).softmax(dim=-1)
        out[:, self.soft_index[self.soft_valid]] = probs[:, self.soft_valid]
        return out

    @torch.no_grad()
    def choose(self, rows: Tensor, generator: torch.Generator) -> Tensor:
        """Eval-mode rows with each softmax span replaced by a one-hot drawn from its probabilities.

        Drawing (rather than taking the largest probability) keeps rare categories as frequent
        as G makes them; ``generator`` makes it reproducible.
        """
        probs = rows[:, self.soft_index].float().clamp_min(0.0) + 1e-12  # (B, groups, width)
        probs = probs.masked_fill(~self.soft_valid, 0.0)  # padding is never drawn
        flat = probs.reshape(-1, probs.shape[-1]).cpu()
        picked = torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:2])
        one_hot = F.one_hot(picked, probs.shape[-1]).to(rows.dtype).to(rows.device)
        out = rows.clone()
        out[:, self.soft_index[self.soft_valid]] = one_hot[:, self.soft_valid]
        return out

    def forward(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        if cond is None:
            cond = z.new_zeros(len(z), self.cond_fill.shape[0])
        rows = self.activate(self.out(self.body(torch.cat([z, cond], dim=1))))
        cover = cond @ self.cond_cover  # (B, data_dim): 1 on the conditioned column's span
        return rows * (1.0 - cover) + cond @ self.cond_fill


def _d_mlp(width: int, hidden: tuple[int, ...], config: TabularConfig) -> tuple[list, int]:
    """Linear + LeakyReLU(0.2) (+ Dropout) layers; returns them and the output width."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [sn(nn.Linear(width, size), config.spectral_norm), nn.LeakyReLU(0.2)]
        layers += [nn.Dropout(config.d_dropout)] if config.d_dropout > 0 else []
        width = size
    return layers, width


class TabularDiscriminator(nn.Module):
    """``(B, data_dim), (B, cond_dim) -> (B / pack,)`` logits."""

    def __init__(self, config: TabularConfig) -> None:
        super().__init__()
        self.pack = config.pack
        self.shared_rows = config.shared_rows
        row_width = config.data_dim + config.cond_dim
        if self.shared_rows:
            layers, width = _d_mlp(row_width, config.d_hidden, config)
            self.rows = nn.Sequential(*layers)
            # Pack statistics: mean (are the rows real?) and std (are they as varied as real ones?).
            layers, width = _d_mlp(2 * width if self.pack > 1 else width, (width,), config)
        else:
            layers, width = _d_mlp(row_width * config.pack, config.d_hidden, config)
        layers.append(sn(nn.Linear(width, 1), config.spectral_norm))
        self.net = nn.Sequential(*layers)

    def forward(self, rows: Tensor, cond: Tensor | None = None) -> Tensor:
        x = rows if cond is None else torch.cat([rows, cond], dim=1)
        if not self.shared_rows:
            return self.net(pack_samples(x, self.pack)).squeeze(1)  # (B/p, p*(D+C)) -> (B/p,)
        h = self.rows(x)
        if self.pack > 1:
            h = pack_samples(h, self.pack).reshape(
                len(h) // self.pack, self.pack, -1
            )  # (B/p, p, H)
            std = (h.var(dim=1, unbiased=False) + 1e-8).sqrt()  # eps: sqrt'(0) is infinite
            h = torch.cat([h.mean(dim=1), std], dim=1)  # (B/p, 2H)
        return self.net(h).squeeze(1)


def span_frequency_loss(real: Tensor, fake: Tensor, index: Tensor, valid: Tensor) -> Tensor:
    """Sum over softmax spans of KL(real batch frequencies || fake batch frequencies).

    ``index``/``valid`` are :func:`span_layout`'s padded softmax groups. PacGAN's D sees a rare
    mode only as a fraction of one row in a pack of 10, so G can drop it cheaply (on Adult it made
    far fewer rows with a capital gain than the table has: docs/tabular.md, "Span-frequency
    term"); over a batch of hundreds the deficit is plain. ``real`` is drawn under the same
    conditions as ``fake``, so the target is the batch's conditional mix, not the table's
    marginal; the noise of a batch estimate averages out because the gradient is linear in the
    real frequencies.

    Example:
        >>> index, valid = torch.tensor([[0, 1]]), torch.tensor([[True, True]])
        >>> real = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> float(span_frequency_loss(real, real, index, valid))
        0.0
    """
    p = real[:, index].mean(dim=0).masked_fill(~valid, 0.0)  # (groups, width)
    q = fake[:, index].mean(dim=0).masked_fill(~valid, 1.0)
    kl = p * (torch.log(p.clamp_min(1e-8)) - torch.log(q.clamp_min(1e-8)))
    return kl.sum()


class TargetClassifier(nn.Module):
    """``(B, data_dim) -> (B, size)`` logits of a target span's slot from the rest of the row.

    The target's own span ``[start, start + size)`` is zeroed on the way in, so the classifier
    reads only the other columns (CTAB-GAN's auxiliary classifier, fitted on real rows).

    Example:
        >>> classifier = TargetClassifier(data_dim=5, start=3, size=2)
        >>> classifier(torch.randn(4, 5)).shape
        torch.Size([4, 2])
    """

    def __init__(self, data_dim: int, start: int, size: int, hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        self.start, self.size = start, size
        layers: list[nn.Module] = []
        width = data_dim
        for units in hidden:
            layers += [nn.Linear(width, units), nn.LeakyReLU(0.2), nn.Dropout(0.25)]
            width = units
        self.net = nn.Sequential(*layers, nn.Linear(width, size))

    def forward(self, rows: Tensor) -> Tensor:
        mask = torch.ones(rows.shape[1], device=rows.device, dtype=rows.dtype)
        mask[self.start : self.start + self.size] = 0.0
        return self.net(rows * mask)


def build_tabular(config: TabularConfig) -> tuple[TabularGenerator, TabularDiscriminator]:
    """Build ``(G, D)`` from ``config``."""
    return TabularGenerator(config), TabularDiscriminator(config)
