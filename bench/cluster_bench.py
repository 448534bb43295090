"""Cluster benchmark: 1, 2 and 3 relay instances on PostgreSQL beside one on SQLite, in the same run.

Each configuration gets fresh relays (`paymap serve` processes, default settings) and a fresh store
(a new schema in the PostgreSQL at PAYMAP_BENCH_POSTGRES, default 127.0.0.1:5432/test). One asyncio
client process spreads signed ``payment.succeeded`` webhooks over the instances' ports (connections
round-robin), rounds interleaved between configurations. Reported per configuration: accepted/s and
answer p50/p99, delivered/s end to end (first request until the Inngest test double has every
event), each instance's CPU per webhook, and the database's cost per webhook: PostgreSQL backend CPU,
transactions, WAL bytes, and webhooks per group commit (transactions of the receive connections).

Run: ``.venv/bin/python -m bench cluster`` (``--write`` puts the figures in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.relay_bench import (
    Run,
    delivered_count,
    load,
    server_kind,
    start_double,
    start_relay,
    stop,
    thread_cpu,
    wait_delivered,
)
from bench.results import publish

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- cluster:start -->", "<!-- cluster:end -->"
BASE_URL = os.environ.get("PAYMAP_BENCH_POSTGRES", "postgresql://127.0.0.1:5432/test")


@dataclass
class Config:
    name: str
    instances: int
    postgres: bool
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    url: str | None = None
    schema: str = ""
    app: str = ""
    tmp: Any = None
    runs: list[Run] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    cpu_instance: list[float] = field(default_factory=list)  # µs per webhook, all instances together
    db_cpu: list[float] = field(default_factory=list)  # µs per webhook, PostgreSQL backends
    wal: list[float] = field(default_factory=list)  # bytes per webhook
    xacts: list[float] = field(default_factory=list)  # transactions per webhook (all connections)
    per_commit: list[float] = field(default_factory=list)  # webhooks per receive transaction


def admin() -> Any:
    import psycopg

    return psycopg.connect(BASE_URL, autocommit=True)


def db_counters(cfg: Config) -> tuple[float, int, int, dict[int, float]]:
    """(WAL position, commits of the database, commits of this config's receive connections, backend CPU)."""
    with admin() as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0]
        commits = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                               ).fetchone()[0]
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                           (cfg.app,))]
    cpu = {pid: sum(thread_cpu(pid)) for pid in pids if Path(f"/proc/{pid}").exists()}
    return float(lsn), int(commits), 0, cpu


def start(cfg: Config, double_url: str) -> None:
    cfg.tmp = tempfile.TemporaryDirectory(prefix="paymap-cluster-bench-")
    extra: dict[str, str] = {"PAYMAP_LOG_LEVEL": "WARNING"}
    if cfg.postgres:
        cfg.schema = f"paymap_bench_{uuid.uuid4().hex[:8]}"
        cfg.app = f"paymap-bench-{cfg.schema}"
        with admin() as conn:
            conn.execute(f'CREATE SCHEMA "{cfg.schema}"')
        sep = "&" if "?" in BASE_URL else "?"
        cfg.url = (f"{BASE_URL}{sep}options={quote(f'-csearch_path={cfg.schema}')}"
                   f"&application_name={cfg.app}")
        extra["PAYMAP_DATABASE_URL"] = cfg.url
    for i in range(cfg.instances):
        work = Path(cfg.tmp.name) / str(i)
        work.mkdir()
        proc, port = start_relay(work, double_url, extra)
        cfg.procs.append(proc)
        cfg.ports.append(port)


def finish(cfg: Config) -> None:
    for p in cfg.procs:
        stop(p)
    if cfg.postgres:
        with admin() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{cfg.schema}" CASCADE')
    cfg.tmp.cleanup()


