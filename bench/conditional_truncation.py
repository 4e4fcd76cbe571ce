"""Class-conditional MNIST under the truncation trick: requested-digit accuracy against FD.

Takes the class-conditional models that ``bench/mnist_conditional.py`` trained and saved (no
training here) and draws ``--n`` samples from each at several truncation thresholds t: the latents
come from the standard normal truncated to [-t, t] (``ImageGAN.generate(truncation=t)``, BigGAN's
truncation trick), "none" being the plain normal every other table uses. The same judge and the
same scoring as mnist_conditional.py: accuracy on the requested digit overall and for the worst
class (goal: 99 % for every class), and FD on the judge's features against the MNIST test images.
A smaller t makes each sample more typical of its class and the set less varied, so accuracy
rises and, past some point, FD rises with it; the table shows where that trade sits.

    python bench/conditional_truncation.py --run bench/out/mnist_conditional_s5500   # recorded
    python bench/conditional_truncation.py --run DIR --n 1000 --no-record             # a look
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import append_section  # noqa: E402
from mnist_conditional import CONTENDERS, NUM_CLASSES, UNCONDITIONAL, score  # noqa: E402
from mnist_wallclock import (  # noqa: E402
    JUDGES,
    contender_samples,
    judge_dir_for,
    judge_note,
    load_or_train_judge,
)

from gankit import load  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402

THRESHOLDS = (None, 2.0, 1.5, 1.25, 1.0, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", required=True, help="output folder of mnist_conditional.py")
    parser.add_argument("--n", type=int, default=10_000, help="samples per model and threshold")
    parser.add_argument("--judge", default="strong", choices=JUDGES, help="judge recipe")
    parser.add_argument("--no-record", action="store_true", help="print only; no docs")
    args = parser.parse_args()
    started = time.perf_counter()
    mnist = default_data_root() / "mnist"
    judge_dir = judge_dir_for(args.judge)
    judge = load_or_train_judge(mnist, judge_dir, args.judge)
    test = load_mnist(mnist, "test")
    with torch.no_grad():
        test_features = judge.features(test.batch(torch.arange(len(test))))

    models = {
        spec: contender_samples(Path(args.run), spec).with_suffix("")
        for spec in CONTENDERS
        if spec != UNCONDITIONAL
    }
    rows = [
        "| model | truncation t | accuracy | worst class | classes ≥ 99 % | FD ↓ |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for spec, model_dir in models.items():
        if not (model_dir / "config.json").is_file():
            raise SystemExit(f"{model_dir} holds no model; run bench/mnist_conditional.py first")
        gan = load(model_dir)
        for t in THRESHOLDS:
            images = gan.generate(args.n, seed=0, truncation=t)[:, 0].numpy()
            result = score(judge, images, True, test_features, test.labels)
            per_class = result["accuracy_class"]
            worst = min(range(NUM_CLASSES), key=per_class.__getitem__)
            rows.append(
                f"| `{spec}` | {'none' if t is None else t} | {result['accuracy']:.2%} | "
                f"{per_class[worst]:.2%} (digit {worst}) | "
                f"{sum(a >= 0.99 for a in per_class)} / {NUM_CLASSES} | {result['fd']:.1f} |"
            )
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    if args.no_record:
        return
    body = (
        f"The class-conditional models saved by `bench/mnist_conditional.py` in `{args.run}` "
        f"(no training here), {args.n} samples each per threshold, the balanced cycle of digits "
        "0..9; the latents drawn from the normal truncated to [-t, t] "
        f"(`sample(truncation=t)`). {judge_note(judge_dir)} FD on the judge's penultimate "
        "features against the 10,000 MNIST test images.\n\n"
        f"{table}\n"
    )
    append_section(
        "Class-conditional MNIST: the truncation trick", body, time.perf_counter() - started
    )


if __name__ == "__main__":
    main()
