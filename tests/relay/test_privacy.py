"""Customer data does not stay forever: retention of finished webhooks, and `paymap purge` for erasure."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from runtime.cli import main

from .harness import Double, RelayServer, run_cli, sample_body, signed_headers, wait_until

MakeRelay = Callable[..., RelayServer]
SOFIA_EMAIL = "sofiarossi+dodo@example.org"  # the customer in the shipped payment.succeeded sample
SOFIA_ID = "cus_idrL0xM2upobkDBKsiUZ6"
OTTO_EMAIL = "otto.keller@example.net"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``paymap ARGS`` in this process (the same code as the command, without a Python start-up)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _otto_body() -> bytes:
    """The sample payment of another customer."""
    payload = json.loads(sample_body("payment.succeeded"))
    payload["data"]["customer"].update(customer_id="cus_Otto000000000000000001", email=OTTO_EMAIL, name="Otto Keller")
    payload["data"]["card_holder_name"] = "Otto Keller"
    return json.dumps(payload).encode()


def _post(relay: RelayServer, body: bytes, webhook_id: str) -> None:
    assert relay.post(body, signed_headers(body, webhook_id)).status_code == 200


def _stored_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT webhook_id FROM webhooks")}


def _ids(relay: RelayServer) -> set[str]:
    """The stored webhook ids, on either backend."""
    with relay.db() as conn:
        return {r[0] for r in conn.execute("SELECT webhook_id FROM webhooks").fetchall()}


def _file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


@pytest.mark.both_backends  # on PostgreSQL any instance prunes, in small batches (SKIP LOCKED)
def test_retention_deletes_finished_webhooks_and_keeps_failed_and_dead(double: Double, make_relay: MakeRelay) -> None:
    double.config(reject_names=["payment.failed"])
    relay = make_relay(double.url, retention_days=3 / 86400)  # three seconds
    relay.send("payment.succeeded", "msg_delivered")
    relay.send("payment.processing", "msg_dropped")  # a rule drops it: finished
    relay.send("refund.failed", "msg_failed")  # its mapping fails: kept for replay
    relay.send("payment.failed", "msg_dead")  # Inngest rejects its event: kept for replay
    wait_until(lambda: relay.count("SELECT count(*) FROM events WHERE state = 'dead'") == 1, "the dead letter")
    assert _ids(relay) == {"msg_delivered", "msg_dropped", "msg_failed", "msg_dead"}
    wait_until(lambda: _ids(relay) == {"msg_failed", "msg_dead"},
               "the finished webhooks to pass the retention period")
    assert relay.count("SELECT count(*) FROM events") == 1  # the dead one; the delivered event went with its webhook
    assert "paymap_webhooks_pruned_total 2.0" in relay.ops.get("/metrics").text
    relay.send("payment.succeeded", "msg_new")  # new webhooks are still taken and delivered
    wait_until(lambda: "dodo:msg_new" in double.ids(), "delivery after pruning")


def test_retention_zero_keeps_everything(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, retention_days=0)
    relay.send("payment.succeeded", "msg_kept")
    wait_until(double.events, "delivery")
    assert relay.relay.settings.retention_seconds is None
    assert relay.count("SELECT count(*) FROM webhooks") == 1


def test_purge_by_email_removes_the_person_from_the_file_and_keeps_the_others(
    double: Double, make_relay: MakeRelay
) -> None:
    relay = make_relay(double.url)
    db = relay.settings.db_path
    _post(relay, sample_body("payment.succeeded"), "msg_sofia")
    _post(relay, _otto_body(), "msg_otto")
    refund = json.loads(sample_body("refund.failed"))
    refund["data"]["customer"]["email"] = SOFIA_EMAIL
    _post(relay, json.dumps(refund).encode(), "msg_sofia_refund")  # also hers, parked as failed
    wait_until(lambda: len(double.events()) == 2, "both payments delivered")

    dry = run_cli("purge", "--email", SOFIA_EMAIL.upper(), "--dry-run", "--db", str(db))
    assert dry.returncode == 0, dry.stderr
    assert "would delete 2 webhook(s)" in dry.stdout and "msg_sofia" in dry.stdout and "msg_otto" not in dry.stdout
    assert _stored_ids(db) == {"msg_sofia", "msg_otto", "msg_sofia_refund"}

    done = run_cli("purge", "--email", SOFIA_EMAIL, "--db", str(db))  # while the relay runs
    assert done.returncode == 0, done.stderr
    assert "deleted 2 webhook(s)" in done.stdout and "1 event(s)" in done.stdout
    assert "write-ahead log emptied" in done.stdout  # the pages as they were before are gone too
    assert _stored_ids(db) == {"msg_otto"}
    _post(relay, _otto_body(), "msg_after")  # the relay keeps working on the purged store
    wait_until(lambda: "dodo:msg_after" in double.ids(), "delivery after the purge")
    relay.stop()
    raw = _file_bytes(db)
    assert OTTO_EMAIL.encode() in raw  # the check below can see stored text
    assert b"sofiarossi" not in raw


@pytest.mark.both_backends
def test_purge_by_email_works_on_either_store(double: Double, make_relay: MakeRelay) -> None:
    """``paymap purge`` on the store the relay uses: ``--db FILE``, or PAYMAP_DATABASE_URL (the cluster's)."""
    relay = make_relay(double.url)
    _post(relay, sample_body("payment.succeeded"), "msg_sofia")
    _post(relay, _otto_body(), "msg_otto")
    wait_until(lambda: len(double.events()) == 2, "both payments delivered")
    dry = relay.cli("purge", "--email", SOFIA_EMAIL.upper(), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 webhook(s)" in dry.stdout and _ids(relay) == {"msg_sofia", "msg_otto"}
    done = relay.cli("purge", "--email", SOFIA_EMAIL)  # while the relay runs
    assert done.returncode == 0, done.stderr
    assert "deleted 1 webhook(s)" in done.stdout and "space: " in done.stdout
    assert _ids(relay) == {"msg_otto"}


def test_purge_leaves_no_trace_in_the_file(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    db = relay.settings.db_path
    _post(relay, sample_body("payment.succeeded"), "msg_sofia")
    _post(relay, _otto_body(), "msg_otto")
    wait_until(lambda: len(double.events()) == 2, "both delivered")
    relay.stop()
    assert b"sofiarossi" in _file_bytes(db)

    done = run_cli("purge", "--customer", SOFIA_ID, "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "deleted 1 webhook(s) naming customer" in done.stdout
    raw = _file_bytes(db)
    assert b"sofiarossi" not in raw and b"Sofia Rossi" not in raw  # not in free pages, not in the WAL
    assert OTTO_EMAIL.encode() in raw
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # the space went back


def test_purge_before_a_date_and_bad_input(
    double: Double, make_relay: MakeRelay, capsys: pytest.CaptureFixture[str]
) -> None:
    relay = make_relay(double.url)
    db = relay.settings.db_path
    relay.send("payment.succeeded", "msg_old")
    wait_until(double.events, "delivery")
    code, out, _ = cli(capsys, "purge", "--before", "2020-01-01", "--db", str(db))
    assert code == 0 and "deleted 0 webhook(s)" in out
    code, out, err = cli(capsys, "purge", "--before", "0s", "--db", str(db))  # received before now
    assert code == 0, err
    assert "deleted 1 webhook(s) received before 0s" in out
    assert _stored_ids(db) == set()
    cases: list[tuple[list[str], str]] = [
        (["--email", "not-an-address"], "is not an email address"),
        (["--before", "yesterday"], "--before: 'yesterday' is neither an ISO time"),
        (["--customer", " "], "--customer needs a value"),
    ]
    for args, message in cases:
        code, _, err = cli(capsys, "purge", *args, "--db", str(db))
        assert code == 2 and message in err, (args, err)
    code, _, err = cli(capsys, "purge", "--customer", "cus_x", "--db", str(db.parent / "nope.sqlite3"))
    assert code == 1 and "no store at" in err
    code, _, err = cli(capsys, "purge", "--db", str(db))
    assert code == 2 and "one of the arguments --customer --email --before is required" in err
