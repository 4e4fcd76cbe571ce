"""Differentially private images on MNIST: a classifier trained only on DP samples (issue 29).

Protocol (bench/protocol.py): MNIST's 60,000 training digits are split once (seed 0) into 50,000
training and 10,000 validation digits; no model sees the validation digits, and the 10,000 test
digits are read only by a recorded run (``--tune`` scores on the validation digits instead).
Each contender runs alone in a child process with one thread:

1. a class-conditional ``ImageGAN`` is fitted on the 50,000 training digits at 28 px, with D under
   DP-SGD at ``(epsilon, delta) = (10, 1e-5)`` (``privacy=``, the ``dp`` preset) or, as the
   non-private control, the same preset, budget and seed without ``privacy``;
2. G's EMA draws ``--samples`` labelled digits (the balanced cycle 0..9);
3. a :class:`~gankit.metrics.classifier.DigitClassifier` is trained on those samples alone (a fixed
   recipe, the same for every contender) and scored on the real digits: its accuracy is the
   number (GS-WGAN reports about 80 % at epsilon 10, DP-Sinkhorn about 83 %; goal 85 %).

The ceiling trains the same classifier on as many real training digits. The DP contender's
``epsilon spent`` is the accountant's (Opacus RDP) after its last D update.

    python bench/privacy_mnist.py                                    # record (committed tree)
    python bench/privacy_mnist.py --tune --no-record --contenders dp --seeds 0 \
        --options '{"steps": 200}'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402

EPSILON, DELTA = 10.0, 1e-5
VALIDATION = 10_000
# The classifier every contender's samples train: the project's digit classifier
# (gankit.metrics.classifier, default architecture), 600 steps of batch 128, no augmentation.
CLASSIFIER_STEPS = 600


def split(root: Path):
    """MNIST's training digits split (seed 0) into (training, validation), and the test digits."""
    import torch

    from gankit.data import ImageData, load_mnist

    data = load_mnist(root / "mnist", "train")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))

    def part(index: torch.Tensor, name: str) -> ImageData:
        return ImageData(data.images[index], data.labels[index], data.class_names, name)

    validation = part(order[:VALIDATION], "mnist-validation")
    train = part(order[VALIDATION:], "mnist-train-50k")
    return train, validation, load_mnist(root / "mnist", "test")


def accuracy_of_classifier(images, labels, judged, seed: int) -> float:
    """Accuracy on ``judged`` of the fixed classifier recipe trained on ``images``/``labels``."""
    import torch

    from gankit.metrics.classifier import train_digit_classifier

    model = train_digit_classifier(images, labels, steps=CLASSIFIER_STEPS, seed=seed)
    with torch.no_grad():
        real = judged.batch(torch.arange(len(judged)))
        predicted = torch.cat([model(chunk).argmax(1) for chunk in real.split(2000)])
    return (predicted == judged.labels).float().mean().item()


def worker(args: argparse.Namespace) -> None:
    import torch

    from gankit import ImageGAN
    from gankit.data import default_data_root

    torch.set_num_threads(1)
    train, validation, test = split(default_data_root())
    judged = validation if args.tune else test
    started = time.process_time()
    result: dict = {}
    if args.worker == "real":
        chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))
        chosen = chosen[: args.samples]
        images, labels = train.batch(chosen), train.labels[chosen]
        steps = seen = 0
    else:
        options = json.loads(args.options)
        privacy = {"epsilon": EPSILON, "delta": DELTA} if args.worker == "dp" else None
        gan = ImageGAN(
            "dp", resolution=28, conditional=True, privacy=privacy, seed=args.seed, **options
        )
        gan.fit(train, quiet=True)
        labels = torch.arange(args.samples) % 10  # the balanced cycle generate draws
        images = gan.generate_raw(args.samples, seed=args.seed)
        config = gan.train_config
        steps = config.steps
        seen = steps * config.batch_size * config.n_critic
        budget = gan.data_info.get("privacy")
        if budget is not None:
            result["epsilon_spent"] = budget["dp_sgd"]["epsilon_spent"]
            result["noise_multiplier"] = budget["dp_sgd"]["noise_multiplier"]
    fit_cpu = time.process_time() - started
    result["accuracy"] = round(accuracy_of_classifier(images, labels, judged, args.seed), 4)
    result.update(fit_cpu_s=round(fit_cpu, 1), steps=steps, images_seen=seen)
    protocol.emit(result)


CONTENDERS = {
    "dp": ("gankit DP eps=10", ["--worker", "dp"]),
    "nonprivate": ("gankit non-private, same recipe", ["--worker", "nonprivate"]),
    "real": ("real training digits (ceiling)", ["--worker", "real"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    protocol.add_arguments(parser)
    parser.add_argument("--worker", choices=("dp", "nonprivate", "real"), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--contenders", default="dp,nonprivate,real")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the DP and non-private runs")
    parser.add_argument("--real-seeds", default="0", help="seeds of the ceiling")
    parser.add_argument("--samples", type=int, default=10_000, help="labelled samples drawn")
    parser.add_argument(
        "--options", default="{}", help="JSON overrides of the dp preset (tuning), e.g. steps"
    )
    parser.add_argument("--tune", action="store_true", help="score on the validation digits")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.tune and not args.no_record:
        sys.exit("--tune scores on the validation digits: run it with --no-record")
    chosen = [c.strip() for c in args.contenders.split(",") if c.strip()]
    names = ", ".join(CONTENDERS[key][0] for key in chosen)
    title = f"Private images on MNIST: {names} (seeds {args.seeds})"
    rec = protocol.Recording(title, args)
    me = [sys.executable, str(Path(__file__).resolve())]
    shared = ["--samples", str(args.samples), "--options", args.options]
    shared += ["--tune"] if args.tune else []
    results: dict[str, list[dict]] = {}
    for key in chosen:
        name, argv = CONTENDERS[key]
        seeds = [int(s) for s in (args.real_seeds if key == "real" else args.seeds).split(",")]
        results.setdefault(key, []).extend(
            rec.run_seeds(name, [*me, *argv, *shared], seeds, threads=1)
        )
    rec.write(body(results, args))


def body(results: dict[str, list[dict]], args: argparse.Namespace) -> str:
    columns = [
        ("accuracy", "accuracy"),
        ("epsilon spent", "epsilon_spent"),
        ("noise multiplier", "noise_multiplier"),
        ("fit CPU s", "fit_cpu_s"),
    ]
    lines = [
        f"Split: MNIST train -> 50,000 training / 10,000 validation digits (seed 0); accuracy on "
        f"{'the validation digits (tuning)' if args.tune else 'the 10,000 MNIST test digits'} "
        f"of a DigitClassifier ({CLASSIFIER_STEPS} steps, batch 128) trained only on "
        f"{args.samples:,} labelled samples (the ceiling: as many real training digits). DP: "
        f"epsilon {EPSILON:g}, delta {DELTA:g}, preset dp, class-conditional, 28 px; overrides "
        f"{args.options}. Goal: >= 85 % (GS-WGAN ~80 %, DP-Sinkhorn ~83 %).",
        "",
        "| contender | " + " | ".join(c for c, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for key, rows in results.items():
        cells = [
            protocol.mean_std([r[field] for r in rows], digits=3) if field in rows[0] else "–"
            for _, field in columns
        ]
        lines.append(f"| {CONTENDERS[key][0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
