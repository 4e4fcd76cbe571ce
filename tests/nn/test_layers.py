"""Shared blocks: packing, minibatch standard deviation, spectral norm, residual blocks."""

import pytest
import torch
from torch import nn

from gankit.errors import GankitError
from gankit.nn.layers import MinibatchStd, ResBlockDown, ResBlockUp, pack_samples, sn


def test_pack_samples_groups_consecutive_samples():
    x = torch.arange(6 * 2, dtype=torch.float32).reshape(6, 2)  # sample i = (2i, 2i+1)
    packed = pack_samples(x, 3)
    assert packed.shape == (2, 6)
    assert packed[1].tolist() == [6, 7, 8, 9, 10, 11]  # samples 3, 4, 5
    images = torch.randn(4, 3, 5, 5)
    packed = pack_samples(images, 2)
    assert packed.shape == (2, 6, 5, 5)
    assert torch.equal(packed[1, 3:], images[3])
    assert pack_samples(images, 1) is images
    with pytest.raises(GankitError, match="divisible by 3"):
        pack_samples(images, 3)


def reference_minibatch_std(x, group):
    """Loop version: sample i is in group i % (B / group); std over the group, mean over C, H, W."""
    batch = x.shape[0]
    n_groups = batch // group
    out = torch.empty(batch)
    for g in range(n_groups):
        members = x[g::n_groups]  # (group, C, H, W)
        std = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        out[g::n_groups] = std
    return out


def test_minibatch_std_with_batch_not_divisible_by_group():
    torch.manual_seed(0)
    x = torch.randn(6, 5, 3, 3)
    y = MinibatchStd(group_size=4)(x)  # 6 is not divisible by 4 -> groups of 3
    assert y.shape == (6, 6, 3, 3)
    assert torch.equal(y[:, :5], x)
    expected = reference_minibatch_std(x, group=3)
    assert torch.allclose(y[:, 5], expected[:, None, None].expand(6, 3, 3), atol=1e-6)
    assert not torch.allclose(expected[0], expected[1])  # the two groups really differ


def test_minibatch_std_edge_cases():
    # A prime batch falls back to groups of one, whose std is 0 (plus the epsilon).
    y = MinibatchStd(group_size=4)(torch.randn(7, 2, 2, 2))
    assert torch.allclose(y[:, 2], torch.full((7, 2, 2), 1e-4))
    # Identical samples (total mode collapse) give std ~0; feature vectors work too.
    same = torch.ones(4, 3)
    assert MinibatchStd()(same)[:, 3].max() < 1e-3
    # Two feature chunks -> two extra channels.
    assert MinibatchStd(num_features=2)(torch.randn(8, 4, 2, 2)).shape == (8, 6, 2, 2)
    with pytest.raises(GankitError, match="must divide"):
        MinibatchStd(num_features=3)(torch.randn(4, 4, 2, 2))


def test_sn_bounds_the_spectral_norm_and_can_be_switched_off():
    torch.manual_seed(0)
    plain = nn.Linear(8, 8)
    with torch.no_grad():
        plain.weight.mul_(10)
    assert sn(plain, enabled=False) is plain
    layer = sn(nn.Linear(8, 8))
    with torch.no_grad():
        layer.parametrizations.weight.original.mul_(10)
        for _ in range(20):  # each training-mode forward runs one power iteration
            layer(torch.randn(2, 8))
        sigma = torch.linalg.matrix_norm(layer.weight, ord=2)
    assert abs(sigma.item() - 1.0) < 0.05


def test_residual_block_shapes():
    x = torch.randn(2, 4, 8, 8)
    assert ResBlockUp(4, 6)(x).shape == (2, 6, 16, 16)
    assert ResBlockDown(4, 6)(x).shape == (2, 6, 4, 4)
    same = ResBlockDown(4, 4, downsample=False)
    assert same(x).shape == (2, 4, 8, 8)
    assert isinstance(same.shortcut, nn.Identity)  # nothing to learn on an identity shortcut
