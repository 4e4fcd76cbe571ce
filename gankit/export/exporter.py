"""``to_onnx``: write any gankit model's inference network as a checked ONNX file.

What the file is (docs/export.md has the full account):

- opset 18 by default (17 to what the installed onnx writes), standard operators only, checked
  with ``onnx.checker.check_model(full_check=True)``;
- a copy of the network in eval mode (batch norm uses its running statistics, dropout is off),
  with every parametrisation (spectral norm) baked into plain weights;
- dynamic batch; translators also dynamic height and width;
- ``metadata_props`` naming the gankit version, task, preset, the source weights' sha256, the
  latent size, the output's range and what each input means (:mod:`gankit.export.metadata`);
- a model with several directions (CycleGAN) gives one file per direction, ``NAME-AB.onnx``
  and ``NAME-BA.onnx``, unless ``direction`` picks one; files the task saves beside its weights
  (the tabular ``transformer.json``) are written beside the export as ``NAME.<file>``.

The exporter is torch's ``dynamo`` one (``torch.export``): it is the one that exported every
gankit family with parity; the TorchScript-based one (``exporter="torchscript"``) fails on three
of them (docs/export.md says which and why).

Example:
    >>> paths = to_onnx(image_model, tmp / "digits.onnx")
    >>> [path.name for path in paths]
    ['digits.onnx']
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes
from torch import nn
from torch.nn.utils import parametrize

from gankit._version import __version__
from gankit.errors import GankitError
from gankit.export.metadata import KEYS, as_props
from gankit.export.spec import ExportGraph, ExportSpec, export_spec
from gankit.io import atomic_write_bytes, file_sha256
from gankit.tasks import GANTask, Generator, load

DEFAULT_OPSET = 18
MIN_OPSET = 17  # the oldest opset the parity tests cover
EXPORTERS = ("dynamo", "torchscript")
FORMATS = ("onnx",)
_STANDARD_DOMAINS = ("", "ai.onnx")


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise GankitError(
            "ONNX export needs the onnx package: pip install 'gankit[export]'"
        ) from None
    return onnx


def check_opset(opset: object) -> int:
    """``opset`` if gankit exports to it and the installed onnx can write it; else a GankitError."""
    newest = _onnx().defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise GankitError(
            f"opset must be an integer from {MIN_OPSET} to {newest} (the newest the installed "
            f"onnx {_onnx().__version__} writes), got {opset!r}; pass --opset {DEFAULT_OPSET} "
            "or upgrade onnx for a newer one"
        )
    return opset


def _model(model: GANTask | str | os.PathLike, ema: bool) -> tuple[GANTask, Path | None]:
    """The task object to export and the directory it came from (None: a model in memory)."""
    if isinstance(model, GANTask):
        return model, None
    if not isinstance(model, str | os.PathLike):
        raise GankitError(
            f"to_onnx takes a gankit model or a model directory, got {type(model).__name__}"
        )
    folder = Path(model)
    weights = folder / f"{'G_ema' if ema else 'G'}.safetensors"
    if not weights.is_file():
        raise GankitError(
            f"{folder} holds no {weights.name}: export needs a trained model directory "
            "(config.json + weights, as `gankit train --out` writes); train the model first or "
            "pass its run folder"
        )
    return load(folder), folder


def weights_sha256(gan: GANTask, folder: Path | None, ema: bool) -> str:
    """sha256 of the weights file the exported network comes from (G_ema or G.safetensors).

    A model in memory is hashed as :meth:`GANTask.save` would write it, so the hash is the same
    before and after a save.
    """
    name = "G_ema" if ema else "G"
    if folder is not None:
        return file_sha256(folder / f"{name}.safetensors")
    module = (gan.G_ema or gan.G) if ema else gan.G
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    return hashlib.sha256(safetensors_bytes(tensors)).hexdigest()


def inference_copy(network: nn.Module) -> nn.Module:
    """A copy of ``network`` in eval mode with its parametrisations baked into plain weights.

    Spectral norm divides a weight by its largest singular value, estimated by a power
    iteration that tracing cannot follow; baked in eval mode, the exported weight is the one
    eval inference uses (the stored estimate, no further iteration).

    Example:
        >>> from gankit.nn.layers import sn
        >>> layer = sn(nn.Linear(4, 4)).eval()
        >>> baked = inference_copy(layer)
        >>> parametrize.is_parametrized(baked), torch.equal(baked.weight, layer.weight)
        (False, True)
        >>> parametrize.is_parametrized(layer)  # the original keeps its spectral norm
        True
    """
    baked = copy.deepcopy(network).eval().requires_grad_(False)
    for module in baked.modules():
        if parametrize.is_parametrized(module):
            # parametrize puts the weight property on a class made for the module, which the
            # deep copy shares with the original: removing it there would strip the original too.
            shared = type(module)
            module.__class__ = type(shared.__name__, shared.__bases__, dict(shared.__dict__))
            for name in list(module.parametrizations):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    return baked


def _trace(spec: ExportSpec, opset: int, exporter: str) -> Any:
    """The ONNX ModelProto of ``spec``'s network, from torch's ``exporter``."""
    graph = ExportGraph(inference_copy(spec.network), spec.call).eval()
    with torch.no_grad():
        if exporter == "dynamo":
            dims = tuple(
                {axis: torch.export.Dim.DYNAMIC for axis in spec.dynamic[name]}
                for name in spec.inputs
            )
            program = torch.onnx.export(
                graph,
                spec.example,
                input_names=list(spec.inputs),
                output_names=[spec.output],
                opset_version=opset,
                dynamo=True,
                dynamic_shapes={"inputs": dims},  # ExportGraph.forward(*inputs)
                optimize=True,
                verify=False,
                report=False,
                verbose=False,
            )
            return program.model_proto
        with tempfile.TemporaryDirectory() as folder:  # it writes a file; ours is written last
            traced = Path(folder) / "graph.onnx"
            torch.onnx.export(
                graph,
                spec.example,
                str(traced),
                input_names=list(spec.inputs),
                output_names=[spec.output],
                opset_version=opset,
                dynamo=False,
                dynamic_axes={**spec.dynamic, spec.output: {0: "batch"}},
            )
            return _onnx().load(str(traced))


def _name_dimensions(proto: Any, spec: ExportSpec) -> None:
    """Replace the exporter's symbols (``s21``) by the axis names of ``spec.dynamic``."""
    names: dict[str, str] = {}
    for value in proto.graph.input:
        for axis, name in spec.dynamic.get(value.name, {}).items():
            symbol = value.type.tensor_type.shape.dim[axis].dim_param
            if symbol:
                names.setdefault(symbol, name)
    if not names:
        return
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    for value in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param:
                dim.dim_param = pattern.sub(lambda m: names[m.group(1)], dim.dim_param)


