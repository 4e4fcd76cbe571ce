"""Class-conditional ImageGAN: labelled data, sampling by label, save/load, grids, interpolation,
AC-GAN, bit-for-bit resume and the CLI."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import GankitError, ImageGAN, load
from gankit.cli import main
from gankit.data import labelled
from gankit.nn import build_gan
from gankit.tasks.images import AuxClassifierLoss, save_interpolation
from gankit.train import TrainConfig, Trainer, state_tensors

TINY = {"g_width": 8, "d_width": 8, "latent_dim": 16, "condition_embed": 8}
OPTIONS = {"batch_size": 8, "log_every": 1, "sample_every": 2, "checkpoint_every": 2}


def tiny(**extra):
    return ImageGAN("default", resolution=16, conditional=True, model=TINY, **OPTIONS, **extra)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cond") / "run"
    gan = tiny().fit("digits", steps=2, out=out, quiet=True)
    return gan, out


def test_run_records_condition_and_classes(run):
    _, out = run
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["condition"] == "class" and config["model"]["condition_size"] == 10
    assert config["data"]["class_names"] == [str(d) for d in range(10)]
    quality = json.loads((out / "metrics.json").read_text())["quality"]
    assert set(quality["label_accuracy_per_class"]) == {str(d) for d in range(10)}
    assert 0 <= quality["label_accuracy"] <= 1


def test_progress_grid_has_one_row_per_class(run):
    _, out = run
    grid = Image.open(out / "samples" / "step-000002.png")
    # 8 columns x 10 rows of 16-px images with 2-px padding.
    assert grid.size == (8 * 18 + 2, 10 * 18 + 2)
    assert "samples/step-000002.png" in (out / "report.md").read_text()


def test_reload_samples_identically_for_the_same_seed_and_labels(run):
    gan, out = run
    reloaded = load(out)
    assert reloaded.class_names == tuple(str(d) for d in range(10))
    labels = [7] * 4 + [2] * 4
    a = gan.sample(8, seed=5, labels=labels)
    assert a.shape == (8, 1, 16, 16) and a.dtype == torch.uint8
    assert torch.equal(reloaded.sample(8, seed=5, labels=labels), a)
    # Names and indices name the same class; one label applies to all samples.
    assert torch.equal(reloaded.sample(3, seed=1, labels="7"), gan.sample(3, seed=1, labels=7))


def test_the_label_changes_the_image(run):
    gan, _ = run
    sevens, twos = (
        gan.generate_raw(4, seed=0, condition=7),
        gan.generate_raw(4, seed=0, condition=2),
    )
    assert not torch.allclose(sevens, twos, atol=1e-3)
    # Default labels cycle through the classes: 0, 1, ..., 9, 0, ...
    cycled = gan.generate_raw(12, seed=0)
    assert torch.equal(cycled[7], gan.generate_raw(12, seed=0, condition=[7] * 12)[7])


@pytest.mark.parametrize(
    "labels,match",
    [
        ("eleven", r"unknown class 'eleven'; valid classes .*0, 1, 2"),
        (10, "unknown class 10"),
        ([1, 2], "list of 4 classes"),
        (True, "unknown class True"),
    ],
)
def test_bad_labels_are_clear_errors(run, labels, match):
    gan, _ = run
    with pytest.raises(GankitError, match=match):
        gan.sample(4, labels=labels)


def test_labels_for_an_unconditional_model_are_refused():
    gan = ImageGAN("default", resolution=16, model={"g_width": 8, "d_width": 8}, batch_size=8)
    gan.fit("digits", steps=1, quiet=True)
    with pytest.raises(GankitError, match="class-conditional model"):
        gan.sample(2, labels=[1, 2])
    with pytest.raises(GankitError, match="conditional must be"):
        ImageGAN("default", conditional="text")


def test_interpolation_between_classes_starts_and_ends_at_the_classes(run, tmp_path):
    gan, _ = run
    frames = gan.interpolate(steps=5, rows=2, seed=4, classes=("3", 8))
    assert frames.shape == (2, 5, 1, 16, 16)
    assert torch.equal(frames[:, 0], gan.sample(2, seed=4, labels=3))
    assert torch.equal(frames[:, -1], gan.sample(2, seed=4, labels=8))
    walk = gan.interpolate(steps=4, rows=3, seed=4, label=5)
    assert torch.equal(walk[:, 0], gan.sample(3, seed=4, labels=5))
    save_interpolation(frames, tmp_path / "a.gif")
    save_interpolation(frames, tmp_path / "a.png")
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 2 * 5 - 2  # forth and back
    assert Image.open(tmp_path / "a.png").size == (5 * 18 + 2, 2 * 18 + 2)
    with pytest.raises(GankitError, match="unknown class 'x'"):
        gan.interpolate(classes=("x", 3))


def test_class_subfolders_train_and_sample_by_name(tmp_path):
    rng = np.random.default_rng(0)
    for name, value in (("cat", 40), ("dog", 200)):
        (tmp_path / name).mkdir()
        for i in range(8):
            pixels = np.clip(value + rng.integers(-20, 20, (12, 12)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    gan = tiny().fit(str(tmp_path), steps=1, quiet=True)
    assert gan.class_names == ("cat", "dog")
    assert torch.equal(gan.sample(2, labels="dog"), gan.sample(2, labels=1))
    with pytest.raises(GankitError, match="valid classes .*cat, dog"):
        gan.sample(2, labels="bird")


def test_unlabelled_data_cannot_train_a_conditional_model(tmp_path):
    for i in range(8):
        Image.new("L", (12, 12), 30 * i).save(tmp_path / f"{i}.png")
    with pytest.raises(GankitError, match="no class labels"):
        tiny().fit(str(tmp_path), steps=1, quiet=True)


def test_ac_gan_head_adds_loss_terms(digits16):
    gan = ImageGAN("default-cond", model={"projection": False, "aux_classifier": True})
    assert isinstance(gan.objective(), AuxClassifierLoss)
    assert ImageGAN("default-cond").objective() is None
    trainer = make_trainer(labelled(digits16), None, steps=1)
    stats = trainer.train_step()
    assert {"g_aux", "d_aux"} <= set(stats)
    # Cross-entropy over 10 classes starts near log(10) per term (D: real + fake).
    assert 2.0 < stats["d_aux"].item() < 8.0 and 1.0 < stats["g_aux"].item() < 4.0


def make_trainer(data, run_dir, steps):
    torch.manual_seed(0)
    model = {"resolution": 16, "condition": "class", "condition_size": 10, **TINY}
    G, D, _ = build_gan("dcgan", {**model, "aux_classifier": True, "minibatch_std": True})
    config = TrainConfig(
        steps=steps, batch_size=8, checkpoint_every=3, r1_gamma=1.0, reg_interval=2, n_critic=2
    )
    return Trainer(G, D, data, config, run_dir=run_dir, objective=AuxClassifierLoss())


def test_conditional_resume_continues_bit_for_bit(digits16, tmp_path):
    data = labelled(digits16)
    straight = make_trainer(data, tmp_path / "a", steps=6)
    straight.fit()
    make_trainer(data, tmp_path / "b", steps=3).fit()
    torch.manual_seed(123)  # scramble the global RNG: resume must restore it
    resumed = make_trainer(data, tmp_path / "b", steps=6)
    assert resumed.resume() and resumed.step == 3
    resumed.fit()
    left, right = state_tensors(straight), state_tensors(resumed)
    assert left.keys() == right.keys()
    assert [k for k in left if not torch.equal(left[k], right[k])] == []


def test_cli_trains_conditionally_and_samples_by_label(tiny_train_args, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["train", *tiny_train_args, "--conditional", "--steps", "1", "--out", str(out)]) == 0
    )
    grid = tmp_path / "sevens.png"
    assert main(["sample", str(out), "-n", "4", "--label", "7", "--grid", str(grid)]) == 0
    assert Image.open(grid).size == (2 * 18 + 2, 2 * 18 + 2)  # four 16-px samples, 2 x 2
    gif = tmp_path / "walk.gif"
    args = ["sample", str(out), "--interpolate", "3:8", "--frames", "4", "--grid", str(gif)]
    assert main(args) == 0
    assert Image.open(gif).n_frames == 6
    truncated = tmp_path / "clear-sevens.png"
    args = ["sample", str(out), "-n", "4", "--label", "7", "--truncation", "0.5"]
    assert main([*args, "--grid", str(truncated)]) == 0
    expected = load(out).sample(4, labels=7, truncation=0.5)
    first = np.asarray(Image.open(truncated).convert("L"))[2:18, 2:18]  # top-left sample
    assert np.array_equal(first, expected[0, 0].numpy())
    walk = ["sample", str(out), "--interpolate", "3:8", "--truncation", "1", "--grid", str(gif)]
    assert main(walk) == 2
    assert "not to --interpolate" in capsys.readouterr().err
    assert main([*args[:-1], "-1", "--grid", str(truncated)]) == 2
    assert "truncation must be a positive number" in capsys.readouterr().err
    assert main(["sample", str(out), "--label", "eleven", "--grid", str(grid)]) == 2
    assert "unknown class 'eleven'" in capsys.readouterr().err
    assert main(["sample", str(out), "--interpolate", "3", "--grid", str(gif)]) == 2
    assert "FROM:TO" in capsys.readouterr().err


def test_cli_conditional_needs_the_image_task(capsys):
    assert main(["train", "--task", "toy", "--data", "ring", "--conditional"]) == 2
    assert "task 'toy' does not take --conditional" in capsys.readouterr().err


def test_diversity_term_pushes_apart_fakes_of_one_class_only():
    from gankit.tasks.images import DiversityLoss

    same = torch.stack([torch.zeros(1, 4, 4), torch.ones(1, 4, 4)])  # L1 distance 1
    loss = DiversityLoss(0.5)
    assert loss.g_terms(None, None, same, torch.tensor([2, 2]))["diversity"].item() == -0.5
    # Different classes are not a pair: a 0 and a 1 differing says nothing about variety.
    assert loss.g_terms(None, None, same, torch.tensor([0, 1]))["diversity"].item() == 0.0
    # Sorted by class first: [A0, B1, A'0, B'1] pairs (A0, A'0) and (B1, B'1).
    fakes = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2), -torch.ones(1, 2, 2)] * 2)[:4]
    term = loss.g_terms(None, None, fakes, torch.tensor([0, 1, 0, 1]))["diversity"]
    assert term.item() == pytest.approx(-0.5 * (1.0 + 1.0) / 2)
    fakes.requires_grad_(True)
    loss.g_terms(None, None, fakes, None)["diversity"].backward()  # unconditional: every pair
    assert fakes.grad.abs().sum() > 0


def test_diversity_weight_is_checked_and_reaches_the_trainer(tmp_path):
    def tiny(model):
        return ImageGAN("default", resolution=16, conditional=True, model=model, **OPTIONS)

    with pytest.raises(GankitError, match="diversity must be >= 0"):
        tiny({**TINY, "diversity": -1.0}).fit("digits", steps=1, quiet=True)
    with pytest.raises(GankitError, match="cannot be combined"):
        tiny({**TINY, "diversity": 1.0, "aux_classifier": True}).objective()
    gan = tiny({**TINY, "diversity": 1.0}).fit("digits", steps=1, quiet=True)
    gan.save(tmp_path)
    assert load(tmp_path).objective().weight == 1.0  # config.json keeps the term
