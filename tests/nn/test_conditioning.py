"""Conditioning blocks: encoders, conditional BN, projection D, conditional architectures."""

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.nn import build_gan
from gankit.nn.conditioning import (
    CONDITION_ENCODERS,
    ConditionalBatchNorm2d,
    build_condition_encoder,
)
from gankit.nn.generate import generate, latents, slerp

SMALL = {
    "dcgan": {"resolution": 16, "g_width": 4, "d_width": 4, "latent_dim": 8},
    "resnet": {"resolution": 32, "width": 8, "latent_dim": 8},
}
CLASSES = {"condition": "class", "condition_size": 10, "condition_embed": 8}
LABELS = torch.tensor([0, 3, 7, 9])


def conditional(arch, **extra):
    torch.manual_seed(0)
    return build_gan(arch, {**SMALL[arch], **CLASSES, **extra})


def test_label_encoder_embeds_labels_and_class_blends_alike():
    encoder = build_condition_encoder("class", size=10, dim=6)
    assert encoder(LABELS).shape == (4, 6)
    onehot = torch.eye(10)[LABELS]
    assert torch.allclose(encoder(onehot), encoder(LABELS))
    halfway = encoder(torch.full((1, 10), 0.0).index_fill(1, torch.tensor([2, 5]), 0.5))
    expected = 0.5 * (encoder(torch.tensor([2])) + encoder(torch.tensor([5])))
    assert torch.allclose(halfway, expected)


@pytest.mark.parametrize(
    "bad,match",
    [
        (torch.tensor([0, 10]), r"0\.\.9"),
        (torch.tensor([-1]), r"0\.\.9"),
        (torch.tensor([[1, 2]]), "1-D"),
        (torch.zeros(2, 3), r"\(B, 10\)"),
        (torch.tensor([True]), "int64"),
    ],
)
def test_label_encoder_refuses_bad_labels(bad, match):
    with pytest.raises(GankitError, match=match):
        build_condition_encoder("class", size=10, dim=4)(bad)


def test_vector_encoder_checks_width_and_dtype():
    encoder = build_condition_encoder("vector", size=5, dim=3)
    assert encoder(torch.randn(2, 5)).shape == (2, 3)
    for bad in (torch.randn(2, 4), torch.ones(2, 5, dtype=torch.long), torch.randn(5)):
        with pytest.raises(GankitError, match=r"float \(B, 5\)"):
            encoder(bad)


def test_unknown_condition_kind_lists_the_valid_ones():
    with pytest.raises(GankitError, match="valid kinds: none, class, vector"):
        build_condition_encoder("text", size=3, dim=3)
    with pytest.raises(GankitError, match="valid: none, class, vector"):
        build_gan("dcgan", {**SMALL["dcgan"], "condition": "txt", "condition_size": 3})
    assert set(CONDITION_ENCODERS) == {"class", "vector"}


def test_conditional_batch_norm_starts_as_batch_norm_and_follows_the_embedding():
    torch.manual_seed(0)
    bn = ConditionalBatchNorm2d(3, embed_dim=4)
    x = torch.randn(8, 3, 5, 5)
    plain = torch.nn.functional.batch_norm(x, None, None, training=True)
    same = bn(x, torch.zeros(8, 4))  # zero embedding: gain 1, bias 0
    assert torch.allclose(same, plain, atol=1e-5)
    with torch.no_grad():
        bn.bias.weight.fill_(1.0)  # bias = 4 for an all-ones embedding of width 4
        bn.gain.weight.zero_()
    shifted = bn(x, torch.ones(8, 4))
    assert torch.allclose(shifted - plain, torch.full_like(plain, 4.0), atol=1e-4)


@pytest.mark.parametrize("arch", SMALL)
def test_conditional_shapes_and_the_label_changes_g_and_d(arch):
    G, D, config = conditional(arch, aux_classifier=True)
    G.eval()
    D.eval()
    z = torch.randn(4, G.latent_dim)
    images = G(z, LABELS)
    assert images.shape == (4, config.channels, config.resolution, config.resolution)
    assert D(images, LABELS).shape == (4,)
    assert D.classify(images).shape == (4, 10)
    # Same noise, another label: another image; same image, another label: another logit.
    other = (LABELS + 1) % 10
    assert not torch.allclose(G(z, other), images, atol=1e-4)
    images = torch.rand_like(images) * 2 - 1  # an untrained G draws near-blank images
    assert not torch.allclose(D(images, other), D(images, LABELS), atol=1e-4)
    # And a per-sample effect: changing sample 0's label leaves sample 1's logit alone.
    changed = LABELS.clone()
    changed[0] = 5
    logits, logits_changed = D(images, LABELS), D(images, changed)
    assert logits[0] != logits_changed[0]
    assert torch.equal(logits[1:], logits_changed[1:])


