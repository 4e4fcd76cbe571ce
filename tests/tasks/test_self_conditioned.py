"""The `default` image recipe self-conditions on clusters and stays unconditional to its users."""

import time

import pytest
import torch

from gankit import GankitError, ImageGAN, load
from gankit.data import ImageData

TINY = {"g_width": 8, "d_width": 8}


@pytest.fixture(scope="module")
def trained():
    return ImageGAN("default", resolution=16, model=TINY, batch_size=8).fit(
        "digits", steps=2, quiet=True
    )


def test_default_clusters_the_data_and_samples_with_its_frequencies(trained, tmp_path):
    sizes = torch.tensor(trained.data_info["clusters"])
    assert len(sizes) == 50 and sizes.sum() == 1797
    assert torch.allclose(trained.G_ema.frequencies, sizes / sizes.sum())
    assert trained.model_config["clusters"] == 50
    assert trained.condition_kind is None
    with pytest.raises(GankitError, match="unconditional"):
        trained.generate(2, condition=3)
    trained.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert torch.equal(again.generate(16, seed=4), trained.generate(16, seed=4))


@pytest.mark.parametrize(("count", "clusters"), [(30, 0), (100, 5), (5000, 50)])
def test_small_sets_get_fewer_clusters_at_least_20_images_each(count, clusters):
    assert ImageGAN("default").clusters_for(count) == clusters


def test_a_tiny_set_trains_without_clusters():
    images = torch.randint(0, 256, (30, 1, 16, 16), dtype=torch.uint8)
    gan = ImageGAN("default", model=TINY, batch_size=8)
    gan.fit(ImageData(images, None, (), "noise"), steps=1, quiet=True)
    assert "clusters" not in gan.data_info and gan.model_config["clusters"] == 0


def test_class_labels_replace_the_clusters():
    gan = ImageGAN("default", resolution=16, conditional=True, model=TINY, batch_size=8)
    gan.fit("digits", steps=1, quiet=True)
    assert "clusters" not in gan.data_info and gan.model_config["clusters"] == 0
    assert gan.generate(3, condition=7).shape == (3, 1, 16, 16)


def test_privacy_refuses_clusters_naming_the_setting():
    with pytest.raises(GankitError, match="set model clusters to 0"):
        ImageGAN("default", privacy=10, model={"minibatch_std": False})


def test_the_time_budget_includes_opening_the_data(monkeypatch):
    gan = ImageGAN("default", resolution=16, model=TINY, batch_size=8)
    opened = gan.open_data

    def slow_open(data):
        time.sleep(0.3)  # clustering a large set takes seconds
        return opened(data)

    monkeypatch.setattr(gan, "open_data", slow_open)
    gan.fit("digits", steps=1000, quiet=True, max_seconds=0.3)
    assert gan.history["steps"] == 1  # the budget was spent before training: one step, then stop
