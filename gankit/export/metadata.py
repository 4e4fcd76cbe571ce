"""The facts an exported file carries in its ONNX ``metadata_props`` (all strings).

A reader in any language finds there what it needs to use the file without gankit: the inputs
and what they mean, the output's range and post-processing, the latent size; and, for gankit's own
runner, the model's ``config.json`` and the extra files beside the export.

Example:
    >>> props = as_props({KEYS.task: "images", KEYS.describe: {"classes": []}})
    >>> props[KEYS.describe]
    '{"classes": []}'
    >>> read_facts(props, "g.onnx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gankit.errors.GankitError: g.onnx is not a gankit export (its metadata lacks gankit.version, ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gankit.errors import GankitError


@dataclass(frozen=True)
class _Keys:
    """The metadata keys gankit writes, each with the ``gankit.`` prefix."""

    version: str = "gankit.version"
    task: str = "gankit.task"
    preset: str = "gankit.preset"
    inference: str = "gankit.inference"  # "generate" or "apply"
    direction: str = "gankit.direction"  # translators: the direction this file maps
    weights: str = "gankit.weights"  # "G_ema" or "G"
    weights_sha256: str = "gankit.weights_sha256"  # of the source .safetensors file
    latent_dim: str = "gankit.latent_dim"
    value_range: str = "gankit.value_range"
    postprocess: str = "gankit.postprocess"
    inputs: str = "gankit.inputs"  # JSON: input name -> meaning, output -> range
    call: str = "gankit.call"  # JSON: the network's positional args -> input names (null: z)
    describe: str = "gankit.describe"  # JSON: the model's describe()
    config: str = "gankit.config"  # JSON: the model's config.json
    extras: str = "gankit.extras"  # JSON: task file name -> file beside the export
    exporter: str = "gankit.exporter"  # "dynamo" or "torchscript"
    quantized: str = "gankit.quantized"  # absent, or how the weights were quantized


KEYS = _Keys()
_REQUIRED = (KEYS.version, KEYS.task, KEYS.inference, KEYS.call, KEYS.config)


def as_props(facts: dict[str, Any]) -> dict[str, str]:
    """``facts`` as ONNX metadata strings: dicts and lists as JSON, the rest as ``str``."""
    return {
        key: json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
        for key, value in facts.items()
    }


def read_facts(props: dict[str, str], source: str) -> dict[str, str]:
    """The gankit entries of a file's metadata; a file gankit did not write is refused."""
    missing = [key for key in _REQUIRED if key not in props]
    if missing:
        raise GankitError(
            f"{source} is not a gankit export (its metadata lacks {', '.join(missing)}); "
            "export the model with `gankit export MODEL_DIR --format onnx -o FILE`"
        )
    return {key: value for key, value in props.items() if key.startswith("gankit.")}


def json_fact(facts: dict[str, str], key: str) -> Any:
    """A JSON-valued entry of :func:`read_facts`' result."""
    return json.loads(facts[key]) if key in facts else None
