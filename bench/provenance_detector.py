"""Detector of generated images: AUROC on gankit models it never saw, clean and after attacks.

Two domains, each with generators the detector trains against ("seen") and generators it is
tested on ("unseen": other presets, other seeds, other step counts):

- ``mnist``: 32 px gray MNIST digits (28 px padded to 32, as gankit's ImageGAN reads MNIST);
  the detector's test reals are MNIST *test* digits.
- ``colour``: 32 px RGB patches of the photographs gankit ships for super-resolution
  (:data:`gankit.data.superres.TRAINING_IMAGES`, each shrunk to a shorter side of 96 px first so a
  patch holds a scene, not a texture); the generators and the detector's training reals use 12
  photographs, the detector's test reals come from the other 4, never seen by anyone.

Every generator is an :class:`gankit.ImageGAN` trained on 1 thread and cached in
``$DETECTOR_MODELS`` (default /tmp/detector-models; training is deterministic, so a cached model
is the one this script would train: its recorded training cost is reported with it). The
detector is trained ``--seeds`` times (``gankit.provenance.train_detector``, attacks as
augmentation) and each is scored on 500 images of every unseen model and 1,000 test reals, after
each of :data:`gankit.provenance.ATTACKS`.

    python bench/provenance_detector.py                 # record (committed tree)
    python bench/provenance_detector.py --no-record     # print only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402

RESOLUTION = 32
MODELS = Path(os.environ.get("DETECTOR_MODELS", "/tmp/detector-models"))


@dataclass(frozen=True)
class Source:
    """One generator: a preset trained for ``steps`` from ``seed`` on a domain."""

    domain: str
    preset: str
    seed: int
    steps: int
    seen: bool  # the detector trains against it
    model: tuple[tuple[str, int], ...] = ()  # architecture overrides
    batch_size: int | None = None

    @property
    def name(self) -> str:
        return f"{self.domain}-{self.preset}-s{self.seed}-{self.steps}"

    @property
    def why(self) -> str:
        """What makes an unseen generator new to the detector."""
        seen = [s for s in SOURCES if s.seen and s.domain == self.domain]
        if self.seen:
            return "seen"
        if all(s.preset != self.preset for s in seen):
            return "other preset"
        return "other seed, other steps"


# A ResNet G of width 32 (the preset's is 128: 8 CPU s a step here) with batch 32.
_SMALL_RESNET = {"model": (("width", 32),), "batch_size": 32}
SOURCES = (
    Source("mnist", "default", 0, 300, True),
    Source("mnist", "dcgan", 0, 300, True),
    Source("mnist", "default", 1, 100, True),
    Source("mnist", "default", 5, 1000, True),
    Source("mnist", "default", 2, 600, False),
    Source("mnist", "dcgan", 3, 150, False),
    Source("mnist", "default-cond", 0, 300, False),
    Source("mnist", "resnet-sn", 0, 200, False, **_SMALL_RESNET),
    Source("mnist", "default", 4, 1500, False),
    Source("colour", "default", 0, 300, True),
    Source("colour", "dcgan", 0, 200, True),
    Source("colour", "default", 2, 800, True),
    Source("colour", "default", 1, 500, False),
    Source("colour", "resnet-sn", 0, 150, False, **_SMALL_RESNET),
)
DOMAINS = ("mnist", "colour")
# The shipped photographs whose patches the colour detector is tested on (never trained on).
COLOUR_TEST_PHOTOS = ("coffee", "grass", "china", "camera")
COLOUR_SHORT_SIDE = 96
COLOUR_STRIDE = 8
# Detector training: steps, batch, generated images per seen model; test images per set.
STEPS = 600
BATCH = 64
TRAIN_SAMPLES = 2000
TEST_SAMPLES = 500
TEST_REALS = 1000
GOAL_AUROC = 0.99  # issue 28, on unseen gankit models


def colour_patches(test: bool) -> torch.Tensor:
    """32 px RGB patches (N, 3, 32, 32) of the training photographs (``test``: the held-out 4)."""
    from gankit.data.images import resize_images
    from gankit.data.superres import TRAINING_IMAGES, training_images

    names = [n for n in TRAINING_IMAGES if (n in COLOUR_TEST_PHOTOS) == test]
    patches = []
    for photo in training_images(names):
        height, width = photo.shape[-2:]
        scale = COLOUR_SHORT_SIDE / min(height, width)
        small = resize_images(photo[None], (round(height * scale), round(width * scale)))[0]
        # (3, H, W) -> (3, rows, cols, 32, 32) -> (rows * cols, 3, 32, 32)
        grid = small.unfold(1, RESOLUTION, COLOUR_STRIDE).unfold(2, RESOLUTION, COLOUR_STRIDE)
        patches.append(grid.permute(1, 2, 0, 3, 4).reshape(-1, 3, RESOLUTION, RESOLUTION))
    return torch.cat(patches)


def real_images(domain: str, split: str) -> torch.Tensor:
    """uint8 real images of ``domain``: ``train`` (what the GANs saw) or ``test``."""
    return training_data(domain, split).images


def training_data(domain: str, split: str = "train"):
    """The ``domain``'s real images as an ImageData (MNIST with its labels, for ``-cond``)."""
    from gankit.data import ImageData
    from gankit.data.mnist import default_data_root, load_mnist

    if domain == "mnist":
        # 28 px digits padded to 32, as gankit's ImageGAN reads MNIST.
        return load_mnist(default_data_root() / "mnist", split, RESOLUTION)
    return ImageData(colour_patches(test=split == "test"), None, (), f"photo-patches-{split}")


