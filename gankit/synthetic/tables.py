"""Imbalanced tables: oversample the rare classes of a target column with a conditional TabularGAN.

The GAN is fitted on the whole table with the target named (``model.target``: G and D play
class by class), then asked for rows of each rare class (``condition={target: value}``, exact by
construction). The new rows come from :meth:`TabularGAN.generate`, so they keep the table's
columns, dtypes, categories, null pattern and value ranges; :func:`augment_table` checks that
again before it returns them.

Example:
    >>> from gankit.data.tabular import demo_table
    >>> df = demo_table(200)
    >>> df["label"] = (df["age"] > 60).map({True: "old", False: "young"})
    >>> result = augment_table(df, "label", steps=2, batch_size=20, quiet=True)
    >>> result.data["label"].value_counts().to_dict()  # 54 new "old" rows: balanced
    {'young': 127, 'old': 127}
    >>> result.synthetic_count, result.data.dtypes.equals(df.dtypes)
    (54, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import torch

from gankit.data.tabular import read_csv
from gankit.errors import GankitError
from gankit.synthetic.common import Augmented
from gankit.tasks import TabularGAN


def read_table(data: Any) -> pd.DataFrame:
    """A DataFrame from a DataFrame or a CSV path; anything else names what to pass."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str | Path):
        return read_csv(data)
    raise GankitError(f"the table must be a pandas DataFrame or a CSV path, not {type(data)}")


def class_counts(frame: pd.DataFrame, target: str) -> pd.Series:
    """Rows per class of ``target``, refusing a missing column, nulls and a single class."""
    if target not in frame.columns:
        raise GankitError(
            f"target column {target!r} is not in the table; its columns are "
            f"{', '.join(map(str, frame.columns))}"
        )
    if frame[target].isna().any():
        raise GankitError(
            f"target column {target!r} has {int(frame[target].isna().sum())} empty cells; drop "
            "or fill those rows first (a row needs a class to be oversampled)"
        )
    counts = frame[target].value_counts()
    if len(counts) < 2:
        raise GankitError(
            f"target column {target!r} holds one class only ({counts.index[0]!r}); there is no "
            "minority class to oversample"
        )
    return counts


def rows_needed(counts: pd.Series, ratio: float) -> dict[Any, int]:
    """New rows per class so that each has at least ``ratio`` times the largest class's rows.

    Example:
        >>> rows_needed(pd.Series({"a": 100, "b": 10, "c": 60}), 0.5)
        {'b': 40}
    """
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        raise GankitError(
            f"ratio (--ratio) must be in (0, 1]: each class is filled up to that share of the "
            f"largest class, 1 for balanced classes; got {ratio!r}"
        )
    wanted = round(ratio * int(counts.max()))
    return {value: wanted - int(count) for value, count in counts.items() if count < wanted}


def fit_table_model(
    frame: pd.DataFrame,
    target: str,
    *,
    preset: str | None = None,
    steps: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    quiet: bool = True,
    discrete_columns: list[str] | None = None,
    metadata: dict[str, str] | None = None,
    model: dict[str, Any] | None = None,
    **train: Any,
) -> TabularGAN:
    """A :class:`TabularGAN` with ``target`` named, fitted on ``frame``."""
    gan = TabularGAN(preset, model={**(model or {}), "target": target}, seed=seed, **train)
    return gan.fit(
        frame,
        steps=steps,
        out=out,
        quiet=quiet,
        discrete_columns=discrete_columns,
        metadata=metadata,
    )


def draw_classes(gan: TabularGAN, target: str, needed: dict[Any, int], seed: int) -> pd.DataFrame:
    """Rows of each class in ``needed`` (class -> count), drawn with ``{target: class}``."""
    parts = [
        gan.generate(count, seed=seed + i, condition={target: value})
        for i, (value, count) in enumerate(needed.items())
    ]
    return pd.concat(parts, ignore_index=True)


def augment_table(
    data: Any,
    target: str,
    *,
    ratio: float = 1.0,
    gan: TabularGAN | None = None,
    seed: int = 0,
    **fit_options: Any,
) -> Augmented:
    """Oversample the rare classes of ``target`` with a conditional TabularGAN.

    Every class with fewer rows than ``ratio`` times the largest class's gets new rows up to
    that count (``ratio=1``: balanced). The result's ``data`` is the table's rows, then the new
    ones (a fresh index), with the input's dtypes; ``synthetic`` marks the new rows. ``gan``: a
    TabularGAN fitted on this table with ``model={"target": target}`` to draw from; otherwise
    ``fit_options`` (``preset``, ``steps``, ``out``, ``quiet``, ``discrete_columns``,
    ``metadata``, ``model``, any training option) go to :func:`fit_table_model`.
    """
    frame = read_table(data)
    needed = rows_needed(class_counts(frame, target), ratio)
    if gan is None:
        gan = fit_table_model(frame, target, seed=seed, **fit_options)
    elif fit_options:
        raise GankitError(
            f"a trained model was given, so there is nothing to fit: drop {sorted(fit_options)}"
        )
    fitted = gan.describe().get("target")
    if fitted != target:
        raise GankitError(
            f"the model was fitted with target {fitted!r}, not {target!r}; fit it with "
            f"model={{'target': {target!r}}} (or pass no gan=)"
        )
    new_rows = draw_classes(gan, target, needed, seed) if needed else frame.iloc[:0]
    _check_like(new_rows, frame)
    table = pd.concat([frame, new_rows], ignore_index=True).astype(frame.dtypes.to_dict())
    synthetic = torch.cat([torch.zeros(len(frame)), torch.ones(len(new_rows))]).bool()
    return Augmented(table, synthetic, gan, frame)


def _check_like(rows: pd.DataFrame, frame: pd.DataFrame) -> None:
    """The generated rows have the table's columns and dtypes (the contract TabularGAN keeps)."""
    if list(rows.columns) != list(frame.columns):
        raise GankitError(
            f"the model makes columns {list(rows.columns)}, the table has {list(frame.columns)}; "
            "fit the model on this table (pass no gan=)"
        )
    differing = [c for c in frame.columns if rows[c].dtype != frame[c].dtype]
    if differing:
        raise GankitError(
            f"the model's rows have other dtypes than the table in {differing}; fit the model "
            "on this table (pass no gan=)"
        )
