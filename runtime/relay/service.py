"""One relay instance: store, mappings, verifier, mapper and sender wired together.

Built before the server starts so every configuration, store or mapping problem is reported as a
sentence before a port is bound; started and stopped by the ASGI lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from runtime.relay.config import RelaySettings
from runtime.relay.filemodes import data_paths, exposed
from runtime.relay.inngest import InngestSender
from runtime.relay.mapping import Loader, default_loader
from runtime.relay.metrics import RelayMetrics
from runtime.relay.reload import REJECTED_KEY, FileWatcher, MappingHolder
from runtime.relay.store import SQLiteStore, Store, StoreError
from runtime.relay.verify import Verifier
from runtime.relay.worker import Intake, Mapper, Sender

log = logging.getLogger("paymap.relay")


class Relay:
    """Everything ``paymap serve`` runs besides the HTTP server itself."""

    def __init__(self, settings: RelaySettings, *, loader: Loader = default_loader, store: Store | None = None) -> None:
        settings.require_startable()
        self.settings = settings
        self.metrics = RelayMetrics()
        self.holder = MappingHolder(Path(settings.mappings), loader, self.metrics)
        self.holder.load_initial()  # CompileError propagates: never start on broken mappings
        self.verifier = Verifier(settings.secrets) if settings.secrets else None
        self.store: Store = store if store is not None else SQLiteStore(
            settings.db_path,
            busy_timeout_ms=settings.db_busy_timeout_ms,
            synchronous=settings.db_synchronous,
            accept_timeout=settings.accept_timeout_seconds,
        )
        self.metrics.watch_store(self.store.stats)
        self.client = InngestSender(
            settings.event_api_base, settings.event_key, timeout=settings.http_timeout_seconds, env=settings.inngest_env,
            placeholder_key=not settings.inngest_event_key,
        )
        self.intake = Intake()  # the HTTP side counts webhooks in flight; mapper and sender yield to them
        self.sender = Sender(self.store, self.client, settings, self.metrics, self.intake)
        self.mapper = Mapper(self.store, self.holder, settings, self.metrics, self.sender, self.intake)
        self.watcher = FileWatcher(self.holder) if settings.watch else None
        self.holder.on_change = lambda info: self.store.set_meta({REJECTED_KEY: MappingHolder.encode(info)})
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        s = self.settings
        if s.db_path is not None and (readable := exposed(data_paths(Path(s.db_path)))):
            log.warning(
                "the store and files beside it are readable by other local users: they hold customer data "
                "and may hold the signing secret; run chmod 700 on the directory and chmod 600 on the files",
                extra={"paths": readable},
            )
        if self.verifier is None:
            log.warning("INSECURE DEV MODE: webhook signatures are NOT verified; never run like this in production")
        if s.dev_mode:
            log.warning(
                "sending events to the Inngest dev server (no INNGEST_EVENT_KEY, or INNGEST_DEV set)",
                extra={"event_api": s.event_api_base},
            )
        log.info(
            "relay starting",
            extra={"db": str(s.db_path), "mappings": str(s.mappings), "event_api": self.client.display_url,
                   "secrets": len(s.secrets)},
        )
        try:  # the set just loaded works: a rejection recorded by an earlier run is over
            self.store.set_meta({REJECTED_KEY: None})
        except StoreError as exc:
            log.error("store unavailable at start", extra={"error": str(exc)})
        self.sender.start()
        self.mapper.start()
        if self.watcher is not None:
            self.watcher.start()
        if loop is not None:
            self._loop = loop
            try:
                loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
            except (NotImplementedError, RuntimeError, ValueError):
                log.warning("SIGHUP reload unavailable here; file watching still works")

    def _on_sighup(self) -> None:
        if self._loop is not None:
            self._loop.run_in_executor(None, self.holder.reload, "SIGHUP")

    def detach_signals(self) -> None:
        """Call from the event loop's thread before :meth:`stop`."""
        if self._loop is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._loop.remove_signal_handler(signal.SIGHUP)
            self._loop = None

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.mapper.stop()
        self.sender.stop(timeout=self.settings.http_timeout_seconds + 5)
        self.client.close()
        self.store.close()
        log.info("relay stopped")
