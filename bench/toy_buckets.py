"""Where a toy G puts its off-mode samples: one run per setting, diagnosed per latent bucket.

For each setting (JSON overrides of the preset's training and model options) this trains one
ToyGAN on one seed, scores G_ema and the raw G under the PacGAN protocol of bench/toy_mixtures.py
(2,500 samples; modes within 3 std; high quality = share within 3 std of a centre), and, when G
has latent buckets, splits 20,000 G_ema samples by bucket: every bucket with under 95 % of its
samples on a mode, or on more than one mode, is listed with that share, its mode(s), its mean
point and its largest per-axis spread, and the table counts buckets per mode. It answers "are the
misses spread between modes, or whole buckets parked off a centre?" for one seed at a time; the
10-seed protocol is bench/toy_mixtures.py.

    python bench/toy_buckets.py --kind grid --seed 0 '{}' '{"train": {"r1_gamma": 0.001}}'
    python bench/toy_buckets.py --seed 1 '{"model": {"latent_buckets": 50}}'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import append_section  # noqa: E402

from gankit import ToyGAN  # noqa: E402
from gankit.data import toy_mixture  # noqa: E402
from gankit.metrics.modes import toy_mode_stats  # noqa: E402
from gankit.nn.generate import generate  # noqa: E402


def bucket_report(G: torch.nn.Module, centers: torch.Tensor, std: float) -> str:
    """Buckets of G_ema that miss the modes, and how many buckets each mode holds."""
    buckets = G.buckets
    z = torch.randn(20_000, G.latent_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        x = G(z)
    bucket = G.bucket_of(z)
    distance, nearest = torch.cdist(x, centers).min(1)
    on_mode = distance <= 3 * std
    per_mode = torch.zeros(len(centers), dtype=torch.long)
    misses = []
    for k in range(buckets):
        mine = bucket == k
        share = on_mode[mine].float().mean().item()
        modes = torch.unique(nearest[mine & on_mode]).tolist()
        per_mode[modes] += 1
        if share < 0.95 or len(modes) > 1:
            mean = ", ".join(f"{v:.2f}" for v in x[mine].mean(0).tolist())
            spread = x[mine].std(0).max().item()
            misses.append(f"{k}: {share:.0%} on {modes or 'no mode'} at ({mean}) ±{spread:.2f}")
    return (
        f"{len(misses)} of {buckets} buckets under 95 % on one mode"
        + (
            " (" + "; ".join(misses[:12]) + ("; ..." if len(misses) > 12 else "") + ")"
            if misses
            else ""
        )
        + f"; buckets per mode {per_mode.min().item()}-{per_mode.max().item()}, "
        f"modes with none {(per_mode == 0).sum().item()}"
    )


def run(preset: str, kind: str, seed: int, steps: int | None, setting: dict) -> str:
    """Train one setting and return its table row."""
    torch.set_num_threads(1)
    started = time.perf_counter()
    gan = ToyGAN(preset, seed=seed, model=setting.get("model", {}), **setting.get("train", {}))
    gan.fit(kind, steps=steps, quiet=True)
    seconds = time.perf_counter() - started
    data = toy_mixture(kind, seed=seed)
    scores = []
    for G in (gan.G_ema, gan.G):
        stats = toy_mode_stats(generate(G, 2500, seed=10_000 + seed), data.centers, data.std)
        scores.append(f"{stats['modes_covered']} / {100 * stats['high_quality_fraction']:.1f}")
    buckets = bucket_report(gan.G_ema, data.centers, data.std) if gan.G_ema.buckets else "–"
    return f"| `{json.dumps(setting)}` | {scores[0]} | {scores[1]} | {seconds:.0f} | {buckets} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("settings", nargs="+", help='JSON, e.g. \'{"train": {"r1_gamma": 0.1}}\'')
    parser.add_argument("--preset", default="toy-rpgan")
    parser.add_argument("--kind", default="grid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's own")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [
        "| overrides of the preset | G_ema modes / HQ % | raw G modes / HQ % | s | buckets |",
        "|---|---|---|---|---|",
    ]
    for text in args.settings:
        rows.append(run(args.preset, args.kind, args.seed, args.steps, json.loads(text)))
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    if args.no_record:
        return
    append_section(
        f"Toy G per latent bucket: `{args.preset}`, {args.kind}, seed {args.seed}",
        f"One run per setting, one thread, steps: {args.steps or 'preset'}.\n\n{table}",
        time.perf_counter() - started,
    )


if __name__ == "__main__":
    main()
