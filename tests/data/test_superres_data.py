"""SR training patches (shipped photos, on-the-fly bicubic degradation) and benchmark loading."""

import importlib.util

import pytest
import torch

from gankit.data.superres import (
    OPTIONAL_PHOTOS,
    ORIGINAL_PHOTOS,
    TRAINING_IMAGES,
    SRPatches,
    available_training_images,
    degrade,
    load_benchmark,
    modcrop,
    read_rgb_image,
    training_images,
)
from gankit.errors import GankitError


@pytest.fixture(scope="module")
def patches():
    return SRPatches.from_images(training_images(["chelsea", "camera"]), scale=4, patch=32)


def test_shipped_photos_load_as_rgb():
    images = training_images(["astronaut", "camera"])
    assert [tuple(im.shape) for im in images] == [(3, 512, 512), (3, 512, 512)]
    assert all(im.dtype == torch.uint8 for im in images)
    assert torch.equal(images[1][0], images[1][2])  # grayscale repeated to RGB
    assert len(TRAINING_IMAGES) >= 15
    with pytest.raises(GankitError, match="unknown training image"):
        training_images(["lenna"])


def test_sample_pairs_are_seeded_and_degraded_consistently(patches):
    hr, lr = patches.sample(6, torch.Generator().manual_seed(3))
    hr2, lr2 = patches.sample(6, torch.Generator().manual_seed(3))
    assert torch.equal(hr, hr2) and torch.equal(lr, lr2)
    assert hr.shape == (6, 3, 32, 32) and lr.shape == (6, 3, 8, 8)
    assert hr.min() >= -1 and hr.max() <= 1
    # LR is the 8-bit bicubic downscale of exactly this HR patch (after its flip/rotation).
    pixels = ((hr + 1) * 127.5).round()
    assert torch.allclose(lr, degrade(pixels, 4) / 127.5 - 1, atol=1e-6)
    other, _ = patches.sample(6, torch.Generator().manual_seed(4))
    assert not torch.equal(hr, other)


def test_batch_is_a_fixed_crop(patches):
    hr, lr = patches.batch(torch.tensor([0, len(patches) - 1]))
    first = patches.images[0][:, :32, :32].float() / 127.5 - 1
    last = patches.images[1][:, -32:, -32:].float() / 127.5 - 1
    assert torch.equal(hr[0], first) and torch.equal(hr[1], last)
    assert patches.conditional and len(patches) == (300 - 31) * (451 - 31) + 481 * 481


def test_bad_patch_sizes():
    images = training_images(["page"])  # 191 x 384
    with pytest.raises(GankitError, match="multiple of scale"):
        SRPatches.from_images(images, scale=4, patch=30)
    with pytest.raises(GankitError, match="at least 256x256"):
        SRPatches.from_images(images, scale=4, patch=256)


def test_modcrop_and_degrade():
    hr = torch.full((1, 3, 10, 9), 77, dtype=torch.uint8)
    assert modcrop(hr, 4).shape == (1, 3, 8, 8)
    assert torch.equal(degrade(modcrop(hr, 4), 4), torch.full((1, 3, 2, 2), 77.0))
    with pytest.raises(GankitError, match="modcrop"):
        degrade(hr, 4)


def test_benchmark_loader(tmp_path):
    with pytest.raises(GankitError, match="GANKIT_DATA"):
        load_benchmark("Set5", root=tmp_path / "missing")
    with pytest.raises(GankitError, match="holds no images"):
        load_benchmark("Set14", root=tmp_path)
    with pytest.raises(GankitError, match="unknown SR benchmark"):
        load_benchmark("Urban100")


def test_benchmark_set5_when_present():
    try:
        images = load_benchmark("Set5")
    except GankitError:
        pytest.skip("Set5 not found under $GANKIT_DATA")
    assert [name for name, _ in images] == ["baby", "bird", "butterfly", "head", "woman"]
    assert tuple(images[4][1].shape) == (3, 344, 228)


def test_read_rgb_image_errors(tmp_path):
    with pytest.raises(GankitError, match="not found"):
        read_rgb_image(tmp_path / "nope.png")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(GankitError, match="not an image"):
        read_rgb_image(text)
    from PIL import Image

    good = tmp_path / "ok.png"
    Image.new("L", (20, 10), 9).save(good)
    assert tuple(read_rgb_image(good).shape) == (3, 10, 20)
    noisy = tmp_path / "noise.png"
    Image.fromarray(torch.randint(0, 256, (64, 64, 3), dtype=torch.uint8).numpy()).save(noisy)
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(noisy.read_bytes()[:2000])
    with pytest.raises(GankitError, match="cut.png"):
        read_rgb_image(truncated)


