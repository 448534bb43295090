"""The sender's delivery policy, one round at a time: a real SQLite store, the real HTTP client and
the Inngest test double over loopback, the sender driven in the test's thread so each assertion
holds right after the round (nothing is left "eventually": an event stranded until its lease runs
out is a failure here, since every lease is ten minutes).

Also the store's side of delivery: exactly-once claims under concurrent senders, leases that only
their owner may use, renewal, reaping."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runtime.relay import worker
from runtime.relay.config import RelaySettings
from runtime.relay.inngest import InngestSender, SendResult
from runtime.relay.metrics import RelayMetrics
from runtime.relay.store import IncomingWebhook, MappingRecord, NewEvent
from runtime.relay.store_sqlite import SQLiteStore
from runtime.relay.worker import Sender

from .harness import Double, fast_settings, free_port, wait_until

LEASE = 600.0  # far beyond any wait in these tests


@dataclass
class Rig:
    store: SQLiteStore
    sender: Sender
    settings: RelaySettings
    double: Double

    def queue(self, *names: str) -> list[str]:
        """One mapped webhook per name, each with one pending event ``ev_<i>``; returns the ids."""
        base = len(self.rows())
        ids = [f"ev_{base + i}" for i in range(len(names))]
        for event_id, name in zip(ids, names, strict=True):
            asyncio.run(_accept(self.store, f"msg_{event_id}"))
            [webhook] = self.store.unmapped(1)
            payload = json.dumps({"name": name, "data": {"n": event_id}, "id": event_id}, separators=(",", ":"))
            record = MappingRecord("mapped", "payment.succeeded", None, [NewEvent(event_id, name, payload)])
            assert self.store.record_mappings([(webhook.seq, webhook.generation, record)]) == [True]
        return ids

    def round(self) -> None:
        """What one turn of the sender's loop does: claim a batch, deliver it."""
        s = self.settings
        batch = self.store.claim(self.sender.owner, s.batch_max_events, s.batch_max_bytes, s.lease_seconds)
        assert batch, "nothing to send"
        self.sender._hold = 0.0
        self.sender._deliver(batch, fresh=True)

    def rows(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.store.path) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(
                "SELECT seq, event_id, state, attempts, last_error, lease_owner, lease_until, next_attempt_at "
                "FROM events ORDER BY seq")]

    def state(self) -> dict[str, str]:
        return {r["event_id"]: r["state"] for r in self.rows()}

    def statuses(self) -> list[int]:
        return [r["status"] for r in self.double.received()["requests"]]


async def _accept(store: SQLiteStore, webhook_id: str) -> None:
    assert await store.accept(IncomingWebhook(webhook_id, {}, b"{}", time.time())) is True


@pytest.fixture
def rig(tmp_path: Path, double: Double) -> Iterator[Rig]:
    settings = fast_settings(tmp_path, double.url, lease_seconds=LEASE, retry_base_seconds=0.5,
                             retry_max_seconds=4.0, auth_pause_seconds=30.0)
    store = SQLiteStore(settings.db_path, accept_timeout=60)
    client = InngestSender(double.url, "test-key", timeout=10)
    yield Rig(store, Sender(store, client, settings, RelayMetrics()), settings, double)
    client.close()
    store.close()


def _largest(rig: Rig) -> int:
    """Bytes of the largest queued event: a request of k such events is 2 + k * size + (k - 1) bytes."""
    with sqlite3.connect(rig.store.path) as conn:
        return int(conn.execute("SELECT max(size) FROM events").fetchone()[0])


# ------------------------------------------------------------------ 413: split, nothing stranded
@pytest.mark.parametrize("count", [2, 3, 5, 8])
def test_413_splits_and_delivers_every_event_in_the_same_round(rig: Rig, count: int) -> None:
    ids = rig.queue(*["payment.succeeded"] * count)
    rig.double.config(max_request_bytes=_largest(rig) + 2)  # one event per request
    rig.round()
    assert rig.state() == dict.fromkeys(ids, "delivered")  # the middle one too, without waiting for its lease
    assert sorted(rig.double.ids()) == sorted(ids)  # each exactly once
    assert rig.statuses()[0] == 413 and rig.statuses().count(200) == count
    assert all(r["lease_owner"] is None and r["attempts"] == 1 for r in rig.rows())


def test_413_on_a_single_event_dead_letters_it_with_inngests_answer(rig: Rig) -> None:
    [only] = rig.queue("payment.succeeded")
    rig.double.config(max_request_bytes=20)
    rig.round()
    [row] = rig.rows()
    assert (row["state"], row["attempts"]) == ("dead", 1)
    assert row["last_error"] == "Inngest rejected the event: HTTP 413: Event payload too large"
    assert rig.double.ids() == [] and only == row["event_id"]


