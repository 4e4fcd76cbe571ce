"""What each column of a table is: its kind, dtype, categories, range and null pattern.

:func:`infer_columns` looks at a ``pandas.DataFrame`` and returns one :class:`ColumnSpec` per
column. The kinds:

- ``categorical``: strings, pandas ``category``, or integers with few distinct values
  (``<= MAX_INT_CATEGORIES``); one-hot encoded, the training-by-sampling condition.
- ``boolean``: ``bool`` columns (and object columns holding only True/False); discrete too.
- ``continuous``: floats; mode-specific normalisation.
- ``integer``: integer dtypes, or floats whose values are all whole numbers (pandas reads an integer
  column with gaps as float64); like continuous, rounded on the way out.
- ``datetime``: ``datetime64`` columns, or strings that all parse with one date format.

``discrete_columns`` and ``metadata`` (``{"column": "kind"}``) override the guess.

Example:
    >>> import pandas as pd
    >>> specs = infer_columns(pd.DataFrame({"age": [31, 45, 27] * 5, "sex": ["F", "M", "F"] * 5}))
    >>> [(s.name, s.kind) for s in specs]
    [('age', 'categorical'), ('sex', 'categorical')]
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gankit.errors import GankitError

DISCRETE_KINDS = ("categorical", "boolean")
NUMERIC_KINDS = ("continuous", "integer", "datetime")
KINDS = DISCRETE_KINDS + NUMERIC_KINDS
MAX_INT_CATEGORIES = 10  # an integer column with at most this many values is a category (0/1 flags)

# Suffixes that are certainly not comma-separated text, named in the error message.
_NOT_CSV = {".parquet", ".xlsx", ".xls", ".json", ".feather", ".pkl", ".pickle", ".zip", ".npy"}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind, the pandas dtype to restore, and what its values may be.

    ``categories`` lists the observed non-null values of discrete columns (JSON types);
    ``minimum``/``maximum`` bound numeric ones (datetimes in ns since the epoch);
    ``date_format`` is set for dates stored as strings, to write them back the same way.
    """

    name: str
    kind: str
    dtype: str
    has_null: bool = False
    categories: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    date_format: str | None = None

    @property
    def discrete(self) -> bool:
        return self.kind in DISCRETE_KINDS


def _json_value(value: Any) -> Any:
    """A numpy/pandas scalar as the plain Python value JSON can hold."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _is_whole(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def _date_format(values: pd.Series) -> str | None:
    """The one strftime format all (string) ``values`` parse with, or None."""
    from pandas.tseries.api import guess_datetime_format

    first = str(values.iloc[0])
    fmt = guess_datetime_format(first)
    if fmt is None or first.strip().lstrip("-").replace(".", "", 1).isdigit():
        return None  # plain numbers are not dates
    parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    return fmt if parsed.notna().all() else None


def _check_not_mixed(name: str, values: pd.Series) -> None:
    """Refuse object columns that mix numbers and text (a data-entry problem to fix first)."""
    kinds = values.map(lambda v: "number" if isinstance(v, int | float | np.number) else "text")
    if kinds.nunique() > 1:
        number = values[kinds == "number"].iloc[0]
        text = values[kinds == "text"].iloc[0]
        raise GankitError(
            f"column {name!r} mixes numbers and text (e.g. {number!r} and {text!r}); clean it or "
            f"declare its kind with metadata={{{name!r}: 'categorical'}}"
        )
    as_numbers = pd.to_numeric(values, errors="coerce")
    parsed = as_numbers.notna().mean()
    if 0.5 <= parsed < 1.0:  # mostly numbers written as text, with a few words among them
        text = values[as_numbers.isna()].iloc[0]
        number = values[as_numbers.notna()].iloc[0]
        raise GankitError(
            f"column {name!r} mixes numbers and text (e.g. {number!r} and {text!r}); clean it or "
            f"declare its kind with metadata={{{name!r}: 'categorical'}}"
        )


def _guess_kind(name: str, series: pd.Series, values: pd.Series) -> str:
    """The kind of a column from its dtype and non-null ``values``."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = values.to_numpy(dtype=float)
        if _is_whole(numbers):
            return "categorical" if len(np.unique(numbers)) <= MAX_INT_CATEGORIES else "integer"
        return "continuous"
    if values.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return "boolean"
    _check_not_mixed(name, values)
    if values.map(lambda v: isinstance(v, str)).all() and _date_format(values) is not None:
        return "datetime"
    return "categorical"


