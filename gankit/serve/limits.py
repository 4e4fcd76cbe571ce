"""What one server accepts: the bounds every request is checked against."""

from __future__ import annotations

from dataclasses import dataclass, fields

from gankit.errors import GankitError

# Seeds are 63-bit non-negative integers: every torch generator and JSON client takes them.
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class ServeLimits:
    """Bounds of ``gankit serve``; each keeps one request or one client from taking the machine.

    ``max_n``: samples per request, over all its seeds; ``max_upload_bytes``: size of a request
    body (an uploaded image, a JSON body); ``max_pixels``: width x height of an uploaded image,
    checked from its header before it is decoded (a decompression bomb never is);
    ``queue``: requests waiting for or in inference before more are refused with 503;
    ``workers``: inference threads (one: torch already spreads a batch over the cores).

    Example:
        >>> ServeLimits(max_n=64).max_n
        64
    """

    max_n: int = 256
    max_upload_bytes: int = 8 * 2**20
    max_pixels: int = 1024 * 1024
    queue: int = 16
    workers: int = 1

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GankitError(
                    f"serve limit {spec.name} must be a positive integer, got {value!r}"
                )