def test_a_400_size_answer_counts_as_too_large(rig: Rig) -> None:
    ids = rig.queue("payment.succeeded", "payment.succeeded")
    rig.double.script({"status": 400, "body": {"error": "Event is over the max size: Max 10 bytes / Size 99 bytes"}})
    rig.round()
    assert rig.state() == dict.fromkeys(ids, "delivered")
    assert rig.statuses() == [400, 200, 200]


# ------------------------------------------------------------------ 400: one by one
def test_400_on_a_batch_resends_one_by_one_and_dead_letters_only_the_rejected(rig: Rig) -> None:
    good1, bad, good2 = rig.queue("payment.succeeded", "payment.failed", "payment.succeeded")
    rig.double.config(reject_names=["payment.failed"])
    rig.round()
    assert rig.state() == {good1: "delivered", bad: "dead", good2: "delivered"}
    assert rig.statuses() == [400, 200, 400, 200]
    dead = next(r for r in rig.rows() if r["event_id"] == bad)
    assert dead["last_error"] == "Inngest rejected the event: HTTP 400: Event 'payment.failed' rejected by the test configuration"


# ------------------------------------------------------------------ retryable: backoff, Retry-After
def test_a_server_error_is_retried_later_with_backoff_and_holds_the_rest(rig: Rig) -> None:
    ids = rig.queue("payment.succeeded", "payment.succeeded")
    rig.double.script({"status": 503, "body": {"error": "down"}})
    before = time.time()
    rig.round()
    after = time.time()
    rows = rig.rows()
    assert rig.state() == dict.fromkeys(ids, "pending")
    for r in rows:
        assert r["attempts"] == 1 and r["lease_owner"] is None and r["lease_until"] is None
        assert before + 0.25 <= r["next_attempt_at"] <= after + 0.5  # base 0.5 s with jitter 0.5-1.0
        assert r["last_error"].startswith("HTTP 503: down (attempt failed; retrying in ")
    assert 0.25 <= rig.sender._hold <= 0.5  # the loop waits as long before its next round
    assert rig.store.stats().meta[worker.LAST_ERROR_KEY] == rows[0]["last_error"]


@pytest.mark.parametrize(("retry_after", "delay"), [("2", 2.0), ("100", 4.0), ("0", None)])
def test_retry_after_is_honoured_up_to_the_maximum(rig: Rig, retry_after: str, delay: float | None) -> None:
    rig.queue("payment.succeeded")
    rig.double.script({"status": 429, "headers": {"retry-after": retry_after}, "body": {"error": "slow down"}})
    before = time.time()
    rig.round()
    after = time.time()
    [row] = rig.rows()
    if delay is None:  # "0": the backoff (0.25-0.5 s) is longer and wins
        assert before + 0.25 <= row["next_attempt_at"] <= after + 0.5
    else:
        assert before + delay <= row["next_attempt_at"] <= after + delay
        assert f"retrying in {delay:.1f} s" in row["last_error"]


def test_a_split_batch_stops_sending_once_a_part_must_wait(rig: Rig) -> None:
    first, second, third, fourth = rig.queue(*["payment.succeeded"] * 4)
    rig.double.script({"status": 413, "body": {"error": "Event payload too large"}}, {"status": 503})
    rig.round()
    rows = {r["event_id"]: r for r in rig.rows()}
    assert rig.statuses() == [413, 503]  # the second half was not sent into the outage
    assert [rows[e]["attempts"] for e in (first, second, third, fourth)] == [1, 1, 0, 0]
    assert all(r["state"] == "pending" and r["lease_owner"] is None for r in rows.values())
    assert rows[third]["last_error"] == rows[first]["last_error"]  # the reason the rest is waiting


@pytest.mark.parametrize("failures", [1, 2, 3, 5, 40])
def test_backoff_doubles_with_jitter_up_to_the_maximum(rig: Rig, failures: int) -> None:
    rig.sender._failures = failures
    random.seed(failures)
    delays = [rig.sender._backoff() for _ in range(400)]
    step = min(4.0, 0.5 * 2 ** (failures - 1))
    assert step / 2 <= min(delays) < step * 0.6 and step * 0.9 < max(delays) <= step