def numeric_values(series: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """The non-null values of a numeric-kind column as float64 (datetimes: ns since epoch)."""
    values = series.dropna()
    if spec.kind == "datetime":
        stamps = pd.to_datetime(values, format=spec.date_format) if spec.date_format else values
        ns = pd.to_datetime(stamps).dt.as_unit("ns")  # one unit whatever the column's own
        return ns.astype("int64").to_numpy(dtype=np.float64)
    try:
        return pd.to_numeric(values).to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        raise GankitError(
            f"column {spec.name!r} is declared {spec.kind} but holds non-numbers "
            f"(e.g. {values.iloc[0]!r}); declare it 'categorical'"
        ) from None


def infer_column(name: str, series: pd.Series, kind: str | None = None) -> ColumnSpec:
    """The :class:`ColumnSpec` of one column; ``kind`` forces the kind instead of guessing it."""
    values = series.dropna()
    if values.empty:
        raise GankitError(
            f"column {name!r} holds only missing values; drop it before fitting (nothing to learn)"
        )
    if kind is not None and kind not in KINDS:
        raise GankitError(
            f"column {name!r}: unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}"
        )
    kind = kind or _guess_kind(name, series, values)
    base = {
        "name": name,
        "kind": kind,
        "dtype": str(series.dtype),
        "has_null": len(values) < len(series),
    }
    if kind in DISCRETE_KINDS:
        if isinstance(series.dtype, pd.CategoricalDtype):
            observed = [c for c in series.cat.categories if (values == c).any()]
        else:
            observed = pd.unique(values).tolist()
            try:
                observed = sorted(observed)
            except TypeError:  # mixed types declared categorical keep first-seen order
                pass
        return ColumnSpec(**base, categories=tuple(_json_value(v) for v in observed))
    date_format = None
    if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(series.dtype):
        date_format = _date_format(values.astype(str))
        if date_format is None:
            raise GankitError(
                f"column {name!r} is declared datetime but its values do not parse as dates "
                f"(e.g. {values.iloc[0]!r})"
            )
    spec = ColumnSpec(**base, date_format=date_format)
    numbers = numeric_values(series, spec)
    if not np.isfinite(numbers).all():
        raise GankitError(
            f"column {name!r} holds infinite values (e.g. {numbers[~np.isfinite(numbers)][0]}); "
            "replace them with a number or leave the cell empty (missing)"
        )
    if kind == "integer" and not _is_whole(numbers):
        raise GankitError(
            f"column {name!r} is declared integer but holds fractions (e.g. "
            f"{numbers[numbers != np.round(numbers)][0]}); declare it 'continuous'"
        )
    return ColumnSpec(
        **base, minimum=float(numbers.min()), maximum=float(numbers.max()), date_format=date_format
    )


def infer_columns(
    df: pd.DataFrame,
    discrete_columns: list[str] | tuple[str, ...] | None = None,
    metadata: dict[str, str] | None = None,
) -> list[ColumnSpec]:
    """One :class:`ColumnSpec` per column of ``df``; see the module docstring for the rules.

    ``discrete_columns`` are made categorical; ``metadata`` maps column names to kinds and wins
    over both the guess and ``discrete_columns``.
    """
    if not isinstance(df, pd.DataFrame):
        raise GankitError(f"tabular data must be a pandas DataFrame or a CSV path, got {type(df)}")
    if df.empty or len(df.columns) == 0:
        raise GankitError("the table is empty; pass a DataFrame with rows and columns")
    declared = {c: "categorical" for c in discrete_columns or ()}
    declared.update(metadata or {})
    unknown = sorted(set(declared) - set(map(str, df.columns)))
    if unknown:
        raise GankitError(
            f"discrete_columns/metadata name column(s) {unknown} that the table does not have; "
            f"its columns are {list(df.columns)}"
        )
    if len(set(df.columns)) != len(df.columns):
        raise GankitError("the table has duplicate column names; give every column its own name")
    return [infer_column(str(c), df[c], declared.get(str(c))) for c in df.columns]


def _check_csv_layout(path: Path) -> None:
    """Refuse what pandas would read silently wrong or fail on with a traceback.

    One pass with the ``csv`` module (the same quoting rules as pandas): the text must be UTF-8,
    have a header row with distinct names (pandas would rename a second ``a`` to ``a.1``), and
    every non-blank row as many fields as the header (pandas pads short rows with nulls). The
    ``csv`` module's field-size limit (128 KiB) refuses free-text blobs: a table cell that large
    is neither a category nor a number.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, skipinitialspace=True)
            header = next((row for row in reader if row), None)
            if header is None:
                raise GankitError(f"{path} is empty; a CSV file needs a header row and data rows")
            names = [name.strip() for name in header]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise GankitError(
                    f"{path} has duplicate column name(s) {repeated} in its header; give every "
                    "column its own name"
                )
            rows = 0
            for row in reader:
                if not any(field.strip() for field in row):
                    continue  # blank (or whitespace-only) lines are skipped, as pandas does
                rows += 1
                if len(row) != len(header):
                    raise GankitError(
                        f"{path} line {reader.line_num} has {len(row)} fields but the header has "
                        f"{len(header)} ({', '.join(names[:8])}); every row needs one value per "
                        "column (quote values that contain commas)"
                    )
            if rows == 0:
                raise GankitError(f"{path} has a header but no data rows")
    except UnicodeDecodeError as err:
        raise GankitError(
            f"{path} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); "
            "re-save it as UTF-8 CSV"
        ) from None
    except csv.Error as err:
        raise GankitError(
            f"{path} is not a readable CSV file near line {reader.line_num} ({err}); a cell that "
            "large is free text, which a table model cannot learn: drop that column"
        ) from None


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file with a header row; anything else is a clear :class:`GankitError`.

    Example:
        >>> _ = (tmp / "data.csv").write_text("city,age\\nOslo,31\\nBergen,45\\n")
        >>> read_csv(tmp / "data.csv").shape
        (2, 2)
    """
    path = Path(path)
    if path.is_dir():
        raise GankitError(f"{path} is a folder; pass the CSV file itself")
    if not path.is_file():
        raise GankitError(f"CSV file {path} not found")
    if path.suffix.lower() in _NOT_CSV:
        raise GankitError(f"{path} is not a CSV file ({path.suffix}); export it to CSV first")
    with open(path, "rb") as f:
        head = f.read(65536)
    if b"\0" in head:
        raise GankitError(
            f"{path} is not a CSV file (it holds binary data); export it to CSV first"
        )
    _check_csv_layout(path)
    try:
        # low_memory=False reads each column whole, so mixed types surface per column (named
        # by infer_columns) instead of as pandas' chunk-dependent DtypeWarning.
        df = pd.read_csv(path, skipinitialspace=True, low_memory=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        reason = " ".join(str(err).split())  # pandas' messages end in a newline
        raise GankitError(f"{path} is not a readable CSV file ({reason})") from None
    if df.shape[1] == 1 and "\t" in str(df.columns[0]):
        raise GankitError(f"{path} looks tab-separated; gankit reads comma-separated CSV")
    return df
