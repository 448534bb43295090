"""The relay's HTTP server: uvicorn, with the bounds a server facing the internet needs.

uvicorn closes an idle keep-alive connection, but not one that opens and sends nothing or sends its
headers a byte at a time. :func:`http_protocol` adds that deadline to whichever HTTP implementation
uvicorn would pick; the body deadline and the bound on bodies read at once are in ``app.py``;
``limit_concurrency`` answers 503 beyond ``PAYMAP_MAX_CONNECTIONS`` connections.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from runtime.relay.app import create_app
from runtime.relay.service import Relay

log = logging.getLogger("paymap.relay.http")


def http_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, closing a connection whose request headers take over ``header_timeout`` s.

    The clock starts when the connection opens and again when a response ends (the next request on
    a kept-alive connection); it stops mattering once a request's headers are in (the app's body
    deadline takes over).
    """
    base: Any = AutoHTTPProtocol

    class Protocol(base):  # type: ignore[misc]
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
            self._header_deadline = self.loop.call_later(header_timeout, self._expired)

        def _expired(self) -> None:
            self._header_deadline = None
            cycle = self.cycle
            waiting = cycle is None or cycle.response_complete  # no request in progress: headers still due
            if waiting and not self.transport.is_closing():
                self.transport.close()

    Protocol.__name__ = Protocol.__qualname__ = f"Deadline{base.__name__}"
    return Protocol


def raise_open_files_limit(connections: int) -> None:
    """Each connection is a file descriptor: lift the soft limit if it is below what the bound needs."""
    needed = connections + 64  # the store, its WAL, the watcher, the Inngest client, ...
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            target = soft
        if target < needed:
            log.warning(
                "the open files limit is below PAYMAP_MAX_CONNECTIONS: connections past it are refused by the "
                "system, not answered 503; raise `ulimit -n` or lower PAYMAP_MAX_CONNECTIONS",
                extra={"open_files_limit": target, "max_connections": connections},
            )


def server_config(relay: Relay, *, ops_port: int | None = None, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``paymap serve`` (the tests run the same); ``ops_port`` is the
    operations listener's actual port (readiness and metrics) when it was bound to port 0."""
    s = relay.settings
    raise_open_files_limit(s.max_connections)
    values: dict[str, Any] = {
        "host": s.host,
        "port": s.port,
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
        "http": http_protocol(s.header_timeout_seconds),
        "limit_concurrency": s.max_connections,
        "h11_max_incomplete_event_size": s.max_header_bytes,
    }
    values.update(overrides)
    return uvicorn.Config(create_app(relay, ops_port=ops_port), **values)
