"""CPU µs per webhook in each stage of the relay, measured in one process (no HTTP server).

Stages: verify (the signature check), JSON (the receive path's JSON check), accept (the hand-over
to the store's writer and the commit, every thread's CPU), map (``map_webhook``), record (the
mapping outcome and its events committed), send (claim, the Event API request to a local receiver,
mark delivered; every thread's CPU). HTTP is not here: ``python -m bench relay`` reports the bare
endpoint's CPU per request. The same script runs against an older checkout (it uses only APIs
that existed before issue 15) for the before/after figures.

Run: ``.venv/bin/python -m bench stages`` (``--n`` webhooks per stage, best of ``--rounds``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.server
import json
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BODY = (ROOT / "samples" / "dodo" / "payment.succeeded.json").read_bytes()
SECRET = "whsec_" + base64.b64encode(b"paymap relay benchmark 32 bytes!").decode()


def cpu() -> float:
    return time.process_time()  # every thread of this process


def per_item(fn: Callable[[], int], rounds: int) -> float:
    """Best of ``rounds``: CPU µs per item (``fn`` returns how many items it handled)."""
    best = float("inf")
    for _ in range(rounds):
        t0 = cpu()
        n = fn()
        best = min(best, (cpu() - t0) / n * 1e6)
    return best


class _Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        body = b'{"ids":[],"status":200}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="webhooks per stage and round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from standardwebhooks import Webhook

    from runtime import load
    from runtime.relay import app as relay_app
    from runtime.relay.inngest import InngestSender
    from runtime.relay.mapping import map_webhook
    from runtime.relay.store import IncomingWebhook
    from runtime.relay.store_sqlite import SQLiteStore
    from runtime.relay.verify import Verifier

    n = int(args.n)
    now = datetime.now(tz=UTC)
    hook = Webhook(SECRET)
    headers = [{"host": "127.0.0.1", "content-type": "application/json", "content-length": str(len(BODY)),
                "webhook-id": f"msg_{i:08d}", "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": hook.sign(f"msg_{i:08d}", now, BODY.decode())} for i in range(n)]
    verifier = Verifier([SECRET])
    figures: dict[str, float] = {}

    def verify() -> int:
        for h in headers:
            verifier.verify(BODY, h)
        return n

    def json_check() -> int:
        for _ in range(n):
            relay_app._json_error(BODY)
        return n

    figures["verify"] = per_item(verify, args.rounds)
    figures["JSON check"] = per_item(json_check, args.rounds)

    mappings = load(ROOT / "mappings")
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "relay.sqlite3")
        counter = iter(range(10**9))

        def accept() -> int:
            async def run() -> None:
                batch = 64  # like 64 connections: that many wait on a commit at once
                for start in range(0, n, batch):
                    await asyncio.gather(*(
                        store.accept(IncomingWebhook(f"w{next(counter)}", headers[i % n], BODY, time.time()))
                        for i in range(start, min(n, start + batch))))
            asyncio.run(run())
            return n

        figures["accept (hand-over + commit)"] = per_item(accept, args.rounds)
        pending = store.unmapped(n)

        def mapping() -> int:
            for w in pending:
                map_webhook(mappings, w, event_max_bytes=256 * 1024)
            return len(pending)

        figures["map"] = per_item(mapping, args.rounds)

        def record() -> int:
            done = 0
            while batch := store.unmapped(100):
                store.record_mappings([(w.seq, w.generation, map_webhook(mappings, w, event_max_bytes=256 * 1024))
                                       for w in batch])
                done += len(batch)
            return done

        t0 = cpu()
        recorded = record()
        map_cost = figures["map"]
        figures["record"] = (cpu() - t0) / max(1, recorded) * 1e6 - map_cost

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sender = InngestSender(f"http://127.0.0.1:{server.server_address[1]}", "key", timeout=10)

        def send() -> int:
            done = 0
            while batch := store.claim("bench", 100, 3_000_000, 60):
                if sender.send([e.payload for e in batch]).status != 200:
                    raise SystemExit("the local receiver refused a batch")
                store.mark_delivered([e.seq for e in batch], "bench")
                done += len(batch)
            return done

        t0 = cpu()
        sent = send()
        figures["send (claim + request + mark, per event)"] = (cpu() - t0) / max(1, sent) * 1e6
        sender.close()
        server.shutdown()
        store.close()

    width = max(len(k) for k in figures)
    for stage, us in figures.items():
        print(f"{stage:<{width}}  {us:7.1f} µs")
    print(json.dumps({k: round(v, 1) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
