"""k-means clusters of an image set, the labels of self-conditioning."""

import pytest
import torch

from gankit.data import open_dataset
from gankit.data.clusters import cluster_centres, cluster_labels, clustered, nearest_cluster
from gankit.errors import GankitError


def test_clusters_are_seeded_and_group_digits_of_one_kind():
    digits = open_dataset("digits", 16, None)
    first = cluster_labels(digits.images, 30, seed=0)
    assert torch.equal(first, cluster_labels(digits.images, 30, seed=0))
    # Purity: the share of images whose cluster's most common digit is their own. Chance is
    # about 0.1; k-means on the pixels of the 8x8 digits finds the digits' shapes.
    purity = sum(
        torch.bincount(digits.labels[first == c], minlength=10).max().item() for c in range(30)
    ) / len(digits)
    assert purity > 0.8


def test_clustered_images_carry_their_cluster_and_keep_their_labels():
    digits = open_dataset("digits", 16, None)
    data = clustered(digits, 5, seed=0)
    assert data.conditional and len(data) == len(digits) and int(data.sizes.sum()) == len(digits)
    images, clusters = data.batch(torch.tensor([3, 7]))
    assert images.shape == (2, 1, 16, 16) and torch.equal(clusters, data.clusters[[3, 7]])
    assert data.data.labels is digits.labels  # the report still reads the digits' classes


@pytest.mark.parametrize("clusters", [1, 11])
def test_an_impossible_number_of_clusters_is_refused(clusters):
    images = torch.zeros(10, 1, 8, 8, dtype=torch.uint8)
    with pytest.raises(GankitError, match="cannot split 10 images"):
        cluster_labels(images, clusters)


def test_kept_centres_label_new_images_with_the_same_ids():
    digits = open_dataset("digits", 16, None)
    first = clustered(digits, 20, seed=0)
    # Another seed finds the clusters in another order; the kept centres keep the ids.
    assert not torch.equal(cluster_labels(digits.images, 20, seed=1), first.clusters)
    again = clustered(digits, 20, seed=1, centres=first.centres)
    assert torch.equal(again.clusters, first.clusters) and again.centres is first.centres
    assert torch.equal(nearest_cluster(digits.images[:5], first.centres), first.clusters[:5])


def test_centres_of_another_count_or_image_size_are_replaced():
    digits = open_dataset("digits", 16, None)
    centres = cluster_centres(digits.images, 20, seed=0)
    assert clustered(digits, 10, centres=centres).centres.shape == (10, 256)
    small = open_dataset("digits", 8, None)
    assert clustered(small, 20, centres=centres).centres.shape == (20, 64)
    with pytest.raises(GankitError, match="another size"):
        nearest_cluster(small.images, centres)
