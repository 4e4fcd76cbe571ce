"""Pixel operations every layer shares: one gray conversion and one resampling.

They sit below ``data/`` and ``nn/`` (importing only torch) so a dataset, a network and a task
that convert colour or resize images all do it the same way: the degradation of super-resolution
data and the bicubic skip of its generator agree, and "gray" means one thing everywhere.

Example:
    >>> rgb = torch.ones(1, 3, 8, 8)
    >>> to_gray(rgb).shape, bicubic_resize(rgb, (16, 16)).shape
    (torch.Size([1, 1, 8, 8]), torch.Size([1, 3, 16, 16]))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ITU-R 601-2 luma, the weights PIL's convert("L") uses, so RGB -> gray matches the folder loader.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def to_gray(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) float images -> (N, 1, H, W) by ITU-R 601 luma; gray input is returned as is.

    Works for any value range that is linear in intensity ([0, 255] or [-1, 1]) because the luma
    weights sum to 1.

    Example:
        >>> to_gray(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).item()
        0.29899999499320984
    """
    if images.shape[1] == 1:
        return images
    weights = torch.tensor(LUMA_WEIGHTS, dtype=images.dtype, device=images.device)
    return (images * weights.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)


def bicubic_resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased bicubic resize (Keys a = -0.5, as MATLAB ``imresize`` and PIL) of float images.

    The one resampling gankit's super-resolution uses, for the degradation, the baseline and the
    generator's skip, so all three agree.

    Example:
        >>> bicubic_resize(torch.zeros(1, 3, 8, 8), (32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """
    return F.interpolate(images, size=size, mode="bicubic", antialias=True, align_corners=False)
