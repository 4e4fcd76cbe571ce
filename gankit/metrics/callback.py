"""Evaluation during training: a callback that scores G_ema periodically and keeps the best."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gankit.io import save_module, write_json
from gankit.metrics.extractors import FeatureExtractor
from gankit.metrics.frechet import frechet_distance
from gankit.nn.generate import generate
from gankit.train.callbacks import Callback


class PeriodicEval(Callback):
    """Every ``every`` steps, the Fréchet distance of ``n`` G_ema samples to ``real`` images.

    Each value goes into the logged statistics (``fd`` in stats.jsonl). When it improves and
    ``best_dir`` is given, G_ema's weights and the score are written to ``best_dir`` — so the best
    generator survives a later collapse. The best score and its step are saved with checkpoints.

    Example:
        >>> extractor = build_extractor("model-dir", path="extractors/mnist")  # doctest: +SKIP
        >>> gan.fit("mnist", callbacks=[PeriodicEval(real, extractor, 500)])  # doctest: +SKIP
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
