"""Training on several processes: PyTorch's DDP under ``torchrun``, as the engine uses it.

``torchrun --standalone --nproc_per_node=N`` (or ``gankit train --nproc-per-node N``, which starts
it) runs N copies of the same training; each reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
from its environment. The :class:`~gankit.train.Trainer` then joins the process group (gloo on
CPU, nccl on CUDA, one GPU per ``LOCAL_RANK``) through :meth:`Distributed.start`, and this module
holds everything it needs from it. The rules (docs/distributed.md has the whole story):

- **One global batch.** ``batch_size`` is the batch of the whole run; each of N ranks computes
  ``batch_size / N`` of it. Every rank draws the same seeded data order (or sample stream) and the
  same latent noise for the global batch and keeps its own contiguous slice (:meth:`shard`), so
  the ranks see disjoint data, and N ranks compute the 1-process run's step up to the float
  rounding of the gradient average.
- **Gradients** are averaged by DDP (G and D wrapped separately); statistics, ADA's evidence and
  every stop decision are all-reduced, so all ranks take the same branch (rollback, health stop,
  Ctrl-C, time budget) and stay in step: a rank that went its own way would hang the others.
- **Rank 0 alone** runs the callbacks (progress, stats, samples, health monitor) and writes
  checkpoints; every checkpoint first checks that the weights agree bit for bit across ranks
  (as stylegan2-ada's ``check_ddp_consistency``) and stores each other rank's own state (its
  augmentation/dropout RNG, an objective's pool of fakes, BatchNorm statistics).

Outside torchrun (or with ``WORLD_SIZE=1``) :meth:`Distributed.start` returns None and the engine
runs its single-process path, unchanged.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import warnings
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gankit.errors import GankitError
from gankit.nn.sync_batchnorm import convert_sync_batchnorm


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands in a torchrun job (from its environment variables).

    Example:
        >>> DistEnv(rank=1, world_size=2, local_rank=1).is_main
        False
    """

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def environment() -> DistEnv | None:
    """The torchrun job this process belongs to, or None for a plain single process.

    ``WORLD_SIZE=1`` counts as a single process: one rank needs no process group, and the engine
    then runs exactly its 1-process path.
    """
    if "WORLD_SIZE" not in os.environ:
        return None
    try:
        env = DistEnv(
            int(os.environ["RANK"]),
            int(os.environ["WORLD_SIZE"]),
            int(os.environ.get("LOCAL_RANK", os.environ["RANK"])),
        )
    except (KeyError, ValueError) as err:
        raise GankitError(
            f"WORLD_SIZE is set, but RANK/LOCAL_RANK are missing or not numbers ({err}); start "
            "distributed training with torchrun or gankit train --nproc-per-node N"
        ) from None
    return env if env.world_size > 1 else None


def is_main_process() -> bool:
    """False only in a rank other than 0 of a torchrun job (such a rank writes no files)."""
    env = environment()
    return env is None or env.is_main


