"""Synthetic data that helps a downstream model: ``augment_dataset`` and its two workflows.

- few labelled images: :func:`augment_images` trains a class-conditional ImageGAN on them and
  returns a balanced synthetic set or a mixed set with a chosen share of synthetic images;
- imbalanced tables: :func:`augment_table` oversamples the rare classes of a target column with
  a conditional TabularGAN, keeping the table's dtypes, categories and value ranges;
- :mod:`gankit.synthetic.report` trains the same downstream classifier with and without the
  synthetic data (and with classic augmentation) and says whether it helped.

(``gankit.augment`` is the differentiable augmentation the engine applies inside training, so the
user-facing function is ``gankit.augment_dataset``; see docs/augment.md.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gankit.errors import GankitError
from gankit.synthetic.common import Augmented
from gankit.synthetic.images import augment_images, write_image_set
from gankit.synthetic.tables import augment_table


def augment_dataset(data: Any, target: str | None = None, **options: Any) -> Augmented:
    """Augment a table (a DataFrame or ``.csv`` path, with ``target``) or labelled images.

    A table goes to :func:`augment_table` (``target`` names the class column), anything else
    to :func:`augment_images`; ``options`` are theirs.

    Example:
        >>> result = augment_dataset("digits", labels_per_class=2, resolution=16, steps=1,
        ...                          model={"g_width": 8, "d_width": 8}, batch_size=4)
        >>> result.synthetic_count, len(result.data)  # a synthetic-only set, balanced
        (20, 20)
    """
    is_table = isinstance(data, pd.DataFrame) or (
        isinstance(data, str | Path) and Path(data).suffix.lower() == ".csv"
    )
    if is_table:
        if target is None:
            raise GankitError(
                "augmenting a table needs its target column: augment_dataset(table, "
                "target='COLUMN') (CLI: --target COLUMN)"
            )
        return augment_table(data, target, **options)
    if target is not None:
        raise GankitError(
            f"target={target!r} names a table column, but {data!r} is not a table (a DataFrame "
            "or a .csv file); images take their classes from their labels"
        )
    return augment_images(data, **options)


__all__ = ["Augmented", "augment_dataset", "augment_images", "augment_table", "write_image_set"]
