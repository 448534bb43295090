"""Prometheus metrics of one relay, in its own registry (several relays may share a test process).

Counters count what this process did; queue depth and oldest pending age are read from the store,
so they are right even after a restart or when another process changed the queue. Those counts
scan the store (about 0.1 s of CPU at a million rows), so they are computed at most once every
``STATS_TTL_SECONDS`` however many scrapers ask, and never by two scrapes at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from runtime.relay.store import Stats

STATS_TTL_SECONDS = 5.0


class CachedStats:
    """``stats()`` at most once per ``ttl`` seconds; concurrent callers share one computation."""

    def __init__(self, stats: Callable[[], Stats], ttl: float = STATS_TTL_SECONDS) -> None:
        self._stats, self.ttl = stats, ttl
        self._lock = threading.Lock()
        self._value: Stats | None = None
        self._at = 0.0
        self.computed = 0  # how many times the store was actually asked

    def __call__(self) -> Stats:
        with self._lock:  # a scraper arriving during a computation waits for it instead of starting one
            now = time.monotonic()
            if self._value is None or now - self._at >= self.ttl:
                self._value = self._stats()
                self._at = time.monotonic()
                self.computed += 1
            return self._value


class _QueueCollector(Collector):
    def __init__(self, stats: Callable[[], Stats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            st = self._stats()
        except Exception:
            return  # store down: /readyz says so; scrape the counters anyway
        yield GaugeMetricFamily("paymap_queue_depth", "Events waiting to be delivered to Inngest", st.queue_depth)
        age = time.time() - st.oldest_pending_received_at if st.oldest_pending_received_at else 0.0
        yield GaugeMetricFamily(
            "paymap_oldest_pending_age_seconds", "Age of the oldest undelivered event (since its webhook arrived)", age
        )
        dead = GaugeMetricFamily("paymap_events", "Stored events by state", labels=["state"])
        for state, n in st.events.items():
            dead.add_metric([state], n)
        yield dead
        hooks = GaugeMetricFamily("paymap_webhooks", "Stored webhooks by state", labels=["state"])
        for state, n in st.webhooks.items():
            hooks.add_metric([state], n)
        yield hooks


class RelayMetrics:
    """Every metric the relay exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter("paymap_webhooks_received", "Webhooks accepted and stored (200)", registry=r)
        self.duplicates = Counter("paymap_webhooks_duplicate", "Webhooks already stored (200, not stored again)", registry=r)
        self.rejected = Counter("paymap_webhooks_rejected", "Webhooks refused, by reason", ["reason"], registry=r)
        self.mapped = Counter("paymap_webhooks_mapped", "Webhooks mapped to one or more events", registry=r)
        self.skipped = Counter("paymap_webhooks_skipped", "Webhooks with no rule for their type", registry=r)
        self.dropped = Counter("paymap_webhooks_dropped", "Webhooks a rule matched but produced no event", registry=r)
        self.failed = Counter("paymap_webhooks_failed", "Webhooks whose mapping failed (parked)", registry=r)
        self.delivered = Counter("paymap_events_delivered", "Events Inngest accepted", registry=r)
        self.retried = Counter("paymap_events_retried", "Event send attempts that will be retried", registry=r)
        self.dead_lettered = Counter("paymap_events_dead_lettered", "Events Inngest rejects (or would)", registry=r)
        self.log_suppressed = Counter(
            "paymap_log_lines_suppressed", "Log lines held back by rate limits (e.g. rejected webhooks)", registry=r
        )
        self.requests = Counter("paymap_inngest_requests", "Requests to the Event API by status", ["status"], registry=r)
        self.leases_reaped = Counter("paymap_leases_reaped", "Expired delivery leases reclaimed", registry=r)
        self.reloads = Counter("paymap_mapping_reloads", "Mapping reloads by result", ["result"], registry=r)
        self.sender_paused = Gauge("paymap_sender_paused", "1 while delivery is paused on 401/403/404", registry=r)
        self.insecure_dev = Gauge(
            "paymap_insecure_dev_mode", "1 when webhook signatures are NOT verified (PAYMAP_INSECURE_DEV)", registry=r
        )
        self.pruned = Counter("paymap_webhooks_pruned", "Finished webhooks deleted by the retention period", registry=r)
        self.delivery_latency = Histogram(
            "paymap_delivery_latency_seconds",
            "From webhook receipt to Inngest's 200",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400),
            registry=r,
        )

    def watch_store(self, stats: Callable[[], Stats], ttl: float = STATS_TTL_SECONDS) -> CachedStats:
        cached = CachedStats(stats, ttl)
        self.registry.register(_QueueCollector(cached))
        return cached
