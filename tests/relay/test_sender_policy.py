"""The sender's delivery policy, unit by unit: Inngest's answers come from ``httpx.MockTransport``
(the sender's transport seam), the queue is a real SQLite store. Fast (no sockets, no threads); the
same policy is exercised end to end through uvicorn in test_delivery.py."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from runtime.relay import worker
from runtime.relay.inngest import InngestSender
from runtime.relay.metrics import RelayMetrics
from runtime.relay.store import IncomingWebhook, MappingRecord, NewEvent
from runtime.relay.store_sqlite import SQLiteStore
from runtime.relay.worker import Sender

from .harness import fast_settings

URL = "http://inngest.test"
Answer = Callable[[list[dict[str, object]]], httpx.Response]


@dataclass
class Inngest:
    """Inngest's Event API as a function of each request's events; records every request."""

    answer: Answer
    requests: list[list[str]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)
        self.requests.append([str(e["id"]) for e in events])
        return self.answer(events)


@dataclass
class Rig:
    store: SQLiteStore
    sender: Sender
    inngest: Inngest
    db_path: Path

    def deliver_once(self) -> None:
        """One round of the sender's loop (Sender._run): claim a batch, deliver it."""
        batch = self.store.claim(self.sender.owner, 100, 1 << 20, 30.0)
        assert batch, "nothing to deliver"
        self.sender._hold = 0.0
        self.sender._deliver(batch, fresh=True)

    def states(self) -> dict[str, str]:
        conn = sqlite3.connect(self.db_path)
        try:
            return dict(conn.execute("SELECT event_id, state FROM events"))
        finally:
            conn.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Callable[[Answer, int], Rig]]:
    made: list[tuple[SQLiteStore, InngestSender]] = []

    def make(answer: Answer, count: int) -> Rig:
        settings = fast_settings(tmp_path, URL)
        store = SQLiteStore(settings.db_path)
        inngest = Inngest(answer)
        client = InngestSender(URL, "test-key", timeout=2, transport=httpx.MockTransport(inngest))
        made.append((store, client))
        events = [NewEvent(f"ev{i}", "app/x", json.dumps({"name": "app/x", "id": f"ev{i}", "data": {}}))
                  for i in range(count)]
        asyncio.run(_accept(store))
        [webhook] = store.unmapped(10)
        store.record_mappings([(webhook.seq, webhook.generation, MappingRecord("mapped", "payment.succeeded", None, events))])
        return Rig(store, Sender(store, client, settings, RelayMetrics()), inngest, settings.db_path)

    yield make
    for store, client in made:
        client.close()
        store.close()


def ok(events: list[dict[str, object]]) -> httpx.Response:
    return httpx.Response(200, json={"ids": [e["id"] for e in events], "status": 200})


def test_a_batch_accepted_is_delivered_in_one_request(rig: Callable[[Answer, int], Rig]) -> None:
    r = rig(ok, 3)
    r.deliver_once()
    assert r.inngest.requests == [["ev0", "ev1", "ev2"]]
    assert set(r.states().values()) == {"delivered"}


def test_a_server_error_is_retried_later_and_keeps_every_event(rig: Callable[[Answer, int], Rig]) -> None:
    r = rig(lambda _: httpx.Response(503, json={"error": "down"}), 2)
    r.deliver_once()
    assert set(r.states().values()) == {"pending"}
    assert r.sender._hold > 0  # backoff before the next attempt
    assert "HTTP 503: down" in (r.store.stats().meta.get(worker.LAST_ERROR_KEY) or "")


def test_429_waits_at_least_retry_after(rig: Callable[[Answer, int], Rig]) -> None:
    r = rig(lambda _: httpx.Response(429, headers={"retry-after": "0.35"}, json={"error": "slow down"}), 1)
    r.deliver_once()
    assert r.states() == {"ev0": "pending"}
    assert 0.35 <= r.sender._hold <= 0.4  # Retry-After, capped by retry_max_seconds


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refused_key_pauses_delivery_and_drops_nothing(rig: Callable[[Answer, int], Rig], status: int) -> None:
    r = rig(lambda _: httpx.Response(status, json={"error": "event key not found"}), 2)
    r.deliver_once()
    assert set(r.states().values()) == {"pending"}
    paused = r.store.stats().meta.get(worker.PAUSE_KEY) or ""
    assert f"HTTP {status}: event key not found" in paused and "nothing is dropped" in paused
    r.inngest.answer = ok  # the key is fixed: the next delivery resumes
    r.deliver_once()
    assert set(r.states().values()) == {"delivered"}
    assert r.store.stats().meta.get(worker.PAUSE_KEY) is None


def test_413_splits_the_batch_in_halves_until_it_fits(rig: Callable[[Answer, int], Rig]) -> None:
    r = rig(lambda events: ok(events) if len(events) <= 2 else httpx.Response(413, text="too large"), 8)
    r.deliver_once()
    ids = [f"ev{i}" for i in range(8)]
    assert r.inngest.requests == [ids, ids[:4], ids[:2], ids[2:4], ids[4:], ids[4:6], ids[6:]]
    assert set(r.states().values()) == {"delivered"}


def test_400_on_a_batch_resends_one_by_one_and_dead_letters_only_the_bad_event(
    rig: Callable[[Answer, int], Rig],
) -> None:
    def answer(events: list[dict[str, object]]) -> httpx.Response:
        if any(e["id"] == "ev1" for e in events):
            return httpx.Response(400, json={"error": "bad event"})
        return ok(events)

    r = rig(answer, 3)
    r.deliver_once()
    assert r.inngest.requests == [["ev0", "ev1", "ev2"], ["ev0"], ["ev1"], ["ev2"]]
    assert r.states() == {"ev0": "delivered", "ev1": "dead", "ev2": "delivered"}


def test_a_network_error_is_retried(rig: Callable[[Answer, int], Rig]) -> None:
    def answer(_: list[dict[str, object]]) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    r = rig(answer, 1)
    r.deliver_once()
    assert r.states() == {"ev0": "pending"}
    assert "cannot reach" in (r.store.stats().meta.get(worker.LAST_ERROR_KEY) or "")


async def _accept(store: SQLiteStore) -> None:
    await store.accept(IncomingWebhook("msg_1", {}, b"{}", time.time()))
