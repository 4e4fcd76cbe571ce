"""Contract tests every registered architecture must pass, at each of its resolutions."""

import copy

import pytest
import safetensors.torch
import torch

from gankit.config import to_dict
from gankit.errors import GankitError
from gankit.losses import r1_penalty
from gankit.nn import ARCHITECTURES, build_gan, config_from_dict

# Narrow settings so every case runs in a fraction of a second on a CPU.
SMALL = {
    "mlp": {"hidden": 16, "depth": 2},
    "dcgan": {"g_width": 4, "d_width": 4, "latent_dim": 8},
    "resnet": {"width": 8, "latent_dim": 8},
    "tabular": {
        "data_dim": 3,
        "span_sizes": (1, 2),
        "span_softmax": (False, True),
        "latent_dim": 8,
        "g_hidden": (16,),
        "d_hidden": (16,),
        "pack": 1,
    },
}
BATCH = 4


def cases() -> list:
    params = []
    for arch, spec in ARCHITECTURES.items():
        for resolution in spec.resolutions or (None,):
            params.append(
                pytest.param(arch, resolution, id=f"{arch}-{resolution}" if resolution else arch)
            )
    return params


CASES = cases()
SMALLEST = [
    (arch, min(spec.resolutions) if spec.resolutions else None)
    for arch, spec in ARCHITECTURES.items()
]


def settings(arch, resolution, **overrides):
    values = dict(SMALL[arch], **overrides)
    if resolution is not None:
        values["resolution"] = resolution
    return values


def data_shape(config, resolution):
    if resolution is None:
        return (config.data_dim,)
    return (config.channels, resolution, resolution)


def test_every_architecture_has_small_test_settings():
    assert set(SMALL) == set(ARCHITECTURES)


@pytest.mark.parametrize(("arch", "resolution"), CASES)
def test_shapes_and_output_range(arch, resolution):
    torch.manual_seed(0)
    G, D, config = build_gan(arch, settings(arch, resolution))
    z = torch.randn(BATCH, G.latent_dim)
    x = G(z)
    assert x.shape == (BATCH, *data_shape(config, resolution))
    if resolution is not None:
        assert x.min() >= -1 and x.max() <= 1  # tanh images
    assert D(x).shape == (BATCH,)
    # Sampling one image at a time in eval mode (BatchNorm uses running statistics).
    G.eval()
    assert G(z[:1]).shape == (1, *data_shape(config, resolution))


@pytest.mark.parametrize(("arch", "resolution"), CASES)
def test_pack_gives_one_logit_per_pack(arch, resolution):
    G, D, config = build_gan(arch, settings(arch, resolution, pack=2))
    assert D.pack == 2
    x = torch.randn(6, *data_shape(config, resolution))
    assert D(x).shape == (3,)
    with pytest.raises(GankitError, match="divisible by 2"):
        D(x[:5])


@pytest.mark.parametrize(("arch", "resolution"), CASES)
def test_gradients_reach_every_parameter(arch, resolution):
    torch.manual_seed(0)
    G, D, _ = build_gan(arch, settings(arch, resolution))
    D(G(torch.randn(BATCH, G.latent_dim))).square().mean().backward()
    for name, param in [*G.named_parameters(), *D.named_parameters()]:
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, name


R1_CASES = [(arch, res, {}) for arch, res in SMALLEST] + [
    ("dcgan", 16, {"spectral_norm": True, "minibatch_std": True, "pack": 2}),
]


@pytest.mark.parametrize(("arch", "resolution", "options"), R1_CASES)
def test_r1_penalty_trains_the_discriminator(arch, resolution, options):
    # R1 needs a double backward through every D layer (BatchNorm, spectral norm, minibatch std,
    # packing); that depends on the layer types, not the resolution.
    torch.manual_seed(0)
    _, D, config = build_gan(arch, settings(arch, resolution, **options))
    real = torch.randn(BATCH, *data_shape(config, resolution))
    penalty = r1_penalty(D, real)
    penalty.backward()
    assert torch.isfinite(penalty) and penalty > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in D.parameters())


@pytest.mark.parametrize(("arch", "resolution"), CASES)
def test_seeded_init_is_deterministic_and_state_dicts_are_safetensors_ready(arch, resolution):
    def build():
        torch.manual_seed(123)
        return build_gan(arch, settings(arch, resolution))

    G1, D1, config = build()
    G2, D2, _ = build()
    for first, second in [(G1, G2), (D1, D2)]:
        state = first.state_dict()
        assert state.keys() == second.state_dict().keys()
        assert all(torch.equal(state[k], second.state_dict()[k]) for k in state)
        # The weights round-trip through safetensors (no shared or non-contiguous tensors) ...
        restored = safetensors.torch.load(safetensors.torch.save(state))
        # ... and the config alone rebuilds modules that accept them.
        rebuilt = build_gan(arch, to_dict(config))
        module = rebuilt[0] if first is G1 else rebuilt[1]
        module.load_state_dict(restored, strict=True)


@pytest.mark.parametrize(("arch", "resolution"), SMALLEST)
def test_deepcopy_gives_an_identical_model(arch, resolution):
    # The engine keeps an EMA copy of G (and may copy D); spectral norm must survive a deepcopy.
    # Copying does not depend on the resolution, so the smallest one per architecture suffices.
    torch.manual_seed(0)
    G, D, config = build_gan(arch, settings(arch, resolution))
    G.eval(), D.eval()
    z = torch.randn(BATCH, G.latent_dim)
    x = torch.randn(BATCH, *data_shape(config, resolution))
    assert torch.equal(copy.deepcopy(G)(z), G(z))
    assert torch.equal(copy.deepcopy(D)(x), D(x))


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_unknown_key_lists_valid_keys(arch):
    with pytest.raises(GankitError, match=r"unknown .* key\(s\) 'widht'; valid keys: .*latent_dim"):
        build_gan(arch, {"widht": 3})


@pytest.mark.parametrize("arch", [a for a, spec in ARCHITECTURES.items() if spec.resolutions])
def test_unsupported_resolution_lists_supported(arch):
    supported = ", ".join(map(str, ARCHITECTURES[arch].resolutions))
    with pytest.raises(GankitError, match=f"resolution 48; supported resolutions: {supported}"):
        config_from_dict(arch, {"resolution": 48})


def test_unknown_architecture_lists_valid_names():
    with pytest.raises(GankitError, match="valid architectures: mlp, dcgan, resnet"):
        build_gan("stylegan9")


def test_defaults_and_round_trip():
    G, D, config = build_gan("dcgan")
    assert (config.resolution, config.channels, config.latent_dim) == (32, 1, 100)
    assert G.latent_dim == 100 and D.pack == 1
    assert config_from_dict("dcgan", to_dict(config)) == config
    with pytest.raises(GankitError, match="pack must be >= 1"):
        config_from_dict("mlp", {"pack": 0})


def test_dcgan_options_change_the_discriminator():
    _, D_plain, _ = build_gan("dcgan", SMALL["dcgan"])
    _, D_sn, _ = build_gan("dcgan", dict(SMALL["dcgan"], spectral_norm=True, minibatch_std=True))
    names = [type(m).__name__ for m in D_sn.modules()]
    assert "BatchNorm2d" in [type(m).__name__ for m in D_plain.modules()]
    assert "BatchNorm2d" not in names and "MinibatchStd" in names
    assert any("parametrizations.weight.original" in k for k in D_sn.state_dict())
