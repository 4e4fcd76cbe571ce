"""What every GAN task shares: presets, fit/resume, sampling, the model directory and the report.

A task subclass supplies only what differs: how to open its data, which architecture config fits
that data, how to draw samples for a progress picture, and what its samples look like to a user.
The loop itself is always :class:`gankit.train.Trainer`.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

import gankit
from gankit.config import from_dict, replace, to_dict
from gankit.errors import GankitError
from gankit.io import (
    CONFIG_NAME,
    FORMAT_VERSION,
    atomic_write_bytes,
    load_module,
    read_config,
    save_module,
    tidy_dir,
    write_json,
)
from gankit.nn import ARCHITECTURES, Architecture, build_gan
from gankit.nn.generate import generate
from gankit.train import (
    JsonlStats,
    LossPlot,
    ProgressBar,
    SampleGrid,
    TensorBoard,
    TrainConfig,
    Trainer,
)
from gankit.train.callbacks import Callback
from gankit.train.ema import make_ema
from gankit.train.health import HealthMonitor
from gankit.train.objective import Objective

WEIGHTS = ("G", "G_ema", "D")
_MIN_FREE_BYTES = 50 * 2**20


@dataclass(frozen=True)
class Preset:
    """A named, documented starting configuration: an architecture, its settings, a TrainConfig."""

    name: str
    description: str
    arch: str
    model: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = TrainConfig()


def get_preset(presets: dict[str, Preset], name: str) -> Preset:
    if name not in presets:
        raise GankitError(f"unknown preset {name!r}; valid presets: {', '.join(presets)}")
    return presets[name]


# Top-level keys of config.json and the JSON type each must have.
_CONFIG_LAYOUT: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "gankit_version": str,
    "task": str,
    "preset": str,
    "arch": str,
    "model": dict,
    "train": dict,
    "data": dict,
}


def _check_config_layout(config: dict[str, Any]) -> None:
    """Refuse a config.json with unknown, missing or mistyped top-level entries, naming them."""
    unknown = sorted(set(config) - set(_CONFIG_LAYOUT))
    if unknown:
        raise GankitError(
            f"config.json has unknown entries {unknown}; valid: {', '.join(_CONFIG_LAYOUT)}"
        )
    for key, kind in _CONFIG_LAYOUT.items():
        if not isinstance(config.get(key), kind):
            raise GankitError(
                f"config.json entry {key!r} is missing or not a {getattr(kind, '__name__', kind)}; "
                "the file is damaged or was not written by gankit"
            )


def preflight_output(out: Path) -> None:
    """Fail before training, not after hours, when the output folder cannot hold a run."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gankit-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise GankitError(
            f"cannot write to output folder {out} ({err.strerror}); choose another --out"
        ) from None
    free = shutil.disk_usage(out).free
    if free < _MIN_FREE_BYTES:
        raise GankitError(
            f"only {free / 2**20:.0f} MiB free under {out}; free some space or choose another --out"
        )


