"""The recording protocol every benchmark follows.

A number in docs/BENCHMARKS.md must survive a skeptical reader, so a recording says exactly what
produced it:

- **a committed tree.** :class:`Recording` refuses to start when the working tree differs from
  HEAD (the outputs recordings write, docs/BENCHMARKS.md and docs/img/, aside). With
  ``--not-citable`` it records anyway, with the diff's SHA-256, and titles the section
  "NOT CITABLE" so nobody quotes it.
- **each contender measured alone.** :meth:`Recording.run` starts one child process with a set
  number of threads and waits for it before anything else runs; the child's own ``rusage``
  (``os.wait4``) gives its CPU seconds, so a contender is never charged for another's work and
  CPU seconds stay comparable when the machine is loaded. Peak memory is the child's own
  high-water mark (``VmHWM``, sampled while it runs and reported by :func:`emit` at its end):
  ``ru_maxrss`` would not do, since Linux carries the parent's resident size across fork and exec.
  Where an issue asks for contenders side by side, :meth:`Recording.run_together` starts them at
  once, measures each child the same way and says so in the section.
- **what the child did.** A child prints one JSON object as its last stdout line; ``steps`` and
  ``images_seen`` are reported in the measurement table, everything else is the child's result.
- **the conditions.** Load average before and after, threads, seeds, machine, and the identity
  and SHA-256 of every judge (a metric network, a classifier) registered with :meth:`judge`.
- **headlines over seeds.** :func:`mean_std` writes ``mean ± std (n = k)`` and says so when k is
  below the 3 seeds a headline needs.

A benchmark script looks like this::

    parser = argparse.ArgumentParser()
    protocol.add_arguments(parser)               # --not-citable, --no-record
    args = parser.parse_args()
    rec = protocol.Recording("My benchmark (3 seeds)", args)
    rec.judge("MNIST classifier", "bench/out/judge.safetensors")
    for seed in (0, 1, 2):
        m = rec.run("gankit default", [sys.executable, "bench/worker.py", f"--seed={seed}"],
                    seed=seed, threads=2)
        scores.append(m.result["fd"])
    rec.write(f"FD {protocol.mean_std(scores, digits=1)}\\n")   # section + measurement table

Workers print their result with :func:`emit`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_text, machine  # noqa: E402

# What recordings themselves write: a tree whose only changes are these is still the commit.
RECORDING_OUTPUTS = ("docs/BENCHMARKS.md", "docs/img/")
MIN_SEEDS = 3
_PEAK_KEY = "_peak_mb"  # what emit adds for Recording.run
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Tree:
    """The code a recording ran: HEAD's commit, and the diff's hash when the tree is dirty."""

    commit: str
    dirty_files: tuple[str, ...]
    diff_sha256: str | None

    @property
    def citable(self) -> bool:
        return not self.dirty_files

    def describe(self) -> str:
        if self.citable:
            return f"commit {self.commit} (clean tree)"
        return (
            f"commit {self.commit} + uncommitted changes to {len(self.dirty_files)} file(s), "
            f"diff sha256 {self.diff_sha256[:16]}: NOT CITABLE"
        )


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def tree_state(root: Path = ROOT) -> Tree:
    """Where ``root``'s working tree stands against its HEAD commit."""
    commit = _git(root, "rev-parse", "--short=12", "HEAD").strip()
    changed = []
    for line in _git(root, "status", "--porcelain", "--untracked-files=all").splitlines():
        path = line[3:].split(" -> ")[-1]
        if not path.startswith(RECORDING_OUTPUTS):
            changed.append(path)
    if not changed:
        return Tree(commit, (), None)
    digest = hashlib.sha256(_git(root, "diff", "HEAD", "--", *changed).encode())
    for path in sorted(changed):
        file = root / path
        if file.is_file():  # untracked files are not in `git diff`
            digest.update(path.encode() + b"\0" + file.read_bytes())
    return Tree(commit, tuple(sorted(changed)), digest.hexdigest())


