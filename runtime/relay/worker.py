"""The two background loops: the mapper (stored webhook → events) and the sender (events → Inngest).

Both work only from the store, so a crash anywhere loses nothing: a webhook still ``received`` is
mapped after restart, an event still ``pending`` is sent again (its deterministic ``id`` lets
Inngest drop the duplicate). The sender leases what it sends; leases outlive the HTTP timeout and
are renewed before every request, and expired ones are reaped so a dead process's batch goes out.

Delivery policy (see docs/relay.md): network errors, timeouts, 408, 429 and 5xx are retried forever
with exponential backoff and jitter (``Retry-After`` honoured); 401/403/404 (and 3xx) pause the
sender and keep everything queued; 413 splits the batch; a 400 on a batch resends one by one and
dead-letters only what Inngest still rejects, with its error text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from runtime.relay.config import RelaySettings
from runtime.relay.inngest import InngestSender, SendResult
from runtime.relay.mapping import map_webhook
from runtime.relay.metrics import RelayMetrics
from runtime.relay.reload import MappingHolder
from runtime.relay.store import (
    DROPPED,
    FAILED,
    MAPPED,
    SKIPPED,
    Instance,
    MappingRecord,
    OutgoingEvent,
    Store,
    StoredWebhook,
    StoreError,
    forget_instance,
    heartbeat,
    instances_in,
)

log = logging.getLogger("paymap.relay")

PAUSE_KEY = "sender.paused"
PAUSE_SINCE_KEY = "sender.paused_since"
LAST_ERROR_KEY = "sender.last_error"
LAST_OK_KEY = "sender.last_delivery_at"
TARGET_KEY = "sender.target"
INSECURE_KEY = "relay.insecure_dev"
PRUNE_BATCH = 200  # webhooks deleted per transaction: ~20 ms with its fsync, so an answer never waits long behind one
FORGET_AFTER_SECONDS = 3600.0  # an instance without a heartbeat this long leaves `paymap status`
FORGET_CHECK_SECONDS = 600.0
LINGER_SECONDS = 0.002  # after a wake-up: webhooks answered together are mapped together
SUMMARY_SECONDS = 60.0  # while delivery keeps failing, one summary line this often
ALERT_CHECK_SECONDS = 60.0  # how often the age of the oldest undelivered event is held against PAYMAP_ALERT_PENDING_AGE
# Map and deliver at once, unless the receive path is saturated. Saturated = measured, not guessed
# from traffic: the event loop runs late by LOOP_LAG_BUSY_SECONDS or more (it has more ready work than
# it gets through), or on average (over the last ~50 ms) BACKLOG_BUSY webhooks wait for the store's
# commit (clients keep it full: a steady stream below capacity keeps it at a few). Only then do the background
# loops step aside, and for a bounded time: a round runs after at most MAX_DEFER_SECONDS (a short
# one, BUSY_SLICE_SECONDS), and once the oldest waiting item is older than LAG_SECONDS, after at
# most LAGGING_DEFER_SECONDS with a longer slice, so under sustained saturation they still take
# about half the time and the queue stays bounded. A steady stream below saturation is never deferred.
LOOP_LAG_PROBE_SECONDS = 0.01  # how often the event loop measures its own lag
LOOP_LAG_BUSY_SECONDS = 0.01
BACKLOG_BUSY = 8
BACKLOG_SMOOTHING = 0.2  # weight of each probe's sample in the average backlog
IDLE_BACKLOG = 0.5  # below this average, with nothing arriving or committing, the probe stops until the next webhook
DEFER_STEP_SECONDS = 0.005
# A burst is not deferred for long: what the relay accepts in a short burst should be close to what it
# can map and deliver in a steady stream (deferring 100 ms and lagging 0.25 s measured bursts of up to
# ~2x what the process sustains; bench/RESULTS.md, steady load).
MAX_DEFER_SECONDS = 0.02
LAG_SECONDS = 0.1
LAGGING_DEFER_SECONDS = 0.01
BUSY_SLICE_SECONDS = 0.005  # under saturation the mapper stops a round after this long (the rest waits its turn)
LAGGING_SLICE_SECONDS = 0.02  # ... or this long once it lags (still well within the answers' p99 budget)
# Requests to Inngest in flight at once while there is a backlog (a claim came back full). One request at
# a time caps delivery at one batch per round trip (claim + request + mark delivered: ~50 ms for 100 events
# with a receiver answering in 5-20 ms, ~2,000 events/s), below what the relay accepts; below a backlog
# the sender still sends one request at a time. Inngest does not order events across requests, and each
# event's `id` makes a resend harmless; the HTTP client's pool holds this many connections.
SEND_LANES = 4


class Intake:
    """How saturated the receive path is, written by the event loop, read without locks by the loops.

    ``lag``: how late the event loop ran its latest probe; ``probe_due``: when the next probe is due
    (``time.monotonic()``; None while the loop is not probed), so a loop blocked right now counts as
    lagging too; ``committing``: webhooks handed to the store, waiting for their commit, and
    ``backlog`` its moving average, sampled by the probe. The probe runs only while webhooks come
    (:meth:`arrived`) or wait for their commit: probing an idle relay 100 times a second cost it about
    1% of a core doing nothing.
    """

    __slots__ = ("_arrived", "_resume", "backlog", "committing", "lag", "probe_due")

    def __init__(self) -> None:
        self.committing = 0
        self.backlog = 0.0
        self.lag = 0.0
        self.probe_due: float | None = None
        self._arrived = False  # a webhook came since the last probe
        self._resume: Callable[[], None] | None = None  # set while a loop is watched

    @property
    def watching(self) -> bool:
        return self._resume is not None

    def saturated(self, now: float) -> bool:
        due = self.probe_due
        if due is None:
            return self.committing >= BACKLOG_BUSY
        lag = max(self.lag, now - due)
        return lag >= LOOP_LAG_BUSY_SECONDS or self.backlog >= BACKLOG_BUSY

    def arrived(self) -> None:
        """A webhook came in (call in the watched loop's thread): probe the loop while they keep coming."""
        self._arrived = True
        if self.probe_due is None and self._resume is not None:
            self._resume()

    def watch(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """Measure ``loop``'s lag from now on (call in its thread); returns the function that stops it."""
        handle: asyncio.TimerHandle | None = None

        def probe(expected: float) -> None:
            nonlocal handle
            now = loop.time()
            self.lag = max(0.0, now - expected)
            self.backlog += (self.committing - self.backlog) * BACKLOG_SMOOTHING
            if not self._arrived and not self.committing and self.backlog < IDLE_BACKLOG \
                    and self.lag < LOOP_LAG_BUSY_SECONDS:
                self.probe_due, handle = None, None  # idle: the next webhook resumes the probe
                self.lag = self.backlog = 0.0
                return
            self._arrived = False
            self.probe_due = time.monotonic() + LOOP_LAG_PROBE_SECONDS
            handle = loop.call_at(now + LOOP_LAG_PROBE_SECONDS, probe, now + LOOP_LAG_PROBE_SECONDS)

        def stop() -> None:
            self._resume = None
            self.probe_due = None
            self.lag = self.backlog = 0.0
            if handle is not None:
                handle.cancel()

        self._resume = lambda: probe(loop.time())
        return stop


class Deferral:
    """When a background round may run; pure policy over :class:`Intake`'s measurements and a clock.

    The loop asks :meth:`wait` before a round (None = go now, else sleep that long and ask again,
    with the time waited so far), then :meth:`round_done` with the age of the oldest item it saw.
    """

    def __init__(
        self,
        intake: Intake | None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._intake = intake
        self._clock, self._wall = clock, wall
        self.lagging = False  # the last round saw an item older than LAG_SECONDS
        self.under_load = False  # the receive path was saturated when this round started

    def saturated(self) -> bool:
        return self._intake is not None and self._intake.saturated(self._clock())

    def wait(self, waited: float) -> float | None:
        """None to run a round now; otherwise how long to wait before asking again."""
        self.under_load = self.saturated()
        if not self.under_load:
            return None
        bound = LAGGING_DEFER_SECONDS if self.lagging else MAX_DEFER_SECONDS
        if waited >= bound:
            return None  # bounded: a (short) round runs anyway
        return min(DEFER_STEP_SECONDS, bound - waited)

    def slice(self) -> float | None:
        """How long the round may run before leaving the rest for the next one (None: a whole batch)."""
        if not self.under_load:
            return None
        return LAGGING_SLICE_SECONDS if self.lagging else BUSY_SLICE_SECONDS

    def round_done(self, oldest: float | None) -> None:
        """``oldest``: when the oldest item this round saw was received (``time.time()``), if any."""
        self.lagging = oldest is not None and self._wall() - oldest > LAG_SECONDS


class _Loop:
    """A stoppable thread that sleeps on a wake-up event between rounds."""

    name = "paymap-loop"

    def __init__(self, intake: Intake | None = None) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._guarded, name=self.name, daemon=True)
        self.deferral = Deferral(intake)
        self._round_started = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout)

    def wake(self) -> None:
        if not self._wake.is_set():  # called per webhook: skip the lock when already signalled
            self._wake.set()

    def _yield_to_intake(self) -> bool:
        """Wait (boundedly) while the receive path is saturated; True if the round runs under load."""
        waited = 0.0
        while not self._stop.is_set():
            step = self.deferral.wait(waited)
            if step is None:
                break
            self._stop.wait(step)
            waited += step
        self._round_started = time.monotonic()
        return self.deferral.under_load

    def _round_done(self, oldest: float | None) -> None:
        self.deferral.round_done(oldest)

    def _sleep(self, seconds: float, *, wakeable: bool = True) -> None:
        if wakeable:
            if self._wake.wait(seconds):
                self._wake.clear()
                # linger a moment so a burst is handled as one batch (fewer commits, less contention)
                self._stop.wait(LINGER_SECONDS)
        else:
            self._stop.wait(seconds)

    def _guarded(self) -> None:
        last, repeats, shown_at = "", 0, 0.0
        while not self._stop.is_set():
            try:
                self._run()
            except StoreError as exc:
                log.error("store unavailable; retrying", extra={"loop": self.name, "error": str(exc)})
                self._sleep(1.0, wakeable=False)
            except Exception as exc:  # never let a bug silently stop delivery
                # the same error again and again: its traceback once, then a count a minute, not a line a second
                text = f"{type(exc).__name__}: {exc}"
                repeats = repeats + 1 if text == last else 0
                if text != last:
                    log.exception("unexpected error in background loop; restarting it", extra={"loop": self.name})
                    last, shown_at = text, time.monotonic()
                elif time.monotonic() - shown_at >= SUMMARY_SECONDS:
                    log.error("unexpected error in background loop, again", extra={
                        "loop": self.name, "error": text, "times": repeats})
                    shown_at, repeats = time.monotonic(), 0
                self._sleep(min(60.0, 2.0 ** min(repeats, 6)), wakeable=False)

    def _run(self) -> None:
        raise NotImplementedError


class Mapper(_Loop):
    """Maps stored webhooks with the current mappings and queues their events.

    Recording a round's outcomes is a write behind the store's writer (its commit shared with the
    received webhooks', fsync included): ~5 ms at the median under load while mapping the round took
    ~2 ms, so the mapper waited more than it worked. One round is recorded (and reported) in the
    ``paymap-recorder`` thread while the next is read and mapped; that read skips the round in flight
    (``unmapped(after=...)``), and at most one round is in flight, so a failed write leaves its
    webhooks ``received`` for the next read, as before.
    """

    name = "paymap-mapper"
    busy_batch = 20  # how much one round may take on while the receive path is saturated

    def __init__(
        self,
        store: Store,
        holder: MappingHolder,
        settings: RelaySettings,
        metrics: RelayMetrics,
        sender: Sender,
        intake: Intake | None = None,
    ) -> None:
        super().__init__(intake)
        self._store = store
        self._holder = holder
        self._settings = settings
        self._metrics = metrics
        self._sender = sender
        self._recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paymap-recorder")
        self._recording: tuple[Future[None], int] | None = None  # the round in flight, and its highest seq

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        self._recorder.shutdown(wait=True)

    def _run(self) -> None:
        try:
            self._rounds()
        finally:
            with contextlib.suppress(StoreError):
                self._recorded()

    def _rounds(self) -> None:
        while not self._stop.is_set():
            under_load = self._yield_to_intake()
            slice_ = self.deferral.slice()
            small = under_load and not self.deferral.lagging
            mappings = self._holder.current
            after = self._recording[1] if self._recording is not None else 0
            batch = self._store.unmapped(self.busy_batch if small else 100, after) if mappings is not None else []
            if not batch:
                if self._recording is not None:  # the round in flight may fail: then its webhooks come back
                    self._recorded()
                    continue
                self._sleep(self._settings.poll_seconds)
                continue
            assert mappings is not None
            records = []
            for webhook in batch:
                records.append((webhook, map_webhook(mappings, webhook, event_max_bytes=self._settings.event_max_bytes)))
                if slice_ is not None and time.monotonic() - self._round_started > slice_:
                    break
            self._recorded()
            self._recording = self._recorder.submit(self._record, records), records[-1][0].seq
            self._round_done(batch[0].received_at)  # unmapped() gives the oldest first

    def _recorded(self) -> None:
        """Wait for the round in flight; its store error (if any) is raised here, in the mapper."""
        recording, self._recording = self._recording, None
        if recording is not None:
            recording[0].result()

    def _record(self, records: list[tuple[StoredWebhook, MappingRecord]]) -> None:
        stored = self._store.record_mappings([(w.seq, w.generation, r) for w, r in records])
        for (webhook, record), recorded in zip(records, stored, strict=True):
            if recorded:
                self._report(webhook.webhook_id, record)
        self._sender.wake()

    def _report(self, webhook_id: str, record: MappingRecord) -> None:
        extra = {"webhook_id": webhook_id, "event_type": record.event_type, "outcome": record.state}
        if record.state == MAPPED:
            self._metrics.mapped.inc()
            dead = [e for e in record.events if e.dead_reason]
            self._metrics.dead_lettered.inc(len(dead))
            log.info("webhook mapped", extra={**extra, "events": [e.event_id for e in record.events]})
            for ev in dead:
                log.error(
                    "event dead-lettered: it breaks Inngest's event rules",
                    extra={**extra, "event_id": ev.event_id, "reason": ev.dead_reason},
                )
        elif record.state == SKIPPED:
            self._metrics.skipped.inc()
            log.info("webhook skipped: no mapping rule for its type", extra=extra)
        elif record.state == DROPPED:
            self._metrics.dropped.inc()
            log.info("webhook dropped by its mapping", extra=extra)
        elif record.state == FAILED:
            self._metrics.failed.inc()
            log.error("webhook mapping failed; parked for replay", extra={**extra, "error": record.error})


class Sender(_Loop):
    """Delivers pending events in batches to the Inngest Event API."""

    name = "paymap-sender"

    def __init__(
        self,
        store: Store,
        client: InngestSender,
        settings: RelaySettings,
        metrics: RelayMetrics,
        intake: Intake | None = None,
        fingerprint: Callable[[], str] = lambda: "",
    ) -> None:
        super().__init__(intake)
        self._store = store
        self._client = client
        self._fingerprint = fingerprint  # the mapping set's hash, sent with each heartbeat
        self._started_at = time.time()
        self._last_heartbeat = 0.0
        self._last_forget = time.time()
        self._s = settings
        self._metrics = metrics
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self._failures = 0
        self._hold = 0.0
        self._hold_reason = ""
        self._paused: str | None = None
        self._shared_hold = False  # paused by another instance: wait one pause period before trying
        self._last_reap = 0.0
        self._last_prune = 0.0
        self._last_alert = 0.0
        self._last_ok_written = 0.0
        self._error_shown = False
        self._failing_since: float | None = None  # while Inngest cannot be reached or fails
        self._failed_attempts = 0  # ... attempts that failed, since the last summary line
        self._failed_total = 0
        self._last_summary = 0.0
        # the policy's state (hold, pause, failures) is changed by every lane: one at a time
        self._state = threading.RLock()
        self._lanes = ThreadPoolExecutor(max_workers=SEND_LANES, thread_name_prefix="paymap-send")
        self._in_flight: list[Future[None]] = []

    # --------------------------------------------------------------- loop
    def _run(self) -> None:
        self._store.set_meta({TARGET_KEY: self._client.target})
        if self._paused is None:  # paused before a restart: the first delivery must clear it (and say so)
            self._paused = self._store.get_meta(PAUSE_KEY)
            if self._paused is not None:
                self._metrics.sender_paused.set(1)
        try:
            self._rounds()
        finally:
            self._drain_lanes(raise_errors=False)

    def _rounds(self) -> None:
        while not self._stop.is_set():
            # whole batches even under load: the sender mostly waits on Inngest (without the interpreter
            # lock), and smaller requests would cap delivery below the accept rate
            self._yield_to_intake()
            self._housekeeping()
            if self._shared_hold:  # paused elsewhere: wait one pause period, then this instance tries once too
                self._shared_hold = False
                self._sleep(self._s.auth_pause_seconds, wakeable=False)
                continue
            self._wait_for_lane()
            if self._hold > 0:  # a request asked us to wait (retry, pause): nothing else goes out meanwhile
                self._drain_lanes()
                self._sleep(self._hold, wakeable=False)
                self._hold = 0.0
                continue
            batch = self._store.claim(self.owner, self._s.batch_max_events, self._s.batch_max_bytes,
                                      self._s.lease_seconds)
            if not batch:
                self._sleep(self._s.poll_seconds)
                continue
            if self._backlog(batch):  # more is waiting: send this in a lane, claim the next at once
                self._in_flight.append(self._lanes.submit(self._deliver, batch, fresh=True))
            else:
                self._drain_lanes()
                if self._hold == 0:
                    self._deliver(batch, fresh=True)
                else:  # a lane asked to wait meanwhile: this batch waits too
                    self._store.release([e.seq for e in batch], self.owner, self._hold_reason)
            self._round_done(min(e.received_at for e in batch))

    def _backlog(self, batch: list[OutgoingEvent]) -> bool:
        """The claim was cut by a limit, so more events are due."""
        return len(batch) >= self._s.batch_max_events or sum(len(e.payload) + 1 for e in batch) * 2 > self._s.batch_max_bytes

    def _wait_for_lane(self) -> None:
        self._in_flight = [f for f in self._in_flight if not self._settled(f)]
        while len(self._in_flight) >= SEND_LANES:
            self._settled(self._in_flight.pop(0), wait=True)

    def _drain_lanes(self, *, raise_errors: bool = True) -> None:
        in_flight, self._in_flight = self._in_flight, []
        errors = [exc for f in in_flight if (exc := f.exception()) is not None]
        if errors and raise_errors:
            raise errors[0]

    @staticmethod
    def _settled(fut: Future[None], *, wait: bool = False) -> bool:
        """Done (its error, if any, raised here so the loop's guard reports it); ``wait``: wait for it."""
        if not wait and not fut.done():
            return False
        fut.result()
        return True

    def _heartbeat(self) -> None:
        """Tell the other instances (and `paymap status`) we are alive and which mappings we run; once in a
        while forget instances silent for an hour (killed ones; a stopped instance forgets itself)."""
        now = time.time()
        if now - self._last_forget >= FORGET_CHECK_SECONDS:
            self._last_forget = now
            for inst in instances_in(self._store.stats().meta):
                if now - inst.heartbeat_at > FORGET_AFTER_SECONDS:
                    forget_instance(self._store, inst.instance_id)
        heartbeat(self._store, Instance(self.owner, f"{socket.gethostname()} pid {os.getpid()}", self._fingerprint(),
                                        self._started_at, time.time(), self._s.heartbeat_seconds))

    def _follow_shared_pause(self) -> None:
        """The pause is the store's, so every instance sharing it follows it: one instance finding the key
        refused pauses the others, and the first delivery that works (on any instance) resumes them all."""
        with self._state:
            self._follow_shared_pause_locked()

    def _follow_shared_pause_locked(self) -> None:
        shared = self._store.get_meta(PAUSE_KEY)
        if shared is not None and self._paused is None:
            log.error("DELIVERY PAUSED by another instance: Inngest refused the event key", extra={"reason": shared})
            self._paused, self._hold_reason = shared, shared
            self._metrics.sender_paused.set(1)
            self._shared_hold = True
        elif shared is None and self._paused is not None:
            log.warning("delivery resumed by another instance", extra={"was": self._paused})
            self._paused, self._shared_hold = None, False
            self._metrics.sender_paused.set(0)

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        self._lanes.shutdown(wait=True)
        with contextlib.suppress(StoreError):
            forget_instance(self._store, self.owner)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat >= self._s.heartbeat_seconds:
            self._last_heartbeat = now
            self._heartbeat()
        if now - self._last_reap < max(1.0, self._s.poll_seconds):
            return
        self._last_reap = now
        self._follow_shared_pause()
        reaped = self._store.reap_leases()
        if reaped:
            self._metrics.leases_reaped.inc(reaped)
            log.warning("reclaimed expired delivery leases", extra={"events": reaped})
        retention = self._s.retention_seconds
        if retention is not None and now - self._last_prune >= min(60.0, max(self._s.poll_seconds, retention / 10)):
            self._last_prune = now
            self._prune(time.time() - retention)
        if now - self._last_alert >= ALERT_CHECK_SECONDS:
            self._last_alert = now
            st = self._store.stats(counts=False)  # the queue only: counting every row by state scans both tables
            if st.oldest_pending_received_at is not None:
                age = time.time() - st.oldest_pending_received_at
                if age > self._s.alert_pending_age_seconds:
                    log.error(
                        "events are waiting too long for delivery",
                        extra={"oldest_pending_age_s": round(age), "queue_depth": st.queue_depth,
                               "reason": st.oldest_pending_error},
                    )

    def _prune(self, before: float) -> None:
        """Retention: delete finished webhooks older than PAYMAP_RETENTION_DAYS, a small batch at a time,
        stopping as soon as webhooks arrive (the rest goes next time)."""
        total = 0
        while not self._stop.is_set() and not self.deferral.saturated():  # never while the receive path is saturated
            done = self._store.prune(before, PRUNE_BATCH)
            total += done
            if done < PRUNE_BATCH:
                break
        if total:
            self._metrics.pruned.inc(total)
            log.info("deleted webhooks past the retention period", extra={"webhooks": total,
                     "retention_days": self._s.retention_days})

    def _backoff(self) -> float:
        step: float = self._s.retry_base_seconds * float(2 ** min(self._failures - 1, 30))
        return min(self._s.retry_max_seconds, step) * random.uniform(0.5, 1.0)

    # --------------------------------------------------------------- one batch
    def _deliver(self, events: list[OutgoingEvent], *, fresh: bool = False) -> None:
        """Send ``events`` (leased by us); ``fresh`` = just claimed, so the lease needs no renewal.

        Runs in the sender's thread or in a lane: the request goes out unlocked, what follows from its
        answer (and the check before it) under the policy's lock.
        """
        with self._state:
            if self._hold > 0:  # an earlier part of this batch (or another lane) asked us to wait: keep it queued
                self._store.release([e.seq for e in events], self.owner, self._hold_reason)
                return
            if not fresh:  # a split batch: each further request gets a full lease again
                mine = set(self._store.renew([e.seq for e in events], self.owner, self._s.lease_seconds))
                events = [e for e in events if e.seq in mine]
        if not events:
            return
        seqs = [e.seq for e in events]
        try:
            result = self._client.send([e.payload for e in events])
        except Exception as exc:  # a bug or a setting the start checks missed: pause loudly, do not loop
            with self._state:
                self._pause(seqs, SendResult(0, f"unexpected error: {type(exc).__name__}: {exc}"), unexpected=exc)
            return
        with self._state:
            self._answered(events, result)

    def _answered(self, events: list[OutgoingEvent], result: SendResult) -> None:
        seqs = [e.seq for e in events]
        self._metrics.requests.labels(str(result.status) if result.status else "network_error").inc()
        if result.ok:
            self._delivered(events, result.status)
        elif result.auth:
            self._pause(seqs, result)
        elif result.retryable:
            self._retry(seqs, result)
        elif len(events) > 1:
            how = "split in halves" if result.too_large else "resent one by one"
            log.warning("batch rejected; " + how, extra={"events": len(events), "error": result.error})
            if result.too_large:
                half = len(events) // 2
                self._deliver(events[:half])
                self._deliver(events[half:])
            else:
                for ev in events:
                    self._deliver([ev])
        else:
            self._dead(events[0], result)

    def _delivered(self, events: list[OutgoingEvent], status: int) -> None:
        done = self._store.mark_delivered([e.seq for e in events], self.owner, status=status)
        now = time.time()
        for ev in events:
            self._metrics.delivery_latency.observe(max(0.0, now - ev.received_at))
        self._metrics.delivered.inc(done)
        self._failures = 0
        if self._failing_since is not None:
            log.warning("delivery recovered", extra={
                "failing_for_s": round(time.monotonic() - self._failing_since, 1), "failed_attempts": self._failed_total})
            self._failing_since = None
        meta: dict[str, str | None] = {}
        if now - self._last_ok_written >= 5 or self._error_shown:
            meta = {LAST_OK_KEY: f"{now:.3f}", LAST_ERROR_KEY: None}
            self._last_ok_written, self._error_shown = now, False
        if self._paused is not None:
            log.warning("delivery resumed: Inngest accepts the events again", extra={"was": self._paused})
            self._paused = None
            self._metrics.sender_paused.set(0)
            meta.update({PAUSE_KEY: None, PAUSE_SINCE_KEY: None})
        if meta:
            self._store.set_meta(meta)
        log.info("events delivered", extra={"events": [e.event_id for e in events]})

    def _pause(self, seqs: list[int], result: SendResult, unexpected: Exception | None = None) -> None:
        check = ("report it with the log's traceback" if unexpected is not None
                 else "check INNGEST_EVENT_KEY, INNGEST_ENV and the event API URL")
        reason = (
            f"{result.error} from {self._client.display_url} — delivery paused, nothing is dropped; {check} "
            f"(retrying every {self._s.auth_pause_seconds:g} s)"
        )
        first = self._paused != reason
        self._store.release(seqs, self.owner, reason, status=result.status)
        if not first and self._hold > 0:
            return  # another lane's request met the same refusal in this pause: said (and stored) once
        self._hold, self._hold_reason = self._s.auth_pause_seconds, reason
        meta: dict[str, str | None] = {PAUSE_KEY: reason, LAST_ERROR_KEY: reason}
        if self._paused is None:
            meta[PAUSE_SINCE_KEY] = f"{time.time():.3f}"
        self._paused = reason
        self._metrics.sender_paused.set(1)
        self._store.set_meta(meta)
        self._error_shown = True
        if unexpected is not None:
            log.error("DELIVERY PAUSED: unexpected error sending to Inngest", extra={"reason": reason},
                      exc_info=unexpected if first else None)
        else:
            log.error("DELIVERY PAUSED: Inngest refused the event key", extra={"status": result.status, "reason": reason})

    def _retry(self, seqs: list[int], result: SendResult) -> None:
        if self._hold > 0:
            # another request in flight at the same time (a lane) failed first and set the wait: one
            # failure for the backoff, not one per request in flight
            delay = self._hold
        else:
            self._failures += 1
            delay = self._backoff()
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, self._s.retry_max_seconds))
        reason = f"{result.error} (attempt failed; retrying in {delay:.1f} s)"
        self._store.mark_retry(seqs, self.owner, delay, reason, status=result.status)
        self._metrics.retried.inc(len(seqs))
        self._hold, self._hold_reason = delay, reason
        self._store.set_meta({LAST_ERROR_KEY: reason})
        self._error_shown = True
        self._failed_attempts += 1
        self._failed_total += 1
        now = time.monotonic()
        if self._failing_since is None:  # one line when it starts, a summary a minute, one when it recovers
            self._failing_since = self._last_summary = now
            self._failed_attempts = self._failed_total = 1
            log.warning("delivery failing; retrying with backoff until Inngest accepts (summary every minute)",
                        extra={"events": len(seqs), "error": result.error, "delay_s": round(delay, 3)})
        elif now - self._last_summary >= SUMMARY_SECONDS:
            log.warning("delivery still failing", extra={
                "failing_for_s": round(now - self._failing_since), "failed_attempts": self._failed_attempts,
                "last_error": result.error, "next_retry_s": round(delay, 3)})
            self._last_summary, self._failed_attempts = now, 0

    def _dead(self, event: OutgoingEvent, result: SendResult) -> None:
        reason = f"Inngest rejected the event: {result.error}"
        if self._store.mark_dead([event.seq], self.owner, reason, status=result.status):
            self._metrics.dead_lettered.inc()
        log.error("event dead-lettered", extra={"event_id": event.event_id, "reason": reason})
