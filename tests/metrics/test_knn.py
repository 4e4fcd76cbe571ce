"""Chunked nearest-neighbour distances: bounded blocks, the same answers as one big matrix."""

import torch

from gankit.metrics import _knn


def test_blocks_stay_under_the_bound_and_match_cdist(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(50, 3, generator=generator, dtype=torch.float64)
    ref = torch.randn(40, 3, generator=generator, dtype=torch.float64)
    monkeypatch.setattr(_knn, "MAX_BLOCK", 400)  # 10 query rows of 40 distances per block
    blocks = list(_knn.distance_chunks(query, ref, chunk_size=1024))
    assert [start for start, _ in blocks] == [0, 10, 20, 30, 40]
    assert all(block.numel() <= 400 for _, block in blocks)
    exact = torch.cdist(query, ref)
    assert torch.allclose(torch.cat([block for _, block in blocks]), exact, atol=1e-9)
    nearest = _knn.nearest_distances(query, ref)
    assert torch.allclose(nearest, exact.min(dim=1).values, atol=1e-9)
