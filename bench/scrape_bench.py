"""Scrape benchmark: CPU cost of ``/metrics`` on a large store, counted per scrape and cached.

Fills a real SQLite store (the relay's schema) with ``--rows`` webhooks and as many events, mostly
delivered, with a few hundred pending, failed and dead. Baseline: the store counts computed for
every scrape (what ``/metrics`` did before). Measured: ``--scrapers`` scrapes at once (threads),
several bursts ``--interval`` seconds apart, through the relay's metrics registry with its cache, as
Prometheus servers (or a scraping attack on the old public port) would ask. CPU is the process's
CPU time (``time.process_time``), so waiting is not counted.

Run: ``.venv/bin/python -m bench scrape`` (``--write`` puts the figures in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import generate_latest

from bench.results import publish
from runtime.relay.metrics import STATS_TTL_SECONDS, RelayMetrics
from runtime.relay.store_sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- scrape:start -->", "<!-- scrape:end -->"
BODY = b'{"type":"payment.succeeded","data":{"payment_id":"pay_x","total_amount":2999}}'


def fill(path: Path, rows: int) -> None:
    SQLiteStore(path).close()  # the relay's schema
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    now = time.time()
    rng = random.Random(1)
    chunk = 50_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        hooks = []
        events = []
        for i in range(start, start + n):
            state = "failed" if rng.random() < 0.0005 else "mapped"
            hooks.append((i + 1, f"msg_{i}", now - (rows - i), "{}", BODY, state))
            ev_state = "delivered"
            roll = rng.random()
            if roll < 0.0005:
                ev_state = "pending"
            elif roll < 0.001:
                ev_state = "dead"
            if state == "mapped":
                events.append((i + 1, 0, 0, f"dodo:msg_{i}", "payment.succeeded", "{}", 2, ev_state, now, now - (rows - i),
                               now, now))
        conn.executemany("INSERT INTO webhooks (seq, webhook_id, received_at, headers, body, state) VALUES (?,?,?,?,?,?)",
                         hooks)
        conn.executemany(
            "INSERT INTO events (webhook_seq, generation, idx, event_id, name, payload, size, state, next_attempt_at, "
            "received_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            events,
        )
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def cpu_of(fn: object, *args: object) -> float:
    start = time.process_time()
    fn(*args)  # type: ignore[operator]
    return time.process_time() - start


def burst(registry: object, scrapers: int) -> None:
    threads = [threading.Thread(target=generate_latest, args=(registry,)) for _ in range(scrapers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="stored webhooks (default 1,000,000)")
    parser.add_argument("--scrapers", type=int, default=64, help="scrapes at once per burst (default 64)")
    parser.add_argument("--bursts", type=int, default=6, help="bursts (default 6)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bursts (default 1)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="paymap-scrape-") as tmp:
        db = Path(tmp) / "relay.sqlite3"
        t0 = time.perf_counter()
        fill(db, args.rows)
        print(f"filled {args.rows:,} webhooks in {time.perf_counter() - t0:.0f} s "
              f"({db.stat().st_size / 1e6:.0f} MB)")
        store = SQLiteStore(db)
        try:
            store.stats()  # warm the page cache for both variants alike
            uncached = [cpu_of(store.stats) for _ in range(5)]
            per_scrape = statistics.median(uncached)
            metrics = RelayMetrics()
            cached = metrics.watch_store(store.stats)
            total_cpu = 0.0
            wall = time.perf_counter()
            for i in range(args.bursts):
                total_cpu += cpu_of(burst, metrics.registry, args.scrapers)
                if i + 1 < args.bursts:
                    time.sleep(args.interval)
            wall = time.perf_counter() - wall
        finally:
            store.close()
    scrapes = args.bursts * args.scrapers
    cached_per_scrape = total_cpu / scrapes
    baseline_total = per_scrape * scrapes
    lines = [
        START,
        "## Metrics scrape (`bench/scrape_bench.py`)",
        "",
        f"Measured {datetime.now(tz=UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} CPU(s), Python "
        f"{platform.python_version()}; a store of {args.rows:,} webhooks and events (mostly delivered). Baseline "
        "(same run): the store counts computed for every scrape, as `/metrics` did before. Now: "
        f"{args.bursts} bursts of {args.scrapers} simultaneous scrapes, {args.interval:g} s apart, through the "
        f"relay's registry with the store counts cached for {STATS_TTL_SECONDS:g} s. Load average (1 min) "
        f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (a shared machine: absolute "
        "figures are noisy, the ratio less so).",
        "",
        "| | CPU per scrape | CPU for all scrapes | store counted |",
        "|---|---|---|---|",
        f"| counted per scrape (baseline: 5 measured, total extrapolated) | {per_scrape * 1000:.1f} ms | {baseline_total:.2f} s | {scrapes} times |",
        f"| cached (now) | {cached_per_scrape * 1000:.2f} ms | {total_cpu:.2f} s | {cached.computed} times "
        f"in {wall:.1f} s |",
        "",
        f"Ratio (cached / baseline, CPU per scrape): {cached_per_scrape / per_scrape:.1%}. The scrapes also left "
        "the webhook port: they are served on the operations listener (PAYMAP_OPS_PORT, loopback by default).",
        END,
    ]
    section = "\n".join(lines)
    publish(section, START, END, write=args.write, path=RESULTS)
