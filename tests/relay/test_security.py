"""Before the relay faces the internet: what it stores, logs and exposes, and which settings it refuses."""

from __future__ import annotations

import json
import logging
import re
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runtime.cli import main
from runtime.relay.config import RelaySettings, SettingsError, load_settings
from runtime.relay.logs import JsonFormatter, LogSampler
from runtime.relay.service import Relay, TargetMismatch

from .harness import (
    SECRET,
    Double,
    RelayServer,
    fast_settings,
    run_cli,
    sample_body,
    signed_headers,
    wait_until,
)

MakeRelay = Callable[..., RelayServer]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``paymap ARGS`` in this process (the same code as the command, without a Python start-up)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_only_signature_headers_and_content_type_are_stored(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    body = sample_body("payment.succeeded")
    headers = {
        **signed_headers(body, "msg_headers"),
        "authorization": "Bearer proxy-secret",
        "cookie": "session=abc",
        "x-forwarded-for": "203.0.113.7",
        "user-agent": "Svix-Webhooks/1.0",
    }
    assert relay.post(body, headers).status_code == 200
    with relay.db() as conn:
        stored = json.loads(conn.execute("SELECT headers FROM webhooks").fetchone()[0])
    assert sorted(stored) == ["content-type", "webhook-id", "webhook-signature", "webhook-timestamp"]


def test_rejection_logs_are_clipped_and_rate_limited_with_a_count(
    double: Double, make_relay: MakeRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="paymap.relay.http")
    relay = make_relay(double.url)
    body = b'{"type": "x"}'
    huge_id = "msg_" + "A" * 246  # the longest id the relay reads at all (a longer one is a 400 up front)
    started = time.monotonic()
    for _ in range(100):
        response = relay.post(body, {"webhook-id": huge_id, "webhook-timestamp": "1", "webhook-signature": "v1,x"})
        assert response.status_code == 401
    elapsed = time.monotonic() - started
    rejected = [r for r in caplog.records if r.getMessage().startswith("webhook rejected")]
    assert 0 < len(rejected) <= 20 * (int(elapsed) + 2)  # 20 lines a second, whatever the sender does
    assert all(len(str(getattr(r, "webhook_id", ""))) < 120 for r in rejected)
    assert "(+170 chars)" in str(rejected[0].webhook_id)  # type: ignore[attr-defined]
    time.sleep(1.1)  # a new second: the next rejection is logged with what was held back
    relay.post(body, {"webhook-id": "msg_last"})
    [last] = [r for r in caplog.records if getattr(r, "webhook_id", None) == "msg_last"]
    held = sum(int(getattr(r, "suppressed", 0)) for r in [*rejected, last])
    metrics = relay.ops.get("/metrics").text
    assert f"paymap_log_lines_suppressed_total {float(held)}" in metrics
    assert held + len(rejected) == 100  # each rejection either logged or counted in a later line
    assert 'paymap_webhooks_rejected_total{reason="missing_headers"} 1.0' in metrics  # every one still counted


def test_log_sampler_counts_what_it_holds_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    counted: list[int] = []
    sampler = LogSampler(3, lambda: counted.append(1))
    assert [sampler.allow() for _ in range(5)] == [0, 0, 0, None, None]
    now[0] = 100.5
    assert sampler.allow() is None  # the same second
    now[0] = 101.0
    assert [sampler.allow() for _ in range(4)] == [3, 0, 0, None]  # the first line of a new second reports 3
    assert len(counted) == 4


def test_log_lines_escape_control_characters_and_mask_personal_data() -> None:
    record = logging.makeLogRecord({
        "name": "paymap.relay", "levelname": "ERROR", "levelno": logging.ERROR,
        "msg": "mapping failed on \"Sofia\x85Rossi\u2028evil\u202e\" sofia.rossi@example.org",
        "args": None, "phone": "+91 98123 45678", "name_field": "a\x1b[31mb\u2029c\u2066",
    })
    line = JsonFormatter().format(record)
    assert line.isprintable()
    for raw in ("\x85", "\u2028", "\u2029", "\u202e", "\u2066", "\x1b", "\n"):
        assert raw not in line
    out = json.loads(line)
    assert out["msg"] == 'mapping failed on "Sofia\x85Rossi\u2028evil\u202e" s***@e***.org'
    assert out["phone"] == "+**********78"
    assert out["name_field"] == "a\x1b[31mb\u2029c\u2066"  # the value is intact once decoded


def test_stored_errors_are_masked_and_status_escapes_what_it_prints(
    double: Double, make_relay: MakeRelay, tmp_path: Path
) -> None:
    mapping = tmp_path / "strict.map"
    mapping.write_text('on "payment.succeeded"\nname = "p"\ndata.n = int(data.customer.email)\n'
                       'on "refund.succeeded"\nname = "r"\ndata.n = int(data.customer.name)\n')
    relay = make_relay(double.url, mappings=mapping)
    relay.send("payment.succeeded", "msg_email")
    refund = json.loads(sample_body("refund.succeeded"))
    refund["data"]["customer"]["name"] = "Evil\u2028Name\x85\x1b[2J\u202eRight"
    body = json.dumps(refund).encode()
    relay.post(body, signed_headers(body, "msg_name"))
    wait_until(lambda: relay.count("SELECT count(*) FROM webhooks WHERE state = 'failed'") >= 2, "two failures")
    with relay.db() as conn:
        errors = dict(conn.execute("SELECT webhook_id, error FROM webhooks WHERE state = 'failed'").fetchall())
    assert "sofiarossi" not in errors["msg_email"] and "s***@e***.org" in errors["msg_email"]
    result = run_cli("status", "--db", str(relay.settings.db_path))
    assert result.returncode == 0, result.stderr
    for raw in ("\u2028", "\x85", "\x1b", "\u202e"):
        assert raw not in result.stdout
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("  msg_name")]
    assert "Evil\\u2028Name\\x85\\u001b[2J\\u202eRight" in line  # the runtime escapes C0 itself