def generator_worker(name: str) -> None:
    """Train one generator (or find it cached) and report what its training cost."""
    from gankit import ImageGAN
    from gankit.io import write_json

    source = next(s for s in SOURCES if s.name == name)
    out = MODELS / name
    cost_file = out / "training.json"
    if not cost_file.is_file():
        data = training_data(source.domain)
        train = {"batch_size": source.batch_size} if source.batch_size else {}
        gan = ImageGAN(
            preset=source.preset,
            resolution=RESOLUTION,
            model=dict(source.model),
            seed=source.seed,
            **train,
        )
        started, cpu = time.perf_counter(), time.process_time()
        gan.fit(data, steps=source.steps, quiet=True)
        cost = {
            "train_cpu_s": round(time.process_time() - cpu, 1),
            "train_wall_s": round(time.perf_counter() - started, 1),
            "steps": source.steps,
            "images_seen": source.steps * gan.train_config.batch_size,
        }
        gan.save(out)
        write_json(cost_file, cost)
        cost["cached"] = False
    else:
        cost = {**json.loads(cost_file.read_text()), "cached": True}
    protocol.emit(cost)


def samples(source: Source, count: int, seed: int) -> torch.Tensor:
    """``count`` uint8 samples of ``source``'s cached model (conditional ones: random classes)."""
    from gankit import load

    model = load(MODELS / source.name)
    condition = None
    if model.condition_kind == "class":
        gen = torch.Generator().manual_seed(seed)
        condition = torch.randint(len(model.class_names), (count,), generator=gen).tolist()
    return model.generate(count, seed=seed, condition=condition)


def _subset(images: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:count]
    return images[pick]


