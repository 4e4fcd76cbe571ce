"""Adversarial losses and regularizers against hand-computed values."""

import math

import pytest
import torch
from torch import nn

from gankit.errors import GankitError
from gankit.losses import (
    LOSSES,
    get_loss,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
)

LOG2 = math.log(2.0)


def close(actual: torch.Tensor, expected: float) -> bool:
    return math.isclose(actual.item(), expected, rel_tol=1e-5, abs_tol=1e-6)


def test_registry_names_and_relativistic_flag():
    assert set(LOSSES) == {"nonsaturating", "hinge", "wasserstein", "least-squares", "rpgan"}
    assert [name for name, loss in LOSSES.items() if loss.g_needs_real] == ["rpgan"]
    assert all(loss.name == name for name, loss in LOSSES.items())


def test_unknown_loss_lists_valid_names():
    with pytest.raises(GankitError, match="valid losses: nonsaturating, hinge"):
        get_loss("hingee")


def test_nonsaturating_values():
    zeros = torch.zeros(3)
    loss = get_loss("nonsaturating")
    assert close(loss.d_loss(zeros, zeros), 2 * LOG2)  # -log(1/2) twice
    assert close(loss.g_loss(None, zeros), LOG2)
    real, fake = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 3.0])
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    expected_d = (sp(-1.0) + sp(2.0)) / 2 + (sp(0.5) + sp(3.0)) / 2
    assert close(loss.d_loss(real, fake), expected_d)
    assert close(loss.g_loss(real, fake), (sp(-0.5) + sp(-3.0)) / 2)


def test_nonsaturating_is_finite_for_saturated_logits():
    # The naive -log(sigmoid(x)) gives inf at x = -200 in float32; softplus gives 200.
    loss = get_loss("nonsaturating")
    assert close(loss.g_loss(None, torch.tensor([-200.0])), 200.0)
    assert close(loss.d_loss(torch.tensor([-200.0]), torch.tensor([200.0])), 400.0)


def test_hinge_values_and_margins():
    loss = get_loss("hinge")
    assert close(loss.d_loss(torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])), 0.25 + 0.5)
    # Beyond the margins (real > 1, fake < -1) D has nothing left to learn.
    assert loss.d_loss(torch.tensor([1.5, 3.0]), torch.tensor([-1.0, -4.0])).item() == 0.0
    assert close(loss.g_loss(None, torch.tensor([0.5, -1.5])), 0.5)


def test_wasserstein_values():
    loss = get_loss("wasserstein")
    assert close(loss.d_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, -1.0])), -0.5 - 2.0)
    assert close(loss.g_loss(None, torch.tensor([0.0, -1.0])), 0.5)


def test_least_squares_values():
    loss = get_loss("least-squares")
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    assert close(loss.d_loss(real, fake), 0.5 * (0 + 4) / 2 + 0.5 * (0 + 4) / 2)
    assert close(loss.g_loss(None, fake), 0.5 * (1 + 1) / 2)


def test_rpgan_pairs_elementwise():
    loss = get_loss("rpgan")
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 2.0])
    # softplus(fake - real): pair 0 -> softplus(0) = log 2, pair 1 -> softplus(2).
    assert close(loss.d_loss(real, fake), (LOG2 + math.log1p(math.exp(2.0))) / 2)
    assert close(loss.g_loss(real, fake), (LOG2 + math.log1p(math.exp(-2.0))) / 2)
    with pytest.raises(GankitError, match="element-wise"):
        loss.d_loss(real, fake[:, None])  # (2,) vs (2, 1) would broadcast to (2, 2)
    with pytest.raises(GankitError, match="needs real_logits"):
        loss.g_loss(None, fake)


@pytest.mark.parametrize("name", list(LOSSES))
def test_d_loss_falls_as_real_logits_rise_and_fake_logits_fall(name):
    # Logits stay inside (0, 1) after the moves: least squares has finite targets (0 fake, 1 real),
    # so beyond them its loss rises again.
    loss = get_loss(name)
    real = torch.tensor([-0.5, 0.2, 0.4])
    fake = torch.tensor([0.3, 0.4, 0.5])
    base = loss.d_loss(real, fake)
    assert loss.d_loss(real + 0.25, fake) < base
    assert loss.d_loss(real, fake - 0.25) < base
    # ... and G's loss falls as D rates the fakes higher.
    assert loss.g_loss(real, fake + 0.25) < loss.g_loss(real, fake)


def test_r1_of_linear_critic_is_squared_weight_norm():
    w = torch.tensor([1.0, -2.0, 0.5])
    real = torch.randn(7, 3)
    assert close(r1_penalty(lambda x: x @ w, real), 1 + 4 + 0.25)
    assert close(r2_penalty(lambda x: x @ w, real), 1 + 4 + 0.25)


def test_r1_on_images_and_a_per_sample_quadratic():
    # D(x) = sum(x^2) per sample -> grad 2x -> ||grad||^2 = 4 * sum(x^2); averaged over the batch.
    real = torch.arange(2 * 1 * 2 * 2, dtype=torch.float32).reshape(2, 1, 2, 2)
    penalty = r1_penalty(lambda x: x.square().sum(dim=(1, 2, 3)), real)
    expected = 4 * (0 + 1 + 4 + 9 + 16 + 25 + 36 + 49) / 2
    assert close(penalty, expected)


def test_r1_trains_the_critic_and_leaves_the_inputs_alone():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 8), nn.Softplus(), nn.Linear(8, 1))
    real = torch.randn(5, 2)  # does not require grad, like a data batch
    penalty = r1_penalty(lambda x: critic(x).squeeze(1), real)
    penalty.backward()
    # Every parameter but the output bias (which does not change d critic / dx) gets a gradient.
    for name, param in critic.named_parameters():
        if name != "2.bias":
            assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert real.grad is None and not real.requires_grad


def test_r2_does_not_backprop_into_the_generator():
    g_weight = torch.ones(2, requires_grad=True)
    fake = torch.randn(4, 2) * g_weight
    w = torch.tensor([2.0, 0.0], requires_grad=True)
    penalty = r2_penalty(lambda x: x @ w, fake)
    penalty.backward()
    assert g_weight.grad is None
    assert torch.allclose(w.grad, torch.tensor([4.0, 0.0]))  # d ||w||^2 / dw = 2w


def test_gradient_penalty_zero_for_unit_gradient_critic():
    w = torch.tensor([0.6, 0.8, 0.0])
    real, fake = torch.randn(6, 3), torch.randn(6, 3)
    assert gradient_penalty(lambda x: x @ w, real, fake).item() < 1e-10
    # A critic with gradient norm 3 everywhere: (3 - 1)^2 = 4.
    assert close(gradient_penalty(lambda x: x @ (3 * w), real, fake), 4.0)


def test_gradient_penalty_on_images_is_seeded_and_reaches_the_critic():
    conv = nn.Conv2d(1, 1, 3, padding=1)
    critic = lambda x: conv(x).square().mean(dim=(1, 2, 3))  # noqa: E731
    real, fake = torch.rand(4, 1, 6, 6), torch.rand(4, 1, 6, 6)
    first = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(3))
    again = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(3))
    assert first.item() == again.item()
    first.backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
    with pytest.raises(GankitError, match="same shape"):
        gradient_penalty(critic, real, fake[:2])
