"""Image folders: every common PIL mode, class sub-folders, cropping, and bad files."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import load_image_folder
from gankit.errors import GankitError

RED = (255, 0, 0)


def _save(image: Image.Image, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)
    return path


def _palette_red(size: int = 12) -> Image.Image:
    return Image.new("RGB", (size, size), RED).convert("P", palette=Image.Palette.ADAPTIVE)


@pytest.fixture
def mixed_modes(tmp_path: Path) -> Path:
    """One solid image per awkward mode; every one of them shows the colour listed in EXPECTED."""
    _save(Image.new("RGB", (16, 16), RED), tmp_path / "a_rgb.png")
    _save(Image.new("L", (10, 10), 100), tmp_path / "b_gray.PNG")  # upper-case extension
    _save(_palette_red(), tmp_path / "c_palette.png")
    _save(Image.new("RGBA", (16, 16), RED + (255,)), tmp_path / "d_rgba.png")
    _save(Image.new("RGBA", (16, 16), (0, 0, 0, 0)), tmp_path / "e_transparent.png")
    sixteen = Image.fromarray(np.full((12, 12), 100 * 257, dtype=np.uint16))
    assert sixteen.mode == "I;16"
    _save(sixteen, tmp_path / "f_16bit.png")
    _save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), tmp_path / "g_cmyk.jpg", quality=95)
    _save(Image.new("RGB", (30, 20), RED), tmp_path / "h_wide.bmp")
    _save(Image.new("RGB", (16, 16), RED), tmp_path / "i_rgb.webp", lossless=True)
    (tmp_path / "notes.txt").write_text("not an image, not an image extension")
    return tmp_path


EXPECTED_RGB = [RED, (100,) * 3, RED, RED, (255,) * 3, (100,) * 3, RED, RED, RED]


def test_every_mode_loads_as_rgb(mixed_modes: Path):
    data = load_image_folder(mixed_modes, resolution=8)
    assert data.images.shape == (9, 3, 8, 8) and data.images.dtype == torch.uint8
    assert data.labels is None and data.class_names == () and data.name == mixed_modes.name
    for image, expected in zip(data.images, EXPECTED_RGB, strict=True):
        # Solid colours stay solid through resizing; JPEG may move a value by a few levels.
        colour = image.float().mean(dim=(1, 2))
        assert torch.allclose(colour, torch.tensor(expected, dtype=torch.float32), atol=3)


def test_channels_1_gives_luma(mixed_modes: Path):
    data = load_image_folder(mixed_modes, resolution=8, channels=1)
    assert data.images.shape == (9, 1, 8, 8)
    means = data.images.float().mean(dim=(1, 2, 3))
    assert means[1].item() == 100 and means[5].item() == 100  # gray and 16-bit gray
    assert means[0].item() == 76  # red: 0.299 * 255, as PIL's convert("L")
    assert means[4].item() == 255  # transparent composites onto white


def test_grayscale_folder_defaults_to_one_channel(tmp_path: Path):
    _save(Image.new("L", (8, 8), 30), tmp_path / "a.png")
    _save(Image.fromarray(np.full((8, 8), 60 * 257, dtype=np.uint16)), tmp_path / "b.png")
    assert load_image_folder(tmp_path, resolution=4).channels == 1
    rgb = load_image_folder(tmp_path, resolution=4, channels=3)
    assert rgb.channels == 3 and rgb.images[1].unique().tolist() == [60]


def test_center_crop_versus_resize(tmp_path: Path):
    # 40x20: black 10-pixel bands left and right around a white 20x20 square.
    pixels = np.zeros((20, 40), dtype=np.uint8)
    pixels[:, 10:30] = 255
    _save(Image.fromarray(pixels), tmp_path / "wide.png")
    center = load_image_folder(tmp_path, resolution=10)
    assert center.images.unique().tolist() == [255]
    squashed = load_image_folder(tmp_path, resolution=10, crop="resize")
    row = squashed.images[0, 0, 5]
    assert row[0] == 0 and row[5] == 255 and row[-1] == 0
    with pytest.raises(GankitError, match="unknown crop 'zoom'.*center, resize"):
        load_image_folder(tmp_path, resolution=10, crop="zoom")


def test_class_subfolders_give_sorted_labels(tmp_path: Path):
    for cls, count in (("dogs", 2), ("cats", 3), ("birds", 1)):
        for i in range(count):
            _save(Image.new("RGB", (8, 8), (i, 0, 0)), tmp_path / cls / "deep" / f"{i}.jpg")
    _save(Image.new("RGB", (8, 8)), tmp_path / ".hidden" / "x.png")  # hidden: ignored
    data = load_image_folder(tmp_path, resolution=8)
    assert data.class_names == ("birds", "cats", "dogs")
    assert data.labels.tolist() == [0, 1, 1, 1, 2, 2]
    assert data.labels.dtype == torch.int64


def test_single_subfolder_or_loose_files_mean_no_labels(tmp_path: Path):
    _save(Image.new("RGB", (8, 8)), tmp_path / "only" / "a.png")
    assert load_image_folder(tmp_path, resolution=8).labels is None
    _save(Image.new("RGB", (8, 8)), tmp_path / "other" / "b.png")
    _save(Image.new("RGB", (8, 8)), tmp_path / "loose.png")
    assert load_image_folder(tmp_path, resolution=8).labels is None


def test_bad_files_are_skipped_with_one_warning(tmp_path: Path):
    for i in range(3):
        _save(Image.new("RGB", (8, 8), RED), tmp_path / f"good{i}.png")
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable image file\(s\).*corrupt.jpg"):
        data = load_image_folder(tmp_path, resolution=8)
    assert len(data) == 3


def test_truncated_file_is_skipped(tmp_path: Path):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        buffer, "PNG"
    )
    (tmp_path / "truncated.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    _save(Image.new("RGB", (8, 8)), tmp_path / "ok.png")
    with pytest.warns(UserWarning, match="skipped 1 .*truncated.png"):
        assert len(load_image_folder(tmp_path, resolution=8)) == 1


def test_decompression_bomb_is_a_bad_file(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 2x this is the error threshold
    _save(Image.new("L", (64, 64)), tmp_path / "bomb.png")
    _save(Image.new("L", (8, 8)), tmp_path / "small.png")
    with pytest.warns(UserWarning, match="skipped 1 .*bomb.png"):
        assert len(load_image_folder(tmp_path, resolution=8)) == 1


def test_all_bad_files_raise(tmp_path: Path):
    (tmp_path / "a.png").write_bytes(b"garbage")
    (tmp_path / "b.webp").write_bytes(b"")
    with pytest.raises(GankitError, match="none of the 2 image files .* could be read"):
        load_image_folder(tmp_path, resolution=8)


def test_folder_errors(tmp_path: Path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(GankitError, match=r"holds no images .*\.png, \.jpg"):
        load_image_folder(tmp_path, resolution=8)
    with pytest.raises(GankitError, match="does not exist"):
        load_image_folder(tmp_path / "missing", resolution=8)
    with pytest.raises(GankitError, match="is a file"):
        load_image_folder(tmp_path / "readme.txt", resolution=8)
    with pytest.raises(GankitError, match="channels"):
        load_image_folder(tmp_path, resolution=8, channels=4)
