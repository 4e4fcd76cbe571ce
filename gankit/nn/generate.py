"""Drawing a generator's outputs for a seed, the same way everywhere (samples, grids, metrics)."""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from gankit.errors import GankitError


def latents(n: int, dim: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """``n`` standard-normal latents of ``dim`` entries from a fresh CPU RNG seeded with ``seed``.

    ``truncation`` t draws every entry from the normal truncated to [-t, t] instead (BigGAN's
    truncation trick, Brock et al. 2019): samples move toward the typical output, so fidelity
    (e.g. how clearly a class-conditional sample shows its class) rises and diversity falls.

    Example:
        >>> z = latents(1000, 8, seed=0, truncation=0.5)
        >>> z.shape, bool(z.abs().max() <= 0.5)
        (torch.Size([1000, 8]), True)
    """
    return draw_latents(torch.Generator().manual_seed(seed), n, dim, truncation)


def draw_latents(
    rng: torch.Generator, n: int, dim: int, truncation: float | None = None
) -> torch.Tensor:
    """:func:`latents` from a CPU generator the caller owns (one that draws more than latents)."""
    if truncation is None:
        return torch.randn(n, dim, generator=rng)
    number = isinstance(truncation, numbers.Real) and not isinstance(truncation, bool)
    if not (number and 0 < truncation < math.inf):  # the comparison also refuses NaN
        raise GankitError(f"truncation must be a positive number, got {truncation!r}")
    # Inverse-CDF sampling between the bounds: exact, and no redraw loop for small t.
    low = torch.special.ndtr(torch.tensor(-float(truncation), dtype=torch.float64))
    u = low + (1 - 2 * low) * torch.rand(n, dim, generator=rng, dtype=torch.float64)
    return torch.special.ndtri(u).clamp(-float(truncation), float(truncation)).float()


@torch.no_grad()
def generate(
    G: nn.Module,
    n: int,
    seed: int,
    batch_size: int = 256,
    cond: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    truncation: float | None = None,
) -> torch.Tensor:
    """``G``'s output (on CPU, float32) for ``n`` latents from a fresh RNG seeded with ``seed``.

    The latents are drawn on CPU, so a seed gives the same samples on every device. ``G`` is put
    in eval mode for the call and restored afterwards. A conditional ``G`` gets ``cond`` (one row
    per sample: labels ``(n,)`` or vectors ``(n, d)``); ``z`` replaces the seeded latents (``seed``
    is then unused), for interpolations; ``truncation`` draws truncated latents (:func:`latents`).

    Example:
        >>> from gankit.nn import build_gan
        >>> G = build_gan("dcgan", {"resolution": 16, "g_width": 8, "d_width": 8})[0]
        >>> torch.equal(generate(G, 4, seed=1), generate(G, 4, seed=1))
        True
    """
    was_training = G.training
    G.eval()
    device = next(G.parameters()).device
    if z is None:
        z = latents(n, G.latent_dim, seed, truncation)
    index = torch.arange(n).split(batch_size)
    try:
        if cond is None:
            return torch.cat([G(z[part].to(device)).float().cpu() for part in index])
        return torch.cat(
            [G(z[part].to(device), cond[part].to(device)).float().cpu() for part in index]
        )
    finally:
        G.train(was_training)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents ``a`` and ``b`` (B, Z) at fractions ``t`` (T,).

    Gaussian latents live near a sphere; a straight line between two of them passes through
    low-norm points G rarely saw, so interpolations walk the arc instead. Returns (B, T, Z).

    Example:
        >>> a, b = torch.randn(2, 8), torch.randn(2, 8)
        >>> path = slerp(a, b, torch.linspace(0, 1, 5))
        >>> path.shape, torch.allclose(path[:, -1], b, atol=1e-5)
        (torch.Size([2, 5, 8]), True)
    """
    a_unit = a / a.norm(dim=1, keepdim=True)
    b_unit = b / b.norm(dim=1, keepdim=True)
    omega = torch.acos((a_unit * b_unit).sum(1).clamp(-1 + 1e-7, 1 - 1e-7))[:, None]  # (B, 1)
    t = t[None, :]  # (1, T)
    sin = torch.sin(omega)
    wa = (torch.sin((1 - t) * omega) / sin)[:, :, None]  # (B, T, 1)
    wb = (torch.sin(t * omega) / sin)[:, :, None]
    return wa * a[:, None] + wb * b[:, None]
