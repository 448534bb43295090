"""Steady load: how long a payment takes from the relay's 200 to the Inngest receiver holding its event.

The relay (``paymap serve`` with its defaults) runs in its own process; a receiver standing in for
Inngest answers every request after a random 5–20 ms (uvicorn, its own process) and notes when each
event arrived. First a burst (64 connections) measures the accept rate; then signed
``payment.succeeded`` webhooks are sent at a constant rate (open loop: a webhook is due every
1/rate s whether or not the previous one was answered) at 10%, 50%, 80% and 100% of it. For each
webhook the client notes when its 200 arrived; latency = receiver's arrival time − that moment
(same machine, same clock). Sampled every second: the relay's queue (webhooks not yet mapped +
events not yet delivered, from ``/metrics``) and its RSS.

Run: ``.venv/bin/python -m bench steady`` (short: ``--seconds 10`` per rate); the full setting of
issue 15 is ``--seconds 60 --rss-seconds 600``. ``--write`` puts the figures in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.relay_bench import (
    BODY,
    free_port,
    load,
    request_bytes,
    server_kind,
    start_relay,
    stop,
    wait_http,
)
from bench.results import publish

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- steady:start -->", "<!-- steady:end -->"
CONNECTIONS = 64
FRACTIONS = (0.1, 0.5, 0.8, 1.0)
RECEIVER_MS = (5, 20)
IDLE_SECONDS = 5.0  # the relay started and waiting, before the burst: what it costs doing nothing
SAMPLE_PAYMENT_ID = json.loads(BODY)["data"]["payment_id"].encode()


# ------------------------------------------------------------------ the receiver (Inngest's stand-in)
def receiver_app() -> Any:
    arrived: dict[str, float] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        if scope["method"] == "GET":  # the benchmark collects the arrival times
            body = json.dumps(arrived).encode()
        else:
            now = time.time()
            for event in json.loads(b"".join(chunks)):  # keyed by payment id: one per webhook sent
                arrived.setdefault(str(event.get("data", {}).get("payment_id")), now)
            await asyncio.sleep(random.uniform(*RECEIVER_MS) / 1000)
            body = b'{"ids":[],"status":200}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_receiver(port: int) -> None:
    import uvicorn

    uvicorn.run(receiver_app(), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.steady_bench", "--serve-receiver", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc, f"http://127.0.0.1:{port}"


def arrivals(url: str) -> dict[str, float]:
    found: dict[str, float] = httpx.get(url + "/_arrivals", timeout=60).json()
    return found


# ------------------------------------------------------------------ the open-loop client
def signed_request(port: int, webhook_id: str) -> bytes:
    """A signed ``payment.succeeded`` whose payment id is the webhook id (the receiver keys on it)."""
    return request_bytes(port, webhook_id, BODY.replace(SAMPLE_PAYMENT_ID, webhook_id.encode()))


async def _status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")), 0)
    if length:
        await reader.readexactly(length)
    return int(lines[0].split()[1])


async def steady(port: int, rate: float, seconds: float, prefix: str) -> tuple[dict[str, float], int, float]:
    """Send ``rate`` webhooks/s for ``seconds``; returns ({webhook_id: when its 200 came}, non-200, lateness p99)."""
    total = int(rate * seconds)
    due: asyncio.Queue[int | None] = asyncio.Queue()
    answered: dict[str, float] = {}
    late: list[float] = []
    non_200 = 0
    start = time.perf_counter() + 0.05

    async def connection() -> None:
        nonlocal non_200
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (i := await due.get()) is not None:
                wid = f"{prefix}_{i:07d}"
                writer.write(signed_request(port, wid))
                status = await _status(reader)
                answered[wid] = time.time()
                late.append(time.perf_counter() - (start + i / rate))
                if status != 200:
                    non_200 += 1
        finally:
            writer.close()

    async def schedule() -> None:
        for i in range(total):
            wait = start + i / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            due.put_nowait(i)
        for _ in range(CONNECTIONS):
            due.put_nowait(None)

    await asyncio.gather(schedule(), *(connection() for _ in range(CONNECTIONS)))
    late.sort()
    return answered, non_200, late[int(0.99 * (len(late) - 1))] if late else 0.0


def run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


# ------------------------------------------------------------------ sampling
_QUEUE = re.compile(rb'^paymap_(?:queue_depth|webhooks\{state="received"\}) (\S+)$', re.M)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (every thread)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sampler:
    """Every second: the relay's backlog (unmapped webhooks + undelivered events, from /metrics on the
    operations port) and its RSS."""

    pid: int
    port: int
    queue: list[int] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.wait(1.0):
                try:
                    text = client.get(f"http://127.0.0.1:{self.port}/metrics").content
                    self.queue.append(int(sum(float(x) for x in _QUEUE.findall(text))))
                    self.rss.append(rss_mb(self.pid))
                except (httpx.HTTPError, OSError):
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def queue_now(db: Path) -> int:
    """Webhooks not yet mapped + events not yet delivered, read from the relay's SQLite file now (its
    /metrics figure may be up to 5 s old)."""
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM webhooks INDEXED BY webhooks_unmapped WHERE state = 'received')"
                           " + (SELECT count(*) FROM events INDEXED BY events_due WHERE state = 'pending')").fetchone()
    return int(row[0])


# ------------------------------------------------------------------ one rate
@dataclass
class Result:
    fraction: float
    rate: float
    seconds: float
    latencies: list[float]  # seconds, 200 → receiver
    missing: int
    non_200: int
    late_p99: float
    queue: list[int]
    rss: list[float]
    delivered_per_s: float
    drain_s: float
    cpu_us: float  # the relay's CPU (all threads) per webhook, from the first request until drained

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def measure(relay: subprocess.Popen[bytes], port: int, ops_port: int, receiver: str, fraction: float, rate: float,
            seconds: float, prefix: str) -> Result:
    sampler = Sampler(relay.pid, ops_port)
    cpu_begin = cpu_seconds(relay.pid)
    begin = time.time()
    answered, non_200, late_p99 = run_loop(steady(port, rate, seconds, prefix))
    sent_for = time.time() - begin
    deadline = time.time() + max(60.0, seconds * 2)
    arrived = arrivals(receiver)
    in_window = sum(1 for k, t in arrived.items() if k.startswith(f"{prefix}_") and t <= begin + sent_for)
    while sum(1 for k in arrived if k.startswith(f"{prefix}_")) < len(answered) and time.time() < deadline:
        time.sleep(0.5)
        arrived = arrivals(receiver)
    drain = time.time() - begin - sent_for
    cpu = cpu_seconds(relay.pid) - cpu_begin
    sampler.stop()
    latencies = [arrived[wid] - at for wid, at in answered.items() if wid in arrived]
    return Result(fraction, rate, seconds, latencies, len(answered) - len(latencies), non_200, late_p99,
                  sampler.queue, sampler.rss, in_window / sent_for, drain, cpu / max(1, len(answered)) * 1e6)


def rss_run(relay: subprocess.Popen[bytes], port: int, rate: float, seconds: float) -> list[tuple[float, float]]:
    """RSS over a long run at ``rate`` (sampled every 10 s)."""
    samples: list[tuple[float, float]] = []
    begin = time.time()
    stop_flag = threading.Event()

    def sample() -> None:
        while not stop_flag.wait(10):
            samples.append((time.time() - begin, rss_mb(relay.pid)))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    step = 60.0  # several minutes: in chunks, so the ids stay few per chunk
    done = 0.0
    while done < seconds:
        chunk = min(step, seconds - done)
        run_loop(steady(port, rate, chunk, f"rss{int(done)}"))
        done += chunk
    stop_flag.set()
    thread.join()
    return samples


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve-receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=10, help="seconds per rate (default 10; issue 15: 60)")
    parser.add_argument("--rss-seconds", type=float, default=0,
                        help="an extra run at 50%% of the accept rate watching RSS (default 0 = off; issue 15: 600)")
    parser.add_argument("--burst", type=int, default=4000, help="webhooks in the burst measuring the accept rate")
    parser.add_argument("--rate", type=float, default=0,
                        help="use this as the accept rate instead of the burst's (A/B runs at the same rates)")
    parser.add_argument("--fractions", default=",".join(f"{f:g}" for f in FRACTIONS),
                        help="fractions of the accept rate to run, comma-separated (default: 0.1,0.5,0.8,1)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    fractions = tuple(float(f) for f in args.fractions.split(","))
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
        return

    load_start = os.getloadavg()
    receiver, receiver_url = start_receiver()
    tmp = tempfile.TemporaryDirectory(prefix="paymap-steady-")
    results: list[Result] = []
    rss_samples: list[tuple[float, float]] = []
    try:
        ops_port = free_port()  # /metrics is served there, not on the webhook port
        relay, port = start_relay(Path(tmp.name), receiver_url, {}, ops_port=ops_port)
        try:
            time.sleep(1)  # started: then idle, as a relay waiting for its next webhook
            cpu_begin = cpu_seconds(relay.pid)
            time.sleep(IDLE_SECONDS)
            idle = (cpu_seconds(relay.pid) - cpu_begin) / IDLE_SECONDS
            print(f"idle: {idle:.1%} of a core", file=sys.stderr)
            asyncio.run(load(port, "relay", 500, CONNECTIONS, "warm"))
            burst = asyncio.run(load(port, "relay", args.burst, CONNECTIONS, "burst"))
            backlog = queue_now(Path(tmp.name) / "relay.sqlite3")
            accept_rate = args.rate or burst.rate
            print(f"accept rate (burst of {args.burst}, {CONNECTIONS} connections): {burst.rate:,.0f}/s, "
                  f"{backlog:,} left to map or deliver at its end"
                  + (f"; the rates below are fractions of {accept_rate:,.0f}/s" if args.rate else ""),
                  file=sys.stderr)
            time.sleep(3)  # the burst's backlog is mapped and delivered before the first rate
            for fraction in fractions:
                result = measure(relay, port, ops_port, receiver_url, fraction, accept_rate * fraction, args.seconds,
                                 f"s{int(fraction * 100)}")
                results.append(result)
                print(f"{fraction:.0%} ({result.rate:,.0f}/s): p50 {result.pct(0.5):.0f} ms, p99 "
                      f"{result.pct(0.99):.0f} ms, max {result.pct(1.0):.0f} ms, queue max "
                      f"{max(result.queue, default=0)}, delivered {result.delivered_per_s:,.0f}/s, RSS "
                      f"{max(result.rss, default=0):.0f} MB, CPU {result.cpu_us:.0f} µs/webhook, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
            if args.rss_seconds:
                rss_samples = rss_run(relay, port, accept_rate * 0.5, args.rss_seconds)
        finally:
            stop(relay)
    finally:
        stop(receiver)
        tmp.cleanup()
    load_end = os.getloadavg()
    section = report(args, accept_rate, backlog, idle, results, rss_samples, load_start, load_end)
    publish(section, START, END, write=args.write, path=RESULTS)


def report(args: argparse.Namespace, accept_rate: float, backlog: int, idle: float, results: list[Result],
           rss: list[tuple[float, float]],
           load_start: tuple[float, float, float], load_end: tuple[float, float, float]) -> str:
    lines = [
        START,
        "## Steady load (`bench/steady_bench.py`)",
        "",
        f"Measured {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}, {server_kind()}; the relay with its default settings. "
        f"Accept rate = a burst of {args.burst} webhooks on {CONNECTIONS} connections: **{accept_rate:,.0f}/s** "
        f"({backlog:,} of them still to map or deliver when it ended). "
        f"Then {args.seconds:g} s per rate of signed `payment.succeeded` webhooks at a constant rate "
        f"(open loop, {CONNECTIONS} connections) to a receiver answering after {RECEIVER_MS[0]}–{RECEIVER_MS[1]} ms. "
        "Latency = from the relay's 200 to the receiver holding the event (it includes the receiver's "
        "answer time for the events batched behind a request). Queue = webhooks not yet mapped + events "
        "not yet delivered, sampled every second. "
        f"Idle (no webhook for {IDLE_SECONDS:g} s, after start) the relay used {idle:.1%} of a core. Load average (1/5 min) at the start "
        f"{load_start[0]:.1f}/{load_start[1]:.1f}, at the end {load_end[0]:.1f}/{load_end[1]:.1f}: the machine "
        "was shared with other work, so absolute rates vary between runs.",
        "",
        "| rate | webhooks/s | p50 ms | p99 ms | max ms | queue max / last | delivered/s | drain after s "
        "| relay RSS MB | relay CPU µs per webhook | client lateness p99 ms | lost / non-200 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.fraction:.0%} | {r.rate:,.0f} | {r.pct(0.5):.0f} | {r.pct(0.99):.0f} | {r.pct(1.0):.0f} "
            f"| {max(r.queue, default=0)} / {r.queue[-1] if r.queue else 0} | {r.delivered_per_s:,.0f} "
            f"| {r.drain_s:.1f} | {max(r.rss, default=0):.0f} | {r.cpu_us:.0f} | {r.late_p99 * 1000:.0f} | {r.missing} / {r.non_200} |"
        )
    lines += ["", *TODAY, "", *RECORDER, "", *BEHIND, "", *AT_80, "", *BEFORE, "", *LONG_RUN]
    if rss:
        lines += ["", f"RSS over {args.rss_seconds:g} s at 50% of the accept rate (every 10 s): "
                  + ", ".join(f"{mb:.0f}" for _t, mb in rss) + " MB."]
    lines.append(END)
    return "\n".join(lines)


# 2026-12-01: the run above against the runs before it; keep it with the table
TODAY = [
    "The run above (2026-12-01 02:51–02:56 UTC, load 1.7–2.6, a new machine and a quiet one: the bare "
    "endpoint at 20–23 µs per request) met every target: 50% (2,181/s) p99 40 ms, 80% (3,489/s) p99 "
    "207 ms with the queue at most 707. A run ten minutes earlier (not written above; burst 4,696/s): 10% "
    "(470/s) p99 23 ms; 50% (2,348/s) p99 71 ms; 80% (3,757/s) p99 225 ms, queue max 790; 100% p99 "
    "301 ms, 3,969 delivered/s. On the machine before (01:10–01:22 UTC) two runs gave 50% p99 136 ms, a "
    "stall of a few seconds on a busy shared machine (A/B runs at that rate: 71 and 97 ms), and 36 ms. "
    "At 50% of the accept rate the relay spends 400–450 µs of CPU per webhook, about one core, and one "
    "interpreter does all of its work: that is the rate at which a busy neighbour shows first. Idle "
    "(the line above the table), the relay uses 0.2–0.6% of a core: it probes its event loop's lag only "
    "while webhooks come (before: 1.2–1.8%, 100 wake-ups a second). A claim no longer walks the events "
    "waiting for a retry (an index in due order; tests/relay/test_store.py counts its SQLite steps with "
    "100 and 4,000 of them waiting: 11 and 212 hundred-steps before, 6 and 6 after).",
]

# the mapper records one round while it maps the next (issue 15, this session); keep it with the table
RECORDER = [
    "Mapping keeps up (2026-11-30 22:00–22:35 UTC, load 1–2.5). Timed inside the mapper at 1,450/s, its "
    "rounds waited on the store: recording ~30 outcomes took 5 ms at the median (p90 13–19 ms, max 44 ms)"
    " behind the writer's fsynced commits, while mapping them took ~2 ms. The mapper now records a round "
    "in a thread of its own while it maps the next (docs/relay.md, Under load). Alternated, 25 s at a "
    "fixed rate, latency from the 200 to the receiver: at 1,450/s p99 944 / 393 / 892 ms before, 395 / "
    "352 / 408 ms after; at 1,700/s the relay fell behind before (p99 5.1 s and 4.6 s) and kept up after "
    "(359 and 425 ms). A 4000-webhook burst now ends with 200–300 webhooks still to map or deliver "
    "(1,150–1,500 before), so the burst's accept rate is close to what the process sustains "
    "(1,530–1,690/s on this machine, against 1,800–2,500/s before), and the run above meets the targets: "
    "50% p99 73 ms; 80% p99 277 ms with the queue at most 427. A second 60 s run right after (22:30–22:34"
    " UTC, not written above): burst 1,580/s (296 left); 10% p99 29 ms; 50% (790/s) p99 47 ms; 80% "
    "(1,264/s) p99 211 ms, queue max 252; 100% (1,580/s) p99 423 ms, 1,457 delivered/s. At 100% what "
    "gives is the answer rate: the relay answers ~1,450–1,520/s, so the client falls seconds behind its "
    "schedule (client lateness above), while everything answered reaches the receiver within ~0.4 s. At "
    "low rates the CPU per webhook is high (3 ms at 10%: each webhook has its own commit, mapper round "
    "and request, and the threads' hand-offs cost futex calls), about half a core at 170/s on this "
    "machine.",
]


# a relay that falls behind catches up again (issue 15, this session); keep it with the table
BEHIND = [
    "Falling behind and catching up (2026-11-30 21:16–21:24 UTC, load 0.5–2.4, a new and slower machine: "
    "`python -m bench stages` reads about twice the per-stage CPU of the runs below). Asked for 3,600/s for "
    "45 s (`--rate 3600 --fractions 1 --seconds 45`), far above what the process sustains, the relay "
    "delivered 182/s at 1,072 µs of CPU per webhook, and py-spy showed why it never caught up: the mapper's "
    "read of the oldest unmapped webhooks sorted every unmapped row (since the console's migration dropped "
    "the index on `state` alone, SQLite chose the (state, received_at) index and a temporary B-tree), "
    "19 ms per read 100,000 webhooks behind, 29% of the process's samples in that one query in the second "
    "half against 6% in the first. Now the mapper's and the sender's reads name their partial indexes "
    "(`INDEXED BY webhooks_unmapped` / `events_pending`; 0.3 ms at the same depth, a test counts their "
    "SQLite steps at 100 and 4,100 rows); the same run delivered 1,369/s at 638 µs per webhook, and "
    "the profile no longer changes between the first and the second half. PostgreSQL's planner picks the "
    "partial index once the table has statistics (autovacuum's analyze).",
]


# how the 80% target was reached (issue 15), measured at the same absolute rates; keep it with the table
AT_80 = [
    "How the 80% target was reached (2026-11-30 19:16–19:52 UTC, load 2–4). Before: the sender sent one "
    "request at a time (claim, request, mark delivered: ~50 ms per batch of 100 events with this receiver, "
    "instrumented), so delivery stayed at ~1,600–2,000 events/s whatever the accept rate, and the queue that "
    "grew was undelivered events; and the accept rate of a 4000-webhook burst (mapping and delivery deferred "
    "up to 100 ms, lagging after 0.25 s) measured 3,200–6,700/s in consecutive runs of the same code, up to "
    "twice what the process sustains. Changed: up to 4 requests to Inngest in flight while a backlog waits; "
    "the mapper's and sender's commits without an fsync of their own (synchronous=NORMAL unless a received "
    "webhook shares the commit: docs/relay.md, Durability); the outcomes recorded in three statements "
    "instead of three per webhook; deferral bounded at 20 ms and the larger share after 0.1 s (bursts now "
    "measure 2,300–3,900/s). Same absolute rates and harness (`--rate 3500 --fractions 0.8,1`, 20 s): at "
    "2,800/s main delivered 1,617/s (p99 8.6 s, queue 19,600 and growing; at 2,400/s 1,544/s, p99 7.2 s), this "
    "branch 2,715–2,779/s in three runs (p99 269–712 ms, queue max 542–2,071); at 3,500/s both fall behind "
    "(main 1,494, this branch 1,877–1,901 delivered/s). Not enough alone: the store changes without the sender's lanes (2,400/s: "
    "1,518 vs 1,544 delivered/s, the sender was the cap); with them, one pair at 2,800/s gave 2,058/s with "
    "main's store and 2,742/s with the new one.",
    "",
    "A second 60 s run right after (20:03–20:09 UTC, load 0.8–2.3, not written above) did NOT meet the "
    "80% target: the burst measured 4,000/s, and at 3,200/s delivery fell behind (1,456 delivered/s, p99 "
    "41.5 s, queue 102,000) and did not recover: the relay's CPU per webhook rose with the backlog (572 "
    "µs at 80%, 628 µs at 100%, against ~340 µs while it keeps up), so once behind it falls further "
    "behind; 10% p99 25 ms, 50% (2,000/s) p99 162 ms. What the process sustains here is ~2,800/s; the "
    "4000-webhook burst measures 2,300–4,000/s from run to run, so the 80% target holds when the burst "
    "reads below ~3,500/s and not above. Not done: why the cost per webhook grows with the backlog "
    "(suspects: the count-by-state scans behind /metrics, scraped every second by this benchmark, and the "
    "claim's walk over the pending index as it grows).",
    "",
    "A third 60 s run (20:32–20:39 UTC, load 1.1–2.1, the lead's, not written above) measured the burst at 5,138/s: 10% (514/s) p99 25 ms; 50% (2,569/s) p50 100 ms, p99 217 ms, queue max 524 — NOT met; 80% (4,110/s) delivered 1,370/s and fell behind (p99 71 s, queue 160,000; stopped there). So the targets are relative to a burst figure that varies 2× between runs (2,300–5,100/s), while what the process sustains is ~2,800/s: the issue stays open.",
    "",
    "At 3,200/s alone (`--rate 4000 --fractions 0.8`, 30 s, 20:10 UTC) it kept up: 2,984 delivered/s, p99 2.0 s, queue max 3,965, 329 µs per webhook; per thread over 5 s: event loop 1.6–1.7 s of CPU, store writer 1.6 s (0.7 s of it system time), mapper 1.2–1.5 s, the 4 sender lanes 0.3 s together: one interpreter at one core, so the headroom left is in the event loop, the writer and the mapper (its INFO line per webhook is ~25% of its time), not in delivery.",
]

# the full-length RSS run (``--rss-seconds 600``), kept with the table until it is measured again
LONG_RUN = [
    "10-minute run (issue 15's full setting, run on its own 2026-11-30 16:59–17:09 UTC, load 11–13): "
    "~645 webhooks/s (50% of a 1,289/s burst), ~390,000 webhooks; relay RSS every 10 s from 78 MB to "
    "83 MB, the last 3 minutes flat at 83 MB (SQLite's page caches filling; no growth per webhook).",
    " Again with the recorder thread (2026-11-30 22:39–22:50 UTC, load ~1, the slower machine): 689 webhooks/s (50% of a 1,379/s burst) for 600 s, ~413,000 webhooks; relay RSS every 10 s between 81 and 82 MB throughout."
]

# the same benchmark against the policy before issue 15 (keep it with the table; re-measure if it changes)
BEFORE = [
    "Before issue 15 (commit 533d3da: mapping and delivery deferred while webhooks kept arriving, up to ~5 s "
    "of lag), the same benchmark and stack, 8 s per rate, load 7: accept rate 2,211/s; p50 / p99 3,791 / "
    "5,312 ms at 10%, 5,612 / 6,285 ms at 50%, 9,464 / 10,968 ms at 80%, 8,833 / 9,170 ms at 100%; delivered "
    "during the run 84, 280, 269 and 249 per second (queue max 1,154 / 6,264 / 11,772 / 15,377). After, in "
    "the same conditions (8 s per rate, load 6): p50 / p99 15 / 78 ms at 10%, 23 / 115 ms at 50%, "
    "249 / 669 ms at 80%, 1,725 / 2,978 ms at 100%, delivered 174, 869, 1,344 and 1,066 per second.",
]


if __name__ == "__main__":
    main()
