"""bench/protocol.py: what a recorded section promises (committed tree, per-contender cost)."""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import protocol  # noqa: E402


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "docs" / "BENCHMARKS.md").write_text("# Benchmarks\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def _burner(cpu: float, result: str, before: str = "") -> list[str]:
    """A child that burns ``cpu`` CPU seconds, prints ``before``, then ``result`` as JSON."""
    code = (
        "import json, os, time\n"
        "t = time.process_time()\n"
        f"while time.process_time() - t < {cpu}: pass\n{before}print(json.dumps({result}))\n"
    )
    return [sys.executable, "-c", code]


def _options(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"not_citable": False, "no_record": False, **kw})


def test_a_clean_tree_is_citable_and_recording_outputs_do_not_dirty_it(repo):
    assert protocol.tree_state(repo).citable
    (repo / "docs" / "BENCHMARKS.md").write_text("# Benchmarks\n\n## an earlier section\n")
    (repo / "docs" / "img").mkdir()
    (repo / "docs" / "img" / "plot.png").write_bytes(b"png")
    assert protocol.tree_state(repo).citable


def test_a_changed_or_new_file_makes_the_tree_dirty_with_a_hash_of_the_change(repo):
    (repo / "code.py").write_text("x = 2\n")
    first = protocol.tree_state(repo)
    assert first.dirty_files == ("code.py",) and not first.citable
    (repo / "code.py").write_text("x = 3\n")
    (repo / "new.py").write_text("y = 1\n")
    second = protocol.tree_state(repo)
    assert second.dirty_files == ("code.py", "new.py")
    assert first.diff_sha256 != second.diff_sha256
    assert "NOT CITABLE" in second.describe()


def test_recording_refuses_a_dirty_tree_unless_marked_not_citable(repo):
    (repo / "code.py").write_text("x = 2\n")
    with pytest.raises(SystemExit, match="refusing to record from a dirty tree .code.py"):
        protocol.Recording("t", _options(), root=repo)
    rec = protocol.Recording("t", _options(not_citable=True), root=repo)
    assert rec.title == "NOT CITABLE: t"
    # printing a section that is not appended needs no committed tree
    assert protocol.Recording("t", _options(no_record=True), root=repo).record is False


def test_run_measures_the_child_alone_and_reads_its_json(repo):
    rec = protocol.Recording("t", _options(), root=repo)
    result = "{'steps': 5, 'images_seen': 320, 'threads': os.environ['OMP_NUM_THREADS']}"
    m = rec.run("burner", _burner(0.3, result, "print('progress line')\n"), seed=7, threads=1)
    assert m.cpu_seconds >= 0.3 and m.wall_seconds >= 0.3
    assert m.peak_mb > 1
    assert m.result == {"steps": 5, "images_seen": 320, "threads": "1"}
    assert m.row().startswith("| burner | 7 | 1 |") and m.row().endswith("| 5 | 320 |")


def test_peak_memory_is_the_childs_own_not_the_parents(repo):
    rec = protocol.Recording("t", _options(), root=repo)
    ballast = bytearray(400 * 2**20)  # a big parent: fork and exec must not bill it to the child
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = rec.run("small", [sys.executable, "-c", "print('{}')"], seed=0)
    grow = (
        f"import sys; sys.path.insert(0, {str(Path(protocol.__file__).parent)!r})\n"
        "import protocol\n"
        "block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096])\n"
        "del block\n"  # freed before the end: only the high-water mark remembers it
        "protocol.emit({'steps': 1})\n"
    )
    big = rec.run("big", [sys.executable, "-c", grow], seed=0)
    assert small.peak_mb < 100, small.peak_mb
    assert 200 <= big.peak_mb < 300, big.peak_mb
    assert big.result == {"steps": 1}  # the peak travels beside the result, not in it
    del ballast


def test_a_failing_child_stops_the_benchmark_with_its_stderr(repo):
    rec = protocol.Recording("t", _options(), root=repo)
    with pytest.raises(SystemExit, match="boom"):
        rec.run("bad", [sys.executable, "-c", "raise SystemExit('boom')"], seed=0)
    with pytest.raises(SystemExit, match="not JSON"):
        rec.run("mute", [sys.executable, "-c", "print('done')"], seed=0)


def test_write_appends_the_conditions_and_the_cost_table(repo):
    rec = protocol.Recording("Toy benchmark", _options(), root=repo)
    judge = repo / "judge.bin"
    judge.write_bytes(b"weights")
    sha = rec.judge("toy judge", judge)
    rec.run("a", [sys.executable, "-c", "print('{\"steps\": 1}')"], seed=0, threads=2)
    rec.run("a", [sys.executable, "-c", "print('{\"steps\": 1}')"], seed=1, threads=2)
    rec.write("score 1.0\n")
    text = (repo / "docs" / "BENCHMARKS.md").read_text()
    assert "## Toy benchmark" in text and "(clean tree)" in text
    assert "load average (1 / 5 min): before" in text
    assert "- seeds: 0, 1" in text and f"toy judge sha256 {sha[:16]}" in text
    assert "| a | 1 | 2 |" in text and "score 1.0" in text


def test_mean_std_states_n_and_flags_too_few_seeds():
    assert protocol.mean_std([0.95, 0.96, 0.97]) == "0.960 ± 0.010 (n = 3)"
    assert protocol.mean_std([1.0, 3.0], digits=1) == (
        "2.0 ± 1.4 (n = 2, below the 3 seeds a headline needs)"
    )
    with pytest.raises(ValueError):
        protocol.mean_std([])


def test_run_seeds_appends_each_seed_and_returns_the_results_in_order(repo):
    rec = protocol.Recording("t", _options(), root=repo)
    echo = "import json, sys; print(json.dumps({'seed': int(sys.argv[-1])}))"
    results = rec.run_seeds("echo", [sys.executable, "-c", echo, "--seed-follows"], [3, 1])
    assert results == [{"seed": 3}, {"seed": 1}]
    assert [m.seed for m in rec.measurements] == [3, 1]


def test_run_together_starts_the_children_at_once_and_measures_each_by_its_own_rusage(repo):
    rec = protocol.Recording("Side by side", _options(), root=repo)
    started = time.perf_counter()
    light, heavy = rec.run_together(
        {"light": (_burner(0.2, "{'steps': 1}"), 0), "heavy": (_burner(0.8, "{'steps': 2}"), 1)},
        threads=1,
    )
    assert (light.name, light.seed, light.result) == ("light", 0, {"steps": 1})
    assert (heavy.name, heavy.seed, heavy.result) == ("heavy", 1, {"steps": 2})
    assert 0.2 <= light.cpu_seconds < 0.8 <= heavy.cpu_seconds  # neither billed for the other
    # together, not one after the other (2 cores here; one core would still overlap the starts)
    assert time.perf_counter() - started < light.wall_seconds + heavy.wall_seconds
    rec.write("")
    assert "contenders ran side by side" in (repo / "docs" / "BENCHMARKS.md").read_text()


def test_a_failing_child_run_together_stops_the_others(repo):
    rec = protocol.Recording("t", _options(), root=repo)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    t0 = time.perf_counter()
    with pytest.raises(SystemExit, match="bad .seed 1. failed:\n.*boom"):
        rec.run_together(
            {"slow": (sleeper, 0), "bad": ([sys.executable, "-c", "raise SystemExit('boom')"], 1)}
        )
    assert time.perf_counter() - t0 < 30  # the sleeper was killed, not awaited
