"""What a request returns: named files, sent as JSON with base64 bodies, one raw body or a zip."""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from typing import Any

# A fixed timestamp and mode in every zip entry: the same files always give the same zip bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_MODE = 0o644 << 16


@dataclass(frozen=True)
class OutputFile:
    """One output file: its name inside the answer (``seed-3/sample-00000.png``), its bytes."""

    name: str
    media_type: str
    data: bytes
    seed: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The file as an entry of a ``b64_json`` answer."""
        entry: dict[str, Any] = {"name": self.name, "media_type": self.media_type}
        if self.seed is not None:
            entry["seed"] = self.seed
        entry["b64_json"] = base64.b64encode(self.data).decode("ascii")
        return entry


def zip_bytes(files: list[OutputFile]) -> bytes:
    """The files as one zip (stored, not deflated: PNG, WebP and NPY gain little), reproducibly.

    Example:
        >>> one = [OutputFile("a.csv", "text/csv", b"x\\n1\\n")]
        >>> zip_bytes(one) == zip_bytes(one)
        True
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=_ZIP_TIME)
            info.external_attr = _ZIP_MODE
            archive.writestr(info, file.data)
    return buffer.getvalue()
