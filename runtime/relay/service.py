"""One relay instance: store, mappings, verifier, mapper and sender wired together.

Built before the server starts so every configuration, store or mapping problem is reported as a
sentence before a port is bound; started and stopped by the ASGI lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from pathlib import Path

from runtime.relay.config import RelaySettings
from runtime.relay.filemodes import data_paths, exposed
from runtime.relay.inngest import InngestSender
from runtime.relay.logs import LogSampler
from runtime.relay.mapping import Loader, default_loader
from runtime.relay.metrics import RelayMetrics
from runtime.relay.reload import REJECTED_KEY, FileWatcher, MappingHolder
from runtime.relay.store import Store, StoreError
from runtime.relay.stores import open_store
from runtime.relay.verify import Verifier
from runtime.relay.worker import INSECURE_KEY, Intake, Mapper, Sender

log = logging.getLogger("paymap.relay")
REJECTION_LOG_LINES_PER_SECOND = 20
BINDING_KEY = "inngest.binding"


class TargetMismatch(StoreError):
    """The store's events were queued for another Inngest environment."""


def target_of(settings: RelaySettings) -> str:
    """Where this store's events go, as recorded in it: the dev server, or the event API, the
    environment and a fingerprint of the event key (never the key: the store is not a secret store)."""
    if settings.dev_mode:
        return "the Inngest dev server"
    fingerprint = hashlib.sha256(settings.event_key.encode()).hexdigest()[:12]
    return f"{settings.event_api_base}, environment {settings.inngest_env or '(default)'}, key sha256:{fingerprint}"


def bind_target(store: Store, settings: RelaySettings) -> None:
    """Record where events go; refuse to start when the store was used for another target.

    A restart with another INNGEST_ENV or event key on the same database would otherwise deliver
    the queue to the wrong environment. ``--retarget`` (PAYMAP_RETARGET=1) is the explicit yes.
    """
    target = target_of(settings)
    recorded = store.get_meta(BINDING_KEY)
    if recorded is not None and recorded != target:
        if not settings.retarget:
            raise TargetMismatch(
                f"the store {settings.store_location} holds events for {recorded}, but this relay sends to {target}; "
                "start with --retarget (PAYMAP_RETARGET=1) to send its queue there (e.g. after rotating the "
                "event key), or use another store (PAYMAP_DB or PAYMAP_DATABASE_URL)"
            )
        log.warning("store re-targeted: its queue now goes to another Inngest target",
                    extra={"was": recorded, "now": target})
    if recorded != target:
        store.set_meta({BINDING_KEY: target})


class Relay:
    """Everything ``paymap serve`` runs besides the HTTP server itself."""

    def __init__(self, settings: RelaySettings, *, loader: Loader = default_loader, store: Store | None = None) -> None:
        settings.require_startable()
        self.settings = settings
        self.metrics = RelayMetrics()
        # rejected requests log at most this many lines a second; the rest are counted
        self.rejection_log = LogSampler(REJECTION_LOG_LINES_PER_SECOND, self.metrics.log_suppressed.inc)
        self.holder = MappingHolder(Path(settings.mappings), loader, self.metrics)
        self.holder.load_initial()  # CompileError propagates: never start on broken mappings
        self.verifier = Verifier(settings.secrets) if settings.secrets else None
        self.store: Store = store if store is not None else open_store(
            settings.db_path,
            settings.database_url,
            busy_timeout_ms=settings.db_busy_timeout_ms,
            synchronous=settings.db_synchronous,
            accept_timeout=settings.accept_timeout_seconds,
            pool_size=settings.db_pool_size,
        )
        self.stats = self.metrics.watch_store(self.store.stats)  # cached: a scrape never scans the store twice
        self.metrics.insecure_dev.set(1 if self.verifier is None else 0)
        try:
            bind_target(self.store, settings)
        except StoreError:
            self.store.close()
            raise
        self.client = InngestSender(
            settings.event_api_base, settings.event_key, timeout=settings.http_timeout_seconds, env=settings.inngest_env,
            placeholder_key=not settings.inngest_event_key,
        )
        self.intake = Intake()  # the HTTP side counts webhooks in flight; mapper and sender yield to them
        self.sender = Sender(self.store, self.client, settings, self.metrics, self.intake,
                             fingerprint=lambda: self.holder.fingerprint)
        self.mapper = Mapper(self.store, self.holder, settings, self.metrics, self.sender, self.intake)
        self.watcher = FileWatcher(self.holder) if settings.watch else None
        self.holder.on_change = lambda info: self.store.set_meta({REJECTED_KEY: MappingHolder.encode(info)})
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        s = self.settings
        if not s.database_url and (readable := exposed(data_paths(Path(s.db_path)))):
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
            extra={"db": s.store_location, "mappings": str(s.mappings), "event_api": self.client.display_url,
                   "secrets": len(s.secrets)},
        )
        try:  # the set just loaded works: a rejection recorded by an earlier run is over
            self.store.set_meta({REJECTED_KEY: None, INSECURE_KEY: "1" if self.verifier is None else None})
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
