"""BatchNorm whose batch statistics span every process of a distributed run.

Under data-parallel training each process sees ``B / N`` samples; a plain BatchNorm normalises
with the statistics of that slice, so the network computes something else than it would on the
whole batch (and small slices give noisy statistics). :class:`SyncBatchNorm` all-reduces the
per-channel sums, so every process normalises with the mean and variance of the global batch:
``N`` processes x ``B / N`` samples compute what one process computes on ``B``.

torch's own ``nn.SyncBatchNorm`` runs on CUDA only; this one runs wherever the process group
does (gloo on CPU included). It is plain autograd over ``torch.distributed.nn``'s differentiable
all-reduce, so gradients (and the double backward of R1 and gradient penalties) flow through the
statistics to every process. Outside a process group, in eval mode, or with one process, it is an
ordinary BatchNorm, and its state dict is BatchNorm's, so weights load either way.

Example (one process: exactly ``nn.BatchNorm2d``):
    >>> import torch
    >>> from torch import nn
    >>> plain = nn.Sequential(nn.BatchNorm2d(3))
    >>> synced = convert_sync_batchnorm(plain)
    >>> type(synced[0]).__name__
    'SyncBatchNorm'
    >>> x = torch.randn(4, 3, 2, 2)
    >>> torch.allclose(synced(x), nn.BatchNorm2d(3)(x))
    True
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn.functional import all_reduce


def _in_process_group() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class SyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """``nn.BatchNorm{1,2,3}d`` with statistics over the global batch of all processes."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"SyncBatchNorm expects (B, C, ...) input, got {x.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and _in_process_group()):
            return super().forward(x)
        self._check_input_dim(x)
        dims = [0, *range(2, x.dim())]  # every dimension but the channels
        shape = (1, -1) + (1,) * (x.dim() - 2)  # (C,) -> (1, C, 1, ...)
        local_count = x.new_full((1,), x.numel() / x.shape[1])
        # Two passes (mean, then the centred square) as BatchNorm does: E[x^2] - E[x]^2 loses
        # digits the 1-process run keeps. Each all-reduce carries gradients back to every rank.
        totals = all_reduce(torch.cat([x.sum(dims), local_count]))
        count = totals[-1]
        mean = totals[:-1] / count
        centred = x - mean.view(shape)
        var = all_reduce(centred.square().sum(dims)) / count
        y = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), count.item())
        return y

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, count: float) -> None:
        """BatchNorm's running averages, from the global batch (unbiased variance, as torch)."""
        self.num_batches_tracked += 1
        momentum = self.momentum if self.momentum is not None else 1 / self.num_batches_tracked
        unbiased = var * count / max(count - 1, 1)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every ``nn.BatchNorm1d/2d/3d`` replaced by a :class:`SyncBatchNorm`.

    The new layers take over the parameters and running statistics (the same tensors), so the
    converted network starts exactly where the original was.
    """
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, SyncBatchNorm | nn.SyncBatchNorm
    ):
        synced = SyncBatchNorm(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
            device=next(iter(module.buffers()), torch.empty(0)).device,
        )
        if module.affine:
            synced.weight, synced.bias = module.weight, module.bias
        if module.track_running_stats:
            synced.running_mean = module.running_mean
            synced.running_var = module.running_var
            synced.num_batches_tracked = module.num_batches_tracked
        synced.train(module.training)
        return synced
    for name, child in module.named_children():
        converted = convert_sync_batchnorm(child)
        if converted is not child:
            setattr(module, name, converted)
    return module
