"""Unpaired translation, scikit-learn digits -> MNIST with CycleGAN: is the class preserved?

Domain A: the 1,797 scikit-learn 8x8 digits enlarged to 32 px (bilinear; thick strokes filling
the frame). Domain B: the 60,000 MNIST training digits at 32 px (zero-padded; thin strokes in a
20-px box). CycleGAN never sees a pair, and never an MNIST label. After training, every
domain-A digit is translated A -> B (unpaired translation is judged on the inputs it was trained
to translate) and scored by the MNIST judge classifier of bench/mnist_wallclock.py:

- class preservation ↑: the judge's label for the translation equals the digit's own label
  (goal >= 95 %);
- FD to MNIST ↓: Fréchet distance to the 10,000 MNIST test digits in the judge's features.

The baseline row is the identity mapping (the enlarged digits as they are), scored the same way.
Contenders (``--contenders``, ``KIND:WEIGHT``) differ in the structure-consistency term: its
weight (``structure:0`` is plain CycleGAN) and its frame (``deskew:W`` adds
``structure_deskew``), or add the semantic term (``semantic:W``: ``semantic_weight`` W on top
of ``deskew:2``; ``adapted:W`` the same with ``semantic_adapt``; ``adaptedonly:W`` the
adapted semantic term without the structure term; ``rounds:N`` is ``adapted:1`` with the
MNIST classifier self-trained in N rounds, ``semantic_rounds``; ``jitter:N`` the same with
``semantic_jitter``, which the other semantic kinds leave off, as their recorded rows had it;
``jitterweight:W`` is ``jitter:5`` with semantic weight W).
The semantic contenders are the only ones that use labels: the scikit-learn digits' own, for
the classifier the term fits before the game; the others use none. They train side by side,
one CPU thread each, for the same number of steps; ``--reuse`` judges contenders already
trained to ``--steps`` (same seed) as they are, so a busy machine can train them two at a time.

    python bench/translate_digits.py --steps 1000 --contenders deskew:2 deskew:4 --no-record
    python bench/translate_digits.py --steps 2000 --contenders deskew:2 deskew:4 --no-record \
        --resume                                                  # continued to 2,000 steps
    python bench/translate_digits.py --steps 2000 --reuse \
        --contenders structure:0 structure:2 deskew:2 deskew:4    # the other two, recorded
    python bench/translate_digits.py --steps 2000 --reuse --contenders deskew:2 semantic:1
    python bench/translate_digits.py --steps 20 --seed 99 --no-record  # a quick look (its own
                                                  # run directories: seed 99 is no recorded seed)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _parallel import run_side_by_side  # noqa: E402
from _record import ROOT, append_section  # noqa: E402
from mnist_wallclock import load_or_train_judge  # noqa: E402

from gankit import CycleGAN, load  # noqa: E402
from gankit.data import default_data_root, load_mnist  # noqa: E402
from gankit.data.ink import structure_map  # noqa: E402
from gankit.data.paired import digits_mnist  # noqa: E402
from gankit.io import file_sha256  # noqa: E402
from gankit.metrics import frechet_distance  # noqa: E402
from gankit.metrics.classifier import train_digit_classifier  # noqa: E402
from gankit.tasks.semantic_classifier import semantic_view  # noqa: E402
from gankit.train.state import latest_checkpoint  # noqa: E402
from gankit.viz import save_image_grid  # noqa: E402

OUT = ROOT / "bench" / "out" / "translate_digits"
IMG = ROOT / "docs" / "img"
# Narrower than the default preset so a 10-minute, one-thread budget reaches ~1,000 steps.
MODEL = {"width": 16, "d_width": 16, "d_layers": 2}
# The best label-free contender (deskew:2), and it with the adapted semantic term at weight 1.
_DESKEW_2 = {"structure_deskew": True, "structure_weight": 2.0}
_ADAPTED_1 = {**_DESKEW_2, "semantic_adapt": True, "semantic_weight": 1.0}
# Contender kinds: fixed model settings, and the setting KIND:WEIGHT gives its weight. The
# semantic kinds up to rounds predate semantic_jitter (now on by default) and keep it off, as
# their recorded rows had it.
KINDS = {
    "structure": ({}, "structure_weight"),
    "deskew": ({"structure_deskew": True}, "structure_weight"),
    # deskew:2 plus CyCADA's semantic term (a classifier fitted on domain A's labels, never
    # MNIST's).
    "semantic": ({**_DESKEW_2, "semantic_jitter": False}, "semantic_weight"),
    # The same with the translations read by a classifier adapted to MNIST by self-training
    # (the domain-A classifier's confident labels for the unlabelled MNIST training digits).
    "adapted": ({**_ADAPTED_1, "semantic_jitter": False}, "semantic_weight"),
    # The adapted semantic term alone, without the structure term (free to reshape).
    "adaptedonly": ({"semantic_adapt": True, "semantic_jitter": False}, "semantic_weight"),
    # adapted:1 with the MNIST classifier self-trained in WEIGHT rounds (semantic_rounds).
    "rounds": ({**_ADAPTED_1, "semantic_jitter": False}, "semantic_rounds"),
    # The same, the translations read under a random shift and turn (semantic_jitter).
    "jitter": ({**_ADAPTED_1, "semantic_jitter": True}, "semantic_rounds"),
    # jitter:5 with semantic weight WEIGHT.
    "jitterweight": (
        {**_ADAPTED_1, "semantic_jitter": True, "semantic_rounds": 5},
        "semantic_weight",
    ),
}
HISTORY = "bench-history.json"  # a contender's training history, for --reuse


def _parse(spec: str) -> tuple[str, float]:
    kind, _, weight = spec.partition(":")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if kind not in KINDS or value < 0:
        raise SystemExit(f"contender {spec!r}: expected KIND:WEIGHT with KIND in {list(KINDS)}")
    if kind in ("rounds", "jitter") and (value < 1 or not value.is_integer()):
        raise SystemExit(f"contender {spec!r}: {kind}:N takes a whole number of rounds >= 1")
    return kind, value


def _label(spec: str) -> str:
    kind, weight = _parse(spec)
    if kind == "semantic":
        return f"CycleGAN, deskewed structure weight 2 + semantic weight {weight:g} (A labels)"
    if kind == "adapted":
        return (
            f"CycleGAN, deskewed structure weight 2 + semantic weight {weight:g}, adapted "
            "(A labels)"
        )
    if kind == "jitterweight":
        return (
            f"CycleGAN, deskewed structure weight 2 + semantic weight {weight:g}, adapted in 5 "
            "rounds, jittered reading (A labels)"
        )
    if kind in ("rounds", "jitter"):
        return (
            f"CycleGAN, deskewed structure weight 2 + semantic weight 1, adapted in {weight:g} "
            f"rounds{', jittered reading' if kind == 'jitter' else ''} (A labels)"
        )
    if kind == "adaptedonly":
        return f"CycleGAN, no structure term, semantic weight {weight:g}, adapted (A labels)"
    if weight == 0:
        return "CycleGAN, plain (structure weight 0)"
    return f"CycleGAN, structure weight {weight:g}" + (", deskewed" if kind == "deskew" else "")


def _saved_steps(run_dir: Path) -> int:
    step_dir = latest_checkpoint(run_dir)
    return int(step_dir.name.split("-")[1]) if step_dir is not None else 0


def _run_dir(seed: int, spec: str) -> Path:
    kind, weight = _parse(spec)
    return OUT / f"seed{seed}-{kind}{weight:g}"


def train_contender(args: argparse.Namespace, spec: str) -> None:
    """Train (or continue) the CycleGAN of contender ``spec``; print and save its history."""
    torch.set_num_threads(1)
    data = digits_mnist("train")
    kind, weight = _parse(spec)
    run_dir = _run_dir(args.seed, spec)
    if args.resume:
        # Continue the previous run (bit-identical to a longer uninterrupted one).
        model = load(run_dir)
        start_step = _saved_steps(run_dir)
        model.fit(
            data, steps=args.steps, out=run_dir, resume=True, quiet=True,
            max_seconds=args.max_seconds,
        )  # fmt: skip
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        start_step = 0
        settings, weighted = KINDS[kind]
        value = int(weight) if weighted == "semantic_rounds" else weight
        model = CycleGAN(
            model={**MODEL, **settings, weighted: value},
            batch_size=args.batch_size,
            seed=args.seed,
            checkpoint_every=10**6,
        )
        model.fit(data, steps=args.steps, out=run_dir, quiet=True, max_seconds=args.max_seconds)
    # Training seconds over every run of this contender (a resumed run adds to the saved ones).
    earlier = json.loads((run_dir / HISTORY).read_text()) if args.resume else {}
    seconds = earlier.get("seconds", 0.0) + model.history["seconds_this_run"]
    history = json.dumps({**model.history, "start_step": start_step, "seconds": seconds})
    (run_dir / HISTORY).write_text(history)
    print(history, flush=True)


def _reusable(args: argparse.Namespace, spec: str) -> dict | None:
    run_dir = _run_dir(args.seed, spec)
    if not (args.reuse and (run_dir / HISTORY).exists()):
        return None
    history = json.loads((run_dir / HISTORY).read_text())
    return history if _saved_steps(run_dir) == args.steps == history["steps"] else None


def launch(args: argparse.Namespace) -> dict[str, dict]:
    """Contenders not reused start at once, one thread each; returns spec -> history."""
    reused = {spec: _reusable(args, spec) for spec in args.contenders}
    argv = [sys.executable, __file__, "--steps", str(args.steps), "--max-seconds",
            str(args.max_seconds), "--batch-size", str(args.batch_size), "--seed",
            str(args.seed)] + (["--resume"] if args.resume else [])  # fmt: skip
    histories = run_side_by_side(
        {spec: [*argv, "--contender", spec] for spec in args.contenders if reused[spec] is None}
    )
    return {spec: reused[spec] or histories[spec] for spec in args.contenders}


def _map_agreement(digits: torch.Tensor, labels: torch.Tensor, real: torch.Tensor,
                   real_labels: torch.Tensor) -> str:  # fmt: skip
    """How often a digit's nearest MNIST structure map has its class, per kind of map.

    Training-free evidence for the structure term: the term pulls G(a) towards a's map, which
    helps keep the class only as far as maps of one class agree across the two domains.
    """
    lines = [
        "Structure maps as class evidence (no training): share of the 1,797 digits whose "
        "nearest MNIST test digit by structure map (squared distance) has the same class.",
        "",
        "| structure map | nearest MNIST map has the digit's class |",
        "|---|---:|",
    ]
    source = digits.float() / 127.5 - 1
    for kind, deskew in (("structure", False), ("deskew", True)):
        with torch.no_grad():
            maps = structure_map(source, deskew=deskew).flatten(1)
            reference = structure_map(real, deskew=deskew).flatten(1)
            nearest = torch.cdist(maps, reference).argmin(1)
        agree = (real_labels[nearest] == labels).float().mean()
        lines.append(f"| {kind} (`structure_deskew={deskew}`) | {agree:.4f} |")
    return "\n".join(lines)


def _semantic_transfer(
    models: dict, digits: torch.Tensor, labels: torch.Tensor, real: torch.Tensor,
    real_labels: torch.Tensor,
) -> str:  # fmt: skip
    """How often the semantic contenders' classifiers (domain-A labels) name MNIST test digits.

    A diagnostic read after training: MNIST labels never reach the classifiers or the game. The
    last row fits the same classifier recipe on the enlarged digits as they are, without the
    aligned view, to show what the view does for the transfer.
    """
    rows = []
    for spec, model in models.items():
        readers = (
            ("domain A's", model.semantic, semantic_view(real)),
            ("adapted", model.semantic_b, real),
        )
        for which, classifier, inputs in readers:
            if classifier is not None:
                with torch.no_grad():
                    named = classifier(inputs).argmax(1) == real_labels
                rows.append(f"| {_label(spec)}: {which} | {named.float().mean():.4f} |")
    if not rows:
        return ""
    first = next(model for model in models.values() if model.semantic is not None)
    as_they_are = train_digit_classifier(
        digits.float() / 127.5 - 1, labels, steps=first.model_config["semantic_steps"],
        seed=first.train_config.seed, batch_size=64, max_shift=2, max_rotation=10,
    )  # fmt: skip
    with torch.no_grad():
        named = as_they_are(real).argmax(1) == real_labels
    rows.append(
        f"| the same recipe on the enlarged digits as they are (no view) | "
        f"{named.float().mean():.4f} |"
    )
    head = (
        "\n\nThe semantic term's classifiers on the 10,000 MNIST test digits, read after "
        "training as a diagnostic: domain A's (fitted on the scikit-learn digits and their "
        "labels, through `semantic_view`) and, for `semantic_adapt`, the one adapted to MNIST "
        "(fitted on the MNIST training digits as they are, labelled by domain A's classifier, the "
        "most confident half of each class, then by itself in further rounds where the row says "
        "so; no MNIST label):\n\n"
        "| classifier | MNIST test digits it names correctly |\n|---|---:|\n"
    )
    return head + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--max-seconds", type=float, default=3600, help="safety cap per model")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--contenders", nargs="+", default=["structure:0", "structure:2", "deskew:2"],
        help="KIND:WEIGHT, KIND one of " + ", ".join(KINDS),
    )  # fmt: skip
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="judge contenders already trained to --steps as they are",
    )
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--resume", action="store_true", help="continue the previous runs of this seed"
    )
    args = parser.parse_args()
    if args.contender is not None:
        train_contender(args, args.contender)
        return
    torch.set_num_threads(1)
    started = time.perf_counter()
    mnist = default_data_root() / "mnist"
    judge_dir = ROOT / "bench" / "out" / "mnist_wallclock" / "judge"
    judge = load_or_train_judge(mnist, judge_dir)

    load_before = os.getloadavg()[0]
    trained_now = {spec for spec in args.contenders if _reusable(args, spec) is None}
    histories = launch(args)
    load_after = os.getloadavg()[0]
    models = {spec: load(_run_dir(args.seed, spec)) for spec in args.contenders}

    data = digits_mnist("train")
    test = load_mnist(mnist, "test", 32)
    digits, labels = data.domain_a, data.labels_a
    with torch.no_grad():
        real = test.batch(torch.arange(len(test)))
        real_features = judge.features(real)
    outputs = {"identity (enlarged digits as they are)": digits}
    for spec, model in models.items():
        outputs[_label(spec)] = model.apply(digits, direction="AB")
    rows = [
        "| mapping | class preservation ↑ | FD to MNIST test ↓ | steps | s |",
        "|---|---:|---:|---:|---:|",
    ]
    per_class = [
        "| mapping | " + " | ".join(str(k) for k in range(10)) + " |",
        "|---|" + "---:|" * 10,
    ]
    trained = dict(zip(list(outputs)[1:], histories.values(), strict=True))
    for name, images in outputs.items():
        x = images.float() / 127.5 - 1
        with torch.no_grad():
            kept = judge(x).argmax(1) == labels
            fd = frechet_distance(real_features, judge.features(x))
        history = trained.get(name)
        steps = f"{history['steps']} | {history['seconds']:.0f}" if history else "– | –"
        rows.append(f"| {name} | {kept.float().mean():.4f} | {fd:.2f} | {steps} |")
        shares = [f"{kept[labels == k].float().mean():.2f}" for k in range(10)]
        per_class.append(f"| {name} | " + " | ".join(shares) + " |")
    table = "\n".join(rows) + "\n\nClass preservation per digit:\n\n" + "\n".join(per_class)
    table += "\n\n" + _map_agreement(digits, labels, real, test.labels)
    table += _semantic_transfer(models, digits, labels, real, test.labels)
    print(table)
    # Rows: 16 digits, then each contender's translations of them.
    grid = torch.cat([images[:16] for images in outputs.values()])
    folder = OUT if args.no_record else IMG
    tag = "-".join(spec.replace(":", "") for spec in args.contenders)
    # Seed 0 keeps the name earlier records use; other seeds name theirs, so no record's image
    # is overwritten by another seed's run.
    seed = f"-seed{args.seed}" if args.seed else ""
    image = folder / f"translate-digits-{args.steps}steps-{tag}{seed}.png"
    save_image_grid(grid, image, nrow=16)
    print(f"wrote {image}")
    if not args.no_record:
        judge_hash = file_sha256(judge_dir / "classifier.safetensors")[:16]
        resumed = sorted({h["start_step"] for h in histories.values()})
        reused = [_label(spec) for spec in args.contenders if spec not in trained_now]
        body = (
            f"CycleGAN preset `default` with model {MODEL}, batch {args.batch_size}, seed "
            f"{args.seed}; {len(models)} contenders differing only in the structure term "
            f"(`structure_weight`, 0 = plain CycleGAN; deskewed = `structure_deskew`) and the "
            f"semantic term (`semantic_weight`), trained "
            f"side by side, one CPU thread each, for {args.steps} steps (cap "
            f"{args.max_seconds:.0f} s"
            f"{'; reused as an earlier run saved them: ' + ', '.join(reused) if reused else ''}"
            f"{'; resumed at step ' + str(resumed) if args.resume else ''}; load average "
            f"{load_before:.1f} before, {load_after:.1f} after). Domain A: the 1,797 "
            f"scikit-learn digits enlarged to 32 px; domain B: the 60,000 MNIST training digits "
            f"at 32 px; no pairs are used in training, and no labels except where a row says "
            f"'A labels': the semantic term's classifier is fitted on the scikit-learn digits' "
            f"own labels (never MNIST's) before the game. All 1,797 digits are "
            f"translated A -> B and judged by the MNIST classifier of bench/mnist_wallclock.py "
            f"(sha256 {judge_hash}…): class preservation = its label equals the digit's own; "
            f"FD = Fréchet distance to the 10,000 MNIST test digits in its features.\n\n"
            f"{table}\n\n[{image.name}](img/{image.name}): row 1 the digits, then one row per "
            f"table line below the identity, in order.\n"
        )
        append_section(
            "Unpaired translation: scikit-learn digits -> MNIST (CycleGAN, structure and "
            "semantic terms)",
            body,
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
