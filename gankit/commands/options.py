"""Options more than one verb shares: ``--set``, the training options, loading a model directory.

Training options come from :class:`~gankit.train.TrainConfig`'s field metadata (help, choices and
flag are written there once), so every training verb offers every field.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import Field, fields
from typing import Any

from gankit.errors import GankitError
from gankit.tasks.base import GANTask, Generator, Translator
from gankit.train import TrainConfig

MODEL_PREFIX = "model."
# Field types that make a plain ``--flag VALUE`` option (bool fields get --flag/--no-flag).
_FLAG_TYPES = {"int": (int, "N"), "float": (float, "X"), "str": (str, "TEXT")}


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """The repeatable ``--set KEY=VALUE`` that reaches any training or architecture setting."""
    unflagged = ", ".join(spec.name for spec in fields(TrainConfig) if _flag(spec) is None)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"any training option (e.g. ema_beta=0.9999; the ones without a flag: {unflagged}) "
        "or architecture setting model.KEY=VALUE (e.g. model.g_width=32); values are JSON "
        "when they parse as JSON, else text",
    )


def parse_set(items: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--set`` pairs split into (training options, ``model.`` architecture settings).

    Values are read as JSON when they parse, else kept as strings.

    Example:
        >>> parse_set(["lr_g=1e-4", "model.g_width=8", "augment=color"])
        ({'lr_g': 0.0001, 'augment': 'color'}, {'g_width': 8})
    """
    train: dict[str, Any] = {}
    model: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise GankitError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if key.startswith(MODEL_PREFIX):
            model[key[len(MODEL_PREFIX) :]] = value
        else:
            train[key] = value
    return train, model


def _flag(spec: Field) -> str | None:
    """The command-line flag of a TrainConfig field (None: reachable through ``--set`` only)."""
    return spec.metadata.get("flag", "--" + spec.name.replace("_", "-"))


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`TrainConfig` field that has a flag, plus ``--set``."""
    group = parser.add_argument_group(
        "training options", "default: the preset's value (see `gankit presets`)"
    )
    for spec in fields(TrainConfig):
        flag = _flag(spec)
        if flag is None:
            continue
        text = spec.metadata["help"]
        if "choices" in spec.metadata:
            text += f" (one of {', '.join(spec.metadata['choices'])})"
        if spec.type == "bool":
            group.add_argument(
                flag, dest=spec.name, action=argparse.BooleanOptionalAction, default=None, help=text
            )
        else:
            kind, metavar = _FLAG_TYPES[str(spec.type)]
            group.add_argument(
                flag, dest=spec.name, type=kind, metavar=metavar, default=None, help=text
            )
    add_set_option(group)


def training_overrides(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training options, architecture settings) the user gave: flags and ``--set`` together."""
    train, model = parse_set(args.set)
    for spec in fields(TrainConfig):
        value = getattr(args, spec.name, None)
        if value is not None:
            train[spec.name] = value
    return train, model


def verb_for(model: GANTask) -> str:
    """The verb that uses ``model``: ``sample`` for a generator, ``apply`` for a translator."""
    return _SHAPES[_shape(model)][0]


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    """``--backend``: run a model directory on torch, or an exported .onnx file on onnxruntime."""
    parser.add_argument(
        "--backend",
        choices=("torch", "onnxruntime"),
        default="torch",
        help="torch (a model directory, default) or onnxruntime (a .onnx file written by "
        "`gankit export`; same seed, same samples)",
    )


def load_model(path: str, shape: type[GANTask], verb: str, backend: str = "torch") -> Any:
    """Load ``path`` on ``backend`` and check it has the inference shape ``verb`` serves.

    ``shape`` is :class:`Generator` (``gankit sample``) or :class:`Translator` (``gankit apply``);
    a model of the other shape gets an error naming the verb that serves it. ``backend``
    "onnxruntime" reads an exported .onnx file (:func:`gankit.export.open_model`).
    """
    # Imported here, not at the top: `gankit --help` need not load the exporter. onnx and
    # onnxruntime themselves load only for the onnxruntime backend.
    from gankit.export import open_model

    model = open_model(path, backend)
    if not isinstance(model, shape):
        raise GankitError(
            f"{path} holds a {model.task!r} model, a {_SHAPES[_shape(model)][1]}: use "
            f"`gankit {verb_for(model)} {path} ...` (`gankit {verb}` is for {_SHAPES[shape][1]}s)"
        )
    return model


# The verb that serves each inference shape, and the shape's name.
_SHAPES = {Generator: ("sample", "generator"), Translator: ("apply", "translator")}


def _shape(model: GANTask) -> type[GANTask]:
    return Translator if isinstance(model, Translator) else Generator
