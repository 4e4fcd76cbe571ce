"""Rows of a table <-> the vectors a GAN sees, with spans describing each column's slice.

Each column gets an encoder (a registry keyed by column kind):

- discrete columns (categorical, boolean): one-hot over the observed values, plus one slot for
  "missing" when the column has nulls. One ``softmax`` span.
- numeric columns (continuous, integer, datetime): CTGAN's *mode-specific normalisation*. A
  variational Gaussian mixture finds the modes of the column; a value ``x`` is written as the mode
  ``k`` it belongs to (one-hot, a ``softmax`` span) and its offset inside that mode
  ``alpha = (x - mu_k) / (4 sigma_k)`` (a ``tanh`` span). Skewed and multi-modal columns become
  easy for an MLP. *Point masses* come first: every value that holds more than 0.3 % of the column
  (and more than one row) and stands out from the rest (``capital-gain``'s zeros and its common
  amounts, ``hours-per-week``'s 40) is a mode of its own, written and read back exactly; the
  mixture models only the other values. (A Gaussian mode cannot be a point mass: on Adult it
  smeared the zeros, and many synthetic rows had a small non-zero gain, which real rows never
  have: docs/tabular.md, "Point masses as modes of their own".) A column with nulls adds a
  2-way ``softmax`` span "present / missing".
- *functional dependencies*: a numeric column whose value is fixed by a discrete column's (Adult's
  ``education-num`` by its ``education``) gets no span at all: G makes the discrete column and
  decoding looks the number up. Left to G, synthetic Adult rows often broke that pair
  (docs/tabular.md, "Functional dependencies"). The dependency is found in the data at fit time
  (every value of the discrete column seen at least ``_MIN_SUPPORT`` times, always with one
  number) and recorded in the fitted state.

The fitted transformer is plain data (:meth:`TableTransformer.to_json`), so a model directory holds
it as JSON, never as a pickle. The mixture is fitted on at most ``max_fit_rows`` rows: it needs a
few thousand points to find the modes, and this keeps fitting fast on big tables.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [0.5, 1.5, 10.0, 11.0] * 25, "c": ["a", "b", "a", "a"] * 25})
    >>> t = TableTransformer.fit(df)
    >>> t.transform(df).shape[0], list(t.inverse_transform(t.transform(df)).columns)
    (100, ['x', 'c'])
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from gankit.config import from_dict
from gankit.data.tabular.columns import ColumnSpec, infer_columns, numeric_values
from gankit.data.tabular.sampler import ConditionSampler
from gankit.errors import GankitError

TRANSFORMER_VERSION = 1
_ALPHA_SCALE = 4.0  # alpha = (x - mu) / (4 sigma): 4 sigmas cover a mode inside tanh's range
_ALPHA_CLIP = 0.99
_NS = 1e9
# A mixture component this narrow (in standard deviations of the column) is a point mass: its
# offset is noise, so decoding snaps to the mode's mean.
_POINT_MASS_STD = 2e-3
# A value holding more than this share of a numeric column (and more than one row) is a point
# mass, a mode of its own (at most _MAX_SPIKES of them, the most frequent); after the first
# round, a value must also hold more than the mean count of the values left (_SPIKE_LIFT times
# it). On Adult a capital gain is a code more than an amount (5,013 $: no row above 50K;
# 5,178 $: all of them), so its values must come back exactly: calibrated samples trained a
# better classifier with this bar than with a 3 % bar and at most 8 (docs/tabular.md, sixth
# pass). A float column whose values do not repeat has none.
_SPIKE_SHARE = 0.003
_MAX_SPIKES = 64
_SPIKE_LIFT = 1.0
# Rows each value of a discrete column needs before it counts as fixing another column: a value
# seen once would "fix" every column of its row.
_MIN_SUPPORT = 5
# Datetimes are rounded to the coarsest of these units (in ns) that all observed values are whole
# multiples of: dates stay midnights, timestamps in seconds stay whole seconds.
_TIME_STEPS = (86_400 * _NS, 3_600 * _NS, 60 * _NS, _NS, 1e6, 1e3, 1.0)


@dataclass(frozen=True)
class Span:
    """A slice ``[start, start + size)`` of the encoded row and the activation G ends it with."""

    start: int
    size: int
    activation: str  # "tanh" (one scalar) or "softmax" (a one-hot choice)

    @property
    def stop(self) -> int:
        return self.start + self.size


def restore_dtype(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """``values`` (object or float, NaN/None for missing) cast back to the column's own dtype."""
    if spec.dtype == "category":
        return values.astype(pd.CategoricalDtype(list(spec.categories)))
    if spec.dtype in ("bool", "int64", "int32", "int16", "int8") and values.isna().any():
        return values  # the input never had nulls; keep them visible rather than crash
    try:
        return values.astype(spec.dtype)
    except (TypeError, ValueError):
        return values


