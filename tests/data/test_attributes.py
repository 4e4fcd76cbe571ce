"""Measured digit attributes: constructed images move each measure the right way; MNIST is sane."""

import math

import pytest
import torch
import torch.nn.functional as F

from gankit.data import default_data_root, load_mnist
from gankit.data.attributes import ATTRIBUTES, measure_attributes
from gankit.errors import GankitError

MNIST_ROOT = default_data_root() / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST_ROOT / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST IDX files not found in {MNIST_ROOT}; set GANKIT_DATA to the shared data folder",
)


def bar(width: int, size: int = 32, top: int = 4, bottom: int = 28, left: int = 14):
    """A vertical white bar ``width`` px wide on black, uint8 (1, 1, size, size)."""
    image = torch.zeros(1, 1, size, size, dtype=torch.uint8)
    image[..., top:bottom, left : left + width] = 255
    return image


def shear(images: torch.Tensor, amount: float) -> torch.Tensor:
    """Shear uint8 images so that the top moves ``amount`` x height to the right (bilinear)."""
    x = images.float() / 255
    # affine_grid maps output -> input coordinates (x_in = x_out + amount * y_out), with y from
    # -1 (top) to 1 (bottom): at the top the output shows input from the left, so ink moves right.
    theta = torch.tensor([[[1.0, amount, 0.0], [0.0, 1.0, 0.0]]]).expand(len(x), 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return (F.grid_sample(x, grid, align_corners=False) * 255).round().to(torch.uint8)


def test_every_attribute_is_measured_per_image():
    attrs = measure_attributes(torch.cat([bar(2), bar(4)]))
    assert tuple(attrs) == ATTRIBUTES
    assert all(v.shape == (2,) and v.dtype == torch.float32 for v in attrs.values())


@pytest.mark.parametrize("width", [2, 3, 4, 6])
def test_thickness_of_a_long_bar_is_close_to_its_width(width):
    thickness = measure_attributes(bar(width))["thickness"].item()
    assert abs(thickness - width) / width < 0.2


def test_a_thicker_stroke_measures_thicker():
    # One skeleton (a "7": a bar and a diagonal), dilated more and more.
    skeleton = torch.zeros(1, 1, 32, 32)
    skeleton[..., 6, 8:24] = 1
    for i in range(18):
        skeleton[..., 7 + i, 23 - i // 2] = 1
    thickness = []
    for radius in (0, 1, 2):
        k = 2 * radius + 1
        dilated = F.max_pool2d(skeleton, k, stride=1, padding=radius)
        thickness.append(measure_attributes(dilated * 2 - 1)["thickness"].item())
    assert thickness[0] < thickness[1] < thickness[2]
    assert thickness[2] > 2 * thickness[0]


def test_blur_barely_changes_thickness():
    sharp = bar(4)
    blurred = F.avg_pool2d(sharp.float(), 3, stride=1, padding=1).round().to(torch.uint8)
    a, b = (measure_attributes(x)["thickness"].item() for x in (sharp, blurred))
    assert abs(a - b) / a < 0.15


def test_slant_sign_and_size_follow_the_shear():
    upright = measure_attributes(bar(3))["slant"].item()
    right = measure_attributes(shear(bar(3), 0.3))["slant"].item()
    left = measure_attributes(shear(bar(3), -0.3))["slant"].item()
    assert abs(upright) < 1e-6
    assert right > 5 and left < -5
    assert right == pytest.approx(-left, rel=0.05)
    # On a square image the shear is the same in pixels: slope 0.3, slant atan(0.3).
    assert right == pytest.approx(math.degrees(math.atan(0.3)), abs=2.5)


def test_shifting_a_digit_moves_its_centroid_by_the_shift():
    image = bar(3, left=10)
    base = measure_attributes(image)
    shifted = measure_attributes(torch.roll(image, shifts=(2, 5), dims=(2, 3)))
    assert shifted["center_x"].item() - base["center_x"].item() == pytest.approx(5.0)
    assert shifted["center_y"].item() - base["center_y"].item() == pytest.approx(2.0)
    assert shifted["thickness"].item() == pytest.approx(base["thickness"].item())


def test_box_size_and_area():
    attrs = measure_attributes(bar(3, top=4, bottom=28))
    assert attrs["height"].item() == 24 and attrs["width"].item() == 3
    assert attrs["area"].item() == pytest.approx(72.0)


def test_uint8_and_generator_range_give_the_same_measures():
    image = shear(bar(4), 0.2)
    as_float = image.float() / 127.5 - 1
    a, b = measure_attributes(image), measure_attributes(as_float)
    for name in ATTRIBUTES:
        assert a[name].item() == pytest.approx(b[name].item(), rel=1e-5, abs=1e-5)


def test_an_empty_image_has_no_shape():
    attrs = measure_attributes(torch.zeros(1, 1, 16, 16, dtype=torch.uint8))
    assert attrs["thickness"].isnan().all() and attrs["slant"].isnan().all()
    assert attrs["area"].item() == 0 and attrs["height"].item() == 0


@pytest.mark.parametrize(
    "bad",
    [torch.zeros(16, 16), torch.zeros(1, 2, 8, 8), torch.zeros(1, 1, 8, 8, dtype=torch.int32)],
)
def test_bad_input_is_a_clear_error(bad):
    with pytest.raises(GankitError, match="attributes"):
        measure_attributes(bad)


@needs_mnist
def test_mnist_distributions_are_sane():
    test = load_mnist(MNIST_ROOT, "test")
    attrs = measure_attributes(test.images)
    median = {name: values.nanmedian().item() for name, values in attrs.items()}
    assert 1.8 < median["thickness"] < 3.2  # pen strokes are 2-3 px at 28 px
    assert median["height"] == 20  # MNIST normalised every digit to a 20-px box
    assert abs(median["center_x"]) < 1 and abs(median["center_y"]) < 1  # centred by mass
    assert 0 < median["slant"] < 15  # handwriting leans right
    ones, zeros = test.labels == 1, test.labels == 0
    assert attrs["width"][ones].median() < attrs["width"][zeros].median() / 2
    assert attrs["area"][ones].median() < attrs["area"][zeros].median()
    assert not attrs["thickness"].isnan().any()


@needs_mnist
def test_shearing_real_digits_changes_their_slant_the_right_way():
    digits = load_mnist(MNIST_ROOT, "test").images[:200]
    base = measure_attributes(digits)["slant"]
    right = measure_attributes(shear(digits, 0.25))["slant"]
    left = measure_attributes(shear(digits, -0.25))["slant"]
    assert (right > base).float().mean() > 0.98
    assert (left < base).float().mean() > 0.98
