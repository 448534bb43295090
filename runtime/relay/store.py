"""The relay's storage contract: webhook and event states, the records, the errors and :class:`Store`.

Backends live beside it: :mod:`runtime.relay.store_sqlite` (the embedded default, one file) and
:mod:`runtime.relay.store_postgres` (several instances on one database); :func:`open_store` in
:mod:`runtime.relay.stores` picks one from the settings. Both pass one behavioural suite
(tests/relay/test_store_contract.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prelude.errors import PaymapError

# webhook states
RECEIVED = "received"  # stored, not mapped yet
MAPPED = "mapped"  # produced one or more events
SKIPPED = "skipped"  # no rule for its type
DROPPED = "dropped"  # a rule matched and produced no event
FAILED = "failed"  # the mapping raised; parked with its message
WEBHOOK_STATES = (RECEIVED, MAPPED, SKIPPED, DROPPED, FAILED)

# event states
PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
SUPERSEDED = "superseded"  # replaced by a replay before it was delivered
EVENT_STATES = (PENDING, DELIVERED, DEAD, SUPERSEDED)

# delivery attempt outcomes (the attempts table; HTTP status 0 = no answer)
ATTEMPT_DELIVERED = "delivered"
ATTEMPT_RETRY = "retry"  # failed, will be retried
ATTEMPT_PAUSED = "paused"  # refused the event key: the sender paused, the event kept its place
ATTEMPT_DEAD = "dead"  # rejected for good


class StoreError(PaymapError):
    """Base class of store failures."""


class StoreUnavailable(StoreError):
    """The store cannot take writes right now (locked, disk error, closed): answer 503."""


class SchemaTooNew(StoreError):
    """The database was written by a newer paymap."""


class NotAStore(StoreError):
    """The file is not a paymap store (or one too old to read without converting it)."""


@dataclass(frozen=True)
class IncomingWebhook:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass(frozen=True)
class StoredWebhook:
    seq: int
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    state: str
    event_type: str | None
    error: str | None
    generation: int


@dataclass(frozen=True)
class NewEvent:
    """An event produced by mapping, ready to queue (``dead_reason`` set when it failed validation)."""

    event_id: str | None
    name: str | None
    payload: str  # compact JSON of the event object
    dead_reason: str | None = None


@dataclass(frozen=True)
class MappingRecord:
    """The outcome of mapping one stored webhook."""

    state: str  # MAPPED, SKIPPED, DROPPED or FAILED
    event_type: str | None
    error: str | None = None
    events: Sequence[NewEvent] = ()


@dataclass(frozen=True)
class OutgoingEvent:
    seq: int
    event_id: str | None
    payload: str
    attempts: int
    received_at: float


@dataclass
class Stats:
    webhooks: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    queue_depth: int = 0
    ready_now: int = 0
    oldest_pending_received_at: float | None = None
    oldest_pending_error: str | None = None
    oldest_pending_attempts: int = 0
    next_attempt_at: float | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    event_seq: int
    webhook_id: str
    event_id: str | None
    name: str | None
    reason: str | None
    attempts: int
    updated_at: float


@dataclass(frozen=True)
class PurgePlan:
    """What a purge removes: webhooks (ids of the first few), their events, and how many of those
    were never delivered."""

    webhooks: int
    events: int
    undelivered: int
    sample_ids: list[str]


@dataclass(frozen=True)
class FailedWebhook:
    webhook_id: str
    event_type: str | None
    error: str | None
    received_at: float


@dataclass(frozen=True)
class WebhookFilter:
    """What the console's event list (and its bulk replay) selects; every field narrows the selection.

    ``state`` is a webhook state (received, mapped, skipped, dropped, failed) or a delivery state
    (pending, delivered, dead: the webhook has such an event). ``id_prefix`` matches the start of the
    webhook-id or of an event id (``dodo:`` is dropped from the text: event ids embed the webhook-id).
    """

    state: str | None = None
    event_type: str | None = None
    since: float | None = None
    until: float | None = None
    id_prefix: str | None = None


@dataclass(frozen=True)
class WebhookSummary:
    """One line of the console's event list (no body: a page of these stays small)."""

    seq: int
    webhook_id: str
    received_at: float
    state: str
    event_type: str | None
    error: str | None
    generation: int
    events: dict[str, int]  # this generation's events by state
    event_error: str | None  # why an event of this generation is dead or waiting, if one is


@dataclass(frozen=True)
class Attempt:
    at: float
    status: int  # HTTP status; 0 = no answer (network error, timeout)
    outcome: str  # ATTEMPT_DELIVERED, ATTEMPT_RETRY, ATTEMPT_PAUSED or ATTEMPT_DEAD
    error: str | None


@dataclass(frozen=True)
class EventRecord:
    """An event a webhook produced (every generation: replays supersede older ones) and its attempts."""

    seq: int
    generation: int
    event_id: str | None
    name: str | None
    payload: str
    state: str
    attempts: int
    last_error: str | None
    created_at: float
    delivered_at: float | None
    next_attempt_at: float
    history: list[Attempt]



@dataclass(frozen=True)
class Instance:
    """One relay process sharing the store: its compiled mapping set's hash and its last heartbeat."""

    instance_id: str
    host: str
    mapping_hash: str
    started_at: float
    heartbeat_at: float
    every: float = 5.0  # seconds between its heartbeats (PAYMAP_HEARTBEAT_SECONDS)

    def alive(self, now: float) -> bool:
        """Three missed heartbeats (and a little clock skew) mean gone: killed, or cut off from the store."""
        return now - self.heartbeat_at <= 3 * self.every + 2


