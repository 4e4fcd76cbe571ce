"""Does gankit's synthetic data help a classifier? MNIST with few labels, imbalanced Adult.

Protocol (issue 30), under bench/protocol.py (each setting and seed is one child, measured alone):

- **MNIST, 10 / 50 / 100 labelled images per class** drawn (seeded) from the first 55,000 images
  of the train split; the rest of the train split is unused, except its last 5,000 images, the
  validation set for tuning (``--split val``). gankit: ``augment_images`` trains the
  class-conditional ``default-cond`` preset with DiffAugment for ``--gan-steps`` steps on the
  labelled images and draws a mixed set with ``--fraction`` synthetic images (balanced classes).
  The same small CNN (``gankit.synthetic.report``: 300 Adam steps at batch 64) is trained on real
  only, real + classic augmentation (random shifts ≤ 2 px and rotations ≤ 15°), real + gankit,
  and real + gankit with the shifts and rotations ("both"), and scored on the 10,000 test images
  (``--split test``, the recorded run) or the validation images.
- **Adult, >50K subsampled to 5 % of the rows.** 20 % of adult.data (stratified, seed 0, the
  natural class mix) is the validation set; from the other 80 % every >50K row but a seeded
  sample is dropped so that >50K is 5 % of the rows. gankit: ``augment_table`` fits a TabularGAN
  with ``income`` as its target for ``--adult-steps`` steps and adds >50K rows until the classes
  are balanced; random oversampling and SMOTE-NC (imbalanced-learn) add as many. The same
  ``HistGradientBoostingClassifier`` is trained on each and scored on adult.test (``--split
  test``; its natural mix) or on the validation rows.

Goals: MNIST at 10 labels per class, real + gankit ≥ real + classic + 3 points of test accuracy,
and real + both the best row at every label count; Adult, minority (>50K) F1 with gankit
oversampling ≥ SMOTE's on every seed.

    python bench/augment.py                          # the recorded run (test splits)
    python bench/augment.py --only mnist --labels 10 # one section per part, run side by side
    python bench/augment.py --split val --no-record --labels 10 --seeds 0   # tuning
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402
from adult_vs_ctgan import TARGET, load_adult  # noqa: E402

from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.data.images import ImageData  # noqa: E402
from gankit.synthetic import augment_images, augment_table  # noqa: E402
from gankit.synthetic.images import subset  # noqa: E402
from gankit.synthetic.report import (  # noqa: E402
    IMAGE_ROWS,
    compare_images,
    compare_table,
    recommendation,
    score_table,
)

VALIDATION_IMAGES = 5000
MINORITY_SHARE = 0.05
POSITIVE = ">50K"


# ------------------------------------------------------------------ workers
def mnist_worker(args: argparse.Namespace) -> dict:
    train = load_mnist(default_data_root() / "mnist", "train")
    pool = ImageData(train.images[:-VALIDATION_IMAGES], train.labels[:-VALIDATION_IMAGES],
                     train.class_names, "mnist")  # fmt: skip
    if args.split == "test":
        test = load_mnist(default_data_root() / "mnist", "test")
    else:
        rows = torch.arange(len(train) - VALIDATION_IMAGES, len(train))
        test = ImageData(train.images[rows], train.labels[rows], train.class_names, "mnist-val")
    started = time.process_time()
    result = augment_images(
        pool,
        labels_per_class=args.labels[0],  # a worker gets one count
        synthetic_fraction=args.fraction,
        seed=args.seed,
        steps=args.gan_steps,
    )
    gan_cpu = time.process_time() - started
    synthetic = subset(result.data, result.synthetic)
    scores = compare_images(result.real, synthetic, test, seed=args.seed)
    config = result.model.train_config
    return {
        "scores": scores,
        "real": result.real_count,
        "synthetic": result.synthetic_count,
        "gan_cpu_s": round(gan_cpu, 1),
        "steps": config.steps,
        "images_seen": config.steps * min(config.batch_size, result.real_count),
    }


def imbalanced_adult(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(imbalanced training rows, validation rows, test rows); see the module docstring."""
    from sklearn.model_selection import train_test_split

    data, test = load_adult(default_data_root())
    rest, validation = train_test_split(data, test_size=0.2, stratify=data[TARGET], random_state=0)
    majority = rest[rest[TARGET] != POSITIVE]
    keep = round(MINORITY_SHARE * len(majority) / (1 - MINORITY_SHARE))
    minority = rest[rest[TARGET] == POSITIVE].sample(keep, random_state=seed)
    train = pd.concat([majority, minority]).sort_index().reset_index(drop=True)
    return train, validation.reset_index(drop=True), test


