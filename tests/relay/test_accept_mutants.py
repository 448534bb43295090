"""The accept path both backends share (runtime/relay/store_accept.py), for the edges mutation
testing found untested (docs/mutation.md, target ``accept``): the batched hand-over, a store closed
between ``accept`` and the end of the loop's turn, and a read-only store."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.relay.store import IncomingWebhook, StoreUnavailable
from runtime.relay.store_sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "relay.sqlite3", accept_timeout=60)
    yield s
    s.close()


def hook(webhook_id: str) -> IncomingWebhook:
    return IncomingWebhook(webhook_id, {"webhook-id": webhook_id}, b'{"type":"payment.succeeded"}', time.time())


class CountingQueue:
    """The writer's queue, counting the hand-overs put into it."""

    def __init__(self, inner: queue.SimpleQueue[Any]) -> None:
        self.inner = inner
        self.puts: list[Any] = []

    def put(self, item: Any) -> None:
        self.puts.append(item)
        self.inner.put(item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_webhooks_accepted_in_one_turn_of_the_loop_reach_the_writer_in_one_hand_over(store: SQLiteStore) -> None:
    counting = CountingQueue(store._queue)
    store._queue = counting  # type: ignore[assignment]

    async def scenario() -> list[bool]:
        first = [store.accept(hook(f"a{i}")) for i in range(20)]  # one turn of the loop
        await asyncio.sleep(0)
        second = [store.accept(hook(f"b{i}")) for i in range(5)]  # the next turn
        return list(await asyncio.gather(*first, *second))

    assert asyncio.run(scenario()) == [True] * 25
    batches = [item for item in counting.puts if isinstance(item, list)]
    assert [len(b) for b in batches] == [20, 5]
    assert store.stats().webhooks.get("received", 0) == 25


def test_a_store_closed_before_the_hand_over_fails_the_waiting_accepts_as_closed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "relay.sqlite3", accept_timeout=60)

    async def scenario() -> list[Any]:
        futures = [store.accept(hook(f"w{i}")) for i in range(3)]
        store.close()  # in the same turn: the batch has not been handed over yet
        return list(await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10))

    results = asyncio.run(scenario())
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    assert [str(r) for r in results] == ["the store is closed"] * 3


def test_a_read_only_store_refuses_an_accept_as_read_only(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "relay.sqlite3").close()
    store = SQLiteStore(tmp_path / "relay.sqlite3", read_only=True)

    async def scenario() -> BaseException | None:
        try:
            await asyncio.wait_for(store.accept(hook("w1")), 10)
        except StoreUnavailable as exc:
            return exc
        return None

    try:
        error = asyncio.run(scenario())
    finally:
        store.close()
    assert isinstance(error, StoreUnavailable) and str(error) == "the store is read-only"
    check = SQLiteStore(tmp_path / "relay.sqlite3")
    try:
        assert check.stats().webhooks.get("received", 0) == 0  # nothing was written
    finally:
        check.close()
