"""What every GAN task shares: presets, fit/resume, sampling, the model directory and the report.

A task subclass supplies only what differs: how to open its data, which architecture config fits
that data, how to draw samples for a progress picture, and what its outputs look like to a user.
The loop itself is always :class:`gankit.train.Trainer`. Inference has two shapes,
:class:`Generator` and :class:`Translator`; every task derives from exactly one of them.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from gankit._version import __version__
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
from gankit.train.distributed import is_main_process
from gankit.train.ema import make_ema
from gankit.train.health import HealthMonitor
from gankit.train.objective import Objective
from gankit.train.privacy import DPSGD

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
    """The life cycle every task shares: construct with a preset and overrides, ``fit``, ``save``,
    :func:`gankit.load`.

    A task has exactly one inference shape: it is a :class:`Generator` (``generate``: new samples
    from noise and an optional condition) or a :class:`Translator` (``apply``: inputs in, outputs
    out). Code that handles any model directory (the CLI, a server, export) asks which with
    ``isinstance``, never by the task's name.
    """

    task: ClassVar[str]
    #: "generate" or "apply": set by :class:`Generator` and :class:`Translator`.
    inference: ClassVar[str]
    #: Data that ships with gankit's dependencies, trained on by ``gankit train`` without
    #: ``--data`` (None: the task has none and the user must name data).
    default_data: ClassVar[str | None] = None
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
        # The frozen architecture config _build made (defaults filled in); model_config is its
        # JSON form for config.json.
        self.architecture_config: Any = None
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

    def prepare_inference(self, dataset: Any) -> None:
        """After training, before the save: what inference needs from the data (default none;
        the anomaly detector keeps training features and calibrates on held-out normals)."""

    def objective(self) -> Objective | None:
        """Task-specific loss terms for the engine (AC-GAN, L1, cycle, ...); None: plain game."""
        return None

    def private_training(self, dataset: Any) -> DPSGD | None:
        """D's DP-SGD for this run (:mod:`gankit.train.privacy`); None: not private."""
        return None

    # ----------------------------------------------------------------- build
    def _build(self) -> None:
        config = {**self.preset.model, **self.model_overrides, **self.arch_config(self.data_info)}
        torch.manual_seed(self.train_config.seed)
        self.G, self.D, self.architecture_config = build_gan(
            self.preset.arch, config, self.architectures
        )
        self.G_ema = None

    @property
    def model_config(self) -> dict[str, Any] | None:
        """The built architecture settings as written to config.json (None before a build)."""
        if self.architecture_config is None:
            return None
        return to_dict(self.architecture_config)

    def config_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this model: written as ``config.json``."""
        return {
            "format_version": FORMAT_VERSION,
            "gankit_version": __version__,
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

        ``data`` None trains on the data the model last trained on, or else on the task's
        :attr:`default_data` (the data ``gankit train`` uses without ``--data``).
        ``resume=True`` continues the newest checkpoint in ``out`` (same data, same config).
        ``max_seconds`` stops early at a wall-clock budget (the report records the steps reached);
        the budget includes opening the data, which for some recipes is work (clustering).
        """
        if max_seconds is not None and not (max_seconds > 0):  # also refuses NaN
            raise GankitError(
                f"max_seconds (--max-seconds) must be a positive number, got {max_seconds!r}"
            )
        if steps is not None:
            self.train_config = replace(self.train_config, "training option", steps=steps)
        out_dir = Path(out) if out is not None else None
        # Under torchrun every rank trains; rank 0 alone writes the run directory.
        writes = is_main_process()
        if out_dir is not None and writes:
            if not resume and (out_dir / CONFIG_NAME).exists():
                raise GankitError(
                    f"{out_dir} already holds a gankit run; resume it with "
                    f"`gankit resume {out_dir}` "
                    "or choose another --out"
                )
            preflight_output(out_dir)
        if data is None:  # the data it last trained on, else what the task ships (as the CLI)
            data = self.data_info.get("source") or self.default_data
        opened = time.perf_counter()
        dataset, info = self.open_data(data)
        # A new dataset of the same shape fine-tunes the current weights; another shape rebuilds.
        rebuild = self.G is None or self.arch_config(info) != self.arch_config(self.data_info)
        self.data_info = info
        if rebuild:
            self._build()
        # Before config.json is written: a setting only the objective checks (a tabular target
        # that is not a column) must not leave a run directory that refuses the corrected retry.
        objective = self.objective()
        if out_dir is not None and writes:
            write_json(out_dir / CONFIG_NAME, self.config_dict())
        trainer = Trainer(
            self.G,
            self.D,
            dataset,
            self.train_config,
            run_dir=out_dir,
            callbacks=self._callbacks(out_dir, quiet, tensorboard, callbacks),
            objective=objective,
            privacy=self.private_training(dataset),
        )
        if self.G_ema is not None:
            trainer.G_ema.load_state_dict(self.G_ema.state_dict())
        if resume:
            if out_dir is None:
                raise GankitError("resume needs the run directory: pass out=")
            # A run stopped before its first checkpoint has only config.json: start it at step 0.
            trainer.resume()
        started, start_step = time.perf_counter(), trainer.step
        if max_seconds is not None:
            max_seconds = max(max_seconds - (started - opened), 0.0)
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
                steps_done * self.train_config.images_per_step / max(seconds, 1e-9), 1
            ),
            "device": str(trainer.device),
        }
        if trainer.stop_reason is not None:
            self.history["stopped_early"] = trainer.stop_reason
        if trainer.rollbacks:
            self.history["rollbacks"] = trainer.rollbacks
        if trainer.privacy is not None:  # the accountant's epsilon, into config.json and the report
            spent = trainer.privacy.describe(trainer.d_updates)
            self.data_info["privacy"] = {**self.data_info.get("privacy", {}), "dp_sgd": spent}
        monitor = next((cb for cb in trainer.callbacks if isinstance(cb, HealthMonitor)), None)
        if monitor is not None and monitor.fired:
            self.history["alarms_fired"] = dict(monitor.fired)
        self.prepare_inference(dataset)
        if out_dir is not None and writes:
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

    # ----------------------------------------------------------- inference
    def _require_trained(self) -> None:
        if self.G is None:
            raise GankitError(
                f"this {type(self).__name__} has no weights yet; call fit() or gankit.load()"
            )

    def _inference_generator(self, ema: bool) -> nn.Module:
        """G_ema (the raw G with ``ema=False``), after checking that there are weights."""
        self._require_trained()
        return self.G_ema if ema and self.G_ema is not None else self.G

    def describe(self) -> dict[str, Any]:
        """What this model is and what its inference accepts, as JSON-able values.

        ``gankit info`` prints it and a server can list it; tasks add their own entries (classes,
        columns, directions, scale). Example:
            >>> from gankit import ToyGAN
            >>> ToyGAN().describe()["inference"]
            'generate'
        """
        return {
            "task": self.task,
            "preset": self.preset.name,
            "inference": self.inference,
            "trained": self.G is not None,
        }

    # ------------------------------------------------------------- save/load
    def save(self, out: str | Path) -> Path:
        """Write config.json, G/G_ema/D.safetensors and the task's extra files into ``out``."""
        self._require_trained()
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        tidy_dir(out)  # temporaries of an earlier save that a kill interrupted
        for name in WEIGHTS:
            module = getattr(self, name) if name != "G_ema" else (self.G_ema or self.G)
            save_module(module, out / f"{name}.safetensors")
        self.save_extras(out)
        write_json(out / CONFIG_NAME, self.config_dict())
        return out

    def save_extras(self, out: Path) -> None:
        """Write what the task needs beyond config.json and the three networks (default: none).

        Called by :meth:`save` before config.json, which is written last; :meth:`load_extras` reads
        it back. Files go through :mod:`gankit.io` (JSON or safetensors, atomic).
        """

    def load_extras(self, path: Path) -> None:
        """Read back what :meth:`save_extras` wrote (default: nothing)."""

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
        gan.load_extras(path)
        return gan

    # ---------------------------------------------------------------- report
    def write_report(self, out_dir: Path, dataset: Any) -> None:
        """Evaluate and write ``metrics.json`` and a readable ``report.md``.

        The quality check's own cost goes in as ``report_cost`` (wall and CPU seconds): it must
        stay a small part of a default run (docs/BENCHMARKS.md, "Default runs: peak memory and
        the report's cost").
        """
        wall, cpu = time.perf_counter(), time.process_time()
        quality = self.evaluate(dataset)
        cost = {
            "wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
        }
        metrics = {"training": self.history, **quality, "report_cost": cost}
        if "privacy" in self.data_info:
            metrics["privacy_budget"] = self.data_info["privacy"]
        write_json(out_dir / "metrics.json", metrics)
        lines = [
            f"# gankit report: {out_dir.name}",
            "",
            f"- task: {self.task}, preset: `{self.preset.name}` ({self.preset.arch})",
            f"- data: {self.data_info.get('name')} ({self.data_info.get('size')} samples)",
            f"- steps: {self.history['steps']} (this run: {self.history['steps_this_run']} in "
            f"{self.history['seconds_this_run']:.0f} s, {self.history['img_per_s']:.0f} img/s "
            f"on {self.history['device']}); quality check {cost['wall_s']:.0f} s",
            "",
        ]
        for section, values in metrics.items():
            if section in ("training", "report_cost") or not isinstance(values, dict):
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


