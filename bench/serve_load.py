"""Loopback load on ``gankit serve``: latency percentiles, throughput, and the server's overhead
over calling ``generate`` directly for the same batch.

A 32x32 image model (the ``default`` preset, trained a few steps: the work per request depends on
the network's size, not on its training) is served by ``gankit serve`` in its own process; a
fixed number of requests (``n`` samples, PNG, ``b64_json`` as the page asks) go to it from
``--concurrency`` client threads, and the run stops by itself. The same batch is then generated
directly in this process, with as many torch threads as the server has, for the overhead ratio.

    python bench/serve_load.py                        # 500 requests, concurrency 8; records
    python bench/serve_load.py --requests 50 --no-record
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, append_section  # noqa: E402

from gankit import ImageGAN, load  # noqa: E402
from gankit.data import load_digits  # noqa: E402
from gankit.encode import image_bytes  # noqa: E402

# Goals of issue 22 for n=16 at 32x32 on 2 cores.
GOAL_P95_MS = 150.0
GOAL_OVERHEAD = 1.2
WARMUP = 8


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _serve(model_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "gankit.cli", "serve", str(model_dir), "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    server.stdout.readline()  # "serving ... at ...": the models are loaded
    with httpx.Client() as client:
        for _ in range(200):
            try:
                client.get(f"http://127.0.0.1:{port}/healthz")
                return server
            except httpx.TransportError:
                time.sleep(0.1)
    server.kill()
    raise SystemExit("gankit serve did not start")


def _load(url: str, n: int, requests: int, concurrency: int) -> tuple[list[float], int, float]:
    """(latencies in s, errors, wall seconds) of ``requests`` generate calls."""
    clients = [httpx.Client(timeout=120) for _ in range(concurrency)]

    def call(index: int) -> tuple[float, bool]:
        client = clients[index % concurrency]
        started = time.perf_counter()
        answer = client.post(url, json={"n": n, "seed": index})
        answer.json()  # the client's share: the body read and parsed
        return time.perf_counter() - started, answer.status_code == 200

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, range(WARMUP)))
        started = time.perf_counter()
        results = list(pool.map(call, range(requests)))
        wall = time.perf_counter() - started
    for client in clients:
        client.close()
    return [seconds for seconds, _ in results], sum(not ok for _, ok in results), wall


def _direct(model_dir: Path, n: int, calls: int) -> tuple[float, float]:
    """Median seconds of ``generate(n)`` alone, and of generate + PNG encoding, in-process.

    Run on one worker thread, as the server runs it: torch's thread pool behaves differently on
    the main thread (under a loaded machine its spinning threads made it several times slower).
    """
    gan = load(model_dir)

    def timed() -> tuple[float, float]:
        for seed in range(WARMUP):
            gan.generate(n, seed=seed)
        generate_s, encoded_s = [], []
        for seed in range(calls):
            started = time.perf_counter()
            images = gan.generate(n, seed=seed)
            generated = time.perf_counter()
            [image_bytes(image, "png") for image in images]
            generate_s.append(generated - started)
            encoded_s.append(time.perf_counter() - started)
        return statistics.median(generate_s), statistics.median(encoded_s)

    with ThreadPoolExecutor(1) as worker:
        return worker.submit(timed).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("-n", type=int, default=16, help="samples per request")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    bench_started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "digits32"
        ImageGAN("default", resolution=32, batch_size=8).fit(
            load_digits(32), steps=2, out=model_dir, quiet=True
        )
        server = _serve(model_dir, args.port)
        try:
            url = f"http://127.0.0.1:{args.port}/v1/models/digits32/generate"
            sequential, _, _ = _load(url, args.n, min(args.requests, 100), 1)
            cpu_before = _cpu_seconds(server.pid)
            client_cpu = time.process_time()
            latencies, errors, wall = _load(url, args.n, args.requests, args.concurrency)
            server_cpu = _cpu_seconds(server.pid) - cpu_before
            client_cpu = time.process_time() - client_cpu
        finally:
            server.terminate()
            server.wait(30)
        threads = torch.get_num_threads()  # what the server process had: the default
        generate_s, encoded_s = _direct(model_dir, args.n, 100)
    load_after = os.getloadavg()
    ms = [seconds * 1000 for seconds in latencies]
    p50, p95, p99 = (_percentile(ms, q) for q in (50, 95, 99))
    throughput = args.requests / wall
    per_request = wall / args.requests
    seq_median = statistics.median(sequential)
    overhead_busy = per_request / generate_s
    overhead_alone = seq_median / generate_s
    goals = [
        (f"p95 <= {GOAL_P95_MS:.0f} ms", f"{p95:.0f} ms", p95 <= GOAL_P95_MS),
        (f"overhead <= {GOAL_OVERHEAD}x direct", f"{overhead_busy:.2f}x", overhead_busy <= 1.2),
        ("0 errors", str(errors), errors == 0),
    ]
    rows = "\n".join(
        f"| {goal} | {value} | {'met' if ok else 'missed'} |" for goal, value, ok in goals
    )
    body = f"""\
- model: `images` preset `default` at 32x32 (1 channel), {args.n} samples per request, PNG,
  `b64_json` (what the page asks for); server `gankit serve` in its own process, 1 inference
  worker, {threads} torch threads; client: {args.concurrency} threads of httpx on the same machine
- load average (1/5/15 min) before: {" / ".join(f"{x:.2f}" for x in load_before)}; after:
  {" / ".join(f"{x:.2f}" for x in load_after)}. The machine is shared with other engineers'
  test runs, so the numbers carry their load.
- {args.requests} requests at concurrency {args.concurrency}: **{errors} errors**; latency p50
  {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms; throughput {throughput:.1f} requests/s
  ({throughput * args.n:.0f} images/s) over {wall:.1f} s wall; server CPU {server_cpu:.1f} s,
  client CPU {client_cpu:.1f} s
- one request at a time ({len(sequential)} requests): median {seq_median * 1000:.0f} ms
- direct in-process `generate({args.n})` on one worker thread, as the server calls it: median
  {generate_s * 1000:.1f} ms ({encoded_s * 1000:.1f} ms with PNG encoding), same torch threads
- overhead: server seconds per request under load / direct generate =
  **{overhead_busy:.2f}x** ({per_request / encoded_s:.2f}x against generate + PNG encoding, the
  same work the server must do before HTTP); one request alone / direct generate =
  {overhead_alone:.2f}x. The goal is judged on the first, strictest ratio.

| goal | measured | |
|---|---|---|
{rows}
"""
    if args.no_record:
        print(body)
    else:
        wall_total = time.perf_counter() - bench_started
        append_section("gankit serve: loopback load", body, wall_total)


if __name__ == "__main__":
    main()
