"""Audio clips for GANs: WAV folders (FSDD or any), fixed-length clips, log-mel spectrograms.

Reading and writing go through ``soundfile`` (libsndfile: WAV, FLAC, OGG); spectrograms through
``torch.stft`` (torchaudio does not pair with gankit's pinned torch). Every clip is made the same:

- **mono**: a stereo (or multi-channel) file is mixed down by averaging its channels;
- **one sample rate** (8 kHz by default): another rate is resampled with a polyphase filter
  (``scipy.signal.resample_poly``);
- **one length** (8,192 samples, 1.02 s at 8 kHz): a shorter clip is padded with silence at the
  end, a longer one keeps its beginning (speech starts at the same place in every clip, which is
  what a generator finds easiest to learn; 0.6 % of FSDD's clips are longer and lose their end);
- **one loudness**: ``"peak"`` scales each clip so that its largest sample is 0.95 (the
  default; FSDD's recordings differ in gain by 20 dB between speakers), ``"rms"`` so that its
  root-mean-square level is -20 dBFS (clipped at ±1), ``"none"`` keeps the file's levels.
- **silent or unreadable files are skipped** with one warning that counts them (a silent file
  has no sample above 1e-4, -80 dBFS).

Labels come from first-level sub-folders (``digits/seven/a.wav``) or, when the files sit in one
folder, from FSDD's file-name pattern ``{digit}_{speaker}_{index}.wav``. FSDD's official split
holds recordings 0-4 of every digit and speaker out as the test set; ``split="train"`` /
``"test"`` selects by that index.

Example:
    >>> import numpy as np
    >>> t = np.arange(4000) / 8000
    >>> _ = write_wav(tmp / "wavs" / "3_ann_7.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 8000)
    >>> data = load_audio_folder(tmp / "wavs")
    >>> data.waves.shape, data.class_names, round(float(data.waves.abs().max()), 2)
    (torch.Size([1, 8192]), ('3',), 0.95)
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.data.images import ImageData
from gankit.data.mnist import default_data_root
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes

SAMPLE_RATE = 8000
CLIP_SAMPLES = 8192
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
LOUDNESS = ("peak", "rms", "none")
PEAK_LEVEL = 0.95
RMS_LEVEL_DB = -20.0
SILENCE = 1e-4  # a clip whose every sample is below this (-80 dBFS) is silent
FSDD_NAME = re.compile(r"^(?P<label>\d+)_(?P<speaker>[^_]+)_(?P<index>\d+)$")
FSDD_TEST_INDICES = range(5)  # recordings 0-4 of each digit and speaker: the official test set
SPLITS = ("all", "train", "test")
_NAMES_IN_MESSAGES = 5


def _soundfile() -> Any:
    try:
        import soundfile
    except ImportError:
        raise GankitError(
            "audio needs the soundfile package: pip install 'gankit[audio]' (or soundfile==0.14.0)"
        ) from None
    return soundfile


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One audio file as float32 mono samples at ``sample_rate`` (channels averaged, resampled).

    A missing, corrupt or empty file is a :class:`GankitError` naming it.

    Example:
        >>> _ = write_wav(tmp / "a.wav", np.zeros((1600, 2)), 16000)  # stereo at 16 kHz
        >>> read_audio(tmp / "a.wav", 8000).shape
        (800,)
    """
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"audio file {path} not found; pass a WAV (or FLAC/OGG) file")
    soundfile = _soundfile()
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # noqa: BLE001 (libsndfile reports damage as several types)
        raise GankitError(
            f"{path} could not be read as audio ({err}); the file is damaged"
        ) from None
    if samples.size == 0:
        raise GankitError(f"{path} holds no samples")
    mono = samples.mean(axis=1)  # (frames, channels) -> (frames,)
    if rate != sample_rate:
        from scipy.signal import resample_poly

        common = math.gcd(int(rate), int(sample_rate))
        mono = resample_poly(mono, sample_rate // common, int(rate) // common).astype(np.float32)
    return mono


def wav_bytes(samples: Any, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Float samples in [-1, 1] (``(frames,)`` or ``(frames, channels)``) as 16-bit PCM WAV."""
    samples = np.asarray(torch.as_tensor(samples).detach().cpu().float(), dtype=np.float32)
    if not np.isfinite(samples).all():
        raise GankitError("audio samples must be finite numbers; got NaN or infinity")
    buffer = io.BytesIO()
    _soundfile().write(buffer, np.clip(samples, -1, 1), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def write_wav(path: str | Path, samples: Any, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write float samples in [-1, 1] as a 16-bit PCM WAV file, atomically (tmp + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, wav_bytes(samples, sample_rate))
    return path


def join_clips(
    clips: Any, sample_rate: int = SAMPLE_RATE, gap_seconds: float = 0.25
) -> torch.Tensor:
    """Clips (N, samples) one after another with ``gap_seconds`` of silence between them."""
    gap = torch.zeros(int(gap_seconds * sample_rate))
    parts = [part for clip in clips for part in (gap, torch.as_tensor(clip).float())]
    return torch.cat(parts[1:])  # (N * samples + (N - 1) * gap,)


def fit_length(samples: np.ndarray, length: int = CLIP_SAMPLES) -> np.ndarray:
    """Pad with silence at the end, or keep the first ``length`` samples."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def normalise_loudness(samples: np.ndarray, loudness: str = "peak") -> np.ndarray:
    """Scale a clip to the peak (0.95) or RMS (-20 dBFS) level, or leave it (``"none"``)."""
    if loudness not in LOUDNESS:
        raise GankitError(f"unknown loudness {loudness!r}; valid: {', '.join(LOUDNESS)}")
    if loudness == "peak":
        return samples * (PEAK_LEVEL / max(float(np.abs(samples).max()), SILENCE))
    if loudness == "rms":
        rms = max(float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))), SILENCE)
        return np.clip(samples * (10 ** (RMS_LEVEL_DB / 20) / rms), -1, 1)
    return samples


