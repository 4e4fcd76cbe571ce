"""The one adversarial training loop every gankit task runs on.

A task hands the :class:`Trainer` a generator, a discriminator, its data and a :class:`TrainConfig`;
the trainer owns everything else: optimizers, the EMA generator, data order, noise, regularizers,
mixed precision, statistics, callbacks and checkpoints. A step is ``n_critic`` D updates followed by
one G update; each update averages ``accum_steps`` micro-batches.

Determinism: data order and latent noise come from two ``torch.Generator`` objects seeded from the
config; other randomness (dropout, augmentation) uses torch's global RNG. All of them are saved in
checkpoints, so a resumed run on CPU continues the uninterrupted one bit for bit.

Non-finite steps: when a loss or gradient norm becomes NaN/Inf the trainer restores the last good
in-memory :class:`~gankit.train.snapshot.Snapshot`, lowers both learning rates by
``rollback_lr_factor`` and carries on with the next batch; after ``rollback_limit`` rollbacks the
next one saves the last good state as a checkpoint and raises :class:`TrainingDiverged`.

Under ``torchrun`` the same loop runs on every rank with G and D in DDP; ``batch_size`` stays the
global batch and each rank computes its slice (:mod:`gankit.train.distributed` has the rules).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from gankit.augment import AdaptiveAugment, build_augment
from gankit.errors import GankitError
from gankit.io import check_state, load_tensors
from gankit.losses import get_loss, gradient_penalty, mixing_weights, r1_penalty, r2_penalty
from gankit.train.callbacks import Callback
from gankit.train.config import TrainConfig
from gankit.train.distributed import Distributed
from gankit.train.ema import make_ema, update_ema
from gankit.train.objective import Objective, Players
from gankit.train.privacy import DPSGD, PoissonSampled
from gankit.train.snapshot import Snapshot
from gankit.train.state import (
    STATE_DIR,
    join_optimizer_state,
    latest_checkpoint,
    read_checkpoint,
    split_optimizer_state,
    step_dir_name,
    write_checkpoint,
)

_MODULES = ("G", "G_ema", "D")
_STEMS = (*_MODULES, "optim_G", "optim_D", "rng")


class TrainData(Protocol):
    """What the trainer needs from a dataset: its size and a batch for given indices.

    ``batch`` returns the samples, or ``(samples, condition)`` when the data is conditional (it
    then sets ``conditional = True``; G is called as ``G(z, condition)`` and D as
    ``D(x, condition)``; generated samples reuse the conditions of a real batch). A dataset may
    also define ``sample(n, generator)`` returning the same, to choose its own batches (CTGAN's
    training-by-sampling); it must draw all randomness from ``generator`` so runs stay
    reproducible and resumable.
    """

    def __len__(self) -> int: ...

    def batch(self, index: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]: ...


Condition = torch.Tensor | None


class TrainingInterrupted(GankitError):
    """Raised after Ctrl-C / SIGTERM once the final checkpoint is safely written."""


class TrainingDiverged(GankitError):
    """Raised when rollbacks could not keep training finite; the last good state is saved."""


def _grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all of ``module``'s gradients together (0 when it has none)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())


def resolve_device(name: str) -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then CPU; an explicit device must be available."""
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None
        and torch.backends.mps.is_available(),
    }
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if available[d]))
    if not available.get(name, False):
        raise GankitError(
            f"device {name!r} is not available on this machine; use --device cpu or auto"
        )
    return torch.device(name)


# Learning-rate multiplier as a function of training progress t = step / steps, in [0, 1).
LR_SCHEDULES: dict[str, Callable[[float], float]] = {
    "constant": lambda t: 1.0,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),  # settles G at the end (toy HQ)
    "linear": lambda t: 1.0 - t,
}

_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


