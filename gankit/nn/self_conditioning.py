"""Self-conditioning (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs").

An unconditional GAN trained as a class-conditional one on clusters of its own training images:
G and D are built with ``condition="class"`` over ``clusters`` classes, the data pipeline labels
every real image with its cluster (:func:`gankit.data.clusters.cluster_labels`), and G's fakes
reuse the real batch's clusters. D then judges "is this a real member of cluster c", a much
sharper question than "is this real" (the measured effect: README, Quality and speed).

To its users the model stays unconditional: :class:`ClusterConditionedGenerator` takes one more
latent coordinate than the conditional G it wraps and, called without a condition, turns that
coordinate into a cluster drawn with the training data's cluster frequencies. ``G(z)`` is thus a
plain function of the noise, so sampling, serving and ONNX export need nothing new.

Example:
    >>> import torch
    >>> from gankit.nn import build_gan
    >>> G, D, config = build_gan("dcgan", {"resolution": 16, "g_width": 8, "d_width": 8,
    ...                                    "latent_dim": 4, "clusters": 3})
    >>> G.latent_dim, G(torch.randn(2, G.latent_dim)).shape
    (5, torch.Size([2, 1, 16, 16]))
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gankit.errors import GankitError


class ClusterConditionedGenerator(nn.Module):
    """``G(z[, cluster])`` over a cluster-conditional ``generator``; ``z`` has one extra coordinate.

    With ``cluster`` given (training), the last coordinate of ``z`` is ignored. Without it, the
    last coordinate z_c picks the cluster: the normal CDF maps it to u ~ U(0, 1), and u falls in
    the cluster whose share of the cumulative frequencies covers it. Truncating the latent
    (``truncation=``) therefore also narrows the clusters drawn to the middle of that order.
    ``frequencies`` (a buffer, saved with the weights) starts uniform; :meth:`set_frequencies`
    sets the training data's.
    """

    def __init__(self, generator: nn.Module, clusters: int) -> None:
        super().__init__()
        self.generator = generator
        self.latent_dim = generator.latent_dim + 1
        self.register_buffer("frequencies", torch.full((clusters,), 1.0 / clusters))

    def set_frequencies(self, sizes: Tensor) -> None:
        """Draw clusters in proportion to ``sizes`` (images per cluster in the training data)."""
        sizes = torch.as_tensor(sizes, dtype=torch.float32)
        if sizes.shape != self.frequencies.shape or not (sizes >= 0).all() or sizes.sum() <= 0:
            raise GankitError(
                f"cluster sizes must be {len(self.frequencies)} counts >= 0 with a positive sum, "
                f"got {sizes.tolist()}"
            )
        self.frequencies.copy_(sizes / sizes.sum())

    def draw_clusters(self, z_c: Tensor) -> Tensor:
        """int64 clusters (B,) for the cluster coordinates ``z_c`` (B,) of standard normal noise."""
        u = 0.5 * (1 + torch.erf(z_c / math.sqrt(2)))  # the normal CDF: U(0, 1)
        bounds = self.frequencies.cumsum(0)[:-1]  # (K-1,): u above j bounds is cluster j
        # A sum of comparisons rather than searchsorted: every ONNX runtime has these operators.
        return (u[:, None] > bounds[None, :]).sum(1)

    def forward(self, z: Tensor, cluster: Tensor | None = None) -> Tensor:
        if cluster is None:
            cluster = self.draw_clusters(z[:, -1])
        return self.generator(z[:, :-1], cluster)
