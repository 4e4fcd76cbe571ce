"""Samples as file bytes: what ``gankit sample`` writes to disk and ``gankit serve`` sends.

One encoder per format, shared by both, so a request to the server and the command with the same
seed give byte-identical files. :data:`FORMATS` lists the formats each kind of output
(``describe()["output"]``) can be written in; the first is the default.

Example:
    >>> images = torch.zeros(2, 1, 4, 4, dtype=torch.uint8)
    >>> image_bytes(images[0], "png")[:4]
    b'\\x89PNG'
    >>> import pandas as pd
    >>> table_csv(pd.DataFrame({"city": ["Oslo"], "age": [31]}))
    b'city,age\\nOslo,31\\n'
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import torch

from gankit.viz import pil_image, png_bytes

# Output kind -> the formats it can be encoded in (the first is the default).
FORMATS: dict[str, tuple[str, ...]] = {
    "images": ("png", "webp", "npy"),
    "points": ("csv", "json", "npy"),
    "table": ("csv", "json"),
}
MEDIA_TYPES = {
    "png": "image/png",
    "webp": "image/webp",
    "npy": "application/x-npy",
    "csv": "text/csv",
    "json": "application/json",
}


def image_bytes(image: torch.Tensor, fmt: str) -> bytes:
    """One uint8 image (C, H, W) as ``png`` or ``webp`` bytes.

    WebP is written lossless, so it holds the same pixels as the PNG.
    """
    if fmt == "png":
        return png_bytes(image)
    buffer = io.BytesIO()
    pil_image(image).save(buffer, format="WEBP", lossless=True, quality=100, method=4)
    return buffer.getvalue()


def npy_bytes(array: torch.Tensor | np.ndarray) -> bytes:
    """An array as ``.npy`` bytes (``numpy.load`` reads it; never pickled)."""
    buffer = io.BytesIO()
    values = array.numpy() if isinstance(array, torch.Tensor) else array
    np.save(buffer, np.ascontiguousarray(values), allow_pickle=False)
    return buffer.getvalue()


def points_csv(points: torch.Tensor) -> bytes:
    """2-D points (N, 2) as CSV with an ``x,y`` header (full float precision)."""
    rows = "".join(f"{x!r},{y!r}\n" for x, y in points.tolist())
    return ("x,y\n" + rows).encode()


def points_json(points: torch.Tensor) -> bytes:
    """2-D points (N, 2) as a JSON list of ``[x, y]`` pairs."""
    return json.dumps(points.tolist()).encode()


def table_csv(rows: Any) -> bytes:
    """A DataFrame's rows as CSV (a header, no index)."""
    return rows.to_csv(index=False).encode()


def table_json(rows: Any) -> bytes:
    """A DataFrame's rows as a JSON list of ``{column: value}`` records (dates in ISO 8601)."""
    return rows.to_json(orient="records", date_format="iso").encode()
