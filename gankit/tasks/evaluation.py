"""Scoring trained models against real data with a pinned protocol: the recipes over the metrics.

The metrics (:mod:`gankit.metrics`) take tensors; this module is where a model directory, a
dataset and the engine meet them: :func:`evaluate_model` loads a model and draws its samples,
:func:`train_extractor` trains the classifier that judges them, and :class:`PeriodicEval` scores
G_ema while it trains. Every result records the protocol that produced it (extractor identity
with its weights hash, the sample counts, the seed and the reference data) because GAN numbers
are only comparable under the same protocol.

Example:
    >>> result = evaluate_model(image_model, extractor_dir, ("fd", "pr"), n=50)  # two directories
    >>> result["metrics"]["fd"] > 0, result["protocol"]["n_fake"]
    (True, 50)
    >>> (image_model / "eval.md").exists()  # and "eval" in its metrics.json
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gankit.data import open_dataset
from gankit.data.images import real_images, to_gray
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes, read_json, save_module, write_json
from gankit.metrics.classifier import DigitClassifierConfig, save_classifier, train_digit_classifier
from gankit.metrics.evaluate import evaluate_images
from gankit.metrics.extractors import FeatureExtractor, build_extractor
from gankit.metrics.frechet import frechet_distance
from gankit.nn.generate import generate
from gankit.tasks import Generator, load
from gankit.train.callbacks import Callback


def evaluate_model(
    model_dir: str | Path,
    extractor_path: str | Path | FeatureExtractor,
    metrics: Sequence[str] | None = None,
    n: int = 10_000,
    reference: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate ``model_dir``; writes ``eval`` into its ``metrics.json`` and a summary ``eval.md``.

    ``reference`` is the real data to compare with (a dataset name or folder); by default the data
    the model was trained on. ``n`` samples are generated from ``seed`` and as many real images
    (or all, if fewer) are drawn. ``extractor_path`` is an extractor directory or a built
    :class:`FeatureExtractor` (e.g. ``build_extractor("inception", path=weights)``); ``metrics``
    defaults to fd, kid, pr, dc, plus modes when the extractor has a class head.
    """
    if n < 2:
        raise GankitError(f"--n must be at least 2 samples, got {n}")
    gan = load(model_dir)
    if not isinstance(gan, Generator) or gan.describe().get("output") != "images":
        raise GankitError(
            f"gankit eval scores models that generate images; {model_dir} is a {gan.task!r} model"
        )
    source = reference or gan.data_info.get("source")
    if source is None:
        raise GankitError(f"{model_dir} was trained on in-memory data; pass --reference DATA")
    data = open_dataset(source, gan.data_info["resolution"], gan.data_info["channels"])
    extractor = (
        extractor_path
        if isinstance(extractor_path, FeatureExtractor)
        else build_extractor("model-dir", path=extractor_path)
    )
    if metrics is None:
        metrics = ("fd", "kid", "pr", "dc", *(("modes",) if extractor.classes else ()))
    real = real_images(data, n, seed)
    fake = gan.generate_raw(n, seed=seed)
    result = {
        "metrics": evaluate_images(real, fake, extractor, metrics),
        "protocol": {
            "extractor": extractor.identity,
            "extractor_kind": extractor.kind,
            "weights_sha256": extractor.weights_sha256,
            "resize": extractor.resize,
            "n_real": len(real),
            "n_fake": len(fake),
            "seed": seed,
            "reference": str(source),
            "ema": True,
        },
    }
    path = Path(model_dir) / "metrics.json"
    previous = read_json(path) if path.is_file() else {}
    write_json(path, {**previous, "eval": result})
    lines = [
        "# gankit eval",
        "",
        *[f"- {k}: {v}" for k, v in result["metrics"].items() if k != "class_counts"],
        "",
        "Protocol:",
        *[f"- {k}: {v}" for k, v in result["protocol"].items()],
        "",
    ]
    atomic_write_bytes(Path(model_dir) / "eval.md", "\n".join(lines).encode())
    return result