class GANTask:
    """Base of the user-facing task classes (``ImageGAN``, ``ToyGAN``, ...)."""

    task: ClassVar[str]
    presets: ClassVar[dict[str, Preset]]
    default_preset: ClassVar[str]
    # Where the presets' ``arch`` names are looked up (translators have a registry of their own).
    architectures: ClassVar[dict[str, Architecture]] = ARCHITECTURES

    def __init__(
        self, preset: str | None = None, *, model: dict[str, Any] | None = None, **train: Any
    ) -> None:
        self.preset = get_preset(self.presets, preset or self.default_preset)
        self.model_overrides = dict(model or {})
        self.train_config = replace(self.preset.train, "training option", **train)
        self.model_config: dict[str, Any] | None = None
        self.data_info: dict[str, Any] = {}
        self.G: nn.Module | None = None
        self.G_ema: nn.Module | None = None
        self.D: nn.Module | None = None
        self.history: dict[str, Any] = {}

    # -------------------------------------------------------- subclass hooks
    def open_data(self, data: Any) -> tuple[Any, dict[str, Any]]:
        """Return the training data (``len`` + ``batch``) and a JSON-able description of it."""
        raise NotImplementedError

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        """Architecture settings implied by the data (resolution, channels, dimensions)."""
        raise NotImplementedError

    def render(self, G: nn.Module, path: Path) -> None:
        """Draw a fixed set of samples from ``G`` into a PNG at ``path``."""
        raise NotImplementedError

    def postprocess(self, x: torch.Tensor) -> Any:
        """Turn raw generator output into what :meth:`sample` returns."""
        return x

    def evaluate(self, dataset: Any) -> dict[str, Any]:
        """Quality numbers for the report; tasks override with their metrics."""
        return {}

    def objective(self) -> Objective | None:
        """Task-specific loss terms for the engine (AC-GAN, L1, cycle, ...); None: plain game."""
        return None

    # ----------------------------------------------------------------- build
    def _build(self) -> None:
        config = {**self.preset.model, **self.model_overrides, **self.arch_config(self.data_info)}
        torch.manual_seed(self.train_config.seed)
        self.G, self.D, built = build_gan(self.preset.arch, config, self.architectures)
        self.model_config = to_dict(built)
        self.G_ema = None

    def config_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this model: written as ``config.json``."""
        return {
            "format_version": FORMAT_VERSION,
            "gankit_version": gankit.__version__,
            "task": self.task,
            "preset": self.preset.name,
            "arch": self.preset.arch,
            "model": self.model_config,
            "train": to_dict(self.train_config),
            "data": self.data_info,
        }

    # ------------------------------------------------------------------- fit
    def fit(
        self,
        data: Any = None,
        steps: int | None = None,
        out: str | Path | None = None,
        *,
        resume: bool = False,
        quiet: bool = False,
        tensorboard: bool = False,
        callbacks: list[Callback] = (),
        max_seconds: float | None = None,
    ) -> GANTask:
        """Train on ``data``; with ``out``, write checkpoints, samples, stats and a report there.

        ``resume=True`` continues the newest checkpoint in ``out`` (same data, same config).
        ``max_seconds`` stops early at a wall-clock budget (the report records the steps reached).
        """
        if max_seconds is not None and not (max_seconds > 0):  # also refuses NaN
            raise GankitError(
                f"max_seconds (--max-seconds) must be a positive number, got {max_seconds!r}"
            )
        if steps is not None:
            self.train_config = replace(self.train_config, "training option", steps=steps)
        out_dir = Path(out) if out is not None else None
        if out_dir is not None:
            if not resume and (out_dir / CONFIG_NAME).exists():
                raise GankitError(
                    f"{out_dir} already holds a gankit run; resume it with "
                    f"`gankit resume {out_dir}` "
                    "or choose another --out"
                )
            preflight_output(out_dir)
        dataset, info = self.open_data(data if data is not None else self.data_info.get("source"))
        # A new dataset of the same shape fine-tunes the current weights; another shape rebuilds.
        rebuild = self.G is None or self.arch_config(info) != self.arch_config(self.data_info)
        self.data_info = info
        if rebuild:
            self._build()
        # Before config.json is written: a setting only the objective checks (a tabular target
        # that is not a column) must not leave a run directory that refuses the corrected retry.
        objective = self.objective()
        if out_dir is not None:
            write_json(out_dir / CONFIG_NAME, self.config_dict())
        trainer = Trainer(
            self.G,
            self.D,
            dataset,
            self.train_config,
            run_dir=out_dir,
            callbacks=self._callbacks(out_dir, quiet, tensorboard, callbacks),
            objective=objective,
        )
        if self.G_ema is not None:
            trainer.G_ema.load_state_dict(self.G_ema.state_dict())
        if resume:
            if out_dir is None:
                raise GankitError("resume needs the run directory: pass out=")
            # A run stopped before its first checkpoint has only config.json: start it at step 0.
            trainer.resume()
        started, start_step = time.perf_counter(), trainer.step
        try:
            trainer.fit(max_seconds)
        finally:
            self.G, self.D, self.G_ema = trainer.G, trainer.D, trainer.G_ema
        seconds = time.perf_counter() - started
        steps_done = trainer.step - start_step
        self.history = {
            "steps": trainer.step,
            "steps_this_run": steps_done,
            "seconds_this_run": round(seconds, 2),
            "img_per_s": round(
                steps_done
                * self.train_config.batch_size
                * self.train_config.accum_steps
                * self.train_config.n_critic
                / max(seconds, 1e-9),
                1,
            ),
            "device": str(trainer.device),
        }
        if trainer.stop_reason is not None:
            self.history["stopped_early"] = trainer.stop_reason
        if trainer.rollbacks:
            self.history["rollbacks"] = trainer.rollbacks
        monitor = next((cb for cb in trainer.callbacks if isinstance(cb, HealthMonitor)), None)
        if monitor is not None and monitor.fired:
            self.history["alarms_fired"] = dict(monitor.fired)
        if out_dir is not None:
            self.save(out_dir)
            self.write_report(out_dir, dataset)
        return self

    def _callbacks(
        self, out_dir: Path | None, quiet: bool, tensorboard: bool, extra: list[Callback]
    ) -> list[Callback]:
        callbacks: list[Callback] = [ProgressBar(quiet)]
        if self.train_config.health:
            # First, so the alarms and probe values it adds to a record reach the bar and files.
            callbacks.insert(
                0,
                HealthMonitor(
                    stop_on=self.train_config.health_stop,
                    echo=not quiet,
                    seed=self.train_config.seed,
                ),
            )
        if out_dir is not None:
            callbacks += [
                JsonlStats(out_dir / "stats.jsonl"),
                SampleGrid(
                    out_dir / "samples",
                    self.train_config.sample_every,
                    lambda trainer, path: self.render(trainer.G_ema, path),
                ),
                LossPlot(out_dir / "stats.jsonl", out_dir / "loss.png"),
            ]
            if tensorboard:
                callbacks.append(TensorBoard(out_dir / "tensorboard"))
        # Extra callbacks first: they may add values (e.g. fd) to a record before it is written.
        return list(extra) + callbacks

    # ---------------------------------------------------------------- sample
    def _require_trained(self) -> None:
        if self.G is None:
            raise GankitError(
                f"this {type(self).__name__} has no weights yet; call fit() or gankit.load()"
            )

    def _sampling_generator(self, n: int, ema: bool) -> nn.Module:
        """The G that draws ``n`` samples (G_ema unless ``ema`` is False), after checking ``n``."""
        self._require_trained()
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise GankitError(f"number of samples must be a positive integer, got {n!r}")
        return self.G_ema if ema and self.G_ema is not None else self.G

    def generate(
        self, n: int, seed: int = 0, ema: bool = True, truncation: float | None = None
    ) -> torch.Tensor:
        """Raw generator output for ``n`` latents drawn from ``seed`` (same seed → same output).

        ``truncation`` t draws the latents from the normal truncated to [-t, t]: more typical,
        less varied samples (:func:`gankit.nn.generate.latents`).
        """
        return generate(self._sampling_generator(n, ema), n, seed, truncation=truncation)

    def sample(
        self, n: int, seed: int = 0, ema: bool = True, truncation: float | None = None
    ) -> Any:
        """``n`` samples of G_ema (``ema=False``: the raw G); same seed, same samples."""
        return self.postprocess(self.generate(n, seed=seed, ema=ema, truncation=truncation))

    # ------------------------------------------------------------- save/load
    def save(self, out: str | Path) -> Path:
        """Write ``config.json`` and ``G/G_ema/D.safetensors`` into the model directory ``out``."""
        self._require_trained()
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        tidy_dir(out)  # temporaries of an earlier save that a kill interrupted
        for name in WEIGHTS:
            module = getattr(self, name) if name != "G_ema" else (self.G_ema or self.G)
            save_module(module, out / f"{name}.safetensors")
        write_json(out / CONFIG_NAME, self.config_dict())
        return out

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GANTask:
        """Rebuild an untrained task object from a ``config.json`` dict."""
        if config.get("task") != cls.task:
            raise GankitError(f"config is for task {config.get('task')!r}, not {cls.task!r}")
        _check_config_layout(config)
        gan = cls(config["preset"])
        gan.train_config = from_dict(TrainConfig, config["train"], "training option")
        gan.data_info = config["data"]
        gan.model_overrides = dict(config["model"])
        gan._build()
        return gan

    @classmethod
    def from_dir(cls, path: str | Path) -> GANTask:
        """Load a model directory written by :meth:`save` (names, shapes, dtypes are checked)."""
        path = Path(path)
        gan = cls.from_config(read_config(path))
        gan.G_ema = make_ema(gan.G)
        for name in WEIGHTS:
            load_module(getattr(gan, name), path / f"{name}.safetensors")
        return gan

    # ---------------------------------------------------------------- report
    def write_report(self, out_dir: Path, dataset: Any) -> None:
        """Evaluate and write ``metrics.json`` and a readable ``report.md``."""
        metrics = {"training": self.history, **self.evaluate(dataset)}
        write_json(out_dir / "metrics.json", metrics)
        lines = [
            f"# gankit report: {out_dir.name}",
            "",
            f"- task: {self.task}, preset: `{self.preset.name}` ({self.preset.arch})",
            f"- data: {self.data_info.get('name')} ({self.data_info.get('size')} samples)",
            f"- steps: {self.history['steps']} (this run: {self.history['steps_this_run']} in "
            f"{self.history['seconds_this_run']:.0f} s, {self.history['img_per_s']:.0f} img/s "
            f"on {self.history['device']})",
            "",
        ]
        for section, values in metrics.items():
            if section == "training" or not isinstance(values, dict):
                continue
            lines.append(f"## {section}")
            lines += [f"- {key}: {value}" for key, value in values.items()]
            lines.append("")
        grids = sorted((out_dir / "samples").glob("step-*.png"))
        if grids:
            lines += [f"Latest samples: ![samples](samples/{grids[-1].name})", ""]
        lines += [
            "Files: `samples/` (grids during training), `loss.png`, `stats.jsonl`, "
            "`metrics.json`, weights `*.safetensors`, `train_state/` for `gankit resume`.",
            "",
        ]
        atomic_write_bytes(out_dir / "report.md", "\n".join(lines).encode())