@dataclass(frozen=True, eq=False)
class AudioData:
    """Fixed-length mono clips in memory: ``waves`` float32 (N, samples) in [-1, 1].

    ``labels`` (int64 (N,)) index ``class_names``, or are None for an unlabelled folder;
    ``speakers`` are FSDD's speaker names where the file names carry them; ``skipped`` counts
    the unreadable or silent files left out.
    """

    waves: torch.Tensor
    labels: torch.Tensor | None
    class_names: tuple[str, ...]
    name: str
    sample_rate: int = SAMPLE_RATE
    speakers: tuple[str, ...] = ()
    skipped: int = 0

    def __len__(self) -> int:
        return self.waves.shape[0]

    @property
    def samples(self) -> int:
        return self.waves.shape[1]


def demo_tones(n: int = 64, seed: int = 0) -> AudioData:
    """``n`` clips of two classes, a 400 Hz tone ("low") and a 2,400 Hz one ("high"), in turn;
    lengths (0.25-0.75 s) and phases seeded: data for tests and examples that a tiny model learns
    in a few dozen steps.

    Example:
        >>> demo_tones(4).labels.tolist()
        [0, 1, 0, 1]
    """
    rng = np.random.default_rng(seed)
    waves = np.zeros((n, CLIP_SAMPLES), np.float32)
    for i in range(n):
        length = int(rng.integers(2000, 6000))
        t = np.arange(length) / SAMPLE_RATE
        waves[i, :length] = PEAK_LEVEL * np.sin(
            2 * np.pi * (400, 2400)[i % 2] * t + rng.uniform(0, 6)
        )
    labels = torch.arange(n) % 2
    return AudioData(torch.from_numpy(waves), labels, ("low", "high"), "tones")