def adult_worker(args: argparse.Namespace) -> dict:
    train, validation, test = imbalanced_adult(args.seed)
    started = time.process_time()
    result = augment_table(train, TARGET, seed=args.seed, steps=args.adult_steps)
    gan_cpu = time.process_time() - started
    synthetic = result.data.iloc[result.real_count :]
    held_out = test if args.split == "test" else validation
    scores = compare_table(train, synthetic, held_out, TARGET, seed=args.seed)
    config = result.model.train_config
    return {
        "scores": scores,
        "real": result.real_count,
        "minority_real": int((train[TARGET] == POSITIVE).sum()),
        "synthetic": result.synthetic_count,
        "gan_cpu_s": round(gan_cpu, 1),
        "steps": config.steps,
        "images_seen": config.steps * config.batch_size,
    }


# ------------------------------------------------------------------ the recording
def _by_row(runs: list[dict]) -> dict[str, list[dict[str, float]]]:
    return {row: [run["scores"][row] for run in runs] for row in runs[0]["scores"]}


def _mean(scores: dict, row: str, metric: str) -> float:
    return statistics.fmean(run[metric] for run in scores[row])


def _run_all(rec: protocol.Recording, jobs: dict, side_by_side: bool) -> dict:
    """Each job's result: one child at a time, or all at once with ``--side-by-side``.

    Side by side, every child still gets its own CPU seconds (``os.wait4`` on its pid), but its
    wall seconds include waiting for the others; the section says so.
    """

    def run(key):
        name, argv = jobs[key]
        seed = key[-1] if isinstance(key, tuple) else key
        return key, rec.run(name, argv, seed=seed, threads=1).result

    if not side_by_side:
        return dict(map(run, jobs))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = dict(pool.map(run, jobs))
    rec.measurements.sort(key=lambda m: (m.name, m.seed))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    protocol.add_arguments(parser)
    parser.add_argument("--split", choices=("test", "val"), default="test")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--fraction", type=float, default=0.8, help="synthetic share of a set")
    parser.add_argument("--gan-steps", type=int, default=400)
    parser.add_argument("--adult-steps", type=int, default=1500)
    parser.add_argument("--only", choices=("mnist", "adult"), default=None)
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="run the children at once (each still measured by its own rusage; for a deadline)",
    )
    worker = {"choices": ("mnist", "adult"), "default": None, "help": argparse.SUPPRESS}
    parser.add_argument("--worker", **worker)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        torch.set_num_threads(1)
        worker = mnist_worker if args.worker == "mnist" else adult_worker
        protocol.emit(worker(args))
        return

    parts = []
    if args.only in (None, "mnist"):
        parts.append(f"MNIST with {'/'.join(map(str, args.labels))} labels per class")
    if args.only in (None, "adult"):
        parts.append("Adult with >50K at 5 %")
    title = f"Augmentation: {', '.join(parts)} ({args.split} split, {len(args.seeds)} seeds)"
    rec = protocol.Recording(title, args)
    common = [f"--split={args.split}", f"--fraction={args.fraction}"]
    common += [f"--gan-steps={args.gan_steps}", f"--adult-steps={args.adult_steps}"]
    me = [sys.executable, str(Path(__file__).resolve())]
    sections, verdicts = [], []

    if args.only in (None, "mnist"):
        tables = {}
        jobs = {
            (labels, seed): (
                f"MNIST {labels}/class",
                [*me, "--worker=mnist", f"--labels={labels}", f"--seed={seed}", *common],
            )
            for labels in args.labels
            for seed in args.seeds
        }
        results = _run_all(rec, jobs, args.side_by_side)
        for labels in args.labels:
            runs = [results[labels, seed] for seed in args.seeds]
            scores = tables[labels] = _by_row(runs)
            line = recommendation(
                scores,
                "accuracy",
                baselines=["real", "real + classic"],
                candidates=["real + gankit", "real + both"],
            )
            sections.append(
                f"**MNIST, {labels} labelled images per class** ({runs[0]['real']} real + "
                f"{runs[0]['synthetic']} gankit images in the mixed sets):\n\n"
                f"{score_table(scores)}\n\nRecommendation: {line}\n"
            )
        if 10 in tables:
            gap = _mean(tables[10], "real + gankit", "accuracy") - _mean(
                tables[10], "real + classic", "accuracy"
            )
            verdicts.append(
                f"- Goal 1 (10 labels/class: real + gankit ≥ real + classic + 0.03 accuracy): "
                f"{'met' if gap >= 0.03 else 'missed'}, {gap:+.3f}."
            )
        best = {
            labels: max(IMAGE_ROWS, key=lambda row: _mean(scores, row, "accuracy"))
            for labels, scores in tables.items()
        }
        met = all(row == "real + both" for row in best.values())
        verdicts.append(
            f"- Goal 2 (real + both the best row at every label count): "
            f"{'met' if met else 'missed'}; best rows: "
            + ", ".join(f"{labels}/class: {row}" for labels, row in best.items())
            + "."
        )

    if args.only in (None, "adult"):
        jobs = {
            seed: ("Adult, >50K at 5 %", [*me, "--worker=adult", f"--seed={seed}", *common])
            for seed in args.seeds
        }
        results = _run_all(rec, jobs, args.side_by_side)
        runs = [results[seed] for seed in args.seeds]
        scores = _by_row(runs)
        line = recommendation(
            scores,
            "minority_f1",
            baselines=["real", "real + random oversampling", "real + SMOTE"],
            candidates=["real + gankit", "real + both"],
        )
        sections.append(
            f"**Adult, >50K subsampled to 5 %** ({runs[0]['real']} training rows, "
            f"{runs[0]['minority_real']} of them >50K; every oversampler adds "
            f"{runs[0]['synthetic']} >50K rows):\n\n{score_table(scores)}\n\n"
            f"Recommendation: {line}\n"
        )
        gankit_f1 = [s["minority_f1"] for s in scores["real + gankit"]]
        smote_f1 = [s["minority_f1"] for s in scores["real + SMOTE"]]
        wins = sum(g >= s for g, s in zip(gankit_f1, smote_f1, strict=True))
        verdicts.append(
            f"- Goal 3 (Adult minority F1, gankit ≥ SMOTE on every seed): "
            f"{'met' if wins == len(smote_f1) else 'missed'}, {wins} of {len(smote_f1)} seeds "
            f"(gankit {', '.join(f'{v:.3f}' for v in gankit_f1)}; SMOTE "
            f"{', '.join(f'{v:.3f}' for v in smote_f1)})."
        )

    per_seed = json.dumps(
        [{"contender": m.name, "seed": m.seed, **m.result} for m in rec.measurements],
        separators=(",", ":"),
    )
    body = (
        "Scores are mean ± 95 % t-interval over the seeds (each seed draws its own labelled "
        "images or minority rows, trains its own GAN and classifiers). Minority F1: the F1 of "
        "the class with the fewest real training rows (MNIST: a tie, the first class). "
        f"MNIST: gankit's GAN {args.gan_steps} steps, {args.fraction:.0%} of each mixed set "
        f"synthetic; Adult: TabularGAN {args.adult_steps} steps with `target=income`."
        + (
            " The children ran side by side (`--side-by-side`), not one at a time: CPU "
            "seconds are each child's own, wall seconds include waiting for the others."
            if args.side_by_side
            else ""
        )
        + "\n\n"
        + "\n".join(sections)
        + "\n"
        + "\n".join(verdicts)
        + "\n\n<details><summary>Per-seed results (JSON)</summary>\n\n```\n"
        + per_seed
        + "\n```\n</details>\n"
    )
    rec.write(body)


if __name__ == "__main__":
    main()
