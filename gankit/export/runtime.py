"""Run an exported file with onnxruntime and get what ``generate`` / ``apply`` give in torch.

:func:`load_onnx` rebuilds the gankit model object from the file's metadata (its config.json)
and puts an :class:`OnnxNetwork`, an onnxruntime session with the network's call signature, where
the network was. Everything around the network then runs gankit's own code: latents drawn from
``torch.Generator().manual_seed(seed)`` on CPU, class names and sentences turned into the
condition input, the tabular draws and decoding, super-resolution tiles, the uint8 conversion.
So the same seed gives the same latents as the torch path, and the outputs agree to the
network's float error (``tests/export`` checks 64 seeds per family).

torch is still imported, for its RNG (torch's Mersenne Twister and Box-Muller are what the seeds
mean); no torch network runs. docs/export.md says what a program without torch must do.

Example:
    >>> from gankit.export import to_onnx
    >>> path = to_onnx(image_model, tmp / "digits.onnx")[0]
    >>> images = generate_with_onnx(path, 4, seed=0, condition=7)
    >>> torch.equal(images, load(image_model).generate(4, seed=0, condition=7))
    True
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.export.metadata import KEYS, json_fact, read_facts
from gankit.tasks import GANTask, Generator, Translator, load, task_class


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise GankitError(
            "running an ONNX export needs onnxruntime: pip install 'gankit[export]'"
        ) from None
    return onnxruntime


def session(path: str | os.PathLike, threads: int | None = None) -> Any:
    """An onnxruntime CPU session for ``path`` (``threads``: intra-op threads, None: all cores)."""
    ort = _onnxruntime()
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"ONNX file {path} not found; export one with `gankit export`")
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own types for unreadable files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GankitError(f"onnxruntime cannot load {path} ({reason})") from None


class OnnxNetwork(nn.Module):
    """An onnxruntime session called like the gankit network it was exported from.

    ``call`` maps the network's positional arguments to the session's inputs (None: an argument
    the graph makes itself, a translator's empty latent). Attributes other than the forward pass
    (``latent_dim``, the tabular ``choose``, ``buckets``) come from ``template``, an untrained
    network of the same architecture whose weights are never used.
    """

    def __init__(self, session: Any, call: tuple[str | None, ...], template: nn.Module) -> None:
        super().__init__()
        self.session = session
        self.call = call
        object.__setattr__(self, "_template", template)  # not a submodule: not its weights
        # gankit's inference code finds a network's device through its parameters: the CPU.
        self.anchor = nn.Parameter(torch.empty(0), requires_grad=False)

    def forward(self, *args: Tensor | None) -> Tensor:
        feeds = {
            name: np.ascontiguousarray(arg.detach().cpu().numpy())
            for name, arg in zip(self.call, args, strict=False)
            if name is not None and arg is not None
        }
        (output,) = self.session.run(None, feeds)
        return torch.from_numpy(output)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_template"], name)


def _load_extras(gan: GANTask, path: Path, extras: dict[str, str]) -> None:
    """Hand the files written beside the export back to the task under their own names."""
    with tempfile.TemporaryDirectory() as folder:
        for name, beside in extras.items():
            source = path.with_name(beside)
            if not source.is_file():
                raise GankitError(
                    f"{path} needs {source.name} beside it (the model's {name}); copy it along "
                    "with the .onnx file"
                )
            shutil.copyfile(source, Path(folder) / name)
        gan.load_extras(Path(folder))


def _install(gan: GANTask, template: nn.Module, network: OnnxNetwork) -> None:
    """Put ``network`` where ``template`` sits in ``gan``'s G, and use that G for G_ema too."""
    if template is gan.G:
        gan.G = network
    else:  # one direction of a translator holding several (CycleGAN's G_AB)
        name = next(name for name, module in gan.G.named_modules() if module is template)
        parent, _, attribute = name.rpartition(".")
        setattr(gan.G.get_submodule(parent), attribute, network)
    gan.G_ema = gan.G


def load_onnx(path: str | os.PathLike, *, threads: int | None = None) -> GANTask:
    """The gankit model of an exported file, its network run by onnxruntime.

    The result is the task's own object (an ``ImageGAN``, ``Pix2Pix``, ...): ``generate`` /
    ``apply`` take the same arguments and give the same outputs as the torch model. A file of one
    direction (``NAME-AB.onnx``) translates that direction only. ``ema`` makes no difference:
    the file holds the one network it was exported from.
    """
    path = Path(path)
    runner = session(path, threads)
    facts = read_facts(runner.get_modelmeta().custom_metadata_map, str(path))
    config = json_fact(facts, KEYS.config)
    cls = task_class(config, path)
    with torch.random.fork_rng(devices=[]):  # the build seeds torch: leave the caller's RNG
        gan = cls.from_config(config)
    _load_extras(gan, path, json_fact(facts, KEYS.extras) or {})
    direction = facts.get(KEYS.direction) or None
    template = gan.network(direction=direction, ema=False)
    _install(gan, template, OnnxNetwork(runner, tuple(json_fact(facts, KEYS.call)), template))
    if isinstance(gan, Translator) and direction is not None:
        gan.directions = (direction,)  # the other direction's network is not in this file
    return gan


BACKENDS = ("torch", "onnxruntime")


def open_model(path: str | os.PathLike, backend: str = "torch") -> GANTask:
    """A model to run: a model directory on torch, or an exported .onnx file on onnxruntime.

    What ``gankit sample --backend`` (and a server's backend option) call; the object returned
    has the same ``generate`` / ``apply`` either way.
    """
    if backend not in BACKENDS:
        raise GankitError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    if backend == "torch":
        if Path(path).suffix == ".onnx":
            raise GankitError(f"{path} is an ONNX file: run it with --backend onnxruntime")
        return load(path)
    return load_onnx(path)


def generate_with_onnx(
    path: str | os.PathLike,
    n: int,
    *,
    seed: int = 0,
    condition: Any = None,
    truncation: float | None = None,
    threads: int | None = None,
    **options: Any,
) -> Any:
    """``generate(n, seed=, condition=, truncation=)`` of an exported generator, on onnxruntime.

    What ``gankit sample --backend onnxruntime`` calls; ``options`` are the task's own
    ``generate_options`` (tabular: ``calibrate``).
    """
    gan = load_onnx(path, threads=threads)
    if not isinstance(gan, Generator):
        raise GankitError(f"{path} holds a {gan.task} model, which translates: use apply_with_onnx")
    return gan.generate(n, seed=seed, condition=condition, truncation=truncation, **options)


def apply_with_onnx(
    path: str | os.PathLike, inputs: Any, *, threads: int | None = None, **options: Any
) -> Any:
    """``apply(inputs, **options)`` of an exported translator, on onnxruntime."""
    gan = load_onnx(path, threads=threads)
    if not isinstance(gan, Translator):
        raise GankitError(
            f"{path} holds a {gan.task} model, which generates: use generate_with_onnx"
        )
    return gan.apply(inputs, **options)
