"""Class-conditional audio: ``AudioGAN`` draws spoken digits (FSDD) or the classes of a WAV folder.

The recipe (SpecGAN-style, Donahue et al. 2019, with gankit's conditional image GAN):

- **data**: fixed-length mono clips (:mod:`gankit.data.audio`: 8 kHz, 8,192 samples, peak
  normalised) turned into square log-mel images (64 mel bands x 64 frames of 16 ms for the
  default 64 px), stored and batched like any image dataset;
- **G and D**: the class-conditional DCGAN pair of :class:`~gankit.tasks.images.ImageGAN`
  (conditional BatchNorm in G, projection D, minibatch-std), on the shared engine with lazy R1
  and EMA: a spectrogram is an image whose rows are frequencies;
- **vocoder**: the mel filter bank's pseudo-inverse then Griffin-Lim
  (:meth:`~gankit.data.audio.MelSpectrogram.to_audio`): nothing to train, deterministic.

``generate(n, seed=, condition=digit)`` returns float waveforms (n, samples) in [-1, 1];
``generate_raw`` the generator's log-mel images, what the quick report metrics score.
docs/audio.md says why (the measurements against a WaveGAN-style waveform recipe).

Example:
    >>> from gankit.data.audio import demo_tones
    >>> gan = AudioGAN(resolution=16, model={"g_width": 8, "d_width": 8}, batch_size=4)
    >>> gan = gan.fit(demo_tones(8), steps=1, quiet=True)  # real runs: "fsdd", thousands of steps
    >>> gan.generate(3, condition="high").shape
    torch.Size([3, 8192])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.data.audio import (
    CLIP_SAMPLES,
    LOUDNESS,
    SAMPLE_RATE,
    AudioData,
    MelSpectrogram,
    fsdd_root,
    join_clips,
    load_audio_folder,
    wav_bytes,
)
from gankit.data.images import LabelledImages, labelled
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes
from gankit.nn.generate import generate
from gankit.tasks.base import Preset
from gankit.tasks.images import CLASS, ImageGAN, class_grid
from gankit.train import TrainConfig
from gankit.viz import save_image_grid, to_uint8

DEFAULT_RESOLUTION = 64
_VOCODER_BATCH = 32  # Griffin-Lim runs fastest on CPU in batches of this size
_REPORT_CLIPS = 4  # real and generated clips per class in the report

_AUDIO_TRAIN = TrainConfig(
    steps=4000,
    batch_size=32,
    lr_g=2e-4,
    lr_d=2e-4,
    betas=(0.5, 0.99),
    r1_gamma=1.0,
    reg_interval=16,
    ema_beta=0.99,
    log_every=50,
    sample_every=500,
)
_AUDIO_MODEL = {"latent_dim": 64, "g_width": 16, "d_width": 16, "minibatch_std": True}

AUDIO_PRESETS: dict[str, Preset] = {
    "specgan": Preset(
        "specgan",
        "Class-conditional log-mel GAN: the image `default-cond` pair (conditional BatchNorm in "
        "G, projection D, minibatch-std) on 64x64 log-mel spectrograms, non-saturating loss with "
        "lazy R1 and EMA; Griffin-Lim vocoder. Needs labelled clips (FSDD, class sub-folders).",
        "dcgan",
        {**_AUDIO_MODEL, "condition": CLASS},
        _AUDIO_TRAIN,
    ),
    "specgan-uncond": Preset(
        "specgan-uncond",
        "`specgan` without classes, for a folder of unlabelled clips.",
        "dcgan",
        _AUDIO_MODEL,
        _AUDIO_TRAIN,
    ),
}


class AudioGAN(ImageGAN):
    """Generate short mono clips like those of FSDD or a WAV folder, by class.

    ``resolution`` is the side of the log-mel images G draws (16, 32 or 64; default 64: 64 mel
    bands by 64 frames); ``loudness`` how clips are levelled when read ("peak", "rms", "none").
    Data: ``"fsdd"`` (``$GANKIT_DATA/fsdd/recordings``, its train split: recordings 5-49), a
    folder of WAV files, or an :class:`~gankit.data.audio.AudioData`.
    """

    task = "audio"
    presets = AUDIO_PRESETS
    default_preset = "specgan"
    condition_alias = None
    default_data = None

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        *,
        loudness: str = "peak",
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        if loudness not in LOUDNESS:
            raise GankitError(f"unknown loudness {loudness!r}; valid: {', '.join(LOUDNESS)}")
        super().__init__(preset, resolution, 1, model=model, **train)
        self.loudness = loudness

    # ------------------------------------------------------------------ data
    def read_clips(self, data: Any) -> tuple[AudioData, str | None]:
        """The clips ``data`` names (see the class notes) and the source recorded in config."""
        if isinstance(data, AudioData):
            return data, None
        if data is None:
            raise GankitError(
                "no training data given; pass 'fsdd' ($GANKIT_DATA/fsdd/recordings) or a folder "
                "of WAV files"
            )
        source = str(data)
        if source == "fsdd":
            return load_audio_folder(fsdd_root(), loudness=self.loudness, split="train"), source
        path = Path(source).expanduser()
        if not path.exists():
            raise GankitError(
                f"audio data {source!r} is neither 'fsdd' nor an existing folder of WAV files"
            )
        return load_audio_folder(path, loudness=self.loudness), str(path.resolve())

    def open_data(self, data: Any) -> tuple[Any, dict[str, Any]]:
        clips, source = self.read_clips(data)
        resolution = self.resolution or self.data_info.get("resolution") or DEFAULT_RESOLUTION
        spectrogram = MelSpectrogram(clips.sample_rate, clips.samples, resolution)
        images = spectrogram.image_data(clips)
        info = {
            "source": source,
            "name": clips.name,
            "size": len(clips),
            "resolution": resolution,
            "channels": 1,
            "class_names": list(clips.class_names),
            "sample_rate": clips.sample_rate,
            "samples": clips.samples,
            "loudness": self.loudness,
            "skipped_files": clips.skipped,
        }
        if self.condition == CLASS:
            return labelled(images), info
        return images, info

    @property
    def spectrogram(self) -> MelSpectrogram:
        """The log-mel transform and vocoder of this model's clips."""
        return MelSpectrogram(
            self.data_info.get("sample_rate", SAMPLE_RATE),
            self.data_info.get("samples", CLIP_SAMPLES),
            self.data_info.get("resolution", DEFAULT_RESOLUTION),
        )

    # ------------------------------------------------------------- inference
    def postprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Log-mel images -> float waveforms (n, samples) through the Griffin-Lim vocoder."""
        spectrogram = self.spectrogram
        return torch.cat([spectrogram.to_audio(part) for part in x.split(_VOCODER_BATCH)])

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "output": "audio",
            "sample_rate": self.data_info.get("sample_rate", SAMPLE_RATE),
            "samples": self.data_info.get("samples", CLIP_SAMPLES),
        }

    def render(self, G: nn.Module, path: Path) -> None:
        """Spectrograms of a class grid (low frequencies at the bottom, as plots show them)."""
        if self.condition != CLASS:
            save_image_grid(to_uint8(generate(G, 64, seed=0)).flip(-2), path)
            return
        grid = class_grid(G, len(self.class_names), seed=0).flip(-2)
        save_image_grid(grid, path, nrow=8)

    # ---------------------------------------------------------------- report
    def write_report(self, out_dir: Path, dataset: Any) -> None:
        """The image report, plus real-vs-generated spectrograms and example WAVs per class."""
        super().write_report(out_dir, dataset)
        data = dataset.data if isinstance(dataset, LabelledImages) else dataset
        rate = self.describe()["sample_rate"]
        classes = list(enumerate(self.class_names)) if self.condition == CLASS else [(None, "all")]
        rows, links = [], []
        for k, name in classes:
            real = data.images if k is None else data.images[data.labels == k]
            fake_images = self.generate_raw(_REPORT_CLIPS, seed=k or 0, condition=k)
            rows += [real[:_REPORT_CLIPS], to_uint8(fake_images)]
            wav = out_dir / "samples" / f"class-{name}.wav"
            wav.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(
                wav, wav_bytes(join_clips(self.postprocess(fake_images), rate), rate)
            )
            links.append(f"[{name}](samples/{wav.name})")
        save_image_grid(torch.cat(rows).flip(-2), out_dir / "spectrograms.png", nrow=_REPORT_CLIPS)
        lines = [
            "## listen",
            "",
            "Log-mel spectrograms, one row of real clips and one of generated clips per class "
            "(low frequencies at the bottom): ![spectrograms](spectrograms.png)",
            "",
            f"Generated clips, {_REPORT_CLIPS} per class: " + ", ".join(links),
            "",
        ]
        report = out_dir / "report.md"
        atomic_write_bytes(report, report.read_bytes() + "\n".join(lines).encode())