def one_round(cfg: Config, double_url: str, total: int, conc: int, prefix: str) -> None:
    before_cpu = [thread_cpu(p.pid) for p in cfg.procs]
    counters = db_counters(cfg) if cfg.postgres else None
    expected = delivered_count(double_url) + total
    t0 = time.perf_counter()
    run = asyncio.run(load(cfg.ports, "cluster", total, conc, prefix))
    accept_counters = db_counters(cfg) if cfg.postgres else None
    wait_delivered(double_url, expected)
    cfg.e2e.append(total / (time.perf_counter() - t0))
    after_cpu = [thread_cpu(p.pid) for p in cfg.procs]
    cfg.runs.append(run)
    cfg.cpu_instance.append(sum(sum(a) - sum(b) for a, b in zip(after_cpu, before_cpu, strict=True)) / total * 1e6)
    if counters is not None and accept_counters is not None:
        end = db_counters(cfg)
        cfg.wal.append((end[0] - counters[0]) / total)
        cfg.xacts.append((end[1] - counters[1]) / total)
        # during the accept phase nearly every commit is a group commit (mapping and delivery wait for the burst)
        cfg.per_commit.append(total / max(1, accept_counters[1] - counters[1]))
        cfg.db_cpu.append(sum(end[3].get(pid, 0.0) - cpu for pid, cpu in counters[3].items()) / total * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000, help="webhooks per measured round (default 3000)")
    parser.add_argument("--concurrency", type=int, default=64, help="connections (default 64)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    double, double_url = start_double()
    configs = [Config("SQLite, 1 instance", 1, False)] + [
        Config(f"PostgreSQL, {n} instance{'s' if n > 1 else ''}", n, True) for n in (1, 2, 3)]
    try:
        for cfg in configs:
            start(cfg, double_url)
            expected = delivered_count(double_url) + 300
            asyncio.run(load(cfg.ports, "cluster", 300, args.concurrency, f"warm_{cfg.instances}_{cfg.postgres}"))
            wait_delivered(double_url, expected)
        for round_ in range(args.rounds):  # interleaved: a noisy neighbour hits every configuration alike
            for k, cfg in enumerate(configs):
                one_round(cfg, double_url, args.requests, args.concurrency, f"r{round_}_{k}")
                r = cfg.runs[-1]
                print(f"round {round_ + 1}, {cfg.name}: accepted {r.rate:,.0f}/s, p99 {r.pct(0.99):.1f} ms, "
                      f"delivered {cfg.e2e[-1]:,.0f}/s, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        for cfg in configs:
            if cfg.procs:
                finish(cfg)
        stop(double)
    load_end = os.getloadavg()[0]

    def med(xs: list[float]) -> float:
        return float(statistics.median(xs)) if xs else float("nan")

    sqlite_rate = max(r.rate for r in configs[0].runs)
    lines = [
        START,
        "## Cluster: PostgreSQL with 1, 2, 3 instances beside SQLite (`bench/cluster_bench.py`)",
        "",
        f"Measured {datetime.now(tz=UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} CPU(s) shared by "
        f"the client, every relay instance, PostgreSQL and the Inngest double; Python {platform.python_version()}, "
        f"{server_kind()} per instance, default settings (logs at WARNING). {args.requests} signed webhooks "
        f"per round over {args.concurrency} keep-alive connections spread round-robin over the instances, "
        f"{args.rounds} rounds interleaved between the configurations. PostgreSQL: the machine's server, "
        f"default configuration (synchronous_commit on). Load average (1 min) at the start {load_start:.1f}, "
        f"at the end {load_end:.1f}.",
        "",
        "| configuration | accepted/s (best) | vs SQLite | p50 / p99 ms | delivered/s end to end | instance CPU µs "
        "per webhook | PostgreSQL CPU µs per webhook | transactions per webhook | WAL bytes per webhook "
        "| webhooks per group commit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cfg in configs:
        best = max(cfg.runs, key=lambda r: r.rate)
        pg = cfg.postgres
        lines.append(
            f"| {cfg.name} | {best.rate:,.0f} | {best.rate / sqlite_rate:.0%} | {best.pct(0.5):.1f} / "
            f"{best.pct(0.99):.1f} | {max(cfg.e2e):,.0f} | {med(cfg.cpu_instance):.0f} "
            f"| {f'{med(cfg.db_cpu):.0f}' if pg else '—'} | {f'{med(cfg.xacts):.2f}' if pg else '—'} "
            f"| {f'{med(cfg.wal):,.0f}' if pg else '—'} | {f'{med(cfg.per_commit):.1f}' if pg else '—'} |"
        )
        bad = sum(r.non_200 for r in cfg.runs)
        if bad:
            lines.append(f"| ({cfg.name}: {bad} non-200 answers) |||||||||")
    pg1 = max(r.rate for r in configs[1].runs)
    p99 = max(r.pct(0.99) for r in max(configs[1:], key=lambda c: c.instances).runs)
    lines += [
        "",
        f"Targets (issue 18): PostgreSQL with one instance accepts ≥ 70% of SQLite's rate — "
        f"{'met' if pg1 >= 0.7 * sqlite_rate else 'NOT met'} ({pg1 / sqlite_rate:.0%}); p99 < 50 ms at "
        f"{args.concurrency} connections — "
        + ", ".join(f"{'met' if (q := max(r.pct(0.99) for r in c.runs)) < 50 else 'NOT met'} for {c.name} ({q:.0f} ms)"
                    for c in configs)
        + "; one round trip per group commit on the accept path — by construction (one "
        "`INSERT … SELECT FROM unnest(…) RETURNING` in autocommit per group; tests/relay/test_store_contract.py).",
        f"(p99 per configuration: its worst round; the largest cluster's: {p99:.0f} ms.)",
        "",
        *ANALYSIS,
        END,
    ]
    section = "\n".join(lines)
    publish(section, START, END, write=args.write, path=RESULTS)


ANALYSIS: list[str] = [
    "Per round (accepted/s, rounds interleaved), the run above (2026-11-30 20:31 UTC, load 0.7–1.5, after the",
    "sender's lanes and the SQLite bookkeeping commits without their own fsync): SQLite 5,334 / 5,537 / 4,700;",
    "PostgreSQL with one instance 3,881 / 5,376 / 4,683 (73%, 97%, 100% round by round). An earlier run at load",
    "5–6 (before those changes) gave 73% best against best, rounds 52–102%, and p99 up to 95 ms with one",
    "PostgreSQL instance (110 ms with three) in rounds that met autovacuum or a checkpoint on the shared cores:",
    "**every figure here is noisy; compare configurations within one run.**",
    "",
    "- **Accepting.** Each instance's writer commits every webhook waiting in one `INSERT … SELECT FROM",
    "  unnest(…) ON CONFLICT DO NOTHING RETURNING webhook_id` in autocommit: one round trip and one WAL",
    "  flush per group (9–22 webhooks per group here). Its arrays go in binary: in text, psycopg hex-escaped",
    "  every body inside an array literal and the server parsed it back, which tripled the statement's time",
    "  (accept alone, in process, 64 at once: 2,770/s → 9,500/s, 85 → 36 µs of CPU per webhook).",
    "- **Bottleneck: CPU, shared.** Client, instances, PostgreSQL and the Inngest double share two cores.",
    "  Per webhook, all in (accept, map, deliver), one PostgreSQL instance spends ~200 µs of its own CPU",
    "  (SQLite's instance ~230–300 µs, which includes SQLite's own work) and the server ~150–175 µs. More",
    "  instances cannot add CPU on two cores; each adds its own polling, heartbeats and claims (instance CPU",
    "  summed over instances grows with their number), so two and three instances accept less here.",
    "- **What predicts scaling on bigger machines.** The instance part (~200 µs per webhook) scales out with",
    "  instances. The database is the shared part: ~150–300 µs of PostgreSQL CPU, 0.06–0.2 transactions",
    "  (autocommit statements: the accept group, the mapped batch, the claim and the mark are one statement",
    "  each) and ~11.5 KB of WAL per webhook (the 2.3 KB body; the webhook row written again when it is",
    "  mapped, with its index entries; the event row and its updates; full-page images after checkpoints).",
    "  One PostgreSQL core carries roughly 3,000–5,000 webhooks/s end to end; past that, grow the database",
    "  (WAL on a fast disk, more cores).",
    "- **Round trips.** Accept: one per group commit. Mapping: one per batch (`UPDATE … FROM unnest` with the",
    "  events inserted in the same statement). Delivery: one claim (`FOR UPDATE SKIP LOCKED`, the byte budget",
    "  in a window sum) and one mark per batch, the attempts logged in the same statement; pooled",
    "  connections are checked only after sitting idle.",
]


if __name__ == "__main__":
    main()
