"""Inference off the event loop: a few worker threads behind a bounded count of waiting jobs.

The event loop only parses requests and sends answers; every forward pass and every encoding runs
on the workers. When ``capacity`` jobs are already waiting or running, a new one is refused at
once (the server answers 503 with ``Retry-After``) instead of piling up latency for everyone.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Weight of the newest job in the running mean of job seconds behind Retry-After.
_SMOOTHING = 0.2


class Overloaded(Exception):
    """The queue is full; ``retry_after`` is the whole seconds a client should wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy; retry in {retry_after} s")
        self.retry_after = retry_after


class InferenceQueue:
    """Runs jobs on ``workers`` threads, refusing new ones while ``capacity`` are pending.

    ``pending`` is read and written only on the event loop's thread, so it needs no lock.

    Example:
        >>> queue = InferenceQueue(capacity=2)
        >>> asyncio.run(queue.run(sum, [1, 2, 3]))
        6
        >>> queue.close()
    """

    def __init__(self, capacity: int, workers: int = 1) -> None:
        self.capacity = capacity
        self.workers = workers
        self.pending = 0
        self.mean_seconds = 0.0
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="gankit-inference")

    def retry_after(self) -> int:
        """Seconds until the jobs now pending should be done (at least 1)."""
        return max(1, math.ceil(self.mean_seconds * self.pending / self.workers))

    async def run(self, job: Callable[..., T], *args: object) -> T:
        """``job(*args)`` on a worker thread; :class:`Overloaded` when the queue is full."""
        if self.pending >= self.capacity:
            raise Overloaded(self.retry_after())
        self.pending += 1
        try:
            return await asyncio.wrap_future(self._executor.submit(self._timed, job, *args))
        finally:
            self.pending -= 1

    def _timed(self, job: Callable[..., T], *args: object) -> T:
        started = time.perf_counter()
        try:
            return job(*args)
        finally:
            seconds = time.perf_counter() - started
            # A float assignment is atomic under the GIL; a lost update only blurs the estimate.
            self.mean_seconds += _SMOOTHING * (seconds - self.mean_seconds)

    def close(self) -> None:
        """Stop the workers after the jobs already submitted."""
        self._executor.shutdown(wait=True)