def _annotate(proto: Any, spec: ExportSpec, facts: dict[str, Any]) -> None:
    """Input doc strings and gankit's metadata_props (replacing any of the same key)."""
    for value in proto.graph.input:
        value.doc_string = spec.meanings[value.name]
    for value in proto.graph.output:
        value.doc_string = f"{spec.value_range}; post-processing: {spec.postprocess}"
    props = as_props(facts)
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in props]
    del proto.metadata_props[:]
    for key, value in [*kept, *props.items()]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = f"gankit {facts[KEYS.task]} model ({facts[KEYS.preset]}): docs/export.md"


def check_standard(proto: Any, what: str) -> None:
    """Refuse a graph with operators outside the standard ONNX domain (custom ops)."""
    onnx = _onnx()
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        reason = str(err).strip().splitlines()[0]
        raise GankitError(f"{what}: the exported graph fails onnx's full check ({reason})") from err
    custom = sorted(
        {node.domain for node in proto.graph.node if node.domain not in _STANDARD_DOMAINS}
        | {function.domain for function in proto.functions}
    )
    if custom:
        raise GankitError(f"{what}: the exported graph uses non-standard operators {custom}")


def _write_extras(gan: GANTask, path: Path) -> dict[str, str]:
    """The task's extra files (``save_extras``) beside ``path`` as ``NAME.<file>``; their names."""
    written = {}
    with tempfile.TemporaryDirectory() as folder:
        gan.save_extras(Path(folder))
        for file in sorted(Path(folder).iterdir()):
            beside = path.with_name(f"{path.stem}.{file.name}")
            atomic_write_bytes(beside, file.read_bytes())
            written[file.name] = beside.name
    return written


