"""The relay's HTTP face: ``POST /webhooks/dodo``, ``/healthz``, ``/readyz``, ``/metrics`` (and ``/console``).

Two listeners share the app: the webhook port (``POST /webhooks/dodo``, ``/healthz``, and the
console behind its token) faces the internet; the operations port (``/readyz``, ``/metrics``, ``/healthz``; loopback by default,
``PAYMAP_OPS_TOKEN`` when it is not) tells who is asking by the local port of the connection, so
business volume is never public and a scraper never competes with Dodo on the webhook port.

Status codes are chosen for Dodo's retry logic: 200 only once the raw body and headers are
committed (and for a ``webhook-id`` already stored); 401 with a JSON reason for any signature
problem; 400 for a body that is not JSON; 413 over the size limit; 503 when the store cannot
commit. Never 3xx (trailing-slash redirects are off) and never 410 (the sender would disable us).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from prelude.errors import PaymapError
from runtime.relay.redact import clip
from runtime.relay.service import Relay
from runtime.relay.store import IncomingWebhook, StoreError
from runtime.relay.verify import VerificationFailed

log = logging.getLogger("paymap.relay.http")
WEBHOOK_PATHS = ("/webhooks/dodo", "/webhooks/dodo/")
MAX_WEBHOOK_ID_CHARS = 256  # Standard Webhooks ids are short (Dodo's: msg_ + 27 characters)


class _TooLarge(PaymapError):
    pass


Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
OPS_PATHS = ("/readyz", "/metrics")
_NOT_FOUND: Answer = (404, b'{"error": "Not Found"}', [])
_TOKEN_NEEDED: Answer = (
    401, b'{"error": "this listener needs Authorization: Bearer <PAYMAP_OPS_TOKEN>"}', [(b"www-authenticate", b"Bearer")]
)

_CONTENT_TYPE = (b"content-type", b"application/json")
_ACCEPTED = b'{"status": "accepted", "webhook_id": '
_DUPLICATE = b'{"status": "duplicate", "webhook_id": '
_UNAVAILABLE: Answer = (
    503,
    json.dumps({"error": "storage_unavailable", "detail": "the webhook could not be stored; retry later"}).encode(),
    [(b"retry-after", b"30")],
)
_INTERNAL: Answer = (500, json.dumps({"error": "internal error; the webhook was not stored, retry"}).encode(), [])


async def _read_body(receive: Receive, limit: int, declared: str | None) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def stored_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers worth keeping: the signature's (``webhook-*``) and ``content-type``.

    Never ``authorization``, cookies or a proxy's ``x-forwarded-for``: the store keeps only what a
    replay or an audit of the signature needs.
    """
    return {k: v for k, v in headers.items() if k.startswith("webhook-") or k == "content-type"}


def _json_error(body: bytes) -> str | None:
    """Why ``body`` is not JSON as the mapper's ``json.loads`` reads it, or None if it is."""
    try:
        orjson.loads(body)  # ~3x faster; accepts a subset of what json.loads does (no NaN, UTF-8 only)
        return None
    except orjson.JSONDecodeError:
        pass
    try:
        json.loads(body)  # the stdlib decides: NaN, lone surrogates, a BOM or UTF-16 are JSON to the mapper
    except RecursionError:
        return "it is nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return str(exc)
    return None


def _reject(relay: Relay, status: int, error: str, reason: str, detail: str, webhook_id: str | None) -> Answer:
    relay.metrics.rejected.labels(reason).inc()
    held = relay.rejection_log.allow()  # the sender may be anyone: bound the lines and their size
    if held is not None:
        extra: dict[str, object] = {"status": status, "reason": reason, "webhook_id": clip(webhook_id)}
        if held:
            extra["suppressed"] = held
        log.warning("webhook rejected: " + detail, extra=extra)
    return status, json.dumps({"error": error, "reason": reason, "detail": detail}).encode(), []