def check_count(n: object, what: str = "samples") -> None:
    """Refuse a count of samples (or rows) that is not a positive int, naming the value."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise GankitError(f"number of {what} must be a positive integer, got {n!r}")


class Generator(GANTask):
    """A task that draws new samples from noise: ``generate(n, seed=, condition=, truncation=)``.

    ``condition`` is the one conditioning argument; what it means is the task's
    :attr:`condition_kind` (``None``: the model takes none; ``"class"``: a class name or index, or
    one per sample; ``"text"``: a sentence, or one per sample; ``"columns"``: a dict of column
    values). ``generate`` returns the task's natural type (uint8 images, points, a DataFrame);
    :meth:`generate_raw` the generator's own tensor, for metrics.
    """

    inference = "generate"
    #: The keyword ``sample()`` took the condition as before the one contract (``labels``,
    #: ``text``, ``conditions``): :meth:`sample` still accepts it.
    condition_alias: ClassVar[str | None] = None
    #: Extra keyword options of this task's :meth:`generate` (tabular: ``calibrate``).
    generate_options: ClassVar[tuple[str, ...]] = ()

    @property
    def condition_kind(self) -> str | None:
        """What ``condition`` means for this model: None, "class", "text" or "columns"."""
        return None

    def encode_condition(self, condition: Any, n: int) -> torch.Tensor | None:
        """The generator's conditioning input for ``n`` samples (None for an unconditional G)."""
        if condition is not None:
            raise GankitError(
                f"this {type(self).__name__} model is unconditional: it takes no condition, got "
                f"{condition!r}"
            )
        return None

    def parse_condition(self, values: list[Any], n: int) -> Any:
        """The ``condition`` for ``n`` samples from a list of values (``--condition V ...`` on the
        command line, a JSON list in a request).

        Classes and sentences cycle over the samples; a task whose condition is not one value per
        sample (tabular column values, ``COLUMN=VALUE`` words) overrides this.

        Example:
            >>> from gankit import ToyGAN
            >>> ToyGAN().parse_condition([], 4) is None
            True
        """
        if not values:
            return None
        # An unconditional model refuses the result in encode_condition, as any condition.
        return [values[i % len(values)] for i in range(n)]

    def generate_raw(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: Any = None,
        truncation: float | None = None,
        ema: bool = True,
    ) -> torch.Tensor:
        """G's output (float, on CPU) for ``n`` latents drawn from ``seed``.

        ``truncation`` t draws the latents from the normal truncated to [-t, t]: more typical,
        less varied samples (:func:`gankit.nn.generate.latents`).
        """
        check_count(n)
        G = self._inference_generator(ema)
        cond = self.encode_condition(condition, n)
        return generate(G, n, seed, cond=cond, truncation=truncation)

    def generate(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: Any = None,
        truncation: float | None = None,
        ema: bool = True,
        watermark: str | bytes | None = None,
    ) -> Any:
        """``n`` samples of G_ema (``ema=False``: the raw G): same arguments, same samples.

        ``watermark=key`` embeds the key's invisible provenance mark in every image
        (:mod:`gankit.provenance`; models that make images only).

        Example:
            >>> from gankit import ToyGAN
            >>> gan = ToyGAN(model={"hidden": 8}, batch_size=8).fit("ring", steps=1, quiet=True)
            >>> gan.generate(4, seed=0).shape
            torch.Size([4, 2])
        """
        if watermark is not None:
            self.check_markable()
        raw = self.generate_raw(n, seed=seed, condition=condition, truncation=truncation, ema=ema)
        return self.with_mark(self.postprocess(raw), watermark)

    def with_mark(self, samples: Any, watermark: str | bytes | None) -> Any:
        """``samples`` carrying ``watermark``'s provenance mark (unchanged when it is None): the
        last step of every :meth:`generate` that takes ``watermark=``."""
        if watermark is None:
            return samples
        self.check_markable()
        from gankit.provenance import mark

        return mark(samples, watermark)

    def check_markable(self) -> None:
        """Refuse a provenance mark (``watermark=``) for a model whose samples are not images."""
        output = self.describe().get("output")
        if output != "images":
            raise GankitError(
                f"provenance marks are for images; this {self.task!r} model makes {output}"
            )

    def sample(
        self, n: int, seed: int = 0, ema: bool = True, truncation: float | None = None, **options
    ) -> Any:
        """:meth:`generate` under its earlier name, with the earlier keyword for the condition.

        ``sample(n, labels=...)`` (images), ``sample(n, text=...)`` (text-images) and
        ``sample(n, conditions=...)`` (tabular) pass ``condition`` to :meth:`generate`; ``seed`` and
        ``ema`` may still be positional.
        """
        if self.condition_alias is not None and self.condition_alias in options:
            if "condition" in options:
                raise GankitError(
                    f"give the condition once: condition= or {self.condition_alias}=, not both"
                )
            options["condition"] = options.pop(self.condition_alias)
        if options.get("watermark", "") is None:
            del options["watermark"]  # "no mark": what every generate does by default
        elif "watermark" in options:
            self.check_markable()
        valid = {"condition", "watermark", *self.generate_options}
        unknown = sorted(set(options) - valid)
        if unknown:
            known = ", ".join(sorted(valid | {self.condition_alias} - {None}))
            raise GankitError(
                f"{type(self).__name__}.sample got unknown option(s) {', '.join(unknown)}; valid: "
                f"seed, ema, truncation, {known}"
            )
        return self.generate(n, seed=seed, ema=ema, truncation=truncation, **options)

    def network(self, *, direction: str | None = None, ema: bool = True) -> nn.Module:
        """The network :meth:`generate` runs, ``G(z)`` or ``G(z, cond)``: G_ema (``ema=False``: G).

        What :mod:`gankit.export` writes to ONNX, and what an onnxruntime session stands in for.
        A generator has no directions: ``direction`` must be None.
        """
        if direction is not None:
            raise GankitError(
                f"a {type(self).__name__} generates; it has no directions (got {direction!r})"
            )
        return self._inference_generator(ema)

    def grid_columns(self, condition: Any) -> int | None:
        """Columns of a grid of ``generate(n, condition=condition)``: one per class when a
        class-conditional model draws every class in turn (``condition`` None), else None (a
        square grid). ``gankit sample`` and ``gankit serve`` lay out grids by it.
        """
        if condition is None and self.condition_kind == "class":
            return len(self.describe()["classes"])
        return None

    @property
    def supports_truncation(self) -> bool:
        """Whether ``generate(..., truncation=t)`` is meaningful for this model."""
        return True

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "condition": self.condition_kind,
            "truncation": self.supports_truncation,
        }


