"""Audio folders: reading (mono, resampled, levelled, fixed length), labels, bad files, WAV
writing, and the log-mel transform with its Griffin-Lim vocoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit import GankitError
from gankit.data import default_data_root
from gankit.data.audio import (
    CLIP_SAMPLES,
    PEAK_LEVEL,
    MelSpectrogram,
    fit_length,
    join_clips,
    load_audio_folder,
    normalise_loudness,
    read_audio,
    write_wav,
)

pytest.importorskip("soundfile")
RATE = 8000


def tone(hz: float, seconds: float = 0.5, rate: int = RATE, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(clip: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(clip))
    return float(np.fft.rfftfreq(len(clip), 1 / rate)[spectrum.argmax()])


def test_wav_round_trip_keeps_samples_to_16_bit_precision(tmp_path):
    clip = tone(440)
    write_wav(tmp_path / "a.wav", clip)
    back = read_audio(tmp_path / "a.wav")
    assert back.dtype == np.float32 and back.shape == clip.shape
    assert np.abs(back - clip).max() < 2 / 2**15


def test_stereo_is_mixed_down_and_other_rates_are_resampled(tmp_path):
    stereo = np.stack([tone(500, rate=16000), tone(500, rate=16000)], axis=1)
    write_wav(tmp_path / "stereo16k.wav", stereo, 16000)
    clip = read_audio(tmp_path / "stereo16k.wav")  # to 8 kHz
    assert clip.shape == (4000,)
    assert peak_hz(clip) == pytest.approx(500, abs=3)
    assert np.abs(clip).max() == pytest.approx(0.3, abs=0.02)


def test_bad_files_are_refused_by_name(tmp_path):
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really")
    with pytest.raises(GankitError, match="broken.wav could not be read"):
        read_audio(tmp_path / "broken.wav")
    with pytest.raises(GankitError, match="not found"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(GankitError, match="finite"):
        write_wav(tmp_path / "nan.wav", np.array([0.0, np.nan]))


def test_fixed_length_and_loudness():
    assert fit_length(np.ones(10, np.float32), 16).tolist() == [1.0] * 10 + [0.0] * 6
    assert fit_length(np.arange(20.0), 16).tolist() == list(range(16))
    quiet = tone(300, amplitude=0.01)
    assert np.abs(normalise_loudness(quiet, "peak")).max() == pytest.approx(PEAK_LEVEL)
    rms = np.sqrt(np.mean(normalise_loudness(quiet, "rms") ** 2))
    assert 20 * np.log10(rms) == pytest.approx(-20, abs=0.01)
    assert normalise_loudness(quiet, "none") is quiet
    with pytest.raises(GankitError, match="unknown loudness 'loud'; valid: peak, rms, none"):
        normalise_loudness(quiet, "loud")


def test_fsdd_names_give_labels_and_the_official_split(tmp_path):
    for digit in (0, 1, 10):
        for index in (0, 4, 5, 7):
            write_wav(tmp_path / f"{digit}_ann_{index}.wav", tone(200 + 100 * digit))
    data = load_audio_folder(tmp_path)
    assert data.class_names == ("0", "1", "10")  # numeric order, not text order
    assert data.waves.shape == (12, CLIP_SAMPLES) and data.waves.dtype == torch.float32
    assert data.speakers == ("ann",) * 12 and data.skipped == 0
    test = load_audio_folder(tmp_path, split="test")
    train = load_audio_folder(tmp_path, split="train")
    assert len(test) == len(train) == 6  # recordings 0-4 test, 5-49 train
    write_wav(tmp_path / "other.wav", tone(300))
    assert load_audio_folder(tmp_path).labels is None  # not every name follows the pattern
    with pytest.raises(GankitError, match="other.wav has another name"):
        load_audio_folder(tmp_path, split="train")


def test_sub_folders_are_classes_and_bad_or_silent_files_are_skipped_with_a_count(tmp_path):
    for name, hz in (("low", 200), ("high", 2000)):
        for i in range(3):
            write_wav(tmp_path / name / f"{i}.wav", tone(hz))
    write_wav(tmp_path / "low" / "silent.wav", np.zeros(800))
    (tmp_path / "high" / "corrupt.wav").write_bytes(b"not audio")
    with pytest.warns(UserWarning, match=r"skipped 2 audio file\(s\).*1 unreadable, 1 silent"):
        data = load_audio_folder(tmp_path)
    assert data.class_names == ("high", "low") and data.skipped == 2
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert np.abs(data.waves.numpy()).max() == pytest.approx(PEAK_LEVEL, abs=1e-6)


def test_folder_errors_say_what_to_pass(tmp_path):
    with pytest.raises(GankitError, match="does not exist"):
        load_audio_folder(tmp_path / "nope")
    with pytest.raises(GankitError, match=r"holds no \.wav"):
        load_audio_folder(tmp_path)
    (tmp_path / "x.wav").write_bytes(b"junk")
    with pytest.raises(GankitError, match="none of the 1 audio files"):
        load_audio_folder(tmp_path)
    with pytest.raises(GankitError, match="unknown split"):
        load_audio_folder(tmp_path, split="dev")


def test_log_mel_puts_a_tone_in_its_band_and_the_vocoder_rebuilds_it():
    spectrogram = MelSpectrogram(resolution=32)
    clips = torch.from_numpy(np.stack([fit_length(tone(hz), CLIP_SAMPLES) for hz in (300, 2500)]))
    images = spectrogram(clips)
    assert images.shape == (2, 1, 32, 32) and images.min() >= -1 and images.max() <= 1
    bands = images[:, 0, :, :8].mean(-1).argmax(-1)  # loudest band while the tone plays
    assert bands[0] < bands[1]
    stored = spectrogram.images(clips)
    assert stored.dtype == torch.uint8
    rebuilt = spectrogram.to_audio(stored)
    assert rebuilt.shape == clips.shape
    assert peak_hz(rebuilt[1].numpy()) == pytest.approx(2500, rel=0.05)
    assert (spectrogram(rebuilt) - images).abs().mean() < 0.05
    with pytest.raises(GankitError, match="resolution must divide"):
        MelSpectrogram(resolution=28)
    with pytest.raises(GankitError, match=r"expected log-mel images \(N, 1, 32, 32\)"):
        spectrogram.to_audio(torch.zeros(2, 1, 16, 16))


def test_join_clips_puts_silence_between_clips():
    joined = join_clips(torch.ones(3, 10), sample_rate=40, gap_seconds=0.25)
    assert joined.tolist() == [1.0] * 10 + [0.0] * 10 + [1.0] * 10 + [0.0] * 10 + [1.0] * 10


@pytest.mark.skipif(not (default_data_root() / "fsdd" / "recordings").is_dir(), reason="needs FSDD")
def test_fsdd_test_split_is_recordings_0_to_4_of_every_digit_and_speaker():
    data = load_audio_folder(default_data_root() / "fsdd" / "recordings", split="test")
    assert len(data) == 300 and data.skipped == 0
    assert data.class_names == tuple(str(d) for d in range(10))
    assert torch.bincount(data.labels).tolist() == [30] * 10
