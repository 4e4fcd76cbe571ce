"""The FastAPI application: the JSON API and the web page over a set of model directories.

Routes (every one but ``/healthz`` needs the API key when one is set):

- ``GET /healthz``: liveness, no key;
- ``GET /v1/models``: each model's name, task, preset, what it accepts, version and hashes;
- ``POST /v1/models/{name}/generate``: samples from a generator (JSON body,
  :class:`~gankit.serve.inference.GenerateRequest`);
- ``POST /v1/models/{name}/apply``: an uploaded image through a translator (multipart);
- ``POST /v1/provenance/detect``: P(generated) of an uploaded image by the shipped detector of
  generated images (multipart: ``image``, ``threshold``);
- ``GET /`` and ``GET /static/...``: the web page (no external resources).

Every refusal is ``{"error": "one message"}`` with its 4xx status; an overloaded server answers
503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gankit._version import __version__
from gankit.config import replace
from gankit.errors import GankitError
from gankit.provenance.detector import DEFAULT_THRESHOLD
from gankit.provenance.keys import key_bytes
from gankit.serve import inference
from gankit.serve.auth import check_key
from gankit.serve.errors import RequestError
from gankit.serve.files import OutputFile, zip_bytes
from gankit.serve.limits import ServeLimits
from gankit.serve.models import ServedModel, load_models
from gankit.serve.queue import InferenceQueue, Overloaded
from gankit.tasks.base import Generator, Translator

log = logging.getLogger("gankit.serve")

# The page's files (package data), served from memory; the media type of each.
STATIC_FILES = {"index.html": "text/html", "app.js": "text/javascript", "app.css": "text/css"}
# Room for the multipart framing and form fields around an upload of max_upload_bytes.
_FORM_OVERHEAD = 64 * 1024
# The page loads nothing from elsewhere; images arrive as data: or blob: URLs.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_RAW_SECURITY_HEADERS = [(k.lower().encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()]


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes before they are buffered in memory.

    A declared ``Content-Length`` is checked up front; a streamed (chunked) body is counted as it
    arrives, and once over the limit the client gets the 413 here while the app is told the
    client left (raising inside the app instead would come back as FastAPI's 400 "error
    parsing the body").
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.message = f"the request body is larger than this server takes ({limit} bytes)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                refused = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:  # after the 413, whatever the app answers is dropped
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:
            if not refused:  # the app failing on the cut-off body is expected; nothing else is
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"error": self.message}, status_code=413)(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: :data:`_SECURITY_HEADERS` on every answer.

    Plain ASGI rather than ``@app.middleware("http")``, whose response streaming costs about a
    millisecond per request (measured with bench/serve_load.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_RAW_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def _answer(files: list[OutputFile], response: str, **facts: Any) -> Response:
    """Files as the client asked: JSON with base64 bodies, one raw body, or a zip."""
    if response == "b64_json":
        return JSONResponse({**facts, "files": [file.as_json() for file in files]})
    if len(files) == 1:
        name = files[0].name.rpartition("/")[2]
        return Response(
            files[0].data,
            media_type=files[0].media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        zip_bytes(files),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="samples.zip"'},
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(err: RequestValidationError) -> str:
    """Pydantic's errors as one line: ``field: problem; field: problem``."""
    parts = []
    for item in err.errors():
        where = ".".join(str(part) for part in item["loc"] if part not in ("body", "query"))
        parts.append(f"{where or 'body'}: {item['msg']}")
    return "; ".join(parts)


def _static_files() -> dict[str, bytes]:
    folder = resources.files("gankit.serve") / "static"
    return {name: (folder / name).read_bytes() for name in STATIC_FILES}


