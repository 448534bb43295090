"""Relay benchmark: accepted webhooks/s and answer latency vs a bare ASGI endpoint, same server, same run.

Both servers are uvicorn (one worker, same settings) in their own process on 127.0.0.1; the load
comes from one asyncio client process with keep-alive connections that sends the same signed
``payment.succeeded`` webhooks (fresh ``webhook-id`` each) to both. The bare endpoint reads the body
and answers 200; the relay verifies the signature, commits the raw webhook to SQLite (WAL,
synchronous=FULL, so every 200 is on disk) and answers. End-to-end: time until the relay has
delivered every mapped event to the Inngest test double (tests/relay/inngest_double.py).

Two reference servers run in the same rounds (``--no-ceilings`` leaves them out), to say where the
relay's time goes: "bare + commit" is the bare endpoint that also stores each body through the
relay's own group-commit writer (``SQLiteStore.accept``: WAL, synchronous=FULL, 200 after the commit;
no signature, no JSON check, no logging, no mapping), the ceiling of any relay that answers after a
durable commit; "accept path" is the relay itself with its mapper and sender not started. A third,
"split", is the relay as two processes sharing one SQLite file: the accept path in one, mapping and
delivery in the other (a relay whose receive path answers nothing; its loops find the webhooks by
polling every 10 ms): what moving that work out of the receiving process would buy.

Run: ``.venv/bin/python -m bench relay`` (``--write`` puts the figures in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DOUBLE = ROOT / "tests" / "relay" / "inngest_double.py"
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- relay:start -->", "<!-- relay:end -->"
SECRET = "whsec_" + base64.b64encode(b"paymap relay benchmark 32 bytes!").decode()
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
BODY = (ROOT / "samples" / "dodo" / "payment.succeeded.json").read_bytes()


# ------------------------------------------------------------------ the bare endpoint
async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The baseline: read the whole body, answer a small JSON 200 (what any endpoint must do)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"status":"accepted"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def serve_bare(port: int) -> None:
    import uvicorn

    # the same uvicorn settings as `paymap serve` (runtime/relay/server.py): http and loop "auto", so
    # both servers use httptools/uvloop if installed and h11/asyncio otherwise; no proxy-headers middleware
    uvicorn.run(bare_app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on",
                proxy_headers=False)


def serve_commit(port: int, db: str) -> None:
    """The bare endpoint plus one durable commit per request through the relay's group-commit writer."""
    import uvicorn

    from runtime.relay.store import IncomingWebhook
    from runtime.relay.store_sqlite import SQLiteStore

    store = SQLiteStore(db)
    kept = {"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}

    async def commit_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await bare_app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        webhook_id = headers.get("webhook-id") or f"anon-{time.time_ns()}"
        await store.accept(IncomingWebhook(webhook_id, {k: v for k, v in headers.items() if k in kept},
                                           b"".join(chunks), time.time()))
        body = b'{"status":"accepted"}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(commit_app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on",
                proxy_headers=False)


def serve_accept_only(argv: list[str]) -> int:
    """``paymap serve`` with the mapper and sender never started: the receive path on its own."""
    from runtime.cli import main as cli_main
    from runtime.relay import worker

    def idle(self: Any, *_args: Any, **_kwargs: Any) -> None:
        return None

    worker._Loop.start = idle  # type: ignore[method-assign]
    worker._Loop.stop = idle  # type: ignore[method-assign]
    return cli_main(argv)


def server_kind() -> str:
    """What uvicorn's "auto" picks in this environment (the same for both servers)."""
    import importlib.util

    import uvicorn

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn {uvicorn.__version__}, 1 worker, {http} HTTP parser, {loop} event loop"


