"""A loopback TCP proxy in front of PostgreSQL that a test can cut and restore: "the database went away".

Cutting closes every connection through it and refuses new ones (as a stopped server would), without
touching the real server that other tests use.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from pathlib import Path


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands out as a connection's source port."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = 0
        self.up()

    def up(self) -> None:
        """Listen, on the same port as before once there was one.

        The port is below the ephemeral range: while the proxy is down, a client retrying to connect
        to an ephemeral port can be given that very port as its own source port (a TCP self-connect),
        and then the port is taken when the proxy comes back up.
        """
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.port:
            listener.bind(("127.0.0.1", self.port))
        else:
            for _ in range(100):
                try:
                    listener.bind(("127.0.0.1", random.randrange(10000, max(10001, _ephemeral_floor()))))
                    break
                except OSError:
                    continue
            else:
                listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Close the listener and every open connection: clients see resets, then refusals."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            # close() alone leaves the socket listening while _accept's thread is blocked in accept() on it
            # (the call holds the socket), so up() could not bind the port again; shutdown() wakes that call
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
