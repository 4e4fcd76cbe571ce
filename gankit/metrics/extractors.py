"""Named feature extractors, each with an identity string that goes into every metrics report.

Metric values are only comparable when computed through the same network, the same weights and
the same input preprocessing. An extractor therefore carries ``identity``: kind + sha256 of its
weights file + input protocol. Reports record it, and two reports with different identities
must not be compared.

Registry (``EXTRACTORS``):

* ``"digit-classifier"``: a :mod:`gankit.metrics.classifier` directory (``path=``);
* ``"model-dir"``: any extractor directory; its ``config.json`` ``kind`` picks the loader;
* ``"inception"``: FID's Inception-v3 pool3 (2048-d) from a local ``.safetensors`` weights file
  (``path=``), see :mod:`gankit.metrics.inception`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from gankit.data.images import to_gray
from gankit.errors import GankitError
from gankit.io import file_sha256, read_config
from gankit.metrics import classifier, inception


class FeatureExtractor:
    """A feature network with a fixed input protocol and a weights hash.

    Example:
        >>> from gankit.metrics import compute_metrics
        >>> extractor = build_extractor("digit-classifier", path=extractor_dir)
        >>> images = torch.rand(64, 1, 16, 16) * 2 - 1
        >>> feats = extractor.extract(images)  # (N,1,H,W) in [-1,1] -> (N,128)
        >>> labels = extractor.module(images).argmax(1)  # predicted digits
        >>> real = extractor.extract(torch.rand(64, 1, 16, 16) * 2 - 1)
        >>> report = compute_metrics(real, feats, ("fd",), extractor=extractor.identity)
        >>> feats.shape, report["extractor"] == extractor.identity
        (torch.Size([64, 128]), True)
    """

    def __init__(
        self,
        kind: str,
        module: nn.Module,
        features: Callable[[torch.Tensor], torch.Tensor],
        weights_sha256: str,
        input_protocol: str,
        *,
        gray: bool = True,
        resize: str | None = None,
        classes: bool = True,
    ) -> None:
        self.kind = kind
        self.module = (
            module.eval()
        )  # e.g. the classifier, for labels: extractor.module(x).argmax(1)
        self._features = features
        self.weights_sha256 = weights_sha256
        self.input_protocol = input_protocol
        self.gray = gray  # the network reads one channel: RGB input becomes luma first
        self.resize = resize  # how inputs are brought to the network's size, for reports
        self.classes = classes  # module(images) gives class logits (mode coverage needs them)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` in the channels the network reads (luma for gray networks)."""
        return to_gray(images) if self.gray else images

    @property
    def identity(self) -> str:
        """``"<kind> sha256=<weights hash> input=<protocol>"``; only compare equal identities."""
        return f"{self.kind} sha256={self.weights_sha256} input={self.input_protocol}"

    def to(self, device: str | torch.device) -> FeatureExtractor:
        """Move the network to ``device`` (features still come back on the CPU)."""
        self.module.to(device)
        return self

    @torch.no_grad()
    def extract(
        self, images: torch.Tensor | Iterable[torch.Tensor], batch_size: int = 256
    ) -> torch.Tensor:
        """(N, D) float32 CPU features of a tensor of images, or of an iterable of image batches."""
        batches = images.split(batch_size) if isinstance(images, torch.Tensor) else images
        feats = [self._features(self.prepare(batch)).float().cpu() for batch in batches]
        if not feats:
            raise GankitError("no images to extract features from; pass at least one image")
        return torch.cat(feats)

    __call__ = extract


def _load_digit_classifier(path: str | os.PathLike) -> FeatureExtractor:
    model = classifier.load_classifier(path)  # verifies the weights against the recorded sha256
    config = read_config(path)
    return FeatureExtractor(
        classifier.KIND,
        model,
        model.features,
        config["sha256"],
        classifier.INPUT_PROTOCOL,
        resize="bilinear-antialias-28",
    )


# config.json "kind" -> loader of that kind of extractor directory.
_DIR_LOADERS: dict[str, Callable[[str | os.PathLike], FeatureExtractor]] = {
    classifier.KIND: _load_digit_classifier,
}


def _need_path(name: str, path: str | os.PathLike | None) -> Path:
    if path is None:
        raise GankitError(
            f"feature extractor {name!r} needs path=<extractor directory>; write one with "
            "gankit.metrics.save_classifier(train_digit_classifier(...), dir)"
        )
    return Path(path)


def _digit_classifier(path: str | os.PathLike | None = None) -> FeatureExtractor:
    return _load_digit_classifier(_need_path("digit-classifier", path))


def _model_dir(path: str | os.PathLike | None = None) -> FeatureExtractor:
    path = _need_path("model-dir", path)
    config = read_config(path)
    kind = config.get("kind")
    if config.get("task") != "extractor" or kind not in _DIR_LOADERS:
        raise GankitError(
            f"{path} holds task={config.get('task')!r} kind={kind!r}; a feature extractor "
            f"directory has task 'extractor' and one of the kinds {sorted(_DIR_LOADERS)}"
        )
    return _DIR_LOADERS[kind](path)


def _inception(path: str | os.PathLike | None = None) -> FeatureExtractor:
    model = inception.load_inception(path)  # a missing path says how to get the weights
    return FeatureExtractor(
        inception.KIND,
        model,
        lambda images: inception.inception_features(model, images),
        file_sha256(path),
        inception.INPUT_PROTOCOL,
        gray=False,
        resize=inception.RESIZE_MODE,
        classes=False,
    )


EXTRACTORS: dict[str, Callable[..., FeatureExtractor]] = {
    "digit-classifier": _digit_classifier,
    "model-dir": _model_dir,
    "inception": _inception,
}


def build_extractor(name: str, **kwargs: object) -> FeatureExtractor:
    """Build a registered extractor by name; an unknown name lists the valid ones.

    Example:
        >>> build_extractor("model-dir", path=extractor_dir).identity  # doctest: +ELLIPSIS
        'digit-classifier sha256=... input=gray (B,1,H,W) in [-1,1] -> bilinear antialias 28x28'
    """
    if name not in EXTRACTORS:
        raise GankitError(f"unknown feature extractor {name!r}; valid: {sorted(EXTRACTORS)}")
    unknown = sorted(set(kwargs) - {"path"})
    if unknown:
        raise GankitError(f"feature extractor {name!r} takes only path=, got {unknown}")
    return EXTRACTORS[name](**kwargs)
