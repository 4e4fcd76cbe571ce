"""Checkpoints of a run: safetensors + JSON, written atomically, newest named by ``latest``.

Layout under ``<run>/train_state/``::

    step-000500/
      G.safetensors  G_ema.safetensors  D.safetensors
      optim_G.safetensors  optim_D.safetensors   # optimizer tensors (Adam moments, step)
      rng.safetensors                            # every RNG state + the epoch's data order
      trainer.json                               # step counters, optimizer hyper-parameters,
                                                 # scaler and callback state
    latest                                       # written last; names the newest complete step dir

Optimizer state dicts are split into their tensors (safetensors) and the rest (JSON) because
safetensors holds only tensors and gankit never pickles.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch

from gankit.errors import GankitError
from gankit.io import (
    atomic_dir,
    atomic_write_bytes,
    load_tensors,
    read_json,
    replaced_dir,
    save_tensors,
    tidy_dir,
    write_json,
)

STATE_DIR = "train_state"
LATEST = "latest"


def split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into flat tensors and a JSON-able remainder."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def join_optimizer_state(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`split_optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for index, values in rest["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": rest["param_groups"]}


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


def write_checkpoint(
    run_dir: Path,
    step: int,
    tensors: dict[str, dict[str, torch.Tensor]],
    meta: dict[str, Any],
    keep: int,
) -> Path:
    """Write one checkpoint atomically, then point ``latest`` at it and prune to ``keep`` newest.

    ``tensors`` maps a file stem (``"G"``, ``"optim_D"``, ...) to the tensors it holds.
    """
    root = Path(run_dir) / STATE_DIR
    target = root / step_dir_name(step)
    try:
        tidy_dir(root)  # temporaries of a save that a kill or power cut interrupted
        with atomic_dir(target) as tmp:
            for stem, named in tensors.items():
                save_tensors(tmp / f"{stem}.safetensors", named)
            write_json(tmp / "trainer.json", meta)
        # ``latest`` moves only after the step directory is complete and renamed into place.
        atomic_write_bytes(root / LATEST, (target.name + "\n").encode())
    except (GankitError, OSError) as err:
        kept = (root / LATEST).read_text().strip() if (root / LATEST).is_file() else None
        raise GankitError(
            f"checkpoint {target.name} was not saved: {err}. "
            + (f"The previous checkpoint {kept} is intact; " if kept else "")
            + f"continue with `gankit resume {run_dir}` once fixed"
        ) from err
    # Newest by number, not name (step-1000000 sorts before step-999999 as text). Directories
    # past ``step`` come from before a resume and will be rewritten; counting them as newest
    # would prune the checkpoint ``latest`` now names.
    numbered = {
        int(p.name.removeprefix("step-")): p
        for p in root.glob("step-*")
        if p.name.removeprefix("step-").isdigit()
    }
    earlier = [numbered[n] for n in sorted(numbered) if n <= step]
    for old in earlier[:-keep]:
        # Rename first: a kill during rmtree must not leave a half-deleted step-N in view.
        doomed = old.with_name(f".{old.name}.pruned.tmp")
        os.replace(old, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    return target


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The step directory that ``latest`` names, or ``None`` when the run has no checkpoint."""
    pointer = Path(run_dir) / STATE_DIR / LATEST
    if not pointer.is_file():
        return None
    name = pointer.read_text(errors="replace").strip()
    target = replaced_dir(pointer.parent / name)
    if not (target / "trainer.json").is_file():
        raise GankitError(
            f"{pointer} names {target.name}, which is missing or incomplete; delete {pointer} to "
            "restart training or restore the directory"
        )
    return target


def read_checkpoint(
    step_dir: Path, stems: tuple[str, ...]
) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    """Read the tensors of each file stem and the trainer metadata of one checkpoint."""
    tensors = {stem: load_tensors(step_dir / f"{stem}.safetensors") for stem in stems}
    return tensors, read_json(step_dir / "trainer.json")
