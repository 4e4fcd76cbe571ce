"""What one exported file holds: the network, its ONNX inputs and what each of them means.

An :class:`ExportSpec` is read off a model through the task contract (``network``,
``condition_kind``, ``describe``), never from its task name:

- a **generator** is exported as ``G(z)`` or ``G(z, condition)``: the example inputs are the ones
  ``generate_raw`` itself hands the network (recorded with a hook), so the graph takes exactly what
  the task feeds G: class indices, sentence embeddings, tabular one-hot conditions;
- a **translator** as ``G(images)``: the empty latent of ``G(z_empty, images)`` is made inside the
  graph, and height and width stay dynamic (every gankit translator is fully convolutional).

Example:
    >>> spec = export_spec(load(image_model))  # a class-conditional 16-px ImageGAN
    >>> spec.inputs, spec.call
    (('z', 'condition'), ('z', 'condition'))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.tasks import GANTask, Generator, Translator

# Samples per example input: more than one, so torch.export does not specialise the batch to 1.
_EXAMPLE_BATCH = 2

LATENT = "z"
CONDITION = "condition"
IMAGES = "images"
SAMPLES = "samples"
OUTPUTS = "outputs"

_UINT8 = "uint8 = round((clamp(x, -1, 1) + 1) * 127.5)"
_CONDITION_MEANING = {
    "class": "int64 (B,): class index 0..K-1, in the order of gankit.describe's classes",
    "text": "float32 (B, D): the sentence embedding of the recorded encoder "
    "(gankit.describe: encoder), one row per sample",
    "columns": "float32 (B, C): the training-by-sampling condition, one-hot slots of discrete "
    "column values in the layout of the .transformer.json beside this file (zeros: none)",
}
# describe()["output"] -> (value range, post-processing) of the network's output.
_OUTPUTS = {
    "images": ("[-1, 1] (a super-resolution output may overshoot: clamp)", _UINT8),
    "points": ("unbounded: 2-D points in the data's own units", "none"),
    "table": (
        "encoded rows: tanh spans in [-1, 1], softmax spans probabilities in [0, 1]",
        "draw a one-hot per softmax span, then decode with the .transformer.json beside this file "
        "(docs/export.md)",
    ),
}


@dataclass(frozen=True)
class ExportSpec:
    """One network to export and the meaning of its inputs.

    ``call`` maps the network's positional arguments to ONNX input names; None is the empty
    ``(B, 0)`` latent a translator's network takes and the graph makes itself. ``dynamic`` names
    the free axes of each input.
    """

    network: nn.Module
    example: tuple[Tensor, ...]
    inputs: tuple[str, ...]
    call: tuple[str | None, ...]
    dynamic: dict[str, dict[int, str]]
    meanings: dict[str, str]
    output: str
    value_range: str
    postprocess: str
    direction: str | None

    def describe_io(self) -> str:
        """Inputs and output with their meanings, as JSON (the file's ``gankit.inputs``)."""
        return json.dumps({"inputs": self.meanings, "output": {self.output: self.value_range}})


class ExportGraph(nn.Module):
    """The traced module: ONNX inputs in, ``network(*call)`` out.

    Example:
        >>> G = nn.Linear(3, 2)
        >>> graph = ExportGraph(lambda z: G(z), ("z",))
        >>> graph(torch.zeros(4, 3)).shape
        torch.Size([4, 2])
    """

    def __init__(self, network: Any, call: tuple[str | None, ...]) -> None:
        super().__init__()
        self.network = network
        self.call = call

    def forward(self, *inputs: Tensor) -> Tensor:
        named = dict(zip([name for name in self.call if name is not None], inputs, strict=True))
        batch = inputs[0].shape[0]
        args = [
            inputs[0].new_zeros(batch, 0) if name is None else named[name] for name in self.call
        ]
        return self.network(*args)


def _output_facts(output: str) -> tuple[str, str]:
    """(value range, post-processing) of a network whose describe() says ``output``."""
    if output not in _OUTPUTS:
        raise GankitError(
            f"export does not know how to describe {output!r} outputs; known: {', '.join(_OUTPUTS)}"
        )
    return _OUTPUTS[output]


def _recorded_call(gan: Generator, network: nn.Module, ema: bool) -> tuple[Tensor, ...]:
    """The positional arguments ``generate_raw`` passes ``network`` (its first call)."""
    seen: list[tuple[Tensor, ...]] = []

    def record(module: nn.Module, args: tuple[Any, ...]) -> None:
        if not seen:
            seen.append(tuple(arg for arg in args if arg is not None))

    handle = network.register_forward_pre_hook(record)
    try:
        gan.generate_raw(_EXAMPLE_BATCH, seed=0, ema=ema)
    finally:
        handle.remove()
    return tuple(arg.detach().cpu() for arg in seen[0])


def export_spec(gan: GANTask, *, direction: str | None = None, ema: bool = True) -> ExportSpec:
    """The :class:`ExportSpec` of ``gan``'s inference network (``direction``: translators)."""
    network = gan.network(direction=direction, ema=ema)
    described = gan.describe()
    if isinstance(gan, Generator):
        example = _recorded_call(gan, network, ema)
        inputs = (LATENT, CONDITION)[: len(example)]
        meanings = {
            LATENT: f"float32 (B, {network.latent_dim}): the latent; gankit draws it with "
            "torch.randn on a CPU torch.Generator seeded with the seed (docs/export.md)"
        }
        if len(example) > 1:
            meanings[CONDITION] = _CONDITION_MEANING[gan.condition_kind]
        value_range, postprocess = _output_facts(described["output"])
        return ExportSpec(
            network=network,
            example=example,
            inputs=inputs,
            call=inputs,
            dynamic={name: {0: "batch"} for name in inputs},
            meanings=meanings,
            output=SAMPLES,
            value_range=value_range,
            postprocess=postprocess,
            direction=None,
        )
    if not isinstance(gan, Translator):
        raise GankitError(f"{type(gan).__name__} is neither a Generator nor a Translator")
    direction = gan.check_direction(direction)
    channels = gan.input_channels(direction)
    side = described.get("resolution") or 16  # a size every translator of the model accepts
    example = (torch.rand(_EXAMPLE_BATCH, channels, side, side) * 2 - 1,)
    return ExportSpec(
        network=network,
        example=example,
        inputs=(IMAGES,),
        call=(None, IMAGES),
        dynamic={IMAGES: {0: "batch", 2: "height", 3: "width"}},
        meanings={
            IMAGES: f"float32 (B, {channels}, H, W) in [-1, 1]: uint8 pixels / 127.5 - 1 "
            f"(direction {direction})"
        },
        output=OUTPUTS,
        value_range=_output_facts("images")[0],
        postprocess=_UINT8,
        direction=direction,
    )
