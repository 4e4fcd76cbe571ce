"""Self-conditioning: the wrapped G draws clusters from its last latent coordinate."""

import pytest
import torch

from gankit.errors import GankitError
from gankit.nn import build_gan

TINY = {"resolution": 16, "g_width": 8, "d_width": 8, "latent_dim": 4}


def test_clusters_build_a_cluster_conditional_pair_behind_an_unconditional_g():
    G, D, config = build_gan("dcgan", {**TINY, "clusters": 3})
    assert config.clusters == 3 and config.condition == "none"  # what config.json records
    assert G.latent_dim == TINY["latent_dim"] + 1
    assert G.generator.condition is not None  # the inner G reads a class embedding
    x = G(torch.randn(6, G.latent_dim))
    assert x.shape == (6, 1, 16, 16)
    assert D(x, torch.tensor([0, 1, 2, 0, 1, 2])).shape == (6,)


def test_clusters_are_drawn_with_the_data_frequencies_and_never_an_empty_one():
    G, _, _ = build_gan("dcgan", {**TINY, "clusters": 3})
    G.set_frequencies(torch.tensor([70, 0, 30]))
    drawn = G.draw_clusters(torch.randn(20_000, generator=torch.Generator().manual_seed(0)))
    shares = torch.bincount(drawn, minlength=3) / len(drawn)
    assert shares[1] == 0
    assert abs(shares[0] - 0.7) < 0.015 and abs(shares[2] - 0.3) < 0.015


def test_a_given_cluster_wins_over_the_cluster_coordinate():
    G, _, _ = build_gan("dcgan", {**TINY, "clusters": 3})
    G.eval()
    z = torch.randn(2, G.latent_dim)
    moved = z.clone()
    moved[:, -1] = -z[:, -1] + 5  # another cluster coordinate, same noise otherwise
    cluster = torch.tensor([2, 0])
    assert torch.equal(G(z, cluster), G(moved, cluster))
    assert torch.equal(G(z), G(z, G.draw_clusters(z[:, -1])))


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"clusters": 1}, "clusters must be 0"), ({"clusters": 4, "condition": "class",
      "condition_size": 2}, "without another condition"),
     ({"clusters": 4, "pack": 2}, "cannot be combined")],
)  # fmt: skip
def test_bad_cluster_settings_are_refused(settings, message):
    with pytest.raises(GankitError, match=message):
        build_gan("dcgan", {**TINY, **settings})


def test_bad_cluster_sizes_are_refused():
    G, _, _ = build_gan("dcgan", {**TINY, "clusters": 3})
    with pytest.raises(GankitError, match="3 counts"):
        G.set_frequencies(torch.tensor([1.0, 2.0]))
    with pytest.raises(GankitError, match="positive sum"):
        G.set_frequencies(torch.zeros(3))
