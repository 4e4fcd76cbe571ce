"""The RRDB upscaler and its discriminator: shapes, the bicubic start, the registry, bad configs."""

import pytest
import torch

from gankit.errors import GankitError
from gankit.imageops import bicubic_resize
from gankit.nn import TRANSLATORS, build_gan
from gankit.nn.rrdb import RRDBConfig, build_rrdb

TINY = {"width": 8, "blocks": 1, "growth": 4, "d_width": 8, "d_stages": 2}


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("upsampler", ["pixelshuffle", "esrgan"])
def test_shapes(scale, upsampler):
    torch.manual_seed(0)
    G, D = build_rrdb(RRDBConfig(scale=scale, upsampler=upsampler, **TINY))
    lr = torch.rand(2, 3, 10, 14) * 2 - 1
    sr = G(torch.zeros(2, 0), lr)
    assert G.latent_dim == 0
    assert sr.shape == (2, 3, 10 * scale, 14 * scale)
    assert D(sr).shape == (2,) and D(sr, lr).shape == (2,)  # the condition is ignored
    assert [f.shape[1] for f in D.features(sr)] == [8, 16]


def test_untrained_generator_is_exactly_bicubic_and_learns_away_from_it():
    torch.manual_seed(0)
    G, _ = build_rrdb(RRDBConfig(scale=4, **TINY))
    lr = torch.rand(1, 3, 12, 12) * 2 - 1
    sr = G(torch.zeros(1, 0), lr)
    assert torch.equal(sr, bicubic_resize(lr, (48, 48)))
    sr.square().mean().backward()
    assert G.upsampler.out.weight.grad.abs().sum() > 0  # the residual branch can learn


def test_esrgan_exact_variant_has_no_skip():
    G, _ = build_rrdb(RRDBConfig(scale=2, bicubic_skip=False, upsampler="esrgan", **TINY))
    lr = torch.zeros(1, 3, 8, 8)
    assert not torch.equal(G(torch.zeros(1, 0), lr), bicubic_resize(lr, (16, 16)))


def test_registered_with_the_image_to_image_architectures():
    G, D, config = build_gan("rrdb", {"scale": 2, **TINY}, TRANSLATORS)
    assert config.scale == 2 and config.pretrain_steps == 0
    assert G(torch.zeros(1, 0), torch.zeros(1, 3, 8, 8)).shape == (1, 3, 16, 16)


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"scale": 3}, "scale must be one of"),
        ({"upsampler": "nearest"}, "unknown upsampler"),
        ({"latent_dim": 8}, "latent_dim must be 0"),
        ({"blocks": 0}, "blocks must be a positive integer"),
        ({"adversarial_weight": -1.0}, "adversarial_weight"),
        ({"pretrain_steps": -5}, "pretrain_steps"),
        ({"widht": 8}, "unknown rrdb config key"),
    ],
)
def test_bad_configs_fail_clearly(bad, match):
    with pytest.raises(GankitError, match=match):
        build_gan("rrdb", bad, TRANSLATORS)
