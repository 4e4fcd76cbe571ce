"""Clusters of an image set: the labels a self-conditioned GAN trains on (no class labels needed).

:func:`cluster_labels` groups the images by k-means on their pixels, shrunk to at most 16 px so
that shape counts and single-pixel noise does not; :class:`ClusteredImages` serves the images with
their cluster as the condition (:mod:`gankit.nn.self_conditioning`).

Example:
    >>> import torch
    >>> from gankit.data import ImageData
    >>> images = torch.cat([torch.zeros(6, 1, 8, 8), torch.full((6, 1, 8, 8), 255.0)]).byte()
    >>> data = clustered(ImageData(images, None, (), "two-tones"), 2, seed=0)
    >>> data.sizes.tolist(), data.batch(torch.tensor([0, 11]))[1].tolist() in ([0, 1], [1, 0])
    ([6, 6], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from gankit.data.images import ImageData
from gankit.errors import GankitError

_MAX_SIDE = 16  # pixels per side k-means compares: the digit's shape, not its stroke texture


def cluster_labels(images: torch.Tensor, clusters: int, seed: int = 0) -> torch.Tensor:
    """int64 cluster (N,) of each uint8 image (N, C, H, W): k-means (scikit-learn's mini-batch
    variant, 3 restarts, seeded) on the pixels area-shrunk to at most 16 px per side."""
    from sklearn.cluster import MiniBatchKMeans

    if not 2 <= clusters <= len(images):
        raise GankitError(
            f"cannot split {len(images)} images into {clusters} clusters; use 2..{len(images)}"
        )
    side = min(images.shape[-1], _MAX_SIDE)
    pixels = F.adaptive_avg_pool2d(images.float() / 255, side).flatten(1).numpy()
    kmeans = MiniBatchKMeans(clusters, random_state=seed, batch_size=4096, n_init=3)
    return torch.from_numpy(kmeans.fit_predict(pixels)).long()


@dataclass(frozen=True, eq=False)
class ClusteredImages:
    """An :class:`ImageData` whose batches carry each image's cluster: ``(images, clusters)``.

    The engine trains a conditional pair on it as on class labels; ``data`` keeps the images'
    own labels (if any) for the quality report.
    """

    data: ImageData
    clusters: torch.Tensor  # int64 (N,)
    sizes: torch.Tensor  # int64 (K,): images per cluster
    conditional: ClassVar[bool] = True

    def __len__(self) -> int:
        return len(self.data)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1] and their int64 clusters for the rows in ``index``."""
        return self.data.batch(index), self.clusters[index]


def clustered(data: ImageData, clusters: int, seed: int = 0) -> ClusteredImages:
    """``data`` with every image labelled by its cluster (:func:`cluster_labels`)."""
    labels = cluster_labels(data.images, clusters, seed)
    return ClusteredImages(data, labels, torch.bincount(labels, minlength=clusters))
