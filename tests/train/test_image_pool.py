"""CycleGAN's history pool of fakes: fills, then swaps about half, and replays from its state."""

import torch

from gankit.train.image_pool import ImagePool


def test_image_pool_fills_then_swaps_and_its_state_replays():
    pool = ImagePool(3, (1, 2, 2), seed=0)
    first = torch.arange(3.0).view(3, 1, 1, 1).expand(3, 1, 2, 2)
    assert torch.equal(pool.query(first), first)  # filling: passed through
    state = {k: v.clone() for k, v in pool.state_tensors().items()}
    new = torch.full((20, 1, 2, 2), 9.0)
    out = pool.query(new)
    swapped = (out[:, 0, 0, 0] != 9).sum()
    assert 0 < swapped < 20  # about half come from the history
    replay = ImagePool(3, (1, 2, 2), seed=5)
    replay.load_state_tensors(state)
    assert torch.equal(replay.query(new), out)
