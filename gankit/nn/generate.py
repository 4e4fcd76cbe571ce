"""Drawing a generator's outputs for a seed, the same way everywhere (samples, grids, metrics)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def generate(G: nn.Module, n: int, seed: int, batch_size: int = 256) -> torch.Tensor:
    """``G``'s output (on CPU, float32) for ``n`` latents from a fresh RNG seeded with ``seed``.

    The latents are drawn on CPU, so a seed gives the same samples on every device. ``G`` is put
    in eval mode for the call and restored afterwards.

    Example:
        >>> G = build_gan("dcgan", {"resolution": 16})[0]   # doctest: +SKIP
        >>> torch.equal(generate(G, 4, seed=1), generate(G, 4, seed=1))  # doctest: +SKIP
        True
    """
    was_training = G.training
    G.eval()
    device = next(G.parameters()).device
    z = torch.randn(n, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    try:
        return torch.cat([G(chunk.to(device)).float().cpu() for chunk in z.split(batch_size)])
    finally:
        G.train(was_training)
