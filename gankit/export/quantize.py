"""A smaller, faster-on-CPU copy of an export: weights quantized to int8 (onnxruntime dynamic).

Dynamic quantization stores the weights of matrix products and convolutions as 8-bit integers
and quantizes each activation on the fly from its own range. The output moves off the float
model's by far more than the float export's 1e-4: docs/BENCHMARKS.md records the measured error
and speed per family, so use it where that error is acceptable.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from gankit.errors import GankitError
from gankit.export.exporter import _onnx
from gankit.export.metadata import KEYS
from gankit.export.runtime import session
from gankit.io import atomic_write_bytes

INT8 = "int8-dynamic"


def quantize_int8(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Write ``source``'s int8 dynamically quantized copy to ``target``, metadata kept.

    The extra files beside ``source`` (``NAME.transformer.json``) keep their names: write
    ``target`` into the same folder, or copy them along.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = Path(source), Path(target)
    session(source)  # a clear error for a missing or unreadable file
    onnx = _onnx()
    original = onnx.load(str(source))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # onnxruntime's advice to pre-process the graph: not for users
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QUInt8)
    except Exception as err:
        raise GankitError(f"onnxruntime could not quantize {source} ({err})") from err
    finally:
        root.setLevel(level)
    quantized = onnx.load(str(target))
    del quantized.metadata_props[:]
    for prop in original.metadata_props:
        entry = quantized.metadata_props.add()
        entry.key, entry.value = prop.key, prop.value
    entry = quantized.metadata_props.add()
    entry.key, entry.value = KEYS.quantized, INT8
    atomic_write_bytes(target, quantized.SerializeToString())
    return target
