"""Single-image metrics: patch SWD per scale, diversity, the copy check and the seam measure."""

import math

import pytest
import torch

from gankit.data.superres import training_images
from gankit.errors import GankitError
from gankit.metrics.single_image import (
    COPY_THRESHOLD,
    copy_distance,
    diversity,
    laplacian_pyramid,
    patch_swd,
    seam_ratio,
    single_image_report,
)


@pytest.fixture(scope="module")
def image():
    photo = training_images(["chelsea"])[0][:, :64, :96].float() / 127.5 - 1
    return photo


def test_pyramid_bands_add_back_to_the_image(image):
    bands = laplacian_pyramid(image[None], 3)
    rebuilt = bands[-1]
    for band in reversed(bands[:-1]):
        up = torch.nn.functional.interpolate(rebuilt, size=band.shape[-2:], mode="bilinear")
        rebuilt = band + up
    assert torch.allclose(rebuilt, image[None], atol=1e-5)


def test_swd_ranks_texture_changes_per_scale(image):
    same = patch_swd(image[None], image)
    blurred = torch.nn.functional.avg_pool2d(image[None], 3, 1, 1)
    blur = patch_swd(blurred, image)
    recoloured = patch_swd(image[None].flip(1), image)  # RGB -> BGR: colour, not texture
    assert list(same) == ["swd_64", "swd_32", "swd_16", "swd_mean"]
    assert blur["swd_64"] > 3 * same["swd_64"]  # blur removes the finest band's texture
    assert recoloured["swd_16"] > 3 * same["swd_16"]  # the low-pass level holds the colours
    assert patch_swd(image[None], image, seed=1) != same  # the seed draws patches, directions
    assert patch_swd(image[None], image) == same


def test_copy_check_finds_shifted_copies_only(image):
    shifted = image.roll((3, -5), dims=(1, 2))[None]
    noise = torch.rand(1, *image.shape) * 2 - 1
    distances = copy_distance(torch.cat([image[None], shifted, noise]), image)
    assert distances[0] == 0 and distances[1] < COPY_THRESHOLD < distances[2]
    assert math.isclose(diversity(image.expand(5, -1, -1, -1), image), 0.0, abs_tol=1e-7)
    report = single_image_report(torch.cat([shifted, noise]), image)
    assert report["copies"] == 1 and report["samples"] == 2 and report["diversity"] > 0


def test_seam_ratio_tells_periodic_from_seamed(image):
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(48.0), indexing="ij")
    periodic = torch.sin(2 * math.pi * (x / 48 * 2 + y / 32)).expand(1, 3, 32, 48)
    assert seam_ratio(periodic)[0] == pytest.approx(1.0, abs=0.05)
    assert seam_ratio(image[None])[0] > 3  # a photograph's edges do not meet
    with pytest.raises(GankitError, match="seam_ratio"):
        seam_ratio(image)


def test_bad_shapes_are_refused(image):
    with pytest.raises(GankitError, match="training image"):
        patch_swd(image[None, :, :32], image)
    with pytest.raises(GankitError, match="at least 2"):
        diversity(image[None], image)
