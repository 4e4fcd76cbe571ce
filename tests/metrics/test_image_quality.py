"""PSNR/SSIM (any channel and Y channel) against scikit-image on the same real images."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.metrics.image_quality import psnr, psnr_y, rgb_to_y, ssim, ssim_y

skimage = pytest.importorskip("skimage")
from skimage import data as skdata  # noqa: E402
from skimage.color import rgb2ycbcr  # noqa: E402
from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402


def _degraded(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """A realistic test image: bicubic down and up again, quantised to uint8."""
    h, w = hr.shape[-2:]
    low = F.interpolate(hr[None].float(), scale_factor=1 / scale, mode="bicubic", antialias=True)
    up = F.interpolate(low, size=(h, w), mode="bicubic")
    return up[0].round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def pairs():
    """(HR, degraded) uint8 (3, H, W) pairs from scikit-image's photographs, odd sizes included."""
    out = []
    for name, scale in (("astronaut", 4), ("coffee", 2), ("chelsea", 3)):
        hr = torch.from_numpy(getattr(skdata, name)()).permute(2, 0, 1).contiguous()
        hr = hr[:, : 2 * (hr.shape[1] // 5) + 1, :]  # odd height, not a multiple of the scale
        out.append((hr, _degraded(hr, scale), scale))
    return out


def _skimage_y(image: torch.Tensor) -> np.ndarray:
    # skimage's rgb2ycbcr is the same BT.601 studio-range transform on [0, 1] floats.
    return rgb2ycbcr(image.permute(1, 2, 0).numpy().astype(np.float64) / 255.0)[..., 0]


def test_y_channel_matches_skimage_rgb2ycbcr(pairs):
    hr, _, _ = pairs[0]
    np.testing.assert_allclose(rgb_to_y(hr)[0].numpy(), _skimage_y(hr), atol=1e-9)


def test_psnr_y_and_ssim_y_match_skimage_with_border_crop(pairs):
    for hr, sr, border in pairs:
        y_hr = _skimage_y(hr)[border:-border, border:-border]
        y_sr = _skimage_y(sr)[border:-border, border:-border]
        want_psnr = peak_signal_noise_ratio(y_hr, y_sr, data_range=255)
        want_ssim = structural_similarity(
            y_hr,
            y_sr,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
        )
        assert psnr_y(sr, hr, border=border).item() == pytest.approx(want_psnr, abs=1e-9)
        assert ssim_y(sr, hr, border=border).item() == pytest.approx(want_ssim, abs=1e-9)
        assert 20 < want_psnr < 40 and 0.5 < want_ssim < 0.99  # a real, imperfect image pair


def test_rgb_psnr_and_ssim_match_skimage_channel_axis(pairs):
    hr, sr, _ = pairs[1]
    hr_np, sr_np = hr.permute(1, 2, 0).numpy(), sr.permute(1, 2, 0).numpy()
    want_ssim = structural_similarity(
        hr_np,
        sr_np,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
        channel_axis=2,
    )
    assert ssim(sr, hr).item() == pytest.approx(want_ssim, abs=1e-9)
    assert psnr(sr, hr).item() == pytest.approx(peak_signal_noise_ratio(hr_np, sr_np), abs=1e-9)


def test_float_unit_range_and_batches():
    # [0, 1] floats with data_range 1 give the [0, 255] numbers; a batch scores image by image.
    torch.manual_seed(0)
    hr = torch.rand(3, 1, 24, 24)
    sr = (hr + 0.05 * torch.randn_like(hr)).clamp(0, 1)
    per_image = ssim(sr, hr, data_range=1.0)
    assert per_image.shape == (3,)
    assert torch.allclose(per_image, ssim(sr * 255, hr * 255), atol=1e-12)
    assert torch.allclose(psnr(sr, hr, data_range=1.0), psnr(sr * 255, hr * 255), atol=1e-9)
    assert torch.allclose(per_image[1:2], ssim(sr[1], hr[1], data_range=1.0))


def test_worse_images_score_lower(pairs):
    hr, sr, border = pairs[0]
    noisy = sr.float() + 12 * torch.randn(sr.shape, generator=torch.Generator().manual_seed(0))
    noisy = noisy.clamp(0, 255)
    assert psnr_y(noisy, hr, border) < psnr_y(sr, hr, border)
    assert ssim_y(noisy, hr, border) < ssim_y(sr, hr, border)


def test_clear_errors():
    a = torch.zeros(1, 3, 16, 16)
    with pytest.raises(GankitError, match="same shape"):
        psnr_y(a, torch.zeros(1, 3, 16, 12))
    with pytest.raises(GankitError, match="border"):
        psnr_y(a, a, border=8)
    with pytest.raises(GankitError, match="at least 11x11"):
        ssim_y(a, a, border=4)
    with pytest.raises(GankitError, match="1 or 3 channels"):
        rgb_to_y(torch.zeros(4, 8, 8))
    with pytest.raises(GankitError, match=r"\(C, H, W\)"):
        psnr(torch.zeros(8, 8), torch.zeros(8, 8))