def thread_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by a process: (its main thread, all its other threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    main = other = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(tid) == pid:
            main += seconds
        else:
            other += seconds
    return main, other


def measured(proc: subprocess.Popen[Any], port: int, label: str, total: int, concurrency: int, prefix: str) -> Run:
    before = thread_cpu(proc.pid)
    run = asyncio.run(load(port, label, total, concurrency, prefix))
    after = thread_cpu(proc.pid)
    run.cpu_main, run.cpu_other = after[0] - before[0], after[1] - before[1]
    return run


# ------------------------------------------------------------------ load
@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    latencies: list[float]
    non_200: int
    cpu_main: float = 0.0  # server CPU seconds during the run: the event loop's thread
    cpu_other: float = 0.0  # ... and every other thread of the server (store writer, mapper, sender)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def request_bytes(port: int, webhook_id: str, body: bytes = BODY) -> bytes:
    """A signed webhook as raw HTTP/1.1; the Standard Webhooks signature computed here directly (the
    steady-load client signs each request as it sends it, so signing must cost the client little)."""
    ts = str(int(time.time()))
    mac = hmac.new(KEY, f"{webhook_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    head = (
        f"POST /webhooks/dodo HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nwebhook-id: {webhook_id}\r\n"
        f"webhook-timestamp: {ts}\r\nwebhook-signature: v1,{base64.b64encode(mac).decode()}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def load(ports: int | Sequence[int], label: str, total: int, concurrency: int, prefix: str) -> Run:
    """``total`` webhooks on ``concurrency`` keep-alive connections, each sent as soon as the connection's
    previous one is answered; several ``ports``: the connections spread over them (a load balancer)."""
    spread = [ports] if isinstance(ports, int) else list(ports)
    # requests are built (and signed) before the clock starts: we measure the server, not HMAC here
    payloads = [request_bytes(spread[i % len(spread)], f"{prefix}_{i:06d}") for i in range(total)]
    latencies: list[float] = []
    non_200 = 0
    next_index = 0

    async def worker(port: int) -> None:
        nonlocal next_index, non_200
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < total:
                i = next_index
                next_index += 1
                t0 = time.perf_counter()
                writer.write(payloads[i])
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    non_200 += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(spread[c % len(spread)]) for c in range(concurrency)))
    return Run(label, total, time.perf_counter() - started, latencies, non_200)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"nothing answered at {url}")


def start_double() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(DOUBLE), "--port", "0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}"


def start_bare() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc, port


