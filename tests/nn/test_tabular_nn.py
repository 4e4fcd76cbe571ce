"""The tabular G and D: span activations, hard conditioning, shared-row PacGAN D."""

import pytest
import torch

from gankit.errors import GankitError
from gankit.losses import r1_penalty
from gankit.nn.tabular import TabularConfig, build_tabular, span_frequency_loss, span_layout

# Row layout: a tanh offset, a 3-way mode, a tanh offset, a 2-way category (the condition).
LAYOUT = {
    "data_dim": 7,
    "cond_dim": 2,
    "span_sizes": (1, 3, 1, 2),
    "span_softmax": (False, True, False, True),
    "cond_positions": (5, 6),
    "latent_dim": 8,
    "g_hidden": (16,),
    "d_hidden": (16,),
}


def build(**overrides):
    torch.manual_seed(0)
    return build_tabular(TabularConfig(**{**LAYOUT, **overrides}))


def test_activations_follow_the_spans_and_conditions_are_exact():
    G, _ = build()
    cond = torch.eye(2)[torch.tensor([0, 1, 1, 0])]
    G.eval()
    rows = G(torch.randn(4, 8), cond)
    assert torch.allclose(rows[:, 1:4].sum(dim=1), torch.ones(4))  # a softmax span
    assert rows[:, [0, 4]].abs().max() < 1  # tanh spans
    assert torch.equal(rows[:, 5:7], cond)  # the conditioned column is the condition
    chosen = G.choose(rows, torch.Generator().manual_seed(0))
    assert set(chosen[:, 1:4].sum(dim=1).tolist()) == {1.0} and torch.equal(chosen[:, 5:7], cond)
    again = G.choose(rows, torch.Generator().manual_seed(0))
    assert torch.equal(chosen, again)


@pytest.mark.parametrize("shared_rows", [False, True])
def test_discriminators_train_and_take_r1(shared_rows):
    G, D = build(pack=2, shared_rows=shared_rows)
    cond = torch.eye(2).repeat(3, 1)
    rows = G(torch.randn(6, 8), cond)
    logits = D(rows, cond)
    assert logits.shape == (3,)
    logits.square().mean().backward()
    for name, param in [*G.named_parameters(), *D.named_parameters()]:
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    penalty = r1_penalty(lambda x: D(x, cond), rows.detach())
    assert torch.isfinite(penalty) and penalty > 0


def test_shared_row_d_is_invariant_to_the_order_inside_a_pack():
    _, D = build(pack=3, shared_rows=True, d_dropout=0.0)
    rows, cond = torch.rand(6, 7), torch.eye(2)[torch.tensor([0, 1, 0, 1, 1, 0])]
    swapped = torch.tensor([2, 0, 1, 5, 3, 4])  # shuffle within each pack of 3
    assert torch.allclose(D(rows, cond), D(rows[swapped], cond[swapped]), atol=1e-6)


def test_span_frequency_loss_is_zero_on_equal_frequencies_and_pulls_a_dropped_mode_back():
    config = TabularConfig(**LAYOUT)
    _, index, valid = span_layout(config)
    real = torch.zeros(10, 7)
    real[torch.arange(10), 1 + torch.tensor([0] * 7 + [1] * 2 + [2])] = 1.0
    real[torch.arange(10), 5 + torch.arange(10) % 2] = 1.0
    assert span_frequency_loss(real, real, index, valid) == 0
    # A "G" that starts uniform over the 3 modes: gradient descent on the term alone reaches
    # the 70/20/10 frequencies of the real rows (the category span already matches).
    logits = torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.SGD([logits], lr=0.5)
    for _ in range(300):
        fake = real.clone()
        fake[:, 1:4] = logits.softmax(0).expand(10, 3)
        loss = span_frequency_loss(real, fake, index, valid)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert torch.allclose(logits.softmax(0), torch.tensor([0.7, 0.2, 0.1]), atol=1e-3)
    assert loss < 1e-5


def test_frequency_weight_must_be_finite_and_not_negative():
    for weight in (-1.0, float("inf"), float("nan")):
        with pytest.raises(GankitError, match="invalid size or rate"):
            TabularConfig(**LAYOUT, frequency_weight=weight)


def test_target_weight_must_be_finite_and_not_negative():
    for weight in (-1.0, float("inf"), float("nan")):
        with pytest.raises(GankitError, match="invalid size or rate"):
            TabularConfig(**LAYOUT, target_weight=weight)
