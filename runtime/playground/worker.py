"""The playground's compiler and runtime in a child process, with a deadline on every call.

Why a process: a pathological mapping or body must not hang or bloat the server, and a Python
thread cannot be stopped. The parent sends one request at a time over a pipe and waits at most the
call's deadline; past it, the child is killed and a fresh one started (its caches are lost, nothing
else). The child also caps its own memory (``RLIMIT_AS``), so a runaway allocation ends in a
MemoryError answered as a clear message rather than in the machine swapping.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import traceback
from multiprocessing.connection import Connection
from typing import Any

from prelude.errors import PaymapError

COMPILE_SECONDS = 5.0  # a compile (the shipped files take ~50 ms)
APPLY_SECONDS = 2.0  # applying the mappings to one body (~1 ms)
MEMORY_BYTES = 2 * 1024 * 1024 * 1024


class Timeout(PaymapError):
    """The child did not answer in time and was restarted."""


class WorkerCrashed(PaymapError):
    """The child died while working (e.g. killed by the system) and was restarted."""


def _serve(conn: Connection, root: str) -> None:  # pragma: no cover - runs in the child process
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > MEMORY_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, hard))
    except (ImportError, ValueError, OSError):
        pass
    from runtime.playground import handlers

    state = handlers.State(root)
    frozen = False
    while True:
        try:
            method, params = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: Any = ("ok", handlers.dispatch(state, method, params))
        except handlers.PlaygroundError as exc:
            reply = ("refused", {"message": exc.message, "status": exc.status, **exc.extra})
        except MemoryError:
            reply = ("refused", {"message": "ran out of memory: the mapping or the body is too large", "status": 413})
        except RecursionError:
            reply = ("refused", {"message": "the mapping or the body is nested too deeply", "status": 400})
        except Exception as exc:
            reply = ("failed", {"message": f"internal error: {type(exc).__name__}: {exc}",
                                "traceback": traceback.format_exc()})
        conn.send(reply)
        if not frozen and method == "compile":
            # the compiler's long-lived objects (grammar, schema, caches) out of the collector's view:
            # its full passes over them cost tens of milliseconds at random keystrokes
            gc.collect()
            gc.freeze()
            frozen = True


class Worker:
    """The parent's handle: :meth:`call` one method with a deadline; one call at a time."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self.restarts = 0

    def start(self) -> None:
        with self._lock:
            self._ensure()

    def _ensure(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(target=_serve, args=(child, self.root), daemon=True,
                                           name="paymap-playground-worker")
            self._proc.start()
            child.close()
            self._conn = parent
        return self._conn

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None
        self.restarts += 1

    def call(self, method: str, params: dict[str, Any], deadline: float) -> tuple[str, Any]:
        """("ok", result), ("refused", {message, status, ...}) or ("failed", {message, traceback})."""
        with self._lock:
            conn = self._ensure()
            try:
                conn.send((method, params))
                ready = conn.poll(deadline)
                if not ready:
                    self._kill()
                    raise Timeout(method)
                status, result = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                self._kill()
                raise WorkerCrashed(method) from exc
            return status, result

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            if self._proc is not None:
                self._proc.join(1)
                if self._proc.is_alive():
                    self._proc.kill()
                    self._proc.join(5)
            self._proc, self._conn = None, None
