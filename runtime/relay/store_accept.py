"""The accept path both backends share: received webhooks waiting on an event loop for a group commit.

``accept`` is called on the event loop for every webhook; it queues the webhook in its loop's batch
and, once per turn of the loop, hands the whole batch to the backend's writer thread (one put, one
wake-up of the writer, per turn rather than per webhook). The writer commits a batch and hands the
results back with :func:`settle_accepts` (one wake-up per loop per commit); a commit not done within
the store's ``accept_timeout`` fails its futures with :class:`StoreUnavailable` (a 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import Any

from runtime.relay.store import IncomingWebhook, StoreUnavailable


class AcceptWatch:
    """The accepts one event loop waits for; fails those not committed in time (StoreUnavailable: a 503).

    One timer per loop instead of one per request. Waiting futures sit in an insertion-ordered dict
    (oldest first) and leave it when settled, so nothing outlives its request (and the garbage
    collector never sees a pile of finished futures).
    """

    __slots__ = ("armed", "batch", "loop", "pending", "timeout")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop, self.timeout = loop, timeout
        self.pending: dict[asyncio.Future[bool], float] = {}
        self.armed = False
        self.batch: list[Accept] = []  # accepted in this turn of the loop, handed to the writer at its end

    def add(self, fut: asyncio.Future[bool]) -> None:
        self.pending[fut] = self.loop.time() + self.timeout
        if not self.armed:
            self.armed = True
            self.loop.call_later(self.timeout, self._sweep)

    def settle(self, results: list[tuple[asyncio.Future[bool], bool, BaseException | None]]) -> None:
        """In the loop: one call per commit hands every result over."""
        pending = self.pending
        for fut, result, error in results:
            pending.pop(fut, None)
            if fut.done():  # timed out meanwhile
                continue
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)

    def _sweep(self) -> None:
        now = self.loop.time()
        expired: list[asyncio.Future[bool]] = []
        for fut, deadline in self.pending.items():  # oldest first
            if deadline > now:
                break
            expired.append(fut)
        for fut in expired:
            del self.pending[fut]
            if not fut.done():
                fut.set_exception(StoreUnavailable(f"the store did not commit within {self.timeout:g} s"))
        if self.pending:
            oldest = next(iter(self.pending.values()))
            self.loop.call_later(max(0.05, oldest - now), self._sweep)
        else:
            self.armed = False


class Accept:
    """One received webhook to insert; its coroutine waits on ``fut`` (True = stored, False = seen before)."""

    __slots__ = ("fut", "watch", "webhook")

    def __init__(self, webhook: IncomingWebhook, watch: AcceptWatch, fut: asyncio.Future[bool]) -> None:
        self.webhook, self.watch, self.fut = webhook, watch, fut


Stored = tuple[Accept, bool, BaseException | None]


def settle_accepts(stored: list[Stored]) -> None:
    """Hand the results of one commit to the waiting event loops, with a single wake-up per loop."""
    if not stored:
        return
    watch = stored[0][0].watch
    if all(acc.watch is watch for acc, _r, _e in stored):  # the usual case: one server, one loop
        groups = {watch: [(acc.fut, result, error) for acc, result, error in stored]}
    else:
        groups = {}
        for acc, result, error in stored:
            groups.setdefault(acc.watch, []).append((acc.fut, result, error))
    for target, results in groups.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            target.loop.call_soon_threadsafe(target.settle, results)


class AcceptPath:
    """``accept`` and the batched hand-over to the writer, mixed into each backend.

    The backend sets ``accept_timeout``, ``read_only``, ``_closed``, ``_watches`` (empty dict) and
    ``_queue`` (its writer's queue: it receives one ``list[Accept]`` per turn of an event loop).
    """

    accept_timeout: float
    read_only: bool
    _closed: bool
    _watches: dict[int, AcceptWatch]  # by thread id
    _queue: queue.SimpleQueue[Any]

    def accept(self, webhook: IncomingWebhook) -> asyncio.Future[bool]:
        """Queue ``webhook`` for the next group commit; the future says whether it was new.

        Awaitable like the protocol's coroutine, but cheaper on the hot path (no coroutine frame).
        A commit not done within ``accept_timeout`` seconds fails with :class:`StoreUnavailable`.
        """
        # one event loop runs per thread at a time: finding it by thread id spares the getpid() system
        # call that asyncio.get_running_loop() makes on every call
        ident = threading.get_ident()
        watch = self._watches.get(ident)
        if watch is None or not watch.loop.is_running():
            watch = self._watches[ident] = AcceptWatch(asyncio.get_running_loop(), self.accept_timeout)
        fut: asyncio.Future[bool] = watch.loop.create_future()
        if self._closed or self.read_only:
            fut.set_exception(StoreUnavailable("the store is closed" if self._closed else "the store is read-only"))
            return fut
        watch.add(fut)
        # batched hand-over: one put (one wake-up of the writer) per turn of the event loop, not per webhook
        if not watch.batch:
            watch.loop.call_soon(self._hand_over, watch)
        watch.batch.append(Accept(webhook, watch, fut))
        return fut

    def _hand_over(self, watch: AcceptWatch) -> None:
        batch, watch.batch = watch.batch, []
        if self._closed:
            for acc in batch:
                if not acc.fut.done():
                    acc.fut.set_exception(StoreUnavailable("the store is closed"))
            return
        self._queue.put(batch)
