"""PacGAN 2-D mixtures: the right centres, the right spread, deterministic sampling."""

import math

import pytest
import torch

from gankit.data import ToyData, toy_mixture
from gankit.errors import GankitError


def _per_component_std(data: ToyData) -> torch.Tensor:
    nearest = torch.cdist(data.points, data.centers).argmin(dim=1)
    return (data.points - data.centers[nearest]).std()


def test_ring_has_8_centres_on_unit_circle():
    data = toy_mixture("ring", n=20_000)
    assert data.centers.shape == (8, 2) and data.std == 0.01 and data.name == "ring"
    assert torch.allclose(data.centers.norm(dim=1), torch.ones(8))
    angles = torch.atan2(data.centers[:, 1], data.centers[:, 0]).remainder(2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8) * (2 * math.pi / 8), atol=1e-6)
    assert _per_component_std(data).item() == pytest.approx(0.01, rel=0.05)


def test_grid_has_25_centres_spaced_2():
    data = toy_mixture("grid", n=20_000)
    assert data.centers.shape == (25, 2) and data.std == 0.05
    assert sorted(data.centers[:, 0].unique().tolist()) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(c) for c in data.centers.tolist()}) == 25
    assert _per_component_std(data).item() == pytest.approx(0.05, rel=0.05)
    # Components are picked uniformly: each holds about 1/25 of the points.
    counts = torch.cdist(data.points, data.centers).argmin(dim=1).bincount(minlength=25)
    assert counts.min() > 0.8 * 20_000 / 25


def test_seed_fixes_points_and_batch_indexes():
    a, b = toy_mixture("ring", n=500, seed=3), toy_mixture("ring", n=500, seed=3)
    assert torch.equal(a.points, b.points)
    assert not torch.equal(a.points, toy_mixture("ring", n=500, seed=4).points)
    assert len(a) == 500 and a.points.dtype == torch.float32
    assert torch.equal(a.batch(torch.tensor([4, 1])), a.points[[4, 1]])


def test_unknown_kind_lists_valid_kinds():
    with pytest.raises(GankitError, match="unknown toy mixture 'spiral'.*ring, grid"):
        toy_mixture("spiral")
    with pytest.raises(GankitError, match="positive"):
        toy_mixture("ring", n=0)


def test_mode_labeller_agrees_with_the_metric():
    from gankit.metrics.modes import assign_modes

    data = toy_mixture("grid", n=512, seed=3)
    points = torch.cat([data.points[:256], torch.randn(64, 2) * 3])  # real points and strays
    spacing = torch.pdist(data.centers).min().item()
    expected = assign_modes(points, data.centers, spacing / 4)
    assert torch.equal(data.assign_modes(points), expected)
    assert (expected[:256] >= 0).all() and (expected[256:] == -1).any()
