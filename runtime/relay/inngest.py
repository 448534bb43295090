"""Inngest Event API: the local event check (Inngest's own rules) and the HTTP sender.

Events are checked before they are queued so an event Inngest would reject is dead-lettered at
once with a precise reason instead of poisoning a batch. The rules are stated once, in
:mod:`runtime.relay.contract`, which the Inngest test double runs too.
"""

from __future__ import annotations

import base64
import email.utils
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from runtime.relay.contract import check_event, encode_event
from runtime.relay.redact import mask_personal

__all__ = ["InngestSender", "SendResult", "encode_event", "parse_retry_after", "validate_event"]


def validate_event(event: Any, *, max_bytes: int, encoded: str | None = None) -> str | None:
    """Return why Inngest would reject ``event`` (one sentence), or None if it is acceptable."""
    violation = check_event(event, max_bytes=max_bytes, encoded=encoded)
    return None if violation is None else violation.reason


@dataclass(frozen=True)
class SendResult:
    """What happened to one request: ``status`` 0 means no HTTP answer (network error/timeout)."""

    status: int
    error: str
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in (408, 429) or self.status >= 500

    @property
    def auth(self) -> bool:
        """Configuration problems: wrong key, wrong environment, wrong URL (3xx)."""
        return self.status in (401, 403, 404) or 300 <= self.status < 400

    @property
    def too_large(self) -> bool:
        return self.status == 413 or (self.status == 400 and "over the max size" in self.error)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _error_text(response: httpx.Response) -> str:
    """Inngest's reason, stored as the event's error and logged: it may quote the event, so it is masked."""
    return mask_personal(_raw_error_text(response))


def _raw_error_text(response: httpx.Response) -> str:
    text = response.text[:500]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        return f"HTTP {response.status_code}: {body['error']}"
    return f"HTTP {response.status_code}: {text.strip() or response.reason_phrase}"


class InngestSender:
    """POST batches to ``{base}/e/{key}`` over one keep-alive connection pool."""

    def __init__(
        self, base_url: str, event_key: str, *, timeout: float, env: str | None = None, placeholder_key: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``placeholder_key``: no INNGEST_EVENT_KEY, the SDK's placeholder is sent (a dev server takes any).
        ``transport``: the network as one object (httpx's seam); tests pass ``httpx.MockTransport`` to
        exercise the delivery policy without sockets. None is the real network."""
        base = base_url.rstrip("/")
        self.url = f"{base}/e/{event_key}"
        # never the whole key: its first characters say which one it is
        self.display_url = f"{base}/e/…" if placeholder_key else f"{base}/e/{event_key[:6]}…"
        self.target = (f"{base} (no INNGEST_EVENT_KEY: sending to the dev server)" if placeholder_key
                       else self.display_url + (f" (INNGEST_ENV {env})" if env else ""))
        headers = {"content-type": "application/json", "user-agent": "paymap-relay/0.1"}
        if env:
            headers["x-inngest-env"] = env
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers=headers,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=4, max_connections=4),
            transport=transport,
        )

    def send(self, payloads: list[str]) -> SendResult:
        """Send stored event JSON strings as one array; never raises for HTTP or network trouble."""
        body = ("[" + ",".join(payloads) + "]").encode()
        # a fresh seed per request; the stable `id` of each event is what makes resends safe
        seed = f"{int(time.time() * 1000)},{base64.b64encode(os.urandom(10)).decode()}"
        try:
            response = self._client.post(self.url, content=body, headers={"x-inngest-event-id-seed": seed})
        except httpx.TimeoutException as exc:
            return SendResult(0, f"timeout talking to {self.display_url}: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return SendResult(0, f"cannot reach {self.display_url}: {type(exc).__name__}: {exc}")
        if response.status_code == 200:
            return SendResult(200, "")
        return SendResult(
            response.status_code,
            _error_text(response),
            parse_retry_after(response.headers.get("retry-after")),
        )

    def close(self) -> None:
        self._client.close()