class Trainer:
    """Trains ``G`` against ``D`` on ``data``.

    Example:
        >>> from gankit.data.toy import toy_mixture
        >>> from gankit.nn import build_gan
        >>> G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 16})
        >>> data = toy_mixture("ring", n=256, seed=0)
        >>> config = TrainConfig(steps=4, batch_size=32, checkpoint_every=2)
        >>> trainer = Trainer(G, D, data, config, run_dir=tmp / "run")
        >>> trainer.fit()
        >>> trainer.step, (tmp / "run" / "train_state" / "latest").is_file()
        (4, True)
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        data: TrainData,
        config: TrainConfig,
        *,
        run_dir: str | Path | None = None,
        callbacks: Iterable[Callback] = (),
        objective: Objective | None = None,
        privacy: DPSGD | None = None,
    ) -> None:
        if len(data) < config.batch_size:
            raise GankitError(
                f"the dataset has {len(data)} samples, fewer than batch_size {config.batch_size}; "
                "use a smaller --batch-size or more data"
            )
        self.config = config
        device = resolve_device(config.device)
        if config.precision == "fp16" and device.type != "cuda":
            raise GankitError("precision fp16 needs a CUDA device; use fp32 (or bf16)")
        # Under torchrun: this rank's part in the process group (None in a single process).
        self.dist = Distributed.start(device, config.dist_timeout)
        self.device = self.dist.device if self.dist is not None else device
        self.G = G.to(self.device)
        self.D = D.to(self.device)
        # What the forward passes call: the DDP wrappers when distributed, else G and D.
        self._G_run: nn.Module = self.G
        self._D_run: nn.Module = self.D
        if self.dist is not None:
            self._start_distributed()
            callbacks = callbacks if self.dist.is_main else ()  # rank 0 alone logs and writes
        self.G_ema = make_ema(self.G)
        self.data = data
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.callbacks = list(callbacks)
        self.objective = objective if objective is not None else Objective()
        self.loss = get_loss(config.loss)
        self.ada = (
            AdaptiveAugment(config.augment, config.ada_target, config.ada_interval, config.ada_kimg)
            if config.ada_target > 0
            else None
        )
        self.augment = self.ada or build_augment(config.augment)
        optim = _OPTIMIZERS[config.optimizer]
        opts = {"betas": config.betas, "weight_decay": config.weight_decay}
        self.opt_G = optim(_param_groups(self.G), lr=config.lr_g, **opts)
        self.opt_D = optim(self.D.parameters(), lr=config.lr_d, **opts)
        fp16 = config.precision == "fp16"
        self.scaler_G = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_D = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.noise_rng = torch.Generator().manual_seed(config.seed * 2 + 1)
        self.data_rng = torch.Generator().manual_seed(config.seed * 2)
        self.step = 0
        self.d_updates = 0
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self._stop_requested = False
        self.stop_reason: str | None = None  # set by request_stop(): a normal, early end
        self.rollbacks = 0
        self._saved_step: int | None = None  # step of the newest checkpoint this trainer wrote
        self._snapshot: Snapshot | None = None
        self._stat_sums: dict[str, torch.Tensor] = {}
        # Per statistic: lazy R1 and pre-training phases report some values on some steps only.
        self._stat_counts: dict[str, int] = {}
        self._stat_count = 0
        self._last_log = (time.perf_counter(), 0)
        self.privacy = privacy
        if privacy is not None:
            self._make_private(privacy)

    def _make_private(self, privacy: DPSGD) -> None:
        """D trains by DP-SGD (:mod:`gankit.train.privacy`); refuse what would read reals without
        budget or what per-sample clipping cannot cover, naming the option to change."""
        cfg, objective = self.config, type(self.objective)
        refused = {
            "distributed training (train in one process)": self.dist is not None,
            "r1_gamma, r2_gamma and gp_weight (input-gradient penalties; set them to 0)": (
                cfg.r1_gamma > 0 or cfg.r2_gamma > 0 or cfg.gp_weight > 0
            ),
            f"loss {cfg.loss!r} (it pairs reals with fakes; use nonsaturating, hinge, "
            "wasserstein or least-squares)": self.loss.g_needs_real,
            "accum_steps > 1": cfg.accum_steps != 1,
            "precision fp16": cfg.precision == "fp16",
            "ada_target (ADA moves p from D's outputs on reals)": cfg.ada_target > 0,
            "this task's extra loss terms (they read the real batch)": (
                self.objective.g_needs_real
                or objective.d_terms is not Objective.d_terms
                or objective.fake_for_d is not Objective.fake_for_d
            ),
        }
        named = [what for what, on in refused.items() if on]
        if named:
            raise GankitError(
                "differentially private training cannot use " + "; ".join(named) + " without "
                "spending privacy budget the accountant does not count"
            )
        self.data = PoissonSampled(self.data, privacy.sample_rate)
        self._D_run = privacy.wrap(self.D)
        # Real and fake samples are clipped one by one: the expected batch holds both.
        self.opt_D = privacy.optimizer(self.opt_D, 2 * cfg.batch_size)

    def _start_distributed(self) -> None:
        """Wrap G and D in DDP and give this rank its own stream of torch's global RNG."""
        cfg, world = self.config, self.dist.world_size
        if cfg.batch_size % world:
            raise GankitError(
                f"batch_size {cfg.batch_size} is the global batch and must divide evenly over "
                f"the {world} ranks; use a multiple of {world}"
            )
        self._G_run = self.dist.wrap(self.G, cfg.sync_batchnorm)
        self._D_run = self.dist.wrap(self.D, cfg.sync_batchnorm)
        self.G, self.D = self._G_run.module, self._D_run.module
        self._seed_rank_rng(0)

    def _seed_rank_rng(self, step: int) -> None:
        """Seed torch's global RNG (augmentation, dropout) per rank, as stylegan2-ada does: the
        same draws on every rank would give each slice of the batch the same transforms."""
        world, rank = self.dist.world_size, self.dist.rank
        torch.manual_seed((self.config.seed * world + rank) * 1_000_003 + step)

    def _grad_sync(self, module: nn.Module, enabled: bool) -> contextlib.AbstractContextManager:
        """Gradient all-reduce of a DDP ``module`` on (``enabled``) or off; nothing in 1 process."""
        if self.dist is None:
            return contextlib.nullcontext()
        return self.dist.gradient_sync(module, enabled)

    # ----------------------------------------------------------------- inputs
    def noise(self, n: int) -> torch.Tensor:
        """Latent vectors from the trainer's own RNG, drawn on CPU so every device sees the same."""
        return torch.randn(n, self.G.latent_dim, generator=self.noise_rng).to(self.device)

    def real_batch(self) -> tuple[torch.Tensor, Condition]:
        """The next real batch and its condition (None for unconditional data).

        By default batches walk a seeded per-epoch permutation, dropping the incomplete tail.
        Distributed, every rank walks the same global stream and keeps its slice of each batch:
        the ranks' shards of an epoch are disjoint.
        """
        size = self.config.batch_size
        if hasattr(self.data, "sample"):
            batch = self.data.sample(size, self.data_rng)
        else:
            if self._cursor + size > len(self._order):
                self._order = torch.randperm(len(self.data), generator=self.data_rng)
                self._cursor = 0
            index = self._order[self._cursor : self._cursor + size]
            batch = self.data.batch(index if self.dist is None else self.dist.shard(index))
            self._cursor += size
        x, cond = batch if isinstance(batch, tuple) else (batch, None)
        if self.dist is not None and hasattr(self.data, "sample"):
            # A sampled batch is drawn whole, so that the stream is the 1-process one.
            x, cond = self.dist.shard(x), (self.dist.shard(cond) if cond is not None else None)
        to = {"device": self.device, "non_blocking": True}
        return x.to(**to), (cond.to(**to) if cond is not None else None)

    def fake_batch(self, cond: Condition) -> torch.Tensor:
        """G's output for fresh noise (and ``cond`` when the data is conditional)."""
        z = self.noise(self.config.batch_size)
        if self.dist is not None:
            z = self.dist.shard(z)  # the global batch's noise, drawn as one process would
        return self._G_run(z) if cond is None else self._G_run(z, cond)

    def critic(self, x: torch.Tensor, cond: Condition = None) -> torch.Tensor:
        """D on augmented input; reals and fakes get the same augmentation (DiffAugment)."""
        x = self.augment(x)
        return self._D_run(x) if cond is None else self._D_run(x, cond)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.config.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.config.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    # ------------------------------------------------------------------ steps
    def players(self) -> Players:
        """The narrow view of this step's game that the objective gets (see :class:`Players`)."""
        return Players(
            G=self._G_run, D=self._D_run, critic=self.critic, loss=self.loss, step=self.step
        )

    def _d_update(self, players: Players) -> dict[str, torch.Tensor]:
        if self.privacy is not None:
            return self._private_d_update()
        cfg = self.config
        self.opt_D.zero_grad(set_to_none=True)
        lazy_reg = (cfg.r1_gamma > 0 or cfg.r2_gamma > 0) and self.d_updates % cfg.reg_interval == 0
        stats: dict[str, torch.Tensor] = {}
        for micro in range(cfg.accum_steps):
            # Distributed: gradients are all-reduced once, in the last micro-batch's backward.
            with self._grad_sync(self._D_run, micro == cfg.accum_steps - 1):
                real_logits, fake_logits, d_loss = self._d_micro_batch(
                    players, stats, lazy_reg and micro == 0
                )
        stats["d_grad_norm"] = self._unscaled_grad_norm(self.D, self.opt_D, self.scaler_D)
        self.scaler_D.step(self.opt_D)
        self.scaler_D.update()
        self.d_updates += 1
        real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
        if self.ada is not None:
            # Every rank moves p on the evidence of the whole global batch, so p stays equal.
            self.ada.observe(real_logits if self.dist is None else self.dist.gather(real_logits))
            stats["aug_p"] = torch.tensor(self.ada.p)
        stats.update(
            d_loss=d_loss.detach(),
            d_acc_real=(real_logits > 0).float().mean(),
            d_acc_fake=(fake_logits < 0).float().mean(),
        )
        if real_logits.shape == fake_logits.shape:
            # Ranking real above fake is loss-independent (relativistic and Wasserstein logits
            # have no threshold at 0), so the health monitor judges "D is winning" from this.
            stats["d_acc_pair"] = (real_logits > fake_logits).float().mean()
        return stats

    def _private_d_update(self) -> dict[str, torch.Tensor]:
        """One DP-SGD update of D: a Poisson batch of reals and ``batch_size`` fakes in one
        forward, per-sample gradients clipped and noised by the DP optimizer. Only fake-side
        statistics are returned (the others would release the real batch without budget).

        The fakes number ``batch_size`` whatever the Poisson draw gave: as many fakes as reals
        would let one added real image add a fake too, two clipped gradients (sensitivity
        ``2 * max_grad_norm``) against noise calibrated for one.
        """
        self.opt_D.zero_grad(set_to_none=True)
        real, cond = self.real_batch()
        n, m = len(real), self.config.batch_size
        fake_cond = None
        if cond is not None:
            fake_cond = self.data.fake_conditions(m, self.noise_rng).to(self.device)
        z = torch.randn(m, self.G.latent_dim, generator=self.noise_rng).to(self.device)
        with torch.no_grad(), self._autocast():
            fake = self._G_run(z) if fake_cond is None else self._G_run(z, fake_cond)
        both_cond = None if cond is None else torch.cat([cond, fake_cond])
        with self._autocast():
            logits = self.critic(torch.cat([real, fake.to(real.dtype)]), both_cond).float()
        real_logits, fake_logits = logits[:n], logits[n:]
        # The loss as a sum of per-sample terms, the form whose per-sample gradients Opacus clips
        # one by one. Every loss allowed here is a mean over reals plus a mean over fakes (the
        # relativistic ones are refused), so each side is taken with the other held constant.
        constant = logits.new_zeros(1)
        loss = m * self.loss.d_loss(constant, fake_logits)
        if n:
            loss = loss + n * self.loss.d_loss(real_logits, constant)
        with warnings.catch_warnings():  # Opacus' hooks fire on D's output; that is meant
            warnings.filterwarnings("ignore", "Full backward hook", UserWarning)
            loss.backward()
        self.opt_D.step()
        self.d_updates += 1
        return {"d_acc_fake": (fake_logits.detach() < 0).float().mean()}

    def _d_micro_batch(
        self, players: Players, stats: dict[str, torch.Tensor], lazy_reg: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One micro-batch of D's loss, back-propagated; returns (real logits, fake logits, loss).

        The regularizers' statistics go into ``stats``; ``lazy_reg`` adds R1/R2 this time.
        """
        cfg = self.config
        real, cond = self.real_batch()
        with torch.no_grad(), self._autocast():
            fake = self.objective.fake_for_d(players, self.fake_batch(cond))
        with self._autocast():
            real_logits = self.critic(real, cond).float()
            fake_logits = self.critic(fake, cond).float()
            terms = self.objective.d_terms(players, real, fake, cond)
        total = d_loss = self.loss.d_loss(real_logits, fake_logits)
        for name, term in terms.items():
            total = total + term.float()
            stats[f"d_{name}"] = term.detach()

        def critic(x: torch.Tensor, cond: Condition = cond) -> torch.Tensor:
            return self.critic(x, cond)

        # Regularizers run in fp32: their second-order gradients underflow in half precision.
        if cfg.gp_weight > 0:
            eps = None
            if self.dist is not None:  # the global batch's mixing weights; this rank's slice
                global_size = len(real) * self.dist.world_size
                eps = self.dist.shard(mixing_weights(global_size, real, self.noise_rng))
            gp = gradient_penalty(critic, real, fake.float(), generator=self.noise_rng, eps=eps)
            total = total + cfg.gp_weight * gp
            stats["gp"] = gp.detach()
        if lazy_reg:
            # Lazy regularization (StyleGAN2): every reg_interval-th update, scaled to match.
            if cfg.r1_gamma > 0:
                r1 = r1_penalty(critic, real)
                total = total + 0.5 * cfg.r1_gamma * cfg.reg_interval * r1
                stats["r1"] = r1.detach()
            if cfg.r2_gamma > 0:
                r2 = r2_penalty(critic, fake.float())
                total = total + 0.5 * cfg.r2_gamma * cfg.reg_interval * r2
                stats["r2"] = r2.detach()
        self.scaler_D.scale(total / cfg.accum_steps).backward()
        return real_logits, fake_logits, d_loss

    def _unscaled_grad_norm(
        self, module: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler
    ) -> torch.Tensor:
        if scaler.is_enabled():
            # fp16 gradients are scaled; an Inf here is the scaler's business (it skips the step
            # and lowers its scale), not a divergence, so it is reported as NaN and not logged.
            scaler.unscale_(optimizer)
            norm = _grad_norm(module)
            return norm if torch.isfinite(norm) else torch.tensor(float("nan"))
        return _grad_norm(module)

    def _g_update(self, players: Players, adversarial_weight: float) -> dict[str, torch.Tensor]:
        cfg = self.config
        self.opt_G.zero_grad(set_to_none=True)
        self.D.requires_grad_(False)  # G's backward needs D's input gradient, not D's weights
        if self.privacy is not None:
            self._D_run.disable_hooks()  # and no per-sample gradients of D's weights either
        stats: dict[str, torch.Tensor] = {}
        try:
            for micro in range(cfg.accum_steps):
                # Distributed: G's gradients are all-reduced in the last micro-batch; D's never
                # here (it is frozen, and a synced DDP forward would expect them).
                with (
                    self._grad_sync(self._G_run, micro == cfg.accum_steps - 1),
                    self._grad_sync(self._D_run, False),
                ):
                    self._g_micro_batch(players, adversarial_weight, stats)
        finally:
            self.D.requires_grad_(True)
            if self.privacy is not None:
                self._D_run.enable_hooks()
        stats["g_grad_norm"] = self._unscaled_grad_norm(self.G, self.opt_G, self.scaler_G)
        self.scaler_G.step(self.opt_G)
        self.scaler_G.update()
        return stats

    def _g_micro_batch(
        self, players: Players, adversarial_weight: float, stats: dict[str, torch.Tensor]
    ) -> None:
        """One micro-batch of G's loss, back-propagated; its statistics go into ``stats``."""
        adversarial = adversarial_weight > 0
        # Relativistic losses compare with reals; conditional data needs real conditions.
        need_real = (
            self.loss.g_needs_real
            or self.objective.g_needs_real
            or getattr(self.data, "conditional", False)
        )
        if self.privacy is not None:  # G never reads reals: conditions from the private law
            real, cond = None, None
            if self.data.conditional:
                cond = self.data.fake_conditions(self.config.batch_size, self.noise_rng)
                cond = cond.to(self.device)
        else:
            real, cond = self.real_batch() if need_real else (None, None)
        with self._autocast():
            fake = self.fake_batch(cond)
            terms = self.objective.g_terms(players, real, fake, cond)
            if adversarial:
                fake_logits = self.critic(fake, cond).float()
                real_logits = self.critic(real, cond).float() if self.loss.g_needs_real else None
        total = torch.zeros((), device=self.device)
        if adversarial:
            g_loss = self.loss.g_loss(real_logits, fake_logits)
            total = total + adversarial_weight * g_loss
            stats["g_loss"] = g_loss.detach()
        for name, term in terms.items():
            total = total + term.float()
            stats[f"g_{name}"] = term.detach()
        self.scaler_G.scale(total / self.config.accum_steps).backward()

    def train_step(self) -> dict[str, torch.Tensor]:
        """``n_critic`` D updates (none while the objective's adversarial weight is 0), one G
        update, one EMA update; returns detached stats, D's averaged over its updates (and,
        distributed, over the ranks).

        Stats may be NaN/Inf: :meth:`fit` checks them and rolls back (see the module notes).
        """
        self.G.train()
        self.D.train()
        self.objective.begin_step(self.step)
        self._set_learning_rates()
        players = self.players()
        stats: dict[str, torch.Tensor] = {}
        # A zero adversarial weight is a reconstruction-only phase: D neither trains nor judges.
        adversarial_weight = self.objective.adversarial_weight(self.step)
        if adversarial_weight > 0:
            stats = _mean_stats([self._d_update(players) for _ in range(self.config.n_critic)])
        stats.update(self._g_update(players, adversarial_weight))
        update_ema(self.G_ema, self.G, self.step, self.config.ema_beta, self.config.ema_warmup)
        if self.dist is not None:
            # Every rank then judges (NaN rollback) and logs the same, global-batch values.
            stats = self.dist.mean_stats(stats)
        return stats

    def _set_learning_rates(self) -> None:
        """lr = configured lr x schedule(progress) x rollback_lr_factor ** rollbacks.

        Computed from the step and the rollback count alone, so a resumed run sets exactly the
        rates of the uninterrupted one.
        """
        cfg = self.config
        scale = LR_SCHEDULES[cfg.lr_schedule](self.step / cfg.steps)
        scale *= cfg.rollback_lr_factor**self.rollbacks
        g_factors = self.objective.g_lr_factors(self.step) or [1.0] * len(self.opt_G.param_groups)
        for group, factor in zip(self.opt_G.param_groups, g_factors, strict=True):
            group["lr"] = cfg.lr_g * scale * factor
        for group in self.opt_D.param_groups:
            group["lr"] = cfg.lr_d * scale

    def _non_finite(self, stats: dict[str, torch.Tensor]) -> str | None:
        """Name of the first NaN/Inf statistic (fp16 grad norms excepted), or None."""
        for name, value in stats.items():
            if not torch.isfinite(value):
                scaled = name.endswith("_grad_norm") and self.config.precision == "fp16"
                if not scaled:
                    return f"{name} became {value.item()}"
        return None

    def _roll_back(self, problem: str) -> None:
        """Restore the last good snapshot and lower the learning rates, or stop for good."""
        cfg = self.config
        snapshot = self._snapshot
        where = f"at step {self.step}"
        if snapshot is None or not snapshot.is_finite():
            raise TrainingDiverged(
                f"{problem} {where} and no finite state is left to roll back to; training "
                "diverged. Check the data for NaN/Inf and lower lr_g/lr_d"
            )
        snapshot.restore(self)
        self._stat_sums, self._stat_counts, self._stat_count = {}, {}, 0  # void statistics
        if self.rollbacks >= cfg.rollback_limit:
            saved = ""
            if self.run_dir is not None:
                saved = f"; the last good state (from step {snapshot.step}) is saved in "
                saved += f"{self.save_checkpoint()}"
            raise TrainingDiverged(
                f"{problem} {where} after {self.rollbacks} rollbacks; training diverged{saved}. "
                "Lower lr_g/lr_d further, add r1_gamma or spectral_norm, then resume"
            )
        self.rollbacks += 1
        self._set_learning_rates()
        message = (
            f"{problem} {where}: rolled back to step {snapshot.step} (rollback "
            f"{self.rollbacks}/{cfg.rollback_limit}), learning rates x{cfg.rollback_lr_factor} "
            f"(lr_g {self.opt_G.param_groups[0]['lr']:.3g}, "
            f"lr_d {self.opt_D.param_groups[0]['lr']:.3g}), batch skipped"
        )
        for cb in self.callbacks:
            cb.on_rollback(self, message)

    def request_stop(self, reason: str) -> None:
        """End training after the current step as a normal end (final checkpoint, callbacks).

        The health monitor calls this for ``health_stop``; ``stop_reason`` keeps the why.
        """
        if self.stop_reason is None:
            self.stop_reason = reason

    # ------------------------------------------------------------------- loop
    def fit(self, max_seconds: float | None = None) -> None:
        """Train until ``config.steps``; checkpoint periodically and on Ctrl-C / SIGTERM.

        ``max_seconds`` ends training early (as a normal end: final checkpoint, callbacks) once that
        much wall-clock time has passed; benchmarks use it to compare recipes at equal budgets.
        Distributed, it returns once every rank has finished.
        """
        cfg = self.config
        deadline = time.perf_counter() + max_seconds if max_seconds is not None else math.inf
        for cb in self.callbacks:
            cb.on_train_start(self)
        self._last_log = (time.perf_counter(), self.step)
        self._snapshot = Snapshot.take(self)
        out_of_time = False
        with self._stop_on_signals(), self._peers_lost():
            while self.step < cfg.steps and not out_of_time and self.stop_reason is None:
                stats = self.train_step()
                self.step += 1
                problem = self._non_finite(stats)
                if problem is not None:
                    self._roll_back(problem)
                else:
                    self._accumulate(stats)
                    if self.step % cfg.snapshot_every == 0:
                        self._snapshot = Snapshot.take(self)
                for cb in self.callbacks:
                    cb.on_step_end(self)
                if self.step % cfg.log_every == 0:
                    self._emit_log()
                if self.run_dir is not None and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                out_of_time, interrupted = self._agree_on_stops(time.perf_counter() >= deadline)
                if interrupted:
                    self._interrupt()
            if self._stat_count:
                self._emit_log()
            if self.run_dir is not None and self._saved_step != self.step:
                self.save_checkpoint()
        for cb in self.callbacks:
            cb.on_train_end(self)
        if self.dist is not None:
            self.dist.finish()

    def _agree_on_stops(self, out_of_time: bool) -> tuple[bool, bool]:
        """Whether the time budget is spent and whether Ctrl-C/SIGTERM stops training now;
        distributed, every stop (those two, health stop) as any rank saw it, so that all ranks
        leave the loop at the same step.

        The loop acts on the returned, agreed values only: a signal can set ``_stop_requested``
        on one rank after the agreement, and a rank stopping on it alone would leave the others
        waiting in the next step's collective. Such a late signal is agreed on one step later.
        """
        requested = self._stop_requested  # read once: a signal may set it at any moment
        if self.dist is None:
            return out_of_time, requested
        requested, out_of_time, health_stop = self.dist.any(
            requested, out_of_time, self.stop_reason is not None
        )
        self._stop_requested = self._stop_requested or requested
        if health_stop and self.stop_reason is None:
            self.stop_reason = "stopped with rank 0 (its health monitor)"
        return out_of_time, requested

    @contextlib.contextmanager
    def _peers_lost(self):
        """Turn a collective that failed because another rank died into one clear error."""
        try:
            yield
        except RuntimeError as err:  # torch.distributed.DistError is one; gloo raises plain ones
            if self.dist is None or not self.dist.is_communication_error(err):
                raise
            raise self.dist.lost_contact(err, self.step) from None

    def _interrupt(self) -> None:
        if self.run_dir is None:
            raise TrainingInterrupted(
                f"training stopped at step {self.step} (no run directory to save to)"
            )
        if self._saved_step != self.step:  # a Ctrl-C on a checkpoint step needs no second save
            self.save_checkpoint()
        raise TrainingInterrupted(
            f"training stopped at step {self.step}/{self.config.steps}; checkpoint saved. "
            f"Continue with: gankit resume {self.run_dir}"
        )

    @contextlib.contextmanager
    def _stop_on_signals(self):
        """Turn the first Ctrl-C / SIGTERM into a clean stop after the current step."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        # Counted per process: distributed, another rank's Ctrl-C sets _stop_requested here
        # through the agreement, and this rank's own copy of that Ctrl-C may arrive only after
        # (torchrun signals the ranks one by one); that copy is no "second" Ctrl-C.
        signalled = False

        def request_stop(signum, frame):
            nonlocal signalled
            if signalled:  # a second signal means "now"
                raise KeyboardInterrupt
            signalled = self._stop_requested = True

        # A signal the parent chose to ignore (a background shell ignores SIGINT) stays ignored,
        # as Python itself does for SIGINT: the user asked for this process to be immune to it.
        previous = {
            sig: signal.signal(sig, request_stop)
            for sig in (signal.SIGINT, signal.SIGTERM)
            if signal.getsignal(sig) is not signal.SIG_IGN
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _accumulate(self, stats: dict[str, torch.Tensor]) -> None:
        for name, value in stats.items():
            self._stat_sums[name] = self._stat_sums.get(name, 0.0) + value
            self._stat_counts[name] = self._stat_counts.get(name, 0) + 1
        self._stat_count += 1

    def _emit_log(self) -> None:
        now, last_step = time.perf_counter(), self._last_log[1]
        cfg = self.config
        images = (self.step - last_step) * cfg.images_per_step
        record: dict[str, float] = {"step": self.step}
        record.update({k: float(v) / self._stat_counts[k] for k, v in self._stat_sums.items()})
        record["img_per_s"] = images / max(now - self._last_log[0], 1e-9)
        if self.rollbacks:
            record["rollbacks"] = self.rollbacks
        record = {k: v for k, v in record.items() if not (isinstance(v, float) and math.isnan(v))}
        self._stat_sums, self._stat_counts, self._stat_count = {}, {}, 0
        self._last_log = (now, self.step)
        for cb in self.callbacks:
            cb.on_log(self, record)

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self) -> Path:
        """Write the full training state under ``run_dir/train_state/step-N`` (atomic).

        Distributed, every rank takes part (the weights are checked equal across ranks and each
        rank's own state is gathered into ``ranks.safetensors``) and rank 0 alone writes.
        """
        if self.run_dir is None:
            raise GankitError("save_checkpoint needs a run directory; pass run_dir to the Trainer")
        ranks: dict[str, torch.Tensor] = {}
        if self.dist is not None:
            self.dist.check_consistency(
                {
                    f"{name}.{key}": value
                    for name in _MODULES
                    for key, value in getattr(self, name).named_parameters()
                }
            )
            ranks = self.dist.gather_rank_states(self._rank_state())
        optim_G, optim_G_rest = split_optimizer_state(self.opt_G.state_dict())
        optim_D, optim_D_rest = split_optimizer_state(self.opt_D.state_dict())
        rng = {
            "torch": torch.get_rng_state(),
            "noise": self.noise_rng.get_state(),
            "data": self.data_rng.get_state(),
            "order": self._order,
        }
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        tensors = {
            "G": self.G.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "D": self.D.state_dict(),
            "optim_G": optim_G,
            "optim_D": optim_D,
            "rng": rng,
        }
        objective_state = self.objective.state_tensors()
        if objective_state:
            tensors["objective"] = objective_state
        if ranks:
            tensors["ranks"] = ranks
        meta = {
            "step": self.step,
            "d_updates": self.d_updates,
            # The noise was calibrated for this many D updates; a resume must keep the plan.
            "dp_planned_updates": None if self.privacy is None else self.privacy.updates,
            "cursor": self._cursor,
            "optim_G": optim_G_rest,
            "optim_D": optim_D_rest,
            "scaler_G": self.scaler_G.state_dict(),
            "scaler_D": self.scaler_D.state_dict(),
            "rollbacks": self.rollbacks,
            "ada": self.ada.state_dict() if self.ada is not None else None,
            "callbacks": {type(cb).__name__: cb.state_dict() for cb in self.callbacks},
        }
        if self.dist is None:
            path = write_checkpoint(
                self.run_dir, self.step, tensors, meta, self.config.keep_checkpoints
            )
        else:
            path = self._write_on_rank_0(tensors, {**meta, "world_size": self.dist.world_size})
        self._saved_step = self.step
        return path

    def _write_on_rank_0(self, tensors: dict[str, dict[str, torch.Tensor]], meta: dict) -> Path:
        """Rank 0 writes the checkpoint; every rank learns whether that worked, and stops if not."""
        error: GankitError | None = None
        path = self.run_dir / STATE_DIR / step_dir_name(self.step)
        if self.dist.is_main:
            try:
                path = write_checkpoint(
                    self.run_dir, self.step, tensors, meta, self.config.keep_checkpoints
                )
            except GankitError as err:
                error = err
        (failed,) = self.dist.any(error is not None)
        if error is not None:
            raise error
        if failed:
            raise GankitError(
                f"rank 0 could not write checkpoint {path.name} (its message says why); the "
                "previous checkpoint is intact"
            )
        return path

    def _rank_state(self) -> dict[str, torch.Tensor]:
        """What differs from rank to rank: torch's RNG (augmentation, dropout), the objective's
        state (e.g. CycleGAN's pool of this rank's fakes) and each network's buffers (per-rank
        BatchNorm statistics)."""
        state = {"rng.torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        state.update({f"objective.{k}": v for k, v in self.objective.state_tensors().items()})
        for name in _MODULES:
            for key, buffer in getattr(self, name).named_buffers():
                state[f"{name}.{key}"] = buffer
        return state

    def _load_rank_state(self, step_dir: Path, meta: dict) -> None:
        """This rank's own state from a checkpoint written by as many ranks (see docs).

        Under another number of ranks there is no own state to load: rank 0 keeps the main
        files' (already loaded), any other rank starts from rank 0's objective state and
        buffers with a fresh RNG stream of its own.
        """
        saved = meta.get("world_size", 1)
        if self.dist.rank == 0:
            return
        if saved != self.dist.world_size:
            self._seed_rank_rng(self.step)
            return
        prefix = f"{self.dist.rank}."
        mine = {
            key.removeprefix(prefix): value
            for key, value in load_tensors(step_dir / "ranks.safetensors").items()
            if key.startswith(prefix)
        }
        check_state(self._rank_state(), mine, str(step_dir / "ranks.safetensors"))
        torch.set_rng_state(mine.pop("rng.torch"))
        if "rng.cuda" in mine:
            torch.cuda.set_rng_state(mine.pop("rng.cuda"), self.device)
        objective = {
            key.removeprefix("objective."): mine.pop(key)
            for key in list(mine)
            if key.startswith("objective.")
        }
        if objective:
            self.objective.load_state_tensors(objective)
        for name in _MODULES:
            buffers = dict(getattr(self, name).named_buffers())
            for key, value in mine.items():
                if key.startswith(f"{name}."):
                    buffers[key.removeprefix(f"{name}.")].copy_(value)

    def resume(self) -> bool:
        """Load the newest checkpoint of ``run_dir``; returns False when there is none."""
        step_dir = latest_checkpoint(self.run_dir) if self.run_dir is not None else None
        if step_dir is None:
            return False
        self.load_checkpoint(step_dir)
        return True

    def _check_privacy_plan(self, planned: int | None, step_dir: Path) -> None:
        """Refuse a resume whose DP-SGD plan differs from the checkpoint's: the noise already
        added was calibrated for ``planned`` D updates, so more updates would spend more than
        the run's epsilon, and a private run continued without DP would not be private."""
        now = None if self.privacy is None else self.privacy.updates
        if planned == now:
            return
        if planned is None or now is None:
            raise GankitError(
                f"{step_dir}: the checkpoint was trained {'with' if now is None else 'without'} "
                f"differential privacy and cannot be continued "
                f"{'without' if now is None else 'with'} it; train a new model"
            )
        raise GankitError(
            f"{step_dir}: this private run's noise was calibrated for {planned} D updates; "
            f"continuing to {now} would spend more than its epsilon. Resume with the original "
            "--steps, or train a new private model with the steps you want"
        )

    def load_checkpoint(self, step_dir: str | Path) -> None:
        """Restore models, optimizers, EMA, RNGs, data position and callback state."""
        step_dir = Path(step_dir)
        objective_state = self.objective.state_tensors()
        stems = (*_STEMS, "objective") if objective_state else _STEMS
        tensors, meta = read_checkpoint(step_dir, stems)
        self._check_privacy_plan(meta.get("dp_planned_updates"), step_dir)  # before any state
        if objective_state:
            source = str(step_dir / "objective.safetensors")
            check_state(objective_state, tensors["objective"], source)
        for name in _MODULES:
            module = getattr(self, name)
            check_state(module.state_dict(), tensors[name], str(step_dir / f"{name}.safetensors"))
            module.load_state_dict(tensors[name])
        for name in ("optim_G", "optim_D"):
            optimizer = getattr(self, f"opt_{name[-1]}")
            _check_optimizer_tensors(optimizer, tensors[name], step_dir / f"{name}.safetensors")
            try:
                optimizer.load_state_dict(join_optimizer_state(tensors[name], meta[name]))
            except (ValueError, KeyError, RuntimeError) as err:
                raise GankitError(
                    f"{step_dir}: optimizer state {name} does not fit the model ({err})"
                ) from None
        rng = tensors["rng"]
        expected_rng = {
            "torch": torch.get_rng_state(),
            "noise": self.noise_rng.get_state(),
            "data": self.data_rng.get_state(),
        }
        found_rng = {k: v for k, v in rng.items() if k not in ("order", "cuda")}
        check_state(expected_rng, found_rng, str(step_dir / "rng.safetensors"))
        order = rng.get("order")
        if (
            order is None
            or order.dtype != torch.long
            or order.dim() != 1
            or len(order) not in (0, len(self.data))
        ):
            raise GankitError(
                f"{step_dir / 'rng.safetensors'}: the saved data order does not fit this dataset "
                f"of {len(self.data)} samples; was the run trained on other data?"
            )
        torch.set_rng_state(rng["torch"])
        self.noise_rng.set_state(rng["noise"])
        self.data_rng.set_state(rng["data"])
        if "cuda" in rng and self.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.device)
        self._order = rng["order"]
        self._cursor = meta["cursor"]
        self.step = self._saved_step = meta["step"]
        self.d_updates = meta["d_updates"]
        self.scaler_G.load_state_dict(meta["scaler_G"])
        self.scaler_D.load_state_dict(meta["scaler_D"])
        self.rollbacks = meta.get("rollbacks", 0)
        if objective_state:
            self.objective.load_state_tensors(tensors["objective"])
        if self.ada is not None and meta.get("ada") is not None:
            self.ada.load_state_dict(meta["ada"])
        saved = meta.get("callbacks", {})
        for cb in self.callbacks:
            cb.load_state_dict(saved.get(type(cb).__name__, {}))
        if self.dist is not None:
            self._load_rank_state(step_dir, meta)


