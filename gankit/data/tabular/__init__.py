"""Tables for GANs: column detection, the reversible row encoding, and training-by-sampling.

Example:
    >>> import pandas as pd
    >>> from gankit.data.tabular import TableTransformer, tabular_data
    >>> df = pd.DataFrame({"x": [0.1, 2.0, 3.5, 7.0] * 10, "c": ["a", "b", "b", "c"] * 10})
    >>> transformer = TableTransformer.fit(df)
    >>> data = tabular_data(transformer, df)
    >>> len(data), data.conditional
    (40, True)
"""

from __future__ import annotations

import pandas as pd
import torch

from gankit.data.tabular.columns import KINDS, ColumnSpec, infer_columns, read_csv
from gankit.data.tabular.demo import demo_table
from gankit.data.tabular.sampler import ConditionSampler, TabularData
from gankit.data.tabular.transformer import Span, TableTransformer


def tabular_data(transformer: TableTransformer, df: pd.DataFrame) -> TabularData:
    """``df`` encoded by ``transformer`` as training data with training-by-sampling."""
    encoded = transformer.transform(df)
    rows = torch.from_numpy(encoded)
    slots = torch.from_numpy(transformer.slots(encoded)).long()
    return TabularData(rows, slots, transformer.condition_sampler())


__all__ = [
    "KINDS",
    "ColumnSpec",
    "ConditionSampler",
    "Span",
    "TableTransformer",
    "TabularData",
    "demo_table",
    "infer_columns",
    "read_csv",
    "tabular_data",
]
