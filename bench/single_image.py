"""Single-image generation: gankit's SingleImageGAN against a GPNN-style patch nearest-neighbour
baseline, side by side, on photographs and textures that installed packages ship.

Images (all bundled in the scikit-image wheel, ``skimage/data/*.png``; nothing downloads):
``chelsea``, ``coffee``, ``astronaut`` (colour photographs, the ``consingan`` preset) and
``brick``, ``grass``, ``gravel`` (grayscale textures, trained as RGB with ``gray=True`` under the
``texture`` preset: circular padding, tileable). Each is shrunk to ``--max-side`` pixels.

Contenders, each alone in a child process with 1 thread, per image and seed:

- **gankit**: ``SingleImageGAN`` for ``--steps-per-stage`` (100) x 5 stages (the presets' 800 per
  stage is out of this shared machine's budget), 50 samples at the training size;
- **GPNN** (Granot et al. 2022, "Drop the GAN"), implemented here: a 0.75-scale pyramid down to a
  shorter side of 14 px, the coarsest level plus Gaussian noise (``--gpnn-noise``, default sigma
  1.5 in [-1, 1] units, GPNN's 0.75 on a [0, 1] scale; sigma 0.75 gave 47 copies in 50 samples
  on the validation image ``china``, 1.5 gave 19),
  then at every level ``--gpnn-iters`` rounds of replacing each 7x7 patch by its nearest
  neighbour among the real image's patches (keys: the blurred real level in the first round, as
  GPNN) with GPNN's completeness normalisation (alpha 0.005), overlapping patches averaged;
  50 samples.

Both are scored by ``gankit.metrics.single_image`` against the training image: patch SWD per
Laplacian-pyramid level (x 1e3, same patch and direction seed for both), diversity (per-pixel std
over the 50 samples / the image's std), copies (a sample within 0.1 std of the image up to a
shift) and, for gankit, the seam of tileable samples (wrap-around gradient energy / interior).
A timing contender trains the default preset's generator at ``--timing-side`` px for 20 steps
per stage: the CPU seconds of the preset's 4,000 steps are extrapolated from it.

    nohup python bench/single_image.py > /tmp/single_image.log 2>&1 &        # the recorded run
    python bench/single_image.py --images chelsea --seeds 0 --steps-per-stage 10 --no-record
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402
from _record import ROOT  # noqa: E402

from gankit.metrics.single_image import seam_ratio, single_image_report  # noqa: E402
from gankit.tasks.single_image import SingleImageGAN  # noqa: E402
from gankit.viz import save_image_grid, to_uint8  # noqa: E402

OUT = ROOT / "bench" / "out" / "single_image"
IMG = ROOT / "docs" / "img"
# image -> preset; the textures are grayscale in scikit-image and train under the texture preset.
IMAGES = {
    "chelsea": "consingan",
    "coffee": "consingan",
    "astronaut": "consingan",
    "brick": "texture",
    "grass": "texture",
    "gravel": "texture",
}
GRAY = {"brick", "grass", "gravel"}
STAGES = 5
SAMPLES = 50
SHOWN = 8  # samples in the figures
PRESET_STEPS = 4000  # the presets' steps, for the timing extrapolation
GANKIT, GPNN = "gankit", "GPNN"


# ----------------------------------------------------------------------------- GPNN baseline


def _resize(x: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=shape, mode="bicubic", antialias=True, align_corners=False)


def _patch_nn(
    x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, patch: int, alpha: float
) -> torch.Tensor:
    """Every patch of ``x`` (1, C, h, w) replaced by the value of its nearest key, folded back
    with overlaps averaged. Scores are GPNN's: d(q, k) / (alpha + min over queries d(q, k))."""
    shape = x.shape[-2:]
    queries = F.unfold(x, patch)[0].T  # (Q, C*p*p)
    distances = (
        queries.square().sum(1, keepdim=True) + keys.square().sum(1)[None] - 2 * queries @ keys.T
    )
    distances = distances / (alpha + distances.min(0, keepdim=True).values.clamp_min(0))
    chosen = values[distances.argmin(1)].T[None]
    weights = F.fold(F.unfold(torch.ones_like(x), patch), shape, patch)
    return F.fold(chosen, shape, patch) / weights


