"""``gankit serve``: an HTTP API and a web page over model directories (FastAPI + uvicorn).

:func:`create_app` is imported on first use, so ``gankit --help`` and :class:`ServeLimits` work
without the ``serve`` extra installed.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from gankit.serve import create_app
    >>> client = TestClient(create_app([image_model], max_n=64))
    >>> client.get("/healthz").json()["status"]
    'ok'
"""

from __future__ import annotations

from typing import Any

from gankit.serve.limits import ServeLimits

__all__ = ["ServeLimits", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from gankit.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'gankit.serve' has no attribute {name!r}")
