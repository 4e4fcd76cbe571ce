"""Callbacks: everything around the training loop that is not the loop itself.

A callback overrides any of the hooks below. State that must survive a resume goes through
``state_dict``/``load_state_dict`` and is stored with the checkpoint (detectron2-style hooks).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.errors import GankitError
from gankit.io import atomic_write_bytes

if TYPE_CHECKING:
    from gankit.train.engine import Trainer


class Callback:
    """Base class; every hook is optional."""

    def on_train_start(self, trainer: Trainer) -> None:
        """Called once before the first step (also when resuming)."""

    def on_step_end(self, trainer: Trainer) -> None:
        """Called after every step; ``trainer.step`` is already incremented."""

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        """Called every ``log_every`` steps with statistics averaged over those steps."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once after the last step (not when interrupted)."""

    def on_rollback(self, trainer: Trainer, message: str) -> None:
        """Called when a non-finite step was undone from the in-memory snapshot."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class ProgressBar(Callback):
    """A tqdm bar with ETA on a terminal; silent when ``quiet``.

    When stderr is not a terminal (``make run`` piped to a log, CI), a bar would print nothing
    useful, so one plain progress line is written about every tenth of the run instead.
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar = None
        self.plain = False
        self._started = 0.0

    def on_train_start(self, trainer: Trainer) -> None:
        from tqdm.auto import tqdm

        self.plain = not self.quiet and not sys.stderr.isatty()
        self._started = time.perf_counter()
        self.bar = tqdm(
            total=trainer.config.steps,
            initial=trainer.step,
            unit="step",
            dynamic_ncols=True,
            disable=self.quiet or self.plain,
        )

    def on_step_end(self, trainer: Trainer) -> None:
        self.bar.update(1)

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        shown = {k: f"{record[k]:.3g}" for k in ("d_loss", "g_loss", "img_per_s") if k in record}
        if record.get("alarms"):  # written by the health monitor, which runs first
            shown["alarm"] = ",".join(record["alarms"])
        self.bar.set_postfix(shown, refresh=False)
        total = trainer.config.steps
        tenth = max(total // 10, 1)
        if (
            self.plain
            and trainer.step // tenth != (trainer.step - trainer.config.log_every) // tenth
        ):
            elapsed = time.perf_counter() - self._started
            values = " ".join(f"{k}={v}" for k, v in shown.items())
            print(
                f"step {trainer.step}/{total} ({elapsed:.0f} s) {values}",
                file=sys.stderr,
                flush=True,
            )

    def on_train_end(self, trainer: Trainer) -> None:
        self.bar.close()


class JsonlStats(Callback):
    """Appends one JSON line per log interval to ``path`` (``stats.jsonl`` in the run directory).

    On resume, lines past the resumed step are dropped first: they came from steps that will be
    trained again, and keeping them would duplicate steps in plots.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_start(self, trainer: Trainer) -> None:
        if not self.path.exists():
            return
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a crash mid-append; its step is trained again
            if record.get("step", 0) <= trainer.step:
                kept.append(line)
        atomic_write_bytes(self.path, "".join(line + "\n" for line in kept).encode())

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


class TensorBoard(Callback):
    """Writes the logged statistics as TensorBoard scalars (needs ``pip install tensorboard``)."""

    def __init__(self, log_dir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise GankitError(
                "TensorBoard logging needs the tensorboard package: pip install tensorboard"
            ) from None
        self.writer = SummaryWriter(str(log_dir))

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        for key, value in record.items():
            if key != "step" and isinstance(value, int | float):  # alarms are text
                self.writer.add_scalar(key, value, int(record["step"]))

    def on_train_end(self, trainer: Trainer) -> None:
        self.writer.close()


class SampleGrid(Callback):
    """Every ``every`` steps (and at the end) renders samples of G_ema to ``out_dir/step-N.png``.

    ``render(trainer, path)`` is supplied by the task: an image grid, a scatter plot of 2-D points.
    """

    def __init__(
        self, out_dir: str | Path, every: int, render: Callable[[Trainer, Path], None]
    ) -> None:
        self.out_dir = Path(out_dir)
        self.every = every
        self.render = render

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every == 0:
            self._write(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self._write(trainer)

    def _write(self, trainer: Trainer) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.render(trainer, self.out_dir / f"step-{trainer.step:06d}.png")


class LossPlot(Callback):
    """At the end of training, plots the losses from ``stats.jsonl`` to a PNG."""

    def __init__(self, stats_path: str | Path, out_path: str | Path) -> None:
        self.stats_path = Path(stats_path)
        self.out_path = Path(out_path)

    def on_train_end(self, trainer: Trainer) -> None:
        if not self.stats_path.exists():
            return
        records = [
            json.loads(line) for line in self.stats_path.read_text().splitlines() if line.strip()
        ]
        if not records:
            return
        plot_losses(records, self.out_path)


def plot_losses(records: list[dict[str, float]], out_path: Path) -> None:
    """Plot D and G loss curves (and D's accuracy on reals/fakes when logged) against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    for key in ("d_loss", "g_loss"):
        ax_loss.plot(steps, [r.get(key, float("nan")) for r in records], label=key)
    ax_loss.set_xlabel("step")
    ax_loss.set_title("losses")
    ax_loss.legend()
    for key in ("d_acc_real", "d_acc_fake"):
        ax_acc.plot(steps, [r.get(key, float("nan")) for r in records], label=key)
    ax_acc.set_ylim(-0.05, 1.05)
    ax_acc.set_xlabel("step")
    ax_acc.set_title("D accuracy")
    ax_acc.legend()
    fig.tight_layout()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