class Store(Protocol):
    """What the relay and its commands need from storage; every backend passes tests/relay/test_store_contract.py."""

    #: where the data lives, for messages (a path, or a URL without its password)
    location: str

    def accept(self, webhook: IncomingWebhook) -> Awaitable[bool]:
        """Durably store a received webhook; False if its ``webhook_id`` was seen before.

        Awaited on the event loop; must finish (or fail with :class:`StoreError`) within the store's
        commit timeout, so the sender gets its answer well within its own timeout.
        """
        ...

    def ping(self) -> None: ...

    def probe_write(self) -> None: ...

    def close(self) -> None: ...

    def unmapped(self, limit: int, after: int = 0) -> list[StoredWebhook]:
        """The oldest ``limit`` webhooks still to map whose seq is above ``after`` (the mapper's round
        still being recorded), oldest first."""
        ...

    def record_mappings(self, outcomes: Sequence[tuple[int, int, MappingRecord]]) -> list[bool]: ...

    def claim(self, owner: str, limit: int, max_bytes: int, lease_seconds: float) -> list[OutgoingEvent]: ...

    def renew(self, seqs: Sequence[int], owner: str, lease_seconds: float) -> list[int]: ...

    def mark_delivered(self, seqs: Sequence[int], owner: str, *, status: int | None = None) -> int: ...

    def mark_retry(
        self, seqs: Sequence[int], owner: str, delay: float, error: str, *, status: int | None = None
    ) -> int: ...

    def release(self, seqs: Sequence[int], owner: str, error: str, *, status: int | None = None) -> int: ...

    def mark_dead(self, seqs: Sequence[int], owner: str, reason: str, *, status: int | None = None) -> int: ...

    def reap_leases(self) -> int: ...

    def stats(self, *, counts: bool = True) -> Stats:
        """Counts by state, the queue, meta. ``counts`` False leaves ``webhooks`` and ``events`` empty:
        counting every row by state scans both tables, the queue's figures read only pending events."""
        ...

    def dead_letters(self, limit: int) -> list[DeadLetter]: ...

    def failed_webhooks(self, limit: int) -> list[FailedWebhook]: ...

    def select_webhooks(
        self,
        *,
        states: Iterable[str] = (),
        webhook_ids: Iterable[str] = (),
        with_dead_events: bool = False,
        since: float | None = None,
        until: float | None = None,
    ) -> list[StoredWebhook]: ...

    def browse(
        self, flt: WebhookFilter, *, limit: int, before: tuple[float, int] | None = None
    ) -> list[WebhookSummary]: ...

    def count_matching(self, flt: WebhookFilter, cap: int) -> int: ...

    def matching(self, flt: WebhookFilter, limit: int) -> list[StoredWebhook]: ...

    def webhook(self, webhook_id: str) -> tuple[StoredWebhook, list[EventRecord]] | None: ...

    def event_types(self) -> list[str]: ...

    def throughput(self, since: float, bucket_seconds: int) -> tuple[dict[int, int], dict[int, int]]: ...

    def delivered_events(self, webhook_seqs: Sequence[int]) -> dict[int, dict[str, float]]: ...

    def remap(self, seq: int, record: MappingRecord) -> int: ...

    def set_meta(self, values: dict[str, str | None]) -> None: ...

    def get_meta(self, key: str) -> str | None:
        """One shared setting (e.g. the sender's pause), cheaply: read every second by every instance."""
        ...

    def prune(self, before: float, limit: int) -> int: ...

    def bodies_containing(self, text: str) -> list[tuple[int, bytes]]: ...

    def seqs_received_before(self, before: float) -> list[int]: ...

    def purge_plan(self, seqs: Sequence[int]) -> PurgePlan: ...

    def delete_webhooks(self, seqs: Sequence[int], batch: int = 500) -> tuple[int, int]: ...

    def reclaim_space(self) -> str: ...


INSTANCE_PREFIX = "instance."  # meta keys of the instances' heartbeats (no schema change in either backend)


def heartbeat(store: Store, instance: Instance) -> None:
    """Record that ``instance`` is alive and which mapping set it runs (one small upsert)."""
    store.set_meta({INSTANCE_PREFIX + instance.instance_id: json.dumps({
        "host": instance.host, "mapping_hash": instance.mapping_hash,
        "started_at": round(instance.started_at, 3), "heartbeat_at": round(instance.heartbeat_at, 3),
        "every": instance.every,
    })})


def forget_instance(store: Store, instance_id: str) -> None:
    store.set_meta({INSTANCE_PREFIX + instance_id: None})


def instances_in(meta: dict[str, str]) -> list[Instance]:
    """The instances recorded in ``Stats.meta``, newest heartbeat first (unreadable entries skipped)."""
    found: list[Instance] = []
    for key, value in meta.items():
        if not key.startswith(INSTANCE_PREFIX):
            continue
        try:
            d = json.loads(value)
            found.append(Instance(key[len(INSTANCE_PREFIX):], str(d["host"]), str(d["mapping_hash"]),
                                  float(d["started_at"]), float(d["heartbeat_at"]), float(d.get("every", 5.0))))
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda i: -i.heartbeat_at)