class DiscreteEncoder:
    """One-hot over the observed categories (+ a "missing" slot when the column has nulls)."""

    def __init__(self, spec: ColumnSpec) -> None:
        self.spec = spec
        self.n_slots = len(spec.categories) + int(spec.has_null)

    @classmethod
    def fit(cls, series: pd.Series, spec: ColumnSpec, rng: np.random.Generator) -> DiscreteEncoder:
        return cls(spec)

    @property
    def spans(self) -> list[tuple[int, str]]:
        return [(self.n_slots, "softmax")]

    def codes(self, series: pd.Series) -> np.ndarray:
        """Slot index of each value; unseen values are an error naming the column."""
        codes = pd.Categorical(series, categories=list(self.spec.categories)).codes.astype(np.int64)
        missing = series.isna().to_numpy()
        unseen = (codes < 0) & ~missing
        if unseen.any():
            value = series[unseen].iloc[0]
            raise GankitError(
                f"column {self.spec.name!r} has value {value!r}, which the model never saw; "
                f"known values: {list(self.spec.categories)[:10]}"
            )
        if missing.any() and not self.spec.has_null:
            raise GankitError(
                f"column {self.spec.name!r} has missing values; the model never saw any"
            )
        codes[missing] = len(self.spec.categories)
        return codes

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        return np.eye(self.n_slots, dtype=np.float32)[self.codes(series)]

    def inverse(self, block: np.ndarray) -> pd.Series:
        values = np.array([*self.spec.categories, None], dtype=object)[block.argmax(axis=1)]
        return restore_dtype(pd.Series(values, name=self.spec.name), self.spec)

    def state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_state(cls, spec: ColumnSpec, state: dict[str, Any]) -> DiscreteEncoder:
        return cls(spec)


