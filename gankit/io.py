"""Model directories: ``config.json`` + ``*.safetensors``, written atomically, never pickled.

A model directory holds everything needed to rebuild and run a trained model::

    runs/x/
      config.json        # task, every hyper-parameter, gankit version, format version
      G.safetensors  G_ema.safetensors  D.safetensors

Writes go to a temporary sibling and are renamed into place, so a crash never leaves a half-written
file where a reader looks. Loading checks names, shapes and dtypes against the module that receives
the weights and refuses anything else with one clear message.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

from gankit.errors import GankitError

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via temp file, fsync, rename: readers never see half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or malformed file is a :class:`GankitError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise GankitError(
            f"{path} not found; pass a gankit model directory (it holds {CONFIG_NAME})"
        )
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GankitError(f"{path} is not valid JSON ({err}); the file is damaged") from None


def save_tensors(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor]) -> None:
    """Atomically save a flat name → tensor mapping as safetensors (moved to CPU, contiguous)."""
    clean = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    atomic_write_bytes(path, _st_save(clean))


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a safetensors file into CPU tensors; a missing or corrupt file is a clear error.

    Only the safetensors format is accepted: it stores raw numbers and cannot run code on load.
    """
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"weights file {path} not found; was the model saved completely?")
    data = path.read_bytes()
    try:
        return _st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise GankitError(
            f"{path} is not a valid safetensors file ({err}); gankit only loads safetensors "
            "weights, never pickles"
        ) from None


def check_state(
    expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor], source: str
) -> None:
    """Raise :class:`GankitError` unless ``found`` has ``expected``'s names, shapes and dtypes."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise GankitError(
            f"{source} does not match the model: missing {missing[:5]}, unexpected {extra[:5]}; "
            "was it saved by a different configuration?"
        )
    for name, want in expected.items():
        got = found[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise GankitError(
                f"{source}: tensor {name!r} has shape {tuple(got.shape)} {got.dtype}, the model "
                f"expects {tuple(want.shape)} {want.dtype}; was it saved by another configuration?"
            )


def load_module(module: torch.nn.Module, path: str | os.PathLike) -> None:
    """Load safetensors weights into ``module`` after checking names, shapes and dtypes."""
    found = load_tensors(path)
    check_state(module.state_dict(), found, str(path))
    module.load_state_dict(found)


def save_module(module: torch.nn.Module, path: str | os.PathLike) -> None:
    """Save ``module``'s state dict as safetensors, atomically."""
    save_tensors(path, module.state_dict())


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``path`` when the block ends without error.

    Example:
        >>> with atomic_dir("runs/x/train_state/step-000100") as tmp:   # doctest: +SKIP
        ...     save_tensors(tmp / "G.safetensors", G.state_dict())
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        for child in tmp.iterdir():
            if child.is_file():
                with open(child, "rb") as f:
                    os.fsync(f.fileno())
        _fsync_dir(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_config(model_dir: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a model directory's ``config.json`` (format version, task)."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise GankitError(
            f"model directory {model_dir} not found; pass the --out folder of a training run"
        )
    config = read_json(model_dir / CONFIG_NAME)
    if not isinstance(config, dict) or "task" not in config:
        raise GankitError(
            f"{model_dir / CONFIG_NAME} has no 'task' entry; it is not a gankit config"
        )
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise GankitError(
            f"{model_dir / CONFIG_NAME} has format_version {version!r}, this gankit reads up to "
            f"{FORMAT_VERSION}; upgrade gankit to load it"
        )
    return config
