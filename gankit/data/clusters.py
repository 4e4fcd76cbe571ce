"""Clusters of an image set: the labels a self-conditioned GAN trains on (no class labels needed).

:func:`cluster_centres` finds k-means centres of the images' pixels, shrunk to at most 16 px so
that shape counts and single-pixel noise does not; :func:`nearest_cluster` labels images by those
centres, so that a model fine-tuned on new images keeps the cluster ids its condition embeddings
learnt. :class:`ClusteredImages` serves the images with their cluster as the condition
(:mod:`gankit.nn.self_conditioning`).

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


def _pixels(images: torch.Tensor) -> torch.Tensor:
    """float32 (N, C*s*s): uint8 images (N, C, H, W) area-shrunk to s = min(W, 16) in [0, 1]."""
    return F.adaptive_avg_pool2d(images.float() / 255, min(images.shape[-1], _MAX_SIDE)).flatten(1)


def cluster_centres(images: torch.Tensor, clusters: int, seed: int = 0) -> torch.Tensor:
    """float32 centres (K, C*s*s) of k-means (scikit-learn's mini-batch variant, 3 restarts,
    seeded) on uint8 images (N, C, H, W) area-shrunk to s = min(W, 16) pixels per side."""
    return _kmeans(_pixels(images), clusters, seed)


def nearest_cluster(images: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """int64 (N,): the nearest of ``centres`` (:func:`cluster_centres`) to each uint8 image."""
    pixels = _pixels(images)
    if pixels.shape[1] != centres.shape[1]:
        raise GankitError(
            f"images of shape {tuple(images.shape[1:])} cannot be matched to cluster centres of "
            f"{centres.shape[1]} values; they belong to images of another size or channel count"
        )
    return _nearest(pixels, centres)


def _kmeans(pixels: torch.Tensor, clusters: int, seed: int) -> torch.Tensor:
    from sklearn.cluster import MiniBatchKMeans

    if not 2 <= clusters <= len(pixels):
        raise GankitError(
            f"cannot split {len(pixels)} images into {clusters} clusters; use 2..{len(pixels)}"
        )
    kmeans = MiniBatchKMeans(clusters, random_state=seed, batch_size=4096, n_init=3)
    return torch.from_numpy(kmeans.fit(pixels.numpy()).cluster_centers_).float()


def _nearest(pixels: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    # In chunks: a (N, K) distance matrix of all of MNIST at once is needless memory.
    return torch.cat([torch.cdist(chunk, centres).argmin(1) for chunk in pixels.split(8192)])


def cluster_labels(images: torch.Tensor, clusters: int, seed: int = 0) -> torch.Tensor:
    """int64 cluster (N,) of each uint8 image (N, C, H, W): its nearest k-means centre."""
    return nearest_cluster(images, cluster_centres(images, clusters, seed))


@dataclass(frozen=True, eq=False)
class ClusteredImages:
    """An :class:`ImageData` whose batches carry each image's cluster: ``(images, clusters)``.

    The engine trains a conditional pair on it as on class labels; ``data`` keeps the images'
    own labels (if any) for the quality report.
    """

    data: ImageData
    clusters: torch.Tensor  # int64 (N,)
    sizes: torch.Tensor  # int64 (K,): images per cluster (some may be 0 on fine-tuning data)
    centres: torch.Tensor  # float32 (K, D): what the clusters were assigned by
    conditional: ClassVar[bool] = True

    def __len__(self) -> int:
        return len(self.data)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1] and their int64 clusters for the rows in ``index``."""
        return self.data.batch(index), self.clusters[index]


def clustered(
    data: ImageData, clusters: int, seed: int = 0, centres: torch.Tensor | None = None
) -> ClusteredImages:
    """``data`` with every image labelled by its nearest cluster centre: ``centres`` (those a
    trained model keeps) when they are ``clusters`` centres for images of this size, otherwise
    ``clusters`` new ones (:func:`cluster_centres`): data of another size or cluster count
    rebuilds the model anyway."""
    pixels = _pixels(data.images)  # once: k-means and the labels both read them
    if centres is None or centres.shape != (clusters, pixels.shape[1]):
        centres = _kmeans(pixels, clusters, seed)
    labels = _nearest(pixels, centres)
    return ClusteredImages(data, labels, torch.bincount(labels, minlength=len(centres)), centres)