@pytest.mark.parametrize("arch", SMALL)
def test_projection_d_trains_the_class_embedding(arch):
    G, D, config = conditional(arch)
    images = torch.rand(4, config.channels, config.resolution, config.resolution) * 2 - 1
    D(images, LABELS).sum().backward()
    table = D.head.projection.encoder.table
    if config.spectral_norm:  # sigma depends on every row, so every row gets some gradient
        grad = table.parametrizations.weight.original.grad
    else:
        grad = table.weight.grad
        assert grad[torch.tensor([1, 2, 4, 5, 6, 8])].abs().sum() == 0  # unused classes
    assert (grad[LABELS].abs().sum(dim=1) > 0).all()


@pytest.mark.parametrize("arch", SMALL)
def test_vector_conditions_drive_g_and_d(arch):
    torch.manual_seed(0)
    G, D, _ = build_gan(arch, {**SMALL[arch], "condition": "vector", "condition_size": 6})
    G.eval()
    z, text = torch.randn(3, G.latent_dim), torch.randn(3, 6)
    images = G(z, text)
    assert D(images, text).shape == (3,)
    assert not torch.allclose(G(z, -text), images, atol=1e-4)


@pytest.mark.parametrize("arch", SMALL)
def test_a_missing_condition_is_a_clear_error(arch):
    G, D, _ = conditional(arch)
    z = torch.randn(2, G.latent_dim)
    with pytest.raises(GankitError, match=r"G\(z, cond\)"):
        G(z)
    with pytest.raises(GankitError, match=r"D\(x, cond\)"):
        D(G(z, LABELS[:2]))


def test_inconsistent_conditioning_settings_are_refused():
    with pytest.raises(GankitError, match="condition_size"):
        build_gan("dcgan", {**SMALL["dcgan"], "condition": "class"})
    with pytest.raises(GankitError, match="pack=1"):
        build_gan("dcgan", {**SMALL["dcgan"], **CLASSES, "pack": 2})
    with pytest.raises(GankitError, match="aux_classifier"):
        build_gan("resnet", {**SMALL["resnet"], "aux_classifier": True})
    with pytest.raises(GankitError, match="aux_classifier"):
        build_gan(
            "dcgan", {**SMALL["dcgan"], **CLASSES, "condition": "vector", "aux_classifier": 1}
        )


@pytest.mark.parametrize("arch", SMALL)
def test_unconditional_models_keep_their_weight_names(arch):
    G, D, _ = build_gan(arch, SMALL[arch])
    names = [*G.state_dict(), *D.state_dict()]
    assert not [n for n in names if "condition" in n or "head" in n]
    assert G.condition is None and D.head is None


def test_ac_gan_without_projection_ignores_the_label_in_the_logit():
    G, D, _ = conditional("dcgan", projection=False, aux_classifier=True)
    D.eval()
    images = G(torch.randn(4, G.latent_dim), LABELS).detach()
    assert torch.equal(D(images, LABELS), D(images, (LABELS + 1) % 10))


def test_generate_with_conditions_is_seeded_and_batched_alike():
    G, _, _ = conditional("dcgan")
    labels = torch.arange(10) % 10
    whole = generate(G, 10, seed=3, cond=labels)
    batched = generate(G, 10, seed=3, cond=labels, batch_size=3)
    assert torch.allclose(whole, batched, atol=1e-6)
    assert whole.shape == (10, 1, 16, 16)


def test_slerp_ends_at_its_endpoints_and_keeps_the_norm_of_equal_norm_points():
    a = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    b = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    path = slerp(a, b, torch.linspace(0, 1, 7))
    assert torch.allclose(path[:, 0], a, atol=1e-5) and torch.allclose(path[:, -1], b, atol=1e-5)
    assert torch.allclose(path.norm(dim=2), torch.ones(3, 7), atol=1e-5)


def test_truncated_latents_stay_in_bounds_follow_the_truncated_normal_and_the_seed():
    z = latents(50_000, 4, seed=0, truncation=1.0)
    assert z.shape == (50_000, 4) and z.dtype == torch.float32
    assert z.abs().max() <= 1.0
    # The standard normal truncated to [-1, 1] has standard deviation 0.5396.
    assert abs(z.std().item() - 0.5396) < 0.005 and abs(z.mean().item()) < 0.01
    assert torch.equal(latents(7, 3, seed=2, truncation=0.5), latents(7, 3, seed=2, truncation=0.5))
    assert torch.equal(latents(7, 3, seed=2, truncation=np.float32(0.5)), latents(7, 3, 2, 0.5))
    # Without truncation: exactly the seeded standard normal every sample has always used.
    plain = torch.randn(7, 3, generator=torch.Generator().manual_seed(2))
    assert torch.equal(latents(7, 3, seed=2), plain)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_bad_truncation_is_a_clear_error(bad):
    with pytest.raises(GankitError, match="truncation must be a positive number"):
        latents(2, 3, seed=0, truncation=bad)


def test_truncation_moves_samples_toward_the_typical_output():
    G, _, _ = conditional("dcgan")
    labels = torch.full((64,), 3)
    free = generate(G, 64, seed=1, cond=labels)
    tight = generate(G, 64, seed=1, cond=labels, truncation=0.1)
    assert tight.var(0).mean() < 0.1 * free.var(0).mean()
