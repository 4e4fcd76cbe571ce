"""Paired and unpaired translation data: folders, joint crop/flip, clear errors, built-in pairs."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import default_data_root, load_digits
from gankit.data.images import convert_channels
from gankit.data.paired import (
    PairedData,
    UnpairedData,
    canny_edges,
    digits_mnist,
    load_paired_folder,
    load_unpaired_folders,
    mnist_edges,
    photos_colour,
)
from gankit.errors import GankitError

needs_mnist = pytest.mark.skipif(
    not (default_data_root() / "mnist").is_dir(), reason="MNIST not found under GANKIT_DATA"
)


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture()
def digit_pairs(tmp_path):
    """A/ edges and B/ digits (real scikit-learn digits at 16 px) with matching names."""
    digits = load_digits(16).images[:6]
    edges = canny_edges(digits)
    for i in range(6):
        _save(tmp_path / "A" / f"{i}.png", edges[i, 0].numpy())
        _save(tmp_path / "B" / f"{i}.png", digits[i, 0].numpy())
    return tmp_path, edges, digits


def test_ab_folders_load_in_name_order(digit_pairs):
    root, edges, digits = digit_pairs
    pairs = load_paired_folder(root, 16, channels=(1, 1))
    assert len(pairs) == 6 and pairs.sources.shape == (6, 1, 16, 16)
    assert torch.equal(pairs.sources, edges) and torch.equal(pairs.targets, digits)


def test_side_by_side_images_split_into_source_and_target(tmp_path):
    digits = load_digits(16).images[:3, 0].numpy()
    for i, digit in enumerate(digits):
        _save(tmp_path / f"{i}.png", np.hstack([255 - digit, digit]))
    pairs = load_paired_folder(tmp_path, 16, channels=(1, 3))
    assert pairs.sources.shape == (3, 1, 16, 16) and pairs.targets.shape == (3, 3, 16, 16)
    assert torch.equal(pairs.sources[:, 0], 255 - torch.from_numpy(digits))
    assert torch.equal(pairs.targets[:, 1], torch.from_numpy(digits))


def test_unmatched_names_are_listed(digit_pairs):
    root, _, _ = digit_pairs
    (root / "B" / "5.png").rename(root / "B" / "five.png")
    with pytest.raises(GankitError, match=r"unmatched: 1 in A/ only \(5\); 1 in B/ only \(five\)"):
        load_paired_folder(root, 16, channels=(1, 1))


def test_size_mismatch_names_the_pair(digit_pairs):
    root, _, _ = digit_pairs
    _save(root / "B" / "3.png", np.zeros((16, 20), dtype=np.uint8))
    with pytest.raises(GankitError, match=r"1 pair\(s\) .* differ in size .*3: 16x16 vs 20x16"):
        load_paired_folder(root, 16, channels=(1, 1))


def test_odd_side_by_side_width_and_empty_folder_are_clear(tmp_path):
    with pytest.raises(GankitError, match="neither A/ and B/ folders nor side-by-side"):
        load_paired_folder(tmp_path, 16)
    _save(tmp_path / "x.png", np.zeros((8, 15), dtype=np.uint8))
    with pytest.raises(GankitError, match=r"even width.*x.png \(15 px wide\)"):
        load_paired_folder(tmp_path, 16)
    with pytest.raises(GankitError, match="does not exist"):
        load_paired_folder(tmp_path / "missing", 16)


def test_crop_and_flip_are_joint_and_seeded():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (10, 1, 12, 12), dtype=torch.uint8)
    pairs = PairedData(images, images.clone(), "same", crop=8, flip=True)
    target, source = pairs.sample(64, torch.Generator().manual_seed(1))
    assert target.shape == (64, 1, 8, 8)
    assert torch.equal(target, source)  # same window and flip for both halves of a pair
    again, _ = pairs.sample(64, torch.Generator().manual_seed(1))
    other, _ = pairs.sample(64, torch.Generator().manual_seed(2))
    assert torch.equal(target, again) and not torch.equal(target, other)
    # Windows really move and flips really happen: more distinct crops than images.
    assert len({t.numpy().tobytes() for t in target}) > 10
    # batch() is the deterministic centre crop.
    centre, _ = pairs.batch(torch.tensor([0]))
    assert torch.equal(centre[0], images[0, :, 2:10, 2:10].float() / 127.5 - 1)


def test_paired_data_checks():
    a = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)
    with pytest.raises(GankitError, match="4 sources .* but 3 targets"):
        PairedData(a, a[:3], "x")
    with pytest.raises(GankitError, match="pairs must have the same size"):
        PairedData(a, torch.zeros(4, 1, 8, 6, dtype=torch.uint8), "x")
    with pytest.raises(GankitError, match="crop 9 must be between 1 and the image size 8"):
        PairedData(a, a, "x", crop=9)
    with pytest.raises(GankitError, match="uint8 images"):
        PairedData(a.float(), a, "x")


def test_unpaired_data_concatenates_domains_and_checks_sizes(tmp_path):
    a = torch.zeros(5, 1, 8, 8, dtype=torch.uint8)
    b = torch.full((7, 3, 8, 8), 255, dtype=torch.uint8)
    data = UnpairedData(a, b, "ab")
    assert len(data) == 7 and data.channels == (1, 3) and data.conditional
    x, cond = data.sample(4, torch.Generator().manual_seed(0))
    assert x.shape == (4, 4, 8, 8) and torch.equal(x, cond)
    assert (x[:, 0] == -1).all() and (x[:, 1:] == 1).all()
    with pytest.raises(GankitError, match=r"domain A images are \(8, 8\) .* \(4, 4\)"):
        UnpairedData(a, b[..., :4, :4], "ab")
    for name, count in (("A", 3), ("B", 5)):
        for i in range(count):
            _save(tmp_path / name / f"{name}{i}.png", np.full((10, 10), 30 * i, dtype=np.uint8))
    folders = load_unpaired_folders(tmp_path / "A", tmp_path / "B", 8)
    assert folders.domain_a.shape == (3, 1, 8, 8) and folders.domain_b.shape == (5, 1, 8, 8)


def test_canny_edges_of_a_square():
    square = torch.zeros(1, 1, 16, 16, dtype=torch.uint8)
    square[..., 4:12, 4:12] = 255
    edges = canny_edges(square)
    assert edges.dtype == torch.uint8 and set(edges.unique().tolist()) == {0, 255}
    assert edges[0, 0, 8, 8] == 0 and edges[0, 0, 8, 0] == 0  # inside and outside stay dark
    assert edges[0, 0, 8, 3:5].max() == 255  # the left border is an edge


@needs_mnist
def test_built_in_mnist_pairs():
    pairs = mnist_edges("test", limit=16)
    assert pairs.sources.shape == pairs.targets.shape == (16, 1, 32, 32)
    assert pairs.labels.shape == (16,)
    # Edges lie on the digit's outline: most edge pixels touch ink.
    ink = pairs.targets > 64
    near_ink = torch.nn.functional.max_pool2d(ink.float(), 3, 1, 1) > 0
    edge = pairs.sources > 0
    assert (edge & near_ink).sum() / edge.sum() > 0.9
    domains = digits_mnist("test")
    assert domains.domain_a.shape == (1797, 1, 32, 32) and len(domains.domain_b) == 10000


def test_photos_colour_pairs_luma_with_colour_and_holds_out_the_bottom_rows():
    train, test = photos_colour("train", tile=16), photos_colour("test", tile=16)
    for pairs in (train, test):
        assert pairs.sources.shape[1:] == (1, 16, 16) and pairs.targets.shape[1:] == (3, 16, 16)
        assert torch.equal(pairs.sources, convert_channels(pairs.targets, 1))
    assert train.flip and not test.flip
    # Colour photographs only: the targets are far from gray.
    assert (test.targets.float().std(1)).mean() > 5
    # No test tile appears among the training tiles (they come from different rows).
    train_keys = {bytes(t.flatten().tolist()) for t in train.targets}
    assert not any(bytes(t.flatten().tolist()) in train_keys for t in test.targets)
    assert len(train) > 10 * len(test)


def test_photos_colour_errors():
    with pytest.raises(GankitError, match="split must be 'train' or 'test'"):
        photos_colour("val")
    with pytest.raises(GankitError, match="tile must be an integer of at least 8"):
        photos_colour(tile=4)
