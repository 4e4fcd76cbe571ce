"""ToyGAN on the PacGAN 2-D mixtures: modes really get covered, and the monitor stays quiet."""

import pytest
import torch

from gankit import ToyGAN
from gankit.data import toy_mixture
from gankit.metrics.modes import toy_mode_stats


def covered(gan, kind, seed=0):
    data = toy_mixture(kind, seed=seed)
    return toy_mode_stats(gan.sample(2500, seed=10_000 + seed), data.centers, data.std)


def test_toy_rpgan_covers_every_mode_of_the_ring_without_alarms():
    # A short run of the real recipe (half the batch, 800 of its 6000 steps): every mode is
    # already reached; precision comes later (see bench/toy_mixtures.py for the full runs).
    gan = ToyGAN("toy-rpgan", batch_size=128).fit("ring", steps=800, quiet=True)
    assert covered(gan, "ring")["modes_covered"] == 8
    assert "alarms_fired" not in gan.history


def test_toy_rpgan_reaches_every_grid_mode_early():
    # 1,000 of the recipe's 6,000 steps at half the batch: G already lands within a quarter of the
    # spacing of all 25 centres (the health probe's mode radius) and within 3 std of most of them;
    # the samples tighten onto the centres as the lr decays (see bench/toy_mixtures.py).
    gan = ToyGAN("toy-rpgan", batch_size=128).fit("grid", steps=1000, quiet=True)
    data = toy_mixture("grid")
    labels = data.assign_modes(gan.sample(2500, seed=10_000))
    assert torch.unique(labels[labels >= 0]).tolist() == list(range(25))
    assert covered(gan, "grid")["modes_covered"] >= 20
    assert "alarms_fired" not in gan.history


# Regression guards at what bench/toy_mixtures.py measured for seeds 0-3 with 64 latent buckets
# (ring 8 modes, HQ 0.984-1.0; grid 22-25 modes, HQ 0.856-0.986), not the grid goal
# (25 modes / 97 % every seed), which this recipe does not reach yet.
@pytest.mark.slow
@pytest.mark.parametrize("kind,min_modes,min_hq", [("ring", 8, 0.97), ("grid", 21, 0.8)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_toy_rpgan_full_recipe_under_the_pacgan_protocol(kind, min_modes, min_hq, seed):
    gan = ToyGAN("toy-rpgan", seed=seed).fit(kind, quiet=True)
    stats = covered(gan, kind, seed)
    assert stats["modes_covered"] >= min_modes
    assert stats["high_quality_fraction"] >= min_hq


def test_latent_buckets_let_g_jump_between_modes():
    from gankit.errors import GankitError
    from gankit.nn.mlp import MLPConfig, build_mlp

    torch.manual_seed(0)
    G, _ = build_mlp(MLPConfig(hidden=16, depth=2, latent_buckets=4))
    z = torch.zeros(2, G.latent_dim)
    z[0, 0], z[1, 0] = -1e-4, 1e-4  # the two sides of the boundary between buckets 1 and 2
    with torch.no_grad():
        G.bucket_vectors.weight.copy_(torch.arange(4.0)[:, None].expand(4, 16) * 10)
        jump = (G(z)[0] - G(z)[1]).norm()
        z[1, 0] = -2e-4  # same bucket: a continuous step of the same size
        step = (G(z)[0] - G(z)[1]).norm()
    assert jump > 1e3 * step
    seen = []
    G.bucket_vectors.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    with torch.no_grad():
        G(torch.randn(40_000, G.latent_dim))
    counts = torch.bincount(seen[0], minlength=4)  # z ~ N(0, I) picks each bucket equally often
    assert len(counts) == 4 and (counts - 10_000).abs().max() < 400
    with pytest.raises(GankitError, match="latent_buckets must be 0 \\(off\\) or >= 2, got 1"):
        MLPConfig(latent_buckets=1)
