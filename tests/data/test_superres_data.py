"""SR training patches (shipped photos, on-the-fly bicubic degradation) and benchmark loading."""

import pytest
import torch

from gankit.data.superres import (
    TRAINING_IMAGES,
    SRPatches,
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
