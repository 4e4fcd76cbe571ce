"""The parity checks: eager PyTorch against onnxruntime (CPU) for one model and its export.

The issue's bar: max |Δ| <= 1e-4 on the network's outputs (in [-1, 1]) and >= 99.9 % identical
uint8 pixels (table cells) after the same post-processing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from families import RECIPES
from torch import Tensor, nn

from gankit.tasks import GANTask, Generator

SEEDS = range(64)
MAX_ABS = 1e-4
MIN_SAME = 0.999


def _network_output(gan: GANTask, n: int, seed: int) -> tuple[Tensor, Any]:
    """What the network returned inside ``generate_raw`` (before tabular draws), and the raw."""
    seen: list[Tensor] = []
    network = gan.network()
    handle = network.register_forward_hook(lambda module, args, out: seen.append(out))
    try:
        raw = gan.generate_raw(n, seed=seed, condition=_condition(gan))
    finally:
        handle.remove()
    return torch.cat(seen), raw


def _condition(gan: Generator) -> Any:
    """A condition of the model's kind (None: every class or text in turn, or none)."""
    task = gan.task
    return RECIPES[task].condition if gan.condition_kind in ("text", "columns") else None


def _same_fraction(a: Any, b: Any) -> float:
    """Identical pixels, or table cells: float columns decode a tanh offset times the column's
    scale (thousands for an income), so they agree to float32's relative precision instead."""
    if isinstance(a, pd.DataFrame):
        same = [
            np.isclose(a[c], b[c], rtol=1e-5, atol=0, equal_nan=True)
            if pd.api.types.is_float_dtype(a[c])
            else (a[c].astype(str) == b[c].astype(str)).to_numpy()
            for c in a.columns
        ]
        return float(np.mean(same))
    return float((a == b).float().mean())


def check_generator(gan: Generator, runner: Generator, n: int, seeds: range) -> tuple[float, float]:
    """Assert the bar over ``seeds``; return (max |delta|, share identical after postprocess)."""
    worst, same, total = 0.0, 0.0, 0
    for seed in seeds:
        torch_out, torch_raw = _network_output(gan, n, seed)
        onnx_out, onnx_raw = _network_output(runner, n, seed)
        assert onnx_out.shape == torch_out.shape
        worst = max(worst, float((onnx_out - torch_out).abs().max()))
        if gan.describe()["output"] == "points":  # no post-processing: the points themselves
            worst = max(worst, float((onnx_raw - torch_raw).abs().max()))
            continue
        same += _same_fraction(gan.postprocess(torch_raw), runner.postprocess(onnx_raw))
        total += 1
    assert worst <= MAX_ABS, f"max |delta| {worst:.3g}"
    if total:
        assert same / total >= MIN_SAME, f"identical after post-processing: {same / total:.4%}"
    return worst, same / total if total else 1.0


def images(channels: int, size: tuple[int, int], seed: int, n: int = 2) -> Tensor:
    rng = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, channels, *size), generator=rng, dtype=torch.uint8)


def check_translator(
    gan: GANTask, runner: GANTask, size: tuple[int, int], seeds: range, n: int = 2
) -> tuple[float, float]:
    """Assert the bar over ``seeds``; return (max |delta|, share of identical uint8 pixels)."""
    direction = runner.directions[0]
    network, stand_in = gan.network(direction=direction), runner.network(direction=direction)
    channels = next(m for m in network.modules() if isinstance(m, nn.Conv2d)).in_channels
    worst, same = 0.0, 0.0
    for seed in seeds:
        pixels = images(channels, size, seed, n)
        source = pixels.float() / 127.5 - 1
        empty = source.new_zeros(n, 0)
        network.eval()
        with torch.no_grad():
            expected = network(empty, source)
        got = stand_in(empty, source)
        assert got.shape == expected.shape
        worst = max(worst, float((got - expected).abs().max()))
        same += _same_fraction(
            gan.apply(pixels, direction=direction), runner.apply(pixels, direction=direction)
        )
    assert worst <= MAX_ABS, f"max |delta| {worst:.3g}"
    assert same / len(seeds) >= MIN_SAME, f"identical uint8 pixels: {same / len(seeds):.4%}"
    return worst, same / len(seeds)


def traced_size(gan: GANTask) -> tuple[int, int]:
    side = gan.describe().get("resolution") or 16
    return side, side
