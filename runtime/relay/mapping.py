"""Apply the compiled mappings to one stored webhook: outcome, deterministic ids, local checks.

Shared by the relay's mapper thread and ``paymap replay`` so both produce identical records.
Codes against the ``runtime`` interface: ``load(path) -> MappingSet`` and
``MappingSet.run(payload) -> Outcome(events: list[dict], matched: bool)``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, cast

import orjson

from runtime.errors import MappingError
from runtime.relay.inngest import encode_event, validate_event
from runtime.relay.redact import mask_personal
from runtime.relay.store import DROPPED, FAILED, MAPPED, SKIPPED, MappingRecord, NewEvent, StoredWebhook


class OutcomeLike(Protocol):
    @property
    def events(self) -> list[dict[str, Any]]: ...

    @property
    def matched(self) -> bool: ...


class MappingSetLike(Protocol):
    def run(self, payload: dict[str, Any]) -> OutcomeLike: ...


Loader = Callable[[Path], MappingSetLike]


def default_loader(path: Path) -> MappingSetLike:
    """``runtime.load``; imported late so the relay modules import without the compiler."""
    runtime = importlib.import_module("runtime")
    return cast(MappingSetLike, runtime.load(path))


def _load_json(body: bytes) -> Any:
    """``json.loads``, faster: orjson gives the same objects for what it accepts (a strict subset)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def default_event_id(webhook_id: str, index: int, count: int) -> str:
    """``dodo:<webhook-id>`` (``:<index>`` when one webhook yields several events): stable across retries."""
    return f"dodo:{webhook_id}" if count == 1 else f"dodo:{webhook_id}:{index}"


def map_webhook(
    mappings: MappingSetLike, webhook: StoredWebhook, *, event_max_bytes: int, id_suffix: str = ""
) -> MappingRecord:
    """Never raises for bad input or a failing mapping: those become FAILED records.

    ``id_suffix`` (a replay asking for new ids) is appended to every event's id, the mapping's own
    ``id`` included: Inngest must see ids it has not seen, and a resend of that replay keeps them.

    Error text is stored, logged and shown by ``paymap status``: a failing mapping quotes the value
    it failed on, so emails and phone numbers in it are masked.
    """
    record = _map_webhook(mappings, webhook, event_max_bytes=event_max_bytes, id_suffix=id_suffix)
    if record.error is None and not any(e.dead_reason for e in record.events):
        return record
    return replace(
        record,
        error=mask_personal(record.error) if record.error is not None else None,
        events=[replace(e, dead_reason=mask_personal(e.dead_reason)) if e.dead_reason else e for e in record.events],
    )


def _map_webhook(
    mappings: MappingSetLike, webhook: StoredWebhook, *, event_max_bytes: int, id_suffix: str = ""
) -> MappingRecord:
    try:
        payload = _load_json(webhook.body)
    except (ValueError, UnicodeDecodeError) as exc:
        return MappingRecord(FAILED, None, f"the stored body is not valid JSON: {exc}")
    except RecursionError:
        return MappingRecord(FAILED, None, "the stored body is JSON nested too deeply to read")
    if not isinstance(payload, dict):
        return MappingRecord(
            FAILED, None, f"the body is a JSON {type(payload).__name__}, not a Dodo webhook object"
        )
    event_type = payload.get("type") if isinstance(payload.get("type"), str) else None
    try:
        outcome = mappings.run(payload)
    except MappingError as exc:
        return MappingRecord(FAILED, event_type, str(exc))
    except Exception as exc:  # a bug in the runtime must park the webhook, not stop the relay
        return MappingRecord(FAILED, event_type, f"internal error in the mapping runtime: {type(exc).__name__}: {exc}")
    if not outcome.matched:
        return MappingRecord(SKIPPED, event_type)
    produced = list(outcome.events)
    if not produced:
        return MappingRecord(DROPPED, event_type)
    events = [
        _prepare(raw, default_event_id(webhook.webhook_id, i, len(produced)), event_max_bytes, id_suffix)
        for i, raw in enumerate(produced)
    ]
    return MappingRecord(MAPPED, event_type, None, events)


def _prepare(raw: Any, default_id: str, max_bytes: int, id_suffix: str = "") -> NewEvent:
    if not isinstance(raw, dict):
        return NewEvent(None, None, json.dumps(repr(raw)), f"the mapping produced a {type(raw).__name__}, not an event object")
    event = dict(raw)
    if event.get("id") is None:
        event["id"] = default_id
    if id_suffix and isinstance(event["id"], str):
        event["id"] += id_suffix
    if event.get("data") is None:
        event["data"] = {}
    name = event.get("name") if isinstance(event.get("name"), str) else None
    event_id = event["id"] if isinstance(event["id"], str) else None
    try:
        text = encode_event(event)
    except (TypeError, ValueError) as exc:
        return NewEvent(event_id, name, json.dumps(repr(event)), f"the event is not JSON-serialisable: {exc}")
    return NewEvent(event_id, name, text, validate_event(event, max_bytes=max_bytes, encoded=text))