def create_app(
    model_dirs: list[str | Path],
    *,
    api_key: str | None = None,
    limits: ServeLimits | None = None,
    mark_key: str | bytes | None = None,
    **overrides: int,
) -> FastAPI:
    """The server's app over ``model_dirs``, each loaded once and served under its folder name.

    ``api_key``: when set, every route but ``/healthz`` needs it. ``limits`` (or keyword
    overrides of its fields: ``max_n=``, ``queue=``, ...) bound what a request may ask.
    ``mark_key``: when set, every image the server makes (generated or translated) carries the
    key's invisible provenance mark (:mod:`gankit.provenance`).

    Example:
        >>> from fastapi.testclient import TestClient
        >>> client = TestClient(create_app([image_model]))
        >>> client.get("/v1/models").json()[0]["inference"]
        'generate'
    """
    limits = replace(limits or ServeLimits(), "serve limit", **overrides)
    if api_key is not None and not api_key:
        raise GankitError("the API key is empty; put a key in the --api-key-file")
    if mark_key is not None:
        key_bytes(mark_key)  # a short key fails at start, not on the first request
    models = load_models(model_dirs)
    queue = InferenceQueue(limits.queue, limits.workers)
    static = _static_files()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        queue.close()

    # No /docs or /openapi.json: FastAPI's docs page loads its scripts from a CDN.
    app = FastAPI(
        title="gankit serve",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.models = models
    app.state.limits = limits
    app.state.queue = queue

    async def authorize(
        authorization: str | None = Header(None), x_api_key: str | None = Header(None)
    ) -> None:
        if api_key is not None:
            check_key(api_key, authorization, x_api_key)

    def served(name: str) -> ServedModel:
        if name not in models:
            raise RequestError(404, f"no model named {name!r}; served: {', '.join(models)}")
        return models[name]

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "models": len(models), "version": __version__}

    router = APIRouter(dependencies=[Depends(authorize)])

    @router.get("/v1/models")
    async def list_models() -> list[dict[str, Any]]:
        return [model.listing() for model in models.values()]

    @router.post("/v1/models/{name}/generate")
    async def generate(name: str, request: inference.GenerateRequest) -> Response:
        model = served(name)
        inference.check_shape(model, Generator, "generate")
        files = await queue.run(inference.generate, model, request, limits, mark_key)
        return _answer(files, request.response, model=name, n=request.n, layout=request.layout)

    @router.post("/v1/models/{name}/apply")
    async def apply(
        name: str,
        image: Annotated[UploadFile, File(description="the image to translate")],
        direction: Annotated[str | None, Form()] = None,
        format: Annotated[str, Form()] = "png",
        response: Annotated[str, Form()] = "b64_json",
        ema: Annotated[bool, Form()] = True,
    ) -> Response:
        model = served(name)
        inference.check_shape(model, Translator, "apply")
        if response not in ("b64_json", "binary"):
            raise RequestError(422, f"response {response!r}: choose b64_json or binary")
        # One byte more than the limit tells "too large" from "exactly the limit".
        data = await image.read(limits.max_upload_bytes + 1)
        files = await queue.run(
            inference.apply, model, data, direction, format, ema, limits, mark_key
        )
        return _answer(files, response, model=name)

    @router.post("/v1/provenance/detect")
    async def detect_generated(
        image: Annotated[UploadFile, File(description="the image to judge")],
        threshold: Annotated[float, Form()] = DEFAULT_THRESHOLD,
    ) -> dict[str, Any]:
        data = await image.read(limits.max_upload_bytes + 1)
        return await queue.run(inference.detect_upload, data, threshold, limits)

    def page_file(name: str) -> Callable[[], Awaitable[Response]]:
        async def serve_file() -> Response:
            return Response(static[name], media_type=STATIC_FILES[name])

        return serve_file

    router.add_api_route("/", page_file("index.html"), methods=["GET"], include_in_schema=False)
    for file_name in ("app.js", "app.css"):
        router.add_api_route(f"/static/{file_name}", page_file(file_name), methods=["GET"])
    app.include_router(router)

    @app.exception_handler(RequestError)
    async def request_error(request: Request, err: RequestError) -> JSONResponse:
        return _error(err.status, str(err), err.headers)

    @app.exception_handler(GankitError)
    async def gankit_error(request: Request, err: GankitError) -> JSONResponse:
        return _error(422, str(err))

    @app.exception_handler(Overloaded)
    async def overloaded(request: Request, err: Overloaded) -> JSONResponse:
        return _error(503, str(err), {"Retry-After": str(err.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(err))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return _error(err.status_code, str(err.detail), getattr(err, "headers", None))

    @app.exception_handler(MemoryError)
    async def out_of_memory(request: Request, err: MemoryError) -> JSONResponse:
        return _error(413, "not enough memory for this request; ask for fewer or smaller samples")

    app.add_middleware(BodyLimit, limit=limits.max_upload_bytes + _FORM_OVERHEAD)
    app.add_middleware(SecurityHeaders)
    return app
