"""Class-conditional spoken digits (FSDD): gankit's AudioGAN vs a WaveGAN-style peer, equal CPU.

Both contenders train on FSDD's train split (recordings 5-49, 2,700 clips of 8,192 samples at
8 kHz, peak-normalised by gankit's reader) for the same number of **CPU seconds** of training
(``--cpu-seconds``, measured with the worker's own ``process_time``, so a loaded machine slows
the wall clock but not the budget), one thread each, under the recording protocol
(``bench/protocol.py``), for every seed. Then each draws ``--per-digit`` clips of every digit
and is scored on its waveforms by the FSDD judge (:mod:`gankit.metrics.audio`; trained once on
the train split, cached under bench/out/, its accuracy on the official test split recorded):

- accuracy on the requested digit, FD in the judge's features against the 300 real test clips
  (floor: as many real train clips against the same test clips), within-digit diversity
  relative to the real test clips;
- generation speed: seconds of audio made per CPU-second of generating (batched, one thread).

Contenders:

- **gankit `specgan`**: ``AudioGAN`` (conditional DCGAN on log-mel images, Griffin-Lim vocoder)
  at ``--resolution`` (default 32: at a few CPU-minutes the 64-px preset has too few steps);
- **WaveGAN-style peer** (Donahue et al. 2019, written here): a waveform G of five stride-4
  transposed 1-D convolutions (kernel 25), a D of five stride-4 convolutions with phase shuffle
  (n = 2), WGAN-GP (lambda 10, 5 D steps per G step, Adam 1e-4, betas (0.5, 0.9)), no EMA,
  class-conditional through a label embedding concatenated to z and a projection term in D; run
  on gankit's engine (the loop is not what is compared).

    python bench/audio_fsdd.py                               # recorded: 3 seeds
    python bench/audio_fsdd.py --cpu-seconds 20 --seeds 0 --per-digit 10 --no-record
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402
from _record import ROOT  # noqa: E402

from gankit import AudioGAN  # noqa: E402
from gankit.data.audio import AudioData, fsdd_root, load_audio_folder  # noqa: E402
from gankit.io import load_tensors, save_tensors  # noqa: E402
from gankit.metrics.audio import (  # noqa: E402
    JUDGE_STEPS,
    audio_quality,
    judge_images,
    train_audio_judge,
)
from gankit.metrics.classifier import load_classifier, save_classifier  # noqa: E402
from gankit.nn.generate import generate  # noqa: E402
from gankit.train import TrainConfig, Trainer  # noqa: E402
from gankit.train.callbacks import Callback  # noqa: E402
from gankit.viz import save_image_grid, to_uint8  # noqa: E402

OUT = ROOT / "bench" / "out" / "audio_fsdd"
FIGURES = ROOT / "docs" / "img"
CONTENDERS = ("gankit specgan", "WaveGAN-style peer")
SHOWN = 4  # clips per digit in the figure
GOALS = {"accuracy": 0.95, "fd_over_floor": 2.0, "diversity_ratio": 0.8, "realtime": 100.0}


class CPUBudget(Callback):
    """Stops training once this process has used ``seconds`` of CPU time since the first step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0

    def on_train_start(self, trainer) -> None:
        self.started = time.process_time()

    def on_step_end(self, trainer) -> None:
        if time.process_time() - self.started >= self.seconds:
            trainer.request_stop("cpu budget")


# ----------------------------------------------------------------------------- the WaveGAN peer
class WaveGenerator(nn.Module):
    """(z, label) -> (B, 1, 8192): dense to (16 d, 8), five x4 transposed convolutions."""

    def __init__(self, classes: int, d: int = 16, latent_dim: int = 100) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.embed = nn.Embedding(classes, 16)
        self.dense = nn.Linear(latent_dim + 16, 16 * d * 8)
        widths = [16 * d, 8 * d, 4 * d, 2 * d, d, 1]
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(a, b, 25, stride=4, padding=11, output_padding=1)
            for a, b in zip(widths, widths[1:], strict=False)
        )

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.dense(torch.cat([z, self.embed(label)], 1)))
        h = h.view(len(z), -1, 8)  # (B, 16 d * 8) -> (B, 16 d, 8)
        for i, up in enumerate(self.ups):
            h = up(h)
            h = torch.tanh(h) if i == len(self.ups) - 1 else F.relu(h)
        return h


