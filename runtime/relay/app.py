"""The relay's HTTP face: ``POST /webhooks/dodo``, ``/healthz``, ``/readyz``, ``/metrics`` (and ``/console``).

Status codes are chosen for Dodo's retry logic: 200 only once the raw body and headers are
committed (and for a ``webhook-id`` already stored); 401 with a JSON reason for any signature
problem; 400 for a body that is not JSON; 413 over the size limit; 503 when the store cannot
commit. Never 3xx (trailing-slash redirects are off) and never 410 (the sender would disable us).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from runtime.relay.service import Relay
from runtime.relay.store import IncomingWebhook, StoreError
from runtime.relay.verify import VerificationFailed

log = logging.getLogger("paymap.relay.http")
WEBHOOK_PATHS = ("/webhooks/dodo", "/webhooks/dodo/")


class _TooLarge(Exception):
    pass


Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
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
    log.warning("webhook rejected: " + detail, extra={"status": status, "reason": reason, "webhook_id": webhook_id})
    return status, json.dumps({"error": error, "reason": reason, "detail": detail}).encode(), []


async def handle_webhook(relay: Relay, headers: dict[str, str], receive: Receive) -> Answer:
    """The whole receive path; returns (status, JSON body, extra headers)."""
    settings = relay.settings
    received_at = time.time()
    webhook_id = headers.get("webhook-id")
    try:
        body = await _read_body(receive, settings.max_body_bytes, headers.get("content-length"))
    except _TooLarge:
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
            extra={"webhook_id": webhook_id},
        )
    problem = _json_error(body)
    if problem is not None:
        return _reject(relay, 400, "invalid_json", "invalid_json", f"the body is not valid JSON: {problem}", webhook_id)
    if not webhook_id:  # only possible in insecure dev mode: derive a stable id from the body
        webhook_id = "sha256:" + hashlib.sha256(body).hexdigest()[:32]
    try:
        # the store answers within PAYMAP_ACCEPT_TIMEOUT (StoreUnavailable otherwise): no timer per request
        fresh = await relay.store.accept(IncomingWebhook(webhook_id, headers, body, received_at))
    except (StoreError, TimeoutError) as exc:
        detail = str(exc) or f"the store did not commit within {settings.accept_timeout_seconds:g} s"
        relay.metrics.rejected.labels("storage_unavailable").inc()
        log.error("webhook not stored: storage unavailable", extra={"webhook_id": webhook_id, "error": detail})
        return _UNAVAILABLE
    quoted = json.dumps(webhook_id).encode()
    if fresh:
        relay.metrics.received.inc()
        relay.mapper.wake()
        log.debug("webhook accepted", extra={"webhook_id": webhook_id})  # the mapper logs it at INFO
        return 200, _ACCEPTED + quoted + b"}", []
    relay.metrics.duplicates.inc()
    log.info("duplicate webhook: already stored", extra={"webhook_id": webhook_id})
    return 200, _DUPLICATE + quoted + b"}", []


async def _respond(send: Send, answer: Answer) -> None:
    status, body, extra = answer
    headers = [_CONTENT_TYPE, (b"content-length", b"%d" % len(body)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(relay: Relay) -> ASGIApp:
    """Build the ASGI app; the lifespan starts and stops the relay's background work.

    ``POST /webhooks/dodo`` is served by a plain ASGI function (it is the hot path: Dodo's whole
    traffic); everything else goes through Starlette.
    """

    async def unreachable(_request: Request) -> Response:  # POSTs are taken by the hot path
        raise HTTPException(500)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        problems: dict[str, str] = {}
        try:
            await run_in_threadpool(relay.store.ping)
        except StoreError as exc:
            problems["store"] = str(exc)
        if relay.holder.current is None:
            problems["mappings"] = "no mappings loaded"
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready", "store": "ok", "mappings": str(relay.holder.path)})

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
        relay.start(asyncio.get_running_loop())
        try:
            yield
        finally:
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

    intake = relay.intake
    monotonic = time.monotonic

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in WEBHOOK_PATHS:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            intake.in_flight += 1  # the mapper and sender stay out of the way while this is > 0
            intake.last_seen = monotonic()
            try:
                answer = await handle_webhook(relay, headers, receive)
            except Exception as exc:
                log.error("internal error receiving a webhook", exc_info=exc,
                          extra={"webhook_id": headers.get("webhook-id")})
                answer = _INTERNAL
            finally:
                intake.in_flight -= 1
                intake.last_seen = monotonic()  # a burst is over only once answers stop too
            await _respond(send, answer)
            return
        await app(scope, receive, send)

    return asgi
