"""The `default` image recipe self-conditions on clusters and stays unconditional to its users."""

import time
from dataclasses import replace

import pytest
import torch

from gankit import GankitError, ImageGAN, load
from gankit.data import ImageData
from gankit.data.clusters import cluster_labels, nearest_cluster
from gankit.io import save_tensors

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


def test_fine_tuning_keeps_the_clusters_the_model_learnt(trained, tmp_path):
    trained.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert torch.equal(again.cluster_centres, trained.cluster_centres)
    # Another seed would find the clusters in another order; the kept centres keep the ids.
    again.train_config = replace(again.train_config, seed=1)
    dataset, _ = again.open_data("digits")
    assert torch.equal(
        dataset.clusters, nearest_cluster(dataset.data.images, trained.cluster_centres)
    )
    assert not torch.equal(dataset.clusters, cluster_labels(dataset.data.images, 50, seed=1))


def test_a_model_saved_without_centres_loads_and_clusters_anew(trained, tmp_path):
    trained.save(tmp_path / "m")
    (tmp_path / "m" / "clusters.safetensors").unlink()  # as saved before centres were kept
    again = load(tmp_path / "m")
    assert again.cluster_centres is None
    assert torch.equal(again.generate(4, seed=1), trained.generate(4, seed=1))


def test_damaged_cluster_centres_are_named(trained, tmp_path):
    trained.save(tmp_path / "m")
    save_tensors(tmp_path / "m" / "clusters.safetensors", {"centres": torch.zeros(3, 256)})
    with pytest.raises(GankitError, match="clusters.safetensors.*damaged"):
        load(tmp_path / "m")


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
