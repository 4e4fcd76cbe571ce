"""UCI Adult: gankit's TabularGAN vs. the ctgan package (CTGAN, TVAE) vs. real data, side by side.

Recorded under bench/protocol.py: every (model, training seed) is one child process, measured
alone with the same thread count, so its fit time and CPU seconds are its own. For each it fits,
samples as many rows as it trained on (sampling seed = training seed), and scores them:

- TSTR: a ``HistGradientBoostingClassifier(random_state=0)`` trained on the synthetic rows to
  predict ``income``, tested on the evaluation split (accuracy, F1 of ``>50K``, ROC AUC);
- quality: sdmetrics' QualityReport on 5,000 synthetic vs 5,000 real training rows;
- DCR: synthetic rows' distance to the closest training row over the evaluation rows'.

Two splits, so that nothing is tuned on the test set:

- ``--split validation`` (for every tuning decision): fit on adult.data less a stratified 20 %
  (seed 0), evaluate on that 20 %; adult.test is not read.
- ``--split test`` (the recorded result): fit on all of adult.data (32,561 rows), evaluate once
  on adult.test (16,281 rows).

The ``real`` row trains the classifier on the training rows themselves (TRTR). gankit runs with
and without the named target; CTGAN and TVAE get no target (they have none). Needs
``pip install 'gankit[bench]'`` (ctgan, sdmetrics).

    python bench/adult_vs_ctgan.py --split test                    # the recorded run
    python bench/adult_vs_ctgan.py --split validation --models gankit+target --no-record  # tuning
    python bench/adult_vs_ctgan.py --seeds 1 --gankit-steps 20 --ctgan-epochs 1 --tvae-epochs 1 \
        --no-record                                                               # a quick look
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402

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
VALIDATION_SHARE = 0.2
MODELS = {
    "real": "real rows (TRTR)",
    "gankit": "gankit TabularGAN `default`, no target",
    "gankit+target": "gankit TabularGAN `default` + model.target=income",
    "ctgan": "ctgan CTGAN",
    "tvae": "ctgan TVAE",
}


def read_adult(path: Path, **options) -> pd.DataFrame:
    if not path.is_file():
        sys.exit(f"{path} not found; set GANKIT_DATA to the folder holding adult/")
    frame = pd.read_csv(path, header=None, names=COLUMNS, skipinitialspace=True, **options)
    frame[TARGET] = frame[TARGET].str.rstrip(".")  # the test file writes "<=50K." / ">50K."
    return frame


def load_adult(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(adult.data, adult.test) under ``root / "adult"``; callers carve their own validation."""
    folder = root / "adult"
    return read_adult(folder / "adult.data"), read_adult(folder / "adult.test", skiprows=1)


