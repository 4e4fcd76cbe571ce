"""SingleImageGAN: stages on the engine, any size, tileable samples, resume, CLI, bad images."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import main
from gankit.errors import GankitError
from gankit.metrics.single_image import seam_ratio
from gankit.nn.singan import SinGANConfig, SinGANGenerator, resize, stage_shapes
from gankit.tasks import single_image
from gankit.tasks.single_image import SingleImage, SingleImageGAN, SingleImageObjective
from gankit.train import TrainConfig, Trainer
from gankit.train.callbacks import Callback

TINY = {"stages": 3, "min_side": 12, "g_width": 8, "d_width": 8, "d_layers": 3}


def _gan(preset="consingan", **train):
    settings = {"steps": 6, "log_every": 1, "sample_every": 3, "checkpoint_every": 3}
    return SingleImageGAN(preset, max_side=32, model=TINY, **{**settings, **train})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("single") / "run"
    return _gan().fit("chelsea", out=run, quiet=True), run


def test_stages_grow_during_fit(trained):
    gan, run = trained
    G = gan.G
    assert int(G.stage) == 2 and gan.data_info["height"] == 21 and gan.data_info["width"] == 32
    # Each later stage's noise is scaled by the reconstruction error of the stage before.
    assert G.noise_amp[0] == 1 and all(0 < a < 1 for a in G.noise_amp[1:].tolist())
    records = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert all("g_reconstruction" in r and "g_loss" in r for r in records)
    metrics = json.loads((run / "metrics.json").read_text())["single_image"]
    assert metrics["samples"] == 50 and "swd_21" in metrics and metrics["copies"] == 0
    assert metrics["seam_ratio_tileable"] < 1.5 < metrics["seam_ratio_training_image"]


def test_reconstruction_is_learned():
    """One stage, the reconstruction term alone: the fixed noise learns to give the image."""
    gan = SingleImageGAN(
        max_side=24, model={**TINY, "stages": 1}, steps=40, lr_g=2e-3, log_every=40
    )
    gan.fit("chelsea", quiet=True)
    data = gan._data
    with torch.no_grad():
        error = (gan.G.reconstruct() - data.reals[0]).square().mean().item()
        untrained = SinGANGenerator(gan.config)
        before = (untrained.reconstruct() - data.reals[0]).square().mean().item()
    assert error < 0.5 * before


def test_engine_applies_the_stage_learning_rates():
    config = SinGANConfig(
        height=24,
        width=24,
        stages=3,
        min_side=12,
        g_width=4,
        d_width=4,
        d_layers=2,
        concurrent=2,
        lr_scale=0.1,
    )
    G, D = SinGANGenerator(config), gankit.nn.singan.PatchCritic(config)
    data = SingleImage(torch.randint(0, 256, (3, 24, 24), dtype=torch.uint8), "noise", config)
    train = TrainConfig(steps=3, batch_size=1, lr_g=1e-3, health=False)
    trainer = Trainer(G, D, data, train, objective=SingleImageObjective(G, data, 3))
    for _ in range(3):
        trainer.train_step()
        trainer.step += 1
    # Stage 2 trains at 1e-3, stage 1 at 1e-4, stage 0 (and the head) not at all; the tail always.
    assert [g["lr"] for g in trainer.opt_G.param_groups] == pytest.approx([0, 1e-4, 1e-3, 1e-3])
    assert not any(p.requires_grad for p in G.head.parameters())
    assert data.stage == 2 and tuple(data.sample(2, None).shape) == (2, 3, 24, 24)


def test_any_size_and_tileable_samples(trained):
    gan, _ = trained
    assert gan.generate(2, seed=0).shape == (2, 3, 21, 32)
    for size in ((21, 32), (40, 40), (16, 90), (64, 30)):
        out = gan.generate(2, seed=1, size=size)
        assert out.shape == (2, 3, *size) and out.dtype == torch.uint8
    tiles = gan.generate(3, seed=1, size=(48, 48), tileable=True)
    plain = gan.generate(3, seed=1, size=(48, 48), tileable=False)
    # A border line is as smooth as an interior one: about 1 on average (one line varies).
    assert float(seam_ratio(tiles.float()).mean()) < 1.3
    assert float(seam_ratio(plain.float()).mean()) > float(seam_ratio(tiles.float()).mean())
    # A 3x3 tiling of a tileable sample has no seam where the copies meet either.
    mosaic = tiles[0].repeat(1, 3, 3).float()
    inner = mosaic[:, 40:56, :]  # rows across the seam at y = 48
    assert float(seam_ratio(inner[None].roll(8, dims=2))) < 2.0
    assert not torch.equal(gan.generate(1, seed=1), gan.generate(1, seed=2))


def test_save_load_gives_identical_samples_at_every_size(trained):
    gan, run = trained
    reloaded = gankit.load(run)
    assert isinstance(reloaded, SingleImageGAN) and reloaded.describe()["tileable"] is False
    for options in ({}, {"size": (30, 50), "tileable": True}, {"truncation": 1.0}):
        assert torch.equal(
            reloaded.generate(3, seed=5, **options), gan.generate(3, seed=5, **options)
        )


def test_resume_repeats_the_stage_schedule(tmp_path):
    class StopAt(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 3:  # mid-way through stage 1 of 3 (2 steps each)
                trainer.request_stop("test")

    whole = _gan().fit("chelsea", quiet=True)
    part = _gan().fit("chelsea", out=tmp_path / "run", quiet=True, callbacks=[StopAt()])
    assert int(part.G.stage) == 1
    resumed = _gan().fit("chelsea", out=tmp_path / "run", quiet=True, resume=True)
    for key, value in whole.G.state_dict().items():
        assert torch.equal(resumed.G.state_dict()[key], value), key


def test_texture_preset_trains_periodic():
    gan = _gan("texture", steps=3).fit("chelsea", quiet=True)
    assert gan.config.tileable and gan.describe()["tileable"] is True
    assert float(seam_ratio(gan.generate(4, seed=0).float()).mean()) < 1.3


def test_periodic_resize_keeps_a_periodic_signal_periodic():
    x = torch.randn(1, 2, 8, 12)
    up = resize(x, (20, 30), periodic=True)
    shifted = resize(x.roll(4, dims=3), (20, 30), periodic=True)  # 4 of 12 = 10 of 30
    assert torch.allclose(up.roll(10, dims=3), shifted, atol=1e-6)
    assert stage_shapes(SinGANConfig(height=40, width=80, stages=3, min_side=10), (20, 20)) == [
        (5, 5),
        (10, 10),
        (20, 20),
    ]


def test_bad_images_get_one_clear_message(tmp_path, monkeypatch):
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (10, 12), (200, 30, 30)).save(tiny)
    gray = tmp_path / "gray.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40), dtype=np.uint8)).save(gray)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    big = tmp_path / "big.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(big)
    cases = {
        tiny: "at least 12",
        gray: "grayscale",
        corrupt: "corrupt.jpg",
        tmp_path / "missing.png": "neither an image file",
    }
    for path, message in cases.items():
        with pytest.raises(GankitError, match=message):
            _gan().fit(path, quiet=True)
    with pytest.raises(GankitError, match="colour image"):
        _gan().fit(torch.zeros(3, 4), quiet=True)
    monkeypatch.setattr(single_image, "MAX_PIXELS", 1000)
    with pytest.raises(GankitError, match="downscale it first"):
        _gan().fit(big, quiet=True)
    monkeypatch.undo()
    # gray=True trains on it (as RGB with equal channels); too few steps for the stages is refused.
    assert SingleImageGAN(max_side=32, gray=True, model=TINY, steps=3).fit(gray, quiet=True).G
    with pytest.raises(GankitError, match="one step per stage"):
        _gan(steps=2).fit("chelsea", quiet=True)


def test_bad_sizes_are_refused(trained):
    gan, _ = trained
    for size in ((2, 2), (64,), "64x64", (64.0, 64), (5000, 64)):
        with pytest.raises(GankitError, match="size"):
            gan.generate(1, size=size)
    with pytest.raises(GankitError, match="tileable"):
        gan.generate(1, tileable="yes")


def test_cli_train_and_tileable_sample(tmp_path, capsys):
    image = tmp_path / "bark.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(image)
    run = tmp_path / "bark"
    argv = [
        "train",
        "--task",
        "single-image",
        "--data",
        str(image),
        "--steps",
        "3",
        "--max-side",
        "32",
        "--set",
        "model.stages=3",
        "--set",
        "model.min_side=12",
        "--set",
        "model.g_width=8",
        "--set",
        "model.d_width=8",
        "--out",
        str(run),
        "--quiet",
    ]
    assert main(argv) == 0
    tiles = tmp_path / "tiles"
    assert (
        main(["sample", str(run), "--size", "64x48", "--tileable", "-n", "2", "-o", str(tiles)])
        == 0
    )
    out = capsys.readouterr().out
    assert "seam energy across the wrap-around border" in out
    with Image.open(tiles / "sample-00000.png") as first:
        assert first.size == (48, 64)
    with pytest.raises(SystemExit):  # argparse: the usage and what --size expects
        main(["sample", str(run), "--size", "64by48", "-o", str(tiles)])
    assert "HEIGHTxWIDTH" in capsys.readouterr().err
    assert main(["train", "--task", "images", "--max-side", "32", "--steps", "1"]) == 2
    assert "does not take --max-side" in capsys.readouterr().err


def test_samples_carry_a_provenance_mark_from_the_api_and_gankit_sample(trained, tmp_path):
    from gankit.provenance import read_key, verify, write_new_key

    gan, run = trained
    key = "a single-image test key, 32+ bytes"
    marked = gan.generate(2, seed=0, size=(64, 64), watermark=key)
    plain = gan.generate(2, seed=0, size=(64, 64))
    assert [v.marked for v in verify(marked, key)] == [True, True]
    assert [v.marked for v in verify(plain, key)] == [False, False]
    key_file = tmp_path / "mark.key"
    write_new_key(key_file)
    out = tmp_path / "marked"
    assert (
        main(
            [
                "sample",
                str(run),
                "--size",
                "64x64",
                "-n",
                "2",
                "-o",
                str(out),
                "--mark",
                str(key_file),
            ]
        )
        == 0
    )
    written = sorted(out.glob("*.png"))
    images = torch.stack(
        [torch.from_numpy(np.array(Image.open(p))).permute(2, 0, 1) for p in written]
    )
    assert [v.marked for v in verify(images, read_key(key_file))] == [True, True]
