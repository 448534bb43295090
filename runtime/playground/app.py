"""The playground's HTTP side: the page, its static files, and ``POST /api/<method>`` (JSON) answered
by the worker process. Also the place the relay's operator console can reuse the static files from.

Requests from other web sites are refused (a page elsewhere could otherwise drive a server on
127.0.0.1 to write files): the ``Host`` must be the loopback name the server was started on, a
cross-site ``Origin`` is rejected, and the API only takes ``application/json`` (which browsers do
not send across sites without asking).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dsl import explain
from runtime.playground.worker import APPLY_SECONDS, COMPILE_SECONDS, Timeout, Worker, WorkerCrashed
from runtime.playground.workspace import MAX_BODY_BYTES, MAX_TEXT_CHARS, size_text

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
MAX_REQUEST_BYTES = 2 * (MAX_BODY_BYTES + MAX_TEXT_CHARS) + 64 * 1024  # JSON escapes may double text
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
_SLOW = {"save": 3, "save_test": 3, "coverage": 2, "export": 2}  # calls that do more than one compile


def _error(message: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _local(request: Request) -> str | None:
    """Why the request is refused as not coming from the page, or None."""
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in _LOCAL_HOSTS:
        return f"Host {host!r} is not this computer; open the playground at http://127.0.0.1"
    origin = request.headers.get("origin")
    if origin and origin != "null":
        o = urlsplit(origin)
        if o.hostname not in {"127.0.0.1", "localhost", "::1"} or o.netloc != host:
            return "requests from other web sites are refused"
    return None


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(root: str, *, worker: Worker | None = None) -> Starlette:
    """The playground for the ``.map`` files under ``root``."""
    work = worker or Worker(root)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(work.start)
        try:
            yield
        finally:
            await run_in_threadpool(work.close)

    async def page(request: Request) -> Response:
        refused = _local(request)
        if refused:
            return _error(refused, 403)
        return FileResponse(STATIC / "playground.html", headers={"Cache-Control": "no-store"})

    async def api(request: Request) -> Response:
        refused = _local(request)
        if refused:
            return _error(refused, 403)
        method = request.path_params["method"]
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error("send JSON (Content-Type: application/json)", 415)
        data = await _read_limited(request, MAX_REQUEST_BYTES)
        if data is None:
            return _error(f"the request is larger than {size_text(MAX_REQUEST_BYTES)}; a webhook body may be at "
                          f"most {size_text(MAX_BODY_BYTES)} and a mapping {size_text(MAX_TEXT_CHARS)}", 413)
        try:
            params = json.loads(data) if data else {}
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return _error("the request is not valid JSON", 400)
        deadline = (APPLY_SECONDS if method == "apply" else COMPILE_SECONDS) * _SLOW.get(method, 1)
        try:
            status, result = await run_in_threadpool(work.call, method, params, deadline)
        except Timeout:
            what = "applying the mapping" if method == "apply" else "compiling the mapping"
            return _error(f"{what} took longer than {deadline:g} s and was stopped; the playground restarted "
                          "its worker (is the mapping or the body unusually large or deeply nested?)",
                          504, timeout=True)
        except WorkerCrashed:
            return _error("the playground's worker stopped unexpectedly (out of memory?) and was restarted; "
                          "try again", 500)
        if status == "ok":
            return JSONResponse(result)
        if status == "refused":
            message = result.pop("message")
            code = result.pop("status", 400)
            return _error(message, code, **result)
        print(f"paymap playground: {result['message']}\n{result.get('traceback', '')}", file=sys.stderr)
        return _error(f"{result['message']} (this is a bug in paymap: please report it)", 500)

    async def error_page(request: Request) -> Response:
        """A diagnostic code's page, from the pages shipped in the package (what `paymap explain` shows)."""
        code = request.path_params["code"].removesuffix(".md")
        text = explain.page(code)
        if text is None:
            return PlainTextResponse(explain.unknown(code), status_code=404)
        return PlainTextResponse(text)

    routes = [
        Route("/", page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/docs/errors/{code:str}", error_page),
        Route("/api/{method:str}", api, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.worker = work
    return app