# ------------------------------------------------------------------ 401: pause, keep everything
def test_a_refused_key_pauses_keeps_every_event_and_resumes(rig: Rig) -> None:
    ids = rig.queue("payment.succeeded", "payment.succeeded")
    rig.double.config(keys=["another-key"])
    rig.round()
    rows = rig.rows()
    assert all(r["state"] == "pending" and r["attempts"] == 0 and r["lease_owner"] is None for r in rows)
    reason = rig.store.stats().meta[worker.PAUSE_KEY]
    assert "HTTP 401: Event key not found" in reason and "nothing is dropped" in reason
    assert rows[0]["last_error"] == reason
    assert rig.sender._hold == 30.0
    rig.double.config(keys=["test-key"])
    rig.round()
    assert rig.state() == dict.fromkeys(ids, "delivered")
    assert worker.PAUSE_KEY not in rig.store.stats().meta
    assert rig.statuses() == [401, 200]


# ------------------------------------------------------------------ leases on a split batch
def test_a_split_batch_renews_its_leases_and_skips_what_it_lost(rig: Rig) -> None:
    ids = rig.queue(*["payment.succeeded"] * 4)
    rig.double.config(max_request_bytes=2 * _largest(rig) + 3)  # two events per request
    s = rig.settings
    batch = rig.store.claim(rig.sender.owner, s.batch_max_events, s.batch_max_bytes, LEASE)
    with sqlite3.connect(rig.store.path) as conn:  # another sender took the last event over (ours had expired)
        conn.execute("UPDATE events SET lease_owner = 'other', lease_until = ? WHERE event_id = ?",
                     (time.time() + LEASE, ids[3]))
    rig.sender._deliver(batch, fresh=True)
    assert rig.state() == {**dict.fromkeys(ids[:3], "delivered"), ids[3]: "pending"}
    assert sorted(rig.double.ids()) == ids[:3]
    assert next(r for r in rig.rows() if r["event_id"] == ids[3])["lease_owner"] == "other"


def test_the_loop_delivers_everything_long_before_any_lease_could_expire(rig: Rig) -> None:
    ids = rig.queue(*["payment.succeeded"] * 7)
    rig.double.config(max_request_bytes=3 * _largest(rig) + 4)  # three events per request
    rig.sender.start()
    try:  # leases last ten minutes: a stranded event would make this wait time out
        wait_until(lambda: rig.state() == dict.fromkeys(ids, "delivered"), "every event delivered", timeout=20)
    finally:
        rig.sender.stop()
    assert sorted(rig.double.ids()) == sorted(ids)


