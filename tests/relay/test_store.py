"""The store's receive path: group commit of accepted webhooks, duplicates, timeouts, one bad row."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.relay.store import IncomingWebhook, StoreUnavailable
from runtime.relay.store_sqlite import SQLiteStore

BODY = b'{"type": "payment.succeeded"}'


def hook(webhook_id: str, received_at: float | None = None) -> IncomingWebhook:
    return IncomingWebhook(webhook_id, {"webhook-id": webhook_id}, BODY, received_at or time.time())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    # a timeout no slow disk reaches: only the test of the timeout itself uses a short one, and
    # there the writer is held until the timeout has fired, so it cannot depend on the disk either
    s = SQLiteStore(tmp_path / "relay.sqlite3", accept_timeout=60)
    yield s
    s.close()


def hold_writer(store: SQLiteStore) -> threading.Event:
    """Keep the writer busy until the returned event is set, so what is queued meanwhile is one batch."""
    release = threading.Event()
    started = threading.Event()

    def block(_conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(10)

    store._submit(block)
    assert started.wait(10)
    return release


def stored_ids(store: SQLiteStore) -> list[str]:
    with sqlite3.connect(store.path) as conn:
        return [r[0] for r in conn.execute("SELECT webhook_id FROM webhooks ORDER BY seq")]


def test_one_batch_reports_new_and_duplicate_ids(store: SQLiteStore) -> None:
    async def scenario() -> list[bool | BaseException]:
        assert await store.accept(hook("msg_old")) is True
        release = hold_writer(store)
        futures = [store.accept(hook(wid)) for wid in ("msg_a", "msg_old", "msg_b", "msg_a")]
        release.set()
        return await asyncio.gather(*futures, return_exceptions=True)

    assert asyncio.run(scenario()) == [True, False, True, False]
    assert stored_ids(store) == ["msg_old", "msg_a", "msg_b"]


def test_all_new_in_one_batch(store: SQLiteStore) -> None:
    async def scenario() -> list[bool]:
        release = hold_writer(store)
        futures = [store.accept(hook(f"msg_{i}")) for i in range(250)]  # more than one INSERT statement
        release.set()
        return await asyncio.gather(*futures)

    assert asyncio.run(scenario()) == [True] * 250
    assert stored_ids(store) == [f"msg_{i}" for i in range(250)]


def test_a_bad_row_fails_alone(store: SQLiteStore) -> None:
    async def scenario() -> list[bool | BaseException]:
        release = hold_writer(store)
        # NaN is stored as NULL, which received_at does not allow: that INSERT fails with IntegrityError
        futures = [store.accept(hook("msg_1")), store.accept(hook("msg_bad", float("nan"))), store.accept(hook("msg_2"))]
        release.set()
        return await asyncio.gather(*futures, return_exceptions=True)

    first, bad, second = asyncio.run(scenario())
    assert (first, second) == (True, True)
    assert isinstance(bad, StoreUnavailable)
    assert str(bad) == "store write failed: NOT NULL constraint failed: webhooks.received_at"
    assert stored_ids(store) == ["msg_1", "msg_2"]
    with sqlite3.connect(store.path) as conn:  # stored whole, one by one
        rows = conn.execute("SELECT webhook_id, headers, body FROM webhooks ORDER BY seq").fetchall()
    assert [(w, json.loads(h), bytes(b)) for w, h, b in rows] == [
        (w, {"webhook-id": w}, BODY) for w in ("msg_1", "msg_2")]


def test_a_commit_that_takes_too_long_is_unavailable_and_not_stored_later(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "slow.sqlite3", accept_timeout=0.5)

    async def scenario() -> None:
        release = hold_writer(store)
        try:
            with pytest.raises(StoreUnavailable, match=r"did not commit within 0\.5 s"):
                await store.accept(hook("msg_slow"))
        finally:
            release.set()
        assert await store.accept(hook("msg_next")) is True  # the writer works again

    try:
        asyncio.run(scenario())
        assert stored_ids(store) == ["msg_next"]  # the timed-out webhook was not stored behind its back
    finally:
        store.close()


def test_accepts_from_several_event_loops(store: SQLiteStore) -> None:
    results: list[bool] = []

    def in_thread(prefix: str) -> None:
        async def scenario() -> list[bool]:
            return await asyncio.gather(*(store.accept(hook(f"{prefix}_{i}")) for i in range(20)))

        results.extend(asyncio.run(scenario()))

    threads = [threading.Thread(target=in_thread, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [True] * 60
    assert len(stored_ids(store)) == 60


def test_closed_store_refuses(store: SQLiteStore) -> None:
    store.close()

    async def scenario() -> None:
        with pytest.raises(StoreUnavailable, match="closed"):
            await store.accept(hook("msg_late"))

    asyncio.run(scenario())


def _synchronous(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])  # 1 = NORMAL, 2 = FULL


def test_bookkeeping_commits_skip_the_fsync_and_received_webhooks_never_do(store: SQLiteStore) -> None:
    """The mapper's and sender's writes commit with synchronous=NORMAL, unless a received webhook (or any
    other write) shares their transaction: then the whole commit is FULL, so every 200 follows an fsync."""
    assert store._write(_synchronous, durable=False) == 1
    assert store._write(_synchronous) == 2  # any write not marked as bookkeeping
    assert store._write(_synchronous, durable=False) == 1

    async def mixed() -> int:
        release = hold_writer(store)
        job = store._submit(_synchronous, durable=False)
        stored = store.accept(hook("msg_mixed"))
        await asyncio.sleep(0)  # the loop hands the webhook to the writer's queue, behind the job
        release.set()
        assert await stored is True
        return job.result(10)

    assert asyncio.run(mixed()) == 2
    assert stored_ids(store) == ["msg_mixed"]


def test_a_store_set_to_normal_stays_normal(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "relay.sqlite3", synchronous="NORMAL", accept_timeout=60)
    try:
        assert s._write(_synchronous) == 1
        assert s._write(_synchronous, durable=False) == 1
    finally:
        s.close()


def _steps(store: SQLiteStore, op: Callable[[], object]) -> int:
    """SQLite virtual-machine steps (in units of 100) that ``op`` costs on this thread's read connection
    and the writer's (a claim runs in the writer)."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    def watch(conn: sqlite3.Connection, handler: Callable[[], int] | None) -> None:
        conn.set_progress_handler(handler, 100)

    conn = store._reader()
    watch(conn, tick)
    store._write(lambda c: watch(c, tick), durable=False)
    try:
        op()
    finally:
        watch(conn, None)
        store._write(lambda c: watch(c, None), durable=False)
    return count