def to_onnx(
    model: GANTask | str | os.PathLike,
    path: str | os.PathLike,
    *,
    opset: int = DEFAULT_OPSET,
    ema: bool = True,
    direction: str | None = None,
    exporter: str = "dynamo",
) -> list[Path]:
    """Export ``model`` (a trained gankit model or its directory) to ONNX at ``path``.

    Returns the .onnx files written: ``[path]``, or for a model with several directions and
    ``direction=None`` one per direction (``NAME-AB.onnx``, ``NAME-BA.onnx``). ``ema=False``
    exports the raw G instead of G_ema; ``exporter="torchscript"`` tries torch's older exporter.
    """
    if exporter not in EXPORTERS:
        raise GankitError(f"unknown exporter {exporter!r}; valid: {', '.join(EXPORTERS)}")
    opset = check_opset(opset)
    path = Path(path)
    if path.suffix != ".onnx":
        raise GankitError(f"{path}: name the ONNX file *.onnx")
    gan, folder = _model(model, ema)
    gan.network(direction=direction, ema=ema)  # untrained or a wrong direction: refused now
    if direction is None and not isinstance(gan, Generator) and len(gan.directions) > 1:
        targets = {d: path.with_name(f"{path.stem}-{d}{path.suffix}") for d in gan.directions}
    else:
        targets = {direction: path}
    described = gan.describe()
    facts = {
        KEYS.version: __version__,
        KEYS.task: gan.task,
        KEYS.preset: gan.preset.name,
        KEYS.inference: gan.inference,
        KEYS.weights: "G_ema" if ema else "G",
        KEYS.weights_sha256: weights_sha256(gan, folder, ema),
        KEYS.describe: described,
        KEYS.config: gan.config_dict(),
        KEYS.extras: _write_extras(gan, path),
        KEYS.exporter: exporter,
    }
    for wanted, target in targets.items():
        spec = export_spec(gan, direction=wanted, ema=ema)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            proto = _trace(spec, opset, exporter)
        except Exception as err:  # the exporters raise many types; the first line says why
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise GankitError(
                f"the {exporter} exporter failed on this {gan.task} model ({reason}); "
                "the default exporter 'dynamo' exports every gankit model"
            ) from err
        _name_dimensions(proto, spec)
        _annotate(
            proto,
            spec,
            {
                **facts,
                KEYS.direction: spec.direction or "",
                KEYS.latent_dim: getattr(spec.network, "latent_dim", 0),
                KEYS.value_range: spec.value_range,
                KEYS.postprocess: spec.postprocess,
                KEYS.inputs: spec.describe_io(),
                KEYS.call: list(spec.call),
            },
        )
        check_standard(proto, str(target))
        atomic_write_bytes(target, proto.SerializeToString())
    return list(targets.values())


def export(
    model: GANTask | str | os.PathLike, path: str | os.PathLike, *, format: str = "onnx", **options
) -> list[Path]:
    """Export ``model`` in ``format`` (``"onnx"``: :func:`to_onnx` with ``options``)."""
    if format not in FORMATS:
        raise GankitError(f"unknown export format {format!r}; valid formats: {', '.join(FORMATS)}")
    return to_onnx(model, path, **options)
