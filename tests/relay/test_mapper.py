"""The mapper records one round while it maps the next: a real SQLite store and the real mappings,
with the store's ``record_mappings`` held or failed on purpose to show what the mapper does meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from runtime.relay.mapping import default_loader
from runtime.relay.metrics import RelayMetrics
from runtime.relay.reload import MappingHolder
from runtime.relay.store import IncomingWebhook, MappingRecord, StoreUnavailable
from runtime.relay.store_sqlite import SQLiteStore
from runtime.relay.worker import Mapper

from .harness import MAPPINGS, fast_settings, wait_until

BODY = (b'{"business_id":"bus_1","type":"payment.succeeded","timestamp":"2026-11-30T10:00:00Z",'
        b'"data":{"payment_id":"pay_%d","total_amount":1000,"currency":"USD","customer":{"customer_id":"c","email":"a@b.co","name":"A"}}}')


class HeldStore(SQLiteStore):
    """``record_mappings`` waits for ``gate`` on its first call, and fails its second once if told to."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, accept_timeout=60)
        self.gate = threading.Event()
        self.fail_next = False
        self.reads: list[tuple[int, list[int]]] = []  # (after, seqs) of every unmapped() read
        self.recorded: list[list[int]] = []

    def unmapped(self, limit: int, after: int = 0) -> list:  # type: ignore[type-arg]
        batch = super().unmapped(limit, after)
        if batch:
            self.reads.append((after, [w.seq for w in batch]))
        return batch

    def record_mappings(self, outcomes: Sequence[tuple[int, int, MappingRecord]]) -> list[bool]:
        if not self.recorded:
            self.recorded.append([])
            assert self.gate.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailable("store write failed: disk I/O error (the test's)")
        self.recorded.append([seq for seq, _g, _r in outcomes])
        return super().record_mappings(outcomes)


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def wake(self) -> None:
        self.times += 1


def accept(store: SQLiteStore, first: int, count: int) -> None:
    async def go() -> None:
        await asyncio.gather(*[store.accept(IncomingWebhook(f"msg_{i}", {"webhook-id": f"msg_{i}"}, BODY % i, time.time()))
                               for i in range(first, first + count)])

    asyncio.run(go())


def states(store: SQLiteStore) -> dict[str, int]:
    return dict(store._read(lambda c: c.execute("SELECT state, count(*) FROM webhooks GROUP BY state").fetchall()))


def start(tmp_path: Path, store: HeldStore) -> tuple[Mapper, Woken]:
    settings = fast_settings(tmp_path, "http://127.0.0.1:9")
    holder = MappingHolder(MAPPINGS, default_loader)
    holder.load_initial()
    sender = Woken()
    mapper = Mapper(store, holder, settings, RelayMetrics(), sender)  # type: ignore[arg-type]
    mapper.start()
    return mapper, sender


def test_the_next_round_is_mapped_while_the_last_is_recorded_and_skips_it(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "relay.sqlite3")
    accept(store, 0, 130)  # a round takes at most 100
    mapper, sender = start(tmp_path, store)
    try:
        wait_until(lambda: len(store.recorded) == 1, "round one is being recorded (held)", timeout=10)
        # while round one is held, the mapper read (and mapped) the next webhooks, past round one's
        wait_until(lambda: len(store.reads) >= 2, "the next read", timeout=10)
        (after0, first), (after1, second) = store.reads[0], store.reads[1]
        assert after0 == 0 and after1 == first[-1] and second == list(range(first[-1] + 1, first[-1] + 1 + len(second)))
        assert len(first) + len(second) == 130
        assert states(store) == {"received": 130}  # nothing recorded yet: round one is still held
        store.gate.set()
        wait_until(lambda: states(store) == {"mapped": 130}, "all 130 mapped", timeout=10)
        assert sorted(seq for rec in store.recorded for seq in rec) == sorted(first + [s for _a, r in store.reads[1:] for s in r])
        assert sender.times >= 2  # the sender hears of each recorded round
    finally:
        store.gate.set()
        mapper.stop()
        store.close()


def test_a_round_that_fails_to_record_is_mapped_again(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "relay.sqlite3")
    store.gate.set()
    store.recorded.append([])  # no hold
    store.fail_next = True
    accept(store, 0, 10)
    mapper, _sender = start(tmp_path, store)
    try:
        wait_until(lambda: states(store) == {"mapped": 10}, "all 10 mapped", timeout=10)
        assert store.fail_next is False  # the failure happened ...
        reads = [after for after, _seqs in store.reads]
        assert reads[0] == 0 and 0 in reads[1:]  # ... and the failed round was read again from the start
    finally:
        mapper.stop()
        store.close()


def test_stopping_waits_for_the_round_in_flight(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "relay.sqlite3")
    accept(store, 0, 5)
    mapper, _sender = start(tmp_path, store)
    wait_until(lambda: len(store.recorded) == 1, "round one is being recorded (held)", timeout=10)
    threading.Timer(0.3, store.gate.set).start()
    mapper.stop()  # returns once the held round is recorded, not before
    assert states(store) == {"mapped": 5}
    store.close()
