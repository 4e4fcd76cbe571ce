"""A history pool of generated images that D is trained on (Shrivastava et al. 2017).

A training device like EMA: it changes what the engine's D update sees and is saved with every
checkpoint (:meth:`ImagePool.state_tensors`), so a resumed run makes the same choices. CycleGAN's
objective keeps one per domain.
"""

from __future__ import annotations

import torch
from torch import Tensor


class ImagePool:
    """A history of generated images (Shrivastava et al. 2017; CycleGAN's 50-image buffer).

    Until the pool is full each fake is stored and passed through; afterwards each fake is, with
    probability 1/2, swapped with a random stored one (D sees the old one), else passed through.
    D then remembers what G did a while ago, which damps oscillation. All choices come from the
    pool's own seeded generator; :meth:`state_tensors` holds the images, fill count and RNG, so a
    resumed run makes the same choices. Storage is preallocated on CPU, which keeps the
    checkpointed shapes fixed.

    Example:
        >>> pool = ImagePool(2, (1, 4, 4), seed=0)
        >>> pool.query(torch.ones(3, 1, 4, 4)).shape
        torch.Size([3, 1, 4, 4])
    """

    def __init__(self, size: int, shape: tuple[int, ...], seed: int) -> None:
        self.size = size
        self.images = torch.zeros(size, *shape)
        self.count = torch.zeros((), dtype=torch.int64)
        self.rng = torch.Generator().manual_seed(seed)

    def query(self, fakes: Tensor) -> Tensor:
        """The fakes D trains on: ``fakes`` (N, *shape) with some swapped for stored ones."""
        if self.size == 0:
            return fakes
        out = fakes.detach().clone()
        for i in range(len(fakes)):
            if self.count < self.size:
                self.images[int(self.count)] = fakes[i].detach().cpu()
                self.count += 1
            elif torch.rand((), generator=self.rng) < 0.5:
                j = int(torch.randint(self.size, (), generator=self.rng))
                out[i] = self.images[j].to(out.device)
                self.images[j] = fakes[i].detach().cpu()
        return out

    def state_tensors(self) -> dict[str, Tensor]:
        """The stored images, the fill count and the RNG state, fixed in shape."""
        return {"images": self.images, "count": self.count, "rng": self.rng.get_state()}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        """Restore what :meth:`state_tensors` returned."""
        self.images = tensors["images"].clone()
        self.count = tensors["count"].clone()
        self.rng.set_state(tensors["rng"])
