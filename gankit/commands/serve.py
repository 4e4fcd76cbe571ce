"""``gankit serve``: an HTTP API and a web page over model directories.

gankit serve runs/default                          # http://127.0.0.1:8000/
gankit serve runs/digits runs/sr --port 9000 --api-key-file key.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gankit.errors import GankitError
from gankit.provenance import read_key

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# The ServeLimits fields that have a flag (--max-n, ...), and what each bounds.
LIMIT_FLAGS = {
    "max_n": "samples per request, over all its seeds",
    "max_upload_bytes": "bytes of a request body (an uploaded image)",
    "max_pixels": "width x height of an uploaded image",
    "queue": "requests waiting or running before more get 503",
    "workers": "inference threads",
}


def read_api_key(path: str) -> str:
    """The key in ``path``, surrounding whitespace dropped; an empty or missing file is an error."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise GankitError(f"--api-key-file {file} not found; write the key into that file")
    key = file.read_text().strip()
    if not key:
        raise GankitError(f"--api-key-file {file} is empty; write the key into it")
    return key


def run(args: argparse.Namespace) -> None:
    """Load every model directory, then serve them with uvicorn until interrupted."""
    try:
        import uvicorn

        from gankit.serve import ServeLimits, create_app
    except ImportError as err:
        raise GankitError(
            f"gankit serve needs the `serve` extra ({err.name} is missing): "
            "pip install 'gankit[serve]'"
        ) from None
    api_key = read_api_key(args.api_key_file) if args.api_key_file else None
    limits = ServeLimits(**{name: getattr(args, name) for name in LIMIT_FLAGS})
    mark_key = read_key(args.mark) if args.mark else None
    app = create_app(args.models, api_key=api_key, limits=limits, mark_key=mark_key)
    where = f"http://{args.host}:{args.port}/"
    key_note = " (API key on)" if api_key else ""
    key_note += " (every image carries the provenance mark)" if mark_key else ""
    print(f"serving {', '.join(app.state.models)} at {where}{key_note}")
    if args.host not in ("127.0.0.1", "localhost", "::1") and api_key is None:
        print("warning: listening beyond this machine with no --api-key-file; anyone can use it")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def add_parser(sub: Any) -> None:
    """Add ``gankit serve`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser(
        "serve",
        help="serve model directories over HTTP: a JSON API and a web page",
        description="Serve model directories (any task) over HTTP: GET /v1/models, POST "
        "/v1/models/NAME/generate or /apply, and a web page at /. Each model is served under "
        "its folder name. See docs/serving.md.",
    )
    parser.add_argument("models", nargs="+", metavar="MODEL_DIR", help="model directories")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--api-key-file",
        default=None,
        metavar="FILE",
        help="require the key in FILE on every route but /healthz",
    )
    parser.add_argument(
        "--mark",
        default=None,
        metavar="KEYFILE",
        help="embed the invisible provenance mark of the key in KEYFILE in every image served "
        "(see `gankit provenance`)",
    )
    from gankit.serve.limits import ServeLimits

    defaults = ServeLimits()
    for name, text in LIMIT_FLAGS.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            default=getattr(defaults, name),
            metavar="N",
            help=f"{text} (default %(default)s)",
        )
    parser.set_defaults(func=run)
