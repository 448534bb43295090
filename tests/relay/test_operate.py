"""Operating: mapping outcomes (skipped, failed, dropped), status, replay after a fix, hot reload."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime.relay.app import READY_PROBE_SECONDS

from .harness import MAPPINGS, Double, RelayServer, wait_until

MakeRelay = Callable[..., RelayServer]
pytestmark = pytest.mark.both_backends  # every relay here runs on SQLite and on PostgreSQL


def _copy_mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def _status(relay: RelayServer) -> dict[str, Any]:
    result = relay.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_skipped_dropped_and_failed_are_recorded(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    relay.send("dispute.opened", "msg_skip")  # no rule
    relay.send("payment.processing", "msg_drop")  # the rule drops it
    relay.send("refund.failed", "msg_fail")  # `required` fails on the sample
    wait_until(lambda: relay.count("SELECT count(*) FROM webhooks WHERE state='received'") == 0, "all mapped")
    status = _status(relay)
    assert status["webhooks"] == {"received": 0, "mapped": 0, "skipped": 1, "dropped": 1, "failed": 1}
    [failed] = status["failed_webhooks"]
    assert failed["webhook_id"] == "msg_fail"
    assert failed["type"] == "refund.failed"
    assert "relay.map:19:" in failed["error"]
    assert "refund.failed needs a network reference" in failed["error"]
    text = relay.cli("status").stdout
    assert "failed webhooks" in text and "msg_fail" in text and "paymap replay --failed" in text
    assert double.ids() == []
    metrics = relay.ops.get("/metrics").text
    for name in ("skipped", "dropped", "failed"):
        assert f"paymap_webhooks_{name}_total 1.0" in metrics


def test_replay_failed_after_fixing_the_mapping(tmp_path: Path, double: Double, make_relay: MakeRelay) -> None:
    mappings = _copy_mappings(tmp_path)
    relay = make_relay(double.url, mappings=mappings)
    relay.send("refund.failed", "msg_refund")
    wait_until(lambda: _status(relay)["webhooks"]["failed"] == 1, "the failure to be parked")

    # a replay with the mapping still broken changes nothing and says why
    still = relay.cli("replay", "--failed", "--mappings", str(mappings))
    assert still.returncode == 0
    assert "1 failed" in still.stdout and "refund.failed needs a network reference" in still.stdout

    map_file = mappings / "relay.map"
    map_file.write_text(map_file.read_text().replace(
        'required(data.network_reference, "refund.failed needs a network reference")', "data.refund_id"))
    dry = relay.cli("replay", "--failed", "--mappings", str(mappings), "--dry-run")
    assert "would replay 1 webhook(s): 1 mapped (1 event(s) would be queued)" in dry.stdout
    assert _status(relay)["webhooks"]["failed"] == 1  # dry run: untouched

    done = relay.cli("replay", "--failed", "--mappings", str(mappings))
    assert done.returncode == 0, done.stderr
    assert "replayed 1 webhook(s): 1 mapped (1 event(s) queued)" in done.stdout
    [event] = wait_until(double.events, "the replayed event delivered by the running relay")
    assert event["id"] == "dodo:msg_refund"
    assert event["data"]["reference"].startswith("ref_")
    assert _status(relay)["webhooks"]["failed"] == 0


def test_replay_by_id_and_time_range_and_new_ids(tmp_path: Path, double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    relay.send("payment.succeeded", "msg_again")
    wait_until(lambda: double.ids() == ["dodo:msg_again"], "first delivery")
    # delivered already: left out unless asked for, so a replay never runs a function twice
    held = relay.cli("replay", "--id", "msg_again", "--mappings", str(MAPPINGS))
    assert held.returncode == 0, held.stderr
    assert "replayed 0 webhook(s)" in held.stdout
    assert "left out 1 event(s) Inngest already accepted (1 webhook(s) with nothing else to send)" in held.stdout
    assert "--include-delivered" in held.stdout
    same = relay.cli("replay", "--id", "msg_again", "--include-delivered", "--mappings", str(MAPPINGS))
    assert "replayed 1 webhook(s)" in same.stdout
    assert "Inngest drops an event whose id it saw in the last 24 h" in same.stderr
    assert "1 event(s) were delivered less than 24 h ago: Inngest will drop them as duplicates" in same.stderr
    wait_until(lambda: len(double.ids()) == 2, "redelivery")
    assert double.ids() == ["dodo:msg_again", "dodo:msg_again"]  # same id: Inngest runs functions once
    fresh = relay.cli("replay", "--since", "1h", "--new-ids", "--include-delivered",
                    "--mappings", str(MAPPINGS))
    assert "replayed 1 webhook(s)" in fresh.stdout
    assert "new event ids:\n  msg_again -> dodo:msg_again:r2" in fresh.stdout
    assert "sent again under new ids" in fresh.stderr
    wait_until(lambda: "dodo:msg_again:r2" in double.ids(), "redelivery under a new id")
    nothing = relay.cli("replay", "--until", "2000-01-01T00:00:00Z", "--mappings", str(MAPPINGS))
    assert "replayed 0 webhook(s)" in nothing.stdout
    unknown = relay.cli("replay", "--id", "msg_nope", "--mappings", str(MAPPINGS))
    assert unknown.returncode == 1 and "no stored webhook with id 'msg_nope'" in unknown.stderr


def test_replay_since_leaves_delivered_events_out(tmp_path: Path, double: Double, make_relay: MakeRelay) -> None:
    double.config(reject_names=["payment.failed"])
    relay = make_relay(double.url)
    relay.send("payment.failed", "msg_dead")
    wait_until(lambda: _status(relay)["events"]["dead"] == 1, "the dead letter")
    relay.send("payment.succeeded", "msg_done")
    wait_until(lambda: double.ids() == ["dodo:msg_done"], "the delivery")
    double.config(reject_names=[])
    # a week later, say: the delivered one is past Inngest's dedup window and would run again
    with relay.db() as conn:
        conn.execute("UPDATE events SET delivered_at = delivered_at - 7 * 86400 WHERE state = 'delivered'")
    done = relay.cli("replay", "--since", "1h", "--mappings", str(MAPPINGS))
    assert done.returncode == 0, done.stderr
    assert "replayed 1 webhook(s): 1 mapped (1 event(s) queued)" in done.stdout
    assert "left out 1 event(s) Inngest already accepted" in done.stdout
    wait_until(lambda: "dodo:msg_dead" in double.ids(), "the dead-lettered one, sent again")
    again = relay.cli("replay", "--id", "msg_done", "--include-delivered", "--mappings", str(MAPPINGS))
    assert "1 event(s) were delivered more than 24 h ago" in again.stderr and "functions run again" in again.stderr
    wait_until(lambda: double.ids().count("dodo:msg_done") == 2, "the delivered one, sent again when asked")


def test_replay_new_ids_replace_the_mappings_own_ids(tmp_path: Path, double: Double, make_relay: MakeRelay) -> None:
    mappings = _copy_mappings(tmp_path)
    with (mappings / "relay.map").open("a") as fh:
        fh.write('\non "refund.succeeded"\nname = "refund.succeeded"\nid   = "refund:" & data.refund_id\n')
    relay = make_relay(double.url, mappings=mappings)
    relay.send("refund.succeeded", "msg_refund")
    [first] = wait_until(double.events, "the first delivery")
    assert first["id"].startswith("refund:")
    args = ("replay", "--id", "msg_refund", "--new-ids", "--include-delivered", "--mappings", str(mappings))
    dry = relay.cli(*args, "--dry-run")
    assert "1 event(s) would be queued" in dry.stdout and f"new event ids (would be):\n  msg_refund -> {first['id']}:r1" in dry.stdout
    done = relay.cli(*args)
    assert f"msg_refund -> {first['id']}:r1" in done.stdout
    wait_until(lambda: double.ids() == [first["id"], first["id"] + ":r1"], "the replay under an id Inngest has not seen")
    second = relay.cli(*args)  # each replay gets ids of its own
    assert f"msg_refund -> {first['id']}:r2" in second.stdout


def test_reload_keeps_working_set_when_new_one_has_errors(
    tmp_path: Path, double: Double, make_relay: MakeRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay.reload")
    mappings = _copy_mappings(tmp_path)
    relay = make_relay(double.url, mappings=mappings, watch=True)
    map_file = mappings / "relay.map"
    original = map_file.read_text()
    generation = relay.relay.holder.generation

    map_file.write_text(original + '\non "payment.succeeded"\nname = nonsense(\n')
    wait_until(lambda: any("reload rejected" in r.getMessage() for r in caplog.records), "the rejected reload")
    rejected = next(r for r in caplog.records if "reload rejected" in r.getMessage())
    assert "relay.map" in rejected.__dict__["diagnostics"]
    assert relay.relay.holder.generation == generation
    # status and readiness say so until a good reload (the relay still accepts webhooks: still ready)
    shown = _status(relay)["mappings_reload_rejected"]
    assert shown["files"] == [str(map_file)] and "relay.map" in shown["diagnostics"]
    text = relay.cli("status").stdout
    assert "MAPPINGS RELOAD REJECTED at " in text and f"{map_file} — still running the previous set" in text
    assert str(map_file) + ":" in text  # the diagnostics, with their file:line
    ready = relay.ops.get("/readyz")
    assert ready.status_code == 200 and ready.json()["mappings_reload_rejected"]["files"] == [str(map_file)]
    relay.send("payment.succeeded", "msg_old_set")
    wait_until(lambda: [e["name"] for e in double.events()] == ["payment.succeeded"], "mapped by the old set")

    map_file.write_text(original.replace('name            = "payment.succeeded"', 'name            = "payment.paid"'))
    wait_until(lambda: relay.relay.holder.generation > generation, "the good reload")
    relay.send("payment.succeeded", "msg_new_set")
    wait_until(lambda: "payment.paid" in [e["name"] for e in double.events()], "mapped by the new set")
    assert _status(relay)["mappings_reload_rejected"] is None
    assert "RELOAD REJECTED" not in relay.cli("status").stdout
    assert "mappings_reload_rejected" not in relay.ops.get("/readyz").json()


@pytest.mark.sqlite_only  # PostgreSQL's outage: tests/relay/test_cluster.py
def test_readyz_fails_while_the_store_cannot_commit(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, db_busy_timeout_ms=100, accept_timeout_seconds=2)
    assert relay.ops.get("/readyz").status_code == 200
    locker = sqlite3.connect(relay.settings.db_path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        time.sleep(READY_PROBE_SECONDS)  # past the cached answer
        ready = relay.ops.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert "the store cannot commit" in ready.json()["problems"]["store"]
        assert "locked" in ready.json()["problems"]["store"]
        assert relay.send("payment.succeeded", "msg_locked").status_code == 503  # what readiness predicted
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    wait_until(lambda: relay.ops.get("/readyz").status_code == 200, "ready again once the lock is gone")
    assert relay.send("payment.succeeded", "msg_unlocked").status_code == 200
