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

import hashlib
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


# mkstemp/mkdtemp create 0600/0700 entries; renamed into place they would hide a model from the
# rest of a team. Files get the permissions a plain open() would give (read once: os.umask can
# only be read by setting it, which is not safe to do while other threads create files).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_failed(path: Path, err: OSError) -> GankitError:
    """A failed write (disk full, read-only, permissions) as one message naming the file."""
    return GankitError(
        f"could not write {path} ({err.strerror or err}); free disk space or choose a writable "
        "folder, then try again"
    )


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via temp file, fsync, rename: readers never see half.

    A failure (disk full, permissions) leaves the previous file untouched and raises
    :class:`GankitError` naming ``path``.
    """
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as err:
        raise _write_failed(path, err) from err
    finally:
        if tmp is not None:  # not renamed into place: the write failed or was interrupted
            Path(tmp).unlink(missing_ok=True)


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
        >>> step = tmp / "run" / "train_state" / "step-000100"
        >>> with atomic_dir(step) as partial:  # a crash here leaves no step-000100
        ...     save_tensors(partial / "G.safetensors", {"w": torch.zeros(2)})
        >>> sorted(p.name for p in step.iterdir())
        ['G.safetensors']
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        os.chmod(tmp, 0o777 & ~_UMASK)
    except OSError as err:
        raise _write_failed(path, err) from err
    try:
        yield tmp
        for child in tmp.iterdir():
            if child.is_file():
                with open(child, "rb") as f:
                    os.fsync(f.fileno())
        _fsync_dir(tmp)
        if path.exists():
            # A directory cannot be renamed over a non-empty one: move the old one aside first.
            # A crash between the two renames leaves only ``old``; see :func:`replaced_dir`.
            old = old_dir_path(path)
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_failed(path, err) from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def old_dir_path(path: Path) -> Path:
    """Where :func:`atomic_dir` keeps the previous ``path`` while it swaps in the new one."""
    return path.with_name(f".{path.name}.old")


def replaced_dir(path: str | os.PathLike) -> Path:
    """``path``, or the complete previous version a crash inside :func:`atomic_dir` left aside.

    Readers call this instead of assuming ``path`` exists; it never changes the disk, so it is
    safe while a writer is at work.
    """
    path = Path(path)
    old = old_dir_path(path)
    return old if not path.exists() and old.is_dir() else path


def tidy_dir(folder: str | os.PathLike) -> None:
    """Clean up after writers killed mid-write in ``folder``: finish or drop their temporaries.

    Only the one process writing into ``folder`` may call this (it deletes in-progress temps).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".old") and name.startswith("."):
            target = folder / name[1 : -len(".old")]
            if not target.exists():
                os.replace(entry, target)  # the crash hit between atomic_dir's two renames
                continue
        elif not (name.startswith(".") and name.endswith(".tmp")):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


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
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise GankitError(
            f"{model_dir / CONFIG_NAME} has format_version {version!r}, this gankit reads up to "
            f"{FORMAT_VERSION}; upgrade gankit to load it"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GankitError(
            f"{model_dir / CONFIG_NAME} has format_version {version!r}, not a version gankit "
            "writes (1, 2, ...); the file is damaged or was not written by gankit"
        )
    if not isinstance(config["task"], str):
        raise GankitError(
            f"{model_dir / CONFIG_NAME}: 'task' must be a name, got {config['task']!r}"
        )
    return config


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (the identity of a weights file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
