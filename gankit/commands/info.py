"""``gankit info``: what a model directory holds and what its inference accepts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# describe() entries the first line already shows.
_SHOWN = ("task", "preset")


def run(args: argparse.Namespace) -> None:
    """Print the config, the latest checkpoint, the metrics and the model's ``describe()``."""
    from gankit.io import read_config, read_json
    from gankit.tasks import load
    from gankit.train.state import latest_checkpoint

    config = read_config(args.model)
    print(
        f"{args.model}: task {config['task']}, preset {config['preset']}, arch {config['arch']}, "
        f"gankit {config['gankit_version']}"
    )
    print(
        f"data: {config['data'].get('name')} ({config['data'].get('size')} samples) from "
        f"{config['data'].get('source')}"
    )
    print("model: " + ", ".join(f"{k}={v}" for k, v in config["model"].items()))
    print("train: " + ", ".join(f"{k}={v}" for k, v in config["train"].items()))
    checkpoint = latest_checkpoint(Path(args.model))
    print(f"latest checkpoint: {checkpoint.name if checkpoint else 'none'}")
    metrics = Path(args.model) / "metrics.json"
    if metrics.is_file():
        print("metrics: " + json.dumps(read_json(metrics)))
    described = load(args.model).describe()
    for key, value in described.items():
        if key not in _SHOWN:
            print(f"{key}: {json.dumps(value)}")


def add_parser(sub: Any) -> None:
    """Add ``gankit info`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "info",
        help="describe a model directory",
        description="Print a model directory's config, latest checkpoint and metrics, and what "
        "its inference accepts (gankit sample or apply; its condition, classes, columns, "
        "directions, scale, output).",
    )
    parser.add_argument("model", help="model directory")
    parser.set_defaults(func=run)
