"""Inngest's Event API contract for one event, stated once.

The relay checks every event with :func:`check_event` before queueing it (an event Inngest would
refuse is dead-lettered at once with ``Violation.reason``), and the project's Inngest test double
answers with ``Violation.server`` from the very same function, so the two agree by construction.

The rules are the server's (``pkg/event/event.go`` and the Event API handler): ``name`` a string
and not empty (Inngest compares with ``""``, so a name of spaces is accepted; ``paymap check``
warns about such names, M409) and not under ``inngest/``; ``data`` and ``user`` objects (or null);
``id`` and ``v`` strings (or null); ``ts`` an integer of milliseconds, 0 or between 1980-01-01 and
2100-01-01 inclusive; the event's JSON, as sent, at most ``max_bytes`` bytes of UTF-8; and JSON
has no NaN or Infinity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TS_MIN_MS = 315532800000  # 1980-01-01T00:00:00Z
TS_MAX_MS = 4102444800000  # 2100-01-01T00:00:00Z
MAX_EVENTS_PER_REQUEST = 5000
RESERVED_PREFIX = "inngest/"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: ``reason`` is the relay's sentence, ``server`` what Inngest answers."""

    rule: str
    reason: str
    server: str


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)  # json.dumps builds one per call


def encode_event(event: dict[str, Any]) -> str:
    """Compact JSON, as sent (and as stored, so a batch is a join of stored strings).

    The stdlib's, byte for byte: Inngest limits an event's size as sent. (orjson would write the
    same text ~8x faster only for events without floats, and telling those apart costs half of what
    it saves.)"""
    return _ENCODER.encode(event)


def _decode_error(field: str, go_type: str) -> str:
    return f"json: cannot unmarshal into Go struct field Event.{field} of type {go_type}"


def check_event(event: Any, *, max_bytes: int, encoded: str | None = None) -> Violation | None:
    """The first rule ``event`` breaks, or None if Inngest accepts it.

    ``encoded`` is the event's JSON if the caller has it already (saves encoding it twice).
    """
    if not isinstance(event, dict):
        return Violation("object", f"an event must be a JSON object, got {type(event).__name__}",
                         "Request body must contain an event object or an array of event objects")
    name = event.get("name")
    if name is not None and not isinstance(name, str):
        return Violation("name.type", f"`name` must be a string, got {type(name).__name__}",
                         _decode_error("name", "string"))
    if not name:
        return Violation("name.empty", "`name` is required and must be a non-empty string", "event name is empty")
    if name.startswith(RESERVED_PREFIX):
        return Violation("name.reserved",
                         f"`name` {name!r} is reserved: names starting with {RESERVED_PREFIX!r} are rejected by Inngest",
                         "event name is reserved for internal use")
    for key in ("data", "user"):
        value = event.get(key)
        if value is not None and not isinstance(value, dict):
            return Violation(f"{key}.type", f"`{key}` must be an object, got {type(value).__name__}",
                             _decode_error(key, "map[string]interface {}"))
    for key, what in (("id", "a string"), ("v", "a string (the schema version)")):
        value = event.get(key)
        if value is not None and not isinstance(value, str):
            return Violation(f"{key}.type", f"`{key}` must be {what}, got {type(value).__name__}",
                             _decode_error(key, "string"))
    ts = event.get("ts")
    if ts is not None:
        if isinstance(ts, bool) or not isinstance(ts, int):
            return Violation("ts.type", f"`ts` must be an integer of milliseconds since the epoch, got {ts!r}",
                             _decode_error("ts", "int64"))
        if ts != 0 and ts < TS_MIN_MS:
            hint = " (looks like seconds: multiply by 1000)" if TS_MIN_MS // 1000 <= ts < TS_MAX_MS // 1000 else ""
            return Violation("ts.early", f"`ts` {ts} is before 1980-01-01 when read as milliseconds{hint}",
                             "timestamp is before Jan 1, 1980")
        if ts > TS_MAX_MS:
            return Violation("ts.late", f"`ts` {ts} is after 2100-01-01 when read as milliseconds",
                             "timestamp is after Jan 1, 2100")
    if encoded is None:
        try:
            encoded = encode_event(event)
        except ValueError:
            return Violation("json", "the event holds NaN or Infinity, which JSON cannot carry",
                             "invalid character 'N' looking for beginning of value")
    size = len(encoded.encode())
    if size > max_bytes:
        return Violation("size", f"event is {size} bytes, over the maximum event size of {max_bytes} bytes",
                         f"Event is over the max size: Max {max_bytes} bytes / Size {size} bytes")
    return None
