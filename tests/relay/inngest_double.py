"""A TEST DOUBLE of the Inngest Event API — not Inngest.

It implements Inngest's documented Event API (``POST /e/{key}``; body one event object or an
array; the per-event rules are :mod:`runtime.relay.contract`, the one statement of them that the
relay's local check runs too; at most 5000 events per request; events are handled
one at a time, so on a 400 the earlier events of the array are already accepted; success is
``200 {"ids": [...], "status": 200}``; an unknown key is ``401 {"error": "Event key not found"}``).
It is a separate process on 127.0.0.1 built on the standard library's HTTP server, so the relay
talks to it over real HTTP exactly as it would to Inngest.

Test hooks (not part of Inngest), under ``/_control``:
  POST /_control/config   {"keys": [..] | null, "max_request_bytes": n | null,
                           "max_event_bytes": n, "reject_names": [..]}
                           keys null = accept any key (like the dev server); a request body over
                           max_request_bytes gets 413 "Event payload too large" (as Inngest Cloud);
                           reject_names: names rejected with a 400 (a server-side rule the relay
                           cannot check locally); response_delay_ms: answer /e/ only after
                           recording the events and waiting this long (widens the window in
                           which a crashed sender has been accepted but not yet told so).
  POST /_control/script   {"responses": [{"status": 503, "body": {...}, "headers": {...}, "count": 2}]}
                           canned answers for the next requests to /e/, consumed in order
                           (those requests record nothing).
  GET  /_control/received {"events": [every accepted event, duplicates included], "requests": [...]}
                           (each request: status, bytes, and the x-inngest-event-id-seed header)
  GET  /_control/count    {"events": n, "requests": n} (cheap to poll, e.g. by the benchmark)
  POST /_control/reset

Run: ``python inngest_double.py --port N`` (prints ``READY <port>`` when listening).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runtime.relay import contract

MAX_EVENTS = contract.MAX_EVENTS_PER_REQUEST


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.keys: list[str] | None = None
        self.max_request_bytes: int | None = None
        self.max_event_bytes = 3 * 1024 * 1024
        self.reject_names: set[str] = set()
        self.response_delay_ms = 0
        self.script: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []


STATE = State()


def check_event(event: Any, max_bytes: int) -> str | None:
    """The contract's per-event rules (shared with the relay), then this double's configured refusals."""
    violation = contract.check_event(event, max_bytes=max_bytes)
    if violation is not None:
        return violation.server
    if event["name"] in STATE.reject_names:
        return f"Event {event['name']!r} rejected by the test configuration"
    return None


def _not_json(token: str) -> Any:
    raise ValueError(f"invalid character {token[0]!r} looking for beginning of value")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the relay's httpx client expects
    # headers and body go out in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms per request on Linux), which no real server adds
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-inngest-server-kind", "dev")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, {"status": 200})
        elif self.path == "/_control/received":
            with STATE.lock:
                self._send(200, {"events": list(STATE.events), "requests": list(STATE.requests)})
        elif self.path == "/_control/count":
            with STATE.lock:
                self._send(200, {"events": len(STATE.events), "requests": len(STATE.requests)})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self._body()
        if self.path.startswith("/_control/"):
            self._control(self.path.removeprefix("/_control/"), body)
            return
        if not self.path.startswith("/e/"):
            self._send(404, {"error": "not found"})
            return
        key = self.path.removeprefix("/e/")
        with STATE.lock:
            if STATE.script:
                canned = STATE.script[0]
                canned["count"] = canned.get("count", 1) - 1
                if canned["count"] <= 0:
                    STATE.script.pop(0)
                STATE.requests.append({"status": canned["status"], "canned": True, "bytes": len(body),
                                       "seed": self.headers.get("x-inngest-event-id-seed")})
                self._send(canned["status"], canned.get("body", {"status": canned["status"]}), canned.get("headers"))
                return
            status, answer = self._ingest(key, body)
            STATE.requests.append({"status": status, "accepted": len(answer.get("ids", [])), "bytes": len(body),
                                   "seed": self.headers.get("x-inngest-event-id-seed")})
            delay = STATE.response_delay_ms / 1000
        if delay:
            time.sleep(delay)
        self._send(status, answer)

    def _ingest(self, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if STATE.keys is not None and key not in STATE.keys:
            return 401, {"status": 401, "message": "", "error": "Event key not found"}
        if STATE.max_request_bytes is not None and len(body) > STATE.max_request_bytes:
            return 413, {"status": 413, "error": "Event payload too large"}
        try:
            parsed = json.loads(body, parse_constant=_not_json)  # Go's decoder knows no NaN/Infinity
        except ValueError:
            return 400, {"ids": [], "status": 400, "error": "Request body must contain an event object or an array of event objects"}
        events = parsed if isinstance(parsed, list) else [parsed]
        if len(events) > MAX_EVENTS:
            return 400, {"ids": [], "status": 400, "error": f"Cannot have more than {MAX_EVENTS} events in a batch"}
        ids: list[str] = []
        for event in events:  # one at a time: earlier events stay accepted on a later error
            error = check_event(event, STATE.max_event_bytes)
            if error:
                return 400, {"ids": ids, "status": 400, "error": error}
            if isinstance(event.get("data"), dict):
                event["data"].pop("_inngest", None)
            if not event.get("ts"):
                event["ts"] = int(time.time() * 1000)
            STATE.events.append(event)
            ids.append(uuid.uuid4().hex.upper()[:26])
        return 200, {"ids": ids, "status": 200}

    def _control(self, what: str, body: bytes) -> None:
        data = json.loads(body) if body else {}
        with STATE.lock:
            if what == "config":
                if "keys" in data:
                    STATE.keys = data["keys"]
                if "max_request_bytes" in data:
                    STATE.max_request_bytes = data["max_request_bytes"]
                if "max_event_bytes" in data:
                    STATE.max_event_bytes = data["max_event_bytes"]
                if "response_delay_ms" in data:
                    STATE.response_delay_ms = data["response_delay_ms"]
                if "reject_names" in data:
                    STATE.reject_names = set(data["reject_names"])
            elif what == "script":
                STATE.script.extend(data.get("responses", []))
            elif what == "reset":
                STATE.reset()
            else:
                self._send(404, {"error": f"unknown control {what!r}"})
                return
        self._send(200, {"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(description="Test double of the Inngest Event API (not Inngest).")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.2)
    sys.exit(0)


if __name__ == "__main__":
    main()