def find_audio(root: Path) -> list[Path]:
    """Audio files below ``root`` (hidden ones skipped), in sorted path order."""
    found = [
        path
        for path in root.rglob("*")
        if path.suffix.lower() in AUDIO_EXTENSIONS
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _label_of(root: Path, path: Path, by_folder: bool) -> str | None:
    if by_folder:
        return path.relative_to(root).parts[0]
    match = FSDD_NAME.match(path.stem)
    return match["label"] if match else None


def _in_split(path: Path, split: str) -> bool:
    if split == "all":
        return True
    match = FSDD_NAME.match(path.stem)
    if match is None:
        raise GankitError(
            f"split={split!r} follows FSDD's file names {{digit}}_{{speaker}}_{{index}}.wav; "
            f"{path.name} has another name (use split='all')"
        )
    return (int(match["index"]) in FSDD_TEST_INDICES) == (split == "test")


def load_audio_folder(
    path: str | Path,
    *,
    sample_rate: int = SAMPLE_RATE,
    samples: int = CLIP_SAMPLES,
    loudness: str = "peak",
    split: str = "all",
) -> AudioData:
    """Every audio file below ``path`` as fixed-length, loudness-normalised mono clips.

    Labels: the first-level sub-folders when every file sits in one (two or more), else the
    FSDD pattern ``{digit}_{speaker}_{index}`` when every file name follows it, else none.
    ``split``: "all", or FSDD's "train" (recordings 5-49) / "test" (recordings 0-4).
    """
    root = Path(path).expanduser()
    if split not in SPLITS:
        raise GankitError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    if loudness not in LOUDNESS:
        raise GankitError(f"unknown loudness {loudness!r}; valid: {', '.join(LOUDNESS)}")
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise GankitError(f"audio folder '{root}' {what}; pass a folder of WAV files")
    paths = [p for p in find_audio(root) if _in_split(p, split)]
    if not paths:
        raise GankitError(
            f"audio folder '{root}' holds no {', '.join(AUDIO_EXTENSIONS)} files"
            + (f" in split {split!r}" if split != "all" else "")
        )
    depths = {len(p.relative_to(root).parts) for p in paths}
    by_folder = depths == {2} and len({p.relative_to(root).parts[0] for p in paths}) >= 2
    names = [_label_of(root, p, by_folder) for p in paths]
    if None in names:
        names = [None] * len(paths)
    speakers = [FSDD_NAME.match(p.stem) for p in paths]

    waves, kept, failures, silent = [], [], [], []
    for i, file in enumerate(paths):
        try:
            clip = read_audio(file, sample_rate)
        except GankitError as err:
            failures.append((file, err))
            continue
        clip = fit_length(clip, samples)
        if np.abs(clip).max() < SILENCE:
            silent.append(file)
            continue
        waves.append(torch.from_numpy(normalise_loudness(clip, loudness).astype(np.float32)))
        kept.append(i)
    skipped = [p for p, _ in failures] + silent
    listed = ", ".join(p.relative_to(root).as_posix() for p in skipped[:_NAMES_IN_MESSAGES])
    listed += " ..." if len(skipped) > _NAMES_IN_MESSAGES else ""
    if not waves:
        first = f"; first error: {failures[0][1]}" if failures else " (all silent)"
        raise GankitError(f"none of the {len(paths)} audio files in '{root}' is usable{first}")
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} audio file(s) in '{root}' ({len(failures)} unreadable, "
            f"{len(silent)} silent): {listed}",
            stacklevel=2,
        )
    labels, class_names = None, ()
    if names[0] is not None:
        class_names = tuple(sorted({names[i] for i in kept}, key=_natural))
        index = {name: k for k, name in enumerate(class_names)}
        labels = torch.tensor([index[names[i]] for i in kept], dtype=torch.int64)
    return AudioData(
        waves=torch.stack(waves),
        labels=labels,
        class_names=class_names,
        name=root.resolve().name,
        sample_rate=sample_rate,
        speakers=tuple(speakers[i]["speaker"] for i in kept) if all(speakers) else (),
        skipped=len(skipped),
    )