class Translator(GANTask):
    """A task that maps inputs to outputs: ``apply(inputs, *, direction=None, ...)``.

    :attr:`directions` lists what ``direction`` may be; None means the first (pix2pix and
    super-resolution have one, CycleGAN "AB" and "BA"). Options are keyword-only.
    """

    inference = "apply"
    directions: ClassVar[tuple[str, ...]] = ("AB",)

    def check_direction(self, direction: str | None) -> str:
        """``direction`` checked against :attr:`directions`; None picks the first."""
        if direction is None:
            return self.directions[0]
        if direction not in self.directions:
            raise GankitError(
                f"direction must be one of {', '.join(self.directions)} for a "
                f"{type(self).__name__}, got {direction!r}"
            )
        return direction

    def input_channels(self, direction: str | None = None) -> int:
        """Channels of the images :meth:`apply` takes in ``direction`` (default: RGB, 3)."""
        self.check_direction(direction)
        return 3

    def network(self, *, direction: str | None = None, ema: bool = True) -> nn.Module:
        """The network :meth:`apply` runs for ``direction``, ``G(z_empty, inputs)``: G_ema
        (``ema=False``: G), or the part of it that maps ``direction``.

        What :mod:`gankit.export` writes to ONNX, and what an onnxruntime session stands in for.
        """
        self.check_direction(direction)
        return self._inference_generator(ema)

    def apply(self, inputs: Any, *, direction: str | None = None, ema: bool = True) -> Any:
        """The model's outputs for ``inputs`` (the same inputs always give the same outputs)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "directions": list(self.directions)}