# ------------------------------------------------------------------ the store: claims and leases
def test_concurrent_senders_claim_each_event_exactly_once(rig: Rig) -> None:
    ids = rig.queue(*["payment.succeeded"] * 60)
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def sender(owner: str) -> None:
        mine = claimed[owner] = []
        start.wait()
        while len(mine) <= 60 and (batch := rig.store.claim(owner, 3, 1 << 20, LEASE)):
            mine.extend(e.seq for e in batch)

    threads = [threading.Thread(target=sender, args=(f"owner{i}",), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = [seq for seqs in claimed.values() for seq in seqs]
    assert sorted(everything) == sorted(r["seq"] for r in rig.rows())  # each exactly once
    assert len(ids) == 60
    owners = {r["seq"]: r["lease_owner"] for r in rig.rows()}
    assert all(owners[seq] == owner for owner, seqs in claimed.items() for seq in seqs)


def test_a_live_lease_is_never_claimed_again_and_an_expired_one_is(rig: Rig) -> None:
    rig.queue("payment.succeeded", "payment.succeeded")
    first = rig.store.claim("a", 10, 1 << 20, LEASE)
    assert [e.event_id for e in first] == ["ev_0", "ev_1"]
    assert rig.store.claim("b", 10, 1 << 20, LEASE) == []
    with sqlite3.connect(rig.store.path) as conn:  # a's lease on ev_1 runs out
        conn.execute("UPDATE events SET lease_until = ? WHERE event_id = 'ev_1'", (time.time() - 1,))
    assert [e.event_id for e in rig.store.claim("b", 10, 1 << 20, LEASE)] == ["ev_1"]
    assert rig.store.mark_delivered([e.seq for e in first], "a") == 1  # a lost ev_1: only ev_0 is a's
    assert rig.state() == {"ev_0": "delivered", "ev_1": "pending"}
    assert rig.store.renew([first[1].seq], "a", LEASE) == []
    assert rig.store.renew([first[1].seq], "b", LEASE) == [first[1].seq]


def test_claims_take_the_oldest_due_events_within_the_byte_budget(rig: Rig) -> None:
    rig.queue(*["payment.succeeded"] * 5)
    size = _largest(rig)  # all five are the same size
    with sqlite3.connect(rig.store.path) as conn:  # ev_0 is waiting for its retry
        conn.execute("UPDATE events SET next_attempt_at = ? WHERE event_id = 'ev_0'", (time.time() + 60,))
    batch = rig.store.claim("a", 10, 4 + 2 * size, LEASE)
    assert [e.event_id for e in batch] == ["ev_1", "ev_2"]  # two fit, with room to spare for "[" "," "]"
    assert [e.event_id for e in rig.store.claim("a", 1, 1 << 20, LEASE)] == ["ev_3"]
    assert [e.event_id for e in rig.store.claim("a", 10, 5, LEASE)] == ["ev_4"]  # always at least one
    leases = {r["event_id"]: r["lease_until"] for r in rig.rows()}
    assert leases["ev_0"] is None and all(time.time() + LEASE - 60 < leases[e] for e in ("ev_1", "ev_2", "ev_3"))


def test_only_the_owner_settles_an_event_and_reaping_frees_only_expired_leases(rig: Rig) -> None:
    rig.queue("payment.succeeded", "payment.succeeded", "payment.succeeded")
    [a, b, c] = rig.store.claim("me", 10, 1 << 20, LEASE)
    for op in (lambda s, o: rig.store.mark_delivered(s, o), lambda s, o: rig.store.mark_retry(s, o, 1, "x"),
               lambda s, o: rig.store.release(s, o, "x"), lambda s, o: rig.store.mark_dead(s, o, "x")):
        assert op([a.seq, b.seq, c.seq], "someone-else") == 0
    assert {r["lease_owner"] for r in rig.rows()} == {"me"}
    with sqlite3.connect(rig.store.path) as conn:
        conn.execute("UPDATE events SET lease_until = ? WHERE seq = ?", (time.time() - 1, b.seq))
    assert rig.store.reap_leases() == 1
    assert [r["lease_owner"] for r in rig.rows()] == ["me", None, "me"]
    assert rig.store.mark_retry([a.seq], "me", 30, "later") == 1
    assert rig.store.release([c.seq], "me", "paused") == 1
    rows = rig.rows()
    assert (rows[0]["attempts"], rows[0]["last_error"], rows[0]["lease_owner"]) == (1, "later", None)
    assert rows[0]["next_attempt_at"] > time.time() + 25
    assert (rows[2]["attempts"], rows[2]["last_error"], rows[2]["lease_owner"]) == (0, "paused", None)
    assert rig.store.mark_dead([a.seq], "me", "gone") == 0  # no longer leased by me
    assert (rig.store.mark_delivered([], "me"), rig.store.release([], "me", "x"), rig.store.mark_dead([], "me", "x"),
            rig.store.mark_retry([], "me", 1, "x"), rig.store.renew([], "me", LEASE)) == (0, 0, 0, 0, [])


# ------------------------------------------------------------------ the HTTP client's answers
def test_the_client_reports_each_kind_of_answer(double: Double) -> None:
    client = InngestSender(double.url, "test-key-123", timeout=5, env="branch-1")
    try:
        before = int(time.time() * 1000)
        ok = client.send(['{"name":"a","data":{}}'])
        after = int(time.time() * 1000)
        assert ok == SendResult(200, "") and ok.ok
        [request] = double.received()["requests"]
        millis, _, noise = request["seed"].partition(",")
        assert before <= int(millis) <= after and len(base64.b64decode(noise)) == 10
        double.script({"status": 500, "body": {"error": "boom"}},
                      {"status": 503, "body": "x" * 600, "headers": {"retry-after": "7"}},
                      {"status": 502, "body": ""})
        assert client.send(['{"name":"a"}']) == SendResult(500, "HTTP 500: boom")
        long = client.send(['{"name":"a"}'])
        assert long == SendResult(503, "HTTP 503: \"" + "x" * 499, 7.0)
        assert client.send(['{"name":"a"}']) == SendResult(502, 'HTTP 502: ""')
        assert (client.display_url, client.target) == (f"{double.url}/e/test-k…", f"{double.url}/e/test-k… (INNGEST_ENV branch-1)")
    finally:
        client.close()


def test_the_client_never_raises_for_network_trouble(double: Double) -> None:
    unreachable = InngestSender(f"http://127.0.0.1:{free_port()}/", "k", timeout=2, placeholder_key=True)
    slow = InngestSender(double.url, "k", timeout=0.2)
    try:
        down = unreachable.send(["{}"])
        assert down.status == 0 and down.retryable and not down.ok
        assert down.error.startswith(f"cannot reach {unreachable.display_url}: ConnectError: ")
        assert unreachable.display_url.endswith("/e/…") and "no INNGEST_EVENT_KEY" in unreachable.target
        double.config(response_delay_ms=2000)
        late = slow.send(['{"name":"a","data":{}}'])
        assert late == SendResult(0, f"timeout talking to {slow.display_url}: ReadTimeout")
    finally:
        unreachable.close()
        slow.close()


@pytest.mark.parametrize(("status", "error", "ok", "retryable", "auth", "too_large"), [
    (200, "", True, False, False, False),
    (0, "x", False, True, False, False),
    (408, "x", False, True, False, False), (429, "x", False, True, False, False),
    (500, "x", False, True, False, False), (599, "x", False, True, False, False),
    (401, "x", False, False, True, False), (403, "x", False, False, True, False),
    (404, "x", False, False, True, False), (301, "x", False, False, True, False), (399, "x", False, False, True, False),
    (413, "x", False, False, False, True),
    (400, "HTTP 400: Event is over the max size: Max 1 bytes / Size 2 bytes", False, False, False, True),
    (400, "HTTP 400: event name is empty", False, False, False, False),
    (402, "x", False, False, False, False), (499, "x", False, False, False, False),
])
def test_what_each_status_means(status: int, error: str, ok: bool, retryable: bool, auth: bool, too_large: bool) -> None:
    result = SendResult(status, error)
    assert (result.ok, result.retryable, result.auth, result.too_large) == (ok, retryable, auth, too_large)


# ------------------------------------------------------------------ what the operator sees
def _metric(rig: Rig, name: str, **labels: str) -> float:
    value = rig.sender._metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def _logged(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == message]


def _make_due(rig: Rig) -> None:
    with sqlite3.connect(rig.store.path) as conn:
        conn.execute("UPDATE events SET next_attempt_at = 0")


def test_a_failure_is_logged_once_summarised_and_its_recovery_reported(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    ids = rig.queue("payment.succeeded", "payment.succeeded")
    rig.double.script({"status": 503, "body": {"error": "down"}}, {"status": 500, "body": {"error": "boom"}})
    rig.round()
    [failing] = _logged(caplog, "delivery failing; retrying with backoff until Inngest accepts (summary every minute)")
    assert (failing.events, failing.error, failing.delay_s) == (2, "HTTP 503: down", round(rig.sender._hold, 3))  # type: ignore[attr-defined]
    assert _metric(rig, "paymap_events_retried_total") == 2
    assert _metric(rig, "paymap_inngest_requests_total", status="503") == 1
    monkeypatch.setattr(worker, "SUMMARY_SECONDS", 0.0)  # the next failure is a minute later
    _make_due(rig)
    rig.round()
    [summary] = _logged(caplog, "delivery still failing")
    assert (summary.failed_attempts, summary.last_error, summary.next_retry_s) == (  # type: ignore[attr-defined]
        2, "HTTP 500: boom", round(rig.sender._hold, 3))
    assert isinstance(summary.failing_for_s, int) and summary.failing_for_s >= 0  # type: ignore[attr-defined]
    assert _logged(caplog, "delivery failing; retrying with backoff until Inngest accepts (summary every minute)") == [failing]
    assert rig.store.stats().meta[worker.LAST_ERROR_KEY].startswith("HTTP 500: boom (attempt failed; retrying in ")
    _make_due(rig)
    before = time.time()
    rig.round()
    [recovered] = _logged(caplog, "delivery recovered")
    assert recovered.failed_attempts == 2 and recovered.failing_for_s >= 0  # type: ignore[attr-defined]
    [delivered] = _logged(caplog, "events delivered")
    assert delivered.events == ids  # type: ignore[attr-defined]
    meta = rig.store.stats().meta
    assert worker.LAST_ERROR_KEY not in meta and before <= float(meta[worker.LAST_OK_KEY]) <= time.time()
    assert _metric(rig, "paymap_events_delivered_total") == 2
    assert _metric(rig, "paymap_delivery_latency_seconds_count") == 2
    assert _metric(rig, "paymap_events_retried_total") == 4
    assert _metric(rig, "paymap_inngest_requests_total", status="200") == 1
    assert rig.sender._failures == 0 and rig.sender._failing_since is None


def test_a_pause_is_logged_shown_and_cleared(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    rig.queue("payment.succeeded")
    rig.double.config(keys=["another-key"])
    before = time.time()
    rig.round()
    reason = (f"HTTP 401: Event key not found from {rig.sender._client.display_url} — delivery paused, nothing is "
              "dropped; check INNGEST_EVENT_KEY, INNGEST_ENV and the event API URL (retrying every 30 s)")
    meta = rig.store.stats().meta
    assert (meta[worker.PAUSE_KEY], meta[worker.LAST_ERROR_KEY]) == (reason, reason)
    since = meta[worker.PAUSE_SINCE_KEY]
    assert before <= float(since) <= time.time()
    assert _metric(rig, "paymap_sender_paused") == 1
    [paused] = _logged(caplog, "DELIVERY PAUSED: Inngest refused the event key")
    assert (paused.status, paused.reason, paused.levelname) == (401, reason, "ERROR")  # type: ignore[attr-defined]
    rig.round()  # still refused: the pause keeps its start
    assert rig.store.stats().meta[worker.PAUSE_SINCE_KEY] == since
    assert rig.sender._error_shown
    rig.double.config(keys=["test-key"])
    rig.round()
    [resumed] = _logged(caplog, "delivery resumed: Inngest accepts the events again")
    assert resumed.was == reason  # type: ignore[attr-defined]
    meta = rig.store.stats().meta
    assert not {worker.PAUSE_KEY, worker.PAUSE_SINCE_KEY, worker.LAST_ERROR_KEY} & set(meta)
    assert _metric(rig, "paymap_sender_paused") == 0
    assert rig.sender._paused is None and not rig.sender._error_shown


@pytest.mark.parametrize("pause", [30.0, 0.5])
def test_lanes_refused_in_the_same_pause_say_so_once(rig: Rig, caplog: pytest.LogCaptureFixture, pause: float) -> None:
    """Up to 4 requests are in flight under a backlog: all refused at once is one pause, one line (also
    with a pause under a second, PAYMAP_AUTH_PAUSE_SECONDS=0.5)."""
    caplog.set_level(logging.INFO, logger="paymap.relay")
    rig.sender._s = rig.settings.model_copy(update={"auth_pause_seconds": pause})
    rig.queue("payment.succeeded", "payment.succeeded", "payment.succeeded")
    rig.double.config(keys=["another-key"], response_delay_ms=300)  # all three sent before the first answer
    s = rig.settings
    batches = [rig.store.claim(rig.sender.owner, 1, s.batch_max_bytes, s.lease_seconds) for _ in range(3)]
    rig.sender._hold = 0.0
    lanes = [threading.Thread(target=rig.sender._deliver, args=(batch,), kwargs={"fresh": True}) for batch in batches]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join(10)
    rig.double.config(response_delay_ms=0)
    assert len(_logged(caplog, "DELIVERY PAUSED: Inngest refused the event key")) == 1
    assert [(r["state"], r["attempts"], r["lease_owner"]) for r in rig.rows()] == [("pending", 0, None)] * 3
    rig.sender._hold = 0.0  # the pause period is over: the next refusal is said again
    rig.round()
    assert len(_logged(caplog, "DELIVERY PAUSED: Inngest refused the event key")) == 2


def test_an_unexpected_error_pauses_with_one_traceback(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    rig.queue("payment.succeeded")
    rig.sender._client = InngestSender(rig.double.url, "key-with-a-newline\n", timeout=2)
    try:
        rig.round()
        rig.round()
    finally:
        rig.sender._client.close()
    reason = rig.store.stats().meta[worker.PAUSE_KEY]
    assert reason.startswith("unexpected error: InvalidURL: ")
    assert reason.endswith("delivery paused, nothing is dropped; report it with the log's traceback "
                           "(retrying every 30 s)")
    first, second = _logged(caplog, "DELIVERY PAUSED: unexpected error sending to Inngest")
    assert first.exc_info is not None and second.exc_info is None
    assert first.reason == reason and first.levelname == "ERROR"  # type: ignore[attr-defined]
    assert [r["attempts"] for r in rig.rows()] == [0]


def test_rejections_are_logged_and_counted(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    good, bad = rig.queue("payment.succeeded", "payment.failed")
    rig.double.config(reject_names=["payment.failed"])
    rig.round()
    [batch] = _logged(caplog, "batch rejected; resent one by one")
    assert (batch.events, batch.levelname) == (2, "WARNING")  # type: ignore[attr-defined]
    assert batch.error == "HTTP 400: Event 'payment.failed' rejected by the test configuration"  # type: ignore[attr-defined]
    [dead] = _logged(caplog, "event dead-lettered")
    assert (dead.event_id, dead.levelname) == (bad, "ERROR")  # type: ignore[attr-defined]
    assert dead.reason == "Inngest rejected the event: " + batch.error  # type: ignore[attr-defined]
    assert _metric(rig, "paymap_events_dead_lettered_total") == 1
    assert _metric(rig, "paymap_events_delivered_total") == 1
    rig.queue("payment.succeeded", "payment.succeeded")
    rig.double.config(max_request_bytes=_largest(rig) + 2)
    rig.round()
    [split] = _logged(caplog, "batch rejected; split in halves")
    assert (split.events, split.error) == (2, "HTTP 413: Event payload too large")  # type: ignore[attr-defined]
    assert good in rig.double.ids()


def test_consecutive_failures_back_off_further_and_a_success_resets(rig: Rig) -> None:
    rig.queue("payment.succeeded")
    rig.double.script({"status": 503}, {"status": 503}, {"status": 503})
    holds = []
    for _ in range(3):
        rig.round()
        holds.append(rig.sender._hold)
        _make_due(rig)
    assert 0.25 <= holds[0] <= 0.5 and 0.5 <= holds[1] <= 1.0 and 1.0 <= holds[2] <= 2.0  # base 0.5 s, doubling
    rig.round()
    assert rig.state() == {"ev_0": "delivered"} and rig.sender._failures == 0


def test_an_error_shown_is_cleared_by_the_next_delivery_however_soon(rig: Rig) -> None:
    rig.queue("payment.succeeded")
    rig.round()  # delivered: "last delivery" written just now
    rig.queue("payment.succeeded")
    rig.double.script({"status": 503, "body": {"error": "down"}})
    rig.round()
    assert rig.store.stats().meta[worker.LAST_ERROR_KEY].startswith("HTTP 503: down")
    _make_due(rig)
    rig.round()  # within seconds of the last "last delivery": the error must not linger in `paymap status`
    assert worker.LAST_ERROR_KEY not in rig.store.stats().meta


def test_summaries_count_the_attempts_since_the_last_one(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    rig.queue("payment.succeeded")
    rig.double.script(*[{"status": 503}] * 4)
    for _ in range(2):  # two failures within the minute: one "failing" line, no summary yet
        rig.round()
        _make_due(rig)
    assert _logged(caplog, "delivery still failing") == []
    monkeypatch.setattr(worker, "SUMMARY_SECONDS", 0.0)
    for _ in range(2):
        rig.round()
        _make_due(rig)
    first, second = _logged(caplog, "delivery still failing")
    assert (first.failed_attempts, second.failed_attempts) == (3, 1)  # type: ignore[attr-defined]
    assert 0 <= first.failing_for_s < 60 and 0 <= second.failing_for_s < 60  # type: ignore[attr-defined]
    rig.round()
    [recovered] = _logged(caplog, "delivery recovered")
    span = recovered.failing_for_s  # type: ignore[attr-defined]
    assert isinstance(span, float) and span == round(span, 1) and 0 <= span < 60
    assert recovered.failed_attempts == 4  # type: ignore[attr-defined]


def test_last_delivery_is_written_at_most_every_five_seconds(rig: Rig) -> None:
    rig.queue("payment.succeeded")
    rig.round()  # the first delivery is always written
    written = rig.store.stats().meta[worker.LAST_OK_KEY]
    rig.queue("payment.succeeded")
    rig.round()  # a second within five seconds: not written again (one write per batch would cost)
    assert rig.store.stats().meta[worker.LAST_OK_KEY] == written
    rig.sender._last_ok_written = time.time() - 5.5
    rig.queue("payment.succeeded")
    rig.round()
    assert float(rig.store.stats().meta[worker.LAST_OK_KEY]) > float(written)


def test_delivery_latency_is_measured_from_receipt(rig: Rig) -> None:
    rig.queue("payment.succeeded", "payment.succeeded")
    with sqlite3.connect(rig.store.path) as conn:
        received = [r[0] for r in conn.execute("SELECT received_at FROM events")]
    rig.round()
    after = time.time()
    assert _metric(rig, "paymap_delivery_latency_seconds_count") == 2
    assert 0 <= _metric(rig, "paymap_delivery_latency_seconds_sum") <= sum(after - r for r in received)


def test_each_part_of_a_split_batch_rechecks_its_lease(rig: Rig) -> None:
    """Another sender takes an event over while the first request is answered 413: that part skips it."""
    ids = rig.queue(*["payment.succeeded"] * 4)
    rig.double.config(max_request_bytes=2 * _largest(rig) + 3)  # two events per request
    client = rig.sender._client
    calls: list[int] = []

    def send_then_lose_the_last(payloads: list[str]) -> SendResult:
        result = client.send(payloads)
        if not calls:
            with sqlite3.connect(rig.store.path) as conn:
                conn.execute("UPDATE events SET lease_owner = 'other', lease_until = ? WHERE event_id = ?",
                             (time.time() + LEASE, ids[3]))
        calls.append(len(payloads))
        return result

    rig.sender._client = type("Client", (), {"send": staticmethod(send_then_lose_the_last),
                                              "display_url": client.display_url})()  # type: ignore[assignment]
    try:
        rig.round()
    finally:
        rig.sender._client = client
    assert calls == [4, 2, 1]
    assert sorted(rig.double.ids()) == ids[:3]


def test_requests_without_an_answer_are_counted_as_network_errors(rig: Rig) -> None:
    rig.queue("payment.succeeded")
    client = rig.sender._client
    rig.sender._client = InngestSender(f"http://127.0.0.1:{free_port()}", "k", timeout=2)
    try:
        rig.round()
    finally:
        rig.sender._client.close()
        rig.sender._client = client
    assert _metric(rig, "paymap_inngest_requests_total", status="network_error") == 1
    assert _metric(rig, "paymap_inngest_requests_total", status="0") == 0


def test_a_claim_fills_the_byte_budget_exactly(rig: Rig) -> None:
    rig.queue(*["payment.succeeded"] * 4)
    size = _largest(rig)  # all four the same size; a claim counts "[]" and, per event, its size and a comma
    assert len(rig.store.claim("a", 10, 2 + 3 * (size + 1) - 1, LEASE)) == 2  # one byte short of three
    assert len(rig.store.claim("b", 10, 2 + 2 * (size + 1), LEASE)) == 2  # exactly two


# ------------------------------------------------------------------ a backlog: several requests in flight
def test_a_backlog_goes_out_with_several_requests_in_flight(tmp_path: Path, double: Double) -> None:
    """Full claims mean more is waiting: the sender does not wait for one answer before the next request
    (one request per round trip caps delivery below what the relay accepts), and never has more than
    SEND_LANES requests in flight. The receiver holds the first request until a second one arrives."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock = threading.Lock()
    seen: dict[str, int] = {"in_flight": 0, "peak": 0}
    together = threading.Event()
    received: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with lock:
                seen["in_flight"] += 1
                seen["peak"] = max(seen["peak"], seen["in_flight"])
                if seen["in_flight"] >= 2:
                    together.set()
            together.wait(10)  # without a second request in flight this only ends by its timeout
            with lock:
                seen["in_flight"] -= 1
                received.extend(event["id"] for event in json.loads(body))
            answer = b'{"status":200}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings = fast_settings(tmp_path, url, lease_seconds=LEASE, batch_max_events=2, http_timeout_seconds=30.0)
    store = SQLiteStore(settings.db_path, accept_timeout=60)
    client = InngestSender(url, "test-key", timeout=30)
    rig = Rig(store, Sender(store, client, settings, RelayMetrics()), settings, double)
    try:
        ids = rig.queue(*["payment.succeeded"] * 12)
        rig.sender.start()
        try:
            wait_until(lambda: rig.state() == dict.fromkeys(ids, "delivered"), "every event delivered", timeout=30)
        finally:
            rig.sender.stop()
        assert sorted(received) == sorted(ids)  # each once
        assert together.is_set()
        assert 2 <= seen["peak"] <= worker.SEND_LANES
    finally:
        server.shutdown()
        client.close()
        store.close()


def test_requests_failing_together_count_as_one_failure_for_the_backoff(tmp_path: Path, double: Double) -> None:
    """Two lanes' requests in flight at once both answered 500: one failure (the backoff does not double per
    request in flight), both batches are kept for a later attempt, nothing is dropped."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock = threading.Lock()
    arrived = {"n": 0}
    together = threading.Event()

    class Failing(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            with lock:
                arrived["n"] += 1
                if arrived["n"] >= 2:
                    together.set()
            together.wait(10)
            answer = b'{"error":"down"}'
            self.send_response(500)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings = fast_settings(tmp_path, url, lease_seconds=LEASE, batch_max_events=2, http_timeout_seconds=30.0,
                             retry_base_seconds=0.5, retry_max_seconds=4.0)
    store = SQLiteStore(settings.db_path, accept_timeout=60)
    client = InngestSender(url, "test-key", timeout=30)
    rig = Rig(store, Sender(store, client, settings, RelayMetrics()), settings, double)
    try:
        ids = rig.queue(*["payment.succeeded"] * 4)
        first = store.claim(rig.sender.owner, 2, 1 << 20, LEASE)
        second = store.claim(rig.sender.owner, 2, 1 << 20, LEASE)
        lanes = [threading.Thread(target=rig.sender._deliver, args=(batch,), kwargs={"fresh": True}, daemon=True)
                 for batch in (first, second)]
        for lane in lanes:
            lane.start()
        for lane in lanes:
            lane.join(30)
        assert together.is_set()
        assert rig.sender._failures == 1
        rows = rig.rows()
        assert rig.state() == dict.fromkeys(ids, "pending")
        assert all(r["attempts"] == 1 and r["lease_owner"] is None for r in rows)
        assert rig.sender._hold > 0
    finally:
        server.shutdown()
        client.close()
        store.close()
