"""Several relay instances on one PostgreSQL database (the real server on 127.0.0.1:5432).

The cluster test runs three ``paymap serve`` processes on one database, spreads signed webhooks over
them (some sent to two instances at once, as a Dodo retry landing elsewhere would be), kill -9's one
while it holds claimed work, terminates every relay connection on the server mid-run, restarts the
dead instance, and checks: every acknowledged webhook is stored once and delivered, the dead
instance's claimed events were finished by the others after its lease, and the only ids Inngest saw
twice are resends of batches whose acknowledgement was lost (bounded by the batches in flight).
The outage test cuts the database away (a proxy in front of it) and checks 503 + Retry-After,
readiness, reconnection, and that nothing acknowledged is lost.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import (
    MAPPINGS,
    Double,
    RelayProcess,
    RelayServer,
    fast_settings,
    free_port,
    relay_env,
    run_cli,
    sample_body,
    signed_headers,
    wait_until,
)
from .pg import PgConn, admin, fresh_schema, target_of_base, via_port, with_param
from .tcp_proxy import TcpProxy

TOTAL = 300
SENDERS = 4
BATCH = 20  # PAYMAP_BATCH_MAX_EVENTS: bounds the resends after a kill or a lost connection
KILL_AT, TERMINATE_AT, RESTART_AT = 90, 160, 220


@pytest.fixture
def cluster_url() -> Iterator[str]:
    with fresh_schema() as url:
        # a name of its own, so terminating "every relay connection" touches only this test's
        yield with_param(url, "application_name", f"paymap-cluster-{uuid.uuid4().hex[:8]}")


def _app_name(url: str) -> str:
    return url.rsplit("application_name=", 1)[1]


def _leased_by(db: PgConn, owner: str) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT seq FROM events WHERE state = 'pending' AND lease_owner = %s", (owner,)).fetchall()]


def _owner_of(db: PgConn, pid: int) -> str | None:
    for key, value in db.execute("SELECT key, value FROM meta WHERE key LIKE 'instance.%%'").fetchall():
        if json.loads(value)["host"].endswith(f" pid {pid}"):
            return str(key.removeprefix("instance."))
    return None


def test_three_instances_one_database(tmp_path: Path, double: Double, cluster_url: str) -> None:
    double.config(response_delay_ms=150)  # batches stay in flight long enough to be caught mid-delivery
    envs = [
        relay_env(tmp_path / f"unused{i}.sqlite3", free_port(), double.url, PAYMAP_DATABASE_URL=cluster_url,
                  PAYMAP_BATCH_MAX_EVENTS=str(BATCH), PAYMAP_HEARTBEAT_SECONDS="0.3")
        for i in range(3)
    ]
    logs = [tmp_path / f"relay{i}.log" for i in range(3)]
    relays = [RelayProcess(MAPPINGS, env, log) for env, log in zip(envs, logs, strict=True)]
    alive = [True, True, True]
    body = sample_body("payment.succeeded")
    accepted: set[str] = set()
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    failures: list[str] = []

    def post(client: httpx.Client, start: int, wid: str) -> None:
        """Like Dodo behind a load balancer: retry (signed anew) until a 2xx, on the next instance if one is down."""
        for attempt in range(2000):
            i = (start + attempt) % 3
            if not alive[i]:
                continue
            try:
                r = client.post(relays[i].url + "/webhooks/dodo", content=body, headers=signed_headers(body, wid))
            except httpx.HTTPError:
                time.sleep(0.02)
                continue
            with lock:
                answers[str(r.status_code)] += 1
            if r.status_code == 200:
                with lock:
                    accepted.add(wid)
                return
            time.sleep(0.05)
        failures.append(wid)

    def sender(worker: int) -> None:
        with httpx.Client(timeout=5) as client:
            for n in range(worker, TOTAL, SENDERS):
                wid = f"msg_cluster_{n:04d}"
                if n % 5 == 0:  # the same webhook to two instances at once
                    twin = threading.Thread(target=post, args=(httpx.Client(timeout=5), n + 1, wid))
                    twin.start()
                    post(client, n, wid)
                    twin.join()
                else:
                    post(client, n, wid)

    threads = [threading.Thread(target=sender, args=(w,), daemon=True) for w in range(SENDERS)]
    for t in threads:
        t.start()
    db = PgConn(cluster_url)
    try:
        # kill -9 instance 0 while it holds claimed events (mid-delivery)
        wait_until(lambda: len(accepted) >= KILL_AT, f"{KILL_AT} accepted", timeout=120, interval=0.01)
        owner = wait_until(lambda: _owner_of(db, relays[0].proc.pid), "instance 0's heartbeat")
        wait_until(lambda: _leased_by(db, owner), "instance 0 to hold claimed events", timeout=60, interval=0.005)
        alive[0] = False
        relays[0].kill9()
        killed_at = time.time()
        orphaned = _leased_by(db, owner)
        assert orphaned, "the killed instance held no claimed events"

        # every relay connection on the server ends at once (as in a PostgreSQL restart)
        wait_until(lambda: len(accepted) >= TERMINATE_AT, f"{TERMINATE_AT} accepted", timeout=120, interval=0.01)
        with admin() as conn:
            ended = conn.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE application_name = %s", (_app_name(cluster_url),)).fetchone()
        assert ended is not None and ended[0] >= 2, ended
        db = PgConn(cluster_url)  # ours ended too

        wait_until(lambda: len(accepted) >= RESTART_AT, f"{RESTART_AT} accepted", timeout=120, interval=0.01)
        relays[0] = RelayProcess(MAPPINGS, envs[0], logs[0])
        alive[0] = True

        for t in threads:
            t.join(timeout=240)
        assert not failures, f"webhooks never accepted: {failures[:5]}"
        assert len(accepted) == TOTAL
        expected = {f"dodo:{wid}" for wid in accepted}
        wait_until(lambda: expected <= set(double.ids()), "every accepted webhook delivered", timeout=120, interval=0.2)

        def settled() -> bool:
            row = db.execute("SELECT (SELECT count(*) FROM webhooks), (SELECT count(*) FROM webhooks "
                             "WHERE state = 'received'), (SELECT count(*) FROM events WHERE state <> 'delivered'), "
                             "(SELECT count(*) FROM events)").fetchone()
            return row == (TOTAL, 0, 0, TOTAL)

        wait_until(settled, "the store to agree: each webhook stored once, each event delivered", timeout=60)
        # the dead instance's claims were finished by the others, after its lease ran out
        late = db.execute("SELECT count(*) FROM events WHERE seq = ANY(%s) AND state = 'delivered' "
                          "AND delivered_at >= %s", (orphaned, killed_at + 5.5)).fetchone()
        assert late == (len(orphaned),), (late, len(orphaned))
        raw = double.ids()
        counts = Counter(raw)
        resent = sum(n - 1 for n in counts.values())
        print(f"\ncluster test: 3 instances, {TOTAL} webhooks acknowledged ({dict(answers)} answers), "
              f"{len(orphaned)} events taken over from the killed instance, {resent} resends of batches whose "
              f"acknowledgement was lost, {ended[0]} connections terminated")
        assert set(raw) == expected  # nothing lost, nothing extra
        # documented retries only: the killed instance's batch and one batch per instance at the termination
        assert resent <= BATCH * 4, counts.most_common(5)

        # the cluster-wide picture from any instance's machine
        status = json.loads(run_cli("status", "--json", env={"PAYMAP_DATABASE_URL": cluster_url}).stdout)
        live = [i for i in status["instances"] if i["alive"]]
        assert len(live) == 3 and not status["mapping_versions_differ"], status["instances"]
        assert status["events"]["delivered"] == TOTAL
    finally:
        for r in relays:
            r.stop()


def test_a_pause_learned_by_one_instance_pauses_all_and_a_fix_resumes_all(
    tmp_path: Path, double: Double, cluster_url: str
) -> None:
    double.config(keys=["the-right-key"])  # every instance's key is refused
    a = RelayServer(fast_settings(tmp_path, double.url, database_url=cluster_url))
    b = RelayServer(fast_settings(tmp_path, double.url, database_url=cluster_url))
    try:
        assert a.send("payment.succeeded", "msg_pause_1").status_code == 200
        wait_until(lambda: a.relay.sender._paused and b.relay.sender._paused, "both instances paused")
        assert double.ids() == []
        assert b.send("payment.succeeded", "msg_pause_2").status_code == 200  # still receiving
        double.config(keys=None)  # the key is fixed: the first instance to get through resumes all
        wait_until(lambda: sorted(double.ids()) == ["dodo:msg_pause_1", "dodo:msg_pause_2"], "delivery resumed")
        wait_until(lambda: not a.relay.sender._paused and not b.relay.sender._paused, "both instances resumed")
    finally:
        a.stop()
        b.stop()


def test_database_gone_is_503_and_not_ready_then_reconnects(tmp_path: Path, double: Double) -> None:
    host, port = target_of_base()
    proxy = TcpProxy(host, port)
    with fresh_schema() as direct:
        url = via_port(direct, proxy.port)
        relay = RelayServer(fast_settings(tmp_path, double.url, database_url=url, accept_timeout_seconds=2))
        try:
            assert relay.send("payment.succeeded", "msg_before").status_code == 200
            wait_until(lambda: "dodo:msg_before" in double.ids(), "delivery before the outage")
            proxy.down()
            answer: Any = relay.send("payment.succeeded", "msg_during")
            assert answer.status_code == 503 and answer.headers["retry-after"] == "30", answer.text
            assert answer.json()["error"] == "storage_unavailable"
            wait_until(lambda: relay.ops.get("/readyz").status_code == 503, "not ready while the database is gone")
            proxy.up()
            wait_until(lambda: relay.ops.get("/readyz").status_code == 200, "ready again after reconnecting")
            assert relay.send("payment.succeeded", "msg_during").status_code == 200  # Dodo's retry
            assert relay.send("payment.succeeded", "msg_after").status_code == 200
            wait_until(lambda: {"dodo:msg_during", "dodo:msg_after"} <= set(double.ids()), "delivery after it")
        finally:
            relay.stop()
            proxy.down()
