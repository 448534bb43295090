"""What one client may hold of a relay facing the internet, tried with raw sockets: silent and slow
connections are closed, bodies are bounded in time and number, headers in size, and everything that
can be refused on the headers is refused before the body is read."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta

import httpx

from .harness import Double, RelayServer, sample_body, signed_headers, wait_until

MakeRelay = Callable[..., RelayServer]


def _connect(relay: RelayServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=10)
    return sock


@contextmanager
def _connections(relay: RelayServer, n: int) -> Iterator[list[socket.socket]]:
    socks = [_connect(relay) for _ in range(n)]
    try:
        yield socks
    finally:
        for s in socks:
            s.close()


def _closed(sock: socket.socket, within: float) -> bool:
    """True once the server closes ``sock`` (reads what it sent meanwhile, e.g. an error answer)."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _request_head(headers: dict[str, str], length: int) -> bytes:
    lines = ["POST /webhooks/dodo HTTP/1.1", "Host: relay", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response(sock: socket.socket, timeout: float) -> bytes:
    """The whole answer: status line, headers and the body its content-length announces."""
    sock.settimeout(timeout)
    data = b""
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if len(rest) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def _stored(relay: RelayServer) -> int:
    return relay.count("SELECT count(*) FROM webhooks")


def test_silent_connections_are_closed_and_real_webhooks_still_go_through(
    double: Double, make_relay: MakeRelay
) -> None:
    relay = make_relay(double.url, header_timeout_seconds=0.5)
    with _connections(relay, 200) as idle:
        assert relay.send("payment.succeeded", "msg_during_flood").status_code == 200
        deadline = time.monotonic() + 15
        for sock in idle:
            assert _closed(sock, max(0.1, deadline - time.monotonic())), "a silent connection stayed open"
    # on a new connection, as a sender's next delivery comes: the test client's kept-alive one has been
    # idle past the header timeout too, and the server may be closing it just as a POST goes out on it
    body = sample_body("payment.succeeded")
    with httpx.Client(base_url=relay.url, timeout=20) as fresh:
        answer = fresh.post("/webhooks/dodo", content=body, headers=signed_headers(body, "msg_after_flood"))
    assert answer.status_code == 200


def test_headers_sent_a_byte_at_a_time_are_cut_off(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, header_timeout_seconds=0.5)
    body = sample_body("payment.succeeded")
    head = _request_head(signed_headers(body, "msg_slow_headers"), len(body))
    sock = _connect(relay)
    try:
        started = time.monotonic()
        for i, byte in enumerate(head):
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            if _closed(sock, 0.05):
                break
            assert time.monotonic() - started < 15, f"still reading headers after {i} bytes"
        else:
            raise AssertionError("the whole head was taken a byte at a time")
    finally:
        sock.close()
    assert _stored(relay) == 0


def test_a_body_sent_slowly_gets_408_and_is_not_stored(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, body_timeout_seconds=0.5)
    body = sample_body("payment.succeeded")
    sock = _connect(relay)
    try:
        sock.sendall(_request_head(signed_headers(body, "msg_slow_body"), len(body)))
        answer = b""
        for byte in body:
            sock.settimeout(0.1)
            with suppress(TimeoutError):
                answer = sock.recv(65536)
            if answer:
                break
            sock.send(bytes([byte]))
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert _closed(sock, 5)  # the rest of the answer, then the close
    finally:
        sock.close()
    assert _stored(relay) == 0
    assert 'paymap_webhooks_rejected_total{reason="body_timeout"} 1.0' in relay.ops.get("/metrics").text


def test_connections_beyond_the_bound_get_503(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, max_connections=5, header_timeout_seconds=30)
    body = sample_body("payment.succeeded")
    with _connections(relay, 5):
        wait_until(lambda: len(relay.server.server_state.connections) >= 5, "the idle connections to be open")
        refused = relay.post(body, signed_headers(body, "msg_crowded"))
        assert refused.status_code == 503
    wait_until(lambda: len(relay.server.server_state.connections) <= 1, "the idle connections to close")
    assert relay.post(body, signed_headers(body, "msg_room")).status_code == 200
    assert _stored(relay) == 1


def test_oversized_headers_and_webhook_ids_are_refused_and_not_stored(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    body = sample_body("payment.succeeded")
    huge = relay.post(body, signed_headers(body, "msg_" + "x" * 100_000))
    assert huge.status_code in (400, 431)  # over PAYMAP_MAX_HEADER_BYTES: refused by the HTTP parser or the app
    long_id = relay.post(body, signed_headers(body, "msg_" + "y" * 1000))
    assert long_id.status_code == 400
    assert long_id.json()["reason"] == "webhook_id_too_long"
    assert _stored(relay) == 0
    small = make_relay(double.url, max_header_bytes=2048)
    padded = small.post(body, {**signed_headers(body, "msg_padded"), "x-padding": "z" * 4000})
    assert padded.status_code in (400, 431)
    assert small.post(body, signed_headers(body, "msg_normal")).status_code == 200


def test_stale_signature_headers_are_refused_before_the_body_is_read(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, body_timeout_seconds=30)
    body = sample_body("payment.succeeded")
    stale = signed_headers(body, "msg_stale", when=datetime.now(tz=UTC) - timedelta(hours=1))
    for headers, reason in ((stale, b"timestamp_too_old"), ({"content-type": "application/json"}, b"missing_headers")):
        sock = _connect(relay)
        try:
            sock.sendall(_request_head(headers, 1_000_000))  # announces a megabyte, sends none of it
            answer = _response(sock, 5)
            assert answer.startswith(b"HTTP/1.1 401"), answer
            assert reason in answer
        finally:
            sock.close()
    assert _stored(relay) == 0


def test_bodies_read_at_once_are_bounded(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url, max_concurrent_bodies=2, body_timeout_seconds=30)
    body = sample_body("payment.succeeded")
    slow = []
    for i in range(2):  # two clients hold the two body slots, sending half a body each
        sock = _connect(relay)
        sock.sendall(_request_head(signed_headers(body, f"msg_holding_{i}"), len(body)) + body[:10])
        slow.append(sock)
    try:
        waiting = _connect(relay)
        waiting.sendall(_request_head(signed_headers(body, "msg_waiting"), len(body)) + body)
        try:
            waiting.settimeout(0.5)
            try:
                early = waiting.recv(65536)
            except TimeoutError:
                early = b""
            assert early == b"", "a third body was read while two were in progress"
            slow[0].close()  # one client gives up: its slot frees
            answer = _response(waiting, 10)
            assert answer.startswith(b"HTTP/1.1 200"), answer
        finally:
            waiting.close()
    finally:
        for sock in slow:
            sock.close()
    assert relay.count("SELECT count(*) FROM webhooks WHERE webhook_id = 'msg_waiting'") == 1
