"""What the browser tests and the page screenshots share: a Chromium to drive and a real server.

Browsers cannot be downloaded here (``playwright install`` is not an option): the tests use the
system's Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it) through playwright's
``executable_path``, or the one ``GANKIT_CHROMIUM`` names.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The Chromium executable to drive, or None when this machine has none."""
    named = os.environ.get("GANKIT_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return next((path for path in map(shutil.which, _NAMES) if path), None)


def gankit_command(*args: str) -> list[str]:
    """``gankit ARGS`` as this interpreter runs it (the worktree's gankit, not an installed one)."""
    return [sys.executable, "-m", "gankit.cli", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(model_dirs: list[Path], timeout: float = 120) -> Iterator[str]:
    """``gankit serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    args = gankit_command("serve", *map(str, model_dirs), "--port", str(port))
    server = subprocess.Popen(args, env=environment(), stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gankit serve exited: {server.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError as err:
                if time.monotonic() > deadline:
                    message = f"gankit serve did not answer on {url} in {timeout} s"
                    raise TimeoutError(message) from err
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