class Distributed:
    """This process's part in a DDP run: the collectives the engine needs, and nothing else."""

    def __init__(self, env: DistEnv, device: torch.device) -> None:
        self.env = env
        self.device = device

    @classmethod
    def start(cls, device: torch.device, timeout_s: float) -> Distributed | None:
        """Join the process group of the torchrun job, or None outside one.

        ``device`` is the device kind the run asked for; on CUDA each rank takes the GPU of its
        ``LOCAL_RANK``. The group is created once per process (a caller's own group is used as
        it is) and destroyed when the process exits: a second trainer in the same process (a
        fine-tuning run) joins the same group, as re-creating it under torchrun can hang.
        Waiting longer than ``timeout_s`` for the other ranks is a clear error, not a hang.
        """
        env = environment()
        if env is None:
            return None
        if device.type == "cuda":
            device = torch.device("cuda", env.local_rank)
            torch.cuda.set_device(device)
        elif device.type != "cpu":
            raise GankitError(
                f"distributed training runs on CPU (gloo) or CUDA (nccl), not {device.type}; "
                "use --device cpu or cuda"
            )
        if dist.is_initialized():
            return cls(env, device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        try:
            dist.init_process_group(
                backend,
                rank=env.rank,
                world_size=env.world_size,
                timeout=timedelta(seconds=timeout_s),
                **({"device_id": device} if device.type == "cuda" else {}),
            )
            # The first collective proves every rank is there (nccl connects lazily).
            dist.barrier()
        except (dist.DistError, RuntimeError, ValueError) as err:
            if dist.is_initialized():
                dist.destroy_process_group()
            raise GankitError(
                f"rank {env.rank} of {env.world_size} could not start distributed training "
                f"within {timeout_s:g} s at {where} ({_first_line(err)}); check that every rank "
                "and node was started with the same --nnodes/--nproc-per-node and can reach the "
                "rendezvous address, or raise --dist-timeout"
            ) from None
        atexit.register(_destroy_group)
        return cls(env, device)

    @property
    def rank(self) -> int:
        return self.env.rank

    @property
    def world_size(self) -> int:
        return self.env.world_size

    @property
    def is_main(self) -> bool:
        return self.env.is_main

    def finish(self) -> None:
        """Wait until every rank is past its last collective of the run.

        A rank that exits (and tears its connections down) while another still has a message
        of that collective in flight makes the other abort.
        """
        dist.barrier()

    # ------------------------------------------------------------------ networks
    def wrap(self, module: nn.Module, sync_batchnorm: bool) -> DistributedDataParallel:
        """``module`` in DDP, its BatchNorms synchronised first when asked.

        No buffer sync before each forward (stylegan2-ada's ``broadcast_buffers=False``, spelt
        ``forward_sync_buffers=False`` in this torch): by default DDP copies rank 0's buffers to
        every rank before *each* forward, a collective per D call (several per update) that
        would also overwrite each rank's BatchNorm statistics with rank 0's. Buffers never reach
        the gradients in training mode, so each rank keeps its own and checkpoints store them
        per rank; with ``sync_batchnorm`` they are equal anyway.
        """
        if sync_batchnorm:
            if self.device.type == "cuda":
                module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
            else:
                module = convert_sync_batchnorm(module)
        # A 1-channel conv's gradient may come with other (equivalent) strides than DDP's
        # bucket, for which torch warns of a slowdown; the layout is the same memory.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids, forward_sync_buffers=False)

    @staticmethod
    def gradient_sync(module: nn.Module, enabled: bool) -> contextlib.AbstractContextManager:
        """DDP's ``no_sync`` unless ``enabled``: accumulation micro-batches and G's pass through D
        leave gradients local (D's are not wanted, and a DDP forward whose backward reduces
        nothing would break the next update)."""
        return contextlib.nullcontext() if enabled else module.no_sync()

    # ---------------------------------------------------------------------- data
    def shard(self, x: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous slice of a global batch (its length divides by the ranks)."""
        size = len(x) // self.world_size
        return x[self.rank * size : (self.rank + 1) * size]

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """Every rank's ``x`` (same shape on all), concatenated in rank order along dim 0."""
        parts = [torch.empty_like(x) for _ in range(self.world_size)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts)

    # ----------------------------------------------------------------- agreement
    def mean_stats(self, stats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each statistic averaged over the ranks, in one all-reduce.

        The ranks' slices are equal in size, so the mean of their batch means is the global
        batch mean the 1-process run reports; a NaN on any rank reaches all of them.
        """
        names = list(stats)  # every rank built the same dict in the same order
        flat = torch.stack([stats[name].float().reshape(()) for name in names]).to(self.device)
        dist.all_reduce(flat)
        flat = (flat / self.world_size).cpu()
        return {name: flat[i] for i, name in enumerate(names)}

    def any(self, *flags: bool) -> tuple[bool, ...]:
        """For each flag, whether any rank raised it (one all-reduce)."""
        raised = torch.tensor([int(flag) for flag in flags], device=self.device)
        dist.all_reduce(raised, op=dist.ReduceOp.MAX)
        return tuple(bool(value) for value in raised.tolist())

    def check_consistency(self, tensors: dict[str, torch.Tensor]) -> None:
        """Raise on every rank when a tensor differs from rank 0's (NaN equals NaN)."""
        differs = []
        for value in tensors.values():
            reference = value.detach().clone()
            dist.broadcast(reference, src=0)
            same = torch.equal(reference, value) or (
                value.is_floating_point()
                and bool(torch.isclose(reference, value, rtol=0, atol=0, equal_nan=True).all())
            )
            differs.append(not same)
        flags = torch.tensor(differs, dtype=torch.int32, device=self.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        names = [name for name, flag in zip(tensors, flags.tolist(), strict=True) if flag]
        if names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            raise GankitError(
                f"the ranks' weights differ ({shown}): the replicas diverged, so this checkpoint "
                "is not written. A network that draws on a per-rank RNG in a way DDP cannot "
                "average, or a rank that skipped a step, does this; resume from the last "
                "checkpoint and report it"
            )

    def gather_rank_states(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Every other rank's value of each tensor, as ``"{rank}.{name}"`` (for rank 0 to save)."""
        gathered: dict[str, torch.Tensor] = {}
        for name, value in tensors.items():
            parts = self.gather(value.detach().to(self.device)[None]).cpu()  # (N, *value.shape)
            gathered.update({f"{rank}.{name}": parts[rank] for rank in range(1, self.world_size)})
        return gathered

    @staticmethod
    def is_communication_error(err: RuntimeError) -> bool:
        """Whether ``err`` came from the process group (a peer gone, a collective timed out)
        rather than from the computation: gloo raises plain RuntimeErrors naming itself."""
        text = str(err).lower()
        return isinstance(err, dist.DistError) or "gloo" in text or "nccl" in text

    def lost_contact(self, err: BaseException, step: int) -> GankitError:
        """The one message for a collective that failed because another rank went away."""
        return GankitError(
            f"rank {self.rank} of {self.world_size} lost contact with the other ranks at step "
            f"{step} ({_first_line(err)}): a rank failed or was killed (its own message, if any, "
            "is above). The last checkpoint is intact; continue with gankit resume"
        )


def _destroy_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _first_line(err: BaseException) -> str:
    """The gist of ``err``: its first line, without gloo's source location and advice."""
    lines = str(err).strip().splitlines()
    if not lines:
        return type(err).__name__
    return re.sub(r"^\[[^\]]*\]\s*", "", lines[0]).split(". This is typically")[0]