def phase_shuffle(
    x: torch.Tensor, n: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shift each clip's feature map by a random -n..n samples, reflecting at the edges."""
    shifts = torch.randint(-n, n + 1, (len(x),), generator=generator).tolist()
    padded = F.pad(x, (n, n), mode="reflect")
    return torch.stack([padded[i, :, n - s : n - s + x.shape[2]] for i, s in enumerate(shifts)])


class WaveCritic(nn.Module):
    """(B, 1, 8192), label -> (B,): five x4 convolutions, phase shuffle, projection."""

    def __init__(self, classes: int, d: int = 16) -> None:
        super().__init__()
        widths = [1, d, 2 * d, 4 * d, 8 * d, 16 * d]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, 25, stride=4, padding=11)
            for a, b in zip(widths, widths[1:], strict=False)
        )
        self.out = nn.Linear(16 * d * 8, 1)
        self.embed = nn.Embedding(classes, 16 * d * 8)

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        h = x
        for i, conv in enumerate(self.convs):
            h = F.leaky_relu(conv(h), 0.2)
            if i < len(self.convs) - 1 and self.training:
                h = phase_shuffle(h, 2)
        h = h.flatten(1)
        return self.out(h).squeeze(1) + (self.embed(label) * h).sum(1)


class WaveData:
    """FSDD clips as the engine's conditional data: ((B, 1, samples), labels)."""

    conditional = True

    def __init__(self, clips: AudioData) -> None:
        self.clips = clips

    def __len__(self) -> int:
        return len(self.clips)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.clips.waves[index][:, None], self.clips.labels[index]


PEER_TRAIN = TrainConfig(
    steps=10**6,
    batch_size=32,
    n_critic=5,
    loss="wasserstein",
    gp_weight=10.0,
    lr_g=1e-4,
    lr_d=1e-4,
    betas=(0.5, 0.9),
    ema_beta=0.0,
    health=False,
    log_every=10**6,
    checkpoint_every=10**6,
)


# ----------------------------------------------------------------------------- worker
def _requested(per_digit: int) -> torch.Tensor:
    return torch.arange(10).repeat(per_digit)  # 0..9, 0..9, ...