def gpnn_sample(
    image: torch.Tensor,
    rng: torch.Generator,
    iters: int,
    scale: float = 0.75,
    coarse: int = 14,
    patch: int = 7,
    noise: float = 0.75,
    alpha: float = 0.005,
) -> torch.Tensor:
    """One GPNN sample of ``image`` (1, C, H, W) in [-1, 1]; see the module notes."""
    h, w = image.shape[-2:]
    levels = max(1, math.ceil(math.log(coarse / min(h, w)) / math.log(scale)) + 1)
    shapes = [
        (round(h * scale ** (levels - 1 - k)), round(w * scale ** (levels - 1 - k)))
        for k in range(levels)
    ]
    shapes[-1] = (h, w)
    reals = [_resize(image, shape) for shape in shapes]
    x = reals[0] + noise * torch.randn(reals[0].shape, generator=rng)
    for k, shape in enumerate(shapes):
        values = F.unfold(reals[k], patch)[0].T
        # The first round matches against the real level blurred to the coarser one's detail.
        blurred = F.unfold(_resize(reals[k - 1], shape), patch)[0].T if k else values
        if k:
            x = _resize(x, shape)
        for round_ in range(iters):
            x = _patch_nn(x, blurred if round_ == 0 else values, values, patch, alpha)
    return x.clamp(-1, 1)


# ----------------------------------------------------------------------------- workers


def _training_image(name: str, max_side: int) -> torch.Tensor:
    from gankit.data.superres import training_images
    from gankit.tasks.single_image import fit_to_side

    return fit_to_side(training_images([name])[0], max_side).float() / 127.5 - 1


def _figure(image: torch.Tensor, samples: torch.Tensor, path: Path) -> None:
    save_image_grid(to_uint8(torch.cat([image[None], samples[:SHOWN]])), path, nrow=SHOWN + 1)


