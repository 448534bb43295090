"""Crash test: signed webhooks under load, the relay process kill -9'd several times mid-run and restarted.

Every webhook that got a 200 must reach the Inngest double, and after the receiver's dedup by
``id`` each appears exactly once (the raw count may be higher: a batch Inngest accepted just before
the kill is sent again, with the same ids). Both counts are printed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from .harness import (
    MAPPINGS,
    Double,
    RelayProcess,
    free_port,
    relay_env,
    sample_body,
    signed_headers,
    wait_until,
)

TOTAL = 600
SENDERS = 4
KILL_AT = (80, 170, 260, 350, 440)  # accepted-webhook counts at which the relay is killed


def test_kill_9_under_load_loses_nothing_and_dedups(tmp_path: Path, double: Double) -> None:
    double.config(response_delay_ms=30)  # Inngest has the batch before the relay hears back
    port = free_port()
    env = relay_env(tmp_path / "relay.sqlite3", port, double.url)
    log = tmp_path / "relay.log"
    relay = RelayProcess(MAPPINGS, env, log)
    url = f"http://127.0.0.1:{port}/webhooks/dodo"
    body = sample_body("payment.succeeded")

    accepted: list[str] = []
    lock = threading.Lock()
    failures: list[str] = []

    def sender(worker: int) -> None:
        with httpx.Client(timeout=5) as client:
            for n in range(worker, TOTAL, SENDERS):
                wid = f"msg_crash_{n:04d}"
                for _attempt in range(1000):  # like Dodo: retry until a 2xx (bounded)
                    try:
                        # a retry is signed anew, as Dodo's are (fresh timestamp, same webhook-id)
                        response = client.post(url, content=body, headers=signed_headers(body, wid))
                    except httpx.HTTPError:
                        time.sleep(0.02)
                        continue
                    if response.status_code == 200:
                        with lock:
                            accepted.append(wid)
                        break
                    time.sleep(0.02)
                else:
                    failures.append(wid)

    threads = [threading.Thread(target=sender, args=(w,), daemon=True) for w in range(SENDERS)]
    for t in threads:
        t.start()
    kills = 0
    try:
        for threshold in KILL_AT:

            def reached(t: int = threshold) -> bool:
                return len(accepted) >= t

            wait_until(reached, f"{threshold} accepted webhooks", timeout=120, interval=0.005)
            relay.kill9()
            kills += 1
            relay = RelayProcess(MAPPINGS, env, log)
        for t in threads:
            t.join(timeout=180)
        assert not failures, f"webhooks never accepted: {failures[:5]}"
        assert len(set(accepted)) == TOTAL

        expected = {f"dodo:{wid}" for wid in accepted}
        wait_until(lambda: expected <= set(double.ids()), "every accepted webhook to be delivered", timeout=120,
                   interval=0.2)
        # and the relay itself agrees: nothing left to send (leases of killed processes expired and
        # their batches went out again, which is where the duplicates come from)
        db = tmp_path / "relay.sqlite3"

        def settled() -> bool:
            with sqlite3.connect(db) as conn:
                left = conn.execute("SELECT count(*) FROM events WHERE state != 'delivered'").fetchone()[0]
                unmapped = conn.execute("SELECT count(*) FROM webhooks WHERE state = 'received'").fetchone()[0]
                stored = conn.execute("SELECT count(*) FROM webhooks").fetchone()[0]
            return bool(left == 0 and unmapped == 0 and stored == TOTAL)

        wait_until(settled, "the relay to have marked every event delivered", timeout=120, interval=0.2)
        raw = double.ids()
        counts = Counter(raw)
        unique = set(raw)
        print(
            f"\ncrash test: {kills} kill -9, {len(accepted)} webhooks got 200; Inngest double received "
            f"{len(raw)} events raw, {len(unique)} unique ids after dedup "
            f"({len(raw) - len(unique)} resends of already-accepted batches)"
        )
        assert unique == expected  # nothing lost, nothing extra
        assert all(counts[i] >= 1 for i in expected)
    finally:
        relay.stop()