def _installed(package):
    return importlib.util.find_spec(package) is not None


def test_a_missing_optional_package_only_leaves_its_photos_out(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def without_glymur(name, *args):
        return None if name == "glymur" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_glymur)
    names = available_training_images()
    assert "nemo" not in names and "goodstuff" not in names
    assert set(ORIGINAL_PHOTOS) <= set(names)  # the default set still loads without it
    with pytest.raises(GankitError, match=r"glymur package.*pip install 'glymur=="):
        training_images(["nemo"])
    assert tuple(training_images(["coins"])[0].shape) == (3, 303, 384)


@pytest.mark.skipif(
    not all(_installed(p) for p in set(OPTIONAL_PHOTOS.values())), reason="srdata extra missing"
)
def test_optional_photos_load_from_their_wheels():
    assert available_training_images() == list(TRAINING_IMAGES)
    ascent, nemo, portrait = training_images(["ascent", "nemo", "luispedro"])
    assert tuple(ascent.shape) == (3, 512, 512) and torch.equal(ascent[0], ascent[2])  # gray
    assert tuple(nemo.shape) == (3, 728, 1296)  # 2592 x 1456, halved
    assert tuple(portrait.shape) == (3, 377, 300) and not torch.equal(portrait[0], portrait[2])


@pytest.mark.skipif(not _installed("sporco"), reason="sporco (srdata extra) missing")
def test_sporco_evaluation_photos():
    images = load_benchmark("sporco")
    assert [name for name, _ in images] == ["kodim23", "sail", "tulips"]
    assert all(tuple(im.shape) == (3, 512, 768) for _, im in images)
    assert not set(dict(images)) & set(TRAINING_IMAGES)  # never trained on


def test_zoom_shrinks_larger_crops_deterministically():
    photo = training_images(["chelsea"])
    zoomed = SRPatches.from_images(photo, scale=4, patch=32, zoom=3.0)
    plain = SRPatches.from_images(photo, scale=4, patch=32)
    hr, lr = zoomed.sample(8, torch.Generator().manual_seed(5))
    hr2, lr2 = zoomed.sample(8, torch.Generator().manual_seed(5))
    assert torch.equal(hr, hr2) and torch.equal(lr, lr2)
    assert hr.shape == (8, 3, 32, 32) and lr.shape == (8, 3, 8, 8)
    pixels = ((hr + 1) * 127.5).round()
    assert torch.equal(pixels, pixels.clamp(0, 255))  # 8-bit HR, and LR is its degradation
    assert torch.allclose(lr, degrade(pixels, 4) / 127.5 - 1, atol=1e-6)
    plain_hr, _ = plain.sample(8, torch.Generator().manual_seed(5))
    assert not torch.equal(hr, plain_hr)


def test_zoom_sees_the_source_at_random_smaller_scales():
    # A ramp of one level per pixel: a crop shrunk by f has a slope of f levels per pixel.
    ramp = torch.arange(256, dtype=torch.uint8).expand(3, 256, 256)
    zoomed = SRPatches.from_images([ramp], scale=4, patch=32, zoom=3.0)
    hr, _ = zoomed.sample(16, torch.Generator().manual_seed(0))
    pixels = (hr + 1) * 127.5  # any flip/rotation: the slope is along x or y
    slope = pixels.diff(dim=-1).abs().mean((1, 2, 3)) + pixels.diff(dim=-2).abs().mean((1, 2, 3))
    assert slope.min() > 0.95 and slope.max() < 3.05 and slope.std() > 0.3
    plain_hr, _ = SRPatches.from_images([ramp], scale=4, patch=32).sample(4, torch.Generator())
    assert ((plain_hr + 1) * 127.5).diff(dim=-1).abs().sum((-1, -2)).amax() <= 31 * 32 + 1e-3


def test_zoom_is_capped_by_the_image_and_checked():
    small = [torch.randint(0, 256, (3, 40, 64), generator=torch.Generator().manual_seed(0))]
    data = SRPatches.from_images([im.to(torch.uint8) for im in small], scale=4, patch=32, zoom=4)
    hr, _ = data.sample(4, torch.Generator().manual_seed(0))  # 128 px crops do not fit: 40 px
    assert hr.shape == (4, 3, 32, 32)
    with pytest.raises(GankitError, match="zoom"):
        SRPatches.from_images(small, scale=4, patch=32, zoom=0.5)