def _auroc(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> float:
    from sklearn.metrics import roc_auc_score

    labels = [0] * len(real_scores) + [1] * len(fake_scores)
    return float(roc_auc_score(labels, torch.cat([real_scores, fake_scores]).numpy()))


def detector_worker(seed: int, steps: int, domains: list[str], save: str | None) -> None:
    """Train a detector against the seen generators, score it on the unseen ones."""
    from gankit.provenance import ATTACKS, DetectorConfig, detect, save_detector, train_detector

    started = time.process_time()
    real_train = [real_images(d, "train") for d in domains]
    seen = [s for s in SOURCES if s.seen and s.domain in domains]
    fake_train = [samples(s, TRAIN_SAMPLES, seed=0) for s in seen]
    data_cpu = time.process_time() - started
    detector = train_detector(
        real_train, fake_train, DetectorConfig(), steps=steps, batch_size=BATCH, seed=seed
    )
    train_cpu = time.process_time() - started - data_cpu
    if save:
        metadata = {
            "real": [f"{d} train split" for d in domains],
            "fake": [s.name for s in seen],
            "resolution": RESOLUTION,
            "steps": steps,
            "seed": seed,
            "trained_by": "bench/provenance_detector.py",
        }
        save_detector(detector, save, metadata)
    results: dict[str, dict] = {}
    timed = real_images(domains[0], "test")[:TEST_REALS]
    tick = time.process_time()
    detect(timed, detector)
    detect_ms = (time.process_time() - tick) * 1000 / len(timed)
    for domain in domains:
        reals = _subset(real_images(domain, "test"), TEST_REALS, seed=1)
        tests = {s.name: samples(s, TEST_SAMPLES, seed=1) for s in SOURCES if s.domain == domain}
        per_attack = {}
        for attack_name, attack in ATTACKS.items():
            real_scores = detect(attack(reals, 0), detector)
            fake_scores = {name: detect(attack(x, 0), detector) for name, x in tests.items()}
            unseen = [n for n in fake_scores if not _source(n).seen]
            per_attack[attack_name] = {
                "auroc": {n: _auroc(real_scores, fake_scores[n]) for n in fake_scores},
                "auroc_unseen": _auroc(real_scores, torch.cat([fake_scores[n] for n in unseen])),
                "real_called_generated": (real_scores >= 0.5).float().mean().item(),
                "unseen_called_generated": torch.cat([fake_scores[n] for n in unseen])
                .ge(0.5)
                .float()
                .mean()
                .item(),
            }
        results[domain] = per_attack
    protocol.emit(
        {
            "steps": steps,
            "images_seen": steps * BATCH,
            "data_cpu_s": round(data_cpu, 1),
            "train_cpu_s": round(train_cpu, 1),
            "detect_cpu_ms_per_image": round(detect_ms, 3),
            "domains": results,
        }
    )


def _source(name: str) -> Source:
    return next(s for s in SOURCES if s.name == name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    protocol.add_arguments(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=STEPS, help="detector training steps")
    parser.add_argument("--domains", nargs="+", default=list(DOMAINS), choices=DOMAINS)
    parser.add_argument("--save", help="also save the first seed's detector here")
    parser.add_argument("--generator", help=argparse.SUPPRESS)
    parser.add_argument("--worker-seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.generator:
        generator_worker(args.generator)
        return
    if args.worker_seed is not None:
        detector_worker(args.worker_seed, args.steps, args.domains, args.save)
        return
    record(args)


def _cell(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` over seeds, compact for a table."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def record(args: argparse.Namespace) -> None:
    """Train every generator (or find it cached), then the detector over ``args.seeds``."""
    from gankit.io import file_sha256

    seen = sum(s.seen for s in SOURCES if s.domain in args.domains)
    rec = protocol.Recording(
        f"Detector of generated images: AUROC on unseen gankit models ({seen} seen generators, "
        f"{len(args.seeds)} seeds)",
        args,
    )
    body = ["### Generators", ""]
    body.append("| generator | preset | seed | steps | seen by the detector | training CPU s |")
    body.append("|---|---|---:|---:|---|---:|")
    for source in SOURCES:
        if source.domain not in args.domains:
            continue
        argv = [sys.executable, __file__, "--generator", source.name]
        cost = rec.run(f"generator {source.name}", argv, seed=source.seed, threads=1).result
        cached = " (cached)" if cost["cached"] else ""
        body.append(
            f"| {source.name} | {source.preset} | {source.seed} | {source.steps} | {source.why} "
            f"| {cost['train_cpu_s']}{cached} |"
        )
    runs = []
    for index, seed in enumerate(args.seeds):
        argv = [sys.executable, __file__, "--worker-seed", str(seed), "--steps", str(args.steps)]
        argv += ["--domains", *args.domains]
        if args.save and index == 0:
            argv += ["--save", args.save]
        runs.append(rec.run("detector", argv, seed=seed, threads=1).result)
        if args.save and index == 0:
            rec.judge(f"detector of seed {seed}", Path(args.save) / "detector.safetensors")
    for domain in args.domains:
        entries = [r["domains"][domain] for r in runs]
        names = list(entries[0]["none"]["auroc"])
        unseen = [n for n in names if not _source(n).seen]
        body += ["", f"### {domain}: AUROC, mean ± std over {len(runs)} detector seeds", ""]
        body.append(
            "| attack | all unseen | "
            + " | ".join(unseen)
            + " | seen models, new samples | reals called generated | unseen called generated |"
        )
        body.append("|---|" + "---:|" * (len(unseen) + 4))
        for attack in entries[0]:
            at = [e[attack] for e in entries]
            seen_auroc = [
                statistics.fmean(a["auroc"][n] for n in names if _source(n).seen) for a in at
            ]
            cells = [_cell([a["auroc_unseen"] for a in at])]
            cells += [_cell([a["auroc"][n] for a in at]) for n in unseen]
            cells += [_cell(seen_auroc)]
            cells += [_cell([a["real_called_generated"] for a in at], 2)]
            cells += [_cell([a["unseen_called_generated"] for a in at], 2)]
            body.append(f"| {attack} | " + " | ".join(cells) + " |")
        worst = min(statistics.fmean(e[a]["auroc_unseen"] for e in entries) for a in entries[0])
        clean = protocol.mean_std([e["none"]["auroc_unseen"] for e in entries])
        verdict = "met" if worst >= GOAL_AUROC else "missed"
        body.append(
            f"\nGoal AUROC ≥ {GOAL_AUROC} on unseen models ({domain}): clean {clean}; worst "
            f"attack {worst:.3f}: {verdict}."
        )
    train_cpu = [r["train_cpu_s"] for r in runs]
    body.append(
        f"\nDetector training: {args.steps} steps of {BATCH} images, "
        f"{protocol.mean_std(train_cpu, digits=0)} CPU s each (1 thread); scoring "
        f"{statistics.fmean(r['detect_cpu_ms_per_image'] for r in runs):.2f} CPU ms per 32 px "
        "image (batches of 256); threshold 0.5 for the 'called generated' columns."
    )
    if args.save:
        body.append(
            f"The seed-{args.seeds[0]} detector was saved to `{args.save}` (weights sha256 "
            f"{file_sha256(Path(args.save) / 'detector.safetensors')[:16]})."
        )
    rec.write("\n".join(body))


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parents[1])
    main()