def _natural(name: str) -> tuple[int, Any]:
    """Sort key: numeric class names by value ("2" before "10"), then the others by text."""
    return (0, int(name)) if name.isdigit() else (1, name)


def fsdd_root() -> Path:
    """``$GANKIT_DATA/fsdd/recordings``, or a clear error saying where it was looked for."""
    root = default_data_root() / "fsdd" / "recordings"
    if not root.is_dir():
        raise GankitError(
            f"dataset 'fsdd' looks for its WAV files in '{root}', which does not exist; set "
            "GANKIT_DATA to the folder that holds fsdd/recordings, or pass a WAV folder"
        )
    return root


# --------------------------------------------------------------------------- spectrograms
@dataclass(frozen=True)
class MelSpectrogram:
    """Clips of ``samples`` at ``sample_rate`` <-> square log-mel images of side ``resolution``.

    ``resolution`` mel bands (up to the Nyquist frequency) by ``resolution`` frames: the hop is
    ``samples / resolution`` (128 = 16 ms at 8 kHz for 64 x 64) and the Hann window four hops long
    (75 % overlap, which Griffin-Lim needs to rebuild a phase). Magnitudes in dB are mapped
    linearly from [top - 80 dB, top] to [-1, 1] (top: a full-scale sine's level in this STFT),
    so an image is what a tanh generator emits, and uint8 storage keeps 0.3 dB steps.

    :meth:`to_audio` is the vocoder: the mel magnitudes back to linear frequency by the filter
    bank's pseudo-inverse (negative values clipped), then ``griffin_lim_iters`` rounds of
    Griffin-Lim (with the 0.99 momentum of Perraudin et al. 2013) to find a phase.

    Example:
        >>> spec = MelSpectrogram(resolution=32)
        >>> waves = torch.randn(2, 8192) * 0.1
        >>> images = spec.images(waves)
        >>> images.shape, spec.to_audio(images).shape
        (torch.Size([2, 1, 32, 32]), torch.Size([2, 8192]))
    """

    sample_rate: int = SAMPLE_RATE
    samples: int = CLIP_SAMPLES
    resolution: int = 64
    griffin_lim_iters: int = 16
    dynamic_range_db: float = 80.0

    def __post_init__(self) -> None:
        if self.resolution < 4 or self.samples % self.resolution:
            raise GankitError(
                f"spectrogram resolution must divide the clip length ({self.samples} samples) "
                f"and be at least 4, got {self.resolution}"
            )

    @property
    def hop(self) -> int:
        return self.samples // self.resolution

    @property
    def n_fft(self) -> int:
        return 4 * self.hop

    @property
    def top_db(self) -> float:
        return 20 * math.log10(self.n_fft / 4)  # a full-scale sine under a Hann window

    def filters(self) -> torch.Tensor:
        """Triangular mel filters (resolution, n_fft // 2 + 1), HTK mel scale, area-normalised."""
        bins = self.n_fft // 2 + 1
        mel = lambda hz: 2595 * np.log10(1 + hz / 700)  # noqa: E731
        hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
        edges = hz(np.linspace(mel(0.0), mel(self.sample_rate / 2), self.resolution + 2))
        freqs = np.linspace(0, self.sample_rate / 2, bins)
        lower = (freqs[None] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
        upper = (edges[2:, None] - freqs[None]) / (edges[2:, None] - edges[1:-1, None])
        bank = np.maximum(0, np.minimum(lower, upper))
        # Narrow low filters may fall between FFT bins: give each at least its nearest bin.
        for k in np.flatnonzero(bank.sum(1) == 0):
            bank[k, np.abs(freqs - edges[k + 1]).argmin()] = 1.0
        return torch.from_numpy(bank / bank.sum(1, keepdims=True)).float()

    def _window(self) -> torch.Tensor:
        return torch.hann_window(self.n_fft)

    def _stft(self, waves: torch.Tensor) -> torch.Tensor:
        # (B, samples) -> (B, bins, resolution + 1) complex; the last frame is dropped by callers.
        return torch.stft(
            waves, self.n_fft, self.hop, window=self._window(), center=True, return_complex=True
        )

    def __call__(self, waves: torch.Tensor) -> torch.Tensor:
        """Float log-mel images (B, 1, resolution, resolution) in [-1, 1], low bands first."""
        waves = torch.as_tensor(waves).float()
        if waves.dim() != 2 or waves.shape[1] != self.samples:
            raise GankitError(
                f"expected clips of shape (N, {self.samples}), got {tuple(waves.shape)}"
            )
        magnitude = self._stft(waves).abs()[..., : self.resolution]  # (B, bins, frames)
        mel = self.filters() @ magnitude  # (B, mels, frames)
        db = 20 * torch.log10(mel.clamp_min(1e-10))
        floor = self.top_db - self.dynamic_range_db
        return ((db - floor) / self.dynamic_range_db * 2 - 1).clamp(-1, 1)[:, None]

    def images(self, waves: torch.Tensor) -> torch.Tensor:
        """:meth:`__call__` as uint8 (B, 1, R, R), the way :class:`ImageData` stores images."""
        chunks = [self(chunk) for chunk in torch.as_tensor(waves).split(512)]
        return ((torch.cat(chunks) + 1) * 127.5).round().to(torch.uint8)

    def to_audio(self, images: torch.Tensor) -> torch.Tensor:
        """Float clips (B, samples) from log-mel images (float in [-1, 1] or uint8)."""
        images = torch.as_tensor(images)
        if images.dtype == torch.uint8:
            images = images.float() / 127.5 - 1
        if images.dim() != 4 or images.shape[1:] != (1, self.resolution, self.resolution):
            raise GankitError(
                f"expected log-mel images (N, 1, {self.resolution}, {self.resolution}), got "
                f"{tuple(images.shape)}"
            )
        floor = self.top_db - self.dynamic_range_db
        db = (images[:, 0].float().clamp(-1, 1) + 1) / 2 * self.dynamic_range_db + floor
        mel = 10 ** (db / 20)
        mel = torch.where(images[:, 0] <= -1, torch.zeros_like(mel), mel)  # the floor is silence
        magnitude = (torch.linalg.pinv(self.filters()) @ mel).clamp_min(0)  # (B, bins, frames)
        magnitude = torch.cat([magnitude, magnitude[..., -1:]], dim=-1)  # the dropped frame
        return self._griffin_lim(magnitude)

    def _griffin_lim(self, magnitude: torch.Tensor) -> torch.Tensor:
        window = self._window()
        # A fixed starting phase (zero) keeps the vocoder deterministic.
        angles = torch.ones_like(magnitude, dtype=torch.complex64)
        previous = torch.zeros_like(angles)
        waves = torch.zeros(magnitude.shape[0], self.samples)
        for _ in range(self.griffin_lim_iters):
            waves = torch.istft(
                magnitude * angles, self.n_fft, self.hop, window=window, length=self.samples
            )
            rebuilt = self._stft(waves)
            accelerated = rebuilt - 0.99 / 1.99 * previous
            previous = rebuilt
            angles = accelerated / accelerated.abs().clamp_min(1e-8)
        waves = torch.istft(
            magnitude * angles, self.n_fft, self.hop, window=window, length=self.samples
        )
        return waves.clamp(-1, 1)

    def image_data(self, audio: AudioData) -> ImageData:
        """The clips of ``audio`` as an :class:`ImageData` of log-mel images, labels kept."""
        return ImageData(self.images(audio.waves), audio.labels, audio.class_names, audio.name)
