"""The engine under torchrun: 2 gloo processes on this CPU against the same run in 1 process.

Each test launches ``torchrun --standalone --nproc_per_node=2`` (worker.py runs the scenario on
every rank) and compares what the ranks wrote with :mod:`runs` computed here without
torch.distributed. Marker ``distributed`` (``make test-distributed``; ``.ci/run`` runs them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.io import load_tensors

sys.path.insert(0, str(Path(__file__).parent))
import runs  # noqa: E402

pytestmark = pytest.mark.distributed

ROOT = Path(__file__).parents[2]
WORKER = Path(__file__).with_name("worker.py")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, "OMP_NUM_THREADS": "1", **extra}


def _torchrun(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    done = subprocess.run(
        [*command, *args], env=_env(), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _ranks(out: Path) -> list[tuple[dict[str, torch.Tensor], dict]]:
    results = []
    for rank in range(2):
        tensors = out / f"rank{rank}.safetensors"
        report = json.loads((out / f"rank{rank}.json").read_text())
        results.append((load_tensors(tensors) if tensors.exists() else {}, report))
    return results


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """One torchrun of the core scenario, and the single-process run it continues."""
    tmp = tmp_path_factory.mktemp("core")
    single = runs.checkpointed(tmp / "single", "plain", steps=4)
    started = time.perf_counter()
    _torchrun(str(WORKER), "core", str(tmp / "out"), str(tmp / "single"))
    print(f"core scenario under torchrun: {time.perf_counter() - started:.1f} s")
    return tmp, single, _ranks(tmp / "out")


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)}


@pytest.mark.parametrize(("name", "tolerance"), [("plain", 1e-6), ("batchnorm", 1e-5)])
def test_two_ranks_of_half_the_batch_match_one_process(core, name, tolerance):
    _, _, ranks = core
    single, _ = runs.train_steps(name)
    for tensors, _ in ranks:
        assert _max_diff(_with_prefix(tensors, f"{name}."), runs.params(single)) < tolerance
    # The replicas agree with each other exactly.
    assert _max_diff(_with_prefix(ranks[0][0], name), _with_prefix(ranks[1][0], name)) == 0


def test_lazy_r1_and_gradient_penalty_equal_the_single_process_values(core):
    _, _, ranks = core
    _, single = runs.train_steps("plain")
    for _, report in ranks:
        for ours, theirs in zip(report["plain.stats"], single, strict=True):
            assert ours.keys() == theirs.keys()
            for key in ("r1", "gp", "d_loss", "g_loss"):
                if key in theirs:
                    assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-7), key
    assert sum("r1" in stats for stats in single) == 2  # steps 0 and 2: lazy, every 2nd update


def test_each_rank_sees_a_disjoint_half_of_every_batch(core):
    _, _, ranks = core
    (_, first), (_, second) = ranks
    single = runs.seen_indices()
    assert len(first["indices"]) == len(single) == 4  # one epoch of 64 in global batches of 16
    for a, b, whole in zip(first["indices"], second["indices"], single, strict=True):
        assert len(a) == len(b) == 8 and not set(a) & set(b)
        assert a + b == whole
    epoch = [i for batch in first["indices"] + second["indices"] for i in batch]
    assert sorted(epoch) == list(range(64))


def test_a_nan_on_one_rank_rolls_every_rank_back(core):
    _, _, ranks = core
    single = runs.poisoned()
    assert single.rollbacks == 1
    for tensors, report in ranks:
        assert report["rollbacks"] == 1
        assert _max_diff(_with_prefix(tensors, "poisoned."), runs.params(single)) < 1e-6


def test_ada_p_agrees_across_ranks(core):
    _, _, ranks = core
    assert ranks[0][1]["ada_p"] == ranks[1][1]["ada_p"] > 0


def test_rank_0_alone_writes_each_checkpoint_once(core):
    tmp, _, ranks = core
    assert ranks[0][1]["writes"] == [2, 4] and ranks[1][1]["writes"] == []
    steps = sorted(p.name for p in (tmp / "out" / "plain" / "train_state").glob("step-*"))
    assert steps == ["step-000002", "step-000004"]
    meta = json.loads(
        (tmp / "out" / "plain" / "train_state" / "step-000004" / "trainer.json").read_text()
    )
    assert meta["world_size"] == 2


def test_resume_under_the_same_ranks_is_bit_identical(core):
    _, _, ranks = core
    for _, report in ranks:
        assert report["resume_same_n_differs"] == []


def test_resume_under_another_number_of_ranks_continues_the_same_global_run(core, tmp_path):
    tmp, single, ranks = core
    # 1 process -> 2 ranks: the ranks continued the single run's step-2 checkpoint to step 4.
    for tensors, _ in ranks:
        assert _max_diff(_with_prefix(tensors, "from_single."), runs.params(single)) < 1e-6
    # 2 ranks -> 1 process: this process continues the ranks' step-2 checkpoint.
    resumed = runs.resumed(tmp / "out" / "plain", "plain", "step-000002", 4, tmp_path / "one")
    assert _max_diff(runs.params(resumed), _with_prefix(ranks[0][0], "two_ranks.")) < 1e-6


def test_every_task_trains_under_torchrun(tmp_path):
    _torchrun(str(WORKER), "tasks", str(tmp_path / "out"), timeout=600)
    (_, main), (_, other) = _ranks(tmp_path / "out")
    assert set(main) == set(runs.task_names())
    for task, result in main.items():
        assert result["steps"] == 2, task
        assert {"config.json", "G.safetensors", "report.md", "train_state"} <= set(
            result["files"]
        ), task
        assert other[task]["steps"] == 2
    assert sorted(p.name for p in (tmp_path / "out" / "cyclegan" / "train_state").iterdir()) == [
        "latest",
        "step-000002",
    ]


def _gankit(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gankit.cli", *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


TOY = ["--task", "toy", "--batch-size", "32", "--quiet", "--set", "model.hidden=16"]


def test_gankit_train_and_resume_start_torchrun(tmp_path):
    run = tmp_path / "run"
    train = _gankit(
        "train",
        *TOY,
        "--steps",
        "4",
        "--checkpoint-every",
        "2",
        "--log-every",
        "1",
        "--out",
        str(run),
        "--nproc-per-node",
        "2",
    )
    out, err = train.communicate(timeout=300)
    assert train.returncode == 0, err[-3000:]
    assert out.count("trained 4 steps") == 1  # rank 0 alone reports
    resume = _gankit("resume", str(run), "--steps", "6", "--nproc-per-node", "2")
    out, err = resume.communicate(timeout=300)
    assert resume.returncode == 0, err[-3000:]
    assert "now at step 6" in out
    steps = [json.loads(line)["step"] for line in (run / "stats.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _rank_of(pid: int) -> int | None:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    ranks = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"RANK=")]
    return int(ranks[0]) if ranks else None


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the ranks through /proc")
def test_a_killed_rank_ends_the_run_with_one_message_and_an_intact_checkpoint(tmp_path):
    run = tmp_path / "run"
    train = _gankit(
        "train",
        *TOY,
        "--steps",
        "100000",
        "--checkpoint-every",
        "5",
        "--out",
        str(run),
        "--nproc-per-node",
        "2",
    )
    latest = run / "train_state" / "latest"
    deadline = time.monotonic() + 120
    while not latest.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert latest.exists(), "no checkpoint within 2 minutes"
    rank_1 = next(pid for pid in _children(train.pid) if _rank_of(pid) == 1)
    os.kill(rank_1, signal.SIGKILL)
    out, err = train.communicate(timeout=120)
    assert train.returncode == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("gankit: error: distributed training on 2 processes stopped: rank 1")
    assert "SIGKILL" in last and "gankit resume" in last
    # Rank 0, blocked in a collective with the dead rank, says so in one line, no traceback.
    assert "gankit: error: rank 0 of 2 lost contact with the other ranks" in err
    assert "Traceback" not in err
    # The checkpoint `latest` names is complete: a single process resumes it.
    resume = _gankit("resume", str(run), "--steps", str(int(latest.read_text()[5:]) + 1))
    out, err = resume.communicate(timeout=120)
    assert resume.returncode == 0, err[-3000:]


def test_ctrl_c_stops_every_rank_after_the_same_step_with_a_checkpoint(tmp_path):
    run = tmp_path / "run"
    train = _gankit(
        "train", *TOY, "--steps", "100000", "--checkpoint-every", "20", "--out", str(run),
        "--nproc-per-node", "2", start_new_session=True,
    )  # fmt: skip
    latest = run / "train_state" / "latest"
    deadline = time.monotonic() + 120
    while not latest.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert latest.exists(), "no checkpoint within 2 minutes"
    os.killpg(train.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    _, err = train.communicate(timeout=120)
    assert train.returncode == 130
    assert err.count("gankit: training stopped at step") == 1  # rank 0 alone says it
    assert "training stopped on all 2 processes; checkpoint saved" in err.splitlines()[-1]
    stopped = int(err.split("gankit: training stopped at step ")[1].split("/")[0])
    assert latest.read_text().strip() == f"step-{stopped:06d}"


def test_start_up_waits_for_missing_ranks_only_as_long_as_dist_timeout():
    code = (
        "from gankit import ToyGAN; "
        "ToyGAN(model={'hidden': 8}, batch_size=8, dist_timeout=2).fit('ring', steps=1, quiet=True)"
    )
    env = _env(
        RANK="0",
        WORLD_SIZE="2",
        LOCAL_RANK="0",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(_free_port()),
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "rank 0 of 2 could not start distributed training within 2 s" in done.stderr
    assert time.perf_counter() - started < 60


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
