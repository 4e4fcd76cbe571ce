"""Fuzzed bad input: every case ends in one clear ``gankit`` error or a counted skip.

Three generated families, each case a separate test id (the count is reported by pytest):
- image files: 14 valid encodings (PNG gray/RGB/RGBA/palette/16-bit/1-bit/LA, JPEG RGB/gray/
  CMYK/progressive, BMP, WEBP) cut short, bit-flipped and given garbage headers, plus zero-byte,
  decompression bombs, extreme shapes, 16-bit RGB and non-image files. Each is loaded beside valid
  images (it must load or be skipped with a warning that counts it) and alone (it must load or be
  refused with a GankitError naming the folder);
- MNIST IDX files cut short, bit-flipped, or with lying headers;
- CLI option values: negative, zero, NaN, infinite, huge and non-numeric, for every numeric option.
"""

from __future__ import annotations

import gzip
import io
import random
import shutil
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from reliability_helpers import assert_clean_error, run_cli, train_argv, write_blobs

from gankit.data import load_image_folder, load_mnist
from gankit.errors import GankitError

# ---------------------------------------------------------------------------- image files


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _png_raw(width: int, height: int, bit_depth: int, color_type: int, rows: bytes) -> bytes:
    """A PNG written by hand, for what PIL cannot write (48-bit RGB, lying dimensions)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _gradient(mode: str, size: int = 20) -> Image.Image:
    values = np.add.outer(np.arange(size), np.arange(size)).astype(np.uint8) * 6
    return Image.fromarray(values).convert(mode)


VALID: dict[str, tuple[str, bytes]] = {
    "png-L": (".png", _encode(_gradient("L"), "PNG")),
    "png-RGB": (".png", _encode(_gradient("RGB"), "PNG")),
    "png-RGBA": (".png", _encode(_gradient("RGBA"), "PNG")),
    "png-P": (".png", _encode(_gradient("RGB").convert("P"), "PNG")),
    "png-LA": (".png", _encode(_gradient("LA"), "PNG")),
    "png-1bit": (".png", _encode(_gradient("1"), "PNG")),
    "png-I16": (".png", _encode(Image.fromarray(np.full((9, 9), 40000, np.uint16)), "PNG")),
    "png-RGB16": (
        ".png",
        _png_raw(4, 4, 16, 2, b"".join(b"\0" + b"\x12\x34" * 12 for _ in range(4))),
    ),
    "jpg-RGB": (".jpg", _encode(_gradient("RGB"), "JPEG")),
    "jpg-L": (".jpeg", _encode(_gradient("L"), "JPEG")),
    "jpg-CMYK": (".jpg", _encode(_gradient("CMYK"), "JPEG")),
    "jpg-progressive": (".JPG", _encode(_gradient("RGB", 40), "JPEG", progressive=True)),
    "bmp": (".bmp", _encode(_gradient("RGB"), "BMP")),
    "webp": (".webp", _encode(_gradient("RGB"), "WEBP")),
}


def _mutations(data: bytes, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    cases = {f"cut{fraction}": data[: int(len(data) * fraction)] for fraction in (0.1, 0.5, 0.9)}
    cases["cut-last-byte"] = data[:-1]
    cases["zero-bytes"] = b""
    cases["garbage-header"] = bytes(rng.randrange(256) for _ in range(16)) + data[16:]
    for flip in range(3):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        cases[f"bitflip{flip}"] = bytes(damaged)
    return cases


SPECIAL: dict[str, tuple[str, bytes]] = {
    # IHDR claims 10^10 pixels: PIL's decompression-bomb check must refuse it before decoding.
    "bomb-header": (".png", _png_raw(100_000, 100_000, 8, 0, b"\0" * 64)),
    # 90.2 M pixels of real (zero) data: over PIL's 89.5 M warning limit, under its error limit.
    "bomb-90M": (".png", _png_raw(9500, 9500, 1, 0, b"\0" * (9500 * (1 + 9500 // 8 + 1)))),
    "one-pixel": (".png", _encode(Image.new("L", (1, 1), 200), "PNG")),
    "wide-4000x1": (".png", _encode(Image.new("RGB", (4000, 1)), "PNG")),
    "tall-1x4000": (".png", _encode(Image.new("RGB", (1, 4000)), "PNG")),
    "html-as-jpg": (".jpg", b"<html><body>404 Not Found</body></html>"),
    "text-as-png": (".png", b"these are not the pixels you are looking for\n"),
    "png-as-jpg": (".jpg", VALID["png-RGB"][1]),
    "jpg-as-png": (".png", VALID["jpg-RGB"][1]),
    "png-bad-crc": (".png", VALID["png-L"][1][:29] + b"\0\0\0\0" + VALID["png-L"][1][33:]),
}


def _image_cases() -> dict[str, tuple[str, bytes]]:
    cases = dict(SPECIAL)
    for seed, (name, (suffix, data)) in enumerate(VALID.items()):
        cases[name] = (suffix, data)
        for mutation, damaged in _mutations(data, seed).items():
            cases[f"{name}-{mutation}"] = (suffix, damaged)
    return cases


IMAGE_CASES = _image_cases()


@pytest.fixture(scope="module")
def good_images(tmp_path_factory) -> Path:
    return write_blobs(tmp_path_factory.mktemp("good"), n=3)


def _load_quietly(folder: Path, channels: int | None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_image_folder(folder, resolution=16, channels=channels)
    return data, [str(w.message) for w in caught]


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_bad_image_beside_good_ones_loads_or_is_skipped_and_counted(case, good_images, tmp_path):
    suffix, data = IMAGE_CASES[case]
    folder = Path(shutil.copytree(good_images, tmp_path / "photos"))
    (folder / f"case{suffix}").write_bytes(data)
    channels = (None, 1, 3)[len(case) % 3]
    images, messages = _load_quietly(folder, channels)
    assert images.images.dtype == torch.uint8
    assert tuple(images.images.shape[1:]) in {(1, 16, 16), (3, 16, 16)}
    if channels is not None:
        assert images.channels == channels
    if len(images) == 3:
        assert any("skipped 1 unreadable" in m and f"case{suffix}" in m for m in messages)
    else:
        assert len(images) == 4 and not any("skipped" in m for m in messages)


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_bad_image_alone_loads_or_is_refused_clearly(case, tmp_path):
    suffix, data = IMAGE_CASES[case]
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / f"case{suffix}").write_bytes(data)
    try:
        images, _ = _load_quietly(folder, None)
    except GankitError as err:
        assert "photos" in str(err) and "could be read" in str(err)
    else:
        assert len(images) == 1


def test_decompression_bomb_in_the_warning_range_is_skipped(good_images, tmp_path):
    """90 M pixels would decode (PIL only warns): gankit must skip it, not spend seconds on it."""
    folder = Path(shutil.copytree(good_images, tmp_path / "photos"))
    (folder / "bomb.png").write_bytes(SPECIAL["bomb-90M"][1])
    images, messages = _load_quietly(folder, None)
    assert len(images) == 3 and any("bomb.png" in m for m in messages)


def _empty(folder: Path) -> None:
    folder.mkdir()


def _only_hidden(folder: Path) -> None:
    write_blobs(folder / ".ipynb_checkpoints", n=2)
    (folder / "._blob-000.png").write_bytes(b"\0\5\26\7")  # a macOS resource fork


def _only_other_files(folder: Path) -> None:
    folder.mkdir()
    (folder / "labels.csv").write_text("file,label\n")
    (folder / "notes.txt").write_text("hello")


def _nested_empty(folder: Path) -> None:
    (folder / "a" / "b" / "c").mkdir(parents=True)


def _all_corrupt(folder: Path) -> None:
    folder.mkdir()
    for i in range(3):
        (folder / f"broken-{i}.png").write_bytes(VALID["png-RGB"][1][:40])


def _a_directory_named_png(folder: Path) -> None:
    (folder / "photo.png").mkdir(parents=True)


def _broken_symlink(folder: Path) -> None:
    folder.mkdir()
    (folder / "photo.png").symlink_to(folder / "missing.png")


def _a_file(folder: Path) -> None:
    folder.write_bytes(VALID["png-RGB"][1])


FOLDERS: dict[str, Callable[[Path], None]] = {
    "empty": _empty,
    "only hidden": _only_hidden,
    "only other files": _only_other_files,
    "nested empty": _nested_empty,
    "all corrupt": _all_corrupt,
    "dir named .png": _a_directory_named_png,
    "broken symlink": _broken_symlink,
    "a file": _a_file,
}


@pytest.mark.parametrize("case", FOLDERS)
def test_unusable_folder_is_one_clear_cli_error(case, tmp_path, capsys):
    folder = tmp_path / "photos"
    FOLDERS[case](folder)
    code, _, err = run_cli(train_argv(folder, tmp_path / "run", steps=1), capsys)
    assert_clean_error(code, err, "photos")


# ------------------------------------------------------------------------------ MNIST IDX


def _idx(magic: int, array: np.ndarray) -> bytes:
    return (
        struct.pack(">I", magic)
        + b"".join(struct.pack(">I", d) for d in array.shape)
        + array.tobytes()
    )


def _mnist_files(images: bytes, labels: bytes) -> dict[str, bytes]:
    return {
        "train-images-idx3-ubyte.gz": gzip.compress(images),
        "train-labels-idx1-ubyte.gz": gzip.compress(labels),
    }


_IMAGES = _idx(2051, np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8))
_LABELS = _idx(2049, np.arange(20, dtype=np.uint8) % 10)


def _mnist_cases() -> dict[str, dict[str, bytes]]:
    cases = {
        "swapped magic": _mnist_files(_LABELS, _IMAGES),
        "label 200": _mnist_files(_IMAGES, _idx(2049, np.full(20, 200, np.uint8))),
        "count mismatch": _mnist_files(_IMAGES, _idx(2049, np.zeros(19, np.uint8))),
        "non-square": _mnist_files(_idx(2051, np.zeros((20, 28, 27), np.uint8)), _LABELS),
        "header claims 2^32-1": _mnist_files(
            _IMAGES[:4] + struct.pack(">I", 2**32 - 1) + _IMAGES[8:], _LABELS
        ),
        "not gzip": {"train-images-idx3-ubyte.gz": _IMAGES, "train-labels-idx1-ubyte.gz": _LABELS},
        "gzip cut": {
            "train-images-idx3-ubyte.gz": gzip.compress(_IMAGES)[:100],
            "train-labels-idx1-ubyte.gz": gzip.compress(_LABELS),
        },
        "labels missing": {"train-images-idx3-ubyte.gz": gzip.compress(_IMAGES)},
    }
    for seed, which in enumerate(("images", "labels")):
        raw = _IMAGES if which == "images" else _LABELS
        for name, damaged in _mutations(raw, 100 + seed).items():
            pair = (damaged, _LABELS) if which == "images" else (_IMAGES, damaged)
            cases[f"{which}-{name}"] = _mnist_files(*pair)
    return cases


MNIST_CASES = _mnist_cases()


@pytest.mark.parametrize("case", MNIST_CASES)
def test_damaged_mnist_files_are_refused_clearly(case, tmp_path):
    for name, data in MNIST_CASES[case].items():
        (tmp_path / name).write_bytes(data)
    try:
        data = load_mnist(tmp_path, "train", resolution=16)
    except GankitError as err:
        assert "MNIST" in str(err)
    else:  # a flip inside the pixels leaves a valid file
        assert data.images.shape[1:] == (1, 16, 16)


# ----------------------------------------------------------------------------- CLI options

_NOT_A_NUMBER = ["abc", "", "nan", "1.5", "0x10"]
_POSITIVE_INT = ["0", "-1", "-99999999999999999999", *_NOT_A_NUMBER]
_POSITIVE_FLOAT = ["0", "-1", "-1e-9", "nan", "inf", "-inf", "1e400", "abc", ""]
_NON_NEGATIVE_FLOAT = ["-1", "-1e-9", "nan", "inf", "-inf", "1e400", "abc", ""]

# (option, values that must be refused, text the error must contain)
TRAIN_OPTIONS = [
    ("--steps", _POSITIVE_INT, "steps"),
    ("--batch-size", [*_POSITIVE_INT, "99999999"], "batch"),
    ("--n-critic", _POSITIVE_INT, "critic"),
    ("--checkpoint-every", _POSITIVE_INT, "checkpoint"),
    ("--sample-every", _POSITIVE_INT, "sample"),
    ("--log-every", _POSITIVE_INT, "log"),
    ("--resolution", [*_POSITIVE_INT, "17", "10000000"], "resolution"),
    ("--channels", ["0", "2", "4", "-1", "abc"], "channels"),
    ("--lr-g", _POSITIVE_FLOAT, "lr"),
    ("--lr-d", _POSITIVE_FLOAT, "lr"),
    ("--r1", _NON_NEGATIVE_FLOAT, "r1"),
    ("--seed", _NOT_A_NUMBER, "seed"),
    ("--max-seconds", ["nan", "abc", ""], "max-seconds"),
    (
        "--set",
        ["ema_beta=1.5", "ema_beta=nan", "reg_interval=0", "betas=[2,3]", "model.g_width=-8"],
        "",
    ),
]


# Values accepted by code outside this suite's room, reported to their owners:
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _train_cases():
    for option, values, needle in TRAIN_OPTIONS:
        for value in values:
            gap = KNOWN_GAPS.get((option, value))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            yield pytest.param(option, value, needle, marks=marks, id=f"train{option}={value}")


@pytest.mark.parametrize("option,value,needle", list(_train_cases()))
def test_bad_train_option_value_is_one_clear_error(option, value, needle, blobs, tmp_path, capsys):
    argv = train_argv(blobs, tmp_path / "run", steps=1)
    code, _, err = run_cli([*argv, option, value], capsys)
    assert_clean_error(code, err, needle)


@pytest.fixture
def model(reference_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(reference_run, tmp_path / "model"))


def _model_cases():
    for value in ["0", "-1", "10000000000000", *_NOT_A_NUMBER]:
        yield pytest.param(
            ["sample", "{model}", "--grid", "{tmp}/g.png", "-n", value], id=f"sample-n={value}"
        )
    for value in _NOT_A_NUMBER:
        yield pytest.param(
            ["sample", "{model}", "--grid", "{tmp}/g.png", "--seed", value],
            id=f"sample-seed={value}",
        )
    for value in _POSITIVE_INT:
        yield pytest.param(["resume", "{model}", "--steps", value], id=f"resume-steps={value}")


@pytest.mark.parametrize("argv", list(_model_cases()))
def test_bad_option_on_a_model_is_one_clear_error(argv, model, tmp_path, capsys):
    argv = [a.format(model=model, tmp=tmp_path) for a in argv]
    code, _, err = run_cli(argv, capsys)
    assert_clean_error(code, err)


def test_fuzz_case_count(record_figure):
    """The issue asks for at least 200 generated bad-input cases."""
    counts = {
        "image files": 2 * len(IMAGE_CASES),
        "folders": len(FOLDERS),
        "MNIST files": len(MNIST_CASES),
        "CLI option values": len(list(_train_cases())) + len(list(_model_cases())),
    }
    total = sum(counts.values())
    assert total >= 200
    record_figure(
        "fuzz",
        f"{total} generated bad-input cases ("
        + ", ".join(f"{n} {what}" for what, n in counts.items())
        + "); what they did is the `fuzz_outcomes` figure, counted from pytest's reports",
    )
