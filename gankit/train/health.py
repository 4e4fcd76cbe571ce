"""Training-health monitor: notices a GAN going wrong while it trains, and says what to turn.

The two failures every GAN user meets are mode collapse (G covers a few modes) and instability (D
wins outright, gradients explode, losses run away, NaN). :class:`HealthMonitor` is a callback that
watches the averaged statistics of every log interval plus one cheap probe of its own, and raises
named alarms with advice. Each alarm is printed once when it starts (above the progress bar),
named in the bar while it lasts, and written to ``stats.jsonl`` as ``"alarms": {name: message}``
on every record it is active. ``health_stop`` turns chosen alarms into an early, normal end.

The probe: every log interval G maps a fixed batch of latents; on features of its output (the
points themselves, or images average-pooled to 8x8) it measures

* ``diversity``: mean pairwise distance of the fakes divided by that of a fixed real batch (about
  1 for a healthy G, falling towards 0 as samples collapse onto each other);
* ``coverage`` (Naeem et al. 2020): share of those reals whose 5-nearest-neighbour ball holds a
  fake; logged for plots, not alarmed on: on sharp modes it also measures precision and swings
  too much from record to record in healthy runs;
* with a mode labeller (the data's ``assign_modes``, e.g. the toy mixtures' known centres, or one
  passed as ``modes=``, e.g. a digit classifier): ``modes_hit``, the number of distinct modes the
  fakes land on, ``modes_real``, the same for the reals, ``mode_coverage``, their ratio,
  and ``mode_entropy``, the entropy of the fakes' mode histogram over that of the reals'. Spread
  alone misses a G that drops a few modes and spreads the rest evenly; the mode count does not.

The probe uses its own seeded RNG and G in eval mode under ``no_grad``, so it never changes the
training trajectory: a run with the monitor is bit for bit the run without it.

Example:
    >>> from gankit.data.toy import toy_mixture
    >>> from gankit.nn import build_gan
    >>> from gankit.train import TrainConfig, Trainer
    >>> G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 16})
    >>> monitor = HealthMonitor(HealthConfig(d_win_steps=500))
    >>> config = TrainConfig(steps=4, batch_size=32, log_every=2)
    >>> Trainer(G, D, toy_mixture("ring", n=256, seed=0), config, callbacks=[monitor]).fit()
    >>> [record["step"] for record in monitor.history], monitor.fired  # no alarm in warm-up
    ([2, 4], {})
    >>> len(ALARMS), sorted(ALARMS)[:3]
    (6, ['d_winning', 'grad_explosion', 'loss_divergence'])
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.train.callbacks import Callback

if TYPE_CHECKING:
    from gankit.train.engine import Trainer

Record = dict[str, Any]
# x (B, ...) -> int64 (B,): the mode each sample lies on, -1 for none (see the module docstring).
ModeLabeller = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class HealthConfig:
    """Thresholds of the alarms; the defaults suit runs of a few thousand steps and longer.

    Example:
        >>> HealthConfig(d_win_steps=200).d_win_accuracy
        0.98
    """

    warmup_steps: int = 300  # mode_collapse ignores diversity peaks before this step
    d_win_accuracy: float = 0.98  # D ranks this share of (real, fake) pairs correctly ...
    d_win_steps: int = 1000  # ... for this many steps in a row: d_winning
    collapse_drop: float = 0.6  # diversity falls by this share of its peak ...
    collapse_steps: int = 1000  # ... within this many steps: mode_collapse
    collapse_min_peak: float = 0.25  # a peak below this is too noisy to judge a fall from
    collapse_floor: float = 0.25  # after warmup, diversity below this share of the data's
    grad_factor: float = 10.0  # a gradient norm this many times its recent median: grad_explosion
    loss_jump: float = 2.0  # g_loss above median + max(loss_jump * |median|, 1): loss_divergence
    mode_drop: float = 0.1  # after mode_warmup_steps, fakes land on this share fewer modes
    mode_warmup_steps: int = 2000  # than reals: mode_dropping (before, G is finding the modes)
    mode_drop_records: int = 2  # ... on this many log records in a row
    history: int = 20  # log intervals kept for medians and peaks
    repeat_steps: int = 1000  # an alarm that flaps is printed again only after this many steps
    probe_size: int = 256  # fakes (and reals) in the diversity probe
    coverage_k: int = 5

    def __post_init__(self) -> None:
        for name in ("d_win_steps", "collapse_steps", "history", "coverage_k", "mode_drop_records"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GankitError(f"health option {name} must be an integer >= 1, got {value!r}")
        if self.mode_drop_records > self.history:
            raise GankitError(
                f"health mode_drop_records ({self.mode_drop_records}) cannot exceed history "
                f"({self.history}), the log records the monitor keeps"
            )
        if not 0 < self.mode_drop < 1:
            raise GankitError(f"health mode_drop must be in (0, 1), got {self.mode_drop}")
        if self.probe_size <= self.coverage_k:
            raise GankitError(
                f"health probe_size must exceed coverage_k ({self.coverage_k}), "
                f"got {self.probe_size}"
            )


# ------------------------------------------------------------------ the alarms


@dataclass(frozen=True)
class Alarm:
    """A named condition: what it means, which knobs to turn, and its test on a log record.

    ``check(monitor, record)`` returns the alarm's message when it fires, else None; it reads the
    monitor's history (which already holds ``record``).
    """

    name: str
    meaning: str
    advice: str
    check: Callable[[HealthMonitor, Record], str | None]


def _check_d_winning(monitor: HealthMonitor, record: Record) -> str | None:
    config, step = monitor.config, record["step"]
    acc = record.get("d_acc_pair")
    if acc is None and "d_acc_real" in record:
        acc = min(record["d_acc_real"], record.get("d_acc_fake", 1.0))
    if acc is None or acc < config.d_win_accuracy:
        monitor.state["win_since"] = None
        return None
    if monitor.state["win_since"] is None:
        monitor.state["win_since"] = monitor.state[
            "last_step"
        ]  # the streak began with the interval
    steps = step - monitor.state["win_since"]
    if steps < config.d_win_steps:
        return None
    return f"D accuracy {acc:.2f} for {steps} steps: D is winning"


def _check_mode_collapse(monitor: HealthMonitor, record: Record) -> str | None:
    config, step = monitor.config, record["step"]
    if step >= config.warmup_steps and record.get("diversity", 1.0) < config.collapse_floor:
        # Collapsed from the start: there is no healthy peak to fall from.
        return (
            f"sample diversity is {record['diversity']:.2f} of the data's: G's samples crowd "
            "together, mode collapse suspected"
        )
    window = [
        r
        for r in monitor.history
        if step - config.collapse_steps <= r["step"] and r["step"] >= config.warmup_steps
    ]
    # Diversity only: coverage on sharp modes also measures precision, and a healthy G that
    # jitters around tight modes (toy-rpgan on the ring) swings it widely between records
    # (docs/stability.md, "The health monitor").
    if "diversity" not in record or not window:
        return None
    # Capped at 1 (the data's own level): a G that starts over-dispersed and then tightens onto
    # the data is converging, not collapsing.
    capped = [min(r.get("diversity", 0.0), 1.0) for r in window]
    peak = max(capped)
    if peak < config.collapse_min_peak:
        return None
    drop = 1.0 - min(record["diversity"], 1.0) / peak
    if drop < config.collapse_drop:
        return None
    since = step - window[capped.index(peak)]["step"]
    return (
        f"sample diversity fell {drop:.0%} in {since} steps ({peak:.2f} -> "
        f"{record['diversity']:.2f} of the data's): mode collapse suspected"
    )


def _check_mode_dropping(monitor: HealthMonitor, record: Record) -> str | None:
    config = monitor.config
    recent = monitor.history[-config.mode_drop_records :]  # ends with this record
    # Healthy toy-rpgan ring runs missed a mode on one isolated record (2 of 4 runs alarmed on a
    # one-record rule): only a drop that lasts mode_drop_records records counts.
    # Before mode_warmup_steps G is still finding the modes: single modes come and go.
    if len(recent) < config.mode_drop_records or not all(
        r["step"] >= config.mode_warmup_steps
        and r.get("mode_coverage", 1.0) <= 1.0 - config.mode_drop
        for r in recent
    ):
        return None
    share = record["mode_coverage"]
    return (
        f"G's probe samples land on {record['modes_hit']} of the {record['modes_real']} modes "
        "that as many real samples land on "
        f"({share:.0%}): G is dropping modes"
    )


def _median_of_previous(monitor: HealthMonitor, key: str) -> float | None:
    values = [r[key] for r in monitor.history[:-1] if key in r]
    return statistics.median(values) if len(values) >= 5 else None


def _check_grad_explosion(monitor: HealthMonitor, record: Record) -> str | None:
    for key, who in (("d_grad_norm", "D"), ("g_grad_norm", "G")):
        median = _median_of_previous(monitor, key)
        if median and key in record and record[key] > monitor.config.grad_factor * median:
            return (
                f"{who} gradient norm {record[key]:.3g} is {record[key] / median:.0f}x its recent "
                f"median {median:.3g}: training is unstable"
            )
    return None


def _check_loss_divergence(monitor: HealthMonitor, record: Record) -> str | None:
    median = _median_of_previous(monitor, "g_loss")
    if median is None or "g_loss" not in record:
        return None
    if record["g_loss"] - median > max(monitor.config.loss_jump * abs(median), 1.0):
        return (
            f"g_loss rose to {record['g_loss']:.3g} from a recent median of {median:.3g}: "
            "the losses are diverging"
        )
    return None


def _check_nan_rollback(monitor: HealthMonitor, record: Record) -> str | None:
    return monitor.state["rollback"]  # set by on_rollback, cleared after each record


ALARMS: dict[str, Alarm] = {
    alarm.name: alarm
    for alarm in (
        Alarm(
            "d_winning",
            "D separates (almost) every real from every fake for a long time; G's gradients then "
            "carry little information and G stalls or collapses.",
            "raise r1_gamma (x10), add augment= or ada_target=0.6 (small data), lower lr_d or "
            "use TTUR (lr_d <= lr_g), spectral_norm / loss=hinge",
            _check_d_winning,
        ),
        Alarm(
            "mode_collapse",
            "G's samples for a fixed batch of latents became much less spread out (diversity) or "
            "left many real neighbourhoods empty (coverage): G is covering fewer modes.",
            "pack=2..4 (PacGAN) or minibatch_std in D, loss=rpgan with r1_gamma and r2_gamma "
            "(R3GAN), lower lr_g, keep ema_beta > 0 and sample from G_ema",
            _check_mode_collapse,
        ),
        Alarm(
            "mode_dropping",
            "Only with a mode labeller (toy centres, a class-histogram extractor). G's samples "
            "land on clearly fewer modes than as many real samples do: a partial collapse, which "
            "the spread-based diversity can miss.",
            "pack=2..4 (PacGAN) or minibatch_std in D, loss=rpgan with r1_gamma and r2_gamma "
            "(R3GAN), lower lr_g or train longer at a decaying lr (lr_schedule=cosine)",
            _check_mode_dropping,
        ),
        Alarm(
            "grad_explosion",
            "A gradient norm jumped far above its recent level; the next steps may go NaN.",
            "lower lr_d/lr_g, add r1_gamma or gp_weight, spectral_norm, precision=fp32",
            _check_grad_explosion,
        ),
        Alarm(
            "loss_divergence",
            "G's loss jumped far above its recent level: D has pulled away from G.",
            "lower lr_d or raise lr_g (TTUR), raise r1_gamma, n_critic=1",
            _check_loss_divergence,
        ),
        Alarm(
            "nan_rollback",
            "A loss or gradient became NaN/Inf; the trainer restored its last good snapshot, "
            "lowered both learning rates and skipped the batch.",
            "lower lr_g/lr_d for the next run, add r1_gamma, check the data for NaN/Inf; "
            "rollback_limit and rollback_lr_factor tune the rollback",
            _check_nan_rollback,
        ),
    )
}


def parse_stop(spec: str) -> frozenset[str]:
    """``"mode_collapse,d_winning"`` or ``"any"`` -> alarm names; an unknown name is an error.

    Example:
        >>> sorted(parse_stop("d_winning, mode_collapse"))
        ['d_winning', 'mode_collapse']
    """
    names = {n.strip() for n in spec.split(",") if n.strip()}
    if names == {"any"}:
        return frozenset(ALARMS)
    unknown = sorted(names - set(ALARMS))
    if unknown:
        raise GankitError(
            f"unknown alarm {unknown[0]!r} in health_stop; valid: any, {', '.join(ALARMS)}"
        )
    return frozenset(names)


# ------------------------------------------------------------------- the probe


def probe_features(x: torch.Tensor) -> torch.Tensor:
    """Cheap features for the diversity probe: images average-pooled to at most 8x8, flattened.

    Example:
        >>> probe_features(torch.zeros(4, 3, 32, 32)).shape
        torch.Size([4, 192])
    """
    x = x.detach().float().cpu()
    if x.dim() == 4 and x.shape[-1] > 8:
        x = F.adaptive_avg_pool2d(x, 8)
    return x.flatten(1)


def mean_pairwise_distance(feats: torch.Tensor) -> float:
    """Mean Euclidean distance over all pairs of distinct rows."""
    n = feats.shape[0]
    return float(torch.cdist(feats, feats).sum() / (n * (n - 1)))


def coverage(real: torch.Tensor, fake: torch.Tensor, k: int) -> float:
    """Share of ``real`` rows whose k-NN ball (among the reals) holds a ``fake`` row (Naeem 2020).

    Example:
        >>> pts = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
        >>> coverage(pts, pts[:2], k=1)
        0.75
        >>> coverage(pts[:2], pts[:1], k=5)  # two reals: each other's only neighbour
        1.0
    """
    # A dataset smaller than the probe (a few clips, one texture) leaves fewer than k neighbours.
    k = max(1, min(k, real.shape[0] - 1))
    dist = torch.cdist(real, real)
    dist.fill_diagonal_(float("inf"))
    radii = dist.topk(k, dim=1, largest=False).values[:, -1]
    nearest_fake = torch.cdist(real, fake).min(dim=1).values
    return float((nearest_fake <= radii).float().mean())


def _mode_histogram(labels: torch.Tensor) -> tuple[int, float]:
    """Distinct modes among ``labels`` (-1 = on none) and the entropy (nats) of their histogram."""
    labels = labels.detach().cpu().reshape(-1)
    counts = torch.unique(labels[labels >= 0], return_counts=True)[1].double()
    if counts.numel() == 0:
        return 0, 0.0
    p = counts / counts.sum()
    return int(counts.numel()), float(-(p * p.log()).sum())


class HealthMonitor(Callback):
    """Watches each log record, adds ``diversity``/``coverage`` to it and raises :data:`ALARMS`.

    ``stop_on`` is a ``health_stop`` spec ("any" or alarm names): when one of those alarms fires
    the trainer ends early as a normal end. ``echo`` prints each new alarm (with its advice).
    ``modes`` labels samples with their mode for the mode-coverage probe; without it the
    monitor uses the training data's ``assign_modes`` when it has one, else skips that probe.
    ``seed`` fixes the probe's latents and real batch. All state goes through ``state_dict`` so a
    resumed run keeps its history and open streaks.
    """

    def __init__(
        self,
        config: HealthConfig = HealthConfig(),
        stop_on: str = "",
        echo: bool = True,
        seed: int = 0,
        modes: ModeLabeller | None = None,
    ) -> None:
        self.config = config
        self.modes = modes
        self.stop_on = parse_stop(stop_on)
        self.echo = echo
        self.seed = seed
        self.history: list[Record] = []
        self.state: dict[str, Any] = {
            "win_since": None,
            "last_step": 0,
            "rollback": None,
            "said": {},  # alarm -> step it was last printed
        }
        self.active: dict[str, str] = {}
        self.fired: dict[str, int] = {}  # how often each alarm started, for reports and tests
        self._probe: tuple[torch.Tensor, Any, torch.Tensor, float] | None = None
        self._labeller: ModeLabeller | None = None
        self._real_modes = (0, 0.0)  # modes the probe's reals land on, their histogram entropy

    # ------------------------------------------------------------------ hooks
    def on_train_start(self, trainer: Trainer) -> None:
        self.state["last_step"] = max(self.state["last_step"], trainer.step)
        self._probe = self._build_probe(trainer)

    def on_rollback(self, trainer: Trainer, message: str) -> None:
        self.state["rollback"] = message

    def on_log(self, trainer: Trainer, record: Record) -> None:
        record.update(self._measure(trainer))
        alarms = self.judge(record)
        if alarms:
            record["alarms"] = alarms
        stopping = sorted(self.stop_on & alarms.keys())
        if stopping:
            trainer.request_stop(f"health_stop on {stopping[0]}: {alarms[stopping[0]]}")

    def judge(self, record: Record) -> dict[str, str]:
        """Run every alarm on one log record (probe values included); returns the active ones.

        Needs no trainer, so a finished run's ``stats.jsonl`` can be judged again, e.g. with
        other thresholds: ``[m.judge(r) for r in records]`` with ``m = HealthMonitor(config)``.
        """
        tracked = (
            "d_acc_pair",
            "d_grad_norm",
            "g_grad_norm",
            "g_loss",
            "diversity",
            "coverage",
            "modes_hit",
            "mode_coverage",
        )
        self.history.append(
            {"step": record["step"], **{k: record[k] for k in tracked if k in record}}
        )
        del self.history[: -self.config.history]
        alarms = {}
        for alarm in ALARMS.values():
            message = alarm.check(self, record)
            if message is not None:
                alarms[alarm.name] = f"{message}; try {alarm.advice}"
        self.state["rollback"] = None
        self.state["last_step"] = record["step"]
        said = self.state["said"]
        for name, message in alarms.items():
            if name not in self.active:
                self.fired[name] = self.fired.get(name, 0) + 1
                if record["step"] - said.get(name, -self.config.repeat_steps) >= (
                    self.config.repeat_steps
                ):
                    said[name] = record["step"]
                    self._say(f"gankit health, step {record['step']}: {message}")
        self.active = alarms
        return alarms

    # ------------------------------------------------------------------ probe
    def _build_probe(self, trainer: Trainer) -> tuple[torch.Tensor, Any, torch.Tensor, float]:
        # An RNG of our own: touching the trainer's would change the data order and noise.
        rng = torch.Generator().manual_seed(self.seed * 7919 + 17)
        data = trainer.data
        n = min(self.config.probe_size, len(data))
        if hasattr(data, "sample"):
            batch = data.sample(n, rng)
        else:
            batch = data.batch(torch.randperm(len(data), generator=rng)[:n])
        real, cond = batch if isinstance(batch, tuple) else (batch, None)
        z = torch.randn(n, trainer.G.latent_dim, generator=rng)
        real_feats = probe_features(real)
        self._labeller = self.modes or getattr(data, "assign_modes", None)
        if self._labeller is not None:
            self._real_modes = _mode_histogram(self._labeller(real))
            if self._real_modes[0] == 0:
                raise GankitError(
                    "the mode labeller put none of the real probe samples on a mode; "
                    "check that it matches the training data"
                )
        return z, cond, real_feats, mean_pairwise_distance(real_feats)

    @torch.no_grad()
    def _measure(self, trainer: Trainer) -> dict[str, float]:
        z, cond, real_feats, real_spread = self._probe
        G, device = trainer.G, trainer.device
        was_training = G.training
        G.eval()  # batch-norm running statistics must not move: the probe is not training
        try:
            fake = G(z.to(device)) if cond is None else G(z.to(device), cond.to(device))
        finally:
            G.train(was_training)
        # Measured on CPU, where the real probe lives: labellers (a judge, the data's known
        # centres) then need not follow G onto the GPU.
        fake = fake.float().cpu()
        feats = probe_features(fake)
        if not torch.isfinite(feats).all():
            return {}
        values = {
            "diversity": mean_pairwise_distance(feats) / max(real_spread, 1e-12),
            "coverage": coverage(real_feats, feats, self.config.coverage_k),
        }
        if self._labeller is not None:
            hit, entropy = _mode_histogram(self._labeller(fake))
            real_hit, real_entropy = self._real_modes
            values["modes_hit"] = hit
            values["modes_real"] = real_hit
            values["mode_coverage"] = hit / real_hit
            values["mode_entropy"] = entropy / real_entropy if real_entropy else 1.0
        return values

    def _say(self, message: str) -> None:
        if not self.echo:
            return
        from tqdm.auto import tqdm

        tqdm.write(message, file=sys.stderr)  # prints above an active progress bar

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "state": self.state,
            "active": self.active,
            "fired": self.fired,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.history = list(state["history"])
        self.state = dict(state["state"])
        self.active = dict(state["active"])
        self.fired = dict(state["fired"])