def _spikes(x: np.ndarray) -> np.ndarray:
    """The column's point masses, most frequent first (at most ``_MAX_SPIKES``).

    A value is one if it holds more than ``_SPIKE_SHARE`` of the column and more than one row;
    then, in rounds, if it holds more than that share of the values not yet taken *and* stands
    out from them (more than ``_SPIKE_LIFT`` times their mean count per distinct value). The
    rounds find the spikes hidden under a bigger one: once capital-gain's zeros (most of the
    column) are taken, 15,024 $ holds a large share of the rest (docs/tabular.md, "Point masses as
    modes of their own"). Values that each occur once (a float column) never do.
    """
    values, counts = np.unique(x, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    values, counts = values[order], counts[order]
    taken = 0
    while taken < min(_MAX_SPIKES, len(values)):
        rest = counts[taken:]
        # A value seen once is no point mass, even where the share is under a row (< 334 rows).
        bar = max(_SPIKE_SHARE * rest.sum(), 1.0)
        if taken:  # in the small rest, the share alone would make every value of a spread one
            bar = max(bar, _SPIKE_LIFT * rest.mean())
        more = int((rest[: _MAX_SPIKES - taken] > bar).sum())
        if more == 0:
            break
        taken += more
    return values[:taken]


class ModeEncoder:
    """Mode-specific normalisation: a mode (one-hot) and the offset in it.

    The modes are the column's point masses (``spikes``, raw values, decoded exactly) followed by
    the Gaussian-mixture modes (``means``/``stds``/``weights``, standardised units) of the rest.
    """

    def __init__(
        self, spec: ColumnSpec, center: float, scale: float, means, stds, weights, step=0.0,
        spikes=(),
    ) -> None:  # fmt: skip
        self.spec = spec
        self.step = step  # decoded values are rounded to multiples of this (0: not rounded)
        self.center, self.scale = center, scale  # standardisation before the mixture
        self.spikes = np.asarray(spikes, dtype=np.float64)
        self.means = np.asarray(means, dtype=np.float64)
        self.stds = np.asarray(stds, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)

    @property
    def n_modes(self) -> int:
        return len(self.spikes) + len(self.means)

    @classmethod
    def fit(
        cls,
        series: pd.Series,
        spec: ColumnSpec,
        rng: np.random.Generator,
        max_modes: int = 10,
        max_fit_rows: int = 10_000,
    ) -> ModeEncoder:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture

        x = numeric_values(series, spec)
        step = {"integer": 1.0, "continuous": 0.0}.get(spec.kind)
        if step is None:  # datetime
            step = next(unit for unit in _TIME_STEPS if np.all(np.fmod(x, unit) == 0))
        center, scale = float(x.mean()), float(x.std()) or 1.0
        spikes = _spikes(x)
        rest = x[~np.isin(x, spikes)]
        if len(np.unique(rest)) == 1:  # one value left over: a point mass too
            spikes = np.append(spikes, rest[0])
            rest = rest[:0]
        z = (rest - center) / scale
        if len(z) > max_fit_rows:
            z = rng.choice(z, max_fit_rows, replace=False)
        n_modes = min(max_modes, len(np.unique(z)))
        if n_modes == 0:  # every value is a point mass
            return cls(spec, center, scale, [], [], [], step, spikes.tolist())
        # The Dirichlet-process prior switches off unneeded modes (CTGAN's settings).
        bgm = BayesianGaussianMixture(
            n_components=n_modes,
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=1e-3,
            max_iter=100,
            random_state=int(rng.integers(2**31)),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            bgm.fit(z.reshape(-1, 1))
        keep = bgm.weights_ > 5e-3
        stds = np.sqrt(bgm.covariances_.reshape(-1))
        weights = bgm.weights_[keep] / bgm.weights_[keep].sum()
        means = bgm.means_.reshape(-1)[keep]
        return cls(spec, center, scale, means, stds[keep], weights, step, spikes.tolist())

    @property
    def spans(self) -> list[tuple[int, str]]:
        spans = [(1, "tanh"), (self.n_modes, "softmax")]
        return spans + [(2, "softmax")] if self.spec.has_null else spans

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        missing = series.isna().to_numpy()
        x = np.zeros(len(series))
        x[~missing] = numeric_values(series, self.spec)
        z = (x - self.center) / self.scale
        alpha = np.zeros(len(z))
        is_spike = x[:, None] == self.spikes[None, :]
        # A point mass is its own mode, offset 0.
        mode = is_spike.argmax(axis=1) if len(self.spikes) else np.zeros(len(x), np.int64)
        other = ~is_spike.any(axis=1)
        if not len(self.means):  # only point masses: anything else goes to the nearest one
            mode[other] = np.abs(x[other, None] - self.spikes[None, :]).argmin(axis=1)
        elif other.any():
            # Each value's mixture mode is drawn from its posterior (as CTGAN does), so values
            # between two modes are shared out instead of all landing on the nearer one.
            zo = z[other]
            log_post = (
                np.log(self.weights)
                - np.log(self.stds)
                - 0.5 * ((zo[:, None] - self.means) / self.stds) ** 2
            )
            post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
            cum = np.cumsum(post / post.sum(axis=1, keepdims=True), axis=1)
            drawn = (cum < rng.random((len(zo), 1))).sum(axis=1).clip(max=len(self.means) - 1)
            mode[other] = len(self.spikes) + drawn
            alpha[other] = (zo - self.means[drawn]) / (_ALPHA_SCALE * self.stds[drawn])
        blocks = [
            np.clip(alpha, -_ALPHA_CLIP, _ALPHA_CLIP)[:, None],
            np.eye(self.n_modes)[mode],
        ]
        if self.spec.has_null:
            blocks.append(np.eye(2)[missing.astype(np.int64)])
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def inverse(self, block: np.ndarray) -> pd.Series:
        mode = block[:, 1 : 1 + self.n_modes].argmax(axis=1)
        mixture = (mode - len(self.spikes)).clip(min=0, max=max(len(self.means) - 1, 0))
        x = np.zeros(len(block))
        if len(self.means):
            std = self.stds[mixture]
            alpha = np.where(std < _POINT_MASS_STD, 0.0, np.clip(block[:, 0], -1.0, 1.0))
            x = (alpha * _ALPHA_SCALE * std + self.means[mixture]) * self.scale + self.center
        spike = mode < len(self.spikes)
        x[spike] = self.spikes[mode[spike]]
        x = np.clip(x, self.spec.minimum, self.spec.maximum)
        spec = self.spec
        if self.step:
            x = np.round(x / self.step) * self.step
        values: pd.Series = pd.Series(x, name=spec.name)
        if spec.kind == "datetime":
            values = pd.Series(pd.to_datetime(x.astype(np.int64)), name=spec.name)
            if spec.date_format is not None:
                values = values.dt.strftime(spec.date_format).astype(object)
        if spec.has_null:
            missing = block[:, -2:].argmax(axis=1) == 1
            values = values.astype(object) if spec.date_format else values
            values[missing] = None if spec.date_format else np.nan
        return restore_dtype(values, spec)

    def state(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "scale": self.scale,
            "means": self.means.tolist(),
            "stds": self.stds.tolist(),
            "weights": self.weights.tolist(),
            "step": self.step,
            "spikes": self.spikes.tolist(),
        }

    @classmethod
    def from_state(cls, spec: ColumnSpec, state: dict[str, Any]) -> ModeEncoder:
        return cls(spec, **state)


class DerivedEncoder:
    """A numeric column looked up from a discrete one: no span; ``values[i]`` goes with category i.

    Example:
        >>> spec = ColumnSpec("n", "integer", "int64", minimum=1, maximum=2)
        >>> encoder = DerivedEncoder(spec, "level", [1.0, 2.0])
        >>> encoder.derive(pd.Series(["b", "a"]), ("a", "b")).tolist()
        [2, 1]
    """

    spans: ClassVar[list[tuple[int, str]]] = []

    def __init__(self, spec: ColumnSpec, source: str, values: list[float]) -> None:
        self.spec = spec
        self.source = source
        self.values = np.asarray(values, dtype=np.float64)

    @classmethod
    def detect(
        cls, df: pd.DataFrame, spec: ColumnSpec, sources: list[ColumnSpec]
    ) -> DerivedEncoder | None:
        """The encoder if a discrete column of ``sources`` fixes numeric ``spec``, else None."""
        if spec.kind not in ("integer", "continuous") or spec.has_null:
            return None
        if df[spec.name].nunique() < 2:  # a constant is "fixed" by anything; a point mass is cheap
            return None
        for source in sources:
            if source.has_null or len(source.categories) < 2:
                continue
            groups = df.groupby(df[source.name], observed=True, sort=False)[spec.name]
            counts = groups.size().reindex(list(source.categories), fill_value=0)
            if counts.min() >= _MIN_SUPPORT and groups.nunique().max() == 1:
                first = groups.first()
                return cls(spec, source.name, [float(first[c]) for c in source.categories])
        return None

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.float32)

    def derive(self, source: pd.Series, categories: tuple[Any, ...]) -> pd.Series:
        """This column's values for the decoded ``source`` column with these ``categories``."""
        codes = pd.Categorical(source, categories=list(categories)).codes
        return restore_dtype(pd.Series(self.values[codes], name=self.spec.name), self.spec)

    def state(self) -> dict[str, Any]:
        return {"source": self.source, "values": self.values.tolist()}

    @classmethod
    def from_state(cls, spec: ColumnSpec, state: dict[str, Any]) -> DerivedEncoder:
        return cls(spec, **state)


Encoder = DiscreteEncoder | ModeEncoder | DerivedEncoder

ENCODERS: dict[str, type[DiscreteEncoder] | type[ModeEncoder]] = {
    "categorical": DiscreteEncoder,
    "boolean": DiscreteEncoder,
    "continuous": ModeEncoder,
    "integer": ModeEncoder,
    "datetime": ModeEncoder,
}


class TableTransformer:
    """Encodes rows as vectors for G and D and decodes G's vectors back into a DataFrame.

    ``spans`` describe the encoded row left to right; ``column_spans[i]`` are column ``i``'s.
    The *condition* is a one-hot over every conditioned span's slots, concatenated (``cond_dim``
    wide): ``cond_positions[j]`` is the place in the encoded row of slot ``j``. The conditioned
    spans are the discrete columns' and, with ``condition_modes``, the mode spans of numeric
    columns with several modes: training-by-sampling then also lifts a column's rare modes
    (capital-gain's 99,999 $), which G otherwise drops for the dominant one. Users condition on
    discrete columns only.
    """

    kind: ClassVar[str] = "gankit.TableTransformer"

    def __init__(
        self,
        encoders: list[Encoder],
        seed: int = 0,
        slot_counts: list[int] | None = None,
        condition_modes: bool = False,
        target: str = "",
        target_counts: list[list[int]] | None = None,
        span_counts: list[list[list[int]]] | None = None,
    ) -> None:
        self.encoders = encoders
        self.seed = seed
        self.condition_modes = condition_modes
        self.target = target
        self.spans: list[Span] = []
        self.column_spans: list[list[Span]] = []
        start = 0
        for encoder in encoders:
            own = []
            for size, activation in encoder.spans:
                own.append(Span(start, size, activation))
                start += size
            self.column_spans.append(own)
            self.spans += own
        self.output_dim = start
        self.discrete = [i for i, enc in enumerate(encoders) if enc.spec.discrete]
        # (column, span) conditioned on: a discrete column's one span; a numeric one's mode span.
        self.conditioned: list[tuple[int, Span]] = []
        for i, (encoder, spans) in enumerate(zip(encoders, self.column_spans, strict=True)):
            if encoder.spec.discrete:
                self.conditioned.append((i, spans[0]))
            elif condition_modes and len(spans) > 1 and spans[1].size > 1:
                self.conditioned.append((i, spans[1]))
        self.cond_positions = [
            pos for _, span in self.conditioned for pos in range(span.start, span.stop)
        ]
        self.cond_dim = len(self.cond_positions)
        # How often each condition slot occurs in the fitted data: sampling draws conditions with
        # these frequencies, so they are part of the fitted state.
        self.slot_counts = list(slot_counts or [1] * self.cond_dim)
        # With a target, how often each condition slot occurs with each target value.
        self.target_counts = target_counts
        # How often each slot of each softmax span occurs with each target value (one column of
        # counts without a target), for calibrated sampling (:mod:`.calibration`). None: a
        # transformer.json from before it; such a model samples uncalibrated.
        self.span_counts = span_counts
        if span_counts is not None:
            self._check_span_counts(span_counts)

    def _check_span_counts(self, span_counts: Any) -> None:
        expected = [(span.size, self._target_size) for span in self.softmax_spans]
        try:  # a damaged file can hold anything here: ragged lists, strings, a number
            tables = [np.asarray(c, dtype=np.float64) for c in span_counts]
        except (TypeError, ValueError):
            tables = None
        if (
            tables is None
            or [t.shape for t in tables] != expected
            or not all((t >= 0).all() for t in tables)
        ):
            raise GankitError(
                f"span counts in transformer.json are not non-negative counts of the shapes "
                f"{expected} (a slot per row, a target value per column, for each one-hot span); "
                "is transformer.json damaged? Fit the model again"
            )

    @property
    def softmax_spans(self) -> list[Span]:
        """The one-hot spans of the encoded row, left to right."""
        return [span for span in self.spans if span.activation == "softmax"]

    @property
    def target_span(self) -> Span | None:
        """Where the target's one-hot sits in the encoded row (None without a target)."""
        return self.conditioned[self.target_column][1] if self.target else None

    @property
    def _target_size(self) -> int:
        return self.target_span.size if self.target else 1

    def span_codes(self, encoded: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Each row's slot in every softmax span, and its target slot (all 0 without a target)."""
        codes = [encoded[:, span.start : span.stop].argmax(axis=1) for span in self.softmax_spans]
        span = self.target_span
        if span is None:
            return codes, np.zeros(len(encoded), dtype=np.int64)
        return codes, encoded[:, span.start : span.stop].argmax(axis=1)

    def class_shares(self, value: int) -> list[np.ndarray] | None:
        """Each softmax span's slot shares among the fitted rows whose target slot is ``value``
        (all rows without a target; None when transformer.json has no :attr:`span_counts`)."""
        if self.span_counts is None:
            return None
        columns = [np.asarray(c, dtype=np.float64)[:, value] for c in self.span_counts]
        return [c / max(c.sum(), 1.0) for c in columns]

    @property
    def target_column(self) -> int | None:
        """Index among the conditioned columns of the target (None without one)."""
        if not self.target:
            return None
        conditioned = [self.columns[i].name for i, _ in self.conditioned]
        if self.target not in conditioned:  # fit checks the target: only a damaged file gets here
            raise GankitError(
                f"target {self.target!r} is not a discrete column of this table transformer "
                f"({conditioned}); is the model's transformer.json damaged? Fit the model again"
            )
        return conditioned.index(self.target)

    def condition_sampler(self) -> ConditionSampler:
        """Draws conditions with the fitted frequencies (see :mod:`.sampler`)."""
        sizes = [span.size for _, span in self.conditioned]
        return ConditionSampler(self.slot_counts, sizes, self.target_column, self.target_counts)

    def slots(self, encoded: np.ndarray) -> np.ndarray:
        """Condition slot of each conditioned span of ``encoded`` rows, ``(rows, spans)``."""
        offsets = np.cumsum([0] + [span.size for _, span in self.conditioned])
        codes = [
            encoded[:, span.start : span.stop].argmax(axis=1) + offset
            for (_, span), offset in zip(self.conditioned, offsets, strict=False)
        ]
        return np.stack(codes, 1) if codes else np.zeros((len(encoded), 0), np.int64)

    @property
    def columns(self) -> list[ColumnSpec]:
        return [enc.spec for enc in self.encoders]

    @classmethod
    def fit(
        cls,
        df: pd.DataFrame,
        discrete_columns: list[str] | None = None,
        metadata: dict[str, str] | None = None,
        seed: int = 0,
        condition_modes: bool = False,
        target: str = "",
    ) -> TableTransformer:
        """Detect the columns of ``df`` and fit one encoder each (seeded: same data, same fit).

        A numeric column fixed by a discrete one gets a :class:`DerivedEncoder` (no span).
        ``target`` names a discrete column to hold in every condition (see
        :class:`~gankit.data.tabular.ConditionSampler`).
        """
        specs = infer_columns(df, discrete_columns, metadata)
        _check_target(target, specs)
        rng = np.random.default_rng(seed)
        sources = [s for s in specs if s.discrete]
        encoders: list[Encoder] = []
        for spec in specs:
            derived = DerivedEncoder.detect(df, spec, sources)
            encoders.append(derived or ENCODERS[spec.kind].fit(df[spec.name], spec, rng))
        fitted = cls(encoders, seed, condition_modes=condition_modes, target=target)
        encoded = fitted.transform(df)
        slots = fitted.slots(encoded)
        fitted.slot_counts = np.bincount(slots.reshape(-1), minlength=fitted.cond_dim).tolist()
        codes, targets = fitted.span_codes(encoded)  # targets: each row's target slot
        size = fitted._target_size
        if target:
            pairs = np.zeros((fitted.cond_dim, size), np.int64)
            for j in range(slots.shape[1]):
                np.add.at(pairs, (slots[:, j], targets), 1)
            fitted.target_counts = pairs.tolist()
        fitted.span_counts = [
            np.bincount(code * size + targets, minlength=span.size * size)
            .reshape(span.size, size)
            .tolist()
            for code, span in zip(codes, fitted.softmax_spans, strict=True)
        ]
        return fitted

    def _check_frame(self, df: pd.DataFrame) -> None:
        names = [spec.name for spec in self.columns]
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise GankitError(f"the table lacks column(s) {missing} that the model was fitted on")

    def transform(self, df: pd.DataFrame, seed: int | None = None) -> np.ndarray:
        """Encode ``df`` as a float32 matrix ``(rows, output_dim)``."""
        self._check_frame(df)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return np.concatenate(
            [enc.transform(df[enc.spec.name], rng) for enc in self.encoders], axis=1
        )

    def inverse_transform(self, matrix: np.ndarray) -> pd.DataFrame:
        """Decode encoded rows (one-hot or probabilities: the largest slot wins) into a table."""
        if matrix.shape[1] != self.output_dim:
            raise GankitError(f"expected {self.output_dim} encoded features, got {matrix.shape[1]}")
        decoded, specs = {}, {spec.name: spec for spec in self.columns}
        for enc, spans in zip(self.encoders, self.column_spans, strict=True):
            if not isinstance(enc, DerivedEncoder):
                decoded[enc.spec.name] = enc.inverse(matrix[:, spans[0].start : spans[-1].stop])
        for enc in self.encoders:
            if isinstance(enc, DerivedEncoder):
                source = decoded[enc.source]
                decoded[enc.spec.name] = enc.derive(source, specs[enc.source].categories)
        return pd.DataFrame({spec.name: decoded[spec.name] for spec in self.columns})

    def condition_slot(self, column: str, value: Any) -> int:
        """Index in the condition vector of ``column == value``; clear errors otherwise."""
        names = [spec.name for spec in self.columns]
        if column not in names:
            raise GankitError(f"condition on unknown column {column!r}; columns: {names}")
        index = names.index(column)
        spec = self.columns[index]
        if not spec.discrete:
            raise GankitError(
                f"condition on column {column!r} ({spec.kind}): only discrete columns can be "
                f"conditioned on; discrete columns: {[names[i] for i in self.discrete]}"
            )
        codes = self.encoders[index].codes(pd.Series([value], dtype=object))
        columns = [i for i, _ in self.conditioned]
        offset = sum(span.size for _, span in self.conditioned[: columns.index(index)])
        return offset + int(codes[0])

    def parse_conditions(self, items: list[str]) -> dict[str, Any]:
        """``["sex=Female", "children=2"]`` (command-line text) as values of the columns' types."""
        conditions: dict[str, Any] = {}
        specs = {spec.name: spec for spec in self.columns}
        for item in items:
            column, sep, text = item.partition("=")
            if not sep or column not in specs:
                raise GankitError(
                    f"--condition expects COLUMN=VALUE with a column of {list(specs)}, got {item!r}"
                )
            if not specs[column].discrete:
                self.condition_slot(column, text)  # the error naming the discrete columns
            matches = [c for c in specs[column].categories if str(c) == text]
            if not matches:
                raise GankitError(
                    f"column {column!r} has no value {text!r}; known values: "
                    f"{[str(c) for c in specs[column].categories][:10]}"
                )
            conditions[column] = matches[0]
        return conditions

    # --------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        """Plain data for ``transformer.json``: column specs and each encoder's fitted state."""
        return {
            "kind": self.kind,
            "version": TRANSFORMER_VERSION,
            "seed": self.seed,
            "slot_counts": self.slot_counts,
            "condition_modes": self.condition_modes,
            "target": self.target,
            "target_counts": self.target_counts,
            "span_counts": self.span_counts,
            "columns": [
                {
                    "spec": {**asdict(enc.spec), "categories": list(enc.spec.categories)},
                    "state": enc.state(),
                    **({"derived": True} if isinstance(enc, DerivedEncoder) else {}),
                }
                for enc in self.encoders
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableTransformer:
        """Rebuild a fitted transformer from :meth:`to_json`'s output."""
        if data.get("kind") != cls.kind or data.get("version") != TRANSFORMER_VERSION:
            raise GankitError(
                f"not a gankit table transformer (kind {data.get('kind')!r}, version "
                f"{data.get('version')!r}); was it written by another gankit version?"
            )
        encoders = []
        for column in data["columns"]:
            spec = from_dict(ColumnSpec, column["spec"], "column spec")
            encoder = DerivedEncoder if column.get("derived") else ENCODERS[spec.kind]
            encoders.append(encoder.from_state(spec, column["state"]))
        transformer = cls(
            encoders,
            data["seed"],
            data["slot_counts"],
            data.get("condition_modes", False),
            data.get("target", ""),
            data.get("target_counts"),
            data.get("span_counts"),
        )
        transformer.condition_sampler()  # refuses counts that do not fit the layout, by name
        return transformer


def _check_target(target: str, specs: list[ColumnSpec]) -> None:
    """A target must be a discrete column of the table; one clear error otherwise."""
    if not target:
        return
    kinds = {spec.name: spec for spec in specs}
    if target not in kinds:
        raise GankitError(f"model target {target!r} is not a column of the table: {list(kinds)}")
    if not kinds[target].discrete:
        raise GankitError(
            f"model target {target!r} is {kinds[target].kind}; a target must be a discrete "
            f"column, one of {[name for name, spec in kinds.items() if spec.discrete]}"
        )