@dataclass(frozen=True)
class Measurement:
    """One contender's run: what it cost and what it printed."""

    name: str
    seed: int | None
    threads: int
    cpu_seconds: float
    wall_seconds: float
    peak_mb: float
    result: dict = field(default_factory=dict)

    def row(self) -> str:
        steps = self.result.get("steps", "–")
        images = self.result.get("images_seen", "–")
        seed = "–" if self.seed is None else self.seed
        return (
            f"| {self.name} | {seed} | {self.threads} | {self.cpu_seconds:.1f} | "
            f"{self.wall_seconds:.1f} | {self.peak_mb:.0f} | {steps} | {images} |"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The protocol's flags, shared by every benchmark script."""
    parser.add_argument(
        "--not-citable",
        action="store_true",
        help="record from a dirty tree; the section is titled NOT CITABLE with the diff's hash",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print the section instead of appending it"
    )


def high_water_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process since its exec (``VmHWM``); 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return 0.0


def emit(result: dict) -> None:
    """A worker's last word: its result as one JSON line on stdout (with its peak memory)."""
    print(json.dumps({**result, _PEAK_KEY: high_water_mb()}), flush=True)


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    """``mean ± std (n = k)``, flagged when k is below the protocol's 3 seeds.

    >>> mean_std([0.95, 0.96, 0.97])
    '0.960 ± 0.010 (n = 3)'
    >>> mean_std([12.0], digits=1)
    '12.0 (n = 1, below the 3 seeds a headline needs)'
    """
    if not values:
        raise ValueError("mean_std needs at least one value")
    mean = statistics.fmean(values)
    if len(values) == 1:
        text = f"{mean:.{digits}f} (n = 1"
    else:
        text = f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f} (n = {len(values)}"
    short = len(values) < MIN_SEEDS
    return text + (f", below the {MIN_SEEDS} seeds a headline needs)" if short else ")")


class Recording:
    """One benchmark section in the making; see the module docstring.

    ``options`` is the parsed namespace from :func:`add_arguments` (or anything with its two
    attributes). Construction checks the tree and notes the load; :meth:`write` appends the
    section, so a run that fails midway records nothing.
    """

    def __init__(self, title: str, options: argparse.Namespace, *, root: Path = ROOT) -> None:
        self.tree = tree_state(root)
        self.record = not options.no_record
        if not self.tree.citable and self.record and not options.not_citable:
            files = ", ".join(self.tree.dirty_files[:5])
            raise SystemExit(
                f"refusing to record from a dirty tree ({files}"
                f"{', ...' if len(self.tree.dirty_files) > 5 else ''}): commit first, or pass "
                "--not-citable to record a section marked NOT CITABLE"
            )
        self.title = title if self.tree.citable else f"NOT CITABLE: {title}"
        self.root = root
        self.load_before = os.getloadavg()
        self.started = time.perf_counter()
        self.measurements: list[Measurement] = []
        self.judges: dict[str, str] = {}
        self.together = False  # whether some contenders ran side by side (run_together)

    def judge(self, name: str, path: str | Path) -> str:
        """Register a judge (metric network, classifier) by its file; returns its SHA-256."""
        from gankit.io import file_sha256

        sha = file_sha256(Path(path))
        self.judges[name] = sha
        return sha

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        seed: int | None,
        threads: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Measurement:
        """Run one contender alone as a child process with ``threads`` threads and measure it.

        A failing child stops the benchmark with the end of its stderr. Output goes through
        files rather than pipes so a chatty child never blocks on a full pipe.
        """
        return self.run_together({name: (argv, seed)}, threads=threads, env=env)[0]

    def run_together(
        self,
        jobs: dict[str, tuple[Sequence[str], int | None]],
        *,
        threads: int | None = None,
        env: dict[str, str] | None = None,
    ) -> list[Measurement]:
        """Start every job (``name -> (argv, seed)``) at once, ``threads`` threads each.

        For the benchmarks whose issue asks for contenders side by side: they share the machine
        and its load alike. Each child is still measured by its own ``rusage`` and high-water
        mark, and the section says the contenders ran together. A failing child stops the others
        and the benchmark with the end of its stderr.
        """
        threads = threads or os.cpu_count() or 1
        if len(jobs) > 1:
            self.together = True
        child_env = {
            **os.environ,
            **(env or {}),
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            # the recorded tree's gankit, whatever is installed in the environment
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(self.root), os.environ.get("PYTHONPATH")])
            ),
        }
        with contextlib.ExitStack() as files:
            started = time.perf_counter()
            running = {}
            for name, (argv, _) in jobs.items():
                out = files.enter_context(tempfile.TemporaryFile("w+"))
                err = files.enter_context(tempfile.TemporaryFile("w+"))
                process = subprocess.Popen(
                    list(argv), stdout=out, stderr=err, text=True, env=child_env
                )
                running[name] = (process, out, err)
            peaks = dict.fromkeys(jobs, 0.0)
            ended: dict[str, tuple[resource.struct_rusage, float]] = {}  # rusage, wall s
            while len(ended) < len(running):
                for name, (process, _, err) in running.items():
                    if name in ended:
                        continue
                    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                    if not pid:
                        peaks[name] = max(peaks[name], high_water_mb(process.pid))
                        continue
                    ended[name] = (usage, time.perf_counter() - started)
                    process.returncode = os.waitstatus_to_exitcode(status)
                    if process.returncode != 0:
                        for other, _, _ in running.values():
                            if other.returncode is None:
                                other.kill()
                                other.wait()
                        err.seek(0)
                        seed = jobs[name][1]
                        raise SystemExit(f"{name} (seed {seed}) failed:\n{err.read()[-3000:]}")
                time.sleep(_POLL_SECONDS)
            measured = []
            for name, (_, out, _) in running.items():
                out.seek(0)
                measured.append(
                    self._measure(name, jobs[name][1], threads, *ended[name], peaks[name], out)
                )
        return measured

    def _measure(
        self,
        name: str,
        seed: int | None,
        threads: int,
        usage: resource.struct_rusage,
        wall: float,
        peak: float,
        out: IO[str],
    ) -> Measurement:
        """One ended child's measurement, from its rusage and its last stdout line (JSON)."""
        lines = out.read().strip().splitlines()
        try:
            result = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError as e:
            raise SystemExit(
                f"{name}: the last stdout line is not JSON ({e}): {lines[-1][:200]}"
            ) from None
        measurement = Measurement(
            name=name,
            seed=seed,
            threads=threads,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            wall_seconds=wall,
            peak_mb=max(peak, result.pop(_PEAK_KEY, 0.0)),
            result=result,
        )
        self.measurements.append(measurement)
        print(measurement.row(), flush=True)
        return measurement

    def run_seeds(
        self, name: str, argv: Sequence[str], seeds: Sequence[int], *, threads: int | None = None
    ) -> list[dict]:
        """:meth:`run` once per seed with ``--seed S`` appended; each child's result, in order."""
        results = []
        for seed in seeds:
            measured = self.run(name, [*argv, "--seed", str(seed)], seed=seed, threads=threads)
            print(json.dumps(measured.result), flush=True)
            results.append(measured.result)
        return results

    def header(self) -> str:
        """The conditions of the run, one bullet each."""
        command = "python " + " ".join([os.path.relpath(sys.argv[0], self.root), *sys.argv[1:]])
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        load_after = os.getloadavg()
        seeds = sorted({m.seed for m in self.measurements if m.seed is not None})
        judges = "; ".join(f"{name} sha256 {sha[:16]}" for name, sha in self.judges.items())
        lines = [
            f"- command: `{command}`",
            f"- date: {stamp}; code: {self.tree.describe()}",
            f"- machine: {machine()}",
            f"- load average (1 / 5 min): before {self.load_before[0]:.2f} / "
            f"{self.load_before[1]:.2f}, after {load_after[0]:.2f} / {load_after[1]:.2f}",
            f"- seeds: {', '.join(map(str, seeds)) or '–'}",
            f"- judges: {judges or '–'}",
            f"- wall time: {time.perf_counter() - self.started:.0f} s",
        ]
        return "\n".join(lines)

    def table(self) -> str:
        """Every contender run, in order: the cost side of the section."""
        head = (
            "| contender | seed | threads | CPU s | wall s | peak MB | steps | images seen |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|"
        )
        return "\n".join([head, *(m.row() for m in self.measurements)])

    def _how_measured(self) -> str:
        if self.together:
            return (
                "Each contender's run; contenders ran side by side, so CPU seconds (each child's "
                "own rusage) show what each got of the shared machine:"
            )
        return "Each contender's run, measured alone:"

    def write(self, body: str) -> str:
        """Append the section (header, body, measurement table) unless ``--no-record``."""
        section = (
            f"\n## {self.title}\n\n{self.header()}\n\n{body.rstrip()}\n\n"
            f"{self._how_measured()}\n\n{self.table()}\n"
        )
        if self.record:
            append_text(section, self.root / "docs" / "BENCHMARKS.md")  # also prints it
        else:
            print(section)
        return section
