"""Uploaded images, checked before they are decoded: byte size, format, and pixel count.

The pixel count comes from the file's header, so a small file that claims a huge canvas (a
decompression bomb) is refused without allocating it. Pillow's own bomb check
(``Image.MAX_IMAGE_PIXELS``) stays on behind ours as a second line.
"""

from __future__ import annotations

import io
import warnings

import torch
from PIL import Image, UnidentifiedImageError

from gankit.data.folder import decode_image
from gankit.errors import GankitError
from gankit.serve.errors import RequestError
from gankit.serve.limits import ServeLimits

# The formats a browser or phone camera produces; anything else is refused before decoding.
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "BMP")


def read_upload(data: bytes, channels: int, limits: ServeLimits) -> torch.Tensor:
    """An uploaded image file as uint8 ``(channels, H, W)``, or a :class:`RequestError`."""
    if not data:
        raise RequestError(400, "the uploaded image is empty; send a PNG, JPEG, WebP or BMP file")
    if len(data) > limits.max_upload_bytes:
        raise RequestError(
            413,
            f"the uploaded image has {len(data)} bytes; this server takes at most "
            f"{limits.max_upload_bytes}",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS) as image:
                width, height = image.size  # read from the header; nothing is decoded yet
    except UnidentifiedImageError:
        raise RequestError(
            415, "the upload is not a PNG, JPEG, WebP or BMP image; send one of those"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RequestError(
            413, _too_many_pixels("it claims more than Pillow's limit", limits)
        ) from None
    except Exception as err:  # noqa: BLE001  (PIL raises many types on a damaged header)
        raise RequestError(400, f"the uploaded image could not be read ({err})") from None
    if width * height > limits.max_pixels:
        raise RequestError(413, _too_many_pixels(f"it is {width}x{height}", limits))
    try:
        return decode_image(io.BytesIO(data), channels, "the uploaded image")
    except GankitError as err:  # a damaged body behind a good header
        raise RequestError(400, str(err)) from None


def _too_many_pixels(what: str, limits: ServeLimits) -> str:
    return (
        f"the uploaded image is too large: {what}; this server takes at most "
        f"{limits.max_pixels} pixels (width x height); scale it down"
    )
