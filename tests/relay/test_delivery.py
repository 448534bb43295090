"""Delivering: outage and recovery, 5xx, 429 + Retry-After, 401 pause/resume, 413 split, 400 partial batch,
local rule checks, and expired leases of a dead sender."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime.relay import worker
from runtime.relay.inngest import InngestSender
from runtime.relay.metrics import RelayMetrics
from runtime.relay.store import IncomingWebhook, MappingRecord, NewEvent
from runtime.relay.store_sqlite import SQLiteStore
from runtime.relay.worker import Sender

from .harness import Double, RelayServer, fast_settings, free_port, wait_until

MakeRelay = Callable[..., RelayServer]
pytestmark = pytest.mark.both_backends  # every relay here runs on SQLite and on PostgreSQL


def _status(relay: RelayServer) -> dict[str, Any]:
    result = relay.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _pending_rows(relay: RelayServer) -> list[tuple[Any, ...]]:
    with relay.db() as conn:
        return conn.execute("SELECT event_id, attempts, last_error FROM events WHERE state='pending'").fetchall()


def _pause_then_send(double: Double, relay: RelayServer, sends: list[tuple[str, str]]) -> None:
    """Hold delivery with a wrong key so the webhooks pile up and go out as one batch afterwards."""
    double.config(keys=["the-right-key"])
    for event_type, wid in sends:
        assert relay.send(event_type, wid).status_code == 200
    wait_until(lambda: relay.count("SELECT count(*) FROM webhooks WHERE state='received'") == 0, "all mapped")
    wait_until(lambda: _status(relay)["sender"]["paused"], "the sender to pause on 401")


def test_outage_then_recovery(make_relay: MakeRelay) -> None:
    port = free_port()  # nothing listens here yet: Inngest is down
    relay = make_relay(f"http://127.0.0.1:{port}")
    for i in range(5):
        assert relay.send("payment.succeeded", f"msg_outage_{i}").status_code == 200
    wait_until(
        lambda: (rows := _pending_rows(relay)) and len(rows) == 5 and all(r[1] >= 2 for r in rows),
        "every event to have failed at least twice",
    )
    status = _status(relay)
    assert status["queue_depth"] == 5
    assert "cannot reach" in status["oldest_pending_reason"]
    assert status["events"]["dead"] == 0  # no age limit: nothing is given up
    double = Double(port=port)  # Inngest comes back
    try:
        wait_until(lambda: len(set(double.ids())) == 5, "all five events after recovery")
        assert set(double.ids()) == {f"dodo:msg_outage_{i}" for i in range(5)}
        wait_until(lambda: _status(relay)["queue_depth"] == 0, "an empty queue")
    finally:
        double.stop()


def test_server_errors_are_retried_until_accepted(double: Double, make_relay: MakeRelay) -> None:
    double.script({"status": 503, "count": 2}, {"status": 500, "body": {"error": "boom"}}, {"status": 408})
    relay = make_relay(double.url)
    relay.send("payment.succeeded", "msg_5xx")
    wait_until(lambda: double.ids() == ["dodo:msg_5xx"], "delivery after the errors")
    statuses = [r["status"] for r in double.received()["requests"]]
    assert statuses == [503, 503, 500, 408, 200]
    with relay.db() as conn:
        assert conn.execute("SELECT attempts, state FROM events").fetchone() == (5, "delivered")


def test_429_honours_retry_after(double: Double, make_relay: MakeRelay) -> None:
    double.script({"status": 429, "headers": {"retry-after": "2"}, "body": {"error": "slow down"}})
    relay = make_relay(double.url, retry_max_seconds=5)
    relay.send("payment.succeeded", "msg_429")
    rows = wait_until(lambda: [r for r in _pending_rows(relay) if r[1] == 1], "the 429 to be recorded")
    assert "HTTP 429: slow down" in rows[0][2]
    assert "retrying in 2.0 s" in rows[0][2]  # Retry-After (2 s) wins over the 0.05 s backoff
    wait_until(lambda: double.ids() == ["dodo:msg_429"], "delivery after Retry-After")


def test_401_pauses_keeps_everything_and_resumes(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, inngest_event_key="old-key")
    _pause_then_send(double, relay, [("payment.succeeded", f"msg_auth_{i}") for i in range(3)])
    status = _status(relay)
    assert "Event key not found" in status["sender"]["paused"]
    assert "INNGEST_EVENT_KEY" in status["sender"]["paused"]
    assert status["queue_depth"] == 3 and status["events"]["dead"] == 0
    assert all(attempts == 0 for _id, attempts, _err in _pending_rows(relay))  # a pause is not an attempt
    assert "paymap_sender_paused 1.0" in relay.ops.get("/metrics").text
    double.config(keys=["old-key"])  # the key is (re)enabled in Inngest
    wait_until(lambda: len(double.ids()) == 3, "delivery after the key works again")
    wait_until(lambda: not _status(relay)["sender"]["paused"], "the pause to clear")
    assert "paymap_sender_paused 0.0" in relay.ops.get("/metrics").text


def test_413_splits_the_batch_and_dead_letters_a_single_oversize_event(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, lease_seconds=600)  # an event stranded by the split would wait out the test
    _pause_then_send(double, relay, [("payment.succeeded", f"msg_split_{i}") for i in range(8)])
    one_event = len(json.dumps(json.loads(relay.db().execute("SELECT payload FROM events").fetchone()[0])))
    double.config(keys=None, max_request_bytes=2 * one_event + 10)  # room for two events per request
    wait_until(lambda: len(set(double.ids())) == 8, "all eight events in smaller batches")
    assert sorted(double.ids()) == sorted(f"dodo:msg_split_{i}" for i in range(8))  # each exactly once
    statuses = [r["status"] for r in double.received()["requests"]]
    assert 413 in statuses
    # an event bigger than anything Inngest accepts is dead-lettered with Inngest's answer
    double.config(max_request_bytes=50)
    relay.send("payment.succeeded", "msg_split_huge")
    dead = wait_until(lambda: _status(relay)["dead_letters"], "the dead letter")
    assert dead[0]["event_id"] == "dodo:msg_split_huge"
    assert "HTTP 413: Event payload too large" in dead[0]["reason"]


def test_400_on_a_batch_resends_one_by_one_and_dead_letters_only_the_rejected(
    double: Double, make_relay: MakeRelay
) -> None:
    relay = make_relay(double.url)
    sends = [
        ("payment.succeeded", "msg_400_a"),
        ("payment.succeeded", "msg_400_b"),
        ("payment.failed", "msg_400_bad"),
        ("payment.succeeded", "msg_400_c"),
    ]
    _pause_then_send(double, relay, sends)
    double.config(keys=None, reject_names=["payment.failed"])
    wait_until(lambda: {"dodo:msg_400_a", "dodo:msg_400_b", "dodo:msg_400_c"} <= set(double.ids()), "the good ones")
    dead = wait_until(lambda: _status(relay)["dead_letters"], "the rejected one dead-lettered")
    assert [d["event_id"] for d in dead] == ["dodo:msg_400_bad"]
    assert "HTTP 400: Event 'payment.failed' rejected by the test configuration" in dead[0]["reason"]
    # Inngest had already accepted the events before the bad one; the resend repeats them with the
    # same ids, which Inngest deduplicates (only those two are repeated, nothing else)
    counts = Counter(double.ids())
    assert counts["dodo:msg_400_c"] == 1
    assert set(counts) == {"dodo:msg_400_a", "dodo:msg_400_b", "dodo:msg_400_c"}
    assert _status(relay)["queue_depth"] == 0


def test_events_breaking_inngest_rules_are_dead_lettered_locally(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, event_max_bytes=1024)
    relay.send("dispute.won", "msg_rule_name")
    relay.send("payment.cancelled", "msg_rule_size")
    relay.send("payment.succeeded", "msg_rule_ok")
    wait_until(lambda: double.ids() == ["dodo:msg_rule_ok"], "the valid event")
    dead = {d["event_id"]: d["reason"] for d in wait_until(lambda: len(_status(relay)["dead_letters"]) == 2
                                                            and _status(relay)["dead_letters"], "two dead letters")}
    assert "`name` is required" in dead["dodo:msg_rule_name"]
    assert "over the maximum event size of 1024 bytes" in dead["dodo:msg_rule_size"]
    assert not any(r.get("status") == 400 for r in double.received()["requests"])  # never sent


def test_expired_lease_of_a_dead_sender_is_reclaimed(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    double.config(keys=["nobody"])  # keep the event queued while we fake a crashed owner
    relay.send("payment.succeeded", "msg_lease")
    wait_until(lambda: _status(relay)["sender"]["paused"], "paused")
    with relay.db() as conn:  # another sender took it and died: its lease runs out in 1 s
        conn.execute("UPDATE events SET lease_owner='dead-process', lease_until=?", (time.time() + 1,))
    double.config(keys=None)
    wait_until(lambda: double.ids() == ["dodo:msg_lease"], "delivery after the lease expired")


def test_a_pause_from_before_a_restart_clears_on_the_first_delivery(
    double: Double, make_relay: MakeRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    wrong = make_relay(double.url, inngest_event_key="wrong-key")
    _pause_then_send(double, wrong, [("payment.succeeded", "msg_before_restart")])
    wrong.stop()  # the operator fixes the key and restarts
    fixed = make_relay(double.url, inngest_event_key="the-right-key")
    wait_until(lambda: double.ids() == ["dodo:msg_before_restart"], "delivery with the fixed key")
    wait_until(lambda: not _status(fixed)["sender"]["paused"], "the stored pause to clear")
    assert "SENDER PAUSED" not in fixed.cli("status").stdout
    assert any("delivery resumed" in r.getMessage() for r in caplog.records)
    assert "paymap_sender_paused 0.0" in fixed.ops.get("/metrics").text


def test_an_event_waiting_longer_than_the_alert_age_is_logged_as_an_error(
    make_relay: MakeRelay, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "ALERT_CHECK_SECONDS", 0.2)  # checked every 0.2 s instead of every minute
    caplog.set_level(logging.INFO, logger="paymap.relay")
    relay = make_relay(f"http://127.0.0.1:{free_port()}", retry_max_seconds=0.1,  # Inngest is down
                       alert_pending_age_seconds=0.5)
    relay.send("payment.succeeded", "msg_waits")
    alert = wait_until(lambda: [r for r in caplog.records if r.getMessage() == "events are waiting too long for "
                                "delivery"], "the alert", timeout=30)[0]
    assert alert.levelno == logging.ERROR
    assert alert.queue_depth == 1 and alert.oldest_pending_age_s >= 0  # type: ignore[attr-defined]
    assert "cannot reach" in alert.reason  # type: ignore[attr-defined]


def test_a_failing_inngest_logs_a_line_when_it_starts_a_summary_and_one_when_it_recovers(
    make_relay: MakeRelay, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "SUMMARY_SECONDS", 0.5)  # a summary every half second instead of every minute
    caplog.set_level(logging.INFO, logger="paymap.relay")
    port = free_port()  # Inngest is down
    relay = make_relay(f"http://127.0.0.1:{port}", retry_max_seconds=0.1)
    relay.send("payment.succeeded", "msg_flaky")
    wait_until(lambda: _pending_rows(relay) and _pending_rows(relay)[0][1] >= 10, "ten failed attempts", timeout=30)
    time.sleep(0.6)
    double = Double(port=port)
    try:
        wait_until(lambda: double.ids() == ["dodo:msg_flaky"], "delivery once Inngest is back")
        wait_until(lambda: any("delivery recovered" in r.getMessage() for r in caplog.records), "the recovery line")
    finally:
        double.stop()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum(m.startswith("delivery failing") for m in messages) == 1, messages
    assert 1 <= sum(m == "delivery still failing" for m in messages) <= 10, messages
    assert sum(m == "delivery recovered" for m in messages) == 1
    assert not any("will retry" in m for m in messages)


def test_an_unexpected_sender_error_pauses_loudly_instead_of_looping(
    tmp_path: Path, double: Double, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    settings = fast_settings(tmp_path, double.url)
    store = SQLiteStore(settings.db_path)
    client = InngestSender(double.url, "key-with-a-newline\n", timeout=2)  # what the start check now refuses
    metrics = RelayMetrics()
    sender = Sender(store, client, settings, metrics)
    record = MappingRecord("mapped", "payment.succeeded", None, [NewEvent("ev1", "x", '{"name":"x","data":{}}')])
    asyncio.run(_accept(store, "msg_unexpected"))
    [webhook] = store.unmapped(10)
    store.record_mappings([(webhook.seq, webhook.generation, record)])
    sender.start()
    try:
        wait_until(lambda: store.stats().meta.get(worker.PAUSE_KEY), "the pause")
        time.sleep(1.0)  # a few pause periods (0.3 s each)
    finally:
        sender.stop()
        client.close()
    reason = store.stats().meta[worker.PAUSE_KEY]
    assert "unexpected error: InvalidURL" in reason and "nothing is dropped" in reason
    paused = [r for r in caplog.records if "DELIVERY PAUSED" in r.getMessage()]
    assert len(paused) >= 2 and sum(r.exc_info is not None for r in paused) == 1  # one traceback, not one a second
    assert not any("restarting it" in r.getMessage() for r in caplog.records)
    assert store.stats().queue_depth == 1 and double.ids() == []
    store.close()


async def _accept(store: SQLiteStore, webhook_id: str) -> None:
    await store.accept(IncomingWebhook(webhook_id, {}, b"{}", time.time()))