def test_status_opens_a_foreign_database_read_only_and_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "accounting.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.close()
    before = other.read_bytes()
    code, _, err = cli(capsys, "status", "--db", str(other))
    assert code == 1
    assert f"{other} is not a paymap store (schema version 0, tables: invoices); nothing was changed" in err
    assert other.read_bytes() == before  # no WAL conversion, no tables added
    assert not Path(f"{other}-wal").exists()
    for command in (["purge", "--before", "1d"], ["replay", "--failed", "--mappings", str(Path(__file__).parent / "mappings")]):
        code, _, err = cli(capsys, *command, "--db", str(other))  # the commands that write refuse it too
        assert code == 1, err
        assert "is not a paymap store (it has other tables: invoices); nothing was changed" in err
    assert other.read_bytes() == before and not Path(f"{other}-wal").exists()
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    code, _, err = cli(capsys, "status", "--db", str(empty))
    assert code == 1 and "is not a paymap store" in err and empty.read_bytes() == b""
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all, just some text that is long enough to have a header " * 4)
    code, _, err = cli(capsys, "status", "--db", str(junk))
    assert code == 1 and "cannot read" in err


@pytest.mark.parametrize("value", ["yes", "on", "2", "enable"])
def test_insecure_dev_accepts_only_strict_values(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMAP_INSECURE_DEV", value)
    with pytest.raises(SettingsError, match=f"PAYMAP_INSECURE_DEV: must be 1 or 0 \\(or true/false\\) \\(got '{value}'\\)"):
        load_settings()


def test_insecure_dev_is_refused_off_loopback_or_towards_inngest_cloud() -> None:
    with pytest.raises(SettingsError, match=re.escape("only on a loopback address, but PAYMAP_HOST is '0.0.0.0'")):
        load_settings(insecure_dev=True, host="0.0.0.0").require_startable()
    with pytest.raises(SettingsError, match=re.escape("only for sending to an Inngest dev server, but events would go to https://inn.gs")):
        load_settings(insecure_dev=True, inngest_event_key="key", inngest_dev="0").require_startable()
    load_settings(insecure_dev=True, host="::1").require_startable()  # loopback and the dev server: allowed


def test_insecure_dev_shows_in_readiness_metrics_and_status(
    double: Double, make_relay: MakeRelay, capsys: pytest.CaptureFixture[str]
) -> None:
    relay = make_relay(double.url, webhook_key=None, insecure_dev=True)
    assert relay.ops.get("/readyz").json()["signatures"] == "NOT VERIFIED (insecure dev mode)"
    assert "paymap_insecure_dev_mode 1.0" in relay.ops.get("/metrics").text
    assert "INSECURE DEV MODE" in cli(capsys, "status", "--db", str(relay.settings.db_path))[1]
    assert json.loads(cli(capsys, "status", "--json", "--db", str(relay.settings.db_path))[1])["insecure_dev"] is True


def test_signed_relay_reports_verified(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    assert relay.ops.get("/readyz").json()["signatures"] == "verified"
    assert "paymap_insecure_dev_mode 0.0" in relay.ops.get("/metrics").text


def test_event_key_never_goes_over_plain_http_to_another_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", SECRET)
    with pytest.raises(SettingsError, match="INNGEST_EVENT_KEY would travel in clear text"):
        load_settings(inngest_event_key="k", inngest_event_api_base_url="http://inngest.internal:8288").require_startable()
    load_settings(inngest_event_key="k", inngest_event_api_base_url="https://inngest.internal").require_startable()
    load_settings(inngest_event_key="k", inngest_event_api_base_url="http://127.0.0.1:8288").require_startable()
    load_settings(inngest_dev="http://inngest:8288").require_startable()  # a dev server in compose, no key


def test_metrics_and_readiness_only_on_the_operations_port(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    for path in ("/metrics", "/readyz"):
        assert relay.http.get(path).status_code == 404
        assert relay.ops.get(path).status_code == 200
    assert relay.http.get("/healthz").status_code == 200 and relay.ops.get("/healthz").status_code == 200
    body = sample_body("payment.succeeded")
    assert relay.ops.post("/webhooks/dodo", content=body, headers=signed_headers(body, "msg_ops")).status_code == 404
    for _ in range(30):  # many scrapers: the store is counted once per few seconds, not per scrape
        assert "paymap_queue_depth" in relay.ops.get("/metrics").text
    assert relay.relay.stats.computed <= 2


def test_operations_token(double: Double, make_relay: MakeRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", SECRET)
    relay = make_relay(double.url, ops_token="scrape-me")
    assert relay.ops.get("/metrics").status_code == 401
    assert relay.ops.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert relay.ops.get("/readyz", headers={"authorization": "Bearer scrape-me"}).status_code == 200
    with pytest.raises(SettingsError, match=r"PAYMAP_OPS_HOST is '0\.0\.0\.0'.*PAYMAP_OPS_TOKEN"):
        load_settings(ops_host="0.0.0.0").require_startable()
    load_settings(ops_host="0.0.0.0", ops_token="t").require_startable()
    with pytest.raises(SettingsError, match="PAYMAP_OPS_PORT and PAYMAP_PORT are both 9000"):
        load_settings(port=9000, ops_port=9000).require_startable()


def _cloud(tmp_path: Path, double: Double, env: str, **extra: object) -> RelaySettings:
    return fast_settings(tmp_path, "0", inngest_event_key="key-one", inngest_event_api_base_url=double.url,
                         inngest_env=env, **extra)


def test_store_is_bound_to_its_inngest_environment(tmp_path: Path, double: Double) -> None:
    Relay(_cloud(tmp_path, double, "staging")).store.close()
    with pytest.raises(TargetMismatch) as refused:
        Relay(_cloud(tmp_path, double, "production"))
    message = str(refused.value)
    assert "holds events for" in message and "environment staging" in message and "environment production" in message
    assert "--retarget" in message and "key-one" not in message  # a fingerprint, never the key
    Relay(_cloud(tmp_path, double, "production", retarget=True)).store.close()
    Relay(_cloud(tmp_path, double, "production")).store.close()  # bound to production now
    env = {"DODO_PAYMENTS_WEBHOOK_KEY": SECRET,
           "PAYMAP_DB": str(tmp_path / "relay.sqlite3"), "INNGEST_DEV": "1"}
    served = run_cli("serve", str(Path(__file__).parent / "mappings"), "--port", "0", env=env)
    assert served.returncode == 1 and "this relay sends to the Inngest dev server" in served.stderr
    assert "Traceback" not in served.stderr


def test_serve_names_the_address_it_cannot_listen_on(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"DODO_PAYMENTS_WEBHOOK_KEY": SECRET, "PAYMAP_DB": str(tmp_path / "relay.sqlite3"),
               "PAYMAP_OPS_PORT": str(port)}
        served = run_cli("serve", str(Path(__file__).parent / "mappings"), "--port", "0", env=env)
    assert served.returncode == 1
    assert f"paymap serve: cannot listen on 127.0.0.1:{port}: Address already in use" in served.stderr
    assert "Traceback" not in served.stderr
