"""Hot reload of the mappings: compile the new set fully, swap only if it has no errors.

Triggered by file changes (watchfiles) and by SIGHUP. A set with errors never replaces the working
one; its diagnostics are logged as they are rendered by the compiler.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import CompileError
from runtime.relay.mapping import Loader, MappingSetLike
from runtime.relay.metrics import RelayMetrics

log = logging.getLogger("paymap.relay.reload")

REJECTED_KEY = "mappings.reload_rejected"  # store meta: the last rejected reload, until a good one
SHOWN_DIAGNOSTIC_LINES = 40


def rejected_reload(trigger: str, path: Path, exc: Exception) -> dict[str, object]:
    """What ``paymap status`` and ``/readyz`` show of a rejected reload: when, which files, the first diagnostics."""
    if isinstance(exc, CompileError):
        files = sorted({str(f) for d in exc.diagnostics if (f := getattr(getattr(d, "span", None), "file", None))})
        lines = exc.rendered.splitlines()
        text = "\n".join(lines[:SHOWN_DIAGNOSTIC_LINES])
        if len(lines) > SHOWN_DIAGNOSTIC_LINES:
            text += f"\n... ({len(lines) - SHOWN_DIAGNOSTIC_LINES} more lines: run `paymap check {path}`)"
    else:
        files, text = [], f"{type(exc).__name__}: {exc}"
    return {"at": round(time.time(), 3), "trigger": trigger, "path": str(path), "files": files or [str(path)],
            "diagnostics": text}


@dataclass(frozen=True)
class ReloadRecord:
    """The latest reload, for the console: when, why, and the diagnostics if it was rejected."""

    at: float
    trigger: str
    ok: bool
    diagnostics: str | None = None


def sources_hash(path: Path) -> str:
    """A short hash of the mapping sources (names and bytes of every file under ``path``) and paymap's
    version: two instances with the same hash compile the same set. Read just before compiling."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    with contextlib.suppress(PackageNotFoundError):
        digest.update(version("paymap").encode())
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        try:
            data = f.read_bytes()
        except OSError:
            continue
        digest.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:12]


class MappingHolder:
    """The current compiled mappings; swapped atomically (one attribute assignment)."""

    def __init__(self, path: Path, loader: Loader, metrics: RelayMetrics | None = None) -> None:
        self.path = path
        self._loader = loader
        self._metrics = metrics
        self._current: MappingSetLike | None = None
        self._lock = threading.Lock()
        self.generation = 0
        self.last_reload: ReloadRecord | None = None  # the latest reload, good or not (the console)
        self.loaded_at: float | None = None
        self.fingerprint = ""  # sources_hash() of the set in use (paymap status compares instances)
        self.rejected: dict[str, object] | None = None  # the last rejected reload, until a good one
        self.on_change: Callable[[dict[str, object] | None], None] | None = None  # e.g. record it in the store

    @property
    def current(self) -> MappingSetLike | None:
        return self._current

    def load_initial(self) -> None:
        """Compile at start; :class:`CompileError` propagates (the relay refuses to start)."""
        fingerprint = sources_hash(self.path)
        self._current = self._loader(self.path)
        self.generation, self.fingerprint = 1, fingerprint
        self.loaded_at = time.time()

    def compile(self) -> MappingSetLike:
        """The mappings on disk, compiled but not put in use (a dry run); :class:`CompileError` if broken."""
        return self._loader(self.path)

    def reload(self, why: str) -> bool:
        """Compile again; swap only on success. Returns whether the set was replaced."""
        with self._lock:
            try:
                fingerprint = sources_hash(self.path)
                fresh = self._loader(self.path)
            except CompileError as exc:
                log.error(
                    "mapping reload rejected: the new mappings have errors; still using the previous set",
                    extra={"trigger": why, "diagnostics": exc.rendered, "path": str(self.path)},
                )
                self._rejected(rejected_reload(why, self.path, exc), exc.rendered)
                return False
            except Exception as exc:
                log.error(
                    "mapping reload failed; still using the previous set",
                    extra={"trigger": why, "error": f"{type(exc).__name__}: {exc}", "path": str(self.path)},
                )
                self._rejected(rejected_reload(why, self.path, exc), f"{type(exc).__name__}: {exc}")
                return False
            self._current, self.fingerprint = fresh, fingerprint
            self.last_reload = ReloadRecord(time.time(), why, True)
            self.loaded_at = self.last_reload.at
            self.generation += 1
            log.info("mappings reloaded", extra={"trigger": why, "path": str(self.path), "generation": self.generation})
            self._count("ok")
            if self.rejected is not None:
                self.rejected = None
                self._notify(None)
            return True

    def _rejected(self, info: dict[str, object], diagnostics: str) -> None:
        self._count("rejected")
        self.last_reload = ReloadRecord(time.time(), str(info["trigger"]), False, diagnostics)
        self.rejected = info
        self._notify(info)

    def _notify(self, info: dict[str, object] | None) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(info)
        except Exception as exc:  # the store is down: /readyz and the log say so already
            log.warning("could not record the reload outcome in the store", extra={"error": str(exc)})

    @staticmethod
    def encode(info: dict[str, object] | None) -> str | None:
        return None if info is None else json.dumps(info, ensure_ascii=False)

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.reloads.labels(result).inc()


class FileWatcher:
    """Watches the mappings path for ``.map`` changes in a thread and reloads."""

    def __init__(self, holder: MappingHolder) -> None:
        self._holder = holder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paymap-mapping-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch

        path = self._holder.path
        target = path if path.is_dir() else path.parent
        try:
            for changes in watch(
                target,
                watch_filter=lambda _change, name: name.endswith(".map"),
                stop_event=self._stop,
                rust_timeout=1000,
                yield_on_timeout=False,
            ):
                names = sorted({Path(p).name for _c, p in changes})
                self._holder.reload("file change: " + ", ".join(names))
        except Exception as exc:  # e.g. the directory vanished: keep serving, say so
            log.error("mapping file watch stopped; reload with SIGHUP", extra={"error": f"{type(exc).__name__}: {exc}"})