def _header_problem(relay: Relay, headers: dict[str, str]) -> Answer | None:
    """Headers over the size bounds (uvicorn's h11 bounds them too, its httptools does not)."""
    limit = relay.settings.max_header_bytes
    if sum(len(k) + len(v) for k, v in headers.items()) > limit:
        return _reject(relay, 431, "headers_too_large", "headers_too_large",
                       f"the request headers are over {limit} bytes (PAYMAP_MAX_HEADER_BYTES)", None)
    webhook_id = headers.get("webhook-id")
    if webhook_id is not None and len(webhook_id) > MAX_WEBHOOK_ID_CHARS:
        return _reject(relay, 400, "invalid_webhook_id", "webhook_id_too_long",
                       f"webhook-id is {len(webhook_id)} characters; Standard Webhooks ids are short "
                       f"(at most {MAX_WEBHOOK_ID_CHARS} accepted)", webhook_id[:64] + "…")
    return None


class BodyDeadlines:
    """PAYMAP_BODY_TIMEOUT for every request reading its body, with one sweeping timer per event loop.

    A timer per request (``asyncio.timeout``) costs more than the rest of the header checks on the
    hot path; here a request costs two dict operations, and a sweep every ``timeout / 4`` (at most
    1 s) cancels the reads past their deadline, so one ends between ``timeout`` and ``timeout * 1.25``.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._step = min(1.0, timeout / 4)
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweep: asyncio.TimerHandle | None = None

    def start(self, task: asyncio.Task[Any]) -> None:
        self._reading[task] = time.monotonic() + self.timeout
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self._step, self._sweep_now)

    def finish(self, task: asyncio.Task[Any]) -> bool:
        """Stop watching ``task``; True if it was cancelled for being too slow (then it is uncancelled)."""
        self._reading.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            task.uncancel()
            return True
        return False

    def _sweep_now(self) -> None:
        self._sweep = None
        now = time.monotonic()
        for task, deadline in list(self._reading.items()):
            if deadline <= now:
                del self._reading[task]
                self._expired.add(task)
                task.cancel()
        if self._reading:
            self._sweep = asyncio.get_running_loop().call_later(self._step, self._sweep_now)


def _body_timeout(relay: Relay, webhook_id: str | None) -> Answer:
    status, text, _extra = _reject(
        relay, 408, "request_timeout", "body_timeout",
        f"the body did not arrive within {relay.settings.body_timeout_seconds:g} s (PAYMAP_BODY_TIMEOUT)", webhook_id)
    return status, text, [(b"connection", b"close")]


async def handle_webhook(
    relay: Relay,
    headers: dict[str, str],
    receive: Receive,
    bodies: asyncio.Semaphore | None = None,
    deadlines: BodyDeadlines | None = None,
) -> Answer:
    """The whole receive path; returns (status, JSON body, extra headers).

    Everything that can be refused on the headers alone is refused before the body is read; the body
    must then arrive within ``deadlines`` (PAYMAP_BODY_TIMEOUT), and at most ``bodies`` are read at once.
    """
    relay.intake.arrived()  # any request here, refused or not, is load the event loop must get through
    settings = relay.settings
    received_at = time.time()
    webhook_id = headers.get("webhook-id")
    problem = _header_problem(relay, headers)
    if problem is not None:
        return problem
    if relay.verifier is not None:
        try:
            relay.verifier.precheck(headers)
        except VerificationFailed as failure:
            return _reject(relay, 401, "invalid_signature", failure.reason, failure.detail, webhook_id)
    task = asyncio.current_task() if deadlines is not None else None
    if deadlines is not None and task is not None:
        deadlines.start(task)
    too_large = False
    body = b""
    try:
        if bodies is None:
            body = await _read_body(receive, settings.max_body_bytes, headers.get("content-length"))
        else:
            async with bodies:
                body = await _read_body(receive, settings.max_body_bytes, headers.get("content-length"))
    except _TooLarge:
        too_large = True
    except asyncio.CancelledError:
        if deadlines is None or task is None or not deadlines.finish(task):
            raise  # the server is stopping
        return _body_timeout(relay, webhook_id)
    if deadlines is not None and task is not None and deadlines.finish(task):
        # the deadline passed just as the body completed: take the cancellation still pending
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)
        return _body_timeout(relay, webhook_id)
    if too_large:
        return _reject(relay, 413, "payload_too_large", "too_large",
                       f"the body is over {settings.max_body_bytes} bytes (PAYMAP_MAX_BODY_BYTES)", webhook_id)
    if relay.verifier is not None:
        try:
            relay.verifier.verify(body, headers)
        except VerificationFailed as failure:
            return _reject(relay, 401, "invalid_signature", failure.reason, failure.detail, webhook_id)
    else:
        log.warning(
            "INSECURE DEV MODE: webhook accepted WITHOUT signature verification "
            "(set DODO_PAYMENTS_WEBHOOK_KEY and drop --insecure-dev in production)",
            extra={"webhook_id": clip(webhook_id)},
        )
    why = _json_error(body)
    if why is not None:
        return _reject(relay, 400, "invalid_json", "invalid_json", f"the body is not valid JSON: {why}", webhook_id)
    if not webhook_id:  # only possible in insecure dev mode: derive a stable id from the body
        webhook_id = "sha256:" + hashlib.sha256(body).hexdigest()[:32]
    intake = relay.intake
    intake.committing += 1  # the writer's backlog, one of the measures of saturation (worker.Intake)
    try:
        # the store answers within PAYMAP_ACCEPT_TIMEOUT (StoreUnavailable otherwise): no timer per request
        fresh = await relay.store.accept(IncomingWebhook(webhook_id, stored_headers(headers), body, received_at))
    except (StoreError, TimeoutError) as exc:
        detail = str(exc) or f"the store did not commit within {settings.accept_timeout_seconds:g} s"
        relay.metrics.rejected.labels("storage_unavailable").inc()
        log.error("webhook not stored: storage unavailable", extra={"webhook_id": webhook_id, "error": detail})
        return _UNAVAILABLE
    finally:
        intake.committing -= 1
    quoted = json.dumps(webhook_id).encode()
    if fresh:
        relay.metrics.received.inc()
        relay.mapper.wake()
        log.debug("webhook accepted", extra={"webhook_id": webhook_id})  # the mapper logs it at INFO
        return 200, _ACCEPTED + quoted + b"}", []
    relay.metrics.duplicates.inc()
    log.info("duplicate webhook: already stored", extra={"webhook_id": webhook_id})
    return 200, _DUPLICATE + quoted + b"}", []


READY_PROBE_SECONDS = 1.0  # /readyz commits a test write at most this often; scrapes in between reuse the answer


class WriteProbe:
    """The store's ability to commit, tested with a real write at most every READY_PROBE_SECONDS."""

    def __init__(self, relay: Relay) -> None:
        self._relay = relay
        self._checked_at = -READY_PROBE_SECONDS
        self._problem: str | None = None
        self._running: asyncio.Future[str | None] | None = None

    async def check(self) -> str | None:
        """None when a write commits, else why not."""
        if time.monotonic() - self._checked_at < READY_PROBE_SECONDS:
            return self._problem
        if self._running is None:  # one probe at a time; concurrent scrapes wait for its answer
            self._running = asyncio.ensure_future(self._probe())
        running = self._running
        try:
            return await asyncio.shield(running)
        finally:
            if running.done() and self._running is running:
                self._running = None

    async def _probe(self) -> str | None:
        try:
            await run_in_threadpool(self._relay.store.probe_write)
            problem = None
        except (StoreError, OSError) as exc:
            problem = f"the store cannot commit: {exc}"
        self._problem, self._checked_at = problem, time.monotonic()
        return problem


