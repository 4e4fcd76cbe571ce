"""Exponential moving average of the generator's weights."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(generator: nn.Module) -> nn.Module:
    """A frozen copy of ``generator`` in eval mode, to be updated by :func:`update_ema`."""
    ema = copy.deepcopy(generator).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, generator: nn.Module, step: int, beta: float, warmup: int) -> None:
    """Move ``ema`` toward ``generator``.

    The decay ramps up as ``min(beta, (1 + step) / (warmup + step))`` so early, poor weights fade
    out quickly instead of dominating the average for thousands of steps. Buffers (BatchNorm
    running statistics) are copied, not averaged, because they describe the current weights.
    """
    decay = min(beta, (1 + step) / (warmup + step)) if beta > 0 else 0.0
    for p_ema, p in zip(ema.parameters(), generator.parameters(), strict=True):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), generator.buffers(), strict=True):
        b_ema.copy_(b)
