"""UCI Adult: gankit's TabularGAN vs. the ctgan package (CTGAN, TVAE) vs. real data, side by side.

Protocol (issue 6): every model is fitted once on ``adult.data`` (32,561 rows) and timed; for each
of ``--seeds`` it samples 32,561 rows, a ``HistGradientBoostingClassifier(random_state=0)`` is
trained on them to predict ``income`` and tested on ``adult.test`` (TSTR: accuracy, F1 of ``>50K``,
ROC AUC); the sdmetrics quality score compares 5,000 synthetic rows with 5,000 real ones; DCR
compares synthetic rows' distance to the closest training row with the test rows'. Numbers are
averaged over the seeds. The ``real`` row trains on ``adult.data`` itself (TRTR).

All models run in one process with the same torch thread count (``--threads``), so fit times
compare. Needs ``pip install 'gankit[bench]'`` (ctgan, sdmetrics).

    python bench/adult_vs_ctgan.py                      # full run, appends to docs/BENCHMARKS.md
    python bench/adult_vs_ctgan.py --models gankit --no-record --set steps=3000   # tuning
    python bench/adult_vs_ctgan.py --variant model.frequency_weight=1   # one more gankit row
    python bench/adult_vs_ctgan.py --other-sampling   # each gankit fit also sampled the other way
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import append_section  # noqa: E402

from gankit import TabularGAN  # noqa: E402
from gankit.data import default_data_root  # noqa: E402
from gankit.data.tabular import infer_columns  # noqa: E402
from gankit.metrics.tabular import dcr, quality, tstr  # noqa: E402

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
    "native-country", "income",
]  # fmt: skip
DISCRETE = [
    "workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
    "native-country", "income",
]  # fmt: skip
TARGET, POSITIVE = "income", ">50K"


def load_adult(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = root / "adult"
    if not (folder / "adult.data").is_file():
        sys.exit(
            f"adult.data not found under {folder}; set GANKIT_DATA to the folder holding adult/"
        )
    read = {"header": None, "names": COLUMNS, "skipinitialspace": True}
    train = pd.read_csv(folder / "adult.data", **read)
    test = pd.read_csv(folder / "adult.test", skiprows=1, **read)
    test[TARGET] = test[TARGET].str.rstrip(".")  # the test file writes "<=50K." / ">50K."
    return train, test


def parse_set(items: list[str]) -> tuple[dict, dict]:
    train, model = {}, {}
    for item in items:
        key, _, raw = item.partition("=")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        (model if key.startswith("model.") else train)[key.removeprefix("model.")] = value
    return train, model


def fit_gankit(extra: list[str]):
    def fit(train: pd.DataFrame, args: argparse.Namespace):
        options, model = parse_set([*args.set, *extra])
        gan = TabularGAN(args.preset, model=model, **options)
        gan.fit(train, quiet=True)
        return lambda n, seed, **options: gan.generate(n, seed=seed, **options)

    return fit


def fit_ctgan_family(name: str, epochs: int):
    def fit(train: pd.DataFrame, args: argparse.Namespace):
        import ctgan

        model = getattr(ctgan, name)(epochs=epochs)
        model.set_random_state(0)
        model.fit(train, DISCRETE)

        def sample(n: int, seed: int) -> pd.DataFrame:
            model.set_random_state(seed)
            return model.sample(n)

        return sample

    return fit


def evaluate(name, sample, train, test, specs, seeds, quality_rows) -> dict[str, float]:
    rows = []
    for seed in seeds:
        synthetic = sample(len(train), seed)
        scores = tstr(synthetic, test, TARGET, POSITIVE, seed=0)
        real_part = train.sample(quality_rows, random_state=seed)
        scores.update(quality(real_part, synthetic.iloc[:quality_rows], specs))
        scores.update(dcr(train, synthetic, specs, holdout=test, seed=seed))
        rows.append(scores)
        print(f"  {name} seed {seed}: {json.dumps(scores)}", flush=True)
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float)]
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gankit,ctgan,tvae", help="comma-separated")
    parser.add_argument("--seeds", default="0,1,2", help="sampling seeds averaged over")
    parser.add_argument("--ctgan-epochs", type=int, default=300)
    parser.add_argument("--tvae-epochs", type=int, default=300)
    parser.add_argument("--preset", default="default", help="gankit preset")
    parser.add_argument("--set", action="append", default=[], help="gankit KEY=VALUE override")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="one more gankit row: comma-separated KEY=VALUE overrides on top of --set "
        "(fitted after --models; repeat for more rows)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every model")
    parser.add_argument(
        "--other-sampling",
        action="store_true",
        help="one more row per gankit model: the same fit sampled with calibration flipped "
        "(off with a named target, on without one)",
    )
    parser.add_argument("--quality-rows", type=int, default=5000)
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument(
        "--title", default="Tabular: UCI Adult, gankit vs ctgan", help="BENCHMARKS.md section title"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    torch.set_num_threads(args.threads)
    train, test = load_adult(default_data_root())
    specs = infer_columns(train)
    seeds = [int(s) for s in args.seeds.split(",")]
    fitters = {
        "gankit": fit_gankit([]),
        **{f"gankit+{v}": fit_gankit(v.split(",")) for v in args.variant},
        "ctgan": fit_ctgan_family("CTGAN", args.ctgan_epochs),
        "tvae": fit_ctgan_family("TVAE", args.tvae_epochs),
    }
    label = {
        "gankit": f"gankit TabularGAN `{args.preset}`"
        + (f" ({', '.join(args.set)})" if args.set else ""),
        "ctgan": f"ctgan CTGAN ({args.ctgan_epochs} epochs)",
        "tvae": f"ctgan TVAE ({args.tvae_epochs} epochs)",
        **{f"gankit+{v}": f"gankit TabularGAN `{args.preset}` + {v}" for v in args.variant},
    }
    results: dict[str, dict] = {}
    real = evaluate("real", lambda n, seed: train, train, test, specs, seeds[:1], args.quality_rows)
    results["real (TRTR)"] = {**real, "fit_s": 0.0}
    for name in [*args.models.split(","), *(f"gankit+{v}" for v in args.variant)]:
        t0 = time.perf_counter()
        sample = fitters[name](train, args)
        fit_s = time.perf_counter() - t0
        print(f"{name}: fitted in {fit_s:.0f} s", flush=True)
        results[name] = {**evaluate(name, sample, train, test, specs, seeds, args.quality_rows)}
        results[name]["fit_s"] = fit_s
        if args.other_sampling and name.startswith("gankit"):
            flipped = "model.target" not in ",".join([*args.set, name])
            other = f"{name} calibrate={flipped}"
            draw = lambda n, seed, s=sample, c=flipped: s(n, seed, calibrate=c)  # noqa: E731
            results[other] = {**evaluate(other, draw, train, test, specs, seeds, args.quality_rows)}
            results[other]["fit_s"] = fit_s
            label[other] = f"{label[name]}, the same fit sampled with `calibrate={flipped}`"

    lines = [
        "| model | fit time (s) | accuracy | F1 (>50K) | ROC AUC | quality | shapes | pair trends "
        "| DCR synth / holdout | exact copies |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {label.get(name, name)} | {r['fit_s']:.0f} | {r['accuracy']:.3f} | {r['f1']:.3f} "
            f"| {r['auc']:.3f} | {r['quality']:.3f} | {r['column_shapes']:.3f} "
            f"| {r['column_pair_trends']:.3f} | {r['privacy_ratio']:.2f} "
            f"| {r['exact_copies']:.3f} |"
        )
    body = "\n".join(lines) + (
        "\n\nTSTR: HistGradientBoostingClassifier(random_state=0) fitted on 32,561 synthetic rows, "
        "tested on adult.test (16,281 rows); one fit per model, averaged over sampling seeds "
        f"{seeds} (the real row: one run). Quality: sdmetrics QualityReport on "
        f"{args.quality_rows:,} rows. DCR: median distance to the closest adult.data row "
        "(one-hot categories, min-max numbers) of 2,000 synthetic rows over that of 2,000 "
        f"adult.test rows. torch threads: {args.threads} for every model."
    )
    if "gankit" in results and "ctgan" in results:
        ratio = results["gankit"]["fit_s"] / results["ctgan"]["fit_s"]
        body += f" gankit's fit time is {ratio:.2f} of CTGAN's in this run."
    # The machine is shared: its 1-minute load average says how contended the timings were.
    body += f" Load average (1 min) at start {load_start:.1f}, at end {os.getloadavg()[0]:.1f}."
    print(body, flush=True)
    if not args.no_record:
        append_section(args.title, body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