def worker(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    train = load_audio_folder(fsdd_root(), split="train")
    test = load_audio_folder(fsdd_root(), split="test")
    budget = CPUBudget(args.cpu_seconds)
    requested = _requested(args.per_digit)
    if args.worker == CONTENDERS[0]:
        gan = AudioGAN(resolution=args.resolution, seed=args.seed, steps=10**6)
        gan.fit(train, quiet=True, callbacks=[budget])
        steps, batch = gan.history["steps"], gan.train_config.batch_size
        train_cpu = time.process_time() - budget.started
        started = time.process_time()
        fakes = gan.generate(len(requested), seed=1000 + args.seed, condition=requested)
        n_critic = 1
    else:
        torch.manual_seed(args.seed)
        G, D = WaveGenerator(len(train.class_names)), WaveCritic(len(train.class_names))
        trainer = Trainer(
            G, D, WaveData(train), replace(PEER_TRAIN, seed=args.seed), callbacks=[budget]
        )
        trainer.fit()
        steps, batch, n_critic = trainer.step, PEER_TRAIN.batch_size, PEER_TRAIN.n_critic
        train_cpu = time.process_time() - budget.started
        started = time.process_time()
        fakes = generate(trainer.G_ema, len(requested), 1000 + args.seed, cond=requested)[:, 0]
    generate_cpu = time.process_time() - started
    judge = load_classifier(args.judge)
    scores = audio_quality(judge, fakes, requested, test, train, seed=args.seed)
    shown = torch.cat([fakes[requested == k][:SHOWN] for k in range(10)])
    save_tensors(args.shown, {"images": judge_images(shown, train.sample_rate)})
    audio_seconds = fakes.numel() / train.sample_rate
    protocol.emit(
        {
            **scores,
            "steps": steps,
            "images_seen": steps * batch * n_critic,
            "train_cpu_s": round(train_cpu, 1),
            "realtime_per_cpu": round(audio_seconds / max(generate_cpu, 1e-9), 1),
        }
    )


# ----------------------------------------------------------------------------- parent
def judge_dir() -> Path:
    recipe = {"steps": JUDGE_STEPS, "seed": 0, "data": "fsdd train split", "resolution": 64}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    return OUT / f"judge-{key}"


def load_or_train_judge() -> tuple[Path, float]:
    """The FSDD judge (trained once, cached) and its accuracy on the official test split."""
    folder = judge_dir()
    if not (folder / "config.json").is_file():
        torch.set_num_threads(1)
        train = load_audio_folder(fsdd_root(), split="train")
        test = load_audio_folder(fsdd_root(), split="test")
        judge = train_audio_judge(train)
        with torch.no_grad():
            heard = judge(judge_images(test.waves, test.sample_rate)).argmax(1)
        accuracy = (heard == test.labels).float().mean().item()
        save_classifier(judge, folder, {"data": "FSDD train split", "test_accuracy": accuracy})
    config = json.loads((folder / "config.json").read_text())
    return folder, config["metadata"]["test_accuracy"]


def figure_path(cpu_seconds: float) -> Path:
    """docs/img/audio_fsdd.png for the first recorded budget (20 CPU-s), else one per budget."""
    return FIGURES / (
        "audio_fsdd.png" if cpu_seconds == 20 else f"audio_fsdd-{cpu_seconds:.0f}s.png"
    )


def figure(shown: dict[str, Path], path: Path) -> None:
    """Rows per digit: 4 real test clips, 4 of each contender (seed of the first run)."""
    test = load_audio_folder(fsdd_root(), split="test")
    real = torch.cat([test.waves[test.labels == k][:SHOWN] for k in range(10)])
    blocks = [judge_images(real, test.sample_rate)]
    blocks += [load_tensors(path)["images"] for path in shown.values()]
    rows = [block[k * SHOWN : (k + 1) * SHOWN] for k in range(10) for block in blocks]
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image_grid(to_uint8(torch.cat(rows)).flip(-2), path, nrow=SHOWN * len(blocks))


def summary(results: dict[str, list[dict]], judge_accuracy: float, args) -> str:
    mean = protocol.mean_std
    lines = [
        f"Budget: {args.cpu_seconds:.0f} CPU-s of training per contender and seed, 1 thread; "
        f"{args.per_digit} clips per digit scored. gankit at resolution {args.resolution}.",
        f"Judge: reads the 300 real test clips {100 * judge_accuracy:.1f} % right (goal 97 %).",
        "",
        "| contender | accuracy on requested digit | FD | FD floor (real train) | "
        "FD / floor | diversity vs real | x real time per CPU-s | steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        ratio = [r["fd"] / r["fd_floor"] for r in runs]
        cells = [
            mean([r["accuracy"] for r in runs]),
            mean([r["fd"] for r in runs], 1),
            mean([r["fd_floor"] for r in runs], 1),
            mean(ratio, 1),
            mean([r["diversity_ratio"] for r in runs], 2),
            mean([r["realtime_per_cpu"] for r in runs], 0),
            mean([r["steps"] for r in runs], 0),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    ours = results[CONTENDERS[0]]
    met = {
        "accuracy ≥ 95 %": min(r["accuracy"] for r in ours) >= GOALS["accuracy"],
        "FD ≤ 2x floor": max(r["fd"] / r["fd_floor"] for r in ours) <= GOALS["fd_over_floor"],
        "diversity ≥ 0.8 of real": min(r["diversity_ratio"] for r in ours)
        >= GOALS["diversity_ratio"],
        "≥ 100x real time (2 cores, from 1-core speed x 2)": 2
        * min(r["realtime_per_cpu"] for r in ours)
        >= GOALS["realtime"],
    }
    lines += [
        "",
        "Goals for gankit (every seed): "
        + "; ".join(f"{goal}: {'met' if ok else 'MISSED'}" for goal, ok in met.items()),
    ]
    shown = figure_path(args.cpu_seconds).relative_to(ROOT / "docs")
    lines += ["", f"![real | gankit | peer, per digit]({shown})"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    protocol.add_arguments(parser)
    parser.add_argument("--cpu-seconds", type=float, default=150.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--per-digit", type=int, default=50)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--judge", help=argparse.SUPPRESS)
    parser.add_argument("--shown", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    rec = protocol.Recording(
        "Audio: class-conditional FSDD digits, AudioGAN vs a WaveGAN-style peer at equal CPU",
        args,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    folder, judge_accuracy = load_or_train_judge()
    rec.judge("FSDD judge (log-mel CNN)", folder / "classifier.safetensors")
    results: dict[str, list[dict]] = {name: [] for name in CONTENDERS}
    shown: dict[str, Path] = {}
    for seed in args.seeds:
        for name in CONTENDERS:
            path = OUT / f"{name.split()[0]}-seed{seed}.safetensors"
            argv = [sys.executable, __file__, "--worker", name, "--seed", str(seed)]
            argv += ["--cpu-seconds", str(args.cpu_seconds), "--per-digit", str(args.per_digit)]
            argv += ["--resolution", str(args.resolution), "--judge", str(folder)]
            argv += ["--shown", str(path)]
            measurement = rec.run(name, argv, seed=seed, threads=1)
            results[name].append(measurement.result)
            shown.setdefault(name, path)
    figure(shown, figure_path(args.cpu_seconds))
    rec.write(summary(results, judge_accuracy, args))


if __name__ == "__main__":
    main()
