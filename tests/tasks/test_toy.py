"""ToyGAN on the PacGAN 2-D mixtures: modes really get covered, and the monitor stays quiet."""

import pytest

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


# Regression guards at what bench/toy_mixtures.py measured for seeds 0-2 (ring 8 modes, HQ
# 0.85-0.88; grid 20-23 modes, HQ 0.44-0.50), not the goals (grid 25 / 97 %, ring 98 %),
# which this recipe does not reach yet.
@pytest.mark.slow
@pytest.mark.parametrize("kind,min_modes,min_hq", [("ring", 8, 0.8), ("grid", 20, 0.4)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_toy_rpgan_full_recipe_under_the_pacgan_protocol(kind, min_modes, min_hq, seed):
    gan = ToyGAN("toy-rpgan", seed=seed).fit(kind, quiet=True)
    stats = covered(gan, kind, seed)
    assert stats["modes_covered"] >= min_modes
    assert stats["high_quality_fraction"] >= min_hq