def start_commit(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-commit", str(port), str(workdir / "commit.sqlite3")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc, port


def start_relay(
    workdir: Path, double_url: str, extra: dict[str, str], *, accept_only: bool = False, ops_port: int | None = None,
    db: Path | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """The relay on a free port (returned); readiness and /metrics on ``ops_port`` (free if not given); its
    store ``db`` (default: ``relay.sqlite3`` in ``workdir``)."""
    port, ops_port = free_port(), ops_port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMAP_", "INNGEST_", "DODO_PAYMENTS_"))}
    env.update({"DODO_PAYMENTS_WEBHOOK_KEY": SECRET, "PAYMAP_DB": str(db or workdir / "relay.sqlite3"),
                "PAYMAP_PORT": str(port), "PAYMAP_OPS_PORT": str(ops_port), "INNGEST_DEV": double_url,
                "PAYMAP_WATCH": "0", **extra})
    log = (workdir / "relay.log").open("wb")
    entry = ("import sys; from bench.relay_bench import serve_accept_only; sys.exit(serve_accept_only(sys.argv[1:]))"
             if accept_only else "import sys; from runtime.cli import main; sys.exit(main())")
    proc = subprocess.Popen(
        [sys.executable, "-c", entry, "serve", str(ROOT / "mappings")],
        env=env, stdout=log, stderr=log, cwd=ROOT,
    )
    wait_http(f"http://127.0.0.1:{ops_port}/readyz")
    return proc, port


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def delivered_count(double_url: str) -> int:
    count: int = httpx.get(double_url + "/_control/count", timeout=30).json()["events"]
    return count


def wait_delivered(double_url: str, expected: int) -> None:
    deadline = time.monotonic() + 600
    while delivered_count(double_url) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {delivered_count(double_url)} of {expected} events delivered within 10 minutes")
        time.sleep(0.01)


# ------------------------------------------------------------------ main
@dataclass
class Row:
    concurrency: int
    bare: list[Run]
    relay: list[Run]
    e2e: list[float]  # delivered/s per round
    commit: list[Run] = field(default_factory=list)  # the bare endpoint + one group commit (ceilings)
    accept: list[Run] = field(default_factory=list)  # the relay without mapper and sender (ceilings)
    split: list[Run] = field(default_factory=list)  # accept path and mapping + delivery in two processes

    @staticmethod
    def best(runs: list[Run]) -> Run:
        return max(runs, key=lambda r: r.rate)

    @property
    def paired_ratios(self) -> list[float]:
        return self.ratios(self.relay)

    def ratios(self, runs: list[Run]) -> list[float]:
        """Each round's rate over the bare endpoint's in the same round."""
        return [r.rate / b.rate for b, r in zip(self.bare, runs, strict=True)]


def us_per(runs: list[Run], attr: str) -> float:
    return float(statistics.median(float(getattr(r, attr)) / r.requests * 1e6 for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=4000, help="webhooks per measured run (default 4000)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64], help="connections (default 16 64)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra relay setting for experiments (figures are then not the defaults)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per concurrency (default 5)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    parser.add_argument("--no-ceilings", action="store_true",
                        help="leave out the reference servers (bare + commit, the relay's accept path alone)")
    parser.add_argument("--serve-commit", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if args.serve_commit:
        serve_commit(int(args.serve_commit[0]), args.serve_commit[1])
        return
    ceilings = not args.no_ceilings

    load_start = os.getloadavg()[0]
    if load_start > 0.8:
        print(f"warning: load average {load_start:.1f}: other work competes for the CPUs, figures will be noisy",
              file=sys.stderr)
    double, double_url = start_double()
    rows: list[Row] = []
    extra = dict(e.split("=", 1) for e in args.env)
    try:
        for conc in args.concurrency:
            bare, bare_port = start_bare()
            tmp = tempfile.TemporaryDirectory(prefix="paymap-bench-")
            relay, relay_port = start_relay(Path(tmp.name), double_url, extra)
            refs: list[tuple[subprocess.Popen[bytes], int]] = []
            row = Row(conc, [], [], [])
            try:
                if ceilings:
                    split = Path(tmp.name) / "split"
                    for sub in (Path(tmp.name) / "accept", split, split / "loops"):
                        sub.mkdir()
                    refs = [start_commit(Path(tmp.name)),
                            start_relay(Path(tmp.name) / "accept", double_url, extra, accept_only=True),
                            start_relay(split, double_url, extra, accept_only=True),
                            start_relay(split / "loops", double_url, {**extra, "PAYMAP_POLL_SECONDS": "0.01"},
                                        db=split / "relay.sqlite3")]
                asyncio.run(load(bare_port, "bare", 500, conc, f"warm{conc}"))
                delivering = 1 + bool(refs)  # the relay and the split's loops deliver their warm-up
                expected = delivered_count(double_url) + 500 * delivering
                for _proc, port in refs[:3]:  # the fourth is the split's loops: they receive nothing
                    asyncio.run(load(port, "ref", 500, conc, f"warm{conc}"))
                asyncio.run(load(relay_port, "relay", 500, conc, f"warm{conc}"))
                wait_delivered(double_url, expected)  # both are idle again before anything is measured
                for round_ in range(args.rounds):  # interleaved, so a noisy neighbour hits both alike
                    row.bare.append(measured(bare, bare_port, "bare", args.requests, conc, f"b{conc}_{round_}"))
                    if refs:
                        row.commit.append(measured(refs[0][0], refs[0][1], "commit", args.requests, conc,
                                                   f"c{conc}_{round_}"))
                        row.accept.append(measured(refs[1][0], refs[1][1], "accept", args.requests, conc,
                                                   f"a{conc}_{round_}"))
                        expected = delivered_count(double_url) + args.requests
                        row.split.append(measured(refs[2][0], refs[2][1], "split", args.requests, conc,
                                                  f"s{conc}_{round_}"))
                        wait_delivered(double_url, expected)  # delivered before the relay's round counts
                    expected = delivered_count(double_url) + args.requests
                    t0 = time.perf_counter()
                    row.relay.append(measured(relay, relay_port, "relay", args.requests, conc, f"r{conc}_{round_}"))
                    wait_delivered(double_url, expected)
                    row.e2e.append(args.requests / (time.perf_counter() - t0))
                    refs_line = (f"bare + commit {row.ratios(row.commit)[-1]:.0%}, accept path "
                                 f"{row.ratios(row.accept)[-1]:.0%}, split {row.ratios(row.split)[-1]:.0%}, "
                                 if refs else "")
                    print(f"{conc} connections, round {round_ + 1}: bare {row.bare[-1].rate:,.0f}/s, {refs_line}relay "
                          f"{row.relay[-1].rate:,.0f}/s ({row.paired_ratios[-1]:.0%}), p99 {row.relay[-1].pct(0.99):.1f} ms, "
                          f"end-to-end {row.e2e[-1]:,.0f}/s, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
            finally:
                stop(bare)
                stop(relay)
                for proc, _port in refs:
                    stop(proc)
                tmp.cleanup()
            rows.append(row)
    finally:
        stop(double)
    load_end = os.getloadavg()[0]

    lines = [
        START,
        "## Relay (`bench/relay_bench.py`)",
        "",
        f"Measured {datetime.now(tz=UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}, {server_kind()} for both servers (the same settings). "
        f"{args.requests} signed `payment.succeeded` webhooks per run from one asyncio client process with "
        f"keep-alive connections; the bare endpoint and the relay in the same run, {args.rounds} interleaved "
        "rounds per row (bare, then relay, then wait until the relay has delivered everything). The relay "
        "verifies the signature and commits raw body + headers to SQLite (WAL, synchronous=FULL) before its 200, "
        "with the default settings (INFO JSON logs on); mapping and delivery run in the same process "
        "(stepping aside only while the receive path is saturated). End-to-end = from the first request of a round "
        "until the Inngest test double has every mapped event. Load average (1 min) at the start "
        f"{load_start:.1f}, at the end {load_end:.1f}.",
        "",
        "| connections | bare: req/s | relay: accepted/s | ratio | ratio, median of rounds "
        "| bare p50 / p99 ms | relay p50 / p99 ms | relay p99, worst round | end-to-end delivered/s | ratio to bare |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        b, r = Row.best(row.bare), Row.best(row.relay)
        lines.append(
            f"| {row.concurrency} | {b.rate:,.0f} | {r.rate:,.0f} | {r.rate / b.rate:.0%} "
            f"| {statistics.median(row.paired_ratios):.0%} "
            f"| {b.pct(0.5):.1f} / {b.pct(0.99):.1f} | {r.pct(0.5):.1f} / {r.pct(0.99):.1f} "
            f"| {max(x.pct(0.99) for x in row.relay):.1f} | {max(row.e2e):,.0f} | {max(row.e2e) / b.rate:.0%} |"
        )
        bad_bare, bad_relay = sum(x.non_200 for x in row.bare), sum(x.non_200 for x in row.relay)
        if bad_bare or bad_relay:
            lines.append(f"| (non-200 answers: bare {bad_bare}, relay {bad_relay}) |||||||||")
    lines += ["", "Best round of each server shown (the machine is shared, so rounds vary); server CPU per "
              "request during the runs (median of rounds):", ""]
    for row in rows:
        lines.append(
            f"- {row.concurrency} connections: bare {us_per(row.bare, 'cpu_main'):.0f} µs; relay event loop "
            f"{us_per(row.relay, 'cpu_main'):.0f} µs + other threads {us_per(row.relay, 'cpu_other'):.0f} µs "
            "(store writer, mapper and sender)"
        )
    if all(row.commit for row in rows):
        lines += [
            "",
            "Ceilings, the same rounds (medians of each round's ratio to the bare endpoint in that round; CPU per "
            "request, medians of rounds, event loop + other threads): \"bare + commit\" = the bare endpoint that also "
            "stores each body through the relay's group-commit writer (`SQLiteStore.accept`, WAL, synchronous=FULL, "
            "200 after the commit) and does nothing else; \"accept path\" = the relay with its mapper and sender "
            "not started; \"split\" = the relay as two processes on one SQLite file, the accept path in one (its "
            "CPU shown) and mapping + delivery in the other, every webhook delivered before the next round.",
            "",
            "| connections | bare + commit | accept path | split | relay | bare µs | bare + commit µs | accept path µs "
            "| split (receiving process) µs | relay µs |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            def cpu(runs: list[Run]) -> str:
                return f"{us_per(runs, 'cpu_main'):.0f} + {us_per(runs, 'cpu_other'):.0f}"

            lines.append(
                f"| {row.concurrency} | {statistics.median(row.ratios(row.commit)):.0%} "
                f"| {statistics.median(row.ratios(row.accept)):.0%} | {statistics.median(row.ratios(row.split)):.0%} "
                f"| {statistics.median(row.paired_ratios):.0%} | {us_per(row.bare, 'cpu_main'):.0f} | {cpu(row.commit)} "
                f"| {cpu(row.accept)} | {cpu(row.split)} | {cpu(row.relay)} |"
            )
    ratios = [Row.best(row.relay).rate / Row.best(row.bare).rate for row in rows]
    p99s = {row.concurrency: Row.best(row.relay).pct(0.99) for row in rows}
    lines += [
        "",
        f"Targets (issues 5 and 15, on the default stack): accepted ≥ 50% of the bare rate — {'met' if min(ratios) >= 0.5 else 'NOT met'} "
        f"(best rounds {', '.join(f'{x:.1%}' for x in ratios)}; medians of rounds "
        f"{', '.join(f'{statistics.median(row.paired_ratios):.1%}' for row in rows)}); relay p99 < 50 ms under load — "
        + ", ".join(f"{'met' if p < 50 else 'NOT met'} at {c} connections ({p:.0f} ms)" for c, p in p99s.items())
        + ".",
        "",
        *ANALYSIS,
        END,
    ]
    section = "\n".join(lines)
    # imported here: this file also runs as a script (--serve-bare), without the package
    from bench.results import publish

    publish(section, START, END, write=args.write, path=RESULTS)


# the standing analysis under the table (see docs/relay.md, "Performance"); keep it true when the code changes
ANALYSIS = [
    "Since issue 15 the default install runs on uvloop + httptools (`uvicorn[standard]`), and mapping and "
    "delivery no longer wait for a burst to end: they step aside only while the receive path is measurably "
    "saturated (event loop 10 ms late, or on average 8 webhooks waiting for their commit), for at most "
    "20 ms, and take about two thirds of the time once their backlog is 0.1 s old. In a closed-loop burst "
    "like this one they therefore run beside the receive path (the other threads' CPU per webhook above "
    "includes them: mapping ~40 µs, recording the outcome ~60 µs, delivery ~55 µs per event, "
    "`python -m bench stages`), so the accepted rate is lower than when they waited for the burst to end, "
    "and end-to-end is close to it.",
    "",
    "**2026-12-01 (02:46 UTC, load 0.9–1.3, a new machine and a quiet one: the bare endpoint at 20–23 µs "
    "per request, 30k–42k requests/s).** The relay 10% / 12% of the bare rate (medians of rounds), p99 "
    "17 / 30 ms. The ceilings, per round: bare + commit 26–42% at 16 connections and 43–58% at 64 (medians "
    "31% / 51%); the accept path alone 19–30% and 26–37%. So an endpoint that does nothing but commit "
    "each body durably before its 200, through the relay's own writer, stays under half the bare rate at "
    "16 connections and reaches it at 64 in some rounds only. With the steady-load target the 50% target "
    "asks more still: 80% of an accept rate of half the bare rate, sustained, is ~15,000 webhooks/s mapped "
    "and delivered here, ~65 µs of interpreter time per webhook for HTTP, the signature, the durable "
    "commit, mapping, recording and delivery together; HTTP and the durable commit alone take ~75 µs "
    "(bare + commit: 40 + 33 µs at 16 connections, 33 + 18 µs at 64), and the relay ~265 µs at 100% of "
    "its accept rate (steady load, below). The target is therefore reported as not reachable on this "
    "machine (issue 15's closing note); `python -m bench relay` measures it again on yours.",
    "",
    "**The signature check and the interpreter lock (2026-12-01 03:55 UTC, the same machine).** A native "
    "profile of the event loop at 2,200 webhooks/s (py-spy `--native`) showed the HMAC's update handing "
    "the interpreter lock over: hashlib lets go of it for 2,048 bytes or more, and most of Dodo's bodies "
    "are larger (payment.succeeded: 2,284 bytes), so the event loop then waited for a busy mapper or "
    "writer to give it back (with one busy thread, a 2,048-byte HMAC took 105 µs against 2 µs for "
    "2,047). The body is now hashed in pieces of 2,047 bytes. Alternated, 3 rounds each (`--no-ceilings "
    "--rounds 3`), best rounds after / before: 4,100 and 4,142 / 3,942 and 3,935 accepted/s at 16 "
    "connections, 5,927 and 5,642 / 5,158 and 5,506 at 64; end-to-end 3,781 and 3,820 / 3,627 and "
    "3,586, and 4,595 and 4,579 / 4,456 and 4,421 delivered/s.",
    "",
    "**2026-12-01 (01:08 UTC, load 0.4–1.4, the same machine, faster this hour: the bare endpoint at "
    "35–45 µs per request).** The relay 9% / 14% of the bare rate (medians of rounds), its p99 25 / 45 ms "
    "in the best rounds (57 ms in the worst at 64 connections). New reference, \"split\": the accept path "
    "in one process and mapping + delivery in a second relay process on the same SQLite file, i.e. the "
    "architecture change the 50% target would seem to need. It does not get there on this machine: 11% / "
    "18% (per round 10–18% and 15–22%), against 29% / 46% for the accept path alone, although its "
    "receiving process spends the same CPU per webhook as the accept path alone (105 + 53 against 98 + 45 "
    "µs at 16 connections). What holds it back is what it shares: the second process's commits take the "
    "same SQLite write lock as the received webhooks' (each waits for the other), and its CPU comes "
    "from the same 2 cores as the client's and the Inngest double's. A split would pay on a machine with "
    "cores to spare and a store whose writers do not queue behind one lock (PostgreSQL: "
    "`python -m bench cluster`); here the ceiling for any relay that answers after a durable commit is "
    "bare + commit, 38% / 54%.",
    "",
    "**This session (2026-11-30 22:30–22:40 UTC, a new machine about half as fast per request: the bare "
    "endpoint's CPU per request 60–70 µs against 28 µs above it earlier in the day, and its rate varying "
    "10k–20k/s between runs minutes apart).** The relay 11% / 13% of the bare rate (medians of rounds). "
    "Since the table before, the mapper records a round in a thread of its own while it maps the next "
    "(docs/relay.md, Under load), so during a burst it keeps up instead of waiting on the writer: a "
    "4000-webhook burst now ends with ~200–300 webhooks still to map or deliver instead of ~1,150–1,500 "
    "(`python -m bench steady`), end-to-end is ~95% of the accepted rate, and the steady-load targets are"
    " met. The accepted rate is about what it was: alternated on this machine, 3 rounds each (`--no-"
    "ceilings --rounds 3`), before / after: 1,317 and 1,567 / 1,329 and 1,386 accepted/s at 16 "
    "connections, 1,728 and 1,844 / 1,682 and 1,571 at 64; relay p99 at 64 connections 61 and 57 ms / 75 "
    "and 63 ms, so the 50 ms answer target of issue 5 is missed on this machine at 64 connections with "
    "either version (it held at 24 ms on the faster one).",
    "",
    "**Why the 50% target is not met (measured 2026-11-30 18:25–18:50 UTC, load 4–7 from other jobs; "
    "3–5 interleaved rounds per figure, medians of the per-round ratios).** (1) One interpreter does all "
    "the Python work: the relay's rate follows its CPU per webhook summed over its threads (on the lead's "
    "quiet run, load 0.6: 1 / (88 + 125 µs) = 4.7k/s at 16 connections, measured 4.7k/s; 1 / (65 + 50 µs) "
    "= 8.7k/s at 64, measured 8.6–11.2k/s), while the bare endpoint costs ~30–40 µs. Reaching half of it "
    "needs ≤ ~65 µs per webhook in all threads; the accept path alone spends ~90 µs on the event loop "
    "(uvicorn's HTTP work as in the bare endpoint, ~25 µs of the relay's own checks — measured in-process "
    "with a store that answers at once — and ~25 µs for waiting on the commit: a future, the task's "
    "suspension and resumption, the writer's hand-over) plus ~20–50 µs in the writer, and mapping + "
    "recording + delivery ~150 µs more (in rounds of 60–80 webhooks during the burst: larger batches would "
    "not help). (2) The ceilings above: the bare endpoint that does nothing but commit each body through the "
    "same group-commit writer reached 23–32% of the bare rate at 16 connections and 40–59% at 64; the "
    "relay's accept path without mapper and sender 15–39% at 16 and 35–56% at 64; the relay 10–21% and "
    "17–27%. At 16 connections only 16 requests are in flight: the writer commits about 8 at a time (the "
    "other 8 arrive while it commits), and on this shared disk an fsync takes 0.18 ms at the median but 4 ms "
    "at p90 (an 8-row SQLite commit 0.38 / 4.0 ms). Instrumented in the writer at 16 connections: the hand-over "
    "to the writer 0.25–0.3 ms median (p90 2.3–2.5 ms), the INSERT with its commit 0.9–1.5 ms median (p90 "
    "3.5–4 ms), the way back to the event loop 0.14–0.24 ms; so the accept path there is bound by commit "
    "latency and scheduling, and even a bare endpoint with one durable commit stays under 50%. At 64 "
    "connections the accept path alone is near 50%, and what separates the relay from it is mapping and "
    "delivery sharing the interpreter; deferring them more during a burst raises the burst figure only by "
    "postponing the same CPU, which the steady-load targets (80% of this accept rate sustained with "
    "p99 < 1 s) then cannot absorb: end-to-end (event loop ~100 µs + writer ~45 + mapping and recording ~90 + delivery "
    "~55 ≈ 290 µs per webhook) the process sustains about 3.4k webhooks/s on one core. Durability is not traded: every 200 follows a commit with synchronous=FULL.",
    "",
    "Tried in this session and not kept (relay vs bare in the same runs, ratio medians; load 5–7): "
    "`sys.setswitchinterval` 0.5 ms and 0.1 ms (accept path alone 30% / 30% / 27% at 16 connections with "
    "5 / 0.5 / 0.1 ms, 56% / 50% at 64; relay 18% / 14% / 17%; the writer's hand-over and commit latencies "
    "unchanged, so the waits are the scheduler and the disk, not the interpreter lock's switch interval); "
    "the deferral thresholds (8 → 4 webhooks waiting, or 10 → 3 ms loop lag: 16% / 14% / 16% at 16 "
    "connections) and a smaller share for mapping under sustained saturation (a quarter instead of two "
    "thirds, with 4 waiting: 21% vs 16% at 16 connections, 21% vs 27% at 64 — within the noise, and it "
    "would push the steady-load 80% rate past what the process sustains); committing received webhooks in a "
    "transaction of their own ahead of the mapper's and sender's writes (15% vs 21%); letting mapper and "
    "sender rounds gather ~32 items when items arrive at ≥ 1000/s (no change: rounds already hold 60–80); "
    "background checkpoints every 2 s instead of 0.2 s (accept path alone 42% vs 33% at 16 connections, 55% "
    "vs 56% at 64; the relay with mapping 20% vs 20%: no gain where it counts); INFO logs off "
    "(PAYMAP_LOG_LEVEL=WARNING: 15–20 µs less per webhook in the other threads, ratio 18% vs 18% at 16, "
    "30% vs 26% at 64; the figures use the defaults).",
    "",
    "Same run conditions (load 7–8, 3 rounds, uvloop + httptools for both) with the policy before issue 15 "
    "(commit 533d3da: mapping deferred while webhooks arrive): accepted 2,574/s and 3,275/s at 16 / 64 "
    "connections (best rounds; 17% / 33% of that run's bare rate, medians 15% / 49%), p99 25 / 80 ms, but "
    "end-to-end 1,062 / 877 delivered/s. Before issue 15 on the pure-Python stack (load 0.4–1.0): 47% / 55%, "
    "p99 8 / 20 ms. Tried earlier and not kept (measured): SQLite writes in the event loop's thread (the "
    "fsync blocks the loop), verification and the JSON check in the writer thread, a writer process, a "
    "0.5 ms group-commit window.",
]


if __name__ == "__main__":
    main()
