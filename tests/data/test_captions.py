"""Captioned digits: sentences from labels and measured levels; held-out phrasings."""

import pytest
import torch

from gankit.data.captions import (
    DIGIT_WORDS,
    HELDOUT_TEMPLATES,
    LEVEL_WORDS,
    TRAIN_TEMPLATES,
    EmbeddedCaptions,
    captioned_digits,
    render_caption,
)
from gankit.data.images import ImageData
from gankit.errors import GankitError


@pytest.fixture(scope="module")
def captioned(digits16):
    return captioned_digits(digits16, seed=0)


def test_captions_read_naturally():
    assert render_caption(TRAIN_TEMPLATES[0], 7, 0, 2) == "a thin right-slanted seven"
    assert render_caption(TRAIN_TEMPLATES[0], 8, 1, 1) == "a medium upright eight"
    assert render_caption(TRAIN_TEMPLATES[5], 1, 2, 1) == "an upright 1 with thick lines"
    assert render_caption(HELDOUT_TEMPLATES[0], 1, 2, 0).startswith("please draw a thick one")


def test_each_image_is_captioned_with_its_digit_and_levels(captioned):
    for i in range(0, len(captioned), 97):
        text = captioned.caption_of(i)
        digit = int(captioned.images.labels[i])
        assert DIGIT_WORDS[digit] in text or str(digit) in text
        thick, slant = captioned.levels[i].tolist()
        assert LEVEL_WORDS["thickness"][thick] in text
        assert LEVEL_WORDS["slant"][slant] in text


def test_levels_are_terciles_and_follow_the_measures(captioned):
    for column, name in enumerate(LEVEL_WORDS):
        counts = torch.bincount(captioned.levels[:, column], minlength=3).float()
        assert (counts / counts.sum()).min() > 0.3
        values = captioned.attributes[name]
        means = [values[captioned.levels[:, column] == k].mean() for k in range(3)]
        assert means[0] < means[1] < means[2]


def test_distinct_captions_cover_every_meaning_once_per_template(captioned):
    captions = captioned.captions
    assert len(captions) == 10 * 3 * 3 * len(TRAIN_TEMPLATES)
    assert len(set(captions)) == len(captions)
    assert int(captioned.caption_index.max()) < len(captions)


def test_held_out_phrasings_never_appear_in_training(captioned, digits16):
    held_out = captioned_digits(digits16, "heldout", captioned.edges)
    assert not set(held_out.captions) & set(captioned.captions)
    assert held_out.edges == captioned.edges
    assert torch.equal(held_out.levels, captioned.levels)  # same edges, same levels


def test_deterministic_given_a_seed(digits16, captioned):
    again = captioned_digits(digits16, seed=0)
    other = captioned_digits(digits16, seed=1)
    assert torch.equal(again.caption_index, captioned.caption_index)
    assert not torch.equal(other.template_index, captioned.template_index)
    assert captioned.describe()["seed"] == 0


def test_clear_errors(digits16):
    unlabelled = ImageData(digits16.images[:10], None, (), "plain")
    with pytest.raises(GankitError, match="digit labels"):
        captioned_digits(unlabelled)
    with pytest.raises(GankitError, match="unknown template set"):
        captioned_digits(digits16, "validation")
    with pytest.raises(GankitError, match="invalid"):
        captioned_digits(digits16, ("a {colour} {digit}",))


def test_embedded_captions_batches_pair_images_with_their_caption_rows(captioned):
    table = torch.randn(len(captioned.captions), 5)
    data = EmbeddedCaptions(captioned.images, captioned.caption_index, table)
    index = torch.tensor([3, 0, 7])
    x, emb = data.batch(index)
    assert x.shape == (3, 1, 16, 16) and data.conditional
    assert torch.equal(emb, table[captioned.caption_index[index]])
    with pytest.raises(GankitError, match="caption"):
        EmbeddedCaptions(captioned.images, captioned.caption_index, table[:3])
