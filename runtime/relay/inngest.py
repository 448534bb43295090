"""Inngest Event API: the local event check (Inngest's own rules) and the HTTP sender.

Events are checked before they are queued so an event Inngest would reject is dead-lettered at
once with a precise reason instead of poisoning a batch. The rules mirror the server's
(``pkg/event/event.go``): non-empty ``name`` not under ``inngest/``; ``data`` an object; ``user`` an
object; ``ts`` an integer of milliseconds between 1980 and 2100; ``id`` and ``v`` strings; size.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from runtime.relay.redact import mask_personal

TS_MIN_MS = 315532800000  # 1980-01-01T00:00:00Z
TS_MAX_MS = 4102444800000  # 2100-01-01T00:00:00Z


def validate_event(event: Any, *, max_bytes: int, encoded: str | None = None) -> str | None:
    """Return why Inngest would reject ``event`` (one sentence), or None if it is acceptable.

    ``encoded`` is the event's JSON if the caller has it already (saves encoding it twice).
    """
    if not isinstance(event, dict):
        return f"an event must be a JSON object, got {type(event).__name__}"
    name = event.get("name")
    if not isinstance(name, str) or not name.strip():
        return "`name` is required and must be a non-empty string"
    if name.startswith("inngest/"):
        return f"`name` {name!r} is reserved: names starting with 'inngest/' are rejected by Inngest"
    if "data" in event and event["data"] is not None and not isinstance(event["data"], dict):
        return f"`data` must be an object, got {type(event['data']).__name__}"
    if event.get("user") is not None and not isinstance(event["user"], dict):
        return f"`user` must be an object, got {type(event['user']).__name__}"
    if event.get("id") is not None and not isinstance(event["id"], str):
        return f"`id` must be a string, got {type(event['id']).__name__}"
    if event.get("v") is not None and not isinstance(event["v"], str):
        return f"`v` must be a string (the schema version), got {type(event['v']).__name__}"
    ts = event.get("ts")
    if ts is not None:
        if isinstance(ts, bool) or not isinstance(ts, int):
            return f"`ts` must be an integer of milliseconds since the epoch, got {ts!r}"
        if ts != 0 and ts < TS_MIN_MS:
            hint = " (looks like seconds: multiply by 1000)" if 315532800 <= ts < 4102444800 else ""
            return f"`ts` {ts} is before 1980-01-01 when read as milliseconds{hint}"
        if ts > TS_MAX_MS:
            return f"`ts` {ts} is after 2100-01-01 when read as milliseconds"
    size = len((encoded if encoded is not None else encode_event(event)).encode())
    if size > max_bytes:
        return f"event is {size} bytes, over the maximum event size of {max_bytes} bytes"
    return None


def encode_event(event: dict[str, Any]) -> str:
    """Compact JSON, as sent (and as stored, so a batch is a join of stored strings)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


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