async def _respond(send: Send, answer: Answer) -> None:
    status, body, extra = answer
    headers = [_CONTENT_TYPE, (b"content-length", b"%d" % len(body)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _listener_port(scope: Scope) -> int | None:
    server = scope.get("server")
    return int(server[1]) if server and len(server) > 1 and server[1] is not None else None


def _has_token(scope: Scope, expected: bytes) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return hmac.compare_digest(value, expected)
    return False


def create_app(relay: Relay, *, ops_port: int | None = None) -> ASGIApp:
    """Build the ASGI app; the lifespan starts and stops the relay's background work.

    ``POST /webhooks/dodo`` is served by a plain ASGI function (it is the hot path: Dodo's whole
    traffic); everything else goes through Starlette. Connections to ``ops_port`` (default
    PAYMAP_OPS_PORT) get readiness and metrics and nothing else; the others never get them.
    """
    ops_port = relay.settings.ops_port if ops_port is None else ops_port
    token = relay.settings.ops_token
    expected = f"Bearer {token}".encode() if token else None

    async def unreachable(_request: Request) -> Response:  # POSTs are taken by the hot path
        raise HTTPException(500)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    probe = WriteProbe(relay)

    async def readyz(_request: Request) -> Response:
        """Ready = a webhook would be accepted now: the store commits a write, and mappings are loaded."""
        problems: dict[str, str] = {}
        store_problem = await probe.check()
        if store_problem is not None:
            problems["store"] = store_problem
        if relay.holder.current is None:
            problems["mappings"] = "no mappings loaded"
        warnings: dict[str, object] = {}
        if relay.holder.rejected is not None:
            warnings["mappings_reload_rejected"] = relay.holder.rejected
        signatures = "verified" if relay.verifier is not None else "NOT VERIFIED (insecure dev mode)"
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems, "signatures": signatures, **warnings},
                                status_code=503)
        return JSONResponse(
            {"status": "ready", "store": "ok", "mappings": str(relay.holder.path), "signatures": signatures, **warnings}
        )

    async def metrics(_request: Request) -> Response:
        data = await run_in_threadpool(generate_latest, relay.metrics.registry)
        return Response(data, media_type=CONTENT_TYPE_LATEST)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    async def server_error(_request: Request, exc: Exception) -> Response:
        log.error("internal error handling a request", exc_info=exc)
        return JSONResponse({"error": "internal error; the webhook was not stored, retry"}, status_code=500)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        unwatch = relay.intake.watch(loop)  # the loop's lag tells mapper and sender when to step aside
        relay.start(loop)
        try:
            yield
        finally:
            unwatch()
            relay.detach_signals()
            await run_in_threadpool(relay.stop)

    routes: list[BaseRoute] = [
        Route("/webhooks/dodo", unreachable, methods=["POST"]),
        Route("/webhooks/dodo/", unreachable, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    token = (relay.settings.console_token or "").strip()
    if token:  # no token, no console: not even its login page is served
        from runtime.relay.console import PREFIX, console_routes

        async def to_console(_request: Request) -> Response:
            return RedirectResponse(PREFIX + "/", status_code=303)

        routes += [Route(PREFIX, to_console, methods=["GET"]), Mount(PREFIX, routes=console_routes(relay, token))]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False

    bodies = asyncio.Semaphore(relay.settings.max_concurrent_bodies)  # memory: at most this many bodies at once
    deadlines = BodyDeadlines(relay.settings.body_timeout_seconds)

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _listener_port(scope) == ops_port:
            if scope["path"] not in (*OPS_PATHS, "/healthz"):
                await _respond(send, _NOT_FOUND)
                return
            if expected is not None and not _has_token(scope, expected):
                await _respond(send, _TOKEN_NEEDED)
                return
            await app(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] in OPS_PATHS:
            await _respond(send, _NOT_FOUND)  # never on the webhook port
            return
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in WEBHOOK_PATHS:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            try:
                answer = await handle_webhook(relay, headers, receive, bodies, deadlines)
            except Exception as exc:
                log.error("internal error receiving a webhook", exc_info=exc,
                          extra={"webhook_id": clip(headers.get("webhook-id"))})
                answer = _INTERNAL
            await _respond(send, answer)
            return
        await app(scope, receive, send)

    return asgi
