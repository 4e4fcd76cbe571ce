"""Synthetic tables: ``TabularGAN``, a thin recipe over the shared engine.

The table transformer (:mod:`gankit.data.tabular`) turns rows into vectors with spans; the
``tabular`` architecture (:mod:`gankit.nn.tabular`) builds G's output activations and the
conditional vector from those spans; training-by-sampling picks each batch; the
:class:`~gankit.train.Trainer` runs the game. This module only wires them together and turns G's
output back into a DataFrame with the input's columns, dtypes, categories and null pattern.

Example:
    >>> import pandas as pd
    >>> from gankit import TabularGAN, load
    >>> from gankit.data.tabular import demo_table
    >>> df = demo_table(64)  # or pd.read_csv(...)
    >>> gan = TabularGAN(batch_size=10).fit(df, steps=2, quiet=True)  # real runs: thousands
    >>> rows = gan.generate(100, seed=0, condition={"city": "Oslo"})
    >>> bool((rows["city"] == "Oslo").all()), list(rows.columns) == list(df.columns)
    (True, True)
    >>> load(gan.save(tmp / "t")).generate(5, seed=0).equals(gan.generate(5, seed=0))
    True
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from gankit.data.tabular import (
    ConditionSampler,
    TableTransformer,
    TabularData,
    read_csv,
    tabular_data,
)
from gankit.data.tabular.calibration import rake_weights
from gankit.data.tabular.private import PrivateFit, TablePrivacy, fit_private
from gankit.errors import GankitError
from gankit.io import read_json, write_json
from gankit.nn.generate import draw_latents
from gankit.nn.tabular import (
    TabularConfig,
    TargetClassifier,
    span_frequency_loss,
    span_layout,
)
from gankit.tasks.base import Generator, Preset, check_count
from gankit.train import TrainConfig
from gankit.train.objective import Objective, Players
from gankit.train.privacy import DPSGD

TRANSFORMER_NAME = "transformer.json"
_CHUNK = 2000  # rows per generator call when sampling
# Calibrated sampling draws from 3 times the rows asked for: on Adult a larger pool gave no better
# TSTR and few of these rows get no weight (docs/tabular.md, "How it works: calibrated sampling").
POOL_FACTOR = 3
# Calibrated sampling works in blocks of this many rows, so the pool of encoded rows (3 times a
# block; 392 numbers a row on Adult) stays near 250 MB however many rows are asked for.
_CALIBRATED_BLOCK = 50_000
_MAX_REJECTION_ROUNDS = 50
# The target classifier's fit on the real rows: Adam 1e-3, batches of 256 (about 10 epochs of
# Adult, short beside the game: docs/tabular.md, "Target classifier").
_CLASSIFIER_STEPS = 1500
_CLASSIFIER_BATCH = 256

# What both recipes share with CTGAN: batch 500, Adam (0.5, 0.9) with weight decay 1e-6.
_CTGAN_OPTIMIZER = TrainConfig(
    batch_size=500,
    lr_g=2e-4,
    lr_d=2e-4,
    betas=(0.5, 0.9),
    weight_decay=1e-6,
    log_every=100,
    sample_every=2000,
    checkpoint_every=2000,
)

TABULAR_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "gankit's recipe: CTGAN's transformer with exact point masses, training-by-"
            "sampling with hard conditioning, a shared-row PacGAN D (pack 10, pack mean/std, "
            "no dropout), non-saturating loss + lazy R1, slow EMA of G (0.999), batch 300 at "
            "lr 1e-3 decaying linearly to 0; about 3 min on Adult. Name the column to predict "
            "(model.target) for class-by-class play.",
            "tabular",
            # No dropout in D: on Adult it was the largest single TSTR gain of its pass
            # (docs/tabular.md, fourth pass); lazy R1 already keeps D smooth.
            {"pack": 10, "d_dropout": 0.0, "shared_rows": True},
            # EMA 0.999 and the linear decay raised F1 with a named target at equal steps, and
            # batch 300 (1.5x the rows) then AUC (docs/tabular.md, fifth pass; longer training at
            # batch 200 did not help).
            replace(
                _CTGAN_OPTIMIZER,
                steps=4000,
                batch_size=300,
                lr_g=1e-3,
                lr_d=1e-3,
                lr_schedule="linear",
                r1_gamma=1.0,
                ema_beta=0.999,
            ),
        ),
        Preset(
            "ctgan",
            "Xu et al. 2019 (CTGAN) as published: WGAN-GP (weight 10), PacGAN pack 10, Adam 2e-4 "
            "(0.5, 0.9) with weight decay 1e-6, batch 500; 19,500 steps is 300 epochs of Adult.",
            "tabular",
            {"pack": 10, "d_dropout": 0.5},
            replace(_CTGAN_OPTIMIZER, steps=19500, loss="wasserstein", gp_weight=10.0, ema_beta=0),
        ),
        Preset(
            "dp",
            "differentially private (privacy=): D judges one row at a time (pack 1, per-sample "
            "clipping needs it), no R1 (an input-gradient penalty DP-SGD does not cover), "
            "non-saturating loss, 128-wide G and D, batch 500 at lr 1e-3 decaying linearly, 300 "
            "steps (each spends budget; about 65 CPU s on Adult), EMA of G (post-processing, "
            "free). See docs/privacy.md.",
            "tabular",
            {
                "pack": 1,
                "d_dropout": 0.0,
                "shared_rows": False,
                "g_hidden": (128, 128),
                "d_hidden": (128, 128),
            },
            replace(
                _CTGAN_OPTIMIZER,
                steps=300,
                batch_size=500,
                lr_g=1e-3,
                lr_d=1e-3,
                lr_schedule="linear",
                ema_beta=0.999,
                health=False,  # its probe compares G with real rows in stats.jsonl
            ),
        ),
    )
}

# Model options that read the real table outside the DP mechanisms: refused under privacy=.
_NOT_PRIVATE = {
    "target": "the target classifier and the target counts are fitted on the raw rows",
    "frequency_weight": "G's frequency term compares with real batches",
    "condition_modes": "mode conditions need the data-fitted mixture",
    "shared_rows": "a shared-row D mixes rows, so no gradient belongs to one row",
}


class TabularGAN(Generator):
    """Generate rows like those of a table (a pandas DataFrame or a CSV file).

    Column kinds are detected (see :mod:`gankit.data.tabular.columns`); ``discrete_columns`` and
    ``metadata={"column": "kind"}`` in :meth:`fit` override the guess. Any other keyword overrides a
    :class:`~gankit.train.TrainConfig` field; ``model`` overrides architecture settings.

    Example:
        >>> gan = TabularGAN("default", steps=3000, model={"pack": 5})
        >>> gan.train_config.steps, gan.model_overrides
        (3000, {'pack': 5})
    """

    task = "tabular"
    presets = TABULAR_PRESETS
    default_preset = "default"
    condition_alias = "conditions"
    generate_options = ("calibrate",)

    def __init__(
        self,
        preset: str | None = None,
        *,
        model: dict[str, Any] | None = None,
        privacy: dict[str, Any] | TablePrivacy | None = None,
        **train: Any,
    ) -> None:
        # ``privacy={"epsilon": 3, "delta": 1e-6, "bounds": {...}}``: private end to end, with
        # the "dp" preset unless another is named (docs/privacy.md).
        self.privacy = TablePrivacy.parse(privacy) if privacy is not None else None
        if self.privacy is not None and preset is None:
            preset = "dp"
        super().__init__(preset, model=model, **train)
        if self.privacy is not None:
            self._check_private()
        self._private: PrivateFit | None = None
        # A preset's batch shrinks to fit a small table; a batch the user chose never does.
        self._batch_chosen = "batch_size" in train
        # The batch a small table shrank: the next table fitted is measured against it again.
        self._unshrunk_batch: int | None = None
        self.transformer: TableTransformer | None = None
        self._declared: dict[str, Any] = {"discrete_columns": None, "metadata": None}
        self._train_frame: pd.DataFrame | None = None
        self._train_rows: torch.Tensor | None = None

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: pd.DataFrame | str | Path | None = None,
        steps: int | None = None,
        out: str | Path | None = None,
        *,
        discrete_columns: list[str] | None = None,
        metadata: dict[str, str] | None = None,
        **options: Any,
    ) -> TabularGAN:
        """Train on ``data`` (DataFrame or CSV path). See :meth:`GANTask.fit` for ``options``.

        ``discrete_columns`` are treated as categorical; ``metadata`` maps columns to kinds
        (``categorical``, ``boolean``, ``continuous``, ``integer``, ``datetime``).
        """
        self._declared = {"discrete_columns": discrete_columns, "metadata": metadata}
        if options.get("resume") and out is not None and (Path(out) / TRANSFORMER_NAME).is_file():
            state = read_json(Path(out) / TRANSFORMER_NAME)
            self.transformer = TableTransformer.from_json(state)
            # The resumed transformer is kept as fitted: a changed target or condition_modes would
            # train on conditions the model config no longer describes. A transformer.json older
            # than the key cannot tell (its model's target named the classifier alone).
            for key, value in self._encoding_options().items():
                fitted = state.get(key, value)
                if value != fitted:
                    raise GankitError(
                        f"{out} was started with model.{key}={fitted!r}; resume it with the "
                        f"same value (got {value!r}) or start a new run"
                    )
        super().fit(data, steps, out, **options)
        return self

    def open_data(self, data: Any) -> tuple[TabularData, dict[str, Any]]:
        if isinstance(data, str | Path):
            frame, source, name = read_csv(data), str(data), Path(data).name
        elif isinstance(data, pd.DataFrame):
            frame, source, name = data, None, "DataFrame"
        elif data is None:
            raise GankitError("TabularGAN.fit needs the table: pass a DataFrame or a CSV path")
        else:
            raise GankitError(
                f"TabularGAN data must be a DataFrame or a CSV path, not {type(data)}"
            )
        names = [str(c) for c in frame.columns]
        if self.privacy is not None:
            frame = self._open_private(frame)
        elif self.transformer is None or [c.name for c in self.transformer.columns] != names:
            declared = dict(self._declared)
            if not any(declared.values()) and self.data_info.get("kinds"):
                # A resumed run keeps the kinds it was started with.
                kinds = self.data_info["kinds"].items()
                declared["metadata"] = {c: kind for c, kind in kinds if c in names}
            self.transformer = TableTransformer.fit(
                frame, **declared, seed=self.train_config.seed, **self._encoding_options()
            )
        self._fit_batch_to(len(frame))
        self._train_frame = frame
        data = tabular_data(self.transformer, frame)
        self._train_rows = data.rows
        info = {
            "source": source,
            "name": name,
            "size": len(frame),
            "kinds": {spec.name: spec.kind for spec in self.transformer.columns},
            "layout": _layout(self.transformer),
        }
        if self.privacy is not None:
            info["privacy"] = self.data_info["privacy"]
        return data, info

    def _check_private(self) -> None:
        """Refuse model options that would read the table without budget, naming them."""
        model = {**TabularConfig().__dict__, **self.preset.model, **self.model_overrides}
        problems = [f"model.{key} ({why})" for key, why in _NOT_PRIVATE.items() if model.get(key)]
        if model.get("pack") != 1:
            problems.append("model.pack > 1 (per-sample clipping needs D to judge one row)")
        if self.train_config.health:
            problems.append("health=True (its probe logs statistics of real rows)")
        if problems:
            raise GankitError(
                "privacy= cannot be combined with " + "; ".join(problems) + ": they read the "
                "data without privacy budget. Use preset 'dp' or drop them"
            )

    def private_training(self, dataset: TabularData) -> DPSGD | None:
        if self.privacy is None:
            return None
        budget = self.data_info["privacy"]
        cfg = self.train_config
        return DPSGD(
            budget["dp_sgd_epsilon"],
            budget["dp_sgd_delta"],
            sample_rate=min(cfg.batch_size / len(dataset), 1.0),
            updates=cfg.steps * cfg.n_critic,
            max_grad_norm=self.privacy.max_grad_norm,
        )

    def _open_private(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Fit the encoding through noisy statistics (once; a resume reuses it)."""
        names = [str(c) for c in frame.columns]
        if self.transformer is None or [c.name for c in self.transformer.columns] != names:
            self._private = fit_private(frame, self.privacy, **self._declared)
            self.transformer = self._private.transformer
            self.data_info["privacy"] = {
                "settings": self.privacy.to_json(),
                **self._private.budget,
            }
        elif self._private is None:  # resumed: the released statistics are in config.json
            self._private = PrivateFit(self.transformer, self.data_info["privacy"])
        return self._private.prepare(frame)

    def _fit_batch_to(self, rows: int) -> None:
        """Shrink the preset's batch to a table with fewer rows, in whole packs, with a warning."""
        if self._unshrunk_batch is not None:
            self.train_config = replace(self.train_config, batch_size=self._unshrunk_batch)
            self._unshrunk_batch = None
        batch = self.train_config.batch_size
        pack = {**self.preset.model, **self.model_overrides}.get("pack", TabularConfig.pack)
        if not isinstance(pack, int) or isinstance(pack, bool) or pack < 1:
            return  # the model config's check, a step later, refuses it
        if self._batch_chosen or rows >= batch or rows < pack:
            return  # (a table smaller than one pack gets the engine's error)
        smaller = rows // pack * pack
        warnings.warn(
            f"the table has {rows} rows, fewer than the preset's batch_size {batch}; training "
            f"with batch_size {smaller} (pass batch_size= to choose)",
            stacklevel=5,  # past open_data and both fit()s: the line that called fit
        )
        self._unshrunk_batch = batch
        self.train_config = replace(self.train_config, batch_size=smaller)

    def _encoding_options(self) -> dict[str, Any]:
        """The model options the table transformer is fitted with."""
        model = {**self.preset.model, **self.model_overrides}
        return {
            "condition_modes": bool(model.get("condition_modes", False)),
            "target": str(model.get("target", "")),
        }

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        # The row layout G and D are built for; JSON lists become the config's tuples.
        layout = data_info.get("layout", {})
        return {k: tuple(v) if isinstance(v, list) else v for k, v in layout.items()}

    def objective(self) -> Objective | None:
        config: TabularConfig = self.architecture_config
        wanted = config.target and config.target_weight > 0
        classifier = self._target_classifier() if wanted else None
        if config.frequency_weight == 0 and classifier is None:
            return None
        return TabularTerms(config, classifier)

    def _target_classifier(self) -> TargetClassifier:
        """The classifier of the target from the other columns, fitted on the training rows."""
        transformer = self.transformer  # fitted with the model's target, a discrete column
        span = transformer.target_span
        rows = self._train_rows
        labels = rows[:, span.start : span.stop].argmax(dim=1)
        with torch.random.fork_rng():  # dropout and init: seeded, and G's stream stays untouched
            torch.manual_seed(self.train_config.seed)
            classifier = TargetClassifier(transformer.output_dim, span.start, span.size)
            optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3)
            for _ in range(_CLASSIFIER_STEPS):
                batch = torch.randint(len(rows), (_CLASSIFIER_BATCH,))
                loss = F.cross_entropy(classifier(rows[batch]), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return classifier.eval().requires_grad_(False)

    # --------------------------------------------------------------- sample
    def _require_transformer(self) -> TableTransformer:
        self._require_trained()
        if self.transformer is None:
            raise GankitError("this TabularGAN has no fitted table transformer; fit() or load()")
        return self.transformer

    def _condition_slots(self, conditions: dict[str, Any] | None) -> list[int]:
        transformer = self._require_transformer()
        if conditions is not None and not isinstance(conditions, dict):
            raise GankitError(f"conditions must be a dict {{column: value}}, got {conditions!r}")
        slots = [transformer.condition_slot(col, val) for col, val in (conditions or {}).items()]
        # G is conditioned on the rarest value; the others are met by rejection sampling.
        return sorted(slots, key=lambda slot: transformer.slot_counts[slot])

    def generate_raw(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: dict[str, Any] | None = None,
        truncation: float | None = None,
        ema: bool = True,
    ) -> torch.Tensor:
        """Encoded rows ``(n, encoded_dim)`` with every softmax span a drawn one-hot."""
        check_count(n, "rows")
        slots = self._condition_slots(condition)
        transformer = self._require_transformer()
        G = self._inference_generator(ema)
        sampler = transformer.condition_sampler()
        rng = torch.Generator().manual_seed(seed)
        device = next(G.parameters()).device
        # A condition on the target goes to G as its target slot, with the rarest other value.
        target = next((s for s in slots if sampler.holds_target(s)), None)
        others = [s for s in slots if s != target]
        given = others[0] if others else target
        positions = torch.tensor(
            [transformer.cond_positions[s] for s in others[1:]], dtype=torch.long
        )
        kept, found = [], 0
        was_training = G.training
        G.eval()
        try:
            for _ in range(_MAX_REJECTION_ROUNDS):
                size = max(_CHUNK, n - found) if slots else n - found
                z = draw_latents(rng, size, G.latent_dim, truncation)
                cond = _conditions(sampler, size, rng, given, target)
                rows = []
                for start in range(0, size, _CHUNK):
                    part = slice(start, start + _CHUNK)
                    c = cond[part].to(device) if cond is not None else None
                    rows.append(G.choose(G(z[part].to(device), c), rng).cpu())
                rows = torch.cat(rows)
                if len(positions):  # every other condition must hold too
                    rows = rows[(rows[:, positions] > 0.5).all(dim=1)]
                kept.append(rows)
                found += len(rows)
                if found >= n:
                    return torch.cat(kept)[:n]
        finally:
            G.train(was_training)
        raise GankitError(
            f"conditions {condition} are too rare for this model: {found} of {n} rows found in "
            f"{_MAX_REJECTION_ROUNDS} rounds; condition on fewer columns"
        )

    def generate(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: dict[str, Any] | None = None,
        truncation: float | None = None,
        ema: bool = True,
        calibrate: bool | None = None,
    ) -> pd.DataFrame:
        """``n`` synthetic rows as a DataFrame with the training table's columns and dtypes.

        ``condition={"sex": "Female"}`` makes every row have those values (discrete columns);
        same seed, same rows. ``truncation`` t draws G's latents from the normal truncated to
        [-t, t] (more typical rows). ``calibrate`` keeps ``n`` of ``POOL_FACTOR * n`` of G's rows
        (in blocks of ``_CALIBRATED_BLOCK`` rows, each from its own pool), drawn so that each
        one-hot span's values occur with each target value as often as in the training table
        (:mod:`gankit.data.tabular.calibration`); ``calibrate=False`` returns G's first ``n`` rows
        as they come. The default calibrates a model with a named target (``model.target``) when
        there are no ``conditions``: on Adult it raised TSTR F1 and ROC AUC for the same fitted
        model (docs/tabular.md, sixth pass, and the Adult runs in docs/BENCHMARKS.md). Without a
        target, raking to the plain shares lowered AUC (sixth pass), so it is off unless asked for.
        """
        check_count(n, "rows")  # before the pool's POOL_FACTOR * n hides a bool or a float
        transformer = self._require_transformer()
        fitted = transformer.span_counts is not None
        if condition == {}:  # the CLI without --condition: no condition
            condition = None
        if calibrate is None:
            calibrate = condition is None and fitted and bool(transformer.target)
        elif calibrate and (condition is not None or not fitted):
            raise GankitError(
                "calibrated sampling needs a model fitted by this gankit version (its "
                "transformer.json has span counts) and no conditions: the counts are the "
                "table's, not those of the rows meeting a condition"
            )
        if not calibrate:
            rows = self.generate_raw(
                n, seed=seed, condition=condition, truncation=truncation, ema=ema
            )
            return transformer.inverse_transform(rows.numpy())
        blocks = [
            self._calibrated_block(min(_CALIBRATED_BLOCK, n - start), seed, block, ema, truncation)
            for block, start in enumerate(range(0, n, _CALIBRATED_BLOCK))
        ]
        return transformer.inverse_transform(np.concatenate(blocks))

    def _calibrated_block(
        self, n: int, seed: int, block: int, ema: bool, truncation: float | None
    ) -> np.ndarray:
        """``n`` encoded rows kept from a pool of ``POOL_FACTOR * n`` (see :meth:`sample`)."""
        transformer = self._require_transformer()
        # The pool's noise and the selection's draws come from two streams derived from
        # (seed, block): one seed for both would pick rows by the same numbers that made them.
        # SeedSequence refuses negative numbers; torch reads seed -1 as 2**64 - 1, and so do we.
        streams = np.random.SeedSequence([seed % 2**64, block])
        pool_seed, pick_seed = streams.generate_state(2)
        pool = self.generate_raw(
            POOL_FACTOR * n, seed=int(pool_seed), truncation=truncation, ema=ema
        ).numpy()
        codes, targets = transformer.span_codes(pool)
        rng = torch.Generator().manual_seed(int(pick_seed))
        # Each class keeps its share of the pool: n / POOL_FACTOR rows per pool row, rounded so
        # that the counts add up to n.
        classes, sizes = np.unique(targets, return_counts=True)
        wanted = np.floor(sizes / POOL_FACTOR).astype(int)
        wanted[np.argsort(-(sizes / POOL_FACTOR - wanted))[: n - wanted.sum()]] += 1
        keep = []
        for value, count in zip(classes, wanted, strict=True):
            if count == 0:  # a class with a row or two in the pool rounds to none kept
                continue
            index = np.flatnonzero(targets == value)
            shares = transformer.class_shares(int(value))
            weights = rake_weights([c[index] for c in codes], shares, max_weight=POOL_FACTOR)
            # A floor, so that the draw works even when fewer rows than wanted have a weight.
            drawn = torch.multinomial(
                torch.from_numpy(weights).clamp_min(1e-9), int(count), generator=rng
            )
            keep.append(index[drawn.numpy()])
        return pool[np.sort(np.concatenate(keep))]

    def postprocess(self, x: torch.Tensor) -> pd.DataFrame:
        return self._require_transformer().inverse_transform(x.numpy())

    @property
    def condition_kind(self) -> str | None:
        return "columns"

    def parse_condition(self, values: list[str], n: int) -> dict[str, Any] | None:
        """``["sex=Female", ...]`` -> ``{"sex": "Female"}``: every row holds every value."""
        return self._require_transformer().parse_conditions(values) if values else None

    def describe(self) -> dict[str, Any]:
        described = {**super().describe(), "output": "table"}
        if self.transformer is not None:
            described["columns"] = [asdict(spec) for spec in self.transformer.columns]
            described["target"] = self.transformer.target
        return described

    # ------------------------------------------------------------ save/load
    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TabularGAN:
        gan = super().from_config(config)
        settings = gan.data_info.get("privacy", {}).get("settings")
        if settings is not None:  # a resumed private run stays private, with its budget
            gan.privacy = TablePrivacy.parse(settings)
        return gan

    def save_extras(self, out: Path) -> None:
        """``transformer.json``: the fitted encoding, plain JSON."""
        write_json(out / TRANSFORMER_NAME, self._require_transformer().to_json())

    def load_extras(self, path: Path) -> None:
        self.transformer = _read_transformer(path)

    # --------------------------------------------------------------- report
    def render(self, G: nn.Module, path: Path) -> None:
        """Marginals of the training table vs. the current G_ema, for the samples/ folder."""
        if self._train_frame is None:
            return
        ema, self.G_ema = self.G_ema, G
        try:
            synthetic = self.generate(2000, seed=0)
        finally:
            self.G_ema = ema
        real = self._train_frame.sample(min(2000, len(self._train_frame)), random_state=0)
        _save_marginals(real, synthetic, path)

    def evaluate(self, dataset: TabularData) -> dict[str, Any]:
        if self._train_frame is None:
            return {}
        return {"table": self.report(self._train_frame, n=min(5000, len(self._train_frame)))}

    def report(
        self,
        real: pd.DataFrame,
        holdout: pd.DataFrame | None = None,
        target: str | None = None,
        positive: Any = None,
        n: int = 5000,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Fidelity, privacy and (with ``target``) utility of ``n`` synthetic rows vs. ``real``.

        ``quality`` needs sdmetrics (skipped with a note when missing); ``dcr`` compares with
        ``holdout`` when given, which also adds ``privacy`` (DCR, NNDR and the membership-
        inference AUC, :mod:`gankit.metrics.privacy`); ``tstr`` trains on synthetic rows and tests
        on ``holdout``.
        """
        from gankit.metrics.tabular import dcr, quality, tstr

        specs = self._require_transformer().columns
        synthetic = self.generate(n, seed=seed)
        sample = real.sample(min(n, len(real)), random_state=seed)
        result: dict[str, Any] = {"rows": n}
        try:
            result.update(quality(sample, synthetic, specs))
        except GankitError as err:
            result["quality"] = f"skipped: {err}"
        result.update(dcr(real, synthetic, specs, holdout, seed=seed))
        if holdout is not None:  # the attack needs real rows the model never saw
            from gankit.metrics.privacy import privacy_report

            result["privacy"] = privacy_report(real, holdout, synthetic, specs, seed=seed)
        if target is not None:
            if holdout is None:
                raise GankitError("TSTR needs held-out real rows to test on: pass holdout=")
            positive = positive if positive is not None else real[target].mode().iloc[-1]
            result["tstr"] = tstr(synthetic, holdout, target, positive, seed)
            result["trtr"] = tstr(real, holdout, target, positive, seed)
        return result


class TabularTerms(Objective):
    """G's optional extra terms, each times its weight.

    ``frequency``: :func:`~gankit.nn.tabular.span_frequency_loss`. ``target``: the cross-entropy
    of the fitted target classifier on G's rows against the target G gave them, so a row's other
    columns imply its target as they do in real rows (CTAB-GAN's information-preserving
    classifier loss; the classifier stays fixed).
    """

    def __init__(self, config: TabularConfig, classifier: TargetClassifier | None) -> None:
        _, self.index, self.valid = span_layout(config)
        self.frequency_weight = config.frequency_weight
        self.target_weight = config.target_weight
        self.classifier = classifier
        # The frequency term compares with a real batch, also on a table with no discrete column.
        self.g_needs_real = self.frequency_weight > 0

    def g_terms(
        self, players: Players, real: torch.Tensor | None, fake: torch.Tensor, cond: Any
    ) -> dict[str, torch.Tensor]:
        terms = {}
        if self.frequency_weight > 0:
            index, valid = self.index.to(fake.device), self.valid.to(fake.device)
            kl = span_frequency_loss(real, fake, index, valid)
            terms["frequency"] = self.frequency_weight * kl
        if self.classifier is not None:
            classifier = self.classifier.to(fake.device)
            target = fake[:, classifier.start : classifier.start + classifier.size].argmax(dim=1)
            terms["target"] = self.target_weight * F.cross_entropy(classifier(fake), target)
        return terms


def _save_marginals(real: pd.DataFrame, synthetic: pd.DataFrame, path: Path, most: int = 8) -> None:
    """Real vs. synthetic marginals of the first ``most`` columns (bars or histograms), as PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gankit.io import atomic_write_bytes

    columns = list(real.columns[:most])
    fig, axes = plt.subplots(1, len(columns), figsize=(2.6 * len(columns), 2.4), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        if pd.api.types.is_numeric_dtype(real[column]) and real[column].nunique() > 10:
            values = [real[column].dropna(), synthetic[column].dropna()]
            ax.hist(values, bins=30, density=True, label=["real", "synthetic"])
        else:
            top = real[column].astype(str).value_counts(normalize=True).head(8)
            fake = synthetic[column].astype(str).value_counts(normalize=True)
            at = np.arange(len(top))
            ax.bar(at - 0.2, top.to_numpy(), 0.4, label="real")
            ax.bar(at + 0.2, fake.reindex(top.index).fillna(0).to_numpy(), 0.4, label="synthetic")
            ax.set_xticks(at, [t[:6] for t in top.index], rotation=60, fontsize=6)
        ax.set_title(str(column), fontsize=8)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _layout(transformer: TableTransformer) -> dict[str, Any]:
    """The encoded row's layout as the ``tabular`` architecture config wants it (JSON-ready)."""
    return {
        "data_dim": transformer.output_dim,
        "cond_dim": transformer.cond_dim,
        "span_sizes": [span.size for span in transformer.spans],
        "span_softmax": [span.activation == "softmax" for span in transformer.spans],
        "cond_positions": list(transformer.cond_positions),
    }


def _conditions(
    sampler: ConditionSampler,
    size: int,
    rng: torch.Generator,
    slot: int | None,
    target_slot: int | None = None,
) -> torch.Tensor | None:
    """Conditions for ``size`` rows: all ``slot``, or drawn with the data's frequencies.

    A model with a target also gets the target's slot: ``target_slot``, or drawn given ``slot``
    as in the data; without ``slot`` its condition is the target alone. (On Adult, rows drawn
    given the target alone trained better classifiers than rows drawn given the target and a
    random other column's value: docs/tabular.md, fourth pass.)
    """
    target = sampler.target_column
    if slot is not None:
        slots = torch.full((size,), slot)
    elif sampler.n_columns == 0:  # no discrete column: the model is unconditional
        return None
    else:
        slots = sampler.draw(size, rng, log_frequency=False, column=target)
    if target is None:
        return sampler.one_hot(slots)
    if target_slot is not None:
        return sampler.one_hot(slots, torch.full((size,), target_slot))
    return sampler.one_hot(slots, sampler.draw_target(slots, rng))


def _read_transformer(path: Path) -> TableTransformer:
    return TableTransformer.from_json(read_json(path / TRANSFORMER_NAME))
