"""The store's delivery side through its public API only (claim, renew, the settlements, reaping and
what ``webhook()`` shows of each event), for the edges mutation testing found untested
(docs/mutation.md, target ``store``). Written against the ``Store`` protocol so that it holds for
every backend; here it runs on the SQLite one."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.relay.store import (
    ATTEMPT_DEAD,
    ATTEMPT_DELIVERED,
    ATTEMPT_PAUSED,
    ATTEMPT_RETRY,
    EventRecord,
    IncomingWebhook,
    MappingRecord,
    NewEvent,
    OutgoingEvent,
    StoreError,
    StoreUnavailable,
)
from runtime.relay.store_sqlite import SQLiteStore

from .test_store import hold_writer

LEASE = 600.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "relay.sqlite3", accept_timeout=60)
    yield s
    s.close()


def hook(webhook_id: str, received_at: float | None = None) -> IncomingWebhook:
    return IncomingWebhook(webhook_id, {"webhook-id": webhook_id, "webhook-signature": "v1,x"},
                           b'{"type":"payment.succeeded","id":"%s"}' % webhook_id.encode(), received_at or time.time())


def accept_all(store: SQLiteStore, *webhooks: IncomingWebhook) -> list[bool | BaseException]:
    """Accept ``webhooks`` in one group commit (the writer is held while they are queued)."""

    async def scenario() -> list[bool | BaseException]:
        release = hold_writer(store)
        futures = [store.accept(w) for w in webhooks]
        release.set()
        return await asyncio.gather(*futures, return_exceptions=True)

    return asyncio.run(scenario())


def queue(store: SQLiteStore, webhook_id: str, *event_ids: str) -> None:
    """Receive one webhook and map it to one pending event per id."""

    async def accept() -> bool:
        return await store.accept(IncomingWebhook(webhook_id, {}, b"{}", time.time()))

    assert asyncio.run(accept()) is True
    [webhook] = store.unmapped(1)
    events = [NewEvent(e, "payment.succeeded", json.dumps({"name": "payment.succeeded", "id": e, "data": {}}))
              for e in event_ids]
    assert store.record_mappings([(webhook.seq, webhook.generation,
                                   MappingRecord("mapped", "payment.succeeded", None, events))]) == [True]


def events_of(store: SQLiteStore, webhook_id: str) -> dict[str, EventRecord]:
    found = store.webhook(webhook_id)
    assert found is not None
    return {e.event_id or "": e for e in found[1]}


def test_each_settlement_is_logged_as_one_attempt_with_its_status_outcome_and_reason(store: SQLiteStore) -> None:
    queue(store, "msg_1", "ok", "later", "paused", "dead", "quiet", "quiet-later", "quiet-paused", "quiet-dead")
    seq = {e.event_id: e.seq for e in store.claim("me", 10, 1 << 20, LEASE)}
    before = time.time()
    assert store.mark_delivered([seq["ok"]], "me", status=200) == 1
    assert store.mark_retry([seq["later"]], "me", 30, "HTTP 500: boom", status=500) == 1
    assert store.release([seq["paused"]], "me", "HTTP 401: key", status=401) == 1
    assert store.mark_dead([seq["dead"]], "me", "HTTP 400: bad", status=400) == 1
    # no status: no request was made (or none to log), so no attempt is shown
    assert store.mark_delivered([seq["quiet"]], "me") == 1
    assert store.mark_retry([seq["quiet-later"]], "me", 30, "later") == 1
    assert store.release([seq["quiet-paused"]], "me", "paused") == 1
    assert store.mark_dead([seq["quiet-dead"]], "me", "invalid") == 1
    after = time.time()
    events = events_of(store, "msg_1")
    history = {name: [(a.status, a.outcome, a.error) for a in e.history] for name, e in events.items()}
    assert history == {
        "ok": [(200, ATTEMPT_DELIVERED, None)],
        "later": [(500, ATTEMPT_RETRY, "HTTP 500: boom")],
        "paused": [(401, ATTEMPT_PAUSED, "HTTP 401: key")],
        "dead": [(400, ATTEMPT_DEAD, "HTTP 400: bad")],
        "quiet": [], "quiet-later": [], "quiet-paused": [], "quiet-dead": [],
    }
    assert all(before <= a.at <= after for e in events.values() for a in e.history)
    summary = {name: (e.state, e.attempts, e.last_error) for name, e in events.items()}
    assert summary == {
        "ok": ("delivered", 1, None),
        "later": ("pending", 1, "HTTP 500: boom"),
        "paused": ("pending", 0, "HTTP 401: key"),  # a pause is not an attempt of the event
        "dead": ("dead", 1, "HTTP 400: bad"),
        "quiet": ("delivered", 1, None),
        "quiet-later": ("pending", 1, "later"),
        "quiet-paused": ("pending", 0, "paused"),
        "quiet-dead": ("dead", 1, "invalid"),
    }
    delivered_at = events["ok"].delivered_at
    assert delivered_at is not None and before <= delivered_at <= after
    assert events["later"].delivered_at is None
    assert before + 30 <= events["later"].next_attempt_at <= after + 30


def test_what_someone_else_settles_is_neither_changed_nor_logged(store: SQLiteStore) -> None:
    queue(store, "msg_1", "a", "b")
    seqs = [e.seq for e in store.claim("me", 10, 1 << 20, LEASE)]
    assert store.mark_delivered(seqs, "other", status=200) == 0
    assert store.mark_retry(seqs, "other", 1, "x", status=500) == 0
    assert store.release(seqs, "other", "x", status=401) == 0
    assert store.mark_dead(seqs, "other", "x", status=400) == 0
    events = events_of(store, "msg_1")
    assert [(e.state, e.attempts, e.last_error, e.history) for e in events.values()] == [("pending", 0, None, [])] * 2
    # still mine: the other owner's calls released nothing
    assert store.claim("other", 10, 1 << 20, LEASE) == []
    assert store.mark_delivered(seqs, "me", status=200) == 2
    assert [len(e.history) for e in events_of(store, "msg_1").values()] == [1, 1]


def test_a_claim_hands_out_each_event_as_stored(store: SQLiteStore) -> None:
    received = time.time() - 5
    assert asyncio.run(_accept(store, IncomingWebhook("msg_1", {}, b"{}", received))) is True
    [webhook] = store.unmapped(1)
    payload = '{"name":"payment.succeeded","id":"ev_1","data":{"n":1}}'
    record = MappingRecord("mapped", "payment.succeeded", None, [NewEvent("ev_1", "payment.succeeded", payload)])
    assert store.record_mappings([(webhook.seq, webhook.generation, record)]) == [True]
    [first] = store.claim("me", 10, 1 << 20, LEASE)
    assert first == OutgoingEvent(first.seq, "ev_1", payload, 0, received)
    assert store.mark_retry([first.seq], "me", 0, "HTTP 500: boom", status=500) == 1  # due again at once
    assert store.claim("me", 10, 1 << 20, LEASE) == [OutgoingEvent(first.seq, "ev_1", payload, 1, received)]


async def _accept(store: SQLiteStore, webhook: IncomingWebhook) -> bool:
    return await store.accept(webhook)


def test_a_closed_store_says_so(store: SQLiteStore) -> None:
    store.close()
    with pytest.raises(StoreUnavailable) as caught:
        asyncio.run(_accept(store, hook("msg_late")))
    assert str(caught.value) == "the store is closed"


def test_a_webhook_is_stored_whole_by_the_group_insert(store: SQLiteStore) -> None:
    webhooks = [hook(f"msg_{i}", 1_700_000_000.25 + i) for i in range(3)]
    assert accept_all(store, *webhooks) == [True] * 3
    for w in webhooks:
        found = store.webhook(w.webhook_id)
        assert found is not None
        stored = found[0]
        assert (stored.webhook_id, stored.headers, stored.body, stored.received_at) == (
            w.webhook_id, w.headers, w.body, w.received_at)


def test_a_duplicate_within_an_otherwise_new_batch_is_answered(store: SQLiteStore) -> None:
    assert accept_all(store, hook("msg_a"), hook("msg_b"), hook("msg_a")) == [True, True, False]


def test_a_bad_row_in_any_chunk_of_a_large_batch_fails_alone(store: SQLiteStore) -> None:
    bad = (7, 207)  # one in each INSERT statement of the batch
    webhooks = [hook(f"msg_{i}", float("nan") if i in bad else None) for i in range(250)]
    results = accept_all(store, *webhooks)
    assert [i for i, r in enumerate(results) if isinstance(r, StoreUnavailable)] == list(bad)
    assert [r for i, r in enumerate(results) if i not in bad] == [True] * 248
    assert [store.webhook(f"msg_{i}") is None for i in (0, 7, 199, 200, 207, 249)] == [
        False, True, False, False, True, False]


def test_every_webhook_of_a_very_large_batch_is_stored(store: SQLiteStore) -> None:
    results = accept_all(store, *(hook(f"msg_{i}") for i in range(450)))  # three INSERT statements
    assert results == [True] * 450
    assert all(store.webhook(f"msg_{i}") is not None for i in (0, 199, 200, 399, 400, 449))


def _accepts_on(loop: asyncio.AbstractEventLoop, store: SQLiteStore, *ids: str) -> list[asyncio.Future[bool]]:
    """Accept on ``loop`` and let it hand the batch to the writer (one turn of the loop)."""

    async def start() -> list[asyncio.Future[bool]]:
        futures = [store.accept(hook(i)) for i in ids]
        await asyncio.sleep(0)
        return futures

    return loop.run_until_complete(start())


def test_one_commit_answers_accepts_from_several_event_loops(store: SQLiteStore) -> None:
    loops = [asyncio.new_event_loop() for _ in range(2)]
    try:
        release = hold_writer(store)  # both batches wait for the same commit
        first = _accepts_on(loops[0], store, "msg_a1", "msg_a2", "msg_shared")
        second = _accepts_on(loops[1], store, "msg_b1", "msg_shared")
        release.set()
        results = [loop.run_until_complete(asyncio.gather(*futs)) for loop, futs in zip(loops, (first, second), strict=True)]
    finally:
        for loop in loops:
            loop.close()
    assert results == [[True, True, True], [True, False]]


def test_an_event_loop_gone_before_the_commit_does_not_stop_the_writer(store: SQLiteStore) -> None:
    gone, alive = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        release = hold_writer(store)
        _accepts_on(gone, store, "msg_gone")
        gone.close()  # its server stopped: nobody waits for that answer any more
        futures = _accepts_on(alive, store, "msg_alive")
        release.set()
        assert alive.run_until_complete(asyncio.gather(*futures)) == [True]
        assert alive.run_until_complete(_accept(store, hook("msg_after"))) is True
    finally:
        alive.close()
    assert store.webhook("msg_gone") is not None  # it was committed all the same


def test_a_write_that_fails_raises_for_its_caller(store: SQLiteStore) -> None:
    with pytest.raises(StoreError, match=r"^no webhook with seq 999$"):
        store.remap(999, MappingRecord("skipped", "payment.succeeded"))


def test_a_batch_that_cannot_begin_fails_its_writes_and_the_writer_goes_on(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "relay.sqlite3", busy_timeout_ms=50, accept_timeout=60)
    try:
        other = sqlite3.connect(store.path)  # another process holds the write lock throughout
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match=r"^store write failed: database is locked$"):
                store.set_meta({"paymap.test": "x"})
        finally:
            other.rollback()
            other.close()
        store.set_meta({"paymap.test": "y"})
        assert store.stats().meta["paymap.test"] == "y"
    finally:
        store.close()


def test_the_bookkeeping_commits_without_an_fsync_of_its_own(store: SQLiteStore) -> None:
    """Claims, renewals, settlements, the reaping of expired leases and the mapper's outcomes commit with
    synchronous=NORMAL (docs/relay.md, Durability: redone after a power loss, never an acknowledged
    webhook), so the writer does not fsync for each; any other write is FULL. The level of each call's
    commit is read off the writer (it switches only when the level changes)."""
    queue(store, "msg_1", "ev_1", "ev_2", "ev_3", "ev_4", "ev_5")

    def level_of(op: Callable[[], object]) -> str:
        store._write(lambda _conn: None)  # any other write: FULL
        assert store._writer_synchronous == "FULL"
        op()
        return store._writer_synchronous

    claimed: list[OutgoingEvent] = []
    assert level_of(lambda: claimed.extend(store.claim("me", 10, 1 << 20, LEASE))) == "NORMAL"
    a, b, c, d, e = (x.seq for x in claimed)
    calls: dict[str, Callable[[], object]] = {
        "renew": lambda: store.renew([a], "me", LEASE),
        "mark_delivered": lambda: store.mark_delivered([a], "me", status=200),
        "mark_retry": lambda: store.mark_retry([b], "me", 60, "HTTP 500", status=500),
        "release": lambda: store.release([c], "me", "paused"),
        "mark_dead": lambda: store.mark_dead([d], "me", "HTTP 400", status=400),
        "reap_leases": store.reap_leases,
    }
    assert {name: level_of(call) for name, call in calls.items()} == dict.fromkeys(calls, "NORMAL")
    assert store.mark_delivered([e], "me") == 1  # everything above really took effect
    assert asyncio.run(_accept(store, hook("msg_2"))) is True
    [webhook] = store.unmapped(1)
    record = MappingRecord("mapped", "payment.succeeded", None, [NewEvent("ev_6", "payment.succeeded", "{}")])
    assert level_of(lambda: store.record_mappings([(webhook.seq, webhook.generation, record)])) == "NORMAL"