def load_split(split: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, evaluation rows) of ``split``; only ``test`` reads adult.test."""
    from sklearn.model_selection import train_test_split

    if split == "test":
        return load_adult(default_data_root())
    data = read_adult(default_data_root() / "adult" / "adult.data")
    train, validation = train_test_split(
        data, test_size=VALIDATION_SHARE, stratify=data[TARGET], random_state=0
    )
    return train.reset_index(drop=True), validation.reset_index(drop=True)


def fit_and_score(args: argparse.Namespace) -> dict:
    """One (model, seed) in this child process: fit, sample, score."""
    torch.set_num_threads(args.threads)
    train, evaluation = load_split(args.split)
    specs = infer_columns(train)
    name, seed = args.contender, args.seed
    started = time.perf_counter()
    steps = None
    if name == "real":
        synthetic = train
    elif name.startswith("gankit"):
        model = {"target": TARGET} if name == "gankit+target" else {}
        options = {} if args.gankit_steps is None else {"steps": args.gankit_steps}
        gan = TabularGAN("default", model=model, seed=seed, **options).fit(train, quiet=True)
        fit_s = time.perf_counter() - started
        steps = gan.history["steps"]
        synthetic = gan.generate(len(train), seed=seed)
    else:
        import ctgan

        epochs = args.ctgan_epochs if name == "ctgan" else args.tvae_epochs
        fitted = getattr(ctgan, name.upper())(epochs=epochs)
        fitted.set_random_state(seed)
        fitted.fit(train, DISCRETE)
        fit_s = time.perf_counter() - started
        fitted.set_random_state(seed)
        synthetic = fitted.sample(len(train))
    scores = tstr(synthetic, evaluation, TARGET, POSITIVE, seed=0)
    real_part = train.sample(args.quality_rows, random_state=seed)
    scores.update(quality(real_part, synthetic.iloc[: args.quality_rows], specs))
    scores.update(dcr(train, synthetic, specs, holdout=evaluation, seed=seed))
    result = {k: float(v) for k, v in scores.items() if isinstance(v, int | float)}
    result["fit_s"] = 0.0 if name == "real" else fit_s
    if steps is not None:
        result |= {"steps": steps, "images_seen": steps * gan.train_config.batch_size}
    return result


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("validation", "test"), required=True)
    parser.add_argument("--models", default="real,gankit+target,gankit,ctgan,tvae")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds 0, 1, ...")
    parser.add_argument(
        "--baseline-seeds", type=int, default=None, help="CTGAN and TVAE seeds (default: --seeds)"
    )
    parser.add_argument("--gankit-steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--ctgan-epochs", type=int, default=300)
    parser.add_argument("--tvae-epochs", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every model")
    parser.add_argument("--quality-rows", type=int, default=5000)
    parser.add_argument("--contender", choices=list(MODELS), help=argparse.SUPPRESS)  # a child
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.contender:
        protocol.emit(fit_and_score(args))
        return
    names = args.models.split(",")
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    baseline_seeds = args.seeds if args.baseline_seeds is None else args.baseline_seeds
    budget = (
        f"gankit {args.gankit_steps or 'preset'} steps, CTGAN {args.ctgan_epochs} epochs, "
        f"TVAE {args.tvae_epochs} epochs"
    )
    where = "adult.test, read once" if args.split == "test" else "validation split of adult.data"
    rec = protocol.Recording(
        f"Tabular: UCI Adult, gankit (with and without target) vs CTGAN vs TVAE, evaluated on "
        f"{where} ({args.seeds} training seeds, CTGAN/TVAE {baseline_seeds}; "
        f"{budget})",
        args,
    )
    child = [sys.executable, __file__, f"--split={args.split}", f"--threads={args.threads}"]
    child += [f"--ctgan-epochs={args.ctgan_epochs}", f"--tvae-epochs={args.tvae_epochs}"]
    child += [f"--quality-rows={args.quality_rows}"]
    if args.gankit_steps is not None:
        child += [f"--gankit-steps={args.gankit_steps}"]
    results: dict[str, list[dict]] = {}
    for name in names:
        seeds = {"real": 1, "ctgan": baseline_seeds, "tvae": baseline_seeds}.get(name, args.seeds)
        for seed in range(seeds):
            m = rec.run(MODELS[name], [*child, f"--contender={name}", f"--seed={seed}"],
                        seed=seed, threads=args.threads)  # fmt: skip
            results.setdefault(name, []).append({**m.result, "cpu_s": m.cpu_seconds})

    keys = ("f1", "auc", "quality", "accuracy", "column_shapes", "column_pair_trends")
    lines = [
        "| model | seeds | fit s | fit CPU s | F1 (>50K) | ROC AUC | quality | accuracy | shapes "
        "| pair trends | DCR synth / holdout |",
        "|---|---:|---:|---:|---|---|---|---|---|---|---|",
    ]
    for name, rows in results.items():
        cells = [protocol.mean_std([r[k] for r in rows]).split(" (")[0] for k in keys]
        lines.append(
            f"| {MODELS[name]} | {len(rows)} | {_mean(rows, 'fit_s'):.0f} | "
            f"{_mean(rows, 'cpu_s'):.0f} | "
            + " | ".join(cells)
            + f" | {_mean(rows, 'privacy_ratio'):.2f} |"
        )
    evaluated = (
        "adult.test (16,281 rows), read once by this run; models fitted on all of adult.data"
        if args.split == "test"
        else f"a stratified {VALIDATION_SHARE:.0%} of adult.data (seed 0); models fitted on the "
        "rest; adult.test not read"
    )
    body = "\n".join(lines) + (
        f"\n\nTSTR: HistGradientBoostingClassifier(random_state=0) fitted on as many synthetic "
        f"rows as the model trained on, tested on {evaluated}. Each model fitted once per "
        f"training seed (sampling seed = training seed); mean ± std over seeds (the real row: "
        f"one run). Quality: sdmetrics QualityReport on {args.quality_rows:,} rows. DCR: median "
        "distance to the closest training row (one-hot categories, min-max numbers) of 2,000 "
        "synthetic rows over that of 2,000 evaluation rows. Budgets: "
        f"{budget}; torch threads {args.threads} for every model. Goals (issue 20): F1 ≥ 0.68, "
        "AUC ≥ 0.91, quality ≥ 0.90 at ≤ 1/5 of CTGAN's fit time, with and without the target."
    )
    if "gankit+target" in results and "ctgan" in results:
        ctgan_s = _mean(results["ctgan"], "cpu_s")
        ratios = ", ".join(
            f"{name} {_mean(results[name], 'cpu_s') / ctgan_s:.2f}"
            for name in ("gankit+target", "gankit")
            if name in results
        )
        body += (
            f"\n\nFit cost against CTGAN's, in CPU seconds of the child (whole child: fit, "
            f"sampling, scoring): {ratios}. Under load, wall-clock fit times (and their ratios) "
            "are not comparable to runs on a quiet machine; CPU seconds are the child's own."
        )
    rec.write(body)


if __name__ == "__main__":
    main()