def worker(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    name, seed = args.image, args.seed
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.process_time()
    if args.worker == "timing":
        gan = SingleImageGAN(max_side=args.timing_side, steps=20 * STAGES, seed=seed)
        gan.fit(name, quiet=True)
        seconds = time.process_time() - started
        shape = [gan.config.height, gan.config.width]
        protocol.emit({"steps": 20 * STAGES, "train_cpu_s": round(seconds, 1), "size": shape})
        return
    if args.worker == GANKIT:
        steps = args.steps_per_stage * STAGES
        gan = SingleImageGAN(
            IMAGES[name], max_side=args.max_side, steps=steps, seed=seed, gray=name in GRAY
        )
        gan.fit(name, quiet=True)
        image = gan._data.reals[-1][0]
        samples = gan.generate_raw(SAMPLES, seed=1000 + seed)
        tiles = gan.generate_raw(SHOWN, seed=2000 + seed, tileable=True)
        extra = {"steps": steps, "seam": round(float(seam_ratio(tiles).mean()), 4)}
        extra["seam_worst"] = round(float(seam_ratio(tiles).max()), 4)
        if IMAGES[name] == "texture":
            big = gan.generate_raw(1, seed=3000 + seed, size=(96, 96))[0]
            mosaic = big.repeat(1, 3, 3)[None]
            save_image_grid(to_uint8(mosaic), OUT / f"{name}-tiles-s{seed}.png", nrow=1)
            extra["seam_96px"] = round(float(seam_ratio(big[None])[0]), 4)
    else:
        image = _training_image(name, args.max_side)
        rng = torch.Generator().manual_seed(seed)
        samples = torch.cat(
            [
                gpnn_sample(image[None], rng, args.gpnn_iters, noise=args.gpnn_noise)
                for _ in range(SAMPLES)
            ]
        )
        extra = {}
    _figure(image, samples, OUT / f"{name}-{args.worker}-s{seed}.png")
    report = single_image_report(samples, image)
    protocol.emit({**report, **extra, "generate_and_train_cpu_s": time.process_time() - started})


# ----------------------------------------------------------------------------- the recording


def _mean(values: list[float], digits: int = 1) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def summarise(results: dict, images: list[str], seeds: list[int], timing) -> str:
    lines = [
        f"Per image, mean ± std over seeds {', '.join(map(str, seeds))} (n = {len(seeds)}); "
        "patch SWD x 1e3 per Laplacian level (shorter side in px; lower is better), diversity "
        "(higher is more varied), copies among 50 samples, CPU seconds per run (1 thread). "
        "gankit's seam: tileable samples' wrap-around gradient energy / interior.",
        "",
        "| image | contender | SWD per level | SWD mean | diversity | copies | seam | CPU s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for name in images:
        per = {}
        for contender in (GANKIT, GPNN):
            runs = [results[name, contender, seed] for seed in seeds]
            levels = [k for k in runs[0].result if k.startswith("swd_") and k != "swd_mean"]
            per[contender] = {
                "levels": {k: statistics.fmean(r.result[k] for r in runs) for k in levels},
                "diversity": statistics.fmean(r.result["diversity"] for r in runs),
                "copies": sum(r.result["copies"] for r in runs),
            }
            swd = ", ".join(f"{k[4:]}: {_mean([r.result[k] for r in runs])}" for k in levels)
            seam = _mean([r.result["seam"] for r in runs], 2) if contender == GANKIT else "–"
            lines.append(
                f"| {name} | {contender} | {swd} | {_mean([r.result['swd_mean'] for r in runs])} "
                f"| {_mean([r.result['diversity'] for r in runs], 3)} "
                f"| {sum(r.result['copies'] for r in runs)} | {seam} "
                f"| {_mean([r.cpu_seconds for r in runs], 0)} |"
            )
        ours, base = per[GANKIT], per[GPNN]
        worse = [k[4:] for k, v in ours["levels"].items() if v > base["levels"][k]]
        ratio = ours["diversity"] / max(base["diversity"], 1e-9)
        swd_verdict = (
            "no worse than GPNN's at every level"
            if not worse
            else f"worse than GPNN's at level(s) {', '.join(worse)} px"
        )
        verdicts.append(
            f"- {name}: SWD {swd_verdict}; diversity {ratio:.2f}x GPNN's; copies "
            f"{ours['copies']} (gankit), {base['copies']} (GPNN)"
        )
    texture_seams = [
        results[name, GANKIT, seed].result["seam"]
        for name in images
        if IMAGES[name] == "texture"
        for seed in seeds
    ]
    if not images:
        lines = ["Goal:", ""]
    else:
        lines += ["", "Goals, per image (means over seeds):", "", *verdicts]
    if texture_seams:
        lines.append(
            f"- texture mode seam energy: {_mean(texture_seams, 3)} x the interior over "
            f"{len(texture_seams)} texture runs (worst run {max(texture_seams):.3f}; goal <= 1.2)"
        )
    if timing is not None:
        per_step = timing.result["train_cpu_s"] / timing.result["steps"]
        h, w = timing.result["size"]
        lines.append(
            f"- time: the default preset's generator at {h}x{w} px trained "
            f"{timing.result['steps']} steps (20 per stage) in {timing.result['train_cpu_s']} "
            f"CPU s; its {PRESET_STEPS} steps would take about "
            f"{per_step * PRESET_STEPS / 60:.1f} CPU-minutes (extrapolated; goal <= 10)"
        )
    return "\n".join(lines)


def figures(images: list[str]) -> list[str]:
    """Seed 0's grids into docs/img: the training image and 8 samples of each contender."""
    IMG.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in images:
        for contender in (GANKIT, GPNN):
            source = OUT / f"{name}-{contender}-s0.png"
            target = IMG / f"single-image-{name}-{contender.lower()}.png"
            if source.is_file():
                shutil.copyfile(source, target)
                lines.append(f"![{name}, {contender}](img/{target.name})")
        tiles = OUT / f"{name}-tiles-s0.png"
        if tiles.is_file():
            target = IMG / f"single-image-{name}-tiles.png"
            shutil.copyfile(tiles, target)
            lines.append(f"![{name}, 3x3 tiling of one 96x96 gankit sample](img/{target.name})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    protocol.add_arguments(parser)
    parser.add_argument("--images", default=",".join(IMAGES), help="comma-separated image names")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--max-side", type=int, default=48)
    parser.add_argument("--steps-per-stage", type=int, default=100)
    parser.add_argument("--gpnn-iters", type=int, default=5)
    parser.add_argument("--gpnn-noise", type=float, default=1.5)
    parser.add_argument("--timing-side", type=int, default=160, help="0: no timing contender")
    parser.add_argument("--worker", choices=(GANKIT, GPNN, "timing"), help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    images = [name for name in args.images.split(",") if name]
    unknown = sorted(set(images) - set(IMAGES))
    if unknown:
        raise SystemExit(f"unknown image(s) {unknown}; valid: {', '.join(IMAGES)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    if not images and not args.timing_side:
        raise SystemExit("nothing to run: give --images, or --timing-side for the timing alone")
    title = (
        f"Single-image generation: gankit vs GPNN on {', '.join(images)} "
        f"({args.max_side} px, {len(seeds)} seeds)"
        if images
        else f"Single-image generation: SingleImageGAN training time at {args.timing_side} px"
    )
    rec = protocol.Recording(title, args)
    common = [f"--max-side={args.max_side}", f"--steps-per-stage={args.steps_per_stage}"]
    common += [f"--gpnn-iters={args.gpnn_iters}", f"--gpnn-noise={args.gpnn_noise}"]
    common += [f"--timing-side={args.timing_side}"]
    results = {}
    for name in images:
        for seed in seeds:
            for contender in (GANKIT, GPNN):
                argv = [sys.executable, __file__, f"--worker={contender}", f"--image={name}"]
                results[name, contender, seed] = rec.run(
                    f"{contender} {name}", [*argv, f"--seed={seed}", *common], seed=seed, threads=1
                )
    timing = None
    if args.timing_side:
        argv = [sys.executable, __file__, "--worker=timing", "--image=chelsea", "--seed=0"]
        timing = rec.run(
            f"gankit timing {args.timing_side} px", [*argv, *common], seed=0, threads=1
        )
    body = summarise(results, images, seeds, timing)
    if images:
        body += "\n\nSeed 0: the training image, then 8 samples.\n\n"
        body += "\n\n".join(figures(images))
    rec.write(body)


if __name__ == "__main__":
    main()