def _param_groups(module: nn.Module) -> list[dict] | Iterable[nn.Parameter]:
    """``module``'s parameters for its optimizer: one group each of ``module.param_groups()``
    when it defines that (a multi-stage generator whose stages learn at different rates, see
    :meth:`Objective.g_lr_factors`), else all of them as one group."""
    groups = getattr(module, "param_groups", None)
    if groups is None:
        return module.parameters()
    return [{"params": params} for params in groups()]


def _mean_stats(updates: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Each statistic's mean over the updates that report it (lazy R1 appears on some only).

    A NaN or Inf in any update survives the mean, so the divergence check still sees it.

    Example:
        >>> _mean_stats([{"d_loss": torch.tensor(1.0)}, {"d_loss": torch.tensor(3.0)}])
        {'d_loss': tensor(2.)}
    """
    names = dict.fromkeys(name for update in updates for name in update)
    return {
        name: torch.stack([update[name] for update in updates if name in update]).mean(0)
        for name in names
    }


def _check_optimizer_tensors(
    optimizer: torch.optim.Optimizer, found: dict[str, torch.Tensor], source: Path
) -> None:
    """Adam/AdamW moments must match their parameter's shape and dtype, ``step`` be a scalar.

    torch would silently cast a wrong dtype and fail deep inside a later step on a wrong shape,
    so the checkpoint is checked here, with a message naming the file.
    """
    params = [p for group in optimizer.param_groups for p in group["params"]]
    expected: dict[str, torch.Tensor] = {}
    for index, param in enumerate(params):
        expected[f"{index}.step"] = torch.zeros((), dtype=torch.float32)
        expected[f"{index}.exp_avg"] = param.detach()
        expected[f"{index}.exp_avg_sq"] = param.detach()
    # Parameters that never received a gradient have no state: a subset of indices is fine.
    indices = {name.split(".", 1)[0] for name in found}
    wanted = {k: v for k, v in expected.items() if k.split(".", 1)[0] in indices}
    check_state(wanted, found, str(source))


def state_tensors(trainer: Trainer) -> dict[str, torch.Tensor]:
    """Every tensor that defines the training state, flattened; used to compare two runs."""
    flat: dict[str, torch.Tensor] = {}
    for name in _MODULES:
        for key, value in getattr(trainer, name).state_dict().items():
            flat[f"{name}.{key}"] = value
    for name in ("G", "D"):
        tensors, _ = split_optimizer_state(getattr(trainer, f"opt_{name}").state_dict())
        flat.update({f"optim_{name}.{k}": v for k, v in tensors.items()})
    flat["rng.noise"] = trainer.noise_rng.get_state()
    flat["rng.data"] = trainer.data_rng.get_state()
    flat["rng.torch"] = torch.get_rng_state()
    flat.update({f"objective.{k}": v for k, v in trainer.objective.state_tensors().items()})
    return flat
