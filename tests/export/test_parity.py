"""Eager PyTorch against onnxruntime (CPU), for every family, over 64 seeds (:mod:`parity`),
at the traced batch and image size and at others: batch and translators' height and width are
dynamic.
"""

from __future__ import annotations

import pytest
import torch
from families import family_params
from parity import SEEDS, check_generator, check_translator, images, traced_size

from gankit.tasks import Generator


@pytest.mark.parametrize("family", family_params())
def test_onnxruntime_matches_pytorch_over_64_seeds(family, exported):
    model = exported(family)
    for runner in model.runners:
        if isinstance(model.gan, Generator):
            check_generator(model.gan, runner, 2, SEEDS)
        else:
            check_translator(model.gan, runner, traced_size(model.gan), SEEDS)


# Sizes other than the traced ones (16 x 16 and batch 2): U-Nets of depth 4 take multiples of 16.
OTHER_SIZES = {"unet-pix2pix": (32, 48), "unet-cyclegan": (48, 16), "rrdb-superres": (12, 10)}


@pytest.mark.parametrize("family", family_params())
def test_batch_and_image_size_are_dynamic(family, exported):
    model = exported(family)
    for runner in model.runners:
        if isinstance(model.gan, Generator):
            for n in (1, 5):
                check_generator(model.gan, runner, n, range(2))
        else:
            for n in (1, 3):
                check_translator(model.gan, runner, OTHER_SIZES[family], range(2), n)
                check_translator(model.gan, runner, traced_size(model.gan), range(1), n)


def test_super_resolution_tiles_run_on_onnxruntime(exported):
    """Tiled upscaling feeds the network tiles of several sizes; the results agree."""
    model = exported("rrdb-superres")
    image = images(3, (21, 13), seed=5, n=1)[0]
    expected = model.gan.apply(image, tile=8, overlap=2)
    assert torch.equal(model.runners[0].apply(image, tile=8, overlap=2), expected)