def evaluate_table_privacy(
    synthetic: str | Path,
    holdout: str | Path,
    reference: str | Path | None = None,
    n: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """The privacy report (:mod:`gankit.metrics.privacy`) of a synthetic table.

    ``synthetic`` is a tabular model directory (``n`` rows are drawn from ``seed``; the result
    also goes into its ``metrics.json`` as ``privacy``) or a CSV of synthetic rows from any
    generator. ``reference`` is the training table's CSV (default: the model's training CSV),
    ``holdout`` a CSV of real rows the generator never saw.
    """
    from gankit.data.tabular import read_csv
    from gankit.metrics.privacy import privacy_report

    path = Path(synthetic)
    gan = load(path) if path.is_dir() else None
    if gan is not None and gan.describe().get("output") != "table":
        raise GankitError(
            f"--holdout runs the privacy report of a synthetic table; {path} is a {gan.task!r} "
            "model (score image models with --extractor)"
        )
    source = reference or (gan.data_info.get("source") if gan is not None else None)
    if source is None:
        raise GankitError(
            f"the privacy report needs the training table: pass --reference TRAIN.csv "
            f"({path} was {'trained on an in-memory DataFrame' if gan else 'given as a CSV'})"
        )
    train, held = read_csv(source), read_csv(holdout)
    specs = gan.transformer.columns if gan is not None else None
    rows = gan.generate(n, seed=seed) if gan is not None else read_csv(path)
    result = privacy_report(train, held, rows, specs, seed=seed)
    result["protocol"] = {"reference": str(source), "holdout": str(holdout), "seed": seed}
    if gan is not None:
        metrics = path / "metrics.json"
        previous = read_json(metrics) if metrics.is_file() else {}
        write_json(metrics, {**previous, "privacy": result})
    return result


def train_extractor(
    data: str, out: str | Path, steps: int = 936, seed: int = 0, resolution: int = 28
) -> FeatureExtractor:
    """Train a digit/class classifier on labelled ``data`` and save it as an extractor directory."""
    dataset = open_dataset(data, resolution, None)
    if dataset.labels is None:
        raise GankitError(f"{data} has no labels; a classifier extractor needs class sub-folders")
    images = to_gray(dataset.batch(torch.arange(len(dataset))))
    config = DigitClassifierConfig(num_classes=len(dataset.class_names))
    model = train_digit_classifier(images, dataset.labels, steps=steps, seed=seed, config=config)
    save_classifier(model, out, metadata={"data": str(data), "steps": steps, "seed": seed})
    return build_extractor("model-dir", path=out)


class PeriodicEval(Callback):
    """Every ``every`` steps, the Fréchet distance of ``n`` G_ema samples to ``real`` images.

    Each value goes into the logged statistics (``fd`` in stats.jsonl). When it improves and
    ``best_dir`` is given, G_ema's weights and the score are written to ``best_dir`` — so the best
    generator survives a later collapse. The best score and its step are saved with checkpoints.

    Example:
        >>> from gankit import ImageGAN
        >>> from gankit.data import load_digits
        >>> real = real_images(load_digits(16), 100, seed=0)
        >>> extractor = build_extractor("model-dir", path=extractor_dir)  # a train_extractor dir
        >>> scorer = PeriodicEval(real, extractor, every=2, n=100)
        >>> gan = ImageGAN(resolution=16, batch_size=8, model={"g_width": 8, "d_width": 8})
        >>> _ = gan.fit("digits", steps=2, quiet=True, callbacks=[scorer])
        >>> scorer.best["step"], scorer.best["fd"] > 0
        (2, True)
    """

    def __init__(
        self,
        real: torch.Tensor,
        extractor: FeatureExtractor,
        every: int,
        n: int = 2000,
        best_dir: str | Path | None = None,
        seed: int = 0,
    ) -> None:
        self.extractor = extractor
        self.real_features = extractor.extract(real[:n])
        self.every, self.n, self.seed = every, n, seed
        self.best_dir = Path(best_dir) if best_dir is not None else None
        self.best: dict[str, Any] = {}
        self.pending: float | None = None

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every:
            return
        fake = generate(trainer.G_ema, self.n, seed=self.seed)
        fd = frechet_distance(self.real_features, self.extractor.extract(fake))
        self.pending = fd
        if not self.best or fd < self.best["fd"]:
            self.best = {
                "fd": fd,
                "step": trainer.step,
                "extractor": self.extractor.identity,
                "n": self.n,
            }
            if self.best_dir is not None:
                self.best_dir.mkdir(parents=True, exist_ok=True)
                save_module(trainer.G_ema, self.best_dir / "G_ema.safetensors")
                write_json(self.best_dir / "best.json", self.best)

    def on_log(self, trainer, record: dict[str, float]) -> None:
        if self.pending is not None:
            record["fd"] = self.pending
            self.pending = None

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best", {})
