"""ONNX export of any gankit model's inference network, and onnxruntime inference of the file.

- :func:`to_onnx` writes the network (``G_ema`` by default) as a checked, standard-operator ONNX
  file with dynamic batch (translators: dynamic height and width too) and metadata that says
  what every input means (docs/export.md);
- :func:`load_onnx` / :func:`generate_with_onnx` / :func:`apply_with_onnx` run such a file with
  onnxruntime and give what ``generate`` / ``apply`` give in torch, seed for seed;
- :func:`quantize_int8` writes a smaller, dynamically quantized copy (int8 weights).

A layer above :mod:`gankit.tasks`: it works on any model through the task contract.

Example:
    >>> path = to_onnx(toy_model, tmp / "ring.onnx")[0]
    >>> load_onnx(path).generate(3, seed=1).shape
    torch.Size([3, 2])
"""

from gankit.export.exporter import DEFAULT_OPSET, EXPORTERS, FORMATS, export, to_onnx
from gankit.export.quantize import quantize_int8
from gankit.export.runtime import (
    BACKENDS,
    OnnxNetwork,
    apply_with_onnx,
    generate_with_onnx,
    load_onnx,
    open_model,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_OPSET",
    "EXPORTERS",
    "FORMATS",
    "OnnxNetwork",
    "apply_with_onnx",
    "export",
    "generate_with_onnx",
    "load_onnx",
    "open_model",
    "quantize_int8",
    "to_onnx",
]
