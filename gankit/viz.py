"""Pictures of samples: image grids, individual PNGs and 2-D scatter plots."""

from __future__ import annotations

import io
import math
from pathlib import Path

import torch
from PIL import Image

from gankit.io import atomic_write_bytes


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Map generator output in [-1, 1] to uint8 pixels (values outside are clipped)."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def pil_image(array: torch.Tensor) -> Image.Image:
    """(C, H, W) uint8 -> a PIL image (C = 1 gray, 3 RGB)."""
    hwc = array.permute(1, 2, 0).numpy()
    return Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)


def png_bytes(array: torch.Tensor) -> bytes:
    """(C, H, W) uint8 -> PNG bytes (C = 1 gray, 3 RGB)."""
    buffer = io.BytesIO()
    pil_image(array).save(buffer, format="PNG")
    return buffer.getvalue()


def image_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> torch.Tensor:
    """Tile uint8 images (N, C, H, W) into one (C, H', W') image, ``nrow`` per row (or square)."""
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = torch.zeros(
        c, rows * (h + padding) + padding, nrow * (w + padding) + padding, dtype=torch.uint8
    )
    for i in range(n):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        grid[:, top : top + h, left : left + w] = images[i]
    return grid


def save_image_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """Save uint8 images (N, C, H, W) as one PNG grid.

    Example:
        >>> images = load(image_model).generate(64, seed=0)
        >>> save_image_grid(images, tmp / "grid.png").stat().st_size > 0
        True
    """
    atomic_write_bytes(path, png_bytes(image_grid(images, nrow)))
    return Path(path)


def save_gif(
    frames: list[torch.Tensor], path: str | Path, duration_ms: int = 120, loop: bool = True
) -> Path:
    """Save uint8 frames, each (C, H, W), as an animated GIF (``duration_ms`` per frame).

    Example:
        >>> gan = load(image_model)
        >>> frames = [image_grid(gan.generate(16, seed=s)) for s in range(8)]
        >>> save_gif(frames, tmp / "a.gif").suffix
        '.gif'
    """
    images = [pil_image(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=duration_ms,
        loop=0 if loop else 1,
    )
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def save_images(images: torch.Tensor, out_dir: str | Path, prefix: str = "sample") -> list[Path]:
    """Save uint8 images (N, C, H, W) as individual PNGs ``prefix-00000.png`` ... in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = out_dir / f"{prefix}-{i:05d}.png"
        atomic_write_bytes(path, png_bytes(image))
        paths.append(path)
    return paths


def save_scatter(
    points: torch.Tensor, path: str | Path, centers: torch.Tensor | None = None
) -> Path:
    """Scatter plot of 2-D samples, with the true mode centres marked when given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, label="samples")
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", color="red", label="modes")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