def test_the_mapper_and_sender_reads_do_not_walk_the_backlog(store: SQLiteStore) -> None:
    """A relay that fell behind must not get slower per webhook as its backlog grows: the oldest unmapped
    webhooks and the oldest due events are found through their partial indexes, not by sorting every
    row in that state (which made a relay 100,000 webhooks behind spend half its time in one query)."""
    from runtime.relay.store import MAPPED, MappingRecord, NewEvent

    def add(n: int, start: int) -> None:
        async def go() -> None:
            await asyncio.gather(*[store.accept(hook(f"w{i}")) for i in range(start, start + n)])

        asyncio.run(go())
        recs = [(w.seq, w.generation, MappingRecord(MAPPED, "payment.succeeded", None,
                                                     [NewEvent(f"ev_{w.seq}", "payment.succeeded", "{}")]))
                for w in store.unmapped(n)[: n // 2]]
        store.record_mappings(recs)  # half mapped (one pending event each), half still unmapped

    add(100, 0)
    small = (_steps(store, lambda: store.unmapped(10)), _steps(store, lambda: store.claim("o", 10, 10**6, 30)))
    store.release([e.seq for e in store.claim("o", 10**6, 10**9, 30)], "o", "test")
    add(4000, 100)
    large = (_steps(store, lambda: store.unmapped(10)), _steps(store, lambda: store.claim("o2", 10, 10**6, 30)))
    assert len(store.unmapped(10**6)) == 2050
    assert large[0] <= small[0] * 2 + 2, (small, large)
    assert large[1] <= small[1] * 2 + 2, (small, large)


def test_claims_and_the_lease_reaper_do_not_walk_the_events_waiting_for_a_retry(store: SQLiteStore) -> None:
    """In a long Inngest outage thousands of events wait for their retry while new ones come due; a claim
    must find the due ones without stepping over the waiting ones (it runs in the writer, so every 200
    waited for it). In seq order it walked every waiting event: 4,000 of them cost 40x the steps of 100."""
    from runtime.relay.store import MAPPED, MappingRecord, NewEvent

    def add(n: int, start: int) -> list[int]:
        async def go() -> None:
            await asyncio.gather(*[store.accept(hook(f"w{i}")) for i in range(start, start + n)])

        asyncio.run(go())
        store.record_mappings([(w.seq, w.generation, MappingRecord(
            MAPPED, "payment.succeeded", None, [NewEvent(f"ev_{w.seq}", "payment.succeeded", "{}")]))
            for w in store.unmapped(n)])
        return [e.seq for e in store.claim("o", n, 10**9, 30)]

    def due_after_waiting(waiting: int, start: int) -> tuple[int, list[int]]:
        assert store.mark_retry(add(waiting, start), "o", 3600, "Inngest answered 502") == waiting
        fresh = add(10, start + waiting)  # claimed above: given back, due now
        store.release(fresh, "o", "test")
        steps = _steps(store, lambda: store.claim("o2", 10, 10**6, 30))
        claimed = [e.seq for e in store.claim("o3", 10, 10**6, 30)]
        assert claimed == [], claimed  # "o2" holds all ten
        return steps, fresh

    small, _ = due_after_waiting(100, 0)
    small_reap = _steps(store, store.reap_leases)
    large, fresh = due_after_waiting(4000, 1000)
    large_reap = _steps(store, store.reap_leases)  # the lease reaper (every poll) walks them no more
    assert large <= small * 2 + 2, (small, large)
    assert large_reap <= small_reap * 2 + 2, (small_reap, large_reap)
    with sqlite3.connect(store.path) as conn:  # the waiting events are still there, still waiting
        assert conn.execute("SELECT count(*) FROM events WHERE state = 'pending' AND next_attempt_at > ?",
                            (time.time(),)).fetchone()[0] == 4100
        leased = [r[0] for r in conn.execute("SELECT seq FROM events WHERE lease_owner = 'o2' ORDER BY seq")]
    assert leased[-10:] == fresh  # the claim took the due ones


_TEMP_FILE_WORKLOAD = """
import asyncio, json, sys, time
from runtime.relay.store import IncomingWebhook, MappingRecord, NewEvent
from runtime.relay.store_sqlite import SQLiteStore

store = SQLiteStore(sys.argv[1], accept_timeout=60)
body = json.dumps({"type": "payment.succeeded", "data": {"note": "x" * 2000}}).encode()

async def accept() -> None:
    await asyncio.gather(*(store.accept(IncomingWebhook(f"msg_{i}", {}, body, time.time())) for i in range(400)))

asyncio.run(accept())
batch = store.unmapped(400)
events = [NewEvent(f"ev_{w.seq}", "payment.succeeded", json.dumps({"data": {"note": "y" * 2000}})) for w in batch]
store.record_mappings([(w.seq, w.generation, MappingRecord("mapped", "payment.succeeded", None, [e]))
                       for w, e in zip(batch, events)])
claimed = store.claim("me", 400, 1 << 30, 60)
store.mark_delivered([e.seq for e in claimed], "me", status=200)
assert len(claimed) == 400, len(claimed)
store.close()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches the directory with Linux's inotify")
def test_no_page_of_a_webhook_goes_to_the_temporary_directory(tmp_path: Path) -> None:
    """SQLite keeps its temporary files (the statement journal of each savepoint in the writer's
    batches) in memory: on disk they were files in the system's temporary directory, created, filled
    with pages of webhooks and events, and unlinked, hundreds a second under load. Watched with inotify
    while a subprocess (SQLite reads SQLITE_TMPDIR once per process) stores, maps and delivers 400
    webhooks in batches large enough to spill a statement journal."""
    libc = ctypes.CDLL(None, use_errno=True)
    temp_dir = tmp_path / "sqlite-tmp"
    temp_dir.mkdir()
    fd = libc.inotify_init1(os.O_NONBLOCK)
    assert fd >= 0
    try:
        IN_CREATE = 0x100
        assert libc.inotify_add_watch(fd, str(temp_dir).encode(), IN_CREATE) >= 0
        root = Path(__file__).resolve().parents[2]
        subprocess.run([sys.executable, "-c", _TEMP_FILE_WORKLOAD, str(tmp_path / "relay.sqlite3")], cwd=root,
                       env={**os.environ, "SQLITE_TMPDIR": str(temp_dir)}, check=True, timeout=120)
        try:
            created = os.read(fd, 65536)
        except BlockingIOError:
            created = b""
    finally:
        os.close(fd)
    assert created == b"", f"SQLite created {created.count(b'etilqs')} temporary files"


def test_relays_creating_a_store_together_all_open_it(tmp_path: Path) -> None:
    """Four openers at once on a new file, a hundred times: each gets the store. Before, about one round
    in twenty failed: SQLite answers "database is locked" at once (no busy wait) to a switch to WAL while
    another connection creates the file, and a store read between another opener's tables and its schema
    version looked like a foreign database ("not a paymap store")."""
    errors: list[str] = []

    def open_and_ping(path: Path) -> None:
        try:
            s = SQLiteStore(path, accept_timeout=60)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        try:
            s.ping()
        finally:
            s.close()

    for i in range(100):
        path = tmp_path / str(i) / "relay.sqlite3"
        threads = [threading.Thread(target=open_and_ping, args=(path,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_a_store_another_program_keeps_locked_says_so(tmp_path: Path) -> None:
    """Opening for the relay and inspecting for `paymap status` both wait the busy timeout, then say what
    holds the file and what to do, not a bare "database is locked" (nor "not a paymap store")."""
    path = tmp_path / "relay.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)  # a new file, before any relay made it a store
    holder.execute("BEGIN EXCLUSIVE")  # e.g. another program with it open in a write transaction
    try:
        for read_only in (False, True):
            with pytest.raises(StoreUnavailable) as caught:
                SQLiteStore(path, busy_timeout_ms=100, read_only=read_only)
            assert str(caught.value) == (
                f"the store {path} is locked by another process (a relay or `paymap purge` busy with it, or "
                "another program holding it open) and stayed locked for 100 ms: try again, or close what holds it")
    finally:
        holder.rollback()
        holder.close()
    SQLiteStore(path).close()  # once let go, it opens
