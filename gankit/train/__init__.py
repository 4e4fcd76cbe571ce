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
from gankit.train.engine import (
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
    resolve_device,
    state_tensors,
)
from gankit.train.health import ALARMS, HealthConfig, HealthMonitor
from gankit.train.objective import Objective, Players

__all__ = [
    "ALARMS",
    "Callback",
    "HealthConfig",
    "HealthMonitor",
    "JsonlStats",
    "LossPlot",
    "Objective",
    "Players",
    "ProgressBar",
    "SampleGrid",
    "TensorBoard",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "resolve_device",
    "state_tensors",
]
