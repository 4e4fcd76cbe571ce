"""AudioGAN: a tiny model trains, learns which class is which, saves and reloads to the same
audio, writes its report, and is sampled to WAV files from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit import AudioGAN, GankitError, load
from gankit.cli import main
from gankit.data.audio import demo_tones, read_audio, write_wav

pytest.importorskip("soundfile")
TINY = {"model": {"g_width": 8, "d_width": 8, "latent_dim": 16}, "batch_size": 16}
FAST = {"lr_g": 1e-3, "lr_d": 1e-3, "health": False}  # the tones are learnt in ~50 steps


def loudest_band(gan: AudioGAN, clips: torch.Tensor) -> int:
    """The mel band (of the model's spectrogram) that holds most energy over ``clips``."""
    return int(gan.spectrogram(clips)[:, 0].mean((0, 2)).argmax())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("audio") / "run"
    torch.manual_seed(0)
    gan = AudioGAN(resolution=16, steps=100, sample_every=100, checkpoint_every=100, **TINY, **FAST)
    return gan.fit(demo_tones(), out=run, quiet=True), run


def test_a_tiny_model_learns_which_class_is_the_high_tone(trained):
    gan, _ = trained
    low = gan.generate(16, seed=0, condition="low")
    high = gan.generate(16, seed=0, condition=1)
    assert low.shape == (16, 8192) and low.dtype == torch.float32
    assert low.abs().max() <= 1
    data = demo_tones(2)
    assert loudest_band(gan, low) == loudest_band(gan, data.waves[:1])  # 400 Hz
    assert loudest_band(gan, high) == loudest_band(gan, data.waves[1:])  # 2,400 Hz
    assert loudest_band(gan, low) < loudest_band(gan, high)


def test_save_load_gives_identical_audio_and_the_report_links_clips(trained):
    gan, run = trained
    reloaded = load(run)
    assert isinstance(reloaded, AudioGAN)
    assert torch.equal(
        reloaded.generate(3, seed=5, condition="high"), gan.generate(3, seed=5, condition="high")
    )
    described = reloaded.describe()
    assert (described["output"], described["sample_rate"], described["classes"]) == (
        "audio",
        8000,
        ["low", "high"],
    )
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["samples"] == 8192 and config["data"]["loudness"] == "peak"
    report = (run / "report.md").read_text()
    assert "![spectrograms](spectrograms.png)" in report and "(samples/class-high.wav)" in report
    assert (run / "spectrograms.png").is_file()
    assert read_audio(run / "samples" / "class-low.wav").shape == (4 * 8192 + 3 * 2000,)


def test_bad_settings_and_data_are_refused_clearly(tmp_path):
    with pytest.raises(GankitError, match="unknown loudness"):
        AudioGAN(loudness="max")
    with pytest.raises(GankitError, match="no training data given; pass 'fsdd'"):
        AudioGAN(**TINY).fit(None, steps=1, quiet=True)
    with pytest.raises(GankitError, match="neither 'fsdd' nor an existing folder"):
        AudioGAN(**TINY).fit(str(tmp_path / "nope"), steps=1, quiet=True)
    write_wav(tmp_path / "wavs" / "a.wav", np.full(800, 0.5))
    write_wav(tmp_path / "wavs" / "b.wav", np.full(800, -0.5))
    with pytest.raises(GankitError, match="has no class labels"):
        AudioGAN(resolution=16, **TINY).fit(str(tmp_path / "wavs"), steps=1, quiet=True)
    gan = AudioGAN("specgan-uncond", resolution=16, **{**TINY, **FAST, "batch_size": 2})
    assert gan.fit(str(tmp_path / "wavs"), steps=1, quiet=True).generate(2).shape == (2, 8192)


def test_gankit_sample_writes_wav_files_for_a_label(trained, tmp_path, capsys):
    _, run = trained
    assert main(["sample", str(run), "--label", "high", "-n", "3", "-o", str(tmp_path / "hi")]) == 0
    written = sorted((tmp_path / "hi").glob("*.wav"))
    assert [p.name for p in written] == [f"sample-0000{i}.wav" for i in range(3)]
    assert read_audio(written[0]).shape == (8192,)
    assert main(["sample", str(run), "-n", "2", "-o", str(tmp_path / "both.wav")]) == 0
    assert read_audio(tmp_path / "both.wav").shape == (2 * 8192 + 2000,)
    capsys.readouterr()
    assert main(["sample", str(run), "-n", "2", "-o", str(tmp_path / "grid.png")]) != 0
    assert "makes audio clips: write them to a folder of WAV files" in capsys.readouterr().err


def test_gankit_serve_refuses_an_audio_model_at_start_naming_gankit_sample(trained):
    serve_models = pytest.importorskip("gankit.serve.models", reason="needs the `serve` extra")
    _, run = trained
    with pytest.raises(GankitError, match=r"makes audio \(AudioGAN\).*gankit sample"):
        serve_models.load_models([run])
