"""``gankit export``: write a trained model's generator as an ONNX file (docs/export.md).

gankit export runs/digits --format onnx -o digits.onnx
gankit export runs/zebra -o zebra.onnx                 # CycleGAN: zebra-AB.onnx, zebra-BA.onnx
gankit export runs/zebra -o ab.onnx --direction AB     # one direction
gankit export runs/adult -o adult.onnx                 # also adult.transformer.json beside it
gankit export runs/sr -o sr.onnx --int8                # also sr.int8.onnx (int8 weights)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gankit.export import DEFAULT_OPSET, FORMATS, export, quantize_int8


def export_model(
    model: str | os.PathLike,
    output: str | os.PathLike,
    *,
    format: str = "onnx",
    opset: int = DEFAULT_OPSET,
    ema: bool = True,
    direction: str | None = None,
    int8: bool = False,
) -> list[Path]:
    """What ``gankit export`` does: the files written (with ``int8``, each ``NAME.int8.onnx`` too).

    Example:
        >>> [p.name for p in export_model(toy_model, tmp / "ring.onnx", int8=True)]
        ['ring.onnx', 'ring.int8.onnx']
    """
    paths = export(model, output, format=format, opset=opset, ema=ema, direction=direction)
    if int8:
        paths += [quantize_int8(path, path.with_suffix(".int8.onnx")) for path in list(paths)]
    return paths


def _run(args: argparse.Namespace) -> None:
    paths = export_model(
        args.model,
        args.output,
        format=args.format,
        opset=args.opset,
        ema=not args.no_ema,
        direction=args.direction,
        int8=args.int8,
    )
    for path in paths:
        print(f"wrote {path}")
    print(f"run it: gankit sample {paths[0]} --backend onnxruntime (see docs/export.md)")


def add_parser(sub: Any) -> None:
    """Add ``gankit export`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "export",
        help="write a model's generator as an ONNX file",
        description="`gankit export MODEL_DIR --format onnx -o model.onnx` writes the model's "
        "generator (G_ema) as a checked ONNX file with dynamic batch (translators: dynamic "
        "height and width) and metadata saying what each input means; docs/export.md.",
    )
    parser.add_argument("model", help="model directory (config.json + weights)")
    parser.add_argument(
        "--format", default="onnx", help=f"file format: {', '.join(FORMATS)} (default onnx)"
    )
    parser.add_argument("-o", "--output", required=True, help="file to write, e.g. model.onnx")
    parser.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})"
    )
    parser.add_argument("--no-ema", action="store_true", help="export the raw G, not its EMA")
    parser.add_argument(
        "--direction",
        default=None,
        help="translators with several directions (CycleGAN): AB or BA; default: one file each",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="also write NAME.int8.onnx with int8 weights (smaller; error in docs/BENCHMARKS.md)",
    )
    parser.set_defaults(func=_run)
