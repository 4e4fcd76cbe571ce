"""What each rank runs in the distributed tests: ``torchrun ... worker.py SCENARIO OUT [ARG]``.

Every scenario trains tiny models under the process group torchrun set up and writes what the
test compares into ``OUT/rank{R}.safetensors`` / ``OUT/rank{R}.json``; the tests (in one process)
compute the same runs without torch.distributed and compare. The runs are built by
:mod:`runs`, shared with the tests, so both sides train exactly the same thing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))  # runs.py, beside this file

from gankit.io import save_tensors  # noqa: E402
from gankit.train import engine  # noqa: E402

import runs  # noqa: E402


def core(out: Path, single_run: Path) -> tuple[dict, dict]:
    """Equivalence, regularizer values, disjoint data, checkpoints, resume (same and other N)."""
    tensors: dict[str, torch.Tensor] = {}
    report: dict = {}
    for name in runs.EQUIVALENCE:
        trainer, stats = runs.train_steps(name)
        tensors.update({f"{name}.{k}": v for k, v in runs.params(trainer).items()})
        report[f"{name}.stats"] = stats
    report["indices"] = runs.seen_indices()
    # A NaN in one rank's slice: every rank rolls back.
    poisoned = runs.poisoned()
    report["rollbacks"] = poisoned.rollbacks
    tensors.update({f"poisoned.{k}": v for k, v in runs.params(poisoned).items()})
    # Checkpoints: count the writes on this rank (rank 0 alone should write).
    writes = []
    original = engine.write_checkpoint
    engine.write_checkpoint = lambda *a, **k: writes.append(a[1]) or original(*a, **k)
    try:
        plain = runs.checkpointed(out / "plain", "plain", steps=4)
    finally:
        engine.write_checkpoint = original
    report["writes"] = writes
    tensors.update({f"two_ranks.{k}": v for k, v in runs.params(plain).items()})
    # The same N resumes bit for bit, per-rank RNG (augmentation) and BatchNorm buffers included.
    full = runs.checkpointed(out / "augmented", "augmented", steps=4)
    again = runs.resumed(out / "augmented", "augmented", "step-000002", 4, out / "again")
    report["ada_p"] = full.ada.p
    report["resume_same_n_differs"] = runs.differing(runs.full_state(full), runs.full_state(again))
    # A checkpoint one process wrote, continued by these ranks.
    other = runs.resumed(single_run, "plain", "step-000002", 4, out / "from-single")
    tensors.update({f"from_single.{k}": v for k, v in runs.params(other).items()})
    return tensors, report


def tasks(out: Path, _: Path) -> tuple[dict, dict]:
    """Every task's tiny recipe, two steps with checkpoints, on every rank."""
    report = {}
    for task in runs.task_names():
        run = out / task
        gan = runs.train_task(task, run)
        report[task] = {
            "steps": gan.history["steps"],
            "files": sorted(p.name for p in run.iterdir()) if run.exists() else [],
        }
    return {}, report


SCENARIOS = {"core": core, "tasks": tasks}

if __name__ == "__main__":
    scenario, out = sys.argv[1], Path(sys.argv[2])
    extra = Path(sys.argv[3]) if len(sys.argv) > 3 else Path()
    rank = int(os.environ["RANK"])
    # One group for every trainer of the scenario (each would otherwise start and end its own).
    dist.init_process_group("gloo")
    tensors, report = SCENARIOS[scenario](out, extra)
    dist.barrier()
    dist.destroy_process_group()
    out.mkdir(parents=True, exist_ok=True)
    if tensors:
        save_tensors(out / f"rank{rank}.safetensors", tensors)
    (out / f"rank{rank}.json").write_text(json.dumps(report))
