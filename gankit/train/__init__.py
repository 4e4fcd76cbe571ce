"""The training engine: one adversarial loop, EMA, checkpoints and callbacks."""

from gankit.train.callbacks import (
    Callback,
    JsonlStats,
    LossPlot,
    ProgressBar,
    SampleGrid,
    TensorBoard,
)
from gankit.train.config import TrainConfig
from gankit.train.engine import Trainer, TrainingInterrupted, resolve_device, state_tensors

__all__ = [
    "Callback",
    "JsonlStats",
    "LossPlot",
    "ProgressBar",
    "SampleGrid",
    "TensorBoard",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "resolve_device",
    "state_tensors",
]
