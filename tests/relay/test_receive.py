"""Receiving: the happy path end to end, duplicates, every kind of bad signature, bad bodies, 503."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from .harness import OTHER_SECRET, SECRET, Double, RelayServer, sample_body, signed_headers, wait_until

MakeRelay = Callable[..., RelayServer]


def test_happy_path_delivers_mapped_event_with_deterministic_id(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    response = relay.send("payment.succeeded", "msg_happy_1")
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "webhook_id": "msg_happy_1"}
    [event] = wait_until(double.events, "the event to reach the Inngest double")
    assert event["id"] == "dodo:msg_happy_1"
    assert event["name"] == "payment.succeeded"
    assert event["data"] == {"payment_id": "pay_Zee03jcyHp44wEmKDUIr2", "amount": "29.99"}
    assert event["user"] == {"email": "sofiarossi+dodo@example.org"}
    assert event["ts"] == 1754295184882  # the body's timestamp in ms, not the header's seconds
    wait_until(lambda: relay.count("SELECT count(*) FROM events WHERE state='delivered'") == 1, "delivered state")
    # the raw body is stored byte for byte with its headers
    with relay.db() as conn:
        body, headers = conn.execute("SELECT body, headers FROM webhooks").fetchone()
    assert bytes(body) == sample_body("payment.succeeded")
    assert json.loads(headers)["webhook-id"] == "msg_happy_1"


def test_fan_out_gets_indexed_ids(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    assert relay.send("subscription.active", "msg_fan").status_code == 200
    events = wait_until(lambda: len(double.events()) == 2 and double.events(), "two events")
    assert sorted(e["id"] for e in events) == ["dodo:msg_fan:0", "dodo:msg_fan:1"]
    assert sorted(e["name"] for e in events) == ["customer.subscribed", "subscription.started"]


def test_duplicate_webhook_id_is_200_and_stored_once(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    first = relay.send("payment.succeeded", "msg_dup")
    wait_until(double.events, "first delivery")
    second = relay.send("payment.succeeded", "msg_dup")  # Dodo retries with the same id and a new timestamp
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "duplicate"
    assert relay.count("SELECT count(*) FROM webhooks") == 1
    assert relay.count("SELECT count(*) FROM events") == 1
    assert double.ids() == ["dodo:msg_dup"]


def test_rotation_accepts_any_configured_secret(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, webhook_key=f"{OTHER_SECRET}, {SECRET}")
    body = sample_body("payment.succeeded")
    assert relay.post(body, signed_headers(body, "msg_rot_a", secret=SECRET)).status_code == 200
    assert relay.post(body, signed_headers(body, "msg_rot_b", secret=OTHER_SECRET)).status_code == 200


def _bad_signature_cases() -> list[tuple[str, Callable[[bytes], tuple[bytes, dict[str, str]]], str]]:
    def good(body: bytes) -> dict[str, str]:
        return signed_headers(body, "msg_bad")

    def without(name: str) -> Callable[[bytes], tuple[bytes, dict[str, str]]]:
        return lambda b: (b, {k: v for k, v in good(b).items() if k != name})

    def with_sig(sig: str) -> Callable[[bytes], tuple[bytes, dict[str, str]]]:
        return lambda b: (b, {**good(b), "webhook-signature": sig})

    def at(delta: timedelta) -> Callable[[bytes], tuple[bytes, dict[str, str]]]:
        return lambda b: (b, signed_headers(b, "msg_bad", when=datetime.now(tz=UTC) + delta))

    def tampered(b: bytes) -> tuple[bytes, dict[str, str]]:
        return b.replace(b"2999", b"1"), good(b)

    def reserialised(b: bytes) -> tuple[bytes, dict[str, str]]:
        return json.dumps(json.loads(b)).encode(), good(b)  # the classic Express mistake

    def non_utf8(b: bytes) -> tuple[bytes, dict[str, str]]:
        raw = b"\xff\xfe" + b
        return raw, {**good(b), "webhook-signature": good(b)["webhook-signature"]}

    def valid_sig(b: bytes) -> str:
        return good(b)["webhook-signature"]

    return [
        ("missing webhook-id", without("webhook-id"), "missing_headers"),
        ("missing webhook-timestamp", without("webhook-timestamp"), "missing_headers"),
        ("missing webhook-signature", without("webhook-signature"), "missing_headers"),
        ("wrong secret", lambda b: (b, signed_headers(b, "msg_bad", secret=OTHER_SECRET)), "signature_mismatch"),
        ("tampered body", tampered, "signature_mismatch"),
        ("re-serialised body", reserialised, "signature_mismatch"),
        ("entry without comma", with_sig("v1bad"), "malformed_signature"),
        ("entry with two commas", with_sig("v1,a,b"), "malformed_signature"),
        ("bad base64 padding", with_sig("v1,abc"), "malformed_signature"),
        ("malformed entry before a valid one", lambda b: (b, {**good(b), "webhook-signature": "v1bad " + valid_sig(b)}),
         "malformed_signature"),
        ("only an asymmetric entry", with_sig("v1a,AAAA"), "signature_mismatch"),
        ("timestamp 6 minutes old", at(timedelta(minutes=-6)), "timestamp_too_old"),
        ("timestamp 6 minutes ahead", at(timedelta(minutes=6)), "timestamp_too_new"),
        ("timestamp not a number", lambda b: (b, {**good(b), "webhook-timestamp": "yesterday"}), "malformed_timestamp"),
        ("non-UTF-8 body", non_utf8, "body_not_utf8"),
    ]


@pytest.mark.parametrize("case", _bad_signature_cases(), ids=lambda c: c[0])
def test_bad_signatures_are_401_with_reason_and_store_nothing(
    case: tuple[str, Callable[[bytes], tuple[bytes, dict[str, str]]], str], double: Double, make_relay: MakeRelay
) -> None:
    relay = make_relay(double.url)
    _name, build, reason = case
    body, headers = build(sample_body("payment.succeeded"))
    response = relay.post(body, headers)
    assert response.status_code == 401
    answer = response.json()
    assert answer["error"] == "invalid_signature"
    assert answer["reason"] == reason
    assert answer["detail"]
    assert relay.count("SELECT count(*) FROM webhooks") == 0
    metrics = relay.ops.get("/metrics").text
    assert f'paymap_webhooks_rejected_total{{reason="{reason}"}} 1.0' in metrics


def test_invalid_json_is_400_and_stores_nothing(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    body = b'{"type": "payment.succeeded", '
    response = relay.post(body, signed_headers(body, "msg_json"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    assert "not valid JSON" in response.json()["detail"]
    assert relay.count("SELECT count(*) FROM webhooks") == 0


def test_json_is_judged_as_the_mapper_reads_it(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    # not strict JSON, but Python's json (which the mapper uses) reads it: stored, then mapped or parked
    lenient = b'{"type": "payment.succeeded", "data": {"amount": NaN}}'
    assert relay.post(lenient, signed_headers(lenient, "msg_nan")).status_code == 200
    deep = b'{"type": "x", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = relay.post(deep, signed_headers(deep, "msg_deep"))
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert relay.count("SELECT count(*) FROM webhooks") == 1


def test_oversize_body_is_413(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, max_body_bytes=4096)
    body = json.dumps({"type": "payment.succeeded", "pad": "x" * 5000}).encode()
    response = relay.post(body, signed_headers(body, "msg_big"))
    assert response.status_code == 413
    assert "PAYMAP_MAX_BODY_BYTES" in response.json()["detail"]
    assert relay.count("SELECT count(*) FROM webhooks") == 0
    # a body under the limit still works on the same relay
    assert relay.send("payment.succeeded", "msg_small").status_code == 200


def test_storage_unavailable_is_503_then_recovers(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, db_busy_timeout_ms=100)
    blocker = sqlite3.connect(relay.settings.db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database: the relay cannot commit
    try:
        response = relay.send("payment.succeeded", "msg_locked")
        assert response.status_code == 503
        assert response.json()["error"] == "storage_unavailable"
        assert response.headers["retry-after"] == "30"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert relay.count("SELECT count(*) FROM webhooks") == 0
    assert relay.send("payment.succeeded", "msg_locked").status_code == 200  # Dodo's retry succeeds
    wait_until(lambda: double.ids() == ["dodo:msg_locked"], "delivery after the store came back")


def test_never_redirects_and_answers_json(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    body = sample_body("payment.succeeded")
    slash = relay.post(body, signed_headers(body, "msg_slash"), path="/webhooks/dodo/")
    assert slash.status_code == 200  # no 307 for a trailing slash
    assert relay.http.get("/webhooks/dodo").status_code == 405
    assert relay.http.post("/elsewhere", content=b"{}").status_code == 404


def test_health_ready_and_metrics(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    assert relay.http.get("/healthz").json() == {"status": "ok"}
    ready = relay.ops.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    relay.send("payment.succeeded", "msg_metrics")
    relay.send("payment.succeeded", "msg_metrics")
    wait_until(double.events, "delivery")
    text = wait_until(
        lambda: (t := relay.ops.get("/metrics").text) and "paymap_events_delivered_total 1.0" in t
        and "paymap_queue_depth 0.0" in t and t,  # store counts are cached for a few seconds
        "delivered counter and an empty queue",
    )
    for line in (
        "paymap_webhooks_received_total 1.0",
        "paymap_webhooks_duplicate_total 1.0",
        "paymap_webhooks_mapped_total 1.0",
        "paymap_queue_depth 0.0",
        "paymap_delivery_latency_seconds_count 1.0",
        'paymap_inngest_requests_total{status="200"} 1.0',
    ):
        assert line in text


def test_insecure_dev_mode_accepts_unsigned_and_warns(
    double: Double, make_relay: MakeRelay, caplog: pytest.LogCaptureFixture
) -> None:
    relay = make_relay(double.url, webhook_key=None, insecure_dev=True)
    body = sample_body("payment.succeeded")
    response = relay.post(body, {"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["webhook_id"].startswith("sha256:")
    assert any("INSECURE DEV MODE" in r.getMessage() for r in caplog.records)
    wait_until(double.events, "delivery of the unsigned webhook")
