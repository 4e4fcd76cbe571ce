"""Differentially private tables on UCI Adult: utility (TSTR) and leakage (membership inference).

Protocol (issue 29, bench/protocol.py): ``adult.data`` is split once (seed 0) into a training
part (80 %, 26,049 rows) and a validation part (20 %, 6,512 rows) that no model sees. Each
contender is fitted on the training part, alone in a child process with one thread, and draws
10,000 rows, which are scored:

- **TSTR** on ``adult.test`` (read only by a recorded run; ``--tune`` scores on the validation part
  instead): a gradient-boosting classifier trained on the synthetic rows predicts ``income``;
  ROC AUC. The real-data ceiling trains on the training part itself.
- **privacy report** (:mod:`gankit.metrics.privacy`) against the validation part: DCR, NNDR and a
  DOMIAS-style membership-inference attack on 1,000 members and 1,000 non-members, its AUC overall
  and on the 200 outlier targets.

Contenders: gankit under ``privacy=`` at epsilon 1 and 3 (delta 1e-6, the "dp" preset, numeric
bounds from the code book, see ``BOUNDS``), and two non-private positive controls for the attack:
gankit's ``default`` preset and CTGAN (the ``ctgan`` package), both with short budgets.
smartnoise-synth's DP-CTGAN is not run: smartnoise-synth 1.0.8 (the newest) requires
``opacus>=0.14,<0.15``, which conflicts with the pinned ``opacus==1.6.0`` (and its torch).

    python bench/privacy_adult.py                   # record (committed tree), appends a section
    python bench/privacy_adult.py --tune --no-record --contenders dp3 --seeds 0 --steps 300
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402
from adult_vs_ctgan import DISCRETE, POSITIVE, TARGET, load_adult  # noqa: E402

# Public facts about Adult's numeric columns, not read from the data: the extraction kept ages
# over 16 and positive hours (adult.names), the census top-codes age at 90, hours at 99 and
# capital gains at 99,999; education-num numbers the 16 education levels; fnlwgt and
# capital-loss get round upper bounds.
BOUNDS = {
    "age": [17, 90],
    "fnlwgt": [0, 1_500_000],
    "education-num": [1, 16],
    "capital-gain": [0, 99_999],
    "capital-loss": [0, 5_000],
    "hours-per-week": [1, 99],
}
DELTA = 1e-6
SAMPLE_ROWS = 10_000


def split(root: Path):
    import pandas as pd  # noqa: F401  (load_adult returns DataFrames)

    data, test = load_adult(root)
    validation = data.sample(frac=0.2, random_state=0)
    return data.drop(validation.index), validation, test


def worker(args: argparse.Namespace) -> None:
    import torch

    from gankit import TabularGAN
    from gankit.data import default_data_root
    from gankit.metrics.privacy import privacy_report
    from gankit.metrics.tabular import tstr

    torch.set_num_threads(1)
    train, validation, test = split(default_data_root())
    started = time.process_time()
    result: dict = {}
    if args.worker == "real":
        synthetic = train.sample(SAMPLE_ROWS, random_state=args.seed)
        steps = images = 0
    elif args.worker == "ctgan":
        import ctgan

        model = ctgan.CTGAN(epochs=args.ctgan_epochs)
        model.set_random_state(args.seed)
        model.fit(train, DISCRETE)
        synthetic = model.sample(SAMPLE_ROWS)
        steps = args.ctgan_epochs * (len(train) // 500)
        images = steps * 500
    else:
        if args.worker == "gankit":
            gan = TabularGAN("default", steps=args.control_steps, seed=args.seed)
        else:
            privacy = {"epsilon": args.epsilon, "delta": DELTA, "bounds": BOUNDS}
            gan = TabularGAN(privacy=privacy, steps=args.steps, seed=args.seed)
        gan.fit(train, quiet=True)
        synthetic = gan.generate(SAMPLE_ROWS, seed=args.seed)
        config = gan.train_config
        steps = config.steps
        images = steps * config.batch_size * config.n_critic
        budget = gan.data_info.get("privacy")
        if budget is not None:
            result.update(
                epsilon_spent=round(
                    budget["preprocess_epsilon"] + budget["dp_sgd"]["epsilon_spent"], 4
                ),
                preprocess_epsilon=budget["preprocess_epsilon"],
                noise_multiplier=budget["dp_sgd"]["noise_multiplier"],
            )
    fit_cpu = time.process_time() - started
    scored_on = validation if args.tune else test
    result["tstr_auc"] = round(tstr(synthetic, scored_on, TARGET, POSITIVE, seed=0)["auc"], 4)
    report = privacy_report(train, validation, synthetic, n=1000, outliers=200, seed=args.seed)
    result.update({k: v for k, v in report.items() if isinstance(v, int | float)})
    result.update(fit_cpu_s=round(fit_cpu, 1), steps=steps, images_seen=images)
    protocol.emit(result)


CONTENDERS = {
    "dp1": ("gankit DP eps=1", ["--worker", "dp", "--epsilon", "1"]),
    "dp3": ("gankit DP eps=3", ["--worker", "dp", "--epsilon", "3"]),
    "gankit": ("gankit non-private (control)", ["--worker", "gankit"]),
    "ctgan": ("CTGAN non-private (control)", ["--worker", "ctgan"]),
    "real": ("real training rows (ceiling)", ["--worker", "real"]),
}
HEADLINE = ("dp1", "dp3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    protocol.add_arguments(parser)
    parser.add_argument(
        "--worker", choices=("dp", "gankit", "ctgan", "real"), help=argparse.SUPPRESS
    )
    parser.add_argument("--epsilon", type=float, default=3.0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--contenders", default="dp3,dp1,gankit,ctgan,real")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the DP contenders")
    parser.add_argument("--control-seeds", default="0", help="seeds of the controls")
    parser.add_argument("--steps", type=int, default=300, help="DP steps (batch 500)")
    parser.add_argument("--control-steps", type=int, default=300, help="gankit control steps")
    parser.add_argument("--ctgan-epochs", type=int, default=5)
    parser.add_argument("--tune", action="store_true", help="TSTR on the validation part")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.tune and not args.no_record:
        sys.exit("--tune scores on the validation part: run it with --no-record")
    chosen = [c.strip() for c in args.contenders.split(",") if c.strip()]
    names = ", ".join(CONTENDERS[key][0] for key in chosen)
    title = f"Private tables on Adult: {names} ({args.steps} DP steps, DP seeds {args.seeds})"
    rec = protocol.Recording(title, args)
    me = [sys.executable, str(Path(__file__).resolve())]
    shared = [
        *("--steps", str(args.steps), "--control-steps", str(args.control_steps)),
        *("--ctgan-epochs", str(args.ctgan_epochs), *(["--tune"] if args.tune else [])),
    ]
    results: dict[str, list[dict]] = {}
    for key in chosen:
        name, argv = CONTENDERS[key]
        seeds = [int(s) for s in (args.seeds if key in HEADLINE else args.control_seeds).split(",")]
        results.setdefault(key, []).extend(
            rec.run_seeds(name, [*me, *argv, *shared], seeds, threads=1)
        )
    rec.write(body(results, args))


def body(results: dict[str, list[dict]], args: argparse.Namespace) -> str:
    columns = [
        ("TSTR AUC", "tstr_auc"),
        ("MIA AUC", "mia_auc"),
        ("MIA AUC, 200 outliers", "mia_auc_outliers"),
        ("DCR ratio", "privacy_ratio"),
        ("NNDR synth / holdout", None),
        ("epsilon spent", "epsilon_spent"),
        ("fit CPU s", "fit_cpu_s"),
    ]
    lines = [
        f"Split: adult.data -> 26,049 training / 6,512 validation rows (seed 0); TSTR on "
        f"{'the validation part (tuning)' if args.tune else 'adult.test (16,281 rows)'}; "
        "privacy report against the validation part (1,000 member and 1,000 non-member targets, "
        "5,512 reference rows). DP: delta 1e-6, preset dp, batch 500, bounds from the code book. "
        "smartnoise-synth's DP-CTGAN: not run (smartnoise-synth 1.0.8 requires opacus<0.15; gankit "
        "pins opacus 1.6.0).",
        "",
        "| contender | " + " | ".join(c for c, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for key, rows in results.items():
        cells = []
        for _, field in columns:
            if field is None:
                synth = [r["nndr_synthetic_median"] for r in rows]
                hold = [r["nndr_holdout_median"] for r in rows]
                cells.append(f"{sum(synth) / len(synth):.3f} / {sum(hold) / len(hold):.3f}")
            elif field in rows[0]:
                cells.append(protocol.mean_std([r[field] for r in rows], digits=3))
            else:
                cells.append("–")
        lines.append(f"| {CONTENDERS[key][0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
