"""Operating: mapping outcomes (skipped, failed, dropped), status, replay after a fix, hot reload."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .harness import MAPPINGS, Double, RelayServer, run_cli, wait_until

MakeRelay = Callable[..., RelayServer]


def _copy_mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def _status(relay: RelayServer) -> dict[str, Any]:
    result = run_cli("status", "--json", "--db", str(relay.settings.db_path))
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
    text = run_cli("status", "--db", str(relay.settings.db_path)).stdout
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
    db = str(relay.settings.db_path)

    # a replay with the mapping still broken changes nothing and says why
    still = run_cli("replay", "--failed", "--db", db, "--mappings", str(mappings))
    assert still.returncode == 0
    assert "1 failed" in still.stdout and "refund.failed needs a network reference" in still.stdout

    map_file = mappings / "relay.map"
    map_file.write_text(map_file.read_text().replace(
        'required(data.network_reference, "refund.failed needs a network reference")', "data.refund_id"))
    dry = run_cli("replay", "--failed", "--db", db, "--mappings", str(mappings), "--dry-run")
    assert "would replay 1 webhook(s): 1 mapped (1 event(s) queued)" in dry.stdout
    assert _status(relay)["webhooks"]["failed"] == 1  # dry run: untouched

    done = run_cli("replay", "--failed", "--db", db, "--mappings", str(mappings))
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
    db = str(relay.settings.db_path)
    same = run_cli("replay", "--id", "msg_again", "--db", db, "--mappings", str(MAPPINGS))
    assert "replayed 1 webhook(s)" in same.stdout
    wait_until(lambda: len(double.ids()) == 2, "redelivery")
    assert double.ids() == ["dodo:msg_again", "dodo:msg_again"]  # same id: Inngest runs functions once
    fresh = run_cli("replay", "--since", "1h", "--new-ids", "--db", db, "--mappings", str(MAPPINGS))
    assert "replayed 1 webhook(s)" in fresh.stdout
    wait_until(lambda: "dodo:msg_again:r2" in double.ids(), "redelivery under a new id")
    nothing = run_cli("replay", "--until", "2000-01-01T00:00:00Z", "--db", db, "--mappings", str(MAPPINGS))
    assert "replayed 0 webhook(s)" in nothing.stdout
    unknown = run_cli("replay", "--id", "msg_nope", "--db", db, "--mappings", str(MAPPINGS))
    assert unknown.returncode == 1 and "no stored webhook with id 'msg_nope'" in unknown.stderr


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
    relay.send("payment.succeeded", "msg_old_set")
    wait_until(lambda: [e["name"] for e in double.events()] == ["payment.succeeded"], "mapped by the old set")

    map_file.write_text(original.replace('name            = "payment.succeeded"', 'name            = "payment.paid"'))
    wait_until(lambda: relay.relay.holder.generation > generation, "the good reload")
    relay.send("payment.succeeded", "msg_new_set")
    wait_until(lambda: "payment.paid" in [e["name"] for e in double.events()], "mapped by the new set")
