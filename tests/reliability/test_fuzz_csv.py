"""Bad CSV files and bad tabular requests: each is one clear ``gankit`` error, never a traceback.

File cases go through ``gankit train --task tabular --data FILE`` (exit 2, one ``error:`` line
naming the file or the column); model-side cases (unknown condition value, unseen category)
through the fitted model and ``gankit sample``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reliability_helpers import assert_clean_error, run_cli

from gankit import TabularGAN
from gankit.data.tabular import TableTransformer, demo_table, read_csv
from gankit.errors import GankitError

TINY = ["--steps", "2", "--set=batch_size=20", "--set=model.pack=2", "--set=model.g_hidden=[8]"]
TINY += ["--set=model.d_hidden=[8]", "--set=model.latent_dim=4", "--quiet"]


def _rows(n: int = 30) -> str:
    return "".join(f"{i},{'xy'[i % 2]}\n" for i in range(n))


def _noise(n: int) -> bytes:
    """Seeded random bytes without NUL (which the binary check would catch first)."""
    return np.random.default_rng(0).integers(1, 256, n).astype(np.uint8).tobytes()


# (file name, bytes, text the error must contain: the file name or the column name)
CSV_CASES: dict[str, tuple[str, bytes, str]] = {
    "binary PNG": ("data.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV file"),
    "parquet suffix": ("data.parquet", b"PAR1" + b"\x01" * 40, "is not a CSV file (.parquet)"),
    "random bytes": ("data.csv", _noise(4000), "UTF-8"),
    "empty file": ("data.csv", b"", "data.csv is empty"),
    "blank lines only": ("data.csv", b"\n\n\n", "data.csv is empty"),
    "header only": ("data.csv", b"a,b\n", "has a header but no data rows"),
    "row too long": ("data.csv", ("a,b\n" + _rows(5) + "3,x,9\n").encode(), "line 7 has 3 fields"),
    "row too short": ("data.csv", ("a,b,c\n1,2,3\n4,5\n" + "6,7,8\n" * 9).encode(), "line 3 has 2"),
    "mixed types": (
        "data.csv",
        ("a,b\n" + _rows(20) + "three,x\n").encode(),
        "column 'a' mixes numbers and text",
    ),
    "all-null column": ("data.csv", b"a,b\n,1\n,2\n,3\n", "column 'a' holds only missing values"),
    "infinite number": (
        "data.csv",
        ("a,b\n" + _rows(20) + "inf,x\n").encode(),
        "column 'a' holds infinite",
    ),
    "huge field": ("data.csv", b"a,b\n" + b"w" * 300_000 + b",x\n" + _rows().encode(), "line 2"),
    "latin-1 text": ("data.csv", "a,b\ncaf\xe9,1\nthé,2\n".encode("latin-1"), "not UTF-8"),
    "duplicate columns": ("data.csv", b"a,b,a\n" + b"1,x,2\n" * 30, "duplicate column name(s)"),
    "tab separated": ("data.csv", b"a\tb\n" + b"1\tx\n" * 30, "looks tab-separated"),
    "folder": ("folder.csv", None, "is a folder"),
    "missing file": ("nothere.csv", None, "not found"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CSV_CASES), ids=list(CSV_CASES))
def test_bad_csv_is_one_clear_cli_error(case, tmp_path, capsys):
    name, data, needle = CSV_CASES[case]
    path = tmp_path / name
    if case == "folder":
        path.mkdir()
    elif data is not None:
        path.write_bytes(data)
    argv = ["train", "--task", "tabular", "--data", str(path), "--out", str(tmp_path / "r"), *TINY]
    code, _, err = run_cli(argv, capsys)
    assert_clean_error(code, err, needle)
    assert name in err or "column 'a'" in err, err
    with pytest.raises(GankitError):  # the API refuses it the same way
        TabularGAN().fit(path, steps=1)


def test_a_good_csv_with_quotes_blank_lines_and_a_bom_still_reads(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_bytes(b'\xef\xbb\xbfa,b\n1,"x, quoted"\n\n2, y\n   \n')  # blank, spaces-only
    frame = read_csv(path)
    assert frame.columns.tolist() == ["a", "b"] and frame["b"].tolist() == ["x, quoted", "y"]


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tabular") / "run"
    frame = demo_table(200)[["income", "city", "member"]]
    model = {"g_hidden": [8], "d_hidden": [8], "latent_dim": 4, "pack": 2}
    gan = TabularGAN(model=model, batch_size=20).fit(frame, steps=2, quiet=True)
    gan.save(out)
    return out


SAMPLE_CASES: dict[str, tuple[list[str], str]] = {
    "unknown condition value": (["--condition", "city=Rome"], "column 'city' has no value 'Rome'"),
    "unknown condition column": (["--condition", "town=Oslo"], "--condition expects COLUMN=VALUE"),
    "condition without =": (["--condition", "city"], "--condition expects COLUMN=VALUE"),
    "condition on a number": (["--condition", "income=3"], "only discrete columns"),
    "zero rows": (["-n", "0"], "positive integer"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SAMPLE_CASES), ids=list(SAMPLE_CASES))
def test_bad_sample_request_is_one_clear_cli_error(case, fitted_run, tmp_path, capsys):
    extra, needle = SAMPLE_CASES[case]
    argv = ["sample", str(fitted_run), "-o", str(tmp_path / "o.csv"), *extra]
    code, _, err = run_cli(argv, capsys)
    assert_clean_error(code, err, needle)
    assert not (tmp_path / "o.csv").exists()


BAD_FRAMES: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "unseen category": (
        lambda f: f.assign(city=f["city"].where(f.index > 0, "Rome")),
        "column 'city' has value 'Rome', which the model never saw",
    ),
    "missing column": (lambda f: f.drop(columns=["member"]), "lacks column(s) ['member']"),
    "nulls never seen": (
        lambda f: f.assign(member=f["member"].astype(object).where(f.index > 0, None)),
        "column 'member' has missing values",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FRAMES), ids=list(BAD_FRAMES))
def test_rows_the_transformer_never_saw_are_refused_by_column(case):
    frame = demo_table(100)[["income", "city", "member"]].dropna().reset_index(drop=True)
    transformer = TableTransformer.fit(frame)
    change, needle = BAD_FRAMES[case]
    with pytest.raises(GankitError, match=re.escape(needle)):
        transformer.transform(change(frame))
