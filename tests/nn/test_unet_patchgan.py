"""U-Net generator, PatchGAN discriminator and the translator registry."""

import pytest
import torch

from gankit.errors import GankitError
from gankit.nn import TRANSLATORS, build_gan, config_from_dict
from gankit.nn.patchgan import PatchDiscriminator, PatchGANConfig, patchgan_layers, receptive_field
from gankit.nn.unet import UNetConfig, UNetGenerator


@pytest.mark.parametrize(("n_layers", "expected"), [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_formula(n_layers, expected):
    assert receptive_field(patchgan_layers(n_layers)) == expected
    assert PatchGANConfig(n_layers=n_layers).receptive_field == expected


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_receptive_field_matches_the_gradient_support(n_layers):
    # One central logit's input gradient is non-zero exactly on its receptive field.
    torch.manual_seed(0)
    D = PatchDiscriminator(PatchGANConfig(width=4, n_layers=n_layers, norm="none"))
    side = 2 * receptive_field(patchgan_layers(n_layers)) + 8
    x = torch.randn(1, 1, side, side, requires_grad=True)
    out = D.net(x)  # (1, 1, h, w)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    cols = x.grad[0, 0].abs().sum(0).nonzero()
    assert rows.max() - rows.min() + 1 == D.config.receptive_field
    assert cols.max() - cols.min() + 1 == D.config.receptive_field


def test_patchgan_shapes_conditional_and_errors():
    D = PatchDiscriminator(PatchGANConfig(in_channels=3, cond_channels=1, width=8))
    x, cond = torch.randn(2, 3, 64, 64), torch.randn(2, 1, 64, 64)
    assert D(x, cond).shape == (2, 36)  # 64 px, 70x70 patches: a 6x6 map of decisions
    with pytest.raises(GankitError, match="needs a condition of 1 channel"):
        D(x)
    with pytest.raises(GankitError, match="too small .* at least 24 pixels"):
        D(torch.randn(2, 3, 16, 16), torch.randn(2, 1, 16, 16))
    # The condition changes the verdict: D judges the pair, not the image alone.
    assert not torch.equal(D(x, cond), D(x, -cond))


@pytest.mark.parametrize(("resolution", "depth"), [(32, 5), (32, 3), (64, 6), (16, 1)])
def test_unet_shapes_and_range(resolution, depth):
    torch.manual_seed(0)
    G = UNetGenerator(UNetConfig(resolution, in_channels=1, out_channels=3, width=4, depth=depth))
    assert G.latent_dim == 0
    out = G(torch.zeros(2, 0), torch.randn(2, 1, resolution, resolution))
    assert out.shape == (2, 3, resolution, resolution)
    assert out.min() >= -1 and out.max() <= 1
    # Fully convolutional: any size divisible by 2**depth works.
    assert G(torch.zeros(1, 0), torch.randn(1, 1, 2 * resolution, resolution)).shape[-2:] == (
        2 * resolution,
        resolution,
    )


def test_unet_dropout_is_training_noise_only():
    torch.manual_seed(0)
    G = UNetGenerator(UNetConfig(32, width=4, depth=5, dropout=0.5))
    source = torch.randn(4, 1, 32, 32)
    z = torch.zeros(4, 0)
    G.train()
    assert not torch.equal(G(z, source), G(z, source))
    G.eval()
    assert torch.equal(G(z, source), G(z, source))


def test_unet_gradients_reach_every_parameter_and_skips_carry_the_input():
    torch.manual_seed(0)
    G = UNetGenerator(UNetConfig(32, width=4, depth=5))
    G(torch.zeros(4, 0), torch.randn(4, 1, 32, 32)).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())


def test_unet_errors_name_the_problem():
    with pytest.raises(GankitError, match="divisible by 32"):
        UNetConfig(resolution=48, depth=5)
    with pytest.raises(GankitError, match="unknown norm 'layer'"):
        UNetConfig(norm="layer")
    G = UNetGenerator(UNetConfig(32, width=4, depth=5))
    with pytest.raises(GankitError, match=r"expects source images \(B, 1, H, W\)"):
        G(torch.zeros(1, 0), torch.randn(1, 3, 32, 32))
    with pytest.raises(GankitError, match="divisible by 32, got 40x40"):
        G(torch.zeros(1, 0), torch.randn(1, 1, 40, 40))


@pytest.mark.parametrize("arch", ["pix2pix", "cyclegan"])
def test_translators_build_from_dicts_and_refuse_unknown_keys(arch):
    torch.manual_seed(0)
    G, D, config = build_gan(arch, {"width": 4, "d_width": 4, "d_layers": 2}, TRANSLATORS)
    channels = 1 if arch == "pix2pix" else 2  # cyclegan modules take concat(a, b)
    x = torch.randn(2, channels, 32, 32)
    fake = G(torch.zeros(2, 0), x)
    assert fake.shape == x.shape
    assert D(fake, x).shape[0] == 2
    with pytest.raises(GankitError, match="unknown .*widht.*valid keys"):
        config_from_dict(arch, {"widht": 4}, TRANSLATORS)


def test_cyclegan_identity_loss_needs_equal_channels():
    with pytest.raises(GankitError, match="identity_weight=0"):
        config_from_dict("cyclegan", {"channels_a": 1, "channels_b": 3}, TRANSLATORS)
    config_from_dict("cyclegan", {"channels_b": 3, "identity_weight": 0}, TRANSLATORS)
